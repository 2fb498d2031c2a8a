// RUN: shears-opt %s --shears-copy-results | FileCheck %s

// A public function returning its argument or a global hands the caller a
// fresh buffer; private functions are left alone.
// CHECK-LABEL: func @identity
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[N:.+]] = memref.dim %arg0, %[[C0]]
// CHECK: %[[NEW:.+]] = memref.alloc(%[[N]]) : memref<?x4xf32>
// CHECK: memref.copy %arg0, %[[NEW]]
// CHECK: return %[[NEW]]
func.func @identity(%a: memref<?x4xf32>) -> memref<?x4xf32> {
  return %a : memref<?x4xf32>
}

// CHECK-LABEL: func private @helper
// CHECK-NOT: memref.alloc
// CHECK: return %arg0
func.func private @helper(%a: memref<4xf32>) -> memref<4xf32> {
  return %a : memref<4xf32>
}
