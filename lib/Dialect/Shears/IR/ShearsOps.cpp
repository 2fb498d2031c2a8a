//===- ShearsOps.cpp - Shears ops: shapes, verifiers, interfaces ----------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "shears-c/Kernels.h"

using namespace mlir;
using namespace mlir::shears;

#include "shears/Dialect/Shears/IR/ShearsInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Constant helpers
//===----------------------------------------------------------------------===//

ConstantOp mlir::shears::createWeightConstant(OpBuilder &builder, Location loc,
                                              RankedTensorType type,
                                              ArrayRef<char> bytes,
                                              size_t alignment,
                                              StringRef name) {
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment);
  auto attr = DenseResourceElementsAttr::get(type, name, std::move(blob));
  return ConstantOp::create(builder, loc, attr);
}

ConstantOp mlir::shears::createWeightConstant(OpBuilder &builder, Location loc,
                                              RankedTensorType type,
                                              ArrayRef<float> values,
                                              StringRef name) {
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float));
  return createWeightConstant(builder, loc, type, bytes, alignof(float), name);
}

FailureOr<ArrayRef<char>> mlir::shears::getResourceBytes(ElementsAttr attr,
                                                         size_t elementBytes) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || blob->getData().size() != attr.getNumElements() * elementBytes)
    return failure();
  return blob->getData();
}

StringRef mlir::shears::getONNXName(Location loc) {
  if (auto name = loc->findInstanceOf<NameLoc>())
    return name.getName().getValue();
  return {};
}

FailureOr<SmallVector<int32_t>> mlir::shears::getConstantInts(Value value) {
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return failure();
  auto type = dyn_cast<IntegerType>(attr.getElementType());
  if (!type || (type.getWidth() != 8 && type.getWidth() != 32))
    return failure();
  bool isUnsigned = type.isUnsigned();
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    SmallVector<int32_t> result;
    for (const APInt &v : dense.getValues<APInt>())
      result.push_back(isUnsigned ? v.getZExtValue() : v.getSExtValue());
    return result;
  }
  auto data = getResourceBytes(attr, type.getWidth() / 8);
  if (failed(data))
    return failure();
  SmallVector<int32_t> result(attr.getNumElements());
  for (size_t i = 0; i < result.size(); ++i) {
    if (type.getWidth() == 32)
      std::memcpy(&result[i], data->data() + 4 * i, 4);
    else if (isUnsigned)
      result[i] = static_cast<uint8_t>((*data)[i]);
    else
      result[i] = static_cast<int8_t>((*data)[i]);
  }
  return result;
}

FailureOr<SmallVector<int64_t>> mlir::shears::getConstantIndices(Value value) {
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return failure();
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr))
    return llvm::map_to_vector(dense.getValues<APInt>(),
                               [](const APInt &v) { return v.getSExtValue(); });
  if (auto blob = dyn_cast<DenseI64ResourceElementsAttr>(attr))
    if (std::optional<ArrayRef<int64_t>> data = blob.tryGetAsArrayRef())
      return SmallVector<int64_t>(data->begin(), data->end());
  if (auto blob = dyn_cast<DenseI32ResourceElementsAttr>(attr))
    if (std::optional<ArrayRef<int32_t>> data = blob.tryGetAsArrayRef())
      return SmallVector<int64_t>(data->begin(), data->end());
  return failure();
}

DequantizeOp mlir::shears::getWeightDequantize(Value weight) {
  while (isa_and_nonnull<ReshapeOp, SliceOp>(weight.getDefiningOp()))
    weight = weight.getDefiningOp()->getOperand(0);
  return weight.getDefiningOp<DequantizeOp>();
}

/// The floats of `shears.dequantize` of constants.
static FailureOr<SmallVector<float>> dequantizeConstant(DequantizeOp op) {
  auto input = getConstantInts(op.getInput());
  auto zeroPoint = getConstantInts(op.getZeroPoint());
  auto scale = getConstantFloats(op.getScale());
  if (failed(input) || failed(zeroPoint) || failed(scale))
    return failure();
  // Per axis: index i is in slice (i / inner) % channels.
  auto type = cast<RankedTensorType>(op.getInput().getType());
  int64_t channels = 1, inner = 1;
  if (op.isPerAxis()) {
    int64_t axis = *op.getAxis();
    channels = type.getDimSize(axis);
    for (int64_t d = axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
  }
  SmallVector<float> result(input->size());
  for (size_t i = 0; i < input->size(); ++i) {
    size_t c = (i / inner) % channels;
    result[i] = static_cast<float>((*input)[i] - (*zeroPoint)[c]) * (*scale)[c];
  }
  return result;
}

/// The floats of a static `shears.slice` of a constant.
static FailureOr<SmallVector<float>> sliceConstant(SliceOp slice) {
  auto inType = cast<RankedTensorType>(slice.getInput().getType());
  auto outType = slice.getType();
  if (!inType.hasStaticShape() || !outType.hasStaticShape())
    return failure();
  auto input = getConstantFloats(slice.getInput());
  if (failed(input))
    return failure();
  int64_t rank = inType.getRank();
  SmallVector<int64_t> starts(rank, 0), steps(rank, 1), strides(rank, 1);
  for (auto [axis, start, step] :
       llvm::zip(slice.getAxes(), slice.getStarts(), slice.getSteps())) {
    starts[axis] = start;
    steps[axis] = step;
  }
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * inType.getDimSize(d + 1);
  SmallVector<float> result(outType.getNumElements());
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    int64_t rest = i, offset = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t size = outType.getDimSize(d);
      offset += (starts[d] + rest % size * steps[d]) * strides[d];
      rest /= size;
    }
    result[i] = (*input)[offset];
  }
  return result;
}

FailureOr<SmallVector<float>> mlir::shears::getConstantFloats(Value value) {
  if (auto dequantize = value.getDefiningOp<DequantizeOp>())
    return dequantizeConstant(dequantize);
  // A reshape keeps the order of the elements (group-wise quantized weights
  // are dequantized in groups, then reshaped).
  if (auto reshape = value.getDefiningOp<ReshapeOp>())
    if (reshape.getType().hasStaticShape())
      return getConstantFloats(reshape.getInput());
  if (auto slice = value.getDefiningOp<SliceOp>())
    return sliceConstant(slice);
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return failure();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto range = dense.getValues<float>();
    return SmallVector<float>(range.begin(), range.end());
  }
  auto data = getResourceBytes(attr, sizeof(float));
  if (failed(data))
    return failure();
  SmallVector<float> result(attr.getNumElements());
  std::memcpy(result.data(), data->data(), data->size());
  return result;
}

func::FuncOp mlir::shears::lookupEntryFunction(ModuleOp module) {
  if (auto main = module.lookupSymbol<func::FuncOp>("main"))
    return main;
  func::FuncOp entry;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic())
      continue;
    if (entry)
      return nullptr;
    entry = func;
  }
  return entry;
}

