//===- Quantize.cpp - int8 quantization as quantize/dequantize pairs ------===//
//
// The QDQ form, as ONNX Runtime's quantizer writes it: a quantized layer
// keeps its f32 op, its weight becomes integers behind a dequantize and its
// input passes through a quantize and a dequantize. The IR stays runnable by
// the float lowering (fake quantization, for accuracy), exports as QDQ ONNX
// as it is, and tells an integer backend everything it needs: the scales
// and zero points of both operands of each contraction.
//
// Activations are asymmetric ui8 and weights symmetric i8 (zero point 0):
// AVX512-VNNI multiplies u8 by s8, so this pair needs no conversion in the
// kernel, and the zero point of the activations costs one correction per
// output channel (zero_point * sum of the channel's weights), computed once.
// A ui8 range starting at 0 spends all 256 levels on the non-negative
// outputs of ReLU, which most layer inputs are.
//
//===----------------------------------------------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Finite.h"
#include "shears/Support/Npz.h"
#include "shears/Transforms/Passes.h"

#include "Statistics.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <cmath>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSQUANTIZE
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

/// The histogram of |x| from one over [-A, A] (an even number of equal
/// bins): bin j counts |x| in [j, j + 1) * A / (bins / 2).
std::vector<double> foldHistogram(ArrayRef<float> histogram) {
  size_t half = histogram.size() / 2;
  std::vector<double> folded(half);
  for (size_t j = 0; j < half; ++j)
    folded[j] = double(histogram[half + j]) + histogram[half - 1 - j];
  return folded;
}

/// The number of bins of `folded` below the `percentile`-th percentile.
size_t percentileBins(ArrayRef<double> folded, double percentile) {
  double total = 0;
  for (double c : folded)
    total += c;
  double target = total * percentile / 100.0, sum = 0;
  for (size_t j = 0; j < folded.size(); ++j) {
    sum += folded[j];
    if (sum >= target)
      return j + 1;
  }
  return folded.size();
}

/// The number of bins of `histogram` to keep so that quantizing them to
/// `levels` levels (the clipped mass folded into the last kept bin) loses
/// the least information: the threshold minimizing KL(P || Q), P the
/// clipped histogram, Q its quantization expanded back over P's non-empty
/// bins (TensorRT's entropy calibration). The divergence jumps between
/// neighbouring thresholds, as merged bins fall on or off the data's
/// structure, and a lone dip would clip far too much: the minimum is taken
/// over the divergence averaged across +-kSmoothing thresholds.
size_t entropyBins(ArrayRef<double> histogram, size_t levels) {
  constexpr size_t kSmoothing = 16;
  size_t n = histogram.size();
  if (n <= levels)
    return n;
  // The zeros that ReLU makes would dominate both distributions; they are
  // exact at any threshold, so the first bin counts like its neighbour (as
  // NVIDIA's calibrators do).
  std::vector<double> folded(histogram.begin(), histogram.end());
  folded[0] = folded[1];
  double tail = 0;
  for (size_t j = levels; j < n; ++j)
    tail += folded[j];
  // divergences[i - levels]: keeping i bins; infinite where undefined.
  std::vector<double> divergences;
  std::vector<double> p, q;
  for (size_t i = levels; i <= n; ++i) {
    if (i > levels)
      tail -= folded[i - 1];
    p.assign(folded.begin(), folded.begin() + i);
    p.back() += tail;
    // Quantize the first i bins into `levels` merged bins, then spread each
    // merged total evenly over its non-empty source bins.
    q.assign(i, 0.0);
    for (size_t level = 0; level < levels; ++level) {
      size_t begin = level * i / levels, end = (level + 1) * i / levels;
      double sum = 0;
      size_t nonEmpty = 0;
      for (size_t j = begin; j < end; ++j) {
        sum += folded[j];
        nonEmpty += folded[j] != 0;
      }
      for (size_t j = begin; j < end; ++j)
        if (folded[j] != 0)
          q[j] = sum / nonEmpty;
    }
    double pTotal = 0, qTotal = 0;
    for (size_t j = 0; j < i; ++j) {
      pTotal += p[j];
      qTotal += q[j];
    }
    double divergence = INFINITY;
    if (pTotal > 0 && qTotal > 0) {
      divergence = 0;
      for (size_t j = 0; j < i; ++j) {
        if (p[j] == 0)
          continue;
        double pj = p[j] / pTotal;
        // Mass that Q has not (the clipped tail in the last bin) is charged
        // as if Q had a tiny amount there.
        double qj = q[j] > 0 ? q[j] / qTotal : 1e-12;
        divergence += pj * std::log(pj / qj);
      }
    }
    divergences.push_back(divergence);
  }
  size_t best = n;
  double bestAverage = INFINITY;
  for (size_t t = 0; t < divergences.size(); ++t) {
    size_t begin = t >= kSmoothing ? t - kSmoothing : 0;
    size_t end = std::min(divergences.size(), t + kSmoothing + 1);
    double sum = 0;
    size_t count = 0;
    for (size_t u = begin; u < end; ++u)
      if (std::isfinite(divergences[u])) {
        sum += divergences[u];
        ++count;
      }
    if (count && std::isfinite(divergences[t]) && sum / count < bestAverage) {
      bestAverage = sum / count;
      best = levels + t;
    }
  }
  return best;
}

