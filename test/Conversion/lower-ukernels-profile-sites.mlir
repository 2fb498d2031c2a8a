// RUN: shears-opt %s --shears-lower-ukernels="isa=generic profile-sites" | FileCheck %s
// RUN: shears-opt %s --shears-lower-ukernels=isa=generic | FileCheck %s --check-prefix=OFF

// With profile-sites each kernel call is preceded by its site's number, and
// the module names the layer of each site (empty without an ONNX name).
// CHECK: module attributes {shears.profile_sites = ["fc1", "fc2", ""]}
// CHECK-LABEL: func.func @two
// CHECK: %[[S0:.+]] = arith.constant 0 : i64
// CHECK-NEXT: call @shears_uk_profile_site(%[[S0]]) : (i64) -> ()
// CHECK-NEXT: call @shears_uk_gemm_generic(
// CHECK: %[[S1:.+]] = arith.constant 1 : i64
// CHECK-NEXT: call @shears_uk_profile_site(%[[S1]]) : (i64) -> ()
// CHECK-NEXT: call @shears_uk_spgemm_generic(
// CHECK: %[[S2:.+]] = arith.constant 2 : i64
// CHECK-NEXT: call @shears_uk_profile_site(%[[S2]]) : (i64) -> ()
// CHECK-NEXT: call @shears_uk_gemm_generic(
// CHECK: func.func private @shears_uk_profile_site(i64)
// Without, neither.
// OFF-NOT: profile
func.func @two(%a: memref<?x16xf32>, %b: memref<1x16x32xf32>, %s: memref<73xf32>, %c: memref<?x20xf32>, %d: memref<?x16xf32>) {
  shears.ukernel "gemm" ins(%a, %b : memref<?x16xf32>, memref<1x16x32xf32>) outs(%c : memref<?x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0] loc("fc1")
  shears.ukernel "spgemm" ins(%a, %s : memref<?x16xf32>, memref<73xf32>) outs(%d : memref<?x16xf32>) iparams = [16, 16, 2, 0] fparams = [0.0, 0.0] loc("fc2")
  shears.ukernel "gemm" ins(%a, %b : memref<?x16xf32>, memref<1x16x32xf32>) outs(%c : memref<?x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0]
  return
}
