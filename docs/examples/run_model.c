//===- run_model.c - Run a compiled Shears model on .npy files ------------===//
//
// Usage: shears-example-run-model MODEL.so [NAME=FILE.npy]... [-o OUT_DIR]
//
// Loads a model compiled to a shared library, prints its signature, reads
// each input from the .npy file given for its name, runs the model, and
// writes each output to OUT_DIR/<name>.npy (OUT_DIR: `.` by default).
//
// A plain C program; the runtime needs nothing but libc and libdl. With the
// static library, or the shared one:
//   cc run_model.c -I$SHEARS/include $SHEARS/build/lib/libShearsCAPIRuntime.a \
//     -ldl
//   cc run_model.c -I$SHEARS/include -L$SHEARS/build/lib -lshears_runtime
//
//===----------------------------------------------------------------------===//

#include "shears-c/Runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void printTensorSpec(size_t index, const char *name, ShearsDType dtype,
                            size_t rank, const int64_t *shape) {
  char *type = shearsTypeToString(dtype, rank, shape);
  printf("  #%zu %s: %s\n", index, name, type ? type : "?");
  shearsFreeString(type);
}

static void printSignature(const ShearsModel *model) {
  printf("inputs:\n");
  for (size_t i = 0; i < shearsModelNumInputs(model); ++i)
    printTensorSpec(
        i, shearsModelInputName(model, i), shearsModelInputDType(model, i),
        shearsModelInputRank(model, i), shearsModelInputShape(model, i));
  printf("outputs:\n");
  for (size_t i = 0; i < shearsModelNumOutputs(model); ++i)
    printTensorSpec(
        i, shearsModelOutputName(model, i), shearsModelOutputDType(model, i),
        shearsModelOutputRank(model, i), shearsModelOutputShape(model, i));
}

/// Reads each `NAME=FILE.npy` argument into the input it names.
static int readInputs(const ShearsModel *model, int numArgs, char **args,
                      ShearsTensor **inputs) {
  size_t numInputs = shearsModelNumInputs(model);
  for (int a = 0; a < numArgs; ++a) {
    const char *separator = strchr(args[a], '=');
    size_t nameLength = separator ? (size_t)(separator - args[a]) : 0;
    size_t i = 0;
    while (i < numInputs &&
           (strlen(shearsModelInputName(model, i)) != nameLength ||
            strncmp(shearsModelInputName(model, i), args[a], nameLength)))
      ++i;
    if (!separator || i == numInputs) {
      fprintf(stderr, "error: '%s' does not name an input as NAME=FILE.npy\n",
              args[a]);
      return 1;
    }
    if (inputs[i]) {
      fprintf(stderr, "error: input '%s' given twice\n",
              shearsModelInputName(model, i));
      return 1;
    }
    char *error = NULL;
    inputs[i] = shearsTensorLoadNpy(separator + 1, &error);
    if (!inputs[i]) {
      fprintf(stderr, "error: %s\n", error);
      shearsFreeString(error);
      return 1;
    }
  }
  for (size_t i = 0; i < numInputs; ++i) {
    if (!inputs[i]) {
      fprintf(stderr, "error: no file given for input '%s'\n",
              shearsModelInputName(model, i));
      return 1;
    }
  }
  return 0;
}

/// Writes each output to OUT_DIR/<name>.npy, with characters that do not
/// belong in a file name (ONNX names may hold '/' or ':') replaced by '_'.
static int writeOutputs(const ShearsModel *model, ShearsTensor **outputs,
                        const char *outDir) {
  if (mkdir(outDir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "error: cannot create '%s': %s\n", outDir, strerror(errno));
    return 1;
  }
  for (size_t i = 0; i < shearsModelNumOutputs(model); ++i) {
    const char *name = shearsModelOutputName(model, i);
    size_t size = strlen(outDir) + strlen(name) + 6;
    char *path = malloc(size);
    if (!path)
      return 1;
    int prefix = snprintf(path, size, "%s/", outDir);
    for (const char *c = name; *c; ++c)
      path[prefix++] = strchr("abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
                              *c)
                           ? *c
                           : '_';
    strcpy(path + prefix, ".npy");

    char *error = NULL;
    char *type = shearsTypeToString(shearsTensorDType(outputs[i]),
                                    shearsTensorRank(outputs[i]),
                                    shearsTensorShape(outputs[i]));
    int status = shearsTensorSaveNpy(outputs[i], path, &error);
    if (status == 0)
      printf("output %s: %s -> %s\n", name, type ? type : "?", path);
    else
      fprintf(stderr, "error: %s\n", error);
    shearsFreeString(type);
    shearsFreeString(error);
    free(path);
    if (status != 0)
      return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *outDir = ".";
  const char *modelPath = NULL;
  char **inputArgs = calloc(argc, sizeof(char *));
  int numInputArgs = 0;
  if (!inputArgs)
    return 1;
  for (int a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "-o") == 0 && a + 1 < argc)
      outDir = argv[++a];
    else if (!modelPath && !strchr(argv[a], '='))
      modelPath = argv[a];
    else
      inputArgs[numInputArgs++] = argv[a];
  }
  if (!modelPath) {
    fprintf(stderr, "usage: %s MODEL.so [NAME=FILE.npy]... [-o OUT_DIR]\n",
            argv[0]);
    free(inputArgs);
    return 2;
  }

  char *error = NULL;
  ShearsModel *model = shearsModelLoadLibrary(modelPath, &error);
  if (!model) {
    fprintf(stderr, "error: %s\n", error);
    shearsFreeString(error);
    free(inputArgs);
    return 1;
  }
  printf("model: %s\n", modelPath);
  printSignature(model);

  size_t numInputs = shearsModelNumInputs(model);
  size_t numOutputs = shearsModelNumOutputs(model);
  ShearsTensor **inputs = calloc(numInputs + 1, sizeof(ShearsTensor *));
  ShearsTensor **outputs = calloc(numOutputs + 1, sizeof(ShearsTensor *));
  int status = 1;
  if (inputs && outputs &&
      readInputs(model, numInputArgs, inputArgs, inputs) == 0) {
    if (shearsModelRun(model, (const ShearsTensor *const *)inputs, numInputs,
                       outputs, &error) == 0)
      status = writeOutputs(model, outputs, outDir);
    else
      fprintf(stderr, "error: %s\n", error);
  }

  shearsFreeString(error);
  for (size_t i = 0; inputs && i < numInputs; ++i)
    shearsTensorFree(inputs[i]);
  for (size_t i = 0; outputs && i < numOutputs; ++i)
    shearsTensorFree(outputs[i]);
  free(inputs);
  free(outputs);
  free(inputArgs);
  shearsModelFree(model);
  return status;
}
