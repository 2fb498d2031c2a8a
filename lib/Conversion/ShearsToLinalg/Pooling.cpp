//===- Pooling.cpp - max, average and global average pooling -------------===//

#include "LoweringUtils.h"
#include "Patterns.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::shears;
using namespace mlir::shears::lowering;

namespace {

/// Extra padding at the end of each spatial dim so that a ceil_mode window
/// that runs past the padded input reads the padding value.
SmallVector<int64_t> ceilPads(RankedTensorType in, RankedTensorType out,
                              ArrayRef<int64_t> kernel,
                              ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
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
    Value init =
        filled(rewriter, loc,
               emptyTensor(rewriter, loc, type, adaptor.getInput()), lowest);
    rewriter.replaceOp(op, linalg::PoolingNchwMaxOp::create(
                               rewriter, loc, TypeRange{type},
                               ValueRange{input, window}, init,
                               rewriter.getI64TensorAttr(op.getStrides()),
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
    SmallVector<int64_t> pads =
        ceilPads(inType, type, kernel, op.getStrides(), op.getPads(), ones);
    auto strides = rewriter.getI64TensorAttr(op.getStrides());
    auto dilations = rewriter.getI64TensorAttr(ones);
    Value window =
        tensor::EmptyOp::create(rewriter, loc, kernel, type.getElementType());
    auto sumPool = [&](Value input) {
      Value init =
          filled(rewriter, loc,
                 emptyTensor(rewriter, loc, type, adaptor.getInput()), 0.0);
      return linalg::PoolingNchwSumOp::create(rewriter, loc, TypeRange{type},
                                              ValueRange{input, window}, init,
                                              strides, dilations)
          .getResult(0);
    };
    Value sum = sumPool(padSpatial(rewriter, loc, adaptor.getInput(), pads, 0));
    // The divisor counts the window positions inside the input (or inside
    // the explicit padding with count_include_pad; ceil_mode's extra padding
    // never counts). Pool a tensor of ones to get it per output position.
    auto onesType = RankedTensorType::get(
        {1, 1, inType.getDimSize(2), inType.getDimSize(3)},
        type.getElementType());
    Value onesTensor =
        filled(rewriter, loc,
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
    Value countInit =
        filled(rewriter, loc,
               tensor::EmptyOp::create(rewriter, loc, countType.getShape(),
                                       countType.getElementType()),
               0.0);
    Value count = linalg::PoolingNchwSumOp::create(
                      rewriter, loc, TypeRange{countType},
                      ValueRange{padded, window}, countInit, strides, dilations)
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
    FailureOr<Value> mean =
        meanKeepDims(rewriter, op.getLoc(), adaptor.getInput(), {2, 3});
    if (failed(mean))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    rewriter.replaceOp(op, *mean);
    return success();
  }
};

} // namespace

void mlir::shears::populatePoolingPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPoolLowering, AvgPoolLowering, GlobalAvgPoolLowering>(
      patterns.getContext());
}
