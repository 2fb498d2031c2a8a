//===- Sparse.cpp - The sparse GEMM of pruned linear layers ---------------===//
//
// spgemm (Kernels.h): a linear layer whose weight is mostly zeros, its
// non-zeros in compressed rows, so that the work and the weight's bytes
// fall with the zeros. Two walks, by the rows of A:
// - a few (a batch of 1 to 3): each output is the dot product of its row's
//   values with A's row gathered at their columns, W at a time;
// - more: A's rows are transposed in tiles of T = Q W rows (Q = 1, 2 or 4
//   vectors, as many as the rows fill), K x T and zero-padded, so that each
//   non-zero multiplies T contiguous inputs by its value: Q FMAs per
//   non-zero, no gather. Outputs are kept for kColumns columns of the tile
//   and written row by row with the epilogue.
// Each output is computed by one task in a fixed order, so any thread count
// gives the same bits.
//
//===----------------------------------------------------------------------===//

#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include <stdio.h>

namespace shears::uk::SHEARS_UK_ISA {
namespace {

/// Rows of A below which the gather walk is used.
constexpr int64_t kGatherRows = 4;
/// Output columns kept per block of a tile.
constexpr int64_t kColumns = 16;
/// Output columns per task of the gather walk.
constexpr int64_t kGatherColumns = 64;

struct SpGemm {
  const float *a;
  const int32_t *rowStart, *column;
  const float *value;
  float *c;
  Epilogue epilogue;
  int64_t m, k, n;
  /// Tile walk: rows per tile, tiles, and the column chunks of a tile.
  int64_t tileRows, tiles, chunks, chunk;
};

/// An output with the epilogue applied.
inline float finish(const SpGemm &g, float sum, int64_t row, int64_t col) {
  if (g.epilogue.bias)
    sum += g.epilogue.bias[col];
  if (g.epilogue.residual)
    sum += g.epilogue.residual[row * g.n + col];
  return g.epilogue.activate(sum);
}

/// The first `count` (at most W) floats of `base` at the indices `index`,
/// zeros in the other lanes.
inline VF gatherAt(const float *base, const int32_t *index, int64_t count) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  __mmask16 mask =
      count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
  __m512i lanes = _mm512_maskz_loadu_epi32(mask, index);
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, lanes, base, 4);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  __m256i mask = _mm256_cmpgt_epi32(
      _mm256_set1_epi32(static_cast<int>(count < 8 ? count : 8)),
      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i lanes = _mm256_maskload_epi32(index, mask);
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, lanes,
                                  _mm256_castsi256_ps(mask), 4);
#else
  VF v{};
  for (int64_t i = 0; i < count && i < W; ++i)
    v[i] = base[index[i]];
  return v;
#endif
}

inline float sumLanes(VF v) {
  float sum = 0;
  for (int i = 0; i < W; ++i)
    sum += v[i];
  return sum;
}

/// The gather walk over output columns [task * kGatherColumns, ...).
void gatherTask(void *ctx, int64_t task, int) {
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  int64_t n0 = task * kGatherColumns, n1 = min64(g.n, n0 + kGatherColumns);
  for (int64_t row = 0; row < g.m; ++row) {
    const float *a = g.a + row * g.k;
    for (int64_t col = n0; col < n1; ++col) {
      VF acc{};
      int64_t end = g.rowStart[col + 1];
      for (int64_t j = g.rowStart[col]; j < end; j += W) {
        int64_t count = end - j;
        VF values = count >= W ? load(g.value + j) : loadFirst(g.value + j, count);
        acc += values * gatherAt(a, g.column + j, count);
      }
      g.c[row * g.n + col] = finish(g, sumLanes(acc), row, col);
    }
  }
}

