//===- InsertMasks.cpp - Decide which weights go --------------------------===//

#include "shears/Analysis/ChannelGroups.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Finite.h"
#include "shears/Support/Npz.h"
#include "shears/Support/Numbers.h"
#include "shears/Transforms/OBS.h"
#include "shears/Transforms/Passes.h"

#include "Statistics.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Regex.h"

#include <numeric>
#include <random>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSINSERTMASKS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

using Granularity = PruneGranularity;
using Criterion = PruneCriterion;

/// A layer's weights seen as [rows, cols, inner]: rows index output
/// channels, cols input channels, inner everything else (kernel positions).
struct Layer {
  PrunableOpInterface op;
  std::string name;
  RankedTensorType type;
  SmallVector<float> weights;
  int64_t rows, cols, inner;
  /// This layer's sparsity when `layer-sparsity` overrides it, else -1.
  double sparsity = -1;
  /// Per weight, what |w| is multiplied by (taylor: |dL/dw|, activation:
  /// the input channel's norm); empty for the other criteria.
  SmallVector<float> factors;
  /// One score per structure and the weights each structure covers.
  SmallVector<double> scores;
  SmallVector<SmallVector<int64_t>> structures;
  /// Structures to drop.
  SmallVector<bool> pruned;
  /// An embedding table [vocab, dim] (its columns are the output channels),
  /// held in `weights` transposed, as [dim, vocab].
  bool table = false;
  /// For a channel group: the layers it decides, each channel i as the
  /// layer's output channels [offset + i * blockSize, offset + (i + 1) *
  /// blockSize) (an attention head's features).
  struct Member {
    size_t layer;
    int64_t offset, blockSize;
  };
  SmallVector<Member> members;
  /// For a channel group: the layers that read its channels, each channel i
  /// as input channels [offset + i * blockSize, offset + (i + 1) *
  /// blockSize).
  SmallVector<ChannelMember> consumers;
};

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    text += (i ? "x" : "") + std::to_string(d);
  return text + "]";
}

/// A `layer-sparsity` entry.
struct Override {
  std::string pattern;
  llvm::Regex regex;
  double sparsity;
  bool matched = false;
};

} // namespace

FailureOr<SmallVector<float>>
mlir::shears::getScoredWeights(PrunableOpInterface op) {
  auto type = dyn_cast<RankedTensorType>(op.getWeight().getType());
  if (!type || type.getRank() < 2 || op.getWeightOutputDim() != 0 ||
      op.getWeightInputDim() != 1)
    return failure();
  return getConstantFloats(op.getWeight());
}

/// The constant weights of an embedding table (a 2-D weight whose dim 1
/// holds the output channels and that reads no input channels), transposed
/// to [dim, vocab]; failure for anything else.
static FailureOr<SmallVector<float>> getTableWeights(PrunableOpInterface op) {
  auto type = dyn_cast<RankedTensorType>(op.getWeight().getType());
  if (!type || type.getRank() != 2 || op.getWeightOutputDim() != 1 ||
      op.getWeightInputDim() != -1)
    return failure();
  FailureOr<SmallVector<float>> values = getConstantFloats(op.getWeight());
  if (failed(values))
    return failure();
  int64_t vocab = type.getDimSize(0), dim = type.getDimSize(1);
  SmallVector<float> transposed(values->size());
  for (int64_t v = 0; v < vocab; ++v)
    for (int64_t d = 0; d < dim; ++d)
      transposed[d * vocab + v] = (*values)[v * dim + d];
  return transposed;
}

