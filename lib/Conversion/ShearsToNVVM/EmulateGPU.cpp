//===- EmulateGPU.cpp - GPU-mapped code run on the CPU, for testing -------===//
//
// Where no GPU is, the GPU pipeline's own work (which buffers live where,
// how each op is split into blocks and threads) can still be checked by
// numbers: each gpu.launch becomes loops over its blocks and threads, run
// one after another on the host, and the device memory operations become
// host ones. A kernel's threads run in sequence; where a kernel has
// barriers (shears-map-to-gpu's tiled matrix products), each phase between
// two barriers runs for every thread of the block before the next phase,
// which is what the barriers promise. State a thread keeps across a barrier
// must be in memory: private memory becomes one slice per thread of a
// buffer, shared memory one buffer per launch, and values one phase
// computes from ids and constants are computed again in the next.
//
// Warp-level matrix operations (`gpu.subgroup_mma_*`, the tensor core
// kernels) are run by the first thread of each warp on whole matrices: each
// fragment value gets 16x16 elements of private memory (a value carried by
// a loop, its start, the value its body yields, and a product's
// accumulator with no other use share theirs), loads and stores copy
// between it and the memref, and a product is a loop nest in f32 over the
// operands as loaded (f16 ones extended).
//
// `nvvm.mma.sync` (bf16, m16n8k16: fragments in each thread's registers as
// PTX lays them out) exchanges registers through shared memory instead:
// each thread stores its operands, a barrier, then each computes its own 4
// outputs from its warp's stored operands.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/EquivalenceClasses.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSEMULATEGPU
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

