//===- ShearsToLinalg.cpp - shears ops to linalg/tensor/arith/math --------===//

#include "QuantizationToLinalg.h"

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::shears {
#define GEN_PASS_DEF_CONVERTSHEARSTOLINALG
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

using utils::IteratorType;
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A `tensor.empty` of `type` whose dynamic sizes come from `source`'s dims at
/// `sourceDims[d]` for each dynamic result dim d (identity when empty).
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  Value source, ArrayRef<int64_t> sourceDims = {}) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(tensor::DimOp::create(
          b, loc, source, sourceDims.empty() ? d : sourceDims[d]));
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType(), dynamic);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value filled(OpBuilder &b, Location loc, Value empty, double value) {
  auto type = tensorType(empty);
  Value scalar = floatConstant(b, loc, type.getElementType(), value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

/// The map from the iteration space of `result` to a broadcast operand:
/// right-aligned, with size-1 dims that the result does not have pinned to 0.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       RankedTensorType result) {
  SmallVector<AffineExpr> exprs;
  int64_t offset = result.getRank() - operand.getRank();
  for (int64_t d = 0; d < operand.getRank(); ++d) {
    bool broadcast = operand.getDimSize(d) == 1 &&
                     result.getDimSize(d + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(d + offset, ctx));
  }
  return AffineMap::get(result.getRank(), 0, exprs, ctx);
}

/// An elementwise linalg.generic over `resultType` with broadcast inputs.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  // Take dynamic sizes from an input that has the dim unbroadcast.
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < resultType.getRank(); ++d) {
    if (!resultType.isDynamicDim(d))
      continue;
    for (Value in : inputs) {
      auto t = tensorType(in);
      int64_t id = d - (resultType.getRank() - t.getRank());
      if (id >= 0 && t.isDynamicDim(id)) {
        dynamic.push_back(tensor::DimOp::create(b, loc, in, id));
        break;
      }
    }
  }
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType(), dynamic);
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(ctx, tensorType(in), resultType));
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultType.getRank(), ctx));
  SmallVector<IteratorType> iterators(resultType.getRank(),
                                      IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultType, inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

/// Pads the spatial dims of an NCHW tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, double value) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto type = tensorType(input);
  SmallVector<int64_t> shape(type.getShape());
  for (int i = 0; i < 2; ++i)
    if (!ShapedType::isDynamic(shape[2 + i]))
      shape[2 + i] += pads[i] + pads[i + 2];
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                   b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[1])};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(pads[2]),
                                    b.getIndexAttr(pads[3])};
  Value padValue = floatConstant(b, loc, type.getElementType(), value);
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, low,
      high, padValue);
}

/// Broadcasts a [C] bias along `channelDim` of a tensor shaped like `like`
/// (the initial value of a convolution or matmul accumulator), or zeros.
Value accumulatorInit(OpBuilder &b, Location loc, RankedTensorType type,
                      Value like, Value bias, int64_t channelDim,
                      ArrayRef<int64_t> sourceDims = {}) {
  Value empty = emptyTensor(b, loc, type, like, sourceDims);
  if (!bias)
    return filled(b, loc, empty, 0.0);
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != channelDim)
      dims.push_back(d);
  return linalg::BroadcastOp::create(b, loc, bias, empty, dims).getResult()[0];
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct ShearsPattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpConversionPattern<OpTy>::OpAdaptor;
};

