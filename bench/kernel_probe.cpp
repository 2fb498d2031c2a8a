// Probes of the conv2d kernels that bench/cpu.py's per-layer profile cannot
// give: each runs in one process, alternating what it compares, so that a
// shared host's slow phases fall on both sides.
//
//   kernel_probe layout [rounds]
//     Whether a blocked activation layout (NCHW16c: [C/16][H*W][16], ONNX
//     Runtime's NCHWc on AVX-512) would make resnet50's 1x1 convolutions
//     faster than Shears's NCHW kernels: the library's conv2d (both of its
//     paths, pixel panels and channel panels) against a small NCHW16c
//     prototype, one thread, on the same filter (packed as channel panels)
//     and data, with L2 evicted before each call and the filter rotating
//     through copies so that it comes from memory, as inside a model. The
//     prototype is the channel-panel tile (14 pixels x 32 output channels, 28
//     accumulators, each pixel's input broadcast) on blocked data: a pixel's
//     16 channels are one line, and the tile's sums go straight to the
//     output's [p][16] rows (a partial sum there between k-blocks, the
//     epilogue on the last), where the NCHW channel panels gather C^T in a
//     scratch and transpose it out. It is not tuned: blocks of 126 pixels,
//     no prefetch but the next panel's k-block, no threads.
//
//   kernel_probe chain [iterations]
//     What a layer loses inside a model against the same call repeated
//     alone (how kernel benchmarks usually run, and where the filter and the
//     scratch stay in L2): resnet50's layer3 at batch 1, five blocks of
//     1024 -> 256 1x1, 256 -> 256 3x3 (Winograd) and 256 -> 1024 1x1 with
//     the residual in place, each with its own filter, at 1 and 2 threads;
//     each layer's mean time in the chain and alone, the two alternating.
//
//   kernel_probe memory [rounds]
//     What the chain's data costs to read on this host, by plain AVX-512
//     loads on the first two CPUs the process may use: a stream from memory
//     on one core and on two at once; a 400 KB buffer last written by the
//     reading core (its L2) and by the other core (a snoop of its L2 for
//     each line); and a 1 MB filter from memory while the reading core's L2
//     holds clean lines and while it holds dirty ones, which each line
//     brought in must first write back. Medians of `rounds`.
//
//   kernel_probe peak [rounds]
//     The f32 multiply-add peak of this host's cores, which the GFLOP/s of
//     `bench/cpu.py --profile` and `--gemm` are a share of: 24 independent
//     AVX-512 multiply-add chains (no loads) on the first CPU the process
//     may use, then on the first two at once. Two CPUs at once that each
//     get about half of one alone are two hyperthreads of one physical core
//     (a guest's lscpu does not show it): 2-thread rows measured then share
//     one core's multiply-add units. Medians of `rounds`.
//
//   kernel_probe sync [rounds] [gap us]
//     What a kernel call's hand-out of tasks costs on 2 threads against 1:
//     shears_uk_parallel_for of 8 tasks (a kernel's usual count on 2
//     threads) that each touch one line of their own, back to back, or
//     with the caller busy for `gap` microseconds between calls (the
//     workers then wait for the next call as they do between a model's
//     kernels).
//     Medians of `rounds` of 100000 calls (20000 with a gap).
//
//   kernel_probe stempool [rounds] [band]
//     Whether running squeezenet1_1's stem (3x224x224 -> 64, 3x3 stride 2,
//     relu) and the 3x3 stride-2 max pooling after it band by band (`band`
//     pooled rows at a time, default 4: the stem's rows for them into a
//     scratch that stays in L2, then their pooling) beats the two whole
//     layers, whose 3.2 MB intermediate goes through L3: the library's two
//     kernels either way, one thread, alternating, medians of `rounds` of
//     200 calls; the outputs are compared.
//
// Build and run (after `ninja -C build shears_kernels`):
//   clang++-22 -O2 -std=c++17 -mavx512f -mfma -Iinclude -Ibuild/include \
//     bench/kernel_probe.cpp build/lib/libshears_kernels.a -lpthread \
//     -o build/kernel_probe && build/kernel_probe layout
#include "shears-c/Kernels.h"
#include <algorithm>
#include <atomic>
#include <immintrin.h>
#include <math.h>
#include <memory>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <thread>
#include <time.h>
#include <utility>
#include <vector>

