//===- MapToGPU.cpp - linalg on memrefs to GPU-mapped parallel loops ------===//
//
// Upstream's GPU pipeline does no parallelization of its own: it turns
// `scf.parallel` loops that carry a mapping to blocks and threads into
// `gpu.launch`. This pass produces those loops from the linalg ops left after
// bufferization. Every op becomes one kernel with one thread per element of
// its iteration space's parallel part; the reductions run sequentially in
// that thread, so no kernel needs barriers or atomics and results do not
// depend on the launch shape.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "../GeneralizeAndInterchange.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSMAPTOGPU
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// Puts the op's parallel loops outermost, keeping their relative order (and
/// the reductions'). Named ops are generalized first when that moves a loop.
FailureOr<linalg::LinalgOp> parallelLoopsFirst(RewriterBase &rewriter,
                                               linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (auto [i, kind] : llvm::enumerate(iterators))
    if (kind == utils::IteratorType::parallel)
      order.push_back(i);
  for (auto [i, kind] : llvm::enumerate(iterators))
    if (kind != utils::IteratorType::parallel)
      order.push_back(i);
  if (llvm::equal(order, llvm::seq<unsigned>(0, order.size())))
    return op;
  FailureOr<linalg::GenericOp> interchanged =
      shears::generalizeAndInterchange(rewriter, op, order);
  if (failed(interchanged))
    return failure();
  return cast<linalg::LinalgOp>(interchanged->getOperation());
}

/// The allocation a buffer is a view of. A memref.view is one of its own:
/// shears-plan-memory gives buffers that are live together disjoint bytes.
Value rootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>()) {
    if (isa<memref::ViewOp>(view))
      break;
    value = view.getViewSource();
  }
  return value;
}

/// Keeps the element a reduction loop accumulates into in a register: where
/// the loop's body loads and stores one element of a buffer at indices
/// defined outside it, and reads or writes that buffer nowhere else, the
/// element is loaded once before the loop, carried through it, and stored
/// once after. Otherwise each step would go through memory (kernel
/// arguments are not known not to alias, so LLVM cannot do this).
void promoteAccumulator(RewriterBase &rewriter, scf::ForOp loop) {
  for (auto store : loop.getBody()->getOps<memref::StoreOp>()) {
    Value buffer = store.getMemRef();
    // A copy: the store goes, its indices stay in use.
    SmallVector<Value> indices(store.getIndices());
    if (llvm::any_of(indices, [&](Value i) {
          return loop->isAncestor(i.getParentBlock()->getParentOp());
        }))
      continue;
    // The loads of the element, and nothing else touching its buffer.
    Value root = rootBuffer(buffer);
    SmallVector<memref::LoadOp> loads;
    bool exclusive = true;
    loop.getBody()->walk([&](Operation *op) {
      if (op == store)
        return;
      for (Value operand : op->getOperands()) {
        if (!isa<MemRefType>(operand.getType()) || rootBuffer(operand) != root)
          continue;
        auto load = dyn_cast<memref::LoadOp>(op);
        if (load && operand == buffer && load->getBlock() == loop.getBody() &&
            llvm::equal(load.getIndices(), indices) &&
            load->isBeforeInBlock(store))
          loads.push_back(load);
        else
          exclusive = false;
      }
    });
    if (!exclusive)
      continue;
    Location loc = store.getLoc();
    rewriter.setInsertionPoint(loop);
    Value init = memref::LoadOp::create(rewriter, loc, buffer, indices);
    Value stored = store.getValueToStore();
    FailureOr<LoopLikeOpInterface> carried = loop.replaceWithAdditionalYields(
        rewriter, init, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
          return SmallVector<Value>{stored};
        });
    if (failed(carried))
      return;
    auto newLoop = cast<scf::ForOp>(carried->getOperation());
    Value accumulator = newLoop.getRegionIterArgs().back();
    for (memref::LoadOp load : loads)
      rewriter.replaceOp(load, accumulator);
    rewriter.eraseOp(store);
    rewriter.setInsertionPointAfter(newLoop);
    memref::StoreOp::create(rewriter, loc, newLoop.getResults().back(), buffer,
                            indices);
    return;
  }
}

gpu::ParallelLoopDimMappingAttr mapTo(Builder &b, gpu::Processor processor) {
  return b.getAttr<gpu::ParallelLoopDimMappingAttr>(
      processor, b.getDimIdentityMap(), b.getDimIdentityMap());
}

