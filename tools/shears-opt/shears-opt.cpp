//===- shears-opt.cpp - mlir-opt with the Shears dialect and passes -------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "shears/Compiler/Compiler.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::shears::registerShearsPassesAndPipelines();
  mlir::DialectRegistry registry;
  mlir::shears::registerCompilerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Shears optimizer driver\n", registry));
}
