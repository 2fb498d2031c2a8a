//===- Sensitivity.cpp - Per-layer pruning sensitivity and allocation -----===//

#include "shears/Compiler/Sensitivity.h"

#include "shears/Compiler/Calibrate.h"
#include "shears/Compiler/Compiler.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Numbers.h"
#include "shears/Transforms/Passes.h"
#include "shears/Transforms/Report.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::shears;

namespace {

/// The first output of a model over all samples, and its accuracy against
/// `labels` where given.
struct Outputs {
  std::vector<float> values;
  int64_t classes = 0;
  std::optional<double> accuracy;
};

FailureOr<Outputs> runModel(ModuleOp module,
                            ArrayRef<const ShearsTensor *> samples,
                            const ShearsTensor *labels, int64_t batch,
                            std::string &error) {
  OwningOpRef<ModuleOp> copy = module.clone();
  if (failed(lowerToLLVM(*copy))) {
    error = "cannot compile the model";
    return failure();
  }
  ModelPtr model(jitCompile(*copy, error));
  if (!model)
    return failure();
  Outputs result;
  int64_t correct = 0, total = 0;
  LogicalResult ran = runInBatches(
      model.get(), samples, batch, error,
      [&](int64_t first, ArrayRef<TensorPtr> outputs) {
        const ShearsTensor *y = outputs[0].get();
        if (shearsTensorDType(y) != SHEARS_DTYPE_F32 || shearsTensorRank(y) < 1)
          return;
        int64_t rows = shearsTensorShape(y)[0];
        int64_t count = shearsTensorNumElements(y);
        result.classes = rows ? count / rows : 0;
        auto *data = static_cast<const float *>(shearsTensorData(y));
        result.values.insert(result.values.end(), data, data + count);
        if (!labels)
          return;
        for (int64_t r = 0; r < rows; ++r) {
          const float *row = data + r * result.classes;
          int64_t predicted = std::max_element(row, row + result.classes) - row;
          int64_t label = shearsTensorDType(labels) == SHEARS_DTYPE_I64
                              ? static_cast<const int64_t *>(
                                    shearsTensorData(labels))[first + r]
                              : static_cast<const int32_t *>(
                                    shearsTensorData(labels))[first + r];
          correct += predicted == label;
          ++total;
        }
      });
  if (failed(ran))
    return failure();
  if (result.values.empty()) {
    error = "the model's first output is not an f32 tensor with a first "
            "axis of samples";
    return failure();
  }
  if (labels)
    result.accuracy = total ? double(correct) / double(total) : 0.0;
  return result;
}

/// A model as shears prune writes it (dead channels removed) and shears run
/// compiles it (sparse kernels where timing says they pay), ready to time
/// on the first `latency.batch` samples.
class TimedModel {
public:
  static FailureOr<TimedModel> compile(ModuleOp module,
                                       ArrayRef<const ShearsTensor *> samples,
                                       const LatencyOptions &latency,
                                       std::string &error) {
    OwningOpRef<ModuleOp> copy = module.clone();
    PassManager pm(module.getContext());
    pm.addPass(createShearsEliminateDeadNeurons());
    pm.addPass(createCanonicalizerPass());
    if (failed(pm.run(*copy)) ||
        failed(lowerToLLVM(*copy, "", false, SparseKernelOptions::timed()))) {
      error = "cannot compile the model to time it";
      return failure();
    }
    TimedModel timed;
    timed.model.reset(jitCompile(*copy, error));
    if (!timed.model)
      return failure();
    char *message = nullptr;
    if (latency.threads > 0 &&
        shearsModelSetThreads(timed.model.get(), latency.threads, &message)) {
      error = takeRuntimeMessage(message);
      return failure();
    }
    // Views of the first samples, without a copy.
    for (const ShearsTensor *t : samples) {
      int64_t count = shearsTensorShape(t)[0];
      if (count < latency.batch) {
        error = llvm::formatv("timing a batch of {0} needs as many samples, "
                              "{1} given",
                              latency.batch, count);
        return failure();
      }
      SmallVector<int64_t> shape(shearsTensorShape(t),
                                 shearsTensorShape(t) + shearsTensorRank(t));
      shape[0] = latency.batch;
      timed.views.emplace_back(shearsTensorWrap(shearsTensorDType(t),
                                                shape.size(), shape.data(),
                                                shearsTensorData(t), &message));
      if (!timed.views.back()) {
        error = takeRuntimeMessage(message);
        return failure();
      }
      timed.inputs.push_back(timed.views.back().get());
    }
    return timed;
  }

