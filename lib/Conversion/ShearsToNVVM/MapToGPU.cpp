//===- MapToGPU.cpp - linalg on memrefs to GPU-mapped parallel loops ------===//
//
// Upstream's GPU pipeline does no parallelization of its own: it turns
// `scf.parallel` loops that carry a mapping to blocks and threads into
// `gpu.launch`. This pass produces those loops from the linalg ops left after
// bufferization. An op, with the elementwise ops after it that read its
// elements one for one, becomes one kernel with one thread per element (or
// register block of elements) of its iteration space's parallel part; the
// reductions run sequentially in that thread, so no kernel needs barriers
// or atomics and results do not depend on the launch shape. Large matrix
// products and convolutions are the exception: they become tiled kernels of
// their own (TileContractions.cpp).
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "../GeneralizeAndInterchange.h"
#include "Buffers.h"
#include "TileContractions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

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
    Value root = shears::plannedBufferOf(buffer);
    SmallVector<memref::LoadOp> loads;
    bool exclusive = true;
    loop.getBody()->walk([&](Operation *op) {
      if (op == store)
        return;
      for (Value operand : op->getOperands()) {
        if (!isa<MemRefType>(operand.getType()) ||
            shears::plannedBufferOf(operand) != root)
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

/// Outputs a thread computes at once where it runs reductions.
constexpr int64_t kRegisterBlock = 4;

/// Where the loop's threads run reductions (a contraction, a convolution,
/// pooling), makes each thread compute kRegisterBlock consecutive elements
/// along one static dimension: the loop steps over blocks of them and a new
/// loop inside runs the elements of a block, to be unrolled and jammed into
/// the reductions, so that each value a reduction loads serves
/// kRegisterBlock accumulators. The dimension is an outer one if one fits
/// (consecutive threads keep consecutive elements of the innermost), of a
/// size that kRegisterBlock divides. Returns the new loop, or null.
scf::ForOp blockForRegisters(RewriterBase &rewriter, scf::ParallelOp loop) {
  Block *body = loop.getBody();
  if (body->getOps<scf::ForOp>().empty())
    return nullptr;
  std::optional<unsigned> dim;
  for (unsigned d = 0, n = loop.getNumLoops(); d < n; ++d) {
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()[d]),
                           ub = getConstantIntValue(loop.getUpperBound()[d]),
                           step = getConstantIntValue(loop.getStep()[d]);
    if (lb != 0 || step != 1 || !ub || *ub < kRegisterBlock ||
        *ub % kRegisterBlock)
      continue;
    dim = d;
    if (d + 1 < n)
      break;
  }
  if (!dim)
    return nullptr;
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value block = arith::ConstantIndexOp::create(rewriter, loc, kRegisterBlock);
  rewriter.modifyOpInPlace(loop,
                           [&] { loop.getStepMutable()[*dim].assign(block); });
  rewriter.setInsertionPointToStart(body);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  auto elements = scf::ForOp::create(rewriter, loc, zero, block, one);
  for (Operation &op : llvm::make_early_inc_range(
           llvm::make_range(std::next(Block::iterator(elements)),
                            Block::iterator(body->getTerminator()))))
    rewriter.moveOpBefore(&op, elements.getBody()->getTerminator());
  rewriter.setInsertionPointToStart(elements.getBody());
  Value first = loop.getInductionVars()[*dim];
  Value element =
      arith::AddIOp::create(rewriter, loc, first, elements.getInductionVar());
  rewriter.replaceUsesWithIf(first, element, [&](OpOperand &use) {
    return use.getOwner() != element.getDefiningOp() &&
           elements->isProperAncestor(use.getOwner());
  });
  return elements;
}

gpu::ParallelLoopDimMappingAttr mapTo(Builder &b, gpu::Processor processor) {
  return b.getAttr<gpu::ParallelLoopDimMappingAttr>(
      processor, b.getDimIdentityMap(), b.getDimIdentityMap());
}

/// Whether two bounds are the same value (or equal constants).
bool sameBound(Value a, Value b) {
  if (a == b)
    return true;
  std::optional<int64_t> ca = getConstantIntValue(a),
                         cb = getConstantIntValue(b);
  return ca && cb && *ca == *cb;
}

/// Where a view of shears-plan-memory's workspace lies. Offsets are
/// `s * c` with s = max(batch, 1) and sizes at most p * s bytes for p bytes
/// at batch 1, so such a view lies in [c, c + p) in units of s. A static
/// workspace has constant offsets: exact byte ranges. The first buffer of a
/// scaled workspace has offset 0 and lies in [0, p) units of any scale.
struct WorkspaceRange {
  Value scale; // null: bytes, or any scale when `anyScale`
  bool anyScale = false;
  int64_t low, high;
};

std::optional<WorkspaceRange> workspaceRange(memref::ViewOp view) {
  MemRefType type = view.getType();
  if (view.getSizes().size() > 1 || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bytes = llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      bytes *= d;
  bool dynamic = !view.getSizes().empty();
  Value shift = view.getByteShift();
  if (auto mul = shift.getDefiningOp<arith::MulIOp>())
    if (std::optional<int64_t> c = getConstantIntValue(mul.getRhs()))
      return WorkspaceRange{mul.getLhs(), false, *c, *c + bytes};
  std::optional<int64_t> c = getConstantIntValue(shift);
  if (!c || (dynamic && *c != 0))
    return std::nullopt;
  return WorkspaceRange{Value(), dynamic, *c, *c + bytes};
}

/// Whether two buffers may share bytes: views of one allocation may, unless
/// they are workspace views at disjoint places.
bool mayAlias(Value a, Value b) {
  Value ra = shears::allocationOf(a), rb = shears::allocationOf(b);
  // Distinct allocations never overlap; arguments (and what is not an
  // allocation) might.
  auto allocated = [](Value v) {
    return isa_and_nonnull<gpu::AllocOp, memref::AllocOp, memref::AllocaOp>(
        v.getDefiningOp());
  };
  if (ra != rb)
    return !allocated(ra) && !allocated(rb);
  auto va = shears::plannedBufferOf(a).getDefiningOp<memref::ViewOp>();
  auto vb = shears::plannedBufferOf(b).getDefiningOp<memref::ViewOp>();
  if (!va || !vb || va == vb)
    return true;
  std::optional<WorkspaceRange> wa = workspaceRange(va),
                                wb = workspaceRange(vb);
  if (!wa || !wb)
    return true;
  bool comparable = wa->scale ? (wa->scale == wb->scale || wb->anyScale)
                              : (wa->anyScale ? bool(wb->scale)
                                              : (!wb->scale && !wb->anyScale));
  return !comparable || (wa->low < wb->high && wb->low < wa->high);
}

/// Whether `second`, the next loop after `first`, can take `first`'s body:
/// the same iteration space, only pure ops between them, and every buffer
/// that one of them writes and the other touches accessed by both at the
/// loops' own indices (element i of the one feeds element i of the other:
/// an elementwise op after the op that produced its input). Other buffers
/// they share must be disjoint.
bool canFuse(scf::ParallelOp first, scf::ParallelOp second) {
  if (first.getNumResults() || second.getNumResults() ||
      first.getNumLoops() != second.getNumLoops())
    return false;
  for (Operation *op = first->getNextNode(); op != second;
       op = op->getNextNode())
    if (!op || !isMemoryEffectFree(op) || op->getNumRegions())
      return false;
  for (auto [a, b] :
       llvm::zip(llvm::concat<Value>(first.getLowerBound(),
                                     first.getUpperBound(), first.getStep()),
                 llvm::concat<Value>(second.getLowerBound(),
                                     second.getUpperBound(), second.getStep())))
    if (!sameBound(a, b))
      return false;
  struct Access {
    Value buffer;
    bool write, identity;
  };
  auto accesses = [](scf::ParallelOp loop, SmallVectorImpl<Access> &out) {
    SmallVector<Value> ivs = loop.getInductionVars();
    return !loop.getBody()
                ->walk([&](Operation *op) {
                  if (isa<scf::ParallelOp>(op))
                    return WalkResult::interrupt();
                  auto load = dyn_cast<memref::LoadOp>(op);
                  auto store = dyn_cast<memref::StoreOp>(op);
                  if (load || store) {
                    ValueRange indices =
                        load ? load.getIndices() : store.getIndices();
                    out.push_back({load ? load.getMemRef() : store.getMemRef(),
                                   bool(store), llvm::equal(indices, ivs)});
                    return WalkResult::advance();
                  }
                  // Any other use of a buffer: unknown access.
                  return llvm::any_of(op->getOperandTypes(),
                                      llvm::IsaPred<MemRefType>)
                             ? WalkResult::interrupt()
                             : WalkResult::advance();
                })
                .wasInterrupted();
  };
  SmallVector<Access> one, two;
  if (!accesses(first, one) || !accesses(second, two))
    return false;
  for (const Access &a : one)
    for (const Access &b : two) {
      if (!a.write && !b.write)
        continue;
      if (a.buffer == b.buffer ? !(a.identity && b.identity)
                               : mayAlias(a.buffer, b.buffer))
        return false;
    }
  return true;
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
    std::optional<shears::GPUPrecision> tiledPrecision =
        shears::parseGPUPrecision(precision);
    if (!tiledPrecision) {
      getOperation().emitError()
          << "precision must be fp32, tf32, fp16 or bf16, got '" << precision
          << "'";
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<scf::ParallelOp>() &&
          !op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ParallelOp> loops;
    for (linalg::LinalgOp op : ops) {
      if (tileContractions && succeeded(shears::tileContractionForGPU(
                                  rewriter, op, minTiles, *tiledPrecision)))
        continue;
      FailureOr<scf::ParallelOp> loop = toParallelLoop(rewriter, op);
      if (failed(loop))
        return signalPassFailure();
      loops.push_back(*loop);
    }
    // One kernel for an op and the elementwise ops that follow it.
    if (fuse) {
      SmallVector<scf::ParallelOp> fused;
      for (scf::ParallelOp loop : loops) {
        if (!fused.empty() && canFuse(fused.back(), loop)) {
          scf::ParallelOp first = fused.back();
          rewriter.eraseOp(first.getBody()->getTerminator());
          rewriter.inlineBlockBefore(first.getBody(), loop.getBody(),
                                     loop.getBody()->begin(),
                                     loop.getInductionVars());
          rewriter.eraseOp(first);
          fused.back() = loop;
          continue;
        }
        fused.push_back(loop);
      }
      loops = std::move(fused);
    }
    for (scf::ParallelOp loop : loops)
      if (failed(mapLoop(rewriter, loop)))
        return signalPassFailure();
  }

  /// The op as an scf.parallel over its parallel dimensions (one iteration
  /// if it has none) with its reductions as scf.for loops inside, indices
  /// that are loop variables as such, and bounds folded to the values they
  /// read (so that ops over the same shapes have the same bounds).
  FailureOr<scf::ParallelOp> toParallelLoop(IRRewriter &rewriter,
                                            linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return op.emitError("mapping to the GPU needs buffers: bufferize first");
    FailureOr<linalg::LinalgOp> ordered = parallelLoopsFirst(rewriter, op);
    if (failed(ordered))
      return op.emitError("cannot put the parallel loops of this op first");
    op = *ordered;
    bool parallel = op.getNumParallelLoops() > 0;
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
    auto fold = [&](Operation *foldable) {
      SmallVector<OpFoldResult> folded;
      if (succeeded(foldable->fold(folded)) && folded.size() == 1)
        if (auto value = dyn_cast<Value>(folded.front()))
          rewriter.replaceOp(foldable, value);
    };
    // Indices come as affine.apply of the loop variables; identities fold,
    // so that accesses to the same element read the same values.
    outer.getBody()->walk([&](affine::AffineApplyOp apply) { fold(apply); });
    for (Value bound : outer.getUpperBound())
      if (auto dim = bound.getDefiningOp<memref::DimOp>())
        fold(dim);
    return outer;
  }

  /// Maps the loop to blocks and threads, and carries its reductions'
  /// accumulators in registers.
  LogicalResult mapLoop(IRRewriter &rewriter, scf::ParallelOp outer) {
    Location loc = outer.getLoc();
    // Reductions' accumulators in registers, innermost loops first: an outer
    // loop then sees the inner one's accumulator load and store, and
    // carries it in turn. Then a thread's kRegisterBlock elements share the
    // reductions' loads.
    scf::ForOp elements = blockForRegisters(rewriter, outer);
    SmallVector<scf::ForOp> reductions;
    outer.getBody()->walk<WalkOrder::PostOrder>(
        [&](scf::ForOp loop) { reductions.push_back(loop); });
    for (scf::ForOp loop : reductions)
      promoteAccumulator(rewriter, loop);
    if (elements)
      (void)loopUnrollJamByFactor(elements, kRegisterBlock);

    // A block needs no more threads than the loop has iterations (at least
    // one: an empty loop has an empty grid).
    int64_t threads = blockSize, iterations = 1;
    bool known = true;
    for (auto [lb, ub, step] : llvm::zip(
             outer.getLowerBound(), outer.getUpperBound(), outer.getStep())) {
      std::optional<int64_t> l = getConstantIntValue(lb),
                             u = getConstantIntValue(ub),
                             s = getConstantIntValue(step);
      if (!l || !u || !s || *s <= 0)
        known = false;
      else
        iterations *= llvm::divideCeil(std::max<int64_t>(*u - *l, 0), *s);
    }
    if (known)
      threads = std::clamp<int64_t>(iterations, 1, threads);

    // One dimension of threads per block.
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
    return success();
  }
};

} // namespace
