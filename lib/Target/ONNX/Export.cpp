//===- Export.cpp - Shears dialect to ONNX export -------------------------===//
//
// Writes the entry function of a module as an ONNX ModelProto (opset 13).
// Constants become initializers when first used, every other op one or a few
// nodes. The model is checked by ONNX's own checker and strict shape
// inference before a single byte is written.
//
//===----------------------------------------------------------------------===//

#include "shears/Target/ONNX/Export.h"

#include "BitPacking.h"

#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/SwapByteOrder.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <cstring>
#include <exception>

using namespace mlir;
using namespace mlir::shears;

static constexpr int64_t kOpsetVersion = 13;
static constexpr int64_t kIRVersion = 7;

//===----------------------------------------------------------------------===//
// Types and data
//===----------------------------------------------------------------------===//

/// Returns the ONNX element type of `type`, or UNDEFINED (0) if it has none.
static int32_t getONNXElementType(Type type) {
  using T = onnx::TensorProto;
  if (type.isF16())
    return T::FLOAT16;
  if (type.isBF16())
    return T::BFLOAT16;
  if (type.isF32())
    return T::FLOAT;
  if (type.isF64())
    return T::DOUBLE;
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return T::UNDEFINED;
  bool isUnsigned = intType.isUnsigned();
  switch (intType.getWidth()) {
  case 1:
    return T::BOOL;
  case 8:
    return isUnsigned ? T::UINT8 : T::INT8;
  case 16:
    return isUnsigned ? T::UINT16 : T::INT16;
  case 32:
    return isUnsigned ? T::UINT32 : T::INT32;
  case 64:
    return isUnsigned ? T::UINT64 : T::INT64;
  default:
    return T::UNDEFINED;
  }
}

/// Bytes per element in ONNX raw_data (a bool takes one byte).
static size_t getElementBytes(Type type) {
  return (type.getIntOrFloatBitWidth() + 7) / 8;
}

/// Returns the contents of `attr` as ONNX raw_data: dense, little-endian,
/// one byte per bool. `op` receives the diagnostics.
static FailureOr<std::string> getRawData(ElementsAttr attr, Operation *op) {
  Type elementType = attr.getElementType();
  if (!getONNXElementType(elementType))
    return op->emitError("cannot export '")
           << op->getName() << "' with element type " << elementType
           << " to ONNX";
  if (llvm::sys::IsBigEndianHost)
    return op->emitError("ONNX export needs a little-endian host");
  size_t elementBytes = getElementBytes(elementType);
  size_t numElements = attr.getNumElements();
  std::string raw;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    // MLIR packs bools as bits; ONNX wants a byte each.
    if (elementType.isInteger(1)) {
      for (bool value : dense.getValues<bool>())
        raw.push_back(value);
    } else if (dense.isSplat()) {
      ArrayRef<char> element = dense.getRawData().take_front(elementBytes);
      raw.reserve(numElements * elementBytes);
      for (size_t i = 0; i < numElements; ++i)
        raw.append(element.begin(), element.end());
    } else {
      raw.assign(dense.getRawData().begin(), dense.getRawData().end());
    }
  } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return op->emitError("resource '")
             << resource.getRawHandle().getKey() << "' has no data";
    raw.assign(blob->getData().begin(), blob->getData().end());
  } else {
    return op->emitError("unsupported constant kind in ONNX export: ") << attr;
  }
  if (raw.size() != numElements * elementBytes)
    return op->emitError("constant data has ")
           << raw.size() << " bytes, expected " << numElements * elementBytes;
  return raw;
}

/// Transposes a row-major [rows, cols] matrix of `elementBytes`-byte elements.
static std::string transposeRaw(StringRef raw, int64_t rows, int64_t cols,
                                size_t elementBytes) {
  std::string result(raw.size(), '\0');
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(&result[(c * rows + r) * elementBytes],
                  &raw.data()[(r * cols + c) * elementBytes], elementBytes);
  return result;
}

