//===- Pipeline.cpp - shears-lower-to-llvm --------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void shears::buildShearsLowerToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createShearsPrepareEntry());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertShearsToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsVerifyBackendContract());
  // Upstream passes, spelled as in mlir-opt so the pipeline reads the same
  // in a bug report.
  (void)parsePassPipeline(
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map}",
      pm);
  pm.addPass(createShearsCopyResults());
  (void)parsePassPipeline(
      "buffer-deallocation-pipeline, canonicalize, "
      "convert-linalg-to-loops, lower-affine, convert-scf-to-cf, "
      "expand-strided-metadata, lower-affine, finalize-memref-to-llvm, "
      "convert-math-to-llvm, convert-math-to-libm, convert-arith-to-llvm, "
      "convert-index-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, "
      "convert-ub-to-llvm, reconcile-unrealized-casts",
      pm);
  pm.addPass(createShearsEmitEntryPoint());
}

void shears::registerShearsLowerToLLVMPipeline() {
  PassPipelineRegistration<>(
      "shears-lower-to-llvm",
      "Lowers the shears dialect to the LLVM dialect for the CPU, with the "
      "shears_invoke entry point",
      buildShearsLowerToLLVMPipeline);
}
