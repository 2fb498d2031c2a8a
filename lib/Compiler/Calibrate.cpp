//===- Calibrate.cpp - Activation statistics through the JIT -------------===//
//
// The activation-aware criterion (Wanda) scores a weight by |w| times the L2
// norm of the input channel it reads. Those norms come from running the
// model: a copy of it returns, next to its own outputs, the input of every
// layer that pruning scores; the copy is JIT-compiled and run over the
// calibration samples batch by batch, and the squares are summed per
// channel.
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Calibrate.h"

#include "shears/Compiler/Compiler.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "shears/Support/Finite.h"

#include "llvm/ADT/StringSet.h"

#include <Eigen/Core>

#include <cmath>

using namespace mlir;
using namespace mlir::shears;

namespace {

/// A layer whose input is measured: its name, the dim of its input that
/// holds the channels its weight's dim 1 reads, and for an ungrouped
/// convolution its window (to cut the input into the patches it reads).
struct Window {
  int64_t kernel[2], strides[2], pads[4], dilations[2];
};
struct Probe {
  std::string name;
  int64_t channelDim;
  std::optional<Window> window;
  /// A linear layer or an ungrouped convolution: what has a Gram matrix.
  bool factorable;
};

/// A copy of a model that returns, next to its own outputs, the input of
/// every layer that pruning scores (a constant [out, in, ...] weight), named
/// by its ONNX node; JIT-compiled, run over calibration samples batch by
/// batch.
class ProbedModel {
public:
  /// Fails, saying why in `error`, on a bad `batch` (the samples a run will
  /// take) or a model that does not compile.
  LogicalResult compile(ModuleOp module, int64_t batch, std::string &error);

  /// Runs every batch of `samples` and calls `visit(probe, tensor)` with the
  /// input of each probed layer; `progress(done, total)` after each batch.
  LogicalResult
  run(ArrayRef<const ShearsTensor *> samples, int64_t batch,
      std::string &error,
      llvm::function_ref<void(size_t, const ShearsTensor *)> visit,
      llvm::function_ref<void(int64_t, int64_t)> progress);

  std::vector<Probe> probes;

private:
  ModelPtr model;
  unsigned numOutputs = 0;
};

} // namespace

LogicalResult ProbedModel::compile(ModuleOp module, int64_t batch,
                                   std::string &error) {
  if (batch < 1) {
    error = "the calibration batch must be positive";
    return failure();
  }
  OwningOpRef<ModuleOp> copy = module.clone();
  // The layers as shears-prune scores them: after batch_norm is folded.
  PassManager canonicalize(module.getContext());
  canonicalize.addPass(createCanonicalizerPass());
  if (failed(canonicalize.run(*copy))) {
    error = "cannot canonicalize the model";
    return failure();
  }
  func::FuncOp entry = lookupEntryFunction(*copy);
  if (!entry || entry.isDeclaration()) {
    error = "no entry function: expected `main` or a single public function";
    return failure();
  }

  SmallVector<Value> probed;
  llvm::StringSet<> seen;
  entry.walk([&](PrunableOpInterface op) {
    StringRef name = getLayerName(op);
    Value input = op.getPrunedInput();
    if (name.empty() || !input || op.getInputChannelDim() < 0 ||
        failed(getScoredWeights(op)) || !seen.insert(name).second)
      return;
    std::optional<Window> window;
    if (auto conv = dyn_cast<Conv2DOp>(op.getOperation());
        conv && conv.getGroups() == 1) {
      auto filter = cast<RankedTensorType>(conv.getWeight().getType());
      window.emplace();
      llvm::copy(filter.getShape().drop_front(2), window->kernel);
      llvm::copy(conv.getStrides(), window->strides);
      llvm::copy(conv.getPads(), window->pads);
      llvm::copy(conv.getDilations(), window->dilations);
    }
    probes.push_back({name.str(), op.getInputChannelDim(), window,
                      window || isa<LinearOp>(op)});
    probed.push_back(input);
  });
  if (probes.empty()) {
    error = "the model has no layer with constant weights to calibrate";
    return failure();
  }
  auto ret = cast<func::ReturnOp>(entry.getBody().back().getTerminator());
  numOutputs = ret.getNumOperands();
  for (auto [i, value] : llvm::enumerate(probed))
    if (failed(entry.insertResult(numOutputs + i, value.getType(),
                                  DictionaryAttr()))) {
      error = "cannot add the layers' inputs to the model's results";
      return failure();
    }
  ret->insertOperands(numOutputs, probed);

  if (failed(lowerToLLVM(*copy))) {
    error = "cannot compile the model to measure its activations";
    return failure();
  }
  model.reset(jitCompile(*copy, error));
  return success(model != nullptr);
}

