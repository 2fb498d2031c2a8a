//===- Pack.cpp - The .shears pack ----------------------------------------===//
//
// Writes and reads the format of docs/PackFormat.md. A weight is a list of
// entries: the distance (zeros skipped) from the previous entry, coded in
// `indexBits` bits, and a value; a gap longer than 2^indexBits - 1 is
// bridged by zero-valued fillers, as Deep Compression does. Values are codes
// into a codebook when the weight takes at most 256 distinct values (zero
// is always code 0), else f32. Gaps and codes are Huffman-coded, each with a
// canonical code chosen for the tensor; `indexBits` is the width that
// makes the tensor smallest.
//
//===----------------------------------------------------------------------===//

#include "shears/Target/ONNX/Pack.h"

#include "shears/Support/Huffman.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cstring>
#include <exception>

using namespace mlir::shears;
using llvm::createStringError;
using llvm::Expected;
using llvm::StringRef;

static constexpr char kMagic[8] = {'S', 'H', 'E', 'A', 'R', 'S', 'P', 'K'};
static constexpr size_t kHeaderBytes = 24;
static constexpr unsigned kMaxIndexBits = 8;
static constexpr size_t kMaxCodebook = 256;
/// No tensor may have more elements (as the importer allows).
static constexpr uint64_t kMaxElements = uint64_t(1) << 32;

//===----------------------------------------------------------------------===//
// Byte streams
//===----------------------------------------------------------------------===//

namespace {

struct Writer {
  std::string bytes;
  void u8(uint8_t v) { bytes.push_back(char(v)); }
  void u16(uint16_t v) { fixed(v); }
  void u32(uint32_t v) { fixed(v); }
  void u64(uint64_t v) { fixed(v); }
  template <typename T> void fixed(T v) {
    char buffer[sizeof(T)];
    llvm::support::endian::write<T, llvm::endianness::little>(buffer, v);
    bytes.append(buffer, sizeof(T));
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      u8(uint8_t(v) | 0x80);
      v >>= 7;
    }
    u8(uint8_t(v));
  }
  void blob(StringRef data) {
    varint(data.size());
    bytes.append(data.data(), data.size());
  }
};

/// Reads the body; every read checks that the bytes are there and names
/// what it was reading when they are not.
struct Reader {
  StringRef bytes;
  size_t position = 0;

  llvm::Error truncated(StringRef what) const {
    return createStringError("the file is truncated (in " + what.str() +
                             " at byte " +
                             std::to_string(kHeaderBytes + position) + ")");
  }
  Expected<StringRef> take(uint64_t size, StringRef what) {
    if (size > bytes.size() - position)
      return truncated(what);
    StringRef result = bytes.substr(position, size);
    position += size;
    return result;
  }
  template <typename T> Expected<T> fixed(StringRef what) {
    auto data = take(sizeof(T), what);
    if (!data)
      return data.takeError();
    return llvm::support::endian::read<T, llvm::endianness::little>(
        data->data());
  }
  Expected<uint64_t> varint(StringRef what) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      auto byte = fixed<uint8_t>(what);
      if (!byte)
        return byte.takeError();
      value |= uint64_t(*byte & 0x7f) << shift;
      if (!(*byte & 0x80))
        return value;
    }
    return createStringError("a number that is too long in " + what.str());
  }
  Expected<StringRef> blob(StringRef what) {
    auto size = varint(what);
    if (!size)
      return size.takeError();
    return take(*size, what);
  }
};

//===----------------------------------------------------------------------===//
// Encoding one tensor
//===----------------------------------------------------------------------===//

/// A tensor's non-zero elements: their positions and f32 bit patterns.
struct Sparse {
  std::vector<uint64_t> positions;
  std::vector<uint32_t> values;
};

Sparse findNonZeros(StringRef raw) {
  Sparse sparse;
  for (uint64_t i = 0, n = raw.size() / 4; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, raw.data() + i * 4, 4);
    if (bits == 0)
      continue;
    sparse.positions.push_back(i);
    sparse.values.push_back(bits);
  }
  return sparse;
}

/// The stored form of a tensor at one index width.
struct Encoding {
  unsigned indexBits = 0;
  std::vector<uint64_t> gapCounts, codeCounts;
  int64_t entries = 0;
  uint64_t bytes = 0;
};