namespace {

struct ShearsInsertMasks
    : shears::impl::ShearsInsertMasksBase<ShearsInsertMasks> {
  using Base::Base;

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override;
  void runOnOperation() override;

private:
  /// The one validation of the options: through `fail` (which returns
  /// failure) on the first bad one; the granularity and the layer-sparsity
  /// overrides parsed.
  LogicalResult checkOptions(function_ref<LogicalResult(const Twine &)> fail,
                             Granularity &result,
                             std::vector<Override> &overrides);
  LogicalResult loadFactors(std::vector<Layer> &layers);
  void buildStructures(Layer &layer, Granularity granularity);
  void score(Layer &layer, std::mt19937_64 &rng);
  void selectPerLayer(Layer &layer, Granularity granularity);
  void roundKept(Layer &unit);
  void selectGlobal(MutableArrayRef<Layer> layers, Granularity granularity);
  void insertMask(Layer &layer, Granularity granularity);
  LogicalResult pruneWithOBS(MutableArrayRef<Layer> layers, Granularity g);
  LogicalResult reconstructConsumers(ArrayRef<Layer> units);
  std::vector<Layer> channelGroupUnits(std::vector<Layer> &layers);
};

LogicalResult ShearsInsertMasks::initializeOptions(
    StringRef options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (failed(Pass::initializeOptions(options, errorHandler)))
    return failure();
  // Bad values fail here, when the pass is made (before a command
  // calibrates, say), as well as when it runs.
  Granularity g;
  std::vector<Override> overrides;
  return checkOptions(
      [&](const Twine &message) {
        return errorHandler("shears-insert-masks: " + message);
      },
      g, overrides);
}

LogicalResult
ShearsInsertMasks::checkOptions(function_ref<LogicalResult(const Twine &)> fail,
                                Granularity &result,
                                std::vector<Override> &overrides) {
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    return fail("sparsity must be in [0, 1), got " + formatNumber(sparsity));
  if (criterion == Criterion::Taylor && gradients.empty())
    return fail("criterion=taylor needs gradients=FILE.npz, the gradients of "
                "the loss per weight (utils/onnx_gradients.py computes them)");
  if (criterion == Criterion::Activation && activations.empty())
    return fail("criterion=activation needs activations=FILE.npz, the input "
                "norms per layer (`shears calibrate` measures them)");
  if (criterion == Criterion::OBS && hessians.empty())
    return fail("criterion=obs needs hessians=FILE.npz, the Gram matrices of "
                "the layers' inputs (`shears calibrate --gram` measures them)");
  if (!(damp > 0) || !std::isfinite(damp))
    return fail("damp must be positive, got " + formatNumber(damp));
  for (const std::string &entry : layerSparsity) {
    size_t eq = entry.rfind('=');
    double value;
    if (eq == std::string::npos ||
        StringRef(entry).drop_front(eq + 1).getAsDouble(value))
      return fail("layer-sparsity entry '" + entry + "' is not REGEX=SPARSITY");
    if (!(value >= 0.0 && value < 1.0))
      return fail("layer-sparsity entry '" + entry +
                  "': sparsity must be in [0, 1)");
    Override o{entry.substr(0, eq), llvm::Regex(entry.substr(0, eq)), value};
    std::string regexError;
    if (!o.regex.isValid(regexError))
      return fail("layer-sparsity entry '" + entry +
                  "': invalid regex: " + regexError);
    overrides.push_back(std::move(o));
  }
  result = granularity;
  if (reconstruct && hessians.empty())
    return fail("reconstruct needs hessians=FILE.npz, the Gram matrices of "
                "the layers' inputs (`shears calibrate --gram` measures them)");
  if (reconstruct && result != Granularity::Channel)
    return fail("reconstruct refits the layers after granularity=channel "
                "only");
  if (result == Granularity::NM && (n < 1 || m < 1 || n > m))
    return fail("n:m needs 1 <= n <= m, got " + Twine(static_cast<int64_t>(n)) + ":" +
                Twine(static_cast<int64_t>(m)));
  if (criterion == Criterion::OBS && result != Granularity::Unstructured &&
      result != Granularity::NM)
    return fail("criterion=obs prunes granularity=unstructured or n:m only");
  if (criterion == Criterion::OBS && scope != PruneScope::Layer)
    return fail("criterion=obs prunes each layer at its sparsity "
                "(scope=layer)");
  if (result == Granularity::Block && (blockRows < 1 || blockCols < 1))
    return fail("block sizes must be positive");
  if (minChannels < 0)
    return fail("min-channels must be non-negative");
  std::string regexError;
  if (!exclude.empty() && !llvm::Regex(exclude).isValid(regexError))
    return fail("invalid exclude regex '" + exclude + "': " + regexError);
  if (roundTo < 1)
    return fail("round-to must be positive");
  return success();
}

/// Reads the criterion's side input: per weight, |dL/dw| (taylor) or the
/// norm of the input channel it reads (activation).
LogicalResult ShearsInsertMasks::loadFactors(std::vector<Layer> &layers) {
  bool taylor = criterion == Criterion::Taylor;
  if (!taylor && criterion != Criterion::Activation)
    return success();
  StringRef path = taylor ? gradients : activations;
  auto arrays = readPassStatistics(getOperation(), "shears-insert-masks", path);
  if (failed(arrays))
    return failure();
  for (Layer &layer : layers) {
    // Gradients are keyed by the weight's initializer, norms by the layer.
    std::string key =
        taylor ? getONNXName(layer.op.getWeight().getLoc()).str() : layer.name;
    auto it = arrays->find(key);
    if (key.empty() || it == arrays->end()) {
      layer.op.emitError() << "shears-insert-masks: '" << path << "' has no "
                           << (taylor ? "gradient for weight '"
                                      : "input norms for layer '")
                           << key << "'";
      return failure();
    }
    const NpzArray &array = it->second;
    if (taylor) {
      if (ArrayRef<int64_t>(array.shape) != layer.type.getShape()) {
        layer.op.emitError()
            << "shears-insert-masks: gradient '" << key << "' has shape "
            << shapeString(array.shape) << ", its weight "
            << shapeString(layer.type.getShape());
        return failure();
      }
      layer.factors.assign(array.values.begin(), array.values.end());
      continue;
    }
    // Activation norms: one per input channel of the op. A grouped filter
    // row r reads the input channels of its group.
    int64_t groups = layer.op.getGroups();
    int64_t channels = layer.cols * groups;
    if (array.shape.size() != 1 || array.shape[0] != channels) {
      layer.op.emitError() << "shears-insert-masks: input norms '" << key
                           << "' have shape " << shapeString(array.shape)
                           << ", expected [" << channels << "]";
      return failure();
    }
    int64_t rowsPerGroup = layer.rows / groups;
    layer.factors.resize(layer.weights.size());
    for (int64_t r = 0; r < layer.rows; ++r)
      for (int64_t c = 0; c < layer.cols; ++c)
        for (int64_t k = 0; k < layer.inner; ++k)
          layer.factors[(r * layer.cols + c) * layer.inner + k] =
              array.values[r / rowsPerGroup * layer.cols + c];
  }
  return success();
}

void ShearsInsertMasks::buildStructures(Layer &layer, Granularity g) {
  auto index = [&](int64_t r, int64_t c, int64_t k) {
    return (r * layer.cols + c) * layer.inner + k;
  };
  auto &s = layer.structures;
  switch (g) {
  case Granularity::Unstructured:
    for (int64_t i = 0, e = layer.weights.size(); i < e; ++i)
      s.push_back({i});
    break;
  case Granularity::Channel:
    for (int64_t r = 0; r < layer.rows; ++r) {
      s.emplace_back();
      for (int64_t c = 0; c < layer.cols; ++c)
        for (int64_t k = 0; k < layer.inner; ++k)
          s.back().push_back(index(r, c, k));
    }
    break;
  case Granularity::InputChannel:
    for (int64_t c = 0; c < layer.cols; ++c) {
      s.emplace_back();
      for (int64_t r = 0; r < layer.rows; ++r)
        for (int64_t k = 0; k < layer.inner; ++k)
          s.back().push_back(index(r, c, k));
    }
    break;
  case Granularity::NM:
    // Each weight is its own structure; selection works per group of m.
    for (int64_t i = 0, e = layer.weights.size(); i < e; ++i)
      s.push_back({i});
    break;
  case Granularity::Block: {
    // Blocks over the 2-D view [rows, cols * inner].
    int64_t width = layer.cols * layer.inner;
    for (int64_t r0 = 0; r0 < layer.rows; r0 += blockRows)
      for (int64_t c0 = 0; c0 < width; c0 += blockCols) {
        s.emplace_back();
        for (int64_t r = r0; r < std::min(layer.rows, r0 + blockRows); ++r)
          for (int64_t c = c0; c < std::min(width, c0 + blockCols); ++c)
            s.back().push_back(r * width + c);
      }
    break;
  }
  }
}

void ShearsInsertMasks::score(Layer &layer, std::mt19937_64 &rng) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (const auto &members : layer.structures) {
    double total = 0;
    for (int64_t i : members) {
      double w = layer.weights[i];
      if (!layer.factors.empty())
        w *= layer.factors[i];
      total += criterion == Criterion::L2 ? w * w : std::fabs(w);
    }
    if (criterion == Criterion::L2)
      total = std::sqrt(total);
    else if (criterion == Criterion::Random)
      total = uniform(rng);
    layer.scores.push_back(total);
  }
  layer.pruned.assign(layer.scores.size(), false);
}

