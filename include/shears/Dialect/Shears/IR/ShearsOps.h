//===- ShearsOps.h - Shears ops ---------------------------------*- C++ -*-===//

#ifndef SHEARS_DIALECT_SHEARS_IR_SHEARSOPS_H
#define SHEARS_DIALECT_SHEARS_IR_SHEARSOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsInterfaces.h"

#define GET_OP_CLASSES
#include "shears/Dialect/Shears/IR/ShearsOps.h.inc"

namespace mlir::shears {

/// Creates a `shears.constant` holding `values` as a dense_resource blob named
/// after `name` (made unique in the context).
ConstantOp createWeightConstant(OpBuilder &builder, Location loc,
                                RankedTensorType type, ArrayRef<float> values,
                                StringRef name);

/// The same from raw bytes of any element type.
ConstantOp createWeightConstant(OpBuilder &builder, Location loc,
                                RankedTensorType type, ArrayRef<char> bytes,
                                size_t alignment, StringRef name);

/// The bytes of a dense_resource constant whose blob holds exactly
/// `elementBytes` bytes per element, or failure (another kind of constant, a
/// released or truncated blob).
FailureOr<ArrayRef<char>> getResourceBytes(ElementsAttr attr,
                                           size_t elementBytes);

/// Returns the float contents of a constant tensor value (dense or
/// dense_resource, or a `shears.dequantize` of constants, maybe reshaped or
/// sliced),
/// or failure if `value` is not one.
FailureOr<SmallVector<float>> getConstantFloats(Value value);

/// The `shears.dequantize` that `weight` is, seen through the reshapes and
/// slices of group-wise quantization; null when it is not one.
DequantizeOp getWeightDequantize(Value weight);

/// Returns the contents of a constant tensor of i8, ui8 or i32, or failure.
FailureOr<SmallVector<int32_t>> getConstantInts(Value value);

/// Returns the contents of a constant tensor of indices (i64 or i32, dense
/// or dense_resource), or failure.
FailureOr<SmallVector<int64_t>> getConstantIndices(Value value);

/// The ONNX name a location carries (the importer gives each op its node's
/// name and each weight its initializer's as a NameLoc), found through fused
/// and call-site locations; empty when it has none.
StringRef getONNXName(Location loc);

/// The ONNX node name of a layer (`getONNXName` of its location).
inline StringRef getLayerName(Operation *op) {
  return getONNXName(op->getLoc());
}

/// A model's entry function: `main`, else the only public function; null
/// without one.
func::FuncOp lookupEntryFunction(ModuleOp module);

/// The name of `func`'s argument (or, with `result`, result) `index`: its
/// ONNX name (`shears.name`), else input_<index> (output_<index>).
std::string getEntryValueName(func::FuncOp func, unsigned index, bool result);

/// Registers the bufferization model of `shears.ukernel`
/// (BufferizableOpInterfaceImpl.cpp).
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace mlir::shears

#endif // SHEARS_DIALECT_SHEARS_IR_SHEARSOPS_H