std::string mlir::shears::getEntryValueName(func::FuncOp func, unsigned index,
                                            bool result) {
  auto name = result
                  ? func.getResultAttrOfType<StringAttr>(index, "shears.name")
                  : func.getArgAttrOfType<StringAttr>(index, "shears.name");
  if (name)
    return name.str();
  return (result ? "output_" : "input_") + std::to_string(index);
}

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

static RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

static RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Product of `dims`, or dynamic if one is dynamic.
static int64_t product(ArrayRef<int64_t> dims) {
  int64_t result = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d))
      return ShapedType::kDynamic;
    result *= d;
  }
  return result;
}

/// Output extent of a sliding window (convolution and pooling), following
/// ONNX: with ceil_mode the last window must start inside the padded-begin
/// input.
static int64_t windowOutputDim(int64_t in, int64_t kernel, int64_t stride,
                               int64_t padBegin, int64_t padEnd,
                               int64_t dilation, bool ceilMode) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  int64_t span = in + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0)
    return -1;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

/// Checks the window attributes of a 2-D sliding-window op and computes the
/// output shape [N, channels, H', W'].
static LogicalResult
inferWindowShape(std::optional<Location> loc, RankedTensorType input,
                 ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                 bool ceilMode, int64_t channels,
                 SmallVectorImpl<int64_t> &shape) {
  if (input.getRank() != 4)
    return emitOptionalError(loc, "expects a 4-D NCHW input, got rank ",
                             input.getRank());
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4)
    return emitOptionalError(loc, "expects 2 kernel dims, 2 strides, 2 "
                                  "dilations and 4 pads");
  for (int64_t v : llvm::concat<const int64_t>(kernel, strides, dilations))
    if (v < 1)
      return emitOptionalError(loc, "kernel, strides and dilations must be "
                                    "positive");
  for (int64_t p : pads)
    if (p < 0)
      return emitOptionalError(loc, "pads must be non-negative");
  shape.assign({input.getDimSize(0), channels});
  for (int i = 0; i < 2; ++i) {
    int64_t out = windowOutputDim(input.getDimSize(2 + i), kernel[i],
                                  strides[i], pads[i], pads[i + 2],
                                  dilations[i], ceilMode);
    if (out == -1 || out == 0)
      return emitOptionalError(loc, "window of ", kernel[i],
                               " does not fit spatial dimension ", i,
                               " of size ", input.getDimSize(2 + i));
    shape.push_back(out);
  }
  return success();
}

static LogicalResult checkAxis(std::optional<Location> loc, int64_t axis,
                               int64_t rank) {
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  return success();
}

/// Checks that a per-channel parameter is [size].
static LogicalResult checkVector(std::optional<Location> loc, Value value,
                                 int64_t size, StringRef what) {
  auto type = rankedType(value);
  if (type.getRank() != 1 ||
      (!ShapedType::isDynamic(size) && !type.isDynamicDim(0) &&
       type.getDimSize(0) != size))
    return emitOptionalError(loc, what, " must be a 1-D tensor of ", size,
                             " elements, got ", type);
  return success();
}

static void identityDims(unsigned operand, int64_t rank,
                         SmallVectorImpl<DimMapping> &mappings) {
  for (int64_t d = 0; d < rank; ++d)
    mappings.push_back({operand, d, 0, d});
}

void mlir::shears::getBroadcastDimMappings(Operation *op,
                                           SmallVectorImpl<DimMapping> &m) {
  auto result = rankedType(op->getResult(0));
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    auto type = rankedType(operand);
    int64_t offset = result.getRank() - type.getRank();
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.getDimSize(d) == result.getDimSize(d + offset))
        m.push_back({static_cast<unsigned>(index), d,
                     0, d + offset});
  }
}

/// The result type of a reduction (used by the ODS definitions).
static LogicalResult inferReduceType(std::optional<Location> loc, Value input,
                                     ArrayRef<int64_t> axes, bool keepdims,
                                     SmallVectorImpl<Type> &types) {
  auto type = rankedType(input);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (axis < 0 || axis >= type.getRank())
      return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                               type.getRank());
    if (i > 0 && axes[i - 1] >= axis)
      return emitOptionalError(loc, "axes must be distinct and ascending");
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!llvm::is_contained(axes, d))
      shape.push_back(type.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  types.push_back(tensorOf(shape, type.getElementType()));
  return success();
}

/// A reduction's unreduced dimensions map to the result's.
static void reduceDimMappings(bool dropped, int64_t rank,
                              ArrayRef<int64_t> axes,
                              SmallVectorImpl<DimMapping> &mappings) {
  int64_t result = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (!llvm::is_contained(axes, d))
      mappings.push_back({0, d, 0, result});
    if (!llvm::is_contained(axes, d) || !dropped)
      ++result;
  }
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  auto weight = rankedType(adaptor.getWeight());
  if (input.getRank() < 1 || weight.getRank() != 2)
    return emitOptionalError(loc, "expects an input of rank >= 1 and a 2-D "
                                  "[out, in] weight");
  int64_t in = input.getShape().back();
  if (!ShapedType::isDynamic(in) && !weight.isDynamicDim(1) &&
      in != weight.getDimSize(1))
    return emitOptionalError(loc, "input has ", in,
                             " features but the weight expects ",
                             weight.getDimSize(1));
  if (adaptor.getBias() &&
      failed(checkVector(loc, adaptor.getBias(), weight.getDimSize(0),
                         "bias")))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

Value LinearOp::getPrunedInput() { return getInput(); }
Value LinearOp::getPrunedBias() { return getBias(); }
int64_t LinearOp::getResultChannelDim() {
  return getType().getRank() - 1;
}
int64_t LinearOp::getInputChannelDim() {
  return getInput().getType().getRank() - 1;
}

void LinearOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t rank = getType().getRank();
  identityDims(0, rank - 1, mappings);
  mappings.push_back({1, 0, 0, rank - 1});
  if (getBias())
    mappings.push_back({2, 0, 0, rank - 1});
}

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto lhs = rankedType(adaptor.getLhs());
  auto rhs = rankedType(adaptor.getRhs());
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(loc, "expects operands of rank >= 2");
  int64_t k = lhs.getShape().back(), k2 = rhs.getShape()[rhs.getRank() - 2];
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(k2) && k != k2)
    return emitOptionalError(loc, "contracting dimensions differ: ", k,
                             " vs ", k2);
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(lhs.getShape().drop_back(2),
                                          rhs.getShape().drop_back(2), batch))
    return emitOptionalError(loc, "batch dimensions do not broadcast");
  batch.push_back(lhs.getShape()[lhs.getRank() - 2]);
  batch.push_back(rhs.getShape().back());
  types.push_back(tensorOf(batch, lhs.getElementType()));
  return success();
}

void MatMulOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t rank = getType().getRank();
  auto lhs = getLhs().getType(), rhs = getRhs().getType();
  int64_t lhsOffset = rank - lhs.getRank(), rhsOffset = rank - rhs.getRank();
  for (int64_t d = 0; d + 2 < lhs.getRank(); ++d)
    if (lhs.getDimSize(d) == getType().getDimSize(d + lhsOffset))
      mappings.push_back({0, d, 0, d + lhsOffset});
  for (int64_t d = 0; d + 2 < rhs.getRank(); ++d)
    if (rhs.getDimSize(d) == getType().getDimSize(d + rhsOffset))
      mappings.push_back({1, d, 0, d + rhsOffset});
  mappings.push_back({0, lhs.getRank() - 2, 0, rank - 2});
  mappings.push_back({1, rhs.getRank() - 1, 0, rank - 1});
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  auto weight = rankedType(adaptor.getWeight());
  if (weight.getRank() != 4)
    return emitOptionalError(loc, "expects a 4-D [out, in/groups, kh, kw] "
                                  "filter, got ", weight);
  if (weight.isDynamicDim(2) || weight.isDynamicDim(3) ||
      weight.isDynamicDim(0))
    return emitOptionalError(loc, "expects a filter with static sizes");
  int64_t groups = adaptor.getGroups();
  int64_t out = weight.getDimSize(0);
  if (groups < 1 || out % groups != 0)
    return emitOptionalError(loc, "groups (", groups,
                             ") must divide the output channels (", out, ")");
  SmallVector<int64_t> shape;
  int64_t kernel[] = {weight.getDimSize(2), weight.getDimSize(3)};
  if (failed(inferWindowShape(loc, input, kernel, adaptor.getStrides(),
                              adaptor.getPads(), adaptor.getDilations(),
                              /*ceilMode=*/false, out, shape)))
    return failure();
  int64_t in = input.getDimSize(1);
  if (!ShapedType::isDynamic(in) && in != weight.getDimSize(1) * groups)
    return emitOptionalError(loc, "input has ", in,
                             " channels but the filter expects ",
                             weight.getDimSize(1), " x ", groups, " groups");
  if (adaptor.getBias() &&
      failed(checkVector(loc, adaptor.getBias(), out, "bias")))
    return failure();
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

Value Conv2DOp::getPrunedInput() { return getInput(); }
Value Conv2DOp::getPrunedBias() { return getBias(); }
int64_t Conv2DOp::getResultChannelDim() { return 1; }
int64_t Conv2DOp::getInputChannelDim() { return 1; }
void Conv2DOp::setGroups(int64_t groups) {
  setGroupsAttr(IntegerAttr::get(IntegerType::get(getContext(), 64), groups));
}

void Conv2DOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  mappings.push_back({0, 0, 0, 0});
  mappings.push_back({1, 0, 0, 1});
  if (getBias())
    mappings.push_back({2, 0, 0, 1});
  // Depthwise: input channel c produces output channel c only.
  int64_t groups = getGroupsAttr().getInt();
  if (groups > 1 && groups == getInput().getType().getDimSize(1) &&
      groups == getType().getDimSize(1))
    mappings.push_back({0, 1, 0, 1});
}

//===----------------------------------------------------------------------===//
// ConvTransposeOp
//===----------------------------------------------------------------------===//

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  auto weight = rankedType(adaptor.getWeight());
  if (input.getRank() != 4 || weight.getRank() != 4 || !weight.hasStaticShape())
    return emitOptionalError(loc,
                             "expects a 4-D input and a static 4-D "
                             "[in, out/groups, kh, kw] filter, got ",
                             input, " and ", weight);
  ArrayRef<int64_t> strides = adaptor.getStrides(), pads = adaptor.getPads(),
                    dilations = adaptor.getDilations();
  constexpr int64_t kLimit = int64_t(1) << 20;
  auto outside = [&](int64_t v, int64_t lo) { return v < lo || v > kLimit; };
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2 ||
      llvm::any_of(strides, [&](int64_t v) { return outside(v, 1); }) ||
      llvm::any_of(dilations, [&](int64_t v) { return outside(v, 1); }) ||
      llvm::any_of(pads, [&](int64_t v) { return outside(v, -kLimit); }))
    return emitOptionalError(loc, "expects 2 strides and dilations in [1, ",
                             kLimit, "] and 4 pads in [-", kLimit, ", ", kLimit,
                             "]");
  int64_t groups = adaptor.getGroups();
  int64_t in = weight.getDimSize(0);
  if (groups < 1 || in % groups != 0)
    return emitOptionalError(loc, "groups (", groups,
                             ") must divide the filter's input channels (", in,
                             ")");
  if (!input.isDynamicDim(1) && input.getDimSize(1) != in)
    return emitOptionalError(loc, "input has ", input.getDimSize(1),
                             " channels but the filter expects ", in);
  int64_t out = weight.getDimSize(1) * groups;
  if (adaptor.getBias() &&
      failed(checkVector(loc, adaptor.getBias(), out, "bias")))
    return failure();
  SmallVector<int64_t> shape = {input.getDimSize(0), out};
  for (int64_t i = 0; i < 2; ++i) {
    int64_t size = input.getDimSize(2 + i);
    if (ShapedType::isDynamic(size)) {
      shape.push_back(size);
      continue;
    }
    if (size > kLimit)
      return emitOptionalError(loc, "the input is too large");
    int64_t result = strides[i] * (size - 1) +
                     dilations[i] * (weight.getDimSize(2 + i) - 1) + 1 -
                     pads[i] - pads[i + 2];
    if (size < 1 || result < 1)
      return emitOptionalError(loc, "the result would have no rows or "
                                    "columns");
    shape.push_back(result);
  }
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

void ConvTransposeOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  mappings.push_back({0, 0, 0, 0});
}

//===----------------------------------------------------------------------===//
// BatchNormOp
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  if (input.getRank() < 2)
    return emitOptionalError(loc, "expects an input of rank >= 2");
  int64_t channels = input.getDimSize(1);
  if (failed(checkVector(loc, adaptor.getScale(), channels, "scale")) ||
      failed(checkVector(loc, adaptor.getBias(), channels, "bias")) ||
      failed(checkVector(loc, adaptor.getMean(), channels, "mean")) ||
      failed(checkVector(loc, adaptor.getVariance(), channels, "variance")))
    return failure();
  if (adaptor.getEpsilonAttr() && adaptor.getEpsilon().convertToFloat() < 0)
    return emitOptionalError(loc, "epsilon must be non-negative");
  types.push_back(input);
  return success();
}

void BatchNormOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  identityDims(0, getType().getRank(), mappings);
  for (unsigned operand = 1; operand < 5; ++operand)
    mappings.push_back({operand, 0, 0, 1});
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, axis, input.getRank())))
    return failure();
  ArrayRef<int64_t> normalized = input.getShape().drop_front(axis);
  for (auto [what, value] :
       {std::pair<StringRef, Value>{"scale", adaptor.getScale()},
        {"bias", adaptor.getBias()}})
    if (rankedType(value).getShape() != normalized)
      return emitOptionalError(loc, what,
                               " must have the shape of the "
                               "normalized dimensions, got ",
                               value.getType());
  if (adaptor.getEpsilonAttr() && adaptor.getEpsilon().convertToFloat() < 0)
    return emitOptionalError(loc, "epsilon must be non-negative");
  types.push_back(input);
  return success();
}

void LayerNormOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  identityDims(0, getAxis(), mappings);
}

//===----------------------------------------------------------------------===//
// GatherOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto data = rankedType(adaptor.getData());
  auto indices = rankedType(adaptor.getIndices());
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, axis, data.getRank())))
    return failure();
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  types.push_back(tensorOf(shape, data.getElementType()));
  return success();
}

LogicalResult GatherOp::verify() {
  int64_t axis = getAxis();
  if (axis < 0 || axis >= getData().getType().getRank())
    return success(); // inferReturnTypes reports it.
  int64_t size = getData().getType().getDimSize(axis);
  FailureOr<SmallVector<int64_t>> values = getConstantIndices(getIndices());
  if (ShapedType::isDynamic(size) || failed(values))
    return success();
  for (int64_t v : *values)
    if (v < -size || v >= size)
      return emitOpError() << "index " << v << " is out of range for axis "
                           << axis << " of size " << size
                           << " (valid: " << -size << " to " << size - 1 << ")";
  return success();
}

Value GatherOp::getPrunedInput() { return getIndices(); }
Value GatherOp::getWeight() { return getData(); }
int64_t GatherOp::getWeightOutputDim() {
  return getAxis() == 0 && getData().getType().getRank() == 2 ? 1 : -1;
}
int64_t GatherOp::getWeightInputDim() { return -1; }
int64_t GatherOp::getResultChannelDim() { return getType().getRank() - 1; }
int64_t GatherOp::getInputChannelDim() { return -1; }

void GatherOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t axis = getAxis();
  int64_t indicesRank = getIndices().getType().getRank();
  for (int64_t d = 0; d < axis; ++d)
    mappings.push_back({0, d, 0, d});
  for (int64_t d = axis + 1; d < getData().getType().getRank(); ++d)
    mappings.push_back({0, d, 0, d - 1 + indicesRank});
  for (int64_t d = 0; d < indicesRank; ++d)
    mappings.push_back({1, d, 0, axis + d});
}

//===----------------------------------------------------------------------===//
// MaskOp
//===----------------------------------------------------------------------===//

LogicalResult MaskOp::verify() {
  auto weight = getWeight().getType(), mask = getMask().getType();
  if (weight.getRank() != mask.getRank())
    return emitOpError("mask rank ")
           << mask.getRank() << " differs from the weight's, "
           << weight.getRank();
  for (int64_t d = 0; d < weight.getRank(); ++d)
    if (mask.getDimSize(d) != 1 && mask.getDimSize(d) != weight.getDimSize(d))
      return emitOpError("mask dimension ")
             << d << " is " << mask.getDimSize(d) << ", expected 1 or "
             << weight.getDimSize(d);
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp and DequantizeOp
//===----------------------------------------------------------------------===//

/// Scale and zero point: scalars, or [C] along `axis` of the integer side;
/// the zero point of the integers' type; float and integer sides of one
/// shape.
static LogicalResult verifyQuantization(Operation *op, Value floats,
                                        Value ints, Value scale,
                                        Value zeroPoint,
                                        std::optional<int64_t> axis) {
  auto floatType = rankedType(floats), intType = rankedType(ints);
  auto scaleType = rankedType(scale), zeroType = rankedType(zeroPoint);
  if (failed(verifyCompatibleShape(floatType, intType)))
    return op->emitOpError("float and integer sides differ in shape: ")
           << floatType << " and " << intType;
  if (zeroType.getElementType() != intType.getElementType())
    return op->emitOpError("zero point must be of ")
           << intType.getElementType() << ", got " << zeroType;
  if (scaleType.getShape() != zeroType.getShape())
    return op->emitOpError("scale ")
           << scaleType << " and zero point " << zeroType
           << " differ in shape";
  if (scaleType.getRank() == 0) {
    if (axis)
      return op->emitOpError("axis is only for per-axis (1-D) scales");
    return success();
  }
  if (scaleType.getRank() != 1)
    return op->emitOpError("scale must be a scalar or 1-D, got ") << scaleType;
  if (!axis)
    return op->emitOpError("a 1-D scale needs an axis");
  if (failed(checkAxis(op->getLoc(), *axis, intType.getRank())) ||
      failed(checkVector(op->getLoc(), scale, intType.getDimSize(*axis),
                         "scale")))
    return failure();
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantization(*this, getInput(), getResult(), getScale(),
                            getZeroPoint(), getAxis());
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantization(*this, getResult(), getInput(), getScale(),
                            getZeroPoint(), getAxis());
}

LogicalResult DynamicQuantizeOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  types.push_back(tensorOf(rankedType(adaptor.getInput()).getShape(), u8));
  types.push_back(tensorOf({}, Float32Type::get(context)));
  types.push_back(tensorOf({}, u8));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// The result type of a binary elementwise op (used by its ODS definition).
static LogicalResult inferBroadcastType(std::optional<Location> loc, Value lhs,
                                        Value rhs,
                                        SmallVectorImpl<Type> &types) {
  auto lhsType = rankedType(lhs), rhsType = rankedType(rhs);
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOptionalError(loc, "operands have different element types");
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhsType.getShape(),
                                          rhsType.getShape(), shape))
    return emitOptionalError(loc, "shapes ", lhsType, " and ", rhsType,
                             " do not broadcast");
  types.push_back(tensorOf(shape, lhsType.getElementType()));
  return success();
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  if (failed(
          inferBroadcastType(loc, adaptor.getLhs(), adaptor.getRhs(), types)))
    return failure();
  auto values = cast<RankedTensorType>(types.back());
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(
          values.getShape(), rankedType(adaptor.getCondition()).getShape(),
          shape))
    return emitOptionalError(loc, "the condition ",
                             adaptor.getCondition().getType(),
                             " does not broadcast with ", values);
  types.back() = tensorOf(shape, values.getElementType());
  return success();
}

LogicalResult ClipOp::verify() {
  if (getMin() && getMax() &&
      getMin()->convertToFloat() > getMax()->convertToFloat())
    return emitOpError("min (") << getMin()->convertToFloat()
                                << ") is greater than max ("
                                << getMax()->convertToFloat() << ")";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkAxis(getLoc(), getAxis(), getType().getRank());
}

void SoftmaxOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  // Every index along the softmax axis depends on all others: it does not flow.
  int64_t axis = getAxis();
  for (int64_t d = 0; d < getType().getRank(); ++d)
    if (d != axis)
      mappings.push_back({0, d, 0, d});
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  SmallVector<int64_t> shape;
  if (failed(inferWindowShape(loc, input, adaptor.getKernelShape(),
                              adaptor.getStrides(), adaptor.getPads(),
                              adaptor.getDilations(), adaptor.getCeilMode(),
                              input.getRank() == 4 ? input.getDimSize(1) : 0,
                              shape)))
    return failure();
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult AvgPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  SmallVector<int64_t> shape;
  int64_t dilations[] = {1, 1};
  if (failed(inferWindowShape(loc, input, adaptor.getKernelShape(),
                              adaptor.getStrides(), adaptor.getPads(),
                              dilations, adaptor.getCeilMode(),
                              input.getRank() == 4 ? input.getDimSize(1) : 0,
                              shape)))
    return failure();
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  if (input.getRank() != 4)
    return emitOptionalError(loc, "expects a 4-D NCHW input, got rank ",
                             input.getRank());
  types.push_back(tensorOf({input.getDimSize(0), input.getDimSize(1), 1, 1},
                           input.getElementType()));
  return success();
}

#define SHEARS_POOL_FLOW(Op)                                                   \
  void Op::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {             \
    identityDims(0, 2, mappings);                                              \
  }
SHEARS_POOL_FLOW(MaxPoolOp)
SHEARS_POOL_FLOW(AvgPoolOp)
SHEARS_POOL_FLOW(GlobalAvgPoolOp)
#undef SHEARS_POOL_FLOW

//===----------------------------------------------------------------------===//
// ReshapeOp and FlattenOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto input = getInput().getType(), result = getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("changes the element type");
  if (llvm::count_if(result.getShape(), ShapedType::isDynamic) > 1)
    return emitOpError("result may have at most one dynamic dimension");
  auto staticProduct = [](ArrayRef<int64_t> shape) {
    int64_t p = 1;
    for (int64_t d : shape)
      if (!ShapedType::isDynamic(d))
        p *= d;
    return p;
  };
  int64_t in = staticProduct(input.getShape());
  int64_t out = staticProduct(result.getShape());
  bool inDynamic = !input.hasStaticShape(), outDynamic = !result.hasStaticShape();
  if ((!inDynamic && !outDynamic && in != out) ||
      (!inDynamic && outDynamic && (out == 0 || in % out != 0)))
    return emitOpError("cannot reshape ")
           << input << " into " << result << ": element counts differ";
  if (inDynamic && !outDynamic)
    return emitOpError("a dynamic input needs a dynamic result dimension");
  return success();
}

/// Folds reshapes of constants, reshape chains and no-op reshapes.
static OpFoldResult foldReshapeLike(Operation *op, Attribute input) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  if (op->getOperand(0).getType() == type)
    return op->getOperand(0);
  if (!type.hasStaticShape() || !input)
    return {};
  if (auto dense = dyn_cast<DenseElementsAttr>(input))
    return dense.reshape(type);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(input))
    return DenseResourceElementsAttr::get(type, resource.getRawHandle());
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return foldReshapeLike(*this, adaptor.getInput());
}

void ReshapeOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  mappings.push_back({0, -1, 0, -1, DimMapping::Kind::Reshape});
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis > input.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             input.getRank());
  types.push_back(tensorOf({product(input.getShape().take_front(axis)),
                            product(input.getShape().drop_front(axis))},
                           input.getElementType()));
  return success();
}

OpFoldResult FlattenOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(*this, adaptor.getInput());
}

void FlattenOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  mappings.push_back({0, -1, 0, -1, DimMapping::Kind::Reshape});
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for an input of rank ",
                             input.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank() || seen[p])
      return emitOptionalError(loc, "perm is not a permutation");
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

void TransposeOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    mappings.push_back({0, p, 0, static_cast<int64_t>(i)});
}

//===----------------------------------------------------------------------===//
// ExpandOp
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::verify() {
  auto in = getInput().getType();
  auto out = getType();
  int64_t offset = out.getRank() - in.getRank();
  if (offset < 0)
    return emitOpError("result rank ")
           << out.getRank() << " is below the input's " << in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t size = in.getDimSize(d), result = out.getDimSize(d + offset);
    if (size != 1 && size != result)
      return emitOpError("input dimension ")
             << d << " (" << size << ") neither is 1 nor matches the result's ("
             << result << ")";
  }
  int64_t dynamic = out.getNumDynamicDims();
  if (static_cast<int64_t>(getSources().size()) != dynamic ||
      static_cast<int64_t>(getSourceDims().size()) != dynamic)
    return emitOpError("needs one source dimension per dynamic result "
                       "dimension (")
           << dynamic << "), got " << getSources().size() << " sources and "
           << getSourceDims().size() << " dims";
  for (auto [source, dim] : llvm::zip(getSources(), getSourceDims()))
    if (dim < 0 || dim >= cast<RankedTensorType>(source.getType()).getRank())
      return emitOpError("source dimension ") << dim << " is out of range";
  return success();
}

void ExpandOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  auto in = getInput().getType();
  int64_t offset = getType().getRank() - in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (in.getDimSize(d) == getType().getDimSize(d + offset))
      mappings.push_back({0, d, 0, d + offset});
}

//===----------------------------------------------------------------------===//
// ConcatOp, SliceOp, SplitOp, PadOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "expects at least one input");
  auto first = rankedType(adaptor.getInputs().front());
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, axis, first.getRank())))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (Value input : adaptor.getInputs().drop_front()) {
    auto type = rankedType(input);
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "inputs differ in rank or element type");
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t size = type.getDimSize(d);
      if (d == axis) {
        shape[d] = ShapedType::isDynamic(shape[d]) || ShapedType::isDynamic(size)
                       ? ShapedType::kDynamic
                       : shape[d] + size;
      } else if (!ShapedType::isDynamic(size) &&
                 !ShapedType::isDynamic(shape[d]) && size != shape[d]) {
        return emitOptionalError(loc, "inputs differ in dimension ", d,
                                 " (", shape[d], " vs ", size, ")");
      }
    }
  }
  types.push_back(tensorOf(shape, first.getElementType()));
  return success();
}

void ConcatOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t axis = getAxis(), offset = 0;
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    auto type = rankedType(input);
    unsigned i = index;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (d != axis)
        mappings.push_back({i, d, 0, d});
      else if (!ShapedType::isDynamic(offset))
        mappings.push_back({i, d, 0, d, DimMapping::Kind::Offset, offset});
    }
    offset = ShapedType::isDynamic(type.getDimSize(axis))
                 ? ShapedType::kDynamic
                 : offset + type.getDimSize(axis);
  }
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes(), starts = adaptor.getStarts(),
                    ends = adaptor.getEnds(), steps = adaptor.getSteps();
  if (starts.size() != axes.size() || ends.size() != axes.size() ||
      steps.size() != axes.size())
    return emitOptionalError(loc, "axes, starts, ends and steps differ in "
                                  "length");
  SmallVector<int64_t> shape(input.getShape());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (failed(checkAxis(loc, axes[i], input.getRank())))
      return failure();
    if (steps[i] < 1 || starts[i] < 0 || ends[i] < starts[i])
      return emitOptionalError(loc, "slice along axis ", axes[i],
                               " needs 0 <= start <= end and a positive step");
    int64_t size = input.getDimSize(axes[i]);
    if (!ShapedType::isDynamic(size) && ends[i] > size)
      return emitOptionalError(loc, "slice end ", ends[i], " exceeds size ",
                               size, " of axis ", axes[i]);
    shape[axes[i]] = (ends[i] - starts[i] + steps[i] - 1) / steps[i];
  }
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

void SliceOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  for (int64_t d = 0; d < getType().getRank(); ++d) {
    const auto *it = llvm::find(getAxes(), d);
    if (it == getAxes().end()) {
      mappings.push_back({0, d, 0, d});
      continue;
    }
    size_t i = it - getAxes().begin();
    if (getSteps()[i] == 1)
      mappings.push_back({0, d, 0, d, DimMapping::Kind::Offset,
                          -getStarts()[i]});
  }
}

/// How many of the ascending `removed` indices lie below `index`.
static int64_t countBelow(ArrayRef<int64_t> removed, int64_t index) {
  return llvm::lower_bound(removed, index) - removed.begin();
}

void SliceOp::removeOperandChannels(unsigned, int64_t dim,
                                    ArrayRef<int64_t> removed) {
  const auto *it = llvm::find(getAxes(), dim);
  if (it == getAxes().end())
    return;
  size_t i = it - getAxes().begin();
  SmallVector<int64_t> starts(getStarts()), ends(getEnds());
  starts[i] -= countBelow(removed, starts[i]);
  ends[i] -= countBelow(removed, ends[i]);
  setStarts(starts);
  setEnds(ends);
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(loc, axis, input.getRank())))
    return failure();
  int64_t total = 0;
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0)
      return emitOptionalError(loc, "split sizes must be non-negative");
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = size;
    types.push_back(tensorOf(shape, input.getElementType()));
    total += size;
  }
  if (!input.isDynamicDim(axis) && total != input.getDimSize(axis))
    return emitOptionalError(loc, "split sizes add up to ", total,
                             " but axis ", axis, " has ",
                             input.getDimSize(axis));
  return success();
}

void SplitOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t axis = getAxis(), offset = 0;
  int64_t rank = getInput().getType().getRank();
  for (auto [index, size] : llvm::enumerate(getSizes())) {
    unsigned r = index;
    for (int64_t d = 0; d < rank; ++d)
      mappings.push_back(d == axis ? DimMapping{0, d, r, d,
                                                DimMapping::Kind::Offset,
                                                -offset}
                                   : DimMapping{0, d, r, d});
    offset += size;
  }
}

void SplitOp::removeOperandChannels(unsigned, int64_t dim,
                                    ArrayRef<int64_t> removed) {
  if (dim != static_cast<int64_t>(getAxis()))
    return;
  SmallVector<int64_t> sizes(getSizes());
  int64_t begin = 0;
  for (int64_t &size : sizes) {
    int64_t end = begin + size;
    size -= countBelow(removed, end) - countBelow(removed, begin);
    begin = end;
  }
  setSizes(sizes);
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return emitOptionalError(loc, "expects ", 2 * rank, " pads, got ",
                             pads.size());
  SmallVector<int64_t> shape(input.getShape());
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0)
      return emitOptionalError(loc, "pads must be non-negative");
    if (!ShapedType::isDynamic(shape[d]))
      shape[d] += pads[d] + pads[d + rank];
  }
  types.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

void PadOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  int64_t rank = getType().getRank();
  for (int64_t d = 0; d < rank; ++d)
    mappings.push_back({0, d, 0, d, DimMapping::Kind::Offset, getPads()[d]});
}

//===----------------------------------------------------------------------===//
// ResizeOp
//===----------------------------------------------------------------------===//

bool ResizeOp::isCopied(int64_t d) {
  auto in = getInput().getType(), out = getType();
  return getScales()[d] == 1.0f && in.getDimSize(d) == out.getDimSize(d);
}

LogicalResult ResizeOp::verify() {
  auto in = getInput().getType(), out = getType();
  if (in.getRank() != out.getRank() ||
      static_cast<int64_t>(getScales().size()) != in.getRank())
    return emitOpError("expects one scale per dimension and a result of the "
                       "input's rank");
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  if (!llvm::is_contained({"nearest", "linear", "cubic"}, getMode()))
    return emitOpError("mode must be nearest, linear or cubic, got '")
           << getMode() << "'";
  if (!llvm::is_contained({"half_pixel", "pytorch_half_pixel", "align_corners",
                           "asymmetric", "tf_half_pixel_for_nn"},
                          getCoordinateTransformationMode()))
    return emitOpError("unknown coordinate_transformation_mode '")
           << getCoordinateTransformationMode() << "'";
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          getNearestMode()))
    return emitOpError("unknown nearest_mode '") << getNearestMode() << "'";
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (!(getScales()[d] > 0))
      return emitOpError("scales must be positive");
    if (isCopied(d))
      continue;
    if (in.isDynamicDim(d) || out.isDynamicDim(d) || in.getDimSize(d) == 0 ||
        out.getDimSize(d) == 0)
      return emitOpError("resized dimension ")
             << d << " must be static and non-empty";
  }
  return success();
}

void ResizeOp::getDimMappings(SmallVectorImpl<DimMapping> &mappings) {
  for (int64_t d = 0; d < getType().getRank(); ++d)
    if (isCopied(d))
      mappings.push_back({0, d, 0, d});
}

//===----------------------------------------------------------------------===//
// Constant channels (ChannelFlowOpInterface::foldConstantChannel)
//===----------------------------------------------------------------------===//

// A channel that is one number everywhere stays that number through ops that
// move, pick or take the extremes or mean of its elements.
#define SHEARS_CARRIES_CONSTANT_CHANNELS(Op)                                   \
  std::optional<double> Op::foldConstantChannel(                               \
      ArrayRef<std::optional<double>>, std::optional<double> channel) {        \
    return channel;                                                            \
  }