template <typename T> static std::string toRaw(ArrayRef<T> values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

/// Describes `value` as the tensor `name` in `info`. Dynamic dims become the
/// symbols `N` (dim 0) and `dim_<i>` if `symbolic`, unknown dims otherwise.
/// `what` names the value in the error at `loc`.
static LogicalResult setValueInfo(onnx::ValueInfoProto *info, StringRef name,
                                  Value value, bool symbolic, Location loc,
                                  const Twine &what) {
  Type type = value.getType();
  auto tensorType = dyn_cast<RankedTensorType>(type);
  int32_t elementType =
      tensorType ? getONNXElementType(tensorType.getElementType()) : 0;
  if (!elementType)
    return emitError(loc, "cannot export ")
           << what << " of type " << type << " to ONNX";
  info->set_name(name.str());
  onnx::TypeProto_Tensor *tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elementType);
  onnx::TensorShapeProto *shape = tensor->mutable_shape();
  for (auto [i, size] : llvm::enumerate(tensorType.getShape())) {
    onnx::TensorShapeProto_Dimension *dim = shape->add_dim();
    if (!ShapedType::isDynamic(size))
      dim->set_dim_value(size);
    else if (symbolic)
      dim->set_dim_param(i == 0 ? "N" : "dim_" + std::to_string(i));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Node attributes
//===----------------------------------------------------------------------===//

static onnx::AttributeProto *addAttr(onnx::NodeProto *node, StringRef name,
                                     onnx::AttributeProto_AttributeType type) {
  onnx::AttributeProto *attr = node->add_attribute();
  attr->set_name(name.str());
  attr->set_type(type);
  return attr;
}

template <typename IntT, typename = std::enable_if_t<std::is_integral_v<IntT>>>
static void addAttr(onnx::NodeProto *node, StringRef name, IntT value) {
  addAttr(node, name, onnx::AttributeProto::INT)->set_i(value);
}

static void addAttr(onnx::NodeProto *node, StringRef name,
                    ArrayRef<int64_t> values) {
  onnx::AttributeProto *attr = addAttr(node, name, onnx::AttributeProto::INTS);
  for (int64_t value : values)
    attr->add_ints(value);
}

static void addAttr(onnx::NodeProto *node, StringRef name, float value) {
  addAttr(node, name, onnx::AttributeProto::FLOAT)->set_f(value);
}

static void addAttr(onnx::NodeProto *node, StringRef name, StringRef value) {
  addAttr(node, name, onnx::AttributeProto::STRING)->set_s(value.str());
}

//===----------------------------------------------------------------------===//
// Exporter
//===----------------------------------------------------------------------===//

namespace {

/// Hands out names unique within one ONNX namespace (tensors or nodes).
class NameSet {
public:
  /// Claims `name`; false if it was taken.
  bool reserve(StringRef name) { return used.insert(name).second; }

  /// Returns `preferred` if free, else `<base>_<n>` where base is `preferred`
  /// or, if that is empty, `fallback`.
  std::string unique(StringRef preferred, StringRef fallback = {}) {
    if (!preferred.empty() && reserve(preferred))
      return preferred.str();
    StringRef base = preferred.empty() ? fallback : preferred;
    unsigned &next = nextSuffix[base];
    std::string name;
    do
      name = (base + "_" + Twine(next++)).str();
    while (!reserve(name));
    return name;
  }

private:
  llvm::StringSet<> used;
  llvm::StringMap<unsigned> nextSuffix;
};

/// The Shears ops that are one ONNX op with the same operands and results,
/// and float attributes of the same names.
struct DirectOp {
  StringRef shearsOp, onnxOp;
};
const DirectOp kDirectOps[] = {
#define SHEARS_ELEMENTWISE_OP(Op, OnnxOp) {Op::getOperationName(), OnnxOp},
#include "ElementwiseOps.def"
    {MatMulOp::getOperationName(), "MatMul"},
    {GlobalAvgPoolOp::getOperationName(), "GlobalAveragePool"},
    {DynamicQuantizeOp::getOperationName(), "DynamicQuantizeLinear"},
};

class Exporter {
public:
  explicit Exporter(onnx::GraphProto &graph) : graph(graph) {}

  LogicalResult exportFunction(func::FuncOp func);

  /// The op whose node an ONNX checker `message` names, or null.
  Operation *lookupNodeOp(StringRef message) const {
    return nodeOps.lookup(message.split("node name: ").second.split(')').first);
  }

private:
  LogicalResult exportOp(Operation *op);
  LogicalResult exportLinearAsMatMul(LinearOp op, StringRef nodeName);

  /// The ONNX name of `value`; a constant becomes an initializer on first use.
  FailureOr<std::string> getName(Value value);
  FailureOr<SmallVector<std::string>> getNames(ValueRange values);
  /// Names the results of `op` (graph outputs keep their names) and records
  /// their types in value_info.
  FailureOr<SmallVector<std::string>> nameResults(Operation *op,
                                                  StringRef nodeName);

  onnx::NodeProto *addNode(StringRef opType, StringRef name,
                           ArrayRef<std::string> inputs,
                           ArrayRef<std::string> outputs);
  /// Adds an initializer under `name` (already unique) and returns the name.
  std::string addInitializer(std::string name, int32_t elementType,
                             ArrayRef<int64_t> shape, std::string raw);
  std::string addInt64s(StringRef base, ArrayRef<int64_t> values) {
    return addInitializer(tensorNames.unique(base), onnx::TensorProto::INT64,
                          {static_cast<int64_t>(values.size())}, toRaw(values));
  }
  /// A scalar initializer holding `value` converted to `type`.
  std::string addFloatScalar(StringRef base, Type type, APFloat value);

  onnx::GraphProto &graph;
  NameSet tensorNames, nodeNames;
  DenseMap<Value, std::string> valueNames;
  llvm::StringMap<Operation *> nodeOps;
};

} // namespace

onnx::NodeProto *Exporter::addNode(StringRef opType, StringRef name,
                                   ArrayRef<std::string> inputs,
                                   ArrayRef<std::string> outputs) {
  onnx::NodeProto *node = graph.add_node();
  node->set_op_type(opType.str());
  node->set_name(name.str());
  for (const std::string &input : inputs)
    node->add_input(input);
  for (const std::string &output : outputs)
    node->add_output(output);
  return node;
}

std::string Exporter::addInitializer(std::string name, int32_t elementType,
                                     ArrayRef<int64_t> shape, std::string raw) {
  onnx::TensorProto *tensor = graph.add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(elementType);
  for (int64_t size : shape)
    tensor->add_dims(size);
  tensor->set_raw_data(std::move(raw));
  return name;
}

std::string Exporter::addFloatScalar(StringRef base, Type type, APFloat value) {
  bool losesInfo;
  value.convert(cast<FloatType>(type).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &losesInfo);
  APInt bits = value.bitcastToAPInt();
  std::string raw(bits.getBitWidth() / 8, '\0');
  StoreIntToMemory(bits, reinterpret_cast<uint8_t *>(raw.data()), raw.size());
  return addInitializer(tensorNames.unique(base), getONNXElementType(type), {},
                        std::move(raw));
}

FailureOr<std::string> Exporter::getName(Value value) {
  auto it = valueNames.find(value);
  if (it != valueNames.end())
    return it->second;
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return emitError(value.getLoc(), "value used before it is defined");
  ElementsAttr attr = constant.getValue();
  FailureOr<std::string> raw = getRawData(attr, constant);
  if (failed(raw))
    return failure();
  StringRef preferred = getONNXName(constant.getLoc());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
      resource && preferred.empty())
    preferred = resource.getRawHandle().getKey();
  return valueNames[value] =
             addInitializer(tensorNames.unique(preferred, "const"),
                            getONNXElementType(attr.getElementType()),
                            attr.getShapedType().getShape(), std::move(*raw));
}

FailureOr<SmallVector<std::string>> Exporter::getNames(ValueRange values) {
  SmallVector<std::string> names;
  for (Value value : values) {
    FailureOr<std::string> name = getName(value);
    if (failed(name))
      return failure();
    names.push_back(std::move(*name));
  }
  return names;
}

FailureOr<SmallVector<std::string>> Exporter::nameResults(Operation *op,
                                                          StringRef nodeName) {
  SmallVector<std::string> names;
  for (OpResult result : op->getResults()) {
    auto it = valueNames.find(result);
    if (it != valueNames.end()) {
      names.push_back(it->second);
      continue;
    }
    std::string name =
        op->getNumResults() == 1
            ? tensorNames.unique(nodeName)
            : tensorNames.unique(
                  (nodeName + "_" + Twine(result.getResultNumber())).str());
    if (failed(
            setValueInfo(graph.add_value_info(), name, result,
                         /*symbolic=*/false, op->getLoc(),
                         "result of '" + op->getName().getStringRef() + "'")))
      return failure();
    names.push_back(valueNames[result] = name);
  }
  return names;
}

LogicalResult Exporter::exportFunction(func::FuncOp func) {
  if (!func.getBody().hasOneBlock())
    return emitError(func.getLoc(),
                     "ONNX export expects a function with one block");
  graph.set_name(func.getSymName().str());

  auto getAttrName = [](DictionaryAttr attrs, StringRef fallback,
                        unsigned i) -> std::string {
    if (auto name = attrs ? attrs.getAs<StringAttr>("shears.name") : nullptr)
      return name.str();
    return (fallback + "_" + Twine(i)).str();
  };

  Block &body = func.getBody().front();
  for (BlockArgument arg : body.getArguments()) {
    std::string name = getAttrName(func.getArgAttrDict(arg.getArgNumber()),
                                   "input", arg.getArgNumber());
    if (!tensorNames.reserve(name))
      return emitError(arg.getLoc(), "duplicate ONNX graph input name '")
             << name << "'";
    onnx::ValueInfoProto *input = graph.add_input();
    if (failed(setValueInfo(input, name, arg, /*symbolic=*/true, arg.getLoc(),
                            "graph input '" + name + "'")))
      return failure();
    // An input that pruning narrowed says which original features it holds.
    if (auto kept = func.getArgAttrOfType<DenseI64ArrayAttr>(
            arg.getArgNumber(), "shears.kept_features")) {
      std::string list;
      llvm::raw_string_ostream os(list);
      llvm::interleave(kept.asArrayRef(), os, ",");
      input->set_doc_string("shears.kept_features: the original indices of "
                            "the features this input holds: " +
                            list);
    }
    valueNames[arg] = name;
  }

  // Name the results of ops that become graph outputs now, so their nodes
  // write them directly; anything else returned (an argument under another
  // name, a constant, a value returned twice) goes through an Identity.
  Operation *terminator = body.getTerminator();
  SmallVector<std::pair<Value, std::string>> identities;
  llvm::StringSet<> outputNames;
  for (auto [i, value] : llvm::enumerate(terminator->getOperands())) {
    std::string name = getAttrName(func.getResultAttrDict(i), "output", i);
    if (failed(setValueInfo(graph.add_output(), name, value, /*symbolic=*/true,
                            terminator->getLoc(),
                            "graph output '" + name + "'")))
      return failure();
    // An input returned under its own name needs no node.
    auto it = valueNames.find(value);
    bool isPassThrough = it != valueNames.end() && it->second == name;
    if (!outputNames.insert(name).second ||
        (!isPassThrough && !tensorNames.reserve(name)))
      return emitError(terminator->getLoc(),
                       "duplicate ONNX graph output name '")
             << name << "'";
    if (isPassThrough)
      continue;
    if (it == valueNames.end() && isa<OpResult>(value) &&
        !value.getDefiningOp<ConstantOp>())
      valueNames[value] = name;
    else
      identities.emplace_back(value, name);
  }

  for (Operation &op : body.without_terminator()) {
    if (isa<ConstantOp>(op))
      continue;
    int firstNode = graph.node_size();
    if (failed(exportOp(&op)))
      return failure();
    for (int i = firstNode, e = graph.node_size(); i < e; ++i)
      nodeOps[graph.node(i).name()] = &op;
  }

  for (auto &[value, name] : identities) {
    FailureOr<std::string> input = getName(value);
    if (failed(input))
      return failure();
    addNode("Identity", nodeNames.unique("", "Identity"), {*input}, {name});
  }
  return success();
}

LogicalResult Exporter::exportLinearAsMatMul(LinearOp op, StringRef nodeName) {
  // MatMul wants the weight as [in, out]: transpose a constant in the
  // initializer, anything else with a node.
  std::string weight;
  Value weightValue = op.getWeight();
  if (auto constant = weightValue.getDefiningOp<ConstantOp>()) {
    FailureOr<std::string> raw = getRawData(constant.getValue(), constant);
    if (failed(raw))
      return failure();
    auto type = cast<RankedTensorType>(weightValue.getType());
    int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    StringRef base = getONNXName(constant.getLoc());
    weight = addInitializer(
        tensorNames.unique(
            (base.empty() ? nodeName + "_weight" : base + "_transposed").str()),
        getONNXElementType(type.getElementType()), {cols, rows},
        transposeRaw(*raw, rows, cols, getElementBytes(type.getElementType())));
  } else {
    FailureOr<std::string> name = getName(weightValue);
    if (failed(name))
      return failure();
    weight = tensorNames.unique((nodeName + "_weight").str());
    onnx::NodeProto *transpose =
        addNode("Transpose", nodeNames.unique((nodeName + "_transpose").str()),
                {*name}, {weight});
    addAttr(transpose, "perm", ArrayRef<int64_t>{1, 0});
  }

  FailureOr<std::string> input = getName(op.getInput());
  FailureOr<SmallVector<std::string>> outputs = nameResults(op, nodeName);
  if (failed(input) || failed(outputs))
    return failure();
  if (!op.getBias()) {
    addNode("MatMul", nodeName, {*input, weight}, *outputs);
    return success();
  }
  FailureOr<std::string> bias = getName(op.getBias());
  if (failed(bias))
    return failure();
  std::string product = tensorNames.unique((nodeName + "_matmul").str());
  addNode("MatMul", nodeName, {*input, weight}, {product});
  addNode("Add", nodeNames.unique((nodeName + "_bias").str()), {product, *bias},
          *outputs);
  return success();
}

LogicalResult Exporter::exportOp(Operation *op) {
  if (!isa_and_nonnull<ShearsDialect>(op->getDialect()))
    return op->emitError("cannot export op '") << op->getName() << "' to ONNX";
  std::string nodeName =
      nodeNames.unique(getONNXName(op->getLoc()), op->getName().stripDialect());
  auto linear = dyn_cast<LinearOp>(op);
  if (linear && linear.getInput().getType().getRank() != 2)
    return exportLinearAsMatMul(linear, nodeName);

  FailureOr<SmallVector<std::string>> inputs = getNames(op->getOperands());
  if (failed(inputs))
    return failure();
  FailureOr<SmallVector<std::string>> outputs = nameResults(op, nodeName);
  if (failed(outputs))
    return failure();
  auto add = [&](StringRef opType) {
    return addNode(opType, nodeName, *inputs, *outputs);
  };
  // Ops whose operands ONNX takes as inputs after some constant ones.
  auto addWithInputs = [&](StringRef opType, ArrayRef<std::string> extra) {
    inputs->append(extra.begin(), extra.end());
    return add(opType);
  };
  auto suffixed = [&](StringRef suffix) {
    return (Twine(nodeName) + suffix).str();
  };

  // HardSwish is opset 14; in 13 it is x * HardSigmoid(x) with alpha 1/6.
  if (isa<HardSwishOp>(op)) {
    std::string gate = tensorNames.unique(suffixed("_gate"));
    onnx::NodeProto *node = addNode(
        "HardSigmoid", nodeNames.unique(suffixed("_gate")), *inputs, {gate});
    addAttr(node, "alpha", 1.0f / 6);
    addAttr(node, "beta", 0.5f);
    addNode("Mul", nodeName, {inputs->front(), gate}, *outputs);
    return success();
  }
  for (const DirectOp &direct : kDirectOps) {
    if (op->getName().getStringRef() == direct.shearsOp) {
      onnx::NodeProto *node = add(direct.onnxOp);
      for (NamedAttribute attr : op->getAttrs())
        if (auto value = dyn_cast<FloatAttr>(attr.getValue()))
          addAttr(node, attr.getName(), value.getValue().convertToFloat());
      return success();
    }
  }

  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](LinearOp) {
        addAttr(add("Gemm"), "transB", 1);
        return success();
      })
      .Case([&](Conv2DOp conv) {
        onnx::NodeProto *node = add("Conv");
        auto weightType = conv.getWeight().getType();
        if (weightType.hasStaticShape())
          addAttr(node, "kernel_shape", weightType.getShape().drop_front(2));
        addAttr(node, "strides", conv.getStrides());
        addAttr(node, "pads", conv.getPads());
        addAttr(node, "dilations", conv.getDilations());
        addAttr(node, "group", conv.getGroups());
        return success();
      })
      .Case([&](ConvTransposeOp conv) -> LogicalResult {
        // A negative end pad is output_padding; a negative begin pad has
        // no ONNX form.
        ArrayRef<int64_t> pads = conv.getPads();
        if (pads[0] < 0 || pads[1] < 0)
          return conv.emitOpError("cannot be exported: ONNX has no negative "
                                  "begin pads");
        SmallVector<int64_t> kept(pads), outputPadding(2, 0);
        for (int64_t i = 0; i < 2; ++i) {
          outputPadding[i] = std::max<int64_t>(0, -pads[i + 2]);
          kept[i + 2] += outputPadding[i];
        }
        onnx::NodeProto *node = add("ConvTranspose");
        addAttr(node, "kernel_shape",
                conv.getWeight().getType().getShape().drop_front(2));
        addAttr(node, "strides", conv.getStrides());
        addAttr(node, "pads", ArrayRef<int64_t>(kept));
        addAttr(node, "dilations", conv.getDilations());
        addAttr(node, "group", conv.getGroups());
        if (llvm::any_of(outputPadding, [](int64_t p) { return p != 0; }))
          addAttr(node, "output_padding", ArrayRef<int64_t>(outputPadding));
        return success();
      })
      .Case([&](QuantizeOp quantize) {
        onnx::NodeProto *node = add("QuantizeLinear");
        if (std::optional<int64_t> axis = quantize.getAxis())
          addAttr(node, "axis", *axis);
        return success();
      })
      .Case([&](DequantizeOp dequantize) {
        onnx::NodeProto *node = add("DequantizeLinear");
        if (std::optional<int64_t> axis = dequantize.getAxis())
          addAttr(node, "axis", *axis);
        return success();
      })
      .Case<ArgMaxOp, ArgMinOp>([&](auto arg) {
        onnx::NodeProto *node = add(isa<ArgMaxOp>(op) ? "ArgMax" : "ArgMin");
        addAttr(node, "axis", arg.getAxis());
        addAttr(node, "keepdims", int64_t(arg.getKeepdims()));
        addAttr(node, "select_last_index", int64_t(arg.getSelectLastIndex()));
        return success();
      })
      .Case([&](FModOp) {
        addAttr(add("Mod"), "fmod", int64_t(1));
        return success();
      })
      .Case([&](CastOp cast) {
        addAttr(add("Cast"), "to",
                getONNXElementType(cast.getType().getElementType()));
        return success();
      })
      .Case([&](BatchNormOp bn) {
        addAttr(add("BatchNormalization"), "epsilon",
                bn.getEpsilon().convertToFloat());
        return success();
      })
      .Case([&](ClipOp clip) {
        // Opset 13 takes the bounds as inputs; "" skips a missing one.
        Type type = clip.getType().getElementType();
        SmallVector<std::string> bounds(2);
        if (FloatAttr min = clip.getMinAttr())
          bounds[0] = addFloatScalar(suffixed("_min"), type, min.getValue());
        if (FloatAttr max = clip.getMaxAttr())
          bounds[1] = addFloatScalar(suffixed("_max"), type, max.getValue());
        while (!bounds.empty() && bounds.back().empty())
          bounds.pop_back();
        addWithInputs("Clip", bounds);
        return success();
      })
      .Case([&](LayerNormOp norm) {
        // LayerNormalization is opset 17: in 13 it is its definition.
        SmallVector<int64_t> axes = llvm::to_vector(
            llvm::seq<int64_t>(norm.getAxis(), norm.getType().getRank()));
        auto step = [&](StringRef type, StringRef suffix,
                        ArrayRef<std::string> in) {
          std::string out = tensorNames.unique(suffixed(suffix));
          onnx::NodeProto *node =
              addNode(type, nodeNames.unique(suffixed(suffix)), in, {out});
          if (type == "ReduceMean")
            addAttr(node, "axes", ArrayRef<int64_t>(axes));
          return out;
        };
        const std::string &x = (*inputs)[0];
        std::string mean = step("ReduceMean", "_mean", {x});
        std::string centered = step("Sub", "_centered", {x, mean});
        std::string squared = step("Mul", "_squared", {centered, centered});
        std::string var = step("ReduceMean", "_var", {squared});
        std::string eps =
            addFloatScalar(suffixed("_epsilon"),
                           norm.getType().getElementType(), norm.getEpsilon());
        std::string std =
            step("Sqrt", "_std", {step("Add", "_var_eps", {var, eps})});
        std::string scaled =
            step("Mul", "_scaled",
                 {step("Div", "_normalized", {centered, std}), (*inputs)[1]});
        addNode("Add", nodeName, {scaled, (*inputs)[2]}, *outputs);
        return success();
      })
      .Case([&](ExpandOp expand) -> LogicalResult {
        // The target shape: static sizes as constants, each dynamic one read
        // from its source's Shape, concatenated.
        RankedTensorType type = expand.getType();
        SmallVector<std::string> pieces;
        SmallVector<int64_t> run;
        auto flush = [&] {
          if (!run.empty())
            pieces.push_back(addInt64s(suffixed("_sizes"), run));
          run.clear();
        };
        unsigned next = 0;
        for (int64_t size : type.getShape()) {
          if (!ShapedType::isDynamic(size)) {
            run.push_back(size);
            continue;
          }
          flush();
          std::string shape = tensorNames.unique(suffixed("_shape"));
          addNode("Shape", nodeNames.unique(suffixed("_shape")),
                  {(*inputs)[1 + next]}, {shape});
          std::string dim = tensorNames.unique(suffixed("_dim"));
          onnx::NodeProto *gather =
              addNode("Gather", nodeNames.unique(suffixed("_dim")),
                      {shape, addInt64s(suffixed("_index"),
                                        {expand.getSourceDims()[next]})},
                      {dim});
          addAttr(gather, "axis", int64_t(0));
          pieces.push_back(dim);
          ++next;
        }
        flush();
        if (pieces.empty()) // a rank-0 result
          pieces.push_back(addInt64s(suffixed("_sizes"), {}));
        std::string shape = pieces.front();
        if (pieces.size() > 1) {
          shape = tensorNames.unique(suffixed("_target"));
          addAttr(addNode("Concat", nodeNames.unique(suffixed("_target")),
                          pieces, {shape}),
                  "axis", int64_t(0));
        }
        addNode("Expand", nodeName, {inputs->front(), shape}, *outputs);
        return success();
      })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceL2Op,
            ReduceProdOp>(
          [&](auto reduce) {
            // Opset 13 takes ReduceSum's axes as an input, the others' as an
            // attribute.
            StringRef type =
                TypeSwitch<Operation *, StringRef>(op)
                    .Case([](ReduceSumOp) { return "ReduceSum"; })
                    .Case([](ReduceMeanOp) { return "ReduceMean"; })
                    .Case([](ReduceMaxOp) { return "ReduceMax"; })
                    .Case([](ReduceMinOp) { return "ReduceMin"; })
                    .Case([](ReduceL2Op) { return "ReduceL2"; })
                    .Case([](ReduceProdOp) { return "ReduceProd"; });
            onnx::NodeProto *node =
                isa<ReduceSumOp>(op)
                    ? addWithInputs(type, {addInt64s(suffixed("_axes"),
                                                     reduce.getAxes())})
                    : add(type);
            if (!isa<ReduceSumOp>(op))
              addAttr(node, "axes", reduce.getAxes());
            addAttr(node, "keepdims", int64_t(reduce.getKeepdims()));
            return success();
          })
      .Case([&](SoftmaxOp softmax) {
        addAttr(add(softmax.getLog() ? "LogSoftmax" : "Softmax"), "axis",
                softmax.getAxis());
        return success();
      })
      .Case([&](MaxPoolOp pool) {
        onnx::NodeProto *node = add("MaxPool");
        addAttr(node, "kernel_shape", pool.getKernelShape());
        addAttr(node, "strides", pool.getStrides());
        addAttr(node, "pads", pool.getPads());
        addAttr(node, "dilations", pool.getDilations());
        addAttr(node, "ceil_mode", pool.getCeilMode());
        return success();
      })
      .Case([&](AvgPoolOp pool) {
        onnx::NodeProto *node = add("AveragePool");
        addAttr(node, "kernel_shape", pool.getKernelShape());
        addAttr(node, "strides", pool.getStrides());
        addAttr(node, "pads", pool.getPads());
        addAttr(node, "ceil_mode", pool.getCeilMode());
        addAttr(node, "count_include_pad", pool.getCountIncludePad());
        return success();
      })
      .Case([&](ReshapeOp reshape) -> LogicalResult {
        // Without allowzero (opset 14) a 0 in the shape copies the input dim.
        SmallVector<int64_t> shape(reshape.getType().getShape());
        if (llvm::is_contained(shape, 0))
          return op->emitError("cannot export a reshape to a zero-sized "
                               "dimension in ONNX opset 13");
        for (int64_t &size : shape)
          if (ShapedType::isDynamic(size))
            size = -1;
        addWithInputs("Reshape", {addInt64s(suffixed("_shape"), shape)});
        return success();
      })
      .Case([&](FlattenOp flatten) {
        addAttr(add("Flatten"), "axis", flatten.getAxis());
        return success();
      })
      .Case([&](TransposeOp transpose) {
        addAttr(add("Transpose"), "perm", transpose.getPerm());
        return success();
      })
      .Case([&](ConcatOp concat) {
        addAttr(add("Concat"), "axis", concat.getAxis());
        return success();
      })
      .Case([&](SliceOp slice) {
        addWithInputs("Slice",
                      {addInt64s(suffixed("_starts"), slice.getStarts()),
                       addInt64s(suffixed("_ends"), slice.getEnds()),
                       addInt64s(suffixed("_axes"), slice.getAxes()),
                       addInt64s(suffixed("_steps"), slice.getSteps())});
        return success();
      })
      .Case([&](SplitOp split) {
        onnx::NodeProto *node = addWithInputs(
            "Split", {addInt64s(suffixed("_split"), split.getSizes())});
        addAttr(node, "axis", split.getAxis());
        return success();
      })
      .Case([&](PadOp pad) {
        onnx::NodeProto *node = addWithInputs(
            "Pad",
            {addInt64s(suffixed("_pads"), pad.getPads()),
             addFloatScalar(suffixed("_value"), pad.getType().getElementType(),
                            pad.getValueAttr().getValue())});
        addAttr(node, "mode", "constant");
        return success();
      })
      .Case([&](GatherOp gather) {
        addAttr(add("Gather"), "axis", gather.getAxis());
        return success();
      })
      .Case([&](ResizeOp resize) -> LogicalResult {
        // Scales where ONNX's floor(in * scale) gives the result's sizes
        // (always so for scales it imported), else the sizes, from which
        // ONNX takes the scales out / in.
        auto in = resize.getInput().getType(), out = resize.getType();
        ArrayRef<float> scales = resize.getScales();
        bool byScales = true, bySizes = out.hasStaticShape();
        for (int64_t d = 0; d < out.getRank(); ++d) {
          if (resize.isCopied(d))
            continue;
          float size = in.getDimSize(d);
          byScales &=
              static_cast<int64_t>(size * scales[d]) == out.getDimSize(d);
          bySizes &= scales[d] == out.getDimSize(d) / size;
        }
        if (!byScales && !bySizes)
          return resize.emitOpError(
              "cannot be exported: ONNX takes either the result sizes as "
              "floor(input size * scale) or the scales as result size / "
              "input size, and neither holds");
        onnx::NodeProto *node =
            byScales
                ? addWithInputs(
                      "Resize",
                      {"",
                       addInitializer(tensorNames.unique(suffixed("_scales")),
                                      onnx::TensorProto::FLOAT, {out.getRank()},
                                      toRaw(scales))})
                : addWithInputs(
                      "Resize",
                      {"", "", addInt64s(suffixed("_sizes"), out.getShape())});
        addAttr(node, "mode", resize.getMode());
        addAttr(node, "coordinate_transformation_mode",
                resize.getCoordinateTransformationMode());
        addAttr(node, "nearest_mode", resize.getNearestMode());
        addAttr(node, "cubic_coeff_a",
                resize.getCubicCoeffA().convertToFloat());
        addAttr(node, "exclude_outside",
                static_cast<int64_t>(resize.getExcludeOutside()));
        return success();
      })
      .Default([&](Operation *) {
        return op->emitError("cannot export op '")
               << op->getName() << "' to ONNX";
      });
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// Bytes per element of the floating-point ONNX type `type`, or 0 for any
/// other type.
static size_t getFloatElementBytes(int32_t type) {
  switch (type) {
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    return 2;
  case onnx::TensorProto::FLOAT:
    return 4;
  case onnx::TensorProto::DOUBLE:
    return 8;
  default:
    return 0;
  }
}

