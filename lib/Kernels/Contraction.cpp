//===- Contraction.cpp - Convolution and GEMM micro-kernels ---------------===//
//
// Compiled once per ISA (SHEARS_UK_ISA = avx512 | avx2 | generic, with
// SHEARS_UK_WIDTH floats per native vector): register-blocked outer-product
// tiles over packed operands, with the epilogue (bias, residual add,
// activation) applied to the tile in registers before it is stored.
//
// conv2d is an implicit GEMM per image and group: C[Mg, OH*OW] =
// filter[Mg, K] * im2col(input)[K, OH*OW]. The filter was packed at compile
// time (Kernels.h); a panel of NR output pixels of the im2col matrix is
// packed here, k-block by k-block, into the worker's scratch and reused by
// every row block of the filter. gemm multiplies row blocks of A, packed
// here, by the column panels of a B packed at compile time.
//
// Tasks split the output into tiles and never the reduction, so every output
// element sums the same terms in the same order for any thread count.
//
//===----------------------------------------------------------------------===//

#include "ConvShape.h"
#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stdio.h>
#include <string.h>

#include <type_traits>

namespace shears::uk::SHEARS_UK_ISA {
namespace {

// Tile shapes: R rows x V vectors of W floats, at most about 24 (AVX-512,
// 32 registers) or 12 (16 registers) accumulators.
#if SHEARS_UK_WIDTH == 16
constexpr int kConvR = 8, kConvV = 3;
constexpr int kGemmR = 14, kAccumulators = 28;
#elif SHEARS_UK_WIDTH == 8
// Conv: 4 x 3 vectors, 12 accumulators (tile4x3, by hand). GEMM: 6 rows
// by half a packed panel (tileVectors), 12 accumulators.
constexpr int kConvR = 4, kConvV = 3;
constexpr int kGemmR = 6, kAccumulators = 12;
#else
constexpr int kConvR = 4, kConvV = 2;
constexpr int kGemmR = 1, kAccumulators = 8;
#endif
constexpr int kConvNR = kConvV * W;
static_assert(W != 16 || kConvNR == SHEARS_UK_CONV_DIRECT_NR,
              "the direct path's panels are those Kernels.h announces");
constexpr int kGemmNR = SHEARS_UK_GEMM_NR;
constexpr int kGemmV = kGemmNR / W;
constexpr int kMR = SHEARS_UK_CONV_MR;
static_assert(kMR % kConvR == 0, "conv tiles split the packed row blocks");
static_assert(kGemmNR % W == 0, "GEMM panels are whole vectors");
/// Reduction block: one packed B block (KC x NR) stays in L1 (30 KiB for a
/// conv panel of 48, also when a 1x1 convolution reads it in place); a GEMM
/// row block (MC x KC) of packed A in L2.
constexpr int64_t kKC = 160;
/// A GEMM panel's k-block (KC x 32 floats) and the row tile of A streaming
/// past it (14 x KC) share L1: at 256 they took 46 of a 48 KiB L1, and at
/// 128 GEMMs ran 1.00-1.11x as fast on an Emerald Rapids Xeon (alternating
/// in one process; the most in the shared host's slow phases: 2048^3 78 ->
/// 86 GFLOP/s), 1x1 convolutions in channel panels 1.035x. Winograd's GEMMs
/// keep blocks of up to 256 input channels (kWinogradKC: 0.985x and 0.993x at
/// 128).
constexpr int64_t kGemmKC = 128;
/// Channel panels' k-blocks where the tiles do not read a slice (conv2d):
/// AVX-512's; AVX2's tiles, with half the accumulators, load the slab from
/// L2 twice as often per multiply-add (at 512: squeezenet1_1, mobilenet_v2
/// and resnet50 on the AVX2 kernels 1.022x, 1.024x and 1.067x the time).
constexpr int64_t kChannelPanelsKC = W == 16 ? 512 : kGemmKC;
constexpr int64_t kWinogradKC = 256;
constexpr int64_t kGemmMC = 128 / kGemmR * kGemmR;
/// Pixel panels a conv task packs and runs together when the filter does not
/// fit in L2 (otherwise one: its packed B block stays in L1).
constexpr int64_t kConvPanelGroup = 4;
/// ... and when the reduction is at most kShortK long.
constexpr int64_t kShortK = 256, kShortKPanelGroup = 16;
/// 1x1 convolutions on pixel panels with a reduction at least this long run
/// each panel (read in place from the input's planes) over every filter row
/// block while it is in L1, rather than each row block over a group of
/// panels streaming from L2. Alternating in one process on an Emerald
/// Rapids Xeon (one thread, time panels outer / row blocks outer):
/// 128x28x28 -> 512 0.91, 256x56x56 -> 64 0.92, 256x56x56 -> 128 0.90,
/// 256x56x56 -> 256 0.92, 144x28x28 -> 32 0.95, 128x55x55 -> 16 0.96.
/// Shorter reductions are bound by their stores, which row blocks outer
/// write in long runs: 16x112x112 -> 96 1.37, 64x56x56 -> 256 (with a
/// residual) 1.06, 24x56x56 -> 144 1.04.
constexpr int64_t kPanelsOuterMinK = 128;
constexpr int64_t kL2Bytes = 512 << 10;

/// out[r][v] = sum over k of a_k[r] * bv[v], where rowA() gives a_k, A's
/// k-th row (R floats), and loadRow(bv) loads B's k-th row (V vectors) on
/// the k-th calls: every tile's loop, for any layout of A and B. The
/// accumulators are locals, not `out`: they stay in registers (on AVX-512
/// with broadcasts read by each multiply-add where a register for one would
/// take the 33rd).
template <int R, int V, typename RowA, typename LoadRow>
inline void tileRowsOf(int64_t kc, VF (*out)[V], RowA rowA, LoadRow loadRow) {
  VF acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = VF{};
#pragma clang loop unroll(disable)
  for (int64_t k = 0; k < kc; ++k) {
    VF bv[V];
    loadRow(bv);
    const float *__restrict a = rowA();
    for (int r = 0; r < R; ++r) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
      if constexpr (R * V + V + 1 > 32) {
        for (int v = 0; v < V; ++v)
          fmaBroadcast(acc[r][v], bv[v], a + r);
        continue;
      }
#endif
      VF av = splat(a[r]);
      for (int v = 0; v < V; ++v)
        acc[r][v] += av * bv[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      out[r][v] = acc[r][v];
}

/// The same with A's rows aStep floats apart from `a` on.
template <int R, int V, typename LoadRow>
inline void tileRows(int64_t kc, const float *__restrict a, int64_t aStep,
                     VF (&out)[R][V], LoadRow loadRow) {
  tileRowsOf<R, V>(
      kc, out,
      [&] {
        const float *row = a;
        a += aStep;
        return row;
      },
      loadRow);
}

/// Floats ahead along the input planes that the first filter row block of a
/// 1x1 convolution prefetches while it reads a panel in place: its rows are
/// a plane apart, more streams than the hardware prefetchers follow
/// (128x55x55 -> 16 at batch 8: 59-69 -> 85-93 GFLOP/s, ORT 107; with one
/// whole panel prefetched ahead of its use, or 1, 2, 4, 6 panels ahead row
/// by row, slower than 3 panels ahead).
constexpr int64_t kPointwiseAhead = 3 * kConvNR;

/// Prefetches the floats [p, p + floats) into L2, p anywhere in a line.
inline void prefetchRun(const float *p, int64_t floats) {
  prefetchLines(p, floats);
  __builtin_prefetch(p + floats - 1, 0, 2);
}

/// Asks for the lines of the floats [p, p + floats), p anywhere in a line,
/// to be written.
inline void prefetchRunForWrite(float *p, int64_t floats) {
  for (int64_t i = 0; i < floats; i += 64 / int64_t(sizeof(float)))
    __builtin_prefetch(p + i, 1, 3);
  __builtin_prefetch(p + floats - 1, 1, 3);
}

/// acc[r][v] = sum over k of a[k * aStep + r] * b[k * bStep + v * W], where
/// vector v of B comes from panel v / PV (panels bPanel floats apart).
#if SHEARS_UK_WIDTH == 8 && defined(__x86_64__)
/// The AVX2 4 x 24 tile by hand: 12 accumulators, 3 B vectors and a
/// broadcast take all 16 registers, and clang's allocator then copies
/// accumulators around every iteration (seen in the disassembly: 30% of the
/// loop). `a` advances 8 floats (one packed row block) and `b` bStep per k.
inline void tile4x3(int64_t kc, const float *a, const float *b,
                    int64_t bStep, VF (&out)[4][3]) {
  int64_t bBytes = bStep * int64_t(sizeof(float));
  if (kc <= 0) {
    for (auto &row : out)
      for (VF &v : row)
        v = VF{};
    return;
  }
  asm volatile(
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
      "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
      "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
      "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
      "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
      "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
      "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
      "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
      "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"
      "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
      "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"
      "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
      ".p2align 4\n"
      "1:\n\t"
      "vmovups (%[b]), %%ymm12\n\t"
      "vmovups 32(%[b]), %%ymm13\n\t"
      "vmovups 64(%[b]), %%ymm14\n\t"
      "vbroadcastss (%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm0\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm1\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\t"
      "vbroadcastss 4(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm3\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm4\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
      "vbroadcastss 8(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\t"
      "vbroadcastss 12(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm9\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm10\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
      "addq $32, %[a]\n\t"
      "addq %[bstep], %[b]\n\t"
      "decq %[k]\n\t"
      "jnz 1b\n\t"
      "vmovups %%ymm0, 0(%[c])\n\t"
      "vmovups %%ymm1, 32(%[c])\n\t"
      "vmovups %%ymm2, 64(%[c])\n\t"
      "vmovups %%ymm3, 96(%[c])\n\t"
      "vmovups %%ymm4, 128(%[c])\n\t"
      "vmovups %%ymm5, 160(%[c])\n\t"
      "vmovups %%ymm6, 192(%[c])\n\t"
      "vmovups %%ymm7, 224(%[c])\n\t"
      "vmovups %%ymm8, 256(%[c])\n\t"
      "vmovups %%ymm9, 288(%[c])\n\t"
      "vmovups %%ymm10, 320(%[c])\n\t"
      "vmovups %%ymm11, 352(%[c])\n\t"
      : [a] "+r"(a), [b] "+r"(b), [k] "+r"(kc)
      : [c] "r"(&out[0][0]), [bstep] "r"(bBytes)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
        "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
        "xmm14", "xmm15");
}
#endif

/// With `ahead` > 0 (one panel, PV == V), each row of B is also prefetched
/// `ahead` floats on, into L2 (not by the AVX2 4 x 3 tile).
template <int R, int V, int PV>
inline void tile(int64_t kc, const float *__restrict a, int64_t aStep,
                 const float *__restrict b, int64_t bStep, int64_t bPanel,
                 VF (&out)[R][V], int64_t ahead = 0) {
#if SHEARS_UK_WIDTH == 8 && defined(__x86_64__)
  if constexpr (R == 4 && V == 3 && PV == 3) {
    if (aStep == kMR) {
      tile4x3(kc, a, b, bStep, out);
      return;
    }
  }
#endif
  tileRows<R, V>(kc, a, aStep, out, [&](VF(&bv)[V]) {
    for (int v = 0; v < V; ++v)
      bv[v] = load(b + (v / PV) * bPanel + (v % PV) * W);
    if (ahead)
      prefetchRun(b + ahead, V * W);
    b += bStep;
  });
}

/// Adds the tile to (or stores it over) C, rows x cols of it valid, and on
/// the last k-block applies the epilogue. `row0`/`col0` index the bias; the
/// residual has C's layout and is added on the first k-block, so that it may
/// be C itself (the kernel computing in its residual's buffer: every element
/// of it is read before the tile's first store there).
template <int R, int V>
inline void storeTile(VF (&acc)[R][V], float *c, int64_t ldc,
                      const float *residual, int rows, int cols,
                      bool accumulate, bool last, const Epilogue &e,
                      int64_t row0, int64_t col0) {
  if (rows == R && cols == V * W) {
    for (int r = 0; r < R; ++r) {
      float *cr = c + r * ldc;
      for (int v = 0; v < V; ++v) {
        VF x = acc[r][v];
        if (accumulate)
          x += load(cr + v * W);
        else if (residual)
          x += load(residual + r * ldc + v * W);
        if (last) {
          if (e.bias)
            x += e.biasPerRow ? splat(e.bias[row0 + r])
                              : load(e.bias + col0 + v * W);
          x = e.activate(x);
        }
        store(cr + v * W, x);
      }
    }
    return;
  }
  alignas(64) float buffer[R][V * W];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      store(&buffer[r][v * W], acc[r][v]);
  for (int r = 0; r < rows; ++r) {
    float *cr = c + r * ldc;
    for (int j = 0; j < cols; ++j) {
      float x = buffer[r][j];
      if (accumulate)
        x += cr[j];
      else if (residual)
        x += residual[r * ldc + j];
      if (last) {
        if (e.bias)
          x += e.biasPerRow ? e.bias[row0 + r] : e.bias[col0 + j];
        x = e.activate(x);
      }
      cr[j] = x;
    }
  }
}

//===----------------------------------------------------------------------===//
// gemm
//===----------------------------------------------------------------------===//

/// A GEMM's output laid out transposed, in images (channel panels'
/// convolutions, NCHW): row m is pixel first + m of images of `pixels`
/// pixels each, column j its channel j, `pixels` floats after channel j - 1
/// and `image` floats (residualImage in the residual) after the same
/// channel of the image before. Null `out`: the GEMM stores to C.
struct TransposedStore {
  float *out; // Image 0's channel 0.
  const float *residual;
  int64_t first, pixels, image, residualImage;
};

/// C[m, n] (row-major, ldc = n) = A * B with B packed (Kernels.h, k rows per
/// panel); A is packed tile by tile by the caller's packer.
struct Gemm {
  const float *a, *b;
  float *c;
  Epilogue epilogue;
  int64_t m, k, n, kc, panels, rowBlocks, panelChunk, panelChunks;
  // The B that the task multiplies next (laid out as b; null: none), whose
  // first slabs the last ones of b prefetch.
  const float *bNext;
  // Where the last k-block's tiles go instead of C, with the epilogue (its
  // bias by column; earlier k-blocks sum in C): see TransposedStore.
  TransposedStore outT;
  // Columns ahead (0: none) whose lines of outT each tile's store asks for,
  // for the tile of the same rows that many columns on.
  int64_t storeAhead;
};

/// Vectors along N of a GEMM tile R rows high: the widest of 4, 2 or 1
/// panels, or 1/2, 1/4 of one, whose accumulators (R x TV) and B vectors
/// (TV) plus a broadcast fit the registers. So a matrix-vector product
/// still has several independent accumulators, and a tall tile is narrow.
template <int R> constexpr int tileVectors() {
  constexpr int registers = W == 16 ? 32 : 16;
  const int candidates[] = {4 * kGemmV, 2 * kGemmV, kGemmV, kGemmV / 2,
                            kGemmV / 4};
  for (int tv : candidates)
    if (tv >= 1 && R * tv <= kAccumulators && (R + 1) * tv + 1 <= registers)
      return tv;
  return 1;
}

/// A row tile of A for one k-block: k-major, `step` floats from one k to
/// the next (its width when packed).
struct ATile {
  const float *a;
  int64_t step;
};

/// The last k-block of a tile (rows [row, row + rows) and the columns from
/// col, `vectors` vectors of accumulators a row) to gm.outT with the
/// epilogue, its rows in runs of one image each; with `accumulate`, the
/// k-blocks before are added from C. Each vector of W columns is transposed
/// in registers (rows past `rows` zero), then each column's rows stored. In
/// place of a pass over a block's C^T after its GEMM (storeTransposed):
/// 256x14x14 -> 1024 with its residual spent 14% of its time there on 1
/// thread and 25% on 2, where its stores to lines that the other core had
/// touched last waited with no multiply-adds to overlap them.
inline void storeTransposedTile(const Gemm &gm, const VF *acc, int vectors,
                                int64_t row, int rows, int64_t col,
                                bool accumulate) {
  const TransposedStore &t = gm.outT;
  // Runs of the tile's rows [lo, hi) in one image: row r's column j at
  // out[j * pixels + r] (out where row 0 would be, maybe before the image).
  struct Run {
    float *out;
    const float *residual;
    int lo, hi;
  } runs[W];
  int count = 0;
  for (int lo = 0; lo < rows;) {
    int64_t m = t.first + row + lo, n = m / t.pixels, pixel = m % t.pixels;
    int hi = static_cast<int>(min64(rows, lo + t.pixels - pixel));
    int64_t at = col * t.pixels + pixel - lo;
    runs[count++] = {
        t.out + n * t.image + at,
        t.residual ? t.residual + n * t.residualImage + at : nullptr, lo, hi};
    lo = hi;
  }
  const Epilogue &e = gm.epilogue;
  const float *partial = gm.c + row * gm.n + col;
  int cols = static_cast<int>(min64(vectors * W, gm.n - col));
  for (int v = 0; v < vectors && v * W < cols; ++v) {
    int channels = static_cast<int>(min64(W, cols - v * W));
    VF block[W];
    for (int r = 0; r < W; ++r) {
      block[r] = r < rows ? acc[r * vectors + v] : VF{};
      if (accumulate && r < rows)
        block[r] += loadUpTo(partial + r * gm.n + v * W, channels);
    }
    transpose(block);
    for (int j = 0; j < channels; ++j) {
      int64_t at = (v * W + j) * t.pixels;
      VF x = block[j];
      if (e.bias)
        x += splat(e.bias[col + v * W + j]);
      for (const Run *run = runs; run < runs + count; ++run) {
        VF y = x;
        if (run->residual)
          y += loadLanes(run->residual + at, run->lo, run->hi);
        storeLanes(run->out + at, e.activate(y), run->lo, run->hi);
      }
    }
  }
  // The same rows storeAhead channels on: a run of at most W pixels lies in
  // at most two lines of a channel's plane.
  int ahead = gm.storeAhead
                  ? static_cast<int>(min64(cols, gm.n - col - gm.storeAhead))
                  : 0;
  for (const Run *run = runs; run < runs + count; ++run)
    for (int j = 0; j < ahead; ++j) {
      int64_t at = (gm.storeAhead + j) * t.pixels;
      if (run->residual && run->residual != run->out) {
        __builtin_prefetch(run->residual + at + run->lo, 0, 3);
        __builtin_prefetch(run->residual + at + run->hi - 1, 0, 3);
      }
      __builtin_prefetch(run->out + at + run->lo, 1, 3);
      __builtin_prefetch(run->out + at + run->hi - 1, 1, 3);
    }
}

/// Rows [row, row + rows) of A times columns [col, col + TV * W) of the
/// packed B.
template <int R, int TV>
void gemmTile(const Gemm &gm, ATile a, int64_t k0, int64_t kc, int64_t row,
              int rows, int64_t col, bool first, bool last, int64_t ahead) {
  const int64_t panelFloats = gm.k * kGemmNR;
  constexpr int PV = TV < kGemmV ? TV : kGemmV; // Vectors per panel.
  VF acc[R][TV];
  tile<R, TV, PV>(kc, a.a, a.step,
                  gm.b + (col / kGemmNR) * panelFloats + k0 * kGemmNR +
                      col % kGemmNR,
                  kGemmNR, panelFloats, acc, PV == TV ? ahead : 0);
  if (last && gm.outT.out) {
    static_assert(R <= W, "a tile's rows are one transposed vector");
    storeTransposedTile(gm, &acc[0][0], TV, row, rows, col, !first);
    return;
  }
  int64_t offset = row * gm.n + col;
  storeTile(acc, gm.c + offset, gm.n,
            gm.epilogue.residual ? gm.epilogue.residual + offset : nullptr,
            rows, static_cast<int>(min64(TV * W, gm.n - col)), !first, last,
            gm.epilogue, row, col);
}

/// One row tile times the panels [pb, pe): tiles as wide as tileVectors
/// allows, then (near the end of the chunk) at most one panel wide. With
/// `ahead` > 0, tiles of one panel prefetch each row of B `ahead` floats on
/// (tile).
template <int R>
void gemmRows(const Gemm &gm, ATile a, int64_t k0, int64_t kc, int64_t row,
              int rows, int64_t pb, int64_t pe, bool first, bool last,
              int64_t ahead) {
  constexpr int TV = tileVectors<R>();
  constexpr int narrow = TV < kGemmV ? TV : kGemmV;
  int64_t col = pb * kGemmNR, end = min64(pe * kGemmNR, gm.n);
  if constexpr (TV > narrow)
    for (; col + TV * W <= pe * kGemmNR && col < end; col += TV * W)
      gemmTile<R, TV>(gm, a, k0, kc, row, rows, col, first, last, 0);
  for (; col < end; col += narrow * W)
    gemmTile<R, narrow>(gm, a, k0, kc, row, rows, col, first, last, ahead);
}

/// Dispatches gemmRows on the tile height.
void gemmRowsAny(const Gemm &gm, ATile a, int64_t k0, int64_t kc, int64_t row,
                 int rows, int64_t pb, int64_t pe, bool first, bool last,
                 int64_t ahead = 0) {
  switch (rows) {
#define SHEARS_UK_ROWS(R)                                                      \
  case R:                                                                      \
    if constexpr (R <= kGemmR)                                                 \
      gemmRows<R>(gm, a, k0, kc, row, rows, pb, pe, first, last, ahead);       \
    break;
    SHEARS_UK_ROWS(1)
    SHEARS_UK_ROWS(2)
    SHEARS_UK_ROWS(3)
    SHEARS_UK_ROWS(4)
    SHEARS_UK_ROWS(5)
    SHEARS_UK_ROWS(6)
    SHEARS_UK_ROWS(7)
    SHEARS_UK_ROWS(8)
    SHEARS_UK_ROWS(9)
    SHEARS_UK_ROWS(10)
    SHEARS_UK_ROWS(11)
    SHEARS_UK_ROWS(12)
    SHEARS_UK_ROWS(13)
    SHEARS_UK_ROWS(14)
#undef SHEARS_UK_ROWS
  default:
    break;
  }
}

/// Panels ahead that gemmBlock and the channel-panel slice tiles prefetch
/// (into L2): a filter streamed from memory (a 7x7 layer's 9.4 MB at batch
/// 1) was not overlapped with the multiply-adds at all (512x7x7 3x3 with
/// cold weights, Zen 4: 91 -> 100-115 GFLOP/s with 4 panels ahead, 111
/// with 2). A row of that panel goes with each row the first row tile reads
/// (Zen 5, in resnet50 at batch 1: 512x7x7 -> 2048 1x1 at 133 -> 165-187
/// GFLOP/s, 512x7x7 -> 512 3x3 117-124 -> 170-193, against the whole k-block
/// of the panel prefetched at once before its tiles).
constexpr int64_t kPrefetchPanels = 4;

/// Filter row blocks ahead that a pixel-panel conv task prefetches (into
/// L2), for the same reason: 256x14x14 -> 1024 1x1 with cold weights ran at
/// 120 GFLOP/s against 155 warm.
constexpr int64_t kPrefetchRowBlocks = 2;

/// Where a task that walks the k-blocks of panels [pb, pe) (k-blocks
/// outer) will read kPrefetchPanels slabs after the one at row k0 of panel
/// p: floats from there, or 0 past the last k-block unless the task then
/// multiplies gm.bNext (the same panels), whose first slabs follow. The
/// tiles prefetch that slab a row with each row of this one they read.
/// Winograd's 16 GEMMs a task, each over its own point's filter: with the
/// prefetch stopping at each one's end, the first 4 panels of each (half of
/// a thread's chunk of 256x14x14 -> 256 on 2 threads) came from memory on
/// demand (resnet18 at batch 1 on 2 threads 0.974x, resnet50 0.985x, 1
/// thread 0.992x).
inline int64_t slabAhead(const Gemm &gm, int64_t pb, int64_t pe, int64_t p,
                         int64_t k0) {
  int64_t panels = pe - pb;
  int64_t slab = k0 / gm.kc * panels + (p - pb) + kPrefetchPanels;
  int64_t slabs = ceilDiv(gm.k, gm.kc) * panels, next = 0;
  if (slab >= slabs) {
    if (!gm.bNext)
      return 0;
    slab -= slabs;
    next = gm.bNext - gm.b;
  }
  int64_t k1 = slab / panels * gm.kc, q = pb + slab % panels;
  return k1 < gm.k ? next + ((q - p) * gm.k + (k1 - k0)) * kGemmNR : 0;
}

/// Rows [m0, m1) (at most kGemmMC) times the panels [pb, pe). Per k-block,
/// tileA(row, rows, k0, kc, dst) gives each row tile, first to last: packed
/// into dst (k-major, `rows` wide; tiles back to back in L2) or wherever A
/// has a k-major layout. Each panel's k-block (L1) is then reused by every
/// row tile.
/// Row tiles are as even as kGemmR allows: 49 rows are 5 tiles of 10 or 9,
/// not four of 12 and one of 1.
template <typename TileA>
void gemmBlock(const Gemm &gm, float *packed, int64_t m0, int64_t m1,
               int64_t pb, int64_t pe, TileA tileA) {
  int64_t tileRows = ceilDiv(m1 - m0, ceilDiv(m1 - m0, kGemmR));
  ATile tiles[kGemmMC];
  for (int64_t k0 = 0; k0 < gm.k; k0 += gm.kc) {
    int64_t kc = min64(gm.kc, gm.k - k0);
    bool first = k0 == 0, last = k0 + kc == gm.k;
    for (int64_t row = m0, t = 0; row < m1; row += tileRows, ++t)
      tiles[t] = tileA(row, static_cast<int>(min64(tileRows, m1 - row)), k0,
                       kc, packed + (row - m0) * kc);
    if (m1 - m0 <= kGemmR) { // One tile: it may span several panels.
      gemmRowsAny(gm, tiles[0], k0, kc, m0, static_cast<int>(m1 - m0), pb,
                  pe, first, last);
      continue;
    }
    for (int64_t p = pb; p < pe; ++p) {
      int64_t ahead = slabAhead(gm, pb, pe, p, k0);
      for (int64_t row = m0, t = 0; row < m1; row += tileRows, ++t)
        gemmRowsAny(gm, tiles[t], k0, kc, row,
                    static_cast<int>(min64(tileRows, m1 - row)), p, p + 1,
                    first, last, t == 0 ? ahead : 0);
    }
  }
}

/// Rows [row, row + rows) of A's k-block [k0, k0 + kc), k-major into dst.
/// W columns of the tile's rows at a time, a W x W block transposed in
/// registers: element by element, packing had taken a quarter of a 256^3
/// GEMM's time (an Emerald Rapids Xeon: 1.34x as fast without it).
ATile packA(const Gemm &gm, int64_t row, int rows, int64_t k0, int64_t kc,
            float *dst) {
  static_assert(kGemmR <= W, "a row tile is one transposed block");
  const float *a = gm.a + row * gm.k + k0;
  for (int64_t kk = 0; kk < kc; kk += W) {
    int64_t n = min64(W, kc - kk);
    VF block[W];
    for (int r = 0; r < W; ++r)
      block[r] = r < rows ? loadUpTo(a + r * gm.k + kk, n) : VF{};
    transpose(block);
    for (int64_t j = 0; j < n; ++j)
      storeFirst(dst + (kk + j) * rows, block[j], rows);
  }
  return ATile{dst, rows};
}

/// One block of up to kGemmMC rows of A times a chunk of panels.
void gemmTask(void *ctx, int64_t task, int worker) {
  const Gemm &gm = *static_cast<const Gemm *>(ctx);
  int64_t block = task % gm.rowBlocks;
  int64_t chunk = task / gm.rowBlocks;
  int64_t m0 = block * kGemmMC, m1 = min64(gm.m, m0 + kGemmMC);
  int64_t pb = chunk * gm.panelChunk;
  int64_t pe = min64(gm.panels, pb + gm.panelChunk);
  float *packed = scratch(worker, gm.kc * kGemmMC * sizeof(float));
  if (!packed)
    return;
  gemmBlock(gm, packed, m0, m1, pb, pe,
            [&](int64_t row, int rows, int64_t k0, int64_t kc, float *dst) {
              return packA(gm, row, rows, k0, kc, dst);
            });
}

/// bmm: one GEMM per batch element, B packed at run time.
struct BatchGemm {
  const float *a, *b;
  float *c;
  int64_t m, k, n, kc, panels;
  bool transposeB;
};

void bmmTask(void *ctx, int64_t task, int worker) {
  const BatchGemm &bg = *static_cast<const BatchGemm *>(ctx);
  int64_t packedB = bg.panels * bg.k * kGemmNR;
  float *packed = scratch(worker, (packedB + bg.kc * kGemmMC) * sizeof(float));
  if (!packed)
    return;
  const float *b = bg.b + task * bg.k * bg.n;
  shears_uk_pack_gemm_b(b, bg.k, bg.n, bg.transposeB ? 1 : bg.n,
                        bg.transposeB ? bg.k : 1, packed);
  Gemm gm{};
  gm.a = bg.a + task * bg.m * bg.k;
  gm.b = packed;
  gm.c = bg.c + task * bg.m * bg.n;
  gm.m = bg.m;
  gm.k = bg.k;
  gm.n = bg.n;
  gm.kc = bg.kc;
  gm.panels = bg.panels;
  float *tile = packed + packedB;
  for (int64_t m0 = 0; m0 < gm.m; m0 += kGemmMC)
    gemmBlock(gm, tile, m0, min64(gm.m, m0 + kGemmMC), 0, gm.panels,
              [&](int64_t row, int rows, int64_t k0, int64_t kc, float *dst) {
                return packA(gm, row, rows, k0, kc, dst);
              });
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// A zero-padded copy of the input rows that a run of output rows reads
/// (see directTask): `rows` rows of `wp` floats a plane, `phases` planes a
/// channel (1, or 4 with stride 2: one per parity of input row and column).
/// Taking output pixel (oh, ow) as "wide" pixel oh * wp + ow, every im2col
/// row is a contiguous run of it.
struct Slice {
  int64_t phases = 0, wp = 0, rows = 0;
  int64_t phase() const { return rows * wp; }
  int64_t plane() const { return phases * rows * wp; }
};

/// A convolution as implicit GEMM, in one of two orientations (Kernels.h):
/// pixels along the vectors (filter row blocks times im2col panels of
/// kConvNR pixels), or, with SHEARS_UK_CONV_CHANNEL_PANELS, output channels
/// along the vectors (im2col^T row tiles times the filter packed as GEMM
/// panels), for images too small to fill pixel panels.
struct Conv : ConvShape {
  const float *input, *filter;
  float *output;
  Epilogue epilogue;
  int64_t groups;
  int64_t mg, cg, k, kc, p, rowBlocks, panels, panelGroup, panelGroups,
      chunks, chunkBlocks;
  bool pointwise; // 1x1, stride 1, no padding: im2col rows are input planes.
  // Pixel panels: each panel over every filter row block (its k-block in
  // L1), not each row block over every panel (output rows in long runs).
  bool panelsOuter;
  // Channel panels: pixel blocks of up to kGemmMC rows, chunks of panels.
  int64_t pixelBlock, pixelBlocks, channelPanels, panelChunk;
  // Direct (strides 1 or 2, a k x k filter): bands of output rows over a
  // padded slice of the input (see Slice).
  int64_t bandRows, bands;
  Slice slice;
  // Winograd: tiles of wm x wm output pixels (2 or 4), tw x th of them, in
  // blocks of tileRows rows (and chunks of channel panels).
  int64_t wm, tw, th, tileRows, tileBlocks;
  // Tasks chunk by chunk of panels, each over every tile block (not block
  // by block, each over every chunk).
  bool chunkMajor = false;
  // One task a thread, its part of the pixels (channel panels at batch 1) or
  // of the channel panels by the thread's speed (ThreadPool.h), or null.
  Balance *balance = nullptr;
  bool balancePixels = false;
};

/// dst[0, n) = src[0, n), in vectors and a masked tail: short runs, no call
/// to memcpy.
__attribute__((no_builtin, always_inline)) inline void
copyRun(float *__restrict dst, const float *__restrict src, int64_t n) {
  int64_t t = 0;
  for (; t + W <= n; t += W)
    store(dst + t, load(src + t));
  if (t < n)
    storeFirst(dst + t, loadFirst(src + t, n - t), n - t);
}

/// dst[0, n) = 0, the same way.
__attribute__((no_builtin, always_inline)) inline void zeroRun(float *dst,
                                                               int64_t n) {
  int64_t t = 0;
  for (; t + W <= n; t += W)
    store(dst + t, VF{});
  if (t < n)
    storeFirst(dst + t, VF{}, n - t);
}

/// dst[t] = src[2 t] for t < n: even lanes of pairs of vectors, the loads
/// masked to the 2n - 1 floats this reads only at the end (masks on every
/// load: squeezenet1_1's stem alone 0.372 ms, 0.352 without).
__attribute__((no_builtin, always_inline)) inline void
gatherEven(float *__restrict dst, const float *__restrict src, int64_t n) {
  int64_t t = 0;
  // Whole pairs of vectors up to src[2n - 2], the last float read.
  for (; t + W < n; t += W)
    store(dst + t, evenLanes(load(src + 2 * t), load(src + 2 * t + W)));
  if (t < n) { // The last 1 to W floats.
    int64_t m = n - t, inputs = 2 * m - 1;
    const float *in = src + 2 * t;
    VF even = evenLanes(loadFirst(in, min64(W, inputs)),
                        inputs > W ? loadFirst(in + W, inputs - W) : VF{});
    storeFirst(dst + t, even, m);
  }
}

/// Runs of output rows that packIm2col takes at most in one call.
constexpr int64_t kPackRuns = kConvNR > kGemmMC ? kConvNR : kGemmMC;

/// Rows [k0, k0 + kc) of the im2col matrix of one image and group, columns
/// [p0, p0 + width), into dst (kc rows `stride` apart, zeros past the last
/// pixel and where a tap falls in the padding). A pixel panel is kConvNR
/// wide; a pixel block of the channel-panel orientation (up to kGemmMC
/// pixels, maybe of several images: its row tiles read their im2col^T
/// k-major, the block's width apart) is packed image by image.
/// (No memset or memcpy calls: rows and runs are a few vectors long.)
__attribute__((no_builtin)) void
packIm2col(const Conv &cv, const float *image, int64_t p0, int64_t k0,
           int64_t kc, int64_t width, int64_t stride, float *__restrict dst) {
  int64_t valid = min64(width, cv.p - p0);
  auto zeroRow = [width](float *row) {
    if (width == kConvNR) {
      for (int v = 0; v < kConvV; ++v)
        store(row + v * W, VF{});
      return;
    }
    zeroRun(row, width);
  };
  if (cv.pointwise) {
    for (int64_t kk = 0; kk < kc; ++kk) {
      float *row = dst + kk * stride;
      zeroRow(row);
      copyRun(row, image + (k0 + kk) * cv.p + p0, valid);
    }
    return;
  }
  // The panel's pixels as runs along output rows: the same for every k.
  struct Run {
    int64_t q, len, oh, ow;
  } runs[kPackRuns];
  int numRuns = 0;
  for (int64_t q = 0, oh = p0 / cv.ow, ow = p0 % cv.ow; q < valid;
       ow = 0, ++oh) {
    int64_t len = min64(valid - q, cv.ow - ow);
    runs[numRuns++] = {q, len, oh, ow};
    q += len;
  }
  // A run's columns [lo, hi) that fall in the input, for tap (i, j): out[t]
  // = src[t * sw] there, zero elsewhere (false: its input row is padding).
  struct Source {
    int64_t q, lo, hi, offset; // row + q + t <- plane + offset + t * sw
  };
  auto sourceOf = [&](const Run &run, int64_t i, int64_t j, Source &s) {
    int64_t ih = run.oh * cv.sh - cv.pt + i * cv.dh;
    if (ih < 0 || ih >= cv.h)
      return false;
    int64_t iw0 = run.ow * cv.sw - cv.pl + j * cv.dw;
    // Columns t with 0 <= iw0 + t * sw < w.
    // (No division for strides 1 and 2: this runs for every k and run.)
    auto columns = [&](int64_t n) {
      return cv.sw == 1 ? n : cv.sw == 2 ? (n + 1) >> 1 : ceilDiv(n, cv.sw);
    };
    int64_t lo = iw0 >= 0 ? 0 : columns(-iw0);
    int64_t hi = iw0 >= cv.w ? 0 : columns(cv.w - iw0);
    lo = min64(lo, run.len);
    hi = max64(lo, min64(hi, run.len));
    s = {run.q, lo, hi, ih * cv.w + iw0};
    return true;
  };
  auto gather = [&](float *row, const float *plane, const Source &s) {
    float *out = row + s.q;
    const float *src = plane + s.offset;
    if (cv.sw == 1) {
      copyRun(out + s.lo, src + s.lo, s.hi - s.lo);
    } else if (cv.sw == 2) {
      gatherEven(out + s.lo, src + 2 * s.lo, s.hi - s.lo);
    } else {
      for (int64_t t = s.lo; t < s.hi; ++t)
        out[t] = src[t * cv.sw];
    }
  };
  int64_t taps = cv.kh * cv.kw;
  if (taps == 1) {
    // A strided 1x1 convolution: every k-row reads the same columns of its
    // plane, found once. Where they cover the pixels (no padding), only
    // the columns past them are zeroed (resnet18's 64x56x56 -> 128 stride
    // 2 at batch 1: 113 -> 152 GFLOP/s, 0.105 -> 0.084 ms).
    Source sources[kPackRuns];
    int numSources = 0;
    int64_t covered = 0;
    for (int r = 0; r < numRuns; ++r)
      if (sourceOf(runs[r], 0, 0, sources[numSources])) {
        covered += sources[numSources].hi - sources[numSources].lo;
        ++numSources;
      }
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float *plane = image + (k0 + kk) * cv.h * cv.w;
      float *row = dst + kk * stride;
      if (covered < valid)
        zeroRow(row);
      else if (valid < width)
        zeroRun(row + valid, width - valid);
      for (int r = 0; r < numSources; ++r)
        gather(row, plane, sources[r]);
    }
    return;
  }
  int64_t ch = k0 / taps, i = (k0 % taps) / cv.kw, j = k0 % cv.kw;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *plane = image + ch * cv.h * cv.w;
    float *row = dst + kk * stride;
    zeroRow(row);
    Source source;
    for (int r = 0; r < numRuns; ++r)
      if (sourceOf(runs[r], i, j, source))
        gather(row, plane, source);
    if (++j == cv.kw) {
      j = 0;
      if (++i == cv.kh) {
        i = 0;
        ++ch;
      }
    }
  }
}

/// One image and group, a group of up to kConvPanelGroup pixel panels, and
/// a chunk of filter row blocks. Per k-block the group's panels are packed
/// (L2) and each filter sub-block is used by all of them while in L1: a
/// filter larger than L2 (late, small-image layers) streams in once per
/// panel group, not once per panel.
void convTask(void *ctx, int64_t task, int worker) {
  const Conv &cv = *static_cast<const Conv *>(ctx);
  int64_t chunk = task % cv.chunks;
  int64_t group = (task / cv.chunks) % cv.panelGroups;
  int64_t g = (task / (cv.chunks * cv.panelGroups)) % cv.groups;
  int64_t n = task / (cv.chunks * cv.panelGroups * cv.groups);
  int64_t pb = group * cv.panelGroup;
  int64_t pe = min64(cv.panels, pb + cv.panelGroup);
  const float *image = cv.input + (n * cv.c + g * cv.cg) * cv.h * cv.w;
  int64_t rb0 = chunk * cv.chunkBlocks;
  int64_t rb1 = min64(cv.rowBlocks, rb0 + cv.chunkBlocks);
  const int64_t panelFloats = kKC * kConvNR;
  float *packed =
      scratch(worker, cv.panelGroup * panelFloats * sizeof(float));
  if (!packed)
    return; // Out of memory: nothing sensible to do inside a kernel.
  // The group's im2col packed as one block (kc rows of all its pixels), not
  // panel by panel: a k-row is then one long run along input rows, where
  // panel by panel the reads had been kc short streams a plane apart
  // (resnet18's 64x56x56 -> 128 1x1 stride 2 at batch 8: 45-50 -> 62-65
  // GFLOP/s). Tiles read their panel's columns of it.
  int64_t groupWidth = (pe - pb) * kConvNR;
  bool packGroup = !cv.pointwise && ceilDiv(groupWidth, cv.ow) + 1 <= kPackRuns;
  int64_t bStep = packGroup ? groupWidth : kConvNR;
  auto panelB = [&](int64_t panel) {
    return packed + (panel - pb) * (packGroup ? kConvNR : panelFloats);
  };
  for (int64_t k0 = 0; k0 < cv.k; k0 += cv.kc) {
    int64_t kc = min64(cv.kc, cv.k - k0);
    bool first = k0 == 0, last = k0 + kc == cv.k;
    // A 1x1 convolution's im2col rows are the input's planes: whole panels
    // are read in place (k stride = the plane), only a ragged last one is
    // packed, so that no read goes past the image.
    auto direct = [&](int64_t panel) {
      return cv.pointwise && (panel + 1) * kConvNR <= cv.p;
    };
    if (packGroup)
      packIm2col(cv, image, pb * kConvNR, k0, kc, groupWidth, groupWidth,
                 packed);
    else
      for (int64_t panel = pb; panel < pe; ++panel)
        if (!direct(panel))
          packIm2col(cv, image, panel * kConvNR, k0, kc, kConvNR, kConvNR,
                     panelB(panel));
    // One tile: filter rows [row, row + kConvR) of row block rb times a
    // panel, stored.
    auto tileAt = [&](int64_t rb, int sub, int64_t panel) {
      const float *a = cv.filter + ((g * cv.rowBlocks + rb) * cv.k + k0) * kMR;
      int64_t row = rb * kMR + sub;
      int rows = static_cast<int>(min64(kConvR, cv.mg - row));
      int64_t p0 = panel * kConvNR, cols = min64(kConvNR, cv.p - p0);
      int64_t offset = (n * cv.cout + g * cv.mg + row) * cv.p + p0;
      // A tile of V vectors of the panel, stored.
      auto run = [&](auto vectors) {
        constexpr int V = decltype(vectors)::value;
        VF acc[kConvR][V];
        // The first row block reads the panel from memory: it prefetches.
        if (direct(panel))
          tile<kConvR, V, V>(kc, a + sub, kMR, image + k0 * cv.p + p0, cv.p, 0,
                             acc, rb == rb0 && sub == 0 ? kPointwiseAhead : 0);
        else
          tile<kConvR, V, V>(kc, a + sub, kMR, panelB(panel), bStep, 0, acc);
        storeTile(acc, cv.output + offset + n * cv.outSkip, cv.p,
                  cv.epilogue.residual ? cv.epilogue.residual + offset
                                       : nullptr,
                  rows, static_cast<int>(cols), !first, last, cv.epilogue,
                  g * cv.mg + row, 0);
      };
      // A ragged last panel (196 pixels: 4 panels of 48 and one of 4)
      // computes only the vectors it fills.
      if (cols <= W && kConvV > 1)
        run(std::integral_constant<int, 1>());
      else if (cols <= 2 * W && kConvV > 2)
        run(std::integral_constant<int, 2>());
      else
        run(std::integral_constant<int, kConvV>());
    };
    // The filter block kPrefetchRowBlocks ahead of rb (past rb1: of the
    // next k-block), into L2: weights stream from memory once per call.
    auto prefetchFilter = [&](int64_t rb) {
      int64_t ahead = rb + kPrefetchRowBlocks, aheadK0 = k0;
      if (ahead >= rb1)
        ahead = rb0 + (ahead - rb1), aheadK0 += cv.kc;
      if (ahead < rb1 && aheadK0 < cv.k)
        prefetchLines(cv.filter +
                          ((g * cv.rowBlocks + ahead) * cv.k + aheadK0) * kMR,
                      min64(cv.kc, cv.k - aheadK0) * kMR);
    };
    if (cv.panelsOuter) {
      for (int64_t panel = pb; panel < pe; ++panel)
        for (int64_t rb = rb0; rb < rb1; ++rb) {
          if (panel == pb)
            prefetchFilter(rb);
          for (int sub = 0; sub < kMR && rb * kMR + sub < cv.mg; sub += kConvR)
            tileAt(rb, sub, panel);
        }
      continue;
    }
    for (int64_t rb = rb0; rb < rb1; ++rb) {
      prefetchFilter(rb);
      for (int sub = 0; sub < kMR && rb * kMR + sub < cv.mg; sub += kConvR)
        for (int64_t panel = pb; panel < pe; ++panel)
          tileAt(rb, sub, panel);
    }
  }
}

/// acc[r][v] = sum over k of a[k * kMR + r] * b[off[k] + v * W]: a tile
/// whose k-th row of B lies anywhere (direct convolution).
template <int R, int V>
inline void tileOffsets(int64_t kc, const float *__restrict a,
                        const float *__restrict b, const int64_t *off,
                        VF (&out)[R][V]) {
  tileRows<R, V>(kc, a, kMR, out, [&](VF(&bv)[V]) {
    const float *bk = b + *off++;
    for (int v = 0; v < V; ++v)
      bv[v] = load(bk + v * W);
  });
}

/// The slice for runs of `outRows` output rows, or none (0 phases) for
/// strides other than 1, and 2 without dilation. With stride 2 the filter's
/// reach over the parity planes is half.
Slice sliceFor(const Conv &cv, int64_t outRows) {
  Slice sl;
  bool unitStrides = cv.sh == 1 && cv.sw == 1;
  bool strides2 = cv.sh == 2 && cv.sw == 2 && cv.dh == 1 && cv.dw == 1;
  if (!unitStrides && !strides2)
    return sl;
  sl.phases = strides2 ? 4 : 1;
  sl.wp = cv.ow + (strides2 ? (cv.kw - 1) / 2 : (cv.kw - 1) * cv.dw);
  sl.rows = outRows + (strides2 ? (cv.kh - 1) / 2 : (cv.kh - 1) * cv.dh);
  return sl;
}

/// off[k]: where tap k (channel, i, j) of wide pixel 0 lies in the slice.
void sliceOffsets(const Conv &cv, const Slice &sl, int64_t *off) {
  for (int64_t ch = 0, k = 0; ch < cv.cg; ++ch)
    for (int64_t i = 0; i < cv.kh; ++i)
      for (int64_t j = 0; j < cv.kw; ++j)
        off[k++] = sl.phases == 1
                       ? ch * sl.plane() + i * cv.dh * sl.wp + j * cv.dw
                       : ch * sl.plane() +
                             ((i & 1) * 2 + (j & 1)) * sl.phase() +
                             (i >> 1) * sl.wp + (j >> 1);
}

/// The lanes [lo, hi) of the W columns from `col` on that lie in a row of
/// w floats: col may be negative or past the row.
inline void columnLanes(int64_t col, int64_t w, int64_t &lo, int64_t &hi) {
  lo = min64(W, max64(0, -col));
  hi = max64(lo, min64(W, w - col));
}

/// The W columns of `row` (w floats) from `col` on, zeros for those outside
/// [0, w), which are not read.
inline VF loadColumns(const float *row, int64_t col, int64_t w) {
  int64_t lo, hi;
  columnLanes(col, w, lo, hi);
  return loadLanes(row + col, lo, hi);
}

/// The W columns of input row ih of a plane from `col` on: zeros outside
/// the image.
inline VF inputColumns(const Conv &cv, const float *plane, int64_t ih,
                       int64_t col) {
  return ih >= 0 && ih < cv.h ? loadColumns(plane + ih * cv.w, col, cv.w)
                              : VF{};
}

/// The even and odd ones of the 2 W columns of input row ih of a plane from
/// `col` on (zeros outside the image): columns col + 2 t and col + 2 t + 1
/// in lane t.
inline void evenOddColumns(const Conv &cv, const float *plane, int64_t ih,
                           int64_t col, VF &even, VF &odd) {
  VF lo = inputColumns(cv, plane, ih, col);
  VF hi = inputColumns(cv, plane, ih, col + W);
  even = evenLanes(lo, hi);
  odd = oddLanes(lo, hi);
}

/// Input rows ahead of the one being copied that fillSlice prefetches (into
/// L2): a stem's input comes from memory, and the rows of a stride-2 slice
/// had waited on their loads for 40% of its time (the 7x7 3 -> 32 stem of
/// a pruned resnet18 at batch 8: 6.15 -> 5.31 ms, with the rows below in
/// input order, 4-8 rows ahead alike).
constexpr int64_t kSliceRowsAhead = 8;

/// Pixels a thread gets at least where one sliced block of channel panels
/// splits its pixels among the threads rather than its panels (conv2d):
/// each thread then fills only its rows' slice, but reads the whole filter.
/// Inside resnet50 at batch 1 on 2 threads (Zen 5, median calls) 256x28x28
/// -> 256 stride 2 (196 pixels) took 0.73-0.74 ms a call against 0.77-0.81
/// (stop 57; 0.74-0.76 against 0.79-0.85 in stop 56), the model 0.999-1.003x
/// its time; 512x14x14 -> 512 stride 2 (49 pixels) had taken 1.01 ms
/// against 0.72-0.76.
constexpr int64_t kSliceSplitMinPixels = 63;

/// Bytes of input channels whose rows fillSlice copies together.
constexpr int64_t kSliceInputL1Bytes = 32 << 10;

/// The slice of output rows oh0.. of one image and group (`image`: its
/// first channel). Every row vector by vector, each a masked load (zeros in
/// the padding) and a store: the rows are short (16 floats for 14x14
/// images), so per-row work is the cost (zeroing then copying each row had
/// been a third of a 32x14x14 -> 64 stride-2 convolution at batch 8). Where
/// the group's input fits in L1 (kSliceInputL1Bytes), each row of every
/// channel at once, its masks computed once: that 32x14x14 -> 64 then ran
/// 0.76-0.84x the time, channel by channel (on an Emerald Rapids Xeon,
/// alternating in one process). A larger input goes channel by channel,
/// its rows read in order (256x28x28 -> 256 stride 2 had run 1.02-1.03x
/// the time in blocks of channels that fit in L1).
void fillSlice(const Conv &cv, const Slice &sl, const float *image, int64_t oh0,
               float *slice) {
  int64_t planeIn = cv.h * cv.w, planeOut = sl.plane();
  int64_t block = cv.cg * planeIn * int64_t(sizeof(float)) <= kSliceInputL1Bytes
                      ? cv.cg
                      : 1;
  for (int64_t c0 = 0; c0 < cv.cg; c0 += block) {
    int64_t channels = min64(block, cv.cg - c0);
    const float *in = image + c0 * planeIn;
    float *out = slice + c0 * planeOut;
    auto prefetchRows = [&](int64_t ih) {
      ih += kSliceRowsAhead;
      if (ih >= 0 && ih < cv.h)
        for (int64_t ch = 0; ch < channels; ++ch)
          prefetchLines(in + ch * planeIn + ih * cv.w, cv.w);
    };
    // The lanes of input row ih's columns from `col` on (none outside the
    // image).
    auto lanes = [&](int64_t ih, int64_t col, int64_t &lo, int64_t &hi) {
      columnLanes(col, cv.w, lo, hi);
      if (ih < 0 || ih >= cv.h)
        hi = lo;
    };
    // Stride 1: row r holds input row oh0 - pt + r, column x - pl at x.
    for (int64_t r = 0; r < sl.rows && sl.phases == 1; ++r) {
      int64_t ih = oh0 - cv.pt + r;
      prefetchRows(ih);
      for (int64_t x = 0; x < sl.wp; x += W) {
        int64_t col = x - cv.pl, lo, hi;
        lanes(ih, col, lo, hi);
        const float *src = in + ih * cv.w + col;
        float *dst = out + r * sl.wp + x;
        for (int64_t ch = 0; ch < channels; ++ch)
          storeUpTo(dst + ch * planeOut, loadLanes(src + ch * planeIn, lo, hi),
                    sl.wp - x);
      }
    }
    // Stride 2: row y of plane (a, b) holds input row 2 (oh0 + y) + a - pt,
    // column 2 x + b - pl at x: the even and odd lanes of the same loads.
    for (int64_t y = 0; y < sl.rows && sl.phases == 4; ++y)
      for (int64_t a = 0; a < 2; ++a) {
        int64_t ih = 2 * (oh0 + y) + a - cv.pt;
        prefetchRows(ih);
        for (int64_t x = 0; x < sl.wp; x += W) {
          int64_t col = 2 * x - cv.pl, lo0, hi0, lo1, hi1;
          lanes(ih, col, lo0, hi0);
          lanes(ih, col + W, lo1, hi1);
          const float *src = in + ih * cv.w + col;
          float *even = out + 2 * a * sl.phase() + y * sl.wp + x;
          float *odd = even + sl.phase();
          for (int64_t ch = 0; ch < channels; ++ch) {
            const float *row = src + ch * planeIn;
            VF l = loadLanes(row, lo0, hi0), h = loadLanes(row + W, lo1, hi1);
            storeUpTo(even + ch * planeOut, evenLanes(l, h), sl.wp - x);
            storeUpTo(odd + ch * planeOut, oddLanes(l, h), sl.wp - x);
          }
        }
      }
  }
}

/// Direct convolution, for strides 1 and 2: no im2col. In a zero-padded copy
/// of the input rows a band of output rows reads (the slice, wp = OW + the
/// filter's reach floats a row), output pixel (oh, ow) taken as "wide" pixel
/// oh * wp + ow reads tap (c, i, j) at wide + off(c, i, j): every im2col row
/// is a contiguous run of the slice. With stride 2 a channel's slice is four
/// planes, one per parity of input row and column (a, b): plane (a, b) holds
/// input (2 y + a, 2 x + b) at (y, x), so tap (i, j) is plane (i % 2, j % 2)
/// at (oh + i / 2, ow + j / 2), again a contiguous run (a stem's 7x7 filter
/// over 3 channels reads 147 im2col rows a pixel; this copies the input
/// once). Panels of kConvNR wide pixels go
/// straight into the tile (B rows at per-k offsets), over the whole
/// reduction; the columns ow >= OW are computed and dropped at the store,
/// which writes each output row's run with masked vectors and the epilogue.
/// A task: one image and group, a band of output rows, a chunk of filter
/// row blocks. Its tile is kMR x kConvV, 24 accumulators: AVX-512 only.
void directTask(void *ctx, int64_t task, int worker) {
  const Conv &cv = *static_cast<const Conv *>(ctx);
  int64_t chunk = task % cv.chunks;
  int64_t band = (task / cv.chunks) % cv.bands;
  int64_t g = (task / (cv.chunks * cv.bands)) % cv.groups;
  int64_t n = task / (cv.chunks * cv.bands * cv.groups);
  int64_t oh0 = band * cv.bandRows, oh1 = min64(cv.oh, oh0 + cv.bandRows);
  const float *image = cv.input + (n * cv.c + g * cv.cg) * cv.h * cv.w;
  const Slice &sl = cv.slice;
  // The slice, then zeros for the last panel's overrun, then the offsets.
  int64_t sliceFloats = ceilDiv(cv.cg * sl.plane() + 2 * kConvNR, 16) * 16;
  float *slice = scratch(worker, sliceFloats * sizeof(float) +
                                     cv.k * sizeof(int64_t));
  if (!slice)
    return; // Out of memory: nothing sensible to do inside a kernel.
  int64_t *off = reinterpret_cast<int64_t *>(slice + sliceFloats);
  sliceOffsets(cv, sl, off);
  fillSlice(cv, sl, image, oh0, slice);
  for (int64_t t = cv.cg * sl.plane(); t < sliceFloats; ++t)
    slice[t] = 0;

  int64_t wide = (oh1 - oh0) * sl.wp;
  int64_t rb0 = chunk * cv.chunkBlocks;
  int64_t rb1 = min64(cv.rowBlocks, rb0 + cv.chunkBlocks);
  const Epilogue &e = cv.epilogue;
  for (int64_t q0 = 0; q0 < wide; q0 += kConvNR) {
    // The panel's output pixels as runs along output rows: lanes [lane,
    // lane + len) go to output pixel `pixel` on.
    struct Run {
      int64_t lane, len, pixel;
    } runs[kConvNR];
    int numRuns = 0;
    for (int64_t q = q0; q < min64(q0 + kConvNR, wide);) {
      int64_t oh = oh0 + q / sl.wp, ow = q % sl.wp;
      int64_t rowEnd = q - ow + sl.wp;
      if (ow < cv.ow) {
        int64_t len = min64(cv.ow - ow, min64(q0 + kConvNR, wide) - q);
        runs[numRuns++] = {q - q0, len, oh * cv.ow + ow};
      }
      q = rowEnd;
    }
    for (int64_t rb = rb0; rb < rb1; ++rb) {
      int64_t row = rb * kMR;
      const float *a = cv.filter + (g * cv.rowBlocks + rb) * cv.k * kMR;
      VF acc[kMR][kConvV];
      tileOffsets<kMR, kConvV>(cv.k, a, slice + q0, off, acc);
      int rows = static_cast<int>(min64(kMR, cv.mg - row));
      // The pixel after this panel's, where the next panel writes.
      int64_t next =
          numRuns ? runs[numRuns - 1].pixel + runs[numRuns - 1].len : cv.p;
      for (int r = 0; r < rows; ++r) {
        int64_t channel = g * cv.mg + row + r;
        int64_t base = (n * cv.cout + channel) * cv.p;
        float bias = e.bias ? e.bias[channel] : 0.0f;
        // The lines that the next panel writes in this channel, asked for
        // now: each channel is a stream of its own, up to 64 of them (a
        // stem's), more than the hardware prefetchers follow.
        if (next < cv.p)
          prefetchRunForWrite(cv.output + base + next + n * cv.outSkip,
                              min64(kConvNR, cv.p - next));
        for (int u = 0; u < numRuns; ++u) {
          const Run &run = runs[u];
          for (int v = run.lane / W; v * W < run.lane + run.len; ++v) {
            int64_t lo = max64(run.lane - v * W, 0);
            int64_t hi = min64(run.lane + run.len - v * W, W);
            // Lane 0 of vector v lands here (lanes before `lo` untouched).
            int64_t at = base + run.pixel - run.lane + v * W;
            VF x = acc[r][v];
            if (e.bias)
              x += bias;
            if (e.residual)
              x += loadLanes(e.residual + at, lo, hi);
            storeLanes(cv.output + at + n * cv.outSkip, e.activate(x), lo, hi);
          }
        }
      }
    }
  }
}

/// Pixels of a channel-panel tile read straight from the slice (AVX-512):
/// 14 x 2 vectors, 28 accumulators.
constexpr int kSliceRows = 14;

/// Pixels of a tile over two channel panels, for runs this short (7x7
/// images) where pairPanels() (ThreadPool.h): 7 x 4 vectors, 28
/// accumulators, each pixel's broadcast used by twice the multiply-adds of
/// a one-panel tile (read by each: 4 B vectors and a broadcast register
/// would be 33).
constexpr int kPairRows = 7;

/// acc[r][v] = sum over k of base[off[k] + r] * B[k][v * W]: R consecutive
/// wide pixels of a slice (im2col^T rows, never packed) times V vectors of
/// channels of the filter, from one channel panel at b or two (the second
/// bPanel floats on). With `ahead` > 0 each row of B read is also prefetched
/// `ahead` floats on, into L2 (one panel's row).
template <int R, int V>
inline void sliceTile(int64_t kc, const float *base, const int64_t *off,
                      const float *b, int64_t bPanel, VF (*out)[V],
                      int64_t ahead) {
  constexpr int PV = kGemmNR / W;
  tileRowsOf<R, V>(
      kc, out, [&] { return base + *off++; },
      [&](VF(&bv)[V]) {
        for (int v = 0; v < V; ++v)
          bv[v] = load(b + (v / PV) * bPanel + (v % PV) * W);
        if (ahead)
          prefetchRun(b + ahead, kGemmNR);
        b += kGemmNR;
      });
}

/// sliceTile<rows, V> for rows in [1, sizeof...(R)].
template <int V, int... R>
inline void sliceTileAny(int rows, int64_t kc, const float *base,
                         const int64_t *off, const float *b, int64_t bPanel,
                         VF (*out)[V], int64_t ahead,
                         std::integer_sequence<int, R...>) {
  ((rows == R + 1 ? sliceTile<R + 1, V>(kc, base, off, b, bPanel, out, ahead)
                  : void()),
   ...);
}

/// C^T (pixels [m0, m1) of the batch, image after image, one row of Mg
/// floats each: row m - m0 at ct; Winograd's outputs) back to NCHW output
/// channels [j0, j1) of group g, with the epilogue: W pixels of one channel are
/// a column of C^T; W channels at a time, a W x W block of it transposed in
/// registers (it was a strided gather a vector, about 18 cycles each on Zen 4);
/// the channels past the last whole W one at a time, by gathers.
void storeTransposed(const Conv &cv, int64_t g, const float *ct0, int64_t m0,
                     int64_t m1, int64_t j0, int64_t j1) {
  const Epilogue &e = cv.epilogue;
  for (int64_t j = j0; j < j1;) {
    int channels = j + W <= j1 ? W : 1;
    for (int64_t m = m0; m < m1;) {
      int64_t n = m / cv.p, p = m % cv.p;
      int64_t end = min64(m1, m - p + cv.p);
      // out[base(c) + m] is output pixel m - n * P of image n, channel c.
      float *out = cv.output + n * cv.outSkip;
      auto base = [&](int64_t c) {
        return (n * cv.cout + c) * cv.p - n * cv.p;
      };
      auto finish = [&](int64_t c, int64_t at, VF x) {
        if (e.bias)
          x += splat(e.bias[c]);
        if (e.residual)
          x += load(e.residual + base(c) + at);
        store(out + base(c) + at, e.activate(x));
      };
      const float *ct = ct0 + (m - m0) * cv.mg + j;
      for (; m + W <= end; m += W, ct += W * cv.mg) {
        if (channels == 1) {
          finish(g * cv.mg + j, m, gatherStrided(ct, cv.mg));
          continue;
        }
        VF block[W];
        for (int r = 0; r < W; ++r)
          block[r] = load(ct + r * cv.mg);
        transpose(block);
        for (int c = 0; c < W; ++c)
          finish(g * cv.mg + j + c, m, block[c]);
      }
      for (; m < end; ++m, ct += cv.mg)
        for (int c = 0; c < channels; ++c) {
          int64_t channel = g * cv.mg + j + c;
          float x = ct[c];
          if (e.bias)
            x += e.bias[channel];
          if (e.residual)
            x += e.residual[base(channel) + m];
          out[base(channel) + m] = e.activate(x);
        }
    }
    j += channels;
  }
}

/// Channel panels: one group, a block of pixel rows of im2col^T (pixels of
/// all images in a row: the filter streams in once per block, not once per
/// image) and a chunk of output-channel panels, as a GEMM whose k-blocks
/// before the last sum in the worker's scratch C^T [pixels][Mg]; each tile's
/// last k-block goes out to NCHW with the epilogue (storeTransposedTile).
void channelsBlock(const Conv &cv, int64_t g, int64_t m0, int64_t m1,
                   int64_t pb, int64_t pe, int worker) {
  int64_t width = m1 - m0;
  auto image = [&](int64_t n) {
    return cv.input + (n * cv.c + g * cv.cg) * cv.h * cv.w;
  };
  bool inPlace = cv.pointwise && m0 / cv.p == (m1 - 1) / cv.p;
  // Packed A (kc x pixelBlock), then C^T (pixelBlock x Mg), then the slices
  // of the block's images and their offsets, 64-byte aligned. A block in
  // one image has the slice of its own output rows from oh0 on, not the
  // whole image's: 128x28x28 -> 128 (C^T 392 KiB, two blocks) had filled
  // all 30 rows of 128 channels for each.
  Slice sl = cv.slice;
  bool sliced = !inPlace && sl.phases;
  int64_t n0 = m0 / cv.p, images = (m1 - 1) / cv.p - n0 + 1;
  int64_t oh0 = 0;
  if (sliced && images == 1) {
    oh0 = (m0 % cv.p) / cv.ow;
    sl = sliceFor(cv, ((m1 - 1) % cv.p) / cv.ow + 1 - oh0);
  }
  // (No packed A where the tiles read the slice: AVX-512, below.)
  bool inSlice = sliced && W == 16;
  int64_t aFloats = inSlice ? 0 : ceilDiv(cv.kc * width, 16) * 16;
  int64_t cFloats = ceilDiv(width * cv.mg, 16) * 16;
  int64_t sliceFloats = ceilDiv(cv.cg * sl.plane(), 16) * 16;
  int64_t floats = aFloats + cFloats + (sliced ? images * sliceFloats : 0);
  float *packed = scratch(worker, floats * sizeof(float) +
                                      (sliced ? cv.k * sizeof(int64_t) : 0));
  if (!packed)
    return;
  float *slices = packed + aFloats + cFloats;
  int64_t *off = reinterpret_cast<int64_t *>(packed + floats);
  // With a slice an im2col row of the block is runs of its images' slices,
  // one per output row: copies, no bounds, no gathers (packing runs of 7
  // pixels through im2col's checks had been half the time of a stride-2
  // convolution onto 7x7 images).
  struct Run {
    int64_t pos, image, start, len;
  } runs[kGemmMC];
  int numRuns = 0;
  if (sliced) {
    sliceOffsets(cv, sl, off);
    for (int64_t i = 0; i < images; ++i)
      fillSlice(cv, sl, image(n0 + i), oh0, slices + i * sliceFloats);
    for (int64_t m = m0; m < m1;) {
      int64_t pix = m % cv.p, oh = pix / cv.ow, ow = pix % cv.ow;
      int64_t len = min64(cv.ow - ow, m1 - m);
      runs[numRuns++] = {m - m0, m / cv.p - n0, (oh - oh0) * sl.wp + ow, len};
      m += len;
    }
  }
  Gemm gm{};
  gm.b = cv.filter + g * cv.channelPanels * cv.k * kGemmNR;
  gm.c = packed + aFloats;
  gm.m = width;
  gm.k = cv.k;
  gm.n = cv.mg;
  gm.kc = cv.kc;
  // Each tile's last k-block goes straight to the output.
  int64_t channel0 = g * cv.mg * cv.p;
  gm.outT = {cv.output + channel0,
             cv.epilogue.residual ? cv.epilogue.residual + channel0 : nullptr,
             m0,
             cv.p,
             cv.cout * cv.p + cv.outSkip,
             cv.cout * cv.p};
  gm.epilogue = cv.epilogue;
  gm.epilogue.residual = nullptr;
  // An output larger than L2 (and its residual) is not there by the time a
  // tile stores to it: each tile asks for the lines the next panel's tile
  // of the same pixels will store to, a panel's row tiles ahead. Its
  // stores had waited on those lines, 32 channels' planes at a time (more
  // streams than the hardware prefetchers follow). resnet50 at batch 8 on
  // 1 thread: 256x14x14 -> 1024 with its residual in place 130-140 -> 178
  // GFLOP/s, 1024x14x14 -> 256 172-182 -> 194-197, 512x7x7 -> 2048 148-157
  // -> 184-188 (two-image calls); the model 0.964-0.981x the time, on 2
  // threads 0.974-0.990x; at batch 1 0.985-0.990x and 0.994-0.997x.
  // For every output (mobilenet_v2's, in L2 at batch 1) mobilenet_v2 at
  // batch 1 on 1 thread had taken 1.014x and 1.015x: the prefetches cost
  // issue slots where their lines were there anyway.
  if (cv.n * cv.cout * cv.p * int64_t(sizeof(float)) > kL2Bytes)
    gm.storeAhead = kGemmNR;
  if (gm.epilogue.bias)
    gm.epilogue.bias += g * cv.mg;
  if (inSlice) {
    // AVX-512: tiles of up to 14 pixels of a run read the slice in place
    // (no im2col copy), each panel's k-block of the filter kept in L1 for
    // every tile of the block.
    bool pairs = pairPanels();
    for (int u = 0; u < numRuns; ++u)
      pairs = pairs && runs[u].len <= kPairRows;
    for (int64_t k0 = 0; k0 < cv.k; k0 += cv.kc) {
      int64_t kc = min64(cv.kc, cv.k - k0);
      for (int64_t panel = pb, step; panel < pe; panel += step) {
        step = pairs && panel + 1 < pe ? 2 : 1;
        // Pairs (two panels a tile) prefetch by slabs; one panel a row at a
        // time.
        int64_t ahead = step == 1 ? slabAhead(gm, pb, pe, panel, k0) : 0;
        if (step == 2)
          for (int64_t q = panel; q < panel + 2; ++q) {
            int64_t slab = slabAhead(gm, pb, pe, q, k0);
            if (slab)
              prefetchLines(gm.b + (q * cv.k + k0) * kGemmNR + slab,
                            kc * kGemmNR);
          }
        const float *b = gm.b + (panel * cv.k + k0) * kGemmNR;
        int cols =
            static_cast<int>(min64(step * kGemmNR, cv.mg - panel * kGemmNR));
        // Rows x vectors of a tile into C^T (summed onto the k-blocks
        // before); the last k-block's to the output.
        auto add = [&](const VF *acc, int vectors, int rows, int64_t pos) {
          float *c = gm.c + pos * cv.mg + panel * kGemmNR;
          if (k0 + kc == cv.k) {
            storeTransposedTile(gm, acc, vectors, pos, rows, panel * kGemmNR,
                                k0 > 0);
            return;
          }
          for (int r = 0; r < rows; ++r, c += cv.mg, acc += vectors)
            for (int v = 0; v * W < cols; ++v) {
              int64_t lanes = min64(W, cols - v * W);
              VF x = acc[v];
              if (k0 > 0)
                x += loadFirst(c + v * W, lanes);
              storeFirst(c + v * W, x, lanes);
            }
        };
        for (int u = 0; u < numRuns; ++u) {
          const Run &run = runs[u];
          const float *base = slices + run.image * sliceFloats + run.start;
          if (step == 2) {
            VF acc[kPairRows][2 * kGemmNR / W];
            sliceTileAny(static_cast<int>(run.len), kc, base, off + k0, b,
                         cv.k * kGemmNR, acc, 0,
                         std::make_integer_sequence<int, kPairRows>());
            add(acc[0], 2 * kGemmNR / W, static_cast<int>(run.len), run.pos);
            continue;
          }
          for (int64_t r0 = 0; r0 < run.len; r0 += kSliceRows) {
            int rows = static_cast<int>(min64(kSliceRows, run.len - r0));
            VF acc[kSliceRows][kGemmNR / W];
            sliceTileAny(rows, kc, base + r0, off + k0, b, 0, acc,
                         u == 0 && r0 == 0 ? ahead : 0,
                         std::make_integer_sequence<int, kSliceRows>());
            add(acc[0], kGemmNR / W, rows, run.pos + r0);
          }
        }
      }
    }
  } else
    // Row tiles read im2col^T k-major in place: a 1x1 convolution's from the
    // input's planes (k stride = the plane) when the block is in one image,
    // others from the whole block's im2col, packed when the first tile of a
    // k-block asks (long runs of pixels, not a tile's few).
    gemmBlock(
        gm, packed, 0, width, pb, pe,
        [&](int64_t row, int, int64_t k0, int64_t kc, float *) {
          if (inPlace)
            return ATile{image(m0 / cv.p) + k0 * cv.p + m0 % cv.p + row, cv.p};
          if (row == 0 && sliced)
            for (int64_t kk = 0; kk < kc; ++kk)
              for (int u = 0; u < numRuns; ++u) {
                const Run &run = runs[u];
                copyRun(packed + kk * width + run.pos,
                        slices + run.image * sliceFloats + off[k0 + kk] +
                            run.start,
                        run.len);
              }
          else if (row == 0)
            for (int64_t m = m0; m < m1;) {
              int64_t n = m / cv.p, p = m % cv.p;
              int64_t count = min64(cv.p - p, m1 - m);
              packIm2col(cv, image(n), p, k0, kc, count, width,
                         packed + (m - m0));
              m += count;
            }
          return ATile{packed + row, width};
        });
}

void convChannelsTask(void *ctx, int64_t task, int worker) {
  const Conv &cv = *static_cast<const Conv *>(ctx);
  if (cv.balance) { // One block: this thread's pixels, or panels.
    int64_t lo = cv.balance->bounds[task], hi = cv.balance->bounds[task + 1];
    if (lo < hi && cv.balancePixels)
      channelsBlock(cv, 0, lo, hi, 0, cv.channelPanels, worker);
    else if (lo < hi)
      channelsBlock(cv, 0, 0, cv.n * cv.p, lo, hi, worker);
    return;
  }
  int64_t chunk = task % cv.chunks;
  int64_t block = (task / cv.chunks) % cv.pixelBlocks;
  int64_t g = task / (cv.chunks * cv.pixelBlocks);
  int64_t m0 = block * cv.pixelBlock;
  int64_t m1 = min64(cv.n * cv.p, m0 + cv.pixelBlock);
  int64_t pb = chunk * cv.panelChunk;
  int64_t pe = min64(cv.channelPanels, pb + cv.panelChunk);
  channelsBlock(cv, g, m0, m1, pb, pe, worker);
}

/// B^T d B of the patches of `count` tiles (count <= W; lane t of d[i][j]
/// is row i, column j of tile t's patch) into V_ab, the 16 planes `plane`
/// floats apart from dst.
inline void transformPatches(const VF (&d)[4][4], float *dst, int64_t plane,
                             int64_t count) {
  // r[i][b] = (d B)[i][b], then V = B^T r.
  VF r[4][4];
  for (int i = 0; i < 4; ++i) {
    r[i][0] = d[i][0] - d[i][2];
    r[i][1] = d[i][1] + d[i][2];
    r[i][2] = d[i][2] - d[i][1];
    r[i][3] = d[i][1] - d[i][3];
  }
  for (int b = 0; b < 4; ++b) {
    storeUpTo(dst + b * plane, r[0][b] - r[2][b], count);
    storeUpTo(dst + (4 + b) * plane, r[1][b] + r[2][b], count);
    storeUpTo(dst + (8 + b) * plane, r[2][b] - r[1][b], count);
    storeUpTo(dst + (12 + b) * plane, r[1][b] - r[3][b], count);
  }
}

/// Lanes First, First + 4, ... of a, b, c, d: W floats 4 apart.
template <int First, int... I>
inline VF lanesFourApart(VF a, VF b, VF c, VF d,
                         std::integer_sequence<int, I...>) {
  typedef float Half __attribute__((vector_size(W / 2 * sizeof(float))));
  Half lo = __builtin_shufflevector(a, b, (First + 4 * I)...);
  Half hi = __builtin_shufflevector(c, d, (First + 4 * I)...);
  return __builtin_shufflevector(lo, hi, I..., (W / 2 + I)...);
}
template <int First> inline VF fourApart(const VF (&v)[4]) {
  return lanesFourApart<First>(v[0], v[1], v[2], v[3],
                               std::make_integer_sequence<int, W / 2>());
}

/// One dimension of F(4x4, 3x3)'s input transform, B^T x, with
///   B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
///          [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]].
inline void inputTransform4(const VF (&x)[6], VF (&y)[6]) {
  y[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];
  y[1] = x[3] + x[4] - 4.0f * (x[1] + x[2]);
  y[2] = x[4] - x[3] + 4.0f * (x[1] - x[2]);
  y[3] = x[4] - x[2] + 2.0f * (x[3] - x[1]);
  y[4] = x[4] - x[2] + 2.0f * (x[1] - x[3]);
  y[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];
}

/// F(4x4, 3x3)'s transformed patches of tile rows [ty0, ty1), as
/// winogradInput's: a tile's columns are lanes 4 apart of four loads (and
/// of four more from the next tile's first column).
void winogradInput4(const Conv &cv, const float *image, int64_t ty0,
                    int64_t ty1, float *v) {
  int64_t tiles = (ty1 - ty0) * cv.tw, vPlane = cv.c * tiles;
  for (int64_t c = 0; c < cv.c; ++c) {
    const float *plane = image + c * cv.h * cv.w;
    for (int64_t ty = ty0; ty < ty1; ++ty)
      for (int64_t tx0 = 0; tx0 < cv.tw; tx0 += W) {
        // r[i] = (d B)[i] for the patch rows i of W tiles.
        VF r[6][6];
        for (int i = 0; i < 6; ++i) {
          int64_t ih = 4 * ty + i - cv.pt, col = 4 * tx0 - cv.pl;
          VF here[4], next[4], d[6];
          for (int k = 0; k < 4; ++k) {
            here[k] = inputColumns(cv, plane, ih, col + k * W);
            next[k] = inputColumns(cv, plane, ih, col + 4 + k * W);
          }
          d[0] = fourApart<0>(here);
          d[1] = fourApart<1>(here);
          d[2] = fourApart<2>(here);
          d[3] = fourApart<3>(here);
          d[4] = fourApart<0>(next);
          d[5] = fourApart<1>(next);
          inputTransform4(d, r[i]);
        }
        int64_t count = min64(W, cv.tw - tx0);
        float *dst = v + c * tiles + (ty - ty0) * cv.tw + tx0;
        for (int b = 0; b < 6; ++b) {
          VF column[6] = {r[0][b], r[1][b], r[2][b], r[3][b], r[4][b], r[5][b]};
          VF out[6];
          inputTransform4(column, out);
          for (int a = 0; a < 6; ++a)
            storeUpTo(dst + (a * 6 + b) * vPlane, out[a], count);
        }
      }
  }
}

/// One dimension of F(4x4, 3x3)'s output transform, A^T x, with
///   A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
///          [0, 1, -1, 8, -8, 1]].
inline void outputTransform4(const VF (&x)[6], VF (&y)[4]) {
  VF sum12 = x[1] + x[2], diff12 = x[1] - x[2];
  VF sum34 = x[3] + x[4], diff34 = x[3] - x[4];
  y[0] = x[0] + sum12 + sum34;
  y[1] = diff12 + 2.0f * diff34;
  y[2] = sum12 + 4.0f * sum34;
  y[3] = diff12 + 8.0f * diff34 + x[5];
}

/// The transformed patches of tile rows [ty0, ty1) of one image, V_ab [C,
/// tiles] (tile t = (ty - ty0) * tw + tx), from `v`: channel by channel, W
/// tiles of a row at once, their columns the even and odd lanes of pairs
/// of loads. On AVX-512, rows of at most 7 tiles (images of 14 pixels) go
/// in pairs: a row's 2 tw + 2 columns fit one load, so each column j of
/// both rows is one permute of a load from each, where a row alone took 4
/// loads and 4 permutes to fill 7 lanes.
void winogradInput(const Conv &cv, const float *image, int64_t ty0, int64_t ty1,
                   float *v) {
  if (cv.wm == 4)
    return winogradInput4(cv, image, ty0, ty1, v);
  int64_t tiles = (ty1 - ty0) * cv.tw, vPlane = cv.c * tiles;
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  if (cv.tw <= 7) {
    // Lane l < tw: column 2 l + j of the first row's load; lane tw + l:
    // of the second's.
    __m512i index[4];
    for (int j = 0; j < 4; ++j) {
      alignas(64) int lanes[16] = {};
      for (int l = 0; l < 2 * cv.tw; ++l)
        lanes[l] = l < cv.tw ? 2 * l + j : 16 + 2 * (l - cv.tw) + j;
      index[j] = _mm512_load_si512(lanes);
    }
    for (int64_t c = 0; c < cv.c; ++c) {
      const float *plane = image + c * cv.h * cv.w;
      for (int64_t ty = ty0; ty < ty1; ty += 2) {
        VF d[4][4];
        for (int i = 0; i < 4; ++i) {
          int64_t ih = 2 * ty + i - cv.pt;
          VF first = inputColumns(cv, plane, ih, -cv.pl);
          VF second =
              ty + 1 < ty1 ? inputColumns(cv, plane, ih + 2, -cv.pl) : VF{};
          for (int j = 0; j < 4; ++j)
            d[i][j] = _mm512_permutex2var_ps(first, index[j], second);
        }
        transformPatches(d, v + c * tiles + (ty - ty0) * cv.tw, vPlane,
                         min64(2, ty1 - ty) * cv.tw);
      }
    }
    return;
  }
#endif
  for (int64_t c = 0; c < cv.c; ++c) {
    const float *plane = image + c * cv.h * cv.w;
    for (int64_t ty = ty0; ty < ty1; ++ty)
      for (int64_t tx0 = 0; tx0 < cv.tw; tx0 += W) {
        VF d[4][4];
        for (int i = 0; i < 4; ++i) {
          int64_t ih = 2 * ty + i - cv.pt, col = 2 * tx0 - cv.pl;
          evenOddColumns(cv, plane, ih, col, d[i][0], d[i][1]);
          evenOddColumns(cv, plane, ih, col + 2, d[i][2], d[i][3]);
        }
        transformPatches(d, v + c * tiles + (ty - ty0) * cv.tw + tx0, vPlane,
                         min64(W, cv.tw - tx0));
      }
  }
}

/// Winograd F(2x2, 3x3) (SHEARS_UK_CONV_WINOGRAD, Kernels.h): output tile
/// (y, x) is the 2x2 pixels from (2y, 2x), computed from the 4x4 input patch
/// d at (2y - pt, 2x - pl) as Y = A^T [U . (B^T d B)] A, where U = G g G^T
/// is the filter transformed at compile time, with
///   B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
///   A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]:
/// 16 multiply-adds per tile, input and output channel instead of 36.
/// F(4x4, 3x3) (SHEARS_UK_CONV_WINOGRAD_4X4) the same with 6x6 patches, 36
/// instead of 144 (inputTransform4, outputTransform4).
/// A task: one image, a block of tile rows, a chunk of channel panels. It
///  1. transforms its patches (winogradInput): V_ab [C, tiles], k-major;
///  2. multiplies, for each (a, b), M_ab [tiles, Mg] = V_ab^T U_ab on the
///     GEMM tiles (U_ab packed as GEMM panels);
///  3. turns each tile's M values into its outputs in C^T, which goes out to
///     NCHW with the epilogue as in channel panels.
void winogradTask(void *ctx, int64_t task, int worker) {
  const Conv &cv = *static_cast<const Conv *>(ctx);
  int64_t blocks = cv.n * cv.tileBlocks;
  int64_t chunk = cv.chunkMajor ? task / blocks : task % cv.chunks;
  int64_t tile = cv.chunkMajor ? task % blocks : task / cv.chunks;
  int64_t block = tile % cv.tileBlocks, n = tile / cv.tileBlocks;
  int64_t ty0 = block * cv.th / cv.tileBlocks,
          ty1 = (block + 1) * cv.th / cv.tileBlocks;
  int64_t tiles = (ty1 - ty0) * cv.tw, points = (cv.wm + 2) * (cv.wm + 2);
  int64_t oh0 = cv.wm * ty0, oh1 = min64(cv.oh, cv.wm * ty1);
  int64_t pb = chunk * cv.panelChunk;
  int64_t pe = min64(cv.channelPanels, pb + cv.panelChunk);
  if (cv.balance) { // This thread's panels.
    pb = cv.balance->bounds[task];
    pe = cv.balance->bounds[task + 1];
    if (pb >= pe)
      return;
  }
  int64_t j0 = pb * kGemmNR, j1 = min64(cv.mg, pe * kGemmNR);
  // V [T*T][C][tiles], then M [T*T][tiles][Mg], then C^T [pixels][Mg].
  int64_t vPlane = cv.c * tiles, mPlane = tiles * cv.mg;
  int64_t vFloats = ceilDiv(points * vPlane, 16) * 16;
  int64_t mFloats = ceilDiv(points * mPlane, 16) * 16;
  int64_t cFloats = (oh1 - oh0) * cv.ow * cv.mg;
  float *v = scratch(worker, (vFloats + mFloats + cFloats) * sizeof(float));
  if (!v)
    return; // Out of memory: nothing sensible to do inside a kernel.
  float *mb = v + vFloats, *ct = mb + mFloats;
  const float *image = cv.input + n * cv.c * cv.h * cv.w;

  winogradInput(cv, image, ty0, ty1, v);
  for (int64_t ab = 0; ab < points; ++ab) {
    Gemm gm{};
    gm.b = cv.filter + ab * cv.channelPanels * cv.c * kGemmNR;
    gm.c = mb + ab * mPlane;
    gm.m = tiles;
    gm.k = cv.c;
    gm.n = cv.mg;
    gm.kc = cv.kc;
    const float *a = v + ab * vPlane;
    for (int64_t m0 = 0; m0 < tiles; m0 += kGemmMC) {
      // The next block of tiles reads this B again, the last the next
      // point's.
      gm.bNext = m0 + kGemmMC < tiles ? gm.b
                 : ab + 1 < points    ? gm.b + cv.channelPanels * cv.c * kGemmNR
                                      : nullptr;
      gemmBlock(gm, v, m0, min64(tiles, m0 + kGemmMC), pb, pe,
                [&](int64_t row, int, int64_t k0, int64_t, float *) {
                  return ATile{a + k0 * tiles + row, tiles};
                });
    }
  }

  for (int64_t t = 0; t < tiles && cv.wm == 4; ++t) {
    int64_t oy = 4 * (ty0 + t / cv.tw), ox = 4 * (t % cv.tw);
    int rows = static_cast<int>(min64(4, cv.oh - oy));
    int cols = static_cast<int>(min64(4, cv.ow - ox));
    float *out = ct + ((oy - oh0) * cv.ow + ox) * cv.mg;
    for (int64_t j = j0; j < j1; j += W) {
      int64_t lanes = min64(W, j1 - j);
      const float *m = mb + t * cv.mg + j;
      // s[a] = (M A)[a], then Y = A^T s.
      VF s[4][6];
      for (int a = 0; a < 6; ++a) {
        VF x[6], y[4];
        for (int b = 0; b < 6; ++b)
          x[b] = loadUpTo(m + (6 * a + b) * mPlane, lanes);
        outputTransform4(x, y);
        for (int q = 0; q < 4; ++q)
          s[q][a] = y[q];
      }
      for (int q = 0; q < cols; ++q) {
        VF y[4];
        outputTransform4(s[q], y);
        for (int p = 0; p < rows; ++p)
          storeUpTo(out + (p * cv.ow + q) * cv.mg + j, y[p], lanes);
      }
    }
  }
  for (int64_t t = 0; t < tiles && cv.wm == 2; ++t) {
    int64_t oy = 2 * (ty0 + t / cv.tw), ox = 2 * (t % cv.tw);
    bool down = oy + 1 < cv.oh, right = ox + 1 < cv.ow;
    float *out = ct + ((oy - oh0) * cv.ow + ox) * cv.mg;
    for (int64_t j = j0; j < j1; j += W) {
      int64_t lanes = min64(W, j1 - j);
      const float *m = mb + t * cv.mg + j;
      // s[a][q] = (M A)[a][q], then Y = A^T s.
      VF s[4][2];
      for (int a = 0; a < 4; ++a) {
        VF m0 = loadUpTo(m + (4 * a) * mPlane, lanes);
        VF m1 = loadUpTo(m + (4 * a + 1) * mPlane, lanes);
        VF m2 = loadUpTo(m + (4 * a + 2) * mPlane, lanes);
        VF m3 = loadUpTo(m + (4 * a + 3) * mPlane, lanes);
        s[a][0] = m0 + m1 + m2;
        s[a][1] = m1 - m2 - m3;
      }
      for (int q = 0; q < 2 && (q == 0 || right); ++q) {
        storeUpTo(out + q * cv.mg + j, s[0][q] + s[1][q] + s[2][q], lanes);
        if (down)
          storeUpTo(out + (cv.ow + q) * cv.mg + j, s[1][q] - s[2][q] - s[3][q],
                    lanes);
      }
    }
  }
  storeTransposed(cv, 0, ct, n * cv.p + oh0 * cv.ow, n * cv.p + oh1 * cv.ow, j0,
                  j1);
}

/// Runs `tasks` tasks of one of conv2d's paths, timed for the profile.
void runConv(Conv &cv, const char *path, void (*task)(void *, int64_t, int),
             int64_t tasks, int64_t macs) {
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size,
                 "conv2d %s %s: n%lld %lldx%lldx%lld -> %lld, %lldx%lld s%lld "
                 "g%lld",
                 SHEARS_UK_ISA_NAME, path, (long long)cv.n, (long long)cv.c,
                 (long long)cv.h, (long long)cv.w, (long long)cv.cout,
                 (long long)cv.kh, (long long)cv.kw, (long long)cv.sh,
                 (long long)cv.groups);
      },
      macs);
  parallelFor(tasks, task, &cv, macs, cv.balance);
}

} // namespace
} // namespace shears::uk::SHEARS_UK_ISA

