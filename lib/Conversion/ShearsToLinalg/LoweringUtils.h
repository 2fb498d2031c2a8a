//===- LoweringUtils.h - Helpers of the shears-to-linalg patterns ---------===//

#ifndef SHEARS_CONVERSION_SHEARSTOLINALG_LOWERINGUTILS_H
#define SHEARS_CONVERSION_SHEARSTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::shears::lowering {

using utils::IteratorType;
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

template <typename OpTy> struct ShearsPattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpConversionPattern<OpTy>::OpAdaptor;
};

RankedTensorType tensorType(Value v);

/// A `tensor.empty` of `type` whose dynamic sizes come from `source`'s dims at
/// `sourceDims[d]` for each dynamic result dim d (identity when empty).
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  Value source, ArrayRef<int64_t> sourceDims = {});

Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// `empty` filled with `value`.
Value filled(OpBuilder &b, Location loc, Value empty, double value);

/// The map from the iteration space of `result` to a broadcast operand:
/// right-aligned, with size-1 dims that the result does not have pinned to 0.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       RankedTensorType result);

/// An elementwise linalg.generic over `resultType` with broadcast inputs.
/// The result's dynamic sizes are `dynamicSizes` when given, else read from
/// an input that has the dim unbroadcast.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, BodyFn body, ValueRange dynamicSizes = {});

/// Pads the spatial dims of an NCHW tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, double value);

/// Broadcasts a [C] bias along `channelDim` of a tensor shaped like `like`
/// (the initial value of a convolution or matmul accumulator), or zeros.
Value accumulatorInit(OpBuilder &b, Location loc, RankedTensorType type,
                      Value like, Value bias, int64_t channelDim,
                      ArrayRef<int64_t> sourceDims = {});

/// A reduction of `input` over `axes` into a tensor with those dims kept as 1
/// (keepdims) and initial value `init`.
Value reduceKeepDims(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
    double initValue,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine);

/// The mean of `input` over `axes` with those dims kept as 1: a sum (which
/// may be reassociated, over trailing axes collapsed into one), then a
/// division by the count; failure when a reduced dim is dynamic.
FailureOr<Value> meanKeepDims(OpBuilder &b, Location loc, Value input,
                              ArrayRef<int64_t> axes);

/// Reshapes through a 1-D collapse and an expand; the one dynamic result dim
/// (if any) is the element count divided by the static ones.
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                RankedTensorType resultType);

} // namespace mlir::shears::lowering

#endif // SHEARS_CONVERSION_SHEARSTOLINALG_LOWERINGUTILS_H
