//===- Elementwise.cpp - elementwise ops, masks, softmax, norms, reductions

#include "LoweringUtils.h"
#include "Patterns.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::shears;
using namespace mlir::shears::lowering;

namespace {

/// Every elementwise op: a linalg.generic whose body is the op's scalar
/// function (ElementwiseOpInterface).
struct ElementwiseLowering
    : OpInterfaceConversionPattern<ElementwiseOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;
  LogicalResult
  matchAndRewrite(ElementwiseOpInterface op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    rewriter.replaceOp(op,
                       elementwise(rewriter, op.getLoc(), type, operands,
                                   [&](OpBuilder &b, Location l, ValueRange a) {
                                     return op.buildScalar(b, l, a);
                                   }));
    return success();
  }
};

/// Masked weights: select(mask, w, 0), the mask broadcast.
struct MaskLowering : ShearsPattern<MaskOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(MaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), op.getType(),
                        {adaptor.getWeight(), adaptor.getMask()},
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::SelectOp::create(
                              b, l, a[1], a[0],
                              floatConstant(b, l, a[0].getType(), 0.0));
                        }));
    return success();
  }
};

struct SoftmaxLowering : ShearsPattern<SoftmaxOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t axis = op.getAxis();
    Value x = adaptor.getInput();
    // softmax(x) = exp(x - max) / sum(exp(x - max)), stable for large x.
    Value max = reduceKeepDims(
        rewriter, loc, x, axis, -std::numeric_limits<double>::infinity(),
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          return arith::MaximumFOp::create(b, l, acc, v);
        });
    Value exp =
        elementwise(rewriter, loc, type, {x, max},
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return math::ExpOp::create(
                          b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                    });
    Value sum = reduceKeepDims(
        rewriter, loc, exp, axis, 0.0,
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          return arith::AddFOp::create(b, l, acc, v);
        });
    if (op.getLog()) {
      // log softmax(x) = x - max - log(sum): finite where exp underflows.
      rewriter.replaceOp(
          op, elementwise(rewriter, loc, type, {x, max, sum},
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return arith::SubFOp::create(
                                b, l, arith::SubFOp::create(b, l, a[0], a[1]),
                                math::LogOp::create(b, l, a[2]));
                          }));
      return success();
    }
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, type, {exp, sum},
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::DivFOp::create(b, l, a[0], a[1]);
                        }));
    return success();
  }
};

/// mean and variance over the normalized dims (kept as 1s), then one pass
/// that normalizes, scales and shifts.
struct LayerNormLowering : ShearsPattern<LayerNormOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    SmallVector<int64_t> axes =
        llvm::to_vector(llvm::seq<int64_t>(op.getAxis(), type.getRank()));
    Value x = adaptor.getInput();
    FailureOr<Value> mu = meanKeepDims(rewriter, loc, x, axes);
    if (failed(mu))
      return rewriter.notifyMatchFailure(op, "dynamic normalized dims");
    Value centered =
        elementwise(rewriter, loc, type, {x, *mu},
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return arith::SubFOp::create(b, l, a[0], a[1]);
                    });
    Value squared =
        elementwise(rewriter, loc, type, centered,
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return arith::MulFOp::create(b, l, a[0], a[0]);
                    });
    Value var = *meanKeepDims(rewriter, loc, squared, axes);
    double eps = op.getEpsilon().convertToDouble();
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, type,
                        {centered, var, adaptor.getScale(), adaptor.getBias()},
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value std = math::SqrtOp::create(
                              b, l,
                              arith::AddFOp::create(
                                  b, l, a[1],
                                  floatConstant(b, l, a[1].getType(), eps)));
                          Value y = arith::DivFOp::create(b, l, a[0], std);
                          return arith::AddFOp::create(
                              b, l, arith::MulFOp::create(b, l, y, a[2]), a[3]);
                        }));
    return success();
  }
};

/// `value` (a reduction's result with its reduced dims kept at size 1)
/// without the dims `axes`: each joins the kept dim before it (or the first).
static Value dropReducedDims(OpBuilder &b, Location loc, Value value,
                             ArrayRef<int64_t> axes,
                             RankedTensorType resultType) {
  if (axes.empty())
    return value;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices leading;
  for (int64_t d = 0; d < tensorType(value).getRank(); ++d) {
    if (!llvm::is_contained(axes, d)) {
      groups.push_back(leading);
      groups.back().push_back(d);
      leading.clear();
    } else if (groups.empty()) {
      leading.push_back(d);
    } else {
      groups.back().push_back(d);
    }
  }
  return tensor::CollapseShapeOp::create(b, loc, resultType, value, groups);
}

