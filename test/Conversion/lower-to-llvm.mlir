// RUN: shears-opt %s --shears-lower-to-llvm | FileCheck %s --implicit-check-not=shears. --implicit-check-not=linalg. --implicit-check-not=check_shapes

// The entry gets the C interface, the shears_invoke wrapper and its JSON
// signature with the batch (rows are independent: the runtime may run a
// batch in chunks) and the workspace (none: the relu writes the buffer the
// caller gets); everything is in the LLVM dialect, and there is no shape to
// check.
// CHECK-DAG: llvm.func @shears_model(
// CHECK-DAG: llvm.func @_mlir_ciface_shears_model(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr)
// CHECK-DAG: llvm.mlir.global external constant @shears_signature("{\22batch\22:{\22dim\22:0},\22inputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22x\22,\22shape\22:[-1,4]}],\22outputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22y\22,\22shape\22:[-1,4]}],\22workspace\22:{\22bytes\22:0,\22dim\22:0,\22input\22:0}}\00")
// CHECK-LABEL: llvm.func @shears_invoke(%arg0: !llvm.ptr)
// CHECK: %[[P0:.+]] = llvm.getelementptr %arg0[0]
// CHECK: %[[A0:.+]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.+]] = llvm.getelementptr %arg0[1]
// CHECK: %[[A1:.+]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P2:.+]] = llvm.getelementptr %arg0[2]
// CHECK: %[[A2:.+]] = llvm.load %[[P2]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @_mlir_ciface_shears_model(%[[A0]], %[[A1]], %[[A2]])
func.func @main(%x: tensor<?x4xf32> {shears.name = "x"}) -> (tensor<?x4xf32> {shears.name = "y"}) {
  %0 = shears.relu %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
