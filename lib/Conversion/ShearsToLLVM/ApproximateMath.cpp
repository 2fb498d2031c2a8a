//===- ApproximateMath.cpp - Vectorizable erf, exp and tanh ---------------===//
//
// GELU (erf), softmax and sigmoid (exp) and tanh are per-element calls of
// libm once lowered: scalar, opaque to LLVM's loop vectorizer. Upstream's
// polynomial approximations replace them by arithmetic that vectorizes, as
// IREE's and onnx-mlir's CPU pipelines do.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSAPPROXIMATEMATH
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// The functions approximated: those on the hot path of models' activations.
bool isApproximated(StringRef name) {
  name.consume_front("math.");
  return name == "erf" || name == "exp" || name == "tanh";
}

struct ShearsApproximateMath
    : shears::impl::ShearsApproximateMathBase<ShearsApproximateMath> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa_and_nonnull<math::MathDialect>(op->getDialect()) &&
          isApproximated(op->getName().getStringRef()))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    // Only these ops and what their rewrites create.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(ops, std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
