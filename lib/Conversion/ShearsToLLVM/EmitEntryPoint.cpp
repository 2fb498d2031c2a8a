//===- EmitEntryPoint.cpp - shears_invoke and shears_signature ------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSEMITENTRYPOINT
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {
struct ShearsEmitEntryPoint
    : shears::impl::ShearsEmitEntryPointBase<ShearsEmitEntryPoint> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto signature = module->getAttrOfType<StringAttr>("shears.signature");
    std::string cifaceName = "_mlir_ciface_" + entry;
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    if (!signature || !ciface) {
      module.emitError() << "no " << cifaceName
                         << " with a shears.signature: run "
                            "shears-prepare-entry before lowering to LLVM";
      return signalPassFailure();
    }
    Location loc = module.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    MLIRContext *ctx = &getContext();

    // The signature with the workspace of shears-plan-memory, the batch of
    // shears-mark-batch-separable and the messages of
    // shears-outline-shape-checks (if any), NUL-terminated for C.
    llvm::Expected<llvm::json::Value> parsed =
        llvm::json::parse(signature.getValue());
    if (!parsed || !parsed->getAsObject()) {
      llvm::consumeError(parsed.takeError());
      module.emitError() << "shears.signature is not a JSON object";
      return signalPassFailure();
    }
    llvm::json::Object &object = *parsed->getAsObject();
    if (auto workspace =
            module->getAttrOfType<DictionaryAttr>("shears.workspace")) {
      llvm::json::Object info;
      for (NamedAttribute entry : workspace)
        if (auto value = dyn_cast<IntegerAttr>(entry.getValue()))
          info[entry.getName().strref()] = value.getInt();
      object["workspace"] = std::move(info);
      module->removeAttr("shears.workspace");
    }
    if (module->hasAttr("shears.batch_separable")) {
      object["batch"] = llvm::json::Object{{"dim", 0}};
      module->removeAttr("shears.batch_separable");
    }
    if (auto checks = module->getAttrOfType<ArrayAttr>("shears.shape_checks")) {
      llvm::json::Array messages;
      for (StringRef message : checks.getAsValueRange<StringAttr>())
        messages.push_back(message.str());
      object["checks"] = std::move(messages);
      module->removeAttr("shears.shape_checks");
    }
    std::string json = llvm::formatv("{0}", *parsed).str();
    json.push_back('\0');
    auto arrayType =
        LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size());
    LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                           LLVM::Linkage::External, "shears_signature",
                           b.getStringAttr(json));

    // void shears_invoke(void **args): args[i] is the i-th pointer argument
    // of the C interface (results first).
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto invoke = LLVM::LLVMFuncOp::create(
        b, loc, "shears_invoke",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}));
    Block *body = invoke.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    auto load = [&](unsigned i) -> Value {
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
      return LLVM::LoadOp::create(b, loc, ptr, slot);
    };
    SmallVector<Value> args;
    for (unsigned i = 0; i < ciface.getNumArguments(); ++i)
      args.push_back(load(i));
    // The shape check (on the inputs' descriptors, args[1..]) first: its
    // result goes to the int32_t after the entry's arguments, and a nonzero
    // one returns before the model runs.
    if (auto check = module.lookupSymbol<LLVM::LLVMFuncOp>(
            "_mlir_ciface_" + entry + "_check_shapes")) {
      Value status = load(ciface.getNumArguments());
      Value code = LLVM::CallOp::create(
                       b, loc, check,
                       ArrayRef<Value>(args).slice(1, check.getNumArguments()))
                       .getResult();
      LLVM::StoreOp::create(b, loc, code, status);
      Value zero = LLVM::ConstantOp::create(b, loc, code.getType(), 0);
      Value failed =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, code, zero);
      Block *run = invoke.addBlock(), *done = invoke.addBlock();
      LLVM::CondBrOp::create(b, loc, failed, done, run);
      b.setInsertionPointToStart(done);
      LLVM::ReturnOp::create(b, loc, ValueRange{});
      b.setInsertionPointToStart(run);
    }
    LLVM::CallOp::create(b, loc, ciface, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    module->removeAttr("shears.signature");
  }
};
} // namespace
