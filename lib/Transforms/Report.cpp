//===- Report.cpp - Per-layer parameters, sparsity and MACs ---------------===//
//
// shears-report and shears-summary, and the library functions behind them
// (and behind `shears report` and `shears prune`).
//
//===----------------------------------------------------------------------===//

#include "shears/Transforms/Report.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

#include "shears-c/Kernels.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSREPORT
#define GEN_PASS_DEF_SHEARSSUMMARY
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

double LayerReport::sparsity() const {
  return parameters ? 1.0 - double(nonzeroParameters) / parameters : 0.0;
}

double ModelReport::sparsity() const {
  return parameters ? 1.0 - double(nonzeroParameters) / parameters : 0.0;
}

/// The ONNX node name of a layer, else its op's name.
static std::string rowName(Operation *op) {
  StringRef name = getLayerName(op);
  return (name.empty() ? op->getName().getStringRef() : name).str();
}

/// The elements of a value of static shape; 0 for one with a dynamic dim (a
/// weight that is a model input), whose count is not known.
static int64_t staticElements(Value value) {
  auto type = cast<ShapedType>(value.getType());
  return type.hasStaticShape() ? type.getNumElements() : 0;
}

int64_t shears::getMacsPerSample(PrunableOpInterface op) {
  if (isa<GatherOp>(op))
    return 0;
  auto result = cast<ShapedType>(op->getResult(0).getType());
  // Every dim but the batch and the channel dim is a position. The batch is
  // the dynamic dim where there is one (a sequence-first [L, N, C] has its
  // positions first), else dim 0.
  int64_t channelDim = op.getResultChannelDim(), positions = 1;
  bool dynamicBatch =
      llvm::any_of(llvm::seq<int64_t>(0, result.getRank()), [&](int64_t d) {
        return d != channelDim && result.isDynamicDim(d);
      });
  for (int64_t d = 0; d < result.getRank(); ++d)
    if (d != channelDim && !result.isDynamicDim(d) && (d > 0 || dynamicBatch))
      positions *= result.getDimSize(d);
  return staticElements(op.getWeight()) * positions;
}

/// Non-zero elements of `value` if it is a constant, else all of them.
static int64_t countNonzero(Value value) {
  FailureOr<SmallVector<float>> values = getConstantFloats(value);
  if (failed(values))
    return staticElements(value);
  return llvm::count_if(*values, [](float v) { return v != 0.0f; });
}

/// Size of dimension `dim` of `value`, or -1 if there is none or it is
/// dynamic.
static int64_t staticDim(Value value, int64_t dim) {
  auto type = dyn_cast<ShapedType>(value.getType());
  if (!type || !type.hasRank() || dim < 0 || dim >= type.getRank() ||
      type.isDynamicDim(dim))
    return -1;
  return type.getDimSize(dim);
}

ModelReport shears::collectModelReport(Operation *root) {
  ModelReport report;
  llvm::StringMap<size_t> opIndex;
  root->walk([&](Operation *op) {
    if (op->getDialect() && isa<ShearsDialect>(op->getDialect()) &&
        !isa<ConstantOp>(op)) {
      StringRef name = op->getName().stripDialect();
      auto [it, inserted] = opIndex.try_emplace(name, report.opCounts.size());
      if (inserted)
        report.opCounts.emplace_back(name.str(), 0);
      ++report.opCounts[it->second].second;
    }
    auto prunable = dyn_cast<PrunableOpInterface>(op);
    if (!prunable)
      return;
    LayerReport layer;
    layer.name = rowName(op);
    layer.op = op->getName().getStringRef().str();
    layer.operation = op;
    Value weight = prunable.getWeight();
    auto weightType = cast<ShapedType>(weight.getType());
    layer.weightShape.assign(weightType.getShape().begin(),
                             weightType.getShape().end());
    layer.parameters = staticElements(weight);
    layer.nonzeroParameters = countNonzero(weight);
    // What the sparse kernels may run: linear layers, and convolutions of
    // one group (spgemm on planes, spconv2d).
    auto conv = dyn_cast<Conv2DOp>(op);
    bool ungrouped = conv && conv.getGroups() == 1;
    if ((isa<LinearOp>(op) || ungrouped) && layer.parameters > 0 &&
        double(layer.nonzeroParameters) <=
            SHEARS_UK_SPGEMM_TIMED_MAX_DENSITY * double(layer.parameters))
      layer.format = "sparse";
    if (Value bias = prunable.getPrunedBias()) {
      layer.parameters += staticElements(bias);
      layer.nonzeroParameters += countNonzero(bias);
    }
    layer.macsPerSample = getMacsPerSample(prunable);
    layer.outputChannels = staticDim(weight, prunable.getWeightOutputDim());
    // The data input tells the input channels of a grouped convolution too.
    layer.inputChannels =
        staticDim(prunable.getPrunedInput(), prunable.getInputChannelDim());
    report.parameters += layer.parameters;
    report.nonzeroParameters += layer.nonzeroParameters;
    report.macsPerSample += layer.macsPerSample;
    report.layers.push_back(std::move(layer));
  });
  return report;
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return result;
}

