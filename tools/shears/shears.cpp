//===- shears.cpp - The user driver: prune, report, run, compile ----------===//
//
// `shears <command> [options]`: each command is a library function
// (lib/Compiler/Commands.cpp) that parses its own options, so that
// `shears run` and `shears-run` are one implementation.
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Commands.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace {
struct Command {
  llvm::StringLiteral name;
  llvm::StringLiteral summary;
  llvm::StringLiteral example;
  int (*main)(int argc, char **argv);
};

const Command commands[] = {
    {"prune", "Prunes a model and writes it back as ONNX",
     "shears prune model.onnx --sparsity 0.5 --granularity channel -o "
     "small.onnx",
     mlir::shears::pruneModelCommand},
    {"quantize", "Quantizes a model to int8 (QDQ ONNX), calibrated on samples",
     "shears quantize model.onnx --calibration input=x.npy -o int8.onnx",
     mlir::shears::quantizeModelCommand},
    {"lowrank", "Factors layers into two of low rank (SVD) where it saves",
     "shears lowrank model.onnx --energy 0.9 -o small.onnx",
     mlir::shears::lowRankModelCommand},
    {"pack", "Shares weights and writes a Deep Compression pack (.shears)",
     "shears pack small.onnx -o small.shears", mlir::shears::packModelCommand},
    {"unpack", "Writes the ONNX model a .shears pack holds",
     "shears unpack small.shears -o small.onnx",
     mlir::shears::unpackModelCommand},
    {"report",
     "Prints per-layer parameters, sparsity, MACs and channels of a model",
     "shears report small.onnx --json report.json",
     mlir::shears::reportModelCommand},
    {"run",
     "JIT-compiles a model for this CPU or a GPU and runs it on .npy inputs",
     "shears run small.onnx --input input=x.npy --output-dir out/",
     mlir::shears::runModelCommand},
    {"compile", "Compiles a model into a shared library with a C ABI",
     "shears compile small.onnx -o libmodel.so",
     mlir::shears::compileModelCommand},
    {"sensitivity",
     "Prunes each layer alone and measures what the model loses (JSON)",
     "shears sensitivity model.onnx --input input=x.npy --labels y.npy -o "
     "sens.json",
     mlir::shears::sensitivityModelCommand},
    {"calibrate", "Measures layers' input norms (or ranges, Gram matrices)",
     "shears calibrate model.onnx --input input=x.npy -o norms.npz",
     mlir::shears::calibrateModelCommand},
};

void printHelp(llvm::raw_ostream &os) {
  os << "OVERVIEW: Shears: prune ONNX models, see what they cost, compile "
        "and run them\n\n"
        "USAGE: shears <command> [options] <model.onnx | model.shears | "
        "model.mlir>\n\n"
        "COMMANDS:\n";
  for (const Command &c : commands)
    os << "  " << llvm::left_justify(c.name, 13) << c.summary << "\n"
       << "  " << llvm::left_justify("", 13) << "  " << c.example << "\n";
  os << "\nRun 'shears <command> --help' for the options of a command.\n";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  if (argc < 2) {
    printHelp(llvm::errs());
    return 1;
  }
  llvm::StringRef first = argv[1];
  if (first == "--help" || first == "-help" || first == "-h" ||
      first == "help") {
    // `shears help prune` is `shears prune --help`.
    if (first == "help" && argc > 2) {
      llvm::StringRef name = argv[2];
      for (const Command &c : commands)
        if (c.name == name) {
          std::string program = "shears " + name.str();
          char help[] = "--help";
          char *args[] = {program.data(), help, nullptr};
          return c.main(2, args);
        }
    } else {
      printHelp(llvm::outs());
      return 0;
    }
  }
  for (const Command &c : commands) {
    if (c.name != first)
      continue;
    // The command sees "shears <name>" as its program name.
    std::string program = "shears " + first.str();
    llvm::SmallVector<char *> args;
    args.push_back(program.data());
    args.append(argv + 2, argv + argc);
    args.push_back(nullptr);
    return c.main(static_cast<int>(args.size()) - 1, args.data());
  }
  llvm::StringRef unknown = first == "help" ? llvm::StringRef(argv[2]) : first;
  llvm::errs() << "shears: error: unknown command '" << unknown
               << "' (expected ";
  for (const Command &c : commands)
    llvm::errs() << (&c == commands ? "" : &c == std::end(commands) - 1
                                               ? " or "
                                               : ", ")
                 << c.name;
  llvm::errs() << "; see shears --help)\n";
  return 1;
}
