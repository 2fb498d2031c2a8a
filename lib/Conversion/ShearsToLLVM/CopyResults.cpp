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
struct ShearsCopyResults
    : shears::impl::ShearsCopyResultsBase<ShearsCopyResults> {
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      auto func = dyn_cast<func::FuncOp>(ret->getParentOp());
      if (!func || !func.isPublic())
        return;
      OpBuilder b(ret);
      Location loc = ret.getLoc();
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type)
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
