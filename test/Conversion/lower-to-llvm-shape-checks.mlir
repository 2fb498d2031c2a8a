// RUN: shears-opt %s --shears-lower-to-llvm | FileCheck %s

// Two inputs whose dynamic batches must agree: shears_invoke runs the shape
// check on the inputs' descriptors first, stores its verdict where args[4]
// points (after the results, the two inputs and the workspace), and calls
// the model only when it is 0. The signature lists the check's message
// (and the batch: each row of z depends on that row of x and y only).
// CHECK: llvm.func @_mlir_ciface_shears_model_check_shapes(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr) -> i32
// CHECK: @shears_signature("{\22batch\22:{\22dim\22:0},\22checks\22:[\22node 'add': dimension 0 of operand 0 and dimension 0 of operand 1 differ\22],
// CHECK-LABEL: llvm.func @shears_invoke(%arg0: !llvm.ptr)
// CHECK: %[[P0:.+]] = llvm.getelementptr %arg0[0]
// CHECK: %[[A0:.+]] = llvm.load %[[P0]]
// CHECK: %[[P1:.+]] = llvm.getelementptr %arg0[1]
// CHECK: %[[A1:.+]] = llvm.load %[[P1]]
// CHECK: %[[P2:.+]] = llvm.getelementptr %arg0[2]
// CHECK: %[[A2:.+]] = llvm.load %[[P2]]
// CHECK: %[[P3:.+]] = llvm.getelementptr %arg0[3]
// CHECK: %[[A3:.+]] = llvm.load %[[P3]]
// CHECK: %[[P4:.+]] = llvm.getelementptr %arg0[4]
// CHECK: %[[STATUS:.+]] = llvm.load %[[P4]]
// CHECK: %[[CODE:.+]] = llvm.call @_mlir_ciface_shears_model_check_shapes(%[[A1]], %[[A2]]) : (!llvm.ptr, !llvm.ptr) -> i32
// CHECK: llvm.store %[[CODE]], %[[STATUS]] : i32, !llvm.ptr
// CHECK: %[[FAILED:.+]] = llvm.icmp "ne" %[[CODE]]
// CHECK: llvm.cond_br %[[FAILED]], ^[[DONE:.+]], ^[[BODY:[^ ]+]]
// CHECK: ^[[BODY]]:
// CHECK: llvm.call @_mlir_ciface_shears_model(%[[A0]], %[[A1]], %[[A2]], %[[A3]])
// CHECK: ^[[DONE]]:
// CHECK-NEXT: llvm.return
func.func @main(%x: tensor<?x4xf32> {shears.name = "x"}, %y: tensor<?x4xf32> {shears.name = "y"}) -> (tensor<?x4xf32> {shears.name = "z"}) {
  %0 = shears.add %x, %y : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32> loc("add")
  return %0 : tensor<?x4xf32>
}