LogicalResult mlir::shears::runInBatches(
    ShearsModel *model, ArrayRef<const ShearsTensor *> samples, int64_t batch,
    std::string &error,
    llvm::function_ref<void(int64_t, ArrayRef<TensorPtr>)> visit,
    llvm::function_ref<void(int64_t, int64_t)> progress) {
  if (batch < 1) {
    error = "the batch must be positive";
    return failure();
  }
  if (samples.size() != shearsModelNumInputs(model)) {
    error = "the model has " + std::to_string(shearsModelNumInputs(model)) +
            " inputs, " + std::to_string(samples.size()) + " given";
    return failure();
  }
  int64_t total = -1;
  for (const ShearsTensor *t : samples) {
    if (shearsTensorRank(t) < 1) {
      error = "calibration inputs need a first axis of samples";
      return failure();
    }
    int64_t count = shearsTensorShape(t)[0];
    if (total >= 0 && count != total) {
      error = "calibration inputs hold different numbers of samples (" +
              std::to_string(total) + " and " + std::to_string(count) + ")";
      return failure();
    }
    total = count;
  }
  for (int64_t begin = 0; begin < total; begin += batch) {
    int64_t size = std::min(batch, total - begin);
    // Views of this batch's samples, without a copy.
    std::vector<TensorPtr> views;
    std::vector<const ShearsTensor *> inputs;
    for (const ShearsTensor *t : samples) {
      SmallVector<int64_t> shape(shearsTensorShape(t),
                                 shearsTensorShape(t) + shearsTensorRank(t));
      size_t rowBytes =
          shearsTensorSizeInBytes(t) / std::max<int64_t>(total, 1);
      shape[0] = size;
      char *message = nullptr;
      views.emplace_back(shearsTensorWrap(
          shearsTensorDType(t), shape.size(), shape.data(),
          static_cast<char *>(shearsTensorData(t)) + begin * rowBytes,
          &message));
      if (!views.back()) {
        error = takeRuntimeMessage(message);
        return failure();
      }
      inputs.push_back(views.back().get());
    }
    size_t numResults = shearsModelNumOutputs(model);
    std::vector<ShearsTensor *> raw(numResults, nullptr);
    char *message = nullptr;
    if (shearsModelRun(model, inputs.data(), inputs.size(), raw.data(),
                       &message) != 0) {
      error = takeRuntimeMessage(message);
      return failure();
    }
    std::vector<TensorPtr> outputs(raw.begin(), raw.end());
    visit(begin, outputs);
    if (progress)
      progress(begin + size, total);
  }
  return success();
}

LogicalResult
ProbedModel::run(ArrayRef<const ShearsTensor *> samples, int64_t batch,
                 std::string &error,
                 llvm::function_ref<void(size_t, const ShearsTensor *)> visit,
                 llvm::function_ref<void(int64_t, int64_t)> progress) {
  return runInBatches(
      model.get(), samples, batch, error,
      [&](int64_t, ArrayRef<TensorPtr> outputs) {
        for (size_t i = 0; i < probes.size(); ++i)
          visit(i, outputs[numOutputs + i].get());
      },
      progress);
}

static ArrayRef<float> floats(const ShearsTensor *t) {
  return {static_cast<const float *>(shearsTensorData(t)),
          shearsTensorNumElements(t)};
}

