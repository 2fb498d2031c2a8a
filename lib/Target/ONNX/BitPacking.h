//===- BitPacking.h - int4 and binary weights in packed bytes ---*- C++ -*-===//
//
// ONNX before opset 21 has no 4-bit or 1-bit type, so a weight quantized to
// int4 or to +-1 is stored in an INT8 tensor: twice or eight times the bytes
// its values need. The exporter packs such a tensor into a UINT8 initializer
// and writes the opset-13 nodes that unpack it back into the same INT8
// tensor (BitShift, Reshape, Slice, Pad, and Cast / Sub / Cast to take the
// offset off), so any ONNX runtime reads
// the file; the importer folds those nodes back into the INT8 initializer,
// so Shears sees exactly the model it wrote.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_TARGET_ONNX_BITPACKING_H
#define SHEARS_LIB_TARGET_ONNX_BITPACKING_H

namespace onnx {
class GraphProto;
} // namespace onnx

namespace mlir::shears {

/// Packs every INT8 initializer that only DequantizeLinear nodes read and
/// whose values are all +-1 (1 bit each) or in [-8, 7] (4 bits each), where
/// that saves bytes, and prepends the nodes that unpack it under its name.
/// An int4 weight's group padding (a [rows * groups, group] view reshaped
/// to [rows, groups * group] and sliced to the row's length) is not stored.
void packLowBitWeights(onnx::GraphProto &graph);

/// Evaluates the unpacking nodes that packLowBitWeights writes, wherever
/// their inputs are initializers, into initializers: BitShift, Unsqueeze,
/// Reshape, Slice and Pad on UINT8 data, Cast from UINT8 to INT32 and from
/// INT32 to INT8, and Sub of an INT32 scalar. Anything else, or any input
/// it cannot read, is left for the importer to take or reject.
void unpackLowBitWeights(onnx::GraphProto &graph);

} // namespace mlir::shears

#endif // SHEARS_LIB_TARGET_ONNX_BITPACKING_H
