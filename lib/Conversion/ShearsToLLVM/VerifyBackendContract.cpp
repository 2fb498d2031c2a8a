//===- VerifyBackendContract.cpp - Only what the backend lowers -----------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSVERIFYBACKENDCONTRACT
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {
struct ShearsVerifyBackendContract
    : shears::impl::ShearsVerifyBackendContractBase<
          ShearsVerifyBackendContract> {
  using Base::Base;

  void runOnOperation() override {
    bool valid = true;
    getOperation()->walk([&](Operation *op) {
      if (isa<ModuleOp>(op))
        return;
      if (isa<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
              math::MathDialect, tensor::TensorDialect>(op->getDialect()) ||
          isa<shears::UKernelOp>(op))
        return;
      op->emitError() << "'" << op->getName()
                      << "' is not part of the backend contract (linalg, "
                         "tensor, arith, math, func, shears.ukernel): it was not lowered";
      valid = false;
    });
    if (!valid)
      signalPassFailure();
  }
};
} // namespace
