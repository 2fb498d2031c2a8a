// RUN: shears-opt %s --shears-approximate-math | FileCheck %s

// erf, exp and tanh become polynomial arithmetic (which LLVM's vectorizer
// widens); other math functions stay as they are.
// CHECK-LABEL: func.func @activations(
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: math.fma
// CHECK: math.sqrt
// CHECK: math.log
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: return
func.func @activations(%x: f32) -> (f32, f32, f32, f32, f32) {
  %e = math.erf %x : f32
  %p = math.exp %x : f32
  %t = math.tanh %x : f32
  %s = math.sqrt %x : f32
  %l = math.log %x : f32
  return %e, %p, %t, %s, %l : f32, f32, f32, f32, f32
}