using namespace shears::uk;
using namespace shears::uk::SHEARS_UK_ISA;
static_assert(kGemmR <= 14, "gemmRowsAny dispatches up to 14 rows");

extern "C" void SHEARS_UK_NAME(conv2d)(void **buffers, const int64_t *dims,
                                       const int64_t *ip,
                                       const float *fparams) {
  void **operand = buffers + 2;
  Conv cv{};
  cv.input = static_cast<const float *>(buffers[0]);
  cv.filter = static_cast<const float *>(buffers[1]);
  cv.epilogue = Epilogue(ip[SHEARS_UK_CONV_FLAGS], fparams, operand);
  cv.output = static_cast<float *>(*operand);
  cv.read(dims, ip);
  cv.groups = ip[SHEARS_UK_CONV_GROUPS];
  cv.epilogue.biasPerRow = true;
  cv.mg = cv.cout / cv.groups;
  cv.cg = cv.c / cv.groups;
  cv.k = cv.cg * cv.kh * cv.kw;
  // Equal k-blocks of at most kKC: 288 is 144 + 144, not 256 + 32.
  cv.kc = ceilDiv(cv.k, ceilDiv(cv.k, kKC));
  cv.pointwise = cv.kh == 1 && cv.kw == 1 && cv.sh == 1 && cv.sw == 1 &&
                 cv.pt == 0 && cv.pl == 0 && cv.oh == cv.h && cv.ow == cv.w;
  cv.p = cv.oh * cv.ow;
  if (cv.n == 0 || cv.p == 0 || cv.mg == 0)
    return;
  int64_t macs = cv.n * cv.groups * cv.mg * cv.k * cv.p;
  if (ip[SHEARS_UK_CONV_FLAGS] & SHEARS_UK_CONV_WINOGRAD) {
    cv.wm = ip[SHEARS_UK_CONV_FLAGS] & SHEARS_UK_CONV_WINOGRAD_4X4 ? 4 : 2;
    cv.tw = ceilDiv(cv.ow, cv.wm);
    cv.th = ceilDiv(cv.oh, cv.wm);
    cv.channelPanels = ceilDiv(cv.mg, kGemmNR);
    cv.kc = ceilDiv(cv.c, ceilDiv(cv.c, kWinogradKC));
    // Blocks of tile rows whose transformed input (T*T C a tile) and GEMM
    // outputs (T*T Mg) stay in L2. Each block streams the whole transformed
    // filter, so where that is over 2 L2 budgets a block may take 4: the 4
    // MiB filter of 256x14x14 -> 256 then streams once an image, not in each
    // of 4 blocks of 2, 2, 2 and 1 tile rows. Alternating in one process on an
    // Emerald Rapids Xeon (2 MiB L2), one thread: resnet50 0.955x and
    // resnet18 0.94x at batch 1, 0.99x and 0.98x at batch 8, 0.99x both on
    // 2 threads; squeezenet1_1 (filters up to 1 MiB, which a budget of
    // 4 for every layer made 1.06x slower) unchanged.
    int64_t points = (cv.wm + 2) * (cv.wm + 2);
    int64_t rowBytes = points * cv.tw * (cv.c + cv.mg) * int64_t(sizeof(float));
    int64_t filterBytes =
        points * cv.c * cv.channelPanels * kGemmNR * int64_t(sizeof(float));
    // F(4x4, 3x3) (36 points, by default over at most 32 input channels:
    // short GEMMs whose V and M are most of the traffic) takes one tile row
    // a block where its filter is not over 2 budgets. In one process, per
    // call (SHEARS_PROFILE): squeezenet1_1's 16x55x55 -> 64 0.83x and
    // 32x27x27 -> 128 0.90x on 1 thread, 0.87-0.96x and 0.91-1.02x on 2;
    // the pruned resnet18's 32x56x56 -> 32 0.945x on 2. F(2x2) layers in
    // one-row blocks were slower where their rows are short (squeezenet1_1's
    // 13x13 layers 1.13x and 1.14x) and otherwise within 4%.
    int64_t budget = filterBytes > 2 * kL2Bytes ? 4 * kL2Bytes
                     : cv.wm == 4               ? 0
                                                : kL2Bytes;
    cv.tileRows = max64(1, min64(cv.th, budget / rowBytes));
    cv.tileBlocks = ceilDiv(cv.th, cv.tileRows);
    int64_t tiles = cv.n * cv.tileBlocks;
    // Few tile blocks and a transformed filter larger than L2 (256x14x14 ->
    // 256 at batch 1, 4.2 MiB, measured when it ran in 4 blocks of 2, 2, 2
    // and 1 tile rows): one chunk of the filter's panels a thread, each over
    // every block (chunk-major tasks), rather than blocks of tile rows a
    // thread, each with all of the filter, which split 7 rows 4 to 3. Each
    // chunk transforms the input again. resnet18 at batch 1 on 2 threads
    // 0.965x, resnet50 0.99x; not for smaller filters (with 128x28x28 -> 128's
    // 1 MiB too, 1.006x and 1.047x).
    int64_t workers = numWorkers();
    cv.chunkMajor =
        workers > 1 && tiles < 4 * workers && filterBytes > 2 * kL2Bytes;
    // Otherwise as many tile blocks as a multiple of the threads, their
    // rows as even as can be (a call's tasks go to the threads in equal
    // shares): 128x28x28 -> 128 at batch 1 had 7 blocks of 2 tile rows, 4
    // to one of 2 threads and 3 to the other, which then waited a block's
    // time (about 85 us of 370 in resnet50). resnet50 and resnet18 at batch
    // 1 on 2 threads 0.99x (alternating in one process, within its range).
    if (!cv.chunkMajor && workers > 1 && tiles % workers != 0) {
      cv.tileBlocks =
          min64(cv.th, ceilDiv(ceilDiv(tiles, workers) * workers, cv.n));
      tiles = cv.n * cv.tileBlocks;
    }
    cv.chunks =
        splitChunks(cv.channelPanels, tiles,
                    cv.chunkMajor ? tiles * workers : workers, cv.panelChunk);
    // One tile block in a chunk a thread: each thread's panels by its speed.
    Balance balance;
    if (tiles == 1 && balanceable(cv.chunks)) {
      balance = {ip, cv.channelPanels, cv.channelPanels, {}};
      cv.balance = &balance;
    }
    // (The profile's GFLOP/s count the direct convolution's multiply-adds.)
    runConv(cv, "winograd", winogradTask, tiles * cv.chunks, macs);
    return;
  }
  if (ip[SHEARS_UK_CONV_FLAGS] & SHEARS_UK_CONV_CHANNEL_PANELS) {
    cv.pixelBlocks = ceilDiv(cv.n * cv.p, kGemmMC);
    cv.pixelBlock = ceilDiv(cv.n * cv.p, cv.pixelBlocks);
    // A 1x1 convolution with fewer pixel blocks than threads, over at least
    // as many images: a block an image, read in place, rather than chunks of
    // panels that each pack every image's pixels again (mobilenet_v2 at
    // batch 8 on 2 threads, its 7x7 layers two images a call: 0.95-0.98x).
    if (cv.pointwise && cv.p <= kGemmMC && cv.pixelBlocks < numWorkers() &&
        cv.n >= numWorkers()) {
      cv.pixelBlocks = cv.n;
      cv.pixelBlock = cv.p;
    }
    cv.channelPanels = ceilDiv(cv.mg, kGemmNR);
    // A whole image's slice for the im2col's runs (convChannelsTask), where
    // the strides allow one and there is a window to gather (a strided 1x1
    // convolution would fill four planes to read one: 150 -> 105 GFLOP/s).
    cv.slice = cv.kh * cv.kw > 1 ? sliceFor(cv, cv.oh) : Slice();
    // A panel's k-block (kc x NR) in L1, reused by every row tile of the
    // block; read from the slice in place (AVX-512), at most kKC long.
    // Tiles of packed or in-place im2col^T read it from L2, the whole
    // reduction in one k-block up to kChannelPanelsKC: each further k-block
    // is a pass of the tiles' sums through C^T (pixelBlock x Mg, 340 KiB
    // for 512x13x13 -> 1000) that the filter streaming past evicts from L2.
    // On a Zen 5 core against k-blocks of 128 (kGemmKC, which had been 1.05x
    // and 1.01x as fast as 256 on an Emerald Rapids Xeon): 512x13x13 -> 1000
    // alone 0.894x the time on 1 thread; at batch 1 on 1 / 2 threads
    // squeezenet1_1 0.980x / 0.974x, resnet50 0.979x / 0.975x, mobilenet_v2
    // 0.977x / 0.968x; at batch 8 on 2 threads 0.979x, 0.979x, 0.992x. Up to
    // 1024 (one k-block for mobilenet_v2's 960 and resnet50's 1024 too):
    // 0.990-1.000x against 512; for 512x13x13 -> 1000 two k-blocks of 256
    // took 1.073x the time of one.
    bool inSlice = W == 16 && cv.slice.phases;
    int64_t blockCap = kGemmMC; // The most pixels a block takes.
    if (inSlice) {
      // Blocks of a whole image where its C^T fits in 256 KiB (and its runs
      // in the task's list), so that each block fills its slice once: a
      // block of 126 pixels of 14x14 images filled most slices twice
      // (32x14x14 -> 32 at batch 8: 84 -> 94 GFLOP/s on a Zen 4 core).
      int64_t fits = min64((256 << 10) / int64_t(sizeof(float)) / cv.mg,
                           (kGemmMC - 2) * cv.ow);
      blockCap = max64(kGemmMC, min64(cv.p, fits));
      cv.pixelBlocks = ceilDiv(cv.n * cv.p, blockCap);
      cv.pixelBlock = ceilDiv(cv.n * cv.p, cv.pixelBlocks);
    }
    int64_t kcMax = inSlice ? min64(kKC, kGemmKC) : kChannelPanelsKC;
    cv.kc = ceilDiv(cv.k, ceilDiv(cv.k, kcMax));
    // Every chunk packs its pixels' im2col again: one chunk of all panels
    // unless threads need more.
    int64_t tiles = cv.groups * cv.pixelBlocks;
    cv.chunks =
        splitChunks(cv.channelPanels, tiles, numWorkers(), cv.panelChunk);
    // One image in a block a thread, or one block in a chunk a thread: each
    // thread's pixels (no more than a block takes) or panels by its speed.
    // One block of one image that reads a slice splits its pixels too where
    // each thread gets at least kSliceSplitMinPixels: each thread then fills
    // only its rows' slice (and reads the whole filter).
    Balance balance;
    if (balanceable(tiles * cv.chunks) && cv.groups == 1 &&
        (cv.pixelBlocks == 1 || (cv.chunks == 1 && cv.n == 1))) {
      cv.balancePixels =
          cv.pixelBlocks > 1 ||
          (inSlice && cv.n == 1 && cv.p >= kSliceSplitMinPixels * numWorkers());
      balance = cv.balancePixels
                    ? Balance{ip, cv.p, blockCap, {}}
                    : Balance{ip, cv.channelPanels, cv.channelPanels, {}};
      cv.balance = &balance;
    }
    runConv(cv, "channel panels", convChannelsTask, tiles * cv.chunks, macs);
    return;
  }
  cv.rowBlocks = ceilDiv(cv.mg, kMR);
  // Direct for strides 1 (any dilation) and 2 (none) and a real window (1x1
  // reads in place anyway), with the AVX-512 tile (measured there): bands
  // of output rows whose slice stays in L2 (Kernels.h), and whose wide
  // pixels fill panels.
  // A short reduction is bound by its stores, which pixel panels group: a
  // 3x3 stride-2 stem (27: 105 against 97 GFLOP/s direct; on Zen 4 at batch
  // 8 53 against 41) and the Fashion-MNIST CNN's 1-channel 3x3 (9, batch 8:
  // 0.069-0.086 against 0.108 ms direct). squeezenet1_1's 16x55x55 -> 64
  // (144) runs direct at 91 GFLOP/s against 78 on pixel panels.
  Slice row = sliceFor(cv, 1);
  if (W == 16 && row.phases &&
      cv.k >= (row.phases == 1 ? SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE1
                               : SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE2) &&
      !cv.pointwise && cv.kh * cv.kw > 1 &&
      cv.k * int64_t(sizeof(int64_t)) <= 64 << 10) {
    cv.bandRows = shears_uk_conv_direct_band_rows(row.phases, cv.cg, row.wp,
                                                  row.rows - 1, cv.oh);
    cv.bands = ceilDiv(cv.oh, cv.bandRows);
    // With fewer images than tasks wanted, a multiple of the threads in
    // bands, and bands of equal height: each thread then takes whole bands
    // (a chunk of a band fills its slice again), the same rows of output
    // (a 7x7 stem in bands of 42, 42 and 28 rows, two chunks each, took 126
    // rows' time on one of 2 threads; at batch 1 on 2 threads 0.752 ->
    // 0.687 ms in 4 bands of 28).
    int64_t wanted = 2 * numWorkers();
    if (cv.n * cv.groups < wanted)
      cv.bands = min64(cv.oh, ceilDiv(cv.bands, numWorkers()) * numWorkers());
    cv.bandRows = ceilDiv(cv.oh, cv.bands);
    cv.bands = ceilDiv(cv.oh, cv.bandRows);
    int64_t tiles = cv.n * cv.groups * cv.bands;
    // Thinner bands for threads only when chunks of filter row blocks are
    // too few: a band's first and last panels run partly empty (48x13x13
    // in four bands of four rows: 44% of the lanes are output pixels, in
    // one band 70%).
    if (tiles * cv.rowBlocks < wanted && cv.bands < cv.oh) {
      cv.bands = min64(cv.oh, ceilDiv(wanted, cv.n * cv.groups));
      cv.bandRows = ceilDiv(cv.oh, cv.bands);
      cv.bands = ceilDiv(cv.oh, cv.bandRows);
      tiles = cv.n * cv.groups * cv.bands;
    }
    cv.slice = sliceFor(cv, cv.bandRows);
    cv.chunks = splitChunks(cv.rowBlocks, tiles, wanted, cv.chunkBlocks);
    runConv(cv, "direct", directTask, tiles * cv.chunks, macs);
    return;
  }
  cv.panels = ceilDiv(cv.p, kConvNR);
  cv.panelGroup =
      cv.mg * cv.k * int64_t(sizeof(float)) > kL2Bytes ? kConvPanelGroup : 1;
  // A short reduction is bound by its stores: a run of panels per filter
  // row block writes each output row in longer runs, so fewer rows are
  // being written at once (64 streams of 192 bytes defeat the prefetchers).
  int64_t wanted = 4 * numWorkers();
  if (cv.k <= kShortK) {
    // Smaller groups before split filter rows: each task of a group packs
    // its panels again.
    int64_t images = cv.n * cv.groups;
    cv.panelGroup = min64(kShortKPanelGroup,
                          max64(1, cv.panels * images / wanted));
  }
  cv.panelGroups = ceilDiv(cv.panels, cv.panelGroup);
  cv.panelsOuter = cv.pointwise && cv.k >= kPanelsOuterMinK;
  // Split the filter rows too when there are too few pixel panels to keep
  // every thread busy.
  int64_t tiles = cv.n * cv.groups * cv.panelGroups;
  cv.chunks = splitChunks(cv.rowBlocks, tiles, wanted, cv.chunkBlocks);
  runConv(cv, "pixel panels", convTask, tiles * cv.chunks, macs);
}

