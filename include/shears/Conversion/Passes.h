//===- Passes.h - Shears lowering passes and pipelines ----------*- C++ -*-===//

#ifndef SHEARS_CONVERSION_PASSES_H
#define SHEARS_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "shears-c/Kernels.h"

namespace mlir::shears {

/// The weight density at or below which a linear layer runs on the sparse
/// kernel by default (include/shears-c/Kernels.h says where it comes from).
inline constexpr double kDefaultSparseDensity = SHEARS_UK_SPGEMM_MAX_DENSITY;

/// The density up to which a linear layer is a candidate for the sparse
/// kernel where timing decides (time-sparse): 2:4 weights are half zeros.
inline constexpr double kTimedSparseDensity =
    SHEARS_UK_SPGEMM_TIMED_MAX_DENSITY;

/// The discardable attribute that pins a linear layer's kernel, "gemm" or
/// "spgemm" (shears-convert-to-ukernels).
inline constexpr llvm::StringLiteral kKernelAttrName = "shears.kernel";

/// The module attribute of shears-lower-ukernels{profile-sites}: the layer
/// name of each kernel call site.
inline constexpr llvm::StringLiteral kProfileSitesAttrName =
    "shears.profile_sites";

#define GEN_PASS_DECL
#include "shears/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "shears/Conversion/Passes.h.inc"

/// Name the entry function gets in compiled code (a C symbol: `main` would
/// clash with a program's own).
inline constexpr llvm::StringLiteral kEntryName = "shears_model";

/// What the micro-kernels use of a CPU: the best variant it runs (avx512,
/// avx2 or generic) and whether it has the integer dot products the integer
/// kernels use (AVX512-VNNI or AMX-INT8, or AVX2's vpmaddubsw for weights in
/// [-64, 64]; without, they are plain loops, slower than the f32 kernels).
struct KernelTarget {
  std::string isa;
  bool integerKernels = false;
};

/// For a CPU whose features (LLVM's names: "avx512f") `has` tells.
KernelTarget kernelTarget(llvm::function_ref<bool(llvm::StringRef)> has);

/// For this machine.
KernelTarget hostKernelTarget();

/// The kernel variant `isa` names (avx512, avx2, generic; host: this
/// machine's), or nullopt with an error on `module` for any other name.
std::optional<std::string> resolveKernelISA(Operation *module,
                                            llvm::StringRef isa);

/// Options of the `shears-lower-to-llvm` pipeline.
struct LowerToLLVMOptions : PassPipelineOptions<LowerToLLVMOptions> {
  Option<std::string> isa{
      *this, "isa",
      llvm::cl::desc("Micro-kernel variant: avx512, avx2, generic or host"),
      llvm::cl::init("host")};
  Option<bool> ukernels{
      *this, "ukernels",
      llvm::cl::desc("Run convolutions and GEMMs with constant weights on "
                     "packed micro-kernels (off: linalg loops only)"),
      llvm::cl::init(true)};
  Option<bool> releaseWeights{
      *this, "release-weights",
      llvm::cl::desc("Free weights once packed and unreferenced (the module "
                     "is the only user of its context's blobs)"),
      llvm::cl::init(false)};
  Option<bool> integerKernels{
      *this, "integer-kernels",
      llvm::cl::desc("Quantized layers on the integer kernels (the tools "
                     "turn it off for CPUs without AVX512-VNNI, AMX-INT8 or "
                     "AVX2)"),
      llvm::cl::init(true)};
  Option<double> sparseDensity{
      *this, "sparse-density",
      llvm::cl::desc("Linear layers with at most this fraction of non-zero "
                     "weights run on the sparse kernel (0: never)"),
      llvm::cl::init(kDefaultSparseDensity)};
  Option<bool> timeSparse{
      *this, "time-sparse",
      llvm::cl::desc("Keep spgemm only where timing both kernels on the "
                     "layer, on this machine, says it pays"),
      llvm::cl::init(false)};
  Option<bool> explainSparse{
      *this, "explain-sparse",
      llvm::cl::desc("With time-sparse, a remark per timed layer"),
      llvm::cl::init(false)};
  Option<int64_t> winogradTile{
      *this, "winograd-tile",
      llvm::cl::desc("Winograd's output tile for 3x3 unit-stride "
                     "convolutions: 2, 4 (F(4x4, 3x3), faster, outputs "
                     "within about 1e-4 relative) on images of 28x28 and up, "
                     "or 0 (default): 4 on those with at most 32 input "
                     "channels, else 2"),
      llvm::cl::init(0)};
  Option<bool> profileSites{
      *this, "profile-sites",
      llvm::cl::desc("Mark each kernel call's site for the profile "
                     "(shears-lower-ukernels)"),
      llvm::cl::init(false)};
};

/// The bufferization both backends share, from linalg on tensors (the
/// backend contract) to buffers: the run-time shape checks outlined, one-shot
/// bufferization, fresh result buffers (those the function allocates kept
/// in place where `resultsInPlace`), intermediates in the workspace of
/// shears-plan-memory, the others freed by buffer deallocation.
void buildShearsBufferizePipeline(OpPassManager &pm, bool resultsInPlace);

/// The end both CPU pipelines share: host code of scf loops, memrefs, arith
/// and math to the LLVM dialect, with the shears_invoke entry point.
void buildShearsLoopsToLLVMPipeline(OpPassManager &pm);

/// Builds the CPU pipeline from the shears dialect to the LLVM dialect.
void buildShearsLowerToLLVMPipeline(OpPassManager &pm,
                                    const LowerToLLVMOptions &options = {});

/// Registers the `shears-lower-to-llvm` pipeline.
void registerShearsLowerToLLVMPipeline();

/// What the tiled GPU kernels multiply in: f32 on CUDA cores, or tensor
/// cores on operands rounded to tf32 or converted to f16 or bf16 (summing in
/// f32).
enum class GPUPrecision { FP32, TF32, FP16, BF16 };

/// Their names, in GPUPrecision's order: what `precision` of
/// shears-map-to-gpu (and of shears-lower-to-nvvm) takes.
inline constexpr llvm::StringLiteral kGPUPrecisions[] = {"fp32", "tf32", "fp16",
                                                         "bf16"};

/// The precision `name` names, if it is one of kGPUPrecisions.
inline std::optional<GPUPrecision> parseGPUPrecision(llvm::StringRef name) {
  const llvm::StringLiteral *found = llvm::find(kGPUPrecisions, name);
  if (found == std::end(kGPUPrecisions))
    return std::nullopt;
  return static_cast<GPUPrecision>(found - std::begin(kGPUPrecisions));
}

/// Options of the `shears-lower-to-nvvm` pipeline.
struct LowerToNVVMOptions : PassPipelineOptions<LowerToNVVMOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_90, sm_80)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (+ptx80 is the least sm_90 takes)"),
      llvm::cl::init("+ptx80")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("LLVM optimization level of kernels"),
                       llvm::cl::init(3)};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per block"),
                            llvm::cl::init(256)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc(
          "What large matrix products and convolutions multiply "
          "in: fp32, or tf32, fp16 or bf16 on tensor cores (then for "
          "every contraction the tiled kernel takes, whatever "
          "its number of tiles)"),
      llvm::cl::init("fp32")};
  Option<bool> emulate{
      *this, "emulate",
      llvm::cl::desc("Run the GPU-mapped code on the CPU instead, block after "
                     "block (shears-emulate-gpu): for testing without a GPU"),
      llvm::cl::init(false)};
};

/// Builds the GPU pipeline from the shears dialect to the LLVM dialect: host
/// code with the shears_invoke entry point, kernels as PTX embedded in it
/// (a `gpu.binary`), launched through the mgpu* functions of Shears's CUDA
/// runtime (lib/GPURuntime).
void buildShearsLowerToNVVMPipeline(OpPassManager &pm,
                                    const LowerToNVVMOptions &options = {});

/// Registers the `shears-lower-to-nvvm` pipeline.
void registerShearsLowerToNVVMPipeline();

} // namespace mlir::shears

#endif // SHEARS_CONVERSION_PASSES_H