  /// Milliseconds of one run.
  FailureOr<double> run(std::string &error) {
    std::vector<ShearsTensor *> outputs(shearsModelNumOutputs(model.get()));
    char *message = nullptr;
    auto start = std::chrono::steady_clock::now();
    int status = shearsModelRun(model.get(), inputs.data(), inputs.size(),
                                outputs.data(), &message);
    auto stop = std::chrono::steady_clock::now();
    for (ShearsTensor *t : outputs)
      shearsTensorFree(t);
    if (status != 0) {
      error = takeRuntimeMessage(message);
      return failure();
    }
    return std::chrono::duration<double, std::milli>(stop - start).count();
  }

private:
  ModelPtr model;
  std::vector<TensorPtr> views;
  std::vector<const ShearsTensor *> inputs;
};

/// The median milliseconds of `runs` runs of each of `models` (after a few
/// to warm up), their runs taking turns so that what slows the machine
/// meanwhile slows all of them.
FailureOr<std::vector<double>> timeTogether(ArrayRef<TimedModel *> models,
                                            int64_t runs, std::string &error) {
  constexpr int kWarmUp = 3;
  std::vector<std::vector<double>> ms(models.size());
  for (int64_t i = 0; i < kWarmUp + runs; ++i)
    for (size_t m = 0; m < models.size(); ++m) {
      FailureOr<double> t = models[m]->run(error);
      if (failed(t))
        return failure();
      if (i >= kWarmUp)
        ms[m].push_back(*t);
    }
  std::vector<double> medians;
  for (std::vector<double> &values : ms)
    medians.push_back(median(std::move(values)));
  return medians;
}

/// The zero weights in the layers of `module`: how many, their
/// multiply-accumulates, and a hash of where they are.
struct Zeros {
  double count = 0, macs = 0;
  llvm::hash_code where = llvm::hash_value(0);
};

Zeros findZeros(ModuleOp module) {
  Zeros result;
  module.walk([&](PrunableOpInterface op) {
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    if (failed(weights) || weights->empty())
      return;
    double count = 0;
    for (auto [i, w] : llvm::enumerate(*weights))
      if (w == 0) {
        ++count;
        result.where = llvm::hash_combine(result.where, i);
      }
    result.where = llvm::hash_combine(result.where, weights->size());
    result.count += count;
    result.macs +=
        count * double(getMacsPerSample(op)) / double(weights->size());
  });
  return result;
}

} // namespace

