//===- Import.cpp - ONNX to Shears dialect import -------------------------===//
//
// Reads an ONNX ModelProto with Debian's libonnx/protobuf and builds one
// func.func of `shears` ops. Shape computations that exporters emit
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) are evaluated here
// symbolically so that the result is static except for dynamic input dims.
//
// This file is compiled with C++ exceptions: libonnx throws from shape
// inference and the version converter. Nothing escapes importONNXFile.
//
//===----------------------------------------------------------------------===//

#include "shears/Target/ONNX/Import.h"

#include "BitPacking.h"
#include "ElementTypes.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Files.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InterleavedRange.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::shears;

/// Bytes per element of an ONNX tensor type, or 0 if Shears does not read it.

namespace {

constexpr int64_t kMinOpset = 6;
constexpr int64_t kMaxOpset = 17;
/// Opsets below this are first converted to it by onnx's version converter.
constexpr int64_t kNativeOpset = 13;
/// The most elements a tensor may have (16 GiB of f32): a larger one, such
/// as the result of a pad of 2^40, is refused at import instead of failing
/// to allocate, or overflowing a size, when the model runs.
constexpr int64_t kMaxElements = int64_t(1) << 32;
/// The most bytes the weights and every intermediate (at batch 1) may add up
/// to, counted without the reuse of memory planning: a bound past any host,
/// against a model of many tensors each under kMaxElements.
constexpr int64_t kMaxTotalBytes = int64_t(1) << 38;

/// A name from the model as messages print it: control characters and bytes
/// that are not UTF-8 (corrupt and fuzzed models carry them) as \xNN, any
/// other text as it is.
std::string printable(StringRef name) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    auto byte = static_cast<unsigned char>(name[i]);
    auto *at = reinterpret_cast<const llvm::UTF8 *>(name.data() + i);
    unsigned length = byte < 0x80 ? 1 : llvm::getNumBytesForUTF8(byte);
    bool text = byte < 0x80 ? byte >= 0x20 && byte != 0x7F
                            : i + length <= name.size() &&
                                  llvm::isLegalUTF8Sequence(at, at + length);
    if (text) {
      out.append(name.data() + i, length);
      i += length;
    } else {
      out += llvm::formatv("\\x{0:x-2}", byte).str();
      ++i;
    }
  }
  return out;
}

/// One entry of a shape vector computed at import time: a known integer, or
/// `scale` times dimension `dim` of `value`, which is dynamic (the batch
/// times the heads of an attention's reshape).
struct ShapeElem {
  int64_t constant = 0;
  Value value = {};
  int64_t dim = -1;
  int64_t scale = 1;
  bool isSymbolic() const { return static_cast<bool>(value); }
  bool operator==(const ShapeElem &o) const {
    return constant == o.constant && value == o.value && dim == o.dim &&
           scale == o.scale;
  }
};
using ShapeVector = SmallVector<ShapeElem>;
/// An integer tensor known at import time: its entries in row-major order.
struct ShapeTensor {
  ShapeVector elems;
  SmallVector<int64_t> dims;
};

class Importer;

/// What a node converter sees: the node, its operands and attributes.
class NodeContext {
public:
  NodeContext(Importer &importer, const onnx::NodeProto &node, Location loc,
              int64_t opset)
      : importer(importer), node(node), loc(loc), opset(opset) {}

  Importer &importer;
  const onnx::NodeProto &node;
  Location loc;
  int64_t opset;

  unsigned numInputs() const { return node.input_size(); }
  bool hasInput(unsigned i) const {
    return static_cast<int>(i) < node.input_size() && !node.input(i).empty();
  }
  const std::string &inputName(unsigned i) const { return node.input(i); }

  const onnx::AttributeProto *attr(StringRef name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t intAttr(StringRef name, int64_t defaultValue) const {
    const auto *a = attr(name);
    return a ? a->i() : defaultValue;
  }
  float floatAttr(StringRef name, float defaultValue) const {
    const auto *a = attr(name);
    return a ? a->f() : defaultValue;
  }
  std::string stringAttr(StringRef name, StringRef defaultValue) const {
    const auto *a = attr(name);
    return a ? a->s() : defaultValue.str();
  }
  std::optional<SmallVector<int64_t>> intsAttr(StringRef name) const {
    const auto *a = attr(name);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }

  InFlightDiagnostic emitError() const {
    // The location names the node, or `<op_type>_<index>` for a nameless one.
    auto name = dyn_cast<NameLoc>(loc);
    return mlir::emitError(loc)
           << "node '"
           << printable(name ? name.getName().strref() : node.name()) << "' ("
           << printable(node.op_type()) << ", opset " << opset << "): ";
  }
};

using Converter = std::function<LogicalResult(NodeContext &)>;

class Importer {
public:
  Importer(MLIRContext *context, StringRef path)
      : builder(context), context(context), path(path.str()),
        fileLoc(FileLineColLoc::get(context, path, 0, 0)) {}

  OwningOpRef<ModuleOp> import(onnx::ModelProto &model,
                               const ImportOptions &options);

  // Helpers for converters.
  FailureOr<Value> getValue(NodeContext &ctx, unsigned i);
  FailureOr<Value> getFloatValue(NodeContext &ctx, unsigned i);
  FailureOr<ShapeVector> getShape(NodeContext &ctx, unsigned i);
  FailureOr<SmallVector<int64_t>> getInts(NodeContext &ctx, unsigned i);
  FailureOr<SmallVector<float>> getFloats(NodeContext &ctx, unsigned i);
  /// Whether `name` is an integer vector known at import time: a computed
  /// shape, or an integer initializer or Constant.
  bool isShapeLike(StringRef name) const {
    if (values.count(name))
      return false;
    if (shapes.count(name))
      return true;
    const onnx::TensorProto *tensor = constants.lookup(name);
    return tensor && tensor->dims_size() <= 1 &&
           (tensor->data_type() == onnx::TensorProto::INT64 ||
            tensor->data_type() == onnx::TensorProto::INT32 ||
            tensor->data_type() == onnx::TensorProto::BOOL);
  }
  /// The MLIR type of ONNX element type `type`, or an error naming `what`.
  FailureOr<Type> convertElementType(int32_t type, Location loc,
                                     const Twine &what);
  /// A tensor's little-endian bytes (typed-field data goes to `storage`).
  FailureOr<ArrayRef<char>> readBytes(const onnx::TensorProto &tensor,
                                      Location loc, std::string &storage) {
    return readTensorBytes(tensor, loc, storage);
  }
  /// Dimension `dim` of `value`, which is dynamic, as a shape entry: what
  /// the reshape that made `value` computed it from, or the dimension itself.
  ShapeElem getDynamicDim(Value value, int64_t dim) const {
    auto it = dynamicDims.find({value, dim});
    return it != dynamicDims.end() ? it->second : ShapeElem{0, value, dim};
  }
  void setDynamicDim(Value value, int64_t dim, ShapeElem e) {
    dynamicDims[{value, dim}] = e;
  }
  /// Whether a node or the graph's outputs use value `name`.
  bool isUsed(StringRef name) const { return used.contains(name); }
  bool isConstant(StringRef name) const {
    return !values.count(name) && (constants.count(name) ||
                                   shapes.count(name));
  }
  RankedTensorType getConstantType(StringRef name);
  Value createConstant(RankedTensorType type, ArrayRef<char> bytes,
                       StringRef name);
  void setResult(NodeContext &ctx, unsigned i, Value value) {
    if (static_cast<int>(i) < ctx.node.output_size() &&
        !ctx.node.output(i).empty())
      values[ctx.node.output(i)] = value;
  }
  /// The type ONNX shape inference gives `name`, if it is fully known but
  /// for dynamic dims of the graph inputs.
  RankedTensorType getInferredType(StringRef name) {
    const onnx::ValueInfoProto *vi = inferredTypes.lookup(name);
    if (!vi || !vi->type().has_tensor_type() ||
        !vi->type().tensor_type().has_shape() ||
        !getElementByteWidth(vi->type().tensor_type().elem_type()))
      return {};
    auto type = convertValueInfo(*vi);
    return succeeded(type) ? *type : RankedTensorType();
  }
  /// Records the node's output as a shape vector known at import time; a
  /// `scalar` one (one entry) is a tensor of rank 0 where it is used.
  void setShape(NodeContext &ctx, ShapeVector shape, bool scalar = false) {
    if (scalar)
      shapeDims[ctx.node.output(0)] = {};
    shapes[ctx.node.output(0)] = std::move(shape);
  }
  /// Same, an integer tensor of dimensions `dims` (row-major) known at import
  /// time: the index tensors that torch builds for slice assignments.
  void setShape(NodeContext &ctx, ShapeTensor tensor) {
    if (tensor.dims.size() != 1)
      shapeDims[ctx.node.output(0)] = tensor.dims;
    shapes[ctx.node.output(0)] = std::move(tensor.elems);
  }
  /// Input `i` as an integer tensor known at import time, with its dims.
  FailureOr<ShapeTensor> getShapeTensor(NodeContext &ctx, unsigned i) {
    FailureOr<ShapeVector> elems = getShape(ctx, i);
    if (failed(elems))
      return failure();
    SmallVector<int64_t> dims = getShapeDims(ctx.inputName(i), elems->size());
    return ShapeTensor{std::move(*elems), std::move(dims)};
  }
  /// The dims of shape-like `name` of `size` entries: those recorded with
  /// it, an initializer's own, or one dimension.
  SmallVector<int64_t> getShapeDims(StringRef name, size_t size) const {
    if (auto it = shapeDims.find(name); it != shapeDims.end())
      return it->second;
    if (const onnx::TensorProto *tensor = constants.lookup(name))
      return SmallVector<int64_t>(tensor->dims().begin(), tensor->dims().end());
    return {static_cast<int64_t>(size)};
  }
  OpBuilder builder;
  MLIRContext *context;

private:
  LogicalResult checkOpset(const onnx::ModelProto &model);
  LogicalResult checkSupported(const onnx::GraphProto &graph);
  LogicalResult checkNodes(const onnx::GraphProto &graph);
  /// Every tensor's static element count fits kMaxElements, and their
  /// bytes together kMaxTotalBytes.
  LogicalResult checkTensorSizes(func::FuncOp func);
  LogicalResult indexConstants(onnx::GraphProto &graph);
  /// Checks the graph's structure (outputs exist and are defined, inputs,
  /// initializers and node outputs are each defined once, every node input is
  /// defined, no cycles) and sets `order` to a topological order of its nodes.
  LogicalResult sortNodes(const onnx::GraphProto &graph,
                          SmallVectorImpl<int> &order);
  FailureOr<RankedTensorType> convertValueInfo(const onnx::ValueInfoProto &vi);

  /// A tensor's little-endian bytes, read once and kept by its name.
  FailureOr<ArrayRef<char>> getTensorBytes(const onnx::TensorProto &tensor,
                                           Location loc);
  /// Same, uncached: typed-field and external data go to `storage`.
  FailureOr<ArrayRef<char>> readTensorBytes(const onnx::TensorProto &tensor,
                                            Location loc, std::string &storage);
  /// Replaces every sparse_initializer, and every Constant's sparse_value,
  /// by the dense tensor it stands for, as ONNX Runtime does on load.
  /// At most `maxBytes` of them in all.
  LogicalResult densifySparseTensors(onnx::GraphProto &graph,
                                     uint64_t maxBytes);
  /// The dense tensor `sparse` stands for, its indices checked; `budget`
  /// is the dense bytes left to sparse tensors, less this one's.
  LogicalResult densify(const onnx::SparseTensorProto &sparse,
                        onnx::TensorProto &dense, Location loc,
                        uint64_t &budget);
  Location nodeLoc(const onnx::NodeProto &node, int index);

  std::string path;
  Location fileLoc;
  int64_t opset = 0;
  /// Initializers and Constant-node values not yet materialized.
  llvm::StringMap<onnx::TensorProto *> constants;
  /// Values produced so far, by ONNX name.
  llvm::StringMap<Value> values;
  /// Names that a node or the graph's outputs use.
  llvm::StringSet<> used;
  /// The shape entries that reshapes made dynamic dims from.
  DenseMap<std::pair<Value, int64_t>, ShapeElem> dynamicDims;
  /// Integer tensors computed at import time (shape subgraphs), their
  /// entries in row-major order.
  llvm::StringMap<ShapeVector> shapes;
  /// The dims of those that are not vectors (scalars among them).
  llvm::StringMap<SmallVector<int64_t>> shapeDims;
  /// Storage for typed-field and external tensor data, by tensor name.
  llvm::StringMap<std::string> tensorBytes;
  /// Inserts constants at the top of the entry block, in creation order.
  OpBuilder constantBuilder{context};
  /// Node outputs whose static type ONNX shape inference knows.
  llvm::StringMap<const onnx::ValueInfoProto *> inferredTypes;
};

} // namespace

//===----------------------------------------------------------------------===//
// Tensors and types
//===----------------------------------------------------------------------===//

FailureOr<Type> Importer::convertElementType(int32_t type, Location loc,
                                             const Twine &what) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return Type(builder.getF32Type());
  case onnx::TensorProto::DOUBLE:
    return Type(builder.getF64Type());
  case onnx::TensorProto::FLOAT16:
    return Type(builder.getF16Type());
  case onnx::TensorProto::INT64:
    return Type(builder.getI64Type());
  case onnx::TensorProto::INT32:
    return Type(builder.getI32Type());
  case onnx::TensorProto::INT8:
    return Type(builder.getI8Type());
  case onnx::TensorProto::UINT8:
    return Type(builder.getIntegerType(8, /*isSigned=*/false));
  case onnx::TensorProto::BOOL:
    return Type(builder.getI1Type());
  default:
    std::string name = onnx::TensorProto::DataType_IsValid(type)
                           ? onnx::TensorProto::DataType_Name(
                                 static_cast<onnx::TensorProto::DataType>(type))
                           : "number " + std::to_string(type) + " (not ONNX's)";
    emitError(loc) << what << " has element type " << name
                   << ", which Shears does not support (FLOAT, DOUBLE, "
                      "FLOAT16, INT64, INT32, INT8, UINT8, BOOL)";
    return failure();
  }
}

/// Checks the dims of a tensor and returns its element count.
static FailureOr<int64_t> checkedElementCount(const onnx::TensorProto &tensor,
                                              Location loc) {
  int64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return emitError(loc) << "tensor '" << printable(tensor.name())
                            << "' has a negative dimension " << d,
             failure();
    if (__builtin_mul_overflow(count, d, &count))
      return emitError(loc) << "tensor '" << printable(tensor.name())
                            << "' has dimensions whose product overflows",
             failure();
  }
  int64_t width = getElementByteWidth(tensor.data_type());
  int64_t bytes;
  if (width && __builtin_mul_overflow(count, width, &bytes))
    return emitError(loc) << "tensor '" << printable(tensor.name())
                          << "' is too large: its byte size overflows",
           failure();
  return count;
}

/// Parses an external-data offset or length: a non-negative decimal
/// integer that fits in 63 bits.
static std::optional<int64_t> parseExternalNumber(StringRef text) {
  uint64_t value;
  if (text.empty() || text.getAsInteger(10, value) ||
      value > uint64_t(std::numeric_limits<int64_t>::max()))
    return std::nullopt;
  return static_cast<int64_t>(value);
}

/// Reads external data `location` (relative to the model's folder, and inside
/// it: no absolute path, no "..", no symbolic link on the way; a regular
/// file) into `out`.
static LogicalResult readExternalData(const onnx::TensorProto &tensor,
                                      StringRef modelPath, int64_t size,
                                      std::string &out, Location loc) {
  auto fail = [&](const Twine &why) {
    emitError(loc) << "external data of tensor '" << printable(tensor.name())
                   << "': " << why;
    return failure();
  };
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
      continue;
    }
    if (entry.key() != "offset" && entry.key() != "length")
      continue;
    std::optional<int64_t> value = parseExternalNumber(entry.value());
    if (!value)
      return fail(entry.key() + " '" + entry.value() +
                  "' is not a non-negative integer");
    (entry.key() == "offset" ? offset : length) = *value;
  }
  if (location.empty())
    return fail("no location given");
  if (llvm::sys::path::is_absolute(location) ||
      llvm::is_contained(llvm::make_range(llvm::sys::path::begin(location),
                                          llvm::sys::path::end(location)),
                         ".."))
    return fail("location '" + location +
                "' must be a relative path inside the model's folder");
  llvm::Expected<int> fd =
      openRegularFileBelow(llvm::sys::path::parent_path(modelPath), location);
  if (!fd) {
    std::error_code code;
    std::string message;
    llvm::handleAllErrors(fd.takeError(), [&](const llvm::StringError &e) {
      code = e.convertToErrorCode();
      message = e.getMessage();
    });
    if (code == std::errc::too_many_symbolic_link_levels ||
        code == std::errc::not_a_directory)
      return fail("location '" + location +
                  "' goes through a symbolic link (or a path component is "
                  "not a directory); external data must be a regular file "
                  "inside the model's folder");
    if (code == std::errc::invalid_argument)
      return fail("location '" + location +
                  "' is not a regular file (a FIFO, device or directory)");
    return fail(message);
  }
  llvm::scope_exit closeFile([&] { ::close(*fd); });
  struct stat status;
  if (::fstat(*fd, &status) != 0)
    return fail("cannot read '" + location + "': " + std::strerror(errno));
  int64_t fileSize = status.st_size;
  if (length < 0)
    length = offset <= fileSize ? fileSize - offset : 0;
  // offset + length > fileSize, without overflowing.
  if (length != size || offset > fileSize || length > fileSize - offset)
    return fail("needs " + Twine(size) + " bytes at offset " + Twine(offset) +
                " but '" + location + "' has " + Twine(fileSize) + " bytes");
  out.resize(length);
  for (int64_t done = 0; done < length;) {
    ssize_t got = ::pread(*fd, out.data() + done, length - done, offset + done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return fail("cannot read " + Twine(length) + " bytes of '" + location +
                  "' at offset " + Twine(offset) + ": " +
                  (got < 0 ? std::strerror(errno) : "the file ended"));
    done += got;
  }
  return success();
}

/// Whether any typed data field of `tensor` (float_data, int64_data, ...)
/// holds values.
static bool hasTypedFields(const onnx::TensorProto &tensor) {
  return tensor.float_data_size() || tensor.double_data_size() ||
         tensor.int32_data_size() || tensor.int64_data_size() ||
         tensor.uint64_data_size() || tensor.string_data_size();
}

/// Converts the typed data fields of `tensor` (float_data, int64_data, ...)
/// to the raw little-endian layout in `out`. Returns an error message, or an
/// empty string on success.
static std::string decodeTypedFields(const onnx::TensorProto &tensor,
                                     int64_t count, std::string &out) {
  int64_t width = getElementByteWidth(tensor.data_type());
  out.resize(count * width);
  std::string error;
  auto copy = [&](const auto &field, auto zero) {
    if (field.size() != count) {
      error = "tensor '" + tensor.name() + "' has " +
              std::to_string(field.size()) + " values but its dims need " +
              std::to_string(count);
      return;
    }
    for (int64_t i = 0; i < count; ++i) {
      auto v = static_cast<decltype(zero)>(field.Get(i));
      std::memcpy(out.data() + i * width, &v, sizeof(v));
    }
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    copy(tensor.float_data(), float());
    break;
  case onnx::TensorProto::DOUBLE:
    copy(tensor.double_data(), double());
    break;
  case onnx::TensorProto::INT64:
    copy(tensor.int64_data(), int64_t());
    break;
  case onnx::TensorProto::INT32:
    copy(tensor.int32_data(), int32_t());
    break;
  case onnx::TensorProto::FLOAT16:
    copy(tensor.int32_data(), uint16_t());
    break;
  default:
    copy(tensor.int32_data(), uint8_t());
    break;
  }
  return error;
}

