//===- Sparse.cpp - The sparse GEMM of pruned linear layers ---------------===//
//
// spgemm (Kernels.h): a linear layer whose weight is mostly zeros, its
// non-zeros by output row in slices of 16 rows (sliced ELLPACK: slot s of
// a slice holds the s-th non-zero of each of its rows), so that the work
// and the weight's bytes fall with the zeros. Two walks, by the rows of A:
// - a few (1 to 7): the weight's second copy, each slice cut in
//   blocks of 32 columns: per slot, the 16 rows' inputs picked from the
//   block's 32 in two registers (vpermt2ps; a gather without AVX-512) times
//   its 16 values, into a vector whose lanes are the slice's outputs: no
//   gather from memory (18 cycles for 16 floats on Zen 4), no branch a row,
//   no sum across lanes; up to 4 rows of A share each slot's loads;
// - more: A's rows are transposed in tiles of T = Q W rows (Q = 1, 2 or 4
//   vectors, as many as the rows fill and L2 holds), K x T and zero-padded, so
//   that each non-zero multiplies T contiguous inputs by its value: Q FMAs per
//   non-zero, no gather. Outputs are kept for a slice and written row by row
//   with the epilogue.
// Each output is computed by one task in a fixed order, so any thread count
// gives the same bits.
//
//===----------------------------------------------------------------------===//

#include "ConvShape.h"
#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stdio.h>
#include <string.h>

namespace shears::uk::SHEARS_UK_ISA {
namespace {

constexpr int64_t kS = SHEARS_UK_SPGEMM_SLICE;
static_assert(kS == 16, "a slice is a V16 of outputs");
constexpr int64_t kB = SHEARS_UK_SPGEMM_BLOCK;
static_assert(kB == 32, "a block of inputs is two AVX-512 registers");
/// Rows of A below which the blocks walk is used. With AVX-512 on Zen 4 it
/// beat the tile walk up to 12 rows (gemm time / spgemm time at 8 rows,
/// tiles -> blocks: 300x100 at 10% 1.45x -> 2.92x, 128x10000 at 5% 2.14x ->
/// 3.52x) and was even with it at 15.
constexpr int64_t kBlocksRows = W == 16 ? 13 : 8;
/// Output columns per task of the blocks walk: whole slices.
constexpr int64_t kBlocksColumns = 4 * kS;
/// Columns of A transposed at a time.
constexpr int64_t kTransposeBlock = 16;
/// Bytes the transposed tile of A may take: it is read at random rows, so
/// it should stay in L2 with room for the weights streaming past.
constexpr int64_t kTileBytes = 512 << 10;
/// The panel walk's bytes of the transposed tile a panel (L1, with room
/// for the weights streaming past) and of its sums (L2).
constexpr int64_t kPanelBytes = 32 << 10;
constexpr int64_t kPanelSumBytes = 256 << 10;
/// The panel walk runs the blocks (their slots padded block by block),
/// which it takes where they carry at most this many times the slices'
/// slots: 2:4 weights (no padding either way) but not 10% unstructured
/// ones (784x300: 2.3 times).
constexpr double kPanelSlots = 1.25;

struct SpGemm {
  const float *a;
  /// slice_start, row (the output column of each position) and column of
  /// the packed weight (Kernels.h).
  const int32_t *sliceStart, *outputColumn, *column;
  const float *value;
  /// The blocks (Kernels.h): block_start, offset and block_value, and
  /// ceil(K / kB) blocks a slice.
  const int32_t *blockStart;
  const uint8_t *offset;
  const float *blockValue;
  int64_t blocks;
  float *c;
  Epilogue epilogue;
  int64_t m, k, n;
  /// Whether the rows are reordered (else row[i] = i).
  bool permuted;
  /// Tile walk: rows per tile, tiles, and the column chunks of a tile
  /// (whole slices); on planes, tiles are an image's.
  int64_t tileRows, tiles, chunks, chunk;
  /// Panel walk: blocks a panel.
  int64_t panelBlocks;
  /// On planes (SHEARS_UK_SPGEMM_PLANES): images and pixels a plane.
  int64_t images, planeSize;
};

/// Points g's weight fields at the parts of `packed` (Kernels.h), for g.k
/// inputs and g.n outputs; returns its slots.
int64_t readWeight(SpGemm &g, const void *packed) {
  int64_t slices = ceilDiv(g.n, kS);
  g.permuted = *static_cast<const int32_t *>(packed);
  g.sliceStart = static_cast<const int32_t *>(packed) + 1;
  g.outputColumn = g.sliceStart + slices + 1;
  g.column = g.outputColumn + slices * kS;
  int64_t slots = g.sliceStart[slices];
  g.value = reinterpret_cast<const float *>(g.column + slots * kS);
  g.blocks = ceilDiv(g.k, kB);
  g.blockStart = reinterpret_cast<const int32_t *>(g.value + slots * kS);
  g.offset =
      reinterpret_cast<const uint8_t *>(g.blockStart + slices * g.blocks + 1);
  int64_t blockSlots = g.blockStart[slices * g.blocks];
  g.blockValue = reinterpret_cast<const float *>(g.offset + blockSlots * kS);
  return slots;
}

/// The 16 floats of `base` at the indices `index`.
inline V16 gather16(const float *base, const int32_t *index) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  return _mm512_i32gather_ps(_mm512_loadu_si512(index), base, 4);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  auto half = [&](int i) {
    return _mm256_i32gather_ps(
        base, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(index + i)),
        4);
  };
  return __builtin_shufflevector(half(0), half(8), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                 10, 11, 12, 13, 14, 15);
#else
  V16 v;
  for (int i = 0; i < 16; ++i)
    v[i] = base[index[i]];
  return v;
#endif
}

