//===- ShearsModule.cpp - Python bindings: shears._shears -----------------===//
//
// The extension behind the `shears` Python package: MLIR modules (import,
// parse, pass pipelines, ONNX export) and compiled models (JIT or AOT) run on
// numpy arrays. python/shears/__init__.py is the public front; names with a
// leading underscore here are its building blocks.
//
// This file is the only one built with C++ exceptions (pybind11 needs them);
// LLVM and MLIR are built without. Exceptions are thrown only by code in this
// file and by pybind11, never from a callback that MLIR calls (the diagnostic
// handler only appends to a string), so none unwinds through MLIR frames.
//
//===----------------------------------------------------------------------===//

#include "shears-c/Runtime.h"
#include "shears/Compiler/Calibrate.h"
#include "shears/Compiler/Compiler.h"
#include "shears/Compiler/Sensitivity.h"
#include "shears/Conversion/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Files.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Target/ONNX/Export.h"
#include "shears/Target/ONNX/Import.h"
#include "shears/Target/ONNX/Pack.h"
#include "shears/Transforms/Passes.h"
#include "shears/Transforms/Report.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// Errors and diagnostics
//===----------------------------------------------------------------------===//

/// Raised as `shears.Error` (registered in the module below).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The ONNX node (or tensor) name a location carries, if any.
std::optional<std::string> nodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::optional<std::string> name = nodeName(inner))
        return name;
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return nodeName(callSite.getCallee());
  return std::nullopt;
}

const char *severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Remark:
    return "remark";
  case DiagnosticSeverity::Note:
    return "note";
  }
  return "error";
}

/// Collects the diagnostics emitted on a context while alive, formatted as
/// the command-line tools print them (location, severity, source line).
/// Locations in an imported ONNX file have no line; those that name a node
/// print it instead: `model.onnx: node '/0/Gemm': error: ...`.
class DiagnosticCapture {
public:
  explicit DiagnosticCapture(MLIRContext &context)
      : os(text), sourceMgrHandler(sourceMgr, &context, os),
        nodeHandler(&context, [this](Diagnostic &diag) {
          return emitAtNode(diag);
        }) {}

  /// What was reported so far, without the trailing newline.
  std::string str() const {
    llvm::StringRef s(text);
    return s.rtrim().str();
  }
  /// A message for a failure: `what`, then the diagnostics if any.
  std::string message(const std::string &what) const {
    std::string diagnostics = str();
    return diagnostics.empty() ? what : what + ":\n" + diagnostics;
  }
  /// Reports what was collected on success (warnings, remarks) as a Python
  /// warning of category shears.DiagnosticWarning.
  void warnIfAny() const;

  llvm::SourceMgr sourceMgr;

private:
  /// Prints `diag` with its node name when its location has one and no
  /// source line; otherwise leaves it to the SourceMgr handler.
  LogicalResult emitAtNode(Diagnostic &diag) {
    std::optional<std::string> name = nodeName(diag.getLocation());
    auto file = diag.getLocation()->findInstanceOf<FileLineColLoc>();
    if (!name || (file && file.getLine() != 0))
      return failure();
    auto print = [&](Location loc, DiagnosticSeverity severity,
                     const Diagnostic &d) {
      auto where = loc->findInstanceOf<FileLineColLoc>();
      std::optional<std::string> node = nodeName(loc);
      if (where)
        os << where.getFilename().getValue() << ": ";
      if (node)
        os << "node '" << *node << "': ";
      os << severityName(severity) << ": " << d << "\n";
    };
    print(diag.getLocation(), diag.getSeverity(), diag);
    for (const Diagnostic &note : diag.getNotes())
      print(note.getLocation(), note.getSeverity(), note);
    return success();
  }

  std::string text;
  llvm::raw_string_ostream os;
  SourceMgrDiagnosticHandler sourceMgrHandler;
  ScopedDiagnosticHandler nodeHandler;
};

/// The Python category for diagnostics reported on success; set at import.
PyObject *diagnosticWarning = nullptr;

void DiagnosticCapture::warnIfAny() const {
  std::string diagnostics = str();
  if (diagnostics.empty() || !diagnosticWarning)
    return;
  if (PyErr_WarnEx(diagnosticWarning, diagnostics.c_str(), 1) != 0)
    throw py::error_already_set();
}

using mlir::shears::takeRuntimeMessage;

//===----------------------------------------------------------------------===//
// Contexts and modules
//===----------------------------------------------------------------------===//

/// Registers passes once per process (what shears-opt registers).
void registerPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    shears::registerShearsPassesAndPipelines();
  });
}

