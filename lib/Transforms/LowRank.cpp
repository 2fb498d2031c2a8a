//===- LowRank.cpp - Low-rank factorization of layers ---------------------===//
//
// A weight W [out, in] of rank r is U V with U [out, r] and V [r, in]: one
// layer becomes two thinner ones and r * (in + out) parameters replace
// in * out. The truncated SVD gives the best such pair for the weights;
// with the Gram matrix G = X^T X of the layer's calibration inputs it gives
// the best pair for the layer's outputs (SVD-LLM, Wang et al. 2024): with
// G = L L^T, ||X (W - W')^T|| = ||(W - W') L||, so W L is truncated and
// the result multiplied by L^-1. A convolution is factored in its im2col
// view: a k x k convolution with r filters, then a 1 x 1 one.
//
// Tucker-2 (Kim et al. 2016) factors a convolution's filter W [out, in, k]
// (k the window) along both channel modes: W ~ C x_0 U_out x_1 U_in, C
// [r_out, r_in, k], so that a 1 x 1 convolution projects the inputs on
// U_in, the k x k core convolution runs between the two small channel
// counts, and a 1 x 1 convolution expands to the outputs with U_out. The
// factors start from each mode's leading left singular vectors (HOSVD) and
// are refined by alternating least squares (HOOI, De Lathauwer et al.
// 2000): each U in turn the leading eigenvectors of the Gram matrix of W
// projected on the other.
//
//===----------------------------------------------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Finite.h"
#include "shears/Support/Npz.h"
#include "shears/Support/Numbers.h"
#include "shears/Transforms/Passes.h"
#include "shears/Transforms/Report.h"

#include "Matrices.h"

#include "Statistics.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSLOWRANK
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

using Matrix =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A layer that may be factored: W viewed as [out, in], and the SVD of W
/// (or of W L, whitened); for Tucker-2 the SVDs of W's two channel modes.
struct Layer {
  PrunableOpInterface op;
  std::string name;
  int64_t out, in;
  Matrix u;                 // [out, k]
  Matrix v;                 // [in, k]
  Eigen::VectorXd singular; // k, descending
  std::optional<Eigen::LLT<Eigen::MatrixXd>> whitening;
  double totalEnergy = 0; // sum of singular^2
  int64_t rank = 0;       // chosen

  /// Tucker-2: W [out, channels * window] (in = channels * window); u and
  /// singular are its output mode's, uIn and singularIn its input mode's.
  bool tucker = false;
  int64_t channels = 0, window = 1;
  Matrix weight;
  Matrix uIn;                 // [channels, k]
  Eigen::VectorXd singularIn; // k, descending
  int64_t rankIn = 0;         // chosen

  /// Multiply-accumulates per sample of each weight element (output
  /// positions: 1 for a linear layer on vectors), and for a Tucker-2
  /// layer's first 1 x 1 convolution its input positions.
  double positions = 1, inputPositions = 1;

  /// Under a budget: the states a layer's ranks go through, one rank more
  /// at each (Tucker-2: {rank, rankIn}; SVD: {rank}), and the energy
  /// relative to the layer's that each state adds per unit of cost it adds.
  std::vector<std::pair<int64_t, int64_t>> states;
  std::vector<double> values;

