//===- Commands.cpp - The command-line tools as library functions ---------===//
//
// shears-run, shears-compile and the `shears` driver's subcommands. Each
// command declares its options as locals in a category of its own, so that
// one executable can hold several commands and each --help lists only its
// own options (not the hundreds LLVM registers).
//
//===----------------------------------------------------------------------===//

#include "shears/Compiler/Commands.h"

#include "shears/Compiler/Calibrate.h"
#include "shears/Compiler/Compiler.h"
#include "shears/Compiler/Sensitivity.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Files.h"
#include "shears/Support/Finite.h"
#include "shears/Support/Numbers.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Target/ONNX/Export.h"
#include "shears/Target/ONNX/Import.h"
#include "shears/Target/ONNX/Pack.h"
#include "shears/Transforms/Passes.h"
#include "shears/Transforms/Report.h"

#include "shears-c/GPURuntime.h"
#include "shears-c/Kernels.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

/// A command-line option that exists only while its command runs: cl::opt
/// registers itself with the global parser on construction and would
/// otherwise stay registered, dangling, after the command returns.
template <typename Opt>
struct Scoped : Opt {
  using Opt::Opt;
  ~Scoped() { this->removeArgument(); }
};
/// LLVM's parser reads an empty floating-point value as 0 (`--sparsity ''`
/// pruned nothing, silently): a number must be written.
template <typename T> struct NonEmptyParser : cl::parser<T> {
  using cl::parser<T>::parser;
  bool parse(cl::Option &option, llvm::StringRef name, llvm::StringRef arg,
             T &value) {
    if (arg.trim().empty())
      return option.error("needs a number, got '" + arg + "'");
    return cl::parser<T>::parse(option, name, arg, value);
  }
};
template <typename T>
using Opt =
    Scoped<cl::opt<T, false,
                   std::conditional_t<std::is_floating_point_v<T>,
                                      NonEmptyParser<T>, cl::parser<T>>>>;
template <typename T>
using List = Scoped<cl::list<T>>;

/// Unregisters a library's option of the same name (libLLVM has an internal
/// --threads) so that a command's own option can take it.
void releaseOptionName(llvm::StringRef name) {
  auto &options = cl::getRegisteredOptions();
  auto found = options.find(name);
  if (found != options.end())
    found->second->removeArgument();
}

// Categories register themselves forever (there is no way to remove one), so
// they are globals.
cl::OptionCategory runCategory("Options");
cl::OptionCategory compileCategory("Options");
cl::OptionCategory pruneCategory("Options");
cl::OptionCategory reportCategory("Options");
cl::OptionCategory calibrateCategory("Options");
cl::OptionCategory quantizeCategory("Options");
cl::OptionCategory lowRankCategory("Options");
cl::OptionCategory sensitivityCategory("Options");
cl::OptionCategory packCategory("Options");

/// The name a command goes by in messages: "shears-run", "shears run".
std::string commandName(char **argv) {
  return llvm::sys::path::filename(argv[0]).str();
}

/// Parses the command line of a command whose options are all in
/// `category`; exits on a bad option (before any output is written).
void parseCommandLine(int argc, char **argv, cl::OptionCategory &category,
                      const llvm::Twine &overview) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, overview.str());
}

/// Prints "<command>: error: <message>" and returns the exit status 1.
int fail(llvm::StringRef command, const llvm::Twine &message) {
  llvm::outs().flush();
  llvm::errs() << command << ": error: " << message << "\n";
  return 1;
}

/// A context with every dialect a model may use, whose diagnostics are
/// printed with their location (ONNX node name or MLIR source line) only.
struct CompilerContext {
  CompilerContext() : context(makeRegistry()), handler(sourceMgr, &context) {
    context.printOpOnDiagnostic(false);
  }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    shears::registerCompilerDialects(registry);
    return registry;
  }

  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler;
};

/// Writes `contents` to `path` through a temporary file renamed over it:
/// a failure leaves neither a partial file nor a changed existing one.
LogicalResult writeFile(llvm::StringRef path, llvm::StringRef contents,
                        std::string &error) {
  if (llvm::Error e = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
        os << contents;
        return llvm::Error::success();
      })) {
    error =
        "cannot write '" + path.str() + "': " + llvm::toString(std::move(e));
    return failure();
  }
  return success();
}

/// Size of the file at `path`, if it is an ONNX file that exists.
std::optional<int64_t> onnxFileSize(llvm::StringRef path) {
  uint64_t size;
  if (!path.ends_with(".onnx") || llvm::sys::fs::file_size(path, size))
    return std::nullopt;
  return static_cast<int64_t>(size);
}

//===----------------------------------------------------------------------===//
// run
//===----------------------------------------------------------------------===//

using shears::ModelPtr;
using shears::TensorPtr;
using shears::takeRuntimeMessage;

/// Loads the .npy files that `specs` (NAME=FILE.npy, given with `option`)
/// assign to the inputs `names`, in that order. On a malformed spec, a
/// missing or unreadable input or a name the model lacks, prints the error
/// (`what` is how it calls an input) and returns false.
bool loadInputs(llvm::StringRef command, llvm::StringRef option,
                llvm::StringRef what, llvm::ArrayRef<std::string> specs,
                llvm::ArrayRef<std::string> names,
                std::vector<TensorPtr> &tensors) {
  auto error = [&](const llvm::Twine &message) {
    fail(command, message);
    return false;
  };
  llvm::StringMap<std::string> files;
  for (const std::string &spec : specs) {
    auto [inputName, file] = llvm::StringRef(spec).split('=');
    if (file.empty())
      return error(option + " " + spec + ": expected NAME=FILE.npy");
    files[inputName] = file.str();
  }
  for (const std::string &inputName : names) {
    auto it = files.find(inputName);
    if (it == files.end())
      return error("missing " + what + " '" + inputName + "': pass " + option +
                   " " + inputName + "=FILE.npy");
    char *message = nullptr;
    tensors.emplace_back(shearsTensorLoadNpy(it->second.c_str(), &message));
    if (!tensors.back())
      return error(what + " '" + inputName +
                   "': " + takeRuntimeMessage(message));
    files.erase(it);
  }
  if (!files.empty())
    return error("the model has no input named '" + files.begin()->getKey() +
                 "'");
  return true;
}



/// Loads an expected output: .npy, or a TensorProto .pb.
TensorPtr loadExpected(llvm::StringRef path, std::string &error) {
  char *message = nullptr;
  if (path.ends_with(".npy")) {
    TensorPtr t(shearsTensorLoadNpy(path.str().c_str(), &message));
    if (!t)
      error = takeRuntimeMessage(message);
    return t;
  }
  auto file = shears::readTensorProtoFile(path, error);
  if (!file)
    return nullptr;
  ShearsDType dtype;
  if (shearsDTypeFromName(file->dtype.c_str(), &dtype) != 0) {
    error = "unsupported dtype " + file->dtype;
    return nullptr;
  }
  TensorPtr t(shearsTensorCreate(dtype, file->shape.size(),
                                 file->shape.data(), file->bytes.data(),
                                 &message));
  if (!t)
    error = takeRuntimeMessage(message);
  return t;
}

/// Compares `actual` with `expected` element by element (as doubles);
/// returns an empty string or what differs where.
std::string compare(const ShearsTensor *actual, const ShearsTensor *expected,
                    double rtol, double atol) {
  auto shapeOf = [](const ShearsTensor *t) {
    return llvm::ArrayRef<int64_t>(shearsTensorShape(t), shearsTensorRank(t));
  };
  auto typeOf = [&](const ShearsTensor *t) {
    char *s = shearsTypeToString(shearsTensorDType(t), shearsTensorRank(t),
                                 shearsTensorShape(t));
    return takeRuntimeMessage(s);
  };
  if (shearsTensorDType(actual) != shearsTensorDType(expected) ||
      shapeOf(actual) != shapeOf(expected))
    return "got " + typeOf(actual) + ", expected " + typeOf(expected);
  auto value = [](const ShearsTensor *t, size_t i) -> double {
    const char *data = static_cast<const char *>(shearsTensorData(t));
    switch (shearsTensorDType(t)) {
    case SHEARS_DTYPE_F32:
      return reinterpret_cast<const float *>(data)[i];
    case SHEARS_DTYPE_F64:
      return reinterpret_cast<const double *>(data)[i];
    case SHEARS_DTYPE_I64:
      return reinterpret_cast<const int64_t *>(data)[i];
    case SHEARS_DTYPE_I32:
      return reinterpret_cast<const int32_t *>(data)[i];
    case SHEARS_DTYPE_I8:
      return reinterpret_cast<const int8_t *>(data)[i];
    default:
      return reinterpret_cast<const uint8_t *>(data)[i];
    }
  };
  size_t n = shearsTensorNumElements(actual), bad = 0, worst = 0;
  double worstExcess = 0;
  for (size_t i = 0; i < n; ++i) {
    double a = value(actual, i), e = value(expected, i);
    if (std::isnan(a) && std::isnan(e))
      continue;
    double excess = std::fabs(a - e) - (atol + rtol * std::fabs(e));
    if (!(excess <= 0) && (bad++ == 0 || excess > worstExcess)) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (!bad)
    return "";
  // Flat index -> coordinates, for the message.
  llvm::SmallVector<int64_t> coords(shearsTensorRank(actual));
  size_t rest = worst;
  for (int d = coords.size() - 1; d >= 0; --d) {
    int64_t size = shapeOf(actual)[d];
    coords[d] = size ? rest % size : 0;
    rest = size ? rest / size : 0;
  }
  std::string where;
  llvm::raw_string_ostream os(where);
  os << bad << " of " << n << " elements differ; worst at [";
  llvm::interleaveComma(coords, os);
  os << "]: got " << value(actual, worst) << ", expected "
     << value(expected, worst) << " (rtol " << rtol << ", atol " << atol
     << ")";
  return where;
}

} // namespace

/// --threads, when given, must be a count the runtime takes; it then sets
/// this process's kernel threads too, so that --time-sparse times the
/// kernels on as many threads as the model uses.
static bool useThreads(StringRef name, const Opt<int> &threads) {
  if (!threads.getNumOccurrences())
    return true;
  if (threads >= 1 && threads <= SHEARS_MAX_THREADS) {
    shears_uk_set_num_threads(threads);
    return true;
  }
  fail(name, "--threads must be between 1 and " +
                 std::to_string(SHEARS_MAX_THREADS) + ", got " +
                 std::to_string(threads));
  return false;
}

