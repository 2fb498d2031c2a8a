//===- SparseChoice.cpp - Dense or sparse, measured on this machine -------===//

#include "shears/Conversion/SparseChoice.h"
#include "shears-c/Kernels.h"
#include "shears/Conversion/Passes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::shears;

std::string SparseChoice::describe() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << (sparse ? sparseKernel : denseKernel) << ": " << sparseKernel << " / "
     << denseKernel << " ms at batch";
  for (const FormatTiming &t : timings)
    os << llvm::formatv(" {0}: {1:f4} / {2:f4} ({3:f2}x)", t.batch,
                        t.spgemmSeconds * 1e3, t.gemmSeconds * 1e3,
                        t.spgemmSeconds / t.gemmSeconds);
  return text;
}

/// The rank of a kernel variant: a machine runs the variants up to its own.
static int isaRank(StringRef isa) {
  return llvm::StringSwitch<int>(isa)
      .Case("generic", 0)
      .Case("avx2", 1)
      .Case("avx512", 2)
      .Default(-1);
}

static ShearsUKernelFn kernelNamed(StringRef name) {
  for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
    if (name == s->name)
      return s->fn;
  return nullptr;
}

/// Seconds of one call of `fn`.
static double timeCall(ShearsUKernelFn fn, void **buffers,
                       const int64_t *dims, const int64_t *iparams) {
  const float fparams[2] = {0.0f, 0.0f};
  auto start = std::chrono::steady_clock::now();
  fn(buffers, dims, iparams, fparams);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// `count` inputs in [-1, 1) from a fixed sequence: the kernels' time does
/// not depend on the values, but the same runs every time are easier to
/// trust.
static SmallVector<float> timingInputs(int64_t count) {
  SmallVector<float> a(count);
  uint32_t state = 12345;
  for (float &x : a) {
    state = state * 1664525u + 1013904223u;
    x = float(state >> 8) / float(1 << 23) - 1.0f;
  }
  return a;
}

/// The dense and the sparse kernel on the same operands, `batch` rows: a
/// call of each to warm caches and the pool, then the best of runs taken
/// in turns (so that a burst of load hits both alike): at least 3, more
/// while they take under 5 ms together, at most 9.
static FormatTiming timeBoth(ShearsUKernelFn dense, void **denseBuffers,
                             const int64_t *denseIparams,
                             ShearsUKernelFn sparse, void **sparseBuffers,
                             const int64_t *sparseIparams, const int64_t *dims,
                             int64_t batch) {
  timeCall(dense, denseBuffers, dims, denseIparams);
  timeCall(sparse, sparseBuffers, dims, sparseIparams);
  FormatTiming t{batch, INFINITY, INFINITY};
  double spent = 0;
  for (int run = 0; run < 9 && (run < 3 || spent < 5e-3); ++run) {
    double d = timeCall(dense, denseBuffers, dims, denseIparams);
    double s = timeCall(sparse, sparseBuffers, dims, sparseIparams);
    t.gemmSeconds = std::min(t.gemmSeconds, d);
    t.spgemmSeconds = std::min(t.spgemmSeconds, s);
    spent += d + s;
  }
  // A clock too coarse for a tiny layer reads 0: floored, the ratio stays
  // finite, and a tie keeps the dense kernel.
  t.gemmSeconds = std::max(t.gemmSeconds, 1e-9);
  t.spgemmSeconds = std::max(t.spgemmSeconds, 1e-9);
  return t;
}

void SparseChoice::decide() {
  sparse = llvm::all_of(timings, [](const FormatTiming &t) {
    return t.spgemmSeconds <= kSparseChoiceMargin * t.gemmSeconds;
  });
}

std::optional<SmallVector<float>>
mlir::shears::packSparseCandidate(ArrayRef<float> w, int64_t n, int64_t k,
                                  double maxDensity, bool timed) {
  int64_t nonzeros = shears_uk_spgemm_nonzeros(w.data(), n, k);
  if (n * k == 0 || double(nonzeros) > maxDensity * double(n * k))
    return std::nullopt;
  int64_t size = shears_uk_spgemm_packed_size(w.data(), n, k);
  if (size < 0 || size >= (timed ? 2 : 1) * n * k || size > INT32_MAX)
    return std::nullopt;
  SmallVector<float> packed(size);
  shears_uk_pack_spgemm(w.data(), n, k, packed.data());
  return packed;
}

std::optional<SparseChoice>
mlir::shears::timeLinearWeight(ArrayRef<float> w, int64_t n, int64_t k,
                               ArrayRef<float> spgemmPacked, StringRef isa) {
  SmallVector<float> dense(shears_uk_gemm_b_packed_size(k, n));
  shears_uk_pack_gemm_b(w.data(), k, n, /*strideK=*/1, /*strideN=*/k,
                        dense.data());
  return timeLinearFormats(dense, spgemmPacked, k, n, isa);
}

std::optional<SparseChoice>
mlir::shears::timeLinearFormats(ArrayRef<float> gemmPacked,
                                ArrayRef<float> spgemmPacked, int64_t k,
                                int64_t n, StringRef isa) {
  int rank = isaRank(isa);
  if (rank < 0 || rank > isaRank(hostKernelTarget().isa))
    return std::nullopt;
  ShearsUKernelFn gemm = kernelNamed(("shears_uk_gemm_" + isa).str());
  ShearsUKernelFn spgemm = kernelNamed(("shears_uk_spgemm_" + isa).str());
  if (!gemm || !spgemm)
    return std::nullopt;

  int64_t maxBatch = *llvm::max_element(kSparseChoiceBatches);
  SmallVector<float> a = timingInputs(maxBatch * k), c(maxBatch * n);
  int64_t iparams[SHEARS_UK_GEMM_NUM_PARAMS] = {};
  iparams[SHEARS_UK_GEMM_K] = k;
  iparams[SHEARS_UK_GEMM_N] = n;
  iparams[SHEARS_UK_GEMM_A_RANK] = 2;

  SparseChoice choice;
  for (int64_t batch : kSparseChoiceBatches) {
    int64_t dims[2] = {batch, k};
    void *dense[3] = {a.data(), const_cast<float *>(gemmPacked.data()),
                      c.data()};
    void *sparse[3] = {a.data(), const_cast<float *>(spgemmPacked.data()),
                       c.data()};
    choice.timings.push_back(
        timeBoth(gemm, dense, iparams, spgemm, sparse, iparams, dims, batch));
  }
  choice.decide();
  return choice;
}

std::optional<SparseChoice> mlir::shears::timeConvFormats(
    ArrayRef<float> convPacked, ArrayRef<int64_t> convIparams,
    StringRef sparseKernel, ArrayRef<float> sparsePacked,
    ArrayRef<int64_t> sparseIparams, int64_t channels, int64_t height,
    int64_t width, int64_t outputElements, StringRef isa) {
  int rank = isaRank(isa);
  if (rank < 0 || rank > isaRank(hostKernelTarget().isa))
    return std::nullopt;
  ShearsUKernelFn conv = kernelNamed(("shears_uk_conv2d_" + isa).str());
  ShearsUKernelFn sparse =
      kernelNamed(("shears_uk_" + sparseKernel + "_" + isa).str());
  if (!conv || !sparse)
    return std::nullopt;
  SmallVector<float> a = timingInputs(channels * height * width),
                     c(outputElements);
  // Both without the bias (and residual) operands: the same work for both.
  SmallVector<int64_t> denseIparams(convIparams);
  denseIparams[SHEARS_UK_CONV_FLAGS] &=
      ~int64_t(SHEARS_UK_HAS_BIAS | SHEARS_UK_HAS_RESIDUAL);
  // One image: its pixels are the rows a batch of a linear layer is.
  int64_t dims[4] = {1, channels, height, width};
  void *denseBuffers[3] = {a.data(), const_cast<float *>(convPacked.data()),
                           c.data()};
  void *sparseBuffers[3] = {a.data(), const_cast<float *>(sparsePacked.data()),
                            c.data()};
  SparseChoice choice;
  choice.denseKernel = "conv2d";
  choice.sparseKernel = sparseKernel.str();
  choice.timings.push_back(timeBoth(conv, denseBuffers, denseIparams.data(),
                                    sparse, sparseBuffers, sparseIparams.data(),
                                    dims, 1));
  choice.decide();
  return choice;
}