FailureOr<std::vector<std::pair<std::string, NpzArray>>>
mlir::shears::measureInputNorms(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples, int64_t batch,
    std::string &error, llvm::function_ref<void(int64_t, int64_t)> progress) {
  ProbedModel model;
  if (failed(model.compile(module, batch, error)))
    return failure();
  std::vector<std::vector<double>> sums(model.probes.size());
  auto visit = [&](size_t i, const ShearsTensor *t) {
    const int64_t *shape = shearsTensorShape(t);
    int64_t rank = shearsTensorRank(t), dim = model.probes[i].channelDim;
    int64_t channels = shape[dim], inner = 1;
    for (int64_t d = dim + 1; d < rank; ++d)
      inner *= shape[d];
    sums[i].resize(channels, 0.0);
    ArrayRef<float> data = floats(t);
    for (size_t e = 0; e < data.size(); ++e)
      sums[i][e / inner % channels] += double(data[e]) * data[e];
  };
  if (failed(model.run(samples, batch, error, visit, progress)))
    return failure();

  std::vector<std::pair<std::string, NpzArray>> norms;
  for (auto [probe, probeSums] : llvm::zip(model.probes, sums)) {
    NpzArray array;
    array.shape = {static_cast<int64_t>(probeSums.size())};
    for (double s : probeSums)
      array.values.push_back(static_cast<float>(std::sqrt(s)));
    norms.emplace_back(probe.name, std::move(array));
  }
  return norms;
}

FailureOr<std::vector<std::pair<std::string, NpzArray>>>
mlir::shears::measureActivationRanges(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples, int64_t batch,
    std::string &error, llvm::function_ref<void(int64_t, int64_t)> progress) {
  ProbedModel model;
  if (failed(model.compile(module, batch, error)))
    return failure();
  // Two runs: the range first, then the histogram over [-A, A] with A the
  // largest magnitude, so that the bins are exact (not merged as ranges
  // grow) and fold into a histogram of |x|.
  size_t numProbes = model.probes.size();
  std::vector<float> lo(numProbes, INFINITY), hi(numProbes, -INFINITY);
  std::optional<size_t> nonFinite; // A layer whose input is NaN or infinite.
  auto ranges = [&](size_t i, const ShearsTensor *t) {
    for (float v : floats(t)) {
      if (!std::isfinite(v))
        nonFinite = i;
      lo[i] = std::min(lo[i], v);
      hi[i] = std::max(hi[i], v);
    }
  };
  // Progress in samples: each run is half of the work.
  auto half = [&](int64_t offset) {
    return [&, offset](int64_t done, int64_t total) {
      if (progress)
        progress((offset * total + done) / 2, total);
    };
  };
  if (failed(model.run(samples, batch, error, ranges, half(0))))
    return failure();
  if (nonFinite) {
    error = "the input of layer '" + model.probes[*nonFinite].name +
            "' is not finite (NaN or infinity) on these samples";
    return failure();
  }
  std::vector<std::vector<double>> counts(
      numProbes, std::vector<double>(kHistogramBins, 0.0));
  auto histograms = [&](size_t i, const ShearsTensor *t) {
    double limit = std::max(std::fabs(lo[i]), std::fabs(hi[i]));
    if (!(limit > 0)) {
      counts[i][kHistogramBins / 2] += floats(t).size();
      return;
    }
    double perBin = kHistogramBins / (2 * limit);
    for (float v : floats(t)) {
      auto bin = static_cast<int64_t>((v + limit) * perBin);
      ++counts[i][std::clamp<int64_t>(bin, 0, kHistogramBins - 1)];
    }
  };
  if (failed(model.run(samples, batch, error, histograms, half(1))))
    return failure();

  std::vector<std::pair<std::string, NpzArray>> stats;
  for (size_t i = 0; i < numProbes; ++i) {
    const std::string &name = model.probes[i].name;
    NpzArray range{{2}, {lo[i], hi[i]}};
    NpzArray histogram{{kHistogramBins},
                       std::vector<float>(counts[i].begin(), counts[i].end())};
    stats.emplace_back(name + ".range", std::move(range));
    stats.emplace_back(name + ".histogram", std::move(histogram));
  }
  return stats;
}