namespace {

double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

float *allocate(size_t floats) {
  size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  float *p = static_cast<float *>(aligned_alloc(64, bytes));
  memset(p, 0, bytes);
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Free {
  void operator()(float *p) const { free(p); }
};
using Buffer = std::unique_ptr<float, Free>;

constexpr int kRows = 14;       // Pixels of a tile.
constexpr int64_t kBlock = 126; // Pixels of a block (9 tiles).
constexpr int64_t kKC = 128;    // Channels of a k-block.

/// acc[r][v] = sum over channels [c0, c1) of x[c][p + r] * w[c][16 v + j]:
/// x blocked ([C/16][P][16], from pixel p on), w one channel panel ([C][32]).
template <int R>
void tile(const float *x, int64_t plane, const float *w, int64_t c0, int64_t c1,
          __m512 (&acc)[kRows][2]) {
  __m512 a[R][2];
  for (int r = 0; r < R; ++r)
    a[r][0] = a[r][1] = _mm512_setzero_ps();
  for (int64_t cb = c0; cb < c1; cb += 16) {
    const float *xb = x + cb / 16 * plane * 16;
    const float *wb = w + cb * 32;
#pragma clang loop unroll(disable)
    for (int ci = 0; ci < 16; ++ci) {
      __m512 b0 = _mm512_load_ps(wb + ci * 32);
      __m512 b1 = _mm512_load_ps(wb + ci * 32 + 16);
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r) {
        __m512 s = _mm512_set1_ps(xb[r * 16 + ci]);
        a[r][0] = _mm512_fmadd_ps(s, b0, a[r][0]);
        a[r][1] = _mm512_fmadd_ps(s, b1, a[r][1]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    acc[r][0] = a[r][0], acc[r][1] = a[r][1];
}

template <int... R>
void tileAny(int rows, const float *x, int64_t plane, const float *w,
             int64_t c0, int64_t c1, __m512 (&acc)[kRows][2],
             std::integer_sequence<int, R...>) {
  ((rows == R + 1 ? tile<R + 1>(x, plane, w, c0, c1, acc) : void()), ...);
}

/// y = relu(conv1x1(x) + bias [+ residual]) on NCHW16c, batch 1; C and M
/// multiples of 32; y may be the residual.
void convBlocked(const float *x, const float *filter, const float *bias,
                 const float *residual, float *y, int64_t c, int64_t m,
                 int64_t plane) {
  int64_t panels = m / 32;
  for (int64_t p0 = 0; p0 < plane; p0 += kBlock) {
    int64_t p1 = std::min(plane, p0 + kBlock);
    int64_t tiles = (p1 - p0 + kRows - 1) / kRows;
    int64_t tileRows = (p1 - p0 + tiles - 1) / tiles;
    for (int64_t k0 = 0; k0 < c; k0 += kKC) {
      int64_t k1 = std::min(c, k0 + kKC);
      bool first = k0 == 0, last = k1 == c;
      for (int64_t panel = 0; panel < panels; ++panel) {
        const float *w = filter + panel * c * 32;
        if (panel + 1 < panels)
          for (int64_t i = k0 * 32; i < k1 * 32; i += 16)
            _mm_prefetch(reinterpret_cast<const char *>(w + c * 32 + i),
                         _MM_HINT_T1);
        for (int64_t p = p0; p < p1; p += tileRows) {
          int rows = static_cast<int>(std::min(tileRows, p1 - p));
          __m512 acc[kRows][2];
          tileAny(rows, x + p * 16, plane, w, k0, k1, acc,
                  std::make_integer_sequence<int, kRows>());
          for (int v = 0; v < 2; ++v) {
            int64_t at = ((panel * 2 + v) * plane + p) * 16;
            __m512 b = _mm512_load_ps(bias + panel * 32 + v * 16);
            for (int r = 0; r < rows; ++r) {
              __m512 s = acc[r][v];
              if (!first)
                s = _mm512_add_ps(s, _mm512_load_ps(y + at + r * 16));
              else if (residual)
                s = _mm512_add_ps(s, _mm512_load_ps(residual + at + r * 16));
              if (last)
                s = _mm512_max_ps(_mm512_add_ps(s, b), _mm512_setzero_ps());
              _mm512_store_ps(y + at + r * 16, s);
            }
          }
        }
      }
    }
  }
}

/// One conv2d call of the library (batch 1, unit strides and dilations,
/// "same" padding, bias and relu): its parameters, filter and bias.
struct Conv {
  Conv(int64_t c, int64_t h, int64_t m, int64_t kh, bool residual)
      : c(c), h(h), m(m), kh(kh), residual(residual) {}
  int64_t c, h, m, kh;
  bool residual;
  std::vector<Buffer> filters; // Copies, used in turn (or one).
  Buffer bias;
  int64_t ip[SHEARS_UK_CONV_NUM_PARAMS] = {};
  size_t next = 0;

  /// Packs `copies` copies of a seeded random filter for `path` (0 pixel
  /// panels, 1 channel panels, 2 Winograd F(2x2, 3x3)).
  void init(int path, int copies, unsigned seed) {
    int64_t k = c * kh * kh;
    srand(seed);
    // Scaled by 1 / sqrt(K), so that activations keep their size through
    // the chain (and its residual adds do not grow them without bound).
    std::vector<float> f(m * k);
    for (float &v : f)
      v = (rand() / float(RAND_MAX) - 0.5f) * 2.0f / sqrtf(float(k));
    for (int i = 0; i < copies; ++i) {
      float *packed;
      if (path == 2) {
        packed = allocate(shears_uk_winograd_filter_packed_size(m, c, 2));
        shears_uk_pack_winograd_filter(f.data(), m, c, 2, packed);
      } else if (path == 1) {
        packed = allocate(shears_uk_conv_filter_panels_packed_size(m, k, 1));
        shears_uk_pack_conv_filter_panels(f.data(), m, k, 1, packed);
      } else {
        packed = allocate(shears_uk_conv_filter_packed_size(m, k, 1));
        shears_uk_pack_conv_filter(f.data(), m, k, 1, packed);
      }
      filters.emplace_back(packed);
    }
    bias.reset(allocate(m));
    for (int64_t i = 0; i < m; ++i)
      bias.get()[i] = 0.01f * float(i % 7);
    ip[SHEARS_UK_CONV_C] = c;
    ip[SHEARS_UK_CONV_H] = ip[SHEARS_UK_CONV_W] = h;
    ip[SHEARS_UK_CONV_COUT] = m;
    ip[SHEARS_UK_CONV_KH] = ip[SHEARS_UK_CONV_KW] = kh;
    ip[SHEARS_UK_CONV_SH] = ip[SHEARS_UK_CONV_SW] = 1;
    ip[SHEARS_UK_CONV_PT] = ip[SHEARS_UK_CONV_PL] = kh / 2;
    ip[SHEARS_UK_CONV_DH] = ip[SHEARS_UK_CONV_DW] = 1;
    ip[SHEARS_UK_CONV_OH] = ip[SHEARS_UK_CONV_OW] = h;
    ip[SHEARS_UK_CONV_GROUPS] = 1;
    ip[SHEARS_UK_CONV_FLAGS] = SHEARS_UK_HAS_BIAS |
                               (SHEARS_UK_ACT_RELU << SHEARS_UK_ACT_SHIFT) |
                               (residual ? SHEARS_UK_HAS_RESIDUAL : 0) |
                               (path == 1 ? SHEARS_UK_CONV_CHANNEL_PANELS : 0) |
                               (path == 2 ? SHEARS_UK_CONV_WINOGRAD : 0);
  }
  /// y = relu(conv(x) + bias [+ y]): a residual layer computes in place.
  void run(ShearsUKernelFn conv, const float *x, float *y) {
    int64_t dims[4] = {1, c, h, h};
    float fparams[SHEARS_UK_F_NUM] = {};
    void *buffers[5] = {const_cast<float *>(x),
                        filters[next++ % filters.size()].get(), bias.get(), y,
                        y};
    conv(buffers, dims, ip, fparams);
  }
};

int layout(ShearsUKernelFn conv, int rounds) {
  shears_uk_set_num_threads(1);
  struct Shape {
    int64_t c, h, m;
    bool residual;
  };
  // resnet50's 1x1 convolutions at batch 1 (stride 1).
  const Shape shapes[] = {
      {64, 56, 256, true},   {256, 56, 64, false},   {256, 56, 128, false},
      {128, 28, 512, true},  {512, 28, 128, false},  {512, 28, 256, false},
      {256, 14, 1024, true}, {1024, 14, 256, false}, {1024, 14, 512, false},
      {512, 7, 2048, true},  {2048, 7, 512, false}};
  const int copies = 16; // 16 filters of 0.06-4 MiB each: L2 is 2 MiB.
  std::vector<float> junk(8 << 20);
  printf("| shape | pixel panels ms | channel panels ms | NCHW16c ms | "
         "NCHW16c / best NCHW | max diff |\n| --- | ---: | ---: | ---: | ---: "
         "| ---: |\n");
  for (const Shape &s : shapes) {
    int64_t plane = s.h * s.h;
    Conv pixels{s.c, s.h, s.m, 1, s.residual};
    Conv channels{s.c, s.h, s.m, 1, s.residual};
    pixels.init(0, copies, 1);
    channels.init(1, copies, 1);
    // NCHW and NCHW16c copies of the input and of the residual (also the
    // output: in place, as Shears runs resnet50's residual layers).
    auto blocked = [plane](int64_t ch, int64_t p) {
      return (ch / 16 * plane + p) * 16 + ch % 16;
    };
    float *x = allocate(s.c * plane), *xb = allocate(s.c * plane);
    float *y = allocate(s.m * plane), *yb = allocate(s.m * plane);
    for (int64_t ch = 0; ch < s.c; ++ch)
      for (int64_t p = 0; p < plane; ++p)
        x[ch * plane + p] = xb[blocked(ch, p)] = rand() / float(RAND_MAX);
    std::vector<float> res(s.m * plane);
    for (float &v : res)
      v = rand() / float(RAND_MAX) - 0.5f;
    size_t call = 0;
    auto prototype = [&] {
      convBlocked(xb, channels.filters[call++ % copies].get(),
                  channels.bias.get(), s.residual ? yb : nullptr, yb, s.c, s.m,
                  plane);
    };
    // Correctness, once for each NCHW path, from the same residual.
    double diff = 0;
    for (Conv *path : {&pixels, &channels}) {
      for (int64_t ch = 0; ch < s.m; ++ch)
        for (int64_t p = 0; p < plane; ++p)
          y[ch * plane + p] = yb[blocked(ch, p)] = res[ch * plane + p];
      path->run(conv, x, y);
      prototype();
      for (int64_t ch = 0; ch < s.m; ++ch)
        for (int64_t p = 0; p < plane; ++p)
          diff = std::max(
              diff, double(fabsf(y[ch * plane + p] - yb[blocked(ch, p)])));
    }
    // Medians of each variant's turn (~50 ms), alternating; their ratios.
    std::vector<double> best(3, 1e9), ratios;
    for (int r = 0; r < rounds; ++r) {
      double medians[3];
      for (int v = 0; v < 3; ++v) {
        std::vector<double> t;
        for (double start = now(); t.size() < 5 || now() - start < 0.05;) {
          for (size_t i = 0; i < junk.size(); i += 16)
            junk[i] += 1.0f;
          double t0 = now();
          if (v == 2)
            prototype();
          else
            (v == 1 ? channels : pixels).run(conv, x, y);
          t.push_back(now() - t0);
        }
        medians[v] = median(t);
        best[v] = std::min(best[v], medians[v]);
      }
      ratios.push_back(medians[2] / std::min(medians[0], medians[1]));
    }
    std::sort(ratios.begin(), ratios.end());
    printf(
        "| %lldx%lldx%lld -> %lld%s | %.3f | %.3f | %.3f | %.3f [%.3f..%.3f] "
        "| %.1e |\n",
        (long long)s.c, (long long)s.h, (long long)s.h, (long long)s.m,
        s.residual ? " + residual" : "", best[0] * 1e3, best[1] * 1e3,
        best[2] * 1e3, median(ratios), ratios.front(), ratios.back(), diff);
    fflush(stdout);
    for (float *p : {x, xb, y, yb})
      free(p);
  }
  return 0;
}

int chain(ShearsUKernelFn conv, int iterations) {
  const int blocks = 5;
  std::vector<Conv> layers;
  layers.reserve(3 * blocks);
  for (int b = 0; b < blocks; ++b) {
    layers.push_back({1024, 14, 256, 1, false});
    layers.back().init(1, 1, 3 * b + 1);
    layers.push_back({256, 14, 256, 3, false});
    layers.back().init(2, 1, 3 * b + 2);
    layers.push_back({256, 14, 1024, 1, true});
    layers.back().init(1, 1, 3 * b + 3);
  }
  std::vector<float> x(1024 * 196), t1(256 * 196), t2(256 * 196);
  for (float &v : x)
    v = rand() / float(RAND_MAX);
  const char *names[3] = {"1024x14x14 -> 256 1x1",
                          "256x14x14 -> 256 3x3 Winograd",
                          "256x14x14 -> 1024 1x1 + residual"};
  printf("| layer | threads | alone ms | in the chain ms | chain / alone "
         "|\n| --- | ---: | ---: | ---: | ---: |\n");
  for (int threads = 1; threads <= 2; ++threads) {
    shears_uk_set_num_threads(threads);
    // Per layer kind: time alone (each layer of that kind called 10 times in
    // a row, the first untimed) and in the chain; alternating iterations.
    double alone[3] = {}, inChain[3] = {};
    int64_t aloneCalls = 0, chainCalls = 0;
    for (int it = 0; it < iterations; ++it) {
      bool timed = it >= 2;
      if (it % 2 == 0) {
        for (int b = 0; b < blocks; ++b) {
          double t[4];
          t[0] = now();
          layers[3 * b].run(conv, x.data(), t1.data());
          t[1] = now();
          layers[3 * b + 1].run(conv, t1.data(), t2.data());
          t[2] = now();
          layers[3 * b + 2].run(conv, t2.data(), x.data());
          t[3] = now();
          for (int l = 0; l < 3 && timed; ++l)
            inChain[l] += t[l + 1] - t[l];
        }
        chainCalls += timed ? blocks : 0;
        continue;
      }
      for (int l = 0; l < 3; ++l) {
        float *in = l == 0 ? x.data() : l == 1 ? t1.data() : t2.data();
        float *out = l == 0 ? t1.data() : l == 1 ? t2.data() : x.data();
        Conv &layer = layers[l];
        layer.run(conv, in, out);
        double t0 = now();
        for (int r = 0; r < 9; ++r)
          layer.run(conv, in, out);
        if (timed)
          alone[l] += (now() - t0) / 9;
      }
      aloneCalls += timed ? 1 : 0;
    }
    for (int l = 0; l < 3; ++l) {
      double a = alone[l] / aloneCalls * 1e3, c = inChain[l] / chainCalls * 1e3;
      printf("| %s | %d | %.3f | %.3f | %.2f |\n", names[l], threads, a, c,
             c / a);
    }
    fflush(stdout);
  }
  return 0;
}

/// Sums `bytes` (a multiple of 256) from p in four accumulators: one
/// 64-byte load a line.
float readAll(const float *p, size_t bytes) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < bytes / sizeof(float); i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(s0 + s1 + s2 + s3);
}

void writeAll(float *p, size_t bytes, float value) {
  for (size_t i = 0; i < bytes / sizeof(float); i += 16)
    _mm512_store_ps(p + i, _mm512_set1_ps(value));
}

/// The CPUs the process may use, read once before any thread is pinned (a
/// thread started after the first pin inherits that one CPU, and would find
/// no second one in its own mask).
const cpu_set_t &processCPUs() {
  static cpu_set_t allowed = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
      CPU_ZERO(&set);
    return set;
  }();
  return allowed;
}

/// Pins the calling thread to the `index`-th CPU the process may use.
bool pinToCPU(int index) {
  const cpu_set_t &allowed = processCPUs();
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed) && seen++ == index) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
    }
  return false;
}

