//===- ShearsElementwise.cpp - The scalar function of elementwise ops -----===//
//
// Each elementwise op's function, stated twice side by side: as IR on one
// element of each operand (`buildScalar`, the body of the linalg.generic the
// op lowers to) and on numbers (`evaluate`, used to fold constant channels).
// Adding an elementwise op is its ODS line, its two methods here, and its
// entry in lib/Target/ONNX/ElementwiseOps.def.
//
//===----------------------------------------------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::shears;

static Value constantLike(OpBuilder &b, Location loc, Value like,
                          double value) {
  return arith::ConstantOp::create(b, loc,
                                   b.getFloatAttr(like.getType(), value));
}

/// max(lo, min(hi, x)) as IR.
static Value clamp(OpBuilder &b, Location loc, Value x, double lo, double hi) {
  x = arith::MinimumFOp::create(b, loc, x, constantLike(b, loc, x, hi));
  return arith::MaximumFOp::create(b, loc, x, constantLike(b, loc, x, lo));
}

/// x where x >= 0, else `negative` (leaky relu, elu).
static Value whereNegative(OpBuilder &b, Location loc, Value x,
                           Value negative) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, x,
                                         constantLike(b, loc, x, 0));
  return arith::SelectOp::create(b, loc, positive, x, negative);
}

static double clamp(double x, double lo, double hi) {
  return std::max(lo, std::min(hi, x));
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

/// `FloatOp` on floats, `IntOp` on (signless, signed) integers.
template <typename FloatOp, typename IntOp>
static Value floatOrInt(OpBuilder &b, Location loc, ValueRange a) {
  if (isa<FloatType>(a[0].getType()))
    return FloatOp::create(b, loc, a[0], a[1]);
  return IntOp::create(b, loc, a[0], a[1]);
}

/// `x` as the result of `op`; nullopt where the result is an integer that
/// `x` does not fit (the op wraps around there, the number does not).
static std::optional<double> asResult(Operation *op, double x) {
  auto type = dyn_cast<IntegerType>(
      cast<ShapedType>(op->getResult(0).getType()).getElementType());
  if (!type)
    return x;
  double half = std::ldexp(1.0, type.getWidth() - 1);
  return x >= -half && x < half ? std::optional<double>(x) : std::nullopt;
}

Value AddOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return floatOrInt<arith::AddFOp, arith::AddIOp>(b, loc, a);
}
std::optional<double> AddOp::evaluate(ArrayRef<double> a) {
  return asResult(*this, a[0] + a[1]);
}

Value SubOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return floatOrInt<arith::SubFOp, arith::SubIOp>(b, loc, a);
}
std::optional<double> SubOp::evaluate(ArrayRef<double> a) {
  return asResult(*this, a[0] - a[1]);
}

Value MulOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return floatOrInt<arith::MulFOp, arith::MulIOp>(b, loc, a);
}
std::optional<double> MulOp::evaluate(ArrayRef<double> a) {
  return asResult(*this, a[0] * a[1]);
}

Value DivOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::DivFOp::create(b, loc, a[0], a[1]);
}
std::optional<double> DivOp::evaluate(ArrayRef<double> a) {
  return a[0] / a[1];
}

Value PowOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::PowFOp::create(b, loc, a[0], a[1]);
}
std::optional<double> PowOp::evaluate(ArrayRef<double> a) {
  return std::pow(a[0], a[1]);
}

// ONNX Max and Min propagate NaN, as arith's maximumf and minimumf do.
Value MaxOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return floatOrInt<arith::MaximumFOp, arith::MaxSIOp>(b, loc, a);
}
std::optional<double> MaxOp::evaluate(ArrayRef<double> a) {
  return std::isnan(a[0]) || std::isnan(a[1]) ? NAN : std::max(a[0], a[1]);
}

Value MinOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return floatOrInt<arith::MinimumFOp, arith::MinSIOp>(b, loc, a);
}
std::optional<double> MinOp::evaluate(ArrayRef<double> a) {
  return std::isnan(a[0]) || std::isnan(a[1]) ? NAN : std::min(a[0], a[1]);
}