/// The outputs of positions [c0, c0 + columns) of row `row` of C from
/// their sums x (a lane each): bias, residual and activation, stored at
/// their output columns, one by one where the rows are reordered
/// (positions past N read column 0 and are not stored).
inline void finishSlice(const SpGemm &g, int64_t row, int64_t c0,
                        int64_t columns, V16 x) {
  const Epilogue &e = g.epilogue;
  float *c = g.c + row * g.n;
  if (!g.permuted) {
    if (e.bias)
      x += loadSome(e.bias + c0, columns);
    if (e.residual)
      x += loadSome(e.residual + row * g.n + c0, columns);
    storeSome(c + c0, e.activate(x), columns);
    return;
  }
  const int32_t *column = g.outputColumn + c0;
  if (e.bias)
    x += gather16(e.bias, column);
  if (e.residual)
    x += gather16(e.residual + row * g.n, column);
  x = e.activate(x);
  for (int64_t i = 0; i < columns; ++i)
    c[column[i]] = x[i];
}

/// Rows [row, row + R) of the few-rows walk over the slice at output
/// columns [c0, c0 + 16), its blocks of kB columns in turn: each slot picks
/// each row's inputs of its 16 weight rows by their offsets from the
/// block's kB inputs held in two registers (one vpermt2ps on AVX-512; a
/// gather elsewhere), times its 16 values (padding: offset 0 times 0), into
/// two chains of sums (one a row from 2 rows); the slice's 16 outputs of a
/// row are then one vector's epilogue.
template <int R> void blocksRows(const SpGemm &g, int64_t row, int64_t c0) {
  constexpr int C = R == 1 ? 2 : 1; // Chains a row.
  const int32_t *start = g.blockStart + c0 / kS * g.blocks;
  V16 acc[R][C] = {};
  for (int64_t b = 0; b < g.blocks; ++b) {
    int64_t s = start[b], end = start[b + 1], k0 = b * kB;
    if (s == end)
      continue;
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
    int64_t count = min64(kB, g.k - k0);
    __m512 lo[R], hi[R];
    for (int r = 0; r < R; ++r) {
      const float *a = g.a + (row + r) * g.k + k0;
      lo[r] = loadFirst(a, min64(16, count));
      hi[r] = count > 16 ? loadFirst(a + 16, count - 16) : _mm512_setzero_ps();
    }
    auto step = [&](int64_t slot, int chain) {
      __m512i index = _mm512_cvtepu8_epi32(_mm_loadu_si128(
          reinterpret_cast<const __m128i *>(g.offset + slot * kS)));
      V16 w = load16(g.blockValue + slot * kS);
      for (int r = 0; r < R; ++r)
        acc[r][chain] += w * V16(_mm512_permutex2var_ps(lo[r], index, hi[r]));
    };
#else
    auto step = [&](int64_t slot, int chain) {
      int32_t index[kS];
      for (int i = 0; i < kS; ++i)
        index[i] = static_cast<int32_t>(k0 + g.offset[slot * kS + i]);
      V16 w = load16(g.blockValue + slot * kS);
      for (int r = 0; r < R; ++r)
        acc[r][chain] += w * gather16(g.a + (row + r) * g.k, index);
    };
#endif
    for (; s + C <= end; s += C)
      for (int chain = 0; chain < C; ++chain)
        step(s + chain, chain);
    if (s < end)
      step(s, 0);
  }
  for (int r = 0; r < R; ++r) {
    V16 x = acc[r][0];
    for (int chain = 1; chain < C; ++chain)
      x += acc[r][chain];
    finishSlice(g, row + r, c0, min64(kS, g.n - c0), x);
  }
}

