//===- PlanMemory.cpp - Intermediate buffers in one planned workspace -----===//
//
// After bufferization every intermediate tensor is a memref.alloc, malloc'd
// and freed on each call (and for large buffers, page-faulted in anew each
// time). This pass gives each such buffer an offset in one workspace that
// the caller passes in and keeps between calls: buffers whose live ranges
// do not overlap share bytes (greedy, largest first, like a register
// allocator's interval colouring).
//
// Sizes may depend on one dynamic dimension of one input (the batch): a
// buffer of s bytes at batch 1 has s * batch bytes, so offsets planned at
// batch 1 scale by max(batch, 1) and stay disjoint. Buffers that escape
// (returned), or whose sizes depend on anything else, keep their allocs.
//
// The entry function gets a last argument `memref<?xi8>`, the workspace;
// the module attribute `shears.workspace` records its size at batch 1 and
// which input dimension scales it, for shears-emit-entry-point to put in
// the signature.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPLANMEMORY
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0; // At batch 1.
  unsigned begin = 0, end = 0; // Positions of the first and last use.
  int64_t offset = 0;
};

/// The (input, dim) that a memref.dim of an entry argument reads.
std::optional<std::pair<unsigned, int64_t>> argumentDim(Value size) {
  auto dim = size.getDefiningOp<memref::DimOp>();
  if (!dim)
    return std::nullopt;
  auto arg = dyn_cast<BlockArgument>(dim.getSource());
  std::optional<int64_t> index = dim.getConstantIndex();
  if (!arg || !index || !isa<FunctionOpInterface>(arg.getOwner()->getParentOp()))
    return std::nullopt;
  return std::pair(arg.getArgNumber(), *index);
}

/// The last position in `block` at which `value` or a view of it is used;
/// nullopt if it reaches a return (it escapes).
std::optional<unsigned> lastUse(Value value, Block &block,
                                const DenseMap<Operation *, unsigned> &order) {
  unsigned last = 0;
  SmallVector<Value> worklist = {value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || isa<func::ReturnOp>(top))
        return std::nullopt;
      last = std::max(last, order.lookup(top));
      // Views (subview, casts, reshapes) hand the buffer on.
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v)
          for (Value result : user->getResults())
            worklist.push_back(result);
    }
  }
  return last;
}

struct ShearsPlanMemory
    : shears::impl::ShearsPlanMemoryBase<ShearsPlanMemory> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entry = module.lookupSymbol<func::FuncOp>(entryName);
    if (!entry || entry.isExternal())
      return;
    Block &block = entry.getBody().front();
    DenseMap<Operation *, unsigned> order;
    for (auto [i, op] : llvm::enumerate(block))
      order[&op] = i;

    // Which buffers to plan, and the one dynamic dim their sizes follow.
    std::optional<std::pair<unsigned, int64_t>> scale;
    SmallVector<Buffer> buffers;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      MemRefType type = alloc.getType();
      if (!type.getLayout().isIdentity() || !type.getElementType().isIntOrFloat() ||
          alloc.getDynamicSizes().size() > 1)
        continue;
      if (!alloc.getDynamicSizes().empty()) {
        auto dim = argumentDim(alloc.getDynamicSizes()[0]);
        if (!dim || (scale && *scale != *dim))
          continue;
        scale = dim;
      }
      std::optional<unsigned> last = lastUse(alloc.getResult(), block, order);
      if (!last)
        continue;
      int64_t elements = 1;
      for (int64_t d : type.getShape())
        elements *= ShapedType::isDynamic(d) ? 1 : d;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.bytes = llvm::alignTo(
          elements * ((type.getElementTypeBitWidth() + 7) / 8), kAlignment);
      buffer.begin = order.lookup(alloc);
      buffer.end = std::max(*last, buffer.begin);
      buffers.push_back(buffer);
    }

    // Largest first, each at the lowest offset free over its live range.
    llvm::sort(buffers, [](const Buffer &a, const Buffer &b) {
      return a.bytes != b.bytes ? a.bytes > b.bytes : a.begin < b.begin;
    });
    int64_t total = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      Buffer &buffer = buffers[i];
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (size_t j = 0; j < i; ++j)
        if (buffers[j].begin <= buffer.end && buffer.begin <= buffers[j].end)
          taken.push_back({buffers[j].offset, buffers[j].offset + buffers[j].bytes});
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [lo, hi] : taken) {
        if (offset + buffer.bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      buffer.offset = offset;
      total = std::max(total, offset + buffer.bytes);
    }

    // The workspace argument, and each buffer a view into it.
    MLIRContext *context = &getContext();
    auto workspaceType =
        MemRefType::get({ShapedType::kDynamic}, IntegerType::get(context, 8));
    unsigned argIndex = entry.getNumArguments();
    if (failed(entry.insertArgument(argIndex, workspaceType, {},
                                    entry.getLoc())))
      return signalPassFailure();
    Value workspace = entry.getArgument(argIndex);
    OpBuilder builder = OpBuilder::atBlockBegin(&block);
    Location loc = entry.getLoc();
    Value multiplier = arith::ConstantIndexOp::create(builder, loc, 1);
    if (scale) {
      Value dim = memref::DimOp::create(builder, loc,
                                        entry.getArgument(scale->first),
                                        scale->second);
      multiplier = arith::MaxUIOp::create(builder, loc, dim, multiplier);
    }
    for (Buffer &buffer : buffers) {
      builder.setInsertionPoint(buffer.alloc);
      Value offset = arith::MulIOp::create(
          builder, loc, multiplier,
          arith::ConstantIndexOp::create(builder, loc, buffer.offset));
      auto view = memref::ViewOp::create(builder, buffer.alloc.getLoc(),
                                         buffer.alloc.getType(), workspace,
                                         offset,
                                         buffer.alloc.getDynamicSizes());
      // Its deallocations go with it: the workspace outlives the call.
      for (Operation *user :
           llvm::make_early_inc_range(buffer.alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      buffer.alloc.replaceAllUsesWith(view.getResult());
      buffer.alloc.erase();
    }
    Builder b(context);
    SmallVector<NamedAttribute> info = {
        b.getNamedAttr("bytes", b.getI64IntegerAttr(total))};
    if (scale) {
      info.push_back(b.getNamedAttr("input", b.getI64IntegerAttr(scale->first)));
      info.push_back(b.getNamedAttr("dim", b.getI64IntegerAttr(scale->second)));
    }
    module->setAttr("shears.workspace", b.getDictionaryAttr(info));
  }
};

} // namespace
