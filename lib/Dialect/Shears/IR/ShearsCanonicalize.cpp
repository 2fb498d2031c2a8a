//===- ShearsCanonicalize.cpp - Canonicalization patterns -----------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/IR/Matchers.h"
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

/// The LayerNorm that exporters write out (PyTorch at opsets below 17):
///   d = x - mean(x); v = mean(d * d) (or pow(d, 2)); y = d / sqrt(v + eps)
///   z = y * scale + bias
/// with both means over the trailing dims `axis..` kept as 1s, `eps` a
/// constant scalar, `scale` and `bias` of the normalized dims' shape, becomes
/// one shears.layer_norm.
struct RaiseLayerNorm : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  /// `value` is the mean over dims `axis..` of `of`, kept as 1s.
  static bool isMeanOf(Value value, Value of, int64_t &axis) {
    auto mean = value.getDefiningOp<ReduceMeanOp>();
    if (!mean || mean.getInput() != of || !mean.getKeepdims())
      return false;
    int64_t rank = mean.getType().getRank();
    ArrayRef<int64_t> axes = mean.getAxes();
    if (axes.empty() || axes.back() != rank - 1 ||
        axes.front() + static_cast<int64_t>(axes.size()) != rank)
      return false;
    axis = axes.front();
    return true;
  }

  /// `value` is d * d or pow(d, 2).
  static bool isSquareOf(Value value, Value d) {
    if (auto mul = value.getDefiningOp<MulOp>())
      return mul.getLhs() == d && mul.getRhs() == d;
    auto pow = value.getDefiningOp<PowOp>();
    if (!pow || pow.getLhs() != d)
      return false;
    auto exponent = getConstantFloats(pow.getRhs());
    return succeeded(exponent) && exponent->size() == 1 &&
           exponent->front() == 2.0f;
  }

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    auto scaled = add.getLhs().getDefiningOp<MulOp>();
    Value bias = add.getRhs();
    auto div = scaled ? scaled.getLhs().getDefiningOp<DivOp>() : DivOp();
    Value scale = scaled ? scaled.getRhs() : Value();
    auto sub = div ? div.getLhs().getDefiningOp<SubOp>() : SubOp();
    auto sqrt = div ? div.getRhs().getDefiningOp<SqrtOp>() : SqrtOp();
    auto shifted = sqrt ? sqrt.getInput().getDefiningOp<AddOp>() : AddOp();
    if (!sub || !shifted)
      return rewriter.notifyMatchFailure(add, "not a decomposed layer norm");
    Value x = sub.getLhs(), d = sub.getResult();
    int64_t axis, varAxis;
    if (!isMeanOf(sub.getRhs(), x, axis))
      return rewriter.notifyMatchFailure(add, "no mean of the input");
    auto var = shifted.getLhs().getDefiningOp<ReduceMeanOp>();
    if (!var || !isSquareOf(var.getInput(), d) ||
        !isMeanOf(var.getResult(), var.getInput(), varAxis) || varAxis != axis)
      return rewriter.notifyMatchFailure(add, "no variance");
    auto eps = getConstantFloats(shifted.getRhs());
    if (failed(eps) || eps->size() != 1 || !(eps->front() >= 0))
      return rewriter.notifyMatchFailure(add, "epsilon is not a constant");
    auto type = cast<RankedTensorType>(x.getType());
    ArrayRef<int64_t> normalized = type.getShape().drop_front(axis);
    for (Value v : {scale, bias}) {
      auto t = cast<RankedTensorType>(v.getType());
      if (t.getShape() != normalized || !matchPattern(v, m_Constant()))
        return rewriter.notifyMatchFailure(
            add, "scale or bias is not a constant of the normalized shape");
    }
    if (add.getType() != type)
      return rewriter.notifyMatchFailure(add, "the result broadcasts");
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        add, type, x, scale, bias, rewriter.getI64IntegerAttr(axis),
        rewriter.getF32FloatAttr(eps->front()));
    return success();
  }
};

/// add(linear(x, W), b) -> linear(x, W, b) for a constant b that holds one
/// number per output feature (shape [out] or [1, ..., 1, out]) and a linear
/// layer without a bias and without other users: the MatMul + Add that
/// exporters write for a linear layer on 3-D inputs (a transformer's
/// projections) becomes one layer whose bias goes with its output channels.
struct FoldBiasIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    auto linear = add.getLhs().getDefiningOp<LinearOp>();
    Value bias = add.getRhs();
    if (!linear) {
      linear = add.getRhs().getDefiningOp<LinearOp>();
      bias = add.getLhs();
    }
    if (!linear || linear.getBias() || !linear->hasOneUse() ||
        add.getType() != linear.getType())
      return rewriter.notifyMatchFailure(add, "not a linear without bias");
    auto type = cast<RankedTensorType>(bias.getType());
    int64_t out = linear.getType().getShape().back();
    if (!type.hasStaticShape() || type.getNumElements() != out ||
        type.getShape().back() != out || !matchPattern(bias, m_Constant()))
      return rewriter.notifyMatchFailure(add, "not one constant per feature");
    auto values = getConstantFloats(bias);
    if (failed(values))
      return rewriter.notifyMatchFailure(add, "bias is not a float constant");
    rewriter.setInsertionPoint(linear);
    Value vector = bias;
    if (type.getRank() != 1)
      vector = createWeightConstant(
          rewriter, bias.getLoc(),
          RankedTensorType::get({out}, type.getElementType()), *values, "bias");
    // The layer keeps its location: its name.
    Value biased =
        LinearOp::create(rewriter, linear.getLoc(), linear.getType(),
                         linear.getInput(), linear.getWeight(), vector);
    rewriter.replaceOp(add, biased);
    rewriter.eraseOp(linear);
    return success();
  }
};

} // namespace

void AddOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<RaiseLayerNorm, FoldBiasIntoLinear>(context);
}

void PowOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<SimplifyPow>(context);
}

void BatchNormOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<FoldBatchNormIntoProducer>(context);
}