/// The few-rows walk over output columns [task * kBlocksColumns, ...), a
/// slice at a time, up to 4 rows of A at once (each slot's offsets and
/// values loaded once for them).
void blocksTask(void *ctx, int64_t task, int) {
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  int64_t n0 = task * kBlocksColumns, n1 = min64(g.n, n0 + kBlocksColumns);
  for (int64_t row = 0; row < g.m; row += 4)
    for (int64_t c0 = n0; c0 < n1; c0 += kS)
      switch (min64(4, g.m - row)) {
      case 1:
        blocksRows<1>(g, row, c0);
        break;
      case 2:
        blocksRows<2>(g, row, c0);
        break;
      case 3:
        blocksRows<3>(g, row, c0);
        break;
      default:
        blocksRows<4>(g, row, c0);
      }
}

/// Vectors of L floats.
template <int L> struct Lanes {
  typedef float V __attribute__((vector_size(L * sizeof(float))));
  typedef float VU __attribute__((vector_size(L * sizeof(float)), aligned(4)));
  static V load(const float *p) { return *reinterpret_cast<const VU *>(p); }
  static void store(float *p, V v) { *reinterpret_cast<VU *>(p) = v; }
  static V splat(float x) { return (V{} + 1.0f) * x; }
};

/// The sums of P = 16 / Q outputs of slice `slice` from its output o0, Q
/// vectors of L floats each: slot after slot (each slot's entries for them
/// are contiguous, and their P x Q accumulators independent chains), its
/// value times the run of inputs run(column) gives. Padding entries add 0
/// times column 0's run.
template <int L, int Q, typename Run>
inline void sliceSums(const SpGemm &g, int64_t slice, int64_t o0,
                      typename Lanes<L>::V (&acc)[16 / Q][Q], Run run) {
  using Ops = Lanes<L>;
  constexpr int P = 16 / Q;
  const int32_t *column = g.column + g.sliceStart[slice] * kS;
  const float *value = g.value + g.sliceStart[slice] * kS;
  int64_t slots = g.sliceStart[slice + 1] - g.sliceStart[slice];
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q)
      acc[p][q] = typename Lanes<L>::V{};
  for (int64_t j = 0; j < slots; ++j)
    for (int p = 0; p < P; ++p) {
      typename Lanes<L>::V w = Ops::splat(value[j * kS + o0 + p]);
      const float *x = run(column[j * kS + o0 + p]);
      for (int q = 0; q < Q; ++q)
        acc[p][q] += w * Ops::load(x + q * L);
    }
}

/// at[(k - k0) T + t] = A[m0 + t][k] for k in [k0, k1), zero past the
/// last row: a full tile of whole vectors in W x W blocks transposed in
/// registers, the last k (past a multiple of W) by strided gathers (the
/// rows' lines stay in L1 from one k to the next); otherwise in blocks of
/// kTransposeBlock k, whose rows of `at` stay in L1 while every row of A
/// passes.
template <int L, int Q>
void transposeTile(const SpGemm &g, int64_t m0, int64_t rows, int64_t k0,
                   int64_t k1, float *at) {
  constexpr int64_t T = Q * L;
  if (rows == T && L == W) {
    int64_t kk = k0;
    for (; kk + W <= k1; kk += W)
      for (int q = 0; q < Q; ++q) {
        VF block[W];
        for (int t = 0; t < W; ++t)
          block[t] = load(g.a + (m0 + q * W + t) * g.k + kk);
        transpose(block);
        for (int i = 0; i < W; ++i)
          store(at + (kk - k0 + i) * T + q * W, block[i]);
      }
    for (; kk < k1; ++kk)
      for (int q = 0; q < Q; ++q)
        store(at + (kk - k0) * T + q * W,
              gatherStrided(g.a + (m0 + q * W) * g.k + kk, g.k));
    return;
  }
  for (int64_t b0 = k0; b0 < k1; b0 += kTransposeBlock) {
    int64_t b1 = min64(k1, b0 + kTransposeBlock);
    for (int64_t t = 0; t < T; ++t) {
      const float *a = g.a + (m0 + t) * g.k;
      for (int64_t kk = b0; kk < b1; ++kk)
        at[(kk - k0) * T + t] = t < rows ? a[kk] : 0.0f;
    }
  }
}