/// A ui8 scale and zero point for the range [lo, hi] (which holds 0).
std::pair<float, uint8_t> activationParams(double lo, double hi) {
  double scale = (hi - lo) / 255.0;
  if (!(scale > 0))
    return {1.0f, 0};
  double zeroPoint = std::nearbyint(-lo / scale);
  return {static_cast<float>(scale),
          static_cast<uint8_t>(std::clamp(zeroPoint, 0.0, 255.0))};
}

struct ShearsQuantize : shears::impl::ShearsQuantizeBase<ShearsQuantize> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Checks the options as they are parsed (before any calibration).
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override;

  /// The range of the input of layer `name` chosen by `method`.
  FailureOr<std::pair<double, double>>
  chooseRange(Operation *op, StringRef name,
              const llvm::StringMap<NpzArray> &stats);
  void quantizeWeight(PrunableOpInterface op, StringRef name,
                      ArrayRef<float> values, WeightFormat format);
  /// The format of layer `op`'s weights: its `layer-weights` entry's, or
  /// `weights`, but int8 for a convolution when `weights` is int4 and
  /// activations are static.
  WeightFormat formatOf(PrunableOpInterface op, StringRef name);
  void quantizeInput(PrunableOpInterface op, StringRef name, double lo,
                     double hi);
  void quantizeInputDynamically(PrunableOpInterface op, StringRef name);

  /// The parsed `layer-weights` entries (regex, format), in order.
  SmallVector<std::pair<std::string, WeightFormat>> overrides;
};

FailureOr<std::pair<double, double>>
ShearsQuantize::chooseRange(Operation *op, StringRef name,
                            const llvm::StringMap<NpzArray> &stats) {
  auto range = stats.find((name + ".range").str());
  auto histogram = stats.find((name + ".histogram").str());
  if (range == stats.end() || histogram == stats.end() ||
      range->second.values.size() != 2 ||
      histogram->second.values.size() < 2 ||
      histogram->second.values.size() % 2)
    return op->emitError("shears-quantize: no statistics for layer '")
               << name << "' in '" << statistics
               << "' (expected '" << name << ".range' and '" << name
               << ".histogram', as shears calibrate --quantization writes)",
           failure();
  double lo = std::min<double>(range->second.values[0], 0.0);
  double hi = std::max<double>(range->second.values[1], 0.0);
  if (method == CalibrationMethod::MinMax)
    return std::make_pair(lo, hi);
  std::vector<double> folded = foldHistogram(histogram->second.values);
  // Non-negative inputs spend all 256 levels on [0, T], others about half.
  size_t bins = method == CalibrationMethod::Percentile
                    ? percentileBins(folded, percentile)
                    : entropyBins(folded, lo < 0 ? 128 : 256);
  double limit = std::max(-lo, hi);
  double threshold = limit * double(bins) / double(folded.size());
  return std::make_pair(std::max(lo, -threshold), std::min(hi, threshold));
}

