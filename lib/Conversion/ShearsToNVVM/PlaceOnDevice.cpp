//===- PlaceOnDevice.cpp - The entry function's buffers in GPU memory -----===//
//
// The C ABI is the CPU's: inputs arrive and outputs leave in host memory.
// Inside, every buffer is moved to the device: inputs are copied in, weights
// are uploaded once per model instance (through pointer slots the runtime
// fills), intermediates are device allocations, results are copied out.
// After this pass only kernels (linalg ops, mapped next) touch device
// memory, and only gpu.memcpy crosses between host and device.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "Buffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPLACEONDEVICE
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// The runtime functions generated code calls (lib/GPURuntime).
constexpr StringLiteral kConstantFn = "shears_gpu_constant";
constexpr StringLiteral kReleaseConstantFn = "shears_gpu_release_constant";
/// What the model exports for the runtime to call when it is freed.
constexpr StringLiteral kReleaseFn = "shears_release";

SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, Value buffer) {
  SmallVector<Value> sizes;
  auto type = cast<MemRefType>(buffer.getType());
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(memref::DimOp::create(b, loc, buffer, d));
  return sizes;
}

/// A device buffer of `type` (identity layout) with `buffer`'s sizes.
Value deviceAlloc(OpBuilder &b, Location loc, MemRefType type, Value buffer) {
  auto dense = MemRefType::get(type.getShape(), type.getElementType());
  return gpu::AllocOp::create(b, loc, dense, /*asyncToken=*/Type(),
                              /*asyncDependencies=*/ValueRange(),
                              dynamicSizes(b, loc, buffer),
                              /*symbolOperands=*/ValueRange(),
                              /*hostShared=*/false)
      .getMemref();
}

/// The LLVM struct of a memref descriptor of `type` (static, identity
/// layout) over `pointer`.
Value descriptorOver(OpBuilder &b, Location loc, Value pointer,
                     MemRefType type) {
  MLIRContext *ctx = b.getContext();
  auto i64 = b.getI64Type();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptr, ptr, i64};
  if (rank > 0) {
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
  }
  auto structType = LLVM::LLVMStructType::getLiteral(ctx, fields);
  Value desc = LLVM::PoisonOp::create(b, loc, structType);
  auto constant = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, v);
  };
  desc =
      LLVM::InsertValueOp::create(b, loc, desc, pointer, ArrayRef<int64_t>{0});
  desc =
      LLVM::InsertValueOp::create(b, loc, desc, pointer, ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(b, loc, desc, constant(0),
                                     ArrayRef<int64_t>{2});
  SmallVector<int64_t> strides = type.getStridesAndOffset().first;
  for (int64_t d = 0; d < rank; ++d) {
    desc = LLVM::InsertValueOp::create(
        b, loc, desc, constant(type.getDimSize(d)), ArrayRef<int64_t>{3, d});
    desc = LLVM::InsertValueOp::create(b, loc, desc, constant(strides[d]),
                                       ArrayRef<int64_t>{4, d});
  }
  return desc;
}

