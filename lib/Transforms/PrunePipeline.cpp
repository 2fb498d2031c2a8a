//===- PrunePipeline.cpp - shears-prune -----------------------------------===//

#include "shears/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::shears;

namespace {
/// The pipeline's options text split at spaces outside quotes and braces:
/// `shrink-inputs` goes to eliminate-dead-neurons, every other option to
/// insert-masks, whose own parser checks them (they are declared once, in
/// Passes.td).
void splitOptions(StringRef options, std::string &insertMasks,
                  std::string &eliminate) {
  auto flush = [&](StringRef option) {
    option = option.trim();
    if (option.empty())
      return;
    std::string &target = option.split('=').first.trim() == "shrink-inputs"
                              ? eliminate
                              : insertMasks;
    target += option.str() + " ";
  };
  char quote = 0;
  int depth = 0;
  size_t begin = 0;
  for (size_t i = 0; i < options.size(); ++i) {
    char c = options[i];
    if (quote) {
      quote = c == quote ? 0 : quote;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (c == ' ' && depth == 0) {
      flush(options.slice(begin, i));
      begin = i + 1;
    }
  }
  flush(options.drop_front(begin));
}

void addPrunePasses(OpPassManager &pm, std::unique_ptr<Pass> insertMasks,
                    std::unique_ptr<Pass> eliminate) {
  // Fold batch_norm into its convolution first: the filter's importance
  // then includes the BN scale, and a removed filter leaves no BN shift.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(std::move(insertMasks));
  pm.addPass(createShearsFoldMasks());
  pm.addPass(std::move(eliminate));
  pm.addPass(createCanonicalizerPass());
}
} // namespace

void mlir::shears::buildShearsPrunePipeline(
    OpPassManager &pm, const ShearsInsertMasksOptions &options,
    const ShearsEliminateDeadNeuronsOptions &eliminate) {
  addPrunePasses(pm, createShearsInsertMasks(options),
                 createShearsEliminateDeadNeurons(eliminate));
}

void mlir::shears::buildShearsPrunePipeline(OpPassManager &pm,
                                            std::unique_ptr<Pass> insertMasks,
                                            std::unique_ptr<Pass> eliminate) {
  addPrunePasses(pm, std::move(insertMasks), std::move(eliminate));
}

void mlir::shears::registerShearsPrunePipeline() {
  registerPassPipeline(
      "shears-prune",
      "Prunes a model: insert masks, fold them, remove dead channels. Takes "
      "shears-insert-masks' options and shears-eliminate-dead-neurons' "
      "shrink-inputs",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        std::string insertMasksText, eliminateText;
        splitOptions(text, insertMasksText, eliminateText);
        std::unique_ptr<Pass> insertMasks = createShearsInsertMasks();
        std::unique_ptr<Pass> eliminate = createShearsEliminateDeadNeurons();
        if (failed(insertMasks->initializeOptions(insertMasksText,
                                                  errorHandler)) ||
            failed(eliminate->initializeOptions(eliminateText, errorHandler)))
          return failure();
        addPrunePasses(pm, std::move(insertMasks), std::move(eliminate));
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)>) {});
}