/// Rows [m0, m0 + rows) of C at output positions [c0, c0 + columns) (one
/// slice) from their sums, outputs[o T + t] for position c0 + o and row m0
/// + t: row by row, the slice's outputs of the row into a vector, then
/// their epilogue. A whole slice with whole vectors of 16: 16 rows at a
/// time, a 16x16 block of `outputs` transposed in registers (the rows past
/// the last are the zero rows' sums); else lane by lane.
template <int64_t T>
void finishTile(const SpGemm &g, const float *outputs, int64_t m0, int64_t rows,
                int64_t c0, int64_t columns) {
  int64_t t = 0;
#if SHEARS_UK_WIDTH == 16
  for (; columns == kS && t < rows; t += W) {
    VF block[W];
    for (int o = 0; o < W; ++o)
      block[o] = load(outputs + o * T + t);
    transpose(block);
    for (int r = 0; r < W && t + r < rows; ++r)
      finishSlice(g, m0 + t + r, c0, columns, block[r]);
  }
#endif
  for (; t < rows; ++t) {
    V16 x{};
    for (int64_t o = 0; o < columns; ++o)
      x[o] = outputs[o * T + t];
    finishSlice(g, m0 + t, c0, columns, x);
  }
}

/// The tile walk, Q vectors of L floats a tile row: tile task / chunks,
/// its column chunk task % chunks.
template <int L, int Q> void tileTask(void *ctx, int64_t task, int worker) {
  using V = typename Lanes<L>::V;
  using Ops = Lanes<L>;
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  constexpr int64_t T = Q * L;
  int64_t m0 = task / g.chunks * T, rows = min64(T, g.m - m0);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  float *at = scratch(worker, (g.k + kS) * T * sizeof(float));
  if (!at)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *outputs = at + g.k * T;
  transposeTile<L, Q>(g, m0, rows, 0, g.k, at);
  for (int64_t c0 = n0; c0 < n1; c0 += kS) {
    int64_t columns = min64(kS, n1 - c0);
    // P of the slice's outputs at a time.
    constexpr int P = 16 / Q;
    for (int64_t o0 = 0; o0 < columns; o0 += P) {
      V acc[P][Q];
      sliceSums<L, Q>(g, c0 / kS, o0, acc,
                      [&](int32_t k) { return at + int64_t(k) * T; });
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q)
          Ops::store(outputs + (o0 + p) * T + q * L, acc[p][q]);
    }
    finishTile<T>(g, outputs, m0, rows, c0, columns);
  }
}

/// The panel walk: the tile walk over the blocks (Kernels.h) instead of the
/// slices, a panel of blocks at a time, so that the panel's part of the
/// transposed tile stays in L1 (the tile walk reads the whole tile at
/// random rows, from L2 for K of more than 128 at 64 rows). The sums of
/// the chunk's outputs add up in a buffer from panel to panel; the epilogue
/// runs after the last.
template <int L, int Q> void panelTask(void *ctx, int64_t task, int worker) {
  using V = typename Lanes<L>::V;
  using Ops = Lanes<L>;
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  constexpr int64_t T = Q * L;
  constexpr int P = 16 / Q;
  int64_t m0 = task / g.chunks * T, rows = min64(T, g.m - m0);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  int64_t panelColumns = g.panelBlocks * kB;
  float *at = scratch(worker, (panelColumns + g.chunk) * T * sizeof(float));
  if (!at)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *outputs = at + panelColumns * T; // Position c0 - n0 + o, row t.
  for (int64_t b0 = 0; b0 < g.blocks; b0 += g.panelBlocks) {
    int64_t b1 = min64(g.blocks, b0 + g.panelBlocks);
    transposeTile<L, Q>(g, m0, rows, b0 * kB, min64(g.k, b1 * kB), at);
    for (int64_t c0 = n0; c0 < n1; c0 += kS) {
      const int32_t *start = g.blockStart + c0 / kS * g.blocks;
      int64_t columns = min64(kS, n1 - c0);
      for (int64_t o0 = 0; o0 < columns; o0 += P) {
        float *sums = outputs + (c0 - n0 + o0) * T;
        V acc[P][Q];
        for (int p = 0; p < P; ++p)
          for (int q = 0; q < Q; ++q)
            acc[p][q] = b0 == 0 ? V{} : Ops::load(sums + p * T + q * L);
        for (int64_t b = b0; b < b1; ++b) {
          const float *block = at + (b - b0) * kB * T;
          for (int64_t s = start[b]; s < start[b + 1]; ++s)
            for (int p = 0; p < P; ++p) {
              V w = Ops::splat(g.blockValue[s * kS + o0 + p]);
              const float *x = block + g.offset[s * kS + o0 + p] * T;
              for (int q = 0; q < Q; ++q)
                acc[p][q] += w * Ops::load(x + q * L);
            }
        }
        for (int p = 0; p < P; ++p)
          for (int q = 0; q < Q; ++q)
            Ops::store(sums + p * T + q * L, acc[p][q]);
      }
    }
  }
  for (int64_t c0 = n0; c0 < n1; c0 += kS)
    finishTile<T>(g, outputs + (c0 - n0) * T, m0, rows, c0, min64(kS, n1 - c0));
}