/// One round of `rate(cpu)` (this thread on the first CPU): alone into
/// `one`, then on the first two CPUs at once, started together, into
/// `two[0]` and `two[1]`.
template <typename Rate>
void aloneAndTogether(Rate rate, std::vector<double> &one,
                      std::vector<double> (&two)[2]) {
  one.push_back(rate(0));
  double other = 0;
  std::atomic<int> ready{0};
  std::thread worker([&] {
    pinToCPU(1);
    ready.fetch_add(1);
    while (ready.load() < 2)
      ;
    other = rate(1);
  });
  ready.fetch_add(1);
  while (ready.load() < 2)
    ;
  two[0].push_back(rate(0));
  worker.join();
  two[1].push_back(other);
}

int memory(int rounds) {
  // This thread on the first CPU, the other one's on the second.
  pinToCPU(0);
  volatile float sink = 0;
  // 1. Streams from memory: 256 MB a thread, in 1 MB pieces.
  const size_t streamBytes = size_t(256) << 20, piece = size_t(1) << 20;
  float *streams[2] = {allocate(streamBytes / 4), allocate(streamBytes / 4)};
  auto stream = [&](int t) {
    double t0 = now();
    float s = 0;
    for (size_t off = 0; off < streamBytes; off += piece)
      s += readAll(streams[t] + off / 4, piece);
    sink = s;
    return streamBytes / (now() - t0) / 1e9;
  };
  std::vector<double> one, two[2];
  for (int r = 0; r < rounds; ++r)
    aloneAndTogether(stream, one, two);
  // 2. 400 KB written by this core or by the other one, then read here;
  // 3. a 1 MB filter (one of 64 copies in turn: from memory) read after 4
  // MB were read (L2 clean) or written (L2 dirty).
  const size_t shared = 400 << 10, filter = size_t(1) << 20;
  const int copies = 64;
  float *buffer = allocate(shared / 4), *junk = allocate((4 << 20) / 4);
  float *filters = allocate(copies * filter / 4);
  std::atomic<int> turn{0};
  bool done = false;
  std::thread writer([&] {
    pinToCPU(1);
    for (int seen = 0;;) {
      while (turn.load() == seen)
        ;
      if (done)
        return;
      writeAll(buffer, shared, 1.0f);
      seen = turn.load() + 1;
      turn.store(seen);
    }
  });
  std::vector<double> local, remote, clean, dirty;
  int copy = 0;
  for (int r = 0; r < rounds; ++r)
    for (int i = 0; i < 20; ++i) {
      writeAll(buffer, shared, 2.0f);
      double t0 = now();
      sink = readAll(buffer, shared);
      local.push_back(shared / (now() - t0) / 1e9);
      turn.fetch_add(1);
      while (turn.load() % 2)
        ;
      t0 = now();
      sink = readAll(buffer, shared);
      remote.push_back(shared / (now() - t0) / 1e9);
      sink = readAll(junk, 4 << 20);
      t0 = now();
      sink = readAll(filters + size_t(copy++ % copies) * filter / 4, filter);
      clean.push_back(filter / (now() - t0) / 1e9);
      writeAll(junk, 4 << 20, float(i));
      t0 = now();
      sink = readAll(filters + size_t(copy++ % copies) * filter / 4, filter);
      dirty.push_back(filter / (now() - t0) / 1e9);
    }
  done = true;
  turn.fetch_add(1);
  writer.join();
  printf("| what | GB/s |\n| --- | ---: |\n");
  printf("| stream from memory, 1 core | %.1f |\n", median(one));
  printf("| stream from memory, 2 cores at once (each) | %.1f, %.1f |\n",
         median(two[0]), median(two[1]));
  printf("| 400 KB last written by this core | %.1f |\n", median(local));
  printf("| 400 KB last written by the other core | %.1f |\n", median(remote));
  printf("| 1 MB from memory, L2 holding clean lines | %.1f |\n",
         median(clean));
  printf("| 1 MB from memory, L2 holding dirty lines | %.1f |\n",
         median(dirty));
  for (float *p : {streams[0], streams[1], buffer, junk, filters})
    free(p);
  return 0;
}

