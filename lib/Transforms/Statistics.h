//===- Statistics.h - Side inputs of passes read from .npz ------*- C++ -*-===//

#ifndef SHEARS_LIB_TRANSFORMS_STATISTICS_H
#define SHEARS_LIB_TRANSFORMS_STATISTICS_H

#include "shears/Support/Npz.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"

namespace mlir::shears {

/// The arrays of the .npz at `path` (gradients, norms, Gram matrices,
/// activation statistics), or failure after an error on `anchor` that names
/// `pass` and says why the file could not be read.
inline FailureOr<llvm::StringMap<NpzArray>>
readPassStatistics(Operation *anchor, llvm::StringRef pass,
                   llvm::StringRef path) {
  llvm::Expected<llvm::StringMap<NpzArray>> arrays = readNpz(path);
  if (!arrays) {
    anchor->emitError() << pass << ": " << llvm::toString(arrays.takeError());
    return failure();
  }
  return std::move(*arrays);
}

} // namespace mlir::shears

#endif // SHEARS_LIB_TRANSFORMS_STATISTICS_H
