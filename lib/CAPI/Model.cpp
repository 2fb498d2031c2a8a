//===- Model.cpp - Loading and running compiled models --------------------===//

#include "Signature.h"
#include "Support.h"
#include "shears/Support/RunBuffers.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

using namespace shears::capi;

namespace {
/// A model's intermediates for one call (memref<?xi8>), kept between runs.
struct Workspace {
  void *data;
  size_t capacity;
};
} // namespace

/// shears_uk_parallel_for of the model's kernels (Kernels.h).
typedef void (*ParallelFor)(int64_t, void (*)(void *, int64_t, int), void *);

struct ShearsModel {
  void (*invoke)(void **);
  char *signatureJson;
  Signature signature;
  /// The dlopen handle of an AOT model; NULL for the JIT.
  void *library;
  void *owner;
  void (*ownerFree)(void *);
  /// The kernels' thread control and the count asked for (0: default).
  int (*setThreads)(int);
  int threads;
  /// Runs tasks on those threads (NULL: chunks of a batch run one after
  /// another, each on every thread).
  ParallelFor parallelFor;
  /// A GPU model's runtime error report and weight release (NULL for the
  /// CPU).
  char *(*takeDeviceError)(void);
  void (*release)(void);
  /// Images per call of a batch-separable model (shearsModelSetBatchChunk;
  /// 0: from the workspace's size).
  int64_t batchChunk;
  /// The workspaces, one a thread that runs chunks of a batch at once (the
  /// first for calls on the whole batch); `mutex` makes runs take turns on
  /// them.
  Workspace *workspaces;
  int numWorkspaces;
  pthread_mutex_t mutex;
};

static ShearsModel *createModel(void (*invoke)(void **), const char *json,
                                char **error) {
  if (!invoke || !json) {
    setError(error, "a model needs an entry point and a signature");
    return nullptr;
  }
  auto *model = static_cast<ShearsModel *>(calloc(1, sizeof(ShearsModel)));
  size_t size = strlen(json) + 1;
  char *jsonCopy = static_cast<char *>(malloc(size));
  if (!model || !jsonCopy) {
    free(model);
    free(jsonCopy);
    setError(error, "out of memory");
    return nullptr;
  }
  memcpy(jsonCopy, json, size);
  if (!parseSignature(jsonCopy, model->signature, error)) {
    free(model);
    free(jsonCopy);
    return nullptr;
  }
  model->invoke = invoke;
  model->signatureJson = jsonCopy;
  pthread_mutex_init(&model->mutex, nullptr);
  return model;
}

ShearsModel *shearsModelCreate(void (*invoke)(void **),
                               const char *signatureJson, void *owner,
                               void (*ownerFree)(void *), char **error) {
  ShearsModel *model = createModel(invoke, signatureJson, error);
  if (model) {
    model->owner = owner;
    model->ownerFree = ownerFree;
  }
  return model;
}

ShearsModel *shearsModelLoadLibrary(const char *path, char **error) {
  if (!path) {
    setError(error, "no model library given");
    return nullptr;
  }
  // dlopen looks a name without a slash up in the library search path; a
  // model is named by its file path, as on a command line.
  StringBuilder file;
  if (!strchr(path, '/'))
    file.append("./");
  file.append(path);
  void *library = dlopen(file.str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    setError(error, "cannot load model '%s': %s", path,
             reason ? reason : "unknown error");
    return nullptr;
  }
  auto invoke =
      reinterpret_cast<void (*)(void **)>(dlsym(library, "shears_invoke"));
  auto *signature =
      static_cast<const char *>(dlsym(library, "shears_signature"));
  if (!invoke || !signature) {
    setError(error, "'%s' is not a Shears model: it does not export '%s'", path,
             invoke ? "shears_signature" : "shears_invoke");
    dlclose(library);
    return nullptr;
  }
  char *reason = nullptr;
  ShearsModel *model = createModel(invoke, signature, &reason);
  if (!model) {
    setError(error, "model '%s': %s", path, reason ? reason : "out of memory");
    free(reason);
    dlclose(library);
    return nullptr;
  }
  model->library = library;
  // A GPU model loaded its kernels when it was opened.
  if (shearsModelSetDeviceControl(
          model,
          reinterpret_cast<char *(*)(void)>(
              dlsym(library, "shears_gpu_take_error")),
          reinterpret_cast<void (*)(void)>(dlsym(library, "shears_release")),
          &reason) != 0) {
    setError(error, "model '%s': %s", path, reason);
    free(reason);
    shearsModelFree(model);
    return nullptr;
  }
  model->setThreads = reinterpret_cast<int (*)(int)>(
      dlsym(library, "shears_uk_set_num_threads"));
  model->parallelFor =
      reinterpret_cast<ParallelFor>(dlsym(library, "shears_uk_parallel_for"));
  // shears-compile --threads N.
  if (auto *threads =
          static_cast<const int *>(dlsym(library, "shears_default_threads")))
    model->threads = *threads;
  return model;
}

