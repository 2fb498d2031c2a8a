//===- WeightQuantized.cpp - Linear layers on int4 and binary weights -----===//
//
// wqgemm (Kernels.h): a linear layer whose weight stays in 4 bits (int4 by
// groups) or 1 bit (binary) in memory, unpacked a panel of 16 output
// channels and one k at a time: each nibble picks its value from a table
// of the 16 (or is masked, converted and less 8), the sign bits blend +1
// and -1. A, the sums and the epilogue are f32. Two walks, by the rows of
// a block:
// - up to 7 (a batch of one): each tile of kRows rows x kPanels panels
//   unpacks the weights in registers and sums them into partials per
//   group, which the group's scales multiply into the accumulators;
// - 8 and more: each k-block of kPanels panels is unpacked once, times
//   the scales, into f32 in L1, and gemm-like tiles of kStagedRows rows
//   read it.
// A weight streams in at 1/8 (int4) or 1/32 (binary) of its f32 bytes:
// memory-bound layers (a batch of one, weights past L2) gain most.
//
// A task is a block of rows and a chunk of panels; each output is one
// task's, summed in k order, so any thread count gives the same bits.
//
//===----------------------------------------------------------------------===//

#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include <array>
#include <stdio.h>
#include <string.h>

namespace shears::uk::SHEARS_UK_ISA {
namespace {

constexpr int kNR = SHEARS_UK_WQGEMM_NR;
static_assert(kNR == 16, "a panel is 16 lanes: 16 nibbles a byte row");
/// Rows of A and panels of a direct tile: 2 x 4 accumulators and as many
/// partial sums of 16 floats (AVX-512: half the registers); 1 x 2 with 8-
/// or 4-float vectors (each V16 is 2 or 4 registers).
constexpr int kRows = W == 16 ? 2 : 1;
constexpr int kPanels = W == 16 ? 4 : 2;
/// Rows of A a task walks.
constexpr int64_t kBlockRows = 64;
/// Rows of a block from which its weights are unpacked once into f32 (a
/// k-block of kPanels panels at a time) and read by every row tile, as
/// gemm reads its packed B; below, each tile unpacks them in registers.
constexpr int64_t kStagedMinRows = 8;
/// Rows of a staged tile: 6 x 4 panels, 24 accumulators (AVX-512).
constexpr int kStagedRows = W == 16 ? 6 : 3;
/// K of a staged block (even): kKC x kPanels x 16 floats, 32 KiB on
/// AVX-512, stay in L1.
constexpr int64_t kKC = 128;

typedef int32_t I16 __attribute__((vector_size(kNR * sizeof(int32_t))));
typedef uint8_t U8x16 __attribute__((vector_size(kNR), aligned(1)));

/// The integers of k (lo) and k + 1 (hi) of a panel as floats, from its 16
/// bytes of nibbles u = q + 8 widened to 32-bit lanes: on AVX-512 each
/// nibble picks q from a table of the 16 values (vpermps reads the low 4
/// bits of a lane), else it is masked, converted and less 8.
inline void unpackInt4(const uint8_t *p, V16 &lo, V16 &hi) {
  I16 b = __builtin_convertvector(*reinterpret_cast<const U8x16 *>(p), I16);
#if defined(__AVX512F__)
  const __m512 values =
      _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  lo = _mm512_permutexvar_ps((__m512i)b, values);
  hi = _mm512_permutexvar_ps((__m512i)(b >> 4), values);
#else
  lo = __builtin_convertvector(b & 15, V16) - 8.0f;
  hi = __builtin_convertvector(b >> 4, V16) - 8.0f;
#endif
}

/// The signs of one k of a panel as floats: 1 where its bit is set, else
/// -1.
inline V16 unpackBinary(const uint8_t *p) {
  uint16_t bits;
  memcpy(&bits, p, sizeof(bits));
#if defined(__AVX512F__)
  return _mm512_mask_blend_ps(bits, _mm512_set1_ps(-1), _mm512_set1_ps(1));
#else
  const I16 lanes = {1 << 0,  1 << 1,  1 << 2,  1 << 3, 1 << 4,  1 << 5,
                     1 << 6,  1 << 7,  1 << 8,  1 << 9, 1 << 10, 1 << 11,
                     1 << 12, 1 << 13, 1 << 14, 1 << 15};
  I16 clear = ((I16{} + int32_t(bits)) & lanes) == 0;
  return (V16)((I16)splat16(1.0f) ^ (clear & int32_t(0x80000000u)));
#endif
}

struct WqGemm {
  const float *a;
  const uint8_t *q;
  const float *scale;
  float *c;
  Epilogue epilogue;
  int64_t m, k, n, bits, group;
  /// Derived: scale groups, panels, bytes a panel, and the task split.
  int64_t groups, panels, panelBytes, blocks, chunks, chunkPanels;
};

/// Adds the epilogue to the accumulators of rows [row, row + R) and panels
/// [p, p + P) and stores them; or (`partial`, a k-block before the last)
/// stores them as they are.
template <int R, int P>
void storeTile(const WqGemm &g, V16 (&acc)[R][P], int64_t row, int64_t p,
               bool partial = false) {
  const Epilogue &e = g.epilogue;
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < P; ++j) {
      int64_t col = (p + j) * kNR, cols = min64(kNR, g.n - col);
      float *c = g.c + (row + r) * g.n + col;
      V16 x = acc[r][j];
      if (!partial && e.bias)
        x += loadSome(e.bias + col, cols);
      if (!partial && e.residual)
        x += loadSome(e.residual + (row + r) * g.n + col, cols);
      storeSome(c, partial ? x : e.activate(x), cols);
    }
}

/// The direct walk: rows [row, row + R) times panels [p, p + P) over the
/// whole reduction, each vector of integers unpacked in registers and used
/// by the R rows; per group they sum into partials, which its scales then
/// multiply into the accumulators (2 R P registers, kept there: the loops
/// over them unroll).
template <int R, int P>
void directTile(const WqGemm &g, int64_t row, int64_t p) {
  V16 acc[R][P] = {};
  const float *a = g.a + row * g.k;
  const uint8_t *q = g.q + p * g.panelBytes;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    int64_t k0 = grp * g.group, k1 = min64(g.k, k0 + g.group);
    V16 part[R][P] = {};
    if (g.bits == 4) {
      // k0 is even (GROUP is, or there is one group): whole byte rows; the
      // high nibble of an odd K's last one is padding (its input 0).
      auto step = [&](int64_t kk, bool pair) {
        V16 x[R], y[R];
        for (int r = 0; r < R; ++r) {
          x[r] = splat16(a[r * g.k + kk]);
          y[r] = splat16(pair ? a[r * g.k + kk + 1] : 0.0f);
        }
        for (int j = 0; j < P; ++j) {
          V16 lo, hi;
          unpackInt4(q + j * g.panelBytes + kk / 2 * kNR, lo, hi);
          for (int r = 0; r < R; ++r) {
            part[r][j] += x[r] * lo;
            part[r][j] += y[r] * hi;
          }
        }
      };
      int64_t kk = k0;
      for (; kk + 2 <= k1; kk += 2)
        step(kk, true);
      if (kk < k1)
        step(kk, false);
    } else {
      for (int64_t kk = k0; kk < k1; ++kk) {
        V16 x[R];
        for (int r = 0; r < R; ++r)
          x[r] = splat16(a[r * g.k + kk]);
        for (int j = 0; j < P; ++j) {
          V16 w = unpackBinary(q + j * g.panelBytes + kk * 2);
          for (int r = 0; r < R; ++r)
            part[r][j] += x[r] * w;
        }
      }
    }
    for (int j = 0; j < P; ++j) {
      V16 scale = load16(g.scale + ((p + j) * g.groups + grp) * kNR);
      for (int r = 0; r < R; ++r)
        acc[r][j] += part[r][j] * scale;
    }
  }
  storeTile(g, acc, row, p);
}

