// The int8 and f32 peaks of one core: 24 independent chains of vpdpbusd
// (64 u8 x s8 multiply-adds each) and of vfmadd231ps (16 each), timed over
// 2e8 instructions, and AMX's tdpbusd (16 x 16 x 64 multiply-adds, tiles
// from L1) where the CPU and the kernel allow it (0 otherwise).
// bench/quantize.py builds and runs it and reports GEMM throughput as a
// share of these.
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((target("avx512f,avx512vnni"), noinline)) int vnni(long n) {
  __m512i a[24], x = _mm512_set1_epi32(0x01010101), y = _mm512_set1_epi32(0x02020202);
  for (int i = 0; i < 24; ++i)
    a[i] = _mm512_set1_epi32(i);
  for (long k = 0; k < n; ++k) {
    for (int i = 0; i < 24; ++i)
      a[i] = _mm512_dpbusd_epi32(a[i], x, y);
    __asm__ volatile("" : "+v"(x));
  }
  int s = 0;
  for (int i = 0; i < 24; ++i)
    s += _mm512_reduce_add_epi32(a[i]);
  return s;
}

__attribute__((target("avx512f,fma"), noinline)) float fma(long n) {
  __m512 a[24], x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(1e-9f);
  for (int i = 0; i < 24; ++i)
    a[i] = _mm512_set1_ps(i);
  for (long k = 0; k < n; ++k) {
    for (int i = 0; i < 24; ++i)
      a[i] = _mm512_fmadd_ps(a[i], x, y);
    __asm__ volatile("" : "+v"(x));
  }
  float s = 0;
  for (int i = 0; i < 24; ++i)
    s += _mm512_reduce_add_ps(a[i]);
  return s;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

__attribute__((target("amx-tile,amx-int8"), noinline)) int amx(long n) {
  static int8_t a[2048], b[2048];
  static int32_t c[256];
  TileConfig config;
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (long k = 0; k < n; ++k) {
    _tile_loadd(4, a, 64);
    _tile_loadd(5, a + 1024, 64);
    _tile_loadd(6, b, 64);
    _tile_loadd(7, b + 1024, 64);
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  _tile_stored(0, c, 64);
  _tile_release();
  return c[0];
}

bool hasAmx() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) &&
         (edx & (1u << 24)) && (edx & (1u << 25)) &&
         syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

bool hasAvx512Vnni() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) &&
         (ebx & (1u << 16)) && (ecx & (1u << 11));
}

int main() {
  if (!hasAvx512Vnni()) {
    fprintf(stderr, "vnni_peak: this CPU has no AVX-512 with VNNI, whose "
                    "peaks it measures\n");
    return 2;
  }
  const long n = 8000000;
  double t0 = now();
  int s = vnni(n);
  double t1 = now();
  float f = fma(n);
  double t2 = now();
  double amxGops = 0;
  if (hasAmx()) {
    const long tiles = 1000000;
    double t3 = now();
    s += amx(tiles);
    amxGops = tiles * 4.0 * 16 * 16 * 64 * 2 / (now() - t3) / 1e9;
  }
  // One JSON line: int8 GOP/s, f32 GFLOP/s (2 operations a multiply-add)
  // and AMX's int8 GOP/s.
  printf("{\"int8_gops\": %.1f, \"f32_gflops\": %.1f, \"amx_int8_gops\": "
         "%.1f, \"check\": %d}\n",
         n * 24.0 * 64 * 2 / (t1 - t0) / 1e9, n * 24.0 * 16 * 2 / (t2 - t1) / 1e9,
         amxGops, s + (f > 0));
  return 0;
}
