//===- ImportFuzzer.cpp - libFuzzer target: the ONNX importer -------------===//
//
// Every byte string is offered to the importer as a model file; the imported
// module must verify.
//
//===----------------------------------------------------------------------===//

#include "Fuzz.h"

#include "shears/Dialect/Shears/IR/ShearsDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto context = shears::fuzz::makeContext([](mlir::DialectRegistry &r) {
    r.insert<mlir::shears::ShearsDialect, mlir::func::FuncDialect>();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      shears::fuzz::importBytes(data, size, *context);
  // The importer promises a valid module or none.
  if (module && mlir::failed(mlir::verify(*module)))
    std::abort();
  return 0;
}