/// The staged walk, first step: k [k0, k1) of panels [p, p + P) unpacked
/// into f32, w[kk - k0][j * 16 + c] = q * scale (k0 even).
template <int P>
void unpackBlock(const WqGemm &g, int64_t p, int64_t k0, int64_t k1, float *w) {
  const uint8_t *q = g.q + p * g.panelBytes;
  auto out = [&](int64_t kk, int j) { return w + ((kk - k0) * P + j) * kNR; };
  for (int64_t kk = k0; kk < k1;) {
    int64_t grp = kk / g.group, end = min64(k1, (grp + 1) * g.group);
    V16 scale[P];
    for (int j = 0; j < P; ++j)
      scale[j] = load16(g.scale + ((p + j) * g.groups + grp) * kNR);
    for (; g.bits == 4 && kk < end; kk += 2)
      for (int j = 0; j < P; ++j) {
        V16 lo, hi;
        unpackInt4(q + j * g.panelBytes + kk / 2 * kNR, lo, hi);
        *reinterpret_cast<V16U *>(out(kk, j)) = lo * scale[j];
        if (kk + 1 < end)
          *reinterpret_cast<V16U *>(out(kk + 1, j)) = hi * scale[j];
      }
    for (; g.bits == 1 && kk < end; ++kk)
      for (int j = 0; j < P; ++j)
        *reinterpret_cast<V16U *>(out(kk, j)) =
            unpackBinary(q + j * g.panelBytes + kk * 2) * scale[j];
  }
}