/// GFLOP/s of 24 independent multiply-add chains for about 0.2 s.
double fmaRate() {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(1e-3f * float(i));
  const __m512 scale = _mm512_set1_ps(0.999f), add = _mm512_set1_ps(1e-6f);
  const long steps = 40000000;
  double t0 = now();
  for (long s = 0; s < steps; ++s) {
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], scale, add);
    // Keeps the chains in registers and the loop from being folded.
    asm volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]));
  }
  double seconds = now() - t0;
  float sum = 0;
  for (int i = 0; i < 24; ++i)
    sum += _mm512_reduce_add_ps(acc[i]);
  volatile float sink = sum;
  (void)sink;
  return steps * 24.0 * 32 / seconds / 1e9;
}

int peak(int rounds) {
  pinToCPU(0);
  std::vector<double> one, two[2];
  for (int r = 0; r < rounds; ++r)
    aloneAndTogether([](int) { return fmaRate(); }, one, two);
  printf("| what | f32 GFLOP/s |\n| --- | ---: |\n");
  printf("| multiply-adds, 1 core | %.1f |\n", median(one));
  printf("| multiply-adds, 2 cores at once (each) | %.1f, %.1f |\n",
         median(two[0]), median(two[1]));
  return 0;
}

/// One cache line of its own per task (sync).
alignas(64) float syncLines[8][16];
void touchLine(void *, int64_t task, int) { syncLines[task][0] += 1.0f; }

