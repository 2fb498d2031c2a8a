//===- shears-compile.cpp - AOT-compile a model to a shared library -------===//

#include "shears/Compiler/Compiler.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | model.mlir>"));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Shared library to write"),
                                       cl::value_desc("libmodel.so"));
static cl::opt<std::string> headerPath(
    "header", cl::desc("C header to write (default: the library's path with "
                       ".h)"),
    cl::value_desc("model.h"));

static cl::opt<std::string> targetCPU(
    "target-cpu",
    cl::desc("CPU to generate code for instead of this machine's (e.g. "
             "x86-64-v2, for a library that runs anywhere or under valgrind)"),
    cl::value_desc("cpu"));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "shears-compile: error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Compiles a model for this CPU into a shared library with a C ABI.\n\n"
      "  shears-compile model.onnx -o libmodel.so   # also writes libmodel.h\n"
      "Load it with shearsModelLoadLibrary() from include/shears-c/Runtime.h.\n");

  DialectRegistry registry;
  shears::registerCompilerDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  OwningOpRef<ModuleOp> module =
      shears::loadAndLower(modelPath, context, sourceMgr);
  if (!module)
    return 1;
  auto signature = module->lookupSymbol<LLVM::GlobalOp>("shears_signature");
  std::string json;
  if (auto value = signature ? dyn_cast_or_null<StringAttr>(
                                   signature.getValueOrNull())
                             : StringAttr())
    json = value.getValue().rtrim('\0').str();

  std::string error;
  if (failed(shears::compileSharedLibrary(*module, outputPath, error, targetCPU)))
    return fail(error);

  std::string header = headerPath;
  if (header.empty()) {
    llvm::SmallString<256> path(outputPath);
    llvm::sys::path::replace_extension(path, ".h");
    header = path.str().str();
  }
  auto output = openOutputFile(header, &error);
  if (!output) {
    llvm::sys::fs::remove(outputPath);
    return fail(error);
  }
  output->os() << shears::generateHeader(
      json, llvm::sys::path::filename(outputPath));
  output->keep();
  return 0;
}