/// Bytes of `value` as a protobuf varint: 7 bits a byte.
static size_t getVarintBytes(uint64_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

/// Moves every floating-point initializer that is smaller as a
/// sparse_initializer there: its non-zero elements (some bit but the sign
/// set) as `values` in raw_data, their linear indices, ascending, as INT64
/// `indices`. The indices go in int64_data, which protobuf packs as varints
/// (an index below 2^21 takes 3 bytes, not raw_data's 8); ONNX requires
/// INT64 indices, so this is the smallest form its checker accepts.
static void sparsifyInitializers(onnx::GraphProto &graph) {
  google::protobuf::RepeatedPtrField<onnx::TensorProto> dense;
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    size_t width = getFloatElementBytes(tensor.data_type());
    const std::string &raw = tensor.raw_data();
    if (!width || raw.empty()) {
      dense.Add(std::move(tensor));
      continue;
    }
    size_t count = raw.size() / width;
    // The second TensorProto and the dims cost some bytes too: a scalar
    // zero stays dense.
    size_t sparseBytes = 32;
    std::vector<int64_t> indices;
    for (size_t i = 0; i < count; ++i) {
      // Zero, of either sign: the sign is the top bit of the last byte
      // (little-endian IEEE). A -0.0 is what masking a negative weight by
      // multiplication leaves (PyTorch's pruning); it goes back as +0.0.
      StringRef element(raw.data() + i * width, width);
      if (element.drop_back().find_first_not_of('\0') == StringRef::npos &&
          (element.back() & 0x7f) == 0)
        continue;
      indices.push_back(i);
      sparseBytes += width + getVarintBytes(i);
    }
    if (sparseBytes >= raw.size()) {
      dense.Add(std::move(tensor));
      continue;
    }
    onnx::SparseTensorProto *sparse = graph.add_sparse_initializer();
    sparse->mutable_dims()->CopyFrom(tensor.dims());
    onnx::TensorProto *values = sparse->mutable_values();
    values->set_name(tensor.name());
    values->set_data_type(tensor.data_type());
    values->add_dims(indices.size());
    std::string *valueBytes = values->mutable_raw_data();
    valueBytes->reserve(indices.size() * width);
    for (int64_t i : indices)
      valueBytes->append(raw, i * width, width);
    onnx::TensorProto *indexTensor = sparse->mutable_indices();
    indexTensor->set_data_type(onnx::TensorProto::INT64);
    indexTensor->add_dims(indices.size());
    indexTensor->mutable_int64_data()->Add(indices.begin(), indices.end());
  }
  graph.mutable_initializer()->Swap(&dense);
}