/// Indices of `scores` from lowest to highest, ties by position.
static SmallVector<int64_t> ascending(ArrayRef<double> scores) {
  SmallVector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](int64_t a, int64_t b) {
    return std::tie(scores[a], a) < std::tie(scores[b], b);
  });
  return order;
}

/// How many structures of `layer` may go at most.
static int64_t maxPrunable(const Layer &layer, Granularity g,
                           int64_t minChannels) {
  int64_t count = layer.scores.size();
  if (g == Granularity::Channel || g == Granularity::InputChannel)
    return std::max<int64_t>(0, count - std::max<int64_t>(minChannels, 1));
  return count;
}

void ShearsInsertMasks::selectPerLayer(Layer &layer, Granularity g) {
  if (g == Granularity::NM) {
    // Keep the n largest of every m consecutive weights along the input dim.
    for (int64_t r = 0; r < layer.rows; ++r)
      for (int64_t k = 0; k < layer.inner; ++k)
        for (int64_t c0 = 0; c0 < layer.cols; c0 += m) {
          SmallVector<double> group;
          SmallVector<int64_t> positions;
          for (int64_t c = c0; c < std::min(layer.cols, c0 + m); ++c) {
            int64_t i = (r * layer.cols + c) * layer.inner + k;
            positions.push_back(i);
            group.push_back(layer.scores[i]);
          }
          SmallVector<int64_t> order = ascending(group);
          int64_t drop = static_cast<int64_t>(group.size()) - n;
          for (int64_t j = 0; j < drop; ++j)
            layer.pruned[positions[order[j]]] = true;
        }
    return;
  }
  int64_t count = layer.scores.size();
  double target = layer.sparsity >= 0 ? layer.sparsity : sparsity;
  int64_t drop = std::min<int64_t>(static_cast<int64_t>(target * count),
                                   maxPrunable(layer, g, minChannels));
  SmallVector<int64_t> order = ascending(layer.scores);
  for (int64_t j = 0; j < drop; ++j)
    layer.pruned[order[j]] = true;
}

