//===- Sparse.cpp - The sparse GEMM of pruned linear layers ---------------===//
//
// spgemm (Kernels.h): a linear layer whose weight is mostly zeros, its
// non-zeros in compressed rows, so that the work and the weight's bytes
// fall with the zeros. Two walks, by the rows of A:
// - a few (a batch of 1 to 3): each output is the dot product of its row's
//   values with A's row gathered at their columns, W at a time;
// - more: A's rows are transposed in tiles of T = Q W rows (Q = 1, 2 or 4
//   vectors, as many as the rows fill and L2 holds; half a vector for 4 to
//   W / 2 rows), K x T and
//   zero-padded, so that each non-zero multiplies T contiguous inputs by its
//   value: Q FMAs per non-zero, no gather. Outputs are kept for kColumns
//   columns of the tile and written row by row with the epilogue.
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
/// Non-zeros below which a row's last ones are summed one by one.
constexpr int64_t kGatherTail = 4;
/// Columns of A transposed at a time.
constexpr int64_t kTransposeBlock = 16;
/// Bytes the transposed tile of A may take: it is read at random rows, so
/// it should stay in L2 with room for the weights streaming past.
constexpr int64_t kTileBytes = 512 << 10;

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

/// The W floats of `base` at the indices `index`.
inline VF gatherAt(const float *base, const int32_t *index) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  return _mm512_i32gather_ps(_mm512_loadu_si512(index), base, 4);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  return _mm256_i32gather_ps(
      base, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(index)), 4);
#else
  VF v;
  for (int i = 0; i < W; ++i)
    v[i] = base[index[i]];
  return v;
#endif
}

/// The first `count` (< W) floats of `base` at the indices `index`, zeros in
/// the other lanes: one masked gather where the ISA has it.
inline VF gatherFirst(const float *base, const int32_t *index, int64_t count) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  __mmask16 mask = __mmask16((1u << count) - 1);
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask,
                                  _mm512_maskz_loadu_epi32(mask, index), base,
                                  4);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base,
                                  _mm256_maskload_epi32(index, mask),
                                  _mm256_castsi256_ps(mask), 4);
#else
  VF v{};
  for (int64_t i = 0; i < count; ++i)
    v[i] = base[index[i]];
  return v;
#endif
}

/// The sum of the lanes, pairwise.
inline float sumLanes(VF v) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  return _mm512_reduce_add_ps(v);
#else
  float sum = 0;
  for (int i = 0; i < W; ++i)
    sum += v[i];
  return sum;
#endif
}

/// The gather walk over output columns [task * kGatherColumns, ...): whole
/// vectors of a row's non-zeros gathered, the rest one by one.
void gatherTask(void *ctx, int64_t task, int) {
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  int64_t n0 = task * kGatherColumns, n1 = min64(g.n, n0 + kGatherColumns);
  for (int64_t row = 0; row < g.m; ++row) {
    const float *a = g.a + row * g.k;
    for (int64_t col = n0; col < n1; ++col) {
      int64_t j = g.rowStart[col], end = g.rowStart[col + 1];
      float sum = 0;
      if (end - j >= kGatherTail) {
        // Two chains, so that one FMA's latency overlaps the next gather;
        // the last part vector by a masked gather.
        VF acc[2] = {};
        int u = 0;
        for (; j + W <= end; j += W, u ^= 1)
          acc[u] += load(g.value + j) * gatherAt(a, g.column + j);
        if (end - j >= kGatherTail) {
          acc[u] += loadFirst(g.value + j, end - j) *
                    gatherFirst(a, g.column + j, end - j);
          j = end;
        }
        sum = sumLanes(acc[0] + acc[1]);
      }
      for (; j < end; ++j)
        sum += g.value[j] * a[g.column[j]];
      g.c[row * g.n + col] = finish(g, sum, row, col);
    }
  }
}

/// Vectors of L floats (L = W, or W / 2 for tiles of few rows).
template <int L> struct Lanes {
  typedef float V __attribute__((vector_size(L * sizeof(float))));
  typedef float VU __attribute__((vector_size(L * sizeof(float)), aligned(4)));
  static V load(const float *p) { return *reinterpret_cast<const VU *>(p); }
  static void store(float *p, V v) { *reinterpret_cast<VU *>(p) = v; }
  static V splat(float x) { return (V{} + 1.0f) * x; }
};