  int64_t fullRank() const { return singular.size(); }
  int64_t fullRankIn() const { return singularIn.size(); }
  int64_t denseParams() const { return out * in; }
  /// Tucker-2: a rank as large as its mode makes that mode's 1 x 1
  /// convolution a rotation, folded into the core.
  bool foldsOutputs() const { return tucker && rank >= out; }
  bool foldsInputs() const { return tucker && rankIn >= channels; }
  /// The core's output and input channels.
  int64_t coreOut() const { return foldsOutputs() ? out : rank; }
  int64_t coreIn() const { return foldsInputs() ? channels : rankIn; }
  int64_t factoredParams() const { return int64_t(factoredCost(false)); }
  /// Parameters, or with `macs` multiply-accumulates per sample.
  double denseCost(bool macs) const {
    return double(denseParams()) * (macs ? positions : 1.0);
  }
  double factoredCost(bool macs) const {
    double at = macs ? positions : 1.0;
    if (!tucker)
      return double(rank * (out + in)) * at;
    double cost = double(coreOut() * coreIn() * window) * at;
    if (!foldsInputs())
      cost += double(rankIn * channels) * (macs ? inputPositions : 1.0);
    if (!foldsOutputs())
      cost += double(out * rank) * at;
    return cost;
  }
  /// The fraction of W's energy kept: exact for SVD; for Tucker-2 the HOSVD
  /// bound, 1 minus the energy each mode drops.
  double energyKept() const {
    if (totalEnergy <= 0)
      return 1;
    auto dropped = [&](const Eigen::VectorXd &s, int64_t r) {
      return 1 -
             s.head(std::min<int64_t>(r, s.size())).squaredNorm() / totalEnergy;
    };
    if (!tucker)
      return 1 - dropped(singular, rank);
    return std::max(0.0,
                    1 - dropped(singular, rank) - dropped(singularIn, rankIn));
  }
};

struct ShearsLowRank : shears::impl::ShearsLowRankBase<ShearsLowRank> {
  using Base::Base;

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override;
  void runOnOperation() override;

private:
  LogicalResult decompose(Layer &layer, ArrayRef<float> weights,
                          const llvm::StringMap<NpzArray> &grams);
  LogicalResult chooseRanks(MutableArrayRef<Layer> layers);
  bool saves(const Layer &layer) const {
    return !requireSaving || layer.factoredParams() < layer.denseParams();
  }
  void factor(Layer &layer);
  void factorTucker(Layer &layer);
};

LogicalResult ShearsLowRank::initializeOptions(
    StringRef options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (failed(Pass::initializeOptions(options, errorHandler)))
    return failure();
  if (!(energy > 0 && energy <= 1))
    return errorHandler("energy must be in (0, 1], got " +
                        formatNumber(energy));
  if (!(maxError >= 0 && maxError < 1))
    return errorHandler("max-error must be in [0, 1), got " +
                        formatNumber(maxError));
  if (!(params > 0 && params <= 1))
    return errorHandler("params must be in (0, 1], got " +
                        formatNumber(params));
  if (!(macs > 0 && macs <= 1))
    return errorHandler("macs must be in (0, 1], got " + formatNumber(macs));
  if (rankBy == RankSelection::Rank && rank < 1)
    return errorHandler("rank-by=rank needs a rank of at least 1, got " +
                        Twine(int64_t(rank)));
  if (!(damp > 0) || !std::isfinite(damp))
    return errorHandler("damp must be positive, got " + formatNumber(damp));
  if (decomposition == Decomposition::Tucker2 && !statistics.empty())
    return errorHandler("decomposition=tucker2 is not data-aware: give no "
                        "statistics");
  std::string regexError;
  if (!exclude.empty() && !llvm::Regex(exclude).isValid(regexError))
    return errorHandler("exclude '" + exclude +
                        "' is not a valid regex: " + regexError);
  return success();
}

/// `m` [rows, channels * window] as [channels, rows * window]: the unfolding
/// of the tensor [rows, channels, window] along its channels.
Matrix unfoldChannels(const Matrix &m, int64_t channels, int64_t window) {
  Matrix result(channels, m.rows() * window);
  for (int64_t r = 0; r < m.rows(); ++r)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < window; ++p)
        result(c, r * window + p) = m(r, c * window + p);
  return result;
}

/// `m` [rows, channels * window] with its channels projected on the columns
/// of `basis` [channels, k]: [rows, k * window].
Matrix projectChannels(const Matrix &m, const Matrix &basis, int64_t window) {
  int64_t channels = basis.rows(), k = basis.cols();
  Matrix result(m.rows(), k * window);
  for (int64_t r = 0; r < m.rows(); ++r) {
    Eigen::Map<const Matrix> slice(m.row(r).data(), channels, window);
    Eigen::Map<Matrix>(result.row(r).data(), k, window) =
        basis.transpose() * slice;
  }
  return result;
}

