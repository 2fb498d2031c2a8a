//===- Signature.h - The parsed shears_signature of a model -----*- C++ -*-===//

#ifndef SHEARS_LIB_CAPI_SIGNATURE_H
#define SHEARS_LIB_CAPI_SIGNATURE_H

#include "shears-c/Runtime.h"

namespace shears::capi {

/// One input or output: all malloc'd, released by freeSignature.
struct TensorSpec {
  char *name;
  ShearsDType dtype;
  size_t rank;
  /// SHEARS_DYNAMIC_DIM where dynamic; NULL for rank 0.
  int64_t *shape;
};

struct Signature {
  TensorSpec *inputs = nullptr;
  size_t numInputs = 0;
  TensorSpec *outputs = nullptr;
  size_t numOutputs = 0;
  /// The workspace the model's intermediates live in (shears-plan-memory):
  /// workspaceBytes at batch 1, times max(1, dim workspaceDim of input
  /// workspaceInput) when workspaceInput >= 0.
  int64_t workspaceBytes = 0;
  int64_t workspaceInput = -1;
  int64_t workspaceDim = -1;
  /// Dimension of every input and output that is the batch, whose elements
  /// the model computes independently (shears-mark-batch-separable): the
  /// runtime may run a batch in chunks along it. -1 where the model does not
  /// say so.
  int64_t batchDim = -1;
  /// What the model's shape check reports: checks[k - 1] when it returns k.
  char **checks = nullptr;
  size_t numChecks = 0;
};

/// Parses `{"inputs":[{"name":..,"dtype":..,"shape":[..]},..],"outputs":[..],
/// "workspace":{"bytes":N,"input":I,"dim":D},"batch":{"dim":D},
/// "checks":["message",..]}` (workspace, batch and checks optional)
/// (keys in any order, unknown keys ignored). Returns false and sets `*error`
/// on malformed JSON or a bad name, dtype or dim.
bool parseSignature(const char *json, Signature &signature, char **error);

void freeSignature(Signature &signature);

} // namespace shears::capi

#endif // SHEARS_LIB_CAPI_SIGNATURE_H
