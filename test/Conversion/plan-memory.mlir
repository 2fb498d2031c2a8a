// RUN: shears-opt %s --shears-plan-memory --split-input-file | FileCheck %s

// Three 256-byte-a-row buffers in a chain: %a dies when %b is written, so
// %t (unused, live only where it is made) and then %c take %a's bytes,
// beside %b. The returned buffer stays an alloc.
// Offsets scale with max(batch, 1); the workspace is the new last argument.
// CHECK: module attributes {shears.workspace = {bytes = 512 : i64, dim = 0 : i64, input = 0 : i64}}
// CHECK: func.func @shears_model(%arg0: memref<?x64xf32>, %[[WS:arg1]]: memref<?xi8>)
// CHECK: %[[N:.+]] = memref.dim %arg0, %c0
// CHECK: %[[SCALE:.+]] = arith.maxui %[[N]], %c1
// CHECK: %[[OA:.+]] = arith.muli %[[SCALE]], %c0
// CHECK: %[[A:.+]] = memref.view %[[WS]][%[[OA]]][%{{.+}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: %[[OB:.+]] = arith.muli %[[SCALE]], %c256
// CHECK: %[[B:.+]] = memref.view %[[WS]][%[[OB]]][%{{.+}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: linalg.copy ins(%[[A]] : {{.*}}) outs(%[[B]] :
// CHECK: %[[OT:.+]] = arith.muli %[[SCALE]], %c0
// CHECK: memref.view %[[WS]][%[[OT]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[OC:.+]] = arith.muli %[[SCALE]], %c0
// CHECK: %[[C:.+]] = memref.view %[[WS]][%[[OC]]][%{{.+}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: linalg.copy ins(%[[B]] : {{.*}}) outs(%[[C]] :
// CHECK: %[[R:.+]] = memref.alloc(%{{.+}}) : memref<?x64xf32>
// CHECK-NOT: memref.dealloc
// CHECK: return %[[R]]
func.func @shears_model(%x: memref<?x64xf32>) -> memref<?x64xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %a = memref.alloc(%n) : memref<?x64xf32>
  linalg.copy ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>)
  %b = memref.alloc(%n) : memref<?x64xf32>
  linalg.copy ins(%a : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %t = memref.alloc() : memref<16xf32>
  %c = memref.alloc(%n) : memref<?x64xf32>
  linalg.copy ins(%b : memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  %r = memref.alloc(%n) : memref<?x64xf32>
  linalg.copy ins(%c : memref<?x64xf32>) outs(%r : memref<?x64xf32>)
  return %r : memref<?x64xf32>
}

// -----

// A buffer used through a view lives as long as the view is used; sizes
// that follow another dimension than the first dynamic one are left alone.
// CHECK: module attributes {shears.workspace = {bytes = 768 : i64, dim = 0 : i64, input = 1 : i64}}
// CHECK: func.func @shears_model
// CHECK: %[[A:.+]] = memref.view %{{.+}}[%{{.+}}][] : memref<?xi8> to memref<8x16xf32>
// CHECK: %[[S:.+]] = memref.subview %[[A]]
// CHECK: %[[B:.+]] = memref.view %{{.+}}[%{{.+}}][] : memref<?xi8> to memref<8x8xf32>
// CHECK: linalg.copy ins(%[[S]] : {{.*}}) outs(%[[B]] :
// CHECK: memref.view %{{.+}} : memref<?xi8> to memref<?x4xf32>
// CHECK: memref.alloc(%{{.+}}) : memref<?x4xf32>
func.func @shears_model(%x: memref<8x16xf32>, %y: memref<?x?xf32>) -> memref<8x8xf32> {
  %a = memref.alloc() : memref<8x16xf32>
  linalg.copy ins(%x : memref<8x16xf32>) outs(%a : memref<8x16xf32>)
  %s = memref.subview %a[0, 0] [8, 8] [1, 1] : memref<8x16xf32> to memref<8x8xf32, strided<[16, 1]>>
  %b = memref.alloc() : memref<8x8xf32>
  linalg.copy ins(%s : memref<8x8xf32, strided<[16, 1]>>) outs(%b : memref<8x8xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %y, %c0 : memref<?x?xf32>
  %m = memref.dim %y, %c1 : memref<?x?xf32>
  %o = memref.alloc(%n) : memref<?x4xf32>
  %p = memref.alloc(%m) : memref<?x4xf32>
  %r = memref.alloc() : memref<8x8xf32>
  linalg.copy ins(%b : memref<8x8xf32>) outs(%r : memref<8x8xf32>)
  return %r : memref<8x8xf32>
}
