//===- Finite.h - Data that must be finite ----------------------*- C++ -*-===//
//
// Weights that pruning ranks or quantization scales, and gradients,
// activation norms, statistics and calibration samples, must be finite: a
// NaN sorts nowhere and an infinity makes every scale infinite. Those who
// read them refuse them with this message.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_FINITE_H
#define SHEARS_SUPPORT_FINITE_H

#include "llvm/ADT/ArrayRef.h"

#include <cmath>
#include <string>

namespace mlir::shears {

/// Empty when every value is finite, else "N NaN or infinite values (the
/// first at index I)".
template <typename T> std::string describeNonFinite(llvm::ArrayRef<T> values) {
  size_t count = 0, first = 0;
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]) && count++ == 0)
      first = i;
  if (!count)
    return {};
  return std::to_string(count) + " NaN or infinite value" +
         (count > 1 ? "s" : "") + " (the first at index " +
         std::to_string(first) + ")";
}

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_FINITE_H
