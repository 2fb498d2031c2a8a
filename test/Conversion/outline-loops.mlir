// RUN: shears-opt %s --shears-outline-loops --split-input-file | FileCheck %s
// RUN: shears-opt %s --shears-outline-loops=min-loops=3 --split-input-file | FileCheck %s --check-prefix=MIN

// Each top-level loop nest becomes a private, non-inlined function called in
// its place: constants are cloned into it (LLVM sees the trip count), other
// values it uses (buffers, the dynamic bound %n) become its arguments, in
// the order they are first used. Nested loops go with their nest.
// CHECK-LABEL: func.func private @two_loop0(
// CHECK-SAME: %[[N:.+]]: index, %[[A:.+]]: memref<?xf32>, %[[B:.+]]: memref<?xf32>)
// CHECK-SAME: attributes {passthrough = ["noinline"]}
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: scf.for %[[I:.+]] = %[[C0]] to %[[N]] step %[[C1]]
// CHECK: memref.load %[[A]][%[[I]]]
// CHECK: memref.store %{{.+}}, %[[B]][%[[I]]]
// CHECK: return
// CHECK-LABEL: func.func private @two_loop1(
// CHECK-SAME: %{{.+}}: memref<4x8xf32>)
// CHECK: arith.constant 4 : index
// CHECK: scf.for
// CHECK: scf.for
// CHECK-LABEL: func.func @two(
// CHECK-SAME: %[[X:.+]]: memref<?xf32>, %[[Y:.+]]: memref<?xf32>, %[[Z:.+]]: memref<4x8xf32>, %[[M:.+]]: index)
// CHECK-NOT: scf.for
// CHECK: call @two_loop0(%[[M]], %[[X]], %[[Y]]) : (index, memref<?xf32>, memref<?xf32>) -> ()
// CHECK-NEXT: call @two_loop1(%[[Z]]) : (memref<4x8xf32>) -> ()
// CHECK-NEXT: return
// MIN-LABEL: func.func @two(
// MIN-NOT: call
// MIN: scf.for
func.func @two(%a: memref<?xf32>, %b: memref<?xf32>, %c: memref<4x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %a[%i] : memref<?xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %b[%i] : memref<?xf32>
  }
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      memref.store %zero, %c[%i, %j] : memref<4x8xf32>
    }
  }
  return
}

// -----

// A loop that yields values stays: it would need results.
// CHECK-LABEL: func.func @reduction(
// CHECK: scf.for {{.+}} iter_args
// CHECK-NOT: call
func.func @reduction(%a: memref<8xf32>, %b: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %s = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %a[%i] : memref<8xf32>
    %t = arith.addf %acc, %v : f32
    scf.yield %t : f32
  }
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %s, %b[%i] : memref<8xf32>
  }
  return %s : f32
}