/// The staged walk, second step: rows [row, row + R) times the unpacked
/// block, as gemm's tiles: the sums of earlier k-blocks are in C.
template <int R, int P>
void stagedTile(const WqGemm &g, int64_t row, int64_t p, int64_t k0, int64_t k1,
                const float *w) {
  V16 acc[R][P] = {};
  for (int r = 0; r < R && k0 > 0; ++r)
    for (int j = 0; j < P; ++j)
      acc[r][j] = loadSome(g.c + (row + r) * g.n + (p + j) * kNR,
                           min64(kNR, g.n - (p + j) * kNR));
  const float *a = g.a + row * g.k;
  for (int64_t kk = k0; kk < k1; ++kk) {
    V16 x[R];
    for (int r = 0; r < R; ++r)
      x[r] = splat16(a[r * g.k + kk]);
    for (int j = 0; j < P; ++j) {
      V16 wv = load16(w + ((kk - k0) * P + j) * kNR);
      for (int r = 0; r < R; ++r)
        acc[r][j] += x[r] * wv;
    }
  }
  storeTile(g, acc, row, p, /*partial=*/k1 < g.k);
}

/// Tables of the instances above by rows (1 to Rows) and panels (1 to
/// kPanels): table[R - 1][P - 1] (a row of it: [P - 1]).
template <template <int, int> class Fn, int R, int... P>
constexpr auto panelRow(std::integer_sequence<int, P...>) {
  return std::array{&Fn<R, P + 1>::call...};
}
template <template <int, int> class Fn, int... R>
constexpr auto tileTable(std::integer_sequence<int, R...>) {
  using Row =
      decltype(panelRow<Fn, 1>(std::make_integer_sequence<int, kPanels>()));
  return std::array<Row, sizeof...(R)>{
      panelRow<Fn, R + 1>(std::make_integer_sequence<int, kPanels>())...};
}
template <int R, int P> struct Direct {
  static void call(const WqGemm &g, int64_t row, int64_t p, int64_t, int64_t,
                   const float *) {
    directTile<R, P>(g, row, p);
  }
};
template <int R, int P> struct Staged {
  static void call(const WqGemm &g, int64_t row, int64_t p, int64_t k0,
                   int64_t k1, const float *w) {
    stagedTile<R, P>(g, row, p, k0, k1, w);
  }
};
template <int, int P> struct Unpack {
  static void call(const WqGemm &g, int64_t, int64_t p, int64_t k0, int64_t k1,
                   const float *w) {
    unpackBlock<P>(g, p, k0, k1, const_cast<float *>(w));
  }
};
constexpr auto kDirect =
    tileTable<Direct>(std::make_integer_sequence<int, kRows>());
constexpr auto kStaged =
    tileTable<Staged>(std::make_integer_sequence<int, kStagedRows>());