/// spgemm on planes (SHEARS_UK_SPGEMM_PLANES): a 1x1 convolution of NCHW
/// images, C[i][o][p] = sum over k of W[o][k] A[i][k][p]. The tile walk
/// needs no transposition here: A's channels are already rows of pixels
/// (a tile of T = Q W pixels is read in place, `stride` floats from one
/// channel to the next; the last, partial tile of an image is copied,
/// zero-padded), and a slice's sums are already rows of the output's
/// planes. Task: image and tile task / chunks, its slices task % chunks.
template <int Q> void planesTask(void *ctx, int64_t task, int worker) {
  const SpGemm &g = *static_cast<const SpGemm *>(ctx);
  constexpr int64_t T = Q * W;
  int64_t tile = task / g.chunks, image = tile / g.tiles;
  int64_t p0 = tile % g.tiles * T, pixels = min64(T, g.planeSize - p0);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  const float *at = g.a + image * g.k * g.planeSize + p0;
  int64_t stride = g.planeSize;
  if (pixels < T) {
    float *copy = scratch(worker, g.k * T * sizeof(float));
    if (!copy)
      return; // Out of memory: nothing sensible to do inside a kernel.
    for (int64_t kk = 0; kk < g.k; ++kk)
      for (int q = 0; q < Q; ++q) {
        int64_t valid = pixels - q * W;
        store(copy + kk * T + q * W,
              valid >= W  ? load(at + kk * stride + q * W)
              : valid > 0 ? loadFirst(at + kk * stride + q * W, valid)
                          : VF{});
      }
    at = copy;
    stride = T;
  }
  const Epilogue &e = g.epilogue;
  int64_t planeOffset = image * g.n * g.planeSize + p0;
  for (int64_t c0 = n0; c0 < n1; c0 += kS) {
    int64_t columns = min64(kS, n1 - c0);
    // P of the slice's outputs at a time, as in tileTask.
    constexpr int P = 16 / Q;
    for (int64_t o0 = 0; o0 < columns; o0 += P) {
      typename Lanes<W>::V acc[P][Q];
      sliceSums<W, Q>(g, c0 / kS, o0, acc,
                      [&](int32_t k) { return at + int64_t(k) * stride; });
      for (int p = 0; p < P && o0 + p < columns; ++p) {
        int64_t o = c0 + o0 + p;
        int64_t channel = g.permuted ? g.outputColumn[o] : o;
        int64_t offset = planeOffset + channel * g.planeSize;
        for (int q = 0; q < Q && q * W < pixels; ++q) {
          int64_t valid = min64(W, pixels - q * W);
          VF x = acc[p][q];
          if (e.bias)
            x += splat(e.bias[channel]);
          if (e.residual)
            x += valid == W ? load(e.residual + offset + q * W)
                            : loadFirst(e.residual + offset + q * W, valid);
          x = e.activate(x);
          if (valid == W)
            store(g.c + offset + q * W, x);
          else
            storeFirst(g.c + offset + q * W, x, valid);
        }
      }
    }
  }
}

