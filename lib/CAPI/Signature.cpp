//===- Signature.cpp - Parser for the shears_signature JSON ---------------===//
//
// A recursive-descent parser for the one JSON shape a model's signature has:
// the runtime may not depend on LLVM (see Support.h), so no llvm::json.
//
//===----------------------------------------------------------------------===//

#include "Signature.h"
#include "Support.h"

using namespace shears::capi;

static void freeSpecs(TensorSpec *specs, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    free(specs[i].name);
    free(specs[i].shape);
  }
  free(specs);
}

static void freeStrings(char **strings, size_t count) {
  for (size_t i = 0; i < count; ++i)
    free(strings[i]);
  free(strings);
}

void shears::capi::freeSignature(Signature &signature) {
  freeSpecs(signature.inputs, signature.numInputs);
  freeSpecs(signature.outputs, signature.numOutputs);
  freeStrings(signature.checks, signature.numChecks);
  signature = Signature();
}

namespace {
class SignatureParser {
public:
  explicit SignatureParser(const char *json) : cursor(json) {}

  bool parse(Signature &signature);
  const char *errorMessage() const { return cursor.errorMessage(); }

private:
  /// Calls `onMember(key)` with the cursor on each member's value.
  template <typename Fn> bool parseObject(Fn &&onMember);
  /// Calls `onElement()` with the cursor on each element.
  template <typename Fn> bool parseArray(Fn &&onElement);
  bool parseString(StringBuilder &value);
  bool parseUnicodeEscape(StringBuilder &value);
  bool skipValue(unsigned depth);
  /// Fails on a key seen before; `seen` tracks it.
  bool firstTime(bool &seen, const char *key) {
    if (seen)
      return cursor.fail("duplicate key '%s'", key);
    seen = true;
    return true;
  }
  bool parseTensorList(Array<TensorSpec> &specs, const char *kind);
  bool parseTensor(TensorSpec &spec, const char *kind, size_t index);

  TextCursor cursor;
};
} // namespace

template <typename Fn> bool SignatureParser::parseObject(Fn &&onMember) {
  if (!cursor.expect('{'))
    return false;
  if (cursor.tryConsume('}'))
    return true;
  do {
    StringBuilder key;
    if (!parseString(key) || !cursor.expect(':') || !onMember(key.str()))
      return false;
  } while (cursor.tryConsume(','));
  return cursor.expect('}');
}

template <typename Fn> bool SignatureParser::parseArray(Fn &&onElement) {
  if (!cursor.expect('['))
    return false;
  if (cursor.tryConsume(']'))
    return true;
  do {
    if (!onElement())
      return false;
  } while (cursor.tryConsume(','));
  return cursor.expect(']');
}

static int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Reads the XXXX of a `\uXXXX` (a surrogate pair takes two) as UTF-8.
bool SignatureParser::parseUnicodeEscape(StringBuilder &value) {
  auto readHex4 = [&](unsigned &unit) {
    unit = 0;
    for (int i = 0; i < 4; ++i, cursor.advance()) {
      int digit = hexValue(cursor.peek());
      if (digit < 0)
        return cursor.fail("invalid \\u escape");
      unit = unit * 16 + digit;
    }
    return true;
  };
  unsigned code;
  if (!readHex4(code))
    return false;
  if (code >= 0xDC00 && code <= 0xDFFF)
    return cursor.fail("unpaired surrogate in \\u escape");
  if (code >= 0xD800 && code <= 0xDBFF) {
    unsigned low;
    if (!cursor.tryConsumeWord("\\u") || !readHex4(low) || low < 0xDC00 ||
        low > 0xDFFF)
      return cursor.fail("unpaired surrogate in \\u escape");
    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
  }
  if (code == 0)
    return cursor.fail("NUL character in string");
  // UTF-8: 1 to 4 bytes, the first of which tells how many.
  static const unsigned char leadBits[] = {0, 0, 0xC0, 0xE0, 0xF0};
  size_t size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  char bytes[4];
  for (size_t i = size - 1; i > 0; --i, code >>= 6)
    bytes[i] = static_cast<char>(0x80 | (code & 0x3F));
  bytes[0] = static_cast<char>(leadBits[size] | code);
  value.append(bytes, size);
  return true;
}