/// Keeps the best-scored pruned structures of `unit` until the number kept
/// is a multiple of `round-to` (or all are kept).
void ShearsInsertMasks::roundKept(Layer &unit) {
  int64_t count = unit.pruned.size();
  int64_t kept = count - llvm::count(unit.pruned, true);
  // Channels that are blocks of features (heads) round the features.
  int64_t block = unit.members.empty() ? 1 : unit.members.front().blockSize;
  int64_t step = roundTo / std::gcd<int64_t>(roundTo, block);
  int64_t target = std::min(count, (kept + step - 1) / step * step);
  SmallVector<int64_t> order = ascending(unit.scores);
  for (int64_t i = count - 1; i >= 0 && kept < target; --i)
    if (unit.pruned[order[i]]) {
      unit.pruned[order[i]] = false;
      ++kept;
    }
}

void ShearsInsertMasks::selectGlobal(MutableArrayRef<Layer> layers,
                                     Granularity g) {
  // One threshold over all layers. Single weights compare as they are (as
  // torch's global magnitude pruning does); structures are scored relative
  // to their layer's mean so that wide and narrow layers compare fairly.
  SmallVector<std::tuple<double, int64_t, int64_t>> all;
  for (auto [l, layer] : llvm::enumerate(layers)) {
    if (layer.sparsity >= 0) {
      selectPerLayer(layer, g); // Overridden: outside the global threshold.
      continue;
    }
    double mean = 0;
    for (double s : layer.scores)
      mean += s / layer.scores.size();
    bool normalize = g != Granularity::Unstructured && mean > 0;
    for (auto [i, s] : llvm::enumerate(layer.scores))
      all.emplace_back(normalize ? s / mean : s, l, i);
  }
  llvm::sort(all); // By score, ties by layer and position: deterministic.
  int64_t drop = static_cast<int64_t>(sparsity * all.size());
  SmallVector<int64_t> dropped(layers.size(), 0);
  for (const auto &[score, l, i] : all) {
    if (drop == 0)
      break;
    if (dropped[l] >= maxPrunable(layers[l], g, minChannels))
      continue;
    layers[l].pruned[i] = true;
    ++dropped[l];
    --drop;
  }
}

