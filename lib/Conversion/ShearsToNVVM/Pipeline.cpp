//===- Pipeline.cpp - shears-lower-to-nvvm --------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void shears::buildShearsLowerToNVVMPipeline(OpPassManager &pm,
                                            const LowerToNVVMOptions &options) {
  pm.addPass(createShearsPrepareEntry());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertShearsToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createShearsVerifyBackendContract());
  // shears-place-on-device fills each result by a copy from the device.
  buildShearsBufferizePipeline(pm, /*resultsInPlace=*/false);

  pm.addPass(createShearsPlaceOnDevice());
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createShearsLowerCopies());
  ShearsMapToGPUOptions map;
  map.blockSize = options.blockSize;
  map.precision = options.precision;
  // Asking for tensor cores is asking for them on every contraction the
  // tiled kernel takes, whatever its batch (a dynamic one counts as 1).
  if (options.precision != "fp32")
    map.minTiles = 1;
  func.addPass(createShearsMapToGPU(map));
  func.addPass(createConvertParallelLoopToGpuPass());
  func.addPass(createCanonicalizerPass());
  if (options.emulate) {
    pm.addPass(createShearsEmulateGPU());
    pm.addPass(createLowerAffinePass());
    buildShearsLoopsToLLVMPipeline(pm);
    return;
  }
  // Constants and index computations into the kernels (outlining would
  // make each an argument, which LLVM cannot fold into the kernel's code).
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createShearsAlignSharedMemory());
  // Loops that carry WMMA fragments (the tensor core kernels) become
  // branches first: upstream's pipeline starts with convert-nvgpu-to-nvvm,
  // whose type converter does not know !gpu.mma_matrix and so rejects an
  // scf.for that carries one (branches pass through it).
  pm.addNestedPass<gpu::GPUModuleOp>(createSCFToControlFlowPass());
  // One stream per call: kernels, copies, allocations and frees are queued
  // in order on it, and the call waits once, at its end.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());

  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  nvvm.cubinFormat = "isa"; // PTX, which the driver compiles at load.
  nvvm.optLevel = options.optLevel;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  pm.addPass(createShearsEmitEntryPoint());
}

void shears::registerShearsLowerToNVVMPipeline() {
  PassPipelineRegistration<LowerToNVVMOptions>(
      "shears-lower-to-nvvm",
      "Lowers the shears dialect to the LLVM dialect for NVIDIA GPUs: host "
      "code with the shears_invoke entry point and PTX kernels",
      [](OpPassManager &pm, const LowerToNVVMOptions &options) {
        buildShearsLowerToNVVMPipeline(pm, options);
      });
}
