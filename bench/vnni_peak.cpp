// The int8 and f32 peaks of one core: 24 independent chains of vpdpbusd
// (64 u8 x s8 multiply-adds each) and of vfmadd231ps (16 each), timed over
// 2e8 instructions. bench/quantize.py builds and runs it and reports GEMM
// throughput as a share of these.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

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

int main() {
  const long n = 8000000;
  double t0 = now();
  int s = vnni(n);
  double t1 = now();
  float f = fma(n);
  double t2 = now();
  // One JSON line: int8 GOP/s and f32 GFLOP/s (2 operations a multiply-add).
  printf("{\"int8_gops\": %.1f, \"f32_gflops\": %.1f, \"check\": %d}\n",
         n * 24.0 * 64 * 2 / (t1 - t0) / 1e9, n * 24.0 * 16 * 2 / (t2 - t1) / 1e9,
         s + (f > 0));
  return 0;
}
