//===- Sensitivity.h - Per-layer pruning sensitivity and allocation -*- C++
//-*-===//
//
// How much each layer can lose: every layer pruned alone at a few sparsities
// (shears-insert-masks with the caller's criterion), run through the JIT on
// evaluation samples, and compared with the dense model: the error of its
// outputs and, with labels, its accuracy. From those curves, per-layer
// sparsities under one budget for the whole model (`shears prune --budget`).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_COMPILER_SENSITIVITY_H
#define SHEARS_COMPILER_SENSITIVITY_H

#include "mlir/IR/BuiltinOps.h"
#include "shears-c/Runtime.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::shears {

struct SensitivityCurve {
  /// The layer's ONNX node name.
  std::string name;
  /// Weight elements, and multiply-accumulates per sample.
  int64_t parameters = 0, macs = 0;
  /// Per sparsity (ascending, 0 first): the relative error of the model's
  /// first output against the dense model's, sum (y - y0)^2 / sum y0^2, and
  /// with labels the accuracy.
  std::vector<double> sparsities, error, accuracy;
  /// Per sparsity: the weights (and their multiply-accumulates per sample)
  /// the whole model loses, zeros counted in every layer: pruning a
  /// channel empties the inputs of the layers that read it, and the
  /// classifier's output channels cannot go at all.
  std::vector<double> removedParams, removedMacs;
  /// Per sparsity, where latency was measured: the median milliseconds of
  /// the model as shears prune writes it (dead channels removed) and shears
  /// run compiles it (sparse kernels where timing says they pay), one batch.
  std::vector<double> latencyMs;
  /// Layers coupled in a channel group (pruning each leaves the same zeros)
  /// are pruned together: on every one of them the name of the group's
  /// first layer; empty for a layer alone.
  std::string group;
};

/// How measureSensitivity times the models: `batch` samples a run (0: not
/// timed), the median of `runs` runs after a few to warm up, on `threads`
/// threads (0: the kernels' setting).
struct LatencyOptions {
  int64_t batch = 0;
  int64_t runs = 50;
  int threads = 0;
};

struct SensitivityReport {
  /// The insert-masks options the layers were pruned with.
  std::string options;
  std::optional<double> denseAccuracy;
  /// Where latency was measured: the dense model's, and the batch.
  std::optional<double> denseLatencyMs;
  int64_t latencyBatch = 0;
  std::vector<SensitivityCurve> layers;
};

/// Prunes each layer of `module` (not changed) alone at each of
/// `sparsities` with shears-insert-masks{`options`} and fold-masks, and runs
/// it on `samples` (one tensor per model input, first axis the samples)
/// `batch` at a time; `labels` (int32 or int64 [samples], may be null) are
/// the classes of the first output's rows. `progress(done, total)` counts
/// the models run. With `latency.batch`, each model (the dense one too) is
/// also timed on the first `latency.batch` samples, as it would run once
/// pruned and compiled.
FailureOr<SensitivityReport>
measureSensitivity(ModuleOp module, ArrayRef<const ShearsTensor *> samples,
                   const ShearsTensor *labels, ArrayRef<double> sparsities,
                   llvm::StringRef options, int64_t batch,
                   const LatencyOptions &latency, std::string &error,
                   llvm::function_ref<void(int64_t, int64_t)> progress = {});

/// The report as JSON: {"options", "dense_accuracy", "dense_latency_ms",
/// "latency_batch", "layers": [{"name", "parameters", "macs", "sparsities",
/// "error", "accuracy", "removed_params", "removed_macs", "latency_ms",
/// "group"}]} (accuracy and the latencies where measured, the group where
/// a layer has one).
void printSensitivityJSON(const SensitivityReport &report,
                          llvm::raw_ostream &os);

/// Reads what printSensitivityJSON writes.
FailureOr<SensitivityReport> parseSensitivityJSON(llvm::StringRef text,
                                                  std::string &error);

/// What a budget counts: the layers' parameters, their MACs, or the
/// model's measured latency.
enum class BudgetKind { Params, Macs, Latency };

/// Reads `params=F`, `macs=F` or `latency=F` (F not range-checked here);
/// failure with `error` set otherwise ("must be ...", for the caller to
/// name what).
LogicalResult parseBudget(llvm::StringRef text, BudgetKind &kind, double &keep,
                          std::string &error);

/// Per-layer sparsities that keep `keep` (in (0, 1]) of the layers'
/// parameters (or MACs, or of the model's latency where the report has it)
/// and lose the least by the curves: the accuracy lost where the report has
/// labels, else the output error. Greedy on the curves' segments (linear
/// between the measured sparsities): the segment that loses the least per
/// weight (MAC, millisecond) it removes goes first, the last one in part, so
/// that the budget is met; a layer can go up to the largest sparsity
/// measured. A segment that removes nothing ends its layer's curve, except
/// for latency, which can stay flat and then fall (a sparse kernel that pays
/// only from some sparsity on): there a layer's next step is the segment to
/// whichever later point loses the least per millisecond, and the time a
/// point removes is the most any sparsity up to it removes (timing noise
/// aside, a sparser layer is no slower), nothing where no weight went. What
/// layers remove is counted as
/// if they were independent, except that the layers of a group (coupled
/// in one channel group: they remove the same channels) count once and
/// get the same sparsity. Fails, saying why in `error`, when the budget
/// cannot be met.
FailureOr<std::vector<std::pair<std::string, double>>>
allocateSparsities(const SensitivityReport &report, BudgetKind kind,
                   double keep, std::string &error);

} // namespace mlir::shears

#endif // SHEARS_COMPILER_SENSITIVITY_H