struct ConstantLowering : ShearsPattern<ConstantOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // A rank-0 memref.global needs its value as a splat, which a resource
    // blob cannot give: a scalar becomes a plain dense attribute.
    TypedAttr value = op.getValue();
    auto resource = dyn_cast<DenseResourceElementsAttr>(value);
    AsmResourceBlob *blob =
        resource ? resource.getRawHandle().getBlob() : nullptr;
    if (blob && resource.getType().getRank() == 0) {
      bool splat = false;
      if (DenseElementsAttr::isValidRawBuffer(resource.getType(),
                                              blob->getData(), splat))
        value = DenseElementsAttr::getFromRawBuffer(resource.getType(),
                                                    blob->getData());
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// y[m, n] = sum_k x[m, k] * w[n, k] (+ b[n]), leading dims of x collapsed
/// into m.
struct LinearLowering : ShearsPattern<LinearOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = tensorType(input);
    auto resultType = op.getType();
    int64_t rank = inType.getRank();
    if (rank != 2) {
      SmallVector<ReassociationIndices> collapse = {
          llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}};
      input = tensor::CollapseShapeOp::create(rewriter, loc, input, collapse);
    }
    auto in2d = tensorType(input);
    auto out2d = RankedTensorType::get(
        {in2d.getDimSize(0), resultType.getShape().back()},
        resultType.getElementType());
    Value init = accumulatorInit(rewriter, loc, out2d, input, adaptor.getBias(),
                                 /*channelDim=*/1);
    // W^T as [in, out], so that the loop over output features (innermost
    // after shears-order-loops) reads consecutive weights. A constant weight
    // is transposed here, once; any other at run time.
    auto weightType = tensorType(adaptor.getWeight());
    auto transposedType = RankedTensorType::get(
        {weightType.getDimSize(1), weightType.getDimSize(0)},
        weightType.getElementType());
    Value weightT;
    if (auto data = getConstantFloats(op.getWeight()); succeeded(data)) {
      int64_t rows = weightType.getDimSize(0), cols = weightType.getDimSize(1);
      SmallVector<float> transposed(data->size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          transposed[c * rows + r] = (*data)[r * cols + c];
      ArrayRef<char> bytes(reinterpret_cast<const char *>(transposed.data()),
                           transposed.size() * sizeof(float));
      weightT = arith::ConstantOp::create(
          rewriter, loc,
          DenseResourceElementsAttr::get(
              transposedType, "weight_t",
              HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes,
                                                            alignof(float))));
    } else {
      weightT = linalg::TransposeOp::create(
                    rewriter, loc, adaptor.getWeight(),
                    tensor::EmptyOp::create(rewriter, loc,
                                            transposedType.getShape(),
                                            transposedType.getElementType()),
                    ArrayRef<int64_t>{1, 0})
                    .getResult()[0];
    }
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, k}, ctx),
                                   AffineMap::get(3, 0, {k, n}, ctx),
                                   AffineMap::get(3, 0, {m, n}, ctx)};
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, out2d, ValueRange{input, weightT}, init,
            maps,
            {IteratorType::parallel, IteratorType::parallel,
             IteratorType::reduction},
            [](OpBuilder &b, Location l, ValueRange args) {
              Value mul = arith::MulFOp::create(b, l, args[0], args[1]);
              linalg::YieldOp::create(
                  b, l, Value(arith::AddFOp::create(b, l, args[2], mul)));
            })
            .getResult(0);
    if (rank != 2) {
      SmallVector<ReassociationIndices> expand = {
          llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}};
      SmallVector<OpFoldResult> shape = tensor::getMixedSizes(
          rewriter, loc, adaptor.getInput());
      shape.back() = rewriter.getIndexAttr(resultType.getShape().back());
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, result,
                                             expand, shape);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Batched matmul with numpy broadcasting of the batch dims.
struct MatMulLowering : ShearsPattern<MatMulOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    int64_t rank = resultType.getRank();
    MLIRContext *ctx = rewriter.getContext();
    // Loops: result dims, then k.
    auto operandMap = [&](RankedTensorType t, bool isLhs) {
      SmallVector<AffineExpr> exprs;
      int64_t offset = rank - t.getRank();
      for (int64_t d = 0; d + 2 < t.getRank(); ++d)
        exprs.push_back(t.getDimSize(d) == 1 &&
                                resultType.getDimSize(d + offset) != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d + offset, ctx));
      AffineExpr k = getAffineDimExpr(rank, ctx);
      if (isLhs) {
        exprs.push_back(getAffineDimExpr(rank - 2, ctx));
        exprs.push_back(k);
      } else {
        exprs.push_back(k);
        exprs.push_back(getAffineDimExpr(rank - 1, ctx));
      }
      return AffineMap::get(rank + 1, 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps = {
        operandMap(tensorType(adaptor.getLhs()), true),
        operandMap(tensorType(adaptor.getRhs()), false),
        AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank)};
    // Dynamic result dims: batch dims from whichever operand has them, m from
    // lhs, n from rhs.
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < rank; ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      Value source = d == rank - 1 ? adaptor.getRhs() : adaptor.getLhs();
      auto t = tensorType(source);
      int64_t sd = d - (rank - t.getRank());
      if (d < rank - 2 && (sd < 0 || !t.isDynamicDim(sd))) {
        source = adaptor.getRhs();
        sd = d - (rank - tensorType(source).getRank());
      }
      dynamic.push_back(tensor::DimOp::create(rewriter, loc, source, sd));
    }
    Value init = filled(
        rewriter, loc,
        tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                resultType.getElementType(), dynamic),
        0.0);
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    iterators.push_back(IteratorType::reduction);
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, resultType,
                ValueRange{adaptor.getLhs(), adaptor.getRhs()}, init, maps,
                iterators,
                [](OpBuilder &b, Location l, ValueRange args) {
                  Value mul = arith::MulFOp::create(b, l, args[0], args[1]);
                  linalg::YieldOp::create(
                      b, l, Value(arith::AddFOp::create(b, l, args[2], mul)));
                })
                .getResult(0));
    return success();
  }
};