bool SignatureParser::parseString(StringBuilder &value) {
  if (!cursor.expect('"'))
    return false;
  while (true) {
    char c = cursor.peek();
    if (c == '\0')
      return cursor.fail("unterminated string");
    if (static_cast<unsigned char>(c) < 0x20)
      return cursor.fail("control character in string");
    cursor.advance();
    if (c == '"')
      return true;
    if (c != '\\') {
      value.append(&c, 1);
      continue;
    }
    char escape = cursor.peek();
    cursor.advance();
    const char *from = "\"\\/bfnrt";
    const char *to = "\"\\/\b\f\n\r\t";
    if (const char *found = escape ? strchr(from, escape) : nullptr)
      value.append(&to[found - from], 1);
    else if (escape != 'u' || !parseUnicodeEscape(value))
      return cursor.fail("invalid escape in string");
  }
}

bool SignatureParser::skipValue(unsigned depth) {
  // Bounds the recursion on hostile input.
  if (depth > 64)
    return cursor.fail("JSON nested too deeply");
  cursor.skipSpace();
  char c = cursor.peek();
  if (c == '{')
    return parseObject([&](const char *) { return skipValue(depth + 1); });
  if (c == '[')
    return parseArray([&] { return skipValue(depth + 1); });
  if (c == '"') {
    StringBuilder ignored;
    return parseString(ignored);
  }
  if (cursor.tryConsumeWord("true") || cursor.tryConsumeWord("false") ||
      cursor.tryConsumeWord("null"))
    return true;
  if (c != '-' && !(c >= '0' && c <= '9'))
    return cursor.fail("expected a JSON value");
  while (!cursor.atEnd() && strchr("+-.eE0123456789", cursor.peek()))
    cursor.advance();
  return true;
}

bool SignatureParser::parseTensor(TensorSpec &spec, const char *kind,
                                  size_t index) {
  StringBuilder name, dtype;
  Array<int64_t> shape;
  bool seenName = false, seenDType = false, seenShape = false;
  bool parsed = parseObject([&](const char *key) {
    if (strcmp(key, "name") == 0)
      return firstTime(seenName, key) && parseString(name);
    if (strcmp(key, "dtype") == 0)
      return firstTime(seenDType, key) && parseString(dtype);
    if (strcmp(key, "shape") == 0) {
      return firstTime(seenShape, key) && parseArray([&] {
               int64_t dim;
               if (!cursor.parseInteger(dim))
                 return false;
               if (dim < SHEARS_DYNAMIC_DIM)
                 return cursor.fail("invalid dim %lld",
                                    static_cast<long long>(dim));
               return shape.push_back(dim) || cursor.fail("out of memory");
             });
    }
    return skipValue(1);
  });
  if (!parsed)
    return false;
  if (!seenName || !seenDType || !seenShape)
    return cursor.fail("%s #%zu has no '%s'", kind, index,
                       !seenName    ? "name"
                       : !seenDType ? "dtype"
                                    : "shape");
  if (!name.size())
    return cursor.fail("%s #%zu has an empty name", kind, index);
  if (shearsDTypeFromName(dtype.str(), &spec.dtype) != 0)
    return cursor.fail("%s '%s' (#%zu) has unknown dtype '%s'", kind,
                       name.str(), index, dtype.str());
  spec.rank = shape.size();
  spec.shape = shape.release();
  spec.name = name.release();
  if (!spec.name)
    return cursor.fail("out of memory");
  return true;
}

bool SignatureParser::parseTensorList(Array<TensorSpec> &specs,
                                      const char *kind) {
  return parseArray([&] {
    TensorSpec spec = {nullptr, SHEARS_DTYPE_INVALID, 0, nullptr};
    if (parseTensor(spec, kind, specs.size()) && specs.push_back(spec))
      return true;
    free(spec.name);
    free(spec.shape);
    // A no-op when parseTensor recorded why it failed.
    return cursor.fail("out of memory");
  });
}

