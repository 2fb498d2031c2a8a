//===- FuseRequantization.cpp - u8 tensors between integer kernels --------===//
//
// In QDQ form every quantized layer quantizes its f32 input itself. Where
// the producer is an integer kernel too, it can do that quantization in its
// epilogue (after bias, residual and activation, as the consumer would have
// seen the value) and hand the consumers bytes: the integers are the same,
// so the outputs are bitwise the same. Where others read the result in f32
// too (a residual block's output is the next block's residual), the
// producer writes both.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "shears-c/Kernels.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSFUSEREQUANTIZATION
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

bool isIntegerKernel(UKernelOp op) {
  return op.getKernel() == "qgemm" || op.getKernel() == "qconv2d";
}

struct FuseRequantization : OpRewritePattern<UKernelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UKernelOp op,
                                PatternRewriter &rewriter) const override {
    if (!isIntegerKernel(op) || op->getNumResults() != 1 ||
        op.getFlags() &
            (SHEARS_UK_QUANT_OUTPUT_U8 | SHEARS_UK_QUANT_OUTPUT_BOTH))
      return rewriter.notifyMatchFailure(op, "not an f32 integer kernel");
    Value result = op.getResult(0);
    // The integer kernels that quantize it as their input, all alike; the
    // other users read it in f32 (tensor.dim reads the shape only: fine
    // with either).
    std::optional<std::pair<float, float>> quantization;
    SmallVector<UKernelOp> consumers;
    bool floatUsers = false;
    for (OpOperand &use : result.getUses()) {
      if (isa<tensor::DimOp>(use.getOwner()))
        continue;
      auto user = dyn_cast<UKernelOp>(use.getOwner());
      if (!user || !isIntegerKernel(user) || use.getOperandNumber() != 0 ||
          llvm::count(user->getOperands(), result) != 1 ||
          user.getFlags() &
              (SHEARS_UK_QUANT_INPUT_U8 | SHEARS_UK_QGEMM_DYNAMIC)) {
        floatUsers = true;
        continue;
      }
      std::pair<float, float> params = {
          user.getFparams()[SHEARS_UK_QGEMM_F_A_SCALE],
          user.getFparams()[SHEARS_UK_QGEMM_F_A_ZERO_POINT]};
      if (quantization && *quantization != params)
        return rewriter.notifyMatchFailure(op, "users quantize differently");
      quantization = params;
      consumers.push_back(user);
    }
    if (consumers.empty())
      return rewriter.notifyMatchFailure(op, "no integer kernel reads it");

    // u8 only, or (users in f32 too) the f32 output and then its u8 copy.
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(result.getType());
    auto bytesType = type.clone(
        rewriter.getIntegerType(8, /*isSigned=*/false));
    rewriter.setInsertionPoint(op);
    Value bytesInit = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getOutputs()[0]),
        bytesType.getElementType());
    SmallVector<Value> inits;
    SmallVector<Type> types;
    if (floatUsers) {
      inits.push_back(op.getOutputs()[0]);
      types.push_back(type);
    }
    inits.push_back(bytesInit);
    types.push_back(bytesType);
    SmallVector<int64_t> iparams(op.getIparams());
    iparams[op.getFlagsSlot()] |=
        floatUsers ? SHEARS_UK_QUANT_OUTPUT_BOTH : SHEARS_UK_QUANT_OUTPUT_U8;
    SmallVector<float> fparams(op.getFparams());
    fparams[SHEARS_UK_QGEMM_F_OUT_SCALE] = quantization->first;
    fparams[SHEARS_UK_QGEMM_F_OUT_ZERO_POINT] = quantization->second;
    auto producer = UKernelOp::create(rewriter, loc, types, op.getKernelAttr(),
                                      op.getInputs(), inits,
                                      rewriter.getDenseI64ArrayAttr(iparams),
                                      rewriter.getDenseF32ArrayAttr(fparams));
    Value bytes = producer.getResults().back();
    for (UKernelOp user : consumers) {
      SmallVector<int64_t> userParams(user.getIparams());
      userParams[user.getFlagsSlot()] |= SHEARS_UK_QUANT_INPUT_U8;
      rewriter.modifyOpInPlace(user, [&] {
        user->setOperand(0, bytes);
        user.setIparamsAttr(rewriter.getDenseI64ArrayAttr(userParams));
      });
    }
    // What is left: tensor.dim, and the users in f32.
    rewriter.replaceOp(op, producer.getResult(0));
    return success();
  }
};

struct ShearsFuseRequantization
    : shears::impl::ShearsFuseRequantizationBase<ShearsFuseRequantization> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRequantization>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