/// The tile walk, Q vectors a tile row: tile task / chunks, its column
/// chunk task % chunks.
template <int Q> void tileTask(void *ctx, int64_t task, int worker) {
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  constexpr int64_t T = Q * W;
  int64_t m0 = task / g.chunks * T, rows = min64(T, g.m - m0);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  float *at = scratch(worker, (g.k + kColumns) * T * sizeof(float));
  if (!at)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *outputs = at + g.k * T;
  // at[k][t] = A[m0 + t][k], zero past the last row.
  for (int64_t t = 0; t < T; ++t) {
    const float *a = g.a + (m0 + t) * g.k;
    for (int64_t kk = 0; kk < g.k; ++kk)
      at[kk * T + t] = t < rows ? a[kk] : 0.0f;
  }
  for (int64_t c0 = n0; c0 < n1; c0 += kColumns) {
    int64_t columns = min64(kColumns, n1 - c0);
    for (int64_t o = 0; o < columns; ++o) {
      VF acc[Q] = {};
      int64_t end = g.rowStart[c0 + o + 1];
      for (int64_t j = g.rowStart[c0 + o]; j < end; ++j) {
        VF w = splat(g.value[j]);
        const float *x = at + int64_t(g.column[j]) * T;
        for (int q = 0; q < Q; ++q)
          acc[q] += w * load(x + q * W);
      }
      for (int q = 0; q < Q; ++q)
        store(outputs + o * T + q * W, acc[q]);
    }
    for (int64_t t = 0; t < rows; ++t) {
      float *c = g.c + (m0 + t) * g.n + c0;
      for (int64_t o = 0; o < columns; ++o)
        c[o] = finish(g, outputs[o * T + t], m0 + t, c0 + o);
    }
  }
}

} // namespace
} // namespace shears::uk::SHEARS_UK_ISA

using namespace shears::uk;
using namespace shears::uk::SHEARS_UK_ISA;

extern "C" void SHEARS_UK_NAME(spgemm)(void **buffers, const int64_t *dims,
                                       const int64_t *ip,
                                       const float *fparams) {
  void **operand = buffers + 2;
  SpGemm g{};
  g.a = static_cast<const float *>(buffers[0]);
  g.k = ip[SHEARS_UK_GEMM_K];
  g.n = ip[SHEARS_UK_GEMM_N];
  g.rowStart = static_cast<const int32_t *>(buffers[1]);
  int64_t nonzeros = g.rowStart[g.n];
  g.column = g.rowStart + g.n + 1;
  g.value = static_cast<const float *>(buffers[1]) + g.n + 1 + nonzeros;
  g.epilogue = Epilogue(ip[SHEARS_UK_GEMM_FLAGS], fparams, operand);
  g.c = static_cast<float *>(*operand);
  g.m = 1;
  for (int64_t d = 0; d + 1 < ip[SHEARS_UK_GEMM_A_RANK]; ++d)
    g.m *= dims[d];
  if (g.m == 0 || g.n == 0)
    return;
  bool gather = g.m < kGatherRows;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "spgemm %s %s: %lldx%lld * %lldx%lld, %lld nnz",
                 SHEARS_UK_ISA_NAME, gather ? "gather" : "tiles",
                 (long long)g.m, (long long)g.k, (long long)g.k,
                 (long long)g.n, (long long)nonzeros);
      },
      g.m * nonzeros);
  if (gather) {
    parallelFor(ceilDiv(g.n, kGatherColumns), gatherTask, &g,
                g.m * nonzeros);
    return;
  }
  int q = g.m <= W ? 1 : g.m <= 2 * W ? 2 : 4;
  g.tileRows = q * W;
  g.tiles = ceilDiv(g.m, g.tileRows);
  // Enough tasks for the threads: each tile's columns split in chunks of
  // whole column blocks (a chunk repeats the tile's transposition).
  int64_t blocks = ceilDiv(g.n, kColumns);
  g.chunks = min64(blocks, max64(1, ceilDiv(2 * numWorkers(), g.tiles)));
  g.chunk = ceilDiv(blocks, g.chunks) * kColumns;
  g.chunks = ceilDiv(g.n, g.chunk);
  void (*task)(void *, int64_t, int) =
      q == 1 ? tileTask<1> : q == 2 ? tileTask<2> : tileTask<4>;
  parallelFor(g.tiles * g.chunks, task, &g, g.m * nonzeros);
}