FailureOr<ArrayRef<char>>
Importer::getTensorBytes(const onnx::TensorProto &tensor, Location loc) {
  auto cached = tensorBytes.find(tensor.name());
  if (cached != tensorBytes.end())
    return ArrayRef<char>(cached->second.data(), cached->second.size());
  std::string &storage = tensorBytes[tensor.name()];
  FailureOr<ArrayRef<char>> bytes = readTensorBytes(tensor, loc, storage);
  if (failed(bytes) || storage.empty())
    tensorBytes.erase(tensor.name());
  return bytes;
}

FailureOr<ArrayRef<char>>
Importer::readTensorBytes(const onnx::TensorProto &tensor, Location loc,
                          std::string &storage) {
  FailureOr<int64_t> count = checkedElementCount(tensor, loc);
  if (failed(count))
    return failure();
  int64_t width = getElementByteWidth(tensor.data_type());
  if (!width)
    return (void)convertElementType(tensor.data_type(), loc,
                                    "tensor '" + printable(tensor.name()) +
                                        "'"),
           failure();
  int64_t size = *count * width;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternalData(tensor, path, size, storage, loc)))
      return failure();
    return ArrayRef<char>(storage.data(), storage.size());
  }
  if (tensor.has_raw_data()) {
    if (hasTypedFields(tensor))
      return emitError(loc) << "tensor '" << printable(tensor.name())
                            << "' has both raw_data and typed data fields; "
                               "ONNX allows one",
             failure();
    if (static_cast<int64_t>(tensor.raw_data().size()) != size)
      return emitError(loc) << "tensor '" << printable(tensor.name())
                            << "' has " << tensor.raw_data().size()
                            << " bytes of data but its dims need " << size,
             failure();
    return ArrayRef<char>(tensor.raw_data().data(), size);
  }

  std::string error = decodeTypedFields(tensor, *count, storage);
  if (!error.empty())
    return emitError(loc) << error, failure();
  return ArrayRef<char>(storage.data(), storage.size());
}

RankedTensorType Importer::getConstantType(StringRef name) {
  if (auto it = shapes.find(name); it != shapes.end())
    return RankedTensorType::get(getShapeDims(name, it->second.size()),
                                 builder.getI64Type());
  const onnx::TensorProto *tensor = constants.lookup(name);
  Type element =
      *convertElementType(tensor->data_type(), fileLoc,
                          "tensor '" + printable(tensor->name()) + "'");
  return RankedTensorType::get(
      SmallVector<int64_t>(tensor->dims().begin(), tensor->dims().end()),
      element);
}

Value Importer::createConstant(RankedTensorType type, ArrayRef<char> bytes,
                               StringRef name) {
  ElementsAttr attr;
  // Small integer tensors (indices, shapes) stay readable inline; everything
  // else, weights above all, is a resource blob but for booleans (masks,
  // one byte each in ONNX), which LLVM's lowering takes only inline.
  if (type.getElementType().isInteger(1))
    attr = DenseElementsAttr::get(
        type, llvm::map_to_vector(bytes, [](char c) -> bool { return c; }));
  else if (!isa<FloatType>(type.getElementType()) &&
           type.getNumElements() <= 16)
    attr = DenseElementsAttr::getFromRawBuffer(type, bytes);
  else
    attr = DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(double)));
  auto loc = NameLoc::get(builder.getStringAttr(name), fileLoc);
  Value result = ConstantOp::create(constantBuilder, loc, attr);
  constantBuilder.setInsertionPointAfterValue(result);
  return result;
}

//===----------------------------------------------------------------------===//
// Operand access
//===----------------------------------------------------------------------===//

FailureOr<Value> Importer::getValue(NodeContext &ctx, unsigned i) {
  if (!ctx.hasInput(i))
    return ctx.emitError() << "input " << i << " is missing", failure();
  StringRef name = ctx.inputName(i);
  if (Value v = values.lookup(name))
    return v;
  if (auto it = shapes.find(name); it != shapes.end()) {
    SmallVector<int64_t> ints;
    for (const ShapeElem &e : it->second) {
      if (e.isSymbolic())
        return ctx.emitError()
                   << "input '" << name
                   << "' is a shape computed from a dynamic dimension; only "
                      "Reshape can consume it",
               failure();
      ints.push_back(e.constant);
    }
    ArrayRef<char> bytes(reinterpret_cast<const char *>(ints.data()),
                         ints.size() * sizeof(int64_t));
    Value v = createConstant(getConstantType(name), bytes, name);
    values[name] = v;
    return v;
  }
  if (onnx::TensorProto *tensor = constants.lookup(name)) {
    FailureOr<ArrayRef<char>> bytes = getTensorBytes(*tensor, ctx.loc);
    if (failed(bytes))
      return failure();
    Value v = createConstant(getConstantType(name), *bytes, name);
    values[name] = v;
    // The blob owns a copy now: free the protobuf's.
    std::string().swap(*tensor->mutable_raw_data());
    tensorBytes.erase(name);
    return v;
  }
  return ctx.emitError() << "input '" << name << "' is not defined", failure();
}

FailureOr<Value> Importer::getFloatValue(NodeContext &ctx, unsigned i) {
  FailureOr<Value> v = getValue(ctx, i);
  if (failed(v))
    return failure();
  if (!isa<FloatType>(cast<RankedTensorType>(v->getType()).getElementType()))
    return ctx.emitError() << "input '" << ctx.inputName(i)
                           << "' must be a floating-point tensor, got "
                           << v->getType(),
           failure();
  return v;
}

FailureOr<ShapeVector> Importer::getShape(NodeContext &ctx, unsigned i) {
  if (!ctx.hasInput(i))
    return ctx.emitError() << "input " << i << " is missing", failure();
  StringRef name = ctx.inputName(i);
  if (auto it = shapes.find(name); it != shapes.end())
    return it->second;
  if (onnx::TensorProto *tensor = constants.lookup(name)) {
    auto type = tensor->data_type();
    if (type != onnx::TensorProto::INT64 && type != onnx::TensorProto::INT32 &&
        type != onnx::TensorProto::BOOL)
      return failure();
    FailureOr<ArrayRef<char>> bytes = getTensorBytes(*tensor, ctx.loc);
    if (failed(bytes))
      return failure();
    ShapeVector result;
    int64_t width = getElementByteWidth(type);
    for (size_t off = 0; off < bytes->size(); off += width) {
      int64_t v = 0;
      if (width == 8) {
        std::memcpy(&v, bytes->data() + off, 8);
      } else if (width == 4) {
        int32_t v32;
        std::memcpy(&v32, bytes->data() + off, 4);
        v = v32;
      } else {
        v = static_cast<uint8_t>(bytes->data()[off]);
      }
      result.push_back({v});
    }
    shapes[name] = result;
    return result;
  }
  return failure();
}

FailureOr<SmallVector<int64_t>> Importer::getInts(NodeContext &ctx,
                                                  unsigned i) {
  FailureOr<ShapeVector> shape = getShape(ctx, i);
  if (failed(shape) ||
      llvm::any_of(*shape, [](const ShapeElem &e) { return e.isSymbolic(); }))
    return ctx.emitError() << "input '" << ctx.inputName(i)
                           << "' must be a constant integer tensor",
           failure();
  return llvm::to_vector(
      llvm::map_range(*shape, [](const ShapeElem &e) { return e.constant; }));
}

FailureOr<SmallVector<float>> Importer::getFloats(NodeContext &ctx,
                                                  unsigned i) {
  onnx::TensorProto *tensor = ctx.hasInput(i) && !values.count(ctx.inputName(i))
                                  ? constants.lookup(ctx.inputName(i))
                                  : nullptr;
  if (!tensor || tensor->data_type() != onnx::TensorProto::FLOAT)
    return ctx.emitError() << "input '"
                           << (ctx.hasInput(i) ? ctx.inputName(i) : "")
                           << "' must be a constant float tensor",
           failure();
  FailureOr<ArrayRef<char>> bytes = getTensorBytes(*tensor, ctx.loc);
  if (failed(bytes))
    return failure();
  SmallVector<float> result(bytes->size() / sizeof(float));
  std::memcpy(result.data(), bytes->data(), bytes->size());
  return result;
}

//===----------------------------------------------------------------------===//
// Converters
//===----------------------------------------------------------------------===//

static RankedTensorType typeOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Normalizes a possibly negative axis; fails if out of range.
static FailureOr<int64_t> normalizeAxis(NodeContext &ctx, int64_t axis,
                                        int64_t rank) {
  if (axis < -rank || axis >= rank)
    return ctx.emitError() << "axis " << axis << " is out of range for rank "
                           << rank,
           failure();
  return axis < 0 ? axis + rank : axis;
}

/// `axes` normalized against `rank`, ascending; fails on one out of range or
/// named twice.
static FailureOr<SmallVector<int64_t>>
normalizeAxes(NodeContext &ctx, ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    auto normalized = normalizeAxis(ctx, axis, rank);
    if (failed(normalized))
      return failure();
    result.push_back(*normalized);
  }
  llvm::sort(result);
  if (auto *twice = std::adjacent_find(result.begin(), result.end());
      twice != result.end())
    return ctx.emitError() << "axes name dimension " << *twice << " twice",
           failure();
  return result;
}

/// Runs `fn`, turning the errors it emits into one error that names the node.
static LogicalResult withNodeContext(NodeContext &ctx,
                                     function_ref<LogicalResult()> fn) {
  std::string messages;
  LogicalResult result = success();
  {
    ScopedDiagnosticHandler handler(ctx.loc.getContext(), [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      messages += (messages.empty() ? "" : "; ") + d.str();
      return success();
    });
    result = fn();
  }
  if (failed(result))
    ctx.emitError() << messages;
  return result;
}

/// Creates an `OpTy` with result types inferred from operands and attributes
/// (or `types` when given), reporting a located error instead of building an
/// invalid op.
template <typename OpTy>
static FailureOr<Operation *> createOp(NodeContext &ctx, ValueRange operands,
                                       ArrayRef<NamedAttribute> attrs = {},
                                       TypeRange types = {}) {
  MLIRContext *context = ctx.loc.getContext();
  SmallVector<Type> resultTypes(types);
  Operation *op = nullptr;
  LogicalResult result = withNodeContext(ctx, [&]() -> LogicalResult {
    DictionaryAttr dict = DictionaryAttr::get(context, attrs);
    if constexpr (OpTy::template hasTrait<InferTypeOpInterface::Trait>()) {
      if (resultTypes.empty()) {
        typename OpTy::Properties props;
        if (failed(OpTy::setPropertiesFromAttr(
                props, dict, [&] { return mlir::emitError(ctx.loc); })))
          return failure();
        if (failed(OpTy::inferReturnTypes(context, ctx.loc, operands, dict,
                                          OpaqueProperties(&props), {},
                                          resultTypes)))
          return failure();
      }
    } else if (resultTypes.empty()) {
      resultTypes.push_back(operands.front().getType());
    }
    OperationState state(ctx.loc, OpTy::getOperationName());
    state.addOperands(operands);
    state.addTypes(resultTypes);
    state.addAttributes(attrs);
    op = ctx.importer.builder.create(state);
    if (succeeded(verify(op, /*verifyRecursively=*/false)))
      return success();
    op->erase();
    return failure();
  });
  if (failed(result))
    return failure();
  return op;
}

/// Creates a single-result op and records it as the node's output.
template <typename OpTy>
static LogicalResult emitOp(NodeContext &ctx, ValueRange operands,
                            ArrayRef<NamedAttribute> attrs = {},
                            TypeRange types = {}) {
  FailureOr<Operation *> op = createOp<OpTy>(ctx, operands, attrs, types);
  if (failed(op))
    return failure();
  for (auto [i, result] : llvm::enumerate((*op)->getResults()))
    ctx.importer.setResult(ctx, i, result);
  return success();
}

/// A 1-D window's attributes as those of the 2-D window [1, k]: stride,
/// dilation and padding 1, 1 and 0 along the added dimension.
static void liftWindow(SmallVectorImpl<int64_t> &strides,
                       SmallVectorImpl<int64_t> &pads,
                       SmallVectorImpl<int64_t> &dilations) {
  strides.insert(strides.begin(), 1);
  dilations.insert(dilations.begin(), 1);
  pads.assign({0, pads[0], 0, pads[1]});
}

/// A window taken from a filter's shape (Conv, ConvTranspose) must be static
/// and positive: its strides, dilations and kernel_shape attributes are
/// checked before conversion, its shape only here.
static LogicalResult checkFilterWindow(NodeContext &ctx,
                                       ArrayRef<int64_t> kernel) {
  if (llvm::all_of(kernel, [](int64_t v) { return v >= 1; }))
    return success();
  InFlightDiagnostic diag =
      ctx.emitError() << "expects a filter of static positive spatial sizes, "
                         "got [";
  for (auto [i, size] : llvm::enumerate(kernel)) {
    diag << (i ? ", " : "");
    if (ShapedType::isDynamic(size))
      diag << "?";
    else
      diag << size;
  }
  return diag << "]";
}

/// A pad computed from the window's sizes (in 128 bits: a file's sizes may
/// be anywhere in int64_t), or an error where it does not fit int64_t.
static FailureOr<int64_t> padValue(NodeContext &ctx, __int128 value) {
  if (value < INT64_MIN || value > INT64_MAX)
    return ctx.emitError() << "window sizes whose padding overflows 64 bits";
  return static_cast<int64_t>(value);
}

/// Window attributes common to Conv and pooling, with auto_pad resolved, as
/// 2-D ones: a 1-D window over [N, C, L] (`lifted`) is the 2-D window
/// [1, k] over [N, C, 1, L], with stride, dilation and padding 1, 1 and 0
/// along the added dimension.
static LogicalResult
windowAttrs(NodeContext &ctx, RankedTensorType input, ArrayRef<int64_t> kernel,
            SmallVectorImpl<int64_t> &strides, SmallVectorImpl<int64_t> &pads,
            SmallVectorImpl<int64_t> &dilations, bool &lifted) {
  lifted = input.getRank() == 3 && kernel.size() == 1;
  if (!lifted && (input.getRank() != 4 || kernel.size() != 2))
    return ctx.emitError() << "only 1-D and 2-D windows over NCL and NCHW "
                              "inputs are supported, got input "
                           << input;
  int64_t dims = kernel.size();
  strides.assign(
      ctx.intsAttr("strides").value_or(SmallVector<int64_t>(dims, 1)));
  dilations.assign(
      ctx.intsAttr("dilations").value_or(SmallVector<int64_t>(dims, 1)));
  pads.assign(ctx.intsAttr("pads").value_or(SmallVector<int64_t>(2 * dims, 0)));
  if (int64_t(strides.size()) != dims || int64_t(dilations.size()) != dims ||
      int64_t(pads.size()) != 2 * dims)
    return ctx.emitError() << "expects " << dims << " strides, " << dims
                           << " dilations and " << 2 * dims << " pads";
  std::string autoPad = ctx.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads.assign(2 * dims, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < dims; ++i) {
      int64_t in = input.getDimSize(2 + i);
      if (ShapedType::isDynamic(in))
        return ctx.emitError() << "auto_pad " << autoPad
                               << " needs static spatial dimensions";
      __int128 out = (__int128(in) + strides[i] - 1) / strides[i];
      FailureOr<int64_t> total = padValue(
          ctx, std::max<__int128>(
                   0, (out - 1) * strides[i] +
                          __int128(dilations[i]) * (kernel[i] - 1) + 1 - in));
      if (failed(total))
        return failure();
      int64_t small = *total / 2, large = *total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[i + dims] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return ctx.emitError() << "unknown auto_pad '" << autoPad << "'";
  }
  if (lifted)
    liftWindow(strides, pads, dilations);
  return success();
}

/// `value` reshaped to `shape` (`value` itself if it has that shape).
static FailureOr<Value> reshapeValue(NodeContext &ctx, Value value,
                                     ArrayRef<int64_t> shape) {
  auto type = typeOf(value);
  if (type.getShape() == shape)
    return value;
  FailureOr<Operation *> op = createOp<ReshapeOp>(
      ctx, value, {}, RankedTensorType::get(shape, type.getElementType()));
  if (failed(op))
    return failure();
  return (*op)->getResult(0);
}

/// `value` [d0, d1, ..., dn] with a dimension of 1 inserted before `dim`
/// (or, `squeeze`, the size-1 dimension `dim` removed).
static FailureOr<Value> reshapeAround(NodeContext &ctx, Value value,
                                      int64_t dim, bool squeeze) {
  SmallVector<int64_t> shape(typeOf(value).getShape());
  if (squeeze)
    shape.erase(shape.begin() + dim);
  else
    shape.insert(shape.begin() + dim, 1);
  return reshapeValue(ctx, value, shape);
}

/// A window op (Conv, pooling) on `operands`, whose first is the input:
/// where `lifted`, the 1-D operands get a dimension of 1 before their last
/// one, and the result loses it.
template <typename OpTy>
static LogicalResult emitWindowOp(NodeContext &ctx, SmallVector<Value> operands,
                                  ArrayRef<NamedAttribute> attrs, bool lifted,
                                  int liftedOperands) {
  if (!lifted)
    return emitOp<OpTy>(ctx, operands, attrs);
  for (int i = 0; i < liftedOperands; ++i) {
    FailureOr<Value> v = reshapeAround(ctx, operands[i], 2, false);
    if (failed(v))
      return failure();
    operands[i] = *v;
  }
  FailureOr<Operation *> op = createOp<OpTy>(ctx, operands, attrs);
  if (failed(op))
    return failure();
  FailureOr<Value> result = reshapeAround(ctx, (*op)->getResult(0), 2, true);
  if (failed(result))
    return failure();
  ctx.importer.setResult(ctx, 0, *result);
  return success();
}

/// The input, filter and optional bias of Conv and ConvTranspose.
static FailureOr<SmallVector<Value>> convOperands(NodeContext &ctx) {
  SmallVector<Value> operands;
  for (unsigned i = 0; i < (ctx.hasInput(2) ? 3u : 2u); ++i) {
    auto v = ctx.importer.getFloatValue(ctx, i);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  return operands;
}

/// A Conv2DOp or ConvTransposeOp on `operands` with 2-D window attributes
/// (from a 1-D window where `lifted`) and ONNX's group.
template <typename OpTy>
static LogicalResult emitConvolution(NodeContext &ctx, ArrayRef<Value> operands,
                                     ArrayRef<int64_t> strides,
                                     ArrayRef<int64_t> pads,
                                     ArrayRef<int64_t> dilations, bool lifted) {
  auto &b = ctx.importer.builder;
  return emitWindowOp<OpTy>(
      ctx, SmallVector<Value>(operands),
      {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)),
       b.getNamedAttr("pads", b.getDenseI64ArrayAttr(pads)),
       b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(dilations)),
       b.getNamedAttr("groups", b.getI64IntegerAttr(ctx.intAttr("group", 1)))},
      lifted, /*liftedOperands=*/2);
}

static LogicalResult convertConv(NodeContext &ctx) {
  auto operands = convOperands(ctx);
  if (failed(operands))
    return failure();
  auto weightType = typeOf((*operands)[1]);
  if (weightType.getRank() != 3 && weightType.getRank() != 4)
    return ctx.emitError() << "only 1-D and 2-D convolutions are supported, "
                              "got filter "
                           << weightType;
  SmallVector<int64_t> kernel(weightType.getShape().drop_front(2));
  if (auto k = ctx.intsAttr("kernel_shape"); k && *k != kernel)
    return ctx.emitError() << "kernel_shape disagrees with the filter shape";
  if (failed(checkFilterWindow(ctx, kernel)))
    return failure();
  SmallVector<int64_t> strides, pads, dilations;
  bool lifted;
  if (failed(windowAttrs(ctx, typeOf((*operands)[0]), kernel, strides, pads,
                         dilations, lifted)))
    return failure();
  return emitConvolution<Conv2DOp>(ctx, *operands, strides, pads, dilations,
                                   lifted);
}

