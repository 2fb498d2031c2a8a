//===- Buffers.h - Which buffer a memref value is a view of -----*- C++ -*-===//
//
// What the GPU passes ask of a memref value: the allocation it views (to
// tell host from device buffers, and buffers that may overlap), and the
// buffer of shears-plan-memory's plan it views (buffers the plan keeps live
// together have disjoint bytes).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_LIB_CONVERSION_SHEARSTONVVM_BUFFERS_H
#define SHEARS_LIB_CONVERSION_SHEARSTONVVM_BUFFERS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::shears {

/// The value `value` views, through view-like ops (subviews, casts,
/// reshapes; memref.view too unless `stopAtView`) and the base buffer of
/// memref.extract_strided_metadata.
inline Value viewSource(Value value, bool stopAtView) {
  while (true) {
    if (auto view = value.getDefiningOp<ViewLikeOpInterface>();
        view && !(stopAtView && isa<memref::ViewOp>(view))) {
      value = view.getViewSource();
      continue;
    }
    if (auto metadata =
            value.getDefiningOp<memref::ExtractStridedMetadataOp>()) {
      value = metadata.getSource();
      continue;
    }
    return value;
  }
}

/// The allocation (or argument, or global) `value` is a view of.
inline Value allocationOf(Value value) {
  return viewSource(value, /*stopAtView=*/false);
}

/// The buffer of the memory plan `value` is a view of: a memref.view of the
/// workspace is one of its own.
inline Value plannedBufferOf(Value value) {
  return viewSource(value, /*stopAtView=*/true);
}

} // namespace mlir::shears

#endif // SHEARS_LIB_CONVERSION_SHEARSTONVVM_BUFFERS_H
