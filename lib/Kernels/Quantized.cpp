//===- Quantized.cpp - int8 GEMM micro-kernels ----------------------------===//
//
// qgemm (Kernels.h): rows of A are quantized to u8 as they are packed, tiles
// of R rows by one 32-column panel of the s8 B packed at compile time
// accumulate in 32-bit integers, and the epilogue turns each integer sum
// into f32 with one multiply-add per column (the scales and the zero
// point's correction were folded at compile time) before bias-free
// residual and activation. On AVX512-VNNI a tile step is vpdpbusd (64
// multiply-adds per instruction); elsewhere, plain integer loops.
//
// As in Contraction.cpp, tasks split the output and never the reduction,
// and integer sums do not depend on their order: results are bitwise the
// same for any thread count.
//
//===----------------------------------------------------------------------===//

#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stdio.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace shears::uk::SHEARS_UK_ISA {
namespace {

constexpr int kNR = SHEARS_UK_GEMM_NR;
/// Rows of a tile: 2 x 12 accumulators, 2 B vectors and a broadcast fit
/// AVX-512's 32 registers.
constexpr int kR = 12;
/// Rows a task quantizes and packs once for all its panels.
constexpr int64_t kMC = 8 * kR;

typedef int32_t VI __attribute__((vector_size(W * sizeof(int32_t))));
typedef int32_t VIU
    __attribute__((vector_size(W * sizeof(int32_t)), aligned(4)));

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

struct QGemm {
  const float *a;
  const int8_t *b;
  const float *scale;
  float *c;
  Epilogue epilogue;
  float aScale, aZero;
  int64_t m, k, groups, n, panels, rowBlocks, panelChunk, panelChunks;
};

/// clamp(round_half_even(x / scale) + zero, 0, 255), without libm: adding
/// and subtracting 1.5 * 2^23 rounds half to even (the default rounding
/// mode) anything below 2^22 in magnitude.
inline uint32_t quantize(float x, float scale, float zero) {
  const float limit = 4194304.0f, magic = 12582912.0f;
  float v = x / scale;
  v = v > -limit ? v : -limit; // NaN goes low too.
  v = v < limit ? v : limit;
  v = (v + magic) - magic + zero;
  v = v > 0 ? v : 0;
  v = v < 255 ? v : 255;
  return static_cast<uint32_t>(v);
}

/// Rows [row, row + rows) of A quantized, k in groups of 4 bytes (one
/// 32-bit word, k ascending from the low byte): dst[q * rows + r]. Past K,
/// zeros (B is zero there).
void packA(const QGemm &g, int64_t row, int rows, uint32_t *dst) {
  for (int r = 0; r < rows; ++r) {
    const float *x = g.a + (row + r) * g.k;
    for (int64_t q = 0; q < g.groups; ++q) {
      uint32_t word = 0;
      for (int j = 0; j < 4; ++j)
        if (4 * q + j < g.k)
          word |= quantize(x[4 * q + j], g.aScale, g.aZero) << (8 * j);
      dst[q * rows + r] = word;
    }
  }
}

/// acc[r][c] = sum over k of a[r][k] * b[k][c] for one panel, plain C++.
template <int R>
void tileGeneric(const uint32_t *a, const int8_t *b, int64_t groups,
                 int32_t (*acc)[kNR]) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kNR; ++c)
      acc[r][c] = 0;
  for (int64_t q = 0; q < groups; ++q) {
    const int8_t *bq = b + q * kNR * 4;
    for (int r = 0; r < R; ++r) {
      uint32_t word = a[q * R + r];
      int32_t a0 = word & 0xFF, a1 = (word >> 8) & 0xFF,
              a2 = (word >> 16) & 0xFF, a3 = word >> 24;
      for (int c = 0; c < kNR; ++c)
        acc[r][c] += a0 * bq[4 * c] + a1 * bq[4 * c + 1] +
                     a2 * bq[4 * c + 2] + a3 * bq[4 * c + 3];
    }
  }
}

