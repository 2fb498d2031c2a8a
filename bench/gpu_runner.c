/*===- gpu_runner.c - Run and time a compiled GPU model -------------------===*\
 *
 * Usage: gpu_runner MODEL.so [--runs N] [-o OUT_DIR] NAME=FILE.npy...
 *
 * The device side of bench/gpu.py: loads a library compiled with
 * `shears compile --target cuda`, runs it once (writing each output to
 * OUT_DIR/<name>.npy), then N more times, and prints one JSON line:
 *   {"runs": N, "latency_ms": median, "gpu_ms": median}
 * where latency is wall time around shearsModelRun and gpu_ms the device's
 * time for the run from CUDA events (the library's shears_gpu_take_time_ms),
 * then N more runs with each kernel timed by events (shears_gpu_set_timing(2))
 * for "kernels_ms" (the kernels' own time in a run, without copies) and
 * "longest_kernel_ms" (the longest kernel's), medians too.
 * Needs only libc, libdl, libshears_runtime.so and the GPU's driver.
 *
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "shears-c/Runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *values, int n) {
  qsort(values, n, sizeof(double), compare);
  return values[n / 2];
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
  const char *path = NULL, *outDir = ".";
  int runs = 20, numSpecs = 0;
  char **specs = calloc(argc, sizeof(char *));
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "--runs") && a + 1 < argc)
      runs = atoi(argv[++a]);
    else if (!strcmp(argv[a], "-o") && a + 1 < argc)
      outDir = argv[++a];
    else if (!path && !strchr(argv[a], '='))
      path = argv[a];
    else
      specs[numSpecs++] = argv[a];
  }
  if (!path || runs < 1) {
    fprintf(stderr, "usage: %s MODEL.so [--runs N] [-o DIR] NAME=FILE.npy...\n",
            argv[0]);
    return 2;
  }
  char *error = NULL;
  ShearsModel *model = shearsModelLoadLibrary(path, &error);
  if (!model) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  /* The library's own copy of the GPU runtime, for its event timing. */
  char full[4096];
  snprintf(full, sizeof(full), "%s%s", strchr(path, '/') ? "" : "./", path);
  void *library = dlopen(full, RTLD_NOW | RTLD_NOLOAD);
  void (*setTiming)(int) =
      library ? (void (*)(int))dlsym(library, "shears_gpu_set_timing") : NULL;
  double (*takeTime)(void) =
      library ? (double (*)(void))dlsym(library, "shears_gpu_take_time_ms")
              : NULL;
  double (*takeKernelTime)(double *) =
      library ? (double (*)(double *))dlsym(library,
                                            "shears_gpu_take_kernel_time_ms")
              : NULL;

  size_t numInputs = shearsModelNumInputs(model);
  size_t numOutputs = shearsModelNumOutputs(model);
  ShearsTensor **inputs = calloc(numInputs + 1, sizeof(ShearsTensor *));
  ShearsTensor **outputs = calloc(numOutputs + 1, sizeof(ShearsTensor *));
  for (int s = 0; s < numSpecs; ++s) {
    char *eq = strchr(specs[s], '=');
    size_t i = 0;
    *eq = '\0';
    while (i < numInputs && strcmp(shearsModelInputName(model, i), specs[s]))
      ++i;
    if (i == numInputs) {
      fprintf(stderr, "error: the model has no input '%s'\n", specs[s]);
      return 1;
    }
    inputs[i] = shearsTensorLoadNpy(eq + 1, &error);
    if (!inputs[i]) {
      fprintf(stderr, "error: %s\n", error);
      return 1;
    }
  }
  for (size_t i = 0; i < numInputs; ++i)
    if (!inputs[i]) {
      fprintf(stderr, "error: no file for input '%s'\n",
              shearsModelInputName(model, i));
      return 1;
    }

  if (shearsModelRun(model, (const ShearsTensor *const *)inputs, numInputs,
                     outputs, &error)) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  for (size_t o = 0; o < numOutputs; ++o) {
    char file[4096];
    snprintf(file, sizeof(file), "%s/%s.npy", outDir,
             shearsModelOutputName(model, o));
    if (shearsTensorSaveNpy(outputs[o], file, &error)) {
      fprintf(stderr, "error: %s\n", error);
      return 1;
    }
    shearsTensorFree(outputs[o]);
  }

  double *latency = calloc(runs, sizeof(double));
  double *gpu = calloc(runs, sizeof(double));
  if (setTiming)
    setTiming(1);
  for (int r = 0; r < runs; ++r) {
    double start = now();
    if (shearsModelRun(model, (const ShearsTensor *const *)inputs, numInputs,
                       outputs, &error)) {
      fprintf(stderr, "error: %s\n", error);
      return 1;
    }
    latency[r] = now() - start;
    gpu[r] = takeTime ? takeTime() : -1;
    for (size_t o = 0; o < numOutputs; ++o)
      shearsTensorFree(outputs[o]);
  }
  /* The same runs again, each kernel timed. */
  double *kernels = calloc(runs, sizeof(double));
  double *longest = calloc(runs, sizeof(double));
  if (setTiming && takeKernelTime) {
    setTiming(2);
    for (int r = 0; r < runs; ++r) {
      if (shearsModelRun(model, (const ShearsTensor *const *)inputs, numInputs,
                         outputs, &error)) {
        fprintf(stderr, "error: %s\n", error);
        return 1;
      }
      kernels[r] = takeKernelTime(&longest[r]);
      for (size_t o = 0; o < numOutputs; ++o)
        shearsTensorFree(outputs[o]);
    }
    setTiming(0);
  }
  printf("{\"runs\": %d, \"latency_ms\": %.4f, \"gpu_ms\": %.4f, "
         "\"kernels_ms\": %.4f, \"longest_kernel_ms\": %.4f}\n",
         runs, median(latency, runs), median(gpu, runs),
         median(kernels, runs), median(longest, runs));
  for (size_t i = 0; i < numInputs; ++i)
    shearsTensorFree(inputs[i]);
  shearsModelFree(model);
  return 0;
}