int sync(int rounds, double gapUs) {
  const int calls = gapUs > 0 ? 20000 : 100000;
  printf("| threads | us a call of 8 tiny tasks%s |\n| ---: | ---: |\n",
         gapUs > 0 ? ", past the caller's gap" : "");
  // The caller's own work between calls (a model's code between kernels):
  // a spin on the clock, `gapUs` long.
  auto gap = [&] {
    for (double until = now() + gapUs * 1e-6; gapUs > 0 && now() < until;)
      ;
  };
  for (int threads = 1; threads <= 2; ++threads) {
    shears_uk_set_num_threads(threads);
    std::vector<double> times;
    for (int r = 0; r < rounds; ++r) {
      for (int i = 0; i < 1000; ++i) // Workers awake and spinning.
        shears_uk_parallel_for(8, touchLine, nullptr);
      double start = now();
      for (int i = 0; i < calls; ++i) {
        gap();
        shears_uk_parallel_for(8, touchLine, nullptr);
      }
      times.push_back((now() - start) / calls * 1e6 - gapUs);
    }
    printf("| %d | %.2f |\n", threads, median(times));
  }
  return 0;
}

/// squeezenet1_1's stem and the max pooling after it (stempool).
int stempool(ShearsUKernelFn conv, ShearsUKernelFn pool, int rounds,
             int64_t band) {
  shears_uk_set_num_threads(1);
  const int64_t c = 3, h = 224, m = 64, oh = 111, ph = 55, k = c * 9;
  std::vector<float> f(m * k);
  srand(1);
  for (float &v : f)
    v = (rand() / float(RAND_MAX) - 0.5f) * 0.4f;
  Buffer filter(allocate(shears_uk_conv_filter_packed_size(m, k, 1)));
  shears_uk_pack_conv_filter(f.data(), m, k, 1, filter.get());
  Buffer bias(allocate(m)), x(allocate(c * h * h)), y(allocate(m * oh * oh)),
      pooled(allocate(m * ph * ph)), banded(allocate(m * ph * ph)),
      xBand(allocate(c * (4 * band + 3) * h)),
      yBand(allocate(m * (2 * band + 1) * oh));
  for (int64_t i = 0; i < c * h * h; ++i)
    x.get()[i] = rand() / float(RAND_MAX) - 0.5f;
  for (int64_t i = 0; i < m; ++i)
    bias.get()[i] = 0.01f * float(i % 7);
  // A 3x3 stride-2 window of `channels` channels over rows of `w`, `rows`
  // output rows of `ow`.
  auto window = [&](int64_t channels, int64_t ih, int64_t w, int64_t rows,
                    int64_t ow, int64_t *ip) {
    for (int i = 0; i < SHEARS_UK_CONV_NUM_PARAMS; ++i)
      ip[i] = 0;
    ip[SHEARS_UK_CONV_C] = channels;
    ip[SHEARS_UK_CONV_H] = ih;
    ip[SHEARS_UK_CONV_W] = w;
    ip[SHEARS_UK_CONV_KH] = ip[SHEARS_UK_CONV_KW] = 3;
    ip[SHEARS_UK_CONV_SH] = ip[SHEARS_UK_CONV_SW] = 2;
    ip[SHEARS_UK_CONV_DH] = ip[SHEARS_UK_CONV_DW] = 1;
    ip[SHEARS_UK_CONV_OH] = rows;
    ip[SHEARS_UK_CONV_OW] = ow;
    ip[SHEARS_UK_CONV_GROUPS] = 1;
  };
  auto convIp = [&](int64_t ih, int64_t ohRows, int64_t *ip) {
    window(c, ih, h, ohRows, oh, ip);
    ip[SHEARS_UK_CONV_COUT] = m;
    ip[SHEARS_UK_CONV_FLAGS] =
        SHEARS_UK_HAS_BIAS | (SHEARS_UK_ACT_RELU << SHEARS_UK_ACT_SHIFT);
  };
  // Max pooling of rows: each plane an image of one channel, so that the
  // output planes keep the whole output's stride (OUT_STRIDE).
  auto poolIp = [&](int64_t ih, int64_t phRows, int64_t *ip) {
    window(1, ih, oh, phRows, ph, ip);
    ip[SHEARS_UK_CONV_COUT] = 1;
    ip[SHEARS_UK_CONV_OUT_STRIDE] = ph * ph;
  };
  float fparams[SHEARS_UK_F_NUM] = {};
  auto whole = [&] {
    int64_t ip[SHEARS_UK_CONV_NUM_PARAMS], dims[4] = {1, c, h, h};
    convIp(h, oh, ip);
    void *cb[4] = {x.get(), filter.get(), bias.get(), y.get()};
    conv(cb, dims, ip, fparams);
    poolIp(oh, ph, ip);
    int64_t pdims[4] = {m, 1, oh, oh};
    void *pb[2] = {y.get(), pooled.get()};
    pool(pb, pdims, ip, fparams);
  };
  auto bands = [&] {
    for (int64_t p0 = 0; p0 < ph; p0 += band) {
      int64_t p1 = std::min(ph, p0 + band);
      int64_t c0 = 2 * p0, c1 = std::min(oh, 2 * p1 + 1);
      int64_t i0 = 2 * c0, i1 = std::min(h, 2 * c1 + 1);
      for (int64_t ch = 0; ch < c; ++ch)
        memcpy(xBand.get() + ch * (i1 - i0) * h, x.get() + (ch * h + i0) * h,
               (i1 - i0) * h * sizeof(float));
      int64_t ip[SHEARS_UK_CONV_NUM_PARAMS], dims[4] = {1, c, i1 - i0, h};
      convIp(i1 - i0, c1 - c0, ip);
      void *cb[4] = {xBand.get(), filter.get(), bias.get(), yBand.get()};
      conv(cb, dims, ip, fparams);
      poolIp(c1 - c0, p1 - p0, ip);
      int64_t pdims[4] = {m, 1, c1 - c0, oh};
      void *pb[2] = {yBand.get(), banded.get() + p0 * ph};
      pool(pb, pdims, ip, fparams);
    }
  };
  whole();
  bands();
  double diff = 0;
  for (int64_t i = 0; i < m * ph * ph; ++i)
    diff = std::max(diff, double(fabsf(pooled.get()[i] - banded.get()[i])));
  std::vector<double> a, b;
  const int calls = 200;
  for (int r = 0; r < rounds; ++r) {
    double t0 = now();
    for (int i = 0; i < calls; ++i)
      whole();
    double t1 = now();
    for (int i = 0; i < calls; ++i)
      bands();
    double t2 = now();
    a.push_back((t1 - t0) / calls * 1e3);
    b.push_back((t2 - t1) / calls * 1e3);
  }
  printf("| stem + max pooling, 1 thread | ms |\n| --- | ---: |\n");
  printf("| whole layers | %.3f |\n| bands of %lld pooled rows | %.3f |\n",
         median(a), (long long)band, median(b));
  printf("largest difference %g\n", diff);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  ShearsUKernelFn conv = nullptr;
  for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
    if (!strcmp(s->name, "shears_uk_conv2d_avx512"))
      conv = s->fn;
  ShearsUKernelFn pool = nullptr;
  for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
    if (!strcmp(s->name, "shears_uk_maxpool2d_avx512"))
      pool = s->fn;
  processCPUs(); // Before any pin.
  const char *mode = argc > 1 ? argv[1] : "";
  int count = argc > 2 ? atoi(argv[2]) : 0;
  if (strcmp(mode, "layout") && strcmp(mode, "chain") &&
      strcmp(mode, "memory") && strcmp(mode, "peak") && strcmp(mode, "sync") &&
      strcmp(mode, "stempool")) {
    fprintf(stderr,
            "usage: kernel_probe layout [rounds] | chain [iterations] "
            "| memory [rounds] | peak [rounds] | sync [rounds] [gap us] "
            "| stempool [rounds] [band]\n");
    return 2;
  }
  if (!strcmp(mode, "sync"))
    return sync(count > 0 ? count : 5, argc > 3 ? atof(argv[3]) : 0);
  if (!conv || !__builtin_cpu_supports("avx512f")) {
    fprintf(stderr, "kernel_probe: needs AVX-512 and the avx512 kernels\n");
    return 1;
  }
  if (!strcmp(mode, "stempool"))
    return stempool(conv, pool, count > 0 ? count : 9,
                    argc > 3 ? atoi(argv[3]) : 4);
  if (!strcmp(mode, "layout"))
    return layout(conv, count > 0 ? count : 9);
  if (!strcmp(mode, "memory"))
    return memory(count > 0 ? count : 5);
  if (!strcmp(mode, "peak"))
    return peak(count > 0 ? count : 5);
  return chain(conv, count > 0 ? count : 200);
}
