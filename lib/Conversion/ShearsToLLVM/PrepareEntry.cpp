//===- PrepareEntry.cpp - Entry function name, C interface, signature -----===//

#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPREPAREENTRY
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

/// The dtype names of the runtime's signature (include/shears-c/Runtime.h).
static std::optional<StringRef> dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isInteger(64))
    return "i64";
  if (type.isInteger(32))
    return "i32";
  if (type.isUnsignedInteger(8))
    return "u8";
  if (type.isInteger(8))
    return "i8";
  if (type.isInteger(1))
    return "i1";
  return std::nullopt;
}

/// [{"name":..., "dtype":..., "shape":[...]}] for `types`, or failure.
static FailureOr<llvm::json::Array>
describe(func::FuncOp func, TypeRange types, bool results) {
  llvm::json::Array entries;
  for (auto [i, type] : llvm::enumerate(types)) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    auto dtype = tensor ? dtypeName(tensor.getElementType()) : std::nullopt;
    if (!dtype)
      return func.emitError()
                 << (results ? "result " : "argument ") << i << " has type "
                 << type << ", which the runtime cannot pass",
             failure();
    llvm::json::Array shape;
    for (int64_t d : tensor.getShape())
      shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
    entries.push_back(llvm::json::Object{
        {"name", shears::getEntryValueName(func, i, results)},
        {"dtype", *dtype},
        {"shape", std::move(shape)}});
  }
  return entries;
}

namespace {
struct ShearsPrepareEntry
    : shears::impl::ShearsPrepareEntryBase<ShearsPrepareEntry> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp func = shears::lookupEntryFunction(module);
    if (!func) {
      module.emitError("no entry function: expected `main` or a single "
                       "public function");
      return signalPassFailure();
    }
    auto inputs = describe(func, func.getArgumentTypes(), false);
    auto outputs = describe(func, func.getResultTypes(), true);
    if (failed(inputs) || failed(outputs))
      return signalPassFailure();
    if (outputs->empty()) {
      func.emitError("the entry function returns nothing");
      return signalPassFailure();
    }
    std::string json;
    llvm::raw_string_ostream os(json);
    os << llvm::json::Value(llvm::json::Object{{"inputs", std::move(*inputs)},
                                               {"outputs", std::move(*outputs)}});
    module->setAttr("shears.signature", StringAttr::get(&getContext(), json));
    // The names live in the signature now; LLVM has no use for them.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.removeArgAttr(i, "shears.name");
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      func.removeResultAttr(i, StringAttr::get(&getContext(), "shears.name"));
    if (failed(SymbolTable::replaceAllSymbolUses(
            func, StringAttr::get(&getContext(), entry), module)))
      return signalPassFailure();
    func.setSymName(entry);
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
};
} // namespace
