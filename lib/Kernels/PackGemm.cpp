//===- PackGemm.cpp - The GEMM's panels of B ------------------------------===//
//
// The packed B of include/shears-c/Kernels.h's gemm: the compiler packs
// constant weights into it at compile time, the bmm kernel a computed B at
// run time. In an object of its own so that a model's library, linked with
// the kernels that reference this, does not take the other packers along.
//
//===----------------------------------------------------------------------===//

#include "shears-c/Kernels.h"

#include <string.h>

extern "C" int64_t shears_uk_gemm_b_packed_size(int64_t k, int64_t n) {
  return (n + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR * k *
         SHEARS_UK_GEMM_NR;
}

extern "C" void shears_uk_pack_gemm_b(const float *b, int64_t k, int64_t n,
                                      int64_t strideK, int64_t strideN,
                                      float *packed) {
  const int64_t nr = SHEARS_UK_GEMM_NR;
  memset(packed, 0, shears_uk_gemm_b_packed_size(k, n) * sizeof(float));
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      packed[((j / nr) * k + kk) * nr + j % nr] = b[kk * strideK + j * strideN];
}
