//===- MeasureLayers.cpp - Each layer's time inside the compiled model ----===//
//
// shears report --measure: the model compiled as shears run compiles it,
// with each kernel call's site marked (shears-lower-ukernels{profile-sites}),
// run on this machine at the batches the sparse-kernel choice is timed at;
// the kernels' profile (include/shears-c/Kernels.h) gives each site's time
// a run, and the site's layer name the report row it belongs to. The timed
// layers of `shears report --time-sparse` are pinned to the kernel their
// timing picked (shears.kernel), so that what is measured is what was
// predicted.
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Compiler.h"

#include "shears/Conversion/Passes.h"
#include "shears/Conversion/SparseChoice.h"
#include "shears/Support/Numbers.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Transforms/Report.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <vector>

using namespace mlir;
using namespace mlir::shears;

namespace {

/// Runs a batch: at least kMinRuns, and more up to kMaxRuns while they take
/// less than kMeasureSeconds together.
constexpr int64_t kMinRuns = 5, kMaxRuns = 200;
constexpr double kMeasureSeconds = 0.25;
constexpr int kWarmUp = 2;

/// Inputs of `model` at batch `batch` (the leading dimension where it is
/// dynamic): f32 uniform in [-1, 1) from a fixed seed, anything else zeros.
/// Failure, with `error` set, for another dynamic dimension.
FailureOr<std::vector<TensorPtr>> makeInputs(ShearsModel *model, int64_t batch,
                                             std::string &error) {
  std::vector<TensorPtr> inputs;
  uint32_t state = 12345;
  for (size_t i = 0; i < shearsModelNumInputs(model); ++i) {
    size_t rank = shearsModelInputRank(model, i);
    const int64_t *spec = shearsModelInputShape(model, i);
    std::vector<int64_t> shape(spec, spec + rank);
    for (size_t d = 0; d < rank; ++d) {
      if (shape[d] >= 0)
        continue;
      if (d != 0) {
        error = llvm::formatv("input '{0}' has a dynamic dimension {1} "
                              "besides the batch: its size is unknown",
                              shearsModelInputName(model, i), d);
        return failure();
      }
      shape[d] = batch;
    }
    char *message = nullptr;
    ShearsDType dtype = shearsModelInputDType(model, i);
    // Zero-filled.
    TensorPtr t(
        shearsTensorCreate(dtype, rank, shape.data(), nullptr, &message));
    if (!t) {
      error = takeRuntimeMessage(message);
      return failure();
    }
    if (dtype == SHEARS_DTYPE_F32) {
      auto *data = static_cast<float *>(shearsTensorData(t.get()));
      for (size_t e = 0; e < shearsTensorNumElements(t.get()); ++e) {
        state = state * 1664525u + 1013904223u;
        data[e] = float(state >> 8) * 0x1p-23f - 1.0f;
      }
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

/// The first word of a profile label: the kernel.
std::string kernelOf(const char *what) {
  llvm::StringRef label(what);
  return label.take_until([](char c) { return c == ' '; }).str();
}

} // namespace

LogicalResult shears::measureLayers(ModuleOp module, ModelReport &report,
                                    int threads, std::string &error) {
  // A copy, in which the kernels the report's timing picked are pinned.
  IRMapping mapping;
  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone(mapping));
  for (LayerReport &layer : report.layers)
    if (Operation *op =
            layer.operation ? mapping.lookupOrNull(layer.operation) : nullptr;
        op && !layer.spgemmOverGemm.empty())
      op->setAttr(kKernelAttrName,
                  StringAttr::get(module.getContext(), layer.format == "spgemm"
                                                           ? "spgemm"
                                                           : "gemm"));
  if (failed(lowerToLLVM(*copy, "", /*releaseWeights=*/false,
                         SparseKernelOptions::timed(),
                         /*profileSites=*/true))) {
    error = "cannot compile the model to measure it";
    return failure();
  }
  std::vector<std::string> siteNames;
  if (auto sites = (*copy)->getAttrOfType<ArrayAttr>(kProfileSitesAttrName))
    for (Attribute site : sites)
      siteNames.push_back(cast<StringAttr>(site).str());
  ModelPtr model(jitCompile(*copy, error));
  if (!model)
    return failure();
  char *message = nullptr;
  if (threads > 0 && shearsModelSetThreads(model.get(), threads, &message)) {
    error = takeRuntimeMessage(message);
    return failure();
  }
  llvm::StringMap<LayerReport *> layers;
  for (LayerReport &layer : report.layers)
    layers[layer.name] = &layer;

  // A model whose batch is fixed runs at that batch only.
  std::vector<int64_t> batches(std::begin(kSparseChoiceBatches),
                               std::end(kSparseChoiceBatches));
  if (shearsModelNumInputs(model.get()) > 0 &&
      shearsModelInputRank(model.get(), 0) > 0 &&
      shearsModelInputShape(model.get(), 0)[0] >= 0)
    batches = {shearsModelInputShape(model.get(), 0)[0]};
  std::vector<ShearsUKProfileEntry> entries(512);
  int64_t runs = kMaxRuns;
  for (int64_t batch : batches) {
    FailureOr<std::vector<TensorPtr>> inputs =
        makeInputs(model.get(), batch, error);
    if (failed(inputs))
      return failure();
    std::vector<const ShearsTensor *> views;
    for (const TensorPtr &t : *inputs)
      views.push_back(t.get());
    // Milliseconds a run of each layer's sites, run after run.
    llvm::StringMap<std::vector<double>> times;
    llvm::StringMap<std::string> kernels;
    double elapsed = 0;
    int64_t run = 0;
    for (int64_t i = 0; i < kWarmUp + kMaxRuns; ++i) {
      if (i >= kWarmUp + kMinRuns && elapsed >= kMeasureSeconds)
        break;
      std::vector<ShearsTensor *> outputs(shearsModelNumOutputs(model.get()));
      shears_uk_profile_start();
      auto start = std::chrono::steady_clock::now();
      int status = shearsModelRun(model.get(), views.data(), views.size(),
                                  outputs.data(), &message);
      elapsed += std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      int64_t used = shears_uk_profile_read(entries.data(), entries.size());
      shears_uk_profile_stop();
      for (ShearsTensor *t : outputs)
        shearsTensorFree(t);
      if (status != 0) {
        error = takeRuntimeMessage(message);
        return failure();
      }
      if (i < kWarmUp) {
        elapsed = 0;
        continue;
      }
      ++run;
      llvm::StringMap<double> thisRun;
      for (int64_t e = 0; e < std::min<int64_t>(used, entries.size()); ++e) {
        const ShearsUKProfileEntry &entry = entries[e];
        if (entry.site < 0 || size_t(entry.site) >= siteNames.size() ||
            !layers.count(siteNames[entry.site]))
          continue;
        const std::string &name = siteNames[entry.site];
        thisRun[name] += entry.seconds * 1e3;
        kernels[name] = kernelOf(entry.what);
      }
      for (auto &[name, ms] : thisRun)
        times[name].push_back(ms);
    }
    runs = std::min(runs, run);
    for (auto &[name, ms] : times) {
      LayerReport &layer = *layers[name];
      // A layer missing from some runs took nothing there.
      ms.resize(run, 0.0);
      layer.measuredMs.emplace_back(batch, median(ms));
      layer.measuredKernel = kernels[name];
    }
  }
  report.measuredRuns = runs;
  report.measuredThreads = threads;
  return success();
}
