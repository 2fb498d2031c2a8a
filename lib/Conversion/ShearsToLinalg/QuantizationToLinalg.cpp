//===- QuantizationToLinalg.cpp - quantize/dequantize to linalg -----------===//
//
// ONNX's QuantizeLinear/DequantizeLinear semantics on f32 arithmetic:
// q = clamp(round_half_to_even(x / scale) + zero_point, lo, hi) and
// x = (q - zero_point) * scale. Scales and zero points must be constants;
// they become f32 tensors read per element (scalars) or per slice of `axis`.
// linalg works on signless integers only, so a quantize to `ui8` (an
// activation) lowers together with the dequantize that reads it, and the
// unsigned integers never exist. A dequantize of a dynamic_quantize computes
// the range of the input first (one reduction) and fake-quantizes with it.
//
//===----------------------------------------------------------------------===//

#include "QuantizationToLinalg.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::shears;

namespace {

/// A quantization's scale and zero point as f32 constants (their own shape)
/// with the map that reads them from the iteration space of a rank-`rank`
/// tensor.
struct FloatParams {
  Value scale, zeroPoint;
  AffineMap map;
  double lo = 0, hi = 0;
};

template <typename OpTy>
FailureOr<FloatParams> floatParams(OpTy op, OpBuilder &b, int64_t rank) {
  auto scales = getConstantFloats(op.getScale());
  auto zeroPoints = getConstantInts(op.getZeroPoint());
  if (failed(scales) || failed(zeroPoints))
    return op.emitOpError("needs a constant scale and zero point to be "
                          "lowered"),
           failure();
  auto shape = cast<RankedTensorType>(op.getScale().getType()).getShape();
  auto type = RankedTensorType::get(shape, b.getF32Type());
  SmallVector<float> zeros(zeroPoints->begin(), zeroPoints->end());
  Location loc = op.getLoc();
  FloatParams params;
  params.scale = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(*scales)));
  params.zeroPoint = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(zeros)));
  MLIRContext *ctx = b.getContext();
  params.map = op.isPerAxis()
                   ? AffineMap::get(rank, 0, getAffineDimExpr(*op.getAxis(), ctx))
                   : AffineMap::get(rank, 0, ArrayRef<AffineExpr>{}, ctx);
  auto intType = cast<IntegerType>(
      cast<RankedTensorType>(op.getZeroPoint().getType()).getElementType());
  unsigned bits = intType.getWidth();
  params.lo = intType.isUnsigned() ? 0.0 : -std::ldexp(1.0, bits - 1);
  params.hi = intType.isUnsigned() ? std::ldexp(1.0, bits) - 1
                                   : std::ldexp(1.0, bits - 1) - 1;
  return params;
}

Value f32(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// clamp(round_half_to_even(x / scale) + zeroPoint, lo, hi), in f32.
Value quantizeScalar(OpBuilder &b, Location loc, Value x, Value scale,
                     Value zeroPoint, const FloatParams &p) {
  Value q = math::RoundEvenOp::create(b, loc,
                                      arith::DivFOp::create(b, loc, x, scale));
  q = arith::AddFOp::create(b, loc, q, zeroPoint);
  q = arith::MaximumFOp::create(b, loc, q, f32(b, loc, p.lo));
  return arith::MinimumFOp::create(b, loc, q, f32(b, loc, p.hi));
}

/// (q - zeroPoint) * scale, in f32.
Value dequantizeScalar(OpBuilder &b, Location loc, Value q, Value scale,
                       Value zeroPoint) {
  return arith::MulFOp::create(
      b, loc, arith::SubFOp::create(b, loc, q, zeroPoint), scale);
}

/// An elementwise linalg.generic over `input` (identity map) and the
/// parameter sets `params` (scale, zero point each) into `elementType`.
Value quantizationGeneric(
    OpBuilder &b, Location loc, Value input, Type elementType,
    ArrayRef<FloatParams> params,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto type = cast<RankedTensorType>(input.getType());
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, input), elementType);
  MLIRContext *ctx = b.getContext();
  auto identity = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  SmallVector<Value> inputs = {input};
  SmallVector<AffineMap> maps = {identity};
  for (const FloatParams &p : params) {
    inputs.append({p.scale, p.zeroPoint});
    maps.append({p.map, p.map});
  }
  maps.push_back(identity);
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

