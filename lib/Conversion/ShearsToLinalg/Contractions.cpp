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

struct Conv2DLowering : ShearsPattern<Conv2DOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), 0.0);
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
      auto in5 =
          RankedTensorType::get({inType.getDimSize(0), groups, c,
                                 inType.getDimSize(2), inType.getDimSize(3)},
                                inType.getElementType());
      SmallVector<OpFoldResult> inShape =
          tensor::getMixedSizes(rewriter, loc, input);
      inShape.erase(inShape.begin() + 1);
      inShape.insert(inShape.begin() + 1,
                     {rewriter.getIndexAttr(groups), rewriter.getIndexAttr(c)});
      Value in = tensor::ExpandShapeOp::create(
          rewriter, loc, in5, input,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, inShape);
      SmallVector<int64_t> filterShape = {
          groups, f, c, weightType.getDimSize(2), weightType.getDimSize(3)};
      Value filter = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(filterShape, weightType.getElementType()),
          weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
      auto out5 = RankedTensorType::get({resultType.getDimSize(0), groups, f,
                                         resultType.getDimSize(2),
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
  patterns
      .add<LinearLowering, MatMulLowering, Conv2DLowering, BatchNormLowering>(
          patterns.getContext());
}
