//===- Calibrate.h - Activation statistics through the JIT ------*- C++ -*-===//

#ifndef SHEARS_COMPILER_CALIBRATE_H
#define SHEARS_COMPILER_CALIBRATE_H

#include "shears/Support/Npz.h"
#include "shears/Support/RuntimeHandles.h"

#include "mlir/IR/BuiltinOps.h"
#include "shears-c/Runtime.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::shears {

/// Runs `model` over `samples` (one tensor per model input, first axis the
/// samples) `batch` samples at a time, without copying them, and calls
/// `visit(first sample, outputs)` per batch and `progress(done, total)`
/// after it. Fails, saying why in `error`, on inputs that disagree with each
/// other or the model, or a failing run.
LogicalResult
runInBatches(ShearsModel *model, ArrayRef<const ShearsTensor *> samples,
             int64_t batch, std::string &error,
             llvm::function_ref<void(int64_t, ArrayRef<TensorPtr>)> visit,
             llvm::function_ref<void(int64_t, int64_t)> progress = {});

/// Runs `module` (not changed) through the JIT on calibration `samples` (one
/// tensor per model input, in signature order, first axis the samples),
/// `batch` samples at a time, and returns per layer that pruning scores (a
/// constant weight, named by its ONNX node) the L2 norm over all samples of
/// each channel of its input: what shears-insert-masks{criterion=activation}
/// reads. `progress(done, total)` is called after each batch.
FailureOr<std::vector<std::pair<std::string, NpzArray>>>
measureInputNorms(ModuleOp module, ArrayRef<const ShearsTensor *> samples,
                  int64_t batch, std::string &error,
                  llvm::function_ref<void(int64_t, int64_t)> progress = {});

/// Bins of the histograms measureActivationRanges writes.
constexpr int64_t kHistogramBins = 4096;

/// Runs `module` like measureInputNorms and returns, for the same layers,
/// the statistics of their inputs that shears-quantize reads: `NAME.range`
/// ([min, max] over all samples) and `NAME.histogram` (kHistogramBins
/// counts of equal bins over [-A, A], A = max(|min|, |max|)). The samples
/// are run twice: for the ranges, then for the histograms.
FailureOr<std::vector<std::pair<std::string, NpzArray>>>
measureActivationRanges(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples, int64_t batch,
    std::string &error,
    llvm::function_ref<void(int64_t, int64_t)> progress = {});

/// Runs `module` like measureInputNorms and returns, for the same layers,
/// what shears-low-rank and criterion=obs read: `NAME.gram`, the Gram
/// matrix X^T X / n [in, in] of the n vectors each row of the layer's weight
/// multiplies over all samples (the last dim of a linear layer's input, the
/// im2col patches of an ungrouped convolution's, channel-major as its
/// filter), and `NAME.mean`, their mean [in].
FailureOr<std::vector<std::pair<std::string, NpzArray>>>
measureInputGrams(ModuleOp module, ArrayRef<const ShearsTensor *> samples,
                  int64_t batch, std::string &error,
                  llvm::function_ref<void(int64_t, int64_t)> progress = {});

} // namespace mlir::shears

#endif // SHEARS_COMPILER_CALIBRATE_H
