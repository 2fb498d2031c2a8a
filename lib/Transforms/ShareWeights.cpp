//===- ShareWeights.cpp - k-means weight sharing --------------------------===//
//
// Deep Compression's second stage (Han et al. 2016): the weights of a layer
// take only a few distinct values, the centroids of a one-dimensional
// k-means over its non-zero weights, so that each weight is stored as a
// short index into a per-layer codebook (`shears pack`). The model stays an
// ordinary f32 model that runs and exports as before.
//
//===----------------------------------------------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Finite.h"
#include "shears/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSSHAREWEIGHTS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

/// The split points of `sorted` among sorted `centroids`: cluster c holds
/// sorted[split[c], split[c + 1]), each value nearest its centroid.
std::vector<size_t> assign(ArrayRef<float> sorted, ArrayRef<double> centroids) {
  std::vector<size_t> split(centroids.size() + 1, 0);
  split.back() = sorted.size();
  for (size_t c = 1; c < centroids.size(); ++c) {
    double boundary = (centroids[c - 1] + centroids[c]) / 2;
    split[c] =
        std::upper_bound(sorted.begin() + split[c - 1], sorted.end(), boundary,
                         [](double b, float v) { return b < v; }) -
        sorted.begin();
  }
  return split;
}

/// Up to `k` centroids of a 1-D k-means over `sorted` (ascending, not
/// empty), started as `init` says and refined by Lloyd's iterations until
/// no value changes cluster.
std::vector<double> kmeans(ArrayRef<float> sorted, size_t k, CentroidInit init,
                           int64_t iterations, std::mt19937_64 &rng) {
  size_t n = sorted.size();
  std::vector<double> centroids(k);
  double lo = sorted.front(), hi = sorted.back();
  for (size_t c = 0; c < k; ++c) {
    switch (init) {
    case CentroidInit::Linear:
      centroids[c] = k == 1 ? (lo + hi) / 2 : lo + (hi - lo) * c / (k - 1);
      break;
    case CentroidInit::Density:
      centroids[c] = sorted[std::min(n - 1, size_t((c + 0.5) * n / k))];
      break;
    case CentroidInit::Random:
      centroids[c] =
          sorted[std::uniform_int_distribution<size_t>(0, n - 1)(rng)];
      break;
    }
  }
  std::sort(centroids.begin(), centroids.end());
  std::vector<size_t> split;
  for (int64_t iteration = 0; iteration < iterations; ++iteration) {
    std::vector<size_t> next = assign(sorted, centroids);
    if (next == split)
      break;
    split = std::move(next);
    // An empty cluster keeps its centroid; the others move to their mean.
    for (size_t c = 0; c < k; ++c) {
      if (split[c] == split[c + 1])
        continue;
      double sum = 0;
      for (size_t i = split[c]; i < split[c + 1]; ++i)
        sum += sorted[i];
      centroids[c] = sum / double(split[c + 1] - split[c]);
    }
  }
  return centroids;
}

/// A layer-bits entry (the pass is cloned, so it keeps the pattern).
struct Override {
  std::string pattern;
  int64_t bits;
};

struct ShearsShareWeights
    : shears::impl::ShearsShareWeightsBase<ShearsShareWeights> {
  using Base::Base;

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override;
  void runOnOperation() override;

private:
  /// The weights of `values` replaced by the nearest of at most 2^bits - 1
  /// centroids of the non-zero ones; zeros stay, as +0.0. Weights that take no
  /// more distinct non-zero values than that are left as they are.
  void share(MutableArrayRef<float> values, int64_t bits, std::mt19937_64 &rng);

  std::vector<Override> overrides;
};

