//===- Vector.h - What every per-ISA kernel file starts with ----*- C++ -*-===//
//
// Included by the translation units compiled once per ISA (Contraction.cpp,
// Depthwise.cpp): the ISA's vector of SHEARS_UK_WIDTH floats, its unaligned
// loads and stores, and the macro that names an exported kernel after the
// ISA (shears_uk_<name>_<isa>).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_KERNELS_VECTOR_H
#define SHEARS_KERNELS_VECTOR_H

#include <stdint.h>

#if !defined(SHEARS_UK_ISA) || !defined(SHEARS_UK_WIDTH)
#error "compile with -DSHEARS_UK_ISA=<isa> -DSHEARS_UK_WIDTH=<floats>"
#endif

#define SHEARS_UK_CAT2(a, b) a##_##b
#define SHEARS_UK_CAT(a, b) SHEARS_UK_CAT2(a, b)
#define SHEARS_UK_NAME(name) SHEARS_UK_CAT(shears_uk_##name, SHEARS_UK_ISA)

namespace shears::uk::SHEARS_UK_ISA {

constexpr int W = SHEARS_UK_WIDTH;
typedef float VF __attribute__((vector_size(W * sizeof(float))));
typedef float VFU __attribute__((vector_size(W * sizeof(float)), aligned(4)));

inline VF load(const float *p) { return *reinterpret_cast<const VFU *>(p); }
inline void store(float *p, VF v) { *reinterpret_cast<VFU *>(p) = v; }

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace shears::uk::SHEARS_UK_ISA

#endif