/// Every module lives in its own context (shared by its clones), so that its
/// weights, which are resource blobs owned by the context, are released with
/// it.
std::shared_ptr<MLIRContext> newContext() {
  // Built once and never destroyed: it may be needed until the interpreter
  // exits.
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    shears::registerCompilerDialects(*r);
    return r;
  }();
  auto context = std::make_shared<MLIRContext>(*registry);
  context->printOpOnDiagnostic(false);
  return context;
}

/// A `builtin.module` and the context it lives in.
class Module {
public:
  Module(std::shared_ptr<MLIRContext> context, OwningOpRef<ModuleOp> op)
      : context(std::move(context)), op(std::move(op)) {}

  ModuleOp get() const { return *op; }
  MLIRContext &getContext() const { return *context; }

  std::string toString(bool debugInfo, bool generic,
                       std::optional<int64_t> largeElementsLimit,
                       std::optional<int64_t> largeResourceLimit) const {
    OpPrintingFlags flags;
    if (debugInfo)
      flags.enableDebugInfo(true, /*prettyForm=*/false);
    if (generic)
      flags.printGenericOpForm();
    if (largeElementsLimit)
      flags.elideLargeElementsAttrs(*largeElementsLimit);
    if (largeResourceLimit)
      flags.elideLargeResourceString(*largeResourceLimit);
    std::string text;
    llvm::raw_string_ostream os(text);
    get()->print(os, flags);
    return text;
  }

  std::string repr() const {
    size_t functions = 0, ops = 0;
    get()->walk([&](Operation *op) {
      ++ops;
      if (isa<func::FuncOp>(op))
        ++functions;
    });
    return "<shears.Module: " + std::to_string(functions) + " function" +
           (functions == 1 ? "" : "s") + ", " + std::to_string(ops - 1) +
           " ops>";
  }

  std::unique_ptr<Module> clone() const {
    return std::make_unique<Module>(context,
                                    OwningOpRef<ModuleOp>(get().clone()));
  }

  /// The entry function's input names, in order (getEntryValueName).
  std::vector<std::string> inputNames() const {
    func::FuncOp func = shears::lookupEntryFunction(get());
    if (!func)
      throw Error("no entry function: expected `main` or a single public "
                  "function");
    std::vector<std::string> names;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      names.push_back(shears::getEntryValueName(func, i, /*result=*/false));
    return names;
  }

  void verify() const {
    DiagnosticCapture capture(*context);
    if (failed(mlir::verify(get())))
      throw Error(capture.message("the module does not verify"));
  }

  /// Runs `pipeline` on a clone and keeps the result only if every pass
  /// succeeded, so that a failure leaves the module as it was.
  void runPipeline(const std::string &pipeline) {
    registerPassesOnce();
    llvm::StringRef text = llvm::StringRef(pipeline).trim();
    // mlir-opt's --pass-pipeline form, anchored on the module.
    for (llvm::StringRef anchor : {"builtin.module", "any"}) {
      llvm::StringRef rest = text;
      if (rest.consume_front(anchor) && rest.ltrim().starts_with("(") &&
          rest.ends_with(")")) {
        text = rest.ltrim().drop_front().drop_back().trim();
        break;
      }
    }
    PassManager pm(context.get(), ModuleOp::getOperationName(),
                   OpPassManager::Nesting::Implicit);
    std::string parseErrors;
    llvm::raw_string_ostream errorStream(parseErrors);
    {
      DiagnosticCapture capture(*context);
      if (failed(parsePassPipeline(text, pm, errorStream))) {
        std::string details;
        for (llvm::StringRef line : llvm::split(parseErrors, '\n'))
          if (!line.trim().empty())
            details += (details.empty() ? "" : "\n") + line.rtrim().str();
        std::string diagnostics = capture.str();
        if (!diagnostics.empty())
          details += (details.empty() ? "" : "\n") + diagnostics;
        throw Error("invalid pass pipeline '" + pipeline + "'" +
                    (details.empty() ? "" : ":\n" + details));
      }
    }
    OwningOpRef<ModuleOp> work(get().clone());
    DiagnosticCapture capture(*context);
    if (failed(pm.run(*work)))
      throw Error(capture.message("pass pipeline '" + pipeline + "' failed"));
    op = std::move(work);
    capture.warnIfAny();
  }

