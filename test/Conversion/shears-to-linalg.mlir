// RUN: shears-opt %s --convert-shears-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func @linear
// CHECK: %[[DIM:.+]] = tensor.dim %arg0, %c0
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[DIM]]) : tensor<?x4xf32>
// CHECK: %[[INIT:.+]] = linalg.broadcast ins(%arg2 : tensor<4xf32>) outs(%[[EMPTY]] : tensor<?x4xf32>) dimensions = [0]
// A weight that is not a constant is transposed at run time.
// CHECK: %[[WT:.+]] = linalg.transpose ins(%arg1 : tensor<4x8xf32>) outs(%{{.+}} : tensor<8x4xf32>) permutation = [1, 0]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %[[WT]] : tensor<?x8xf32>, tensor<8x4xf32>) outs(%[[INIT]] : tensor<?x4xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @linear(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %0 = shears.linear %x, %w, %b : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A constant weight is transposed at compile time.
// CHECK-LABEL: func @linear_constant
// CHECK-NOT: linalg.transpose
// CHECK: %[[WT:.+]] = arith.constant dense_resource<weight_t> : tensor<2x2xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[WT]]
// CHECK: weight_t: "0x040000000000803F0000404000000040
// CHECK-SAME: 00008040"
func.func @linear_constant(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = shears.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %0 = shears.linear %x, %w : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// CHECK-LABEL: func @conv_pad_bias
// CHECK: %[[PAD:.+]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.broadcast ins(%arg2 : tensor<8xf32>) {{.*}} dimensions = [0, 2, 3]
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %arg1
func.func @conv_pad_bias(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<?x8x4x4xf32> {
  %0 = shears.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  return %0 : tensor<?x8x4x4xf32>
}

// -----

// CHECK-LABEL: func @depthwise
// CHECK: %[[F:.+]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : tensor<4x1x3x3xf32> into tensor<4x3x3xf32>
// CHECK: linalg.depthwise_conv_2d_nchw_chw {{.*}} ins(%{{.+}}, %[[F]]
func.func @depthwise(%x: tensor<1x4x6x6xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %0 = shears.conv2d %x, %w {groups = 4 : i64} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// CHECK-LABEL: func @grouped
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 6, 6]
// CHECK: tensor.expand_shape %arg1 {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: linalg.conv_2d_ngchw_gfchw
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x4x4xf32> into tensor<1x6x4x4xf32>
func.func @grouped(%x: tensor<1x4x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32> {
  %0 = shears.conv2d %x, %w {groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// ceil_mode pads one more column/row at the end with -inf so the last window
// is computed.
// CHECK-LABEL: func @max_pool_ceil
// CHECK: %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %arg0 low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
func.func @max_pool_ceil(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = shears.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// A global average pool sums each plane as one contiguous run, reassociable
// (so that LLVM vectorizes it), then restores the kept dims; a dynamic batch
// goes through.
// CHECK-LABEL: func @global_avg_pool
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<?x16x4x4xf32> into tensor<?x16x16xf32>
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[FLAT]] : tensor<?x16x16xf32>)
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<?x16x1xf32>)
// CHECK: arith.constant 1.600000e+01 : f32
// CHECK: arith.divf
// CHECK: %[[N:.+]] = tensor.dim %arg0, %c0
// CHECK: tensor.expand_shape %[[MEAN]] {{\[}}[0], [1], [2, 3]] output_shape [%[[N]], 16, 1, 1] : tensor<?x16x1xf32> into tensor<?x16x1x1xf32>
func.func @global_avg_pool(%x: tensor<?x16x4x4xf32>) -> tensor<?x16x1x1xf32> {
  %0 = shears.global_avg_pool %x : (tensor<?x16x4x4xf32>) -> tensor<?x16x1x1xf32>
  return %0 : tensor<?x16x1x1xf32>
}

// -----

// Broadcasting: a [C,1,1] operand indexes only the channel dim.
// CHECK-DAG: #[[BCAST:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func @broadcast_add
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[BCAST]], #{{.+}}]
// CHECK: arith.addf
func.func @broadcast_add(%x: tensor<?x3x4x4xf32>, %b: tensor<3x1x1xf32>) -> tensor<?x3x4x4xf32> {
  %0 = shears.add %x, %b : (tensor<?x3x4x4xf32>, tensor<3x1x1xf32>) -> tensor<?x3x4x4xf32>
  return %0 : tensor<?x3x4x4xf32>
}

// -----

// The dynamic batch survives a flatten: the collapsed size is divided by the
// static product.
// CHECK-LABEL: func @flatten_dynamic
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1, 2, 3]] : tensor<?x2x3x4xf32> into tensor<?xf32>
// CHECK: %[[N:.+]] = tensor.dim %[[FLAT]], %c0
// CHECK: %[[B:.+]] = arith.divui %[[N]], %c24
// CHECK: tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [%[[B]], 24]
func.func @flatten_dynamic(%x: tensor<?x2x3x4xf32>) -> tensor<?x24xf32> {
  %0 = shears.flatten %x : (tensor<?x2x3x4xf32>) -> tensor<?x24xf32>
  return %0 : tensor<?x24xf32>
}

