// The sparse GEMM (spgemm) against the dense one (gemm) of the same linear
// layer, one thread, on the kernels' own ABI: for each layer shape (K, N),
// density of the weight and batch M, the median time of each and their
// ratio. The crossover density where spgemm stops paying is what
// shears-convert-to-ukernels' sparse-density threshold is set from
// (docs/SparseStorage.md). bench/sparse.py builds and runs it:
//   c++ -O2 -Iinclude bench/sparse_kernels.cpp build/lib/libshears_kernels.a -lpthread
#include "shears-c/Kernels.h"

#include <algorithm>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vector>

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static ShearsUKernelFn find(const char *name) {
  for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
    if (!strcmp(s->name, name))
      return s->fn;
  return nullptr;
}

/// Median seconds of one call over calls lasting about 0.1 s in all.
static double timeCall(ShearsUKernelFn fn, void **buffers, const int64_t *dims,
                       const int64_t *ip, const float *fp) {
  fn(buffers, dims, ip, fp);
  std::vector<double> times;
  double start = now();
  while (times.size() < 5 || (now() - start < 0.1 && times.size() < 2000)) {
    double t0 = now();
    fn(buffers, dims, ip, fp);
    times.push_back(now() - t0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int main(int argc, char **argv) {
  const char *isa = argc > 1 ? argv[1] : "avx512";
  char gemmName[64], spgemmName[64];
  snprintf(gemmName, sizeof gemmName, "shears_uk_gemm_%s", isa);
  snprintf(spgemmName, sizeof spgemmName, "shears_uk_spgemm_%s", isa);
  ShearsUKernelFn gemm = find(gemmName), spgemm = find(spgemmName);
  if (!gemm || !spgemm) {
    fprintf(stderr, "no kernels for ISA %s\n", isa);
    return 2;
  }
  shears_uk_set_num_threads(1);
  const int64_t shapes[][2] = {{784, 300}, {300, 100}, {10000, 128}, {128, 10000}};
  // Random weights of these densities, then (-1) 2:4: 2 of each 4
  // consecutive weights of a row, at random.
  const double densities[] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, -1};
  const int64_t batches[] = {1, 4, 8, 64};
  printf("%6s %6s %8s %6s %12s %12s %8s\n", "K", "N", "density", "M", "dense us",
         "sparse us", "dense/sp");
  srand(1);
  for (auto &shape : shapes) {
    int64_t k = shape[0], n = shape[1];
    for (double density : densities) {
      std::vector<float> w(n * k);
      for (float &x : w)
        x = rand() < density * RAND_MAX ? float(rand()) / RAND_MAX - 0.5f : 0.0f;
      for (int64_t i = 0; density < 0 && i < n * k; i += 4) {
        int first = rand() % 4, second = (first + 1 + rand() % 3) % 4;
        for (int j = 0; j < 4 && i + j < n * k; ++j)
          w[i + j] = j == first || j == second
                         ? float(rand()) / RAND_MAX - 0.5f + 1e-3f
                         : 0.0f;
      }
      std::vector<float> packedB(shears_uk_gemm_b_packed_size(k, n));
      shears_uk_pack_gemm_b(w.data(), k, n, 1, k, packedB.data());
      int64_t nnz = shears_uk_spgemm_nonzeros(w.data(), n, k);
      std::vector<float> packedS(shears_uk_spgemm_packed_size(
          w.data(), n, k));
      shears_uk_pack_spgemm(w.data(), n, k, packedS.data());
      std::vector<float> bias(n, 0.1f);
      for (int64_t m : batches) {
        std::vector<float> a(m * k, 0.5f), c(m * n);
        int64_t dims[2] = {m, k};
        int64_t ip[SHEARS_UK_GEMM_NUM_PARAMS] = {k, n, 2, SHEARS_UK_HAS_BIAS};
        float fp[SHEARS_UK_F_NUM] = {0, 0};
        void *dense[] = {a.data(), packedB.data(), bias.data(), c.data()};
        void *sparse[] = {a.data(), packedS.data(), bias.data(), c.data()};
        double td = timeCall(gemm, dense, dims, ip, fp);
        double ts = timeCall(spgemm, sparse, dims, ip, fp);
        char what[16];
        snprintf(what, sizeof what, density < 0 ? "2:4" : "%.2f",
                 double(nnz) / (n * k));
        printf("%6ld %6ld %8s %6ld %12.1f %12.1f %8.2f\n", long(k), long(n),
               what, long(m), td * 1e6, ts * 1e6, td / ts);
        fflush(stdout);
      }
    }
  }
  return 0;
}
