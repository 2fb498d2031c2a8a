//===- Export.h - Shears dialect to ONNX export -----------------*- C++ -*-===//

#ifndef SHEARS_TARGET_ONNX_EXPORT_H
#define SHEARS_TARGET_ONNX_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::shears {

struct ExportOptions {
  /// Stores a floating-point weight as an ONNX sparse_initializer (its
  /// non-zero values and their INT64 linear indices, packed as varints)
  /// wherever that takes fewer bytes than the dense tensor: below about half
  /// of an f32 tensor's values non-zero. A value is zero when all its bytes
  /// are (-0.0 is kept as a value), so reading the file back gives the same
  /// bits.
  bool sparseInitializers = true;
  /// Stores an INT8 weight whose values are all +-1 (binary) or in [-8, 7]
  /// (int4) in 1 or 4 bits a value: a UINT8 initializer and the opset-13
  /// nodes that unpack it (BitShift, Reshape, Slice, Pad, Cast, Sub), which
  /// any ONNX runtime runs and Shears's importer
  /// folds back into the same INT8 tensor.
  bool packLowBitWeights = true;
};

/// Serializes the module's single function (in the `shears` dialect, weights
/// included) as an ONNX ModelProto (opset 13) to `os`. Emits diagnostics on
/// the offending op and returns failure for anything that cannot be
/// expressed; nothing is written then.
LogicalResult exportToONNX(ModuleOp module, llvm::raw_ostream &os,
                           const ExportOptions &options = {});

} // namespace mlir::shears

#endif // SHEARS_TARGET_ONNX_EXPORT_H