extern "C" void SHEARS_UK_NAME(gemm)(void **buffers, const int64_t *dims,
                                     const int64_t *ip, const float *fparams) {
  void **operand = buffers + 2;
  Gemm gm{};
  gm.a = static_cast<const float *>(buffers[0]);
  gm.b = static_cast<const float *>(buffers[1]);
  gm.epilogue = Epilogue(ip[SHEARS_UK_GEMM_FLAGS], fparams, operand);
  gm.c = static_cast<float *>(*operand);
  gm.k = ip[SHEARS_UK_GEMM_K];
  gm.n = ip[SHEARS_UK_GEMM_N];
  gm.m = leadingProduct(dims, ip[SHEARS_UK_GEMM_A_RANK] - 1);
  if (gm.m == 0 || gm.n == 0)
    return;
  gm.panels = ceilDiv(gm.n, kGemmNR);
  gm.rowBlocks = ceilDiv(gm.m, kGemmMC);
  gm.kc = gm.k ? ceilDiv(gm.k, ceilDiv(gm.k, kGemmKC)) : 1;
  // A chunk of panels whose k-block slab (KC x chunk x NR, about 384 KiB)
  // stays in L2 while every row block passes over it; tasks are chunk-major
  // so that consecutive ones share it. Each task packs its rows of A anew,
  // so chunks are as wide as that allows. Few row blocks (a small batch):
  // smaller chunks, for threads.
  int64_t slabBytes = gm.kc * kGemmNR * int64_t(sizeof(float));
  gm.panelChunk = max64(1, min64(gm.panels, (384 << 10) / slabBytes));
  int64_t wanted = 4 * numWorkers();
  if (gm.rowBlocks * ceilDiv(gm.panels, gm.panelChunk) < wanted)
    gm.panelChunk = max64(min64(4, gm.panels),
                          gm.panels / ceilDiv(wanted, gm.rowBlocks));
  gm.panelChunks = ceilDiv(gm.panels, gm.panelChunk);
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "gemm %s: %lldx%lld * %lldx%lld", SHEARS_UK_ISA_NAME,
                 (long long)gm.m, (long long)gm.k, (long long)gm.k,
                 (long long)gm.n);
      },
      gm.m * gm.k * gm.n);
  parallelFor(gm.rowBlocks * gm.panelChunks, gemmTask, &gm,
              gm.m * gm.k * gm.n);
}

