//===- Npz.cpp - NumPy .npz archives of float tensors ---------------------===//
//
// An .npz is a zip archive with one `NAME.npy` entry per array. numpy.savez
// stores the entries uncompressed and, since numpy 1.x, always with zip64
// extra fields, so the reader walks the central directory (zip64 aware) and
// hands each entry's bytes to the runtime's .npy reader. The writer emits a
// plain zip (no zip64: archives stay under 4 GiB) of stored entries.
//
//===----------------------------------------------------------------------===//

#include "shears/Support/Npz.h"
#include "shears/Support/Files.h"
#include "shears/Support/Finite.h"

#include "shears/Support/RuntimeHandles.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>

using namespace mlir::shears;
using llvm::StringRef;

namespace {

constexpr uint32_t localHeaderSig = 0x04034b50;
constexpr uint32_t centralHeaderSig = 0x02014b50;
constexpr uint32_t endSig = 0x06054b50;
constexpr uint32_t zip64EndSig = 0x06064b50;
constexpr uint32_t zip64LocatorSig = 0x07064b50;

/// Bounds-checked little-endian reads of an archive held in memory.
class Reader {
public:
  explicit Reader(StringRef data) : data(data) {}
  bool has(uint64_t offset, uint64_t size) const {
    return offset <= data.size() && size <= data.size() - offset;
  }
  uint64_t read(uint64_t offset, unsigned bytes) const {
    uint64_t value = 0;
    for (unsigned i = bytes; i-- > 0;)
      value = value << 8 | static_cast<unsigned char>(data[offset + i]);
    return value;
  }
  StringRef data;
};

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Converts a tensor of the runtime into float values.
llvm::Expected<NpzArray> toArray(const ShearsTensor *tensor,
                                 const llvm::Twine &what) {
  NpzArray array;
  const int64_t *shape = shearsTensorShape(tensor);
  array.shape.assign(shape, shape + shearsTensorRank(tensor));
  size_t count = shearsTensorNumElements(tensor);
  const void *data = shearsTensorData(tensor);
  switch (shearsTensorDType(tensor)) {
  case SHEARS_DTYPE_F32:
    array.values.assign(static_cast<const float *>(data),
                        static_cast<const float *>(data) + count);
    break;
  case SHEARS_DTYPE_F64:
    array.values.assign(static_cast<const double *>(data),
                        static_cast<const double *>(data) + count);
    break;
  default:
    return fail(what + " holds " + shearsDTypeName(shearsTensorDType(tensor)) +
                " elements; expected f32 or f64");
  }
  std::string nonFinite = describeNonFinite(llvm::ArrayRef(array.values));
  if (!nonFinite.empty())
    return fail(what + " holds " + nonFinite);
  return array;
}

} // namespace