FailureOr<SensitivityReport> mlir::shears::measureSensitivity(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples,
    const ShearsTensor *labels, ArrayRef<double> sparsities,
    llvm::StringRef options, int64_t batch, const LatencyOptions &latency,
    std::string &error, llvm::function_ref<void(int64_t, int64_t)> progress) {
  if (latency.batch < 0 || (latency.batch > 0 && latency.runs < 1)) {
    error = "timing needs a batch of at least 1 and at least one run";
    return failure();
  }
  for (double s : sparsities)
    if (!(s > 0 && s < 1)) {
      error = "sparsities must be in (0, 1), got " + std::to_string(s);
      return failure();
    }
  if (labels) {
    if (shearsTensorRank(labels) != 1 ||
        (shearsTensorDType(labels) != SHEARS_DTYPE_I64 &&
         shearsTensorDType(labels) != SHEARS_DTYPE_I32)) {
      error = "labels must be a 1-D array of int32 or int64 classes";
      return failure();
    }
    if (samples.empty() || shearsTensorRank(samples[0]) < 1 ||
        shearsTensorShape(labels)[0] != shearsTensorShape(samples[0])[0]) {
      error = "there must be one label per sample";
      return failure();
    }
  }
  // The layers as pruning sees them: batch norms folded.
  OwningOpRef<ModuleOp> dense = module.clone();
  PassManager canonicalize(module.getContext());
  canonicalize.addPass(createCanonicalizerPass());
  if (failed(canonicalize.run(*dense))) {
    error = "cannot canonicalize the model";
    return failure();
  }
  SensitivityReport report;
  report.options = options.str();
  dense->walk([&](PrunableOpInterface op) {
    StringRef name = getLayerName(op);
    if (name.empty() || failed(getScoredWeights(op)))
      return;
    SensitivityCurve curve;
    curve.name = name.str();
    curve.parameters =
        cast<ShapedType>(op.getWeight().getType()).getNumElements();
    curve.macs = getMacsPerSample(op);
    report.layers.push_back(std::move(curve));
  });
  if (report.layers.empty()) {
    error = "the model has no layer with constant weights to prune";
    return failure();
  }
  SmallVector<double> grid(sparsities.begin(), sparsities.end());
  llvm::sort(grid);
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());

  int64_t runs = 1 + int64_t(report.layers.size() * grid.size()), done = 0;
  FailureOr<Outputs> reference =
      runModel(*dense, samples, labels, batch, error);
  if (failed(reference))
    return failure();
  report.denseAccuracy = reference->accuracy;
  // Each pruned model is timed in turns with the dense one, and its time
  // scaled by what the dense one took then against denseLatencyMs.
  bool timed = latency.batch > 0;
  std::optional<TimedModel> denseTimed;
  if (timed) {
    FailureOr<TimedModel> compiled =
        TimedModel::compile(*dense, samples, latency, error);
    if (failed(compiled))
      return failure();
    denseTimed.emplace(std::move(*compiled));
    FailureOr<std::vector<double>> ms =
        timeTogether({&*denseTimed}, latency.runs, error);
    if (failed(ms))
      return failure();
    report.denseLatencyMs = ms->front();
    report.latencyBatch = latency.batch;
  }
  if (progress)
    progress(++done, runs);
  double norm = 0;
  for (float v : reference->values)
    norm += double(v) * v;
  Zeros denseZeros = findZeros(*dense);
  // Per layer, where its prunings leave zeros: layers coupled in a channel
  // group leave them in the same places.
  std::vector<llvm::hash_code> pattern(report.layers.size(),
                                       llvm::hash_value(0));

  for (SensitivityCurve &curve : report.layers) {
    curve.sparsities.push_back(0);
    curve.error.push_back(0);
    curve.removedParams.push_back(0);
    curve.removedMacs.push_back(0);
    if (labels)
      curve.accuracy.push_back(*reference->accuracy);
    if (timed)
      curve.latencyMs.push_back(*report.denseLatencyMs);
    for (double s : grid) {
      OwningOpRef<ModuleOp> pruned = dense->clone();
      char value[32];
      std::snprintf(value, sizeof(value), "%g", s);
      std::string text = (options + " sparsity=0 layer-sparsity=\"^" +
                          llvm::Regex::escape(curve.name) + "$=" + value + "\"")
                             .str();
      std::unique_ptr<Pass> insertMasks = createShearsInsertMasks();
      if (failed(insertMasks->initializeOptions(
              text, [&](const llvm::Twine &message) {
                error = "bad pruning options '" + options.str() +
                        "': " + message.str();
                return failure();
              }))) {
        if (error.empty())
          error = "bad pruning options '" + options.str() + "'";
        return failure();
      }
      PassManager pm(module.getContext());
      pm.addPass(std::move(insertMasks));
      pm.addPass(createShearsFoldMasks());
      if (failed(pm.run(*pruned))) {
        error = "pruning layer '" + curve.name + "' failed";
        return failure();
      }
      FailureOr<Outputs> outputs =
          runModel(*pruned, samples, labels, batch, error);
      if (failed(outputs))
        return failure();
      double diff = 0;
      for (auto [a, b] : llvm::zip(outputs->values, reference->values))
        diff += (double(a) - b) * (double(a) - b);
      curve.sparsities.push_back(s);
      curve.error.push_back(norm > 0 ? diff / norm : diff);
      Zeros zeros = findZeros(*pruned);
      curve.removedParams.push_back(zeros.count - denseZeros.count);
      curve.removedMacs.push_back(zeros.macs - denseZeros.macs);
      size_t index = &curve - report.layers.data();
      pattern[index] = llvm::hash_combine(pattern[index], zeros.where);
      if (labels)
        curve.accuracy.push_back(*outputs->accuracy);
      if (timed) {
        FailureOr<TimedModel> compiled =
            TimedModel::compile(*pruned, samples, latency, error);
        if (failed(compiled))
          return failure();
        FailureOr<std::vector<double>> ms =
            timeTogether({&*compiled, &*denseTimed}, latency.runs, error);
        if (failed(ms))
          return failure();
        curve.latencyMs.push_back(*report.denseLatencyMs * (*ms)[0] / (*ms)[1]);
      }
      if (progress)
        progress(++done, runs);
    }
  }
  // A group of coupled layers is named after its first (not the layers
  // whose pruning removes nothing: the same model each time).
  for (size_t l = 0; l < report.layers.size(); ++l) {
    auto removes = [&](size_t k) {
      return llvm::any_of(report.layers[k].removedParams,
                          [](double r) { return r > 0; });
    };
    if (!removes(l))
      continue;
    for (size_t k = 0; k < report.layers.size(); ++k)
      if (k != l && removes(k) && pattern[k] == pattern[l]) {
        report.layers[l].group = report.layers[std::min(k, l)].name;
        break;
      }
  }
  return report;
}