/// Counts the gap symbols (and zero codes of the fillers) at `indexBits`.
Encoding measure(const Sparse &sparse, unsigned indexBits,
                 const llvm::DenseMap<uint32_t, unsigned> *codes) {
  Encoding e;
  e.indexBits = indexBits;
  uint64_t span = uint64_t(1) << indexBits; // gap symbols 0 .. span - 1
  e.gapCounts.assign(span, 0);
  e.codeCounts.assign(codes ? codes->size() + 1 : 0, 0);
  uint64_t previous = ~uint64_t(0); // "-1": the first gap counts from 0
  for (size_t i = 0; i < sparse.positions.size(); ++i) {
    uint64_t gap = sparse.positions[i] - (previous + 1);
    uint64_t fillers = gap / span;
    e.gapCounts[span - 1] += fillers;
    e.gapCounts[gap % span] += 1;
    e.entries += int64_t(fillers) + 1;
    if (codes) {
      e.codeCounts[0] += fillers;
      e.codeCounts[codes->lookup(sparse.values[i])] += 1;
    }
    previous = sparse.positions[i];
  }
  uint64_t bits = huffmanBits(e.gapCounts, huffmanLengths(e.gapCounts));
  bits += codes ? huffmanBits(e.codeCounts, huffmanLengths(e.codeCounts))
                : 32 * uint64_t(e.entries);
  // Tables: a length byte per gap symbol and per code, the codebook.
  e.bytes = (bits + 7) / 8 + span + (codes ? 5 * (codes->size() + 1) : 0);
  return e;
}

/// Appends the tensor's section (after its name) to `out` and fills the
/// stages of `stats`.
void encode(const Sparse &sparse, uint64_t elements, Writer &out,
            PackedTensor &stats) {
  // The codebook: zero, then the distinct bit patterns in increasing order
  // (as integers: NaNs have no order as floats, and the order is free).
  std::vector<uint32_t> distinct(sparse.values);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::optional<llvm::DenseMap<uint32_t, unsigned>> codes;
  std::vector<uint32_t> codebook;
  if (distinct.size() < kMaxCodebook) {
    codes.emplace();
    codebook.push_back(0);
    for (uint32_t bits : distinct) {
      (*codes)[bits] = codebook.size();
      codebook.push_back(bits);
    }
  }
  const llvm::DenseMap<uint32_t, unsigned> *codeMap = codes ? &*codes : nullptr;
  Encoding best;
  for (unsigned b = 1; b <= kMaxIndexBits; ++b) {
    Encoding e = measure(sparse, b, codeMap);
    if (!best.indexBits || e.bytes < best.bytes)
      best = std::move(e);
  }
  unsigned b = best.indexBits;
  uint64_t span = uint64_t(1) << b;
  std::vector<uint8_t> gapLengths = huffmanLengths(best.gapCounts);
  std::vector<uint8_t> codeLengths =
      codes ? huffmanLengths(best.codeCounts) : std::vector<uint8_t>();
  HuffmanEncoder gapCoder(gapLengths), codeCoder(codeLengths);
  BitWriter gapBits, codeBits;
  Writer values;
  uint64_t previous = ~uint64_t(0);
  auto entry = [&](uint64_t gap, uint32_t value) {
    gapCoder.encode(unsigned(gap), gapBits);
    if (codes)
      codeCoder.encode(value ? codes->lookup(value) : 0, codeBits);
    else
      values.u32(value);
  };
  for (size_t i = 0; i < sparse.positions.size(); ++i) {
    uint64_t gap = sparse.positions[i] - (previous + 1);
    for (; gap >= span; gap -= span)
      entry(span - 1, 0);
    entry(gap, sparse.values[i]);
    previous = sparse.positions[i];
  }

  size_t start = out.bytes.size();
  out.u8(codes ? 1 : 0);
  out.u8(uint8_t(b));
  out.varint(elements);
  out.varint(uint64_t(best.entries));
  if (codes) {
    out.u16(uint16_t(codebook.size()));
    for (uint32_t bits : codebook)
      out.u32(bits);
  }
  for (uint8_t length : gapLengths)
    out.u8(length);
  for (uint8_t length : codeLengths)
    out.u8(length);
  out.blob(gapBits.finish());
  if (codes)
    out.blob(codeBits.finish());
  else
    out.bytes += values.bytes;

  stats.elements = int64_t(elements);
  stats.nonzero = int64_t(sparse.positions.size());
  stats.entries = best.entries;
  stats.indexBits = b;
  stats.codebookSize = codes ? unsigned(codebook.size()) : 0;
  stats.denseBytes = elements * 4;
  stats.prunedBytes = (uint64_t(best.entries) * (32 + b) + 7) / 8;
  stats.sharedBytes = codes ? (uint64_t(best.entries) *
                                   (llvm::Log2_64_Ceil(codebook.size()) + b) +
                               7) / 8 +
                                  4 * codebook.size()
                            : stats.prunedBytes;
  stats.packedBytes = out.bytes.size() - start;
}