/// ConvTranspose, 1-D or 2-D: output_shape, auto_pad SAME_* and
/// output_padding become pads as ONNX derives them (a negative end pad is
/// output padding).
static LogicalResult convertConvTranspose(NodeContext &ctx) {
  auto operands = convOperands(ctx);
  if (failed(operands))
    return failure();
  auto inType = typeOf((*operands)[0]), weightType = typeOf((*operands)[1]);
  int64_t dims = weightType.getRank() - 2;
  if ((dims != 1 && dims != 2) || inType.getRank() != dims + 2)
    return ctx.emitError() << "only 1-D and 2-D transposed convolutions over "
                              "NCL and NCHW inputs are supported, got input "
                           << inType << " and filter " << weightType;
  SmallVector<int64_t> kernel(weightType.getShape().drop_front(2));
  if (auto k = ctx.intsAttr("kernel_shape"); k && *k != kernel)
    return ctx.emitError() << "kernel_shape disagrees with the filter shape";
  if (failed(checkFilterWindow(ctx, kernel)))
    return failure();
  auto ints = [&](StringRef name, int64_t count, int64_t value) {
    return ctx.intsAttr(name).value_or(SmallVector<int64_t>(count, value));
  };
  SmallVector<int64_t> strides = ints("strides", dims, 1),
                       dilations = ints("dilations", dims, 1),
                       outputPadding = ints("output_padding", dims, 0),
                       pads = ints("pads", 2 * dims, 0);
  std::optional<SmallVector<int64_t>> outputShape =
      ctx.intsAttr("output_shape");
  if (outputShape && static_cast<int64_t>(outputShape->size()) == dims + 2)
    outputShape->erase(outputShape->begin(), outputShape->begin() + 2);
  if (int64_t(strides.size()) != dims || int64_t(dilations.size()) != dims ||
      int64_t(outputPadding.size()) != dims ||
      int64_t(pads.size()) != 2 * dims ||
      (outputShape && int64_t(outputShape->size()) != dims))
    return ctx.emitError() << "expects " << dims << " strides, dilations, "
                           << "output_padding and output_shape entries and "
                           << 2 * dims << " pads";
  std::string autoPad = ctx.stringAttr("auto_pad", "NOTSET");
  if (!llvm::is_contained({"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"},
                          autoPad))
    return ctx.emitError() << "unknown auto_pad '" << autoPad << "'";
  bool same = StringRef(autoPad).starts_with("SAME");
  if (autoPad == "VALID")
    pads.assign(2 * dims, 0);
  for (int64_t i = 0; i < dims; ++i) {
    if (!outputShape && !same) {
      FailureOr<int64_t> end =
          padValue(ctx, __int128(pads[i + dims]) - outputPadding[i]);
      if (failed(end))
        return failure();
      pads[i + dims] = *end;
      continue;
    }
    // Pads that make the result `out` wide, as ONNX derives them from a total
    // that counts output_padding (itself one more negative end pad).
    int64_t in = inType.getDimSize(2 + i);
    if (ShapedType::isDynamic(in))
      return ctx.emitError() << "output_shape and auto_pad need static "
                                "spatial dimensions";
    __int128 out = outputShape ? (*outputShape)[i] : __int128(in) * strides[i];
    __int128 total = __int128(strides[i]) * (in - 1) + outputPadding[i] +
                     __int128(kernel[i] - 1) * dilations[i] + 1 - out;
    // ONNX's formula, with Python's floor division.
    __int128 half = total >= 0 ? total / 2 : -((-total + 1) / 2);
    bool upper = autoPad == "SAME_UPPER";
    FailureOr<int64_t> begin = padValue(ctx, upper ? half : total - half);
    if (failed(begin))
      return failure();
    FailureOr<int64_t> end =
        padValue(ctx, (upper ? total - half : half) - outputPadding[i]);
    if (failed(end))
      return failure();
    pads[i] = *begin;
    pads[i + dims] = *end;
  }
  bool lifted = dims == 1;
  if (lifted)
    liftWindow(strides, pads, dilations);
  return emitConvolution<ConvTransposeOp>(ctx, *operands, strides, pads,
                                          dilations, lifted);
}

template <typename OpTy>
static LogicalResult convertPool(NodeContext &ctx) {
  auto &b = ctx.importer.builder;
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  auto kernel = ctx.intsAttr("kernel_shape");
  if (!kernel)
    return ctx.emitError() << "kernel_shape is required";
  if (ctx.node.output_size() > 1 && !ctx.node.output(1).empty())
    return ctx.emitError() << "the Indices output is not supported";
  if (ctx.intAttr("storage_order", 0) != 0)
    return ctx.emitError() << "storage_order 1 is not supported";
  SmallVector<int64_t> strides, pads, dilations;
  bool lifted;
  if (failed(windowAttrs(ctx, typeOf(*input), *kernel, strides, pads, dilations,
                         lifted)))
    return failure();
  SmallVector<int64_t> window(*kernel);
  if (lifted)
    window.insert(window.begin(), 1);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("kernel_shape", b.getDenseI64ArrayAttr(window)),
      b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)),
      b.getNamedAttr("pads", b.getDenseI64ArrayAttr(pads)),
      b.getNamedAttr("ceil_mode", b.getBoolAttr(ctx.intAttr("ceil_mode", 0)))};
  if constexpr (std::is_same_v<OpTy, MaxPoolOp>) {
    attrs.push_back(
        b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(dilations)));
  } else {
    if (llvm::any_of(dilations, [](int64_t d) { return d != 1; }))
      return ctx.emitError() << "dilated average pooling is not supported";
    attrs.push_back(b.getNamedAttr(
        "count_include_pad",
        b.getBoolAttr(ctx.intAttr("count_include_pad", 0) != 0)));
  }
  return emitWindowOp<OpTy>(ctx, {*input}, attrs, lifted,
                            /*liftedOperands=*/1);
}

/// Creates a [out, in] weight constant from `data` laid out as [rows, cols]
/// (transposed when `transpose`) and scaled by `alpha`.
static Value createLinearWeight(NodeContext &ctx, ArrayRef<float> data,
                                int64_t rows, int64_t cols, bool transpose,
                                float alpha) {
  int64_t out = transpose ? cols : rows, in = transpose ? rows : cols;
  SmallVector<float> weight(out * in);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      weight[o * in + i] =
          alpha * (transpose ? data[i * cols + o] : data[o * cols + i]);
  auto type =
      RankedTensorType::get({out, in}, ctx.importer.builder.getF32Type());
  return ctx.importer.createConstant(
      type,
      ArrayRef<char>(reinterpret_cast<const char *>(weight.data()),
                     weight.size() * sizeof(float)),
      ctx.inputName(1));
}

/// Gemm and MatMul with a constant right-hand side become shears.linear.
static LogicalResult convertGemmOrMatMul(NodeContext &ctx) {
  auto &b = ctx.importer.builder;
  Importer &im = ctx.importer;
  bool isGemm = ctx.node.op_type() == "Gemm";
  auto lhs = im.getFloatValue(ctx, 0);
  if (failed(lhs))
    return failure();
  bool transA = isGemm && ctx.intAttr("transA", 0);
  bool transB = isGemm && ctx.intAttr("transB", 0);
  float alpha = isGemm ? ctx.floatAttr("alpha", 1.0f) : 1.0f;
  float beta = isGemm ? ctx.floatAttr("beta", 1.0f) : 1.0f;
  // ONNX defines Gemm on matrices only (MatMul broadcasts).
  if (isGemm && typeOf(*lhs).getRank() != 2)
    return ctx.emitError() << "input A must be 2-D, got rank "
                           << typeOf(*lhs).getRank();
  if (isGemm && ctx.hasInput(1)) {
    // A constant B is read below as floats, not materialized here.
    int64_t rank;
    if (im.isConstant(ctx.inputName(1))) {
      rank = im.getConstantType(ctx.inputName(1)).getRank();
    } else {
      FailureOr<Value> rhs = im.getValue(ctx, 1);
      if (failed(rhs))
        return failure();
      rank = typeOf(*rhs).getRank();
    }
    if (rank != 2)
      return ctx.emitError() << "input B must be 2-D, got rank " << rank;
  }
  if (transA) {
    auto t = createOp<TransposeOp>(
        ctx, *lhs, b.getNamedAttr("perm", b.getDenseI64ArrayAttr({1, 0})));
    if (failed(t))
      return failure();
    lhs = (*t)->getResult(0);
  }

  bool constantRhs = ctx.hasInput(1) && im.isConstant(ctx.inputName(1)) &&
                     im.getConstantType(ctx.inputName(1)).getRank() == 2 &&
                     im.getConstantType(ctx.inputName(1))
                         .getElementType()
                         .isF32();
  // A quantized weight (QDQ): B^T dequantized from constants (reshaped and
  // sliced for group-wise int4) is already [out, in].
  Value dequantizedWeight;
  if (!constantRhs && transB && alpha == 1.0f && ctx.hasInput(1)) {
    FailureOr<Value> v = im.getValue(ctx, 1);
    if (failed(v))
      return failure();
    DequantizeOp dq = getWeightDequantize(*v);
    if (dq && typeOf(*v).getRank() == 2 && typeOf(*v).hasStaticShape() &&
        dq.getInput().getDefiningOp<ConstantOp>())
      dequantizedWeight = *v;
  }
  Value result;
  if (constantRhs || dequantizedWeight) {
    Value weight = dequantizedWeight;
    if (!weight) {
      auto rhsType = im.getConstantType(ctx.inputName(1));
      auto data = im.getFloats(ctx, 1);
      if (failed(data))
        return failure();
      // ONNX computes A * B (or A * B^T); shears.linear wants W as [out, in].
      weight = createLinearWeight(ctx, *data, rhsType.getDimSize(0),
                                  rhsType.getDimSize(1), !transB, alpha);
    }
    int64_t out = typeOf(weight).getDimSize(0);
    Value bias;
    Value addend;
    if (isGemm && ctx.hasInput(2)) {
      auto cType = im.isConstant(ctx.inputName(2))
                       ? im.getConstantType(ctx.inputName(2))
                       : RankedTensorType();
      // A bias that broadcasts along rows folds into linear's bias.
      if (cType && cType.getElementType().isF32() &&
          cType.getNumElements() == out &&
          (cType.getRank() == 1 ||
           (cType.getRank() == 2 && cType.getDimSize(0) == 1))) {
        auto c = im.getFloats(ctx, 2);
        if (failed(c))
          return failure();
        for (float &v : *c)
          v *= beta;
        bias = im.createConstant(
            RankedTensorType::get({out}, b.getF32Type()),
            ArrayRef<char>(reinterpret_cast<const char *>(c->data()),
                           c->size() * sizeof(float)),
            ctx.inputName(2));
      } else {
        if (beta != 1.0f)
          return ctx.emitError() << "beta != 1 needs a constant bias";
        auto c = im.getFloatValue(ctx, 2);
        if (failed(c))
          return failure();
        addend = *c;
      }
    }
    SmallVector<Value> operands = {*lhs, weight};
    if (bias)
      operands.push_back(bias);
    auto linear = createOp<LinearOp>(ctx, operands);
    if (failed(linear))
      return failure();
    result = (*linear)->getResult(0);
    if (addend) {
      auto add = createOp<AddOp>(ctx, {result, addend});
      if (failed(add))
        return failure();
      result = (*add)->getResult(0);
    }
  } else {
    auto rhs = im.getFloatValue(ctx, 1);
    if (failed(rhs))
      return failure();
    if (transB) {
      auto t = createOp<TransposeOp>(
          ctx, *rhs, b.getNamedAttr("perm", b.getDenseI64ArrayAttr({1, 0})));
      if (failed(t))
        return failure();
      rhs = (*t)->getResult(0);
    }
    if (isGemm && (alpha != 1.0f || (ctx.hasInput(2) && beta != 1.0f)))
      return ctx.emitError() << "alpha/beta != 1 need a constant B and C";
    auto mm = createOp<MatMulOp>(ctx, {*lhs, *rhs});
    if (failed(mm))
      return failure();
    result = (*mm)->getResult(0);
    if (isGemm && ctx.hasInput(2)) {
      auto c = im.getFloatValue(ctx, 2);
      if (failed(c))
        return failure();
      auto add = createOp<AddOp>(ctx, {result, *c});
      if (failed(add))
        return failure();
      result = (*add)->getResult(0);
    }
  }
  im.setResult(ctx, 0, result);
  return success();
}

static LogicalResult convertBatchNorm(NodeContext &ctx) {
  if (ctx.intAttr("training_mode", 0) != 0)
    return ctx.emitError() << "training_mode batch normalization is not "
                              "supported";
  SmallVector<Value> operands;
  for (unsigned i = 0; i < 5; ++i) {
    auto v = ctx.importer.getFloatValue(ctx, i);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  auto &b = ctx.importer.builder;
  return emitOp<BatchNormOp>(
      ctx, operands,
      b.getNamedAttr("epsilon",
                     b.getF32FloatAttr(ctx.floatAttr("epsilon", 1e-5f))));
}

/// LayerNormalization's Mean and InvStdDev outputs, where a node asks for
/// them: the statistics of the normalized dims, kept as 1s.
static LogicalResult layerNormStatistics(NodeContext &ctx, Value input,
                                         int64_t axis, float epsilon) {
  bool mean = ctx.node.output_size() > 1 && !ctx.node.output(1).empty();
  bool invStd = ctx.node.output_size() > 2 && !ctx.node.output(2).empty();
  if (!mean && !invStd)
    return success();
  auto &b = ctx.importer.builder;
  auto type = typeOf(input);
  NamedAttribute axes =
      b.getNamedAttr("axes", b.getDenseI64ArrayAttr(llvm::to_vector(
                                 llvm::seq<int64_t>(axis, type.getRank()))));
  auto reduce = [&](Value v) -> FailureOr<Value> {
    auto op = createOp<ReduceMeanOp>(ctx, v, axes);
    return failed(op) ? FailureOr<Value>() : (*op)->getResult(0);
  };
  auto binary = [&](auto tag, Value lhs, Value rhs) -> FailureOr<Value> {
    auto op = createOp<decltype(tag)>(ctx, {lhs, rhs});
    return failed(op) ? FailureOr<Value>() : (*op)->getResult(0);
  };
  auto mu = reduce(input);
  if (failed(mu))
    return failure();
  ctx.importer.setResult(ctx, 1, *mu);
  if (!invStd)
    return success();
  auto centered = binary(SubOp(), input, *mu);
  if (failed(centered))
    return failure();
  auto squared = binary(MulOp(), *centered, *centered);
  if (failed(squared))
    return failure();
  auto var = reduce(*squared);
  if (failed(var))
    return failure();
  Value eps = ctx.importer.createConstant(
      RankedTensorType::get({}, type.getElementType()),
      ArrayRef<char>(reinterpret_cast<const char *>(&epsilon), sizeof(float)),
      ctx.node.output(2) + ".epsilon");
  auto shifted = binary(AddOp(), *var, eps);
  if (failed(shifted))
    return failure();
  auto std = createOp<SqrtOp>(ctx, *shifted);
  if (failed(std))
    return failure();
  auto inv = createOp<ReciprocalOp>(ctx, (*std)->getResult(0));
  if (failed(inv))
    return failure();
  ctx.importer.setResult(ctx, 2, (*inv)->getResult(0));
  return success();
}

/// LayerNormalization (opset 17); a missing bias is zeros.
static LogicalResult convertLayerNorm(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  auto scale = ctx.importer.getFloatValue(ctx, 1);
  if (failed(input) || failed(scale))
    return failure();
  auto axis =
      normalizeAxis(ctx, ctx.intAttr("axis", -1), typeOf(*input).getRank());
  if (failed(axis))
    return failure();
  Value bias;
  if (ctx.hasInput(2)) {
    auto value = ctx.importer.getFloatValue(ctx, 2);
    if (failed(value))
      return failure();
    bias = *value;
  } else {
    auto type = typeOf(*scale);
    std::string zeros(type.getNumElements() * type.getElementTypeBitWidth() / 8,
                      '\0');
    bias = ctx.importer.createConstant(
        type, ArrayRef<char>(zeros.data(), zeros.size()),
        ctx.node.output(0) + ".bias");
  }
  if (!typeOf(*input).getElementType().isF32())
    return ctx.emitError() << "only f32 inputs are supported";
  auto &b = ctx.importer.builder;
  float epsilon = ctx.floatAttr("epsilon", 1e-5f);
  auto norm = createOp<LayerNormOp>(
      ctx, {*input, *scale, bias},
      {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)),
       b.getNamedAttr("epsilon", b.getF32FloatAttr(epsilon))});
  if (failed(norm))
    return failure();
  ctx.importer.setResult(ctx, 0, (*norm)->getResult(0));
  return layerNormStatistics(ctx, *input, *axis, epsilon);
}

template <typename OpTy>
static LogicalResult convertUnary(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  return emitOp<OpTy>(ctx, *input);
}

/// The most entries an integer tensor computed at import time may have.
constexpr int64_t kMaxShapeTensor = int64_t(1) << 20;