void mlir::shears::printSensitivityJSON(const SensitivityReport &report,
                                        llvm::raw_ostream &os) {
  llvm::json::Array layers;
  for (const SensitivityCurve &c : report.layers) {
    llvm::json::Object layer{
        {"name", c.name},
        {"parameters", c.parameters},
        {"macs", c.macs},
        {"sparsities", llvm::json::Array(c.sparsities)},
        {"error", llvm::json::Array(c.error)},
        {"removed_params", llvm::json::Array(c.removedParams)},
        {"removed_macs", llvm::json::Array(c.removedMacs)}};
    if (!c.accuracy.empty())
      layer["accuracy"] = llvm::json::Array(c.accuracy);
    if (!c.latencyMs.empty())
      layer["latency_ms"] = llvm::json::Array(c.latencyMs);
    if (!c.group.empty())
      layer["group"] = c.group;
    layers.push_back(std::move(layer));
  }
  llvm::json::Object root{{"options", report.options},
                          {"layers", std::move(layers)}};
  if (report.denseAccuracy)
    root["dense_accuracy"] = *report.denseAccuracy;
  if (report.denseLatencyMs) {
    root["dense_latency_ms"] = *report.denseLatencyMs;
    root["latency_batch"] = report.latencyBatch;
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
}

FailureOr<SensitivityReport>
mlir::shears::parseSensitivityJSON(llvm::StringRef text, std::string &error) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value) {
    error = "not JSON: " + llvm::toString(value.takeError());
    return failure();
  }
  auto fail = [&](const llvm::Twine &why) {
    error = why.str();
    return failure();
  };
  const llvm::json::Object *root = value->getAsObject();
  const llvm::json::Array *layers = root ? root->getArray("layers") : nullptr;
  if (!layers)
    return fail("expected an object with \"layers\", as shears sensitivity "
                "writes");
  SensitivityReport report;
  if (auto options = root->getString("options"))
    report.options = options->str();
  report.denseAccuracy = root->getNumber("dense_accuracy");
  report.denseLatencyMs = root->getNumber("dense_latency_ms");
  if (report.denseLatencyMs && !(*report.denseLatencyMs > 0))
    return fail("dense_latency_ms must be positive");
  report.latencyBatch = root->getInteger("latency_batch").value_or(0);
  auto numbers = [](const llvm::json::Object &o, llvm::StringRef key,
                    std::vector<double> &out) {
    const llvm::json::Array *array = o.getArray(key);
    if (!array)
      return false;
    for (const llvm::json::Value &v : *array) {
      std::optional<double> d = v.getAsNumber();
      if (!d || !std::isfinite(*d))
        return false;
      out.push_back(*d);
    }
    return true;
  };
  for (const llvm::json::Value &v : *layers) {
    const llvm::json::Object *o = v.getAsObject();
    SensitivityCurve c;
    std::optional<llvm::StringRef> name =
        o ? o->getString("name") : std::nullopt;
    std::optional<int64_t> parameters =
        o ? o->getInteger("parameters") : std::nullopt;
    std::optional<int64_t> macs = o ? o->getInteger("macs") : std::nullopt;
    if (!name || !parameters || !macs || *parameters < 0 || *macs < 0 ||
        !numbers(*o, "sparsities", c.sparsities) ||
        !numbers(*o, "error", c.error) ||
        !numbers(*o, "removed_params", c.removedParams) ||
        !numbers(*o, "removed_macs", c.removedMacs) ||
        c.error.size() != c.sparsities.size() ||
        c.removedParams.size() != c.sparsities.size() ||
        c.removedMacs.size() != c.sparsities.size() || c.sparsities.empty() ||
        c.sparsities.front() != 0 ||
        !std::is_sorted(c.sparsities.begin(), c.sparsities.end()) ||
        c.sparsities.back() >= 1)
      return fail("layer " + std::to_string(report.layers.size()) +
                  " needs a name, parameters, macs and as many errors and "
                  "removed_params and removed_macs as sparsities (ascending "
                  "in [0, 1), 0 first)");
    if (o->getArray("accuracy") && (!numbers(*o, "accuracy", c.accuracy) ||
                                    c.accuracy.size() != c.sparsities.size()))
      return fail("layer '" + name->str() +
                  "': as many accuracies as sparsities expected");
    if (o->getArray("latency_ms") &&
        (!numbers(*o, "latency_ms", c.latencyMs) ||
         c.latencyMs.size() != c.sparsities.size() || !report.denseLatencyMs))
      return fail("layer '" + name->str() +
                  "': as many latencies as sparsities expected, and the "
                  "dense model's (dense_latency_ms)");
    if (std::optional<llvm::StringRef> group = o->getString("group"))
      c.group = group->str();
    c.name = name->str();
    c.parameters = *parameters;
    c.macs = *macs;
    report.layers.push_back(std::move(c));
  }
  if (report.layers.empty())
    return fail("the report has no layers");
  for (const SensitivityCurve &c : report.layers)
    if (!c.group.empty() &&
        llvm::none_of(report.layers, [&](const SensitivityCurve &other) {
          return other.name == c.group && other.group == c.group;
        }))
      return fail("layer '" + c.name + "': its group '" + c.group +
                  "' is not a layer of that group in the report");
  return report;
}