/// The tile walk, Q vectors of L floats a tile row: tile task / chunks,
/// its column chunk task % chunks.
template <int L, int Q> void tileTask(void *ctx, int64_t task, int worker) {
  using V = typename Lanes<L>::V;
  using Ops = Lanes<L>;
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  constexpr int64_t T = Q * L;
  int64_t m0 = task / g.chunks * T, rows = min64(T, g.m - m0);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  float *at = scratch(worker, (g.k + kColumns) * T * sizeof(float));
  if (!at)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *outputs = at + g.k * T;
  // at[k][t] = A[m0 + t][k], zero past the last row. A full tile of whole
  // vectors: one strided gather a vector (the rows' lines stay in L1 from
  // one k to the next). Otherwise in blocks of kTransposeBlock k, whose
  // rows of `at` stay in L1 while every row of A passes.
  if (rows == T && L == W) {
    for (int64_t kk = 0; kk < g.k; ++kk)
      for (int q = 0; q < Q; ++q)
        store(at + kk * T + q * W,
              gatherStrided(g.a + (m0 + q * W) * g.k + kk, g.k));
  } else {
    for (int64_t k0 = 0; k0 < g.k; k0 += kTransposeBlock) {
      int64_t k1 = min64(g.k, k0 + kTransposeBlock);
      for (int64_t t = 0; t < T; ++t) {
        const float *a = g.a + (m0 + t) * g.k;
        for (int64_t kk = k0; kk < k1; ++kk)
          at[kk * T + t] = t < rows ? a[kk] : 0.0f;
      }
    }
  }
  for (int64_t c0 = n0; c0 < n1; c0 += kColumns) {
    int64_t columns = min64(kColumns, n1 - c0);
    for (int64_t o = 0; o < columns; ++o) {
      // U non-zeros at a time into their own accumulators: 8 independent
      // chains of FMAs, enough to hide their latency.
      constexpr int U = 8 / Q;
      V acc[U][Q] = {};
      int64_t j = g.rowStart[c0 + o], end = g.rowStart[c0 + o + 1];
      for (; j + U <= end; j += U)
        for (int u = 0; u < U; ++u) {
          V w = Ops::splat(g.value[j + u]);
          const float *x = at + int64_t(g.column[j + u]) * T;
          for (int q = 0; q < Q; ++q)
            acc[u][q] += w * Ops::load(x + q * L);
        }
      for (int u = 0; j < end; ++j, ++u) {
        V w = Ops::splat(g.value[j]);
        const float *x = at + int64_t(g.column[j]) * T;
        for (int q = 0; q < Q; ++q)
          acc[u][q] += w * Ops::load(x + q * L);
      }
      for (int q = 0; q < Q; ++q) {
        for (int u = 1; u < U; ++u)
          acc[0][q] += acc[u][q];
        Ops::store(outputs + o * T + q * L, acc[0][q]);
      }
    }
    // Row by row, W columns at a time: a strided gather of the tile's
    // outputs, the epilogue on the vector.
    const Epilogue &e = g.epilogue;
    for (int64_t t = 0; t < rows; ++t) {
      int64_t row = m0 + t;
      float *c = g.c + row * g.n + c0;
      int64_t o = 0;
      for (; o + W <= columns; o += W) {
        VF x = gatherStrided(outputs + o * T + t, T);
        if (e.bias)
          x += load(e.bias + c0 + o);
        if (e.residual)
          x += load(e.residual + row * g.n + c0 + o);
        store(c + o, e.activate(x));
      }
      for (; o < columns; ++o)
        c[o] = finish(g, outputs[o * T + t], row, c0 + o);
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
  g.m = leadingProduct(dims, ip[SHEARS_UK_GEMM_A_RANK] - 1);
  if (g.m == 0 || g.n == 0)
    return;
  bool gather = g.m < kGatherRows;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "spgemm %s %s: %lldx%lld * %lldx%lld, %lld nnz",
                 SHEARS_UK_ISA_NAME, gather ? "gather" : "tiles",
                 (long long)g.m, (long long)g.k, (long long)g.k, (long long)g.n,
                 (long long)nonzeros);
      },
      g.m * nonzeros);
  if (gather) {
    parallelFor(ceilDiv(g.n, kGatherColumns), gatherTask, &g, g.m * nonzeros);
    return;
  }
  // As many vectors a tile row as the rows fill and L2 holds.
  int64_t fits = kTileBytes / (max64(g.k, 1) * W * int64_t(sizeof(float)));
  int q = g.m <= W || fits < 2 ? 1 : g.m <= 2 * W || fits < 4 ? 2 : 4;
  // Half vectors for a few rows (4 to W / 2), which would leave most lanes
  // of a whole one empty.
  bool half = W >= 8 && g.m <= W / 2;
  g.tileRows = half ? W / 2 : q * W;
  g.tiles = ceilDiv(g.m, g.tileRows);
  // Enough tasks for the threads: each tile's columns split in chunks of
  // whole column blocks (a chunk repeats the tile's transposition).
  int64_t blocks = ceilDiv(g.n, kColumns);
  int64_t wanted = numWorkers() > 1 ? 2 * numWorkers() : 1;
  g.chunks = min64(blocks, max64(1, ceilDiv(wanted, g.tiles)));
  g.chunk = ceilDiv(blocks, g.chunks) * kColumns;
  g.chunks = ceilDiv(g.n, g.chunk);
  void (*task)(void *, int64_t, int) = half     ? tileTask<W / 2, 1>
                                       : q == 1 ? tileTask<W, 1>
                                       : q == 2 ? tileTask<W, 2>
                                                : tileTask<W, 4>;
  parallelFor(g.tiles * g.chunks, task, &g, g.m * nonzeros);
}
