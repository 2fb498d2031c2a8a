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
/// (or of W L, whitened).
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

  int64_t fullRank() const { return singular.size(); }
  /// Multiply-accumulates per sample of each weight element (output
  /// positions: 1 for a linear layer on vectors).
  double positions = 1;
  int64_t denseParams() const { return out * in; }
  int64_t factoredParams(int64_t r) const { return r * (out + in); }
  double energyKept(int64_t r) const {
    return totalEnergy > 0 ? singular.head(r).squaredNorm() / totalEnergy : 1;
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
    return !requireSaving ||
           layer.factoredParams(layer.rank) < layer.denseParams();
  }
  void factor(Layer &layer);
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
  std::string regexError;
  if (!exclude.empty() && !llvm::Regex(exclude).isValid(regexError))
    return errorHandler("exclude '" + exclude +
                        "' is not a valid regex: " + regexError);
  return success();
}

LogicalResult ShearsLowRank::decompose(Layer &layer, ArrayRef<float> weights,
                                       const llvm::StringMap<NpzArray> &grams) {
  Matrix w = toMatrix(weights, layer.out, layer.in);
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
  auto byEnergy = [](const Layer &layer, double fraction) {
    double kept = 0, target = fraction * layer.totalEnergy;
    for (int64_t r = 0; r < layer.fullRank(); ++r) {
      kept += layer.singular[r] * layer.singular[r];
      // A relative margin, so that energy=1 stops at the last non-zero value.
      if (kept >= target * (1 - 1e-12))
        return r + 1;
    }
    return layer.fullRank();
  };
  switch (rankBy) {
  case RankSelection::Energy:
    for (Layer &layer : layers)
      layer.rank = byEnergy(layer, energy);
    return success();
  case RankSelection::Error:
    // ||W - W_r||^2 / ||W||^2 is the energy dropped.
    for (Layer &layer : layers)
      layer.rank = byEnergy(layer, 1 - maxError * maxError);
    return success();
  case RankSelection::Rank:
    for (Layer &layer : layers) {
      layer.rank = int64_t(rank);
      if (!requireSaving && rank > layer.fullRank())
        return layer.op.emitError()
               << "shears-low-rank: rank " << layer.rank
               << " is above the rank of "
               << "layer '" << layer.name << "' (" << layer.fullRank()
               << ", its weight is [" << layer.out << ", " << layer.in << "])";
    }
    return success();
  case RankSelection::Params:
  case RankSelection::Macs:
    break;
  }
  // One threshold t over every layer: a singular value is kept when the
  // energy it holds, relative to its layer's, per parameter (or MAC) it
  // costs is at least t. Layers whose rank does not save stay dense at their
  // full cost. A factored layer's MACs are its parameters times the output
  // positions, as the dense layer's are.
  bool macs = rankBy == RankSelection::Macs;
  auto unit = [&](const Layer &layer) { return macs ? layer.positions : 1.0; };
  auto value = [&](const Layer &layer, int64_t r) {
    double s = layer.singular[r];
    return layer.totalEnergy > 0 ? s * s / layer.totalEnergy /
                                       double(layer.out + layer.in) /
                                       unit(layer)
                                 : 0.0;
  };
  double dense = 0;
  std::vector<double> thresholds;
  for (const Layer &layer : layers) {
    dense += double(layer.denseParams()) * unit(layer);
    for (int64_t r = 0; r < layer.fullRank(); ++r)
      thresholds.push_back(value(layer, r));
  }
  double fraction = macs ? double(this->macs) : double(params);
  double budget = fraction * dense;
  auto assign = [&](double t) {
    double cost = 0;
    for (Layer &layer : layers) {
      layer.rank = 1;
      while (layer.rank < layer.fullRank() && value(layer, layer.rank) >= t)
        ++layer.rank;
      cost += double(saves(layer) ? layer.factoredParams(layer.rank)
                                  : layer.denseParams()) *
              unit(layer);
    }
    return cost;
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

void ShearsLowRank::factor(Layer &layer) {
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
  Matrix firstPadded = Matrix::Zero(layer.rank, layer.in);
  Matrix secondPadded = Matrix::Zero(layer.out, layer.rank);
  firstPadded.topRows(r) = first;
  secondPadded.leftCols(r) = second;

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
    Value v = constant(firstPadded,
                       {layer.rank, filter[1], filter[2], filter[3]}, ".v");
    Value u = constant(secondPadded, {layer.out, layer.rank, 1, 1}, ".u");
    // Every attribute given: the builder infers the result type from them.
    auto window = [&](ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                      ArrayRef<int64_t> dilations) {
      return SmallVector<NamedAttribute>{
          b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)),
          b.getNamedAttr("pads", b.getDenseI64ArrayAttr(pads)),
          b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(dilations)),
          b.getNamedAttr("groups", b.getI64IntegerAttr(1))};
    };
    Value reduced = Conv2DOp::create(b, name(".v"), ValueRange{input, v},
                                     window(conv.getStrides(), conv.getPads(),
                                            conv.getDilations()))
                        .getResult();
    SmallVector<Value> operands = {reduced, u};
    if (bias)
      operands.push_back(bias);
    replacement = Conv2DOp::create(b, name(".u"), operands,
                                   window({1, 1}, {0, 0, 0, 0}, {1, 1}));
  } else {
    Value v = constant(firstPadded, {layer.rank, layer.in}, ".v");
    Value u = constant(secondPadded, {layer.out, layer.rank}, ".u");
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
      remark << llvm::formatv(
          "[{0}, {1}] rank {2} of {3}, {4:f2}% of the "
          "energy, {5} -> {6} parameters",
          layer.out, layer.in, layer.rank, layer.fullRank(),
          100 * layer.energyKept(std::min(layer.rank, layer.fullRank())),
          layer.denseParams(), layer.factoredParams(layer.rank));
      if (!factored)
        remark << ": kept dense (no saving)";
    }
    if (!factored)
      continue;
    numRemovedParameters += std::max<int64_t>(
        0, layer.denseParams() - layer.factoredParams(layer.rank));
    ++numFactoredLayers;
    factor(layer);
  }
}

} // namespace