LogicalResult ShearsShareWeights::initializeOptions(
    StringRef options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (failed(Pass::initializeOptions(options, errorHandler)))
    return failure();
  auto checkBits = [&](StringRef what, int64_t bits) {
    if (bits >= 2 && bits <= 8)
      return success();
    return errorHandler(what + " must be in [2, 8], got " + Twine(bits));
  };
  if (failed(checkBits("conv-bits", convBits)) ||
      failed(checkBits("linear-bits", linearBits)))
    return failure();
  if (iterations < 1)
    return errorHandler("iterations must be positive, got " +
                        Twine(int64_t(iterations)));
  std::string regexError;
  if (!exclude.empty() && !llvm::Regex(exclude).isValid(regexError))
    return errorHandler("exclude '" + exclude +
                        "' is not a valid regex: " + regexError);
  overrides.clear();
  for (const std::string &entry : layerBits) {
    size_t eq = entry.rfind('=');
    int64_t bits;
    if (eq == std::string::npos ||
        StringRef(entry).drop_front(eq + 1).getAsInteger(10, bits))
      return errorHandler("layer-bits entry '" + entry + "' is not REGEX=BITS");
    if (failed(checkBits("layer-bits entry '" + entry + "': bits", bits)))
      return failure();
    llvm::Regex regex(entry.substr(0, eq));
    if (!regex.isValid(regexError))
      return errorHandler("layer-bits entry '" + entry +
                          "': invalid regex: " + regexError);
    overrides.push_back({entry.substr(0, eq), bits});
  }
  return success();
}

void ShearsShareWeights::share(MutableArrayRef<float> values, int64_t bits,
                               std::mt19937_64 &rng) {
  size_t k = (size_t(1) << bits) - 1;
  std::vector<float> sorted;
  llvm::DenseSet<uint32_t> distinct;
  for (float &v : values) {
    // A pruned weight is codebook entry 0, +0.0: a -0.0 (what masking a
    // negative weight by multiplication leaves, as PyTorch's pruning does)
    // would otherwise be stored as a value of its own.
    if (v == 0.0f) {
      v = 0.0f;
      continue;
    }
    sorted.push_back(v);
    uint32_t pattern;
    std::memcpy(&pattern, &v, sizeof(pattern));
    distinct.insert(pattern);
  }
  if (distinct.size() <= k)
    return;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> centroids = kmeans(sorted, k, init, iterations, rng);
  std::vector<float> shared(centroids.begin(), centroids.end());
  for (float &v : values) {
    if (v == 0.0f)
      continue;
    // The nearest centroid: the first whose upper boundary is above v.
    size_t c = 0;
    size_t hi = centroids.size() - 1;
    while (c < hi) {
      size_t mid = (c + hi) / 2;
      if (v > (centroids[mid] + centroids[mid + 1]) / 2)
        c = mid + 1;
      else
        hi = mid;
    }
    v = shared[c];
  }
}

void ShearsShareWeights::runOnOperation() {
  llvm::Regex excludeRegex(exclude);
  SmallVector<std::pair<llvm::Regex, int64_t>> layerRegexes;
  for (const Override &o : overrides)
    layerRegexes.emplace_back(llvm::Regex(o.pattern), o.bits);
  std::mt19937_64 rng(seed);
  SmallVector<PrunableOpInterface> layers;
  getOperation().walk([&](PrunableOpInterface op) { layers.push_back(op); });
  for (PrunableOpInterface op : layers) {
    StringRef name = getLayerName(op);
    if (name.empty() || !isa<LinearOp, Conv2DOp>(op))
      continue;
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    Value weight = op.getWeight();
    if (failed(weights) || !weight.getDefiningOp<ConstantOp>())
      continue;
    if (!exclude.empty() && excludeRegex.match(name))
      continue;
    if (std::string bad = describeNonFinite(ArrayRef(*weights)); !bad.empty()) {
      op.emitError() << "the weights of layer '" << name << "' hold " << bad
                     << ": they cannot be clustered (exclude the layer with "
                        "exclude)";
      return signalPassFailure();
    }
    int64_t bits = isa<Conv2DOp>(op) ? convBits : linearBits;
    for (auto &[regex, overrideBits] : layerRegexes)
      if (regex.match(name)) {
        bits = overrideBits;
        break;
      }
    share(*weights, bits, rng);
    OpBuilder b(op);
    std::string base = name.str() + ".weight";
    if (StringRef weightName = getONNXName(weight.getLoc());
        !weightName.empty())
      base = weightName.str();
    Value shared = createWeightConstant(
        b, weight.getLoc(), cast<RankedTensorType>(weight.getType()), *weights,
        base);
    Operation *old = weight.getDefiningOp();
    op->replaceUsesOfWith(weight, shared);
    if (old->use_empty())
      old->erase();
    ++numSharedLayers;
  }
}

} // namespace