/// The `k` leading left singular vectors of `m`: the eigenvectors of m m^T
/// with the largest eigenvalues, largest first.
Matrix leadingVectors(const Matrix &m, int64_t k) {
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(m.rows(), m.rows());
  gram.selfadjointView<Eigen::Lower>().rankUpdate(m);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(gram);
  return eigen.eigenvectors().rightCols(k).rowwise().reverse();
}

LogicalResult ShearsLowRank::decompose(Layer &layer, ArrayRef<float> weights,
                                       const llvm::StringMap<NpzArray> &grams) {
  Matrix w = toMatrix(weights, layer.out, layer.in);
  if (layer.tucker) {
    Eigen::BDCSVD<Matrix> outputs(w, Eigen::ComputeThinU);
    layer.u = outputs.matrixU();
    layer.singular = outputs.singularValues();
    Eigen::BDCSVD<Matrix> inputs(
        unfoldChannels(w, layer.channels, layer.window), Eigen::ComputeThinU);
    layer.uIn = inputs.matrixU();
    layer.singularIn = inputs.singularValues();
    layer.totalEnergy = w.squaredNorm();
    layer.weight = std::move(w);
    return success();
  }
  if (!statistics.empty()) {
    auto it = grams.find(layer.name + ".gram");
    if (it == grams.end())
      return layer.op.emitError()
             << "shears-low-rank: no Gram matrix for layer '" << layer.name
             << "' in '" << statistics << "' (expected '" << layer.name
             << ".gram', as shears calibrate --gram writes)";
    const NpzArray &gram = it->second;
    if (gram.shape != ArrayRef<int64_t>{layer.in, layer.in})
      return layer.op.emitError()
             << "shears-low-rank: the Gram matrix '" << layer.name
             << ".gram' is ["
             << llvm::make_range(gram.shape.begin(), gram.shape.end())
             << "], expected [" << layer.in << ", " << layer.in
             << "] (the layer's inputs per output)";
    Eigen::MatrixXd g = toSymmetric(gram.values, layer.in);
    double mean = g.diagonal().mean();
    // All-zero inputs (a layer that reads nothing): whiten by the identity.
    g.diagonal().array() += damp * (mean > 0 ? mean : 1.0);
    layer.whitening.emplace(g);
    if (layer.whitening->info() != Eigen::Success)
      return layer.op.emitError()
             << "shears-low-rank: the Gram matrix of layer '" << layer.name
             << "' is not positive definite with damp=" << damp
             << " (increase damp)";
    w = w * Matrix(layer.whitening->matrixL());
  }
  Eigen::BDCSVD<Matrix> svd(w, Eigen::ComputeThinU | Eigen::ComputeThinV);
  layer.u = svd.matrixU();
  layer.v = svd.matrixV();
  layer.singular = svd.singularValues();
  layer.totalEnergy = layer.singular.squaredNorm();
  return success();
}