struct Conv2DLowering : ShearsPattern<Conv2DOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(),
                             0.0);
    Value weight = adaptor.getWeight();
    auto weightType = tensorType(weight);
    int64_t groups = op.getGroups();
    int64_t inChannels = tensorType(input).getDimSize(1);
    int64_t outChannels = resultType.getDimSize(1);
    Value init = accumulatorInit(rewriter, loc, resultType, adaptor.getInput(),
                                 adaptor.getBias(), /*channelDim=*/1);
    auto strides = rewriter.getI64TensorAttr(op.getStrides());
    auto dilations = rewriter.getI64TensorAttr(op.getDilations());
    Value result;
    if (groups == 1) {
      result = linalg::Conv2DNchwFchwOp::create(
                   rewriter, loc, TypeRange{resultType},
                   ValueRange{input, weight}, init, strides, dilations)
                   .getResult(0);
    } else if (groups == inChannels && groups == outChannels) {
      // Depthwise: [C, 1, kh, kw] -> [C, kh, kw].
      Value filter = tensor::CollapseShapeOp::create(
          rewriter, loc, weight,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
      result = linalg::DepthwiseConv2DNchwChwOp::create(
                   rewriter, loc, TypeRange{resultType},
                   ValueRange{input, filter}, init, strides, dilations)
                   .getResult(0);
    } else {
      // Grouped: [N, G*C, H, W] x [G*F, C, kh, kw] -> [N, G*F, H', W'] as
      // [N, G, C, H, W] x [G, F, C, kh, kw] -> [N, G, F, H', W'].
      auto inType = tensorType(input);
      int64_t c = inChannels / groups, f = outChannels / groups;
      auto in5 = RankedTensorType::get(
          {inType.getDimSize(0), groups, c, inType.getDimSize(2),
           inType.getDimSize(3)},
          inType.getElementType());
      SmallVector<OpFoldResult> inShape =
          tensor::getMixedSizes(rewriter, loc, input);
      inShape.erase(inShape.begin() + 1);
      inShape.insert(inShape.begin() + 1,
                     {rewriter.getIndexAttr(groups), rewriter.getIndexAttr(c)});
      Value in = tensor::ExpandShapeOp::create(
          rewriter, loc, in5, input,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, inShape);
      SmallVector<int64_t> filterShape = {groups, f, c,
                                          weightType.getDimSize(2),
                                          weightType.getDimSize(3)};
      Value filter = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(filterShape, weightType.getElementType()),
          weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
      auto out5 = RankedTensorType::get(
          {resultType.getDimSize(0), groups, f, resultType.getDimSize(2),
           resultType.getDimSize(3)},
          resultType.getElementType());
      SmallVector<OpFoldResult> outShape =
          tensor::getMixedSizes(rewriter, loc, init);
      outShape.erase(outShape.begin() + 1);
      outShape.insert(outShape.begin() + 1, {rewriter.getIndexAttr(groups),
                                             rewriter.getIndexAttr(f)});
      Value init5 = tensor::ExpandShapeOp::create(
          rewriter, loc, out5, init,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, outShape);
      Value conv = linalg::Conv2DNgchwGfchwOp::create(
                       rewriter, loc, TypeRange{out5}, ValueRange{in, filter},
                       init5, strides, dilations)
                       .getResult(0);
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, resultType, conv,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct BatchNormLowering : ShearsPattern<BatchNormOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    MLIRContext *ctx = rewriter.getContext();
    // Parameters index dim 1 of the iteration space.
    auto paramMap = AffineMap::get(type.getRank(), 0,
                                   getAffineDimExpr(1, ctx), ctx);
    auto identity = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
    Value init = emptyTensor(rewriter, loc, type, adaptor.getInput());
    float eps = op.getEpsilon().convertToFloat();
    SmallVector<IteratorType> iterators(type.getRank(),
                                        IteratorType::parallel);
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, type,
                ValueRange{adaptor.getInput(), adaptor.getScale(),
                           adaptor.getBias(), adaptor.getMean(),
                           adaptor.getVariance()},
                init,
                SmallVector<AffineMap>{identity, paramMap, paramMap, paramMap,
                                       paramMap, identity},
                iterators,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value e = floatConstant(b, l, a[0].getType(), eps);
                  Value std = math::SqrtOp::create(
                      b, l, arith::AddFOp::create(b, l, a[4], e));
                  Value centered = arith::SubFOp::create(b, l, a[0], a[3]);
                  Value scaled = arith::MulFOp::create(
                      b, l, arith::DivFOp::create(b, l, centered, std), a[1]);
                  linalg::YieldOp::create(
                      b, l, Value(arith::AddFOp::create(b, l, scaled, a[2])));
                })
                .getResult(0));
    return success();
  }
};

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

