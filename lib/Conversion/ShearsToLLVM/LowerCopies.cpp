//===- LowerCopies.cpp - memref.copy to linalg.copy -----------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSLOWERCOPIES
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {
struct ShearsLowerCopies
    : shears::impl::ShearsLowerCopiesBase<ShearsLowerCopies> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](memref::CopyOp copy) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    });
  }
};
} // namespace