LogicalResult ShearsLowRank::chooseRanks(MutableArrayRef<Layer> layers) {
  // The smallest rank keeping `fraction` of the energy.
  auto byEnergy = [](const Eigen::VectorXd &singular, double total,
                     double fraction) -> int64_t {
    double kept = 0, target = fraction * total;
    for (int64_t r = 0; r < singular.size(); ++r) {
      kept += singular[r] * singular[r];
      // A relative margin, so that energy=1 stops at the last non-zero value.
      if (kept >= target * (1 - 1e-12))
        return r + 1;
    }
    return singular.size();
  };
  // Each mode of a Tucker-2 layer keeps `fraction`.
  auto keep = [&](Layer &layer, double fraction) {
    layer.rank = byEnergy(layer.singular, layer.totalEnergy, fraction);
    if (layer.tucker)
      layer.rankIn = byEnergy(layer.singularIn, layer.totalEnergy, fraction);
  };
  switch (rankBy) {
  case RankSelection::Energy:
    for (Layer &layer : layers)
      keep(layer, energy);
    return success();
  case RankSelection::Error:
    // ||W - W_r||^2 / ||W||^2 is the energy dropped; for Tucker-2 at most
    // the sum of what the two modes drop.
    for (Layer &layer : layers)
      keep(layer, 1 - maxError * maxError / (layer.tucker ? 2 : 1));
    return success();
  case RankSelection::Rank:
    for (Layer &layer : layers) {
      layer.rank = layer.rankIn = int64_t(rank);
      if (!requireSaving && rank > layer.fullRank())
        return layer.op.emitError()
               << "shears-low-rank: rank " << layer.rank
               << " is above the rank of "
               << "layer '" << layer.name << "' (" << layer.fullRank()
               << ", its weight is [" << layer.out << ", " << layer.in << "])";
      if (!requireSaving && layer.tucker && rank > layer.fullRankIn())
        return layer.op.emitError()
               << "shears-low-rank: rank " << layer.rank
               << " is above the rank of layer '" << layer.name
               << "' along its " << layer.channels << " input channels ("
               << layer.fullRankIn() << ")";
    }
    return success();
  case RankSelection::Params:
  case RankSelection::Macs:
    break;
  }
  // One threshold t over every layer: a layer's ranks grow while the energy
  // the next rank adds, relative to its layer's, per parameter (or MAC) it
  // costs is at least t. Layers whose ranks do not save stay dense at their
  // full cost. A factored layer's MACs are its parameters times the output
  // positions, as the dense layer's are (a Tucker-2 layer's first 1 x 1
  // convolution's times the input positions).
  bool macs = rankBy == RankSelection::Macs;
  auto setState = [](Layer &layer, size_t i) {
    std::tie(layer.rank, layer.rankIn) = layer.states[i];
  };
  auto cost = [&](const Layer &layer) {
    return saves(layer) ? layer.factoredCost(macs) : layer.denseCost(macs);
  };
  for (Layer &layer : layers) {
    auto relative = [&](const Eigen::VectorXd &s, int64_t r) {
      return layer.totalEnergy > 0 ? s[r] * s[r] / layer.totalEnergy : 0.0;
    };
    layer.states.assign(1, {1, 1});
    setState(layer, 0);
    layer.values.assign(1,
                        (relative(layer.singular, 0) +
                         (layer.tucker ? relative(layer.singularIn, 0) : 0)) /
                            layer.factoredCost(macs));
    // SVD: the next singular value. Tucker-2: the next in the mode with
    // more energy per unit of cost.
    while (layer.rank < layer.fullRank() ||
           (layer.tucker && layer.rankIn < layer.fullRankIn())) {
      double before = layer.factoredCost(macs), best = -1;
      std::pair<int64_t, int64_t> next;
      auto consider = [&](int64_t rank, int64_t rankIn, double gain) {
        std::pair<int64_t, int64_t> old{layer.rank, layer.rankIn};
        std::tie(layer.rank, layer.rankIn) = std::pair{rank, rankIn};
        // A step that folds a 1 x 1 convolution away can cost nothing.
        double added = layer.factoredCost(macs) - before;
        double value =
            added > 0 ? gain / added : std::numeric_limits<double>::infinity();
        std::tie(layer.rank, layer.rankIn) = old;
        if (value > best) {
          best = value;
          next = {rank, rankIn};
        }
      };
      if (layer.rank < layer.fullRank())
        consider(layer.rank + 1, layer.rankIn,
                 relative(layer.singular, layer.rank));
      if (layer.tucker && layer.rankIn < layer.fullRankIn())
        consider(layer.rank, layer.rankIn + 1,
                 relative(layer.singularIn, layer.rankIn));
      layer.states.push_back(next);
      layer.values.push_back(best);
      setState(layer, layer.states.size() - 1);
    }
  }
  double dense = 0;
  std::vector<double> thresholds;
  for (const Layer &layer : layers) {
    dense += layer.denseCost(macs);
    thresholds.insert(thresholds.end(), layer.values.begin(),
                      layer.values.end());
  }
  double fraction = macs ? double(this->macs) : double(params);
  double budget = fraction * dense;
  auto assign = [&](double t) {
    double total = 0;
    for (Layer &layer : layers) {
      size_t i = 0;
      while (i + 1 < layer.states.size() && layer.values[i + 1] >= t)
        ++i;
      setState(layer, i);
      total += cost(layer);
    }
    return total;
  };
  // Thresholds from the largest down: the cost grows as t falls.
  std::sort(thresholds.begin(), thresholds.end(), std::greater<double>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()),
                   thresholds.end());
  size_t lo = 0, hi = thresholds.size();
  if (thresholds.empty() ||
      assign(std::numeric_limits<double>::infinity()) > budget) {
    double least = assign(std::numeric_limits<double>::infinity());
    return getOperation().emitError()
           << "shears-low-rank: " << (macs ? "macs=" : "params=")
           << formatNumber(fraction) << " cannot be met: at rank 1 the "
           << layers.size() << " layers considered need " << int64_t(least)
           << " of their " << int64_t(dense)
           << (macs ? " MACs per sample" : " parameters");
  }
  // The lowest threshold whose cost fits: [0, lo) fit, [hi, end) do not.
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (assign(thresholds[mid]) <= budget)
      lo = mid + 1;
    else
      hi = mid;
  }
  assign(lo == 0 ? std::numeric_limits<double>::infinity()
                 : thresholds[lo - 1]);
  return success();
}