static std::string channelString(int64_t channels) {
  return channels < 0 ? "-" : std::to_string(channels);
}

/// The value at `batch` of a list of (batch, value) pairs.
static std::optional<double>
atBatch(const std::vector<std::pair<int64_t, double>> &values, int64_t batch) {
  for (auto [b, value] : values)
    if (b == batch)
      return value;
  return std::nullopt;
}

/// The batches of a layer's predicted and measured times, ascending.
static std::vector<int64_t> timedBatches(const LayerReport &layer) {
  std::vector<int64_t> batches;
  for (const auto *values : {&layer.predictedMs, &layer.measuredMs})
    for (auto [batch, ms] : *values)
      if (!llvm::is_contained(batches, batch))
        batches.push_back(batch);
  llvm::sort(batches);
  return batches;
}

/// shears report --measure's table: per layer and batch, the kernel that
/// ran, the time its timing predicted (--time-sparse) and the time measured
/// at the layer's call sites in the model.
static void printLayerTimes(const ModelReport &report, llvm::raw_ostream &os) {
  size_t nameWidth = 5, kernelWidth = 6;
  for (const LayerReport &layer : report.layers) {
    nameWidth = std::max(nameWidth, layer.name.size());
    kernelWidth = std::max(kernelWidth, layer.measuredKernel.size());
  }
  std::string threads =
      report.measuredThreads > 0
          ? llvm::formatv("{0} thread(s)", report.measuredThreads).str()
          : "every CPU";
  os << llvm::formatv("\nus a run per layer, medians of at least {0} runs "
                      "on {1}; predicted: the kernel timed alone on the "
                      "layer (--time-sparse), measured: inside the model\n",
                      report.measuredRuns, threads);
  auto row = [&](StringRef name, StringRef kernel, StringRef batch,
                 StringRef predicted, StringRef measured, StringRef ratio) {
    os << llvm::left_justify(name, nameWidth) << "  "
       << llvm::left_justify(kernel, kernelWidth) << "  "
       << llvm::right_justify(batch, 5) << "  "
       << llvm::right_justify(predicted, 10) << "  "
       << llvm::right_justify(measured, 10) << "  " << ratio << "\n";
  };
  if (llvm::all_of(report.layers, [](const LayerReport &layer) {
        return timedBatches(layer).empty();
      })) {
    os << "(no layer with weights ran on a micro-kernel)\n";
    return;
  }
  row("layer", "kernel", "batch", "predicted", "measured",
      "measured/predicted");
  auto us = [](std::optional<double> ms) {
    return ms ? llvm::formatv("{0:f1}", *ms * 1e3).str() : std::string("-");
  };
  for (const LayerReport &layer : report.layers)
    for (int64_t batch : timedBatches(layer)) {
      std::optional<double> predicted = atBatch(layer.predictedMs, batch);
      std::optional<double> measured = atBatch(layer.measuredMs, batch);
      std::string ratio =
          predicted && measured && *predicted > 0
              ? llvm::formatv("{0:f2}x", *measured / *predicted).str()
              : "-";
      row(layer.name, layer.measuredKernel.empty() ? "-" : layer.measuredKernel,
          std::to_string(batch), us(predicted), us(measured), ratio);
    }
}

