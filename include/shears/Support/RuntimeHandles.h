//===- RuntimeHandles.h - C++ ownership of C-runtime objects ----*- C++ -*-===//
//
// The C runtime (shears-c/Runtime.h) hands out tensors, models and error
// messages that the caller frees; these wrappers free them at scope exit.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_RUNTIMEHANDLES_H
#define SHEARS_SUPPORT_RUNTIMEHANDLES_H

#include "shears-c/Runtime.h"

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace mlir::shears {

struct TensorDeleter {
  void operator()(ShearsTensor *tensor) const { shearsTensorFree(tensor); }
};
using TensorPtr = std::unique_ptr<ShearsTensor, TensorDeleter>;

struct ModelDeleter {
  void operator()(ShearsModel *model) const { shearsModelFree(model); }
};
using ModelPtr = std::unique_ptr<ShearsModel, ModelDeleter>;

/// Takes (and frees) a message the runtime returned; `fallback` if none.
inline std::string takeRuntimeMessage(char *message,
                                      llvm::StringRef fallback =
                                          "unknown error") {
  std::string result = message ? std::string(message) : fallback.str();
  shearsFreeString(message);
  return result;
}

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_RUNTIMEHANDLES_H