void ShearsInsertMasks::insertMask(Layer &layer, Granularity g) {
  // The mask's shape: broadcast along what a structure spans.
  int64_t rank = layer.type.getRank();
  int64_t outDim = layer.op.getWeightOutputDim();
  int64_t inDim = layer.op.getWeightInputDim();
  SmallVector<int64_t> shape(layer.type.getShape());
  SmallVector<char> bits;
  if (g == Granularity::Channel || g == Granularity::InputChannel) {
    int64_t keepDim = g == Granularity::Channel ? outDim : inDim;
    for (int64_t d = 0; d < rank; ++d)
      if (d != keepDim)
        shape[d] = 1;
    for (bool p : layer.pruned)
      bits.push_back(!p);
  } else {
    bits.assign(layer.weights.size(), 1);
    for (auto [s, p] : llvm::enumerate(layer.pruned))
      if (p)
        for (int64_t i : layer.structures[s])
          bits[i] = 0;
  }
  int64_t zeros = 0;
  for (auto [s, p] : llvm::enumerate(layer.pruned))
    if (p)
      zeros += layer.structures[s].size();
  if (zeros == 0)
    return;
  if (layer.table && bits.size() == layer.weights.size()) {
    // Back from [dim, vocab] to the table's [vocab, dim].
    SmallVector<char> table(bits.size());
    for (int64_t r = 0; r < layer.rows; ++r)
      for (int64_t c = 0; c < layer.cols; ++c)
        table[c * layer.rows + r] = bits[r * layer.cols + c];
    bits = std::move(table);
  }

  OpBuilder b(layer.op);
  Location loc = layer.op->getLoc();
  auto maskType = RankedTensorType::get(shape, b.getI1Type());
  auto maskAttr = DenseResourceElementsAttr::get(
      maskType, layer.name.empty() ? "mask" : layer.name + ".mask",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bits, alignof(char)));
  Value mask = ConstantOp::create(b, loc, maskAttr);
  Value weight = layer.op.getWeight();
  Value masked = MaskOp::create(b, loc, weight, mask);
  layer.op->replaceUsesOfWith(weight, masked);
  // A removed filter takes its bias along: the channel then carries zero and
  // can go physically (eliminate-dead-neurons) without changing outputs.
  Value bias = layer.op.getPrunedBias();
  if (g == Granularity::Channel && bias &&
      succeeded(getConstantFloats(bias))) {
    auto biasMaskType = RankedTensorType::get(
        cast<RankedTensorType>(bias.getType()).getShape(), b.getI1Type());
    auto biasMask = DenseResourceElementsAttr::get(
        biasMaskType, layer.name.empty() ? "bias.mask" : layer.name + ".bias.mask",
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bits, alignof(char)));
    Value maskedBias = MaskOp::create(
        b, loc, bias, ConstantOp::create(b, loc, biasMask));
    layer.op->replaceUsesOfWith(bias, maskedBias);
  }
  ++numMaskedLayers;
  numPrunedWeights += zeros;
}

