//===- OBS.h - Optimal Brain Surgeon pruning with reconstruction -*- C++
//-*-===//
//
// SparseGPT (Frantar & Alistarh 2023): a layer's weights are pruned column by
// column, and after each column the error it leaves is spread over the
// columns not yet visited through the inverse Hessian of the layer's
// reconstruction loss ||X W^T - X W'^T||^2, H = X^T X. What
// shears-insert-masks{criterion=obs} runs per layer.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_TRANSFORMS_OBS_H
#define SHEARS_TRANSFORMS_OBS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::shears {

/// What OBS prunes in a layer.
struct OBSTarget {
  /// Unstructured: the fraction of each block of `blockColumns` columns
  /// pruned (the weights with the least w^2 / [H^-1]_jj^2 in the block).
  double sparsity = 0;
  /// N:M when m > 0: of every m weights of a row along the input channels
  /// (columns c*inner + k, c in [c0, c0 + m), k fixed), n are kept.
  int64_t n = 0, m = 0;
  /// Kernel positions per input channel (1 for a linear layer).
  int64_t inner = 1;
  int64_t blockColumns = 128;
  /// Added to H's diagonal, relative to its mean.
  double damp = 0.01;
};

/// Prunes `weights` ([rows, cols] row-major, cols = the columns H covers)
/// with OBS against the Gram matrix `gram` ([cols, cols] row-major) and
/// updates the weights kept. On return `weights` holds the new weights (the
/// pruned ones zero) and `pruned[i]` says whether weight i went. Fails,
/// saying why in `error`, when H + damp is not positive definite.
LogicalResult pruneWithOBS(MutableArrayRef<float> weights, int64_t rows,
                           int64_t cols, ArrayRef<float> gram,
                           const OBSTarget &target,
                           SmallVectorImpl<bool> &pruned, std::string &error);

/// Least-squares refit of a layer that loses input columns: `weights`
/// ([rows, cols] row-major) become W_S = W G[:, S] (G[S, S] + d I)^-1 on
/// the columns `kept` (S, ascending) and zero elsewhere, so that the layer's
/// outputs on the calibration data (second moments `gram` = E[x x^T],
/// [cols, cols]) change the least; d is `damp` times the mean of G[S, S]'s
/// diagonal. With the inputs' means `mean` ([cols]; may be empty) the fit
/// has an intercept too: `shift` ([rows]) is what the bias gains (zeros
/// without means). Fails, saying why in `error`, when the system is not
/// positive definite.
LogicalResult refitColumns(MutableArrayRef<float> weights, int64_t rows,
                           int64_t cols, ArrayRef<float> gram,
                           ArrayRef<float> mean, ArrayRef<int64_t> kept,
                           double damp, SmallVectorImpl<float> &shift,
                           std::string &error);

} // namespace mlir::shears

#endif // SHEARS_TRANSFORMS_OBS_H