  /// The module serialized as an ONNX model.
  std::string toONNX(bool sparseInitializers, bool bitPacking) const {
    std::string bytes;
    llvm::raw_string_ostream os(bytes);
    DiagnosticCapture capture(*context);
    if (failed(
            shears::exportToONNX(get(), os, {sparseInitializers, bitPacking})))
      throw Error(capture.message("cannot export the module to ONNX"));
    os.flush();
    capture.warnIfAny();
    return bytes;
  }

  void exportONNX(const std::string &path, bool sparseInitializers,
                  bool bitPacking) const {
    writeFile(path, toONNX(sparseInitializers, bitPacking));
  }

  /// Writes MLIR text or bytecode.
  void write(const std::string &path, bool bytecode) const {
    std::string contents;
    llvm::raw_string_ostream os(contents);
    if (bytecode) {
      DiagnosticCapture capture(*context);
      if (failed(writeBytecodeToFile(get(), os)))
        throw Error(capture.message("cannot write the module as bytecode"));
    } else {
      get()->print(os);
    }
    os.flush();
    writeFile(path, contents);
  }

  /// Writes `contents` to `path` through a temporary file, so that a failure
  /// leaves no half-written file.
  static void writeFile(const std::string &path, const std::string &contents) {
    llvm::Error error =
        llvm::writeToOutput(path, [&](llvm::raw_ostream &os) -> llvm::Error {
          os << contents;
          return llvm::Error::success();
        });
    if (error)
      throw Error("cannot write '" + path +
                  "': " + llvm::toString(std::move(error)));
  }

private:
  std::shared_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> op;
};

std::unique_ptr<Module> importONNX(const std::string &path) {
  std::shared_ptr<MLIRContext> context = newContext();
  OwningOpRef<ModuleOp> op;
  {
    DiagnosticCapture capture(*context);
    op = shears::importONNXFile(path, context.get());
    if (!op)
      throw Error(capture.message("cannot import '" + path + "'"));
    capture.warnIfAny();
  }
  return std::make_unique<Module>(context, std::move(op));
}

/// The ONNX model of the .shears file at `path`.
std::string unpackFile(const std::string &path) {
  auto buffer = mlir::shears::readRegularFile(path);
  if (!buffer)
    throw Error(llvm::toString(buffer.takeError()));
  llvm::Expected<std::string> onnx = shears::unpackONNX((*buffer)->getBuffer());
  if (!onnx)
    throw Error("cannot unpack '" + path +
                "': " + llvm::toString(onnx.takeError()));
  return std::move(*onnx);
}

std::unique_ptr<Module> importPacked(const std::string &path) {
  std::shared_ptr<MLIRContext> context = newContext();
  OwningOpRef<ModuleOp> op;
  {
    DiagnosticCapture capture(*context);
    // What the tools do: loadModel unpacks the file and imports its model.
    op = shears::loadModel(path, *context, capture.sourceMgr);
    if (!op)
      throw Error(capture.message("cannot load '" + path + "'"));
    capture.warnIfAny();
  }
  return std::make_unique<Module>(context, std::move(op));
}

/// Packs `module` (exported to ONNX, every weight dense) into the .shears
/// file `path`; returns what packing did, per weight and in total, as JSON.
std::string pack(const Module &module, const std::string &path) {
  shears::PackReport report;
  llvm::Expected<std::string> packed =
      shears::packONNX(module.toONNX(/*sparseInitializers=*/false,
                                     /*bitPacking=*/false),
                       &report);
  if (!packed)
    throw Error("cannot pack the module: " +
                llvm::toString(packed.takeError()));
  Module::writeFile(path, *packed);
  return shears::packReportJSON(report);
}

void unpack(const std::string &path, const std::string &out) {
  Module::writeFile(out, unpackFile(path));
}

std::unique_ptr<Module> parseBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                    const std::string &what) {
  std::shared_ptr<MLIRContext> context = newContext();
  OwningOpRef<ModuleOp> op;
  {
    DiagnosticCapture capture(*context);
    capture.sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    // The SourceMgr is not shared: resources in bytecode are copied out of
    // the buffer, which dies with `capture`.
    op = parseSourceFile<ModuleOp>(capture.sourceMgr, ParserConfig(context.get()));
    if (!op)
      throw Error(capture.message("cannot parse " + what));
    capture.warnIfAny();
  }
  return std::make_unique<Module>(context, std::move(op));
}

std::unique_ptr<Module> parseFile(const std::string &path) {
  // A regular file only: a FIFO would block until a writer came.
  auto buffer = mlir::shears::readRegularFile(path);
  if (!buffer)
    throw Error(llvm::toString(buffer.takeError()));
  return parseBuffer(std::move(*buffer), "'" + path + "'");
}