WeightFormat ShearsQuantize::formatOf(PrunableOpInterface op, StringRef name) {
  for (auto &[regex, format] : overrides)
    if (llvm::Regex(regex).match(name))
      return format;
  // The integer convolution kernels take a scale per output channel: with
  // static ui8 inputs, int4 groups would leave a convolution in f32 (about
  // twice int8's time on the Fashion-MNIST CNN). An entry above can still
  // ask for them. (Dynamic activations leave convolutions' inputs f32.)
  if (weights == WeightFormat::Int4 &&
      activations == QuantizedActivations::Static && isa<Conv2DOp>(op))
    return WeightFormat::Int8;
  return weights;
}

void ShearsQuantize::quantizeWeight(PrunableOpInterface op, StringRef name,
                                    ArrayRef<float> values,
                                    WeightFormat format) {
  Value weight = op.getWeight();
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t channels = type.getDimSize(0);
  int64_t inner = type.getNumElements() / std::max<int64_t>(channels, 1);
  // Rows of `size` weights, each with a scale: an output channel, or for
  // int4 a group of one (along a linear layer's input dim, or a filter's
  // input channels and window flattened; the last group of a channel padded
  // with zeros when group-size does not divide it; a channel shorter than a
  // group is one).
  bool int4 = format == WeightFormat::Int4;
  int64_t size = int4 ? std::min<int64_t>(groupSize, inner) : inner;
  int64_t padded = (inner + size - 1) / size * size;
  SmallVector<float> paddedValues;
  if (padded != inner) {
    paddedValues.assign(channels * padded, 0.0f);
    for (int64_t c = 0; c < channels; ++c)
      llvm::copy(values.slice(c * inner, inner),
                 paddedValues.begin() + c * padded);
    values = paddedValues;
  }
  int64_t rows = int64_t(values.size()) / size;
  SmallVector<float> scales(rows);
  SmallVector<int8_t> ints(values.size());
  for (int64_t c = 0; c < rows; ++c) {
    ArrayRef<float> row = values.slice(c * size, size);
    if (format == WeightFormat::Binary) {
      double sum = 0;
      for (float w : row)
        sum += std::fabs(w);
      scales[c] = sum > 0 ? static_cast<float>(sum / size) : 1.0f;
      for (int64_t i = 0; i < size; ++i)
        ints[c * size + i] = row[i] < 0 ? -1 : 1;
      continue;
    }
    float largest = 0;
    for (float w : row)
      largest = std::max(largest, std::fabs(w));
    float top = int4 ? 7.0f : reduceRange ? 64.0f : 127.0f;
    scales[c] = largest > 0 ? largest / top : 1.0f;
    for (int64_t i = 0; i < size; ++i)
      ints[c * size + i] = static_cast<int8_t>(
          std::clamp(std::nearbyint(row[i] / scales[c]), -top - 1, top));
  }
  OpBuilder b(op);
  // Named after the weight (its ONNX initializer): the integers keep the
  // name, the rest is suffixed.
  std::string base = name.str() + ".weight";
  if (StringRef weightName = getONNXName(weight.getLoc()); !weightName.empty())
    base = weightName.str();
  auto loc = [&](StringRef suffix) {
    return NameLoc::get(b.getStringAttr(base + suffix.str()));
  };
  // Groups are the rows of a [rows, size] view, dequantized per row,
  // reshaped to [channels, padded], sliced to [channels, inner] and reshaped
  // back; an output channel per row keeps the weight's shape.
  bool grouped = size != inner;
  auto intType = grouped
                     ? RankedTensorType::get({rows, size}, b.getI8Type())
                     : RankedTensorType::get(type.getShape(), b.getI8Type());
  Value q = createWeightConstant(
      b, loc(""), intType,
      ArrayRef<char>(reinterpret_cast<const char *>(ints.data()), ints.size()),
      /*alignment=*/64, base + ".quantized");
  auto vector = [&](Type element) {
    return RankedTensorType::get({rows}, element);
  };
  Value scale = createWeightConstant(b, loc(".scale"), vector(b.getF32Type()),
                                     scales, base + ".scale");
  Value zeroPoint = ConstantOp::create(
      b, loc(".zero_point"),
      DenseElementsAttr::get(vector(b.getI8Type()), int8_t(0)));
  Value dequantized = DequantizeOp::create(
      b, loc("_dequantize"),
      RankedTensorType::get(intType.getShape(), b.getF32Type()), q, scale,
      zeroPoint, b.getI64IntegerAttr(0));
  if (grouped) {
    auto paddedType =
        RankedTensorType::get({channels, padded}, type.getElementType());
    if (rows != channels)
      dequantized =
          ReshapeOp::create(b, loc("_reshape"), paddedType, dequantized);
    if (padded != inner)
      dequantized = SliceOp::create(
          b, loc("_slice"),
          RankedTensorType::get({channels, inner}, type.getElementType()),
          dequantized, b.getDenseI64ArrayAttr({1}), b.getDenseI64ArrayAttr({0}),
          b.getDenseI64ArrayAttr({inner}), b.getDenseI64ArrayAttr({1}));
    if (type.getRank() != 2)
      dequantized = ReshapeOp::create(b, loc("_shape"), type, dequantized);
  }
  Operation *old = weight.getDefiningOp();
  op->replaceUsesOfWith(weight, dequantized);
  if (old && old->use_empty())
    old->erase();
}

