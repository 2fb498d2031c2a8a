// RUN: shears-opt %s --shears-place-on-device --split-input-file --verify-diagnostics | FileCheck %s

// A layer with a weight, an intermediate, the workspace and a result that is
// a strided view. Weights first: one upload slot per constant global, read
// through shears_gpu_constant; then the per-call device buffers (the
// workspace at its planned size times max(batch, 1), the input copied in);
// intermediates become gpu.alloc/gpu.dealloc; the result is copied out to a
// host buffer, through a dense device copy because it is a column slice. The
// host buffer is allocated before any device work, so that the call's device
// work is one chain.
// The workspace attribute is consumed: the host passes none now.
// CHECK-NOT: shears.workspace
// CHECK: func.func @shears_model(%[[X:.+]]: memref<?x4xf32>, %[[WSARG:.+]]: memref<?xi8>)
// CHECK: %[[HOSTW:.+]] = memref.get_global @w : memref<4x4xf32>
// CHECK: %[[HOSTP:.+]] = memref.extract_aligned_pointer_as_index %[[HOSTW]]
// CHECK: %[[SLOT:.+]] = llvm.mlir.addressof @__shears_device_w
// CHECK: %[[DEVP:.+]] = call @shears_gpu_constant(%[[SLOT]], %{{.+}}, %c64_i64)
// CHECK: %[[W:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<4x4xf32>
// CHECK: %[[SCALE:.+]] = arith.maxui %{{.+}}, %c1
// CHECK: %[[BYTES:.+]] = arith.muli %c32, %[[SCALE]]
// CHECK: %[[R:.+]] = memref.alloc(%{{.+}}) : memref<?x2xf32>
// CHECK: %[[WS:.+]] = gpu.alloc (%[[BYTES]]) : memref<?xi8>
// CHECK: %[[DX:.+]] = gpu.alloc (%{{.+}}) : memref<?x4xf32>
// CHECK: gpu.memcpy %[[DX]], %[[X]]
// CHECK: %[[H:.+]] = memref.view %[[WS]]
// CHECK: linalg.matmul ins(%[[DX]], %[[W]] : {{.*}}) outs(%[[H]] :
// CHECK: %[[T:.+]] = gpu.alloc (%{{.+}}) : memref<?x4xf32>
// CHECK: linalg.copy ins(%[[H]] : {{.*}}) outs(%[[T]] :
// CHECK: %[[SLICE:.+]] = memref.subview %[[T]]
// CHECK: %[[DENSE:.+]] = gpu.alloc (%{{.+}}) : memref<?x2xf32>
// CHECK: memref.copy %[[SLICE]], %[[DENSE]]
// CHECK: gpu.memcpy %[[R]], %[[DENSE]]
// CHECK: gpu.dealloc %[[T]]
// CHECK-DAG: gpu.dealloc %[[WS]]
// CHECK-DAG: gpu.dealloc %[[DX]]
// CHECK-DAG: gpu.dealloc %[[DENSE]]
// CHECK: return %[[R]]
// CHECK: llvm.mlir.global internal @__shears_device_w() {{.*}} : !llvm.ptr
// CHECK-NEXT: llvm.mlir.zero : !llvm.ptr
// CHECK: func.func private @shears_gpu_constant(!llvm.ptr, !llvm.ptr, i64) -> !llvm.ptr
// CHECK: func.func private @shears_gpu_release_constant(!llvm.ptr)
// CHECK-LABEL: func.func @shears_release()
// CHECK: %[[S:.+]] = llvm.mlir.addressof @__shears_device_w
// CHECK: call @shears_gpu_release_constant(%[[S]])
module attributes {shears.workspace = {bytes = 32 : i64, dim = 0 : i64, input = 0 : i64}} {
  memref.global "private" constant @w : memref<4x4xf32> = dense<1.0>
  func.func @shears_model(%x: memref<?x4xf32>, %ws: memref<?xi8>) -> memref<?x2xf32> {
    %c0 = arith.constant 0 : index
    %n = memref.dim %x, %c0 : memref<?x4xf32>
    %w = memref.get_global @w : memref<4x4xf32>
    %h = memref.view %ws[%c0][%n] : memref<?xi8> to memref<?x4xf32>
    linalg.matmul ins(%x, %w : memref<?x4xf32>, memref<4x4xf32>) outs(%h : memref<?x4xf32>)
    %t = memref.alloc(%n) : memref<?x4xf32>
    linalg.copy ins(%h : memref<?x4xf32>) outs(%t : memref<?x4xf32>)
    %r = memref.alloc(%n) : memref<?x2xf32>
    %slice = memref.subview %t[0, 1] [%n, 2] [1, 1] : memref<?x4xf32> to memref<?x2xf32, strided<[4, 1], offset: 1>>
    memref.copy %slice, %r : memref<?x2xf32, strided<[4, 1], offset: 1>> to memref<?x2xf32>
    memref.dealloc %t : memref<?x4xf32>
    return %r : memref<?x2xf32>
  }
}

// -----

// A model whose output is a constant (ONNX Shape of a static input), with a
// workspace of static size: the weight's upload comes before its use, the
// workspace is its planned bytes.
// CHECK-LABEL: func.func @shears_model
// CHECK: %[[HOST:.+]] = memref.get_global @shape
// CHECK: memref.extract_aligned_pointer_as_index %[[HOST]]
// CHECK: call @shears_gpu_constant
// CHECK: %[[W:.+]] = builtin.unrealized_conversion_cast
// CHECK: %[[R:.+]] = memref.alloc() : memref<3xi64>
// CHECK: gpu.alloc (%c16) : memref<?xi8>
// CHECK: gpu.memcpy %[[R]], %[[W]]
module attributes {shears.workspace = {bytes = 16 : i64}} {
  memref.global "private" constant @shape : memref<3xi64> = dense<[3, 4, 5]>
  func.func @shears_model(%x: memref<3x4x5xf32>, %ws: memref<?xi8>) -> memref<3xi64> {
    %s = memref.get_global @shape : memref<3xi64>
    %r = memref.alloc() : memref<3xi64>
    memref.copy %s, %r : memref<3xi64> to memref<3xi64>
    return %r : memref<3xi64>
  }
}

// -----

// Host code may not touch device memory: a scalar read outside a kernel.
func.func @shears_model(%x: memref<4xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{the GPU backend cannot run this on the host: it reads or writes device memory outside a kernel}}
  %v = memref.load %x[%c0] : memref<4xf32>
  %t = memref.alloc() : memref<4xf32>
  linalg.fill ins(%v : f32) outs(%t : memref<4xf32>)
  %r = memref.alloc() : memref<4xf32>
  memref.copy %t, %r : memref<4xf32> to memref<4xf32>
  return %r : memref<4xf32>
}

// -----

// A result must be a fresh buffer (shears-copy-results makes it one).
func.func @shears_model(%x: memref<4xf32>) -> memref<4xf32> {
  // expected-error @+1 {{a result is not a fresh buffer: run shears-copy-results first}}
  return %x : memref<4xf32>
}

// -----

// expected-error @+1 {{no entry function 'shears_model': run shears-prepare-entry first}}
module {
  func.func @main(%x: memref<4xf32>) {
    return
  }
}