extern "C" void SHEARS_UK_NAME(bmm)(void **buffers, const int64_t *dims,
                                    const int64_t *ip, const float *) {
  BatchGemm bg{};
  bg.a = static_cast<const float *>(buffers[0]);
  bg.b = static_cast<const float *>(buffers[1]);
  bg.c = static_cast<float *>(buffers[2]);
  bg.m = ip[SHEARS_UK_BMM_M];
  bg.k = ip[SHEARS_UK_BMM_K];
  bg.n = ip[SHEARS_UK_BMM_N];
  bg.transposeB = ip[SHEARS_UK_BMM_TRANSPOSE_B];
  // dims are A's: [batch..., M, K].
  int64_t batch = leadingProduct(dims, ip[SHEARS_UK_BMM_A_RANK] - 2);
  if (batch == 0 || bg.m == 0 || bg.n == 0)
    return;
  bg.panels = ceilDiv(bg.n, kGemmNR);
  bg.kc = bg.k ? ceilDiv(bg.k, ceilDiv(bg.k, kGemmKC)) : 1;
  int64_t macs = batch * bg.m * bg.k * bg.n;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "bmm %s: %lld x %lldx%lld * %lldx%lld%s",
                 SHEARS_UK_ISA_NAME, (long long)batch, (long long)bg.m,
                 (long long)bg.k, (long long)bg.k, (long long)bg.n,
                 bg.transposeB ? " (B transposed)" : "");
      },
      macs);
  parallelFor(batch, bmmTask, &bg, macs);
}
