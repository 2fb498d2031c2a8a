//===- Contractions.cpp - linear, matmul, conv2d, batch_norm -------------===//

#include "LoweringUtils.h"
#include "Patterns.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::shears;
using namespace mlir::shears::lowering;

namespace {

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
      weightT =
          linalg::TransposeOp::create(
              rewriter, loc, adaptor.getWeight(),
              tensor::EmptyOp::create(rewriter, loc, transposedType.getShape(),
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
            rewriter, loc, out2d, ValueRange{input, weightT}, init, maps,
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
      SmallVector<OpFoldResult> shape =
          tensor::getMixedSizes(rewriter, loc, adaptor.getInput());
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
    Value init =
        filled(rewriter, loc,
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

/// The convolution of the padded `input` by `weight` [out, in/groups, kh,
/// kw] accumulated into `init`: linalg's named convolution for groups 1,
/// depthwise and grouped convolutions.
static Value convolve(OpBuilder &b, Location loc, Value input, Value weight,
                      Value init, int64_t groups, ArrayRef<int64_t> strides,
                      ArrayRef<int64_t> dilations) {
  auto resultType = tensorType(init);
  auto weightType = tensorType(weight);
  int64_t inChannels = tensorType(input).getDimSize(1);
  int64_t outChannels = resultType.getDimSize(1);
  auto stridesAttr = b.getI64TensorAttr(strides);
  auto dilationsAttr = b.getI64TensorAttr(dilations);
  if (groups == 1)
    return linalg::Conv2DNchwFchwOp::create(b, loc, TypeRange{resultType},
                                            ValueRange{input, weight}, init,
                                            stridesAttr, dilationsAttr)
        .getResult(0);
  if (groups == inChannels && groups == outChannels) {
    // Depthwise: [C, 1, kh, kw] -> [C, kh, kw].
    Value filter = tensor::CollapseShapeOp::create(
        b, loc, weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
    return linalg::DepthwiseConv2DNchwChwOp::create(
               b, loc, TypeRange{resultType}, ValueRange{input, filter}, init,
               stridesAttr, dilationsAttr)
        .getResult(0);
  }
  // Grouped: [N, G*C, H, W] x [G*F, C, kh, kw] -> [N, G*F, H', W'] as
  // [N, G, C, H, W] x [G, F, C, kh, kw] -> [N, G, F, H', W'].
  auto inType = tensorType(input);
  int64_t c = inChannels / groups, f = outChannels / groups;
  auto in5 = RankedTensorType::get({inType.getDimSize(0), groups, c,
                                    inType.getDimSize(2), inType.getDimSize(3)},
                                   inType.getElementType());
  SmallVector<OpFoldResult> inShape = tensor::getMixedSizes(b, loc, input);
  inShape.erase(inShape.begin() + 1);
  inShape.insert(inShape.begin() + 1,
                 {b.getIndexAttr(groups), b.getIndexAttr(c)});
  Value in = tensor::ExpandShapeOp::create(
      b, loc, in5, input,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, inShape);
  SmallVector<int64_t> filterShape = {groups, f, c, weightType.getDimSize(2),
                                      weightType.getDimSize(3)};
  Value filter = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(filterShape, weightType.getElementType()),
      weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
  auto out5 = RankedTensorType::get({resultType.getDimSize(0), groups, f,
                                     resultType.getDimSize(2),
                                     resultType.getDimSize(3)},
                                    resultType.getElementType());
  SmallVector<OpFoldResult> outShape = tensor::getMixedSizes(b, loc, init);
  outShape.erase(outShape.begin() + 1);
  outShape.insert(outShape.begin() + 1,
                  {b.getIndexAttr(groups), b.getIndexAttr(f)});
  Value init5 = tensor::ExpandShapeOp::create(
      b, loc, out5, init,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, outShape);
  Value conv = linalg::Conv2DNgchwGfchwOp::create(b, loc, TypeRange{out5},
                                                  ValueRange{in, filter}, init5,
                                                  stridesAttr, dilationsAttr)
                   .getResult(0);
  return tensor::CollapseShapeOp::create(
      b, loc, resultType, conv,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
}

struct Conv2DLowering : ShearsPattern<Conv2DOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), 0.0);
    Value init = accumulatorInit(rewriter, loc, op.getType(),
                                 adaptor.getInput(), adaptor.getBias(),
                                 /*channelDim=*/1);
    rewriter.replaceOp(op, convolve(rewriter, loc, input, adaptor.getWeight(),
                                    init, op.getGroups(), op.getStrides(),
                                    op.getDilations()));
    return success();
  }
};

/// A transposed convolution is the convolution, at stride 1, of the input
/// spread `strides` apart with zeros between and padded by dilation * (k - 1)
/// on every side, by the filter flipped in space with its input and output
/// channels swapped (within each group). That gives the whole result,
/// unpadded; the op's pads crop it (a negative pad widens the zero border
/// instead).
struct ConvTransposeLowering : ShearsPattern<ConvTransposeOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType type = op.getType();
    Value input = adaptor.getInput();
    auto inType = tensorType(input);
    if (inType.isDynamicDim(2) || inType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dimensions");
    auto weightType = op.getWeight().getType();
    int64_t groups = op.getGroups();
    int64_t inPerGroup = weightType.getDimSize(0) / groups;
    int64_t outPerGroup = weightType.getDimSize(1);
    int64_t kh = weightType.getDimSize(2), kw = weightType.getDimSize(3);
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    // filter[o, c, y, x] = weight[g * in/g + c, o mod out/g, kh-1-y, kw-1-x]
    // with g = o floordiv out/g.
    AffineExpr o = getAffineDimExpr(0, ctx), c = getAffineDimExpr(1, ctx);
    AffineExpr y = getAffineDimExpr(2, ctx), x = getAffineDimExpr(3, ctx);
    auto filterType =
        RankedTensorType::get({outPerGroup * groups, inPerGroup, kh, kw},
                              weightType.getElementType());
    SmallVector<AffineMap> filterMaps = {
        AffineMap::get(4, 0,
                       {o.floorDiv(outPerGroup) * inPerGroup + c,
                        o % outPerGroup, kh - 1 - y, kw - 1 - x},
                       ctx),
        AffineMap::getMultiDimIdentityMap(4, ctx)};
    Value filterInit = tensor::EmptyOp::create(
        rewriter, loc, filterType.getShape(), filterType.getElementType());
    Value filter =
        linalg::GenericOp::create(
            rewriter, loc, filterType, ValueRange{adaptor.getWeight()},
            ValueRange{filterInit}, filterMaps,
            SmallVector<IteratorType>(4, IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(b, l, args[0]);
            })
            .getResult(0);
    // The spread input: zeros, with the input at stride `strides` from
    // dilation * (k - 1) (plus a negative begin pad) on.
    SmallVector<int64_t> spreadShape = {inType.getDimSize(0),
                                        inType.getDimSize(1)};
    SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0),
                                         rewriter.getIndexAttr(0)};
    SmallVector<int64_t> crop;
    int64_t kernel[] = {kh, kw};
    for (int64_t i = 0; i < 2; ++i) {
      int64_t border = dilations[i] * (kernel[i] - 1);
      int64_t extraBegin = std::max<int64_t>(0, -pads[i]);
      int64_t extraEnd = std::max<int64_t>(0, -pads[i + 2]);
      spreadShape.push_back(strides[i] * (inType.getDimSize(2 + i) - 1) + 1 +
                            2 * border + extraBegin + extraEnd);
      offsets.push_back(rewriter.getIndexAttr(border + extraBegin));
      crop.push_back(std::max<int64_t>(0, pads[i]));
    }
    auto spreadType =
        RankedTensorType::get(spreadShape, inType.getElementType());
    Value zeros = filled(rewriter, loc,
                         emptyTensor(rewriter, loc, spreadType, input), 0.0);
    SmallVector<OpFoldResult> spreadStrides = {
        rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
        rewriter.getIndexAttr(strides[0]), rewriter.getIndexAttr(strides[1])};
    Value spread = tensor::InsertSliceOp::create(
        rewriter, loc, input, zeros, offsets,
        tensor::getMixedSizes(rewriter, loc, input), spreadStrides);
    // The whole result, then the crop.
    SmallVector<int64_t> fullShape = {type.getDimSize(0), type.getDimSize(1)};
    for (int64_t i = 0; i < 2; ++i)
      fullShape.push_back(spreadShape[2 + i] - dilations[i] * (kernel[i] - 1));
    auto fullType = RankedTensorType::get(fullShape, type.getElementType());
    Value init = accumulatorInit(rewriter, loc, fullType, input,
                                 adaptor.getBias(), /*channelDim=*/1);
    Value full = convolve(rewriter, loc, spread, filter, init, groups, {1, 1},
                          dilations);
    if (fullType == type) {
      rewriter.replaceOp(op, full);
      return success();
    }
    SmallVector<OpFoldResult> cropOffsets = {
        rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
        rewriter.getIndexAttr(crop[0]), rewriter.getIndexAttr(crop[1])};
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, full);
    sizes[2] = rewriter.getIndexAttr(type.getDimSize(2));
    sizes[3] = rewriter.getIndexAttr(type.getDimSize(3));
    SmallVector<OpFoldResult> ones(4, rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, type, full, cropOffsets, sizes, ones);
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
    auto paramMap =
        AffineMap::get(type.getRank(), 0, getAffineDimExpr(1, ctx), ctx);
    auto identity = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
    Value init = emptyTensor(rewriter, loc, type, adaptor.getInput());
    float eps = op.getEpsilon().convertToFloat();
    SmallVector<IteratorType> iterators(type.getRank(), IteratorType::parallel);
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

} // namespace

void mlir::shears::populateContractionPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearLowering, MatMulLowering, Conv2DLowering,
               ConvTransposeLowering, BatchNormLowering>(patterns.getContext());
}
