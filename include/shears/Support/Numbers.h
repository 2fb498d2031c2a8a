//===- Numbers.h - Numbers in messages -------------------------*- C++ -*-===//

#ifndef SHEARS_SUPPORT_NUMBERS_H
#define SHEARS_SUPPORT_NUMBERS_H

#include <cstdio>
#include <string>

namespace mlir::shears {

/// `value` as a user would write it in an option (0.5, 1e-06; not
/// 5.000000e-01): %g.
inline std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_NUMBERS_H