// -----

// CHECK-LABEL: func @concat
// CHECK: tensor.insert_slice %arg0 into %{{.+}}[0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %{{.+}}[0, 3] [2, 5] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = shears.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Inserted in the order the operands are computed, each right after its
// operand, so that eliminate-empty-tensors can compute each in place.
// CHECK-LABEL: func @concat_in_order
// CHECK: %[[B:.+]] = linalg.generic {{.+}} ins(%arg1
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x8x4x4xf32>
// CHECK: %[[R:.+]] = tensor.insert_slice %[[B]] into %[[E]][0, 3, 0, 0]
// CHECK: %[[A:.+]] = linalg.generic {{.+}} ins(%arg0
// CHECK: tensor.insert_slice %[[A]] into %[[R]][0, 0, 0, 0]
func.func @concat_in_order(%a: tensor<?x3x4x4xf32>, %b: tensor<?x5x4x4xf32>) -> tensor<?x8x4x4xf32> {
  %1 = shears.relu %b : tensor<?x5x4x4xf32>
  %0 = shears.relu %a : tensor<?x3x4x4xf32>
  %2 = shears.concat %0, %1 {axis = 1 : i64} : (tensor<?x3x4x4xf32>, tensor<?x5x4x4xf32>) -> tensor<?x8x4x4xf32>
  return %2 : tensor<?x8x4x4xf32>
}

// -----

// Softmax subtracts the max for stability.
// CHECK-LABEL: func @softmax
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = shears.softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Log softmax is x - max - log(sum(exp(x - max))): no division, no log of
// an underflowed quotient.
// CHECK-LABEL: func @log_softmax
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK:   arith.subf
// CHECK:   math.log
// CHECK:   arith.subf
// CHECK-NOT: arith.divf
func.func @log_softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = shears.softmax %x {axis = 1 : i64, log = true} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Gather clamps indices (negative ones count from the end).
// CHECK-LABEL: func @gather
// CHECK: linalg.generic
// CHECK: arith.index_cast
// CHECK: arith.select
// CHECK: arith.minsi
// CHECK: tensor.extract %arg0
func.func @gather(%t: tensor<10x4xf32>, %i: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %0 = shears.gather %t, %i : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// CHECK-DAG: #[[MASKMAP:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @mask
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[MASKMAP]], #{{.+}}]
// CHECK: arith.select
func.func @mask(%w: tensor<4x8xf32>, %m: tensor<4x1xi1>) -> tensor<4x8xf32> {
  %0 = shears.mask %w, %m : tensor<4x8xf32>, tensor<4x1xi1>
  return %0 : tensor<4x8xf32>
}

// -----

