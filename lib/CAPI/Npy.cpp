//===- Npy.cpp - Reading and writing .npy files ---------------------------===//
//
// The .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
// version, the header length (2 bytes in version 1, 4 after), a header that is
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape':
// (2, 3), } padded so that the data starts at a multiple of 64 bytes, then
// the raw elements.
//
//===----------------------------------------------------------------------===//

#include "Support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace shears::capi;

static const char npyMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
/// Bounds what a corrupt length field makes us allocate; numpy's own limit.
static const size_t maxHeaderLength = 10000;

namespace {
struct NpyHeader {
  StringBuilder descr;
  bool fortranOrder = false;
  Array<int64_t> shape;
};
} // namespace

/// Reads a Python string literal. numpy writes no escapes in the keys and
/// descrs it puts in headers, so none are handled.
static bool parsePythonString(TextCursor &cursor, StringBuilder &value) {
  cursor.skipSpace();
  char quote = cursor.peek();
  if (quote != '\'' && quote != '"')
    return cursor.fail("expected a string");
  for (cursor.advance(); cursor.peek() != quote; cursor.advance()) {
    if (cursor.atEnd())
      return cursor.fail("unterminated string");
    char c = cursor.peek();
    value.append(&c, 1);
  }
  cursor.advance();
  return true;
}

/// Parses a shape tuple: `()`, `(3,)` or `(2, 3)`.
static bool parseShapeTuple(TextCursor &cursor, Array<int64_t> &shape) {
  if (!cursor.expect('('))
    return false;
  while (!cursor.tryConsume(')')) {
    int64_t dim;
    if (!cursor.parseInteger(dim))
      return false;
    if (dim < 0)
      return cursor.fail("negative dim");
    if (!shape.push_back(dim))
      return cursor.fail("out of memory");
    if (!cursor.tryConsume(','))
      return cursor.expect(')');
  }
  return true;
}

static bool parseNpyHeader(TextCursor &cursor, NpyHeader &header) {
  bool seenDescr = false, seenOrder = false, seenShape = false;
  if (!cursor.expect('{'))
    return false;
  while (!cursor.tryConsume('}')) {
    StringBuilder key;
    if (!parsePythonString(cursor, key) || !cursor.expect(':'))
      return false;
    bool *seen = strcmp(key.str(), "descr") == 0           ? &seenDescr
                 : strcmp(key.str(), "fortran_order") == 0 ? &seenOrder
                 : strcmp(key.str(), "shape") == 0         ? &seenShape
                                                           : nullptr;
    if (!seen)
      return cursor.fail("unexpected key '%s'", key.str());
    if (*seen)
      return cursor.fail("duplicate key '%s'", key.str());
    *seen = true;
    if (seen == &seenDescr) {
      if (!parsePythonString(cursor, header.descr))
        return false;
    } else if (seen == &seenOrder) {
      header.fortranOrder = cursor.tryConsumeWord("True");
      if (!header.fortranOrder && !cursor.tryConsumeWord("False"))
        return cursor.fail("expected True or False");
    } else if (!parseShapeTuple(cursor, header.shape)) {
      return false;
    }
    if (!cursor.tryConsume(','))
      return cursor.expect('}');
  }
  if (!seenDescr || !seenOrder || !seenShape)
    return cursor.fail("missing key '%s'", !seenDescr   ? "descr"
                                           : !seenOrder ? "fortran_order"
                                                        : "shape");
  return true;
}

/// Maps a descr to an element type. '<' is little-endian, '|' says byte order
/// does not apply, '=' is native (little-endian: see Support.h).
static bool getDTypeOfDescr(const char *descr, ShearsDType &dtype) {
  if (!descr[0] || !strchr("<|=", descr[0]))
    return false;
  for (int i = 0; const DTypeInfo *info = getDTypeInfo(ShearsDType(i)); ++i) {
    if (strcmp(descr + 1, info->npyDescr + 1) == 0) {
      dtype = ShearsDType(i);
      return true;
    }
  }
  return false;
}