/// spconv2d (Kernels.h): a convolution of one group, its filter [Cout,
/// C kh kw] packed as spgemm's weight. A task copies the input a band of
/// output rows reads, every channel, zero-padded and split in sh x sw
/// phases (input row r and column c of the padded input to phase (r mod
/// sh, c mod sw) at (r / sh, c / sw)), each phase `rows` x wp, wp = OW +
/// (kw - 1) dw / sw. Output pixel (y, x) is then "wide" pixel y wp + x,
/// and the input of filter tap (c, i, j) for wide pixels [t, t + T) is a
/// contiguous run of the copy: in phase (i dh mod sh, j dw mod sw), at
/// (i dh / sh) wp + j dw / sw + t. So each tap is the planes walk's tile
/// at an offset; the sums of the wide pixels past each row are computed
/// and dropped.
struct SpConv : ConvShape {
  SpGemm g;
  /// Output rows a task and bands an image; rows and columns (wp) of a
  /// phase of a band's copy, and floats of one channel's sh x sw phases.
  int64_t band, bands, rows, wp, channelFloats;
};

template <int Q> void spconvTask(void *ctx, int64_t task, int worker) {
  const SpConv &d = *static_cast<const SpConv *>(ctx);
  const SpGemm &g = d.g;
  constexpr int64_t T = Q * W;
  int64_t tile = task / g.chunks, image = tile / d.bands;
  int64_t y0 = tile % d.bands * d.band, y1 = min64(d.oh, y0 + d.band);
  int64_t n0 = task % g.chunks * g.chunk, n1 = min64(g.n, n0 + g.chunk);
  int64_t wp = d.wp, phase = d.rows * wp;
  // The copy (and T + wp zeros past it, which the last tile's taps may
  // reach), the taps' offsets in it, and a tile's sums.
  int64_t copyFloats = ceilDiv(d.c * d.channelFloats + T + wp, W) * W;
  float *copy = scratch(worker, (copyFloats + kS * T) * sizeof(float) +
                                    g.k * sizeof(int64_t));
  if (!copy)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *sums = copy + copyFloats;
  int64_t *offsets = reinterpret_cast<int64_t *>(sums + kS * T);
  const float *in = g.a + image * d.c * d.h * d.w;
  for (int64_t c = 0; c < d.c; ++c)
    for (int64_t pr = 0; pr < d.sh; ++pr)
      for (int64_t pc = 0; pc < d.sw; ++pc)
        for (int64_t r = 0; r < d.rows; ++r) {
          float *dst =
              copy + c * d.channelFloats + (pr * d.sw + pc) * phase + r * wp;
          int64_t iy = (y0 + r) * d.sh + pr - d.pt;
          if (iy < 0 || iy >= d.h) {
            memset(dst, 0, wp * sizeof(float));
            continue;
          }
          const float *src = in + (c * d.h + iy) * d.w;
          if (d.sw == 1) { // Column x holds input column x - pl.
            int64_t x0 = min64(d.pl, wp), x1 = max64(x0, min64(wp, d.pl + d.w));
            memset(dst, 0, x0 * sizeof(float));
            memcpy(dst + x0, src + (x0 - d.pl), (x1 - x0) * sizeof(float));
            memset(dst + x1, 0, (wp - x1) * sizeof(float));
            continue;
          }
          for (int64_t x = 0; x < wp; ++x) {
            int64_t ix = x * d.sw + pc - d.pl;
            dst[x] = ix >= 0 && ix < d.w ? src[ix] : 0.0f;
          }
        }
  for (int64_t x = d.c * d.channelFloats; x < copyFloats; ++x)
    copy[x] = 0.0f;
  for (int64_t c = 0, k = 0; c < d.c; ++c)
    for (int64_t i = 0; i < d.kh; ++i)
      for (int64_t j = 0; j < d.kw; ++j) {
        int64_t ri = i * d.dh, rj = j * d.dw;
        offsets[k++] = c * d.channelFloats +
                       (ri % d.sh * d.sw + rj % d.sw) * phase + ri / d.sh * wp +
                       rj / d.sw;
      }

  const Epilogue &e = g.epilogue;
  float *out = g.c + image * (d.cout * d.oh * d.ow + d.outSkip);
  const float *residual =
      e.residual ? e.residual + image * d.cout * d.oh * d.ow : nullptr;
  int64_t wide = (y1 - y0 - 1) * wp + d.ow;
  for (int64_t t0 = 0; t0 < wide; t0 += T) {
    for (int64_t c0 = n0; c0 < n1; c0 += kS) {
      int64_t columns = min64(kS, n1 - c0);
      constexpr int P = 16 / Q;
      for (int64_t o0 = 0; o0 < columns; o0 += P) {
        typename Lanes<W>::V acc[P][Q];
        sliceSums<W, Q>(g, c0 / kS, o0, acc,
                        [&](int32_t k) { return copy + offsets[k] + t0; });
        for (int p = 0; p < P; ++p)
          for (int q = 0; q < Q; ++q)
            store(sums + (o0 + p) * T + q * W, acc[p][q]);
      }
      // Each output's runs of real pixels in the tile, with the epilogue.
      for (int64_t o = 0; o < columns; ++o) {
        int64_t channel = g.permuted ? g.outputColumn[c0 + o] : c0 + o;
        VF bias = e.bias ? splat(e.bias[channel]) : VF{};
        for (int64_t t = t0, end = min64(t0 + T, wide); t < end;) {
          int64_t y = t / wp, x = t % wp;
          if (x >= d.ow) {
            t = (y + 1) * wp;
            continue;
          }
          int64_t n = min64(min64(W, d.ow - x), end - t);
          int64_t at = (channel * d.oh + y0 + y) * d.ow + x;
          VF v = loadFirst(sums + o * T + (t - t0), n) + bias;
          if (residual)
            v += loadFirst(residual + at, n);
          storeFirst(out + at, e.activate(v), n);
          t += n;
        }
      }
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
  int64_t slices = ceilDiv(g.n, kS);
  int64_t slots = readWeight(g, buffers[1]);
  g.epilogue = Epilogue(ip[SHEARS_UK_GEMM_FLAGS], fparams, operand);
  g.c = static_cast<float *>(*operand);
  // The work: the non-zeros and their padding.
  int64_t entries = slots * kS;
  if (ip[SHEARS_UK_GEMM_FLAGS] & SHEARS_UK_SPGEMM_PLANES) {
    int64_t rank = ip[SHEARS_UK_GEMM_A_RANK];
    g.images = dims[0];
    g.planeSize = 1;
    for (int64_t d = 2; d < rank; ++d)
      g.planeSize *= dims[d];
    g.m = g.images * g.planeSize;
    if (g.m == 0 || g.n == 0)
      return;
    ProfileScope profile(
        [&](char *out, size_t size) {
          snprintf(out, size,
                   "spgemm %s planes: n%lld %lldx%lld -> %lld, %lld entries",
                   SHEARS_UK_ISA_NAME, (long long)g.images, (long long)g.k,
                   (long long)g.planeSize, (long long)g.n, (long long)entries);
        },
        g.m * entries);
    // Tiles of 4 vectors where a plane fills them, as in the tile walk.
    int q = g.planeSize <= W ? 1 : g.planeSize <= 2 * W ? 2 : 4;
    g.tiles = ceilDiv(g.planeSize, q * W);
    int64_t wanted = numWorkers() > 1 ? 2 * numWorkers() : 1;
    g.chunks = min64(slices, max64(1, ceilDiv(wanted, g.images * g.tiles)));
    g.chunk = ceilDiv(slices, g.chunks) * kS;
    g.chunks = ceilDiv(g.n, g.chunk);
    void (*task)(void *, int64_t, int) = q == 1   ? planesTask<1>
                                         : q == 2 ? planesTask<2>
                                                  : planesTask<4>;
    parallelFor(g.images * g.tiles * g.chunks, task, &g, g.m * entries);
    return;
  }
  g.m = leadingProduct(dims, ip[SHEARS_UK_GEMM_A_RANK] - 1);
  if (g.m == 0 || g.n == 0)
    return;
  bool few = g.m < kBlocksRows, panels = false;
  int q = 1;
  if (!few) {
    // As many vectors a tile row as the rows fill and L2 holds.
    int64_t fits = kTileBytes / (max64(g.k, 1) * W * int64_t(sizeof(float)));
    q = g.m <= W || fits < 2 ? 1 : g.m <= 2 * W || fits < 4 ? 2 : 4;
    g.tileRows = q * W;
    g.tiles = ceilDiv(g.m, g.tileRows);
    // Enough tasks for the threads: each tile's columns split in chunks of
    // whole slices (a chunk repeats the tile's transposition).
    int64_t wanted = numWorkers() > 1 ? 2 * numWorkers() : 1;
    g.chunks = min64(slices, max64(1, ceilDiv(wanted, g.tiles)));
    // The panel walk where the tile outgrows L1 and the blocks carry little
    // more padding than the slices, in chunks whose sums stay in L2.
    int64_t tileBytes = g.tileRows * int64_t(sizeof(float));
    int64_t blockSlots = g.blockStart[slices * g.blocks];
    panels = g.k * tileBytes > kPanelBytes &&
             double(blockSlots) <= kPanelSlots * double(slots);
    if (panels) {
      g.panelBlocks = max64(1, kPanelBytes / (kB * tileBytes));
      g.chunks = min64(
          slices, max64(g.chunks, ceilDiv(g.n * tileBytes, kPanelSumBytes)));
    }
    g.chunk = ceilDiv(slices, g.chunks) * kS;
    g.chunks = ceilDiv(g.n, g.chunk);
  }
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "spgemm %s %s: %lldx%lld * %lldx%lld, %lld entries",
                 SHEARS_UK_ISA_NAME,
                 few      ? "blocks"
                 : panels ? "panels"
                          : "tiles",
                 (long long)g.m, (long long)g.k, (long long)g.k, (long long)g.n,
                 (long long)entries);
      },
      g.m * entries);
  if (few) {
    parallelFor(ceilDiv(g.n, kBlocksColumns), blocksTask, &g, g.m * entries);
    return;
  }
  void (*task)(void *, int64_t, int) = panels ? (q == 1   ? panelTask<W, 1>
                                                 : q == 2 ? panelTask<W, 2>
                                                          : panelTask<W, 4>)
                                              : (q == 1   ? tileTask<W, 1>
                                                 : q == 2 ? tileTask<W, 2>
                                                          : tileTask<W, 4>);
  parallelFor(g.tiles * g.chunks, task, &g, g.m * entries);
}

