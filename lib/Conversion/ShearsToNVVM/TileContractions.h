//===- TileContractions.h - Shared-memory tiled GPU kernels -----*- C++ -*-===//
//
// shears-map-to-gpu's kernel for large f32 matrix products and convolutions
// (TileContractions.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_CONVERSION_SHEARSTONVVM_TILECONTRACTIONS_H
#define SHEARS_LIB_CONVERSION_SHEARSTONVVM_TILECONTRACTIONS_H

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::shears {

/// Replaces `op` by a `gpu.launch` of 128x128 output tiles staged through
/// shared memory, if it is an f32 contraction (a matrix product, batched or
/// not, or a convolution as an implicit GEMM: rows are the dimensions only
/// one operand has, columns those only the other has, the reduction the
/// rest) whose rows and columns each number at least 64, in at least
/// `minTiles` tiles, statically (a dynamic dimension counting as 1). Fails,
/// changing nothing, otherwise. `precision` picks the CUDA cores' kernel or
/// the tensor cores'.
FailureOr<gpu::LaunchOp>
tileContractionForGPU(RewriterBase &rewriter, linalg::LinalgOp op,
                      int64_t minTiles,
                      GPUPrecision precision = GPUPrecision::FP32);

} // namespace mlir::shears

#endif // SHEARS_LIB_CONVERSION_SHEARSTONVVM_TILECONTRACTIONS_H
