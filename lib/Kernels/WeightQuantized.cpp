//===- WeightQuantized.cpp - Linear layers on int4 and binary weights -----===//
//
// wqgemm (Kernels.h): a linear layer whose weight stays in 4 bits (int4 by
// groups) or 1 bit (binary) in memory and is unpacked in registers, a panel
// of 16 output channels and one k at a time: nibbles to bytes to floats
// times the group's scale, or the sign bits selecting +scale or -scale. The
// weight then multiplies up to kRows rows of A held as broadcasts, into
// kRows x kPanels accumulators of 16 floats; A, the sums and the epilogue
// are f32. A weight streams in at 1/8 (int4) or 1/32 (binary) of its f32
// bytes: memory-bound layers (a batch of one, weights past L2) gain most.
//
// A task is a block of rows and a chunk of panels; each output is one
// task's, summed in k order, so any thread count gives the same bits.
//
//===----------------------------------------------------------------------===//

#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include <stdio.h>
#include <string.h>

// Vectors of 16 floats are 2 or 4 registers on AVX2 and the generic ISA;
// they cross no call boundary but the epilogue's inline activate.
#pragma clang diagnostic ignored "-Wpsabi"

namespace shears::uk::SHEARS_UK_ISA {
namespace {

constexpr int kNR = SHEARS_UK_WQGEMM_NR;
static_assert(kNR == 16, "a panel is 16 lanes: 16 nibbles a byte row");
/// Rows of A and panels a tile holds: 16 accumulators of 16 floats (AVX-512:
/// half the registers), 4 with 8- or 4-float vectors.
constexpr int kRows = W == 16 ? 4 : 2;
constexpr int kPanels = W == 16 ? 4 : 2;
/// Rows of A a task walks (its weights decoded once per tile of kRows).
constexpr int64_t kBlockRows = 64;

typedef float V16 __attribute__((vector_size(kNR * sizeof(float))));
typedef float V16U
    __attribute__((vector_size(kNR * sizeof(float)), aligned(4)));
typedef int32_t I16 __attribute__((vector_size(kNR * sizeof(int32_t))));
typedef uint8_t U8x16 __attribute__((vector_size(kNR), aligned(1)));
typedef int8_t I8x16 __attribute__((vector_size(kNR)));

inline V16 load16(const float *p) { return *reinterpret_cast<const V16U *>(p); }
inline V16 splat16(float x) { return (V16{} + 1.0f) * x; }

/// The first n (<= 16) floats at p, zeros past them.
inline V16 loadSome(const float *p, int64_t n) {
  if (n == kNR)
    return load16(p);
  V16 v{};
  for (int64_t i = 0; i < n; ++i)
    v[i] = p[i];
  return v;
}
inline void storeSome(float *p, V16 v, int64_t n) {
  if (n == kNR) {
    *reinterpret_cast<V16U *>(p) = v;
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    p[i] = v[i];
}

/// The weights of k (lo) and k + 1 (hi) of a panel, from its 16 bytes of
/// nibbles: q + 8 back to q (a byte's wrap-around), to floats, times the
/// scales.
inline void unpackInt4(const uint8_t *p, V16 scale, V16 &lo, V16 &hi) {
  U8x16 b = *reinterpret_cast<const U8x16 *>(p);
  I8x16 qlo = (I8x16)((b & 15) - 8), qhi = (I8x16)((b >> 4) - 8);
  lo = __builtin_convertvector(qlo, V16) * scale;
  hi = __builtin_convertvector(qhi, V16) * scale;
}

/// The weights of one k of a panel: +scale where its bit is set, else
/// -scale (the sign bit flipped).
inline V16 unpackBinary(const uint8_t *p, V16 scale) {
  uint16_t bits;
  memcpy(&bits, p, sizeof(bits));
  const I16 lanes = {1 << 0,  1 << 1,  1 << 2,  1 << 3, 1 << 4,  1 << 5,
                     1 << 6,  1 << 7,  1 << 8,  1 << 9, 1 << 10, 1 << 11,
                     1 << 12, 1 << 13, 1 << 14, 1 << 15};
  I16 clear = ((I16{} + int32_t(bits)) & lanes) == 0;
  return (V16)((I16)scale ^ (clear & int32_t(0x80000000u)));
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

/// Rows [row, row + R) times panels [p, p + P), with the epilogue: R x P
/// accumulators that stay in registers (the loops over them unroll).
template <int R, int P> void tile(const WqGemm &g, int64_t row, int64_t p) {
  V16 acc[R][P] = {};
  const float *a = g.a + row * g.k;
  const uint8_t *q = g.q + p * g.panelBytes;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    int64_t k0 = grp * g.group, k1 = min64(g.k, k0 + g.group);
    V16 scale[P];
    for (int j = 0; j < P; ++j)
      scale[j] = load16(g.scale + ((p + j) * g.groups + grp) * kNR);
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
          unpackInt4(q + j * g.panelBytes + kk / 2 * kNR, scale[j], lo, hi);
          for (int r = 0; r < R; ++r) {
            acc[r][j] += x[r] * lo;
            acc[r][j] += y[r] * hi;
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
          V16 w = unpackBinary(q + j * g.panelBytes + kk * 2, scale[j]);
          for (int r = 0; r < R; ++r)
            acc[r][j] += x[r] * w;
        }
      }
    }
  }
  const Epilogue &e = g.epilogue;
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < P; ++j) {
      int64_t col = (p + j) * kNR, cols = min64(kNR, g.n - col);
      V16 x = acc[r][j];
      if (e.bias)
        x += loadSome(e.bias + col, cols);
      if (e.residual)
        x += loadSome(e.residual + (row + r) * g.n + col, cols);
      storeSome(g.c + (row + r) * g.n + col, e.activate(x), cols);
    }
}

/// tile<R, P> for a run-time P (1 to kPanels).
template <int R, int... P>
void tileAnyPanels(const WqGemm &g, int64_t row, int64_t p, int np,
                   std::integer_sequence<int, P...>) {
  ((np == P + 1 ? tile<R, P + 1>(g, row, p) : void()), ...);
}

/// A block of kBlockRows rows times a chunk of panels: per kPanels panels
/// (their weights in L1), every tile of rows.
void wqgemmTask(void *ctx, int64_t task, int) {
  const WqGemm &g = *static_cast<const WqGemm *>(ctx);
  int64_t block = task / g.chunks, chunk = task % g.chunks;
  int64_t m0 = block * kBlockRows, m1 = min64(g.m, m0 + kBlockRows);
  int64_t p0 = chunk * g.chunkPanels,
          p1 = min64(g.panels, p0 + g.chunkPanels);
  auto panels = std::make_integer_sequence<int, kPanels>();
  for (int64_t p = p0; p < p1; p += kPanels) {
    int np = static_cast<int>(min64(kPanels, p1 - p));
    int64_t row = m0;
    for (; row + kRows <= m1; row += kRows)
      tileAnyPanels<kRows>(g, row, p, np, panels);
    int64_t rest = m1 - row;
    if constexpr (kRows > 3)
      if (rest == 3)
        tileAnyPanels<3>(g, row, p, np, panels);
    if constexpr (kRows > 2)
      if (rest == 2)
        tileAnyPanels<2>(g, row, p, np, panels);
    if (rest == 1)
      tileAnyPanels<1>(g, row, p, np, panels);
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
  g.m = 1;
  for (int64_t d = 0; d + 1 < ip[SHEARS_UK_GEMM_A_RANK]; ++d)
    g.m *= dims[d];
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