static const char *const sparseDensityHelp =
    "Linear layers and convolutions (one group) with at most this fraction "
    "of non-zero weights may run on the sparse kernels (0 to 1; 0: never; "
    "default 0.5, where timing decides which do; 0.2 with "
    "--time-sparse=false)";

/// --sparse-density, --time-sparse and --explain-sparse: which linear
/// layers and convolutions run on spgemm and spconv2d.
struct SparseKernelFlags {
  Opt<double> density;
  Opt<bool> time, explain;

  explicit SparseKernelFlags(cl::OptionCategory &cat)
      : density("sparse-density", cl::desc(sparseDensityHelp),
                cl::init(shears::kDefaultSparseDensity),
                cl::value_desc("fraction"), cl::cat(cat)),
        time("time-sparse",
             cl::desc("Time the dense and the sparse kernel on each layer "
                      "at or below --sparse-density, on this machine, and "
                      "run it sparse only where that takes at most 0.9 of "
                      "the dense kernel's time at batches 1, 4, 8 and 64 "
                      "(a convolution: on one image; default: on; =false: "
                      "the density alone decides)"),
             cl::init(true), cl::cat(cat)),
        explain("explain-sparse",
                cl::desc("Print each timed layer's times and choice"),
                cl::cat(cat)) {}

  /// --sparse-density is a fraction.
  bool check(StringRef name) const {
    if (density >= 0.0 && density <= 1.0)
      return true;
    fail(name, "--sparse-density must be between 0 and 1, got " +
                   llvm::formatv("{0}", density.getValue()).str());
    return false;
  }

  /// Timing on this machine tells nothing about another CPU's code.
  shears::SparseKernelOptions options(StringRef targetCPU = "") const {
    shears::SparseKernelOptions options =
        time && targetCPU.empty() ? shears::SparseKernelOptions::timed(explain)
                                  : shears::SparseKernelOptions{};
    if (density.getNumOccurrences())
      options.density = density;
    return options;
  }
};

/// --device or --target, --gpu-arch and --gpu-precision.
struct DeviceFlags {
  // cl::opt keeps only references to its texts: these outlive the options.
  std::string flag, archHelp, precisionHelp;
  Opt<std::string> device, arch, precision;

  DeviceFlags(cl::OptionCategory &cat, StringRef name, const char *help)
      : flag(name.str()), archHelp("GPU architecture of the kernels with --" +
                                   flag + " cuda: sm_90 (default) or sm_80"),
        precisionHelp(
            "With --" + flag +
            " cuda, what large matrix products and convolutions multiply in: "
            "fp32 (default), tf32, fp16 or bf16 (tensor cores, operands "
            "rounded, sums in f32: results within about 1e-2 of fp32's, "
            "5e-2 with bf16; see docs/GPU.md)"),
        device(StringRef(flag), cl::desc(help), cl::init("cpu"),
               cl::value_desc(flag), cl::cat(cat)),
        arch("gpu-arch", cl::desc(archHelp), cl::init("sm_90"),
             cl::value_desc("sm_XY"), cl::cat(cat)),
        precision("gpu-precision", cl::desc(precisionHelp), cl::init("fp32"),
                  cl::value_desc("precision"), cl::cat(cat)) {}

  shears::GPUTarget gpu() const { return {arch, precision}; }

  /// The device, if the flags name one and make sense together.
  std::optional<shears::Device> check(StringRef name) const {
    std::optional<shears::Device> parsed = shears::parseDevice(device);
    if (!parsed) {
      fail(name, "--" + flag + " must be cpu or cuda, got '" +
                     device.getValue() + "'");
      return std::nullopt;
    }
    std::string invalid = shears::checkGPUTarget(gpu());
    if (!invalid.empty()) {
      fail(name, invalid);
      return std::nullopt;
    }
    for (const Opt<std::string> *gpuFlag : {&arch, &precision})
      if (gpuFlag->getNumOccurrences() && *parsed != shears::Device::CUDA) {
        fail(name, "--" + gpuFlag->ArgStr.str() + " needs --" + flag + " cuda");
        return std::nullopt;
      }
    return parsed;
  }
};

int shears::runModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = runCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  List<std::string> inputSpecs(
      "input", cl::desc("An input: NAME=FILE.npy (repeat per input)"),
      cl::value_desc("name=file.npy"), cl::cat(cat));
  Opt<std::string> outputDir("output-dir",
                             cl::desc("Write each output as DIR/<name>.npy"),
                             cl::value_desc("dir"), cl::cat(cat));
  Opt<std::string> compareDir(
      "compare",
      cl::desc("Compare outputs with DIR/<name>.npy, DIR/<name>.pb or "
               "DIR/output_<i>.pb (ONNX test data)"),
      cl::value_desc("dir"), cl::cat(cat));
  Opt<double> relTolerance("rtol", cl::desc("Relative tolerance"),
                           cl::init(1e-4), cl::cat(cat));
  Opt<double> absTolerance("atol", cl::desc("Absolute tolerance"),
                           cl::init(1e-5), cl::cat(cat));
  Opt<unsigned> benchmark(
      "benchmark", cl::desc("Run N more times and print latency median/min/max"),
      cl::init(0), cl::value_desc("N"), cl::cat(cat));
  releaseOptionName("threads");
  Opt<int> threads(
      "threads",
      cl::desc("Threads the kernels use, 1 to 1024 (default: every CPU; the "
               "outputs do not depend on it)"),
      cl::init(0), cl::value_desc("N"), cl::cat(cat));
  SparseKernelFlags sparse(cat);
  DeviceFlags devices(cat, "device",
                      "Where the model runs: cpu (default) or cuda (an "
                      "NVIDIA GPU; needs its driver)");
  Opt<bool> emulateGPU(
      "emulate-gpu",
      cl::desc("With --device cuda: run the GPU-mapped code on the CPU, "
               "block after block (to test the GPU pipeline without a GPU)"),
      cl::Hidden, cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Compiles a model for this CPU or a GPU (JIT) and runs it on .npy "
      "inputs.\n\n  " +
          name + " model.onnx --input input=x.npy --output-dir out/\n  " +
          name + " model.onnx --input input=x.npy --compare expected/\n  " +
          name + " model.onnx --input input=x.npy --benchmark 100\n  " + name +
          " model.onnx --input input=x.npy --device cuda\n");

  if (!useThreads(name, threads) || !sparse.check(name))
    return 1;
  std::optional<shears::Device> device = devices.check(name);
  if (!device)
    return 1;
  if (emulateGPU) {
    if (*device != shears::Device::CUDA)
      return fail(name, "--emulate-gpu needs --device cuda");
    device = shears::Device::CUDAEmulated;
  }

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadAndLower(modelPath, cc.context, cc.sourceMgr, "",
                           sparse.options(), *device, devices.gpu());
  if (!module)
    return 1;
  std::string error;
  ModelPtr model(
      shears::jitCompile(*module, error));
  if (!model)
    return fail(name, "JIT compilation failed: " + error);
  char *threadError = nullptr;
  if (threads.getNumOccurrences() &&
      shearsModelSetThreads(model.get(), threads, &threadError) != 0)
    return fail(name, takeRuntimeMessage(threadError));

  // Inputs by name, in signature order.
  std::vector<std::string> inputNames;
  for (size_t i = 0, e = shearsModelNumInputs(model.get()); i < e; ++i)
    inputNames.push_back(shearsModelInputName(model.get(), i));
  std::vector<TensorPtr> inputs;
  if (!loadInputs(name, "--input", "input", inputSpecs, inputNames, inputs))
    return 1;

  std::vector<const ShearsTensor *> inputPtrs;
  for (const TensorPtr &t : inputs)
    inputPtrs.push_back(t.get());
  size_t numOutputs = shearsModelNumOutputs(model.get());
  auto run = [&](std::vector<TensorPtr> &outputs) -> bool {
    std::vector<ShearsTensor *> raw(numOutputs, nullptr);
    char *message = nullptr;
    if (shearsModelRun(model.get(), inputPtrs.data(), inputPtrs.size(),
                       raw.data(), &message) != 0) {
      error = takeRuntimeMessage(message);
      return false;
    }
    outputs.clear();
    for (ShearsTensor *t : raw)
      outputs.emplace_back(t);
    return true;
  };
  std::vector<TensorPtr> outputs;
  if (!run(outputs))
    return fail(name, error);

  if (benchmark > 0) {
    // On the GPU, also the device's own time for each run (CUDA events).
    bool gpu = *device == shears::Device::CUDA;
    if (gpu)
      shears_gpu_set_timing(1);
    std::vector<double> times, gpuTimes;
    std::vector<TensorPtr> scratch;
    for (unsigned i = 0; i < benchmark; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!run(scratch))
        return fail(name, error);
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
      if (gpu)
        gpuTimes.push_back(shears_gpu_take_time_ms());
    }
    // Then as many runs with each kernel timed: the kernels' own time,
    // without the copies (the events around each launch cost a little).
    std::vector<double> kernelTimes, longestKernels;
    if (gpu) {
      shears_gpu_set_timing(2);
      for (unsigned i = 0; i < benchmark; ++i) {
        if (!run(scratch))
          return fail(name, error);
        double longest = 0;
        kernelTimes.push_back(shears_gpu_take_kernel_time_ms(&longest));
        longestKernels.push_back(longest);
      }
      shears_gpu_set_timing(0);
    }
    auto report = [&](StringRef what, std::vector<double> &ms) {
      std::sort(ms.begin(), ms.end());
      llvm::outs() << llvm::formatv(
          "{0} over {1} runs: median {2:f3} ms, min {3:f3} ms, max {4:f3} "
          "ms\n",
          what, ms.size(), ms[ms.size() / 2], ms.front(), ms.back());
    };
    report("latency", times);
    if (gpu) {
      report("GPU time (events)", gpuTimes);
      report("GPU kernels (events)", kernelTimes);
      report("longest GPU kernel (events)", longestKernels);
    }
  }

  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return fail(name, "cannot create '" + outputDir + "': " + ec.message());
    for (size_t i = 0; i < numOutputs; ++i) {
      std::string outputName = shearsModelOutputName(model.get(), i);
      for (char &c : outputName)
        if (!llvm::isAlnum(c) && c != '.' && c != '-' && c != '_')
          c = '_';
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, outputName + ".npy");
      char *message = nullptr;
      if (shearsTensorSaveNpy(outputs[i].get(), path.c_str(), &message) != 0)
        return fail(name, takeRuntimeMessage(message));
    }
  }

  int status = 0;
  if (!compareDir.empty()) {
    for (size_t i = 0; i < numOutputs; ++i) {
      std::string outputName = shearsModelOutputName(model.get(), i);
      std::string candidates[] = {outputName + ".npy", outputName + ".pb",
                                  "output_" + std::to_string(i) + ".pb",
                                  "output_" + std::to_string(i) + ".npy"};
      std::string found;
      for (const std::string &c : candidates) {
        llvm::SmallString<256> path(compareDir);
        llvm::sys::path::append(path, c);
        if (llvm::sys::fs::exists(path)) {
          found = path.str().str();
          break;
        }
      }
      if (found.empty())
        return fail(name, "no expected value for output '" + outputName +
                              "' in " + compareDir);
      TensorPtr expected = loadExpected(found, error);
      if (!expected)
        return fail(name, found + ": " + error);
      std::string diff = compare(outputs[i].get(), expected.get(),
                                 relTolerance, absTolerance);
      llvm::outs() << "output '" << outputName
                   << "': " << (diff.empty() ? "matches " + found : diff)
                   << "\n";
      if (!diff.empty())
        status = 1;
    }
  }
  return status;
}

