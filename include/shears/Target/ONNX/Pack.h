//===- Pack.h - The .shears pack: sparse, shared, Huffman-coded weights -*-===//
//
// A `.shears` file holds an ONNX model whose float weights are stored as
// Deep Compression stores them (Han et al. 2016): only the non-zero weights,
// each with the distance from the previous one; the values as indices into
// a codebook where the weight takes few distinct values (weight sharing);
// both streams Huffman-coded. docs/PackFormat.md specifies the format.
// Packing is lossless: unpacking gives the model's weights bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_TARGET_ONNX_PACK_H
#define SHEARS_TARGET_ONNX_PACK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::shears {

/// The version of the format that packONNX writes and unpackONNX reads.
constexpr uint32_t kPackFormatVersion = 1;

/// What packing did to one weight, by Deep Compression's stages.
struct PackedTensor {
  std::string name;
  int64_t elements = 0;
  int64_t nonzero = 0;
  /// Stored entries: the non-zero weights and the zero fillers that bridge
  /// gaps longer than the relative index can say.
  int64_t entries = 0;
  /// Bits of a relative index before Huffman coding.
  unsigned indexBits = 0;
  /// Distinct values, zero included, where they form a codebook; 0 where
  /// the values are stored as f32.
  unsigned codebookSize = 0;
  /// Bytes: dense f32; pruned (f32 values and fixed-width relative indices);
  /// shared (fixed-width codes, relative indices and the codebook); and as
  /// written, Huffman-coded with its tables.
  uint64_t denseBytes = 0, prunedBytes = 0, sharedBytes = 0, packedBytes = 0;
};

struct PackReport {
  std::vector<PackedTensor> tensors;
  /// Bytes of the ONNX model packed and of the .shears file written; of the
  /// latter, those of the embedded ONNX model (graph and unpacked tensors).
  uint64_t onnxBytes = 0, packedBytes = 0, graphBytes = 0;
};

/// `report` as JSON: "tensors" (per packed weight: name, elements,
/// nonzero, entries, index_bits, codebook_size, dense_bytes, pruned_bytes,
/// shared_bytes, packed_bytes), "onnx_bytes", "packed_bytes" and
/// "graph_bytes".
std::string packReportJSON(const PackReport &report);

/// Whether `bytes` start as a .shears file does.
bool isPackedModel(llvm::StringRef bytes);

/// Packs the serialized ONNX model `onnx`. Every f32 initializer that is
/// smaller packed is packed; the rest of the model is kept as it is.
llvm::Expected<std::string> packONNX(llvm::StringRef onnx,
                                     PackReport *report = nullptr);

/// The serialized ONNX model that the .shears file `packed` holds, its
/// packed tensors taking at most `maxBytes` unpacked (a few bytes can claim
/// gigabytes of zeros). Errors say what is wrong where: a bad magic or
/// version, a truncated file, a checksum that does not match, a bad Huffman
/// table or stream, an index past the end of its tensor.
llvm::Expected<std::string> unpackONNX(llvm::StringRef packed,
                                       uint64_t maxBytes = uint64_t(1) << 34);

} // namespace mlir::shears

#endif // SHEARS_TARGET_ONNX_PACK_H