std::unique_ptr<Module> parseString(const std::string &text,
                                    const std::string &name) {
  return parseBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name),
                     "the MLIR source");
}

//===----------------------------------------------------------------------===//
// Compiled models
//===----------------------------------------------------------------------===//

using mlir::shears::TensorPtr;

/// numpy's name for a runtime element type.
const char *numpyName(ShearsDType dtype) {
  switch (dtype) {
  case SHEARS_DTYPE_F32:
    return "float32";
  case SHEARS_DTYPE_F64:
    return "float64";
  case SHEARS_DTYPE_F16:
    return "float16";
  case SHEARS_DTYPE_I64:
    return "int64";
  case SHEARS_DTYPE_I32:
    return "int32";
  case SHEARS_DTYPE_I8:
    return "int8";
  case SHEARS_DTYPE_U8:
    return "uint8";
  case SHEARS_DTYPE_I1:
    return "bool";
  default:
    return nullptr;
  }
}

/// The runtime element type of a numpy dtype, if there is one (native byte
/// order only).
std::optional<ShearsDType> runtimeDType(const py::dtype &dtype) {
  if (!dtype.attr("isnative").cast<bool>())
    return std::nullopt;
  char kind = dtype.kind();
  switch (dtype.itemsize()) {
  case 8:
    if (kind == 'f')
      return SHEARS_DTYPE_F64;
    if (kind == 'i')
      return SHEARS_DTYPE_I64;
    break;
  case 4:
    if (kind == 'f')
      return SHEARS_DTYPE_F32;
    if (kind == 'i')
      return SHEARS_DTYPE_I32;
    break;
  case 2:
    if (kind == 'f')
      return SHEARS_DTYPE_F16;
    break;
  case 1:
    if (kind == 'i')
      return SHEARS_DTYPE_I8;
    if (kind == 'u')
      return SHEARS_DTYPE_U8;
    if (kind == 'b')
      return SHEARS_DTYPE_I1;
    break;
  }
  return std::nullopt;
}

/// A runtime tensor viewing `array` (not a copy) as `dtype`; `what` names
/// it in the error when it cannot.
TensorPtr wrapArray(const py::array &array, ShearsDType dtype,
                    const std::string &what) {
  constexpr int required =
      py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  if ((array.flags() & required) != required)
    throw Error(what + ": the array must be C-contiguous and aligned");
  std::vector<int64_t> dims(array.shape(), array.shape() + array.ndim());
  char *message = nullptr;
  TensorPtr tensor(shearsTensorWrap(dtype, dims.size(), dims.data(),
                                    const_cast<void *>(array.data()),
                                    &message));
  if (!tensor)
    throw Error(what + ": " +
                takeRuntimeMessage(message, "cannot wrap the array"));
  return tensor;
}

/// What `shears calibrate` measures, on numpy samples (first axis the
/// samples, one array per model input), as {name: array}: `kind` "norms",
/// per layer the input-channel norms (activation-aware pruning); "ranges",
/// the inputs' ranges and histograms (shears-quantize's statistics);
/// "grams", the inputs' Gram matrices (shears-low-rank's statistics).
py::dict calibrate(const Module &module, const std::vector<py::array> &samples,
                   int64_t batch, const std::string &kind) {
  auto measure = kind == "norms"    ? shears::measureInputNorms
                 : kind == "ranges" ? shears::measureActivationRanges
                 : kind == "grams"  ? shears::measureInputGrams
                                    : nullptr;
  if (!measure)
    throw Error("unknown calibration kind '" + kind +
                "' (norms, ranges or grams)");
  std::vector<TensorPtr> tensors;
  std::vector<const ShearsTensor *> pointers;
  for (const py::array &array : samples) {
    std::optional<ShearsDType> dtype = runtimeDType(array.dtype());
    if (!dtype)
      throw Error("calibration samples must be arrays of a dtype the "
                  "runtime takes, got " +
                  std::string(py::str(array.dtype())));
    tensors.push_back(wrapArray(array, *dtype, "calibration samples"));
    pointers.push_back(tensors.back().get());
  }
  std::string error;
  FailureOr<std::vector<std::pair<std::string, shears::NpzArray>>> arrays;
  DiagnosticCapture capture(module.getContext());
  {
    py::gil_scoped_release release;
    arrays = measure(module.get(), pointers, batch, error, {});
  }
  if (failed(arrays))
    throw Error(capture.message("calibration failed: " + error));
  capture.warnIfAny();
  py::dict result;
  for (auto &[name, array] : *arrays) {
    py::array_t<float> values(std::vector<py::ssize_t>(array.shape.begin(),
                                                       array.shape.end()));
    std::copy(array.values.begin(), array.values.end(),
              values.mutable_data());
    result[py::str(name)] = values;
  }
  return result;
}

