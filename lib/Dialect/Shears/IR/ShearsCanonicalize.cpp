//===- ShearsCanonicalize.cpp - Canonicalization patterns -----------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::shears;

namespace {

/// batch_norm(conv(x, W, b)) -> conv(x, W * s, (b - mean) * s + beta) with
/// s = gamma / sqrt(var + eps), when every parameter is a constant and the
/// convolution (or linear layer) has no other user.
struct FoldBatchNormIntoProducer : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    Operation *producer = bn.getInput().getDefiningOp();
    auto prunable = dyn_cast_or_null<PrunableOpInterface>(producer);
    if (!prunable || !isa<Conv2DOp, LinearOp>(producer) ||
        !producer->hasOneUse() || prunable.getResultChannelDim() != 1)
      return rewriter.notifyMatchFailure(bn, "input is not a conv/linear");
    auto weightType = cast<RankedTensorType>(prunable.getWeight().getType());
    if (!weightType.hasStaticShape() || !weightType.getElementType().isF32())
      return rewriter.notifyMatchFailure(bn, "weight is not static f32");

    auto weight = getConstantFloats(prunable.getWeight());
    auto gamma = getConstantFloats(bn.getScale());
    auto beta = getConstantFloats(bn.getBias());
    auto mean = getConstantFloats(bn.getMean());
    auto var = getConstantFloats(bn.getVariance());
    if (failed(weight) || failed(gamma) || failed(beta) || failed(mean) ||
        failed(var))
      return rewriter.notifyMatchFailure(bn, "parameters are not constants");
    int64_t channels = weightType.getDimSize(0);
    SmallVector<float> bias(channels, 0.0f);
    if (Value oldBias = prunable.getPrunedBias()) {
      auto values = getConstantFloats(oldBias);
      if (failed(values))
        return rewriter.notifyMatchFailure(bn, "bias is not a constant");
      bias = *values;
    }

    float eps = bn.getEpsilon().convertToFloat();
    int64_t perChannel = weightType.getNumElements() / channels;
    for (int64_t c = 0; c < channels; ++c) {
      float s = (*gamma)[c] / std::sqrt((*var)[c] + eps);
      for (int64_t i = 0; i < perChannel; ++i)
        (*weight)[c * perChannel + i] *= s;
      bias[c] = (bias[c] - (*mean)[c]) * s + (*beta)[c];
    }

    rewriter.setInsertionPoint(producer);
    Location loc = bn.getLoc();
    // The folded filter keeps its initializer's name (its location): side
    // inputs keyed by that name, like gradients, still find it.
    Value newWeight =
        createWeightConstant(rewriter, prunable.getWeight().getLoc(),
                             weightType, *weight, "bn_folded");
    Value newBias = createWeightConstant(
        rewriter, loc, RankedTensorType::get({channels}, rewriter.getF32Type()),
        bias, "bn_folded_bias");
    Operation *folded = rewriter.clone(*producer);
    // Operands: input, weight, optional bias (same layout for conv and linear).
    folded->setOperand(1, newWeight);
    if (folded->getNumOperands() == 3)
      folded->setOperand(2, newBias);
    else
      folded->insertOperands(2, newBias);
    rewriter.replaceOp(bn, folded->getResults());
    rewriter.eraseOp(producer);
    return success();
  }
};

/// pow(x, c) for a constant exponent c that is the same everywhere and does
/// not broadcast x: c = 1 is x, 2 is x * x, 0.5 is sqrt(x) (a decomposed
/// LayerNorm's variance, its Pow(d, 2), then runs without powf).
struct SimplifyPow : OpRewritePattern<PowOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PowOp pow,
                                PatternRewriter &rewriter) const override {
    if (pow.getLhs().getType() != pow.getType())
      return rewriter.notifyMatchFailure(pow, "the exponent broadcasts x");
    auto exponent = getConstantFloats(pow.getRhs());
    if (failed(exponent) || exponent->empty() ||
        llvm::any_of(*exponent,
                     [&](float e) { return e != exponent->front(); }))
      return rewriter.notifyMatchFailure(pow, "not one constant exponent");
    Value x = pow.getLhs();
    float e = exponent->front();
    if (e == 1.0f)
      rewriter.replaceOp(pow, x);
    else if (e == 2.0f)
      rewriter.replaceOpWithNewOp<MulOp>(pow, x, x);
    else if (e == 0.5f)
      rewriter.replaceOpWithNewOp<SqrtOp>(pow, x);
    else
      return rewriter.notifyMatchFailure(pow, "no simpler form");
    return success();
  }
};

} // namespace

void PowOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<SimplifyPow>(context);
}

void BatchNormOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<FoldBatchNormIntoProducer>(context);
}