int shearsModelSetThreads(ShearsModel *model, int threads, char **error) {
  if (!model) {
    setError(error, "no model");
    return 1;
  }
  if (threads < 1 || threads > SHEARS_MAX_THREADS) {
    setError(error, "threads must be between 1 and %d, got %d",
             SHEARS_MAX_THREADS, threads);
    return 1;
  }
  model->threads = threads;
  return 0;
}

void shearsModelSetThreadControl(ShearsModel *model, int (*setThreads)(int)) {
  if (model)
    model->setThreads = setThreads;
}

void shearsModelSetParallelFor(ShearsModel *model, ParallelFor parallelFor) {
  if (model)
    model->parallelFor = parallelFor;
}

int shearsModelSetDeviceControl(ShearsModel *model, char *(*takeError)(void),
                                void (*release)(void), char **error) {
  if (!model) {
    setError(error, "no model");
    return 1;
  }
  model->takeDeviceError = takeError;
  model->release = release;
  char *message = takeError ? takeError() : nullptr;
  if (!message)
    return 0;
  setError(error, "%s", message);
  free(message);
  return 1;
}

void shearsModelFree(ShearsModel *model) {
  if (!model)
    return;
  if (model->release)
    model->release();
  freeSignature(model->signature);
  free(model->signatureJson);
  if (model->ownerFree)
    model->ownerFree(model->owner);
  if (model->library)
    dlclose(model->library);
  for (int i = 0; i < model->numWorkspaces; ++i)
    free(model->workspaces[i].data);
  free(model->workspaces);
  pthread_mutex_destroy(&model->mutex);
  free(model);
}

const char *shearsModelSignature(const ShearsModel *model) {
  return model ? model->signatureJson : nullptr;
}

size_t shearsModelNumInputs(const ShearsModel *model) {
  return model ? model->signature.numInputs : 0;
}

size_t shearsModelNumOutputs(const ShearsModel *model) {
  return model ? model->signature.numOutputs : 0;
}

static const TensorSpec *getSpec(const ShearsModel *model, bool output,
                                 size_t index) {
  if (!model)
    return nullptr;
  const Signature &signature = model->signature;
  if (output)
    return index < signature.numOutputs ? &signature.outputs[index] : nullptr;
  return index < signature.numInputs ? &signature.inputs[index] : nullptr;
}

static const char *specName(const TensorSpec *spec) {
  return spec ? spec->name : nullptr;
}
static ShearsDType specDType(const TensorSpec *spec) {
  return spec ? spec->dtype : SHEARS_DTYPE_INVALID;
}
static size_t specRank(const TensorSpec *spec) { return spec ? spec->rank : 0; }
static const int64_t *specShape(const TensorSpec *spec) {
  return spec ? spec->shape : nullptr;
}

