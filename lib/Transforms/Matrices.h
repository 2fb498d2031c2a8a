//===- Matrices.h - Weights and Gram matrices as Eigen matrices -*- C++ -*-===//
//
// The passes that solve linear algebra (shears-low-rank, criterion=obs,
// channel reconstruction) read f32 weights and Gram matrices and work in
// f64.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_TRANSFORMS_MATRICES_H
#define SHEARS_LIB_TRANSFORMS_MATRICES_H

#include "llvm/ADT/ArrayRef.h"

#include <Eigen/Core>

namespace mlir::shears {

using RowMatrix =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// `values` ([rows, cols] row-major f32) in f64.
inline RowMatrix toMatrix(llvm::ArrayRef<float> values, int64_t rows,
                          int64_t cols) {
  return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                        Eigen::RowMajor>>(values.data(), rows,
                                                          cols)
      .cast<double>();
}

/// A Gram matrix ([n, n] f32) in f64, made exactly symmetric.
inline Eigen::MatrixXd toSymmetric(llvm::ArrayRef<float> values, int64_t n) {
  Eigen::MatrixXd g =
      Eigen::Map<const Eigen::MatrixXf>(values.data(), n, n).cast<double>();
  return (g + g.transpose()) / 2;
}

} // namespace mlir::shears

#endif // SHEARS_LIB_TRANSFORMS_MATRICES_H
