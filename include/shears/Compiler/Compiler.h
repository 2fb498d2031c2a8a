//===- Compiler.h - Load, lower, JIT and AOT-compile models -----*- C++ -*-===//
//
// The library behind shears-run, shears-compile, the `shears` driver and the
// Python package: everything from a model file to code that runs.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_COMPILER_COMPILER_H
#define SHEARS_COMPILER_COMPILER_H

#include "shears/Conversion/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "shears-c/Runtime.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::shears {

/// Registers the dialects, interfaces and LLVM translations a compiler
/// context needs.
void registerCompilerDialects(DialectRegistry &registry);

/// Registers every Shears pass and pipeline (shears-prune,
/// shears-lower-to-llvm) for textual pipelines, as shears-opt has them.
void registerShearsPassesAndPipelines();

/// Loads a model: an ONNX file (by its `.onnx` extension) through the
/// importer, a `.shears` pack (by its extension or its first bytes) unpacked
/// and imported, anything else as MLIR text or bytecode. Diagnostics go to
/// the context's handler.
OwningOpRef<ModuleOp> loadModel(llvm::StringRef path, MLIRContext &context,
                                llvm::SourceMgr &sourceMgr);

/// Which linear layers run on the sparse kernel spgemm: those with at most
/// `density` of their weights non-zero, and with `time`, only where timing
/// both kernels on the layer, on this machine, says spgemm pays
/// (shears-convert-to-ukernels' time-sparse; SparseChoice.h), with a remark
/// per timed layer when `explain` is set.
struct SparseKernelOptions {
  double density = kDefaultSparseDensity;
  bool time = false;
  bool explain = false;

  /// What the tools use: timed, candidates up to kTimedSparseDensity.
  static SparseKernelOptions timed(bool explain = false) {
    return {kTimedSparseDensity, true, explain};
  }
};

struct ModelReport;

/// For `shears report --time-sparse` (and Python's report(time_sparse=)):
/// each linear layer that shears run and compile would time (at most
/// kTimedSparseDensity non-zero; SparseChoice.h's packSparseCandidate),
/// timed the same way on this machine, with the kernels' threads as set;
/// its format becomes the kernel picked, with spgemm's time over gemm's.
void timeSparseLayers(ModelReport &report);

/// For `shears report --measure` (and Python's report(measure=)): compiles
/// `module` as shears run does (the layers timeSparseLayers timed pinned to
/// the kernel it picked), runs it on this machine at batches 1, 4, 8 and 64
/// (a model whose batch is fixed: at that one) on random inputs, on
/// `threads` threads (0: the model's default), and gives each layer of
/// `report` the median time of its kernels a run (LayerReport::measuredMs).
/// Failure with `error` set where the model cannot be compiled or run.
LogicalResult measureLayers(ModuleOp module, ModelReport &report, int threads,
                            std::string &error);

/// Runs shears-lower-to-llvm on `module`, with the micro-kernels for `cpu`
/// (an LLVM CPU name; empty: this machine). `releaseWeights`: the module is
/// the only user of its context's weight blobs, so a weight's original bytes
/// are freed once it has been packed. `profileSites`: each kernel call's
/// site marked for the profile (shears-lower-ukernels).
LogicalResult lowerToLLVM(ModuleOp module, llvm::StringRef cpu = "",
                          bool releaseWeights = false,
                          const SparseKernelOptions &sparse = {},
                          bool profileSites = false);

/// Where a compiled model runs. CUDAEmulated is the GPU pipeline with its
/// kernels run on the CPU (shears-emulate-gpu), for tests without a GPU.
enum class Device { CPU, CUDA, CUDAEmulated };

/// "cpu" or "cuda"; nullopt for anything else.
std::optional<Device> parseDevice(llvm::StringRef name);

/// The GPU architectures shears-lower-to-nvvm generates PTX for.
inline constexpr llvm::StringLiteral kGPUArchs[] = {"sm_90", "sm_80"};

/// What GPU code is generated for: the architecture (one of kGPUArchs) and
/// what large matrix products and convolutions multiply in (one of
/// kGPUPrecisions: fp32, or tf32, fp16 or bf16 on tensor cores).
struct GPUTarget {
  std::string arch = "sm_90";
  std::string precision = "fp32";
};

/// Why `target` is not one shears-lower-to-nvvm takes; empty if it is.
std::string checkGPUTarget(const GPUTarget &target);

/// Runs shears-lower-to-nvvm on `module`: host code for this machine's CPU
/// and PTX kernels for `gpu`, or with `emulate` the kernels as host loops.
LogicalResult lowerToNVVM(ModuleOp module, const GPUTarget &gpu = {},
                          bool emulate = false);

/// loadModel, then lowerToLLVM (releasing packed weights' originals) or, for
/// the GPU, lowerToNVVM: what the tools that run a model start with.
/// Null after diagnostics on failure.
OwningOpRef<ModuleOp> loadAndLower(llvm::StringRef path, MLIRContext &context,
                                   llvm::SourceMgr &sourceMgr,
                                   llvm::StringRef cpu = "",
                                   const SparseKernelOptions &sparse = {},
                                   Device device = Device::CPU,
                                   const GPUTarget &gpu = {});

/// What the micro-kernels use of `cpu` (empty: this machine); failure with
/// `error` set for a CPU LLVM does not know.
FailureOr<KernelTarget> kernelTargetForCPU(llvm::StringRef cpu,
                                           std::string &error);

/// JIT-compiles a module already lowered to the LLVM dialect into a runnable
/// model (the model owns the execution engine). A GPU module's kernels are
/// loaded here: without a GPU and its driver this fails, saying so. Null
/// with `error` set on failure.
ShearsModel *jitCompile(ModuleOp module, std::string &error);

/// Compiles a module lowered to the LLVM dialect into a shared library at
/// `path` (object code for the host CPU, or for `cpu` such as x86-64-v2 when
/// given; linked by clang-22 with libm, pthreads and the micro-kernels, and
/// for a GPU module with its PTX and Shears's CUDA runtime, which needs
/// libdl and, to run, the driver).
/// `threads` > 0 becomes the library's default thread count
/// (`shears_default_threads`); 0 leaves it at every online CPU.
LogicalResult compileSharedLibrary(ModuleOp module, llvm::StringRef path,
                                   std::string &error,
                                   llvm::StringRef cpu = "", int threads = 0);

/// A C header declaring the ABI of a compiled model with signature `json`,
/// the inputs and outputs documented in comments.
std::string generateHeader(llvm::StringRef json, llvm::StringRef libraryName);

} // namespace mlir::shears

#endif // SHEARS_COMPILER_COMPILER_H