/// Reductions: a linalg.generic over the input into the kept-dims shape,
/// then the scale or root where the op has one, then the dropped dims
/// collapsed away.
template <typename OpTy> struct ReduceLowering : ShearsPattern<OpTy> {
  using ShearsPattern<OpTy>::ShearsPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename ShearsPattern<OpTy>::OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> axes = op.getAxes();
    constexpr bool isMax = std::is_same_v<OpTy, ReduceMaxOp>;
    constexpr bool isMin = std::is_same_v<OpTy, ReduceMinOp>;
    constexpr bool isL2 = std::is_same_v<OpTy, ReduceL2Op>;
    constexpr bool isProd = std::is_same_v<OpTy, ReduceProdOp>;
    Value result;
    if constexpr (std::is_same_v<OpTy, ReduceMeanOp>) {
      FailureOr<Value> mean = meanKeepDims(rewriter, loc, input, axes);
      if (failed(mean))
        return rewriter.notifyMatchFailure(op, "mean over a dynamic dimension");
      result = *mean;
    } else {
      double init = isMax    ? -std::numeric_limits<double>::infinity()
                    : isMin  ? std::numeric_limits<double>::infinity()
                    : isProd ? 1.0
                             : 0.0;
      result = reduceKeepDims(
          rewriter, loc, input, axes, init,
          [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
            if (isMax)
              return arith::MaximumFOp::create(b, l, acc, v);
            if (isMin)
              return arith::MinimumFOp::create(b, l, acc, v);
            if (isProd)
              return arith::MulFOp::create(b, l, acc, v);
            if (isL2)
              v = arith::MulFOp::create(b, l, v, v);
            return arith::AddFOp::create(b, l, acc, v);
          });
      if (isL2)
        result =
            elementwise(rewriter, loc, tensorType(result), result,
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return math::SqrtOp::create(b, l, a[0]);
                        });
    }
    if (!op.getKeepdims())
      result = dropReducedDims(rewriter, loc, result, axes, op.getType());
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// ArgMax and ArgMin: one linalg.generic carrying the extreme value and its
/// index along the axis; strictly better keeps the first index, better or
/// equal (select_last_index) the last.
template <typename OpTy> struct ArgReduceLowering : ShearsPattern<OpTy> {
  using ShearsPattern<OpTy>::ShearsPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename ShearsPattern<OpTy>::OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, ArgMaxOp>;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = tensorType(input);
    int64_t axis = op.getAxis();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = 1;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      outExprs.push_back(d == axis ? getAffineConstantExpr(0, ctx)
                                   : getAffineDimExpr(d, ctx));
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
    }
    auto valueType = RankedTensorType::get(shape, type.getElementType());
    auto indexType = RankedTensorType::get(shape, rewriter.getI64Type());
    double worst = isMax ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    Value values = filled(rewriter, loc,
                          emptyTensor(rewriter, loc, valueType, input), worst);
    Value indices =
        linalg::FillOp::create(
            rewriter, loc,
            ValueRange{arith::ConstantOp::create(
                rewriter, loc, rewriter.getI64IntegerAttr(0))},
            ValueRange{emptyTensor(rewriter, loc, indexType, input)})
            .getResult(0);
    AffineMap outMap = AffineMap::get(type.getRank(), 0, outExprs, ctx);
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(type.getRank(), ctx), outMap, outMap};
    arith::CmpFPredicate better =
        op.getSelectLastIndex()
            ? (isMax ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OLE)
            : (isMax ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueType, indexType}, input,
        ValueRange{values, indices}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value index = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          Value take = arith::CmpFOp::create(b, l, better, a[0], a[1]);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, take, a[0], a[1]),
                         arith::SelectOp::create(b, l, take, index, a[2])});
        });
    Value result = generic.getResult(1);
    if (!op.getKeepdims())
      result = dropReducedDims(rewriter, loc, result, {axis}, op.getType());
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::shears::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering, MaskLowering, SoftmaxLowering,
               LayerNormLowering, ReduceLowering<ReduceSumOp>,
               ReduceLowering<ReduceMeanOp>, ReduceLowering<ReduceMaxOp>,
               ReduceLowering<ReduceMinOp>, ReduceLowering<ReduceL2Op>,
               ReduceLowering<ReduceProdOp>, ArgReduceLowering<ArgMaxOp>,
               ArgReduceLowering<ArgMinOp>>(patterns.getContext());
}