/// Drops the zero point of every DequantizeLinear of INT8 whose zero point
/// is an initializer of zeros (ONNX's default, for a tensor of the input's
/// type): a per-channel or per-group weight then stores only its scales.
static void dropZeroZeroPoints(onnx::GraphProto &graph) {
  llvm::StringMap<const onnx::TensorProto *> zeros;
  for (const onnx::TensorProto &t : graph.initializer())
    if (t.data_type() == onnx::TensorProto::INT8 && t.has_raw_data() &&
        StringRef(t.raw_data()).find_first_not_of('\0') == StringRef::npos)
      zeros[t.name()] = &t;
  if (zeros.empty())
    return;
  llvm::StringSet<> read;
  for (const onnx::ValueInfoProto &output : graph.output())
    read.insert(output.name());
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    if (node.op_type() == "DequantizeLinear" && node.input_size() == 3 &&
        zeros.count(node.input(2)))
      node.mutable_input()->RemoveLast();
    for (const std::string &input : node.input())
      read.insert(input);
  }
  auto *initializers = graph.mutable_initializer();
  initializers->erase(std::remove_if(initializers->begin(), initializers->end(),
                                     [&](const onnx::TensorProto &t) {
                                       return zeros.count(t.name()) &&
                                              !read.contains(t.name());
                                     }),
                      initializers->end());
}