/// Decodes a tensor's section into `raw` (its dense f32 bytes).
llvm::Error decode(Reader &in, uint64_t elements, std::string &raw) {
  auto kind = in.fixed<uint8_t>("the value kind");
  if (!kind)
    return kind.takeError();
  if (*kind > 1)
    return createStringError("unknown value kind " + std::to_string(*kind));
  bool coded = *kind == 1;
  auto b = in.fixed<uint8_t>("the index width");
  if (!b)
    return b.takeError();
  if (*b < 1 || *b > kMaxIndexBits)
    return createStringError("an index width of " + std::to_string(*b) +
                             " bits (1 to 8)");
  auto stored = in.varint("the element count");
  if (!stored)
    return stored.takeError();
  if (*stored != elements)
    return createStringError(std::to_string(*stored) +
                             " elements packed, but the model's tensor has " +
                             std::to_string(elements));
  auto entries = in.varint("the entry count");
  if (!entries)
    return entries.takeError();
  if (*entries > elements)
    return createStringError(std::to_string(*entries) + " entries for " +
                             std::to_string(elements) + " elements");
  std::vector<uint32_t> codebook;
  if (coded) {
    auto size = in.fixed<uint16_t>("the codebook size");
    if (!size)
      return size.takeError();
    if (*size < 1 || *size > kMaxCodebook)
      return createStringError("a codebook of " + std::to_string(*size) +
                               " values (1 to 256)");
    for (unsigned i = 0; i < *size; ++i) {
      auto value = in.fixed<uint32_t>("the codebook");
      if (!value)
        return value.takeError();
      codebook.push_back(*value);
    }
    if (codebook[0] != 0)
      return createStringError("the codebook does not start with zero");
  }
  uint64_t span = uint64_t(1) << *b;
  auto gapLengths = in.take(span, "the index code lengths");
  if (!gapLengths)
    return gapLengths.takeError();
  auto codeLengths =
      in.take(coded ? codebook.size() : 0, "the value code lengths");
  if (!codeLengths)
    return codeLengths.takeError();
  auto gapStream = in.blob("the index stream");
  if (!gapStream)
    return gapStream.takeError();
  auto asLengths = [](StringRef s) {
    return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(s.data()),
                                   s.size());
  };
  std::optional<HuffmanDecoder> gaps, codes;
  StringRef values;
  if (*entries) {
    auto decoder = HuffmanDecoder::create(asLengths(*gapLengths), *gapStream);
    if (!decoder)
      return createStringError("the index code: " +
                               llvm::toString(decoder.takeError()));
    gaps.emplace(std::move(*decoder));
  }
  if (coded) {
    auto codeStream = in.blob("the value stream");
    if (!codeStream)
      return codeStream.takeError();
    if (*entries) {
      auto decoder =
          HuffmanDecoder::create(asLengths(*codeLengths), *codeStream);
      if (!decoder)
        return createStringError("the value code: " +
                                 llvm::toString(decoder.takeError()));
      codes.emplace(std::move(*decoder));
    }
  } else {
    auto data = in.take(*entries * 4, "the values");
    if (!data)
      return data.takeError();
    values = *data;
  }

  raw.assign(elements * 4, '\0');
  uint64_t next = 0; // the position after the previous entry
  for (uint64_t i = 0; i < *entries; ++i) {
    auto gap = gaps->decode();
    if (!gap)
      return createStringError("the index stream, entry " + std::to_string(i) +
                               ": " + llvm::toString(gap.takeError()));
    uint64_t position = next + *gap;
    if (position >= elements)
      return createStringError("entry " + std::to_string(i) +
                               " is at element " + std::to_string(position) +
                               ", past the end of the " +
                               std::to_string(elements) + " elements");
    uint32_t value;
    if (coded) {
      auto code = codes->decode();
      if (!code)
        return createStringError("the value stream, entry " +
                                 std::to_string(i) + ": " +
                                 llvm::toString(code.takeError()));
      value = codebook[*code];
    } else {
      std::memcpy(&value, values.data() + i * 4, 4);
    }
    std::memcpy(raw.data() + position * 4, &value, 4);
    next = position + 1;
  }
  return llvm::Error::success();
}