/// A reduction of `input` over `axes` into a tensor with those dims kept as 1
/// (keepdims) and initial value `init`.
Value reduceKeepDims(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, double initValue,
                     function_ref<Value(OpBuilder &, Location, Value, Value)>
                         combine) {
  auto type = tensorType(input);
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<AffineExpr> outExprs;
  SmallVector<IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    if (reduced)
      shape[d] = 1;
    outExprs.push_back(reduced ? getAffineConstantExpr(0, ctx)
                               : getAffineDimExpr(d, ctx));
    iterators.push_back(reduced ? IteratorType::reduction
                                : IteratorType::parallel);
  }
  auto outType = RankedTensorType::get(shape, type.getElementType());
  Value init = filled(b, loc, emptyTensor(b, loc, outType, input), initValue);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(type.getRank(), ctx),
      AffineMap::get(type.getRank(), 0, outExprs, ctx)};
  return linalg::GenericOp::create(
             b, loc, outType, input, init, maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, combine(nb, l, a[1], a[0]));
             })
      .getResult(0);
}

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
    Value exp = elementwise(rewriter, loc, type, {x, max},
                            [](OpBuilder &b, Location l, ValueRange a) -> Value {
                              return math::ExpOp::create(
                                  b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                            });
    Value sum = reduceKeepDims(
        rewriter, loc, exp, axis, 0.0,
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          return arith::AddFOp::create(b, l, acc, v);
        });
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
    double count = 1;
    for (int64_t axis : axes) {
      if (type.isDynamicDim(axis))
        return rewriter.notifyMatchFailure(op, "dynamic normalized dims");
      count *= type.getDimSize(axis);
    }
    auto add = [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
      return arith::AddFOp::create(b, l, acc, v);
    };
    auto mean = [&](Value v) {
      Value sum = reduceKeepDims(rewriter, loc, v, axes, 0.0, add);
      return elementwise(rewriter, loc, tensorType(sum), sum,
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return arith::DivFOp::create(
                               b, l, a[0],
                               floatConstant(b, l, a[0].getType(), count));
                         });
    };
    Value x = adaptor.getInput();
    Value mu = mean(x);
    Value centered =
        elementwise(rewriter, loc, type, {x, mu},
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return arith::SubFOp::create(b, l, a[0], a[1]);
                    });
    Value squared =
        elementwise(rewriter, loc, type, centered,
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return arith::MulFOp::create(b, l, a[0], a[0]);
                    });
    Value var = mean(squared);
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

/// Extra padding at the end of each spatial dim so that a ceil_mode window
/// that runs past the padded input reads the padding value.
SmallVector<int64_t> ceilPads(RankedTensorType in, RankedTensorType out,
                              ArrayRef<int64_t> kernel,
                              ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> pads,
                              ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> result(pads);
  for (int i = 0; i < 2; ++i) {
    int64_t needed = (out.getDimSize(2 + i) - 1) * strides[i] +
                     dilations[i] * (kernel[i] - 1) + 1;
    int64_t have = in.getDimSize(2 + i) + pads[i] + pads[i + 2];
    if (needed > have)
      result[i + 2] += needed - have;
  }
  return result;
}

