//===- ShearsInterfaces.h - Pruning-related op interfaces -------*- C++ -*-===//

#ifndef SHEARS_DIALECT_SHEARS_IR_SHEARSINTERFACES_H
#define SHEARS_DIALECT_SHEARS_IR_SHEARSINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::shears {

/// How an index of an operand dimension reappears in a result dimension. See
/// ChannelFlowOpInterface.
struct DimMapping {
  enum class Kind { Identity, Offset, Reshape };
  unsigned operandIndex;
  int64_t operandDim;
  unsigned resultIndex;
  int64_t resultDim;
  Kind kind = Kind::Identity;
  int64_t offset = 0;
};

/// The mappings of an elementwise op with numpy broadcasting: each operand
/// dimension that is not broadcast maps to the result's.
void getBroadcastDimMappings(Operation *op,
                             llvm::SmallVectorImpl<DimMapping> &mappings);

} // namespace mlir::shears

#include "shears/Dialect/Shears/IR/ShearsInterfaces.h.inc"

#endif // SHEARS_DIALECT_SHEARS_IR_SHEARSINTERFACES_H
