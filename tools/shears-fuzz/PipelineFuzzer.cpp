//===- PipelineFuzzer.cpp - libFuzzer target: import, prune, lower --------===//
//
// What `shears prune` and `shears compile` do to a model, in memory: import,
// prune half of the channels (masks, folding, dead-neuron elimination), then
// lower to the LLVM dialect and translate to LLVM IR. A model the importer
// takes must be rejected by a later stage with a diagnostic, never crash it.
//
//===----------------------------------------------------------------------===//

#include "Fuzz.h"

#include "shears/Compiler/Compiler.h"
#include "shears/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto context =
      shears::fuzz::makeContext(mlir::shears::registerCompilerDialects);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      shears::fuzz::importBytes(data, size, *context);
  if (!module)
    return 0;

  mlir::shears::ShearsInsertMasksOptions prune;
  prune.sparsity = 0.5;
  prune.granularity = mlir::shears::PruneGranularity::Channel;
  mlir::PassManager pm(context.get());
  mlir::shears::buildShearsPrunePipeline(pm, prune);
  if (mlir::failed(pm.run(*module)))
    return 0;
  // A fixed CPU, so that findings reproduce on any host.
  if (mlir::failed(mlir::shears::lowerToLLVM(*module, "sapphirerapids",
                                             /*releaseWeights=*/true)))
    return 0;
  llvm::LLVMContext llvmContext;
  (void)mlir::translateModuleToLLVMIR(*module, llvmContext);
  return 0;
}