/// Tucker-2's factors of `layer` at its ranks: U_in^T [rankIn, channels],
/// the core [rank, rankIn * window] and U_out [out, rank]. Ranks above the
/// modes' pad with zero components.
std::array<Matrix, 3> tuckerFactors(const Layer &layer) {
  // Alternating least squares stops when the energy kept (||core||^2)
  // grows by less than this, relative to W's, or after kHooiSweeps sweeps.
  constexpr int kHooiSweeps = 20;
  constexpr double kHooiTolerance = 1e-6;
  int64_t r = std::min(layer.rank, layer.fullRank());
  int64_t rIn = std::min(layer.rankIn, layer.fullRankIn());
  Matrix uOut = layer.u.leftCols(r), uIn = layer.uIn.leftCols(rIn);
  const Matrix &w = layer.weight;
  double kept = -1;
  for (int sweep = 0; sweep < kHooiSweeps; ++sweep) {
    uIn = leadingVectors(
        unfoldChannels(uOut.transpose() * w, layer.channels, layer.window),
        rIn);
    Matrix projected = projectChannels(w, uIn, layer.window);
    uOut = leadingVectors(projected, r);
    double now = (uOut.transpose() * projected).squaredNorm();
    if (now - kept <= kHooiTolerance * layer.totalEnergy)
      break;
    kept = now;
  }
  Matrix first = Matrix::Zero(layer.rankIn, layer.channels);
  Matrix core = Matrix::Zero(layer.rank, layer.rankIn * layer.window);
  Matrix last = Matrix::Zero(layer.out, layer.rank);
  first.topRows(rIn) = uIn.transpose();
  Matrix small = uOut.transpose() * projectChannels(w, uIn, layer.window);
  for (int64_t o = 0; o < r; ++o)
    core.row(o).head(rIn * layer.window) = small.row(o);
  last.leftCols(r) = uOut;
  if (layer.foldsOutputs())
    core = last * core;
  if (layer.foldsInputs())
    core = projectChannels(core, first, layer.window);
  return {std::move(first), std::move(core), std::move(last)};
}