/// What `shears sensitivity` measures, as its JSON text.
std::string sensitivity(const Module &module,
                        const std::vector<py::array> &samples,
                        std::optional<py::array> labels,
                        const std::vector<double> &sparsities,
                        const std::string &options, int64_t batch,
                        int64_t latencyBatch, int64_t latencyRuns,
                        int threads) {
  std::vector<TensorPtr> tensors;
  std::vector<const ShearsTensor *> pointers;
  for (const py::array &array : samples) {
    std::optional<ShearsDType> dtype = runtimeDType(array.dtype());
    if (!dtype)
      throw Error("samples must be arrays of a dtype the runtime takes, got " +
                  std::string(py::str(array.dtype())));
    tensors.push_back(wrapArray(array, *dtype, "samples"));
    pointers.push_back(tensors.back().get());
  }
  TensorPtr labelTensor;
  if (labels) {
    std::optional<ShearsDType> dtype = runtimeDType(labels->dtype());
    if (!dtype)
      throw Error("labels must be int32 or int64");
    labelTensor = wrapArray(*labels, *dtype, "labels");
  }
  std::string error;
  FailureOr<shears::SensitivityReport> report;
  DiagnosticCapture capture(module.getContext());
  {
    py::gil_scoped_release release;
    report = shears::measureSensitivity(
        module.get(), pointers, labelTensor.get(), sparsities, options, batch,
        {latencyBatch, latencyRuns, threads}, error);
  }
  if (failed(report))
    throw Error(capture.message(error));
  capture.warnIfAny();
  std::string json;
  llvm::raw_string_ostream os(json);
  shears::printSensitivityJSON(*report, os);
  return json;
}

/// Per-layer sparsities for a budget ("params=F", "macs=F" or
/// "latency=F") from sensitivity JSON text.
std::vector<std::pair<std::string, double>>
allocate(const std::string &json, const std::string &budget) {
  shears::BudgetKind kind;
  double keep;
  std::string error;
  if (failed(shears::parseBudget(budget, kind, keep, error)))
    throw Error("budget " + error);
  auto report = shears::parseSensitivityJSON(json, error);
  if (failed(report))
    throw Error("sensitivity: " + error);
  auto result = shears::allocateSparsities(*report, kind, keep, error);
  if (failed(result))
    throw Error(error);
  return *result;
}

/// A runnable model: JIT-compiled or loaded from a shared library.
class Model {
public:
  explicit Model(ShearsModel *model) : model(model) {}

  void setThreads(int threads) {
    char *message = nullptr;
    if (shearsModelSetThreads(model, threads, &message) != 0)
      throw Error(takeRuntimeMessage(message));
  }
  void setBatchChunk(int64_t images) {
    char *message = nullptr;
    if (shearsModelSetBatchChunk(model, images, &message) != 0)
      throw Error(takeRuntimeMessage(message));
  }
  Model(const Model &) = delete;
  ~Model() { shearsModelFree(model); }

  /// (name, numpy dtype name, shape with -1 where dynamic) per input or
  /// output.
  using Spec = std::tuple<std::string, std::string, std::vector<int64_t>>;
  std::vector<Spec> inputs() const {
    std::vector<Spec> specs;
    for (size_t i = 0, e = shearsModelNumInputs(model); i < e; ++i)
      specs.emplace_back(shearsModelInputName(model, i),
                         numpyName(shearsModelInputDType(model, i)),
                         shape(shearsModelInputShape(model, i),
                               shearsModelInputRank(model, i)));
    return specs;
  }
  std::vector<Spec> outputs() const {
    std::vector<Spec> specs;
    for (size_t i = 0, e = shearsModelNumOutputs(model); i < e; ++i)
      specs.emplace_back(shearsModelOutputName(model, i),
                         numpyName(shearsModelOutputDType(model, i)),
                         shape(shearsModelOutputShape(model, i),
                               shearsModelOutputRank(model, i)));
    return specs;
  }
  std::string signature() const { return shearsModelSignature(model); }

