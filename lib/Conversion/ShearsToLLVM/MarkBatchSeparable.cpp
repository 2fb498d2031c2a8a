//===- MarkBatchSeparable.cpp - Models the runtime may run in batch chunks ===//
//
// A model is batch-separable when every input and output has a dynamic
// leading dimension, the batch, and each batch element of the outputs
// depends only on the same batch element of the inputs. The runtime may then
// run a large batch as several calls on consecutive chunks of it
// (Model.cpp): each call's intermediates stay in the caches, where a whole
// batch of mobilenet_v2 (6 MB of intermediates an image) streams its 112x112
// layers through memory.
//
// The check is conservative, op by op on the shears dialect: a value is
// batched (leading dimension dynamic) or fixed (static shape: weights and
// what is computed from them only); an op with a batched operand must give
// batched results and be one of the ops below, under their conditions (no
// reduction, concatenation, slice, split or softmax along dimension 0, no
// reshape that moves elements across it, no dynamic quantization, whose
// scale spans the batch). Anything else keeps the model whole.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsInterfaces.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSMARKBATCHSEPARABLE
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

bool isBatched(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() >= 1 && type.isDynamicDim(0);
}

bool isFixed(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape();
}

/// Whether `axis` (negative: from the end) of a rank-`rank` value is a
/// dimension past the batch.
bool pastBatch(int64_t axis, int64_t rank) {
  return (axis < 0 ? axis + rank : axis) >= 1;
}

int64_t rankOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

/// The product of dims [1, rank) of a batched value, or nullopt when one
/// of them is dynamic.
std::optional<int64_t> elementsPerBatch(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t product = 1;
  for (int64_t d = 1; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d))
      return std::nullopt;
    product *= type.getDimSize(d);
  }
  return product;
}

/// Whether `op`, given that at least one operand is batched and every
/// operand is batched or fixed, computes each batch element of its batched
/// results from the same batch element of its batched operands.
bool keepsBatchElementsApart(Operation *op) {
  if (!llvm::all_of(op->getResults(), isBatched))
    return false;
  Value first = op->getOperand(0);
  int64_t rank = isa<RankedTensorType>(first.getType()) ? rankOf(first) : 0;
  // A fixed operand broadcast against batched ones must not span the batch.
  auto broadcastable = [&](Value operand) {
    auto type = cast<RankedTensorType>(operand.getType());
    return isBatched(operand) ||
           type.getRank() < rankOf(op->getResult(0)) || type.getDimSize(0) == 1;
  };
  if (isa<ElementwiseOpInterface>(op))
    return llvm::all_of(op->getOperands(), broadcastable);
  // The batched operand is the first; the rest (weights) are fixed.
  auto firstOnly = [&] {
    return isBatched(first) &&
           llvm::all_of(op->getOperands().drop_front(), isFixed);
  };
  if (isa<Conv2DOp, ConvTransposeOp, MaxPoolOp, AvgPoolOp, GlobalAvgPoolOp,
          BatchNormOp, LinearOp, MaskOp>(op))
    return firstOnly();
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    // [N, ..., M, K] x [K, N'] or a batched [N, ..., K, N'].
    if (isFixed(matmul.getRhs()))
      return isBatched(matmul.getLhs()) && rankOf(matmul.getLhs()) >= 2;
    return rankOf(matmul.getLhs()) >= 3 && rankOf(matmul.getRhs()) >= 3 &&
           llvm::all_of(op->getOperands(), broadcastable);
  }
  if (isa<QuantizeOp, DequantizeOp>(op)) {
    auto axis = op->getAttrOfType<IntegerAttr>("axis");
    return firstOnly() && (!axis || pastBatch(axis.getInt(), rank));
  }
  if (isa<SoftmaxOp, LayerNormOp, ArgMaxOp, ArgMinOp, SplitOp, FlattenOp>(op)) {
    auto axis = op->getAttrOfType<IntegerAttr>("axis");
    return firstOnly() && axis && pastBatch(axis.getInt(), rank);
  }
  if (auto concat = dyn_cast<ConcatOp>(op))
    return llvm::all_of(op->getOperands(), isBatched) &&
           pastBatch(concat.getAxis(), rank);
  if (auto gather = dyn_cast<GatherOp>(op)) {
    // Rows of batched data by fixed indices, or (an embedding) rows of a
    // fixed table by batched indices.
    if (isBatched(gather.getData()))
      return isFixed(gather.getIndices()) && pastBatch(gather.getAxis(), rank);
    return isBatched(gather.getIndices()) &&
           !pastBatch(gather.getAxis(), rank);
  }
  if (isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceL2Op,
          ReduceProdOp>(op)) {
    auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes");
    return firstOnly() && axes && !axes.empty() &&
           llvm::all_of(axes.asArrayRef(),
                        [&](int64_t a) { return pastBatch(a, rank); });
  }
  if (auto slice = dyn_cast<SliceOp>(op))
    return firstOnly() && llvm::all_of(slice.getAxes(), [&](int64_t a) {
             return pastBatch(a, rank);
           });
  if (auto transpose = dyn_cast<TransposeOp>(op))
    return firstOnly() && transpose.getPerm()[0] == 0;
  if (auto pad = dyn_cast<PadOp>(op))
    return firstOnly() && pad.getPads()[0] == 0 && pad.getPads()[rank] == 0;
  if (auto resize = dyn_cast<ResizeOp>(op))
    return firstOnly() && resize.getScales()[0] == 1.0f;
  if (isa<ReshapeOp>(op)) {
    std::optional<int64_t> in = elementsPerBatch(first);
    std::optional<int64_t> out = elementsPerBatch(op->getResult(0));
    return isBatched(first) && in && out && *in == *out;
  }
  return false;
}

struct ShearsMarkBatchSeparable
    : shears::impl::ShearsMarkBatchSeparableBase<ShearsMarkBatchSeparable> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    module->removeAttr("shears.batch_separable");
    func::FuncOp func = lookupEntryFunction(module);
    if (!func || func.isExternal() ||
        !llvm::all_of(func.getArguments(), isBatched) ||
        !llvm::all_of(func.getResultTypes(), [](Type type) {
          auto ranked = dyn_cast<RankedTensorType>(type);
          return ranked && ranked.getRank() >= 1 && ranked.isDynamicDim(0);
        }))
      return;
    WalkResult walk = func.walk([&](Operation *op) {
      if (op == func.getOperation() || isa<func::ReturnOp>(op))
        return WalkResult::advance();
      bool batched = false;
      for (Value operand : op->getOperands()) {
        if (!isBatched(operand) && !isFixed(operand))
          return WalkResult::interrupt();
        batched |= isBatched(operand);
      }
      if (!batched) // Weights, or what is computed from them alone.
        return llvm::all_of(op->getResults(), isFixed)
                   ? WalkResult::advance()
                   : WalkResult::interrupt();
      return keepsBatchElementsApart(op) ? WalkResult::advance()
                                         : WalkResult::interrupt();
    });
    if (!walk.wasInterrupted())
      module->setAttr("shears.batch_separable", UnitAttr::get(&getContext()));
  }
};

} // namespace
