//===- Commands.h - The command-line tools as library functions -*- C++ -*-===//
//
// Each function is a whole command line tool: it parses `argv` (argv[0] is
// the name it goes by in messages and --help, e.g. "shears-run" or
// "shears run") with options of its own, does the work and returns the exit
// status. `shears-run`, `shears-compile` and the `shears` driver are thin
// mains over them. Options are registered while the function runs and
// removed when it returns; call one per process, after llvm::InitLLVM.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_COMPILER_COMMANDS_H
#define SHEARS_COMPILER_COMMANDS_H

namespace mlir::shears {

/// JIT-compiles a model and runs it on .npy inputs (shears-run).
int runModelCommand(int argc, char **argv);

/// Compiles a model into a shared library and a C header (shears-compile).
int compileModelCommand(int argc, char **argv);

/// Prunes a model with the shears-prune pipeline and writes it back as ONNX
/// (or MLIR), printing its size before and after (shears prune).
int pruneModelCommand(int argc, char **argv);

/// Prints the per-layer report of a model, optionally as JSON too (shears
/// report).
int reportModelCommand(int argc, char **argv);
/// Measures the input-channel norms of a model's layers on calibration
/// samples and writes them as .npz (shears calibrate).
int calibrateModelCommand(int argc, char **argv);

/// Shares each layer's weights (k-means) and writes the model as a .shears
/// pack: sparse, codebook and Huffman-coded weights (shears pack).
int packModelCommand(int argc, char **argv);
/// Writes the ONNX model a .shears pack holds (shears unpack).
int unpackModelCommand(int argc, char **argv);

/// Quantizes a model to int8 with shears-quantize, calibrating on samples,
/// and writes it as QDQ ONNX (or MLIR) (shears quantize).
int quantizeModelCommand(int argc, char **argv);

/// Measures per-layer pruning sensitivity on evaluation samples and writes
/// it as JSON (shears sensitivity).
int sensitivityModelCommand(int argc, char **argv);

/// Factors linear layers and convolutions with shears-low-rank (plain or
/// data-aware SVD) and writes the model back as ONNX (or MLIR) (shears
/// lowrank).
int lowRankModelCommand(int argc, char **argv);

} // namespace mlir::shears

#endif // SHEARS_COMPILER_COMMANDS_H
