//===- GeneralizeAndInterchange.h - Reorder a linalg op's loops -*- C++ -*-===//
//
// What the backends do to choose the order of a linalg op's loops before
// lowering it to loops: the CPU puts a contiguous parallel loop innermost
// (shears-order-loops), the GPU its parallel loops outermost
// (shears-map-to-gpu).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_CONVERSION_GENERALIZEANDINTERCHANGE_H
#define SHEARS_LIB_CONVERSION_GENERALIZEANDINTERCHANGE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace mlir::shears {

/// `op` as a linalg.generic (generalized first if it is a named op) whose
/// loops run in `order` (loop i of the result is loop order[i] of `op`).
inline FailureOr<linalg::GenericOp>
generalizeAndInterchange(RewriterBase &rewriter, linalg::LinalgOp op,
                         ArrayRef<unsigned> order) {
  rewriter.setInsertionPoint(op);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return failure();
    generic = *generalized;
  }
  if (llvm::equal(order, llvm::seq<unsigned>(0, order.size())))
    return generic;
  return linalg::interchangeGenericOp(rewriter, generic, order);
}

} // namespace mlir::shears

#endif // SHEARS_LIB_CONVERSION_GENERALIZEANDINTERCHANGE_H
