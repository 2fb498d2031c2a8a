//===- Epilogue.h - What follows a contraction in its tile -----*- C++ -*-===//
//
// The epilogue of the contraction kernels (Kernels.h flags): bias, residual
// add and activation, applied to a tile once its last k-block is in. Per
// ISA, like Vector.h.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_KERNELS_EPILOGUE_H
#define SHEARS_KERNELS_EPILOGUE_H

#include "Vector.h"

#include "shears-c/Kernels.h"

namespace shears::uk::SHEARS_UK_ISA {

/// What follows the contraction, applied once the last k-block is in.
struct Epilogue {
  const float *bias = nullptr; // Indexed by row or by column.
  bool biasPerRow = false;
  const float *residual = nullptr; // Laid out as the output.
  int activation = SHEARS_UK_ACT_NONE;
  float lo = 0, hi = 0;

  Epilogue() = default;
  Epilogue(const int64_t flags, const float *fparams, void **&operand) {
    if (flags & SHEARS_UK_HAS_BIAS)
      bias = static_cast<const float *>(*operand++);
    if (flags & SHEARS_UK_HAS_RESIDUAL)
      residual = static_cast<const float *>(*operand++);
    activation = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
    if (activation == SHEARS_UK_ACT_CLIP) {
      lo = fparams[SHEARS_UK_F_CLIP_MIN];
      hi = fparams[SHEARS_UK_F_CLIP_MAX];
    }
  }

  template <typename T> T activate(T v) const {
    switch (activation) {
    case SHEARS_UK_ACT_RELU:
      return activateAs<SHEARS_UK_ACT_RELU>(v);
    case SHEARS_UK_ACT_CLIP:
      return activateAs<SHEARS_UK_ACT_CLIP>(v);
    default:
      return v;
    }
  }

  /// activate() for a kernel that chose its loop by `Act` (the activation).
  template <int Act, typename T> T activateAs(T v) const {
    if (Act == SHEARS_UK_ACT_RELU)
      return v > 0 ? v : 0;
    if (Act == SHEARS_UK_ACT_CLIP) {
      v = v < lo ? lo : v;
      return v > hi ? hi : v;
    }
    return v;
  }
};

} // namespace shears::uk::SHEARS_UK_ISA

#endif // SHEARS_KERNELS_EPILOGUE_H
