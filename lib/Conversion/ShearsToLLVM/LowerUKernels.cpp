//===- LowerUKernels.cpp - shears.ukernel on memrefs into calls -----------===//
//
// After bufferization each `shears.ukernel` becomes a call of
//   shears_uk_<kernel>_<isa>(void **buffers, const int64_t *dims,
//                            const int64_t *iparams, const float *fparams)
// (include/shears-c/Kernels.h): the operands' base pointers and the first
// input's sizes go into stack arrays, the parameters into constant globals.
// Kernels read operands as dense row-major arrays; an operand with another
// layout is copied into a fresh buffer first, except the NCHW output of
// conv2d, dwconv2d and maxpool2d that is dense within each image (a slice
// of a concat along channels): it is written in place, its image stride in
// the OUT_STRIDE slot.
//
//===----------------------------------------------------------------------===//

#include "shears-c/Kernels.h"
#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/TargetParser/Host.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSLOWERUKERNELS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

KernelTarget
mlir::shears::kernelTarget(llvm::function_ref<bool(llvm::StringRef)> has) {
  KernelTarget target;
  target.isa = has("avx512f")              ? "avx512"
               : has("avx2") && has("fma") ? "avx2"
                                           : "generic";
  // AVX2's kernels take only layers whose weights are in [-64, 64]
  // (ConvertToUKernels checks); an AVX-512 CPU without VNNI would run plain
  // integer loops.
  target.integerKernels =
      has("avx512vnni") || has("amx-int8") || target.isa == "avx2";
  return target;
}

KernelTarget mlir::shears::hostKernelTarget() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return kernelTarget(
      [&](llvm::StringRef feature) { return features.lookup(feature); });
}

std::optional<std::string> mlir::shears::resolveKernelISA(Operation *module,
                                                          llvm::StringRef isa) {
  std::string target = isa == "host" ? hostKernelTarget().isa : isa.str();
  if (target == "avx512" || target == "avx2" || target == "generic")
    return target;
  module->emitError() << "unknown micro-kernel ISA '" << isa
                      << "' (avx512, avx2, generic or host)";
  return std::nullopt;
}

namespace {

struct ShearsLowerUKernels
    : shears::impl::ShearsLowerUKernelsBase<ShearsLowerUKernels> {
  using Base::Base;

  void runOnOperation() override;
};

/// The address of `memref`'s first element, as an index.
Value elementAddress(OpBuilder &builder, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  Value base =
      memref::ExtractAlignedPointerAsIndexOp::create(builder, loc, memref);
  auto metadata =
      memref::ExtractStridedMetadataOp::create(builder, loc, memref);
  // Index elements (the pointer and size arrays) are 64-bit on the hosts
  // the kernels support.
  Type element = type.getElementType();
  int64_t elementBytes =
      element.isIndex() ? 8 : element.getIntOrFloatBitWidth() / 8;
  Value bytes = arith::MulIOp::create(
      builder, loc, metadata.getOffset(),
      arith::ConstantIndexOp::create(builder, loc, elementBytes));
  return arith::AddIOp::create(builder, loc, base, bytes);
}

/// The address of `memref`'s first element, as an !llvm.ptr.
Value elementPointer(OpBuilder &builder, Location loc, Value memref) {
  Value word = arith::IndexCastOp::create(builder, loc, builder.getI64Type(),
                                          elementAddress(builder, loc, memref));
  return LLVM::IntToPtrOp::create(
      builder, loc, LLVM::LLVMPointerType::get(builder.getContext()), word);
}

/// Whether `type` is laid out densely in row-major order (any offset).
bool isDense(MemRefType type) {
  return type.getLayout().isIdentity() ||
         type.areTrailingDimsContiguous(type.getRank());
}

/// The static stride between images of an NCHW output that is dense within
/// each image (a slice of a concat along channels, written in place), or 0.
int64_t imageStride(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (type.getRank() != 4 || !type.areTrailingDimsContiguous(3) ||
      failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(strides[0]))
    return 0;
  return strides[0];
}

} // namespace