void ShearsLowRank::factor(Layer &layer) {
  // The factors' weights, first layer first.
  SmallVector<Matrix, 3> factors;
  if (layer.tucker) {
    for (Matrix &m : tuckerFactors(layer))
      factors.push_back(std::move(m));
  } else {
    int64_t r = std::min(layer.rank, layer.fullRank());
    Eigen::VectorXd root = layer.singular.head(r).cwiseSqrt();
    Matrix first = root.asDiagonal() * layer.v.leftCols(r).transpose();
    Matrix second = layer.u.leftCols(r) * root.asDiagonal();
    // Whitened: the first factor is S^1/2 V^T L^-1 = (L^-T V S^1/2)^T.
    if (layer.whitening)
      first = layer.whitening->matrixU()
                  .solve(Eigen::MatrixXd(first.transpose()))
                  .transpose();
    // A rank above the layer's pads with zero components.
    factors.push_back(Matrix::Zero(layer.rank, layer.in));
    factors.push_back(Matrix::Zero(layer.out, layer.rank));
    factors[0].topRows(r) = first;
    factors[1].leftCols(r) = second;
  }

  Operation *op = layer.op;
  Value weight = layer.op.getWeight();
  auto weightType = cast<RankedTensorType>(weight.getType());
  std::string base = layer.name + ".weight";
  if (StringRef weightName = getONNXName(weight.getLoc()); !weightName.empty())
    base = weightName.str();
  OpBuilder b(op);
  auto constant = [&](const Matrix &m, ArrayRef<int64_t> shape,
                      StringRef suffix) {
    SmallVector<float> values(m.data(), m.data() + m.size());
    return createWeightConstant(
        b, NameLoc::get(b.getStringAttr(base + suffix)),
        RankedTensorType::get(shape, weightType.getElementType()), values,
        (base + suffix).str());
  };
  auto name = [&](StringRef suffix) {
    return NameLoc::get(b.getStringAttr(layer.name + suffix));
  };
  Value input = layer.op.getPrunedInput();
  Value bias = layer.op.getPrunedBias();
  Operation *replacement;
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    ArrayRef<int64_t> filter = weightType.getShape();
    // Every attribute given: the builder infers the result type from them.
    auto convolve = [&](Value input, Value weight, Value bias, StringRef suffix,
                        bool window) {
      SmallVector<Value> operands = {input, weight};
      if (bias)
        operands.push_back(bias);
      auto array = [&](ArrayRef<int64_t> original, ArrayRef<int64_t> unit) {
        return b.getDenseI64ArrayAttr(window ? original : unit);
      };
      SmallVector<NamedAttribute> attributes = {
          b.getNamedAttr("strides", array(conv.getStrides(), {1, 1})),
          b.getNamedAttr("pads", array(conv.getPads(), {0, 0, 0, 0})),
          b.getNamedAttr("dilations", array(conv.getDilations(), {1, 1})),
          b.getNamedAttr("groups", b.getI64IntegerAttr(1))};
      return Conv2DOp::create(b, name(suffix), operands, attributes);
    };
    if (layer.tucker) {
      if (!layer.foldsInputs()) {
        Value v = constant(factors[0], {layer.rankIn, filter[1], 1, 1}, ".v");
        input = convolve(input, v, {}, ".v", false).getResult();
      }
      Value core = constant(
          factors[1], {layer.coreOut(), layer.coreIn(), filter[2], filter[3]},
          ".core");
      replacement = convolve(input, core, layer.foldsOutputs() ? bias : Value(),
                             ".core", true);
      if (!layer.foldsOutputs()) {
        Value u = constant(factors[2], {layer.out, layer.rank, 1, 1}, ".u");
        replacement = convolve(replacement->getResult(0), u, bias, ".u", false);
      }
    } else {
      Value v = constant(factors[0],
                         {layer.rank, filter[1], filter[2], filter[3]}, ".v");
      Value u = constant(factors[1], {layer.out, layer.rank, 1, 1}, ".u");
      Value reduced = convolve(input, v, {}, ".v", true).getResult();
      replacement = convolve(reduced, u, bias, ".u", false);
    }
  } else {
    Value v = constant(factors[0], {layer.rank, layer.in}, ".v");
    Value u = constant(factors[1], {layer.out, layer.rank}, ".u");
    Value reduced =
        LinearOp::create(b, name(".v"), ValueRange{input, v}).getResult();
    SmallVector<Value> operands = {reduced, u};
    if (bias)
      operands.push_back(bias);
    replacement = LinearOp::create(b, name(".u"), operands);
  }
  op->replaceAllUsesWith(replacement->getResults());
  Operation *old = weight.getDefiningOp();
  op->erase();
  if (old && old->use_empty())
    old->erase();
}