/// The function to export: the only one, else the one named `main`.
static FailureOr<func::FuncOp> getEntryFunction(ModuleOp module) {
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  func::FuncOp entry;
  if (funcs.size() == 1)
    entry = funcs.front();
  else
    entry = module.lookupSymbol<func::FuncOp>("main");
  if (!entry || entry.isExternal())
    return emitError(module.getLoc(),
                     "ONNX export expects one function with a body, or one "
                     "named 'main'");
  return entry;
}

LogicalResult mlir::shears::exportToONNX(ModuleOp module, llvm::raw_ostream &os,
                                         const ExportOptions &options) {
  FailureOr<func::FuncOp> func = getEntryFunction(module);
  if (failed(func))
    return failure();
  std::string bytes;
  try {
    onnx::ModelProto model;
    model.set_ir_version(kIRVersion);
    model.set_producer_name("shears");
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOpsetVersion);
    Exporter exporter(*model.mutable_graph());
    if (failed(exporter.exportFunction(*func)))
      return failure();
    dropZeroZeroPoints(*model.mutable_graph());
    if (options.packLowBitWeights)
      packLowBitWeights(*model.mutable_graph());

    // Catch exporter bugs and ops ONNX rejects for a type (say a bf16 Conv)
    // here rather than in whoever loads the file.
    try {
      onnx::checker::check_model(model);
      onnx::shape_inference::InferShapes(
          model, onnx::OpSchemaRegistry::Instance(),
          onnx::ShapeInferenceOptions(/*check_type_val=*/true,
                                      /*strict_mode_val=*/1));
    } catch (const std::exception &e) {
      Operation *op = exporter.lookupNodeOp(e.what());
      return emitError(op ? op->getLoc() : func->getLoc(),
                       "exported ONNX model is invalid: ")
             << e.what();
    }
    // Only a storage form: ONNX 1.12's shape inference would type sparse
    // initializers as sparse tensors, which no operator takes, so the model
    // is checked dense above, and here only the tensors made sparse.
    if (options.sparseInitializers) {
      sparsifyInitializers(*model.mutable_graph());
      try {
        onnx::checker::CheckerContext context;
        context.set_ir_version(kIRVersion);
        context.set_opset_imports({{"", kOpsetVersion}});
        for (const onnx::SparseTensorProto &sparse :
             model.graph().sparse_initializer())
          onnx::checker::check_sparse_tensor(sparse, context);
      } catch (const std::exception &e) {
        return emitError(func->getLoc(),
                         "exported ONNX model with sparse initializers is "
                         "invalid: ")
               << e.what();
      }
    }
    // Protobuf cannot serialize messages of 2 GiB or more.
    if (model.ByteSizeLong() > static_cast<size_t>(INT32_MAX))
      return emitError(func->getLoc(),
                       "ONNX model exceeds protobuf's 2 GiB limit");
    if (!model.SerializeToString(&bytes))
      return emitError(func->getLoc(), "failed to serialize the ONNX model");
  } catch (const std::exception &e) {
    return emitError(func->getLoc(), "ONNX export failed: ") << e.what();
  } catch (...) {
    return emitError(func->getLoc(), "ONNX export failed");
  }
  os.write(bytes.data(), bytes.size());
  return success();
}