//===----------------------------------------------------------------------===//
// compile
//===----------------------------------------------------------------------===//

int shears::compileModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = compileCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> outputPath("o", cl::Required,
                              cl::desc("Shared library to write"),
                              cl::value_desc("libmodel.so"), cl::cat(cat));
  Opt<std::string> headerPath(
      "header",
      cl::desc("C header to write (default: the library's path with .h)"),
      cl::value_desc("model.h"), cl::cat(cat));
  Opt<std::string> targetCPU(
      "target-cpu",
      cl::desc("CPU to generate code for instead of this machine's (e.g. "
               "x86-64-v2, for a library that runs anywhere or under "
               "valgrind)"),
      cl::value_desc("cpu"), cl::cat(cat));
  releaseOptionName("threads");
  Opt<int> threads(
      "threads",
      cl::desc("Default thread count of the library, 1 to 1024 (default: "
               "every CPU of the machine it runs on)"),
      cl::init(0), cl::value_desc("N"), cl::cat(cat));
  SparseKernelFlags sparse(cat);
  DeviceFlags targets(cat, "target",
                      "What the library runs on: cpu (default) or cuda (PTX "
                      "kernels for an NVIDIA GPU, embedded; at run time the "
                      "library needs only libc, libdl and the GPU's driver)");
  parseCommandLine(
      argc, argv, cat,
      "Compiles a model for this CPU or a GPU into a shared library with a C "
      "ABI.\n\n"
      "  " +
          name + " model.onnx -o libmodel.so   # also writes libmodel.h\n  " +
          name +
          " model.onnx --target cuda -o libmodel.so\n"
          "Load it with shearsModelLoadLibrary() from "
          "include/shears-c/Runtime.h.\n");

  if (!useThreads(name, threads) || !sparse.check(name))
    return 1;
  std::optional<shears::Device> device = targets.check(name);
  if (!device)
    return 1;
  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadAndLower(modelPath, cc.context, cc.sourceMgr, targetCPU,
                           sparse.options(targetCPU), *device, targets.gpu());
  if (!module)
    return 1;
  auto signature = module->lookupSymbol<LLVM::GlobalOp>("shears_signature");
  std::string json;
  if (auto value = signature ? dyn_cast_or_null<StringAttr>(
                                   signature.getValueOrNull())
                             : StringAttr())
    json = value.getValue().rtrim('\0').str();

  std::string error;
  if (failed(shears::compileSharedLibrary(*module, outputPath, error,
                                          targetCPU, threads)))
    return fail(name, error);

  std::string header = headerPath;
  if (header.empty()) {
    llvm::SmallString<256> path(outputPath);
    llvm::sys::path::replace_extension(path, ".h");
    header = path.str().str();
  }
  if (failed(writeFile(header,
                       shears::generateHeader(
                           json, llvm::sys::path::filename(outputPath)),
                       error))) {
    llvm::sys::fs::remove(outputPath);
    return fail(name, error);
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// calibrate
//===----------------------------------------------------------------------===//

/// What `shears calibrate` measures: measureInputNorms or
/// measureActivationRanges.
using Measure = FailureOr<std::vector<std::pair<std::string, shears::NpzArray>>> (
    *)(ModuleOp, ArrayRef<const ShearsTensor *>, int64_t, std::string &,
       llvm::function_ref<void(int64_t, int64_t)>);

/// Loads samples for `module`'s inputs given as NAME=FILE.npy with `option`
/// (in the order of the entry function's arguments) and checks that float
/// samples are finite; false after the error is printed.
static bool loadSamples(llvm::StringRef name, ModuleOp module,
                        llvm::StringRef option,
                        llvm::ArrayRef<std::string> specs,
                        std::vector<TensorPtr> &samples) {
  func::FuncOp func = shears::lookupEntryFunction(module);
  if (!func) {
    fail(name, "no entry function: expected `main` or a single public "
               "function");
    return false;
  }
  std::vector<std::string> inputNames;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    inputNames.push_back(shears::getEntryValueName(func, i, /*result=*/false));
  if (!loadInputs(name, option, "calibration input", specs, inputNames,
                  samples))
    return false;
  for (auto [sample, inputName] : llvm::zip(samples, inputNames)) {
    if (shearsTensorDType(sample.get()) != SHEARS_DTYPE_F32)
      continue;
    std::string nonFinite = shears::describeNonFinite(llvm::ArrayRef(
        static_cast<const float *>(shearsTensorData(sample.get())),
        shearsTensorNumElements(sample.get())));
    if (!nonFinite.empty()) {
      fail(name, "calibration input '" + inputName + "' holds " + nonFinite);
      return false;
    }
  }
  return true;
}

/// Reports `done` of `total` `units` on stderr: on a terminal the line
/// counts up, in a log only the total shows.
static void printProgress(llvm::StringRef name, llvm::StringRef what,
                          int64_t done, int64_t total, llvm::StringRef units) {
  bool terminal = llvm::errs().is_displayed();
  if (!terminal && done != total)
    return;
  llvm::errs() << (terminal ? "\r" : "") << name << ": " << what << " " << done
               << "/" << total << " " << units;
  if (done == total)
    llvm::errs() << "\n";
}

/// Loads calibration samples given as NAME=FILE.npy with `option`,
/// `measure`s `module`'s layers on them and writes the result to
/// `outputPath`. Returns the exit status; progress goes to stderr.
static int measureLayers(llvm::StringRef name, ModuleOp module,
                         llvm::StringRef option,
                         llvm::ArrayRef<std::string> specs, int64_t batch,
                         llvm::StringRef outputPath, Measure measure) {
  std::vector<TensorPtr> samples;
  if (!loadSamples(name, module, option, specs, samples))
    return 1;
  std::vector<const ShearsTensor *> pointers;
  for (const TensorPtr &t : samples)
    pointers.push_back(t.get());

  std::string error;
  auto progress = [&](int64_t done, int64_t total) {
    printProgress(name, "calibrated on", done, total, "samples");
  };
  auto arrays = measure(module, pointers, batch, error, progress);
  if (failed(arrays))
    return fail(name, "calibration failed: " + error);
  if (llvm::Error e = shears::writeNpz(outputPath, *arrays))
    return fail(name, llvm::toString(std::move(e)));
  return 0;
}

/// A temporary .npz removed when the command ends: statistics measured in
/// the command and read by a pass.
struct TemporaryNpz {
  std::string path;
  std::optional<llvm::FileRemover> remover;

  int create(llvm::StringRef command, llvm::StringRef prefix) {
    llvm::SmallString<128> temp;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile(prefix, "npz", temp))
      return fail(command, "cannot create a temporary file: " + ec.message());
    remover.emplace(temp);
    path = temp.str().str();
    return 0;
  }
};

/// Where a pass reads its statistics: `given` (an .npz the user named), or,
/// when the command calibrates, a temporary .npz it measures into (`file`,
/// named after `prefix`). Returns the exit status.
static int statisticsPath(llvm::StringRef command, bool calibrating,
                          llvm::StringRef given, llvm::StringRef prefix,
                          TemporaryNpz &file, std::string &path) {
  path = given.str();
  if (!calibrating)
    return 0;
  if (int status = file.create(command, prefix))
    return status;
  path = file.path;
  return 0;
}

/// `pass` with the options a command forwards to it (flag name, value;
/// empty values left out), parsed by the pass itself so that one validation
/// applies; null after the error is printed. A value may not hold '"'.
static std::unique_ptr<Pass> withOptions(
    llvm::StringRef command, std::unique_ptr<Pass> pass,
    llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> options,
    llvm::ArrayRef<std::pair<llvm::StringRef, llvm::ArrayRef<std::string>>>
        lists = {}) {
  std::string text;
  for (auto [key, value] : options) {
    if (value.empty())
      continue;
    if (value.contains('"')) {
      fail(command, "--" + key + " must not contain '\"'");
      return nullptr;
    }
    text += (key + "=\"" + value + "\" ").str();
  }
  // A list option as {"a","b"}: an item may hold commas.
  for (auto [key, items] : lists) {
    if (items.empty())
      continue;
    std::vector<std::string> quoted;
    for (const std::string &item : items) {
      if (llvm::StringRef(item).contains('"')) {
        fail(command, "--" + key + " must not contain '\"'");
        return nullptr;
      }
      quoted.push_back("\"" + item + "\"");
    }
    text += (key + "={" + llvm::join(quoted, ",") + "} ").str();
  }
  std::string error;
  if (failed(pass->initializeOptions(text, [&](const llvm::Twine &message) {
        error = message.str();
        return failure();
      }))) {
    if (!error.empty())
      fail(command, error);
    return nullptr;
  }
  return pass;
}