static ShearsTensor *readNpy(FILE *file, const char *path, char **error) {
  unsigned char preamble[12];
  if (fread(preamble, 1, 8, file) != 8 ||
      memcmp(preamble, npyMagic, sizeof(npyMagic)) != 0) {
    setError(error, "'%s' is not a .npy file", path);
    return nullptr;
  }
  unsigned major = preamble[6], minor = preamble[7];
  size_t lengthBytes = major == 1 ? 2 : major == 2 || major == 3 ? 4 : 0;
  if (!lengthBytes) {
    setError(error, "'%s' has unsupported .npy version %u.%u", path, major,
             minor);
    return nullptr;
  }
  if (fread(preamble + 8, 1, lengthBytes, file) != lengthBytes) {
    setError(error, "'%s' is truncated", path);
    return nullptr;
  }
  size_t headerLength = 0;
  for (size_t i = lengthBytes; i-- > 0;)
    headerLength = headerLength << 8 | preamble[8 + i];
  if (headerLength > maxHeaderLength) {
    setError(error, "'%s' has a .npy header of %zu bytes, more than %zu", path,
             headerLength, maxHeaderLength);
    return nullptr;
  }
  char header[maxHeaderLength + 1];
  if (fread(header, 1, headerLength, file) != headerLength) {
    setError(error, "'%s' is truncated", path);
    return nullptr;
  }
  header[headerLength] = '\0';

  NpyHeader parsed;
  TextCursor cursor(header);
  if (!parseNpyHeader(cursor, parsed)) {
    setError(error, "'%s' has an invalid .npy header: %s", path,
             cursor.errorMessage());
    return nullptr;
  }
  ShearsDType dtype;
  if (!getDTypeOfDescr(parsed.descr.str(), dtype)) {
    setError(error, "'%s' holds an unsupported element type '%s'%s", path,
             parsed.descr.str(),
             parsed.descr.str()[0] == '>' ? " (big-endian)" : "");
    return nullptr;
  }
  if (parsed.fortranOrder && parsed.shape.size() > 1) {
    setError(error, "'%s' is in Fortran order; save it in C order", path);
    return nullptr;
  }
  char *reason = nullptr;
  ShearsTensor *tensor =
      allocateTensor(dtype, parsed.shape.size(), parsed.shape.data(), &reason);
  if (!tensor) {
    setError(error, "'%s': %s", path, reason ? reason : "out of memory");
    free(reason);
    return nullptr;
  }
  tensor->allocation = allocateBytes(tensor->sizeInBytes);
  tensor->data = tensor->allocation;
  if (!tensor->allocation) {
    shearsTensorFree(tensor);
    setError(error, "'%s': out of memory", path);
    return nullptr;
  }
  size_t read = fread(tensor->data, 1, tensor->sizeInBytes, file);
  if (read != tensor->sizeInBytes) {
    setError(error, "'%s' is truncated: %zu bytes of data, %zu expected", path,
             read, tensor->sizeInBytes);
    shearsTensorFree(tensor);
    return nullptr;
  }
  return tensor;
}