void ShearsQuantize::quantizeInput(PrunableOpInterface op, StringRef name,
                                   double lo, double hi) {
  Value input = op.getPrunedInput();
  auto type = cast<RankedTensorType>(input.getType());
  auto [scale, zeroPoint] = activationParams(lo, hi);
  OpBuilder b(op);
  Type u8 = b.getIntegerType(8, /*isSigned=*/false);
  auto scalar = [](Type element) { return RankedTensorType::get({}, element); };
  auto loc = [&](StringRef suffix) {
    return NameLoc::get(b.getStringAttr(name + "/input_" + suffix));
  };
  Value scaleValue = ConstantOp::create(
      b, loc("scale"), DenseElementsAttr::get(scalar(b.getF32Type()), scale));
  Value zeroValue = ConstantOp::create(
      b, loc("zero_point"),
      DenseElementsAttr::get(scalar(u8), APInt(8, zeroPoint, false)));
  Value q = QuantizeOp::create(
      b, loc("quantize"), RankedTensorType::get(type.getShape(), u8), input,
      scaleValue, zeroValue, IntegerAttr());
  Value dq = DequantizeOp::create(b, loc("dequantize"), type, q, scaleValue,
                                  zeroValue, IntegerAttr());
  op->replaceUsesOfWith(input, dq);
}