struct ShearsEmulateGPU : shears::impl::ShearsEmulateGPUBase<ShearsEmulateGPU> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    WalkResult result = getOperation().walk([&](Operation *op) {
      rewriter.setInsertionPoint(op);
      LogicalResult done = success();
      if (auto launch = dyn_cast<gpu::LaunchOp>(op))
        done = emulateLaunch(rewriter, launch);
      else if (auto alloc = dyn_cast<gpu::AllocOp>(op))
        rewriter.replaceOpWithNewOp<memref::AllocOp>(
            alloc, alloc.getMemref().getType(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands());
      else if (auto dealloc = dyn_cast<gpu::DeallocOp>(op))
        rewriter.replaceOpWithNewOp<memref::DeallocOp>(dealloc,
                                                       dealloc.getMemref());
      else if (auto copy = dyn_cast<gpu::MemcpyOp>(op))
        rewriter.replaceOpWithNewOp<memref::CopyOp>(copy, copy.getSrc(),
                                                    copy.getDst());
      else if (isa<gpu::WaitOp>(op) && op->use_empty())
        rewriter.eraseOp(op);
      else if (auto call = dyn_cast<func::CallOp>(op))
        emulateRuntimeCall(rewriter, call);
      else
        return WalkResult::advance();
      return failed(done) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
  }

  /// The weights' device copies are the weights themselves.
  void emulateRuntimeCall(IRRewriter &rewriter, func::CallOp call) {
    if (call.getCallee() == "shears_gpu_constant")
      rewriter.replaceOp(call, call.getOperand(1));
    else if (call.getCallee() == "shears_gpu_release_constant")
      rewriter.eraseOp(call);
  }

  LogicalResult emulateLaunch(IRRewriter &rewriter, gpu::LaunchOp launch) {
    if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
        launch.getClusterSizeX() || launch.getDynamicSharedMemorySize() ||
        !launch.getBody().hasOneBlock())
      return launch.emitError("cannot emulate this launch: it is "
                              "asynchronous, has clusters or dynamic shared "
                              "memory, or its body has several blocks");
    if (failed(demoteFragments(rewriter, launch)) ||
        failed(exchangeMmaSync(rewriter, launch)))
      return failure();
    Location loc = launch.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value bounds[] = {launch.getGridSizeZ(),  launch.getGridSizeY(),
                      launch.getGridSizeX(),  launch.getBlockSizeZ(),
                      launch.getBlockSizeY(), launch.getBlockSizeX()};
    threadBounds.assign(bounds + 3, bounds + 6);
    // Constants are the same in every thread: before the launch.
    launch.getBody().walk([&](Operation *op) {
      if (op->hasTrait<OpTrait::ConstantLike>())
        rewriter.moveOpBefore(op, launch);
    });
    // Shared memory: one buffer, reused by each block in turn. Private
    // memory: one per thread of a block, a slice of one buffer.
    Block &body = launch.getBody().front();
    SmallVector<Value> buffers;
    auto plain = [](BlockArgument a) {
      auto type = cast<MemRefType>(a.getType());
      return MemRefType::get(type.getShape(), type.getElementType());
    };
    for (BlockArgument a : launch.getWorkgroupAttributions())
      buffers.push_back(memref::AllocOp::create(rewriter, loc, plain(a)));
    Value threads = arith::MulIOp::create(
        rewriter, loc, bounds[3],
        arith::MulIOp::create(rewriter, loc, bounds[4], bounds[5]));
    privateArrays.clear();
    placeholders.clear();
    for (BlockArgument a : launch.getPrivateAttributions()) {
      MemRefType type = plain(a);
      if (type.getRank() != 1 || !type.hasStaticShape())
        return launch.emitError("cannot emulate private memory of rank other "
                                "than 1 or of a dynamic size");
      Value all = memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get({ShapedType::kDynamic, type.getDimSize(0)},
                          type.getElementType()),
          threads);
      buffers.push_back(all);
      privateArrays.push_back(all);
      // A thread's slice (thread 0's until each phase takes its own).
      placeholders.push_back(threadSlice(rewriter, loc, all, zero));
    }
    // Thread ids stand in until each phase's loops give their own.
    for (gpu::Dimension d :
         {gpu::Dimension::z, gpu::Dimension::y, gpu::Dimension::x})
      placeholders.push_back(gpu::ThreadIdOp::create(rewriter, loc, d));
    // Blocks z, y, x; the threads of a block run phase by phase.
    SmallVector<Value> ivs;
    OpBuilder::InsertionGuard guard(rewriter);
    for (Value bound : ArrayRef(bounds).take_front(3)) {
      auto loop = scf::ForOp::create(rewriter, loc, zero, bound, one);
      ivs.push_back(loop.getInductionVar());
      rewriter.setInsertionPointToStart(loop.getBody());
    }
    gpu::KernelDim3 blockIds = launch.getBlockIds(),
                    threadIds = launch.getThreadIds(),
                    gridSize = launch.getGridSize(),
                    blockSize = launch.getBlockSize();
    size_t numPrivate = privateArrays.size();
    DenseMap<Value, Value> replacement = {
        {blockIds.z, ivs[0]},
        {blockIds.y, ivs[1]},
        {blockIds.x, ivs[2]},
        {threadIds.z, placeholders[numPrivate]},
        {threadIds.y, placeholders[numPrivate + 1]},
        {threadIds.x, placeholders[numPrivate + 2]},
        {gridSize.z, bounds[0]},
        {gridSize.y, bounds[1]},
        {gridSize.x, bounds[2]},
        {blockSize.z, bounds[3]},
        {blockSize.y, bounds[4]},
        {blockSize.x, bounds[5]}};
    for (auto [a, buffer] :
         llvm::zip(launch.getWorkgroupAttributions(),
                   ArrayRef(buffers).take_front(
                       launch.getNumWorkgroupAttributions())))
      replacement[a] = buffer;
    for (auto [a, slice] :
         llvm::zip(launch.getPrivateAttributions(), placeholders))
      replacement[a] = slice;
    SmallVector<Value> arguments;
    for (BlockArgument arg : body.getArguments())
      arguments.push_back(replacement.lookup(arg));
    if (llvm::is_contained(arguments, Value()))
      return launch.emitError("cannot emulate a launch with extra arguments");
    Block *blockBody = rewriter.getInsertionBlock();
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, blockBody, rewriter.getInsertionPoint(),
                               arguments);
    phases.clear();
    if (failed(splitIntoPhases(rewriter, *blockBody)) ||
        failed(rematerializeAcrossPhases(rewriter, blockBody->getParentOp())))
      return failure();
    for (Value placeholder : placeholders) {
      if (!placeholder.use_empty())
        return launch.emitError("cannot emulate a kernel that uses a thread's "
                                "id or private memory outside its phases");
      rewriter.eraseOp(placeholder.getDefiningOp());
    }
    rewriter.setInsertionPointAfter(launch);
    for (Value buffer : buffers)
      memref::DeallocOp::create(rewriter, loc, buffer);
    rewriter.eraseOp(launch);
    return success();
  }