static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> dims) {
  SmallVector<int64_t> strides(dims.size(), 1);
  for (int64_t d = static_cast<int64_t>(dims.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * dims[d + 1];
  return strides;
}

/// The dims that `tensors` broadcast to (ONNX's multidirectional
/// broadcasting), if they do and the result is not above kMaxShapeTensor.
static std::optional<SmallVector<int64_t>>
broadcastDims(ArrayRef<ShapeTensor> tensors) {
  size_t rank = 0;
  for (const ShapeTensor &t : tensors)
    rank = std::max(rank, t.dims.size());
  SmallVector<int64_t> dims(rank, 1);
  for (const ShapeTensor &t : tensors) {
    for (auto [i, n] : llvm::enumerate(t.dims)) {
      int64_t &d = dims[rank - t.dims.size() + i];
      if (d != 1 && n != 1 && d != n)
        return std::nullopt;
      d = n == 1 ? d : n;
    }
  }
  int64_t count = 1;
  for (int64_t d : dims)
    if (d < 0 || llvm::MulOverflow(count, d, count) || count > kMaxShapeTensor)
      return std::nullopt;
  return dims;
}

/// The entries of a tensor of `dims` that moves `t`'s (a transpose, a
/// slice, a broadcast): the entry at index (i0, i1, ...) is `t`'s entry
/// sum_d offset(d, i_d), where `strides` are `t`'s row-major strides.
static ShapeVector moveEntries(
    const ShapeTensor &t, ArrayRef<int64_t> dims,
    function_ref<int64_t(size_t d, int64_t i, ArrayRef<int64_t> strides)>
        offset) {
  SmallVector<int64_t> inStrides = rowMajorStrides(t.dims);
  SmallVector<int64_t> outStrides = rowMajorStrides(dims);
  int64_t count = 1;
  for (int64_t d : dims)
    count *= d; // callers bound it by kMaxShapeTensor or t's size
  ShapeVector result;
  result.reserve(count);
  for (int64_t j = 0; j < count; ++j) {
    int64_t source = 0;
    for (size_t d = 0; d < dims.size(); ++d)
      source += offset(d, j / outStrides[d] % dims[d], inStrides);
    result.push_back(t.elems[source]);
  }
  return result;
}

/// `t`'s entries broadcast to `dims`, which they broadcast to.
static ShapeVector broadcastTo(const ShapeTensor &t, ArrayRef<int64_t> dims) {
  size_t lead = dims.size() - t.dims.size();
  return moveEntries(t, dims, [&](size_t d, int64_t i, ArrayRef<int64_t> s) {
    return d < lead || t.dims[d - lead] == 1 ? 0 : i * s[d - lead];
  });
}

/// Integer arithmetic on shape vectors (x.size(1) // groups, the -1 entries
/// of an expand's target shape) is evaluated at import time. An element that
/// is a dynamic dimension folds only where its value does not matter (x * 1,
/// x + 0, x == -1 is false); anything else is not folded and the node is
/// converted as a tensor op, which names what it cannot take.
static bool foldShapeArithmetic(NodeContext &ctx) {
  StringRef type = ctx.node.op_type();
  if (type == "Neg") {
    if (ctx.numInputs() != 1 || !ctx.importer.isShapeLike(ctx.inputName(0)))
      return false;
    auto shape = ctx.importer.getShapeTensor(ctx, 0);
    if (failed(shape))
      return false;
    ShapeVector result;
    for (const ShapeElem &e : shape->elems) {
      if (e.isSymbolic() || e.constant == std::numeric_limits<int64_t>::min())
        return false;
      result.push_back({-e.constant});
    }
    ctx.importer.setShape(ctx, {result, shape->dims});
    return true;
  }
  bool isWhere = type == "Where";
  if (!llvm::is_contained({"Add", "Sub", "Mul", "Div", "Mod", "Equal"}, type) &&
      !isWhere)
    return false;
  unsigned arity = isWhere ? 3 : 2;
  if (ctx.numInputs() != arity)
    return false;
  SmallVector<ShapeTensor> in;
  for (unsigned i = 0; i < arity; ++i) {
    if (!ctx.hasInput(i) || !ctx.importer.isShapeLike(ctx.inputName(i)))
      return false;
    auto shape = ctx.importer.getShapeTensor(ctx, i);
    if (failed(shape))
      return false;
    in.push_back(std::move(*shape));
  }
  auto dims = broadcastDims(in);
  if (!dims)
    return false;
  for (ShapeTensor &t : in)
    t.elems = broadcastTo(t, *dims);
  auto at = [&](unsigned i, size_t j) { return in[i].elems[j]; };
  ShapeVector result;
  for (size_t j = 0, size = in[0].elems.size(); j < size; ++j) {
    ShapeElem a = at(0, j), b = at(1, j);
    if (isWhere) {
      ShapeElem c = a;
      if (c.isSymbolic())
        return false;
      result.push_back(c.constant ? b : at(2, j));
      continue;
    }
    if (type == "Equal") {
      if (!a.isSymbolic() && !b.isSymbolic())
        result.push_back({a.constant == b.constant});
      else if (a == b)
        result.push_back({1});
      else if ((a.isSymbolic() && !b.isSymbolic() && b.constant < 0) ||
               (b.isSymbolic() && !a.isSymbolic() && a.constant < 0))
        result.push_back({0}); // a dimension is never negative
      else
        return false;
      continue;
    }
    if (a.isSymbolic() || b.isSymbolic()) {
      // A dynamic dimension times or divided by a constant stays one (its
      // value is not needed to reshape); x + 0 and x - 0 are x.
      bool mul = type == "Mul";
      if (mul && a.isSymbolic() != b.isSymbolic()) {
        ShapeElem dim = a.isSymbolic() ? a : b;
        if (llvm::MulOverflow(dim.scale, (a.isSymbolic() ? b : a).constant,
                              dim.scale) ||
            dim.scale <= 0)
          return false;
        result.push_back(dim);
      } else if (type == "Div" && a.isSymbolic() && !b.isSymbolic() &&
                 b.constant > 0 && a.scale % b.constant == 0) {
        a.scale /= b.constant;
        result.push_back(a);
      } else if ((type == "Add" || type == "Sub") && !b.isSymbolic() &&
                 b.constant == 0) {
        result.push_back(a);
      } else if (type == "Add" && !a.isSymbolic() && a.constant == 0) {
        result.push_back(b);
      } else {
        return false;
      }
      continue;
    }
    // Overflowing or undefined results (a malformed model) are not folded.
    int64_t x = a.constant, y = b.constant, z = 0;
    if ((type == "Div" || type == "Mod") &&
        (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1)))
      return false;
    if ((type == "Add" && llvm::AddOverflow(x, y, z)) ||
        (type == "Sub" && llvm::SubOverflow(x, y, z)) ||
        (type == "Mul" && llvm::MulOverflow(x, y, z)))
      return false;
    if (type == "Div")
      z = x / y; // ONNX's integer Div truncates
    else if (type == "Mod")
      // fmod = 1 keeps the dividend's sign (C's %), fmod = 0 the divisor's.
      z = ctx.intAttr("fmod", 0) || x % y == 0 || (x % y < 0) == (y < 0)
              ? x % y
              : x % y + y;
    result.push_back({z});
  }
  ctx.importer.setShape(ctx, {result, *dims});
  return true;
}

/// An op of ElementwiseOps.def: float operands, float attributes by name. A
/// binary op given more inputs (ONNX's variadic Max and Min) is applied
/// left to right; given one, it is that input.
template <typename OpTy>
static LogicalResult convertElementwise(NodeContext &ctx) {
  if (foldShapeArithmetic(ctx))
    return success();
  auto &b = ctx.importer.builder;
  ArrayRef<StringRef> names = OpTy::getAttributeNames();
  SmallVector<NamedAttribute> attrs;
  for (const onnx::AttributeProto &attr : ctx.node.attribute()) {
    if (!llvm::is_contained(names, attr.name()) ||
        attr.type() != onnx::AttributeProto::FLOAT)
      return ctx.emitError()
             << "attribute '" << printable(attr.name()) << "' is not supported";
    attrs.push_back(b.getNamedAttr(attr.name(), b.getF32FloatAttr(attr.f())));
  }
  // Operand types are the op's verifier's to check (floats, an i1 condition).
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto input = ctx.importer.getValue(ctx, i);
    if (failed(input))
      return failure();
    inputs.push_back(*input);
  }
  constexpr unsigned arity =
      OpTy::template hasTrait<OpTrait::OneOperand>()           ? 1
      : OpTy::template hasTrait<OpTrait::NOperands<3>::Impl>() ? 3
                                                               : 2;
  if (inputs.empty() || (arity != 2 && inputs.size() != arity))
    return ctx.emitError() << "expected " << arity << " inputs, got "
                           << inputs.size();
  if (arity != 2)
    return emitOp<OpTy>(ctx, inputs, attrs);
  Value result = inputs.front();
  for (size_t i = 1; i < inputs.size(); ++i) {
    FailureOr<Operation *> op = createOp<OpTy>(ctx, {result, inputs[i]}, attrs);
    if (failed(op))
      return failure();
    result = (*op)->getResult(0);
  }
  ctx.importer.setResult(ctx, 0, result);
  return success();
}

/// The attributes of a reduction over the node's axes, normalized: axes from
/// the attribute (opset < 18; ReduceSum < 13) or the second input; none means
/// all, or null (the node is the identity) with noop_with_empty_axes.
static FailureOr<DictionaryAttr> reductionAttrs(NodeContext &ctx,
                                                int64_t rank) {
  SmallVector<int64_t> axes;
  if (ctx.hasInput(1)) {
    auto ints = ctx.importer.getInts(ctx, 1);
    if (failed(ints))
      return failure();
    axes = *ints;
  } else {
    axes = ctx.intsAttr("axes").value_or(SmallVector<int64_t>{});
  }
  if (axes.empty()) {
    if (ctx.intAttr("noop_with_empty_axes", 0))
      return DictionaryAttr();
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  auto normalized = normalizeAxes(ctx, axes, rank);
  if (failed(normalized))
    return failure();
  auto &b = ctx.importer.builder;
  return b.getDictionaryAttr(
      {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(*normalized)),
       b.getNamedAttr("keepdims", b.getBoolAttr(ctx.intAttr("keepdims", 1)))});
}

/// The result of a new `OpTy` (one result) on `operands`.
template <typename OpTy>
static FailureOr<Value> build(NodeContext &ctx, ValueRange operands,
                              ArrayRef<NamedAttribute> attrs = {}) {
  FailureOr<Operation *> op = createOp<OpTy>(ctx, operands, attrs);
  if (failed(op))
    return failure();
  return (*op)->getResult(0);
}

/// A reduction node: `reduce` builds it from the input and the attributes;
/// the identity (noop_with_empty_axes) forwards the input.
static LogicalResult
convertReduction(NodeContext &ctx,
                 function_ref<FailureOr<Value>(Value, DictionaryAttr)> reduce) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  auto attrs = reductionAttrs(ctx, typeOf(*input).getRank());
  if (failed(attrs))
    return failure();
  FailureOr<Value> result = *attrs ? reduce(*input, *attrs) : *input;
  if (failed(result))
    return failure();
  ctx.importer.setResult(ctx, 0, *result);
  return success();
}

template <typename OpTy> static LogicalResult convertReduce(NodeContext &ctx) {
  return convertReduction(ctx, [&](Value x, DictionaryAttr attrs) {
    return build<OpTy>(ctx, x, attrs.getValue());
  });
}

/// ArgMax and ArgMin.
template <typename OpTy>
static LogicalResult convertArgReduce(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  auto axis =
      normalizeAxis(ctx, ctx.intAttr("axis", 0), typeOf(*input).getRank());
  if (failed(axis))
    return failure();
  auto &b = ctx.importer.builder;
  return emitOp<OpTy>(
      ctx, *input,
      {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)),
       b.getNamedAttr("keepdims", b.getBoolAttr(ctx.intAttr("keepdims", 1))),
       b.getNamedAttr("select_last_index",
                      b.getBoolAttr(ctx.intAttr("select_last_index", 0)))});
}

/// The reductions ONNX defines from others, built from them: ReduceL1 is
/// ReduceSum(Abs), ReduceSumSquare ReduceSum(x * x), ReduceLogSum
/// Log(ReduceSum) and ReduceLogSumExp m + Log(ReduceSum(Exp(x - m))) with m
/// the maximum, so that exp does not overflow.
enum class ComposedReduction { L1, SumSquare, LogSum, LogSumExp };
template <ComposedReduction kind>
static LogicalResult convertComposedReduce(NodeContext &ctx) {
  return convertReduction(
      ctx, [&](Value input, DictionaryAttr attrs) -> FailureOr<Value> {
        auto &b = ctx.importer.builder;
        ArrayRef<NamedAttribute> reduce = attrs.getValue();
        FailureOr<Value> x = input, max;
        if (kind == ComposedReduction::L1)
          x = build<AbsOp>(ctx, input);
        if (kind == ComposedReduction::SumSquare)
          x = build<MulOp>(ctx, {input, input});
        if (kind == ComposedReduction::LogSumExp) {
          NamedAttrList kept(reduce);
          kept.set("keepdims", b.getBoolAttr(true));
          FailureOr<Value> keptMax = build<ReduceMaxOp>(ctx, input, kept);
          if (failed(keptMax))
            return failure();
          x = build<SubOp>(ctx, {input, *keptMax});
          if (succeeded(x))
            x = build<ExpOp>(ctx, *x);
          max = attrs.getAs<BoolAttr>("keepdims").getValue()
                    ? keptMax
                    : build<ReduceMaxOp>(ctx, input, reduce);
          if (failed(max))
            return failure();
        }
        if (failed(x))
          return failure();
        FailureOr<Value> y = build<ReduceSumOp>(ctx, *x, reduce);
        if (succeeded(y) && (kind == ComposedReduction::LogSum ||
                             kind == ComposedReduction::LogSumExp))
          y = build<LogOp>(ctx, *y);
        if (succeeded(y) && kind == ComposedReduction::LogSumExp)
          y = build<AddOp>(ctx, {*y, *max});
        return y;
      });
}

/// Mod: on integer shape vectors evaluated at import time; on floats (with
/// fmod = 1, as ONNX requires for them) a shears.fmod.
static LogicalResult convertMod(NodeContext &ctx) {
  if (foldShapeArithmetic(ctx))
    return success();
  auto lhs = ctx.importer.getValue(ctx, 0);
  auto rhs = ctx.importer.getValue(ctx, 1);
  if (failed(lhs) || failed(rhs))
    return failure();
  if (isa<FloatType>(typeOf(*lhs).getElementType()) && ctx.intAttr("fmod", 0))
    return emitOp<FModOp>(ctx, {*lhs, *rhs});
  return ctx.emitError() << "only supported on floats (with fmod = 1) and on "
                            "integer shape vectors known at import time "
                            "(x.shape arithmetic)";
}

/// Mean: the inputs added left to right, divided by their count.
static LogicalResult convertMean(NodeContext &ctx) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto input = ctx.importer.getFloatValue(ctx, i);
    if (failed(input))
      return failure();
    inputs.push_back(*input);
  }
  if (inputs.empty())
    return ctx.emitError() << "expected at least one input";
  Value sum = inputs.front();
  for (Value input : ArrayRef<Value>(inputs).drop_front()) {
    FailureOr<Value> add = build<AddOp>(ctx, {sum, input});
    if (failed(add))
      return failure();
    sum = *add;
  }
  if (inputs.size() == 1) {
    ctx.importer.setResult(ctx, 0, sum);
    return success();
  }
  auto &b = ctx.importer.builder;
  auto scalar = RankedTensorType::get({}, typeOf(sum).getElementType());
  Value count = ConstantOp::create(
      b, ctx.loc,
      DenseElementsAttr::get(
          scalar, b.getFloatAttr(scalar.getElementType(),
                                 static_cast<double>(inputs.size()))));
  return emitOp<DivOp>(ctx, {sum, count});
}

/// ConstantOfShape: an integer fill of a short 1-D shape is a shape vector
/// (torch builds expand's target shapes with it); anything else a splat
/// constant (one element in memory, whatever the shape).
static LogicalResult convertConstantOfShape(NodeContext &ctx) {
  auto shape = ctx.importer.getInts(ctx, 0);
  if (failed(shape))
    return failure();
  int64_t count = 1;
  for (int64_t d : *shape) {
    if (d < 0 || (d > 0 && count > kMaxElements / d))
      return ctx.emitError() << "shape has a negative or too large dimension";
    count *= d;
  }
  onnx::TensorProto fill;
  fill.set_data_type(onnx::TensorProto::FLOAT);
  fill.add_float_data(0.0f);
  if (const onnx::AttributeProto *value = ctx.attr("value"))
    fill = value->t();
  std::string storage;
  auto bytes = ctx.importer.readBytes(fill, ctx.loc, storage);
  if (failed(bytes))
    return failure();
  int64_t width = getElementByteWidth(fill.data_type());
  if (!width || static_cast<int64_t>(bytes->size()) != width)
    return ctx.emitError() << "value must be a one-element tensor";
  // An int64 one is an integer tensor known at import time (shape-like
  // values are int64, as Shape's result).
  if (fill.data_type() == onnx::TensorProto::INT64 && count <= (1 << 16)) {
    int64_t v = 0;
    std::memcpy(&v, bytes->data(), 8);
    ctx.importer.setShape(ctx, {ShapeVector(count, ShapeElem{v}), *shape});
    return success();
  }
  auto element =
      ctx.importer.convertElementType(fill.data_type(), ctx.loc, "value");
  if (failed(element))
    return failure();
  auto type = RankedTensorType::get(*shape, *element);
  bool splat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, *bytes, splat) || !splat)
    return ctx.emitError() << "value is not one element of its type";
  Value v =
      ConstantOp::create(ctx.importer.builder, ctx.loc,
                         DenseElementsAttr::getFromRawBuffer(type, *bytes));
  ctx.importer.setResult(ctx, 0, v);
  return success();
}

/// Trilu (opset 14): the upper (or lower) triangle of the last two dims from
/// diagonal k, the rest zero, as where(mask, x, 0) with a constant mask. The
/// last two dims must be static (a causal mask of a static sequence length,
/// as nn.Transformer.generate_square_subsequent_mask exports it).
static LogicalResult convertTrilu(NodeContext &ctx) {
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  if (!isa<FloatType, IntegerType>(typeOf(*input).getElementType()))
    return ctx.emitError() << "input 'x' must be a number tensor, got "
                           << typeOf(*input);
  int64_t k = 0;
  if (ctx.hasInput(1)) {
    auto ks = ctx.importer.getInts(ctx, 1);
    if (failed(ks))
      return failure();
    if (ks->size() != 1)
      return ctx.emitError() << "k must be one integer";
    k = ks->front();
  }
  bool upper = ctx.intAttr("upper", 1) != 0;
  auto type = typeOf(*input);
  int64_t rank = type.getRank();
  if (rank < 2 || type.isDynamicDim(rank - 1) || type.isDynamicDim(rank - 2))
    return ctx.emitError() << "Trilu needs its input's last two dims static";
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  if (rows * cols > kMaxElements)
    return ctx.emitError() << "Trilu's mask would be too large";
  SmallVector<bool> keep;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      keep.push_back(upper ? j - i >= k : j - i <= k);
  auto &b = ctx.importer.builder;
  Value mask = ConstantOp::create(
      b, ctx.loc,
      DenseElementsAttr::get(RankedTensorType::get({rows, cols}, b.getI1Type()),
                             ArrayRef<bool>(keep)));
  auto scalar = RankedTensorType::get({}, type.getElementType());
  Value zero = ConstantOp::create(
      b, ctx.loc,
      DenseElementsAttr::get(scalar, b.getZeroAttr(type.getElementType())));
  return emitOp<WhereOp>(ctx, {mask, *input, zero});
}

/// Expand to a shape that may hold dynamic dimensions (x.shape[0]): those
/// take their size from the tensor the shape was read from.
static LogicalResult convertExpand(NodeContext &ctx) {
  if (ctx.importer.isShapeLike(ctx.inputName(0))) {
    auto tensor = ctx.importer.getShapeTensor(ctx, 0);
    auto target = ctx.importer.getInts(ctx, 1);
    if (failed(tensor) || failed(target))
      return failure();
    auto dims = broadcastDims({*tensor, ShapeTensor{{}, *target}});
    if (!dims)
      return ctx.emitError()
             << "cannot expand an integer tensor of shape ["
             << llvm::interleaved(tensor->dims) << "] to ["
             << llvm::interleaved(*target) << "] at import time";
    ctx.importer.setShape(ctx, {broadcastTo(*tensor, *dims), *dims});
    return success();
  }
  auto input = ctx.importer.getFloatValue(ctx, 0);
  auto target = ctx.importer.getShape(ctx, 1);
  if (failed(input))
    return failure();
  if (failed(target))
    return ctx.emitError() << "the target shape '" << ctx.inputName(1)
                           << "' could not be computed at import time";
  auto inType = typeOf(*input);
  int64_t rank = std::max<int64_t>(inType.getRank(), target->size());
  SmallVector<int64_t> shape;
  SmallVector<Value> sources;
  SmallVector<int64_t> sourceDims;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t inDim = d - (rank - inType.getRank());
    int64_t tDim = d - (rank - static_cast<int64_t>(target->size()));
    int64_t in = inDim >= 0 ? inType.getDimSize(inDim) : 1;
    ShapeElem t = tDim >= 0 ? (*target)[tDim] : ShapeElem{1};
    if (in != 1) {
      // The input's own size (ONNX requires the target to be 1 or it).
      if (!t.isSymbolic() && t.constant != 1 && t.constant != in)
        return ctx.emitError() << "cannot expand dimension " << inDim
                               << " of size " << in << " to " << t.constant;
      shape.push_back(in);
      if (ShapedType::isDynamic(in)) {
        sources.push_back(*input);
        sourceDims.push_back(inDim);
      }
    } else if (t.isSymbolic()) {
      if (t.scale != 1)
        return ctx.emitError() << "cannot expand to a size computed from a "
                                  "dynamic dimension";
      shape.push_back(ShapedType::kDynamic);
      sources.push_back(t.value);
      sourceDims.push_back(t.dim);
    } else {
      if (t.constant < 0)
        return ctx.emitError()
               << "cannot expand to a negative size " << t.constant;
      shape.push_back(t.constant);
    }
  }
  auto type = RankedTensorType::get(shape, inType.getElementType());
  if (type == inType) {
    ctx.importer.setResult(ctx, 0, *input);
    return success();
  }
  SmallVector<Value> operands = {*input};
  operands.append(sources);
  auto &b = ctx.importer.builder;
  return emitOp<ExpandOp>(
      ctx, operands,
      b.getNamedAttr("source_dims", b.getDenseI64ArrayAttr(sourceDims)), type);
}