void shears::printModelReport(const ModelReport &report,
                              llvm::raw_ostream &os) {
  size_t nameWidth = 5, opWidth = 2, shapeWidth = 6;
  for (const LayerReport &layer : report.layers) {
    nameWidth = std::max(nameWidth, layer.name.size());
    opWidth = std::max(opWidth, layer.op.size());
    shapeWidth = std::max(shapeWidth, shapeString(layer.weightShape).size());
  }
  auto row = [&](StringRef name, StringRef op, StringRef shape,
                 StringRef params, StringRef nonzero, StringRef sparsity,
                 StringRef macs, StringRef out, StringRef in,
                 StringRef format) {
    os << llvm::left_justify(name, nameWidth) << "  "
       << llvm::left_justify(op, opWidth) << "  "
       << llvm::left_justify(shape, shapeWidth) << "  "
       << llvm::right_justify(params, 10) << "  "
       << llvm::right_justify(nonzero, 10) << "  "
       << llvm::right_justify(sparsity, 8) << "  "
       << llvm::right_justify(macs, 12) << "  " << llvm::right_justify(out, 5)
       << "  " << llvm::right_justify(in, 5) << "  " << format << "\n";
  };
  auto percent = [](double fraction) {
    return llvm::formatv("{0:f1}%", fraction * 100.0).str();
  };
  row("layer", "op", "weight", "params", "nonzero", "sparsity", "MACs/sample",
      "out", "in", "format");
  for (const LayerReport &layer : report.layers) {
    std::string format = layer.format;
    if (!layer.spgemmOverGemm.empty()) {
      // "spgemm (0.36-0.55x gemm)": the range over the batches timed.
      auto [lo, hi] = std::minmax_element(
          layer.spgemmOverGemm.begin(), layer.spgemmOverGemm.end(),
          [](auto &a, auto &b) { return a.second < b.second; });
      format +=
          llvm::formatv(" ({0:f2}-{1:f2}x gemm)", lo->second, hi->second).str();
    }
    row(layer.name, layer.op, shapeString(layer.weightShape),
        std::to_string(layer.parameters),
        std::to_string(layer.nonzeroParameters), percent(layer.sparsity()),
        std::to_string(layer.macsPerSample),
        channelString(layer.outputChannels), channelString(layer.inputChannels),
        format);
  }
  os << llvm::formatv("total: {0} layers, {1} parameters ({2:f2} MB as f32), "
                      "{3} nonzero ({4} sparse), {5} MACs/sample",
                      report.layers.size(), report.parameters,
                      report.parameters * 4.0 / 1e6, report.nonzeroParameters,
                      percent(report.sparsity()), report.macsPerSample);
  if (report.onnxBytes)
    os << ", ONNX file " << *report.onnxBytes << " bytes";
  os << "\nops:";
  for (const auto &[name, count] : report.opCounts)
    os << " " << name << "=" << count;
  os << "\n";
  if (report.measuredRuns > 0)
    printLayerTimes(report, os);
}

void shears::printModelReportJSON(const ModelReport &report,
                                  llvm::raw_ostream &os) {
  llvm::json::OStream json(os, /*IndentSize=*/2);
  auto orNull = [&](llvm::StringRef key, int64_t value) {
    if (value < 0)
      json.attribute(key, nullptr);
    else
      json.attribute(key, value);
  };
  json.object([&] {
    json.attributeArray("layers", [&] {
      for (const LayerReport &layer : report.layers)
        json.object([&] {
          json.attribute("name", layer.name);
          json.attribute("op", layer.op);
          json.attributeArray("weight_shape", [&] {
            for (int64_t d : layer.weightShape)
              if (ShapedType::isDynamic(d))
                json.value(nullptr);
              else
                json.value(d);
          });
          json.attribute("parameters", layer.parameters);
          json.attribute("nonzero_parameters", layer.nonzeroParameters);
          json.attribute("sparsity", layer.sparsity());
          json.attribute("macs_per_sample", layer.macsPerSample);
          orNull("output_channels", layer.outputChannels);
          orNull("input_channels", layer.inputChannels);
          json.attribute("format", layer.format);
          auto byBatch = [&](StringRef key, const auto &values) {
            if (!values.empty())
              json.attributeObject(key, [&] {
                for (auto [batch, value] : values)
                  json.attribute(std::to_string(batch), value);
              });
          };
          byBatch("spgemm_over_gemm", layer.spgemmOverGemm);
          byBatch("predicted_ms", layer.predictedMs);
          byBatch("measured_ms", layer.measuredMs);
          if (!layer.measuredKernel.empty())
            json.attribute("measured_kernel", layer.measuredKernel);
        });
    });
    json.attributeObject("ops", [&] {
      for (const auto &[name, count] : report.opCounts)
        json.attribute(name, count);
    });
    json.attributeObject("totals", [&] {
      json.attribute("layers", static_cast<int64_t>(report.layers.size()));
      json.attribute("parameters", report.parameters);
      json.attribute("nonzero_parameters", report.nonzeroParameters);
      json.attribute("sparsity", report.sparsity());
      json.attribute("macs_per_sample", report.macsPerSample);
      orNull("onnx_bytes", report.onnxBytes.value_or(-1));
    });
    if (report.measuredRuns > 0)
      json.attributeObject("measured", [&] {
        json.attribute("runs", report.measuredRuns);
        json.attribute("threads", report.measuredThreads);
      });
  });
  os << "\n";
}

