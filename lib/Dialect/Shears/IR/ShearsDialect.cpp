//===- ShearsDialect.cpp - Shears dialect ---------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

using namespace mlir;
using namespace mlir::shears;

#include "shears/Dialect/Shears/IR/ShearsOpsDialect.cpp.inc"

void ShearsDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "shears/Dialect/Shears/IR/ShearsOps.cpp.inc"
      >();
}

Operation *ShearsDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