struct MaxPoolLowering : ShearsPattern<MaxPoolOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(MaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    auto inType = tensorType(adaptor.getInput());
    if (inType.isDynamicDim(2) || inType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    SmallVector<int64_t> pads =
        ceilPads(inType, type, op.getKernelShape(), op.getStrides(),
                 op.getPads(), op.getDilations());
    double lowest = -std::numeric_limits<double>::infinity();
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), pads, lowest);
    Value window = tensor::EmptyOp::create(rewriter, loc, op.getKernelShape(),
                                           type.getElementType());
    Value init = filled(rewriter, loc,
                        emptyTensor(rewriter, loc, type, adaptor.getInput()),
                        lowest);
    rewriter.replaceOp(
        op, linalg::PoolingNchwMaxOp::create(
                rewriter, loc, TypeRange{type}, ValueRange{input, window},
                init, rewriter.getI64TensorAttr(op.getStrides()),
                rewriter.getI64TensorAttr(op.getDilations()))
                .getResult(0));
    return success();
  }
};

struct AvgPoolLowering : ShearsPattern<AvgPoolOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(AvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    auto inType = tensorType(adaptor.getInput());
    if (inType.isDynamicDim(2) || inType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    SmallVector<int64_t> ones = {1, 1};
    ArrayRef<int64_t> kernel = op.getKernelShape();
    SmallVector<int64_t> pads = ceilPads(inType, type, kernel,
                                         op.getStrides(), op.getPads(), ones);
    auto strides = rewriter.getI64TensorAttr(op.getStrides());
    auto dilations = rewriter.getI64TensorAttr(ones);
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel,
                                           type.getElementType());
    auto sumPool = [&](Value input) {
      Value init = filled(rewriter, loc,
                          emptyTensor(rewriter, loc, type, adaptor.getInput()),
                          0.0);
      return linalg::PoolingNchwSumOp::create(
                 rewriter, loc, TypeRange{type}, ValueRange{input, window},
                 init, strides, dilations)
          .getResult(0);
    };
    Value sum = sumPool(padSpatial(rewriter, loc, adaptor.getInput(), pads, 0));
    // The divisor counts the window positions inside the input (or inside
    // the explicit padding with count_include_pad; ceil_mode's extra padding
    // never counts). Pool a tensor of ones to get it per output position.
    auto onesType = RankedTensorType::get(
        {1, 1, inType.getDimSize(2), inType.getDimSize(3)},
        type.getElementType());
    Value onesTensor = filled(
        rewriter, loc,
        tensor::EmptyOp::create(rewriter, loc, onesType.getShape(),
                                onesType.getElementType()),
        1.0);
    SmallVector<int64_t> onesPads(pads);
    Value padded = padSpatial(rewriter, loc, onesTensor, op.getPads(),
                              op.getCountIncludePad() ? 1.0 : 0.0);
    SmallVector<int64_t> extra = {0, 0, pads[2] - op.getPads()[2],
                                  pads[3] - op.getPads()[3]};
    padded = padSpatial(rewriter, loc, padded, extra, 0.0);
    auto countType = RankedTensorType::get(
        {1, 1, type.getDimSize(2), type.getDimSize(3)}, type.getElementType());
    Value countInit = filled(
        rewriter, loc,
        tensor::EmptyOp::create(rewriter, loc, countType.getShape(),
                                countType.getElementType()),
        0.0);
    Value count = linalg::PoolingNchwSumOp::create(
                      rewriter, loc, TypeRange{countType},
                      ValueRange{padded, window}, countInit, strides,
                      dilations)
                      .getResult(0);
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, type, {sum, count},
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::DivFOp::create(b, l, a[0], a[1]);
                        }));
    return success();
  }
};