namespace {
struct ShearsReport : shears::impl::ShearsReportBase<ShearsReport> {
  using Base::Base;

  void runOnOperation() override {
    ModelReport report = collectModelReport(getOperation());
    if (onnxBytes >= 0)
      report.onnxBytes = static_cast<int64_t>(onnxBytes);
    if (table) {
      printModelReport(report, llvm::outs());
      llvm::outs().flush();
    }
    if (!json.empty()) {
      if (llvm::Error e = llvm::writeToOutput(json, [&](llvm::raw_ostream &os) {
            printModelReportJSON(report, os);
            return llvm::Error::success();
          })) {
        getOperation().emitError() << "shears-report: cannot write '" << json
                                   << "': " << llvm::toString(std::move(e));
        return signalPassFailure();
      }
    }
    numParameters = report.parameters;
    numNonzeroParameters = report.nonzeroParameters;
    markAllAnalysesPreserved();
  }
};

struct ShearsSummary : shears::impl::ShearsSummaryBase<ShearsSummary> {
  using Base::Base;

  void runOnOperation() override {
    ModelReport report = collectModelReport(getOperation());
    printModelReport(report, llvm::outs());
    numParameters = report.parameters;
    markAllAnalysesPreserved();
  }
};
} // namespace

std::vector<QuantizedLayer>
mlir::shears::collectQuantizedLayers(Operation *root) {
  std::vector<QuantizedLayer> rows;
  root->walk([&](PrunableOpInterface op) {
    DequantizeOp dequantize = getWeightDequantize(op.getWeight());
    if (!dequantize)
      return;
    FailureOr<SmallVector<int32_t>> ints =
        getConstantInts(dequantize.getInput());
    if (failed(ints))
      return;
    int32_t largest = 0;
    for (int32_t v : *ints)
      largest = std::max(largest, v < 0 ? -v : v);
    int64_t bits = largest <= 1 ? 1 : largest <= 8 ? 4 : 8;
    QuantizedLayer row;
    row.name = rowName(op);
    row.format = bits == 1 ? "binary" : bits == 4 ? "int4" : "int8";
    row.scales = cast<RankedTensorType>(dequantize.getScale().getType())
                     .getNumElements();
    row.bytes = (int64_t(ints->size()) * bits + 7) / 8 + 4 * row.scales;
    row.input = "f32";
    if (auto input = op.getPrunedInput().getDefiningOp<DequantizeOp>()) {
      if (input.getInput().getDefiningOp<DynamicQuantizeOp>()) {
        row.input = "ui8 dynamic";
      } else if (auto scale = getConstantFloats(input.getScale());
                 succeeded(scale) && scale->size() == 1) {
        auto zeroPoint = getConstantInts(input.getZeroPoint());
        char text[64];
        std::snprintf(text, sizeof(text), "ui8 scale %g zero point %d",
                      (*scale)[0], succeeded(zeroPoint) ? (*zeroPoint)[0] : 0);
        row.input = text;
      }
    }
    rows.push_back(std::move(row));
  });
  return rows;
}

void mlir::shears::printQuantizationReport(Operation *root,
                                           llvm::raw_ostream &os) {
  std::vector<QuantizedLayer> rows = collectQuantizedLayers(root);
  if (rows.empty())
    return;
  size_t width = 5;
  for (const QuantizedLayer &r : rows)
    width = std::max(width, r.name.size());
  auto line = [&](StringRef name, StringRef format, StringRef scales,
                  StringRef bytes, StringRef input) {
    os << name << std::string(width + 2 - name.size(), ' ')
       << llvm::formatv("{0,-8}{1,8}{2,14}  {3}\n", format, scales, bytes,
                        input);
  };
  line("layer", "weights", "scales", "weight bytes", "input");
  int64_t total = 0;
  for (const QuantizedLayer &r : rows) {
    line(r.name, r.format, std::to_string(r.scales), std::to_string(r.bytes),
         r.input);
    total += r.bytes;
  }
  os << llvm::formatv("{0} quantized layer{1}, {2} weight bytes (with "
                      "scales)\n",
                      rows.size(), rows.size() == 1 ? "" : "s", total);
}
