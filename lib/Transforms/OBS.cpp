//===- OBS.cpp - Optimal Brain Surgeon pruning with reconstruction --------===//
//
// SparseGPT's column-by-column OBS: with U the upper Cholesky factor of H^-1
// (H^-1 = U^T U), pruning (or keeping) column j of the weights leaves the
// error e = (w_j - q_j) / U_jj, and the optimal update of the columns after
// j is w_k -= e * U_jk. Columns are visited in order once, so each update
// is one rank-1 product; masks are chosen per block of columns
// (unstructured: the lowest w^2 / U_jj^2 of the block) or per group of m
// (N:M) from the weights as updated so far.
//
//===----------------------------------------------------------------------===//

#include "shears/Transforms/OBS.h"

#include "Matrices.h"

#include "llvm/ADT/STLExtras.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::shears;

LogicalResult mlir::shears::pruneWithOBS(MutableArrayRef<float> weights,
                                         int64_t rows, int64_t cols,
                                         ArrayRef<float> gram,
                                         const OBSTarget &target,
                                         SmallVectorImpl<bool> &pruned,
                                         std::string &error) {
  RowMatrix w = toMatrix(weights, rows, cols);
  Eigen::MatrixXd h = toSymmetric(gram, cols);
  // Inputs that never fire carry no information: their weights go first.
  for (int64_t j = 0; j < cols; ++j)
    if (h(j, j) == 0) {
      h(j, j) = 1;
      w.col(j).setZero();
    }
  h.diagonal().array() += target.damp * h.diagonal().mean();
  Eigen::LLT<Eigen::MatrixXd> llt(h);
  if (llt.info() != Eigen::Success) {
    error = "its Gram matrix is not positive definite with damp=" +
            std::to_string(target.damp) + " (increase damp)";
    return failure();
  }
  Eigen::MatrixXd inverse = llt.solve(Eigen::MatrixXd::Identity(cols, cols));
  Eigen::LLT<Eigen::MatrixXd> inverseLLT(inverse);
  if (inverseLLT.info() != Eigen::Success) {
    error = "the inverse of its Gram matrix is not positive definite with "
            "damp=" +
            std::to_string(target.damp) + " (increase damp)";
    return failure();
  }
  RowMatrix u = inverseLLT.matrixU();

  pruned.assign(rows * cols, false);
  auto score = [&](int64_t r, int64_t j) {
    double d = u(j, j);
    return w(r, j) * w(r, j) / (d * d);
  };
  for (int64_t begin = 0; begin < cols; begin += target.blockColumns) {
    int64_t end = std::min(cols, begin + target.blockColumns);
    if (target.m == 0) {
      // The block's lowest scores, ties by position.
      std::vector<std::pair<double, int64_t>> scores;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = begin; j < end; ++j)
          scores.emplace_back(score(r, j), r * cols + j);
      size_t drop = size_t(target.sparsity * scores.size());
      std::partial_sort(scores.begin(), scores.begin() + drop, scores.end());
      for (size_t i = 0; i < drop; ++i)
        pruned[scores[i].second] = true;
    }
    for (int64_t j = begin; j < end; ++j) {
      int64_t channel = j / target.inner, position = j % target.inner;
      if (target.m > 0 && channel % target.m == 0) {
        // The group this column starts: its columns are all still ahead.
        int64_t last = std::min(cols / target.inner, channel + target.m);
        for (int64_t r = 0; r < rows; ++r) {
          SmallVector<std::pair<double, int64_t>> group;
          for (int64_t c = channel; c < last; ++c) {
            int64_t col = c * target.inner + position;
            group.emplace_back(score(r, col), col);
          }
          llvm::sort(group);
          int64_t drop = int64_t(group.size()) - target.n;
          for (int64_t i = 0; i < drop; ++i)
            pruned[r * cols + group[i].second] = true;
        }
      }
      Eigen::VectorXd err(rows);
      for (int64_t r = 0; r < rows; ++r) {
        double kept = pruned[r * cols + j] ? 0.0 : w(r, j);
        err[r] = (w(r, j) - kept) / u(j, j);
        w(r, j) = kept;
      }
      if (j + 1 < cols)
        w.rightCols(cols - j - 1).noalias() -=
            err * u.row(j).tail(cols - j - 1);
    }
  }
  for (int64_t i = 0; i < rows * cols; ++i)
    weights[i] = pruned[i] ? 0.0f : float(w.data()[i]);
  return success();
}

LogicalResult mlir::shears::refitColumns(
    MutableArrayRef<float> weights, int64_t rows, int64_t cols,
    ArrayRef<float> gram, ArrayRef<float> mean, ArrayRef<int64_t> kept,
    double damp, SmallVectorImpl<float> &shift, std::string &error) {
  RowMatrix w = toMatrix(weights, rows, cols);
  Eigen::MatrixXd g = toSymmetric(gram, cols);
  // The inputs kept, and with the means a constant 1 whose weight is the
  // bias shift.
  int64_t k = kept.size(), features = k + (mean.empty() ? 0 : 1);
  Eigen::MatrixXd cross(cols, features), inner(features, features);
  for (int64_t j = 0; j < k; ++j) {
    cross.col(j) = g.col(kept[j]);
    for (int64_t i = 0; i < k; ++i)
      inner(i, j) = g(kept[i], kept[j]);
  }
  if (!mean.empty()) {
    for (int64_t i = 0; i < cols; ++i)
      cross(i, k) = mean[i];
    for (int64_t j = 0; j < k; ++j)
      inner(j, k) = inner(k, j) = mean[kept[j]];
    inner(k, k) = 1;
  }
  double scale = k ? inner.diagonal().head(k).mean() : 0;
  inner.diagonal().head(k).array() += damp * (scale > 0 ? scale : 1.0);
  Eigen::LLT<Eigen::MatrixXd> llt(inner);
  if (llt.info() != Eigen::Success) {
    error = "the Gram matrix of the inputs it keeps is not positive definite "
            "with damp=" +
            std::to_string(damp) + " (increase damp)";
    return failure();
  }
  // [W_S, c]^T = E[x_S x_S^T]^-1 E[x_S x^T] W^T.
  Eigen::MatrixXd refit = llt.solve(cross.transpose() * w.transpose());
  std::fill(weights.begin(), weights.end(), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j)
      weights[r * cols + kept[j]] = float(refit(j, r));
  shift.assign(rows, 0.0f);
  if (!mean.empty())
    for (int64_t r = 0; r < rows; ++r)
      shift[r] = float(refit(k, r));
  return success();
}