constexpr auto kUnpack =
    panelRow<Unpack, 1>(std::make_integer_sequence<int, kPanels>());

/// A block of up to kBlockRows rows times a chunk of panels, kPanels panels
/// at a time: a few rows walk them directly; more unpack each k-block of
/// the panels once (L1) for all their tiles.
void wqgemmTask(void *ctx, int64_t task, int worker) {
  const WqGemm &g = *static_cast<const WqGemm *>(ctx);
  int64_t block = task / g.chunks, chunk = task % g.chunks;
  int64_t m0 = block * kBlockRows, m1 = min64(g.m, m0 + kBlockRows);
  int64_t p0 = chunk * g.chunkPanels,
          p1 = min64(g.panels, p0 + g.chunkPanels);
  bool staged = m1 - m0 >= kStagedMinRows;
  float *w = nullptr;
  if (staged && !(w = scratch(worker, kKC * kPanels * kNR * sizeof(float))))
    return; // Out of memory: nothing sensible to do inside a kernel.
  for (int64_t p = p0; p < p1; p += kPanels) {
    int np = static_cast<int>(min64(kPanels, p1 - p));
    if (!staged) {
      for (int64_t row = m0; row < m1; row += kRows)
        kDirect[min64(kRows, m1 - row) - 1][np - 1](g, row, p, 0, 0, nullptr);
      continue;
    }
    for (int64_t k0 = 0; k0 < g.k; k0 += kKC) {
      int64_t k1 = min64(g.k, k0 + kKC);
      kUnpack[np - 1](g, 0, p, k0, k1, w);
      for (int64_t row = m0; row < m1; row += kStagedRows)
        kStaged[min64(kStagedRows, m1 - row) - 1][np - 1](g, row, p, k0, k1, w);
    }
  }
}

} // namespace
} // namespace shears::uk::SHEARS_UK_ISA

using namespace shears::uk;
using namespace shears::uk::SHEARS_UK_ISA;

extern "C" void SHEARS_UK_NAME(wqgemm)(void **buffers, const int64_t *dims,
                                       const int64_t *ip,
                                       const float *fparams) {
  void **operand = buffers + 3;
  WqGemm g{};
  g.a = static_cast<const float *>(buffers[0]);
  g.q = static_cast<const uint8_t *>(buffers[1]);
  g.scale = static_cast<const float *>(buffers[2]);
  g.k = ip[SHEARS_UK_GEMM_K];
  g.n = ip[SHEARS_UK_GEMM_N];
  g.bits = ip[SHEARS_UK_WQGEMM_BITS];
  g.group = ip[SHEARS_UK_WQGEMM_GROUP];
  g.epilogue = Epilogue(ip[SHEARS_UK_GEMM_FLAGS], fparams, operand);
  g.c = static_cast<float *>(*operand);
  g.m = leadingProduct(dims, ip[SHEARS_UK_GEMM_A_RANK] - 1);
  if (g.m == 0 || g.n == 0)
    return;
  g.groups = ceilDiv(g.k, g.group);
  g.panels = ceilDiv(g.n, kNR);
  g.panelBytes = shears_uk_wqgemm_packed_size(kNR, g.k, g.bits);
  g.blocks = ceilDiv(g.m, kBlockRows);
  // Enough tasks for the threads: each row block's panels in chunks of
  // whole tiles.
  int64_t tiles = ceilDiv(g.panels, kPanels);
  int64_t wanted = numWorkers() > 1 ? 2 * numWorkers() : 1;
  int64_t perChunk;
  g.chunks = splitChunks(tiles, g.blocks, wanted, perChunk);
  g.chunkPanels = perChunk * kPanels;
  int64_t macs = g.m * g.k * g.n;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "wqgemm %s %s: %lldx%lld * %lldx%lld",
                 SHEARS_UK_ISA_NAME, g.bits == 4 ? "int4" : "binary",
                 (long long)g.m,
                 (long long)g.k, (long long)g.k, (long long)g.n);
      },
      macs);
  parallelFor(g.blocks * g.chunks, wqgemmTask, &g, macs);
}
