//===- PrecompiledHeaders.h - What the compiler's libraries precompile ----===//
//
// The MLIR and LLVM headers that nearly every source of the compiler's
// libraries parses, precompiled once per library (shears_precompile_headers
// in the top CMakeLists.txt) and included before each of its sources.
// Parsing them was most of a compile: ShearsToLinalg/Pooling.cpp took 11.3 s,
// 10.8 of them with -fsyntax-only. Only other projects' headers belong here:
// CMake marks what a precompiled header includes as system headers, whose
// warnings clang does not report. Sources still include what they use: the
// build must compile with -DSHEARS_PRECOMPILE_HEADERS=OFF.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_PRECOMPILEDHEADERS_H
#define SHEARS_PRECOMPILEDHEADERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#endif // SHEARS_PRECOMPILEDHEADERS_H