llvm::Expected<llvm::StringMap<NpzArray>>
mlir::shears::readNpz(StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return buffer.takeError();
  Reader r((*buffer)->getBuffer());
  auto corrupt = [&](const llvm::Twine &what) {
    return fail("'" + path + "' is not a valid .npz archive: " + what);
  };

  // The end-of-central-directory record closes the file, before a comment of
  // at most 64 KiB.
  uint64_t size = r.data.size(), end = UINT64_MAX;
  for (uint64_t at = size >= 22 ? size - 22 : UINT64_MAX;
       at != UINT64_MAX && size - at <= 22 + 0xFFFF; --at) {
    if (r.read(at, 4) == endSig) {
      end = at;
      break;
    }
    if (at == 0)
      break;
  }
  if (end == UINT64_MAX)
    return corrupt("no zip end-of-central-directory record");
  uint64_t entries = r.read(end + 10, 2), directory = r.read(end + 16, 4);
  if (entries == 0xFFFF || directory == 0xFFFFFFFF) {
    if (end < 20 || r.read(end - 20, 4) != zip64LocatorSig)
      return corrupt("no zip64 end-of-central-directory locator");
    uint64_t zip64End = r.read(end - 20 + 8, 8);
    if (!r.has(zip64End, 56) || r.read(zip64End, 4) != zip64EndSig)
      return corrupt("bad zip64 end-of-central-directory record");
    entries = r.read(zip64End + 32, 8);
    directory = r.read(zip64End + 48, 8);
  }

  llvm::StringMap<NpzArray> arrays;
  uint64_t at = directory;
  for (uint64_t e = 0; e < entries; ++e) {
    if (!r.has(at, 46) || r.read(at, 4) != centralHeaderSig)
      return corrupt("bad central directory entry #" + llvm::Twine(e));
    uint64_t method = r.read(at + 10, 2), crc = r.read(at + 16, 4);
    uint64_t compressed = r.read(at + 20, 4), uncompressed = r.read(at + 24, 4);
    uint64_t nameLength = r.read(at + 28, 2), extraLength = r.read(at + 30, 2),
             commentLength = r.read(at + 32, 2), local = r.read(at + 42, 4);
    if (!r.has(at + 46, nameLength + extraLength))
      return corrupt("bad central directory entry #" + llvm::Twine(e));
    StringRef name = r.data.substr(at + 46, nameLength);
    // Sizes and offsets that do not fit 32 bits sit in the zip64 extra field,
    // in this order, for those whose 32-bit field is all ones.
    for (uint64_t x = at + 46 + nameLength, xEnd = x + extraLength;
         x + 4 <= xEnd;) {
      uint64_t id = r.read(x, 2), length = r.read(x + 2, 2), field = x + 4;
      if (field + length > xEnd)
        return corrupt("bad extra field of entry '" + name + "'");
      if (id == 1) {
        for (uint64_t *value : {&uncompressed, &compressed, &local}) {
          if (*value != 0xFFFFFFFF)
            continue;
          if (field + 8 > x + 4 + length)
            return corrupt("bad zip64 field of entry '" + name + "'");
          *value = r.read(field, 8);
          field += 8;
        }
      }
      x += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;

    if (method != 0)
      return fail("'" + path + "': entry '" + name +
                  "' is compressed; write the archive with numpy.savez, not "
                  "numpy.savez_compressed");
    if (!r.has(local, 30) || r.read(local, 4) != localHeaderSig)
      return corrupt("bad local header of entry '" + name + "'");
    uint64_t begin = local + 30 + r.read(local + 26, 2) + r.read(local + 28, 2);
    if (compressed != uncompressed || !r.has(begin, compressed))
      return corrupt("entry '" + name + "' is truncated");
    StringRef bytes = r.data.substr(begin, compressed);
    if (llvm::crc32(llvm::arrayRefFromStringRef(bytes)) != crc)
      return corrupt("entry '" + name + "' fails its CRC check");

    std::string what = (path + ":" + name).str();
    char *message = nullptr;
    TensorPtr tensor(shearsTensorLoadNpyBuffer(bytes.data(), bytes.size(),
                                               what.c_str(), &message));
    if (!tensor) {
      return fail(takeRuntimeMessage(message, "cannot read it"));
    }
    StringRef key = name;
    key.consume_back(".npy");
    llvm::Expected<NpzArray> array = toArray(tensor.get(), "'" + what + "'");
    if (!array)
      return array.takeError();
    arrays[key] = std::move(*array);
  }
  return arrays;
}

llvm::Error mlir::shears::writeNpz(
    StringRef path, llvm::ArrayRef<std::pair<std::string, NpzArray>> arrays) {
  std::string archive, directory;
  llvm::raw_string_ostream out(archive), dir(directory);
  auto put = [](llvm::raw_ostream &os, uint64_t value, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i)
      os << static_cast<char>(value >> (8 * i) & 0xFF);
  };
  for (const auto &[name, array] : arrays) {
    char *message = nullptr;
    TensorPtr tensor(shearsTensorCreate(SHEARS_DTYPE_F32, array.shape.size(),
                                        array.shape.data(), array.values.data(),
                                        &message));
    char *npy = nullptr;
    size_t npySize = 0;
    if (!tensor ||
        shearsTensorSaveNpyBuffer(tensor.get(), &npy, &npySize, &message)) {
      return fail("cannot write '" + path + "': array '" + name +
                  "': " + takeRuntimeMessage(message, "cannot encode it"));
    }
    std::unique_ptr<char, decltype(&free)> owner(npy, free);
    StringRef bytes(npy, npySize);
    std::string entry = name + ".npy";
    uint32_t crc = llvm::crc32(llvm::arrayRefFromStringRef(bytes));
    uint64_t offset = archive.size();
    if (offset + bytes.size() + entry.size() + 30 >= 0xFFFFFFFF)
      return fail("cannot write '" + path + "': more than 4 GiB");
    // Local header: version 2.0, no flags, stored, no time stamp.
    put(out, localHeaderSig, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, 0, 2);
    put(out, 0, 4);
    put(out, crc, 4);
    put(out, bytes.size(), 4);
    put(out, bytes.size(), 4);
    put(out, entry.size(), 2);
    put(out, 0, 2);
    out << entry << bytes;
    // Its central directory entry.
    put(dir, centralHeaderSig, 4);
    put(dir, 20, 2);
    put(dir, 20, 2);
    put(dir, 0, 2);
    put(dir, 0, 2);
    put(dir, 0, 4);
    put(dir, crc, 4);
    put(dir, bytes.size(), 4);
    put(dir, bytes.size(), 4);
    put(dir, entry.size(), 2);
    put(dir, 0, 2);
    put(dir, 0, 2);
    put(dir, 0, 2);
    put(dir, 0, 2);
    put(dir, 0, 4);
    put(dir, offset, 4);
    dir << entry;
  }
  uint64_t directoryOffset = archive.size();
  out << directory;
  put(out, endSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, arrays.size(), 2);
  put(out, arrays.size(), 2);
  put(out, directory.size(), 4);
  put(out, directoryOffset, 4);
  put(out, 0, 2);

  // Written to a temporary file and renamed: never half a file at `path`.
  if (llvm::Error e = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
        os << archive;
        return llvm::Error::success();
      }))
    return fail("cannot write " + llvm::toString(std::move(e)));
  return llvm::Error::success();
}
