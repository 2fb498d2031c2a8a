// RUN: shears-opt %s --shears-promote-accumulators --split-input-file | FileCheck %s

// A row sum as convert-linalg-to-loops writes it: the element out[i] is
// loaded once before the k loop, carried through it and stored once after.
// The i loop stores at its own index, so it stays as it is.
// CHECK-LABEL: func.func @row_sum(
// CHECK-SAME: %[[X:.+]]: memref<4x64xf32>, %[[OUT:.+]]: memref<4xf32>)
// CHECK: scf.for %[[I:.+]] = {{.+}} {
// CHECK-NEXT: %[[INIT:.+]] = memref.load %[[OUT]][%[[I]]]
// CHECK-NEXT: %[[SUM:.+]] = scf.for %[[K:.+]] = {{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT: %[[V:.+]] = memref.load %[[X]][%[[I]], %[[K]]]
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[ACC]], %[[V]]
// CHECK-NEXT: scf.yield %[[ADD]]
// CHECK-NEXT: }
// CHECK-NEXT: memref.store %[[SUM]], %[[OUT]][%[[I]]]
// CHECK-NEXT: }
func.func @row_sum(%x: memref<4x64xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %k = %c0 to %c64 step %c1 {
      %acc = memref.load %out[%i] : memref<4xf32>
      %v = memref.load %x[%i, %k] : memref<4x64xf32>
      %s = arith.addf %acc, %v : f32
      memref.store %s, %out[%i] : memref<4xf32>
    }
  }
  return
}

// -----

// Two reduction loops (a mean over H and W): the inner one is promoted, then
// the outer one, whose body now holds the load and the store. An index that
// linalg-to-loops computed inside the loop is hoisted first.
// CHECK-LABEL: func.func @plane_sum(
// CHECK-SAME: %[[X:.+]]: memref<2x8x8xf32>, %[[OUT:.+]]: memref<2x1xf32>)
// CHECK: scf.for %[[C:.+]] = {{.+}} {
// CHECK-NEXT: %[[INIT:.+]] = memref.load %[[OUT]][%[[C]], %{{.+}}]
// CHECK-NEXT: %[[OUTER:.+]] = scf.for {{.+}} iter_args(%[[A:.+]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT: %[[INNER:.+]] = scf.for {{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (f32) {
// CHECK: arith.addf %[[B]]
// CHECK: scf.yield
// CHECK: scf.yield %[[INNER]]
// CHECK: memref.store %[[OUTER]], %[[OUT]][%[[C]], %{{.+}}]
func.func @plane_sum(%x: memref<2x8x8xf32>, %out: memref<2x1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  scf.for %c = %c0 to %c2 step %c1 {
    scf.for %h = %c0 to %c8 step %c1 {
      scf.for %w = %c0 to %c8 step %c1 {
        %zero = arith.subi %c1, %c1 : index
        %acc = memref.load %out[%c, %zero] : memref<2x1xf32>
        %v = memref.load %x[%c, %h, %w] : memref<2x8x8xf32>
        %s = arith.addf %acc, %v : f32
        memref.store %s, %out[%c, %zero] : memref<2x1xf32>
      }
    }
  }
  return
}

// -----

// An arg-max's two outputs are both carried.
// CHECK-LABEL: func.func @arg_max(
// CHECK: %[[M0:.+]] = memref.load %{{.+}}[%c0]
// CHECK: %[[I0:.+]] = memref.load %{{.+}}[%c0]
// CHECK: %{{.+}}:2 = scf.for {{.+}} iter_args(%{{.+}} = %[[M0]], %{{.+}} = %[[I0]]) -> (f32, i64)
// CHECK-NOT: memref.store
// CHECK: scf.yield
// CHECK: memref.store
// CHECK: memref.store
func.func @arg_max(%x: memref<16xf32>, %max: memref<1xf32>, %arg: memref<1xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %k = %c0 to %c16 step %c1 {
    %m = memref.load %max[%c0] : memref<1xf32>
    %a = memref.load %arg[%c0] : memref<1xi64>
    %v = memref.load %x[%k] : memref<16xf32>
    %gt = arith.cmpf ogt, %v, %m : f32
    %nm = arith.select %gt, %v, %m : f32
    %ki = arith.index_cast %k : index to i64
    %na = arith.select %gt, %ki, %a : i64
    memref.store %nm, %max[%c0] : memref<1xf32>
    memref.store %na, %arg[%c0] : memref<1xi64>
  }
  return
}

// -----

// Left alone: stores at the loop's own index (an elementwise loop), a read
// of the accumulator at another index, a read after the store, two stores
// into one memref, and a call whose effects are unknown.
// CHECK-LABEL: func.func @not_accumulators(
// CHECK-NOT: iter_args
// CHECK: return
func.func private @opaque()
func.func @not_accumulators(%x: memref<64xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c4 step %c1 {
    %v = memref.load %x[%k] : memref<64xf32>
    memref.store %v, %out[%k] : memref<4xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = memref.load %out[%c0] : memref<4xf32>
    %other = memref.load %out[%c1] : memref<4xf32>
    %s = arith.addf %acc, %other : f32
    memref.store %s, %out[%c0] : memref<4xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = memref.load %out[%c0] : memref<4xf32>
    %v = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    memref.store %s, %out[%c0] : memref<4xf32>
    %again = memref.load %out[%c0] : memref<4xf32>
    memref.store %again, %x[%k] : memref<64xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = memref.load %out[%c0] : memref<4xf32>
    %v = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    memref.store %s, %out[%c0] : memref<4xf32>
    memref.store %v, %out[%c0] : memref<4xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = memref.load %out[%c0] : memref<4xf32>
    %v = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    memref.store %s, %out[%c0] : memref<4xf32>
    func.call @opaque() : () -> ()
  }
  return
}