// Comparisons are ordered on floats (false where either side is NaN, as
// ONNX's) and signed on integers.
static Value compare(OpBuilder &b, Location loc, ValueRange a,
                     arith::CmpFPredicate onFloats,
                     arith::CmpIPredicate onIntegers) {
  if (isa<FloatType>(a[0].getType()))
    return arith::CmpFOp::create(b, loc, onFloats, a[0], a[1]);
  return arith::CmpIOp::create(b, loc, onIntegers, a[0], a[1]);
}

Value EqualOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OEQ,
                 arith::CmpIPredicate::eq);
}
std::optional<double> EqualOp::evaluate(ArrayRef<double> a) {
  return a[0] == a[1];
}

Value LessOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OLT,
                 arith::CmpIPredicate::slt);
}
std::optional<double> LessOp::evaluate(ArrayRef<double> a) {
  return a[0] < a[1];
}

Value GreaterOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OGT,
                 arith::CmpIPredicate::sgt);
}
std::optional<double> GreaterOp::evaluate(ArrayRef<double> a) {
  return a[0] > a[1];
}

Value FModOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::RemFOp::create(b, loc, a[0], a[1]);
}
std::optional<double> FModOp::evaluate(ArrayRef<double> a) {
  return std::fmod(a[0], a[1]);
}

// PRelu: the slope broadcasts, as ONNX's (unidirectionally) does.
Value PReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return whereNegative(b, loc, a[0], arith::MulFOp::create(b, loc, a[0], a[1]));
}
std::optional<double> PReluOp::evaluate(ArrayRef<double> a) {
  return a[0] >= 0 ? a[0] : a[1] * a[0];
}

Value AndOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::AndIOp::create(b, loc, a[0], a[1]);
}
std::optional<double> AndOp::evaluate(ArrayRef<double> a) {
  return a[0] != 0 && a[1] != 0;
}

Value OrOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::OrIOp::create(b, loc, a[0], a[1]);
}
std::optional<double> OrOp::evaluate(ArrayRef<double> a) {
  return a[0] != 0 || a[1] != 0;
}

Value XorOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::XOrIOp::create(b, loc, a[0], a[1]);
}
std::optional<double> XorOp::evaluate(ArrayRef<double> a) {
  return (a[0] != 0) != (a[1] != 0);
}

Value WhereOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
}
std::optional<double> WhereOp::evaluate(ArrayRef<double> a) {
  return a[0] != 0 ? a[1] : a[2];
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

Value ReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::MaximumFOp::create(b, loc, a[0], constantLike(b, loc, a[0], 0));
}
std::optional<double> ReluOp::evaluate(ArrayRef<double> a) {
  return std::max(a[0], 0.0);
}

Value SigmoidOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value one = constantLike(b, loc, a[0], 1);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, a[0]));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}
std::optional<double> SigmoidOp::evaluate(ArrayRef<double> a) {
  return 1 / (1 + std::exp(-a[0]));
}

// The ops that are one math-dialect op and one <cmath> function.
#define SHEARS_MATH_UNARY(Op, MathOp, function)                                \
  Value Op::buildScalar(OpBuilder &b, Location loc, ValueRange a) {            \
    return MathOp::create(b, loc, a[0]);                                       \
  }                                                                            \
  std::optional<double> Op::evaluate(ArrayRef<double> a) {                     \
    return function(a[0]);                                                     \
  }
SHEARS_MATH_UNARY(TanhOp, math::TanhOp, std::tanh)
SHEARS_MATH_UNARY(ExpOp, math::ExpOp, std::exp)
SHEARS_MATH_UNARY(LogOp, math::LogOp, std::log)
SHEARS_MATH_UNARY(AbsOp, math::AbsFOp, std::fabs)
SHEARS_MATH_UNARY(SqrtOp, math::SqrtOp, std::sqrt)
SHEARS_MATH_UNARY(ErfOp, math::ErfOp, std::erf)
SHEARS_MATH_UNARY(SinOp, math::SinOp, std::sin)
SHEARS_MATH_UNARY(CosOp, math::CosOp, std::cos)
SHEARS_MATH_UNARY(TanOp, math::TanOp, std::tan)
SHEARS_MATH_UNARY(AsinOp, math::AsinOp, std::asin)
SHEARS_MATH_UNARY(AcosOp, math::AcosOp, std::acos)
SHEARS_MATH_UNARY(AtanOp, math::AtanOp, std::atan)
SHEARS_MATH_UNARY(SinhOp, math::SinhOp, std::sinh)
SHEARS_MATH_UNARY(CoshOp, math::CoshOp, std::cosh)
SHEARS_MATH_UNARY(AsinhOp, math::AsinhOp, std::asinh)
SHEARS_MATH_UNARY(AcoshOp, math::AcoshOp, std::acosh)
SHEARS_MATH_UNARY(AtanhOp, math::AtanhOp, std::atanh)
SHEARS_MATH_UNARY(FloorOp, math::FloorOp, std::floor)
SHEARS_MATH_UNARY(CeilOp, math::CeilOp, std::ceil)
#undef SHEARS_MATH_UNARY