LogicalResult mlir::shears::parseBudget(llvm::StringRef text, BudgetKind &kind,
                                        double &keep, std::string &error) {
  auto [kindText, fractionText] = text.split('=');
  std::optional<BudgetKind> parsed =
      llvm::StringSwitch<std::optional<BudgetKind>>(kindText)
          .Case("params", BudgetKind::Params)
          .Case("macs", BudgetKind::Macs)
          .Case("latency", BudgetKind::Latency)
          .Default(std::nullopt);
  if (!parsed || fractionText.getAsDouble(keep)) {
    error = "must be params=F, macs=F or latency=F, got '" + text.str() + "'";
    return failure();
  }
  kind = *parsed;
  return success();
}

FailureOr<std::vector<std::pair<std::string, double>>>
mlir::shears::allocateSparsities(const SensitivityReport &report,
                                 BudgetKind kind, double keep,
                                 std::string &error) {
  if (!(keep > 0 && keep <= 1)) {
    error = "the budget must be in (0, 1], got " + formatNumber(keep);
    return failure();
  }
  bool latency = kind == BudgetKind::Latency;
  if (latency && (!report.denseLatencyMs ||
                  llvm::any_of(report.layers,
                               [](auto &c) { return c.latencyMs.empty(); }))) {
    error = "a latency budget needs latencies in the sensitivity report "
            "(shears sensitivity --latency-batch N)";
    return failure();
  }
  bool byAccuracy = llvm::all_of(report.layers, [](const SensitivityCurve &c) {
    return !c.accuracy.empty();
  });
  // Coupled layers are pruned together: their group's first layer stands
  // for them all.
  size_t count = report.layers.size();
  std::vector<size_t> leader(count);
  for (size_t l = 0; l < count; ++l) {
    leader[l] = l;
    for (size_t k = 0; k < count && !report.layers[l].group.empty(); ++k)
      if (report.layers[k].name == report.layers[l].group) {
        leader[l] = k;
        break;
      }
  }
  // What a layer removes at each point of its curve: for latency the most
  // any point up to it removes, and nothing where pruning removed no
  // weight (the classifier's outputs stay; its times differ by noise).
  std::vector<std::vector<double>> removed;
  for (const SensitivityCurve &c : report.layers) {
    std::vector<double> r;
    for (size_t i = 0; i < c.sparsities.size(); ++i) {
      double here = kind == BudgetKind::Params ? c.removedParams[i]
                    : kind == BudgetKind::Macs
                        ? c.removedMacs[i]
                        : *report.denseLatencyMs - c.latencyMs[i];
      if (latency && c.removedParams[i] <= 0)
        here = 0;
      r.push_back(latency && i > 0 ? std::max(r.back(), here) : here);
    }
    removed.push_back(std::move(r));
  }
  auto loss = [&](const SensitivityCurve &c, size_t i) {
    return byAccuracy ? c.accuracy.front() - c.accuracy[i] : c.error[i];
  };
  double total = 0;
  if (latency)
    total = *report.denseLatencyMs;
  else
    for (const SensitivityCurve &c : report.layers)
      total += double(kind == BudgetKind::Params ? c.parameters : c.macs);
  double toRemove = (1 - keep) * total, removable = 0;
  for (size_t l = 0; l < count; ++l)
    if (leader[l] == l)
      removable += *std::max_element(removed[l].begin(), removed[l].end());
  if (toRemove > removable * (1 + 1e-12)) {
    error = llvm::formatv("the budget keeps {0} of the {1}, but pruning every "
                          "layer at the largest sparsity measured keeps {2}",
                          formatNumber(keep),
                          kind == BudgetKind::Params ? "layers' parameters"
                          : kind == BudgetKind::Macs ? "layers' MACs"
                                                     : "model's latency",
                          formatNumber(1 - removable / total))
                .str();
    return failure();
  }
  // Greedy over segments: each layer's next segment is ready once the one
  // before it is taken; the least loss per unit removed goes first (a loss
  // that falls first of all). For latency a layer's next segment runs to
  // whichever later point removes more at the least loss per unit.
  std::vector<size_t> at(count, 0);
  std::vector<double> sparsity(count, 0);
  while (toRemove > 0) {
    size_t best = count, bestTo = 0;
    double bestSlope = 0;
    for (size_t l = 0; l < count; ++l) {
      if (leader[l] != l)
        continue;
      const SensitivityCurve &c = report.layers[l];
      const std::vector<double> &r = removed[l];
      size_t from = at[l];
      size_t last = latency ? c.sparsities.size()
                            : std::min(from + 2, c.sparsities.size());
      for (size_t to = from + 1; to < last; ++to) {
        if (r[to] <= r[from]) {
          if (latency)
            continue;
          break;
        }
        double slope = (loss(c, to) - loss(c, from)) / (r[to] - r[from]);
        if (best == count || slope < bestSlope) {
          best = l;
          bestTo = to;
          bestSlope = slope;
        }
      }
    }
    if (best == count)
      break;
    const SensitivityCurve &c = report.layers[best];
    const std::vector<double> &r = removed[best];
    size_t from = at[best];
    at[best] = bestTo;
    double gain = r[bestTo] - r[from];
    if (gain >= toRemove) {
      // In part: linear from the last point that removes no more than the
      // segment's start (latency can stay flat before it falls).
      for (size_t start = from; from + 1 < bestTo && r[from + 1] <= r[start];)
        ++from;
      sparsity[best] =
          c.sparsities[from] +
          (c.sparsities[bestTo] - c.sparsities[from]) * toRemove / gain;
      toRemove = 0;
    } else {
      sparsity[best] = c.sparsities[bestTo];
      toRemove -= gain;
    }
  }
  std::vector<std::pair<std::string, double>> result;
  for (size_t l = 0; l < count; ++l)
    result.emplace_back(report.layers[l].name, sparsity[leader[l]]);
  return result;
}