void ShearsLowerUKernels::runOnOperation() {
  ModuleOp module = getOperation();
  std::optional<std::string> resolved = resolveKernelISA(module, isa);
  if (!resolved)
    return signalPassFailure();
  const std::string &target = *resolved;
  SmallVector<UKernelOp> kernels;
  module.walk([&](UKernelOp op) { kernels.push_back(op); });
  if (kernels.empty())
    return;
  MLIRContext *context = &getContext();
  OpBuilder builder(context);
  auto ptrType = LLVM::LLVMPointerType::get(context);
  auto indexType = builder.getIndexType();
  SymbolTable symbolTable(module);
  unsigned numGlobals = 0;
  // profile-sites: the layer name of each call site, in call order.
  SmallVector<Attribute> sites;
  StringRef siteCallee = "shears_uk_profile_site";
  if (profileSites && !symbolTable.lookup(siteCallee)) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(module.getBody());
    auto decl = func::FuncOp::create(
        builder, module.getLoc(), siteCallee,
        builder.getFunctionType({builder.getI64Type()}, {}));
    decl.setPrivate();
    symbolTable.insert(decl);
  }

  auto getGlobal = [&](Location loc, DenseElementsAttr values) {
    auto type = MemRefType::get(values.getType().getShape(),
                                values.getType().getElementType());
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(module.getBody());
    auto global = memref::GlobalOp::create(
        builder, loc, "__shears_uk_params_" + std::to_string(numGlobals++),
        builder.getStringAttr("private"), type, values, /*constant=*/true,
        /*alignment=*/builder.getI64IntegerAttr(8));
    symbolTable.insert(global);
    return global;
  };

  for (UKernelOp op : kernels) {
    Location loc = op.getLoc();
    if (!op.getResults().empty()) {
      op.emitOpError() << "is still on tensors: run after bufferization";
      return signalPassFailure();
    }
    std::string callee =
        ("shears_uk_" + op.getKernel() + "_" + target).str();
    if (!symbolTable.lookup(callee)) {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToEnd(module.getBody());
      auto decl = func::FuncOp::create(
          builder, loc, callee,
          builder.getFunctionType({ptrType, ptrType, ptrType, ptrType}, {}));
      decl.setPrivate();
      symbolTable.insert(decl);
    }

    // Stack arrays live in the function's entry block.
    Block &entry = op->getParentOfType<FunctionOpInterface>()
                       .getFunctionBody()
                       .front();
  
    Value input = op.getInputs()[0];
    auto inputType = cast<MemRefType>(input.getType());
    builder.setInsertionPointToStart(&entry);
    Value buffers = memref::AllocaOp::create(
        builder, loc, MemRefType::get({op->getNumOperands()}, indexType));
    Value dims = memref::AllocaOp::create(
        builder, loc,
        MemRefType::get({std::max<int64_t>(1, inputType.getRank())},
                        indexType));

    builder.setInsertionPoint(op);
    // Operands that are strided views go through dense copies: inputs are
    // copied in, the output is copied back out after the call.
    // conv2d, dwconv2d and maxpool2d write an output that is dense within
    // each image in place (OUT_STRIDE).
    SmallVector<Value> temporaries;
    SmallVector<std::pair<Value, Value>> copyBack;
    SmallVector<int64_t> iparamValues(op.getIparams());
    bool outStride = op.takesOutStride();
    for (OpOperand &operand : op->getOpOperands()) {
      Value buffer = operand.get();
      auto type = cast<MemRefType>(buffer.getType());
      int64_t stride =
          outStride && op.isDpsInit(&operand) ? imageStride(type) : 0;
      if (stride)
        iparamValues[SHEARS_UK_CONV_OUT_STRIDE] = stride;
      else if (!isDense(type)) {
        SmallVector<Value> sizes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (type.isDynamicDim(d))
            sizes.push_back(memref::DimOp::create(builder, loc, buffer, d));
        Value dense = memref::AllocOp::create(
            builder, loc,
            MemRefType::get(type.getShape(), type.getElementType()), sizes);
        if (op.isDpsInit(&operand))
          copyBack.push_back({dense, buffer});
        else
          memref::CopyOp::create(builder, loc, buffer, dense);
        temporaries.push_back(dense);
        buffer = dense;
      }
      memref::StoreOp::create(
          builder, loc, elementAddress(builder, loc, buffer), buffers,
          ValueRange{arith::ConstantIndexOp::create(
              builder, loc, operand.getOperandNumber())});
    }
    for (int64_t d = 0; d < inputType.getRank(); ++d)
      memref::StoreOp::create(
          builder, loc, memref::DimOp::create(builder, loc, input, d), dims,
          ValueRange{arith::ConstantIndexOp::create(builder, loc, d)});

    auto paramsGlobal = [&](Type type, auto values) {
      auto shape = RankedTensorType::get(
          {static_cast<int64_t>(values.size())}, type);
      return getGlobal(loc, DenseElementsAttr::get(shape, values));
    };
    auto iparams =
        paramsGlobal(builder.getI64Type(), ArrayRef<int64_t>(iparamValues));
    auto fparams = paramsGlobal(builder.getF32Type(), op.getFparams());
    auto pointerOf = [&](Value memref) {
      return elementPointer(builder, loc, memref);
    };
    Value args[] = {
        pointerOf(buffers), pointerOf(dims),
        pointerOf(memref::GetGlobalOp::create(builder, loc, iparams.getType(),
                                              iparams.getSymName())),
        pointerOf(memref::GetGlobalOp::create(builder, loc, fparams.getType(),
                                              fparams.getSymName()))};
    if (profileSites) {
      Value site = arith::ConstantIntOp::create(builder, loc, sites.size(),
                                                /*width=*/64);
      func::CallOp::create(builder, loc, siteCallee, TypeRange(), site);
      sites.push_back(builder.getStringAttr(getLayerName(op)));
    }
    func::CallOp::create(builder, loc, callee, TypeRange(), args);
    for (auto [dense, view] : copyBack)
      memref::CopyOp::create(builder, loc, dense, view);
    for (Value dense : temporaries)
      memref::DeallocOp::create(builder, loc, dense);
    op.erase();
  }
  if (profileSites)
    module->setAttr(kProfileSitesAttrName, builder.getArrayAttr(sites));
}
