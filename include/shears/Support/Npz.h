//===- Npz.h - NumPy .npz archives of float tensors -------------*- C++ -*-===//
//
// Side inputs of the pruning passes (gradients for the Taylor criterion,
// activation norms for the activation-aware one) travel as .npz archives:
// what numpy.savez writes and numpy.load reads, one array per named tensor.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_NPZ_H
#define SHEARS_SUPPORT_NPZ_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace mlir::shears {

/// One array of an archive, as float32 values in row-major order.
struct NpzArray {
  llvm::SmallVector<int64_t> shape;
  std::vector<float> values;
};

/// Reads every array of an .npz archive written by numpy.savez (entries
/// stored, not compressed; f32 or f64 elements), keyed by the name given to
/// numpy.savez. Errors name the file and the entry.
llvm::Expected<llvm::StringMap<NpzArray>> readNpz(llvm::StringRef path);

/// Writes `arrays` as an .npz archive of f32 arrays that numpy.load reads.
/// On failure nothing is left at `path`.
llvm::Error writeNpz(llvm::StringRef path,
                     llvm::ArrayRef<std::pair<std::string, NpzArray>> arrays);

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_NPZ_H