/// Tile with constant repeats: a dimension of size n repeated r times is
/// reshaped to [1, n], expanded to [r, n], and the pairs are merged by one
/// reshape at the end.
static LogicalResult convertTile(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  auto repeats = ctx.importer.getInts(ctx, 1);
  if (failed(repeats))
    return failure();
  auto type = typeOf(*input);
  if (static_cast<int64_t>(repeats->size()) != type.getRank())
    return ctx.emitError() << "repeats has " << repeats->size()
                           << " entries for an input of rank "
                           << type.getRank();
  SmallVector<int64_t> split, result;
  for (auto [n, r] : llvm::zip(type.getShape(), *repeats)) {
    if (r < 1)
      return ctx.emitError() << "repeats must be positive, got " << r;
    if (r != 1 && ShapedType::isDynamic(n))
      return ctx.emitError() << "a dynamic dimension cannot be repeated";
    if (r != 1 && n > kMaxElements / r)
      return ctx.emitError() << "the result would be too large";
    if (r != 1)
      split.push_back(1);
    split.push_back(n);
    result.push_back(ShapedType::isDynamic(n) ? n : n * r);
  }
  FailureOr<Value> pairs = reshapeValue(ctx, *input, split);
  if (failed(pairs))
    return failure();
  SmallVector<int64_t> expanded;
  SmallVector<Value> operands = {*pairs};
  SmallVector<int64_t> sourceDims;
  for (int64_t d = 0, r = 0; d < static_cast<int64_t>(split.size()); ++d) {
    // A repeated dimension is the pair [1, n] of `split`.
    bool repeat = (*repeats)[r++] != 1;
    expanded.push_back(repeat ? (*repeats)[r - 1] : split[d]);
    if (repeat)
      expanded.push_back(split[++d]);
    else if (ShapedType::isDynamic(split[d])) {
      operands.push_back(*pairs);
      sourceDims.push_back(d);
    }
  }
  auto &b = ctx.importer.builder;
  FailureOr<Operation *> expand = createOp<ExpandOp>(
      ctx, operands,
      b.getNamedAttr("source_dims", b.getDenseI64ArrayAttr(sourceDims)),
      RankedTensorType::get(expanded, type.getElementType()));
  if (failed(expand))
    return failure();
  FailureOr<Value> tiled = reshapeValue(ctx, (*expand)->getResult(0), result);
  if (failed(tiled))
    return failure();
  ctx.importer.setResult(ctx, 0, *tiled);
  return success();
}

/// ScatterND with indices known at import time (torch's slice assignment,
/// `mask[a:b, c:d] = k`): which update each entry of the result takes is
/// fixed at import, so the result is where(updated, gather(flat updates,
/// source), data) with a constant condition and constant gather indices.
/// With reduction "none" a position updated twice takes the last update (as
/// ONNX Runtime does); "add" and "mul" apply one such where per update that
/// a position receives, combining it with the running result.
static LogicalResult convertScatterND(NodeContext &ctx) {
  std::string reduction = ctx.stringAttr("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul")
    return ctx.emitError() << "unsupported reduction '" << reduction << "'";
  auto data = ctx.importer.getValue(ctx, 0);
  auto updates = ctx.importer.getValue(ctx, 2);
  if (failed(data) || failed(updates))
    return failure();
  auto indices = ctx.importer.getShapeTensor(ctx, 1);
  if (failed(indices) || llvm::any_of(indices->elems, [](const ShapeElem &e) {
        return e.isSymbolic();
      }))
    return ctx.emitError() << "the indices '" << ctx.inputName(1)
                           << "' must be known at import time";
  auto type = typeOf(*data), updatesType = typeOf(*updates);
  if (!type.hasStaticShape() || !updatesType.hasStaticShape())
    return ctx.emitError() << "data and updates need static shapes";
  if (type.getNumElements() > kMaxShapeTensor * 16)
    return ctx.emitError() << "ScatterND into more than "
                           << kMaxShapeTensor * 16
                           << " entries is not supported";
  ArrayRef<int64_t> dims = indices->dims;
  if (dims.empty() || dims.back() < 1 || dims.back() > type.getRank())
    return ctx.emitError() << "the indices' last dimension must be in [1, "
                           << type.getRank() << "]";
  int64_t depth = dims.back();
  SmallVector<int64_t> expected(dims.drop_back());
  llvm::append_range(expected, type.getShape().drop_front(depth));
  if (updatesType.getShape() != ArrayRef<int64_t>(expected) ||
      updatesType.getElementType() != type.getElementType())
    return ctx.emitError() << "updates must be "
                           << RankedTensorType::get(expected,
                                                    type.getElementType())
                           << ", got " << updatesType;
  // sources[i]: the flat updates that entry i of the result takes.
  SmallVector<int64_t> strides = rowMajorStrides(type.getShape());
  int64_t slice = depth < type.getRank() ? strides[depth - 1] : 1;
  std::vector<SmallVector<int64_t, 1>> sources(type.getNumElements());
  int64_t tuples = indices->elems.size() / depth;
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t base = 0;
    for (int64_t k = 0; k < depth; ++k) {
      int64_t i = indices->elems[t * depth + k].constant;
      int64_t size = type.getDimSize(k);
      if (i < -size || i >= size)
        return ctx.emitError() << "index " << i << " is out of range for "
                               << "dimension " << k << " of size " << size;
      base += (i < 0 ? i + size : i) * strides[k];
    }
    for (int64_t e = 0; e < slice; ++e) {
      auto &list = sources[base + e];
      if (reduction == "none")
        list.clear();
      list.push_back(t * slice + e);
    }
  }
  size_t rounds = 0;
  for (const auto &list : sources)
    rounds = std::max(rounds, list.size());
  if (rounds > 16)
    return ctx.emitError() << "a position receives " << rounds
                           << " updates; at most 16 are supported";
  auto &b = ctx.importer.builder;
  auto boolType = RankedTensorType::get(type.getShape(), b.getI1Type());
  auto indexType = RankedTensorType::get(type.getShape(), b.getI64Type());
  Value result = *data;
  FailureOr<Value> flat =
      rounds ? reshapeValue(ctx, *updates, {updatesType.getNumElements()})
             : *updates;
  if (failed(flat))
    return failure();
  for (size_t round = 0; round < rounds; ++round) {
    SmallVector<bool> updated;
    SmallVector<int64_t> from;
    for (const auto &list : sources) {
      updated.push_back(round < list.size());
      from.push_back(round < list.size() ? list[round] : 0);
    }
    Value mask = ConstantOp::create(
        b, ctx.loc, DenseElementsAttr::get(boolType, ArrayRef(updated)));
    Value index = ConstantOp::create(
        b, ctx.loc, DenseElementsAttr::get(indexType, ArrayRef(from)));
    FailureOr<Operation *> gathered = createOp<GatherOp>(
        ctx, {*flat, index}, b.getNamedAttr("axis", b.getI64IntegerAttr(0)));
    if (failed(gathered))
      return failure();
    Value value = (*gathered)->getResult(0);
    FailureOr<Operation *> combined = nullptr;
    if (reduction == "add")
      combined = createOp<AddOp>(ctx, {result, value});
    else if (reduction == "mul")
      combined = createOp<MulOp>(ctx, {result, value});
    if (failed(combined))
      return failure();
    if (*combined)
      value = (*combined)->getResult(0);
    FailureOr<Operation *> where =
        createOp<WhereOp>(ctx, {mask, value, result});
    if (failed(where))
      return failure();
    result = (*where)->getResult(0);
  }
  ctx.importer.setResult(ctx, 0, result);
  return success();
}

/// Range with start, limit and delta known at import time: an int64 range
/// is a shape vector (position ids built from a shape); int32 and float
/// ranges are constants.
static LogicalResult convertRange(NodeContext &ctx) {
  Importer &im = ctx.importer;
  for (unsigned i = 0; i < 3; ++i)
    if (!ctx.hasInput(i) || !im.isConstant(ctx.inputName(i)))
      return ctx.emitError() << "start, limit and delta must be known at "
                                "import time";
  Type element = im.getConstantType(ctx.inputName(0)).getElementType();
  double bounds[3];
  for (unsigned i = 0; i < 3; ++i) {
    if (im.getConstantType(ctx.inputName(i)).getElementType() != element)
      return ctx.emitError() << "start, limit and delta differ in type";
    if (element.isF32()) {
      auto v = im.getFloats(ctx, i);
      if (failed(v))
        return failure();
      if (v->size() != 1)
        return ctx.emitError() << "input " << i << " must be a scalar";
      bounds[i] = v->front();
    } else if (element.isInteger(64) || element.isInteger(32)) {
      auto v = im.getInts(ctx, i);
      if (failed(v))
        return failure();
      if (v->size() != 1)
        return ctx.emitError() << "input " << i << " must be a scalar";
      bounds[i] = v->front();
    } else {
      return ctx.emitError() << "only float, int32 and int64 ranges are "
                                "supported, got "
                             << element;
    }
  }
  auto [start, limit, delta] = bounds;
  if (delta == 0)
    return ctx.emitError() << "delta must not be 0";
  double count = std::max(0.0, std::ceil((limit - start) / delta));
  if (count > double(kMaxElements))
    return ctx.emitError() << "the range would have too many elements";
  auto n = static_cast<int64_t>(count);
  if (element.isInteger(64)) {
    ShapeVector range;
    for (int64_t i = 0; i < n; ++i)
      range.push_back({static_cast<int64_t>(start) + i * int64_t(delta)});
    im.setShape(ctx, range);
    return success();
  }
  SmallVector<char> bytes;
  auto append = [&](auto v) {
    bytes.append(reinterpret_cast<const char *>(&v),
                 reinterpret_cast<const char *>(&v) + sizeof(v));
  };
  for (int64_t i = 0; i < n; ++i) {
    if (element.isF32())
      append(static_cast<float>(start + double(i) * delta));
    else
      append(static_cast<int32_t>(start) + static_cast<int32_t>(i * delta));
  }
  im.setResult(ctx, 0,
               im.createConstant(RankedTensorType::get({n}, element), bytes,
                                 ctx.node.output(0)));
  return success();
}

/// The einsum operand indices `from` permuted to `to` (the same letters).
static FailureOr<Value> transposeIndices(NodeContext &ctx, Value value,
                                         StringRef from, StringRef to) {
  SmallVector<int64_t> perm;
  for (char c : to)
    perm.push_back(from.find(c));
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return value;
  auto &b = ctx.importer.builder;
  return build<TransposeOp>(
      ctx, value, b.getNamedAttr("perm", b.getDenseI64ArrayAttr(perm)));
}

/// Einsum where it is a transpose, a sum or a (batched) matrix product: one
/// or two operands, no ellipsis, no index twice in one operand (a diagonal).
/// An index that only one operand has and the output lacks is summed over
/// first; then the indices both operands and the output have are the batch,
/// those both have the contraction, and A [batch, M-indices, K-indices] times
/// B [batch, K-indices, N-indices] is one shears.matmul, reshaped and
/// transposed to the output's order.
static LogicalResult convertEinsum(NodeContext &ctx) {
  std::string equation = ctx.stringAttr("equation", "");
  llvm::erase_if(equation, [](char c) { return llvm::isSpace(c); });
  if (StringRef(equation).contains("..."))
    return ctx.emitError() << "ellipsis (...) is not supported";
  StringRef eq(equation);
  auto [inputs, output] = eq.split("->");
  bool explicitOutput = eq.contains("->");
  SmallVector<StringRef> terms;
  inputs.split(terms, ',');
  if (terms.size() != ctx.numInputs() || terms.size() > 2)
    return ctx.emitError() << "equation '" << equation << "' must name "
                           << ctx.numInputs()
                           << " operands, and only one or two are supported";
  std::string implicit;
  if (!explicitOutput) {
    // The indices that occur once, in alphabetical order.
    std::string all = inputs.str();
    for (char c : all)
      if (llvm::isAlpha(c) && llvm::count(all, c) == 1)
        implicit += c;
    llvm::sort(implicit);
    output = implicit;
  }
  auto valid = [](StringRef term) {
    return llvm::all_of(term, [&](char c) {
      return llvm::isAlpha(c) && llvm::count(term, c) == 1;
    });
  };
  if (!valid(output) || !llvm::all_of(terms, valid))
    return ctx.emitError() << "equation '" << equation
                           << "' has an index that is not a letter or is "
                              "repeated within one operand (diagonals are "
                              "not supported)";
  SmallVector<Value> operands;
  SmallVector<std::string> indices;
  llvm::SmallDenseMap<char, int64_t> sizes;
  for (auto [i, term] : llvm::enumerate(terms)) {
    auto v = ctx.importer.getFloatValue(ctx, i);
    if (failed(v))
      return failure();
    auto type = typeOf(*v);
    if (type.getRank() != static_cast<int64_t>(term.size()))
      return ctx.emitError()
             << "operand " << i << " has rank " << type.getRank()
             << ", but the equation names " << term.size() << " indices for it";
    for (auto [c, size] : llvm::zip(term, type.getShape())) {
      auto [it, inserted] = sizes.try_emplace(c, size);
      if (!inserted && it->second != size)
        return ctx.emitError() << "index '" << c << "' has sizes " << it->second
                               << " and " << size;
    }
    operands.push_back(*v);
    indices.push_back(term.str());
  }
  for (char c : output)
    if (!sizes.count(c))
      return ctx.emitError() << "output index '" << c << "' is in no operand";
  auto &b = ctx.importer.builder;
  // Sum over the indices no other operand and not the output has.
  for (auto [i, term] : llvm::enumerate(indices)) {
    SmallVector<int64_t> axes;
    std::string kept;
    for (auto [axis, c] : llvm::enumerate(term)) {
      bool elsewhere =
          output.contains(c) ||
          (indices.size() == 2 && StringRef(indices[1 - i]).contains(c));
      if (elsewhere)
        kept += c;
      else
        axes.push_back(axis);
    }
    if (axes.empty())
      continue;
    auto sum = build<ReduceSumOp>(
        ctx, operands[i],
        {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
         b.getNamedAttr("keepdims", b.getBoolAttr(false))});
    if (failed(sum))
      return failure();
    operands[i] = *sum;
    term = kept;
  }
  FailureOr<Value> result = operands[0];
  std::string order = indices[0];
  if (operands.size() == 2) {
    StringRef lhs = indices[0], rhs = indices[1];
    std::string batch, m, k, n;
    for (char c : lhs)
      (rhs.contains(c) ? (output.contains(c) ? batch : k) : m) += c;
    for (char c : rhs)
      if (!lhs.contains(c))
        n += c;
    // A group with a dynamic index is dynamic (the reshapes allow one).
    auto product = [&](StringRef group) {
      int64_t p = 1;
      for (char c : group)
        p = ShapedType::isDynamic(sizes[c]) || ShapedType::isDynamic(p)
                ? ShapedType::kDynamic
                : p * sizes[c];
      return p;
    };
    int64_t mSize = product(m), kSize = product(k), nSize = product(n);
    SmallVector<int64_t> batchShape;
    for (char c : batch)
      batchShape.push_back(sizes[c]);
    auto matrix = [&](Value v, StringRef from, StringRef rows, StringRef cols,
                      int64_t r, int64_t c) -> FailureOr<Value> {
      auto t = transposeIndices(ctx, v, from, (batch + rows + cols).str());
      if (failed(t))
        return failure();
      SmallVector<int64_t> shape(batchShape);
      shape.append({r, c});
      return reshapeValue(ctx, *t, shape);
    };
    auto a = matrix(operands[0], lhs, m, k, mSize, kSize);
    auto bm = matrix(operands[1], rhs, k, n, kSize, nSize);
    if (failed(a) || failed(bm))
      return failure();
    result = build<MatMulOp>(ctx, {*a, *bm});
    if (failed(result))
      return failure();
    SmallVector<int64_t> shape(batchShape);
    order = batch + m + n;
    for (char c : m + n)
      shape.push_back(sizes[c]);
    result = reshapeValue(ctx, *result, shape);
  }
  if (succeeded(result))
    result = transposeIndices(ctx, *result, order, output);
  if (failed(result))
    return failure();
  ctx.importer.setResult(ctx, 0, *result);
  return success();
}

/// Resize (opset 11 and later; older models are converted to 13) with
/// constant scales or sizes, nearest, linear or cubic. Sizes give the scales as
/// result size over input size; scales give the result size as
/// floor(input size * scale), both as ONNX defines them.
static LogicalResult convertResize(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  int64_t rank = type.getRank();
  std::string mode = ctx.stringAttr("mode", "nearest");
  std::string transform =
      ctx.stringAttr("coordinate_transformation_mode", "half_pixel");
  if (transform == "tf_crop_and_resize")
    return ctx.emitError() << "coordinate_transformation_mode "
                              "tf_crop_and_resize is not supported";
  // Sizes win when both are given (an exporter may leave the other empty).
  SmallVector<float> scales;
  SmallVector<int64_t> shape;
  auto sizes = ctx.hasInput(3) ? ctx.importer.getShape(ctx, 3)
                               : FailureOr<ShapeVector>(ShapeVector());
  if (failed(sizes))
    return ctx.emitError() << "sizes '" << ctx.inputName(3)
                           << "' could not be computed at import time";
  if (!sizes->empty()) {
    if (static_cast<int64_t>(sizes->size()) != rank)
      return ctx.emitError() << "sizes has " << sizes->size()
                             << " entries for an input of rank " << rank;
    for (auto [d, e] : llvm::enumerate(*sizes)) {
      int64_t in = type.getDimSize(d);
      // A dynamic dimension (the batch) keeps its size: x.shape[0].
      if (ShapedType::isDynamic(in) && e.isSymbolic() && e.scale == 1) {
        scales.push_back(1.0f);
        shape.push_back(in);
        continue;
      }
      if (e.isSymbolic() || ShapedType::isDynamic(in))
        return ctx.emitError()
               << "dimension " << d << " is dynamic: it cannot be resized";
      if (e.constant < 1 || e.constant > kMaxElements)
        return ctx.emitError() << "sizes must be positive, got " << e.constant;
      scales.push_back(float(e.constant) / float(in));
      shape.push_back(e.constant);
    }
  } else if (ctx.hasInput(2)) {
    auto given = ctx.importer.getFloats(ctx, 2);
    if (failed(given))
      return failure();
    if (static_cast<int64_t>(given->size()) != rank)
      return ctx.emitError() << "scales has " << given->size()
                             << " entries for an input of rank " << rank;
    for (auto [in, scale] : llvm::zip(type.getShape(), *given)) {
      if (ShapedType::isDynamic(in) && scale != 1.0f)
        return ctx.emitError() << "a dynamic dimension cannot be resized";
      // In f32, as ONNX Runtime computes it (and the exporter checks it).
      double out =
          ShapedType::isDynamic(in) ? 1.0 : std::floor(float(in) * scale);
      if (!(scale > 0) || out < 1 || out > kMaxElements)
        return ctx.emitError()
               << "scale " << scale << " gives an empty or too large dimension";
      scales.push_back(scale);
      shape.push_back(ShapedType::isDynamic(in) ? in : int64_t(out));
    }
  } else {
    return ctx.emitError() << "Resize needs scales or sizes";
  }
  auto &b = ctx.importer.builder;
  return emitOp<ResizeOp>(
      ctx, *input,
      {b.getNamedAttr("scales", b.getDenseF32ArrayAttr(scales)),
       b.getNamedAttr("mode", b.getStringAttr(mode)),
       b.getNamedAttr("coordinate_transformation_mode",
                      b.getStringAttr(transform)),
       b.getNamedAttr("nearest_mode",
                      b.getStringAttr(ctx.stringAttr("nearest_mode",
                                                     "round_prefer_floor"))),
       b.getNamedAttr("cubic_coeff_a",
                      b.getF32FloatAttr(ctx.floatAttr("cubic_coeff_a", -0.75))),
       b.getNamedAttr("exclude_outside",
                      b.getBoolAttr(ctx.intAttr("exclude_outside", 0)))},
      RankedTensorType::get(shape, type.getElementType()));
}