Value NegOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::NegFOp::create(b, loc, a[0]);
}
std::optional<double> NegOp::evaluate(ArrayRef<double> a) { return -a[0]; }

Value ReciprocalOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return arith::DivFOp::create(b, loc, constantLike(b, loc, a[0], 1), a[0]);
}
std::optional<double> ReciprocalOp::evaluate(ArrayRef<double> a) {
  return 1 / a[0];
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x.
Value SoftplusOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value relu = arith::MaximumFOp::create(b, loc, x, constantLike(b, loc, x, 0));
  Value negAbs = arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
  Value tail =
      math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
  return arith::AddFOp::create(b, loc, relu, tail);
}
std::optional<double> SoftplusOp::evaluate(ArrayRef<double> a) {
  return std::max(a[0], 0.0) + std::log1p(std::exp(-std::fabs(a[0])));
}

Value HardSwishOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value gate = arith::AddFOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, x, constantLike(b, loc, x, 1.0 / 6)),
      constantLike(b, loc, x, 0.5));
  return arith::MulFOp::create(b, loc, x, clamp(b, loc, gate, 0, 1));
}
std::optional<double> HardSwishOp::evaluate(ArrayRef<double> a) {
  return a[0] * clamp(a[0] / 6 + 0.5, 0, 1);
}

Value LeakyReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  return whereNegative(
      b, loc, x,
      arith::MulFOp::create(
          b, loc, x, constantLike(b, loc, x, getAlpha().convertToDouble())));
}
std::optional<double> LeakyReluOp::evaluate(ArrayRef<double> a) {
  return a[0] >= 0 ? a[0] : getAlpha().convertToDouble() * a[0];
}

Value EluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  return whereNegative(
      b, loc, x,
      arith::MulFOp::create(
          b, loc, math::ExpM1Op::create(b, loc, x),
          constantLike(b, loc, x, getAlpha().convertToDouble())));
}
std::optional<double> EluOp::evaluate(ArrayRef<double> a) {
  return a[0] >= 0 ? a[0] : getAlpha().convertToDouble() * std::expm1(a[0]);
}

Value RoundOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::RoundEvenOp::create(b, loc, a[0]);
}
std::optional<double> RoundOp::evaluate(ArrayRef<double> a) {
  return std::nearbyint(a[0]); // the default rounding mode: halves to even
}

// NaN stays NaN, as 0 stays 0 (x itself where neither compare holds).
Value SignOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0], zero = constantLike(b, loc, x, 0);
  Value negative = arith::SelectOp::create(
      b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero),
      constantLike(b, loc, x, -1), x);
  return arith::SelectOp::create(
      b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero),
      constantLike(b, loc, x, 1), negative);
}
std::optional<double> SignOp::evaluate(ArrayRef<double> a) {
  return a[0] > 0 ? 1.0 : a[0] < 0 ? -1.0 : a[0];
}

Value NotOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  return arith::XOrIOp::create(b, loc, a[0], one);
}
std::optional<double> NotOp::evaluate(ArrayRef<double> a) { return a[0] == 0; }