/// `name` with control characters and bytes that are not ASCII escaped.
std::string printable(StringRef name) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::printEscapedString(name, os);
  return text;
}

/// The element count of `tensor`'s dims, or an error.
Expected<uint64_t> elementCount(const onnx::TensorProto &tensor) {
  uint64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d && count > kMaxElements / uint64_t(d)))
      return createStringError("tensor '" + printable(tensor.name()) +
                               "' has dims out of range");
    count *= uint64_t(d);
  }
  if (count > kMaxElements)
    return createStringError("tensor '" + printable(tensor.name()) +
                             "' has more than 2^32 elements");
  return count;
}

} // namespace

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

bool mlir::shears::isPackedModel(StringRef bytes) {
  return bytes.starts_with(StringRef(kMagic, sizeof(kMagic)));
}

Expected<std::string> mlir::shears::packONNX(StringRef onnxBytes,
                                             PackReport *report) {
  try {
    onnx::ModelProto model;
    if (!model.ParseFromArray(onnxBytes.data(), int(onnxBytes.size())))
      return createStringError("not an ONNX model");
    Writer tensors;
    uint64_t count = 0;
    std::vector<PackedTensor> packed;
    for (onnx::TensorProto &tensor :
         *model.mutable_graph()->mutable_initializer()) {
      if (tensor.data_type() != onnx::TensorProto::FLOAT ||
          !tensor.has_raw_data() || tensor.raw_data().empty())
        continue;
      auto elements = elementCount(tensor);
      if (!elements)
        return elements.takeError();
      if (tensor.raw_data().size() != *elements * 4)
        return createStringError("tensor '" + printable(tensor.name()) +
                                 "' has data of the wrong size");
      Writer section;
      section.blob(tensor.name());
      PackedTensor stats;
      stats.name = tensor.name();
      encode(findNonZeros(tensor.raw_data()), *elements, section, stats);
      // Kept in the model where packing does not pay.
      if (section.bytes.size() >= tensor.raw_data().size())
        continue;
      tensors.bytes += section.bytes;
      tensor.clear_raw_data();
      packed.push_back(std::move(stats));
      ++count;
    }
    std::string graph;
    if (!model.SerializeToString(&graph))
      return createStringError("cannot serialize the ONNX model");
    Writer body;
    body.blob(graph);
    body.varint(count);
    body.bytes += tensors.bytes;

    Writer file;
    file.bytes.append(kMagic, sizeof(kMagic));
    file.u32(kPackFormatVersion);
    file.u32(llvm::crc32(llvm::arrayRefFromStringRef(body.bytes)));
    file.u64(body.bytes.size());
    file.bytes += body.bytes;
    if (report) {
      report->tensors = std::move(packed);
      report->onnxBytes = onnxBytes.size();
      report->packedBytes = file.bytes.size();
      report->graphBytes = graph.size();
    }
    return std::move(file.bytes);
  } catch (const std::exception &e) {
    return createStringError(std::string("packing failed: ") + e.what());
  }
}

