//===- CopyResults.cpp - Fresh buffers for returned memrefs ---------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSCOPYRESULTS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {
/// Whether the result `operand` of `ret` is a buffer allocated in the same
/// block and returned there only once: the caller can take it as it is.
bool isFresh(func::ReturnOp ret, OpOperand &operand) {
  auto alloc = operand.get().getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != ret->getBlock())
    return false;
  return llvm::count(ret->getOperands(), operand.get()) == 1;
}

struct ShearsCopyResults
    : shears::impl::ShearsCopyResultsBase<ShearsCopyResults> {
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([&](func::ReturnOp ret) {
      auto func = dyn_cast<func::FuncOp>(ret->getParentOp());
      if (!func || !func.isPublic())
        return;
      OpBuilder b(ret);
      Location loc = ret.getLoc();
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type || (inPlace && isFresh(ret, operand)))
          continue;
        SmallVector<Value> dynamic;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (type.isDynamicDim(d))
            dynamic.push_back(memref::DimOp::create(b, loc, operand.get(), d));
        Value copy = memref::AllocOp::create(
            b, loc, MemRefType::get(type.getShape(), type.getElementType()),
            dynamic);
        memref::CopyOp::create(b, loc, operand.get(), copy);
        operand.set(copy);
      }
    });
  }
};
} // namespace
