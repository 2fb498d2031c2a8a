//===- shears-compile.cpp - AOT-compile a model to a shared library -------===//
//
// The same command as `shears compile` (compileModelCommand in
// lib/Compiler).
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Commands.h"

#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  return mlir::shears::compileModelCommand(argc, argv);
}