struct GlobalAvgPoolLowering : ShearsPattern<GlobalAvgPoolOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(GlobalAvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = tensorType(adaptor.getInput());
    if (inType.isDynamicDim(2) || inType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    Value sum = reduceKeepDims(
        rewriter, loc, adaptor.getInput(), {2, 3}, 0.0,
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          return arith::AddFOp::create(b, l, acc, v);
        });
    double area = inType.getDimSize(2) * inType.getDimSize(3);
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, op.getType(), sum,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::DivFOp::create(
                              b, l, a[0],
                              floatConstant(b, l, a[0].getType(), area));
                        }));
    return success();
  }
};

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
    auto inType = tensorType(input);
    ArrayRef<int64_t> axes = op.getAxes();
    constexpr bool isMax = std::is_same_v<OpTy, ReduceMaxOp>;
    constexpr bool isMin = std::is_same_v<OpTy, ReduceMinOp>;
    constexpr bool isL2 = std::is_same_v<OpTy, ReduceL2Op>;
    double count = 1;
    for (int64_t axis : axes)
      count *= inType.getDimSize(axis);
    if (std::is_same_v<OpTy, ReduceMeanOp> &&
        llvm::any_of(axes, [&](int64_t a) { return inType.isDynamicDim(a); }))
      return rewriter.notifyMatchFailure(op, "mean over a dynamic dimension");
    double init = isMax   ? -std::numeric_limits<double>::infinity()
                  : isMin ? std::numeric_limits<double>::infinity()
                          : 0.0;
    Value result = reduceKeepDims(
        rewriter, loc, input, axes, init,
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          if (isMax)
            return arith::MaximumFOp::create(b, l, acc, v);
          if (isMin)
            return arith::MinimumFOp::create(b, l, acc, v);
          if (isL2)
            v = arith::MulFOp::create(b, l, v, v);
          return arith::AddFOp::create(b, l, acc, v);
        });
    auto keptType = tensorType(result);
    if (std::is_same_v<OpTy, ReduceMeanOp> || isL2)
      result = elementwise(
          rewriter, loc, keptType, result,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (isL2)
              return math::SqrtOp::create(b, l, a[0]);
            return arith::DivFOp::create(
                b, l, a[0], floatConstant(b, l, a[0].getType(), count));
          });
    if (!op.getKeepdims() && !axes.empty()) {
      // Each dropped unit dim joins the kept dim before it (or the first).
      SmallVector<ReassociationIndices> groups;
      ReassociationIndices leading;
      for (int64_t d = 0; d < inType.getRank(); ++d) {
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
      result = tensor::CollapseShapeOp::create(rewriter, loc, op.getType(),
                                               result, groups);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Reshapes through a 1-D collapse and an expand; the one dynamic result dim
/// (if any) is the element count divided by the static ones.
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                RankedTensorType resultType) {
  auto inType = tensorType(input);
  if (inType == resultType)
    return input;
  Value flat = input;
  if (inType.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(
        b, loc, input,
        SmallVector<ReassociationIndices>{
            llvm::to_vector(llvm::seq<int64_t>(0, inType.getRank()))});
  if (resultType.getRank() == 1)
    return flat.getType() == resultType
               ? flat
               : tensor::CastOp::create(b, loc, resultType, flat).getResult();
  SmallVector<OpFoldResult> shape;
  int64_t staticProduct = 1;
  for (int64_t d : resultType.getShape())
    if (!ShapedType::isDynamic(d))
      staticProduct *= d;
  for (int64_t d : resultType.getShape()) {
    if (!ShapedType::isDynamic(d)) {
      shape.push_back(b.getIndexAttr(d));
      continue;
    }
    Value total = tensor::DimOp::create(b, loc, flat, 0);
    Value divisor = arith::ConstantIndexOp::create(b, loc, staticProduct);
    shape.push_back(
        arith::DivUIOp::create(b, loc, total, divisor).getResult());
  }
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, flat,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()))},
      shape);
}

template <typename OpTy>
struct ReshapeLowering : ShearsPattern<OpTy> {
  using ShearsPattern<OpTy>::ShearsPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename ShearsPattern<OpTy>::OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), adaptor.getInput(),
                                     op.getType()));
    return success();
  }
};

