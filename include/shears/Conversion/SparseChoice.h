//===- SparseChoice.h - Dense or sparse, measured on this machine -*- C++
//-*-===//
//
// Whether a pruned linear layer (or convolution) runs faster on spgemm
// (spconv2d: its non-zeros) or on gemm (conv2d: its dense packed panels)
// depends on
// its shape, its sparsity, the batch and the CPU: the same layer is 3x faster
// sparse on one machine and slower on another (docs/SparseStorage.md). Rather
// than a density threshold tuned once, the compiler can time both kernels on
// the layer's own packed weights, here, and keep spgemm only where it is
// clearly the faster at every batch timed.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_CONVERSION_SPARSECHOICE_H
#define SHEARS_CONVERSION_SPARSECHOICE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::shears {

/// The batches a layer is timed at.
inline constexpr int64_t kSparseChoiceBatches[] = {1, 4, 8, 64};

/// spgemm is kept only where it takes at most this fraction of gemm's time
/// at every batch timed. The margin is for the machine, not the clock: the
/// two kernels' ratio moves between processes with the machine's state
/// (128x10000 at density 0.2, batch 8, on a shared Zen 4: 0.90x in one
/// process, 1.07x-1.20x in five others), and a layer run slower than dense
/// is the one outcome the choice must avoid.
inline constexpr double kSparseChoiceMargin = 0.9;

/// The best of a few runs of each kernel at one batch, in seconds (gemm's:
/// the dense kernel's, conv2d's for a convolution).
struct FormatTiming {
  int64_t batch;
  double gemmSeconds, spgemmSeconds;
};

/// Both kernels timed on one layer, and the verdict.
struct SparseChoice {
  SmallVector<FormatTiming, 4> timings;
  bool sparse = false;
  /// The kernels timed: gemm or conv2d, and spgemm or spconv2d.
  std::string denseKernel = "gemm", sparseKernel = "spgemm";

  /// "spgemm: spgemm / gemm ms at batch 1: 0.0050 / 0.0141 (0.36x) 4: ...",
  /// the verdict first: for remarks.
  std::string describe() const;
  /// sparse: spgemm within kSparseChoiceMargin of the dense kernel at
  /// every batch timed.
  void decide();
};

/// spgemm's packed form of a linear layer's weight `w` ([n, k], row-major)
/// if it is a candidate: at most `maxDensity` of it non-zero and its slices,
/// padded to their longest rows, fewer words than the dense weight (int32
/// offsets address them), or, where timing decides (`timed`), fewer than
/// twice as many: 2:4 weights take about 1.6 times, and ran 1.3x-2.1x
/// faster sparse on the 2:4 Fashion-MNIST MLP at batches 1 to 64 (Zen 4).
/// nullopt for any other weight.
std::optional<SmallVector<float>> packSparseCandidate(ArrayRef<float> w,
                                                      int64_t n, int64_t k,
                                                      double maxDensity,
                                                      bool timed);

/// Packs `w` ([n, k]) for gemm too and times both kernels on it
/// (timeLinearFormats), `spgemmPacked` being packSparseCandidate's.
std::optional<SparseChoice> timeLinearWeight(ArrayRef<float> w, int64_t n,
                                             int64_t k,
                                             ArrayRef<float> spgemmPacked,
                                             llvm::StringRef isa);

/// Times `gemm` on `gemmPacked` (shears_uk_pack_gemm_b's layout) and
/// `spgemm` on `spgemmPacked` (shears_uk_pack_spgemm's) for a layer of `k`
/// inputs and `n` outputs at kSparseChoiceBatches, with the kernel variant
/// `isa` (avx512, avx2 or generic) on the kernels' thread pool as it is set.
/// nullopt when this machine cannot run that variant.
std::optional<SparseChoice> timeLinearFormats(ArrayRef<float> gemmPacked,
                                              ArrayRef<float> spgemmPacked,
                                              int64_t k, int64_t n,
                                              llvm::StringRef isa);

/// Times a convolution on one image of `channels` x `height` x `width`
/// (`outputElements` floats out): `conv2d` with its packed filter and slots
/// (what the compiler would call) against `sparseKernel` (spgemm on planes
/// for a 1x1 convolution, spconv2d) with `sparsePacked`
/// (packSparseCandidate's of the filter [Cout, C kh kw]) and its slots
/// `sparseIparams` (without the bias), with the kernel variant `isa`.
/// nullopt when this machine cannot run that variant.
std::optional<SparseChoice>
timeConvFormats(ArrayRef<float> convPacked, ArrayRef<int64_t> convIparams,
                llvm::StringRef sparseKernel, ArrayRef<float> sparsePacked,
                ArrayRef<int64_t> sparseIparams, int64_t channels,
                int64_t height, int64_t width, int64_t outputElements,
                llvm::StringRef isa);

} // namespace mlir::shears

#endif // SHEARS_CONVERSION_SPARSECHOICE_H