private:
  static constexpr int64_t kWarpSize = 32;

  /// A thread's linear id in its block: (z * ny + y) * nx + x.
  static Value linearThreadId(OpBuilder &b, Location loc, Value z, Value y,
                              Value x, Value ny, Value nx) {
    Value zy =
        arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, z, ny), y);
    return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, zy, nx),
                                 x);
  }
  /// The same from the launch's thread ids and block size.
  static Value linearThreadId(OpBuilder &b, Location loc,
                              gpu::LaunchOp launch) {
    gpu::KernelDim3 ids = launch.getThreadIds(), size = launch.getBlockSize();
    return linearThreadId(b, loc, ids.z, ids.y, ids.x, size.y, size.x);
  }

  /// Elements of the largest fragment (16x16).
  static constexpr int64_t kFragmentElements = 256;

  /// Gives the launch's `!gpu.mma_matrix` values private memory and replaces
  /// the `gpu.subgroup_mma_*` ops by loops over it that the first thread of
  /// each warp runs.
  LogicalResult demoteFragments(IRRewriter &rewriter, gpu::LaunchOp launch) {
    auto isFragment = [](Value v) {
      return isa<gpu::MMAMatrixType>(v.getType());
    };
    SmallVector<Operation *> ops;
    SmallVector<scf::ForOp> loops;
    llvm::EquivalenceClasses<Value> classes;
    WalkResult walk = launch.getBody().walk([&](Operation *op) {
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        if (!llvm::any_of(loop.getInitArgs(), isFragment))
          return WalkResult::advance();
        if (!llvm::all_of(loop.getInitArgs(), isFragment)) {
          loop.emitError("cannot emulate a loop that carries fragments and "
                         "other values");
          return WalkResult::interrupt();
        }
        loops.push_back(loop);
        for (auto [init, arg, yielded, result] :
             llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs(),
                       loop.getYieldedValues(), loop.getResults())) {
          // A start used elsewhere too (one zero fragment for several
          // accumulators) is copied into the loop's own memory.
          if (init.hasOneUse())
            classes.unionSets(init, arg);
          else
            classes.insert(arg);
          classes.unionSets(arg, yielded);
          classes.unionSets(yielded, result);
        }
        if (!llvm::all_of(loop.getInitArgs(),
                          [](Value init) { return init.hasOneUse(); }))
          ops.push_back(loop); // for the copies
        return WalkResult::advance();
      }
      if (!isa<gpu::SubgroupMmaLoadMatrixOp, gpu::SubgroupMmaStoreMatrixOp,
               gpu::SubgroupMmaComputeOp, gpu::SubgroupMmaConstantMatrixOp>(
              op)) {
        if (llvm::any_of(op->getOperands(), isFragment) ||
            llvm::any_of(op->getResults(), isFragment))
          if (!isa<scf::YieldOp>(op)) {
            op->emitError("cannot emulate this use of a fragment");
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      }
      ops.push_back(op);
      for (Value v : op->getResults())
        classes.insert(v);
      if (auto compute = dyn_cast<gpu::SubgroupMmaComputeOp>(op))
        if (compute.getOpC().hasOneUse())
          classes.unionSets(compute.getOpC(), compute.getRes());
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    if (ops.empty())
      return success();
    OpBuilder::InsertionGuard guard(rewriter);

    // One slot of private memory per class.
    DenseMap<Value, int64_t> slots;
    int64_t count = 0;
    for (auto it = classes.begin(), e = classes.end(); it != e; ++it) {
      if (!(*it)->isLeader())
        continue;
      for (auto member = classes.member_begin(**it);
           member != classes.member_end(); ++member)
        slots[*member] = count;
      ++count;
    }
    Location loc = launch.getLoc();
    MLIRContext *context = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    Value memory = launch.addPrivateAttribution(
        MemRefType::get(
            {count * kFragmentElements}, f32, MemRefLayoutAttrInterface(),
            gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Private)),
        loc);

    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location at = op->getLoc();
      auto index = [&](int64_t v) -> Value {
        return arith::ConstantIndexOp::create(rewriter, at, v);
      };
      auto add = [&](Value x, Value y) -> Value {
        return arith::AddIOp::create(rewriter, at, x, y);
      };
      auto mul = [&](Value x, Value y) -> Value {
        return arith::MulIOp::create(rewriter, at, x, y);
      };
      // Only the first thread of a warp.
      Value first = arith::CmpIOp::create(
          rewriter, at, arith::CmpIPredicate::eq,
          arith::RemUIOp::create(rewriter, at,
                                 linearThreadId(rewriter, at, launch),
                                 index(kWarpSize)),
          index(0));
      auto ifOp = scf::IfOp::create(rewriter, at, first, /*withElse=*/false);
      rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      // Element (r, c) of a fragment's slot.
      auto element = [&](Value fragment, Value r, Value c) {
        auto type = cast<gpu::MMAMatrixType>(fragment.getType());
        return add(index(slots.lookup(fragment) * kFragmentElements),
                   add(mul(r, index(type.getShape()[1])), c));
      };
      // Loops over a fragment's rows and columns around `body(r, c)`.
      auto forEach = [&](gpu::MMAMatrixType type,
                         function_ref<void(Value, Value)> body) {
        OpBuilder::InsertionGuard guard(rewriter);
        Value zero = index(0), one = index(1);
        auto rows = scf::ForOp::create(rewriter, at, zero,
                                       index(type.getShape()[0]), one);
        rewriter.setInsertionPointToStart(rows.getBody());
        auto columns = scf::ForOp::create(rewriter, at, zero,
                                          index(type.getShape()[1]), one);
        rewriter.setInsertionPointToStart(columns.getBody());
        body(rows.getInductionVar(), columns.getInductionVar());
      };
      // The indices into `memref` of element (r, c) of a matrix at
      // `indices` with leading dimension `ld`, transposed or not.
      auto where = [&](Value memref, ValueRange indices, int64_t ld,
                       bool transpose, Value r, Value c) {
        auto type = cast<MemRefType>(memref.getType());
        SmallVector<Value> result(indices);
        Value step =
            transpose ? add(mul(c, index(ld)), r) : add(mul(r, index(ld)), c);
        // Only the innermost dimension moves when ld is its size or the
        // memref is 1-D; otherwise ld must be the row size (checked).
        int64_t rowSize = type.getShape().back();
        if (type.getRank() == 1) {
          result.back() = add(result.back(), step);
          return result;
        }
        Value inner = add(result.back(), step);
        Value rowsOver =
            arith::DivUIOp::create(rewriter, at, inner, index(rowSize));
        result.back() =
            arith::RemUIOp::create(rewriter, at, inner, index(rowSize));
        result[result.size() - 2] = add(result[result.size() - 2], rowsOver);
        return result;
      };
      auto checkLayout = [&](Value memref, int64_t ld) -> LogicalResult {
        auto type = cast<MemRefType>(memref.getType());
        if (!type.getLayout().isIdentity() || !type.hasStaticShape() ||
            (type.getRank() > 1 && type.getShape().back() != ld))
          return op->emitError("cannot emulate a fragment access to a memref "
                               "whose rows are not its leading dimension");
        return success();
      };
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        for (auto [init, arg] :
             llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs()))
          if (slots.lookup(init) != slots.lookup(arg))
            forEach(cast<gpu::MMAMatrixType>(arg.getType()),
                    [&](Value r, Value c) {
                      memref::StoreOp::create(
                          rewriter, at,
                          memref::LoadOp::create(rewriter, at, memory,
                                                 element(init, r, c)),
                          memory, element(arg, r, c));
                    });
      } else if (auto constant =
                     dyn_cast<gpu::SubgroupMmaConstantMatrixOp>(op)) {
        Value value = constant.getValue();
        if (value.getType() != f32)
          value = arith::ExtFOp::create(rewriter, at, f32, value);
        forEach(constant.getType(), [&](Value r, Value c) {
          memref::StoreOp::create(rewriter, at, value, memory,
                                  element(constant.getRes(), r, c));
        });
      } else if (auto load = dyn_cast<gpu::SubgroupMmaLoadMatrixOp>(op)) {
        int64_t ld = load.getLeadDimension().getSExtValue();
        if (failed(checkLayout(load.getSrcMemref(), ld)))
          return failure();
        forEach(cast<gpu::MMAMatrixType>(load.getType()),
                [&](Value r, Value c) {
                  Value value = memref::LoadOp::create(
                      rewriter, at, load.getSrcMemref(),
                      where(load.getSrcMemref(), load.getIndices(), ld,
                            load.getTranspose().has_value(), r, c));
                  if (value.getType() != f32)
                    value = arith::ExtFOp::create(rewriter, at, f32, value);
                  memref::StoreOp::create(rewriter, at, value, memory,
                                          element(load.getRes(), r, c));
                });
      } else if (auto store = dyn_cast<gpu::SubgroupMmaStoreMatrixOp>(op)) {
        int64_t ld = store.getLeadDimension().getSExtValue();
        if (failed(checkLayout(store.getDstMemref(), ld)))
          return failure();
        Type stored =
            cast<MemRefType>(store.getDstMemref().getType()).getElementType();
        forEach(cast<gpu::MMAMatrixType>(store.getSrc().getType()),
                [&](Value r, Value c) {
                  Value value = memref::LoadOp::create(
                      rewriter, at, memory, element(store.getSrc(), r, c));
                  if (stored != f32)
                    value =
                        arith::TruncFOp::create(rewriter, at, stored, value);
                  memref::StoreOp::create(
                      rewriter, at, value, store.getDstMemref(),
                      where(store.getDstMemref(), store.getIndices(), ld,
                            store.getTranspose().has_value(), r, c));
                });
      } else {
        auto compute = cast<gpu::SubgroupMmaComputeOp>(op);
        int64_t depth =
            cast<gpu::MMAMatrixType>(compute.getOpA().getType()).getShape()[1];
        forEach(cast<gpu::MMAMatrixType>(compute.getType()), [&](Value r,
                                                                 Value c) {
          Value sum = memref::LoadOp::create(rewriter, at, memory,
                                             element(compute.getOpC(), r, c));
          auto reduction = scf::ForOp::create(rewriter, at, index(0),
                                              index(depth), index(1), sum);
          {
            OpBuilder::InsertionGuard guard(rewriter);
            rewriter.setInsertionPointToStart(reduction.getBody());
            Value k = reduction.getInductionVar();
            Value a = memref::LoadOp::create(rewriter, at, memory,
                                             element(compute.getOpA(), r, k));
            Value w = memref::LoadOp::create(rewriter, at, memory,
                                             element(compute.getOpB(), k, c));
            Value next = arith::AddFOp::create(
                rewriter, at, reduction.getRegionIterArgs()[0],
                arith::MulFOp::create(rewriter, at, a, w));
            scf::YieldOp::create(rewriter, at, next);
          }
          memref::StoreOp::create(rewriter, at, reduction.getResult(0), memory,
                                  element(compute.getRes(), r, c));
        });
      }
    }
    // Loops no longer carry the fragments; then the ops go, users first.
    llvm::erase_if(ops, [](Operation *op) { return isa<scf::ForOp>(op); });
    for (scf::ForOp loop : loops) {
      rewriter.setInsertionPoint(loop);
      auto plain =
          scf::ForOp::create(rewriter, loop.getLoc(), loop.getLowerBound(),
                             loop.getUpperBound(), loop.getStep());
      rewriter.eraseOp(plain.getBody()->getTerminator());
      SmallVector<Value> arguments = {plain.getInductionVar()};
      llvm::append_range(arguments, loop.getInitArgs());
      rewriter.mergeBlocks(loop.getBody(), plain.getBody(), arguments);
      auto yield = cast<scf::YieldOp>(plain.getBody()->getTerminator());
      rewriter.modifyOpInPlace(yield, [&] { yield->setOperands({}); });
      rewriter.replaceOp(loop, loop.getInitArgs());
    }
    for (Operation *op : llvm::reverse(ops)) {
      if (!op->use_empty())
        return op->emitError("cannot emulate: a fragment is used elsewhere");
      rewriter.eraseOp(op);
    }
    return success();
  }

  /// Replaces each `nvvm.mma.sync` of the launch (bf16, m16n8k16, row/col)
  /// by stores of the thread's 10 registers into a shared buffer, a barrier,
  /// and the thread's 4 outputs computed from its warp's registers there.
  LogicalResult exchangeMmaSync(IRRewriter &rewriter, gpu::LaunchOp launch) {
    SmallVector<NVVM::MmaOp> mmas;
    launch.getBody().walk([&](NVVM::MmaOp op) { mmas.push_back(op); });
    if (mmas.empty())
      return success();
    OpBuilder::InsertionGuard guard(rewriter);
    int64_t threads = 1;
    for (Value size : {launch.getBlockSizeX(), launch.getBlockSizeY(),
                       launch.getBlockSizeZ()}) {
      std::optional<int64_t> known = getConstantIntValue(size);
      if (!known)
        return launch.emitError(
            "cannot emulate mma.sync in a launch of dynamic block size");
      threads *= *known;
    }
    constexpr int64_t kRegisters = 10; // A: 4, B: 2, C: 4
    for (NVVM::MmaOp mma : mmas) {
      if (mma.getShape().getM() != 16 || mma.getShape().getN() != 8 ||
          mma.getShape().getK() != 16 ||
          mma.getMultiplicandAPtxType() != NVVM::MMATypes::bf16 ||
          mma.getMultiplicandBPtxType() != NVVM::MMATypes::bf16 ||
          mma.getLayoutA() != NVVM::MMALayout::row ||
          mma.getLayoutB() != NVVM::MMALayout::col ||
          mma.getOperandC().size() != 4 ||
          !llvm::all_of(mma->getUsers(), [](Operation *user) {
            return isa<LLVM::ExtractValueOp>(user);
          }))
        return mma.emitError("cannot emulate this mma.sync: only bf16 "
                             "m16n8k16, row by col, f32 sums, read by "
                             "llvm.extractvalue");
    }
    Location loc = launch.getLoc();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    Value exchange = launch.addWorkgroupAttribution(
        MemRefType::get(
            {static_cast<int64_t>(mmas.size()) * threads * kRegisters}, i32,
            MemRefLayoutAttrInterface(),
            gpu::AddressSpaceAttr::get(rewriter.getContext(),
                                       gpu::AddressSpace::Workgroup)),
        loc);
    for (auto [slot, mma] : llvm::enumerate(mmas)) {
      Location at = mma.getLoc();
      rewriter.setInsertionPoint(mma);
      auto index = [&](int64_t v) -> Value {
        return arith::ConstantIndexOp::create(rewriter, at, v);
      };
      auto add = [&](Value x, Value y) -> Value {
        return arith::AddIOp::create(rewriter, at, x, y);
      };
      auto mul = [&](Value x, int64_t y) -> Value {
        return arith::MulIOp::create(rewriter, at, x, index(y));
      };
      auto div = [&](Value x, int64_t y) -> Value {
        return arith::DivUIOp::create(rewriter, at, x, index(y));
      };
      auto rem = [&](Value x, int64_t y) -> Value {
        return arith::RemUIOp::create(rewriter, at, x, index(y));
      };
      // Register r of thread `thread`.
      auto registerAt = [&](Value thread, Value r) {
        return add(mul(add(index(slot * threads), thread), kRegisters), r);
      };
      SmallVector<Value> registers(mma.getOperandA());
      llvm::append_range(registers, mma.getOperandB());
      for (Value c : mma.getOperandC())
        registers.push_back(arith::BitcastOp::create(rewriter, at, i32, c));
      Value self = linearThreadId(rewriter, at, launch);
      for (auto [r, value] : llvm::enumerate(registers))
        memref::StoreOp::create(rewriter, at, value, exchange,
                                registerAt(self, index(r)));
      gpu::BarrierOp::create(rewriter, at);
      // After the barrier: ids again (a phase of its own).
      self = linearThreadId(rewriter, at, launch);
      Value lane = rem(self, kWarpSize),
            first = arith::SubIOp::create(rewriter, at, self, lane);
      Value g = div(lane, 4), t = rem(lane, 4);
      // Element `half` (0: low 16 bits) of a register holding two bf16, as
      // f32.
      auto element = [&](Value thread, Value r, Value half) -> Value {
        Value word = memref::LoadOp::create(rewriter, at, exchange,
                                            registerAt(thread, r));
        Value shift = arith::MulIOp::create(
            rewriter, at, arith::IndexCastOp::create(rewriter, at, i32, half),
            arith::ConstantOp::create(rewriter, at,
                                      rewriter.getI32IntegerAttr(16)));
        Value low = arith::AndIOp::create(
            rewriter, at, arith::ShRUIOp::create(rewriter, at, word, shift),
            arith::ConstantOp::create(rewriter, at,
                                      rewriter.getI32IntegerAttr(0xFFFF)));
        Value bits = arith::ShLIOp::create(
            rewriter, at, low,
            arith::ConstantOp::create(rewriter, at,
                                      rewriter.getI32IntegerAttr(16)));
        return arith::BitcastOp::create(rewriter, at, f32, bits);
      };
      SmallVector<Value> outputs;
      for (int64_t e = 0; e < 4; ++e) {
        // Output e: row g + 8 (e / 2), column 2t + e % 2.
        Value column = add(mul(t, 2), index(e % 2));
        Value sum = arith::BitcastOp::create(
            rewriter, at, f32,
            memref::LoadOp::create(rewriter, at, exchange,
                                   registerAt(self, index(6 + e))));
        auto loop = scf::ForOp::create(rewriter, at, index(0), index(16),
                                       index(1), sum);
        OpBuilder::InsertionGuard inner(rewriter);
        rewriter.setInsertionPointToStart(loop.getBody());
        Value k = loop.getInductionVar();
        Value pairInGroup = div(rem(k, 8), 2), half = rem(k, 2);
        // A (row, k): thread g * 4 + (k % 8) / 2, register e / 2 + 2 (k / 8).
        Value a = element(add(first, add(mul(g, 4), pairInGroup)),
                          add(index(e / 2), mul(div(k, 8), 2)), half);
        // B (k, column): thread column * 4 + (k % 8) / 2, register 4 + k / 8.
        Value w = element(add(first, add(mul(column, 4), pairInGroup)),
                          add(index(4), div(k, 8)), half);
        Value next =
            arith::AddFOp::create(rewriter, at, loop.getRegionIterArgs()[0],
                                  arith::MulFOp::create(rewriter, at, a, w));
        scf::YieldOp::create(rewriter, at, next);
        outputs.push_back(loop.getResult(0));
      }
      for (Operation *user : llvm::make_early_inc_range(mma->getUsers())) {
        auto extract = cast<LLVM::ExtractValueOp>(user);
        rewriter.replaceOp(extract, outputs[extract.getPosition()[0]]);
      }
      rewriter.eraseOp(mma);
    }
    return success();
  }

  /// Thread `thread`'s row of a private buffer.
  static Value threadSlice(OpBuilder &b, Location loc, Value all,
                           Value thread) {
    auto type = cast<MemRefType>(all.getType());
    int64_t size = type.getDimSize(1);
    auto slice = MemRefType::get(
        {size}, type.getElementType(),
        StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, {1}));
    return memref::SubViewOp::create(
        b, loc, slice, all, ValueRange{thread}, ValueRange{}, ValueRange{},
        b.getDenseI64ArrayAttr({ShapedType::kDynamic, 0}),
        b.getDenseI64ArrayAttr({1, size}), b.getDenseI64ArrayAttr({1, 1}));
  }

  /// Splits the ops of `block` (a kernel body, or a loop around barriers in
  /// it) at its barriers: each run of ops between barriers (a phase) runs
  /// for every thread of the block in turn, in loops over threads z, y, x.
  /// A loop that contains barriers is split likewise inside.
  LogicalResult splitIntoPhases(IRRewriter &rewriter, Block &block) {
    SmallVector<Operation *> phase;
    auto flush = [&] {
      if (!phase.empty())
        makePhase(rewriter, phase);
      phase.clear();
    };
    for (Operation &op :
         llvm::make_early_inc_range(block.without_terminator())) {
      if (isa<gpu::BarrierOp>(op)) {
        flush();
        rewriter.eraseOp(&op);
        continue;
      }
      bool barriers = op.walk([](gpu::BarrierOp) {
                          return WalkResult::interrupt();
                        }).wasInterrupted();
      if (!barriers) {
        phase.push_back(&op);
        continue;
      }
      flush();
      auto loop = dyn_cast<scf::ForOp>(op);
      if (!loop || loop.getNumRegionIterArgs())
        return op.emitError("cannot emulate barriers inside this op: only "
                            "inside loops without loop-carried values");
      if (failed(splitIntoPhases(rewriter, *loop.getBody())))
        return failure();
    }
    flush();
    return success();
  }

  /// Wraps `ops` (consecutive) in loops over the block's threads, in which
  /// thread ids and private memory are that thread's.
  void makePhase(IRRewriter &rewriter, ArrayRef<Operation *> ops) {
    Location loc = ops.front()->getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(ops.front());
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Phase phase;
    for (Value bound : threadBounds) {
      auto loop = scf::ForOp::create(rewriter, loc, zero, bound, one);
      if (!phase.outer)
        phase.outer = loop;
      phase.ids.push_back(loop.getInductionVar());
      rewriter.setInsertionPointToStart(loop.getBody());
    }
    Block *inner = rewriter.getInsertionBlock();
    for (Operation *op : ops)
      rewriter.moveOpBefore(op, inner->getTerminator());
    rewriter.setInsertionPointToStart(inner);
    Value linear =
        linearThreadId(rewriter, loc, phase.ids[0], phase.ids[1], phase.ids[2],
                       threadBounds[1], threadBounds[2]);
    SmallVector<Value> own;
    for (Value all : privateArrays)
      own.push_back(threadSlice(rewriter, loc, all, linear));
    own.append(phase.ids);
    for (auto [placeholder, value] : llvm::zip(placeholders, own))
      rewriter.replaceUsesWithIf(placeholder, value, [&](OpOperand &use) {
        return phase.outer->isProperAncestor(use.getOwner());
      });
    phases[phase.outer] = phase;
  }

  /// The phase whose loops hold `value`'s definition, if any.
  Operation *phaseOf(Value value) {
    Operation *op = value.getDefiningOp();
    if (!op)
      op = value.getParentBlock()->getParentOp();
    for (; op; op = op->getParentOp())
      if (phases.count(op))
        return op;
    return nullptr;
  }

  /// A value one phase computes and another uses is computed again where it
  /// is used, when it is computed without memory (from thread ids, block
  /// ids, constants): a thread's values do not live from one phase to the
  /// next, only memory does.
  LogicalResult rematerializeAcrossPhases(IRRewriter &rewriter,
                                          Operation *root) {
    LogicalResult result = success();
    root->walk([&](Operation *op) {
      if (phases.count(op))
        return;
      Operation *phase = nullptr;
      for (Operation *p = op->getParentOp(); p && !phase; p = p->getParentOp())
        if (phases.count(p))
          phase = p;
      for (OpOperand &use : op->getOpOperands()) {
        Operation *from = phaseOf(use.get());
        if (!from || from == phase)
          continue;
        OpBuilder::InsertionGuard guard(rewriter);
        if (phase)
          rewriter.setInsertionPointToStart(
              phases[phase].ids.back().getParentBlock());
        else
          rewriter.setInsertionPoint(op);
        IRMapping mapping;
        FailureOr<Value> value =
            recompute(rewriter, use.get(), from, phase, mapping);
        if (failed(value)) {
          result = op->emitError("cannot emulate: a value crosses a barrier "
                                 "and is not computed from ids and constants");
          return;
        }
        rewriter.modifyOpInPlace(op, [&] { use.set(*value); });
      }
    });
    return result;
  }

  FailureOr<Value> recompute(IRRewriter &rewriter, Value value, Operation *from,
                             Operation *to, IRMapping &mapping) {
    if (Value known = mapping.lookupOrNull(value))
      return known;
    if (phaseOf(value) != from)
      return value;
    Operation *def = value.getDefiningOp();
    if (!def) { // one of `from`'s thread ids
      auto it = llvm::find(phases[from].ids, value);
      if (!to || it == phases[from].ids.end())
        return failure();
      return phases[to].ids[it - phases[from].ids.begin()];
    }
    if (!isMemoryEffectFree(def) || def->getNumRegions())
      return failure();
    for (Value operand : def->getOperands()) {
      FailureOr<Value> v = recompute(rewriter, operand, from, to, mapping);
      if (failed(v))
        return failure();
      mapping.map(operand, *v);
    }
    Operation *clone = rewriter.clone(*def, mapping);
    return clone->getResult(cast<OpResult>(value).getResultNumber());
  }

  struct Phase {
    Operation *outer = nullptr;
    SmallVector<Value, 3> ids; // z, y, x
  };
  SmallVector<Value, 3> threadBounds;
  SmallVector<Value> privateArrays;
  SmallVector<Value> placeholders; // private slices, then thread ids z, y, x
  DenseMap<Operation *, Phase> phases;
};

} // namespace