/// A broadcasting copy into a tensor sized by the sources' dimensions.
struct ExpandLowering : ShearsPattern<ExpandOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    SmallVector<Value> sizes;
    for (auto [source, dim] :
         llvm::zip(adaptor.getSources(), op.getSourceDims()))
      sizes.push_back(tensor::DimOp::create(rewriter, loc, source, dim));
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType(), sizes);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {
        broadcastMap(ctx, op.getInput().getType(), type),
        AffineMap::getMultiDimIdentityMap(type.getRank(), ctx)};
    SmallVector<IteratorType> iterators(type.getRank(), IteratorType::parallel);
    rewriter.replaceOp(op, linalg::GenericOp::create(
                               rewriter, loc, type, adaptor.getInput(), init,
                               maps, iterators,
                               [](OpBuilder &b, Location l, ValueRange args) {
                                 linalg::YieldOp::create(b, l, args[0]);
                               })
                               .getResult(0));
    return success();
  }
};

struct TransposeLowering : ShearsPattern<TransposeOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value init = emptyTensor(rewriter, loc, op.getType(), adaptor.getInput(),
                             op.getPerm());
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, loc,
                                                       adaptor.getInput(),
                                                       init, op.getPerm())
                               .getResult()[0]);
    return success();
  }
};

/// Concat as inserts into an empty tensor (tensor.concat does not bufferize
/// directly). The inserts follow the order in which their operands are
/// computed, each right after its operand (in the concat's block): an
/// operand computed into a tensor.empty is then computed in place, into its
/// slice of the result (eliminate-empty-tensors gives it that slice as its
/// destination), and not copied. Operands from elsewhere are inserted at the
/// concat.
struct ConcatLowering : ShearsPattern<ConcatOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t axis = op.getAxis();
    if (type.isDynamicDim(axis))
      return rewriter.notifyMatchFailure(op, "dynamic concat axis");
    Block *block = op->getBlock();
    // Where an operand is available: after its op, or at the start of the
    // block for a block argument; at the concat if it comes from elsewhere.
    auto definedAt = [&](Value value) -> Operation * {
      Operation *def = value.getDefiningOp();
      if (def && def->getBlock() == block)
        return def;
      if (!def && cast<BlockArgument>(value).getOwner() == block)
        return nullptr;
      return op->getPrevNode();
    };
    auto before = [](Operation *a, Operation *b) {
      return b && (!a || a->isBeforeInBlock(b));
    };
    struct Part {
      Value value;
      int64_t offset;
      Operation *at;
    };
    SmallVector<Part> parts;
    int64_t offset = 0;
    for (Value input : adaptor.getInputs()) {
      parts.push_back({input, offset, definedAt(input)});
      offset += tensorType(input).getDimSize(axis);
    }
    llvm::stable_sort(parts, [&](const Part &a, const Part &b) {
      return before(a.at, b.at);
    });
    auto setAfter = [&](Operation *at) {
      if (at)
        rewriter.setInsertionPointAfter(at);
      else
        rewriter.setInsertionPointToStart(block);
    };
    OpBuilder::InsertionGuard guard(rewriter);
    setAfter(parts.front().at);
    Value result = emptyTensor(rewriter, loc, type, parts.front().value);
    for (const Part &part : parts) {
      Operation *resultAt = result.getDefiningOp();
      setAfter(before(part.at, resultAt) ? resultAt : part.at);
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(part.offset);
      SmallVector<OpFoldResult> sizes =
          tensor::getMixedSizes(rewriter, loc, part.value);
      SmallVector<OpFoldResult> strides(type.getRank(),
                                        rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, part.value, result,
                                             offsets, sizes, strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A static strided slice of `input` with `resultType`.
Value extractSlice(OpBuilder &b, Location loc, Value input,
                   RankedTensorType resultType, ArrayRef<int64_t> axes,
                   ArrayRef<int64_t> starts, ArrayRef<int64_t> steps) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  for (auto [i, axis] : llvm::enumerate(axes)) {
    offsets[axis] = b.getIndexAttr(starts[i]);
    sizes[axis] = b.getIndexAttr(resultType.getDimSize(axis));
    strides[axis] = b.getIndexAttr(steps[i]);
  }
  return tensor::ExtractSliceOp::create(b, loc, resultType, input, offsets,
                                        sizes, strides);
}

struct SliceLowering : ShearsPattern<SliceOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, extractSlice(rewriter, op.getLoc(),
                                        adaptor.getInput(), op.getType(),
                                        op.getAxes(), op.getStarts(),
                                        op.getSteps()));
    return success();
  }
};

