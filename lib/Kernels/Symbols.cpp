//===- Symbols.cpp - The kernels by name, for the JIT ---------------------===//

#include "shears-c/Kernels.h"

#include <stddef.h>

// clang-format off
#define SHEARS_UK_KERNELS(X)                                                   \
  X(bmm, avx512) X(bmm, avx2) X(bmm, generic)                                  \
  X(conv2d, avx512) X(conv2d, avx2) X(conv2d, generic)                         \
  X(dwconv2d, avx512) X(dwconv2d, avx2) X(dwconv2d, generic)                   \
  X(gemm, avx512) X(gemm, avx2) X(gemm, generic)                               \
  X(maxpool2d, avx512) X(maxpool2d, avx2) X(maxpool2d, generic)               \
  X(qgemm, avx512) X(qgemm, avx2) X(qgemm, generic)                           \
  X(qconv2d, avx512) X(qconv2d, avx2) X(qconv2d, generic)                     \
  X(spconv2d, avx512) X(spconv2d, avx2) X(spconv2d, generic)                   \
  X(spgemm, avx512) X(spgemm, avx2) X(spgemm, generic)                         \
  X(wqgemm, avx512) X(wqgemm, avx2) X(wqgemm, generic)
// clang-format on

#define SHEARS_UK_DECLARE(name, isa)                                           \
  extern "C" void shears_uk_##name##_##isa(void **, const int64_t *,          \
                                           const int64_t *, const float *);
SHEARS_UK_KERNELS(SHEARS_UK_DECLARE)
#undef SHEARS_UK_DECLARE

extern "C" const ShearsUKernelSymbol *shears_uk_symbols(void) {
#define SHEARS_UK_ENTRY(name, isa)                                             \
  {"shears_uk_" #name "_" #isa, shears_uk_##name##_##isa},
  static const ShearsUKernelSymbol symbols[] = {
      SHEARS_UK_KERNELS(SHEARS_UK_ENTRY){nullptr, nullptr}};
#undef SHEARS_UK_ENTRY
  return symbols;
}