void ShearsInsertMasks::runOnOperation() {
  Granularity g;
  std::vector<Override> overrides;
  if (failed(checkOptions(
          [&](const Twine &message) {
            getOperation().emitError() << "shears-insert-masks: " << message;
            return failure();
          },
          g, overrides)))
    return signalPassFailure();
  llvm::Regex excludeRegex(exclude);

  std::vector<Layer> layers;
  bool excludedAny = false;
  WalkResult walked = getOperation().walk([&](PrunableOpInterface op) {
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    auto type = cast<RankedTensorType>(op.getWeight().getType());
    bool table = false;
    if (failed(weights)) {
      // An embedding table: scored by magnitude, l2 or at random, as
      // [dim, vocab] so that its output channels are rows like a filter's.
      weights = getTableWeights(op);
      if (failed(weights) || g == Granularity::InputChannel ||
          !llvm::is_contained(
              {Criterion::Magnitude, Criterion::L2, Criterion::Random},
              criterion))
        return WalkResult::advance();
      table = true;
    }
    std::string name = getLayerName(op).str();
    if (!exclude.empty() && excludeRegex.match(name)) {
      excludedAny = true;
      return WalkResult::advance();
    }
    if (std::string bad = describeNonFinite(ArrayRef(*weights)); !bad.empty()) {
      op.emitError() << "the weights of layer '" << name << "' hold " << bad
                     << ": they cannot be ranked (exclude the layer with "
                        "--exclude)";
      return WalkResult::interrupt();
    }
    // A grouped filter's dim 1 is not the op's input channels.
    if (g == Granularity::InputChannel && op.getGroups() != 1)
      return WalkResult::advance();
    Layer layer;
    layer.op = op;
    layer.name = name;
    layer.type = type;
    layer.weights = std::move(*weights);
    layer.table = table;
    layer.rows = type.getDimSize(table ? 1 : 0);
    layer.cols = type.getDimSize(table ? 0 : 1);
    layer.inner = type.getNumElements() / (layer.rows * layer.cols);
    for (Override &o : overrides)
      if (o.regex.match(name)) {
        o.matched = true;
        layer.sparsity = o.sparsity;
        break;
      }
    layers.push_back(std::move(layer));
    return WalkResult::advance();
  });
  if (walked.wasInterrupted())
    return signalPassFailure();
  if (!exclude.empty() && !excludedAny) {
    getOperation().emitError() << "shears-insert-masks: exclude regex '"
                               << exclude << "' matches no layer";
    return signalPassFailure();
  }
  for (const Override &o : overrides)
    if (!o.matched) {
      getOperation().emitError()
          << "shears-insert-masks: layer-sparsity regex '" << o.pattern
          << "' matches no layer";
      return signalPassFailure();
    }
  bool anyOverride = llvm::any_of(
      layers, [](const Layer &layer) { return layer.sparsity > 0; });
  if (sparsity == 0.0 && !anyOverride && g != Granularity::NM)
    return;
  if (criterion == Criterion::OBS) {
    if (failed(pruneWithOBS(layers, g)))
      return signalPassFailure();
    for (Layer &layer : layers)
      insertMask(layer, g);
    return;
  }
  if (failed(loadFactors(layers)))
    return signalPassFailure();

  std::mt19937_64 rng(seed);
  for (Layer &layer : layers) {
    buildStructures(layer, g);
    score(layer, rng);
  }
  // Output channels are decided per channel group: coupled channels of
  // several layers (a residual add, a concat) live or die together.
  std::vector<Layer> units = g == Granularity::Channel ? channelGroupUnits(layers)
                                                       : std::vector<Layer>();
  std::vector<Layer> &selected = g == Granularity::Channel ? units : layers;
  if (scope == PruneScope::Global && g != Granularity::NM)
    selectGlobal(selected, g);
  else
    for (Layer &layer : selected)
      selectPerLayer(layer, g);
  if (g == Granularity::Channel)
    for (Layer &unit : units)
      roundKept(unit);
  if (g == Granularity::Channel)
    for (Layer &unit : units)
      for (const Layer::Member &member : unit.members)
        for (auto [i, p] : llvm::enumerate(unit.pruned))
          for (int64_t k = 0; k < member.blockSize; ++k)
            layers[member.layer]
                .pruned[member.offset + i * member.blockSize + k] = p;
  if (reconstruct && failed(reconstructConsumers(units)))
    return signalPassFailure();
  for (Layer &layer : layers)
    insertMask(layer, g);
}

/// Prunes each layer with OBS and puts the updated weights in place of its
/// weight; `pruned` then holds one entry per weight.
LogicalResult ShearsInsertMasks::pruneWithOBS(MutableArrayRef<Layer> layers,
                                              Granularity g) {
  auto grams =
      readPassStatistics(getOperation(), "shears-insert-masks", hessians);
  if (failed(grams))
    return failure();
  for (Layer &layer : layers) {
    int64_t cols = layer.cols * layer.inner;
    if (layer.op.getGroups() != 1)
      return layer.op.emitError()
             << "shears-insert-masks: criterion=obs does not prune grouped "
                "convolutions such as '"
             << layer.name << "' (exclude them with exclude)";
    auto it = grams->find(layer.name + ".gram");
    if (layer.name.empty() || it == grams->end())
      return layer.op.emitError()
             << "shears-insert-masks: '" << hessians
             << "' has no Gram matrix for layer '" << layer.name
             << "' (expected '" << layer.name
             << ".gram', as shears calibrate --gram writes)";
    const NpzArray &gram = it->second;
    if (ArrayRef<int64_t>(gram.shape) != ArrayRef<int64_t>{cols, cols})
      return layer.op.emitError()
             << "shears-insert-masks: Gram matrix '" << layer.name
             << ".gram' has shape " << shapeString(gram.shape) << ", expected ["
             << cols << "x" << cols << "]";
    OBSTarget target;
    target.sparsity = layer.sparsity >= 0 ? layer.sparsity : sparsity;
    if (g == Granularity::NM) {
      target.n = n;
      target.m = m;
    }
    target.inner = layer.inner;
    target.damp = damp;
    if (target.sparsity == 0 && g != Granularity::NM) {
      // Nothing to prune: the layer stays as it is.
      buildStructures(layer, Granularity::Unstructured);
      layer.pruned.assign(layer.weights.size(), false);
      continue;
    }
    SmallVector<bool> pruned;
    std::string error;
    if (failed(shears::pruneWithOBS(layer.weights, layer.rows, cols,
                                    gram.values, target, pruned, error)))
      return layer.op.emitError()
             << "shears-insert-masks: layer '" << layer.name << "': " << error;
    buildStructures(layer, Granularity::Unstructured);
    layer.pruned.assign(pruned.begin(), pruned.end());
    // The weights kept, updated, replace the layer's weight.
    Value weight = layer.op.getWeight();
    OpBuilder b(layer.op);
    std::string base = getONNXName(weight.getLoc()).str();
    if (base.empty())
      base = layer.name + ".weight";
    Value updated = createWeightConstant(b, weight.getLoc(), layer.type,
                                         layer.weights, base + ".obs");
    layer.op->replaceUsesOfWith(weight, updated);
    if (Operation *old = weight.getDefiningOp(); old && old->use_empty())
      old->erase();
  }
  return success();
}

