//===- shears-translate.cpp - ONNX <-> shears dialect ---------------------===//
//
// Like mlir-translate, but reads ONNX files itself (streaming, see
// importONNXFile) instead of loading the whole input into memory first, and
// can write MLIR bytecode, which keeps weight blobs binary.
//
//===----------------------------------------------------------------------===//

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Support/Files.h"
#include "shears/Target/ONNX/Export.h"
#include "shears/Target/ONNX/Import.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Direction { Import, Export, ListOps };
} // namespace

static cl::opt<Direction> direction(
    cl::desc("Translation:"), cl::Required,
    cl::values(clEnumValN(Direction::Import, "import-onnx",
                          "ONNX model -> shears dialect (.mlir)"),
               clEnumValN(Direction::Export, "export-onnx",
                          "shears dialect (.mlir) -> ONNX model"),
               clEnumValN(Direction::ListOps, "list-onnx-ops",
                          "Print the ONNX op types the importer supports, "
                          "one a line")));
static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input file>"),
                                          cl::init("-"));
static cl::opt<std::string> outputFilename("o", cl::desc("Output file"),
                                           cl::value_desc("filename"),
                                           cl::init("-"));
static cl::opt<bool> emitBytecode(
    "emit-bytecode", cl::desc("Write MLIR bytecode instead of text (import)"));
static cl::opt<bool> sparseInitializers(
    "sparse-initializers",
    cl::desc("Store a weight as an ONNX sparse_initializer where that is "
             "smaller (export; default true)"),
    cl::init(true));
static cl::opt<bool> bitPacking(
    "bit-packing",
    cl::desc("Store int4 and binary weights bit-packed, with the nodes that "
             "unpack them (export; default true)"),
    cl::init(true));
static cl::opt<std::string>
    functionName("function-name", cl::desc("Name of the imported function"),
                 cl::init("main"));

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "Shears translation tool: imports ONNX models into the shears dialect "
      "and exports them back.\n\n"
      "  shears-translate --import-onnx model.onnx -o model.mlir\n"
      "  shears-translate --export-onnx model.mlir -o model.onnx\n"
      "  shears-translate --list-onnx-ops\n");
  if (direction == Direction::ListOps) {
    for (StringRef op : shears::getSupportedONNXOps())
      llvm::outs() << op << "\n";
    return 0;
  }

  DialectRegistry registry;
  registry.insert<shears::ShearsDialect, func::FuncDialect>();
  MLIRContext context(registry);
  // Errors name their ONNX node or op; dumping the op (a whole model for a
  // function-level error) would bury them.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  OwningOpRef<ModuleOp> module;
  if (direction == Direction::Import) {
    shears::ImportOptions options;
    options.functionName = functionName;
    if (inputFilename == "-") {
      auto buffer = llvm::MemoryBuffer::getSTDIN();
      if (!buffer) {
        llvm::errs() << "error: cannot read standard input\n";
        return 1;
      }
      module = shears::importONNX(std::move(*buffer), &context, options);
    } else {
      module = shears::importONNXFile(inputFilename, &context, options);
    }
  } else if (inputFilename == "-") {
    module = parseSourceFile<ModuleOp>(inputFilename, sourceMgr,
                                       ParserConfig(&context));
  } else {
    // A regular file only: a FIFO would block until a writer came.
    auto buffer = shears::readRegularFile(inputFilename);
    if (!buffer) {
      llvm::errs() << "error: " << llvm::toString(buffer.takeError()) << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  }
  if (!module)
    return 1;

  // Written to a temporary file renamed over the output: a failure leaves
  // neither a partial file nor a changed existing one.
  bool exported = true;
  llvm::Error error =
      llvm::writeToOutput(outputFilename, [&](llvm::raw_ostream &os) {
        if (direction == Direction::Export)
          exported = succeeded(shears::exportToONNX(
              *module, os, {sparseInitializers, bitPacking}));
        else if (emitBytecode)
          exported = succeeded(writeBytecodeToFile(*module, os));
        else
          module->print(os, OpPrintingFlags().enableDebugInfo(true));
        // The diagnostics said why; an error keeps the file from being made.
        return exported ? llvm::Error::success()
                        : llvm::createStringError("translation failed");
      });
  if (error) {
    if (exported)
      llvm::errs() << "error: cannot write '" << outputFilename
                   << "': " << llvm::toString(std::move(error)) << "\n";
    else
      llvm::consumeError(std::move(error));
    return 1;
  }
  return 0;
}
