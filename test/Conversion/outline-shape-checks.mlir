// RUN: shears-opt %s --split-input-file --shears-outline-shape-checks | FileCheck %s

// Two dynamic batches that an elementwise op ties together: the check
// compares them, and returns 1 (the first check) when they differ.
// CHECK-LABEL: module attributes {shears.shape_checks = ["node 'add': dimension 0 of operand 0 and dimension 0 of operand 1 differ"]}
// CHECK: func.func @shears_model(
// CHECK-NOT: __shears_assume_equal
// CHECK: func.func @shears_model_check_shapes(%[[X:.+]]: tensor<?x4xf32>, %[[Y:.+]]: tensor<?x4xf32>) -> i32 attributes {llvm.emit_c_interface}
// CHECK-DAG: %[[DX:.+]] = tensor.dim %[[X]], %[[C0:.+]] :
// CHECK-DAG: %[[DY:.+]] = tensor.dim %[[Y]], %[[C0]]
// CHECK: %[[NE:.+]] = arith.cmpi ne, %[[DX]], %[[DY]]
// CHECK: %[[FIRST:.+]] = arith.constant 1 : i32
// CHECK: %[[R:.+]] = arith.select %[[NE]], %[[FIRST]], %{{.+}} : i32
// CHECK: return %[[R]] : i32
// CHECK-NOT: __shears_assume_equal
#map = affine_map<(d0, d1) -> (d0, d1)>
module {
  func.func @shears_model(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %c0 = arith.constant 0 : index
    %d = tensor.dim %x, %c0 : tensor<?x4xf32>
    %e = tensor.empty(%d) : tensor<?x4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}
        ins(%x, %y : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    } -> tensor<?x4xf32> loc("add")
    return %r : tensor<?x4xf32>
  }
}

// -----

// A size that the output takes from the same input (by way of an
// intermediate whose size resolves to it) needs no check, and neither does
// a static one: no function, no attribute.
// CHECK-LABEL: module {
// CHECK-NOT: check_shapes
// CHECK-NOT: shears.shape_checks
#map = affine_map<(d0, d1) -> (d0, d1)>
module {
  func.func @shears_model(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %c0 = arith.constant 0 : index
    %d = tensor.dim %x, %c0 : tensor<?x4xf32>
    %e = tensor.empty(%d) : tensor<?x4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
        ins(%x : tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
    ^bb0(%a: f32, %o: f32):
      linalg.yield %a : f32
    } -> tensor<?x4xf32>
    %d2 = tensor.dim %r, %c0 : tensor<?x4xf32>
    %e2 = tensor.empty(%d2) : tensor<?x4xf32>
    %r2 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
        ins(%r : tensor<?x4xf32>) outs(%e2 : tensor<?x4xf32>) {
    ^bb0(%a: f32, %o: f32):
      linalg.yield %a : f32
    } -> tensor<?x4xf32>
    return %r2 : tensor<?x4xf32>
  }
}

// -----

// A cast to a static size, and a reshape whose groups must keep their
// element counts: two checks, in order.
// CHECK-LABEL: module attributes {shears.shape_checks = ["node 'mm': dimension 1 must be 4", "node 'reshape': the elements of dimension 0 cannot take the new shape"]}
// CHECK: func.func @shears_model_check_shapes(%[[X:.+]]: tensor<2x?xf32>, %[[Z:.+]]: tensor<?xf32>) -> i32
// CHECK-DAG: %[[K:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?xf32>
// CHECK-DAG: %[[N:.+]] = tensor.dim %[[Z]], %{{.+}} : tensor<?xf32>
// CHECK-DAG: %[[ROWS:.+]] = arith.divui %[[N]]
// CHECK-DAG: %[[PRODUCT:.+]] = arith.muli %[[ROWS]]
// CHECK: %[[NE2:.+]] = arith.cmpi ne, %[[N]], %[[PRODUCT]]
// CHECK: arith.select %[[NE2]]
// CHECK: %[[NE1:.+]] = arith.cmpi ne, %[[K]], %{{.+}} : index
// CHECK: arith.select %[[NE1]]
module {
  func.func @shears_model(%x: tensor<2x?xf32>, %z: tensor<?xf32>) -> (tensor<2x4xf32>, tensor<?x3xf32>) {
    %cast = tensor.cast %x : tensor<2x?xf32> to tensor<2x4xf32> loc("mm")
    %c0 = arith.constant 0 : index
    %c3 = arith.constant 3 : index
    %n = tensor.dim %z, %c0 : tensor<?xf32>
    %rows = arith.divui %n, %c3 : index
    %e = tensor.expand_shape %z [[0, 1]] output_shape [%rows, 3] : tensor<?xf32> into tensor<?x3xf32> loc("reshape")
    return %cast, %e : tensor<2x4xf32>, tensor<?x3xf32>
  }
}