const char *shearsModelInputName(const ShearsModel *model, size_t index) {
  return specName(getSpec(model, false, index));
}
ShearsDType shearsModelInputDType(const ShearsModel *model, size_t index) {
  return specDType(getSpec(model, false, index));
}
size_t shearsModelInputRank(const ShearsModel *model, size_t index) {
  return specRank(getSpec(model, false, index));
}
const int64_t *shearsModelInputShape(const ShearsModel *model, size_t index) {
  return specShape(getSpec(model, false, index));
}
const char *shearsModelOutputName(const ShearsModel *model, size_t index) {
  return specName(getSpec(model, true, index));
}
ShearsDType shearsModelOutputDType(const ShearsModel *model, size_t index) {
  return specDType(getSpec(model, true, index));
}
size_t shearsModelOutputRank(const ShearsModel *model, size_t index) {
  return specRank(getSpec(model, true, index));
}
const int64_t *shearsModelOutputShape(const ShearsModel *model, size_t index) {
  return specShape(getSpec(model, true, index));
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

/// 8-byte words in a rank-`rank` memref descriptor: allocated, aligned,
/// offset, sizes, strides.
static size_t descriptorWords(size_t rank) { return 3 + 2 * rank; }

/// Fills in the descriptor of a dense row-major input.
static void writeDescriptor(int64_t *words, const ShearsTensor *tensor) {
  memcpy(&words[0], &tensor->data, sizeof(void *));
  memcpy(&words[1], &tensor->data, sizeof(void *));
  words[2] = 0;
  int64_t stride = 1;
  for (size_t d = tensor->rank; d-- > 0;) {
    words[3 + d] = tensor->shape[d];
    words[3 + tensor->rank + d] = stride;
    stride *= tensor->shape[d];
  }
}

static bool checkInput(const TensorSpec &spec, size_t index,
                       const ShearsTensor *tensor, char **error) {
  if (!tensor) {
    setError(error, "input '%s' (#%zu) is NULL", spec.name, index);
    return false;
  }
  bool matches = tensor->dtype == spec.dtype && tensor->rank == spec.rank;
  for (size_t d = 0; matches && d < spec.rank; ++d)
    matches = spec.shape[d] == SHEARS_DYNAMIC_DIM ||
              spec.shape[d] == tensor->shape[d];
  if (matches)
    return true;
  StringBuilder expected, got;
  expected.appendType(spec.dtype, spec.rank, spec.shape);
  got.appendType(tensor->dtype, tensor->rank, tensor->shape);
  setError(error, "input '%s' (#%zu): expected %s, got %s", spec.name, index,
           expected.str(), got.str());
  return false;
}

namespace {
/// An output descriptor as the model filled it in.
struct OutputView {
  void *allocated;
  const char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
  /// Whether the runtime must free `allocated` (unless a tensor adopts it).
  bool owned;
};
} // namespace

/// Whether output `index` hands its buffer over. Only a buffer not seen
/// before does: a model that returns an input, one buffer twice, or a
/// constant (MLIR gives a global's descriptor the fake allocated pointer
/// 0xdeadbeef) must not have it freed, let alone twice.
static bool isHandedOver(const OutputView *views, size_t index,
                         const ShearsTensor *const *inputs, size_t numInputs) {
  void *allocated = views[index].allocated;
  if (!allocated || reinterpret_cast<uintptr_t>(allocated) == 0xdeadbeef)
    return false;
  for (size_t i = 0; i < numInputs; ++i)
    if (allocated == inputs[i]->data)
      return false;
  for (size_t i = 0; i < index; ++i)
    if (allocated == views[i].allocated)
      return false;
  return true;
}

/// Whether the elements are dense in row-major order. A dim of size 1 may
/// have any stride: MLIR does not canonicalize those.
static bool isContiguous(const OutputView &view, size_t rank) {
  int64_t expected = 1;
  for (size_t d = rank; d-- > 0;) {
    if (view.sizes[d] != 1 && view.strides[d] != expected)
      return false;
    expected *= view.sizes[d];
  }
  return true;
}

/// Copies the `tensor->numElements` elements of `view` into `tensor` in
/// row-major order. Returns false when out of memory.
static bool copyStrided(const OutputView &view, ShearsTensor *tensor) {
  size_t elementSize = shearsDTypeSize(tensor->dtype);
  auto *dst = static_cast<char *>(tensor->data);
  const char *src = view.aligned + view.offset * elementSize;
  if (isContiguous(view, tensor->rank)) {
    memcpy(dst, src, tensor->sizeInBytes);
    return true;
  }
  auto *index = static_cast<int64_t *>(calloc(tensor->rank, sizeof(int64_t)));
  if (!index)
    return false;
  // Walk the elements as an odometer over the multi-index.
  int64_t srcOffset = 0;
  for (size_t n = 0; n < tensor->numElements; ++n) {
    memcpy(dst + n * elementSize, src + srcOffset * elementSize, elementSize);
    for (size_t d = tensor->rank; d-- > 0;) {
      srcOffset += view.strides[d];
      if (++index[d] < view.sizes[d])
        break;
      srcOffset -= view.strides[d] * view.sizes[d];
      index[d] = 0;
    }
  }
  free(index);
  return true;
}

/// Makes a tensor of output `index`, adopting its buffer when it is handed
/// over and dense (clearing `view.owned`), copying it otherwise.
static ShearsTensor *makeOutput(const TensorSpec &spec, size_t index,
                                OutputView &view, char **error) {
  bool valid = true;
  for (size_t d = 0; d < spec.rank; ++d)
    valid &= view.sizes[d] >= 0 && (spec.shape[d] == SHEARS_DYNAMIC_DIM ||
                                    spec.shape[d] == view.sizes[d]);
  if (!valid) {
    StringBuilder expected, got;
    expected.appendType(spec.dtype, spec.rank, spec.shape);
    got.appendType(spec.dtype, spec.rank, view.sizes);
    setError(error, "the model returned output '%s' (#%zu) as %s, expected %s",
             spec.name, index, got.str(), expected.str());
    return nullptr;
  }
  ShearsTensor *tensor =
      allocateTensor(spec.dtype, spec.rank, view.sizes, error);
  if (!tensor)
    return nullptr;
  // An empty output is copied too: its pointers need not point anywhere.
  if (view.owned && tensor->numElements && isContiguous(view, spec.rank)) {
    tensor->allocation = view.allocated;
    tensor->data = const_cast<char *>(view.aligned) +
                   view.offset * shearsDTypeSize(spec.dtype);
    view.owned = false;
    return tensor;
  }
  tensor->allocation = allocateBytes(tensor->sizeInBytes);
  tensor->data = tensor->allocation;
  if (!tensor->allocation ||
      (tensor->numElements && !copyStrided(view, tensor))) {
    shearsTensorFree(tensor);
    setError(error, "out of memory");
    return nullptr;
  }
  return tensor;
}

/// Makes sure the model has `count` workspaces (under its mutex).
static bool reserveWorkspaces(ShearsModel *model, int count) {
  if (count <= model->numWorkspaces)
    return true;
  auto *grown = static_cast<Workspace *>(
      realloc(model->workspaces, count * sizeof(Workspace)));
  if (!grown)
    return false;
  for (int i = model->numWorkspaces; i < count; ++i)
    grown[i] = Workspace{nullptr, 0};
  model->workspaces = grown;
  model->numWorkspaces = count;
  return true;
}

/// shearsModelRun in one call of the model. With `slot` -1 the call takes
/// the model's mutex, sets its threads and uses its first workspace; a
/// caller that holds the mutex (and has reserved the workspaces) runs calls
/// at once, each in a workspace (`slot`) of its own.
static int runWhole(ShearsModel *model, const ShearsTensor *const *inputs,
                    size_t numInputs, ShearsTensor **outputs, char **error,
                    int slot = -1) {
  if (!model) {
    setError(error, "no model to run");
    return 1;
  }
  const Signature &signature = model->signature;
  size_t numOutputs = signature.numOutputs;
  if (numOutputs && !outputs) {
    setError(error, "no array to store the outputs in");
    return 1;
  }
  for (size_t i = 0; i < numOutputs; ++i)
    outputs[i] = nullptr;
  if (numInputs != signature.numInputs) {
    setError(error, "the model takes %zu input%s, got %zu", signature.numInputs,
             signature.numInputs == 1 ? "" : "s", numInputs);
    return 1;
  }
  if (numInputs && !inputs) {
    setError(error, "no array of inputs");
    return 1;
  }
  for (size_t i = 0; i < numInputs; ++i)
    if (!checkInput(signature.inputs[i], i, inputs[i], error))
      return 1;

  // Allocate everything before the call: afterwards the model's buffers must
  // be freed whatever happens.
  size_t numWords = 0;
  for (size_t i = 0; i < numInputs; ++i)
    numWords += descriptorWords(signature.inputs[i].rank);
  size_t numInputWords = numWords;
  for (size_t i = 0; i < numOutputs; ++i)
    numWords += descriptorWords(signature.outputs[i].rank);
  auto *words = static_cast<int64_t *>(calloc(numWords + 1, sizeof(int64_t)));
  // The workspace's size at this batch.
  size_t workspaceBytes = static_cast<size_t>(signature.workspaceBytes);
  if (signature.workspaceInput >= 0) {
    int64_t scale =
        inputs[signature.workspaceInput]->shape[signature.workspaceDim];
    if (scale > 1 && workspaceBytes > SIZE_MAX / static_cast<size_t>(scale)) {
      setError(error, "the workspace for a batch of %lld overflows",
               static_cast<long long>(scale));
      return 1;
    }
    workspaceBytes *= scale > 1 ? static_cast<size_t>(scale) : 1;
  }
  // args: results, inputs, the workspace descriptor (memref<?xi8>), then
  // where the model's shape check puts its verdict.
  int64_t workspaceWords[5] = {0, 0, 0, 0, 1};
  int32_t shapeCheck = 0;
  auto *args = static_cast<void **>(malloc((3 + numInputs) * sizeof(void *)));
  auto *views =
      static_cast<OutputView *>(calloc(numOutputs + 1, sizeof(OutputView)));
  if (!words || !args || !views) {
    free(words);
    free(args);
    free(views);
    setError(error, "out of memory");
    return 1;
  }
  int64_t *descriptor = words;
  for (size_t i = 0; i < numInputs; ++i) {
    args[1 + i] = descriptor;
    writeDescriptor(descriptor, inputs[i]);
    descriptor += descriptorWords(inputs[i]->rank);
  }
  args[0] = words + numInputWords;
  args[1 + numInputs] = workspaceWords;
  args[2 + numInputs] = &shapeCheck;

  bool locking = slot < 0;
  if (locking)
    pthread_mutex_lock(&model->mutex);
  Workspace *workspace =
      locking ? (reserveWorkspaces(model, 1) ? &model->workspaces[0] : nullptr)
      : slot < model->numWorkspaces ? &model->workspaces[slot]
                                    : nullptr;
  if (workspace && workspaceBytes > workspace->capacity) {
    free(workspace->data);
    workspace->data =
        shears::allocateRunBuffer(workspaceBytes, &workspace->capacity);
  }
  if (!workspace || (workspaceBytes && !workspace->data)) {
    if (workspace)
      *workspace = Workspace{nullptr, 0};
    if (locking)
      pthread_mutex_unlock(&model->mutex);
    free(words);
    free(args);
    free(views);
    setError(error, "out of memory for a workspace of %zu bytes",
             workspaceBytes);
    return 1;
  }
  memcpy(&workspaceWords[0], &workspace->data, sizeof(void *));
  memcpy(&workspaceWords[1], &workspace->data, sizeof(void *));
  workspaceWords[3] = static_cast<int64_t>(workspaceBytes);
  if (locking && model->setThreads)
    model->setThreads(model->threads);
  model->invoke(args);
  char *deviceError =
      model->takeDeviceError ? model->takeDeviceError() : nullptr;
  if (locking)
    pthread_mutex_unlock(&model->mutex);
  if (deviceError && shapeCheck == 0) {
    // The outputs hold whatever the failed GPU run left: free them.
    int64_t *out = words + numInputWords;
    for (size_t i = 0; i < numOutputs; ++i) {
      void *allocated;
      memcpy(&allocated, &out[0], sizeof(void *));
      free(allocated);
      out += descriptorWords(signature.outputs[i].rank);
    }
  }
  if (deviceError) {
    free(words);
    free(args);
    free(views);
    setError(error, "running on the GPU failed: %s", deviceError);
    free(deviceError);
    return 1;
  }
  if (shapeCheck != 0) {
    // The model did not run: its outputs were never made.
    free(words);
    free(args);
    free(views);
    const char *what =
        shapeCheck > 0 && size_t(shapeCheck) <= signature.numChecks
            ? signature.checks[shapeCheck - 1]
            : "an unknown check";
    StringBuilder shapes;
    for (size_t i = 0; i < numInputs; ++i) {
      shapes.append(i ? ", " : "");
      shapes.append(signature.inputs[i].name);
      shapes.append(" ");
      shapes.appendType(inputs[i]->dtype, inputs[i]->rank, inputs[i]->shape);
    }
    setError(error,
             "the inputs' shapes disagree where the model needs them "
             "to agree (%s); got %s",
             what, shapes.str());
    return 1;
  }

  descriptor = words + numInputWords;
  for (size_t i = 0; i < numOutputs; ++i) {
    size_t rank = signature.outputs[i].rank;
    OutputView &view = views[i];
    memcpy(&view.allocated, &descriptor[0], sizeof(void *));
    memcpy(&view.aligned, &descriptor[1], sizeof(void *));
    view.offset = descriptor[2];
    view.sizes = descriptor + 3;
    view.strides = descriptor + 3 + rank;
    view.owned = isHandedOver(views, i, inputs, numInputs);
    descriptor += descriptorWords(rank);
  }
  bool failed = false;
  for (size_t i = 0; i < numOutputs && !failed; ++i) {
    outputs[i] = makeOutput(signature.outputs[i], i, views[i], error);
    failed = !outputs[i];
  }
  // Buffers that were copied, or not reached after a failure.
  for (size_t i = 0; i < numOutputs; ++i)
    if (views[i].owned)
      free(views[i].allocated);
  for (size_t i = 0; failed && i < numOutputs; ++i) {
    shearsTensorFree(outputs[i]);
    outputs[i] = nullptr;
  }
  free(words);
  free(args);
  free(views);
  return failed ? 1 : 0;
}

int shearsModelSetBatchChunk(ShearsModel *model, int64_t images, char **error) {
  if (!model) {
    setError(error, "no model");
    return 1;
  }
  if (images < 0) {
    setError(error,
             "a batch chunk is at least 1 image (0: automatic), got "
             "%lld",
             static_cast<long long>(images));
    return 1;
  }
  model->batchChunk = images;
  return 0;
}

/// The intermediates a chunk of a batch may take: half the L3 cache of the
/// machines Shears is tuned on (32 MiB). mobilenet_v2 (6 MB of workspace an
/// image) at batch 8 on one Zen 4 core: 8.3 ms an image in one call, 7.4 in
/// calls of 2.
static const size_t kBatchChunkBytes = size_t(16) << 20;

/// Images per call of a batch-separable model, when `concurrent` calls run
/// at once: they share the budget (the L3 cache). On 2 threads of a Zen 5
/// EPYC at batch 8, a share a thread (bench/ab.py against every kernel on
/// both threads, chunks one after another): in chunks of the whole budget
/// resnet18 took 1.04x the time, resnet50 0.97x, mobilenet_v2 0.83x; of
/// half, 0.95x, 0.92x and 0.80x.
static int64_t batchChunk(const ShearsModel *model, int concurrent) {
  if (model->batchChunk > 0)
    return model->batchChunk;
  size_t perImage = static_cast<size_t>(model->signature.workspaceBytes);
  size_t budget = kBatchChunkBytes / static_cast<size_t>(concurrent);
  return perImage ? static_cast<int64_t>(
                        budget / perImage > 0 ? budget / perImage : 1)
                  : INT64_MAX;
}

namespace {
/// Calls on chunks of a batch: chunk c is images [starts[c], starts[c + 1]).
struct ChunkCalls {
  ShearsModel *model;
  const ShearsTensor *const *inputs;
  size_t numInputs;
  int64_t batch;
  const int64_t *starts;
  /// The calls' outputs, numOutputs a chunk (all chunks at once, or only
  /// the current one), and errors (NULL: none).
  bool allAtOnce;
  ShearsTensor **parts;
  char **errors;
  int *status;

  /// Where chunk c's call puts its outputs.
  ShearsTensor **partsOf(int64_t c) const {
    return parts + (allAtOnce ? c : 0) * model->signature.numOutputs;
  }
};
} // namespace

/// Chunk `c` of `calls` as one call of the model on views of the inputs, in
/// workspace `slot` (-1: the model's own, under its mutex).
static void callChunk(ChunkCalls &calls, int64_t c, int slot) {
  size_t numInputs = calls.numInputs;
  int64_t b0 = calls.starts[c], images = calls.starts[c + 1] - b0;
  auto **views = static_cast<ShearsTensor **>(
      calloc(numInputs + 1, sizeof(ShearsTensor *)));
  size_t maxRank = 1;
  for (size_t i = 0; i < numInputs; ++i)
    maxRank = calls.inputs[i]->rank > maxRank ? calls.inputs[i]->rank : maxRank;
  auto *shape = static_cast<int64_t *>(calloc(maxRank, sizeof(int64_t)));
  char **error = &calls.errors[c];
  bool failed = !views || !shape;
  if (failed)
    setError(error, "out of memory");
  for (size_t i = 0; i < numInputs && !failed; ++i) {
    const ShearsTensor *in = calls.inputs[i];
    memcpy(shape, in->shape, in->rank * sizeof(int64_t));
    shape[0] = images;
    size_t perImage = in->sizeInBytes / static_cast<size_t>(calls.batch);
    views[i] =
        shearsTensorWrap(in->dtype, in->rank, shape,
                         static_cast<char *>(in->data) + b0 * perImage, error);
    failed = !views[i];
  }
  calls.status[c] = failed || runWhole(calls.model, views, numInputs,
                                       calls.partsOf(c), error, slot) != 0;
  for (size_t i = 0; views && i < numInputs; ++i)
    shearsTensorFree(views[i]);
  free(views);
  free(shape);
}

/// Runs a batch-separable model on `batch` images as calls on `chunks`
/// chunks (`starts`, views of the inputs), each call's outputs copied into
/// the whole batch's. With `parallel` the calls run at once, a call a
/// thread, each in a workspace of its own, on the threads of the model's
/// kernels (which then run each call's kernels on its thread alone);
/// otherwise one after another, each on every thread.
static int runInChunks(ShearsModel *model, const ShearsTensor *const *inputs,
                       size_t numInputs, ShearsTensor **outputs, int64_t batch,
                       const int64_t *starts, int64_t chunks, int threads,
                       bool parallel, char **error) {
  const Signature &signature = model->signature;
  size_t numOutputs = signature.numOutputs;
  for (size_t i = 0; i < numOutputs; ++i)
    outputs[i] = nullptr;
  // A step: every chunk at once, or one chunk.
  int64_t step = parallel ? chunks : 1;
  ChunkCalls calls{model,    inputs,  numInputs, batch,  starts,
                   parallel, nullptr, nullptr,   nullptr};
  calls.parts = static_cast<ShearsTensor **>(
      calloc(step * numOutputs + 1, sizeof(ShearsTensor *)));
  calls.errors = static_cast<char **>(calloc(chunks, sizeof(char *)));
  calls.status = static_cast<int *>(calloc(chunks, sizeof(int)));
  size_t maxRank = 1;
  for (size_t j = 0; j < numOutputs; ++j)
    maxRank = signature.outputs[j].rank > maxRank ? signature.outputs[j].rank
                                                  : maxRank;
  auto *shape = static_cast<int64_t *>(calloc(maxRank, sizeof(int64_t)));
  bool failed = !calls.parts || !calls.errors || !calls.status || !shape;
  if (failed)
    setError(error, "out of memory");
  if (!failed && parallel) {
    pthread_mutex_lock(&model->mutex);
    if (reserveWorkspaces(model, threads)) {
      model->parallelFor(
          chunks,
          [](void *ctx, int64_t c, int worker) {
            callChunk(*static_cast<ChunkCalls *>(ctx), c, worker);
          },
          &calls);
    } else {
      setError(error, "out of memory");
      failed = true;
    }
    pthread_mutex_unlock(&model->mutex);
  }
  // The first call failed (a shape check): nothing ran. Whole, the run
  // fails the same way, with the batch's shapes in the message.
  bool rerunWhole = false;
  for (int64_t c = 0; c < chunks && !failed; ++c) {
    ShearsTensor **parts = calls.partsOf(c);
    if (!parallel)
      callChunk(calls, c, -1);
    if (calls.status[c] && c == 0 && calls.errors[0]) {
      rerunWhole = failed = true;
      break;
    }
    if (calls.status[c]) {
      if (error && calls.errors[c]) {
        *error = calls.errors[c];
        calls.errors[c] = nullptr;
      }
      failed = true;
    }
    int64_t b0 = starts[c], images = starts[c + 1] - b0;
    for (size_t j = 0; j < numOutputs && !failed; ++j) {
      const ShearsTensor *part = parts[j];
      ShearsTensor *&out = outputs[j];
      if (!out) {
        memcpy(shape, part->shape, part->rank * sizeof(int64_t));
        shape[0] = batch;
        out = allocateTensor(part->dtype, part->rank, shape, error);
        if (out) {
          out->allocation = allocateBytes(out->sizeInBytes);
          out->data = out->allocation;
          if (!out->allocation)
            setError(error, "out of memory");
        }
        failed = !out || !out->allocation;
      }
      // The chunk's images, at their place in the batch.
      bool fits = !failed && part->shape[0] == images &&
                  part->rank == out->rank &&
                  memcmp(part->shape + 1, out->shape + 1,
                         (out->rank - 1) * sizeof(int64_t)) == 0;
      if (!failed && !fits) {
        setError(error,
                 "the model's output '%s' (#%zu) does not keep the batch as "
                 "its first dimension in a call on %lld of %lld images",
                 signature.outputs[j].name, j, static_cast<long long>(images),
                 static_cast<long long>(batch));
        failed = true;
      }
      if (!failed && part->sizeInBytes)
        memcpy(static_cast<char *>(out->data) +
                   b0 * (out->sizeInBytes / static_cast<size_t>(batch)),
               part->data, part->sizeInBytes);
    }
    for (size_t j = 0; j < numOutputs; ++j) {
      shearsTensorFree(parts[j]);
      parts[j] = nullptr;
    }
  }
  for (size_t j = 0; calls.parts && j < step * numOutputs; ++j)
    shearsTensorFree(calls.parts[j]);
  for (int64_t c = 0; calls.errors && c < chunks; ++c)
    shearsFreeString(calls.errors[c]);
  for (size_t j = 0; failed && j < numOutputs; ++j) {
    shearsTensorFree(outputs[j]);
    outputs[j] = nullptr;
  }
  free(calls.parts);
  free(calls.errors);
  free(calls.status);
  free(shape);
  if (rerunWhole)
    return runWhole(model, inputs, numInputs, outputs, error);
  return failed ? 1 : 0;
}

int shearsModelRun(ShearsModel *model, const ShearsTensor *const *inputs,
                   size_t numInputs, ShearsTensor **outputs, char **error) {
  // A batch-separable model on a batch larger than its chunk, with inputs
  // that agree on it: in chunks. Anything else (and every bad input) goes
  // to one call, which reports it.
  if (!model || model->signature.batchDim != 0 || numInputs == 0 ||
      numInputs != model->signature.numInputs || !inputs ||
      (model->signature.numOutputs && !outputs))
    return runWhole(model, inputs, numInputs, outputs, error);
  int64_t batch = -1;
  for (size_t i = 0; i < numInputs; ++i) {
    const ShearsTensor *in = inputs[i];
    if (!in || in->rank < 1 || in->sizeInBytes == 0 ||
        (batch >= 0 && in->shape[0] != batch))
      return runWhole(model, inputs, numInputs, outputs, error);
    batch = in->shape[0];
  }
  // On several threads a batch that they share evenly runs a share a thread,
  // each in chunks, all at once (its kernels on that thread alone): no
  // thread waits for another between kernels, and each reads only what it
  // wrote. Otherwise the chunks run one after another, each kernel on every
  // thread.
  // (Not for a GPU model: its runtime takes one call at a time.)
  int threads =
      model->parallelFor && model->setThreads && !model->takeDeviceError
          ? model->setThreads(model->threads)
          : 1;
  bool parallel = threads > 1 && batch % threads == 0;
  int64_t chunk = batchChunk(model, parallel ? threads : 1);
  int64_t share = parallel ? batch / threads : batch;
  int64_t perShare = share / chunk + (share % chunk != 0);
  if (!parallel && perShare == 1)
    return runWhole(model, inputs, numInputs, outputs, error);
  int64_t chunks = (parallel ? threads : 1) * perShare;
  auto *starts = static_cast<int64_t *>(malloc((chunks + 1) * sizeof(int64_t)));
  if (!starts) {
    setError(error, "out of memory");
    return 1;
  }
  // Chunks of `chunk` images, or each share's as even as can be (a share
  // of 5 in chunks of 1, 2 and 2, not 2, 2 and 1).
  for (int64_t c = 0; c < chunks; ++c)
    starts[c] = parallel
                    ? c / perShare * share + c % perShare * share / perShare
                    : c * chunk;
  starts[chunks] = batch;
  int status = runInChunks(model, inputs, numInputs, outputs, batch, starts,
                           chunks, threads, parallel, error);
  free(starts);
  return status;
}
