//===- Passes.h - Shears transformation passes ------------------*- C++ -*-===//

#ifndef SHEARS_TRANSFORMS_PASSES_H
#define SHEARS_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"

namespace mlir::shears {

#define GEN_PASS_DECL
#include "shears/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "shears/Transforms/Passes.h.inc"

/// canonicalize -> insert-masks (with `options`) -> fold-masks ->
/// eliminate-dead-neurons (with `eliminate`) -> canonicalize.
void buildShearsPrunePipeline(
    OpPassManager &pm, const ShearsInsertMasksOptions &options,
    const ShearsEliminateDeadNeuronsOptions &eliminate = {});

/// Registers the `shears-prune` pipeline, with insert-masks' options.
void registerShearsPrunePipeline();

} // namespace mlir::shears

#endif // SHEARS_TRANSFORMS_PASSES_H