/// The scale and zero point (f32 scalars) that shears.dynamic_quantize
/// computes from `x`: [min(x, 0), max(x, 0)] onto [0, 255].
std::pair<Value, Value> dynamicParams(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  auto init = [&](double value) {
    Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{},
                                          b.getF32Type());
    return linalg::FillOp::create(b, loc, f32(b, loc, value), empty)
        .getResult(0);
  };
  MLIRContext *ctx = b.getContext();
  auto all = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  auto none = AffineMap::get(type.getRank(), 0, ArrayRef<AffineExpr>{}, ctx);
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::reduction);
  // Both bounds start at 0: the range always holds it.
  auto range = linalg::GenericOp::create(
      b, loc, TypeRange{scalar, scalar}, x, ValueRange{init(0), init(0)},
      ArrayRef<AffineMap>{all, none, none}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::MinimumFOp::create(nb, l, a[1], a[0]),
                       arith::MaximumFOp::create(nb, l, a[2], a[0])});
      });
  Value lo = tensor::ExtractOp::create(b, loc, range.getResult(0));
  Value hi = tensor::ExtractOp::create(b, loc, range.getResult(1));
  Value scale = arith::DivFOp::create(
      b, loc, arith::SubFOp::create(b, loc, hi, lo), f32(b, loc, 255));
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                         scale, f32(b, loc, 0));
  scale = arith::SelectOp::create(b, loc, positive, scale, f32(b, loc, 1));
  Value zero = math::RoundEvenOp::create(
      b, loc,
      arith::DivFOp::create(b, loc, arith::NegFOp::create(b, loc, lo), scale));
  zero = arith::MaximumFOp::create(b, loc, zero, f32(b, loc, 0));
  zero = arith::MinimumFOp::create(b, loc, zero, f32(b, loc, 255));
  return {scale, zero};
}

/// A quantize to signless `i8`: the integers themselves.
struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.getElementType().isSignlessInteger())
      return op.emitOpError("to ")
             << type.getElementType()
             << " lowers only together with the shears.dequantize that "
                "reads it";
    auto params = floatParams(op, rewriter, type.getRank());
    if (failed(params))
      return failure();
    rewriter.replaceOp(
        op, quantizationGeneric(
                rewriter, op.getLoc(), adaptor.getInput(),
                type.getElementType(), *params,
                [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
                  Value q = quantizeScalar(b, loc, a[0], a[1], a[2], *params);
                  return arith::FPToSIOp::create(b, loc,
                                                 type.getElementType(), q);
                }));
    return success();
  }
};

/// A dequantize: of a quantize, the fake quantization of the quantize's
/// input; of signless integers, (q - zero_point) * scale.
struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    if (auto dynamic = op.getInput().getDefiningOp<DynamicQuantizeOp>()) {
      if (op.getScale() != dynamic.getScale() ||
          op.getZeroPoint() != dynamic.getZeroPoint())
        return op.emitOpError("of a shears.dynamic_quantize lowers only with "
                              "the scale and zero point it computed");
      Value x = rewriter.getRemappedValue(dynamic.getInput());
      Value scale, zero;
      std::tie(scale, zero) = dynamicParams(rewriter, loc, x);
      FloatParams range;
      range.hi = 255;
      rewriter.replaceOp(
          op, quantizationGeneric(
                  rewriter, loc, x, type.getElementType(), {},
                  [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                    Value q = quantizeScalar(b, l, a[0], scale, zero, range);
                    return dequantizeScalar(b, l, q, scale, zero);
                  }));
      return success();
    }
    auto out = floatParams(op, rewriter, type.getRank());
    if (failed(out))
      return failure();
    if (auto quantize = op.getInput().getDefiningOp<QuantizeOp>()) {
      auto in = floatParams(quantize, rewriter, type.getRank());
      if (failed(in))
        return failure();
      Value x = rewriter.getRemappedValue(quantize.getInput());
      rewriter.replaceOp(
          op, quantizationGeneric(
                  rewriter, loc, x, type.getElementType(), {*in, *out},
                  [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                    Value q = quantizeScalar(b, l, a[0], a[1], a[2], *in);
                    return dequantizeScalar(b, l, q, a[3], a[4]);
                  }));
      return success();
    }
    auto intType = cast<RankedTensorType>(op.getInput().getType());
    if (!intType.getElementType().isSignlessInteger())
      return op.emitOpError("of ")
             << intType.getElementType()
             << " lowers only when it reads a shears.quantize or a constant";
    rewriter.replaceOp(
        op, quantizationGeneric(
                rewriter, loc, adaptor.getInput(), type.getElementType(),
                *out, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  Value q =
                      arith::SIToFPOp::create(b, l, b.getF32Type(), a[0]);
                  return dequantizeScalar(b, l, q, a[1], a[2]);
                }));
    return success();
  }
};

} // namespace

void mlir::shears::populateQuantizationToLinalgPatterns(
    RewritePatternSet &patterns, ConversionTarget &target) {
  // A quantize read only by dequantizes goes with them (dead afterwards,
  // canonicalization removes it).
  target.addDynamicallyLegalOp<QuantizeOp>([](QuantizeOp op) {
    return !op->use_empty() && llvm::all_of(op->getUsers(), [](Operation *u) {
      return isa<DequantizeOp>(u);
    });
  });
  target.addDynamicallyLegalOp<DynamicQuantizeOp>([](DynamicQuantizeOp op) {
    return llvm::all_of(op->getUsers(),
                        [](Operation *u) { return isa<DequantizeOp>(u); });
  });
  patterns.add<QuantizeLowering, DequantizeLowering>(patterns.getContext());
}