/// Clip: constant bounds are the clip's attributes (a micro-kernel epilogue
/// takes them); a bound computed at run time is a max (min bound) or a min
/// (max bound), applied in ONNX's order, the lower bound first.
static LogicalResult convertClip(NodeContext &ctx) {
  auto &b = ctx.importer.builder;
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  bool computed = false;
  for (unsigned i = 1; i < 3; ++i)
    computed |= ctx.hasInput(i) && !ctx.importer.isConstant(ctx.inputName(i));
  Value result = *input;
  SmallVector<NamedAttribute> bounds;
  for (unsigned i = 1; i < 3; ++i) {
    if (!ctx.hasInput(i))
      continue;
    StringRef name = i == 1 ? "min" : "max";
    FailureOr<Operation *> op;
    if (!ctx.importer.isConstant(ctx.inputName(i))) {
      auto bound = ctx.importer.getFloatValue(ctx, i);
      if (failed(bound))
        return failure();
      if (typeOf(*bound).getNumElements() != 1)
        return ctx.emitError() << "clip bounds must be scalars";
      op = i == 1 ? createOp<MaxOp>(ctx, {result, *bound})
                  : createOp<MinOp>(ctx, {result, *bound});
    } else {
      auto value = ctx.importer.getFloats(ctx, i);
      if (failed(value))
        return failure();
      if (value->size() != 1)
        return ctx.emitError() << "clip bounds must be scalars";
      NamedAttribute bound =
          b.getNamedAttr(name, b.getF32FloatAttr(value->front()));
      if (!computed) {
        bounds.push_back(bound);
        continue;
      }
      op = createOp<ClipOp>(ctx, result, bound);
    }
    if (failed(op))
      return failure();
    result = (*op)->getResult(0);
  }
  if (computed) {
    ctx.importer.setResult(ctx, 0, result);
    return success();
  }
  return emitOp<ClipOp>(ctx, *input, bounds);
}

/// Softmax, or LogSoftmax with `log`.
template <bool log> static LogicalResult convertSoftmax(NodeContext &ctx) {
  auto input = ctx.importer.getFloatValue(ctx, 0);
  if (failed(input))
    return failure();
  int64_t rank = typeOf(*input).getRank();
  auto axis = normalizeAxis(ctx, ctx.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  auto &b = ctx.importer.builder;
  return emitOp<SoftmaxOp>(ctx, *input,
                           {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)),
                            b.getNamedAttr("log", b.getBoolAttr(log))});
}

static LogicalResult convertFlatten(NodeContext &ctx) {
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  int64_t rank = typeOf(*input).getRank();
  int64_t axis = ctx.intAttr("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.emitError() << "axis " << axis << " is out of range";
  auto &b = ctx.importer.builder;
  return emitOp<FlattenOp>(
      ctx, *input,
      b.getNamedAttr("axis", b.getI64IntegerAttr(axis < 0 ? axis + rank
                                                          : axis)));
}

/// Creates a reshape of `input` to `shape` (ONNX semantics: 0 copies the
/// input dim, -1 is inferred, symbolic entries are dynamic dims).
static LogicalResult reshapeTo(NodeContext &ctx, Value input,
                               const ShapeVector &shape, bool allowZero) {
  auto inType = typeOf(input);
  SmallVector<int64_t> dims;
  int64_t inferred = -1;
  for (auto [i, e] : llvm::enumerate(shape)) {
    if (e.isSymbolic()) {
      // A dynamic dim of the input carried over, as `x.size(0)` gives, or a
      // multiple of one.
      dims.push_back(ShapedType::kDynamic);
    } else if (e.constant == 0 && !allowZero) {
      if (i >= static_cast<size_t>(inType.getRank()))
        return ctx.emitError() << "shape entry 0 at " << i
                               << " has no input dim to copy";
      dims.push_back(inType.getDimSize(i));
    } else if (e.constant == -1) {
      if (inferred != -1)
        return ctx.emitError() << "shape has more than one -1";
      inferred = i;
      dims.push_back(ShapedType::kDynamic);
    } else if (e.constant < 0) {
      return ctx.emitError() << "invalid shape entry " << e.constant;
    } else {
      dims.push_back(e.constant);
    }
  }
  // Resolve -1 when the dynamic dims on both sides are the same ones.
  if (inferred != -1) {
    auto staticProduct = [](ArrayRef<int64_t> d, int64_t skip) {
      int64_t p = 1;
      for (auto [i, v] : llvm::enumerate(d))
        if (static_cast<int64_t>(i) != skip && !ShapedType::isDynamic(v))
          p *= v;
      return p;
    };
    int64_t inDynamic = llvm::count_if(inType.getShape(), ShapedType::isDynamic);
    int64_t outDynamic =
        llvm::count_if(dims, ShapedType::isDynamic) - 1; // minus the -1
    if (inDynamic == outDynamic) {
      int64_t rest = staticProduct(dims, inferred);
      int64_t total = staticProduct(inType.getShape(), -1);
      if (rest == 0 || total % rest != 0)
        return ctx.emitError() << "cannot reshape " << inType << " into "
                               << "the requested shape";
      dims[inferred] = total / rest;
    }
  }
  FailureOr<Operation *> op = createOp<ReshapeOp>(
      ctx, input, {}, RankedTensorType::get(dims, inType.getElementType()));
  if (failed(op))
    return failure();
  Value result = (*op)->getResult(0);
  ctx.importer.setResult(ctx, 0, result);
  // Its dynamic dims are what the shape said (x.size(0) // windows reads
  // back the batch times the windows that a reshape made).
  for (auto [i, e] : llvm::enumerate(shape))
    if (e.isSymbolic())
      ctx.importer.setDynamicDim(result, i, e);
  return success();
}

static LogicalResult convertReshape(NodeContext &ctx) {
  // An integer tensor known at import time stays one: only its dims change.
  if (ctx.importer.isShapeLike(ctx.inputName(0))) {
    auto tensor = ctx.importer.getShapeTensor(ctx, 0);
    auto target = ctx.importer.getShape(ctx, 1);
    if (succeeded(tensor) && succeeded(target) &&
        llvm::none_of(*target, [](const ShapeElem &e) {
          return e.isSymbolic() || e.constant < -1;
        })) {
      SmallVector<int64_t> dims;
      int64_t known = 1, inferred = -1;
      bool allowZero = ctx.intAttr("allowzero", 0) != 0;
      for (auto [d, e] : llvm::enumerate(*target)) {
        int64_t n = e.constant;
        if (n == 0 && !allowZero) {
          if (d >= tensor->dims.size())
            return ctx.emitError() << "shape entry " << d
                                   << " copies a dimension the input lacks";
          n = tensor->dims[d];
        }
        if (n == -1) {
          if (inferred >= 0)
            return ctx.emitError() << "shape has more than one -1";
          inferred = d;
        } else if (llvm::MulOverflow(known, n, known)) {
          return ctx.emitError() << "shape has too many entries";
        }
        dims.push_back(n);
      }
      int64_t size = tensor->elems.size();
      if (inferred >= 0 && known > 0 && size % known == 0)
        dims[inferred] = size / known;
      if (llvm::any_of(dims, [](int64_t n) { return n < 0; }) ||
          (inferred < 0 && known != size))
        return ctx.emitError()
               << "cannot reshape " << size << " entries to the given shape";
      ctx.importer.setShape(ctx, {std::move(tensor->elems), dims});
      return success();
    }
  }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto shape = ctx.importer.getShape(ctx, 1);
  if (failed(shape)) {
    // Fall back on ONNX's data propagation when it knows the result.
    RankedTensorType type =
        ctx.importer.getInferredType(ctx.node.output(0));
    if (!type)
      return ctx.emitError() << "the target shape '" << ctx.inputName(1)
                             << "' could not be computed at import time";
    return emitOp<ReshapeOp>(ctx, *input, {}, type);
  }
  return reshapeTo(ctx, *input, *shape, ctx.intAttr("allowzero", 0) != 0);
}

static LogicalResult convertTranspose(NodeContext &ctx) {
  if (ctx.importer.isShapeLike(ctx.inputName(0))) {
    auto tensor = ctx.importer.getShapeTensor(ctx, 0);
    if (failed(tensor))
      return failure();
    int64_t rank = tensor->dims.size();
    SmallVector<int64_t> perm = ctx.intsAttr("perm").value_or(
        llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
    SmallVector<int64_t> sorted(perm);
    llvm::sort(sorted);
    if (sorted != llvm::to_vector(llvm::seq<int64_t>(0, rank)))
      return ctx.emitError()
             << "perm is not a permutation of " << rank << " dimensions";
    SmallVector<int64_t> dims;
    for (int64_t p : perm)
      dims.push_back(tensor->dims[p]);
    ShapeVector result = moveEntries(
        *tensor, dims, [&](size_t d, int64_t i, ArrayRef<int64_t> strides) {
          return i * strides[perm[d]];
        });
    ctx.importer.setShape(ctx, {result, dims});
    return success();
  }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  int64_t rank = typeOf(*input).getRank();
  SmallVector<int64_t> perm = ctx.intsAttr("perm").value_or(
      llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
  auto &b = ctx.importer.builder;
  return emitOp<TransposeOp>(
      ctx, *input, b.getNamedAttr("perm", b.getDenseI64ArrayAttr(perm)));
}

/// Concat of computed shapes stays a shape; otherwise a shears.concat.
static LogicalResult convertConcat(NodeContext &ctx) {
  SmallVector<ShapeTensor> parts;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto part = ctx.importer.getShapeTensor(ctx, i);
    if (failed(part))
      break;
    parts.push_back(std::move(*part));
  }
  if (!parts.empty() && parts.size() == ctx.numInputs()) {
    // Joined along `axis`: each part contributes `outer` runs of its
    // dims[axis] * inner entries.
    int64_t rank = parts.front().dims.size();
    auto axis = normalizeAxis(ctx, ctx.intAttr("axis", 0), rank);
    if (failed(axis))
      return failure();
    SmallVector<int64_t> dims = parts.front().dims;
    dims[*axis] = 0;
    for (const ShapeTensor &part : parts) {
      SmallVector<int64_t> expected(dims);
      expected[*axis] = part.dims.size() == dims.size() ? part.dims[*axis] : 0;
      if (part.dims != expected)
        return ctx.emitError() << "Concat inputs differ in shape off the axis";
      dims[*axis] += part.dims[*axis];
    }
    int64_t outer = 1;
    for (int64_t d = 0; d < *axis; ++d)
      outer *= dims[d];
    ShapeVector joined;
    for (int64_t o = 0; o < outer; ++o)
      for (const ShapeTensor &part : parts) {
        int64_t run = part.elems.size() / std::max<int64_t>(outer, 1);
        joined.append(part.elems.begin() + o * run,
                      part.elems.begin() + (o + 1) * run);
      }
    ctx.importer.setShape(ctx, {joined, dims});
    return success();
  }
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto v = ctx.importer.getValue(ctx, i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  auto axis = normalizeAxis(ctx, ctx.intAttr("axis", 0),
                            typeOf(inputs.front()).getRank());
  if (failed(axis))
    return failure();
  auto &b = ctx.importer.builder;
  return emitOp<ConcatOp>(ctx, inputs,
                          b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)));
}

static LogicalResult convertShape(NodeContext &ctx) {
  // The shape of an integer tensor known at import time is its dims.
  if (ctx.importer.isShapeLike(ctx.inputName(0)) && !ctx.attr("start") &&
      !ctx.attr("end")) {
    if (auto tensor = ctx.importer.getShapeTensor(ctx, 0); succeeded(tensor)) {
      ctx.importer.setShape(
          ctx, llvm::map_to_vector(tensor->dims,
                                   [](int64_t n) { return ShapeElem{n}; }));
      return success();
    }
  }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  int64_t rank = type.getRank();
  int64_t start = ctx.intAttr("start", 0), end = ctx.intAttr("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  ShapeVector shape;
  for (int64_t d = start; d < end; ++d) {
    if (type.isDynamicDim(d))
      shape.push_back(ctx.importer.getDynamicDim(*input, d));
    else
      shape.push_back({type.getDimSize(d)});
  }
  ctx.importer.setShape(ctx, shape);
  return success();
}

/// Size: the element count, known at import time where the shape has at most
/// one dynamic dimension (then it is that dimension times the rest).
static LogicalResult convertSize(NodeContext &ctx) {
  if (ctx.importer.isShapeLike(ctx.inputName(0)))
    if (auto vector = ctx.importer.getShape(ctx, 0); succeeded(vector)) {
      ctx.importer.setShape(ctx,
                            {ShapeElem{static_cast<int64_t>(vector->size())}},
                            /*scalar=*/true);
      return success();
    }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  int64_t product = 1, dynamicDim = -1;
  for (auto [d, extent] : llvm::enumerate(type.getShape())) {
    if (!ShapedType::isDynamic(extent)) {
      product *= extent; // the importer bounds every static element count
      continue;
    }
    if (dynamicDim >= 0)
      return ctx.emitError()
             << "Size of " << type
             << " is not supported: more than one dynamic dimension";
    dynamicDim = d;
  }
  ctx.importer.setShape(ctx,
                        {dynamicDim < 0
                             ? ShapeElem{product}
                             : ShapeElem{0, *input, dynamicDim, product}},
                        /*scalar=*/true);
  return success();
}

/// Gather on a computed shape (x.size(i)) is evaluated; anything else is a
/// shears.gather.
static LogicalResult convertGather(NodeContext &ctx) {
  if (auto shape = ctx.importer.getShapeTensor(ctx, 0);
      succeeded(shape) && shape->dims.size() == 1) {
    auto indices = ctx.importer.getInts(ctx, 1);
    if (failed(indices))
      return failure();
    ShapeVector result;
    for (int64_t i : *indices) {
      int64_t size = shape->elems.size();
      if (i < -size || i >= size)
        return ctx.emitError() << "index " << i << " is out of range";
      result.push_back(shape->elems[i < 0 ? i + size : i]);
    }
    ctx.importer.setShape(
        ctx,
        {result, ctx.importer.getShapeDims(ctx.inputName(1), indices->size())});
    return success();
  }
  auto data = ctx.importer.getValue(ctx, 0);
  auto indices = ctx.importer.getValue(ctx, 1);
  if (failed(data) || failed(indices))
    return failure();
  auto axis = normalizeAxis(ctx, ctx.intAttr("axis", 0),
                            typeOf(*data).getRank());
  if (failed(axis))
    return failure();
  auto &b = ctx.importer.builder;
  return emitOp<GatherOp>(ctx, {*data, *indices},
                          b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)));
}

/// The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input since.
static FailureOr<SmallVector<int64_t>> squeezeAxes(NodeContext &ctx) {
  if (ctx.opset >= 13) {
    if (!ctx.hasInput(1))
      return SmallVector<int64_t>{};
    return ctx.importer.getInts(ctx, 1);
  }
  return ctx.intsAttr("axes").value_or(SmallVector<int64_t>{});
}

static LogicalResult convertUnsqueeze(NodeContext &ctx) {
  auto axes = squeezeAxes(ctx);
  if (failed(axes))
    return failure();
  if (auto shape = ctx.importer.getShapeTensor(ctx, 0); succeeded(shape)) {
    int64_t rank = shape->dims.size() + axes->size();
    auto normalized = normalizeAxes(ctx, *axes, rank);
    if (failed(normalized))
      return failure();
    SmallVector<int64_t> dims(rank, 1);
    for (int64_t d = 0, src = 0; d < rank; ++d)
      if (!llvm::is_contained(*normalized, d))
        dims[d] = shape->dims[src++];
    ctx.importer.setShape(ctx, {std::move(shape->elems), dims});
    return success();
  }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  int64_t rank = type.getRank() + axes->size();
  // A repeated axis would leave fewer new dimensions than axes, and the walk
  // below would read past the input's.
  auto normalized = normalizeAxes(ctx, *axes, rank);
  if (failed(normalized))
    return failure();
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : *normalized)
    inserted[axis] = true;
  ShapeVector shape;
  int64_t src = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (inserted[d])
      shape.push_back({1});
    else if (type.isDynamicDim(src))
      shape.push_back({0, *input, src++});
    else
      shape.push_back({type.getDimSize(src++)});
  }
  return reshapeTo(ctx, *input, shape, /*allowZero=*/true);
}

static LogicalResult convertSqueeze(NodeContext &ctx) {
  auto axes = squeezeAxes(ctx);
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(axes) || failed(input))
    return failure();
  auto type = typeOf(*input);
  SmallVector<bool> removed(type.getRank(), false);
  for (int64_t a : *axes) {
    auto axis = normalizeAxis(ctx, a, type.getRank());
    if (failed(axis))
      return failure();
    if (type.getDimSize(*axis) != 1)
      return ctx.emitError() << "cannot squeeze dimension " << *axis
                             << " of size " << type.getDimSize(*axis);
    removed[*axis] = true;
  }
  ShapeVector shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (axes->empty() ? type.getDimSize(d) == 1 : removed[d])
      continue;
    if (type.isDynamicDim(d))
      shape.push_back({0, *input, d});
    else
      shape.push_back({type.getDimSize(d)});
  }
  return reshapeTo(ctx, *input, shape, /*allowZero=*/true);
}

/// ONNX Slice's first index and count along a dimension of `size` for
/// `start`, `end` and a nonzero `step`, negative ones counted from the end
/// and clamped as the operator defines.
static std::pair<int64_t, int64_t> sliceRange(int64_t start, int64_t end,
                                              int64_t step, int64_t size) {
  start = start < 0 ? start + size : start;
  end = end < 0 ? end + size : end;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
    return {start, end > start ? (end - start - 1) / step + 1 : 0};
  }
  if (size == 0)
    return {0, 0};
  start = std::clamp<int64_t>(start, 0, size - 1);
  end = std::clamp<int64_t>(end, -1, size - 1);
  uint64_t stride = uint64_t(0) - uint64_t(step); // -step, INT64_MIN too
  return {start,
          start > end ? int64_t(uint64_t(start - end - 1) / stride) + 1 : 0};
}