// Every elementwise op lowers to a linalg.generic whose body is its scalar
// function (ElementwiseOpInterface); operands broadcast.
// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4xf32>)
// CHECK:   math.powf
// CHECK: linalg.generic
// CHECK:   math.erf
// CHECK: linalg.generic
// CHECK:   %[[ALPHA:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:   arith.mulf %{{.*}}, %[[ALPHA]]
// CHECK:   arith.cmpf oge
// CHECK:   arith.select
// CHECK: linalg.generic
// CHECK:   arith.constant 5.000000e-01 : f32
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK:   arith.minimumf
// CHECK:   arith.maximumf
func.func @elementwise(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> tensor<?x4xf32> {
  %0 = shears.pow %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %1 = shears.erf %0 : tensor<?x4xf32>
  %2 = shears.leaky_relu %1 {alpha = 0.25 : f32} : tensor<?x4xf32>
  %3 = shears.hard_sigmoid %2 {alpha = 0.5 : f32} : tensor<?x4xf32>
  return %3 : tensor<?x4xf32>
}

// -----

// A reduction is a linalg.generic into the kept-dims shape (trailing reduced
// dims as one, its sum reassociable); the mean then divides by the count,
// and dropped dims are collapsed.
// CHECK-LABEL: func.func @reduce_mean
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<?x8x4x4xf32> into tensor<?x8x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x8x1xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:   arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// CHECK: linalg.generic
// CHECK:   arith.constant 1.600000e+01 : f32
// CHECK:   arith.divf
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, 8, 1, 1] : tensor<?x8x1xf32> into tensor<?x8x1x1xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<?x8x1x1xf32> into tensor<?x8xf32>
func.func @reduce_mean(%x: tensor<?x8x4x4xf32>) -> tensor<?x8xf32> {
  %0 = shears.reduce_mean %x {axes = array<i64: 2, 3>, keepdims = false} : (tensor<?x8x4x4xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A product starts from one.
// CHECK-LABEL: func.func @reduce_prod
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ONE]] : f32) outs(%{{.*}} : tensor<?x1xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:   arith.mulf
func.func @reduce_prod(%x: tensor<?x8xf32>) -> tensor<?x1xf32> {
  %0 = shears.reduce_prod %x {axes = array<i64: 1>} : (tensor<?x8xf32>) -> tensor<?x1xf32>
  return %0 : tensor<?x1xf32>
}

// -----

// An expand is a broadcasting copy into a tensor whose dynamic sizes are
// the sources' dimensions.
// CHECK-LABEL: func.func @expand
// CHECK-SAME: (%[[T:.*]]: tensor<1x1x8xf32>, %[[X:.*]]: tensor<?x3x32x32xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x1x8xf32>
// CHECK: linalg.generic {{.*}} ins(%[[T]] : tensor<1x1x8xf32>) outs(%[[E]] : tensor<?x1x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[IN]]
func.func @expand(%token: tensor<1x1x8xf32>, %x: tensor<?x3x32x32xf32>) -> tensor<?x1x8xf32> {
  %0 = shears.expand %token sizes of %x : tensor<?x3x32x32xf32> {source_dims = array<i64: 0>} : tensor<1x1x8xf32> -> tensor<?x1x8xf32>
  return %0 : tensor<?x1x8xf32>
}

// -----

// Layer norm: the mean and the variance over the normalized dims, then one
// pass that normalizes, scales and shifts.
// CHECK-LABEL: func.func @layer_norm
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.constant 1.600000e+01 : f32
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x5x16xf32>, tensor<?x5x1xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK:   arith.constant 9.99999974E-6 : f32
// CHECK:   math.sqrt
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK:   arith.addf
func.func @layer_norm(%x: tensor<?x5x16xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x5x16xf32> {
  %0 = shears.layer_norm %x, %s, %b {axis = 2 : i64} : (tensor<?x5x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  return %0 : tensor<?x5x16xf32>
}

// -----

// Comparisons are ordered cmpf into i1; where is a select.
// CHECK-LABEL: func.func @compare_where
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi1>)
// CHECK:   arith.cmpf olt
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>)
// CHECK:   arith.select
func.func @compare_where(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> tensor<?x4xf32> {
  %c = shears.less %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  %w = shears.where %c, %x, %y : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %w : tensor<?x4xf32>
}

// -----

// Casts: floats extend or truncate, to integers truncate toward zero, to
// i1 compare with zero (NaN is true), and i1 true widens to 1, not -1.
// CHECK-LABEL: func.func @casts
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xf16>)
// CHECK:   arith.truncf %{{.*}} : f32 to f16
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi32>)
// CHECK:   arith.fptosi %{{.*}} : f16 to i32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi1>)
// CHECK:   arith.cmpf une
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi8>)
// CHECK:   arith.extui %{{.*}} : i1 to i8
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xf64>)
// CHECK:   arith.sitofp %{{.*}} : i8 to f64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi64>)
// CHECK:   arith.extsi %{{.*}} : i32 to i64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi1>)
// CHECK:   arith.cmpi ne
func.func @casts(%x: tensor<?x4xf32>) -> (tensor<?x4xf64>, tensor<?x4xi1>) {
  %h = shears.cast %x : tensor<?x4xf32> to tensor<?x4xf16>
  %i = shears.cast %h : tensor<?x4xf16> to tensor<?x4xi32>
  %b = shears.cast %x : tensor<?x4xf32> to tensor<?x4xi1>
  %c = shears.cast %b : tensor<?x4xi1> to tensor<?x4xi8>
  %d = shears.cast %c : tensor<?x4xi8> to tensor<?x4xf64>
  %l = shears.cast %i : tensor<?x4xi32> to tensor<?x4xi64>
  %n = shears.cast %l : tensor<?x4xi64> to tensor<?x4xi1>
  return %d, %n : tensor<?x4xf64>, tensor<?x4xi1>
}