LogicalResult ShearsQuantize::initializeOptions(
    StringRef options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (failed(Pass::initializeOptions(options, errorHandler)))
    return failure();
  if (groupSize < 1)
    return errorHandler("group-size must be positive, got " +
                        Twine(int64_t(groupSize)));
  if (!(percentile > 0.0 && percentile <= 100.0))
    return errorHandler("percentile must be in (0, 100], got " +
                        llvm::formatv("{0}", double(percentile)).str());
  std::string regexError;
  if (!exclude.empty() && !llvm::Regex(exclude).isValid(regexError))
    return errorHandler("exclude '" + exclude +
                        "' is not a valid regex: " + regexError);
  overrides.clear();
  for (const std::string &entry : layerWeights) {
    size_t eq = entry.rfind('=');
    StringRef text =
        eq == std::string::npos ? "" : StringRef(entry).drop_front(eq + 1);
    auto format = llvm::StringSwitch<std::optional<WeightFormat>>(text)
                      .Case("int8", WeightFormat::Int8)
                      .Case("int4", WeightFormat::Int4)
                      .Case("binary", WeightFormat::Binary)
                      .Default(std::nullopt);
    if (!format)
      return errorHandler("layer-weights entry '" + entry +
                          "' is not REGEX=FORMAT (FORMAT int8, int4 or "
                          "binary)");
    std::string regex = entry.substr(0, eq);
    if (!llvm::Regex(regex).isValid(regexError))
      return errorHandler("layer-weights entry '" + entry +
                          "': invalid regex: " + regexError);
    overrides.emplace_back(std::move(regex), *format);
  }
  return success();
}

void ShearsQuantize::quantizeInputDynamically(PrunableOpInterface op,
                                              StringRef name) {
  Value input = op.getPrunedInput();
  OpBuilder b(op);
  auto loc = [&](StringRef suffix) {
    return NameLoc::get(b.getStringAttr(name + "/input_" + suffix));
  };
  auto q = DynamicQuantizeOp::create(b, loc("quantize"), input);
  Value dq = DequantizeOp::create(b, loc("dequantize"), input.getType(),
                                  q.getResult(), q.getScale(),
                                  q.getZeroPoint(), IntegerAttr());
  op->replaceUsesOfWith(input, dq);
}

void ShearsQuantize::runOnOperation() {
  ModuleOp module = getOperation();
  if (reduceRange && weights != WeightFormat::Int8) {
    module.emitError("shears-quantize: reduce-range is for weights=int8");
    return signalPassFailure();
  }
  llvm::Regex excludeRegex(exclude);
  llvm::StringMap<NpzArray> stats;
  if (activations == QuantizedActivations::Static) {
    if (statistics.empty()) {
      module.emitError("shears-quantize: activations=static needs the "
                       "activation statistics (statistics=FILE.npz, from "
                       "shears calibrate --quantization)");
      return signalPassFailure();
    }
    auto loaded = readPassStatistics(module, "shears-quantize", statistics);
    if (failed(loaded))
      return signalPassFailure();
    stats = std::move(*loaded);
  }

  SmallVector<PrunableOpInterface> layers;
  module.walk([&](PrunableOpInterface op) { layers.push_back(op); });
  for (PrunableOpInterface op : layers) {
    StringRef name = getLayerName(op);
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    Value weight = op.getWeight();
    if (name.empty() || weight.getDefiningOp<DequantizeOp>() ||
        weight.getDefiningOp<ReshapeOp>() || weight.getDefiningOp<SliceOp>() ||
        failed(weights))
      continue;
    if (!exclude.empty() && excludeRegex.match(name))
      continue;
    if (std::string bad = describeNonFinite(ArrayRef(*weights)); !bad.empty()) {
      op.emitError() << "the weights of layer '" << name << "' hold " << bad
                     << ": they have no quantization scale (exclude the "
                        "layer with --exclude)";
      return signalPassFailure();
    }
    if (activations == QuantizedActivations::Static) {
      auto range = chooseRange(op, name, stats);
      if (failed(range))
        return signalPassFailure();
      quantizeInput(op, name, range->first, range->second);
      ++numQuantizedInputs;
    } else if (activations == QuantizedActivations::Dynamic &&
               isa<LinearOp>(op)) {
      quantizeInputDynamically(op, name);
      ++numQuantizedInputs;
    }
    quantizeWeight(op, name, *weights, formatOf(op, name));
    ++numQuantizedLayers;
  }
}

} // namespace