struct ShearsMapToGPU : shears::impl::ShearsMapToGPUBase<ShearsMapToGPU> {
  using Base::Base;

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError()
          << "block-size must be between 1 and 1024 threads, got "
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<scf::ParallelOp>() &&
          !op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops)
      if (failed(mapOp(rewriter, op)))
        return signalPassFailure();
  }

  LogicalResult mapOp(IRRewriter &rewriter, linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return op.emitError("mapping to the GPU needs buffers: bufferize first");
    FailureOr<linalg::LinalgOp> ordered = parallelLoopsFirst(rewriter, op);
    if (failed(ordered))
      return op.emitError("cannot put the parallel loops of this op first");
    op = *ordered;

    // An op without a parallel loop (a full reduction, a scalar) runs in a
    // single thread: a one-iteration loop to map.
    bool parallel = op.getNumParallelLoops() > 0;
    // A block needs no more threads than the op has iterations (at least
    // one: an empty op has an empty grid).
    int64_t threads = blockSize;
    if (!parallel)
      threads = 1;
    else if (SmallVector<int64_t> ranges = op.getStaticLoopRanges();
             llvm::none_of(
                 ArrayRef(ranges).take_front(op.getNumParallelLoops()),
                 ShapedType::isDynamic))
      threads = std::clamp<int64_t>(
          computeProduct(ArrayRef(ranges).take_front(op.getNumParallelLoops())),
          1, threads);
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    scf::ParallelOp single;
    if (!parallel) {
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      single = scf::ParallelOp::create(rewriter, loc, zero, one, one);
      rewriter.moveOpBefore(op, single.getBody()->getTerminator());
      rewriter.setInsertionPoint(op);
    }
    FailureOr<linalg::LinalgLoops> loops =
        linalg::linalgOpToParallelLoops(rewriter, op);
    if (failed(loops))
      return op.emitError("cannot lower this op to parallel loops");
    rewriter.eraseOp(op);
    scf::ParallelOp outer =
        parallel ? dyn_cast<scf::ParallelOp>(loops->front()) : single;
    if (!outer)
      return emitError(loc, "the op's outermost loop is not parallel");

    // One dimension of blockSize threads per block.
    if (outer.getNumLoops() > 1) {
      Block *block = outer->getBlock();
      Operation *next = outer->getNextNode();
      SmallVector<unsigned> all =
          llvm::to_vector(llvm::seq<unsigned>(0, outer.getNumLoops()));
      collapseParallelLoops(rewriter, outer,
                            {std::vector(all.begin(), all.end())});
      outer =
          cast<scf::ParallelOp>(next ? next->getPrevNode() : &block->back());
    }
    auto [blockLoop, threadLoop] =
        scf::tileParallelLoop(outer, {threads}, /*noMinMaxBounds=*/true);
    if (failed(gpu::setMappingAttr(
            blockLoop, {mapTo(rewriter, gpu::Processor::BlockX)})) ||
        failed(gpu::setMappingAttr(threadLoop,
                                   {mapTo(rewriter, gpu::Processor::ThreadX)})))
      return emitError(loc, "cannot map the loops to blocks and threads");
    WalkResult nested = threadLoop.getBody()->walk([&](scf::ParallelOp inner) {
      SmallVector<gpu::ParallelLoopDimMappingAttr> sequential(
          inner.getNumLoops(), mapTo(rewriter, gpu::Processor::Sequential));
      return failed(gpu::setMappingAttr(inner, sequential))
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return emitError(loc, "cannot map an inner loop to one thread");
    // Indices come as affine.apply of the loop variables; identities fold,
    // so that a load and a store of the same element read the same values.
    threadLoop.getBody()->walk([&](affine::AffineApplyOp apply) {
      SmallVector<OpFoldResult> folded;
      if (succeeded(apply->fold(folded)) && folded.size() == 1)
        if (auto value = dyn_cast<Value>(folded.front()))
          rewriter.replaceOp(apply, value);
    });
    // Innermost loops first: an outer loop then sees the inner one's
    // accumulator load and store, and carries it in turn.
    SmallVector<scf::ForOp> reductions;
    threadLoop.getBody()->walk<WalkOrder::PostOrder>(
        [&](scf::ForOp loop) { reductions.push_back(loop); });
    for (scf::ForOp loop : reductions)
      promoteAccumulator(rewriter, loop);
    return success();
  }
};

} // namespace