/// Refits every layer that reads pruned channels to its outputs on the
/// calibration data: with G the Gram matrix of its inputs (im2col columns)
/// and S the columns that stay, the least-squares weights are
/// W_S = W G[:, S] G[S, S]^-1 (the columns that stay carry the same values
/// as before: only whole channels went).
LogicalResult ShearsInsertMasks::reconstructConsumers(ArrayRef<Layer> units) {
  auto grams =
      readPassStatistics(getOperation(), "shears-insert-masks", hessians);
  if (failed(grams))
    return failure();
  // The input channels each consumer loses, over every group it reads.
  llvm::MapVector<Operation *, llvm::DenseSet<int64_t>> lost;
  for (const Layer &unit : units)
    for (const ChannelMember &consumer : unit.consumers)
      for (auto [i, p] : llvm::enumerate(unit.pruned))
        if (p)
          for (int64_t b = 0; b < consumer.blockSize; ++b)
            lost[consumer.op].insert(consumer.offset +
                                     int64_t(i) * consumer.blockSize + b);
  for (auto &[op, channels] : lost) {
    auto layer = cast<PrunableOpInterface>(op);
    FailureOr<SmallVector<float>> weights = getScoredWeights(layer);
    if (failed(weights) || layer.getGroups() != 1)
      continue;
    std::string name = getLayerName(op).str();
    auto type = cast<RankedTensorType>(layer.getWeight().getType());
    int64_t rows = type.getDimSize(0), cols = type.getNumElements() / rows;
    int64_t inner = cols / type.getDimSize(1);
    auto it = grams->find(name + ".gram");
    if (name.empty() || it == grams->end())
      return op->emitError()
             << "shears-insert-masks: '" << hessians
             << "' has no Gram matrix for layer '" << name
             << "', which reads pruned channels (expected '" << name
             << ".gram', as shears calibrate --gram writes)";
    if (ArrayRef<int64_t>(it->second.shape) != ArrayRef<int64_t>{cols, cols})
      return op->emitError()
             << "shears-insert-masks: Gram matrix '" << name
             << ".gram' has shape " << shapeString(it->second.shape)
             << ", expected [" << cols << "x" << cols << "]";
    // The means give the fit an intercept: the bias makes up for the mean
    // of the channels that went (bias compensation).
    ArrayRef<float> mean;
    if (auto m = grams->find(name + ".mean");
        m != grams->end() && m->second.values.size() == size_t(cols))
      mean = m->second.values;
    SmallVector<int64_t> kept;
    for (int64_t col = 0; col < cols; ++col)
      if (!channels.contains(col / inner))
        kept.push_back(col);
    std::string error;
    SmallVector<float> shift;
    if (failed(refitColumns(*weights, rows, cols, it->second.values, mean, kept,
                            damp, shift, error)))
      return op->emitError()
             << "shears-insert-masks: layer '" << name << "': " << error;
    Value weight = layer.getWeight();
    OpBuilder b(op);
    if (!mean.empty()) {
      Value bias = layer.getPrunedBias();
      SmallVector<float> values(rows, 0.0f);
      FailureOr<SmallVector<float>> old =
          bias ? getConstantFloats(bias) : FailureOr<SmallVector<float>>();
      if (bias && failed(old))
        return op->emitError() << "shears-insert-masks: reconstruct needs "
                                  "the bias of layer '"
                               << name << "' to be a constant";
      if (bias)
        values = *old;
      for (int64_t r = 0; r < rows; ++r)
        values[r] += shift[r];
      std::string biasName = bias ? getONNXName(bias.getLoc()).str() : "";
      Value shifted = createWeightConstant(
          b, bias ? bias.getLoc() : op->getLoc(),
          RankedTensorType::get({rows}, type.getElementType()), values,
          (biasName.empty() ? name + ".bias" : biasName) + ".refit");
      if (bias) {
        op->replaceUsesOfWith(bias, shifted);
        if (Operation *old = bias.getDefiningOp(); old && old->use_empty())
          old->erase();
      } else {
        op->insertOperands(2, shifted);
      }
    }
    std::string base = getONNXName(weight.getLoc()).str();
    Value refit = createWeightConstant(
        b, weight.getLoc(), type, *weights,
        (base.empty() ? name + ".weight" : base) + ".refit");
    op->replaceUsesOfWith(weight, refit);
    if (Operation *old = weight.getDefiningOp(); old && old->use_empty())
      old->erase();
    ++numRefitLayers;
  }
  return success();
}