  /// Runs the model on arrays given in signature order. C-contiguous,
  /// aligned arrays are passed without a copy; outputs are numpy arrays over
  /// the buffers the model returned (no copy either).
  py::list run(const std::vector<py::array> &arrays) {
    size_t numInputs = shearsModelNumInputs(model);
    if (arrays.size() != numInputs)
      throw Error("the model takes " + std::to_string(numInputs) + " input" +
                  (numInputs == 1 ? "" : "s") + ", got " +
                  std::to_string(arrays.size()));
    std::vector<TensorPtr> inputs;
    std::vector<const ShearsTensor *> inputPtrs;
    for (size_t i = 0; i < numInputs; ++i) {
      const py::array &array = arrays[i];
      std::optional<ShearsDType> dtype = runtimeDType(array.dtype());
      if (!dtype)
        throw Error(inputMismatch(
            i, py::str(array.dtype()),
            std::vector<int64_t>(array.shape(), array.shape() + array.ndim())));
      inputs.push_back(wrapArray(
          array, *dtype,
          "input '" + std::string(shearsModelInputName(model, i)) + "'"));
      inputPtrs.push_back(inputs.back().get());
    }

    size_t numOutputs = shearsModelNumOutputs(model);
    std::vector<ShearsTensor *> raw(numOutputs, nullptr);
    char *message = nullptr;
    int status;
    {
      // `arrays` keeps the input buffers alive; the runtime keeps no state.
      py::gil_scoped_release release;
      status = shearsModelRun(model, inputPtrs.data(), inputPtrs.size(),
                              raw.data(), &message);
    }
    if (status != 0)
      throw Error(takeRuntimeMessage(message, "the model failed to run"));

    std::vector<TensorPtr> outputs;
    for (ShearsTensor *t : raw)
      outputs.emplace_back(t);
    py::list results;
    for (TensorPtr &tensor : outputs) {
      const char *name = numpyName(shearsTensorDType(tensor.get()));
      if (!name)
        throw Error("the model returned an output of an unknown element type");
      std::vector<py::ssize_t> dims(shearsTensorShape(tensor.get()),
                                    shearsTensorShape(tensor.get()) +
                                        shearsTensorRank(tensor.get()));
      void *data = shearsTensorData(tensor.get());
      py::capsule owner(tensor.get(), [](void *p) {
        shearsTensorFree(static_cast<ShearsTensor *>(p));
      });
      (void)tensor.release(); // Owned by the capsule now.
      results.append(py::array(py::dtype(name), dims, data, owner));
    }
    return results;
  }

private:
  static std::vector<int64_t> shape(const int64_t *dims, size_t rank) {
    return std::vector<int64_t>(dims, dims + rank);
  }

  /// The runtime's message for a mismatching input, for an array whose
  /// element type the runtime does not know.
  std::string inputMismatch(size_t index, const std::string &gotDType,
                            const std::vector<int64_t> &dims) const {
    std::string expected =
        takeRuntimeMessage(shearsTypeToString(shearsModelInputDType(model, index),
                                       shearsModelInputRank(model, index),
                                       shearsModelInputShape(model, index)),
                    "?");
    std::string got = gotDType + " [";
    for (size_t d = 0; d < dims.size(); ++d)
      got += (d ? "x" : "") + std::to_string(dims[d]);
    got += "]";
    return "input '" + std::string(shearsModelInputName(model, index)) +
           "' (#" + std::to_string(index) + "): expected " + expected +
           ", got " + got;
  }

  ShearsModel *model;
};

/// "cpu" or "cuda".
shears::Device parseDevice(const std::string &name) {
  std::optional<shears::Device> device = shears::parseDevice(name);
  if (!device)
    throw Error("device must be 'cpu' or 'cuda', got '" + name + "'");
  return *device;
}

/// Clones `module` and lowers the clone to the LLVM dialect for `device`,
/// unless it is lowered already (it has the entry point that the lowering
/// pipelines emit).
/// For the CPU: kernels for `cpu` (empty: this machine's); with
/// `timeSparse`, pruned linear layers on the sparse kernel only where it
/// is timed faster here (not for another CPU).
OwningOpRef<ModuleOp> lowerClone(const Module &module,
                                 const std::string &deviceName,
                                 const std::string &cpu = "",
                                 bool timeSparse = false,
                                 const shears::GPUTarget &gpu = {}) {
  shears::Device device = parseDevice(deviceName);
  std::string invalid = shears::checkGPUTarget(gpu);
  if (!invalid.empty())
    throw Error(invalid);
  if (device != shears::Device::CUDA && gpu.arch != "sm_90")
    throw Error("gpu_arch needs device='cuda'");
  if (device != shears::Device::CUDA && gpu.precision != "fp32")
    throw Error("gpu_precision needs device='cuda'");
  OwningOpRef<ModuleOp> lowered(module.get().clone());
  if (SymbolTable::lookupSymbolIn(*lowered, "shears_invoke"))
    return lowered;
  DiagnosticCapture capture(module.getContext());
  shears::SparseKernelOptions sparse =
      timeSparse && cpu.empty() ? shears::SparseKernelOptions::timed()
                                : shears::SparseKernelOptions{};
  if (device == shears::Device::CUDA
          ? failed(shears::lowerToNVVM(*lowered, gpu))
          : failed(shears::lowerToLLVM(*lowered, cpu,
                                       /*releaseWeights=*/false, sparse)))
    throw Error(capture.message("lowering the module to LLVM failed"));
  capture.warnIfAny();
  return lowered;
}