ShearsTensor *shearsTensorLoadNpy(const char *path, char **error) {
  if (!path) {
    setError(error, "no .npy file given");
    return nullptr;
  }
  // A regular file only, opened without blocking: a FIFO would wait for a
  // writer, a device such as /dev/zero never ends.
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat status;
  if (fd < 0 || fstat(fd, &status) != 0) {
    setError(error, "cannot open '%s': %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return nullptr;
  }
  if (!S_ISREG(status.st_mode)) {
    setError(error, "cannot open '%s': %s", path,
             S_ISDIR(status.st_mode)
                 ? "it is a directory"
                 : "it is not a regular file (a FIFO, socket or device)");
    close(fd);
    return nullptr;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  FILE *file = fdopen(fd, "rb");
  if (!file) {
    setError(error, "cannot open '%s': %s", path, strerror(errno));
    close(fd);
    return nullptr;
  }
  ShearsTensor *tensor = readNpy(file, path, error);
  fclose(file);
  return tensor;
}

ShearsTensor *shearsTensorLoadNpyBuffer(const void *data, size_t size,
                                        const char *what, char **error) {
  if (!data || !what) {
    setError(error, "no .npy bytes given");
    return nullptr;
  }
  // fmemopen takes a non-const buffer but only reads it in mode "rb".
  FILE *file = fmemopen(const_cast<void *>(data), size, "rb");
  if (!file) {
    setError(error, "cannot read '%s': %s", what, strerror(errno));
    return nullptr;
  }
  ShearsTensor *tensor = readNpy(file, what, error);
  fclose(file);
  return tensor;
}

/// Writes `tensor` in the .npy format to `file`; false when a write failed.
static bool writeNpy(const ShearsTensor *tensor, FILE *file, char **error) {
  StringBuilder header;
  header.appendf("{'descr': '%s', 'fortran_order': False, 'shape': (",
                 getDTypeInfo(tensor->dtype)->npyDescr);
  for (size_t d = 0; d < tensor->rank; ++d)
    header.appendf(d ? ", %lld" : "%lld",
                   static_cast<long long>(tensor->shape[d]));
  // A 1-tuple is written `(3,)` in Python.
  header.append(tensor->rank == 1 ? ",), }" : "), }");
  // Version 1.0: magic, version and a 2-byte length take 10 bytes.
  size_t unpadded = 10 + header.size() + 1;
  size_t padding = (64 - unpadded % 64) % 64;
  for (size_t i = 0; i < padding; ++i)
    header.append(" ");
  header.append("\n");
  if (header.size() > maxHeaderLength) {
    setError(error, "cannot save a tensor of rank %zu as .npy", tensor->rank);
    return false;
  }
  unsigned char preamble[10];
  memcpy(preamble, npyMagic, sizeof(npyMagic));
  preamble[6] = 1;
  preamble[7] = 0;
  preamble[8] = header.size() & 0xFF;
  preamble[9] = header.size() >> 8;
  return fwrite(preamble, 1, sizeof(preamble), file) == sizeof(preamble) &&
         fwrite(header.str(), 1, header.size(), file) == header.size() &&
         fwrite(tensor->data, 1, tensor->sizeInBytes, file) ==
             tensor->sizeInBytes;
}

int shearsTensorSaveNpy(const ShearsTensor *tensor, const char *path,
                        char **error) {
  if (!tensor || !path) {
    setError(error, "no tensor or no path to save it to");
    return 1;
  }
  // Written to a new file beside `path`, renamed over it once complete: a
  // failure leaves neither a partial file nor a changed existing one.
  FILE *file = nullptr;
  char temp[4096];
  for (unsigned attempt = 0; !file && attempt < 100; ++attempt) {
    if (snprintf(temp, sizeof(temp), "%s.tmp-%ld-%u", path,
                 static_cast<long>(getpid()),
                 attempt) >= static_cast<int>(sizeof(temp))) {
      setError(error, "cannot write '%s': the path is too long", path);
      return 1;
    }
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0 || !(file = fdopen(fd, "wb"))) {
      setError(error, "cannot write '%s': %s", path, strerror(errno));
      if (fd >= 0) {
        close(fd);
        remove(temp);
      }
      return 1;
    }
  }
  if (!file) {
    setError(error, "cannot write '%s': no free temporary name beside it",
             path);
    return 1;
  }
  char *reason = nullptr;
  bool written = writeNpy(tensor, file, &reason);
  int savedErrno = errno;
  if (fclose(file) != 0 && written) {
    written = false;
    savedErrno = errno;
  }
  if (written && rename(temp, path) != 0) {
    written = false;
    savedErrno = errno;
  }
  if (!written) {
    remove(temp);
    if (reason)
      setError(error, "%s", reason);
    else
      setError(error, "cannot write '%s': %s", path, strerror(savedErrno));
    free(reason);
    return 1;
  }
  return 0;
}

int shearsTensorSaveNpyBuffer(const ShearsTensor *tensor, char **data,
                              size_t *size, char **error) {
  if (!tensor || !data || !size) {
    setError(error, "no tensor or no buffer to save it to");
    return 1;
  }
  *data = nullptr;
  *size = 0;
  FILE *file = open_memstream(data, size);
  if (!file) {
    setError(error, "cannot save a tensor as .npy: %s", strerror(errno));
    return 1;
  }
  bool written = writeNpy(tensor, file, error);
  if (fclose(file) != 0 || !written) {
    if (written)
      setError(error, "cannot save a tensor as .npy: out of memory");
    free(*data);
    *data = nullptr;
    *size = 0;
    return 1;
  }
  return 0;
}