namespace {

/// The mean of x x^T and of x over the vectors a layer multiplies by its
/// weight's rows: the last dim of a linear layer's input, the im2col
/// patches of a convolution's. Patches are cut a block of rows at a time
/// and multiplied in f32; the blocks' products add up in f64.
class GramAccumulator {
public:
  void add(const Probe &probe, const ShearsTensor *t) {
    const int64_t *shape = shearsTensorShape(t);
    int64_t rank = shearsTensorRank(t);
    const float *data = static_cast<const float *>(shearsTensorData(t));
    if (!probe.window) {
      int64_t features = shape[rank - 1];
      int64_t rows =
          shearsTensorNumElements(t) / std::max<int64_t>(features, 1);
      resize(features);
      for (int64_t begin = 0; begin < rows; begin += kBlockRows) {
        int64_t count = std::min(kBlockRows, rows - begin);
        accumulate(RowMatrix::Map(data + begin * features, count, features));
      }
      return;
    }
    const Window &w = *probe.window;
    int64_t n = shape[0], c = shape[1], h = shape[2], wd = shape[3];
    int64_t kh = w.kernel[0], kw = w.kernel[1];
    int64_t oh = (h + w.pads[0] + w.pads[2] - w.dilations[0] * (kh - 1) - 1) /
                     w.strides[0] +
                 1;
    int64_t ow = (wd + w.pads[1] + w.pads[3] - w.dilations[1] * (kw - 1) - 1) /
                     w.strides[1] +
                 1;
    int64_t features = c * kh * kw;
    resize(features);
    RowMatrix block(kBlockRows, features);
    int64_t filled = 0;
    for (int64_t img = 0; img < n; ++img)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          float *row = block.row(filled).data();
          for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t iy = y * w.strides[0] - w.pads[0] + i * w.dilations[0];
                int64_t ix = x * w.strides[1] - w.pads[1] + j * w.dilations[1];
                bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                *row++ = inside ? data[((img * c + ch) * h + iy) * wd + ix] : 0;
              }
          if (++filled == kBlockRows) {
            accumulate(block);
            filled = 0;
          }
        }
    if (filled)
      accumulate(block.topRows(filled));
  }

  /// E[x x^T] ([d, d]) and E[x] ([d]).
  std::pair<NpzArray, NpzArray> take() {
    int64_t d = gram.rows();
    double scale = count ? 1.0 / double(count) : 0.0;
    NpzArray second{{d, d}, std::vector<float>(d * d)};
    NpzArray mean{{d}, std::vector<float>(d)};
    Eigen::MatrixXd full = gram.selfadjointView<Eigen::Lower>();
    for (int64_t i = 0; i < d; ++i) {
      mean.values[i] = float(sum[i] * scale);
      for (int64_t j = 0; j < d; ++j)
        second.values[i * d + j] = float(full(i, j) * scale);
    }
    return {std::move(second), std::move(mean)};
  }

private:
  using RowMatrix =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  static constexpr int64_t kBlockRows = 4096;

  void resize(int64_t features) {
    if (gram.rows() != features) {
      gram = Eigen::MatrixXd::Zero(features, features);
      sum = Eigen::VectorXd::Zero(features);
    }
  }
  template <typename Block> void accumulate(const Block &rows) {
    Eigen::MatrixXf product = Eigen::MatrixXf::Zero(rows.cols(), rows.cols());
    product.selfadjointView<Eigen::Lower>().rankUpdate(rows.transpose());
    gram.triangularView<Eigen::Lower>() += product.cast<double>();
    sum += rows.colwise().sum().transpose().template cast<double>();
    count += rows.rows();
  }

  Eigen::MatrixXd gram;
  Eigen::VectorXd sum;
  int64_t count = 0;
};

} // namespace

FailureOr<std::vector<std::pair<std::string, NpzArray>>>
mlir::shears::measureInputGrams(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples, int64_t batch,
    std::string &error, llvm::function_ref<void(int64_t, int64_t)> progress) {
  ProbedModel model;
  if (failed(model.compile(module, batch, error)))
    return failure();
  std::vector<GramAccumulator> grams(model.probes.size());
  std::optional<size_t> nonFinite;
  auto visit = [&](size_t i, const ShearsTensor *t) {
    if (!model.probes[i].factorable)
      return;
    if (!describeNonFinite(floats(t)).empty())
      nonFinite = i;
    else
      grams[i].add(model.probes[i], t);
  };
  if (failed(model.run(samples, batch, error, visit, progress)))
    return failure();
  if (nonFinite) {
    error = "the input of layer '" + model.probes[*nonFinite].name +
            "' is not finite (NaN or infinity) on these samples";
    return failure();
  }
  std::vector<std::pair<std::string, NpzArray>> result;
  for (auto [probe, gram] : llvm::zip(model.probes, grams)) {
    if (!probe.factorable)
      continue;
    auto [second, mean] = gram.take();
    result.emplace_back(probe.name + ".gram", std::move(second));
    result.emplace_back(probe.name + ".mean", std::move(mean));
  }
  return result;
}
