//===- Import.h - ONNX to Shears dialect import -----------------*- C++ -*-===//

#ifndef SHEARS_TARGET_ONNX_IMPORT_H
#define SHEARS_TARGET_ONNX_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mlir::shears {

struct ImportOptions {
  /// Name of the entry function created for the graph.
  std::string functionName = "main";
  /// The bytes that sparse tensors (sparse_initializer, a Constant's
  /// sparse_value) may take made dense, all together: a few bytes of indices
  /// can claim gigabytes of zeros.
  uint64_t maxSparseBytes = uint64_t(1) << 34;
};

/// Reads the ONNX model at `path` and returns a module with one function in
/// the `shears` dialect, or null after emitting diagnostics (located at the
/// offending ONNX node) on `context`. Weights become dense_resource blobs.
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path,
                                     MLIRContext *context,
                                     const ImportOptions &options = {});

/// Same, for a model already in memory; the buffer's identifier is the path
/// against which external data files are resolved.
OwningOpRef<ModuleOp> importONNX(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                 MLIRContext *context,
                                 const ImportOptions &options = {});

/// The ONNX op types (default domain) the importer converts, sorted.
llvm::SmallVector<llvm::StringRef> getSupportedONNXOps();

/// The contents of a serialized ONNX TensorProto (the test data format).
struct TensorFile {
  /// Runtime dtype name: f32, f64, f16, i64, i32, i8, u8 or i1.
  std::string dtype;
  llvm::SmallVector<int64_t> shape;
  /// Little-endian, row-major.
  std::string bytes;
};

/// Reads a `.pb` TensorProto file, or returns nullopt with `error` set.
std::optional<TensorFile> readTensorProtoFile(llvm::StringRef path,
                                              std::string &error);

} // namespace mlir::shears

#endif // SHEARS_TARGET_ONNX_IMPORT_H
