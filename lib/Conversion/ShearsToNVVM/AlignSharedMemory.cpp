//===- AlignSharedMemory.cpp - 32-byte aligned workgroup attributions -----===//
//
// A `gpu.launch` cannot say how its workgroup attributions are aligned, and
// without an alignment the NVVM lowering gives a `.shared` variable its
// element's (4 bytes for f32), so 128-bit vector accesses to it, and WMMA's
// loads and stores (which need 256-bit aligned addresses), would be
// misaligned. After outlining, the kernels' `gpu.func`s can say it.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSALIGNSHAREDMEMORY
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// Bytes of a WMMA fragment's address (also enough for 128-bit accesses).
constexpr int64_t kAlignment = 32;

struct ShearsAlignSharedMemory
    : shears::impl::ShearsAlignSharedMemoryBase<ShearsAlignSharedMemory> {
  void runOnOperation() override {
    StringRef name = LLVM::LLVMDialect::getAlignAttrName();
    Builder b(&getContext());
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>())
      for (unsigned i = 0, e = func.getNumWorkgroupAttributions(); i < e; ++i)
        if (!func.getWorkgroupAttributionAttr(i, name))
          func.setWorkgroupAttributionAttr(i, b.getStringAttr(name),
                                           b.getI64IntegerAttr(kAlignment));
  }
};

} // namespace