Expected<std::string> mlir::shears::unpackONNX(StringRef packed,
                                               uint64_t maxBytes) {
  if (packed.size() < kHeaderBytes || !isPackedModel(packed))
    return createStringError(
        packed.size() < kHeaderBytes && isPackedModel(packed)
            ? "the file is truncated (in its header)"
            : "not a .shears file (its first bytes are not SHEARSPK)");
  using llvm::support::endian::read32le;
  using llvm::support::endian::read64le;
  uint32_t version = read32le(packed.data() + 8);
  if (version != kPackFormatVersion)
    return createStringError("format version " + std::to_string(version) +
                             " (this Shears reads version " +
                             std::to_string(kPackFormatVersion) + ")");
  uint32_t crc = read32le(packed.data() + 12);
  uint64_t size = read64le(packed.data() + 16);
  StringRef body = packed.drop_front(kHeaderBytes);
  if (size != body.size())
    return createStringError(
        size > body.size()
            ? "the file is truncated (" + std::to_string(body.size()) +
                  " of its " + std::to_string(size) + " body bytes)"
            : "the file has " + std::to_string(body.size() - size) +
                  " bytes after its end");
  if (llvm::crc32(llvm::arrayRefFromStringRef(body)) != crc)
    return createStringError(
        "its checksum does not match its contents (the file is corrupt)");
  try {
    Reader in{body};
    auto graph = in.blob("the ONNX model");
    if (!graph)
      return graph.takeError();
    onnx::ModelProto model;
    if (!model.ParseFromArray(graph->data(), int(graph->size())))
      return createStringError("the embedded ONNX model does not parse");
    llvm::StringMap<onnx::TensorProto *> byName;
    for (onnx::TensorProto &tensor :
         *model.mutable_graph()->mutable_initializer())
      byName[tensor.name()] = &tensor;
    auto count = in.varint("the tensor count");
    if (!count)
      return count.takeError();
    for (uint64_t t = 0; t < *count; ++t) {
      auto name = in.blob("a tensor name");
      if (!name)
        return name.takeError();
      onnx::TensorProto *tensor = byName.lookup(*name);
      if (!tensor || tensor->data_type() != onnx::TensorProto::FLOAT ||
          tensor->has_raw_data() || tensor->float_data_size() ||
          tensor->data_location() == onnx::TensorProto::EXTERNAL)
        return createStringError("packed tensor '" + printable(*name) +
                                 "' is not an f32 initializer without data "
                                 "in the model (or it is packed twice)");
      auto elements = elementCount(*tensor);
      if (!elements)
        return elements.takeError();
      if (*elements * 4 > maxBytes)
        return createStringError(
            "packed tensor '" + printable(*name) + "' would take " +
            std::to_string(*elements * 4) +
            " bytes unpacked, past the limit (" + std::to_string(maxBytes) +
            " bytes left)");
      maxBytes -= *elements * 4;
      std::string raw;
      if (llvm::Error e = decode(in, *elements, raw))
        return createStringError("packed tensor '" + printable(*name) +
                                 "': " + llvm::toString(std::move(e)));
      tensor->set_raw_data(std::move(raw));
    }
    if (in.position != body.size())
      return createStringError("the body has " +
                               std::to_string(body.size() - in.position) +
                               " bytes after its last tensor");
    std::string onnx;
    if (!model.SerializeToString(&onnx))
      return createStringError("cannot serialize the ONNX model");
    return onnx;
  } catch (const std::exception &e) {
    return createStringError(std::string("unpacking failed: ") + e.what());
  }
}

std::string mlir::shears::packReportJSON(const PackReport &report) {
  llvm::json::Array tensors;
  for (const PackedTensor &t : report.tensors)
    tensors.push_back(
        llvm::json::Object{{"name", t.name},
                           {"elements", t.elements},
                           {"nonzero", t.nonzero},
                           {"entries", t.entries},
                           {"index_bits", t.indexBits},
                           {"codebook_size", t.codebookSize},
                           {"dense_bytes", int64_t(t.denseBytes)},
                           {"pruned_bytes", int64_t(t.prunedBytes)},
                           {"shared_bytes", int64_t(t.sharedBytes)},
                           {"packed_bytes", int64_t(t.packedBytes)}});
  llvm::json::Object root{{"tensors", std::move(tensors)},
                          {"onnx_bytes", int64_t(report.onnxBytes)},
                          {"packed_bytes", int64_t(report.packedBytes)},
                          {"graph_bytes", int64_t(report.graphBytes)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}
