//===- shears-run.cpp - JIT-compile and run a model -----------------------===//

#include "shears/Compiler/Compiler.h"
#include "shears/Target/ONNX/Import.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cmath>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | model.mlir>"));
static cl::list<std::string>
    inputSpecs("input", cl::desc("An input: NAME=FILE.npy (repeat per input)"),
               cl::value_desc("name=file.npy"));
static cl::opt<std::string>
    outputDir("output-dir", cl::desc("Write each output as DIR/<name>.npy"),
              cl::value_desc("dir"));
static cl::opt<std::string> compareDir(
    "compare",
    cl::desc("Compare outputs with DIR/<name>.npy, DIR/<name>.pb or "
             "DIR/output_<i>.pb (ONNX test data)"),
    cl::value_desc("dir"));
static cl::opt<double> relTolerance("rtol", cl::desc("Relative tolerance"),
                            cl::init(1e-4));
static cl::opt<double> absTolerance("atol", cl::desc("Absolute tolerance"),
                            cl::init(1e-5));
static cl::opt<unsigned>
    benchmark("benchmark",
              cl::desc("Run N more times and print latency median/min/max"),
              cl::init(0), cl::value_desc("N"));

namespace {
/// Frees a C-API string or tensor at scope exit.
struct TensorDeleter {
  void operator()(ShearsTensor *t) const { shearsTensorFree(t); }
};
using TensorPtr = std::unique_ptr<ShearsTensor, TensorDeleter>;
struct ModelDeleter {
  void operator()(ShearsModel *m) const { shearsModelFree(m); }
};

int fail(const llvm::Twine &message) {
  llvm::errs() << "shears-run: error: " << message << "\n";
  return 1;
}

std::string takeError(char *error) {
  std::string result = error ? error : "unknown error";
  shearsFreeString(error);
  return result;
}

/// Loads an expected output: .npy, or a TensorProto .pb.
TensorPtr loadExpected(llvm::StringRef path, std::string &error) {
  char *message = nullptr;
  if (path.ends_with(".npy")) {
    TensorPtr t(shearsTensorLoadNpy(path.str().c_str(), &message));
    if (!t)
      error = takeError(message);
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
    error = takeError(message);
  return t;
}

/// Compares `actual` with `expected` element by element (as doubles);
/// returns an empty string or what differs where.
std::string compare(const ShearsTensor *actual, const ShearsTensor *expected) {
  auto shapeOf = [](const ShearsTensor *t) {
    return llvm::ArrayRef<int64_t>(shearsTensorShape(t), shearsTensorRank(t));
  };
  auto typeOf = [&](const ShearsTensor *t) {
    char *s = shearsTypeToString(shearsTensorDType(t), shearsTensorRank(t),
                                 shearsTensorShape(t));
    return takeError(s);
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
    double excess = std::fabs(a - e) - (absTolerance + relTolerance * std::fabs(e));
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
     << value(expected, worst) << " (rtol " << relTolerance << ", atol " << absTolerance
     << ")";
  return where;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Compiles a model for this CPU (JIT) and runs it on .npy inputs.\n\n"
      "  shears-run model.onnx --input input=x.npy --output-dir out/\n"
      "  shears-run model.onnx --input input=x.npy --compare expected/\n"
      "  shears-run model.onnx --input input=x.npy --benchmark 100\n");

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
  std::string error;
  std::unique_ptr<ShearsModel, ModelDeleter> model(
      shears::jitCompile(*module, error));
  if (!model)
    return fail("JIT compilation failed: " + error);

  // Inputs by name, in signature order.
  llvm::StringMap<std::string> files;
  for (const std::string &spec : inputSpecs) {
    auto [name, file] = llvm::StringRef(spec).split('=');
    if (file.empty())
      return fail("--input " + spec + ": expected NAME=FILE.npy");
    files[name] = file.str();
  }
  size_t numInputs = shearsModelNumInputs(model.get());
  std::vector<TensorPtr> inputs;
  for (size_t i = 0; i < numInputs; ++i) {
    llvm::StringRef name = shearsModelInputName(model.get(), i);
    auto it = files.find(name);
    if (it == files.end())
      return fail("missing input '" + name + "': pass --input " + name +
                  "=FILE.npy");
    char *message = nullptr;
    inputs.emplace_back(shearsTensorLoadNpy(it->second.c_str(), &message));
    if (!inputs.back())
      return fail("input '" + name + "': " + takeError(message));
    files.erase(it);
  }
  if (!files.empty())
    return fail("the model has no input named '" + files.begin()->getKey() +
                "'");

  std::vector<const ShearsTensor *> inputPtrs;
  for (const TensorPtr &t : inputs)
    inputPtrs.push_back(t.get());
  size_t numOutputs = shearsModelNumOutputs(model.get());
  auto run = [&](std::vector<TensorPtr> &outputs) -> bool {
    std::vector<ShearsTensor *> raw(numOutputs, nullptr);
    char *message = nullptr;
    if (shearsModelRun(model.get(), inputPtrs.data(), inputPtrs.size(),
                       raw.data(), &message) != 0) {
      error = takeError(message);
      return false;
    }
    outputs.clear();
    for (ShearsTensor *t : raw)
      outputs.emplace_back(t);
    return true;
  };
  std::vector<TensorPtr> outputs;
  if (!run(outputs))
    return fail(error);

  if (benchmark > 0) {
    std::vector<double> times;
    std::vector<TensorPtr> scratch;
    for (unsigned i = 0; i < benchmark; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!run(scratch))
        return fail(error);
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << llvm::formatv(
        "latency over {0} runs: median {1:f3} ms, min {2:f3} ms, max {3:f3} "
        "ms\n",
        times.size(), times[times.size() / 2], times.front(), times.back());
  }

  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return fail("cannot create '" + outputDir + "': " + ec.message());
    for (size_t i = 0; i < numOutputs; ++i) {
      std::string name = shearsModelOutputName(model.get(), i);
      for (char &c : name)
        if (!llvm::isAlnum(c) && c != '.' && c != '-' && c != '_')
          c = '_';
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, name + ".npy");
      char *message = nullptr;
      if (shearsTensorSaveNpy(outputs[i].get(), path.c_str(), &message) != 0)
        return fail(takeError(message));
    }
  }

  int status = 0;
  if (!compareDir.empty()) {
    for (size_t i = 0; i < numOutputs; ++i) {
      std::string name = shearsModelOutputName(model.get(), i);
      std::string candidates[] = {name + ".npy", name + ".pb",
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
        return fail("no expected value for output '" + name + "' in " +
                    compareDir);
      TensorPtr expected = loadExpected(found, error);
      if (!expected)
        return fail(found + ": " + error);
      std::string diff = compare(outputs[i].get(), expected.get());
      llvm::outs() << "output '" << name << "': "
                   << (diff.empty() ? "matches " + found : diff) << "\n";
      if (!diff.empty())
        status = 1;
    }
  }
  return status;
}
