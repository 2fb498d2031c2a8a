//===- shears-translate.cpp - ONNX <-> shears dialect ---------------------===//

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "shears/Target/ONNX/Export.h"
#include "shears/Target/ONNX/Import.h"

int main(int argc, char **argv) {
  mlir::shears::registerImportONNXTranslation();
  mlir::shears::registerExportONNXTranslation();
  return mlir::failed(mlir::mlirTranslateMain(
      argc, argv, "Shears translation tool (ONNX import and export)"));
}