// -----

// On integers, arithmetic is arith's integer ops, signed where it matters.
// CHECK-LABEL: func.func @integers
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi32>)
// CHECK:   arith.addi
// CHECK: linalg.generic
// CHECK:   arith.muli
// CHECK: linalg.generic
// CHECK:   arith.maxsi
// CHECK: linalg.generic
// CHECK:   arith.minsi
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi1>)
// CHECK:   arith.cmpi slt
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi1>)
// CHECK:   arith.cmpi eq
func.func @integers(%x: tensor<?x4xi32>, %y: tensor<4xi32>) -> (tensor<?x4xi1>, tensor<?x4xi1>) {
  %a = shears.add %x, %y : (tensor<?x4xi32>, tensor<4xi32>) -> tensor<?x4xi32>
  %m = shears.mul %a, %x : (tensor<?x4xi32>, tensor<?x4xi32>) -> tensor<?x4xi32>
  %hi = shears.max %m, %y : (tensor<?x4xi32>, tensor<4xi32>) -> tensor<?x4xi32>
  %lo = shears.min %hi, %x : (tensor<?x4xi32>, tensor<?x4xi32>) -> tensor<?x4xi32>
  %l = shears.less %lo, %y : (tensor<?x4xi32>, tensor<4xi32>) -> tensor<?x4xi1>
  %e = shears.equal %lo, %x : (tensor<?x4xi32>, tensor<?x4xi32>) -> tensor<?x4xi1>
  return %l, %e : tensor<?x4xi1>, tensor<?x4xi1>
}

// -----

// Logic on i1; PRelu selects the sloped product below zero; Round halves to
// even; Selu scales both sides by gamma.
// CHECK-LABEL: func.func @logic_and_activations
// CHECK:   arith.andi
// CHECK:   arith.ori
// CHECK:   arith.xori
// CHECK:   arith.constant true
// CHECK:   arith.xori
// CHECK:   arith.mulf
// CHECK:   arith.cmpf oge
// CHECK:   arith.select
// CHECK:   math.roundeven
// CHECK:   math.expm1
// CHECK:   arith.cmpf ogt
// CHECK:   arith.select
// CHECK:   arith.constant 1.05070102 : f32
// CHECK:   arith.mulf
func.func @logic_and_activations(%a: tensor<4xi1>, %b: tensor<4xi1>, %x: tensor<?x4xf32>, %s: tensor<4xf32>) -> (tensor<4xi1>, tensor<?x4xf32>) {
  %0 = shears.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = shears.or %0, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = shears.xor %1, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %3 = shears.not %2 : tensor<4xi1>
  %4 = shears.prelu %x, %s : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %5 = shears.round %4 : tensor<?x4xf32>
  %6 = shears.selu %5 : tensor<?x4xf32>
  return %3, %6 : tensor<4xi1>, tensor<?x4xf32>
}

// -----

// ArgMax carries the best value and its index in one generic; strictly
// greater keeps the first index (greater or equal, with select_last_index,
// the last); the dropped axis is collapsed away.
// CHECK-LABEL: func.func @arg_max
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<?x1xf32>, tensor<?x1xi64>)
// CHECK:   linalg.index 1
// CHECK:   arith.cmpf ogt
// CHECK:   arith.select
// CHECK:   arith.select
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<?x1xi64> into tensor<?xi64>
// CHECK: arith.cmpf ole
func.func @arg_max(%x: tensor<?x8xf32>) -> (tensor<?xi64>, tensor<?x1xi64>) {
  %0 = shears.arg_max %x {axis = 1 : i64, keepdims = false} : (tensor<?x8xf32>) -> tensor<?xi64>
  %1 = shears.arg_min %x {axis = 1 : i64, select_last_index = true} : (tensor<?x8xf32>) -> tensor<?x1xi64>
  return %0, %1 : tensor<?xi64>, tensor<?x1xi64>
}

// -----