std::unique_ptr<Model> compile(const Module &module, const std::string &device,
                               bool timeSparse, const std::string &gpuArch,
                               const std::string &gpuPrecision) {
  OwningOpRef<ModuleOp> lowered =
      lowerClone(module, device, "", timeSparse, {gpuArch, gpuPrecision});
  std::string error;
  ShearsModel *model;
  {
    DiagnosticCapture capture(module.getContext());
    model = shears::jitCompile(*lowered, error);
    if (!model) {
      std::string diagnostics = capture.str();
      throw Error("JIT compilation failed: " + error +
                  (diagnostics.empty() ? "" : "\n" + diagnostics));
    }
  }
  return std::make_unique<Model>(model);
}

void compileLibrary(const Module &module, const std::string &path,
                    const std::string &cpu, const std::string &device,
                    bool timeSparse, const std::string &gpuArch,
                    const std::string &gpuPrecision) {
  OwningOpRef<ModuleOp> lowered =
      lowerClone(module, device, cpu, timeSparse, {gpuArch, gpuPrecision});
  std::string error;
  DiagnosticCapture capture(module.getContext());
  if (failed(shears::compileSharedLibrary(*lowered, path, error, cpu))) {
    std::string diagnostics = capture.str();
    throw Error("cannot compile '" + path + "': " + error +
                (diagnostics.empty() ? "" : "\n" + diagnostics));
  }
}

std::unique_ptr<Model> loadLibrary(const std::string &path) {
  char *message = nullptr;
  ShearsModel *model = shearsModelLoadLibrary(path.c_str(), &message);
  if (!model)
    throw Error(takeRuntimeMessage(message, "cannot load the model library"));
  return std::make_unique<Model>(model);
}

} // namespace