struct ShearsPlaceOnDevice
    : shears::impl::ShearsPlaceOnDeviceBase<ShearsPlaceOnDevice> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError() << "no entry function '" << entry
                         << "': run shears-prepare-entry first";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError("the GPU backend needs an entry function of one block");
      return signalPassFailure();
    }
    Block &body = func.front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Location loc = func.getLoc();
    SmallVector<Value> deviceTemporaries;

    // Weights first (uploaded once per model instance), then the per-call
    // copies, so that the call's device work is one chain on one stream.
    OpBuilder b(&body, body.begin());
    if (failed(placeConstants(module, body, b)))
      return signalPassFailure();

    // The returned buffers stay on the host: the caller frees them.
    DenseSet<Value> hostResults;
    for (Value result : ret.getOperands()) {
      auto alloc = result.getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != &body) {
        ret.emitError("a result is not a fresh buffer: run "
                      "shears-copy-results first");
        return signalPassFailure();
      }
      hostResults.insert(result);
    }

    // The workspace: one device allocation of the planned size.
    unsigned numInputs = func.getNumArguments();
    if (auto workspace =
            module->getAttrOfType<DictionaryAttr>("shears.workspace")) {
      --numInputs;
      Value arg = func.getArgument(numInputs);
      auto bytes = workspace.getAs<IntegerAttr>("bytes");
      auto input = workspace.getAs<IntegerAttr>("input");
      auto dim = workspace.getAs<IntegerAttr>("dim");
      // `input` and `dim` name the input dimension that scales it, if any.
      if (!bytes || !input != !dim ||
          (input && (input.getInt() < 0 || input.getInt() >= numInputs))) {
        module.emitError("shears.workspace needs bytes, and input and dim "
                         "naming an input dimension or neither");
        return signalPassFailure();
      }
      Value size = arith::ConstantIndexOp::create(b, loc, bytes.getInt());
      if (input) {
        Value extent = memref::DimOp::create(
            b, loc, func.getArgument(input.getInt()), dim.getInt());
        Value one = arith::ConstantIndexOp::create(b, loc, 1);
        extent = arith::MaxUIOp::create(b, loc, extent, one);
        size = arith::MulIOp::create(b, loc, size, extent);
      }
      Value device = gpu::AllocOp::create(
                         b, loc, cast<MemRefType>(arg.getType()), Type(),
                         ValueRange(), ValueRange{size}, ValueRange(), false)
                         .getMemref();
      arg.replaceAllUsesWith(device);
      deviceTemporaries.push_back(device);
      // The host passes no workspace now.
      module->removeAttr("shears.workspace");
    }

    // Inputs: copied to the device on entry.
    for (BlockArgument arg : func.getArguments().take_front(numInputs)) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      bool read = llvm::any_of(arg.getUsers(), [](Operation *user) {
        return !isa<memref::DimOp>(user);
      });
      if (!type || !read)
        continue;
      Value device = deviceAlloc(b, loc, type, arg);
      auto copy =
          gpu::MemcpyOp::create(b, loc, Type(), ValueRange(), device, arg);
      arg.replaceUsesWithIf(device, [&](OpOperand &use) {
        return use.getOwner() != copy && !isa<memref::DimOp>(use.getOwner());
      });
      deviceTemporaries.push_back(device);
    }

    // Intermediates.
    func.walk([&](memref::AllocOp alloc) {
      if (hostResults.contains(alloc.getResult()))
        return;
      b.setInsertionPoint(alloc);
      auto device = gpu::AllocOp::create(
          b, alloc.getLoc(), alloc.getType(), Type(), ValueRange(),
          alloc.getDynamicSizes(), alloc.getSymbolOperands(), false);
      alloc.replaceAllUsesWith(device.getMemref());
      alloc.erase();
    });
    WalkResult deallocs = func.walk([&](memref::DeallocOp dealloc) {
      Value root = shears::allocationOf(dealloc.getMemref());
      if (hostResults.contains(root)) {
        dealloc.emitError("a result buffer is freed before it is returned");
        return WalkResult::interrupt();
      }
      b.setInsertionPoint(dealloc);
      gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange(),
                             dealloc.getMemref());
      dealloc.erase();
      return WalkResult::advance();
    });
    if (deallocs.wasInterrupted())
      return signalPassFailure();

    // Results: copied from the device into the host buffers. Those are
    // allocated as early as their sizes allow, so that no host allocation
    // splits the call's device work (the GPU would wait for it).
    Operation *firstDeviceOp = nullptr;
    for (Operation &op : body)
      if (isa<gpu::GPUDialect>(op.getDialect())) {
        firstDeviceOp = &op;
        break;
      }
    for (Value result : hostResults) {
      if (firstDeviceOp)
        (void)hoistBefore(result.getDefiningOp(), firstDeviceOp);
      for (Operation *user : llvm::make_early_inc_range(result.getUsers())) {
        if (isa<func::ReturnOp>(user))
          continue;
        Value source;
        if (auto copy = dyn_cast<memref::CopyOp>(user);
            copy && copy.getTarget() == result)
          source = copy.getSource();
        else if (auto copy = dyn_cast<linalg::CopyOp>(user);
                 copy && copy.getOutputs().front() == result)
          source = copy.getInputs().front();
        if (!source) {
          user->emitError("the GPU backend fills a result only by a copy");
          return signalPassFailure();
        }
        b.setInsertionPoint(user);
        auto sourceType = cast<MemRefType>(source.getType());
        if (!sourceType.getLayout().isIdentity()) {
          // gpu.memcpy moves contiguous bytes: a strided view goes through
          // a dense device copy first.
          Value dense = deviceAlloc(b, user->getLoc(), sourceType, source);
          memref::CopyOp::create(b, user->getLoc(), source, dense);
          deviceTemporaries.push_back(dense);
          source = dense;
        }
        gpu::MemcpyOp::create(b, user->getLoc(), Type(), ValueRange(), result,
                              source);
        user->erase();
      }
    }

    b.setInsertionPoint(ret);
    for (Value device : deviceTemporaries)
      gpu::DeallocOp::create(b, loc, Type(), ValueRange(), device);

    // Nothing on the host may touch device memory but gpu.memcpy.
    WalkResult hostAccess = func.walk([&](Operation *op) {
      if (op->getParentOfType<linalg::LinalgOp>())
        return WalkResult::skip();
      if (isa<memref::LoadOp, memref::StoreOp, memref::AtomicRMWOp,
              memref::GenericAtomicRMWOp>(op)) {
        op->emitError("the GPU backend cannot run this on the host: it "
                      "reads or writes device memory outside a kernel");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (hostAccess.wasInterrupted())
      return signalPassFailure();
  }

  /// Moves `op` before `point` (in the same block) with the pure ops that
  /// compute its operands; fails, moving nothing, when one of them is not
  /// pure.
  static bool hoistBefore(Operation *op, Operation *point) {
    SmallVector<Operation *> moves;
    std::function<bool(Operation *)> collect = [&](Operation *o) {
      for (Value operand : o->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (!def || def->getBlock() != point->getBlock() ||
            def->isBeforeInBlock(point) || llvm::is_contained(moves, def))
          continue;
        if (!isMemoryEffectFree(def) || !collect(def))
          return false;
      }
      moves.push_back(o);
      return true;
    };
    if (op->isBeforeInBlock(point) || !collect(op))
      return false;
    for (Operation *o : moves)
      o->moveBefore(point);
    return true;
  }

  /// Each constant global the entry function reads becomes a device copy
  /// behind a pointer slot: `shears_gpu_constant(slot, host, bytes)` uploads
  /// it on first use and returns the slot's pointer afterwards. The uploads
  /// go at `b`, which is left after them.
  LogicalResult placeConstants(ModuleOp module, Block &body, OpBuilder &b) {
    MLIRContext *ctx = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    SymbolTable symbols(module);
    SmallVector<LLVM::GlobalOp> slots;
    DenseMap<StringAttr, LLVM::GlobalOp> slotOf;
    for (auto get :
         llvm::make_early_inc_range(body.getOps<memref::GetGlobalOp>())) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      MemRefType type = get.getType();
      if (!global || !global.getConstant() || !type.hasStaticShape() ||
          !type.getLayout().isIdentity())
        return get.emitError(
            "the GPU backend uploads only constant globals of static shape");
      Location loc = get.getLoc();
      LLVM::GlobalOp &slot = slotOf[get.getNameAttr().getAttr()];
      if (!slot) {
        slot = LLVM::GlobalOp::create(
            mb, loc, ptr, /*isConstant=*/false, LLVM::Linkage::Internal,
            ("__shears_device_" + get.getName()).str(), Attribute());
        symbols.insert(slot);
        OpBuilder::InsertionGuard guard(mb);
        Block *init = mb.createBlock(&slot.getInitializerRegion());
        mb.setInsertionPointToStart(init);
        LLVM::ReturnOp::create(mb, loc,
                               LLVM::ZeroOp::create(mb, loc, ptr).getResult());
        slots.push_back(slot);
      }

      if (&*b.getInsertionPoint() != get.getOperation())
        get->moveBefore(&body, b.getInsertionPoint());
      b.setInsertionPointAfter(get);
      Value host = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, get);
      host = arith::IndexCastOp::create(b, loc, i64, host);
      host = LLVM::IntToPtrOp::create(b, loc, ptr, host);
      int64_t elementBytes = llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      Value bytes = arith::ConstantIntOp::create(
          b, loc, i64, type.getNumElements() * elementBytes);
      Value slotAddress = LLVM::AddressOfOp::create(b, loc, slot);
      Value device = func::CallOp::create(b, loc, kConstantFn, TypeRange{ptr},
                                          ValueRange{slotAddress, host, bytes})
                         .getResult(0);
      Value memref = UnrealizedConversionCastOp::create(
                         b, loc, type, descriptorOver(b, loc, device, type))
                         .getResult(0);
      get.getResult().replaceUsesWithIf(memref, [&](OpOperand &use) {
        return !isa<memref::ExtractAlignedPointerAsIndexOp>(use.getOwner());
      });
      b.setInsertionPointAfter(memref.getDefiningOp());
    }

    // The runtime functions, and what frees the slots.
    auto declare = [&](StringRef name, FunctionType type) {
      if (symbols.lookup(name))
        return;
      auto fn = func::FuncOp::create(mb, module.getLoc(), name, type);
      fn.setPrivate();
      symbols.insert(fn);
    };
    declare(kConstantFn, FunctionType::get(ctx, {ptr, ptr, i64}, {ptr}));
    declare(kReleaseConstantFn, FunctionType::get(ctx, {ptr}, {}));
    if (symbols.lookup(kReleaseFn))
      return module.emitError()
             << "the module already has a '" << kReleaseFn << "'";
    auto release = func::FuncOp::create(mb, module.getLoc(), kReleaseFn,
                                        FunctionType::get(ctx, {}, {}));
    OpBuilder rb = OpBuilder::atBlockBegin(release.addEntryBlock());
    for (LLVM::GlobalOp slot : slots)
      func::CallOp::create(
          rb, module.getLoc(), kReleaseConstantFn, TypeRange(),
          ValueRange{LLVM::AddressOfOp::create(rb, module.getLoc(), slot)});
    func::ReturnOp::create(rb, module.getLoc());
    return success();
  }
};

} // namespace