static LogicalResult convertSlice(NodeContext &ctx) {
  auto starts = ctx.importer.getInts(ctx, 1);
  auto ends = ctx.importer.getInts(ctx, 2);
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> axes, steps;
  if (ctx.hasInput(3)) {
    auto a = ctx.importer.getInts(ctx, 3);
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    axes = llvm::to_vector(llvm::seq<int64_t>(0, starts->size()));
  }
  if (ctx.hasInput(4)) {
    auto s = ctx.importer.getInts(ctx, 4);
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return ctx.emitError() << "starts, ends, axes and steps differ in length";

  // A slice of an integer tensor known at import time (x.flatten(2) exports
  // Shape -> Slice -> Concat -> Reshape; F.pad reverses its pads with a
  // step of -1) is taken at import time.
  if (auto tensor = ctx.importer.getShapeTensor(ctx, 0); succeeded(tensor)) {
    int64_t rank = tensor->dims.size();
    SmallVector<int64_t> first(rank, 0), stride(rank, 1), dims(tensor->dims);
    for (size_t i = 0; i < axes.size(); ++i) {
      auto axis = normalizeAxis(ctx, axes[i], rank);
      if (failed(axis))
        return failure();
      if (steps[i] == 0)
        return ctx.emitError() << "slice step must not be 0";
      std::tie(first[*axis], dims[*axis]) =
          sliceRange((*starts)[i], (*ends)[i], steps[i], dims[*axis]);
      stride[*axis] = steps[i];
    }
    ShapeVector result = moveEntries(
        *tensor, dims, [&](size_t d, int64_t i, ArrayRef<int64_t> strides) {
          return (first[d] + i * stride[d]) * strides[d];
        });
    ctx.importer.setShape(ctx, {result, dims});
    return success();
  }

  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  SmallVector<int64_t> normAxes, normStarts, normEnds, normSteps;
  // Negative steps (x.flip, x[::-1]) gather the indices they walk.
  SmallVector<std::pair<int64_t, SmallVector<int64_t>>> gathers;
  for (size_t i = 0; i < axes.size(); ++i) {
    auto axis = normalizeAxis(ctx, axes[i], type.getRank());
    if (failed(axis))
      return failure();
    if (steps[i] == 0)
      return ctx.emitError() << "slice step must not be 0";
    int64_t size = type.getDimSize(*axis);
    int64_t start = (*starts)[i], end = (*ends)[i];
    if (steps[i] < 0) {
      if (ShapedType::isDynamic(size))
        return ctx.emitError() << "a negative step along dynamic dimension "
                               << *axis << " is not supported";
      auto [first, count] = sliceRange(start, end, steps[i], size);
      SmallVector<int64_t> indices;
      for (int64_t j = 0; j < count; ++j)
        indices.push_back(first + j * steps[i]);
      gathers.push_back({*axis, std::move(indices)});
      continue;
    }
    if (ShapedType::isDynamic(size)) {
      if (start < 0 || end < 0 || start > end)
        return ctx.emitError() << "slicing dynamic dimension " << *axis
                               << " needs non-negative bounds";
      if (end != std::numeric_limits<int64_t>::max())
        return ctx.emitError() << "slicing dynamic dimension " << *axis
                               << " is not supported";
      continue;
    }
    start = std::clamp<int64_t>(start < 0 ? start + size : start, 0, size);
    end = std::clamp<int64_t>(end < 0 ? end + size : end, 0, size);
    normAxes.push_back(*axis);
    normStarts.push_back(start);
    normEnds.push_back(std::max(start, end));
    normSteps.push_back(steps[i]);
  }
  auto &b = ctx.importer.builder;
  Value result = *input;
  if (!normAxes.empty() || gathers.empty()) {
    FailureOr<Operation *> slice = createOp<SliceOp>(
        ctx, *input,
        {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(normAxes)),
         b.getNamedAttr("starts", b.getDenseI64ArrayAttr(normStarts)),
         b.getNamedAttr("ends", b.getDenseI64ArrayAttr(normEnds)),
         b.getNamedAttr("steps", b.getDenseI64ArrayAttr(normSteps))});
    if (failed(slice))
      return failure();
    result = (*slice)->getResult(0);
  }
  for (auto &[axis, indices] : gathers) {
    auto indexType =
        RankedTensorType::get({int64_t(indices.size())}, b.getI64Type());
    Value index = ConstantOp::create(
        b, ctx.loc, DenseElementsAttr::get(indexType, ArrayRef(indices)));
    FailureOr<Operation *> gather =
        createOp<GatherOp>(ctx, {result, index},
                           b.getNamedAttr("axis", b.getI64IntegerAttr(axis)));
    if (failed(gather))
      return failure();
    result = (*gather)->getResult(0);
  }
  ctx.importer.setResult(ctx, 0, result);
  return success();
}

static LogicalResult convertSplit(NodeContext &ctx) {
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  auto type = typeOf(*input);
  auto axis = normalizeAxis(ctx, ctx.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  if (ctx.opset >= 13 && ctx.hasInput(1)) {
    auto s = ctx.importer.getInts(ctx, 1);
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (auto s = ctx.intsAttr("split"); s && ctx.opset < 13) {
    sizes = *s;
  } else {
    int64_t n = ctx.node.output_size(), size = type.getDimSize(*axis);
    if (ShapedType::isDynamic(size) || size % n != 0)
      return ctx.emitError() << "cannot split dimension of size " << size
                             << " evenly into " << n;
    sizes.assign(n, size / n);
  }
  auto &b = ctx.importer.builder;
  return emitOp<SplitOp>(
      ctx, *input,
      {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)),
       b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes))});
}

static LogicalResult convertPad(NodeContext &ctx) {
  if (ctx.stringAttr("mode", "constant") != "constant")
    return ctx.emitError() << "only constant padding is supported";
  auto input = ctx.importer.getFloatValue(ctx, 0);
  auto pads = ctx.importer.getInts(ctx, 1);
  if (failed(input) || failed(pads))
    return failure();
  float value = 0.0f;
  if (ctx.hasInput(2)) {
    auto v = ctx.importer.getFloats(ctx, 2);
    if (failed(v))
      return failure();
    if (v->size() != 1)
      return ctx.emitError() << "constant_value must be a scalar";
    value = v->front();
  }
  auto &b = ctx.importer.builder;
  return emitOp<PadOp>(ctx, *input,
                       {b.getNamedAttr("pads", b.getDenseI64ArrayAttr(*pads)),
                        b.getNamedAttr("value", b.getF32FloatAttr(value))});
}

/// `input` of Cast or CastLike converted to `to`: forwarded where it already
/// has that type, a shears.cast elsewhere.
static LogicalResult convertCastTo(NodeContext &ctx, Type to) {
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  RankedTensorType type = typeOf(*input);
  if (type.getElementType() == to) {
    ctx.importer.setResult(ctx, 0, *input);
    return success();
  }
  for (Type t : {type.getElementType(), to})
    if (t.isUnsignedInteger())
      return ctx.emitError() << "casts from or to the unsigned " << t
                             << " are not supported (floats, signed integers "
                                "and bool are)";
  return emitOp<CastOp>(ctx, *input, {},
                        RankedTensorType::get(type.getShape(), to));
}

/// Cast: a computed shape cast to an integer type stays known at import
/// (x.shape arithmetic); anything else goes through convertCastTo.
static LogicalResult convertCast(NodeContext &ctx) {
  int64_t to = ctx.intAttr("to", 0);
  if (to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32)
    if (auto shape = ctx.importer.getShapeTensor(ctx, 0); succeeded(shape)) {
      ctx.importer.setShape(ctx, std::move(*shape));
      return success();
    }
  auto type = ctx.importer.convertElementType(to, ctx.loc, "attribute 'to'");
  if (failed(type))
    return failure();
  return convertCastTo(ctx, *type);
}

static LogicalResult convertCastLike(NodeContext &ctx) {
  auto like = ctx.importer.getValue(ctx, 1);
  if (failed(like))
    return failure();
  return convertCastTo(ctx, typeOf(*like).getElementType());
}

/// QuantizeLinear and DequantizeLinear (opset 13): a scalar scale and zero
/// point, or 1-D ones along `axis`. The zero point defaults to 0 of ui8.
template <typename OpTy>
static LogicalResult convertQuantization(NodeContext &ctx) {
  auto &b = ctx.importer.builder;
  auto input = ctx.importer.getValue(ctx, 0);
  auto scale = ctx.importer.getValue(ctx, 1);
  if (failed(input) || failed(scale))
    return failure();
  auto scaleType = typeOf(*scale);
  if (!scaleType.getElementType().isF32() || !scaleType.hasStaticShape())
    return ctx.emitError() << "scale '" << ctx.inputName(1)
                           << "' must be f32 of a static shape, got "
                           << scaleType;
  Value zeroPoint;
  if (ctx.hasInput(2)) {
    auto v = ctx.importer.getValue(ctx, 2);
    if (failed(v))
      return failure();
    zeroPoint = *v;
  } else {
    // 0 of the quantized type: a dequantize's input's, else u8.
    Type element = std::is_same_v<OpTy, DequantizeOp>
                       ? typeOf(*input).getElementType()
                       : b.getIntegerType(8, /*isSigned=*/false);
    auto type = RankedTensorType::get(scaleType.getShape(), element);
    SmallVector<char> zeros(type.getNumElements(), 0);
    zeroPoint = ctx.importer.createConstant(
        type, zeros, ctx.node.name() + "_zero_point");
  }
  SmallVector<NamedAttribute> attrs;
  if (scaleType.getRank() == 1) {
    auto axis = normalizeAxis(ctx, ctx.intAttr("axis", 1),
                              typeOf(*input).getRank());
    if (failed(axis))
      return failure();
    attrs.push_back(b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)));
  }
  Type element = std::is_same_v<OpTy, QuantizeOp>
                     ? typeOf(zeroPoint).getElementType()
                     : b.getF32Type();
  auto type = RankedTensorType::get(typeOf(*input).getShape(), element);
  return emitOp<OpTy>(ctx, {*input, *scale, zeroPoint}, attrs, {type});
}

/// Identity and Dropout (inference) forward their input.
static LogicalResult convertForward(NodeContext &ctx) {
  if (auto shape = ctx.importer.getShapeTensor(ctx, 0); succeeded(shape)) {
    ctx.importer.setShape(ctx, std::move(*shape));
    return success();
  }
  auto input = ctx.importer.getValue(ctx, 0);
  if (failed(input))
    return failure();
  if (ctx.node.op_type() == "Dropout") {
    // Inference drops nothing: its mask keeps everything.
    if (ctx.node.output_size() > 1 && ctx.importer.isUsed(ctx.node.output(1))) {
      auto type = typeOf(*input);
      if (!type.hasStaticShape())
        return ctx.emitError() << "the mask output of Dropout needs a static "
                                  "input shape, got "
                               << type;
      auto &b = ctx.importer.builder;
      auto maskType = RankedTensorType::get(type.getShape(), b.getI1Type());
      ctx.importer.setResult(
          ctx, 1,
          ConstantOp::create(b, ctx.loc,
                             DenseElementsAttr::get(maskType, true)));
    }
    // A training_mode input must be constant false, or the ratio constant
    // 0 (torchvision's swin_t exports its attention dropout, p = 0, in
    // training mode): either way nothing is dropped.
    if (ctx.hasInput(2)) {
      auto training = ctx.importer.getShape(ctx, 2);
      bool inference = succeeded(training) &&
                       llvm::all_of(*training, [](const ShapeElem &e) {
                         return !e.isSymbolic() && e.constant == 0;
                       });
      if (!inference && ctx.hasInput(1)) {
        auto ratio = ctx.importer.getFloats(ctx, 1);
        inference = succeeded(ratio) &&
                    llvm::all_of(*ratio, [](float r) { return r == 0; });
      }
      if (!inference)
        return ctx.emitError() << "training_mode '" << ctx.inputName(2)
                               << "' must be a constant false, or the ratio "
                                  "a constant 0: training-mode Dropout is not "
                                  "supported";
    }
  }
  ctx.importer.setResult(ctx, 0, *input);
  return success();
}

static const llvm::StringMap<Converter> &converters() {
  static const llvm::StringMap<Converter> table = {
      {"Conv", convertConv},
      {"ConvTranspose", convertConvTranspose},
      {"Gemm", convertGemmOrMatMul},
      {"MatMul", convertGemmOrMatMul},
      {"BatchNormalization", convertBatchNorm},
      {"LayerNormalization", convertLayerNorm},
#define SHEARS_ELEMENTWISE_OP(Op, OnnxOp) {OnnxOp, convertElementwise<Op>},
#include "ElementwiseOps.def"
      {"Sum", convertElementwise<AddOp>}, // variadic: added left to right
      {"Mod", convertMod},
      {"Mean", convertMean},
      {"ConstantOfShape", convertConstantOfShape},
      {"Expand", convertExpand},
      {"Tile", convertTile},
      {"Range", convertRange},
      {"Einsum", convertEinsum},
      {"Resize", convertResize},
      // Opset 9 and older only: the version converter makes it a Resize.
      {"Upsample", convertResize},
      {"Clip", convertClip},
      {"ReduceSum", convertReduce<ReduceSumOp>},
      {"ReduceMean", convertReduce<ReduceMeanOp>},
      {"ReduceMax", convertReduce<ReduceMaxOp>},
      {"ReduceMin", convertReduce<ReduceMinOp>},
      {"ReduceL2", convertReduce<ReduceL2Op>},
      {"ReduceProd", convertReduce<ReduceProdOp>},
      {"ArgMax", convertArgReduce<ArgMaxOp>},
      {"ArgMin", convertArgReduce<ArgMinOp>},
      {"ReduceL1", convertComposedReduce<ComposedReduction::L1>},
      {"ReduceSumSquare", convertComposedReduce<ComposedReduction::SumSquare>},
      {"ReduceLogSum", convertComposedReduce<ComposedReduction::LogSum>},
      {"ReduceLogSumExp", convertComposedReduce<ComposedReduction::LogSumExp>},
      {"Softmax", convertSoftmax</*log=*/false>},
      {"LogSoftmax", convertSoftmax</*log=*/true>},
      {"MaxPool", convertPool<MaxPoolOp>},
      {"AveragePool", convertPool<AvgPoolOp>},
      {"GlobalAveragePool", convertUnary<GlobalAvgPoolOp>},
      {"Reshape", convertReshape},
      {"Flatten", convertFlatten},
      {"Transpose", convertTranspose},
      {"Concat", convertConcat},
      {"ScatterND", convertScatterND},
      {"Slice", convertSlice},
      {"Trilu", convertTrilu},
      {"Split", convertSplit},
      {"Pad", convertPad},
      {"Gather", convertGather},
      {"Shape", convertShape},
      {"Unsqueeze", convertUnsqueeze},
      {"Squeeze", convertSqueeze},
      {"Size", convertSize},
      {"Cast", convertCast},
      {"CastLike", convertCastLike},
      {"QuantizeLinear", convertQuantization<QuantizeOp>},
      {"DequantizeLinear", convertQuantization<DequantizeOp>},
      {"DynamicQuantizeLinear", convertUnary<DynamicQuantizeOp>},
      {"Identity", convertForward},
      {"Dropout", convertForward},
  };
  return table;
}

SmallVector<StringRef> mlir::shears::getSupportedONNXOps() {
  SmallVector<StringRef> ops = {"Constant"};
  for (const auto &entry : converters())
    ops.push_back(entry.getKey());
  llvm::sort(ops);
  return ops;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

/// An exception's message from ONNX's library without what is internal to
/// it: the source location and assertion text of its checks, and the
/// "[ShapeInferenceError]"-style tags.
static std::string onnxMessage(const std::exception &e) {
  StringRef what = StringRef(e.what()).trim();
  if (size_t at = what.find("` failed: "); at != StringRef::npos)
    what = what.drop_front(at + strlen("` failed: "));
  what.consume_front("Warning: ");
  std::string message = what.str();
  llvm::Regex tag("\\[[A-Za-z]+Error\\] ");
  while (tag.match(message))
    message = tag.sub("", message);
  return message;
}

/// A node's name, or for an unnamed node its op type and index.
static std::string nodeName(const onnx::NodeProto &node, int index) {
  return node.name().empty() ? node.op_type() + "_" + std::to_string(index)
                             : node.name();
}

Location Importer::nodeLoc(const onnx::NodeProto &node, int index) {
  return NameLoc::get(builder.getStringAttr(nodeName(node, index)), fileLoc);
}

LogicalResult Importer::densify(const onnx::SparseTensorProto &sparse,
                                onnx::TensorProto &dense, Location loc,
                                uint64_t &budget) {
  const onnx::TensorProto &values = sparse.values();
  const onnx::TensorProto &indices = sparse.indices();
  auto fail = [&]() {
    return emitError(loc) << "sparse tensor '" << printable(values.name())
                          << "': ";
  };
  dense.set_name(values.name());
  dense.set_data_type(values.data_type());
  dense.mutable_dims()->CopyFrom(sparse.dims());
  FailureOr<int64_t> count = checkedElementCount(dense, loc);
  if (failed(count))
    return failure();
  if (*count > kMaxElements)
    return fail() << "has " << *count << " elements, more than the "
                  << kMaxElements << " a tensor may have",
           failure();
  if (values.dims_size() != 1)
    return fail() << "its values must be 1-D, got " << values.dims_size()
                  << " dims",
           failure();
  int64_t nnz = values.dims(0);
  int64_t rank = sparse.dims_size();
  if (indices.data_type() != onnx::TensorProto::INT64)
    return fail() << "its indices must be INT64, got "
                  << onnx::TensorProto::DataType_Name(
                         static_cast<onnx::TensorProto::DataType>(
                             indices.data_type())),
           failure();
  bool linear = indices.dims_size() == 1 && indices.dims(0) == nnz;
  bool coordinates = indices.dims_size() == 2 && indices.dims(0) == nnz &&
                     indices.dims(1) == rank;
  if (!linear && !coordinates)
    return fail() << "its indices must have the shape [" << nnz << "] or ["
                  << nnz << ", " << rank << "] for " << nnz
                  << " values of a rank-" << rank << " tensor",
           failure();
  uint64_t denseBytes =
      uint64_t(*count) * getElementByteWidth(values.data_type());
  if (denseBytes > budget)
    return fail() << "would take " << denseBytes
                  << " bytes dense, past the limit on sparse tensors ("
                  << budget << " bytes left)",
           failure();
  budget -= denseBytes;
  std::string valueStorage, indexStorage;
  FailureOr<ArrayRef<char>> valueBytes =
      readTensorBytes(values, loc, valueStorage);
  FailureOr<ArrayRef<char>> indexBytes =
      readTensorBytes(indices, loc, indexStorage);
  if (failed(valueBytes) || failed(indexBytes))
    return failure();

  int64_t width = getElementByteWidth(values.data_type());
  std::string raw(*count * width, '\0');
  int64_t previous = -1;
  for (int64_t i = 0; i < nnz; ++i) {
    int64_t index = 0;
    if (linear) {
      std::memcpy(&index, indexBytes->data() + i * sizeof(int64_t),
                  sizeof(int64_t));
      if (index < 0 || index >= *count)
        return fail() << "index " << index << " (value " << i
                      << ") is outside its " << *count << " elements",
               failure();
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        int64_t coordinate;
        std::memcpy(&coordinate,
                    indexBytes->data() + (i * rank + d) * sizeof(int64_t),
                    sizeof(int64_t));
        if (coordinate < 0 || coordinate >= sparse.dims(d))
          return fail() << "coordinate " << coordinate << " of dim " << d
                        << " (value " << i << ") is outside its size "
                        << sparse.dims(d),
                 failure();
        index = index * sparse.dims(d) + coordinate;
      }
    }
    if (index <= previous)
      return fail() << "its indices must ascend (ONNX's rule), but value " << i
                    << " is at element " << index << " after element "
                    << previous,
             failure();
    previous = index;
    std::memcpy(raw.data() + index * width, valueBytes->data() + i * width,
                width);
  }
  dense.set_raw_data(std::move(raw));
  return success();
}

LogicalResult Importer::densifySparseTensors(onnx::GraphProto &graph,
                                             uint64_t maxBytes) {
  uint64_t budget = maxBytes;
  for (const onnx::SparseTensorProto &sparse : graph.sparse_initializer()) {
    Location loc =
        NameLoc::get(builder.getStringAttr(sparse.values().name()), fileLoc);
    if (failed(densify(sparse, *graph.add_initializer(), loc, budget)))
      return failure();
  }
  graph.clear_sparse_initializer();
  for (int index = 0; index < graph.node_size(); ++index) {
    onnx::NodeProto &node = *graph.mutable_node(index);
    if (node.op_type() != "Constant")
      continue;
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.name() != "sparse_value" || !attr.has_sparse_tensor())
        continue;
      onnx::TensorProto dense;
      if (failed(densify(attr.sparse_tensor(), dense, nodeLoc(node, index),
                         budget)))
        return failure();
      attr.set_name("value");
      attr.set_type(onnx::AttributeProto::TENSOR);
      attr.clear_sparse_tensor();
      *attr.mutable_t() = std::move(dense);
    }
  }
  return success();
}

