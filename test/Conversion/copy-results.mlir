// RUN: shears-opt %s --shears-copy-results | FileCheck %s
// RUN: shears-opt %s --shears-copy-results=in-place | FileCheck %s --check-prefix=INPLACE

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

// With in-place, a buffer the function allocates is returned as it is;
// the argument is still copied, and a buffer returned twice is copied
// once.
// INPLACE-LABEL: func @fresh
// INPLACE: %[[A:.+]] = memref.alloc(%{{.+}}) : memref<?x4xf32>
// INPLACE-NEXT: linalg.copy
// INPLACE-NEXT: %[[B:.+]] = memref.alloc() : memref<4xf32>
// INPLACE-NEXT: %[[C0:.+]] = arith.constant 0 : index
// INPLACE-NEXT: %[[N:.+]] = memref.dim %arg0, %[[C0]]
// INPLACE-NEXT: %[[X:.+]] = memref.alloc(%[[N]]) : memref<?x4xf32>
// INPLACE-NEXT: memref.copy %arg0, %[[X]]
// INPLACE-NEXT: %[[B1:.+]] = memref.alloc() : memref<4xf32>
// INPLACE-NEXT: memref.copy %[[B]], %[[B1]]
// INPLACE-NEXT: return %[[A]], %[[X]], %[[B1]], %[[B]]
// Without it, every result is copied.
// CHECK-LABEL: func @fresh
// CHECK-COUNT-4: memref.copy
// CHECK-NEXT: return
func.func @fresh(%x: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>, memref<4xf32>, memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %a = memref.alloc(%n) : memref<?x4xf32>
  linalg.copy ins(%x : memref<?x4xf32>) outs(%a : memref<?x4xf32>)
  %b = memref.alloc() : memref<4xf32>
  return %a, %x, %b, %b : memref<?x4xf32>, memref<?x4xf32>, memref<4xf32>, memref<4xf32>
}
