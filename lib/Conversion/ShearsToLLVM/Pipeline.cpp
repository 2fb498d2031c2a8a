//===- Pipeline.cpp - shears-lower-to-llvm --------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void shears::buildShearsBufferizePipeline(OpPassManager &pm,
                                          bool resultsInPlace) {
  // Sizes are resolved in terms of the inputs' with affine.apply, which
  // the backend contract does not allow (lower-affine runs later).
  pm.addPass(createShearsOutlineShapeChecks());

  // A result inserted into a larger tensor (a concat's operand) is computed
  // in place, in its slice.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // The copies of such slices onto themselves fold away.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsCopyResults({resultsInPlace}));
  pm.addPass(createShearsPlanMemory());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCanonicalizerPass());
}

void shears::buildShearsLoopsToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Vector ops: the GPU mapping's tiled matrix products, when emulated.
  pm.addPass(createConvertVectorToLLVMPass());
  // aligned_alloc keeps pointer provenance (manual alignment goes through
  // inttoptr), so LLVM sees that buffers do not alias and vectorizes.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useAlignedAlloc = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createShearsEmitEntryPoint());
}

void shears::buildShearsLowerToLLVMPipeline(OpPassManager &pm,
                                            const LowerToLLVMOptions &options) {
  pm.addPass(createShearsPrepareEntry());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsMarkBatchSeparable());
  pm.addPass(createShearsFoldInputGathers());
  if (options.ukernels) {
    pm.addPass(createShearsConvertToUKernels(
        {options.releaseWeights, options.integerKernels, options.sparseDensity,
         options.timeSparse, options.isa, options.explainSparse,
         /*winograd=*/true, options.winogradTile}));
    pm.addPass(createShearsFuseEpilogues());
    pm.addPass(createShearsFuseRequantization());
  }
  pm.addPass(createConvertShearsToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsVerifyBackendContract());
  pm.addPass(createShearsOrderLoops());
  // The last kernel writes the caller's output buffer.
  buildShearsBufferizePipeline(pm, /*resultsInPlace=*/true);

  pm.addPass(createShearsLowerUKernels({options.isa, options.profileSites}));
  pm.addPass(createShearsLowerCopies());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createShearsApproximateMath());
  pm.addPass(createShearsPromoteAccumulators());
  pm.addPass(createShearsOutlineLoops());
  buildShearsLoopsToLLVMPipeline(pm);
}

void shears::registerShearsLowerToLLVMPipeline() {
  PassPipelineRegistration<LowerToLLVMOptions>(
      "shears-lower-to-llvm",
      "Lowers the shears dialect to the LLVM dialect for the CPU, with the "
      "shears_invoke entry point",
      [](OpPassManager &pm, const LowerToLLVMOptions &options) {
        buildShearsLowerToLLVMPipeline(pm, options);
      });
}
