//===- Report.h - Per-layer parameters, sparsity and MACs -------*- C++ -*-===//
//
// What `shears-report`, `shears-summary` and `shears report` print: for every
// op with a weight (PrunableOpInterface), its size, how much of it is zero
// and what it costs to run, and the totals of the model.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_TRANSFORMS_REPORT_H
#define SHEARS_TRANSFORMS_REPORT_H

#include "mlir/IR/Operation.h"
#include "shears/Dialect/Shears/IR/ShearsInterfaces.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::shears {

struct LayerReport {
  /// The ONNX node name (the op's NameLoc), else the op name.
  std::string name;
  /// The op name, e.g. `shears.linear`.
  std::string op;
  llvm::SmallVector<int64_t> weightShape;
  /// Weight and bias elements.
  int64_t parameters = 0;
  /// Non-zero weight and bias elements. Only constants are counted: a weight
  /// or bias that is not one (e.g. still behind shears.mask) counts as dense.
  int64_t nonzeroParameters = 0;
  /// Multiply-accumulates per batch element (dense, zeros included).
  int64_t macsPerSample = 0;
  /// Output and input channels of the layer; -1 when it has none or they
  /// are not static.
  int64_t outputChannels = -1;
  int64_t inputChannels = -1;
  /// How the CPU backend may store the weight: "sparse" for a linear layer
  /// whose constant weight is at most SHEARS_UK_SPGEMM_TIMED_MAX_DENSITY
  /// non-zero (shears run/compile time spgemm against gemm on it and keep
  /// the faster; --explain-sparse tells which), else "dense".
  std::string format = "dense";
  /// spgemm's time over gemm's at each batch timed (SparseChoice.h), when
  /// the caller timed the layer (shears report --time-sparse); the format
  /// is then the kernel that timing picks, "spgemm" or "dense".
  std::vector<std::pair<int64_t, double>> spgemmOverGemm;
  /// With that timing: the picked kernel's milliseconds a call at each
  /// batch, timed on the layer alone (what the choice predicts).
  std::vector<std::pair<int64_t, double>> predictedMs;
  /// When the caller ran the model (shears report --measure): the kernels
  /// of the layer's call sites, milliseconds a run at each batch (median
  /// over the runs), and which kernel ran (its profile label's first word).
  std::vector<std::pair<int64_t, double>> measuredMs;
  std::string measuredKernel;
  /// The layer's op, while the module lives.
  Operation *operation = nullptr;

  double sparsity() const;
};

struct ModelReport {
  std::vector<LayerReport> layers;
  /// Shears ops (constants aside) by name without the dialect, in first-seen
  /// order.
  std::vector<std::pair<std::string, int64_t>> opCounts;
  int64_t parameters = 0;
  int64_t nonzeroParameters = 0;
  int64_t macsPerSample = 0;
  /// Size of the model's ONNX file, when the caller knows it.
  std::optional<int64_t> onnxBytes;
  /// The fewest runs at a batch that the measured times are the medians of
  /// (0: not measured), and the kernels' threads then (0: every CPU).
  int64_t measuredRuns = 0;
  int64_t measuredThreads = 0;

  double sparsity() const;
};

/// Multiply-accumulates per batch element of `op`: weight elements times
/// the number of output positions each is applied at (0 for a gather).
int64_t getMacsPerSample(PrunableOpInterface op);

/// Collects the report of every prunable op nested in `root`, in IR order.
ModelReport collectModelReport(Operation *root);

/// Writes the report as a table: one row per layer, then the totals and the
/// op counts.
void printModelReport(const ModelReport &report, llvm::raw_ostream &os);

/// Writes the report as JSON: {"layers": [{"name", "op", "weight_shape",
/// "parameters", "nonzero_parameters", "sparsity", "macs_per_sample",
/// "output_channels", "input_channels"}...], "ops": {name: count},
/// "totals": {"layers", "parameters", "nonzero_parameters", "sparsity",
/// "macs_per_sample", "onnx_bytes"}}. Unknown channels and sizes are null.
void printModelReportJSON(const ModelReport &report, llvm::raw_ostream &os);

/// A layer whose weight is quantized (a shears.dequantize of constants,
/// maybe reshaped and sliced): its name, the weight's format (int8, int4 or
/// binary, from the range of its integers), its scales, the bytes of the
/// weight at that width plus its f32 scales, and how its input is
/// quantized (the ui8 scale and zero point, dynamic, or f32).
struct QuantizedLayer {
  std::string name, format, input;
  int64_t scales = 0, bytes = 0;
};

/// The quantized layers among the prunable ops nested in `root`, in order.
std::vector<QuantizedLayer> collectQuantizedLayers(Operation *root);

/// Writes collectQuantizedLayers(root) as a table with the total bytes;
/// nothing when no layer is quantized.
void printQuantizationReport(Operation *root, llvm::raw_ostream &os);

} // namespace mlir::shears

#endif // SHEARS_TRANSFORMS_REPORT_H
