//===- Huffman.cpp - Canonical Huffman coding -----------------------------===//

#include "shears/Support/Huffman.h"

#include <algorithm>
#include <queue>

using namespace mlir::shears;

/// Code lengths of an optimal prefix code (unlimited length).
static std::vector<uint8_t> optimalLengths(llvm::ArrayRef<uint64_t> counts) {
  size_t n = counts.size();
  std::vector<uint8_t> lengths(n, 0);
  // Nodes 0..n-1 are the symbols, the rest internal; parent links give the
  // depth of each leaf.
  std::vector<int64_t> parent(n, -1);
  using Item = std::pair<uint64_t, int64_t>; // (weight, node)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  for (size_t s = 0; s < n; ++s)
    if (counts[s])
      queue.push({counts[s], int64_t(s)});
  if (queue.empty())
    return lengths;
  if (queue.size() == 1) {
    lengths[queue.top().second] = 1;
    return lengths;
  }
  while (queue.size() > 1) {
    Item a = queue.top();
    queue.pop();
    Item b = queue.top();
    queue.pop();
    int64_t node = int64_t(parent.size());
    parent.push_back(-1);
    parent[a.second] = parent[b.second] = node;
    queue.push({a.first + b.first, node});
  }
  for (size_t s = 0; s < n; ++s) {
    if (!counts[s])
      continue;
    unsigned depth = 0;
    for (int64_t node = int64_t(s); parent[node] != -1; node = parent[node])
      ++depth;
    lengths[s] = uint8_t(std::min(depth, 255u));
  }
  return lengths;
}

std::vector<uint8_t>
mlir::shears::huffmanLengths(llvm::ArrayRef<uint64_t> counts) {
  std::vector<uint64_t> flattened(counts.begin(), counts.end());
  while (true) {
    std::vector<uint8_t> lengths = optimalLengths(flattened);
    if (*std::max_element(lengths.begin(), lengths.end()) <= kMaxHuffmanBits)
      return lengths;
    // Halving the counts (keeping each non-zero) evens the tree out.
    for (uint64_t &c : flattened)
      if (c)
        c = (c >> 1) | 1;
  }
}

uint64_t mlir::shears::huffmanBits(llvm::ArrayRef<uint64_t> counts,
                                   llvm::ArrayRef<uint8_t> lengths) {
  uint64_t bits = 0;
  for (size_t s = 0; s < counts.size(); ++s)
    bits += counts[s] * lengths[s];
  return bits;
}

void BitWriter::write(uint32_t bits, unsigned count) {
  pending = (pending << count) | (bits & ((uint64_t(1) << count) - 1));
  pendingBits += count;
  while (pendingBits >= 8) {
    pendingBits -= 8;
    bytes.push_back(char((pending >> pendingBits) & 0xff));
  }
  pending &= (uint64_t(1) << pendingBits) - 1;
}

std::string BitWriter::finish() {
  if (pendingBits)
    bytes.push_back(char((pending << (8 - pendingBits)) & 0xff));
  pending = pendingBits = 0;
  return std::move(bytes);
}

/// The canonical codes of `lengths`: by length, then by symbol.
HuffmanEncoder::HuffmanEncoder(llvm::ArrayRef<uint8_t> lengths)
    : lengths(lengths.begin(), lengths.end()), codes(lengths.size(), 0) {
  uint32_t code = 0;
  for (unsigned length = 1; length <= kMaxHuffmanBits; ++length) {
    for (size_t s = 0; s < lengths.size(); ++s)
      if (lengths[s] == length)
        codes[s] = code++;
    code <<= 1;
  }
}

llvm::Expected<HuffmanDecoder>
HuffmanDecoder::create(llvm::ArrayRef<uint8_t> lengths,
                       llvm::StringRef stream) {
  HuffmanDecoder decoder;
  decoder.countPerLength.assign(kMaxHuffmanBits + 1, 0);
  for (uint8_t length : lengths) {
    if (length > kMaxHuffmanBits)
      return llvm::createStringError(
          "a Huffman code length of " + std::to_string(length) +
          " bits (at most " + std::to_string(kMaxHuffmanBits) + ")");
    ++decoder.countPerLength[length];
  }
  decoder.countPerLength[0] = 0;
  // Kraft's inequality: more codes of a length than the shorter ones leave
  // room for cannot be decoded.
  int64_t room = 1;
  for (unsigned length = 1; length <= kMaxHuffmanBits; ++length) {
    room = room * 2 - decoder.countPerLength[length];
    if (room < 0)
      return llvm::createStringError(
          "the Huffman code lengths are over-subscribed (no prefix code has "
          "them)");
  }
  for (unsigned length = 1; length <= kMaxHuffmanBits; ++length)
    for (size_t s = 0; s < lengths.size(); ++s)
      if (lengths[s] == length)
        decoder.symbols.push_back(uint16_t(s));
  if (decoder.symbols.empty())
    return llvm::createStringError("a Huffman code without symbols");
  decoder.stream = stream;
  return decoder;
}

llvm::Expected<unsigned> HuffmanDecoder::decode() {
  // Canonical decoding: `code - first` indexes the codes of this length.
  int64_t code = 0, first = 0, index = 0;
  for (unsigned length = 1; length <= kMaxHuffmanBits; ++length) {
    if (position >= uint64_t(stream.size()) * 8)
      return llvm::createStringError("the bit stream ends inside a code");
    unsigned bit = (uint8_t(stream[position / 8]) >> (7 - position % 8)) & 1;
    ++position;
    code |= bit;
    int64_t count = countPerLength[length];
    if (code - first < count)
      return symbols[index + (code - first)];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return llvm::createStringError("a bit pattern that is no Huffman code");
}