// Trigonometric, hyperbolic and rounding functions are math ops (libm calls
// after shears-lower-to-llvm where LLVM has no intrinsic); thresholded relu
// keeps what is above alpha; fmod is remf; sign is two selects.
// CHECK-LABEL: func.func @math_functions
// CHECK: math.sin
// CHECK: math.acos
// CHECK: math.atanh
// CHECK: math.cosh
// CHECK: math.floor
// CHECK: math.ceil
// CHECK: arith.constant 2.500000e+00 : f32
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.remf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: arith.cmpf ogt
// CHECK: arith.select
func.func @math_functions(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = shears.sin %x : tensor<?x4xf32>
  %1 = shears.acos %0 : tensor<?x4xf32>
  %2 = shears.atanh %1 : tensor<?x4xf32>
  %3 = shears.cosh %2 : tensor<?x4xf32>
  %4 = shears.floor %3 : tensor<?x4xf32>
  %5 = shears.ceil %4 : tensor<?x4xf32>
  %6 = shears.thresholded_relu %5 {alpha = 2.5 : f32} : tensor<?x4xf32>
  %7 = shears.fmod %6, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %8 = shears.sign %7 : tensor<?x4xf32>
  return %8 : tensor<?x4xf32>
}

// -----

// Nearest resize reads one element at the rounded coordinate: half_pixel
// (i + 0.5) / 2 - 0.5, rounded half down as ceil(x - 0.5), clamped. Copied
// dims read at their own index.
// CHECK-LABEL: func @resize_nearest
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<?x3x8x8xf32>)
// CHECK: %[[N:.+]] = linalg.index 0
// CHECK: %[[C:.+]] = linalg.index 1
// CHECK: arith.divf %{{.+}}, %cst{{.*}} : f64
// CHECK: math.ceil
// CHECK: arith.minsi
// CHECK: tensor.extract %arg0[%[[N]], %[[C]], %{{.+}}, %{{.+}}] : tensor<?x3x4x4xf32>
// CHECK-NOT: tensor.extract
func.func @resize_nearest(%x: tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32> {
  %0 = shears.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : (tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32>
  return %0 : tensor<?x3x8x8xf32>
}

// -----

// Bilinear resize blends 4 neighbours; cubic 16.
// CHECK-LABEL: func @resize_linear
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @resize_linear(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x2x2xf32> {
  %0 = shears.resize %x {mode = "linear", scales = array<f32: 1.0, 1.0, 0.5, 0.5>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x2x2xf32>
  return %0 : tensor<1x3x2x2xf32>
}

// CHECK-LABEL: func @resize_cubic
// CHECK-COUNT-16: tensor.extract
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @resize_cubic(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32> {
  %0 = shears.resize %x {mode = "cubic", exclude_outside = true, scales = array<f32: 1.0, 1.0, 1.5, 1.5>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32>
  return %0 : tensor<1x3x6x6xf32>
}

// -----

// A transposed convolution convolves the input spread 2 apart into zeros
// (bordered by k - 1 = 2) with the flipped filter, its channels swapped
// within each of the 2 groups, then crops the pads.
// CHECK-DAG: #[[FLIP:.+]] = affine_map<(d0, d1, d2, d3) -> ((d0 floordiv 3) * 2 + d1, d0 mod 3, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func @conv_transpose
// CHECK: %[[FILTER:.+]] = linalg.generic {indexing_maps = [#[[FLIP]], #{{.+}}]{{.*}} ins(%arg1 : tensor<4x3x3x3xf32>) outs(%{{.+}} : tensor<6x2x3x3xf32>)
// CHECK: %[[ZEROS:.+]] = linalg.fill {{.*}} -> tensor<?x4x11x11xf32>
// CHECK: %[[SPREAD:.+]] = tensor.insert_slice %arg0 into %[[ZEROS]][0, 0, 2, 2] [%{{.+}}, 4, 4, 4] [1, 1, 2, 2]
// CHECK: %[[FULL:.+]] = linalg.conv_2d_ngchw_gfchw
// CHECK: %[[COLLAPSED:.+]] = tensor.collapse_shape %[[FULL]] {{.*}} into tensor<?x6x9x9xf32>
// CHECK: tensor.extract_slice %[[COLLAPSED]][0, 0, 1, 1] [%{{.+}}, 6, 8, 8] [1, 1, 1, 1]
func.func @conv_transpose(%x: tensor<?x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x6x8x8xf32> {
  %0 = shears.conv_transpose %x, %w {groups = 2 : i64, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>} : (tensor<?x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<?x6x8x8xf32>
  return %0 : tensor<?x6x8x8xf32>
}
