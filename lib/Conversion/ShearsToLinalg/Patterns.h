//===- Patterns.h - The shears-to-linalg patterns by category -------------===//
//
// convert-shears-to-linalg (ShearsToLinalg.cpp) is these patterns, one file
// per category, each with its populate function (as torch-mlir's
// TorchToLinalg); a new op's lowering goes into the file of its kind.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_CONVERSION_SHEARSTOLINALG_PATTERNS_H
#define SHEARS_CONVERSION_SHEARSTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::shears {

/// linear, matmul, conv2d and batch_norm (Contractions.cpp).
void populateContractionPatterns(RewritePatternSet &patterns);

/// Every ElementwiseOpInterface op, masks, softmax, layer_norm and the
/// reductions (Elementwise.cpp).
void populateElementwisePatterns(RewritePatternSet &patterns);

/// max_pool, avg_pool and global_avg_pool (Pooling.cpp).
void populatePoolingPatterns(RewritePatternSet &patterns);

/// constant, reshape, flatten, expand, transpose, concat, slice, split, pad
/// and gather (DataMovement.cpp).
void populateDataMovementPatterns(RewritePatternSet &patterns);

} // namespace mlir::shears

#endif // SHEARS_CONVERSION_SHEARSTOLINALG_PATTERNS_H
