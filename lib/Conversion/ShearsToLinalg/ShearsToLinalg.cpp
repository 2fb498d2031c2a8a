//===- ShearsToLinalg.cpp - shears ops to linalg/tensor/arith/math --------===//

#include "Patterns.h"
#include "QuantizationToLinalg.h"

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::shears {
#define GEN_PASS_DEF_CONVERTSHEARSTOLINALG
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

struct ConvertShearsToLinalg
    : shears::impl::ConvertShearsToLinalgBase<ConvertShearsToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<ShearsDialect>();
    // Micro-kernel calls stay as they are until after bufferization.
    target.addLegalOp<UKernelOp>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(ctx);
    populateContractionPatterns(patterns);
    populateElementwisePatterns(patterns);
    populatePoolingPatterns(patterns);
    populateDataMovementPatterns(patterns);
    populateQuantizationToLinalgPatterns(patterns, target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
