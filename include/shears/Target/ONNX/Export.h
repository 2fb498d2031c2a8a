//===- Export.h - Shears dialect to ONNX export -----------------*- C++ -*-===//

#ifndef SHEARS_TARGET_ONNX_EXPORT_H
#define SHEARS_TARGET_ONNX_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::shears {

/// Serializes the module's single function (in the `shears` dialect, weights
/// included) as an ONNX ModelProto (opset 13) to `os`. Emits diagnostics on
/// the offending op and returns failure for anything that cannot be
/// expressed; nothing is written then.
LogicalResult exportToONNX(ModuleOp module, llvm::raw_ostream &os);


} // namespace mlir::shears

#endif // SHEARS_TARGET_ONNX_EXPORT_H
