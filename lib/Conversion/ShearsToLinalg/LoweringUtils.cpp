//===- LoweringUtils.cpp - Helpers of the shears-to-linalg patterns -------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace mlir::shears::lowering {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  Value source, ArrayRef<int64_t> sourceDims) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(tensor::DimOp::create(
          b, loc, source, sourceDims.empty() ? d : sourceDims[d]));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamic);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value filled(OpBuilder &b, Location loc, Value empty, double value) {
  auto type = tensorType(empty);
  Value scalar = floatConstant(b, loc, type.getElementType(), value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       RankedTensorType result) {
  SmallVector<AffineExpr> exprs;
  int64_t offset = result.getRank() - operand.getRank();
  for (int64_t d = 0; d < operand.getRank(); ++d) {
    bool broadcast =
        operand.getDimSize(d) == 1 && result.getDimSize(d + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(d + offset, ctx));
  }
  return AffineMap::get(result.getRank(), 0, exprs, ctx);
}

Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, BodyFn body, ValueRange dynamicSizes) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> dynamic(dynamicSizes);
  for (int64_t d = 0; dynamicSizes.empty() && d < resultType.getRank(); ++d) {
    if (!resultType.isDynamicDim(d))
      continue;
    for (Value in : inputs) {
      auto t = tensorType(in);
      int64_t id = d - (resultType.getRank() - t.getRank());
      if (id >= 0 && t.isDynamicDim(id)) {
        dynamic.push_back(tensor::DimOp::create(b, loc, in, id));
        break;
      }
    }
  }
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType(), dynamic);
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(ctx, tensorType(in), resultType));
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultType.getRank(), ctx));
  SmallVector<IteratorType> iterators(resultType.getRank(),
                                      IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultType, inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, double value) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto type = tensorType(input);
  SmallVector<int64_t> shape(type.getShape());
  for (int i = 0; i < 2; ++i)
    if (!ShapedType::isDynamic(shape[2 + i]))
      shape[2 + i] += pads[i] + pads[i + 2];
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                   b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[1])};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(pads[2]),
                                    b.getIndexAttr(pads[3])};
  Value padValue = floatConstant(b, loc, type.getElementType(), value);
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, low,
      high, padValue);
}

Value accumulatorInit(OpBuilder &b, Location loc, RankedTensorType type,
                      Value like, Value bias, int64_t channelDim,
                      ArrayRef<int64_t> sourceDims) {
  Value empty = emptyTensor(b, loc, type, like, sourceDims);
  if (!bias)
    return filled(b, loc, empty, 0.0);
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != channelDim)
      dims.push_back(d);
  return linalg::BroadcastOp::create(b, loc, bias, empty, dims).getResult()[0];
}

Value reduceKeepDims(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
    double initValue,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = tensorType(input);
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<AffineExpr> outExprs;
  SmallVector<IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    if (reduced)
      shape[d] = 1;
    outExprs.push_back(reduced ? getAffineConstantExpr(0, ctx)
                               : getAffineDimExpr(d, ctx));
    iterators.push_back(reduced ? IteratorType::reduction
                                : IteratorType::parallel);
  }
  auto outType = RankedTensorType::get(shape, type.getElementType());
  Value init = filled(b, loc, emptyTensor(b, loc, outType, input), initValue);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(type.getRank(), ctx),
      AffineMap::get(type.getRank(), 0, outExprs, ctx)};
  return linalg::GenericOp::create(
             b, loc, outType, input, init, maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, combine(nb, l, a[1], a[0]));
             })
      .getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value input,
                RankedTensorType resultType) {
  auto inType = tensorType(input);
  if (inType == resultType)
    return input;
  // To or from one element of rank 0: no reassociation groups.
  if (resultType.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, resultType, input,
                                           ArrayRef<ReassociationIndices>{});
  if (inType.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, resultType, input,
                                         ArrayRef<ReassociationIndices>{});
  Value flat = input;
  if (inType.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(
        b, loc, input,
        SmallVector<ReassociationIndices>{
            llvm::to_vector(llvm::seq<int64_t>(0, inType.getRank()))});
  if (resultType.getRank() == 1)
    return flat.getType() == resultType
               ? flat
               : tensor::CastOp::create(b, loc, resultType, flat).getResult();
  SmallVector<OpFoldResult> shape;
  int64_t staticProduct = 1;
  for (int64_t d : resultType.getShape())
    if (!ShapedType::isDynamic(d))
      staticProduct *= d;
  for (int64_t d : resultType.getShape()) {
    if (!ShapedType::isDynamic(d)) {
      shape.push_back(b.getIndexAttr(d));
      continue;
    }
    Value total = tensor::DimOp::create(b, loc, flat, 0);
    Value divisor = arith::ConstantIndexOp::create(b, loc, staticProduct);
    shape.push_back(arith::DivUIOp::create(b, loc, total, divisor).getResult());
  }
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, flat,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()))},
      shape);
}

FailureOr<Value> meanKeepDims(OpBuilder &b, Location loc, Value input,
                              ArrayRef<int64_t> axes) {
  auto type = tensorType(input);
  double count = 1;
  for (int64_t axis : axes) {
    if (type.isDynamicDim(axis))
      return failure();
    count *= type.getDimSize(axis);
  }
  // Trailing reduced dims (a global average pool's H and W) are summed as
  // one run of contiguous elements, and the sum may be reassociated: LLVM
  // then vectorizes it, where the chain of one add after another over
  // 13x13 outputs took squeezenet1_1's 1000-channel pool 60 us.
  int64_t rank = type.getRank(), reduced = static_cast<int64_t>(axes.size());
  bool trailing = reduced > 1;
  for (int64_t axis : axes)
    trailing = trailing && axis >= rank - reduced;
  Value source = input;
  SmallVector<int64_t> sumAxes(axes);
  SmallVector<ReassociationIndices> groups;
  if (trailing) {
    for (int64_t d = 0; d < rank - reduced; ++d)
      groups.push_back({d});
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(rank - reduced, rank)));
    source = tensor::CollapseShapeOp::create(b, loc, input, groups);
    sumAxes = {rank - reduced};
  }
  auto reassoc = arith::FastMathFlagsAttr::get(b.getContext(),
                                               arith::FastMathFlags::reassoc);
  Value sum = reduceKeepDims(
      b, loc, source, sumAxes, 0.0,
      [&](OpBuilder &nb, Location l, Value acc, Value v) -> Value {
        return arith::AddFOp::create(nb, l, acc, v, reassoc);
      });
  Value mean = elementwise(
      b, loc, tensorType(sum), sum,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return arith::DivFOp::create(
            nb, l, a[0], floatConstant(nb, l, a[0].getType(), count));
      });
  if (!trailing)
    return mean;
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  for (int64_t axis : axes) {
    shape[axis] = 1;
    sizes[axis] = b.getIndexAttr(1);
  }
  return tensor::ExpandShapeOp::create(
             b, loc, RankedTensorType::get(shape, type.getElementType()), mean,
             groups, sizes)
      .getResult();
}

} // namespace mlir::shears::lowering