/// Adds to each group channel i the mean of `values` over the channel's
/// block of `member` ([offset + i * blockSize, offset + (i + 1) *
/// blockSize)), relative to the mean of all `values`: a member counts alike
/// whatever its size.
static void addRelativeScores(MutableArrayRef<double> scores,
                              ArrayRef<double> values,
                              const ChannelMember &member) {
  double mean = 0;
  for (double value : values)
    mean += value / values.size();
  for (auto [i, score] : llvm::enumerate(scores)) {
    double block = 0;
    for (int64_t k = 0; k < member.blockSize; ++k)
      block +=
          values[member.offset + i * member.blockSize + k] / member.blockSize;
    score += mean > 0 ? block / mean : block;
  }
}

std::vector<Layer>
ShearsInsertMasks::channelGroupUnits(std::vector<Layer> &layers) {
  DenseMap<Operation *, size_t> layerIndex;
  for (auto [i, layer] : llvm::enumerate(layers))
    layerIndex[layer.op] = i;
  std::vector<Layer> units;
  for (auto func : getOperation().getOps<func::FuncOp>()) {
    ChannelGroups groups(func);
    for (const ChannelGroup &group : groups.getGroups()) {
      Layer unit;
      unit.name = "group";
      // A group's producers decide its sparsity; where their overrides
      // differ, the lowest wins.
      for (const ChannelMember &member : group.members)
        if (auto it = layerIndex.find(member.op);
            member.role == ChannelMember::Role::Producer &&
            it != layerIndex.end() && layers[it->second].sparsity >= 0)
          unit.sparsity =
              unit.sparsity < 0
                  ? layers[it->second].sparsity
                  : std::min(unit.sparsity, layers[it->second].sparsity);
      unit.scores.assign(group.size, 0.0);
      bool usable = group.prunable;
      for (const ChannelMember &member : group.members) {
        if (member.role != ChannelMember::Role::Producer)
          continue;
        auto it = layerIndex.find(member.op);
        // An excluded layer or one without constant weights keeps the whole
        // group dense.
        if (it == layerIndex.end()) {
          usable = false;
          break;
        }
        unit.members.push_back({it->second, member.offset, member.blockSize});
        // Each member counts relative to its own layer's mean, so that a
        // 3x3x1 filter and a 3x3x256 one weigh alike in the group; a block
        // of channels (a head) by its mean.
        addRelativeScores(unit.scores, layers[it->second].scores, member);
      }
      if (!usable || unit.members.empty())
        continue;
      for (const ChannelMember &member : group.members)
        if (member.role == ChannelMember::Role::Consumer)
          unit.consumers.push_back(member);
      // With input norms, a channel also counts by what its activations
      // carry into the layers that read them: sum |w| * norm over its
      // columns of each consumer, relative to that consumer's mean column
      // (an attention head by what it adds to the output projection).
      if (criterion == Criterion::Activation)
        for (const ChannelMember &consumer : unit.consumers) {
          auto it = layerIndex.find(consumer.op);
          if (it == layerIndex.end())
            continue;
          const Layer &layer = layers[it->second];
          if (layer.factors.empty() || layer.table)
            continue;
          SmallVector<double> columns(layer.cols, 0.0);
          for (int64_t r = 0; r < layer.rows; ++r)
            for (int64_t c = 0; c < layer.cols; ++c)
              for (int64_t k = 0; k < layer.inner; ++k) {
                int64_t i = (r * layer.cols + c) * layer.inner + k;
                columns[c] += std::fabs(layer.weights[i] * layer.factors[i]);
              }
          addRelativeScores(unit.scores, columns, consumer);
        }
      unit.pruned.assign(group.size, false);
      units.push_back(std::move(unit));
    }
  }
  return units;
}

} // namespace