Value SeluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  double alpha = getAlpha().convertToDouble();
  Value negative = arith::MulFOp::create(
      b, loc, math::ExpM1Op::create(b, loc, x), constantLike(b, loc, x, alpha));
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                         constantLike(b, loc, x, 0));
  Value y = arith::SelectOp::create(b, loc, positive, x, negative);
  return arith::MulFOp::create(
      b, loc, y, constantLike(b, loc, x, getGamma().convertToDouble()));
}
std::optional<double> SeluOp::evaluate(ArrayRef<double> a) {
  double alpha = getAlpha().convertToDouble();
  double gamma = getGamma().convertToDouble();
  return gamma * (a[0] > 0 ? a[0] : alpha * std::expm1(a[0]));
}

Value ThresholdedReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value above = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OGT, x,
      constantLike(b, loc, x, getAlpha().convertToDouble()));
  return arith::SelectOp::create(b, loc, above, x, constantLike(b, loc, x, 0));
}
std::optional<double> ThresholdedReluOp::evaluate(ArrayRef<double> a) {
  return a[0] > getAlpha().convertToDouble() ? a[0] : 0.0;
}

Value HardSigmoidOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value y = arith::AddFOp::create(
      b, loc,
      arith::MulFOp::create(
          b, loc, x, constantLike(b, loc, x, getAlpha().convertToDouble())),
      constantLike(b, loc, x, getBeta().convertToDouble()));
  return clamp(b, loc, y, 0, 1);
}
std::optional<double> HardSigmoidOp::evaluate(ArrayRef<double> a) {
  return clamp(
      getAlpha().convertToDouble() * a[0] + getBeta().convertToDouble(), 0, 1);
}

Value ClipOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  if (auto min = getMin())
    x = arith::MaximumFOp::create(
        b, loc, x, constantLike(b, loc, x, min->convertToDouble()));
  if (auto max = getMax())
    x = arith::MinimumFOp::create(
        b, loc, x, constantLike(b, loc, x, max->convertToDouble()));
  return x;
}
std::optional<double> ClipOp::evaluate(ArrayRef<double> a) {
  double x = a[0];
  if (auto min = getMin())
    x = std::max(x, min->convertToDouble());
  if (auto max = getMax())
    x = std::min(x, max->convertToDouble());
  return x;
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

Value CastOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Type from = x.getType();
  Type to = getType().getElementType();
  if (from == to)
    return x;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (to.isInteger(1)) {
    if (fromFloat)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x,
                                   constantLike(b, loc, x, 0));
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, x,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(from, 0)));
  }
  // i1 true is 1, not -1.
  bool isBool = from.isInteger(1);
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() == toFloat.getWidth()) // f16 <-> bf16
      x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
    if (cast<FloatType>(x.getType()).getWidth() < toFloat.getWidth())
      return arith::ExtFOp::create(b, loc, to, x);
    return arith::TruncFOp::create(b, loc, to, x);
  }
  if (fromFloat)
    return arith::FPToSIOp::create(b, loc, to, x);
  if (toFloat)
    return isBool ? Value(arith::UIToFPOp::create(b, loc, to, x))
                  : Value(arith::SIToFPOp::create(b, loc, to, x));
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return isBool ? Value(arith::ExtUIOp::create(b, loc, to, x))
                  : Value(arith::ExtSIOp::create(b, loc, to, x));
  return arith::TruncIOp::create(b, loc, to, x);
}

std::optional<double> CastOp::evaluate(ArrayRef<double> a) {
  double x = a[0];
  Type to = getType().getElementType();
  if (to.isInteger(1))
    return x != 0 ? 1.0 : 0.0;
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    APFloat value(x);
    bool lost;
    value.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
    return value.convertToDouble();
  }
  // Floats truncate toward zero; where that is out of range (undefined in
  // ONNX) or the number is not an int64, the channel is left alone.
  double t = std::trunc(x);
  if (!std::isfinite(t) || std::fabs(t) >= 0x1p63)
    return std::nullopt;
  unsigned width = to.getIntOrFloatBitWidth();
  if (isa<FloatType>(getInput().getType().getElementType()))
    return t >= -std::ldexp(1.0, width - 1) && t < std::ldexp(1.0, width - 1)
               ? std::optional<double>(t)
               : std::nullopt;
  // Integers narrow by dropping high bits.
  APInt value(64, static_cast<int64_t>(t), /*isSigned=*/true);
  return static_cast<double>(value.trunc(width).getSExtValue());
}
