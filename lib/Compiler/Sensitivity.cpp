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
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
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

/// Zero weights in the layers of `module`, and their multiply-accumulates.
std::pair<double, double> countZeros(ModuleOp module) {
  double zeros = 0, macs = 0;
  module.walk([&](PrunableOpInterface op) {
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    if (failed(weights) || weights->empty())
      return;
    double count = double(llvm::count(*weights, 0.0f));
    zeros += count;
    macs += count * double(getMacsPerSample(op)) / double(weights->size());
  });
  return {zeros, macs};
}

} // namespace

FailureOr<SensitivityReport> mlir::shears::measureSensitivity(
    ModuleOp module, ArrayRef<const ShearsTensor *> samples,
    const ShearsTensor *labels, ArrayRef<double> sparsities,
    llvm::StringRef options, int64_t batch, std::string &error,
    llvm::function_ref<void(int64_t, int64_t)> progress) {
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
  if (progress)
    progress(++done, runs);
  double norm = 0;
  for (float v : reference->values)
    norm += double(v) * v;
  auto [denseZeros, denseZeroMacs] = countZeros(*dense);

  for (SensitivityCurve &curve : report.layers) {
    curve.sparsities.push_back(0);
    curve.error.push_back(0);
    curve.removedParams.push_back(0);
    curve.removedMacs.push_back(0);
    if (labels)
      curve.accuracy.push_back(*reference->accuracy);
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
      auto [zeros, zeroMacs] = countZeros(*pruned);
      curve.removedParams.push_back(zeros - denseZeros);
      curve.removedMacs.push_back(zeroMacs - denseZeroMacs);
      if (labels)
        curve.accuracy.push_back(*outputs->accuracy);
      if (progress)
        progress(++done, runs);
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
    layers.push_back(std::move(layer));
  }
  llvm::json::Object root{{"options", report.options},
                          {"layers", std::move(layers)}};
  if (report.denseAccuracy)
    root["dense_accuracy"] = *report.denseAccuracy;
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
    c.name = name->str();
    c.parameters = *parameters;
    c.macs = *macs;
    report.layers.push_back(std::move(c));
  }
  if (report.layers.empty())
    return fail("the report has no layers");
  return report;
}

FailureOr<std::vector<std::pair<std::string, double>>>
mlir::shears::allocateSparsities(const SensitivityReport &report,
                                 BudgetKind kind, double keep,
                                 std::string &error) {
  if (!(keep > 0 && keep <= 1)) {
    error = "the budget must be in (0, 1], got " + std::to_string(keep);
    return failure();
  }
  bool byAccuracy = llvm::all_of(report.layers, [](const SensitivityCurve &c) {
    return !c.accuracy.empty();
  });
  // What a layer removes and loses at point i of its curve.
  auto removed = [&](const SensitivityCurve &c, size_t i) {
    return kind == BudgetKind::Params ? c.removedParams[i] : c.removedMacs[i];
  };
  auto loss = [&](const SensitivityCurve &c, size_t i) {
    return byAccuracy ? c.accuracy.front() - c.accuracy[i] : c.error[i];
  };
  double total = 0;
  for (const SensitivityCurve &c : report.layers)
    total += double(kind == BudgetKind::Params ? c.parameters : c.macs);
  double toRemove = (1 - keep) * total, removable = 0;
  for (const SensitivityCurve &c : report.layers) {
    double most = 0;
    for (size_t i = 0; i < c.sparsities.size(); ++i)
      most = std::max(most, removed(c, i));
    removable += most;
  }
  if (toRemove > removable * (1 + 1e-12)) {
    error =
        llvm::formatv("the budget keeps {0} of the layers' {1}, but "
                      "pruning every layer at the largest sparsity "
                      "measured keeps {2}",
                      keep, kind == BudgetKind::Params ? "parameters" : "MACs",
                      1 - removable / total)
            .str();
    return failure();
  }
  // Greedy over segments: each layer's next segment is ready once the one
  // before it is taken; the least loss per unit removed goes first (a loss
  // that falls first of all).
  std::vector<size_t> next(report.layers.size(), 1);
  std::vector<double> sparsity(report.layers.size(), 0);
  while (toRemove > 0) {
    size_t best = report.layers.size();
    double bestSlope = 0;
    for (size_t l = 0; l < report.layers.size(); ++l) {
      const SensitivityCurve &c = report.layers[l];
      size_t i = next[l];
      if (i >= c.sparsities.size() || removed(c, i) <= removed(c, i - 1))
        continue;
      double slope =
          (loss(c, i) - loss(c, i - 1)) / (removed(c, i) - removed(c, i - 1));
      if (best == report.layers.size() || slope < bestSlope) {
        best = l;
        bestSlope = slope;
      }
    }
    if (best == report.layers.size())
      break;
    const SensitivityCurve &c = report.layers[best];
    size_t i = next[best]++;
    double gain = removed(c, i) - removed(c, i - 1);
    if (gain >= toRemove) {
      sparsity[best] =
          c.sparsities[i - 1] +
          (c.sparsities[i] - c.sparsities[i - 1]) * toRemove / gain;
      toRemove = 0;
    } else {
      sparsity[best] = c.sparsities[i];
      toRemove -= gain;
    }
  }
  std::vector<std::pair<std::string, double>> result;
  for (auto [c, s] : llvm::zip(report.layers, sparsity))
    result.emplace_back(c.name, s);
  return result;
}
