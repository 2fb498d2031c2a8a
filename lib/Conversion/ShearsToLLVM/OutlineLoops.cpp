//===- OutlineLoops.cpp - One function per top-level loop nest ------------===//
//
// LLVM's scheduler, scalar evolution and dominator updates grow faster than
// linearly with the size of one function: a model lowered into a single
// entry function compiled in time quadratic in its depth (a chain of 1000
// Relus: 12 s). Each top-level loop nest of a function (what one linalg op
// became) moves into its own private, non-inlined function, as IREE's
// dispatch regions do, so that LLVM works on many small functions.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSOUTLINELOOPS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// Moves `loop` into a new function next to `parent` and calls it there.
/// Constants it uses are cloned into the function (LLVM then sees its trip
/// counts); every other value it uses becomes an argument.
void outline(scf::ForOp loop, func::FuncOp parent, SymbolTable &symbols,
             int64_t index) {
  SetVector<Value> used;
  for (Value operand : loop->getOperands())
    used.insert(operand);
  getUsedValuesDefinedAbove(loop->getRegions(), used);
  SmallVector<Value> arguments;
  SmallVector<Operation *> constants;
  for (Value value : used) {
    Operation *def = value.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(def);
    else
      arguments.push_back(value);
  }

  OpBuilder builder(parent);
  auto type = builder.getFunctionType(ValueRange(arguments).getTypes(), {});
  auto callee = func::FuncOp::create(
      builder, loop.getLoc(),
      (parent.getSymName() + "_loop" + Twine(index)).str(), type);
  callee.setPrivate();
  // What convert-func-to-llvm keeps and translation makes `noinline`.
  callee->setAttr("passthrough",
                  builder.getArrayAttr({builder.getStringAttr("noinline")}));
  symbols.insert(callee);

  Block *body = callee.addEntryBlock();
  builder.setInsertionPointToStart(body);
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(arguments, body->getArguments()))
    mapping.map(value, argument);
  for (Operation *constant : constants)
    builder.clone(*constant, mapping);
  builder.clone(*loop, mapping);
  func::ReturnOp::create(builder, loop.getLoc());

  builder.setInsertionPoint(loop);
  func::CallOp::create(builder, loop.getLoc(), callee, arguments);
  loop.erase();
}

struct ShearsOutlineLoops
    : shears::impl::ShearsOutlineLoopsBase<ShearsOutlineLoops> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal())
        continue;
      SmallVector<scf::ForOp> loops;
      for (Block &block : function.getBody())
        for (auto loop : block.getOps<scf::ForOp>())
          if (loop.getNumResults() == 0)
            loops.push_back(loop);
      if (static_cast<int64_t>(loops.size()) < minLoops)
        continue;
      for (auto [index, loop] : llvm::enumerate(loops))
        outline(loop, function, symbols, index);
    }
  }
};

} // namespace
