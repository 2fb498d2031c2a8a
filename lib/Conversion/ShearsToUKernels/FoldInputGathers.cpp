//===- FoldInputGathers.cpp - constant gathers into layers' weights -------===//
//
// Pruning removes the input features no layer reads and leaves a
// shears.gather of the kept ones in front of the layers
// (shears-eliminate-dead-neurons): the ONNX file is smaller, but compiled,
// the gather is a pass over the input of its own, a third of the 90%-pruned
// Fashion-MNIST MLP's time at batch 64. A layer that reads the gathered
// features can read the original ones instead, through a weight with zero
// columns for the features it skips: free for the sparse kernels (a zero
// costs nothing there), and cheaper than the gather for a dense kernel while
// the columns added are few.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSFOLDINPUTGATHERS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

/// The multiply-adds a dense kernel may add for each feature the gather
/// copies: a copy of a feature costs about two cycles in the gather's loop,
/// in which a 16-lane FMA unit pair does 64 multiply-adds.
constexpr int64_t kMacsPerGatheredFeature = 64;

/// layer(gather(x, constant indices, along the layer's input channels), W)
/// -> layer(x, W'), W' with W's columns at their features and zeros
/// elsewhere (the columns of a feature gathered twice added).
struct FoldInputGather : OpInterfaceRewritePattern<PrunableOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(PrunableOpInterface op,
                                PatternRewriter &rewriter) const override {
    if (!isa<LinearOp, Conv2DOp>(op) || op.getGroups() != 1)
      return rewriter.notifyMatchFailure(op, "not an ungrouped layer");
    auto gather = op.getPrunedInput().getDefiningOp<GatherOp>();
    if (!gather || llvm::count(op->getOperands(), gather.getResult()) != 1)
      return rewriter.notifyMatchFailure(op, "its input is not a gather");
    auto dataType = cast<RankedTensorType>(gather.getData().getType());
    int64_t dim = op.getInputChannelDim();
    auto indexType = cast<RankedTensorType>(gather.getIndices().getType());
    if (int64_t(gather.getAxis()) != dim || indexType.getRank() != 1 ||
        dataType.isDynamicDim(dim))
      return rewriter.notifyMatchFailure(
          op, "not a gather of input channels by a vector");
    // A plain constant: not a quantized weight's dequantization.
    if (!op.getWeight().getDefiningOp<ConstantOp>())
      return rewriter.notifyMatchFailure(op, "its weight is not a constant");
    FailureOr<SmallVector<float>> weights = getConstantFloats(op.getWeight());
    FailureOr<SmallVector<int64_t>> indices =
        getConstantIndices(gather.getIndices());
    if (failed(weights) || failed(indices))
      return rewriter.notifyMatchFailure(op, "weights or indices not constant");

    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t wdim = op.getWeightInputDim();
    int64_t kept = weightType.getDimSize(wdim);
    int64_t features = dataType.getDimSize(dim);
    // The weight as [outer, kept, inner] around its input-channel dim.
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < wdim; ++d)
      outer *= weightType.getDimSize(d);
    for (int64_t d = wdim + 1; d < weightType.getRank(); ++d)
      inner *= weightType.getDimSize(d);
    int64_t nonzeros = llvm::count_if(*weights, [](float w) { return w != 0; });
    // Mostly zeros: the layer will likely run on a sparse kernel, where
    // zero columns cost nothing.
    bool sparse =
        double(nonzeros) <= kDefaultSparseDensity * double(weights->size());
    if (!sparse &&
        (features - kept) * outer * inner > kMacsPerGatheredFeature * kept)
      return rewriter.notifyMatchFailure(op, "too many columns to add");

    SmallVector<float> widened(outer * features * inner, 0.0f);
    // The gather's verifier holds its indices in [-features, features), and
    // its type makes them `kept`.
    for (auto [c, index] : llvm::enumerate(*indices)) {
      int64_t feature = index < 0 ? index + features : index;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          widened[(o * features + feature) * inner + i] +=
              (*weights)[(o * kept + c) * inner + i];
    }
    SmallVector<int64_t> shape(weightType.getShape());
    shape[wdim] = features;
    std::string name = getONNXName(op.getWeight().getLoc()).str();
    Value weight = createWeightConstant(
        rewriter, op.getWeight().getLoc(), weightType.clone(shape), widened,
        (name.empty() ? getLayerName(op).str() + ".weight" : name) + ".wide");
    rewriter.modifyOpInPlace(op, [&] {
      op->replaceUsesOfWith(op.getWeight(), weight);
      op->replaceUsesOfWith(gather.getResult(), gather.getData());
    });
    return success();
  }
};

struct ShearsFoldInputGathers
    : shears::impl::ShearsFoldInputGathersBase<ShearsFoldInputGathers> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldInputGather>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
