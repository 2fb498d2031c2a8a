//===- Passes.h - Shears transformation passes ------------------*- C++ -*-===//

#ifndef SHEARS_TRANSFORMS_PASSES_H
#define SHEARS_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsInterfaces.h"

namespace mlir::shears {

/// shears-insert-masks: how weights (or structures) are scored.
enum class PruneCriterion { Magnitude, L2, Random, Taylor, Activation, OBS };

/// shears-insert-masks: what is removed together.
enum class PruneGranularity { Unstructured, Channel, InputChannel, NM, Block };

/// shears-insert-masks: where the threshold is taken.
enum class PruneScope { Layer, Global };

/// shears-quantize: the format of quantized weights.
enum class WeightFormat { Int8, Int4, Binary };

/// shears-quantize: how layer inputs are quantized.
enum class QuantizedActivations { Static, Dynamic, None };

/// shears-quantize: how an activation range is chosen from its statistics.
enum class CalibrationMethod { MinMax, Percentile, Entropy };

/// shears-share-weights: where the k-means centroids start.
enum class CentroidInit { Linear, Density, Random };

/// shears-low-rank: how the rank of each layer is chosen.
enum class RankSelection { Energy, Error, Rank, Params, Macs };

/// shears-low-rank: how a k x k convolution is factored.
enum class Decomposition { SVD, Tucker2 };

#define GEN_PASS_DECL
#include "shears/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "shears/Transforms/Passes.h.inc"

/// The weights of `op` when shears-insert-masks scores it: a constant f32
/// [out, in, ...] weight (conv and linear filters); failure otherwise. What
/// feeds the criteria (calibration) must cover the same layers.
FailureOr<SmallVector<float>> getScoredWeights(PrunableOpInterface op);

/// canonicalize -> insert-masks (with `options`) -> fold-masks ->
/// eliminate-dead-neurons (with `eliminate`) -> canonicalize.
void buildShearsPrunePipeline(
    OpPassManager &pm, const ShearsInsertMasksOptions &options,
    const ShearsEliminateDeadNeuronsOptions &eliminate = {});

/// The same with the two passes made (and their options parsed) already.
void buildShearsPrunePipeline(OpPassManager &pm,
                              std::unique_ptr<Pass> insertMasks,
                              std::unique_ptr<Pass> eliminate);

/// Registers the `shears-prune` pipeline, with insert-masks' options.
void registerShearsPrunePipeline();

} // namespace mlir::shears

#endif // SHEARS_TRANSFORMS_PASSES_H