/// Writes `module` to `outputPath`: MLIR text (with locations, which carry
/// the ONNX node names) for a .mlir path, else ONNX. The whole output is
/// made before the file is opened: a model that cannot be exported leaves
/// no file.
static int writeModel(llvm::StringRef command, ModuleOp module,
                      llvm::StringRef outputPath,
                      const shears::ExportOptions &exportOptions = {}) {
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (outputPath.ends_with(".mlir"))
    module->print(os, OpPrintingFlags().enableDebugInfo());
  else if (failed(shears::exportToONNX(module, os, exportOptions)))
    return fail(command, "cannot export the model to ONNX");
  std::string error;
  if (failed(writeFile(outputPath, bytes, error)))
    return fail(command, error);
  return 0;
}

/// Prints the parameters, non-zero parameters and file size of a model
/// before and after a command changed it, and the ratios.
static void printSizeChange(const shears::ModelReport &before,
                            const shears::ModelReport &after,
                            llvm::StringRef modelPath,
                            llvm::StringRef outputPath) {
  auto bytesString = [](const shears::ModelReport &r) {
    return r.onnxBytes ? std::to_string(*r.onnxBytes) + " bytes"
                       : std::string("-");
  };
  auto ratio = [](int64_t a, int64_t b) {
    return b > 0 ? llvm::formatv("{0:f2}x", double(a) / b).str()
                 : std::string("-");
  };
  llvm::outs() << llvm::formatv(
      "before: {0,10} parameters, {1,10} nonzero ({2:f1}% sparse), {3} "
      "({4})\n",
      before.parameters, before.nonzeroParameters, before.sparsity() * 100,
      bytesString(before), modelPath);
  llvm::outs() << llvm::formatv(
      "after:  {0,10} parameters, {1,10} nonzero ({2:f1}% sparse), {3} "
      "({4})\n",
      after.parameters, after.nonzeroParameters, after.sparsity() * 100,
      bytesString(after), outputPath);
  llvm::outs() << "smaller by: " << ratio(before.parameters, after.parameters)
               << " parameters, "
               << ratio(before.nonzeroParameters, after.nonzeroParameters)
               << " nonzero";
  if (before.onnxBytes && after.onnxBytes)
    llvm::outs() << ", " << ratio(*before.onnxBytes, *after.onnxBytes)
                 << " file";
  llvm::outs() << "\n";
}

int shears::calibrateModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = calibrateCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  List<std::string> inputSpecs(
      "input",
      cl::desc("Calibration samples of an input: NAME=FILE.npy, first axis "
               "the samples (repeat per input)"),
      cl::value_desc("name=file.npy"), cl::OneOrMore, cl::cat(cat));
  Opt<std::string> outputPath("o", cl::Required,
                              cl::desc("The .npz of norms to write"),
                              cl::value_desc("norms.npz"), cl::cat(cat));
  Opt<int64_t> batch("batch", cl::desc("Samples per run (default 256)"),
                     cl::init(256), cl::cat(cat));
  Opt<bool> quantization(
      "quantization",
      cl::desc("Write the statistics quantization reads instead: per layer "
               "NAME.range (min, max of its input) and NAME.histogram (" +
               std::to_string(shears::kHistogramBins) +
               " bins over [-A, A], A the largest magnitude)"),
      cl::cat(cat));
  Opt<bool> gram(
      "gram",
      cl::desc("Write what shears lowrank reads instead: per linear layer "
               "and ungrouped convolution NAME.gram, the Gram matrix X^T X "
               "of its inputs (im2col patches for a convolution)"),
      cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Runs a model on calibration samples (JIT) and writes, per layer that "
      "pruning scores, the L2 norm of each input channel over the samples: "
      "an .npz keyed by ONNX node name, what --criterion activation "
      "(Wanda) reads. With --quantization, the ranges and histograms of the "
      "layers' inputs, what shears quantize --statistics reads; with --gram, "
      "their Gram matrices, what shears lowrank --statistics reads.\n\n  " +
          name + " model.onnx --input input=calib.npy -o norms.npz\n  " +
          "shears prune model.onnx --criterion activation --activations "
          "norms.npz -o small.onnx\n  " +
          name +
          " model.onnx --input input=calib.npy --quantization -o stats.npz\n"
          "  shears quantize model.onnx --statistics stats.npz --method "
          "entropy -o int8.onnx\n  " +
          name +
          " model.onnx --input input=calib.npy --gram -o grams.npz\n"
          "  shears lowrank model.onnx --statistics grams.npz -o small.onnx\n");
  if (batch < 1)
    return fail(name, "--batch must be positive");
  if (quantization && gram)
    return fail(name, "give --quantization or --gram, not both");
  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  if (int status =
          measureLayers(name, *module, "--input", inputSpecs, batch, outputPath,
                        quantization ? shears::measureActivationRanges
                        : gram       ? shears::measureInputGrams
                                     : shears::measureInputNorms))
    return status;
  llvm::outs() << "wrote "
               << (quantization ? "input statistics"
                   : gram       ? "input Gram matrices"
                                : "input norms")
               << " of the layers of '" << modelPath << "' to '" << outputPath
               << "'\n";
  return 0;
}

//===----------------------------------------------------------------------===//
// prune
//===----------------------------------------------------------------------===//

