//===- Huffman.h - Canonical Huffman coding ---------------------*- C++ -*-===//
//
// Canonical Huffman codes over small alphabets (at most 256 symbols), as the
// `.shears` pack stores relative indices and weight-sharing codes (Deep
// Compression, Han et al. 2016). A code is given by its symbols' lengths
// alone; codes are assigned in order of (length, symbol) and written most
// significant bit first, as DEFLATE does.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_HUFFMAN_H
#define SHEARS_SUPPORT_HUFFMAN_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::shears {

/// The longest code `huffmanLengths` gives.
constexpr unsigned kMaxHuffmanBits = 24;

/// Code lengths of an optimal prefix code for `counts` (0 for a symbol that
/// never occurs), limited to kMaxHuffmanBits: where the optimal code is
/// longer, the counts are flattened and the code rebuilt. A lone symbol gets
/// length 1.
std::vector<uint8_t> huffmanLengths(llvm::ArrayRef<uint64_t> counts);

/// Bits that `counts` take in the code of `lengths`.
uint64_t huffmanBits(llvm::ArrayRef<uint64_t> counts,
                     llvm::ArrayRef<uint8_t> lengths);

/// Appends bits most significant first; `finish` pads the last byte with 0s.
class BitWriter {
public:
  void write(uint32_t bits, unsigned count);
  std::string finish();

private:
  std::string bytes;
  uint64_t pending = 0;
  unsigned pendingBits = 0;
};

/// Writes symbols in the canonical code of `lengths`.
class HuffmanEncoder {
public:
  explicit HuffmanEncoder(llvm::ArrayRef<uint8_t> lengths);
  void encode(unsigned symbol, BitWriter &out) const {
    out.write(codes[symbol], lengths[symbol]);
  }

private:
  std::vector<uint8_t> lengths;
  std::vector<uint32_t> codes;
};

/// Reads symbols of the canonical code of some lengths from a bit stream.
class HuffmanDecoder {
public:
  /// Checks `lengths` (each at most kMaxHuffmanBits, at least one symbol,
  /// no length over-subscribed) and sets the decoder to read `stream`.
  static llvm::Expected<HuffmanDecoder> create(llvm::ArrayRef<uint8_t> lengths,
                                               llvm::StringRef stream);
  /// The next symbol; an error at the end of the stream or on a bit pattern
  /// that is no code.
  llvm::Expected<unsigned> decode();

private:
  HuffmanDecoder() = default;
  /// Symbols with a code of each length, and the symbols in code order.
  std::vector<uint32_t> countPerLength;
  std::vector<uint16_t> symbols;
  llvm::StringRef stream;
  uint64_t position = 0;
};

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_HUFFMAN_H
