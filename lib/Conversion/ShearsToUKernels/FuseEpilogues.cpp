//===- FuseEpilogues.cpp - Elementwise consumers into micro-kernels -------===//
//
// A residual add, relu or clip that is the only user of a micro-kernel's
// result moves into the kernel's epilogue, applied to each output tile while
// it is in registers: no separate pass over memory. The kernels apply bias,
// then residual, then activation, so an add fuses only into a kernel without
// an activation yet, and nothing fuses after an activation.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "shears-c/Kernels.h"

#include <limits>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSFUSEEPILOGUES
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

int activationOf(int64_t flags) {
  return (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
}

/// The kernel producing `value` if this op is its only user.
UKernelOp fusableProducer(Value value) {
  auto kernel = value.getDefiningOp<UKernelOp>();
  if (!kernel || !kernel->hasOneUse())
    return nullptr;
  return kernel;
}

/// Whether `kernel`, fused with `add`, may take `residual` (the add's other
/// operand) as its output too and compute in its buffer: no op reads it
/// after the add, nor does the kernel itself, and it is neither an argument
/// (the caller's buffer) nor a constant.
bool mayComputeIn(Value residual, AddOp add, UKernelOp kernel) {
  Operation *producer = residual.getDefiningOp();
  if (!producer || producer->hasTrait<OpTrait::ConstantLike>())
    return false;
  return llvm::all_of(residual.getUsers(), [&](Operation *user) {
    return user == add ||
           (user != kernel && user->getBlock() == add->getBlock() &&
            user->isBeforeInBlock(add));
  });
}

/// Replaces `consumer` by `kernel` with new flags, fparams and maybe one
/// more input (the residual, which goes after the bias), then also its
/// output where `inPlace`.
void fuse(PatternRewriter &rewriter, Operation *consumer, UKernelOp kernel,
          int64_t flags, ArrayRef<float> fparams, Value residual = Value(),
          bool inPlace = false) {
  SmallVector<int64_t> iparams(kernel.getIparams());
  iparams[kernel.getFlagsSlot()] = flags;
  SmallVector<Value> inputs(kernel.getInputs());
  if (residual)
    inputs.push_back(residual);
  SmallVector<Value> outputs(kernel.getOutputs());
  if (inPlace)
    outputs = {residual};
  rewriter.setInsertionPoint(consumer);
  auto fused =
      UKernelOp::create(rewriter, kernel.getLoc(), kernel.getResultTypes(),
                        kernel.getKernelAttr(), inputs, outputs,
                        rewriter.getDenseI64ArrayAttr(iparams),
                        rewriter.getDenseF32ArrayAttr(fparams));
  rewriter.replaceOp(consumer, fused.getResults());
  rewriter.eraseOp(kernel);
}

struct FuseResidualAdd : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [mine, other] : {std::pair(op.getLhs(), op.getRhs()),
                               std::pair(op.getRhs(), op.getLhs())}) {
      UKernelOp kernel = fusableProducer(mine);
      if (!kernel || mine == other)
        continue;
      int64_t flags = kernel.getFlags();
      // Same type as the output: no broadcast. (The fused kernel takes the
      // add's place, after the residual is computed.)
      if (flags & SHEARS_UK_HAS_RESIDUAL || activationOf(flags) ||
          other.getType() != mine.getType() ||
          op.getResult().getType() != mine.getType())
        continue;
      fuse(rewriter, op, kernel, flags | SHEARS_UK_HAS_RESIDUAL,
           kernel.getFparams(), other,
           UKernelOp::takesResidualInPlace(kernel.getKernel()) &&
               mayComputeIn(other, op, kernel));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no fusable producer");
  }
};

/// The activation a relu or clip becomes, with the clip's bounds. A missing
/// bound is the largest finite float: IR with infinities in an array
/// attribute does not parse back.
int activationFor(ReluOp, SmallVectorImpl<float> &) {
  return SHEARS_UK_ACT_RELU;
}
int activationFor(ClipOp op, SmallVectorImpl<float> &fparams) {
  fparams[SHEARS_UK_F_CLIP_MIN] = op.getMin()
                                      ? op.getMin()->convertToFloat()
                                      : std::numeric_limits<float>::lowest();
  fparams[SHEARS_UK_F_CLIP_MAX] = op.getMax()
                                      ? op.getMax()->convertToFloat()
                                      : std::numeric_limits<float>::max();
  return SHEARS_UK_ACT_CLIP;
}

template <typename OpTy>
struct FuseActivation : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    UKernelOp kernel = fusableProducer(op.getInput());
    if (!kernel || activationOf(kernel.getFlags()))
      return rewriter.notifyMatchFailure(op, "no fusable producer");
    SmallVector<float> fparams(kernel.getFparams());
    int activation = activationFor(op, fparams);
    fuse(rewriter, op, kernel,
         kernel.getFlags() | activation << SHEARS_UK_ACT_SHIFT, fparams);
    return success();
  }
};

struct ShearsFuseEpilogues
    : shears::impl::ShearsFuseEpiloguesBase<ShearsFuseEpilogues> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseResidualAdd, FuseActivation<ReluOp>,
                 FuseActivation<ClipOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