int shears::pruneModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = pruneCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> outputPath(
      "o", cl::Required,
      cl::desc("Pruned model to write: ONNX, or MLIR text for a .mlir path"),
      cl::value_desc("small.onnx"), cl::cat(cat));
  Opt<double> sparsity(
      "sparsity",
      cl::desc("Fraction of weights (or channels) to remove, in [0, 1) "
               "(default 0.5)"),
      cl::init(0.5), cl::cat(cat));
  Opt<std::string> granularity(
      "granularity",
      cl::desc("What goes together: unstructured (single weights), channel "
               "(output channels/filters), input-channel, n:m, block (default "
               "unstructured)"),
      cl::init("unstructured"), cl::cat(cat));
  Opt<std::string> criterion(
      "criterion",
      cl::desc("Which go first: magnitude (|w|, L1 of a structure; the "
               "default), l2, random, taylor (|w * dL/dw|, needs "
               "--gradients), activation (|w| * input norm, Wanda; needs "
               "--calibration or --activations), obs (SparseGPT: OBS with "
               "the kept weights updated to make up for the pruned ones; "
               "unstructured or n:m; needs --calibration or --hessians)"),
      cl::init("magnitude"), cl::cat(cat));
  Opt<std::string> gradients(
      "gradients",
      cl::desc(".npz of dL/dw per ONNX initializer (utils/onnx_gradients.py "
               "writes it) for --criterion taylor"),
      cl::value_desc("grads.npz"), cl::cat(cat));
  Opt<std::string> activations(
      "activations",
      cl::desc(".npz of input-channel norms per layer (shears calibrate "
               "writes it) for --criterion activation"),
      cl::value_desc("norms.npz"), cl::cat(cat));
  Opt<std::string> hessians(
      "hessians",
      cl::desc(".npz of the Gram matrices of the layers' inputs (shears "
               "calibrate --gram writes it) for --criterion obs"),
      cl::value_desc("grams.npz"), cl::cat(cat));
  Opt<double> damp(
      "damp",
      cl::desc("--criterion obs, --reconstruct: added to each Gram matrix's "
               "diagonal, relative to its mean (default 0.01)"),
      cl::init(0.01), cl::cat(cat));
  Opt<bool> reconstruct(
      "reconstruct",
      cl::desc("--granularity channel: refit the layers that read pruned "
               "channels by least squares on calibration data (needs "
               "--calibration or --hessians)"),
      cl::cat(cat));
  List<std::string> calibration(
      "calibration",
      cl::desc("For --criterion activation or obs: measure the input norms "
               "(or Gram matrices) on these samples (NAME=FILE.npy, first "
               "axis the samples; repeat per input)"),
      cl::value_desc("name=file.npy"), cl::cat(cat));
  Opt<int64_t> calibrationBatch(
      "calibration-batch",
      cl::desc("Samples per run while calibrating (default 256)"),
      cl::init(256), cl::cat(cat));
  List<std::string> layerSparsity(
      "layer-sparsity",
      cl::desc("REGEX=SPARSITY: layers whose ONNX node name matches REGEX get "
               "this sparsity (repeatable; the first match wins)"),
      cl::value_desc("regex=s"), cl::cat(cat));
  Opt<std::string> sensitivity(
      "sensitivity",
      cl::desc("Per-layer curves (shears sensitivity writes them) that "
               "--budget allocates sparsities with"),
      cl::value_desc("sens.json"), cl::cat(cat));
  Opt<std::string> budget(
      "budget",
      cl::desc("params=F, macs=F or latency=F: keep the fraction F of the "
               "layers' parameters (or MACs, or of the model's latency as "
               "shears sensitivity --latency-batch measured it), sparsity "
               "per layer chosen from --sensitivity where it loses the "
               "least"),
      cl::value_desc("params=F"), cl::cat(cat));
  Opt<bool> shrinkInputs(
      "shrink-inputs",
      cl::desc("Also drop input features no layer reads from the model's "
               "inputs (changes the model's input shape)"),
      cl::cat(cat));
  Opt<std::string> scope(
      "scope",
      cl::desc("layer (every layer at --sparsity; the default) or global "
               "(one threshold across layers)"),
      cl::init("layer"), cl::cat(cat));
  Opt<std::string> exclude(
      "exclude",
      cl::desc("Regex of ONNX node names whose weights stay dense (e.g. the "
               "classifier)"),
      cl::value_desc("regex"), cl::cat(cat));
  Opt<int64_t> minChannels("min-channels",
                           cl::desc("Channels kept at least per layer"),
                           cl::init(1), cl::cat(cat));
  Opt<int64_t> roundTo(
      "round-to",
      cl::desc("--granularity channel: round the channels kept per layer up "
               "to a multiple of N (8 or 16 suit engines with blocked "
               "layouts, such as ONNX Runtime's)"),
      cl::init(1), cl::value_desc("N"), cl::cat(cat));
  Opt<int64_t> n("n",
                 cl::desc("n:m keeps N of every M consecutive weights "
                          "along the input dim"),
                 cl::init(2), cl::value_desc("N"), cl::cat(cat));
  Opt<int64_t> m("m", cl::desc("M of n:m"), cl::init(4), cl::value_desc("M"),
                 cl::cat(cat));
  Opt<int64_t> blockRows("block-rows", cl::desc("Rows of a block"),
                         cl::init(4), cl::cat(cat));
  Opt<int64_t> blockCols("block-cols", cl::desc("Columns of a block"),
                         cl::init(4), cl::cat(cat));
  Opt<int64_t> seed("seed", cl::desc("Seed of the random criterion"),
                    cl::init(0), cl::cat(cat));
  Opt<bool> printReport(
      "report", cl::desc("Also print the pruned model's per-layer report"),
      cl::cat(cat));
  Opt<bool> sparseInitializers(
      "sparse-initializers",
      cl::desc("Store a weight as an ONNX sparse_initializer (its non-zero "
               "values and their indices) where that is smaller: below about "
               "half of an f32 weight non-zero (default true; "
               "--sparse-initializers=false keeps every weight dense, as "
               "onnx.checker's full_check needs)"),
      cl::init(true), cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Prunes a model (insert masks, fold them, remove dead channels: the "
      "shears-prune pipeline) and writes it back as ONNX.\n\n  " +
          name +
          " model.onnx --sparsity 0.5 --granularity channel -o small.onnx\n"
          "  " +
          name +
          " model.onnx --sparsity 0.9 --scope global --exclude '^/4/Gemm$' "
          "-o sparse.onnx\n  " +
          name +
          " model.onnx --granularity n:m --n 2 --m 4 -o 2of4.onnx\n"
          "  " +
          name +
          " model.onnx --criterion activation --calibration input=x.npy "
          "-o wanda.onnx\n  " +
          name +
          " model.onnx --criterion obs --sparsity 0.7 --calibration "
          "input=x.npy -o sparsegpt.onnx\n  " +
          name +
          " model.onnx --criterion taylor --gradients grads.npz "
          "--layer-sparsity '^/fc1/=0.3' -o taylor.onnx\n");

  if (criterion == "taylor" && gradients.empty())
    return fail(name, "--criterion taylor needs --gradients FILE.npz "
                      "(utils/onnx_gradients.py computes them)");
  if (criterion == "activation" && activations.empty() && calibration.empty())
    return fail(name, "--criterion activation needs --calibration "
                      "NAME=FILE.npy or --activations FILE.npz");
  if (!calibration.empty() && !activations.empty())
    return fail(name, "give --calibration or --activations, not both");
  if (criterion == "obs" && hessians.empty() && calibration.empty())
    return fail(name, "--criterion obs needs --calibration NAME=FILE.npy or "
                      "--hessians FILE.npz");
  if (budget.empty() != sensitivity.empty())
    return fail(name, "--budget and --sensitivity go together");
  if (!budget.empty() && !layerSparsity.empty())
    return fail(name, "give --budget or --layer-sparsity, not both");
  std::vector<std::string> allocated;
  if (!budget.empty()) {
    shears::BudgetKind kind;
    double keep;
    std::string error;
    if (failed(shears::parseBudget(budget, kind, keep, error)))
      return fail(name, "--budget " + error);
    auto buffer = llvm::MemoryBuffer::getFile(sensitivity);
    if (!buffer)
      return fail(name, "cannot read '" + sensitivity +
                            "': " + buffer.getError().message());
    auto curves = shears::parseSensitivityJSON((*buffer)->getBuffer(), error);
    if (failed(curves))
      return fail(name, "'" + sensitivity + "': " + error);
    auto sparsities = shears::allocateSparsities(*curves, kind, keep, error);
    if (failed(sparsities))
      return fail(name, error);
    llvm::outs() << "allocated (" << budget << "):";
    for (auto &[layer, s] : *sparsities) {
      allocated.push_back("^" + llvm::Regex::escape(layer) +
                          "$=" + llvm::formatv("{0:f4}", s).str());
      llvm::outs() << " " << layer << llvm::formatv(" {0:P1}", s);
    }
    llvm::outs() << "\n";
  }
  if (reconstruct && hessians.empty() && calibration.empty())
    return fail(name, "--reconstruct needs --calibration NAME=FILE.npy or "
                      "--hessians FILE.npz");
  if (!calibration.empty() && !hessians.empty())
    return fail(name, "give --calibration or --hessians, not both");

  // Activation norms and Gram matrices measured here live in temporary
  // .npz files while the pipeline reads them.
  bool norms = !calibration.empty() && criterion == "activation";
  bool grams = !calibration.empty() && (criterion == "obs" || reconstruct);
  if (!calibration.empty() && !norms && !grams)
    return fail(name, "--calibration is for --criterion activation or obs, "
                      "or --reconstruct");
  TemporaryNpz normsFile, gramFile;
  std::string normsPath, gramPath;
  if (int status = statisticsPath(name, norms, activations, "shears-norms",
                                  normsFile, normsPath))
    return status;
  if (int status = statisticsPath(name, grams, hessians, "shears-grams",
                                  gramFile, gramPath))
    return status;

  // The passes check their options (declared once, in Passes.td) before the
  // model is read or calibrated.
  std::string sparsityText =
      shears::formatNumber(allocated.empty() ? sparsity : 0.0);
  std::string nText = std::to_string(n), mText = std::to_string(m);
  std::string rowsText = std::to_string(blockRows);
  std::string colsText = std::to_string(blockCols);
  std::string minText = std::to_string(minChannels);
  std::string roundText = std::to_string(roundTo);
  std::string seedText = std::to_string(seed);
  std::string dampText = shears::formatNumber(damp);
  std::vector<std::string> overrides(layerSparsity.begin(),
                                     layerSparsity.end());
  std::unique_ptr<Pass> insertMasks = withOptions(
      name, shears::createShearsInsertMasks(),
      {{"sparsity", sparsityText},
       {"criterion", criterion},
       {"granularity", granularity},
       {"n", nText},
       {"m", mText},
       {"block-rows", rowsText},
       {"block-cols", colsText},
       {"scope", scope},
       {"exclude", exclude},
       {"min-channels", minText},
       {"round-to", roundText},
       {"seed", seedText},
       {"gradients", gradients},
       {"activations", normsPath},
       {"hessians", gramPath},
       {"damp", dampText},
       {"reconstruct", reconstruct ? "true" : ""}},
      {{"layer-sparsity", allocated.empty() ? overrides : allocated}});
  if (!insertMasks)
    return 1;
  std::unique_ptr<Pass> eliminate =
      withOptions(name, shears::createShearsEliminateDeadNeurons(),
                  {{"shrink-inputs", shrinkInputs ? "true" : ""}});
  if (!eliminate)
    return 1;

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  shears::ModelReport before = shears::collectModelReport(*module);
  before.onnxBytes = onnxFileSize(modelPath);
  if (norms)
    if (int status = measureLayers(name, *module, "--calibration", calibration,
                                   calibrationBatch, normsPath,
                                   shears::measureInputNorms))
      return status;
  if (grams)
    if (int status = measureLayers(name, *module, "--calibration", calibration,
                                   calibrationBatch, gramPath,
                                   shears::measureInputGrams))
      return status;

  PassManager pm(&cc.context);
  shears::buildShearsPrunePipeline(pm, std::move(insertMasks),
                                   std::move(eliminate));
  if (failed(pm.run(*module)))
    return fail(name, "pruning '" + modelPath + "' failed");
  shears::ModelReport after = shears::collectModelReport(*module);

  shears::ExportOptions exportOptions;
  exportOptions.sparseInitializers = sparseInitializers;
  if (int status = writeModel(name, *module, outputPath, exportOptions))
    return status;
  after.onnxBytes = onnxFileSize(outputPath);

  printSizeChange(before, after, modelPath, outputPath);
  if (printReport)
    shears::printModelReport(after, llvm::outs());
  return 0;
}

//===----------------------------------------------------------------------===//
// quantize
//===----------------------------------------------------------------------===//