void ShearsLowRank::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Regex excludeRegex(exclude);
  llvm::StringMap<NpzArray> grams;
  if (!statistics.empty()) {
    auto loaded = readPassStatistics(module, "shears-low-rank", statistics);
    if (failed(loaded))
      return signalPassFailure();
    grams = std::move(*loaded);
  }

  std::vector<Layer> layers;
  SmallVector<PrunableOpInterface> ops;
  module.walk([&](PrunableOpInterface op) { ops.push_back(op); });
  for (PrunableOpInterface op : ops) {
    std::string name = getLayerName(op).str();
    auto conv = dyn_cast<Conv2DOp>(op.getOperation());
    if (name.empty() ||
        !(isa<LinearOp>(op) || (conv && conv.getGroups() == 1)) ||
        !op.getWeight().getDefiningOp<ConstantOp>())
      continue;
    FailureOr<SmallVector<float>> weights = getScoredWeights(op);
    if (failed(weights))
      continue;
    if (!exclude.empty() && excludeRegex.match(name))
      continue;
    if (std::string bad = describeNonFinite(ArrayRef(*weights)); !bad.empty()) {
      op.emitError() << "the weights of layer '" << name << "' hold " << bad
                     << ": they cannot be factored (exclude the layer with "
                        "exclude)";
      return signalPassFailure();
    }
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(op.getWeight().getType()).getShape();
    Layer layer;
    layer.op = op;
    layer.name = name;
    layer.out = shape[0];
    layer.in = int64_t(weights->size()) / shape[0];
    layer.positions = double(getMacsPerSample(op)) / double(weights->size());
    if (conv && decomposition == Decomposition::Tucker2 &&
        shape[2] * shape[3] > 1) {
      layer.tucker = true;
      layer.channels = shape[1];
      layer.window = shape[2] * shape[3];
      // The first 1 x 1 convolution runs at the input's positions.
      auto input = cast<ShapedType>(op.getPrunedInput().getType());
      layer.inputPositions =
          input.hasStaticShape()
              ? double(input.getDimSize(2) * input.getDimSize(3))
              : layer.positions;
    }
    if (failed(decompose(layer, *weights, grams)))
      return signalPassFailure();
    layers.push_back(std::move(layer));
  }
  if (failed(chooseRanks(layers)))
    return signalPassFailure();
  for (Layer &layer : layers) {
    bool factored = saves(layer) && layer.totalEnergy > 0;
    if (report) {
      InFlightDiagnostic remark = layer.op.emitRemark();
      remark << "layer '" << layer.name << "' ";
      if (layer.tucker)
        remark << llvm::formatv(
            "[{0}, {1}, {2}] ranks {3}, {4} of {5}, {6} (outputs, inputs), "
            "at least {7:f2}% of the energy, {8} -> {9} parameters",
            layer.out, layer.channels, layer.window, layer.rank, layer.rankIn,
            layer.fullRank(), layer.fullRankIn(), 100 * layer.energyKept(),
            layer.denseParams(), layer.factoredParams());
      else
        remark << llvm::formatv("[{0}, {1}] rank {2} of {3}, {4:f2}% of the "
                                "energy, {5} -> {6} parameters",
                                layer.out, layer.in, layer.rank,
                                layer.fullRank(), 100 * layer.energyKept(),
                                layer.denseParams(), layer.factoredParams());
      if (!factored)
        remark << ": kept dense (no saving)";
    }
    if (!factored)
      continue;
    numRemovedParameters +=
        std::max<int64_t>(0, layer.denseParams() - layer.factoredParams());
    ++numFactoredLayers;
    factor(layer);
  }
}

} // namespace