#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
/// The same with vpdpbusd: per 32-bit lane, 4 u8 of A (broadcast) times the
/// 4 s8 of B's column, summed into the lane.
template <int R>
__attribute__((target("avx512vnni"))) void
tileVnni(const uint32_t *a, const int8_t *b, int64_t groups,
         int32_t (*acc)[kNR]) {
  __m512i sum[R][2];
  for (int r = 0; r < R; ++r)
    sum[r][0] = sum[r][1] = _mm512_setzero_si512();
  for (int64_t q = 0; q < groups; ++q) {
    __m512i b0 = _mm512_loadu_si512(b + q * kNR * 4);
    __m512i b1 = _mm512_loadu_si512(b + q * kNR * 4 + 64);
    for (int r = 0; r < R; ++r) {
      __m512i x = _mm512_set1_epi32(static_cast<int>(a[q * R + r]));
      sum[r][0] = _mm512_dpbusd_epi32(sum[r][0], x, b0);
      sum[r][1] = _mm512_dpbusd_epi32(sum[r][1], x, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(acc[r], sum[r][0]);
    _mm512_storeu_si512(acc[r] + 16, sum[r][1]);
  }
}

bool hasVnni() {
  unsigned eax, ebx, ecx, edx;
  static const bool vnni = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) &&
                           (ecx & (1u << 11));
  return vnni;
}
#endif

template <int R>
void tile(const uint32_t *a, const int8_t *b, int64_t groups,
          int32_t (*acc)[kNR]) {
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  if (hasVnni())
    return tileVnni<R>(a, b, groups, acc);
#endif
  tileGeneric<R>(a, b, groups, acc);
}

template <int... Rs>
void tileRows(int rows, const uint32_t *a, const int8_t *b, int64_t groups,
              int32_t (*acc)[kNR], std::integer_sequence<int, Rs...>) {
  ((rows == Rs + 1 ? tile<Rs + 1>(a, b, groups, acc) : void()), ...);
}

/// C's rows [row, row + rows) and columns [col, col + cols) from the
/// integer sums: one multiply-add per element, then residual and activation.
void storeTile(const QGemm &g, int32_t (*acc)[kNR], int64_t row, int rows,
               int64_t col, int cols) {
  const Epilogue &e = g.epilogue;
  for (int r = 0; r < rows; ++r) {
    float *c = g.c + (row + r) * g.n + col;
    const float *residual =
        e.residual ? e.residual + (row + r) * g.n + col : nullptr;
    int j = 0;
    for (; j + W <= cols; j += W) {
      VF x = __builtin_convertvector(*reinterpret_cast<VIU *>(acc[r] + j), VF);
      x = x * load(g.scale + col + j) + load(e.bias + col + j);
      if (residual)
        x += load(residual + j);
      store(c + j, e.activate(x));
    }
    for (; j < cols; ++j) {
      float x = float(acc[r][j]) * g.scale[col + j] + e.bias[col + j];
      if (residual)
        x += residual[j];
      c[j] = e.activate(x);
    }
  }
}

/// One block of up to kMC rows times a chunk of panels.
void qgemmTask(void *ctx, int64_t task, int worker) {
  const QGemm &g = *static_cast<const QGemm *>(ctx);
  int64_t m0 = task % g.rowBlocks * kMC, m1 = min64(g.m, m0 + kMC);
  int64_t pb = task / g.rowBlocks * g.panelChunk;
  int64_t pe = min64(g.panels, pb + g.panelChunk);
  size_t packedBytes = kMC * g.groups * sizeof(uint32_t);
  auto *packed = reinterpret_cast<uint32_t *>(
      scratch(worker, packedBytes + kR * kNR * sizeof(int32_t)));
  if (!packed)
    return;
  auto *acc = reinterpret_cast<int32_t(*)[kNR]>(
      reinterpret_cast<char *>(packed) + packedBytes);
  for (int64_t row = m0; row < m1; row += kR)
    packA(g, row, static_cast<int>(min64(kR, m1 - row)),
          packed + (row - m0) * g.groups);
  for (int64_t p = pb; p < pe; ++p) {
    const int8_t *b = g.b + p * g.groups * kNR * 4;
    int cols = static_cast<int>(min64(kNR, g.n - p * kNR));
    for (int64_t row = m0; row < m1; row += kR) {
      int rows = static_cast<int>(min64(kR, m1 - row));
      tileRows(rows, packed + (row - m0) * g.groups, b, g.groups, acc,
               std::make_integer_sequence<int, kR>());
      storeTile(g, acc, row, rows, p * kNR, cols);
    }
  }
}

} // namespace
} // namespace shears::uk::SHEARS_UK_ISA

using namespace shears::uk;
using namespace shears::uk::SHEARS_UK_ISA;

extern "C" void SHEARS_UK_NAME(qgemm)(void **buffers, const int64_t *dims,
                                      const int64_t *ip, const float *fparams) {
  QGemm g{};
  g.a = static_cast<const float *>(buffers[0]);
  g.b = static_cast<const int8_t *>(buffers[1]);
  g.scale = static_cast<const float *>(buffers[2]);
  void **operand = buffers + 3;
  g.epilogue = Epilogue(ip[SHEARS_UK_GEMM_FLAGS], fparams, operand);
  g.c = static_cast<float *>(*operand);
  g.aScale = fparams[SHEARS_UK_QGEMM_F_A_SCALE];
  g.aZero = fparams[SHEARS_UK_QGEMM_F_A_ZERO_POINT];
  g.k = ip[SHEARS_UK_GEMM_K];
  g.n = ip[SHEARS_UK_GEMM_N];
  g.groups = ceilDiv(g.k, 4);
  g.m = 1;
  for (int64_t d = 0; d + 1 < ip[SHEARS_UK_GEMM_A_RANK]; ++d)
    g.m *= dims[d];
  if (g.m == 0 || g.n == 0)
    return;
  g.panels = ceilDiv(g.n, kNR);
  g.rowBlocks = ceilDiv(g.m, kMC);
  // Chunks of panels whose B (groups x 128 bytes each) stays in L2 while
  // the block's rows pass over it; more chunks when few row blocks would
  // leave threads idle.
  int64_t panelBytes = g.groups * kNR * 4;
  g.panelChunk = min64(g.panels, (512 << 10) / panelBytes + 1);
  int64_t wanted = 4 * numWorkers();
  if (g.rowBlocks * ceilDiv(g.panels, g.panelChunk) < wanted)
    g.panelChunk = ceilDiv(g.panels, ceilDiv(wanted, g.rowBlocks));
  g.panelChunks = ceilDiv(g.panels, g.panelChunk);
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "qgemm %s: %lldx%lld * %lldx%lld",
                 SHEARS_UK_ISA_NAME, (long long)g.m, (long long)g.k,
                 (long long)g.k, (long long)g.n);
      },
      g.m * g.k * g.n);
  parallelFor(g.rowBlocks * g.panelChunks, qgemmTask, &g, g.m * g.k * g.n / 4);
}
