//===- ElementTypes.h - Bytes per element of ONNX tensor types --*- C++ -*-===//

#ifndef SHEARS_LIB_TARGET_ONNX_ELEMENTTYPES_H
#define SHEARS_LIB_TARGET_ONNX_ELEMENTTYPES_H

#include "onnx/onnx_pb.h"

#include <cstdint>

namespace mlir::shears {

/// Bytes per element of the ONNX element types Shears reads, 0 for others.
inline int64_t getElementByteWidth(int32_t type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    return 4;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
    return 8;
  case onnx::TensorProto::FLOAT16:
    return 2;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

} // namespace mlir::shears

#endif // SHEARS_LIB_TARGET_ONNX_ELEMENTTYPES_H
