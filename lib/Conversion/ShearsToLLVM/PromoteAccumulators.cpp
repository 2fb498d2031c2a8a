//===- PromoteAccumulators.cpp - Reduction accumulators in registers ------===//
//
// convert-linalg-to-loops lowers `out[i] += x[i, k]` to a load and a store of
// out[i] in every iteration of the k loop. LLVM must assume that `out` and
// `x` may overlap, so it keeps the chain in memory: the loop runs at store
// latency, and once fully unrolled its block costs LLVM's schedulers time
// quadratic in its length (a tiny ViT's LayerNorms took 20 s to compile).
// Linalg guarantees that an op's inputs do not overlap its outputs, which is
// what lets this pass carry the element through the loop as an iter_args
// value instead, as upstream's loop-invariant subset hoisting does for
// tensors.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPROMOTEACCUMULATORS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// An element that a loop reads and writes at the same invariant indices.
struct Accumulator {
  memref::StoreOp store;
  SmallVector<memref::LoadOp> loads;
};

/// The loop's accumulators, or nothing when any memory write in the loop is
/// not one (the loop is then left alone).
std::optional<SmallVector<Accumulator>> findAccumulators(scf::ForOp loop) {
  Block *body = loop.getBody();
  auto invariant = [&](ValueRange values) {
    return llvm::all_of(values, [&](Value value) {
      return loop.isDefinedOutsideOfLoop(value);
    });
  };
  SmallVector<memref::StoreOp> stores;
  SmallVector<memref::LoadOp> loads;
  WalkResult walk = loop.getRegion().walk([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      stores.push_back(store);
      return WalkResult::advance();
    }
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      loads.push_back(load);
      return WalkResult::advance();
    }
    // Loops and branches: their nested ops are walked.
    if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
        isMemoryEffectFree(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  if (walk.wasInterrupted() || stores.empty())
    return std::nullopt;

  SmallVector<Accumulator> accumulators;
  for (memref::StoreOp store : stores) {
    Value memref = store.getMemRef();
    if (store->getBlock() != body || !invariant(memref) ||
        !invariant(store.getIndices()))
      return std::nullopt;
    if (llvm::any_of(accumulators, [&](Accumulator &other) {
          return other.store.getMemRef() == memref;
        }))
      return std::nullopt;
    Accumulator accumulator{store, {}};
    for (memref::LoadOp load : loads) {
      if (load.getMemRef() != memref)
        continue;
      // Read in the same iteration before the store, at its indices.
      if (load->getBlock() != body || !load->isBeforeInBlock(store) ||
          !llvm::equal(load.getIndices(), store.getIndices()))
        return std::nullopt;
      accumulator.loads.push_back(load);
    }
    accumulators.push_back(std::move(accumulator));
  }
  return accumulators;
}

void promote(RewriterBase &rewriter, scf::ForOp loop) {
  std::optional<SmallVector<Accumulator>> accumulators = findAccumulators(loop);
  if (!accumulators)
    return;
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> inits;
  for (Accumulator &accumulator : *accumulators)
    inits.push_back(memref::LoadOp::create(rewriter, loop.getLoc(),
                                           accumulator.store.getMemRef(),
                                           accumulator.store.getIndices()));
  unsigned first = loop.getNumResults();
  FailureOr<LoopLikeOpInterface> promoted = loop.replaceWithAdditionalYields(
      rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
        SmallVector<Value> yielded;
        for (Accumulator &accumulator : *accumulators)
          yielded.push_back(accumulator.store.getValueToStore());
        return yielded;
      });
  if (failed(promoted))
    return;
  auto newLoop = cast<scf::ForOp>(promoted->getOperation());
  rewriter.setInsertionPointAfter(newLoop);
  for (auto [i, accumulator] : llvm::enumerate(*accumulators)) {
    Value carried = newLoop.getRegionIterArgs()[first + i];
    for (memref::LoadOp load : accumulator.loads)
      rewriter.replaceOp(load, carried);
    memref::StoreOp::create(
        rewriter, accumulator.store.getLoc(), newLoop.getResult(first + i),
        accumulator.store.getMemRef(), accumulator.store.getIndices());
    rewriter.eraseOp(accumulator.store);
  }
}

struct ShearsPromoteAccumulators
    : shears::impl::ShearsPromoteAccumulatorsBase<ShearsPromoteAccumulators> {
  using Base::Base;

  void runOnOperation() override {
    // Innermost first: a promoted loop's load and store then sit in its
    // parent's body, where they may be promoted again.
    SmallVector<scf::ForOp> loops;
    getOperation()->walk<WalkOrder::PostOrder>(
        [&](scf::ForOp loop) { loops.push_back(loop); });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      // Index computations that linalg-to-loops left in the body move out,
      // so that invariant indices are seen as such.
      moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
      promote(rewriter, loop);
    }
  }
};

} // namespace
