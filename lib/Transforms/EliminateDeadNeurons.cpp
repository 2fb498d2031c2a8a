//===- EliminateDeadNeurons.cpp - Remove channels that cannot contribute --===//
//
// PLACEHOLDER written by the lead so the tree links while helper-7 writes
// the real pass (they own this file and replace it whole). It refuses to
// run rather than pretending to prune.
//
//===----------------------------------------------------------------------===//

#include "shears/Transforms/Passes.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSELIMINATEDEADNEURONS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {
struct ShearsEliminateDeadNeurons
    : shears::impl::ShearsEliminateDeadNeuronsBase<ShearsEliminateDeadNeurons> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().emitError("shears-eliminate-dead-neurons is not "
                             "implemented yet");
    signalPassFailure();
  }
};
} // namespace
