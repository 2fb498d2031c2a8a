//===- Support.h - Internals shared by the runtime C API --------*- C++ -*-===//
//
// The runtime links against libc and libdl only, so that a plain C program can
// link it without libstdc++: nothing here (or in any runtime source) may use
// operator new, the C++ library's containers, exceptions or RTTI. These are
// the few malloc-based helpers that replace them.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_CAPI_SUPPORT_H
#define SHEARS_LIB_CAPI_SUPPORT_H

#include "shears-c/Runtime.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <type_traits>

// The memref descriptors and .npy files are read as little-endian 8-byte
// words.
static_assert(sizeof(void *) == 8, "the runtime assumes a 64-bit target");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the runtime assumes a little-endian target");

struct ShearsTensor {
  ShearsDType dtype;
  size_t rank;
  /// Points right past this struct, in the same allocation.
  int64_t *shape;
  size_t numElements;
  size_t sizeInBytes;
  void *data;
  /// What free() releases; NULL when the data is borrowed.
  void *allocation;
};

namespace shears::capi {

/// A growable array of trivially copyable elements, on malloc/realloc.
template <typename T> class Array {
  static_assert(std::is_trivially_copyable_v<T>, "elements are realloc'd");

public:
  Array() = default;
  Array(const Array &) = delete;
  Array &operator=(const Array &) = delete;
  ~Array() { free(elements); }

  /// Returns false when out of memory.
  bool push_back(const T &value) {
    if (count == capacity) {
      size_t newCapacity = capacity ? 2 * capacity : 4;
      T *grown = static_cast<T *>(realloc(elements, newCapacity * sizeof(T)));
      if (!grown)
        return false;
      elements = grown;
      capacity = newCapacity;
    }
    elements[count++] = value;
    return true;
  }

  size_t size() const { return count; }
  T *data() { return elements; }

  /// Hands the malloc'd elements to the caller (NULL if empty).
  T *release() {
    T *result = elements;
    elements = nullptr;
    count = capacity = 0;
    return result;
  }

private:
  T *elements = nullptr;
  size_t count = 0;
  size_t capacity = 0;
};

/// Builds a NUL-terminated string in a malloc'd buffer. Running out of memory
/// is sticky: release() then returns NULL.
class StringBuilder {
public:
  StringBuilder() = default;
  StringBuilder(const StringBuilder &) = delete;
  StringBuilder &operator=(const StringBuilder &) = delete;
  ~StringBuilder() { free(buffer); }

  void append(const char *text, size_t length);
  void append(const char *text) { append(text, strlen(text)); }
  void appendf(const char *format, ...) __attribute__((format(printf, 2, 3)));
  void vappendf(const char *format, va_list args);
  /// Appends "f32 [?x784]".
  void appendType(ShearsDType dtype, size_t rank, const int64_t *shape);

  size_t size() const { return length; }
  /// The text so far ("" when empty or out of memory).
  const char *str() const { return buffer && !outOfMemory ? buffer : ""; }
  /// Hands the malloc'd string to the caller and resets the builder.
  char *release();

private:
  bool reserve(size_t extra);

  char *buffer = nullptr;
  size_t length = 0;
  size_t capacity = 0;
  bool outOfMemory = false;
};

/// Sets `*error`, when `error` is not NULL, to a malloc'd message.
void setError(char **error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/// A cursor over NUL-terminated text with the lexing that the signature JSON
/// and the .npy header (a Python dict literal) share. The first failure is
/// recorded with its offset; parsing stops there.
class TextCursor {
public:
  explicit TextCursor(const char *text) : begin(text), pos(text) {}

  void skipSpace();
  /// Skips space; consumes `c` if it comes next.
  bool tryConsume(char c);
  /// Skips space; consumes `word` if it comes next.
  bool tryConsumeWord(const char *word);
  /// Like tryConsume, but records an error if `c` does not come next.
  bool expect(char c);
  /// Skips space and reads a decimal integer (optional '-').
  bool parseInteger(int64_t &value);
  /// Records "at offset N: <message>" unless an error is already recorded.
  /// Returns false, for `return fail(...)`.
  bool fail(const char *format, ...) __attribute__((format(printf, 2, 3)));

  char peek() const { return *pos; }
  bool atEnd() const { return *pos == '\0'; }
  void advance() { ++pos; }
  const char *position() const { return pos; }
  const char *errorMessage() const { return error.str(); }

private:
  const char *begin;
  const char *pos;
  StringBuilder error;
};

/// Element type facts: signature name, size, .npy descr.
struct DTypeInfo {
  const char *name;
  size_t size;
  const char *npyDescr;
};

/// Returns NULL for a value that is not a ShearsDType.
const DTypeInfo *getDTypeInfo(ShearsDType dtype);

/// Allocates a tensor of `dtype` and `shape` with no data yet (`data` and
/// `allocation` NULL) after checking the dims and that the byte size fits.
ShearsTensor *allocateTensor(ShearsDType dtype, size_t rank,
                             const int64_t *shape, char **error);

/// malloc that never returns NULL for a successful 0-byte request.
inline void *allocateBytes(size_t size) { return malloc(size ? size : 1); }

} // namespace shears::capi

#endif // SHEARS_LIB_CAPI_SUPPORT_H