int shears::quantizeModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = quantizeCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> outputPath(
      "o", cl::Required,
      cl::desc("Quantized model to write: QDQ ONNX, or MLIR text for a .mlir "
               "path"),
      cl::value_desc("int8.onnx"), cl::cat(cat));
  List<std::string> calibration(
      "calibration",
      cl::desc("Calibrate the activation ranges on these samples "
               "(NAME=FILE.npy, first axis the samples; repeat per input)"),
      cl::value_desc("name=file.npy"), cl::cat(cat));
  Opt<std::string> statistics(
      "statistics",
      cl::desc("Or read them from this .npz (shears calibrate --quantization "
               "writes it)"),
      cl::value_desc("stats.npz"), cl::cat(cat));
  Opt<int64_t> calibrationBatch(
      "calibration-batch",
      cl::desc("Samples per run while calibrating (default 256)"),
      cl::init(256), cl::cat(cat));
  Opt<std::string> method(
      "method",
      cl::desc("How a range is chosen: minmax (the range seen; the "
               "default), percentile (clipped at --percentile of |x|), "
               "entropy (clipped where the KL divergence is least)"),
      cl::init("minmax"), cl::cat(cat));
  Opt<std::string> percentile(
      "percentile",
      cl::desc("--method percentile: the percentile of |x| kept (default "
               "99.99)"),
      cl::init("99.99"), cl::cat(cat));
  Opt<std::string> weights(
      "weights",
      cl::desc("int8 (a scale per output channel; the default), int4 (a "
               "scale per --group-size weights; convolutions int8 with "
               "static activations, for the integer kernels) or "
               "binary (the sign and the mean |w| per output channel)"),
      cl::init("int8"), cl::cat(cat));
  Opt<std::string> groupSize(
      "group-size",
      cl::desc("--weights int4: weights per scale (default 64; a channel's "
               "last group is padded with zeros)"),
      cl::init("64"), cl::cat(cat));
  List<std::string> layerWeights(
      "layer-weights",
      cl::desc("REGEX=FORMAT: layers whose ONNX node name matches REGEX get "
               "weights in this format, int8, int4 or binary (repeatable; "
               "the first match wins)"),
      cl::value_desc("regex=format"), cl::cat(cat));
  Opt<bool> reduceRange(
      "reduce-range",
      cl::desc("--weights int8: integers in [-64, 64] (7 bits and a "
               "sign), which the integer kernels of CPUs with AVX2 but not "
               "AVX512-VNNI need (vpmaddubsw); on those CPUs other int8 "
               "layers run in f32"),
      cl::cat(cat));
  Opt<std::string> activations(
      "activations",
      cl::desc("static (ui8 inputs with calibrated ranges; the default), "
               "dynamic (ui8 inputs of linear layers with their own range, "
               "computed at run time) or none (weights only)"),
      cl::init("static"), cl::cat(cat));
  Opt<std::string> exclude(
      "exclude",
      cl::desc("Regex of ONNX node names whose layers stay f32"),
      cl::value_desc("regex"), cl::cat(cat));
  Opt<bool> printReport(
      "report",
      cl::desc("Also print per layer the weights' format, scales and bytes "
               "and the input's quantization"),
      cl::cat(cat));
  Opt<bool> bitPacking(
      "bit-packing",
      cl::desc("Store int4 and binary weights in 4 and 1 bits a value: a "
               "uint8 initializer and the opset-13 nodes that unpack it "
               "(BitShift, Reshape, Pad, Cast, Sub; default true; "
               "--bit-packing=false stores them in int8)"),
      cl::init(true), cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Quantizes a model (the shears-quantize pass): weights to int8 per "
      "output channel (symmetric i8; or int4 by groups, or binary), layer "
      "inputs per tensor (asymmetric ui8) with ranges calibrated on samples "
      "run through the JIT, and writes it as QDQ ONNX "
      "(QuantizeLinear/DequantizeLinear) that any runtime runs.\n\n  " +
          name +
          " model.onnx --calibration input=x.npy --method entropy -o "
          "int8.onnx\n  " +
          name + " model.onnx --activations none -o weights-int8.onnx\n  " +
          name +
          " model.onnx --activations none --weights int4 --group-size 64 -o "
          "int4.onnx\n  " +
          name +
          " model.onnx --activations none --weights binary --layer-weights "
          "'^/stem/=int8' -o binary.onnx\n");

  bool needsStatistics = activations.getValue() == "static";
  if (calibrationBatch < 1)
    return fail(name, "--calibration-batch must be positive");
  if (needsStatistics && calibration.empty() && statistics.empty())
    return fail(name, "--activations static needs --calibration "
                      "NAME=FILE.npy (or --statistics FILE.npz)");
  if (!calibration.empty() && !statistics.empty())
    return fail(name, "give --calibration or --statistics, not both");
  if (!needsStatistics && !(calibration.empty() && statistics.empty()))
    return fail(name, "--calibration and --statistics are for --activations "
                      "static");

  // The pass checks the options (they are declared once, in Passes.td),
  // before the model is calibrated.
  TemporaryNpz statsFile;
  std::string statsPath;
  if (int status = statisticsPath(name, !calibration.empty(), statistics,
                                  "shears-statistics", statsFile, statsPath))
    return status;
  std::unique_ptr<Pass> quantize = withOptions(
      name, shears::createShearsQuantize(),
      {{"weights", weights},
       {"group-size", groupSize},
       {"reduce-range", reduceRange ? "true" : "false"},
       {"activations", activations},
       {"method", method},
       {"percentile", percentile},
       {"statistics", statsPath},
       {"exclude", exclude}},
      {{"layer-weights",
        std::vector<std::string>(layerWeights.begin(), layerWeights.end())}});
  if (!quantize)
    return 1;

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  std::optional<int64_t> bytesBefore = onnxFileSize(modelPath);
  if (!calibration.empty())
    if (int status = measureLayers(name, *module, "--calibration", calibration,
                                   calibrationBatch, statsPath,
                                   shears::measureActivationRanges))
      return status;

  // The layers as calibration saw them: batch norms folded first.
  PassManager pm(&cc.context);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(std::move(quantize));
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(*module)))
    return fail(name, "quantizing '" + modelPath + "' failed");
  shears::ExportOptions exportOptions;
  exportOptions.packLowBitWeights = bitPacking;
  if (int status = writeModel(name, *module, outputPath, exportOptions))
    return status;

  int64_t inputs = 0;
  module->walk([&](shears::DequantizeOp op) {
    if (isa_and_nonnull<shears::QuantizeOp, shears::DynamicQuantizeOp>(
            op.getInput().getDefiningOp()))
      ++inputs;
  });
  // Layers per weight format, in the order formats first appear.
  std::vector<shears::QuantizedLayer> layers =
      shears::collectQuantizedLayers(*module);
  llvm::MapVector<llvm::StringRef, int64_t> formats;
  for (const shears::QuantizedLayer &layer : layers)
    ++formats[layer.format];
  llvm::outs() << "quantized " << layers.size()
               << (layers.size() == 1 ? " layer to " : " layers to ");
  if (formats.size() <= 1) {
    llvm::outs() << (formats.empty() ? llvm::StringRef(weights)
                                     : formats.front().first);
  } else {
    llvm::interleave(
        formats, llvm::outs(),
        [](auto &f) { llvm::outs() << f.first << " (" << f.second << ")"; },
        ", ");
  }
  llvm::outs() << " weights";
  if (inputs)
    llvm::outs() << " and " << inputs
                 << (inputs == 1 ? " layer input" : " layer inputs")
                 << " to ui8 ("
                 << (needsStatistics ? method.getValue() : "dynamic") << ")";
  llvm::outs() << "\n";
  std::optional<int64_t> bytesAfter = onnxFileSize(outputPath);
  if (bytesBefore && bytesAfter)
    llvm::outs() << llvm::formatv("file: {0} -> {1} bytes ({2:f3}x)\n",
                                  *bytesBefore, *bytesAfter,
                                  double(*bytesAfter) / *bytesBefore);
  if (printReport)
    shears::printQuantizationReport(*module, llvm::outs());
  return 0;
}

//===----------------------------------------------------------------------===//
// sensitivity
//===----------------------------------------------------------------------===//

int shears::sensitivityModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = sensitivityCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  List<std::string> inputSpecs(
      "input",
      cl::desc("Evaluation samples of an input: NAME=FILE.npy, first axis "
               "the samples (repeat per input)"),
      cl::value_desc("name=file.npy"), cl::OneOrMore, cl::cat(cat));
  Opt<std::string> labelsPath(
      "labels",
      cl::desc("Classes of the samples (int32 or int64 .npy): accuracy too"),
      cl::value_desc("labels.npy"), cl::cat(cat));
  Opt<std::string> outputPath("o", cl::Required,
                              cl::desc("The JSON report to write"),
                              cl::value_desc("sensitivity.json"), cl::cat(cat));
  List<double> sparsities(
      "sparsities",
      cl::desc("Sparsities each layer is pruned at (default "
               "0.3,0.5,0.7,0.9)"),
      cl::CommaSeparated, cl::cat(cat));
  Opt<std::string> pruneOptions(
      "prune-options",
      cl::desc("shears-insert-masks options the layers are pruned with, e.g. "
               "'criterion=l2 granularity=channel' (default: magnitude, "
               "unstructured)"),
      cl::value_desc("options"), cl::cat(cat));
  Opt<int64_t> batch("batch", cl::desc("Samples per run (default 256)"),
                     cl::init(256), cl::cat(cat));
  Opt<int64_t> latencyBatch(
      "latency-batch",
      cl::desc("Also time each model, as shears prune writes it and shears "
               "run compiles it, on this many samples a run: the latencies "
               "that --budget latency=F allocates with (default 0: not "
               "timed)"),
      cl::init(0), cl::value_desc("N"), cl::cat(cat));
  Opt<int64_t> latencyRuns(
      "latency-runs",
      cl::desc("With --latency-batch: runs timed per model, the median kept "
               "(default 50)"),
      cl::init(50), cl::value_desc("N"), cl::cat(cat));
  releaseOptionName("threads");
  Opt<int> threads("threads",
                   cl::desc("With --latency-batch, threads the kernels use, "
                            "1 to 1024 (default: every CPU)"),
                   cl::init(0), cl::value_desc("N"), cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Prunes each layer alone at a few sparsities, runs the model on "
      "evaluation samples (JIT) and writes, per layer, the error of the "
      "model's output against the dense model's and, with --labels, its "
      "accuracy: the curves shears prune --sensitivity allocates a budget "
      "with. Plot them with utils/plot_sensitivity.py.\n\n  " +
          name +
          " model.onnx --input input=x.npy --labels y.npy -o sens.json\n"
          "  shears prune model.onnx --sensitivity sens.json --budget "
          "params=0.3 -o small.onnx\n  " +
          name +
          " model.onnx --input input=x.npy --labels y.npy --prune-options "
          "granularity=channel --latency-batch 1 --threads 1 -o sens.json\n"
          "  shears prune model.onnx --granularity channel --sensitivity "
          "sens.json --budget latency=0.5 -o fast.onnx\n");
  if (batch < 1)
    return fail(name, "--batch must be positive");
  if (latencyBatch < 0 || latencyRuns < 1)
    return fail(name, "--latency-batch must be at least 0 and --latency-runs "
                      "at least 1");
  if (!useThreads(name, threads))
    return 1;
  std::vector<double> grid(sparsities.begin(), sparsities.end());
  if (grid.empty())
    grid = {0.3, 0.5, 0.7, 0.9};

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  std::vector<TensorPtr> samples;
  if (!loadSamples(name, *module, "--input", inputSpecs, samples))
    return 1;
  TensorPtr labels;
  if (!labelsPath.empty()) {
    char *message = nullptr;
    labels.reset(shearsTensorLoadNpy(labelsPath.c_str(), &message));
    if (!labels)
      return fail(name, "--labels: " + takeRuntimeMessage(message));
  }
  std::vector<const ShearsTensor *> pointers;
  for (const TensorPtr &t : samples)
    pointers.push_back(t.get());
  std::string error;
  auto report = shears::measureSensitivity(
      *module, pointers, labels.get(), grid, pruneOptions, batch,
      {latencyBatch, latencyRuns, threads}, error,
      [&](int64_t done, int64_t total) {
        printProgress(name, "ran", done, total, "models");
      });
  if (failed(report))
    return fail(name, error);
  std::string json;
  llvm::raw_string_ostream os(json);
  shears::printSensitivityJSON(*report, os);
  if (failed(writeFile(outputPath, json, error)))
    return fail(name, error);
  llvm::outs() << llvm::formatv("{0,-40} {1,10}", "layer", "parameters");
  for (double s : report->layers.front().sparsities)
    if (s > 0)
      llvm::outs() << llvm::formatv(" {0,10}", llvm::formatv("{0:P0}", s));
  llvm::outs() << (labels ? "   (accuracy)\n" : "   (output error)\n");
  for (const shears::SensitivityCurve &c : report->layers) {
    llvm::outs() << llvm::formatv("{0,-40} {1,10}", c.name, c.parameters);
    for (size_t i = 1; i < c.sparsities.size(); ++i)
      llvm::outs() << llvm::formatv(
          " {0,10}", labels ? llvm::formatv("{0:P2}", c.accuracy[i]).str()
                            : llvm::formatv("{0:e2}", c.error[i]).str());
    llvm::outs() << "\n";
  }
  if (report->denseLatencyMs) {
    llvm::outs() << llvm::formatv("{0,-40} {1,10}", "", "latency ms");
    for (double s : report->layers.front().sparsities)
      if (s > 0)
        llvm::outs() << llvm::formatv(" {0,10}", llvm::formatv("{0:P0}", s));
    llvm::outs() << llvm::formatv("   (batch {0})\n", report->latencyBatch);
    for (const shears::SensitivityCurve &c : report->layers) {
      llvm::outs() << llvm::formatv("{0,-40} {1,10:f3}", c.name,
                                    c.latencyMs.front());
      for (size_t i = 1; i < c.sparsities.size(); ++i)
        llvm::outs() << llvm::formatv(" {0,10:f3}", c.latencyMs[i]);
      llvm::outs() << "\n";
    }
  }
  if (report->denseAccuracy)
    llvm::outs() << llvm::formatv("dense accuracy {0:P2}\n",
                                  *report->denseAccuracy);
  if (report->denseLatencyMs)
    llvm::outs() << llvm::formatv("dense latency {0:f3} ms\n",
                                  *report->denseLatencyMs);
  llvm::outs() << "wrote '" << outputPath << "'\n";
  return 0;
}

