//===- ShearsDialect.h - Shears dialect -------------------------*- C++ -*-===//

#ifndef SHEARS_DIALECT_SHEARS_IR_SHEARSDIALECT_H
#define SHEARS_DIALECT_SHEARS_IR_SHEARSDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "shears/Dialect/Shears/IR/ShearsOpsDialect.h.inc"

#endif // SHEARS_DIALECT_SHEARS_IR_SHEARSDIALECT_H
