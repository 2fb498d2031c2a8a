//===- Tensor.cpp - Element types and tensors of the runtime C API --------===//

#include "Support.h"

using namespace shears::capi;

// Indexed by ShearsDType. The .npy descrs are the ones numpy writes.
static const DTypeInfo dtypeInfos[] = {
    {"f32", 4, "<f4"}, {"f64", 8, "<f8"}, {"f16", 2, "<f2"}, {"i64", 8, "<i8"},
    {"i32", 4, "<i4"}, {"i8", 1, "|i1"},  {"u8", 1, "|u1"},  {"i1", 1, "|b1"},
};

const DTypeInfo *shears::capi::getDTypeInfo(ShearsDType dtype) {
  // Compare as unsigned: an out-of-range enum value may be negative.
  if (static_cast<unsigned>(dtype) >=
      sizeof(dtypeInfos) / sizeof(dtypeInfos[0]))
    return nullptr;
  return &dtypeInfos[dtype];
}

const char *shearsDTypeName(ShearsDType dtype) {
  const DTypeInfo *info = getDTypeInfo(dtype);
  return info ? info->name : nullptr;
}

int shearsDTypeFromName(const char *name, ShearsDType *dtype) {
  if (!name)
    return 1;
  for (size_t i = 0; i < sizeof(dtypeInfos) / sizeof(dtypeInfos[0]); ++i) {
    if (strcmp(dtypeInfos[i].name, name) == 0) {
      *dtype = static_cast<ShearsDType>(i);
      return 0;
    }
  }
  return 1;
}

size_t shearsDTypeSize(ShearsDType dtype) {
  const DTypeInfo *info = getDTypeInfo(dtype);
  return info ? info->size : 0;
}

char *shearsTypeToString(ShearsDType dtype, size_t rank, const int64_t *shape) {
  StringBuilder text;
  text.appendType(dtype, rank, shape);
  return text.release();
}

void shearsFreeString(char *str) { free(str); }

ShearsTensor *shears::capi::allocateTensor(ShearsDType dtype, size_t rank,
                                           const int64_t *shape, char **error) {
  const DTypeInfo *info = getDTypeInfo(dtype);
  if (!info) {
    setError(error, "invalid element type %d", static_cast<int>(dtype));
    return nullptr;
  }
  if (rank && !shape) {
    setError(error, "a tensor of rank %zu needs a shape", rank);
    return nullptr;
  }
  bool empty = false;
  for (size_t i = 0; i < rank; ++i) {
    if (shape[i] < 0) {
      setError(error, "dim %zu of a tensor is negative (%lld)", i,
               static_cast<long long>(shape[i]));
      return nullptr;
    }
    empty |= shape[i] == 0;
  }
  // An empty tensor has no bytes, however large its other dims are.
  size_t numElements = empty ? 0 : 1;
  bool overflow = false;
  for (size_t i = 0; i < rank && !empty; ++i)
    overflow |= __builtin_mul_overflow(
        numElements, static_cast<uint64_t>(shape[i]), &numElements);
  size_t sizeInBytes = 0;
  overflow |= __builtin_mul_overflow(numElements, info->size, &sizeInBytes);
  if (overflow) {
    StringBuilder type;
    type.appendType(dtype, rank, shape);
    setError(error, "tensor %s is too large", type.str());
    return nullptr;
  }

  size_t shapeBytes = rank * sizeof(int64_t);
  auto *tensor =
      static_cast<ShearsTensor *>(malloc(sizeof(ShearsTensor) + shapeBytes));
  if (!tensor) {
    setError(error, "out of memory");
    return nullptr;
  }
  tensor->dtype = dtype;
  tensor->rank = rank;
  tensor->shape = rank ? reinterpret_cast<int64_t *>(tensor + 1) : nullptr;
  if (rank)
    memcpy(tensor->shape, shape, shapeBytes);
  tensor->numElements = numElements;
  tensor->sizeInBytes = sizeInBytes;
  tensor->data = nullptr;
  tensor->allocation = nullptr;
  return tensor;
}

ShearsTensor *shearsTensorCreate(ShearsDType dtype, size_t rank,
                                 const int64_t *shape, const void *data,
                                 char **error) {
  ShearsTensor *tensor = allocateTensor(dtype, rank, shape, error);
  if (!tensor)
    return nullptr;
  size_t bytes = tensor->sizeInBytes ? tensor->sizeInBytes : 1;
  tensor->allocation = data ? malloc(bytes) : calloc(bytes, 1);
  if (!tensor->allocation) {
    free(tensor);
    setError(error, "out of memory");
    return nullptr;
  }
  tensor->data = tensor->allocation;
  if (data)
    memcpy(tensor->data, data, tensor->sizeInBytes);
  return tensor;
}

ShearsTensor *shearsTensorWrap(ShearsDType dtype, size_t rank,
                               const int64_t *shape, void *data, char **error) {
  if (!data) {
    setError(error, "cannot wrap a NULL data pointer");
    return nullptr;
  }
  ShearsTensor *tensor = allocateTensor(dtype, rank, shape, error);
  if (tensor)
    tensor->data = data;
  return tensor;
}

void shearsTensorFree(ShearsTensor *tensor) {
  if (!tensor)
    return;
  free(tensor->allocation);
  free(tensor);
}

ShearsDType shearsTensorDType(const ShearsTensor *tensor) {
  return tensor ? tensor->dtype : SHEARS_DTYPE_INVALID;
}

size_t shearsTensorRank(const ShearsTensor *tensor) {
  return tensor ? tensor->rank : 0;
}

const int64_t *shearsTensorShape(const ShearsTensor *tensor) {
  return tensor ? tensor->shape : nullptr;
}

size_t shearsTensorNumElements(const ShearsTensor *tensor) {
  return tensor ? tensor->numElements : 0;
}

size_t shearsTensorSizeInBytes(const ShearsTensor *tensor) {
  return tensor ? tensor->sizeInBytes : 0;
}

void *shearsTensorData(const ShearsTensor *tensor) {
  return tensor ? tensor->data : nullptr;
}
