//===- shears-opt.cpp - mlir-opt with the Shears dialect and passes -------===//
//
// mlir-opt's driver, except that the output is written to a temporary file
// beside it and renamed over it only on success: a failing pipeline leaves
// an existing output file as it was (mlir-opt truncates it, then removes it);
// and the input must be a regular file (or - for stdin), not a FIFO.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "shears/Compiler/Compiler.h"
#include "shears/Support/Files.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  mlir::registerAllPasses();
  mlir::shears::registerShearsPassesAndPipelines();
  mlir::DialectRegistry registry;
  mlir::shears::registerCompilerDialects(registry);
  auto [input, output] = mlir::registerAndParseCLIOptions(
      argc, argv, "Shears optimizer driver\n", registry);
  // A regular file only: a FIFO would block until a writer came.
  if (input != "-") {
    llvm::Expected<int> fd = mlir::shears::openRegularFile(input);
    if (!fd) {
      llvm::errs() << "error: " << llvm::toString(fd.takeError()) << "\n";
      return 1;
    }
    llvm::sys::Process::SafelyCloseFileDescriptor(*fd);
  }
  if (output == "-")
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, input, output, registry));

  llvm::SmallString<256> temp;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(output + ".tmp-%%%%%%", fd, temp)) {
    llvm::errs() << "error: cannot create a file beside '" << output
                 << "': " << ec.message() << "\n";
    return 1;
  }
  llvm::sys::fs::closeFile(fd);
  if (mlir::failed(mlir::MlirOptMain(argc, argv, input, temp, registry))) {
    llvm::sys::fs::remove(temp);
    return 1;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    llvm::errs() << "error: cannot write '" << output << "': " << ec.message()
                 << "\n";
    return 1;
  }
  return 0;
}