bool SignatureParser::parse(Signature &signature) {
  Array<TensorSpec> inputs, outputs;
  Array<char *> checks;
  // The model is calloc'd: set the defaults here.
  signature.workspaceBytes = 0;
  signature.workspaceInput = signature.workspaceDim = -1;
  signature.batchDim = -1;
  bool seenInputs = false, seenOutputs = false, seenWorkspace = false,
       seenBatch = false, seenChecks = false;
  bool parsed = parseObject([&](const char *key) {
    if (strcmp(key, "inputs") == 0)
      return firstTime(seenInputs, key) && parseTensorList(inputs, "input");
    if (strcmp(key, "outputs") == 0)
      return firstTime(seenOutputs, key) && parseTensorList(outputs, "output");
    if (strcmp(key, "workspace") == 0)
      return firstTime(seenWorkspace, key) && parseObject([&](const char *k) {
               int64_t *slot = strcmp(k, "bytes") == 0   ? &signature.workspaceBytes
                               : strcmp(k, "input") == 0 ? &signature.workspaceInput
                               : strcmp(k, "dim") == 0   ? &signature.workspaceDim
                                                         : nullptr;
               return slot ? cursor.parseInteger(*slot) : skipValue(2);
             });
    if (strcmp(key, "batch") == 0)
      return firstTime(seenBatch, key) && parseObject([&](const char *k) {
               return strcmp(k, "dim") == 0
                          ? cursor.parseInteger(signature.batchDim)
                          : skipValue(2);
             });
    if (strcmp(key, "checks") == 0)
      return firstTime(seenChecks, key) && parseArray([&] {
               StringBuilder message;
               if (!parseString(message))
                 return false;
               char *text = message.release();
               if (text && checks.push_back(text))
                 return true;
               free(text);
               return cursor.fail("out of memory");
             });
    return skipValue(1);
  });
  if (parsed && seenWorkspace) {
    const Signature &w = signature;
    bool scaled = w.workspaceInput >= 0;
    if (w.workspaceBytes < 0 ||
        (scaled && (size_t(w.workspaceInput) >= inputs.size() ||
                    w.workspaceDim < 0 ||
                    size_t(w.workspaceDim) >=
                        inputs.data()[w.workspaceInput].rank)))
      parsed = cursor.fail("invalid workspace");
  }
  if (parsed && seenBatch) {
    // Every input and output has the dimension.
    auto has = [&](Array<TensorSpec> &specs) {
      for (size_t i = 0; i < specs.size(); ++i)
        if (signature.batchDim < 0 ||
            size_t(signature.batchDim) >= specs.data()[i].rank)
          return false;
      return true;
    };
    if (!has(inputs) || !has(outputs))
      parsed = cursor.fail("invalid batch");
  }
  if (parsed) {
    cursor.skipSpace();
    if (!cursor.atEnd())
      parsed = cursor.fail("unexpected text after the signature");
    else if (!seenInputs || !seenOutputs)
      parsed =
          cursor.fail("missing key '%s'", seenInputs ? "outputs" : "inputs");
  }
  if (!parsed) {
    // freeSpecs frees the arrays too: take them from the Arrays after.
    freeSpecs(inputs.data(), inputs.size());
    freeSpecs(outputs.data(), outputs.size());
    freeStrings(checks.data(), checks.size());
    inputs.release();
    outputs.release();
    checks.release();
    return false;
  }
  signature.numChecks = checks.size();
  signature.checks = checks.release();
  signature.numInputs = inputs.size();
  signature.inputs = inputs.release();
  signature.numOutputs = outputs.size();
  signature.outputs = outputs.release();
  return true;
}

bool shears::capi::parseSignature(const char *json, Signature &signature,
                                  char **error) {
  SignatureParser parser(json);
  if (parser.parse(signature))
    return true;
  setError(error, "invalid model signature: %s", parser.errorMessage());
  return false;
}
