//===- shears-run.cpp - JIT-compile and run a model -----------------------===//
//
// The same command as `shears run` (runModelCommand in lib/Compiler).
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Commands.h"

#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  return mlir::shears::runModelCommand(argc, argv);
}