LogicalResult Importer::checkOpset(const onnx::ModelProto &model) {
  for (const auto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset == 0)
    return emitError(fileLoc) << "the model imports no default ONNX opset",
           failure();
  if (opset < kMinOpset || opset > kMaxOpset)
    return emitError(fileLoc) << "opset " << opset
                              << " is not supported (supported: " << kMinOpset
                              << " to " << kMaxOpset << ")",
           failure();
  return success();
}

LogicalResult Importer::checkSupported(const onnx::GraphProto &graph) {
  // One error listing every unsupported op type with all its nodes.
  llvm::MapVector<StringRef, SmallVector<std::string>> unsupported;
  for (const auto &[index, node] : llvm::enumerate(graph.node())) {
    bool known = (node.domain().empty() || node.domain() == "ai.onnx") &&
                 (converters().count(node.op_type()) ||
                  node.op_type() == "Constant");
    if (!known)
      unsupported[node.op_type()].push_back(
          node.name().empty() ? "#" + std::to_string(index) : node.name());
  }
  if (unsupported.empty())
    return success();
  auto diag = emitError(fileLoc)
              << unsupported.size() << " unsupported op type"
              << (unsupported.size() > 1 ? "s" : "") << " (opset " << opset
              << "):";
  for (auto &[type, names] : unsupported)
    diag << "\n  " << printable(type) << ": "
         << printable(llvm::join(names, ", "));
  return failure();
}

/// What ONNX's own code (the version converter, shape inference) assumes of
/// every node, checked before it runs, with the node named: the counts of
/// inputs and outputs and the attributes' types that the op's schema gives
/// (a node without outputs crashed the version converter), and the window
/// attributes that shape inference divides by (a zero stride trapped with
/// SIGFPE), and the ranks of their data and filter where the graph gives
/// them (ConvTranspose's shape inference read a rank-0 filter's dims and
/// crashed).
LogicalResult Importer::checkNodes(const onnx::GraphProto &graph) {
  // The window ops, with the inputs that are N x C x spatial data or
  // filters (at least rank 3).
  static const llvm::StringMap<SmallVector<int, 2>> windowOps = {
      {"Conv", {0, 1}},        {"ConvTranspose", {0, 1}},
      {"ConvInteger", {0, 1}}, {"QLinearConv", {0, 3}},
      {"MaxPool", {0}},        {"AveragePool", {0}},
      {"LpPool", {0}},         {"MaxUnpool", {0}}};
  // Ranks known before shape inference: typed graph inputs, initializers.
  llvm::StringMap<int64_t> ranks;
  for (const auto &input : graph.input())
    if (input.type().tensor_type().has_shape())
      ranks[input.name()] = input.type().tensor_type().shape().dim_size();
  for (const auto &tensor : graph.initializer())
    ranks[tensor.name()] = tensor.dims_size();
  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto &node = graph.node(index);
    Location loc = nodeLoc(node, index);
    auto fail = [&]() {
      return emitError(loc)
             << "node '" << printable(nodeName(node, index)) << "' ("
             << printable(node.op_type()) << ", opset " << opset << "): ";
    };
    if (const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
            node.op_type(), opset, node.domain())) {
      try {
        schema->Verify(node);
      } catch (const std::exception &e) {
        // Most of ONNX's messages start "Node (name) ", which we say better.
        StringRef what = StringRef(e.what()).trim();
        if (what.starts_with("Node (") && what.contains(") "))
          what = what.split(") ").second;
        return fail() << "does not match the op's schema: " << what.rtrim('.'),
               failure();
      }
    }
    auto window = windowOps.find(node.op_type());
    if (window == windowOps.end())
      continue;
    for (int operand : window->second) {
      if (operand >= node.input_size())
        continue;
      auto rank = ranks.find(node.input(operand));
      if (rank != ranks.end() && rank->second < 3)
        return fail() << "input '" << printable(node.input(operand))
                      << "' has rank " << rank->second
                      << ", expected at least 3 (N x C x spatial, or a "
                         "filter)",
               failure();
    }
    for (const auto &a : node.attribute()) {
      if (a.name() != "strides" && a.name() != "dilations" &&
          a.name() != "kernel_shape")
        continue;
      if (llvm::all_of(a.ints(), [](int64_t v) { return v > 0; }))
        continue;
      return fail() << a.name() << " must be positive, got ["
                    << llvm::join(llvm::map_range(a.ints(),
                                                  [](int64_t v) {
                                                    return std::to_string(v);
                                                  }),
                                  ", ")
                    << "]",
             failure();
    }
  }
  return success();
}

LogicalResult Importer::indexConstants(onnx::GraphProto &graph) {
  for (auto &tensor : *graph.mutable_initializer()) {
    Location loc = NameLoc::get(builder.getStringAttr(tensor.name()), fileLoc);
    if (failed(checkedElementCount(tensor, loc)))
      return failure();
    if (!getElementByteWidth(tensor.data_type()))
      return (void)convertElementType(tensor.data_type(), loc,
                                      "tensor '" + printable(tensor.name()) +
                                          "'"),
             failure();
    // Check sizes now, so a bad initializer is reported even if unused.
    if (tensor.data_location() != onnx::TensorProto::EXTERNAL &&
        failed(getTensorBytes(tensor, loc)))
      return failure();
    constants[tensor.name()] = &tensor;
  }
  return success();
}

LogicalResult Importer::sortNodes(const onnx::GraphProto &graph,
                                  SmallVectorImpl<int> &order) {
  if (graph.output_size() == 0)
    return emitError(fileLoc) << "the graph has no outputs", failure();
  llvm::StringSet<> available, initializers;
  for (const auto &input : graph.input())
    if (!available.insert(input.name()).second)
      return emitError(fileLoc) << "graph input '" << printable(input.name())
                                << "' is listed twice",
             failure();
  // Old exporters list initializers as inputs too, but each once.
  for (const auto &tensor : graph.initializer()) {
    if (!initializers.insert(tensor.name()).second)
      return emitError(fileLoc) << "initializer '" << printable(tensor.name())
                                << "' is listed twice",
             failure();
    available.insert(tensor.name());
  }
  llvm::StringMap<int> producer;
  for (const auto &[index, node] : llvm::enumerate(graph.node()))
    for (const auto &output : node.output()) {
      if (output.empty())
        continue;
      if (available.contains(output) ||
          !producer.try_emplace(output, index).second)
        return emitError(nodeLoc(node, index))
                   << "node '" << printable(nodeName(node, index)) << "' ("
                   << printable(node.op_type()) << ") defines '"
                   << printable(output)
                   << "', which is already defined (ONNX values are assigned "
                      "once)",
               failure();
    }
  for (const auto &node : graph.node())
    for (const auto &input : node.input())
      used.insert(input);
  for (const auto &output : graph.output())
    used.insert(output.name());
  for (const auto &output : graph.output())
    if (!available.contains(output.name()) && !producer.contains(output.name()))
      return emitError(fileLoc)
                 << "graph output '" << printable(output.name())
                 << "' is neither a graph input, an initializer, nor the "
                    "output of a node",
             failure();

  int n = graph.node_size();
  SmallVector<int> pending(n, 0);
  SmallVector<SmallVector<int>> users(n);
  for (const auto &[index, node] : llvm::enumerate(graph.node())) {
    for (const auto &input : node.input()) {
      if (input.empty() || available.contains(input))
        continue;
      auto it = producer.find(input);
      if (it == producer.end())
        return emitError(nodeLoc(node, index))
                   << "node '" << printable(nodeName(node, index)) << "' ("
                   << printable(node.op_type()) << ") uses '"
                   << printable(input)
                   << "', which is neither a graph input, an initializer, "
                      "nor the output of a node",
               failure();
      ++pending[index];
      users[it->second].push_back(index);
    }
  }
  SmallVector<int> ready;
  for (int i = n - 1; i >= 0; --i)
    if (pending[i] == 0)
      ready.push_back(i);
  while (!ready.empty()) {
    int i = ready.pop_back_val();
    order.push_back(i);
    for (int user : users[i])
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if (static_cast<int>(order.size()) == n)
    return success();
  SmallVector<std::string> cycle;
  for (int i = 0; i < n; ++i)
    if (pending[i] > 0)
      cycle.push_back(graph.node(i).name().empty()
                          ? "#" + std::to_string(i)
                          : graph.node(i).name());
  return emitError(fileLoc) << "the graph has a cycle through nodes "
                            << llvm::join(cycle, ", "),
         failure();
}

FailureOr<RankedTensorType>
Importer::convertValueInfo(const onnx::ValueInfoProto &vi) {
  Location loc = NameLoc::get(builder.getStringAttr(vi.name()), fileLoc);
  if (!vi.type().has_tensor_type())
    return emitError(loc) << "graph input/output '" << printable(vi.name())
                          << "' is not a tensor",
           failure();
  const auto &tensorType = vi.type().tensor_type();
  if (!tensorType.has_shape())
    return emitError(loc) << "graph input/output '" << printable(vi.name())
                          << "' has no shape (unknown rank)",
           failure();
  auto element =
      convertElementType(tensorType.elem_type(), loc,
                         "graph input/output '" + printable(vi.name()) + "'");
  if (failed(element))
    return failure();
  SmallVector<int64_t> dims;
  for (const auto &d : tensorType.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0
                       ? d.dim_value()
                       : ShapedType::kDynamic);
  return RankedTensorType::get(dims, *element);
}

OwningOpRef<ModuleOp> Importer::import(onnx::ModelProto &model,
                                       const ImportOptions &options) {
  // Unsupported ops are reported before ONNX's version converter sees them
  // (it failed on an unknown op with a bare `unordered_map::at`).
  // Every value defined once and every use defined, no cycles: also before
  // ONNX's version converter and shape inference, which crashed on a name
  // nothing defines.
  SmallVector<int> order;
  if (failed(checkOpset(model)))
    return nullptr;
  // int4 and binary weights that the exporter bit-packed become the INT8
  // initializers they were (BitPacking.h).
  unpackLowBitWeights(*model.mutable_graph());
  if (failed(checkSupported(model.graph())) ||
      failed(checkNodes(model.graph())) ||
      failed(densifySparseTensors(*model.mutable_graph(),
                                  options.maxSparseBytes)) ||
      failed(sortNodes(model.graph(), order)))
    return nullptr;
  if (opset < kNativeOpset) {
    try {
      model = onnx::version_conversion::ConvertVersion(model, kNativeOpset);
    } catch (const std::exception &e) {
      return emitError(fileLoc)
                 << "ONNX's version converter cannot upgrade "
                    "the model from opset "
                 << opset << " to " << kNativeOpset << ": " << onnxMessage(e),
             nullptr;
    }
    opset = kNativeOpset;
    order.clear();
    if (failed(sortNodes(model.graph(), order)))
      return nullptr;
  }
  onnx::GraphProto &graph = *model.mutable_graph();
  if (failed(indexConstants(graph)))
    return nullptr;
  // Shape inference reads the inputs' types (it crashed on an untyped one);
  // intermediate types are only hints, and an untyped one is dropped.
  for (const auto &input : graph.input())
    if (!constants.count(input.name()) && failed(convertValueInfo(input)))
      return nullptr;
  auto *hints = graph.mutable_value_info();
  hints->erase(std::remove_if(hints->begin(), hints->end(),
                              [](const onnx::ValueInfoProto &vi) {
                                return !vi.type().has_tensor_type();
                              }),
               hints->end());

  // Shape inference validates the graph and gives types where our own
  // evaluation of shape subgraphs cannot (data propagation).
  try {
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions(/*check_type=*/false, /*strict_mode=*/0,
                                    /*data_prop=*/true));
  } catch (const std::exception &e) {
    return emitError(fileLoc) << "ONNX's shape inference rejects the model: "
                              << onnxMessage(e),
           nullptr;
  }

  for (const auto &vi : graph.value_info())
    inferredTypes[vi.name()] = &vi;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> inputTypes;
  SmallVector<std::string> inputNames;
  for (const auto &input : graph.input()) {
    if (constants.count(input.name()))
      continue; // Old exporters list initializers as inputs too.
    auto type = convertValueInfo(input);
    if (failed(type))
      return nullptr;
    inputTypes.push_back(*type);
    inputNames.push_back(input.name());
  }
  auto func = func::FuncOp::create(builder, fileLoc, options.functionName,
                                   builder.getFunctionType(inputTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(inputNames)) {
    func.setArgAttr(i, "shears.name", builder.getStringAttr(name));
    values[name] = entry->getArgument(i);
  }
  builder.setInsertionPointToEnd(entry);
  constantBuilder.setInsertionPointToStart(entry);

  for (int index : order) {
    onnx::NodeProto &node = *graph.mutable_node(index);
    Location loc = nodeLoc(node, index);
    if (node.op_type() == "Constant") {
      auto value = llvm::find_if(node.attribute(), [](const auto &a) {
        return a.name() == "value";
      });
      if (value == node.attribute().end() || !value->has_t() ||
          node.output_size() != 1)
        return emitError(loc) << "node '" << printable(nodeName(node, index))
                              << "' (Constant): only the tensor 'value' "
                                 "attribute is supported",
               nullptr;
      auto *tensor = node.mutable_attribute(value - node.attribute().begin())
                         ->mutable_t();
      tensor->set_name(node.output(0));
      if (failed(checkedElementCount(*tensor, loc)) ||
          failed(getTensorBytes(*tensor, loc)))
        return nullptr;
      constants[node.output(0)] = tensor;
      continue;
    }
    NodeContext ctx(*this, node, loc, opset);
    if (failed(converters().lookup(node.op_type())(ctx)))
      return nullptr;
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    Value v = values.lookup(output.name());
    if (!v) {
      if (!isConstant(output.name()))
        return emitError(fileLoc)
                   << "graph output '" << printable(output.name())
                   << "' is not produced by any node",
               nullptr;
      // Errors then read "node 'y' (graph output, ...)".
      onnx::NodeProto fake;
      fake.set_name(output.name());
      fake.set_op_type("graph output");
      fake.add_input(output.name());
      NodeContext outCtx(*this, fake, fileLoc, opset);
      auto c = getValue(outCtx, 0);
      if (failed(c))
        return nullptr;
      v = *c;
    }
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(inputTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "shears.name", builder.getStringAttr(output.name()));
  if (failed(checkTensorSizes(func)) || failed(verify(*module)))
    return nullptr;
  return module;
}

LogicalResult Importer::checkTensorSizes(func::FuncOp func) {
  int64_t totalBytes = 0;
  auto check = [&](Value value, Location loc, StringRef what) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type)
      return success();
    int64_t count = 1;
    bool overflow = false;
    for (int64_t d : type.getShape())
      if (!ShapedType::isDynamic(d))
        overflow |= __builtin_mul_overflow(count, d, &count);
    if (!overflow && count <= kMaxElements) {
      // Under kMaxElements, so neither sum overflows before it is checked.
      int64_t width = (type.getElementTypeBitWidth() + 7) / 8;
      totalBytes += count * width;
      if (totalBytes <= kMaxTotalBytes)
        return success();
      return emitError(loc)
                 << "the model's tensors add up to more than " << kMaxTotalBytes
                 << " bytes (its weights and intermediates at "
                    "batch 1) at "
                 << what,
             failure();
    }
    auto diag = emitError(loc) << what << " would have ";
    if (overflow)
      diag << "more elements than 64 bits count";
    else
      diag << count << " elements";
    diag << " (shape ";
    llvm::interleave(
        type.getShape(), diag,
        [&](int64_t d) {
          if (ShapedType::isDynamic(d))
            diag << "?";
          else
            diag << d;
        },
        "x");
    return diag << "), more than the " << kMaxElements
                << " elements a tensor may have",
           failure();
  };
  for (BlockArgument arg : func.getArguments())
    if (failed(check(arg, fileLoc,
                     "input '" +
                         getEntryValueName(func, arg.getArgNumber(), false) +
                         "'")))
      return failure();
  WalkResult walked = func.walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      std::string node = "the result of node '";
      if (auto name = dyn_cast<NameLoc>(op->getLoc()))
        node += name.getName().str();
      node += "'";
      if (failed(check(result, op->getLoc(), node)))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walked.wasInterrupted());
}

/// Parses `stream` into a model and imports it; `path` names the model in
/// diagnostics and locates external data.
static OwningOpRef<ModuleOp>
importFromStream(google::protobuf::io::ZeroCopyInputStream &input,
                 StringRef path, MLIRContext *context,
                 const ImportOptions &options) {
  context->loadDialect<ShearsDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);
  try {
    onnx::ModelProto model;
    google::protobuf::io::CodedInputStream stream(&input);
    stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
    if (!model.ParseFromCodedStream(&stream) ||
        !stream.ConsumedEntireMessage() || !model.has_graph()) {
      emitError(fileLoc) << "'" << path
                         << "' is not a valid ONNX model (truncated or not "
                            "an ONNX protobuf file)";
      return nullptr;
    }
    Importer importer(context, path);
    return importer.import(model, options);
  } catch (const std::exception &e) {
    emitError(fileLoc) << "ONNX error while importing '" << path
                       << "': " << e.what();
    return nullptr;
  }
}

OwningOpRef<ModuleOp>
mlir::shears::importONNX(std::unique_ptr<llvm::MemoryBuffer> buffer,
                         MLIRContext *context, const ImportOptions &options) {
  google::protobuf::io::ArrayInputStream input(buffer->getBufferStart(),
                                               buffer->getBufferSize());
  return importFromStream(input, buffer->getBufferIdentifier(), context,
                          options);
}

OwningOpRef<ModuleOp> mlir::shears::importONNXFile(StringRef path,
                                                   MLIRContext *context,
                                                   const ImportOptions &options) {
  // Stream from the file descriptor: the protobuf holds the only copy of the
  // weights while parsing, which keeps peak memory near the file size.
  llvm::Expected<int> fd = openRegularFile(path);
  if (!fd) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << llvm::toString(fd.takeError());
    return nullptr;
  }
  google::protobuf::io::FileInputStream input(*fd);
  input.SetCloseOnDelete(true);
  return importFromStream(input, path, context, options);
}

std::optional<shears::TensorFile>
mlir::shears::readTensorProtoFile(StringRef path, std::string &error) {
  auto buffer = readRegularFile(path);
  if (!buffer) {
    error = llvm::toString(buffer.takeError());
    return std::nullopt;
  }
  try {
    onnx::TensorProto tensor;
    if (!tensor.ParseFromArray((*buffer)->getBufferStart(),
                               (*buffer)->getBufferSize())) {
      error = "'" + path.str() + "' is not an ONNX TensorProto file";
      return std::nullopt;
    }
    static const llvm::StringMap<const char *> names = {
        {"FLOAT", "f32"}, {"DOUBLE", "f64"}, {"FLOAT16", "f16"},
        {"INT64", "i64"}, {"INT32", "i32"},  {"INT8", "i8"},
        {"UINT8", "u8"},  {"BOOL", "i1"}};
    auto dtype = names.find(onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(tensor.data_type())));
    int64_t count = 1;
    for (int64_t d : tensor.dims())
      if (d < 0 || __builtin_mul_overflow(count, d, &count))
        count = -1;
    if (dtype == names.end() || count < 0) {
      error = "'" + path.str() + "' holds an unsupported tensor type or shape";
      return std::nullopt;
    }
    TensorFile result;
    result.dtype = dtype->second;
    result.shape.assign(tensor.dims().begin(), tensor.dims().end());
    if (tensor.has_raw_data()) {
      result.bytes = tensor.raw_data();
      if (static_cast<int64_t>(result.bytes.size()) !=
          count * getElementByteWidth(tensor.data_type())) {
        error = "'" + path.str() + "' has data of the wrong size";
        return std::nullopt;
      }
    } else {
      error = decodeTypedFields(tensor, count, result.bytes);
      if (!error.empty())
        return std::nullopt;
    }
    return result;
  } catch (const std::exception &e) {
    error = "'" + path.str() + "': " + e.what();
    return std::nullopt;
  }
}