PYBIND11_MODULE(_shears, m) {
  m.doc() = "Native part of the shears package; use `import shears`.";

  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);
  auto warning = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "shears._shears.DiagnosticWarning",
      "Warnings and remarks that MLIR reported while an operation succeeded.",
      PyExc_UserWarning, nullptr));
  if (!warning)
    throw py::error_already_set();
  m.attr("DiagnosticWarning") = warning;
  diagnosticWarning = warning.release().ptr(); // Lives as long as the process.

  py::class_<Module>(
      m, "Module",
      R"doc(An MLIR module (a `builtin.module`), usually holding one function in the
`shears` dialect. Create one with `shears.import_onnx`, `shears.parse` or
`shears.load`; `str(module)` is its MLIR text.)doc")
      .def("__str__",
           [](const Module &self) {
             return self.toString(false, false, std::nullopt, std::nullopt);
           })
      .def("__repr__", &Module::repr)
      .def("to_string", &Module::toString, py::kw_only(),
           py::arg("debug_info") = false, py::arg("generic") = false,
           py::arg("large_elements_limit") = py::none(),
           py::arg("large_resource_limit") = py::none(),
           R"doc(The MLIR text of the module.

debug_info: print locations (ONNX node names for imported models).
generic: print the generic op form.
large_elements_limit: elide dense element attributes with more elements.
large_resource_limit: elide resource blobs (weights) larger than this many
    bytes; the text then no longer parses back with its weights.)doc")
      .def("clone", &Module::clone, "A deep copy of the module.")
      .def("__copy__", &Module::clone)
      .def("__deepcopy__",
           [](const Module &self, py::object) { return self.clone(); })
      .def_property_readonly(
          "input_names", &Module::inputNames,
          R"doc(The names of the model's inputs in order: their ONNX names, else
input_0, input_1, ... Raises shears.Error if the module has no entry function
(`main` or a single public function).)doc")
      .def("verify", &Module::verify,
           "Runs the MLIR verifier; raises shears.Error if it fails.")
      .def("run_pipeline", &Module::runPipeline, py::arg("pipeline"),
           R"doc(Runs a textual pass pipeline on the module, in place.

The syntax is mlir-opt's: `"builtin.module(canonicalize,cse)"`, or the same
without the anchor (`"canonicalize,cse"`, `"func.func(canonicalize)"`), with
pass options in braces (`"canonicalize{max-iterations=2}"`). Every
upstream MLIR pass and every Shears pass and pipeline is available.

Raises shears.Error with the diagnostics if the pipeline does not parse or a
pass fails; the module is then left unchanged.)doc")
      .def(
          "to_onnx",
          [](const Module &self, bool sparseInitializers, bool bitPacking) {
            return py::bytes(self.toONNX(sparseInitializers, bitPacking));
          },
          py::arg("sparse_initializers") = true, py::arg("bit_packing") = true,
          R"doc(The module as a serialized ONNX ModelProto (bytes), e.g. for
`onnx.load_from_string`. A weight is stored as a sparse_initializer where that
is smaller, unless `sparse_initializers` is false; int4 and binary weights in
4 and 1 bits a value, unless `bit_packing` is false. Raises shears.Error if an
op cannot be expressed in ONNX.)doc")
      .def(
          "_report_json",
          [](const Module &self, bool timeSparse, bool measure, int threads) {
            // The kernels' threads for the timing, as shears report
            // --threads sets them (each model run sets its own again).
            if (threads > 0)
              shears_uk_set_num_threads(threads);
            shears::ModelReport report = shears::collectModelReport(self.get());
            if (timeSparse)
              shears::timeSparseLayers(report);
            std::string error;
            if (measure && failed(shears::measureLayers(self.get(), report,
                                                        threads, error)))
              throw Error("cannot measure the layers: " + error);
            std::string json;
            llvm::raw_string_ostream os(json);
            shears::printModelReportJSON(report, os);
            return json;
          },
          py::arg("time_sparse") = false, py::arg("measure") = false,
          py::arg("threads") = 0)
      .def("_export_onnx", &Module::exportONNX, py::arg("path"),
           py::arg("sparse_initializers"), py::arg("bit_packing"))
      .def("_write", &Module::write, py::arg("path"), py::arg("bytecode"));

  py::class_<Model>(m, "_Model", "A compiled model (see shears.CompiledModel).")
      .def_property_readonly("inputs", &Model::inputs)
      .def_property_readonly("outputs", &Model::outputs)
      .def_property_readonly("signature", &Model::signature)
      .def("run", &Model::run, py::arg("arrays"))
      .def("set_threads", &Model::setThreads, py::arg("threads"))
      .def("set_batch_chunk", &Model::setBatchChunk, py::arg("images"));

  m.def("_import_onnx", &importONNX, py::arg("path"));
  m.def(
      "supported_onnx_ops",
      [] {
        std::vector<std::string> ops;
        for (StringRef op : shears::getSupportedONNXOps())
          ops.push_back(op.str());
        return ops;
      },
      "The ONNX op types (default domain) the importer converts, sorted.");
  m.def("_parse_file", &parseFile, py::arg("path"));
  m.def("_import_packed", &importPacked, py::arg("path"));
  m.def("_pack", &pack, py::arg("module"), py::arg("path"));
  m.def("_unpack", &unpack, py::arg("path"), py::arg("out"));
  m.def("_parse_string", &parseString, py::arg("text"),
        py::arg("name") = "<string>");
  m.def("_compile", &compile, py::arg("module"), py::arg("device") = "cpu",
        py::arg("time_sparse") = true, py::arg("gpu_arch") = "sm_90",
        py::arg("gpu_precision") = "fp32");
  m.def("_sensitivity", &sensitivity, py::arg("module"), py::arg("samples"),
        py::arg("labels"), py::arg("sparsities"), py::arg("options"),
        py::arg("batch"), py::arg("latency_batch"), py::arg("latency_runs"),
        py::arg("threads"));
  m.def("_allocate", &allocate, py::arg("json"), py::arg("budget"));
  m.def("_calibrate", &calibrate, py::arg("module"), py::arg("samples"),
        py::arg("batch"), py::arg("kind"));
  m.def("_compile_library", &compileLibrary, py::arg("module"), py::arg("path"),
        py::arg("cpu") = "", py::arg("device") = "cpu",
        py::arg("time_sparse") = true, py::arg("gpu_arch") = "sm_90",
        py::arg("gpu_precision") = "fp32");
  m.def("_load_library", &loadLibrary, py::arg("path"));
}
