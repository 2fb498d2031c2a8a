//===- shears-opt.cpp - mlir-opt with the Shears dialect and passes -------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Conversion/Passes.h"
#include "shears/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::shears::registerShearsPasses();
  mlir::shears::registerShearsPrunePipeline();
  mlir::shears::registerShearsConversionPasses();
  mlir::shears::registerShearsLowerToLLVMPipeline();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::shears::ShearsDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Shears optimizer driver\n", registry));
}