SHEARS_CARRIES_CONSTANT_CHANNELS(MaxPoolOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(GlobalAvgPoolOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(FlattenOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(ReshapeOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(TransposeOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(ConcatOp)
// Its interpolation weights add up to 1.
SHEARS_CARRIES_CONSTANT_CHANNELS(ResizeOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(ReduceMeanOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(ReduceMaxOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(ReduceMinOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(SliceOp)
SHEARS_CARRIES_CONSTANT_CHANNELS(SplitOp)
#undef SHEARS_CARRIES_CONSTANT_CHANNELS

/// The number of elements a reduction takes per result element, if static.
static std::optional<double> reducedCount(RankedTensorType input,
                                          ArrayRef<int64_t> axes) {
  double count = 1;
  for (int64_t axis : axes) {
    if (input.isDynamicDim(axis))
      return std::nullopt;
    count *= input.getDimSize(axis);
  }
  return count;
}

std::optional<double>
ReduceSumOp::foldConstantChannel(ArrayRef<std::optional<double>>,
                                 std::optional<double> channel) {
  std::optional<double> count = reducedCount(getInput().getType(), getAxes());
  if (!channel || !count)
    return std::nullopt;
  return *channel * *count;
}

std::optional<double>
ReduceL2Op::foldConstantChannel(ArrayRef<std::optional<double>>,
                                std::optional<double> channel) {
  std::optional<double> count = reducedCount(getInput().getType(), getAxes());
  if (!channel || !count)
    return std::nullopt;
  return std::fabs(*channel) * std::sqrt(*count);
}

std::optional<double>
ReduceProdOp::foldConstantChannel(ArrayRef<std::optional<double>>,
                                  std::optional<double> channel) {
  std::optional<double> count = reducedCount(getInput().getType(), getAxes());
  if (!channel || !count)
    return std::nullopt;
  return std::pow(*channel, *count);
}

std::optional<double>
AvgPoolOp::foldConstantChannel(ArrayRef<std::optional<double>>,
                               std::optional<double> channel) {
  // Zero padding counted in the average changes a constant.
  if (getCountIncludePad() &&
      llvm::any_of(getPads(), [](int64_t p) { return p != 0; }))
    return std::nullopt;
  return channel;
}

/// A batch of matrices that is zero everywhere gives a zero product.
std::optional<double>
MatMulOp::foldConstantChannel(ArrayRef<std::optional<double>> in,
                              std::optional<double>) {
  if (llvm::any_of(in, [](std::optional<double> x) { return x && *x == 0; }))
    return 0.0;
  return std::nullopt;
}

/// A constant along the axis becomes uniform weights (an attention head
/// whose queries and keys are zero attends to every position alike).
std::optional<double>
SoftmaxOp::foldConstantChannel(ArrayRef<std::optional<double>>,
                               std::optional<double> channel) {
  int64_t count = getType().getDimSize(getAxis());
  if (!channel || ShapedType::isDynamic(count) || count == 0)
    return std::nullopt;
  return getLog() ? -std::log(static_cast<double>(count))
                  : 1.0 / static_cast<double>(count);
}

std::optional<double>
BatchNormOp::foldConstantChannel(ArrayRef<std::optional<double>> in,
                                 std::optional<double>) {
  if (!llvm::all_of(in, [](std::optional<double> x) { return x; }))
    return std::nullopt;
  double eps = getEpsilon().convertToDouble();
  return *in[1] * (*in[0] - *in[3]) / std::sqrt(*in[4] + eps) + *in[2];
}

#define GET_OP_CLASSES
#include "shears/Dialect/Shears/IR/ShearsOps.cpp.inc"

//===----------------------------------------------------------------------===//
// UKernelOp
//===----------------------------------------------------------------------===//

namespace {
/// What each kernel of include/shears-c/Kernels.h takes.
struct KernelInfo {
  StringRef name;
  unsigned numParams, flagsSlot, minInputs, numFparams;
  /// qgemm, qconv2d: packed i8 weights, f32 or u8 input and output.
  bool integer = false;
  /// Its residual may be its output buffer (Kernels.h).
  bool residualInPlace = false;
};
constexpr KernelInfo kKernels[] = {
    {"bmm", SHEARS_UK_BMM_NUM_PARAMS, SHEARS_UK_BMM_FLAGS, 2, SHEARS_UK_F_NUM},
    {"conv2d", SHEARS_UK_CONV_NUM_PARAMS, SHEARS_UK_CONV_FLAGS, 2,
     SHEARS_UK_F_NUM, /*integer=*/false, /*residualInPlace=*/true},
    {"dwconv2d", SHEARS_UK_CONV_NUM_PARAMS, SHEARS_UK_CONV_FLAGS, 2,
     SHEARS_UK_F_NUM},
    {"gemm", SHEARS_UK_GEMM_NUM_PARAMS, SHEARS_UK_GEMM_FLAGS, 2,
     SHEARS_UK_F_NUM, /*integer=*/false, /*residualInPlace=*/true},
    {"maxpool2d", SHEARS_UK_CONV_NUM_PARAMS, SHEARS_UK_CONV_FLAGS, 1,
     SHEARS_UK_F_NUM},
    {"qgemm", SHEARS_UK_GEMM_NUM_PARAMS, SHEARS_UK_GEMM_FLAGS, 3,
     SHEARS_UK_QGEMM_F_NUM, /*integer=*/true},
    {"qconv2d", SHEARS_UK_CONV_NUM_PARAMS, SHEARS_UK_CONV_FLAGS, 3,
     SHEARS_UK_QGEMM_F_NUM, /*integer=*/true},
    {"spconv2d", SHEARS_UK_CONV_NUM_PARAMS, SHEARS_UK_CONV_FLAGS, 2,
     SHEARS_UK_F_NUM},
    {"spgemm", SHEARS_UK_GEMM_NUM_PARAMS, SHEARS_UK_GEMM_FLAGS, 2,
     SHEARS_UK_F_NUM},
    {"wqgemm", SHEARS_UK_WQGEMM_NUM_PARAMS, SHEARS_UK_GEMM_FLAGS, 3,
     SHEARS_UK_F_NUM},
};
const KernelInfo *lookupKernel(StringRef name) {
  for (const KernelInfo &info : kKernels)
    if (info.name == name)
      return &info;
  return nullptr;
}
} // namespace

unsigned UKernelOp::getFlagsSlot() {
  return lookupKernel(getKernel())->flagsSlot;
}

bool UKernelOp::takesResidualInPlace(StringRef kernel) {
  const KernelInfo *info = lookupKernel(kernel);
  return info && info->residualInPlace;
}

OpOperand *UKernelOp::getResidualInPlace() {
  if (!takesResidualInPlace(getKernel()) ||
      !(getFlags() & SHEARS_UK_HAS_RESIDUAL))
    return nullptr;
  return &getInputsMutable()[getInputs().size() - 1];
}

bool UKernelOp::takesOutStride() {
  const KernelInfo *info = lookupKernel(getKernel());
  return info->numParams == SHEARS_UK_CONV_NUM_PARAMS && !info->integer;
}

LogicalResult UKernelOp::verify() {
  const KernelInfo *info = lookupKernel(getKernel());
  if (!info)
    return emitOpError()
           << "unknown micro-kernel '" << getKernel()
           << "' (bmm, conv2d, dwconv2d, gemm, maxpool2d, qconv2d, "
              "qgemm, spconv2d, spgemm, wqgemm)";
  if (getIparams().size() != info->numParams)
    return emitOpError() << "'" << getKernel() << "' takes "
                         << info->numParams << " iparams, got "
                         << getIparams().size();
  if (getFparams().size() != info->numFparams)
    return emitOpError() << "'" << getKernel() << "' takes "
                         << info->numFparams << " fparams, got "
                         << getFparams().size();
  int64_t flags = getFlags();
  if (!(flags & SHEARS_UK_HAS_BIAS) && info->integer)
    return emitOpError() << "flags " << flags << " lack the bias, which '"
                         << getKernel() << "' always has";
  if (flags & (SHEARS_UK_QUANT_INPUT_U8 | SHEARS_UK_QUANT_OUTPUT_U8 |
               SHEARS_UK_QUANT_OUTPUT_BOTH) &&
      !info->integer)
    return emitOpError() << "flags " << flags
                         << " ask for u8 operands, which only qconv2d and "
                            "qgemm take";
  bool both = flags & SHEARS_UK_QUANT_OUTPUT_BOTH;
  if (both && flags & SHEARS_UK_QUANT_OUTPUT_U8)
    return emitOpError() << "flags " << flags
                         << " ask for a u8 output and for both outputs";
  if (flags & SHEARS_UK_HAS_BIAS && getKernel() == "maxpool2d")
    return emitOpError() << "flags " << flags
                         << " ask for a bias, which maxpool2d has not";
  if (flags & SHEARS_UK_CONV_CHANNEL_PANELS && getKernel() != "conv2d")
    return emitOpError() << "flags " << flags
                         << " ask for channel panels, which only conv2d has";
  if (flags & SHEARS_UK_SPGEMM_PLANES &&
      (getKernel() != "spgemm" || getIparams()[SHEARS_UK_GEMM_A_RANK] < 3))
    return emitOpError() << "flags " << flags
                         << " ask for planes, which only spgemm on an input "
                            "of rank 3 or more has";
  if (flags & SHEARS_UK_QGEMM_DYNAMIC && getKernel() != "qgemm")
    return emitOpError() << "flags " << flags
                         << " ask for a dynamic quantization, which only "
                            "qgemm has";
  if (getKernel() == "wqgemm") {
    ArrayRef<int64_t> ip = getIparams();
    int64_t bits = ip[SHEARS_UK_WQGEMM_BITS],
            group = ip[SHEARS_UK_WQGEMM_GROUP];
    int64_t k = ip[SHEARS_UK_GEMM_K];
    if (bits != 4 && bits != 1)
      return emitOpError() << "bits " << bits << ": wqgemm reads 4 or 1";
    if (bits == 4 ? group < 1 || (group % 2 != 0 && group < k) : group != k)
      return emitOpError() << "group " << group << " of " << bits
                           << "-bit weights over K = " << k
                           << ": int4 groups are even or K, binary's K";
  }
  if (info->numParams == SHEARS_UK_CONV_NUM_PARAMS) {
    ArrayRef<int64_t> ip = getIparams();
    int64_t stride = ip[SHEARS_UK_CONV_OUT_STRIDE];
    int64_t image =
        ip[SHEARS_UK_CONV_COUT] * ip[SHEARS_UK_CONV_OH] * ip[SHEARS_UK_CONV_OW];
    if (stride != 0 && !takesOutStride())
      return emitOpError() << "out-stride " << stride << ": '" << getKernel()
                           << "' writes dense outputs only (0)";
    if (stride != 0 && stride < image)
      return emitOpError() << "out-stride " << stride << " is below the "
                           << image << " floats of an output image";
  }
  unsigned expected = info->minInputs + bool(flags & SHEARS_UK_HAS_BIAS) +
                      bool(flags & SHEARS_UK_HAS_RESIDUAL) +
                      bool(flags & SHEARS_UK_QGEMM_DYNAMIC);
  if (getInputs().size() != expected)
    return emitOpError() << "flags " << flags << " call for " << expected
                         << " inputs, got " << getInputs().size();
  unsigned outputs = both ? 2 : 1;
  if (getOutputs().size() != outputs)
    return emitOpError() << "flags " << flags << " call for " << outputs
                         << " output" << (both ? "s" : "") << ", got "
                         << getOutputs().size();
  bool tensors = isa<RankedTensorType>(getOutputs()[0].getType());
  if (getResults().size() != (tensors ? outputs : 0u))
    return emitOpError() << (tensors ? "on tensors has a result per output"
                                     : "on memrefs has no results");
  for (unsigned i = 0; tensors && i < outputs; ++i)
    if (getResult(i).getType() != getOutputs()[i].getType())
      return emitOpError() << "result type differs from the output's";
  for (Value operand : getOperands())
    if (isa<RankedTensorType>(operand.getType()) != tensors)
      return emitOpError() << "mixes tensors and memrefs";
  // The kernels read the input and write the output as f32, or as u8 where
  // the flags say.
  auto checkElements = [&](Value value, StringRef what,
                           bool bytes) -> LogicalResult {
    Type element = cast<ShapedType>(value.getType()).getElementType();
    if (bytes ? element.isUnsignedInteger(8) : element.isF32())
      return success();
    return emitOpError() << "flags " << flags << " call for " << what << " of "
                         << (bytes ? "ui8" : "f32") << ", got " << element;
  };
  if (failed(checkElements(getInputs()[0], "an input",
                           flags & SHEARS_UK_QUANT_INPUT_U8)) ||
      failed(checkElements(getOutputs()[0], "an output",
                           flags & SHEARS_UK_QUANT_OUTPUT_U8)) ||
      (both && failed(checkElements(getOutputs()[1], "a second output",
                                    /*bytes=*/true))))
    return failure();
  if (both && cast<ShapedType>(getOutputs()[0].getType()).getShape() !=
                  cast<ShapedType>(getOutputs()[1].getType()).getShape())
    return emitOpError() << "the u8 output's shape differs from the f32 one's";
  return success();
}

void UKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getInputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  for (OpOperand &operand : getOutputsMutable())
    if (isa<MemRefType>(operand.get().getType())) {
      // Several k-blocks read back what earlier ones wrote.
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    }
}