extern "C" void SHEARS_UK_NAME(spconv2d)(void **buffers, const int64_t *dims,
                                         const int64_t *ip,
                                         const float *fparams) {
  SpConv d{};
  d.read(dims, ip);
  SpGemm &g = d.g;
  g.a = static_cast<const float *>(buffers[0]);
  g.k = d.c * d.kh * d.kw;
  g.n = d.cout;
  int64_t slices = ceilDiv(g.n, kS);
  int64_t slots = readWeight(g, buffers[1]);
  void **operand = buffers + 2;
  g.epilogue = Epilogue(ip[SHEARS_UK_CONV_FLAGS], fparams, operand);
  g.c = static_cast<float *>(*operand);
  if (d.n == 0 || d.oh == 0 || d.ow == 0 || g.n == 0)
    return;
  int64_t entries = slots * kS;
  int64_t macs = d.n * d.oh * d.ow * entries;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size,
                 "spconv2d %s: n%lld %lldx%lldx%lld -> %lld, %lldx%lld, %lld "
                 "entries",
                 SHEARS_UK_ISA_NAME, (long long)d.n, (long long)d.c,
                 (long long)d.h, (long long)d.w, (long long)d.cout,
                 (long long)d.kh, (long long)d.kw, (long long)entries);
      },
      macs);
  d.wp = d.ow + (d.kw - 1) * d.dw / d.sw;
  int64_t reach = (d.kh - 1) * d.dh / d.sh; // Rows past a band's last.
  // Bands whose copy stays in L2 with the weights streaming past, and
  // enough tasks for the threads (slices split in chunks otherwise).
  int64_t rowBytes = d.c * d.sh * d.sw * d.wp * int64_t(sizeof(float));
  d.band = max64(1, kTileBytes / max64(rowBytes, 1) - reach);
  d.band = min64(d.band, d.oh);
  int64_t wanted = numWorkers() > 1 ? 2 * numWorkers() : 1;
  if (d.n * ceilDiv(d.oh, d.band) < wanted)
    d.band = max64(1, ceilDiv(d.oh, ceilDiv(wanted, d.n)));
  d.bands = ceilDiv(d.oh, d.band);
  d.rows = d.band + reach;
  d.channelFloats = d.sh * d.sw * d.rows * d.wp;
  g.chunks = min64(slices, max64(1, ceilDiv(wanted, d.n * d.bands)));
  g.chunk = ceilDiv(slices, g.chunks) * kS;
  g.chunks = ceilDiv(g.n, g.chunk);
  // Tiles of 4 vectors where a band's wide pixels fill them.
  int64_t wide = (d.band - 1) * d.wp + d.ow;
  int q = wide <= W ? 1 : wide <= 2 * W ? 2 : 4;
  void (*task)(void *, int64_t, int) = q == 1   ? spconvTask<1>
                                       : q == 2 ? spconvTask<2>
                                                : spconvTask<4>;
  parallelFor(d.n * d.bands * g.chunks, task, &d, macs);
}
