//===- Numbers.h - Numbers in messages, and timings' medians ---*- C++ -*-===//

#ifndef SHEARS_SUPPORT_NUMBERS_H
#define SHEARS_SUPPORT_NUMBERS_H

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace mlir::shears {

/// `value` as a user would write it in an option (0.5, 1e-06; not
/// 5.000000e-01): %g.
inline std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

/// The median of `values` (not empty; the upper one of an even count), as
/// the tools report timings.
inline double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2,
                   values.end());
  return values[values.size() / 2];
}

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_NUMBERS_H
