//===- EmulateGPU.cpp - GPU-mapped code run on the CPU, for testing -------===//
//
// Where no GPU is, the GPU pipeline's own work (which buffers live where,
// how each op is split into blocks and threads) can still be checked by
// numbers: each gpu.launch becomes loops over its blocks and threads, run
// one after another on the host, and the device memory operations become
// host ones. Kernels that this pipeline produces have no barriers and no
// shared memory, so running their threads in sequence computes what the GPU
// computes.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

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
        launch.getNumWorkgroupAttributions() ||
        launch.getNumPrivateAttributions() || launch.getClusterSizeX() ||
        !launch.getBody().hasOneBlock())
      return launch.emitError("cannot emulate this launch: it is "
                              "asynchronous, has attributions or clusters, "
                              "or its body has several blocks");
    if (launch.getBody()
            .walk([](gpu::BarrierOp) { return WalkResult::interrupt(); })
            .wasInterrupted())
      return launch.emitError("cannot emulate a kernel with barriers");
    Location loc = launch.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    // Blocks z, y, x, then threads z, y, x: the innermost loop walks
    // consecutive thread ids.
    Value bounds[] = {launch.getGridSizeZ(),  launch.getGridSizeY(),
                      launch.getGridSizeX(),  launch.getBlockSizeZ(),
                      launch.getBlockSizeY(), launch.getBlockSizeX()};
    SmallVector<Value> ivs;
    for (Value bound : bounds) {
      auto loop = scf::ForOp::create(rewriter, loc, zero, bound, one);
      ivs.push_back(loop.getInductionVar());
      rewriter.setInsertionPointToStart(loop.getBody());
    }
    Block &body = launch.getBody().front();
    gpu::KernelDim3 blockIds = launch.getBlockIds(),
                    threadIds = launch.getThreadIds(),
                    gridSize = launch.getGridSize(),
                    blockSize = launch.getBlockSize();
    DenseMap<Value, Value> replacement = {
        {blockIds.z, ivs[0]},     {blockIds.y, ivs[1]},
        {blockIds.x, ivs[2]},     {threadIds.z, ivs[3]},
        {threadIds.y, ivs[4]},    {threadIds.x, ivs[5]},
        {gridSize.z, bounds[0]},  {gridSize.y, bounds[1]},
        {gridSize.x, bounds[2]},  {blockSize.z, bounds[3]},
        {blockSize.y, bounds[4]}, {blockSize.x, bounds[5]}};
    SmallVector<Value> arguments;
    for (BlockArgument arg : body.getArguments())
      arguments.push_back(replacement.lookup(arg));
    if (llvm::is_contained(arguments, Value()))
      return launch.emitError("cannot emulate a launch with extra arguments");
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, rewriter.getInsertionBlock(),
                               rewriter.getInsertionPoint(), arguments);
    rewriter.eraseOp(launch);
    return success();
  }
};

} // namespace
