//===- Support.cpp - Strings, errors and lexing for the runtime -----------===//

#include "Support.h"

#include <ctype.h>
#include <stdio.h>

using namespace shears::capi;

bool StringBuilder::reserve(size_t extra) {
  if (outOfMemory)
    return false;
  if (length + extra + 1 <= capacity)
    return true;
  size_t newCapacity = capacity ? capacity : 64;
  while (newCapacity < length + extra + 1)
    newCapacity *= 2;
  char *grown = static_cast<char *>(realloc(buffer, newCapacity));
  if (!grown) {
    outOfMemory = true;
    return false;
  }
  buffer = grown;
  capacity = newCapacity;
  return true;
}

void StringBuilder::append(const char *text, size_t size) {
  if (!reserve(size))
    return;
  memcpy(buffer + length, text, size);
  length += size;
  buffer[length] = '\0';
}

void StringBuilder::vappendf(const char *format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int needed = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (needed < 0 || !reserve(needed))
    return;
  vsnprintf(buffer + length, needed + 1, format, args);
  length += needed;
}

void StringBuilder::appendf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vappendf(format, args);
  va_end(args);
}

void StringBuilder::appendType(ShearsDType dtype, size_t rank,
                               const int64_t *shape) {
  const DTypeInfo *info = getDTypeInfo(dtype);
  append(info ? info->name : "<invalid>");
  append(" [");
  for (size_t i = 0; i < rank; ++i) {
    if (i)
      append("x");
    if (shape[i] < 0)
      append("?");
    else
      appendf("%lld", static_cast<long long>(shape[i]));
  }
  append("]");
}

char *StringBuilder::release() {
  char *result = outOfMemory ? nullptr : buffer;
  if (outOfMemory)
    free(buffer);
  // An empty builder still yields a string, not NULL.
  if (!outOfMemory && !result)
    result = static_cast<char *>(calloc(1, 1));
  buffer = nullptr;
  length = capacity = 0;
  outOfMemory = false;
  return result;
}

void shears::capi::setError(char **error, const char *format, ...) {
  if (!error)
    return;
  StringBuilder message;
  va_list args;
  va_start(args, format);
  message.vappendf(format, args);
  va_end(args);
  *error = message.release();
}

void TextCursor::skipSpace() {
  while (*pos && isspace(static_cast<unsigned char>(*pos)))
    ++pos;
}

bool TextCursor::tryConsume(char c) {
  skipSpace();
  if (*pos != c)
    return false;
  ++pos;
  return true;
}

bool TextCursor::tryConsumeWord(const char *word) {
  skipSpace();
  size_t size = strlen(word);
  if (strncmp(pos, word, size) != 0)
    return false;
  pos += size;
  return true;
}

bool TextCursor::expect(char c) {
  if (tryConsume(c))
    return true;
  return fail("expected '%c'", c);
}

bool TextCursor::parseInteger(int64_t &value) {
  skipSpace();
  bool negative = *pos == '-';
  const char *digits = negative ? pos + 1 : pos;
  if (!isdigit(static_cast<unsigned char>(*digits)))
    return fail("expected an integer");
  // Accumulate as a negative number so that INT64_MIN fits.
  int64_t result = 0;
  for (; isdigit(static_cast<unsigned char>(*digits)); ++digits) {
    if (__builtin_mul_overflow(result, 10, &result) ||
        __builtin_sub_overflow(result, *digits - '0', &result))
      return fail("integer out of range");
  }
  if (!negative && __builtin_mul_overflow(result, -1, &result))
    return fail("integer out of range");
  pos = digits;
  value = result;
  return true;
}

bool TextCursor::fail(const char *format, ...) {
  if (error.size())
    return false;
  error.appendf("at offset %zu: ", static_cast<size_t>(pos - begin));
  va_list args;
  va_start(args, format);
  error.vappendf(format, args);
  va_end(args);
  return false;
}
