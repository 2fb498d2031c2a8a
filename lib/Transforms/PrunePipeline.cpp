//===- PrunePipeline.cpp - shears-prune -----------------------------------===//

#include "shears/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// The options of shears-insert-masks, as pipeline options.
struct PruneOptions : PassPipelineOptions<PruneOptions> {
  Option<double> sparsity{*this, "sparsity",
                          llvm::cl::desc("Fraction to remove, in [0, 1)"),
                          llvm::cl::init(0.5)};
  Option<std::string> criterion{*this, "criterion",
                                llvm::cl::desc("magnitude | l2 | random | "
                                               "taylor | activation"),
                                llvm::cl::init("magnitude")};
  Option<std::string> granularity{
      *this, "granularity",
      llvm::cl::desc("unstructured | channel | input-channel | n:m | block"),
      llvm::cl::init("unstructured")};
  Option<int64_t> n{*this, "n", llvm::cl::desc("N of N:M"), llvm::cl::init(2)};
  Option<int64_t> m{*this, "m", llvm::cl::desc("M of N:M"), llvm::cl::init(4)};
  Option<int64_t> blockRows{*this, "block-rows", llvm::cl::init(4)};
  Option<int64_t> blockCols{*this, "block-cols", llvm::cl::init(4)};
  Option<std::string> scope{*this, "scope",
                            llvm::cl::desc("layer | global"),
                            llvm::cl::init("layer")};
  Option<std::string> exclude{
      *this, "exclude", llvm::cl::desc("Regex of node names kept dense")};
  ListOption<std::string> layerSparsity{
      *this, "layer-sparsity",
      llvm::cl::desc("REGEX=SPARSITY per-layer overrides")};
  Option<int64_t> minChannels{*this, "min-channels", llvm::cl::init(1)};
  Option<int64_t> roundTo{
      *this, "round-to",
      llvm::cl::desc("Channels kept rounded up to a multiple of this"),
      llvm::cl::init(1)};
  Option<int64_t> seed{*this, "seed", llvm::cl::init(0)};
  Option<std::string> gradients{*this, "gradients",
                                llvm::cl::desc(".npz of gradients (taylor)")};
  Option<std::string> activations{
      *this, "activations",
      llvm::cl::desc(".npz of input-channel norms (activation)")};
  Option<bool> shrinkInputs{
      *this, "shrink-inputs",
      llvm::cl::desc("Drop unused input features from the model's inputs"),
      llvm::cl::init(false)};
};
} // namespace

void shears::buildShearsPrunePipeline(
    OpPassManager &pm, const ShearsInsertMasksOptions &options,
    const ShearsEliminateDeadNeuronsOptions &eliminate) {
  // Fold batch_norm into its convolution first: the filter's importance
  // then includes the BN scale, and a removed filter leaves no BN shift.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsInsertMasks(options));
  pm.addPass(createShearsFoldMasks());
  pm.addPass(createShearsEliminateDeadNeurons(eliminate));
  pm.addPass(createCanonicalizerPass());
}

void shears::registerShearsPrunePipeline() {
  PassPipelineRegistration<PruneOptions>(
      "shears-prune",
      "Prunes a model: insert masks, fold them, remove dead channels",
      [](OpPassManager &pm, const PruneOptions &o) {
        ShearsInsertMasksOptions options;
        options.sparsity = o.sparsity;
        options.criterion = o.criterion;
        options.granularity = o.granularity;
        options.n = o.n;
        options.m = o.m;
        options.blockRows = o.blockRows;
        options.blockCols = o.blockCols;
        options.scope = o.scope;
        options.exclude = o.exclude;
        options.minChannels = o.minChannels;
        options.roundTo = o.roundTo;
        options.seed = o.seed;
        options.layerSparsity.assign(o.layerSparsity.begin(),
                                     o.layerSparsity.end());
        options.gradients = o.gradients;
        options.activations = o.activations;
        ShearsEliminateDeadNeuronsOptions eliminate;
        eliminate.shrinkInputs = o.shrinkInputs;
        buildShearsPrunePipeline(pm, options, eliminate);
      });
}