struct SplitLowering : ShearsPattern<SplitOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    int64_t axis = op.getAxis(), offset = 0;
    SmallVector<Value> results;
    for (auto [result, size] : llvm::zip(op.getResults(), op.getSizes())) {
      results.push_back(extractSlice(
          rewriter, op.getLoc(), adaptor.getInput(),
          cast<RankedTensorType>(result.getType()), axis, offset, 1));
      offset += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct PadLowering : ShearsPattern<PadOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getType().getRank();
    ArrayRef<int64_t> pads = op.getPads();
    SmallVector<OpFoldResult> low, high;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(rewriter.getIndexAttr(pads[d]));
      high.push_back(rewriter.getIndexAttr(pads[d + rank]));
    }
    Value value = floatConstant(rewriter, loc, op.getType().getElementType(),
                                op.getValue().convertToDouble());
    rewriter.replaceOpWithNewOp<tensor::PadOp>(
        op, op.getType(), adaptor.getInput(), low, high, value);
    return success();
  }
};

/// result[..., i..., ...] = data[..., clamp(indices[i...]), ...]
struct GatherLowering : ShearsPattern<GatherOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    int64_t axis = op.getAxis();
    int64_t indicesRank = tensorType(indices).getRank();
    int64_t rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < indicesRank; ++d)
      indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
    // Dynamic result dims come from data (outside the gathered range) or
    // from indices.
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      if (d < axis)
        dynamic.push_back(tensor::DimOp::create(rewriter, loc, data, d));
      else if (d < axis + indicesRank)
        dynamic.push_back(
            tensor::DimOp::create(rewriter, loc, indices, d - axis));
      else
        dynamic.push_back(tensor::DimOp::create(rewriter, loc, data,
                                                d - indicesRank + 1));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType(), dynamic);
    Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, indexExprs, ctx),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    rewriter.replaceOp(
        op,
        linalg::GenericOp::create(
            rewriter, loc, type, indices, init, maps, iterators,
            [&](OpBuilder &b, Location l, ValueRange a) {
              // ONNX allows negative indices; out-of-range ones are clamped
              // rather than read out of bounds.
              Value index = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                       a[0]);
              Value zero = arith::ConstantIndexOp::create(b, l, 0);
              Value one = arith::ConstantIndexOp::create(b, l, 1);
              Value negative = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, index, zero);
              index = arith::SelectOp::create(
                  b, l, negative, arith::AddIOp::create(b, l, index, axisSize),
                  index);
              index = arith::MaxSIOp::create(b, l, index, zero);
              index = arith::MinSIOp::create(
                  b, l, index, arith::SubIOp::create(b, l, axisSize, one));
              SmallVector<Value> coords;
              for (int64_t d = 0; d < axis; ++d)
                coords.push_back(linalg::IndexOp::create(b, l, d));
              coords.push_back(index);
              for (int64_t d = axis + indicesRank; d < rank; ++d)
                coords.push_back(linalg::IndexOp::create(b, l, d));
              linalg::YieldOp::create(
                  b, l, Value(tensor::ExtractOp::create(b, l, data, coords)));
            })
            .getResult(0));
    return success();
  }
};

struct ConvertShearsToLinalg
    : shears::impl::ConvertShearsToLinalgBase<ConvertShearsToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<ShearsDialect>();
    // Micro-kernel calls stay as they are until after bufferization.
    target.addLegalOp<UKernelOp>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(ctx);
    patterns.add<ConstantLowering, LinearLowering, MatMulLowering,
                 Conv2DLowering, BatchNormLowering, SoftmaxLowering,
                 MaxPoolLowering, AvgPoolLowering, GlobalAvgPoolLowering,
                 ReshapeLowering<ReshapeOp>, ReshapeLowering<FlattenOp>,
                 TransposeLowering, ConcatLowering, SliceLowering,
                 SplitLowering, PadLowering, GatherLowering, MaskLowering,
                 ExpandLowering, LayerNormLowering, ReduceLowering<ReduceSumOp>,
                 ReduceLowering<ReduceMeanOp>, ReduceLowering<ReduceMaxOp>,
                 ReduceLowering<ReduceMinOp>, ReduceLowering<ReduceL2Op>>(ctx);
    patterns.add<ElementwiseLowering>(ctx);
    populateQuantizationToLinalgPatterns(patterns, target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