//===----------------------------------------------------------------------===//
// lowrank
//===----------------------------------------------------------------------===//

int shears::lowRankModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = lowRankCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> outputPath(
      "o", cl::Required,
      cl::desc("Factored model to write: ONNX, or MLIR text for a .mlir path"),
      cl::value_desc("small.onnx"), cl::cat(cat));
  Opt<std::string> rankBy(
      "rank-by",
      cl::desc("How each layer's rank is chosen: energy (the smallest rank "
               "keeping --energy of the squared singular values; the "
               "default), error (relative error at most --max-error), rank "
               "(--rank for every layer), params (ranks chosen together so "
               "that the layers keep --params of their parameters), macs "
               "(... --macs of their multiply-accumulates)"),
      cl::init("energy"), cl::cat(cat));
  Opt<std::string> decomposition(
      "decomposition",
      cl::desc("How a k x k convolution is factored: svd (a k x k "
               "convolution with r filters, then a 1 x 1 one; the default) "
               "or tucker2 (1 x 1 to r_in channels, the k x k core to r_out, "
               "1 x 1 to the outputs; not data-aware). Linear layers and "
               "1 x 1 convolutions are factored by SVD either way"),
      cl::value_desc("svd|tucker2"), cl::cat(cat));
  Opt<std::string> energy(
      "energy", cl::desc("--rank-by energy: fraction kept (default 0.9)"),
      cl::cat(cat));
  Opt<std::string> maxError(
      "max-error",
      cl::desc("--rank-by error: relative error allowed (default 0.1)"),
      cl::cat(cat));
  Opt<std::string> rank("rank", cl::desc("--rank-by rank: the rank"),
                        cl::cat(cat));
  Opt<std::string> params(
      "params",
      cl::desc("--rank-by params: fraction of the layers' parameters kept "
               "(default 0.5)"),
      cl::cat(cat));
  Opt<std::string> macs(
      "macs",
      cl::desc("--rank-by macs: fraction of the layers' multiply-accumulates "
               "kept (default 0.5)"),
      cl::cat(cat));
  List<std::string> calibration(
      "calibration",
      cl::desc("Data-aware SVD: whiten by the Gram matrices of the layers' "
               "inputs on these samples (NAME=FILE.npy, first axis the "
               "samples; repeat per input)"),
      cl::value_desc("name=file.npy"), cl::cat(cat));
  Opt<std::string> statistics(
      "statistics",
      cl::desc("Or read the Gram matrices from this .npz (shears calibrate "
               "--gram writes it)"),
      cl::value_desc("grams.npz"), cl::cat(cat));
  Opt<int64_t> calibrationBatch(
      "calibration-batch",
      cl::desc("Samples per run while calibrating (default 256)"),
      cl::init(256), cl::cat(cat));
  Opt<std::string> damp(
      "damp",
      cl::desc("Data-aware SVD: added to each Gram matrix's diagonal, "
               "relative to its mean (default 0.01)"),
      cl::cat(cat));
  Opt<std::string> exclude(
      "exclude",
      cl::desc("Regex of ONNX node names whose layers stay as they are"),
      cl::value_desc("regex"), cl::cat(cat));
  Opt<bool> printReport(
      "report",
      cl::desc("Also print per layer its rank, the energy kept and its "
               "parameters, then the per-layer table of the result"),
      cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Factors linear layers and convolutions into two layers of low rank "
      "(the shears-low-rank pass: truncated SVD; with calibration samples "
      "the data-aware SVD, which keeps the layers' outputs on them), where "
      "that saves parameters, and writes the model back as ONNX.\n\n  " +
          name + " model.onnx --energy 0.9 -o small.onnx\n  " + name +
          " model.onnx --rank-by params --params 0.5 --calibration "
          "input=x.npy -o half.onnx\n  " +
          name +
          " model.onnx --decomposition tucker2 --rank-by macs --macs 0.5 -o "
          "tucker.onnx\n");

  if (calibrationBatch < 1)
    return fail(name, "--calibration-batch must be positive");
  if (!calibration.empty() && !statistics.empty())
    return fail(name, "give --calibration or --statistics, not both");
  TemporaryNpz gramFile;
  std::string gramPath;
  if (int status = statisticsPath(name, !calibration.empty(), statistics,
                                  "shears-grams", gramFile, gramPath))
    return status;
  // The pass checks the options, before the model is calibrated.
  std::unique_ptr<Pass> lowRank =
      withOptions(name, shears::createShearsLowRank(),
                  {{"rank-by", rankBy},
                   {"decomposition", decomposition},
                   {"energy", energy},
                   {"max-error", maxError},
                   {"rank", rank},
                   {"params", params},
                   {"macs", macs},
                   {"statistics", gramPath},
                   {"damp", damp},
                   {"exclude", exclude},
                   {"report", printReport ? "true" : ""}});
  if (!lowRank)
    return 1;

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  // The layers as calibration sees them: batch norms folded first.
  PassManager canonicalize(&cc.context);
  canonicalize.addPass(createCanonicalizerPass());
  if (failed(canonicalize.run(*module)))
    return fail(name, "cannot canonicalize '" + modelPath + "'");
  shears::ModelReport before = shears::collectModelReport(*module);
  before.onnxBytes = onnxFileSize(modelPath);
  if (!calibration.empty())
    if (int status = measureLayers(name, *module, "--calibration", calibration,
                                   calibrationBatch, gramPath,
                                   shears::measureInputGrams))
      return status;

  PassManager pm(&cc.context);
  pm.addPass(std::move(lowRank));
  if (failed(pm.run(*module)))
    return fail(name, "factoring '" + modelPath + "' failed");
  shears::ModelReport after = shears::collectModelReport(*module);
  if (int status = writeModel(name, *module, outputPath))
    return status;
  after.onnxBytes = onnxFileSize(outputPath);

  // A factored layer's name is gone: two or three layers replace it.
  llvm::StringSet<> kept;
  for (const shears::LayerReport &layer : after.layers)
    kept.insert(layer.name);
  size_t factored = llvm::count_if(before.layers, [&](const auto &layer) {
    return !kept.contains(layer.name);
  });
  llvm::outs() << "factored " << factored << " of " << before.layers.size()
               << " layers ("
               << (decomposition == "tucker2" ? "Tucker-2 and SVD"
                   : gramPath.empty()         ? "SVD"
                                              : "data-aware SVD")
               << ")\n";
  printSizeChange(before, after, modelPath, outputPath);
  llvm::outs() << llvm::formatv(
      "MACs per sample: {0} -> {1} ({2:f2}x)\n", before.macsPerSample,
      after.macsPerSample,
      after.macsPerSample ? double(before.macsPerSample) / after.macsPerSample
                          : 0.0);
  if (printReport)
    shears::printModelReport(after, llvm::outs());
  return 0;
}

//===----------------------------------------------------------------------===//
// pack, unpack
//===----------------------------------------------------------------------===//

/// Prints Deep Compression's table for `report`: per packed weight and in
/// total, the bytes after each stage (dense f32; pruned, as f32 values with
/// fixed-width relative indices; shared, as fixed-width codes; Huffman-coded
/// as written) and the bits a weight takes.
static void printPackReport(const shears::PackReport &report,
                            llvm::raw_ostream &os) {
  os << llvm::formatv("{0,-24} {1,10} {2,10} {3,5} {4,6} {5,10} {6,10} "
                      "{7,10} {8,10} {9,8}\n",
                      "weight", "elements", "non-zero", "index", "values",
                      "dense B", "pruned B", "shared B", "packed B", "bits/nz");
  uint64_t dense = 0, pruned = 0, shared = 0, packed = 0;
  int64_t nonzero = 0, elements = 0;
  for (const shears::PackedTensor &t : report.tensors) {
    os << llvm::formatv(
        "{0,-24} {1,10} {2,10} {3,5} {4,6} {5,10} {6,10} {7,10} {8,10} "
        "{9,8:f2}\n",
        t.name, t.elements, t.nonzero, t.indexBits,
        t.codebookSize ? std::to_string(t.codebookSize) : std::string("f32"),
        t.denseBytes, t.prunedBytes, t.sharedBytes, t.packedBytes,
        t.nonzero ? 8.0 * t.packedBytes / t.nonzero : 0.0);
    dense += t.denseBytes;
    pruned += t.prunedBytes;
    shared += t.sharedBytes;
    packed += t.packedBytes;
    nonzero += t.nonzero;
    elements += t.elements;
  }
  os << llvm::formatv("{0,-24} {1,10} {2,10} {3,5} {4,6} {5,10} {6,10} "
                      "{7,10} {8,10} {9,8:f2}\n",
                      "total", elements, nonzero, "", "", dense, pruned, shared,
                      packed, nonzero ? 8.0 * packed / nonzero : 0.0);
  uint64_t rest = report.packedBytes - packed;
  os << llvm::formatv(
      "file: dense {0} B, pruned {1} B, shared {2} B, packed {3} B "
      "({4:f1}x smaller than dense; the graph and unpacked tensors take {5} "
      "B)\n",
      dense + rest, pruned + rest, shared + rest, report.packedBytes,
      double(dense + rest) / report.packedBytes, rest);
}

int shears::packModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = packCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> outputPath("o", cl::Required,
                              cl::desc("The .shears file to write"),
                              cl::value_desc("model.shears"), cl::cat(cat));
  Opt<std::string> convBits(
      "conv-bits",
      cl::desc("Bits per convolution weight, zero included (2 to 8; "
               "default 8)"),
      cl::value_desc("bits"), cl::cat(cat));
  Opt<std::string> linearBits(
      "linear-bits",
      cl::desc("Bits per linear-layer weight, zero included (2 to 8; "
               "default 5)"),
      cl::value_desc("bits"), cl::cat(cat));
  List<std::string> layerBits(
      "layer-bits",
      cl::desc("REGEX=BITS: layers whose ONNX node name matches REGEX get "
               "BITS (repeatable; the first match wins)"),
      cl::value_desc("regex=bits"), cl::cat(cat));
  Opt<std::string> init(
      "init",
      cl::desc("Where the k-means centroids start: linear (evenly over "
               "[min, max]; the default), density (at quantiles), random"),
      cl::value_desc("linear|density|random"), cl::cat(cat));
  Opt<std::string> seed("seed", cl::desc("Seed of --init random"),
                        cl::value_desc("n"), cl::cat(cat));
  Opt<std::string> exclude(
      "exclude",
      cl::desc("Regex of ONNX node names whose weights keep their values "
               "(they are still stored sparse and Huffman-coded)"),
      cl::value_desc("regex"), cl::cat(cat));
  Opt<bool> lossless(
      "lossless",
      cl::desc("Share no weights: store the model's own values (sparse, "
               "Huffman-coded; a codebook where a weight has few values)"),
      cl::cat(cat));
  Opt<std::string> jsonPath(
      "json", cl::desc("Also write the table as JSON ('-' for stdout)"),
      cl::value_desc("pack.json"), cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Writes a model as a .shears pack, as Deep Compression stores it: each "
      "convolution's and linear layer's weights clustered into a few shared "
      "values (k-means, the shears-share-weights pass), then every f32 "
      "weight stored as its non-zero values with relative indices, the "
      "values as codes into a per-weight codebook, both Huffman-coded "
      "(docs/PackFormat.md). Prune first to make it sparse. shears run, "
      "compile and report read .shears files; shears unpack writes the "
      "ONNX model back, bit for bit.\n\n  shears prune model.onnx "
      "--sparsity 0.9 --scope global -o sparse.onnx\n  " +
          name + " sparse.onnx -o model.shears\n  " + name +
          " model.onnx --linear-bits 4 --layer-bits '^/0/=6' -o "
          "model.shears\n");

  std::string layerBitsList;
  for (const std::string &entry : layerBits) {
    if (llvm::StringRef(entry).contains(','))
      return fail(name, "--layer-bits '" + entry + "' must not contain ','");
    layerBitsList += (layerBitsList.empty() ? "" : ",") + entry;
  }
  std::pair<llvm::StringRef, llvm::StringRef> shareOptions[] = {
      {"conv-bits", convBits},
      {"linear-bits", linearBits},
      {"layer-bits", layerBitsList},
      {"init", init},
      {"seed", seed},
      {"exclude", exclude}};
  if (lossless)
    for (auto [key, value] : shareOptions)
      if (!value.empty())
        return fail(name, "--" + key +
                              " is for weight sharing, which "
                              "--lossless turns off");
  std::unique_ptr<Pass> share =
      withOptions(name, shears::createShearsShareWeights(), shareOptions);
  if (!share)
    return 1;

  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  if (!lossless) {
    // Batch norms folded first: the weights shared are those that run.
    PassManager pm(&cc.context);
    pm.addPass(createCanonicalizerPass());
    pm.addPass(std::move(share));
    if (failed(pm.run(*module)))
      return fail(name, "sharing the weights of '" + modelPath + "' failed");
  }
  std::string onnx;
  llvm::raw_string_ostream os(onnx);
  if (failed(shears::exportToONNX(*module, os,
                                  {/*sparseInitializers=*/false,
                                   /*packLowBitWeights=*/false})))
    return fail(name, "cannot export the model to ONNX");
  shears::PackReport report;
  llvm::Expected<std::string> packed = shears::packONNX(onnx, &report);
  if (!packed)
    return fail(name, "cannot pack '" + modelPath +
                          "': " + llvm::toString(packed.takeError()));
  std::string error;
  if (failed(writeFile(outputPath, *packed, error)))
    return fail(name, error);
  printPackReport(report, llvm::outs());
  if (std::optional<int64_t> before = onnxFileSize(modelPath))
    llvm::outs() << llvm::formatv("'{0}' {1} B -> '{2}' {3} B ({4:f1}x)\n",
                                  modelPath.getValue(), *before,
                                  outputPath.getValue(), report.packedBytes,
                                  double(*before) / report.packedBytes);
  if (!jsonPath.empty() &&
      failed(writeFile(jsonPath, shears::packReportJSON(report), error)))
    return fail(name, error);
  return 0;
}

int shears::unpackModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = packCategory;
  Opt<std::string> packedPath(cl::Positional, cl::Required,
                              cl::desc("<model.shears>"), cl::cat(cat));
  Opt<std::string> outputPath("o", cl::Required,
                              cl::desc("The ONNX model to write"),
                              cl::value_desc("model.onnx"), cl::cat(cat));
  parseCommandLine(argc, argv, cat,
                   "Writes the ONNX model that a .shears pack holds, its "
                   "weights bit for bit as packed.\n\n  " +
                       name + " model.shears -o model.onnx\n");
  auto buffer = shears::readRegularFile(packedPath);
  if (!buffer)
    return fail(name, llvm::toString(buffer.takeError()));
  llvm::Expected<std::string> onnx = shears::unpackONNX((*buffer)->getBuffer());
  if (!onnx)
    return fail(name, "cannot unpack '" + packedPath +
                          "': " + llvm::toString(onnx.takeError()));
  std::string error;
  if (failed(writeFile(outputPath, *onnx, error)))
    return fail(name, error);
  llvm::outs() << llvm::formatv(
      "'{0}' {1} B -> '{2}' {3} B\n", packedPath.getValue(),
      (*buffer)->getBufferSize(), outputPath.getValue(), onnx->size());
  return 0;
}

//===----------------------------------------------------------------------===//
// report
//===----------------------------------------------------------------------===//

int shears::reportModelCommand(int argc, char **argv) {
  std::string name = commandName(argv);
  cl::OptionCategory &cat = reportCategory;
  Opt<std::string> modelPath(
      cl::Positional, cl::Required,
      cl::desc("<model.onnx | model.shears | model.mlir>"), cl::cat(cat));
  Opt<std::string> jsonPath(
      "json", cl::desc("Also write the report as JSON ('-' for stdout)"),
      cl::value_desc("report.json"), cl::cat(cat));
  Opt<bool> quiet("quiet", cl::desc("Do not print the table"),
                  cl::cat(cat));
  Opt<bool> timeSparse(
      "time-sparse",
      cl::desc("Time the dense and the sparse kernel on each linear layer "
               "that may run sparse, on this machine, as shears run and "
               "compile do: the format is then the kernel they pick, with "
               "spgemm's time over gemm's"),
      cl::cat(cat));
  Opt<bool> measure(
      "measure",
      cl::desc("Compile the model as shears run does and run it here on "
               "random inputs at batches 1, 4, 8 and 64: each layer's time "
               "inside the model, beside the time --time-sparse predicted "
               "for the kernel it picked"),
      cl::cat(cat));
  releaseOptionName("threads");
  Opt<int> threads("threads",
                   cl::desc("With --time-sparse or --measure, threads the "
                            "kernels use, 1 to 1024 (default: every CPU)"),
                   cl::init(0), cl::value_desc("N"), cl::cat(cat));
  parseCommandLine(
      argc, argv, cat,
      "Prints, per layer with weights, its parameters, non-zero parameters, "
      "sparsity, MACs per sample and channels, then the totals (with the "
      "ONNX file's size).\n\n  " +
          name + " model.onnx\n  " + name +
          " small.onnx --json report.json\n  " + name +
          " pruned.onnx --time-sparse --measure\n");

  if (!useThreads(name, threads))
    return 1;
  CompilerContext cc;
  OwningOpRef<ModuleOp> module =
      shears::loadModel(modelPath, cc.context, cc.sourceMgr);
  if (!module)
    return 1;
  shears::ModelReport report = shears::collectModelReport(*module);
  report.onnxBytes = onnxFileSize(modelPath);
  if (timeSparse)
    shears::timeSparseLayers(report);
  if (measure) {
    std::string error;
    if (failed(shears::measureLayers(*module, report, threads, error)))
      return fail(name, "cannot measure the layers: " + error);
  }
  if (!quiet)
    shears::printModelReport(report, llvm::outs());
  if (!jsonPath.empty()) {
    std::string error;
    std::string json;
    llvm::raw_string_ostream os(json);
    shears::printModelReportJSON(report, os);
    llvm::outs().flush();
    if (failed(writeFile(jsonPath, json, error)))
      return fail(name, error);
  }
  return 0;
}
