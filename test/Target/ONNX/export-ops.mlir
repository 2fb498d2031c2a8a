// Every shears op exports to its ONNX opset 13 counterpart; the model passes
// onnx.checker with full shape inference. The dump prints each initializer
// before the first node that reads it.
// RUN: split-file %s %t
// DEFINE: %{dump} = %python -c 'import onnx, sys; from onnx import numpy_helper as nh; \
// DEFINE:   m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); g = m.graph; \
// DEFINE:   T = onnx.TensorProto.DataType.Name; \
// DEFINE:   D = lambda v: "x".join(d.dim_param or str(d.dim_value) for d in v.type.tensor_type.shape.dim); \
// DEFINE:   V = lambda k, v: print(k, v.name, T(v.type.tensor_type.elem_type), D(v)); \
// DEFINE:   print("model ir", m.ir_version, "producer", m.producer_name, "opset", [(o.domain, o.version) for o in m.opset_import]); \
// DEFINE:   [V("input", v) for v in g.input]; [V("output", v) for v in g.output]; \
// DEFINE:   I = {t.name: t for t in g.initializer}; \
// DEFINE:   P = lambda t: print("init", t.name, T(t.data_type), list(t.dims), nh.to_array(t).ravel()[:6].tolist()); \
// DEFINE:   [([P(I.pop(i)) for i in n.input if i in I], print("node", n.op_type, n.name, list(n.input), "->", list(n.output), *(a.name + "=" + repr(onnx.helper.get_attribute_value(a)) for a in n.attribute))) for n in g.node]'
// RUN: shears-translate --export-onnx %t/nn.mlir -o %t/nn.onnx
// RUN: %{dump} %t/nn.onnx | FileCheck %s --check-prefix=NN
// RUN: shears-translate --export-onnx %t/shapes.mlir -o %t/shapes.onnx
// RUN: %{dump} %t/shapes.onnx | FileCheck %s --check-prefix=SHAPES
// RUN: shears-translate --export-onnx %t/elementwise.mlir -o %t/elementwise.onnx
// RUN: %{dump} %t/elementwise.onnx | FileCheck %s --check-prefix=ELEMENTWISE
// RUN: shears-translate --export-onnx %t/cast.mlir -o %t/cast.onnx
// RUN: %{dump} %t/cast.onnx | FileCheck %s --check-prefix=CAST
// RUN: shears-translate --export-onnx %t/logic.mlir -o %t/logic.onnx
// RUN: %{dump} %t/logic.onnx | FileCheck %s --check-prefix=LOGIC
// RUN: shears-translate --export-onnx %t/upsampling.mlir -o %t/upsampling.onnx
// RUN: %{dump} %t/upsampling.onnx | FileCheck %s --check-prefix=UPSAMPLING
// RUN: not shears-translate --export-onnx %t/negative-begin-pad.mlir -o %t/bad.onnx 2>&1 | FileCheck %s --check-prefix=BEGIN-PAD
// RUN: not shears-translate --export-onnx %t/resize-scales.mlir -o %t/bad.onnx 2>&1 | FileCheck %s --check-prefix=RESIZE-SCALES
// RUN: not test -e %t/bad.onnx

//--- nn.mlir
// NN: model ir 7 producer shears opset [('', 13)]
// NN-NEXT: input image FLOAT Nx3x8x8
// NN-NEXT: input seq FLOAT Nx5x3
// NN-NEXT: input wdyn FLOAT 4x3
// NN-NEXT: output logits FLOAT Nx10
// NN-NEXT: output proj FLOAT Nx5x4
// NN-NEXT: output clipped FLOAT Nx5x4
func.func @main(%x: tensor<?x3x8x8xf32> {shears.name = "image"},
                %seq: tensor<?x5x3xf32> {shears.name = "seq"},
                %wdyn: tensor<4x3xf32> {shears.name = "wdyn"})
    -> (tensor<?x10xf32> {shears.name = "logits"},
        tensor<?x5x4xf32> {shears.name = "proj"},
        tensor<?x5x4xf32> {shears.name = "clipped"}) {
  // NN: init conv.weight FLOAT [4, 3, 3, 3] [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
  // NN: init conv.bias FLOAT [4] [1.0, 2.0, 3.0, 4.0]
  // NN: node Conv conv ['image', 'conv.weight', 'conv.bias'] -> ['conv'] kernel_shape=[3, 3] strides=[1, 1] pads=[1, 0, 1, 2] dilations=[1, 1] group=1
  %w = shears.constant dense<0.5> : tensor<4x3x3x3xf32> loc("conv.weight")
  %b = shears.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> loc("conv.bias")
  %c = shears.conv2d %x, %w, %b {pads = array<i64: 1, 0, 1, 2>} : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32> loc("conv")
  // NN: init dw.weight FLOAT [4, 1, 3, 3]
  // NN: node Conv dw ['conv', 'dw.weight'] -> ['dw'] kernel_shape=[3, 3] strides=[2, 1] pads=[2, 2, 2, 2] dilations=[2, 2] group=4
  %dw = shears.constant dense<1.0> : tensor<4x1x3x3xf32> loc("dw.weight")
  %d = shears.conv2d %c, %dw {groups = 4 : i64, strides = array<i64: 2, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>} : (tensor<?x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x4x8xf32> loc("dw")
  // NN: init bn.scale FLOAT [4] [2.0, 2.0, 2.0, 2.0]
  // NN: node BatchNormalization bn ['dw', 'bn.scale', 'bn.scale', 'bn.scale', 'bn.scale'] -> ['bn'] epsilon=0.001{{[0-9]*}}{{$}}
  %p = shears.constant dense<2.0> : tensor<4xf32> loc("bn.scale")
  %bn = shears.batch_norm %d, %p, %p, %p, %p {epsilon = 1.0e-3 : f32} : (tensor<?x4x4x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x4x8xf32> loc("bn")
  // NN: init relu6_min FLOAT [] [0.0]
  // NN: init relu6_max FLOAT [] [6.0]
  // NN: node Clip relu6 ['bn', 'relu6_min', 'relu6_max'] -> ['relu6']
  // NN: node Add residual ['relu6', 'dw'] -> ['residual']
  %r6 = shears.clip %bn {min = 0.0 : f32, max = 6.0 : f32} : tensor<?x4x4x8xf32> loc("relu6")
  %a = shears.add %r6, %d : (tensor<?x4x4x8xf32>, tensor<?x4x4x8xf32>) -> tensor<?x4x4x8xf32> loc("residual")
  // NN: node MaxPool max_pool_0 ['residual'] -> ['max_pool_0'] kernel_shape=[2, 2] strides=[2, 2] pads=[0, 0, 0, 1] dilations=[1, 2] ceil_mode=1
  %m = shears.max_pool %a {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 1>, dilations = array<i64: 1, 2>, ceil_mode = true} : (tensor<?x4x4x8xf32>) -> tensor<?x4x2x4xf32>
  // NN: node AveragePool avg_pool_0 ['max_pool_0'] -> ['avg_pool_0'] kernel_shape=[3, 3] strides=[1, 1] pads=[1, 1, 1, 1] ceil_mode=0 count_include_pad=1
  %ap = shears.avg_pool %m {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = true} : (tensor<?x4x2x4xf32>) -> tensor<?x4x2x4xf32>
  // NN: node GlobalAveragePool global_avg_pool_0 ['avg_pool_0'] -> ['global_avg_pool_0']{{$}}
  // NN: node Flatten flatten_0 ['global_avg_pool_0'] -> ['flatten_0'] axis=1
  %g = shears.global_avg_pool %ap : (tensor<?x4x2x4xf32>) -> tensor<?x4x1x1xf32>
  %f = shears.flatten %g : (tensor<?x4x1x1xf32>) -> tensor<?x4xf32>
  // A 2-D linear is a Gemm on the [out, in] weight; the blob is its raw data.
  // NN: init fc.weight FLOAT [10, 4] [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75]
  // NN: init fc.bias FLOAT [10] [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
  // NN: node Gemm fc ['flatten_0', 'fc.weight', 'fc.bias'] -> ['fc'] transB=1
  %fw = shears.constant dense_resource<fc_weight> : tensor<10x4xf32> loc("fc.weight")
  %fb = shears.constant dense<0.5> : tensor<10xf32> loc("fc.bias")
  %fc = shears.linear %f, %fw, %fb : (tensor<?x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<?x10xf32> loc("fc")
  // NN: node Sigmoid sigmoid_0 ['fc'] -> ['sigmoid_0']
  // NN: node Tanh tanh_0 ['sigmoid_0'] -> ['tanh_0']
  // NN: node Relu relu_0 ['tanh_0'] -> ['relu_0']
  // NN: node Mul mul_0 ['relu_0', 'sigmoid_0'] -> ['mul_0']
  // NN: node Div div_0 ['mul_0', 'fc'] -> ['div_0']
  // NN: init const_0 FLOAT [10] [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
  // NN: node Sub sub_0 ['div_0', 'const_0'] -> ['sub_0']
  // NN: node Softmax softmax_0 ['sub_0'] -> ['logits'] axis=1
  %s = shears.sigmoid %fc : tensor<?x10xf32>
  %t = shears.tanh %s : tensor<?x10xf32>
  %r = shears.relu %t : tensor<?x10xf32>
  %mu = shears.mul %r, %s : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %dv = shears.div %mu, %fc : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %one = shears.constant dense<1.0> : tensor<10xf32>
  %sb = shears.sub %dv, %one : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %sm = shears.softmax %sb {axis = 1 : i64} : tensor<?x10xf32>

  // Any other rank is a MatMul on the transposed weight, then an Add.
  // NN: init proj.weight_transposed FLOAT [3, 4] [1.0, 4.0, 7.0, 10.0, 2.0, 5.0]
  // NN: node MatMul proj ['seq', 'proj.weight_transposed'] -> ['proj_matmul']
  // NN: init proj.bias FLOAT [4]
  // NN: node Add proj_bias ['proj_matmul', 'proj.bias'] -> ['proj_0']
  %pw = shears.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<4x3xf32> loc("proj.weight")
  %pb = shears.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> loc("proj.bias")
  %pr = shears.linear %seq, %pw, %pb : (tensor<?x5x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<?x5x4xf32> loc("proj")
  // NN: init mm.rhs FLOAT [3, 4]
  // NN: node MatMul matmul_0 ['seq', 'mm.rhs'] -> ['matmul_0']
  // NN: node Add add_0 ['proj_0', 'matmul_0'] -> ['proj']
  %mr = shears.constant dense<0.25> : tensor<3x4xf32> loc("mm.rhs")
  %mm = shears.matmul %seq, %mr : (tensor<?x5x3xf32>, tensor<3x4xf32>) -> tensor<?x5x4xf32>
  %sum = shears.add %pr, %mm : (tensor<?x5x4xf32>, tensor<?x5x4xf32>) -> tensor<?x5x4xf32>
  // A weight that is not a constant goes through a Transpose node.
  // NN: node Transpose dyn_transpose ['wdyn'] -> ['dyn_weight'] perm=[1, 0]
  // NN: node MatMul dyn ['seq', 'dyn_weight'] -> ['dyn']
  %dl = shears.linear %seq, %wdyn : (tensor<?x5x3xf32>, tensor<4x3xf32>) -> tensor<?x5x4xf32> loc("dyn")
  // A missing lower bound is an empty input; a missing upper one is left out.
  // NN: init upper_max FLOAT [] [1.0]
  // NN: node Clip upper ['dyn', '', 'upper_max'] -> ['upper']{{$}}
  // NN: init lower_min FLOAT [] [-1.0]
  // NN: node Clip lower ['upper', 'lower_min'] -> ['clipped']{{$}}
  %c1 = shears.clip %dl {max = 1.0 : f32} : tensor<?x5x4xf32> loc("upper")
  %c2 = shears.clip %c1 {min = -1.0 : f32} : tensor<?x5x4xf32> loc("lower")
  return %sm, %sum, %c2 : tensor<?x10xf32>, tensor<?x5x4xf32>, tensor<?x5x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      fc_weight: "0x04000000000000BF000080BE000000000000803E0000003F0000403F0000803F000000BF000080BE000000000000803E0000003F0000403F0000803F000000BF000080BE000000000000803E0000003F0000403F0000803F000000BF000080BE000000000000803E0000003F0000403F0000803F000000BF000080BE000000000000803E0000003F0000403F0000803F000000BF000080BE000000000000803E0000003F"
    }
  }
#-}

//--- shapes.mlir
// SHAPES: input input_0 FLOAT Nx6x4
// SHAPES-NEXT: input input_1 INT64 2x5
// SHAPES-NEXT: input input_2 FLOAT 100x8
// SHAPES-NEXT: output output_0 FLOAT 2x5x8
// SHAPES-NEXT: output output_1 FLOAT 4x6xdim_2
// SHAPES-NEXT: output output_2 FLOAT Nx3x4
// SHAPES-NEXT: output output_3 FLOAT Nx2x4
// SHAPES-NEXT: output output_4 FLOAT Nx4x4
// SHAPES-NEXT: output output_5 FLOAT Nx24
// SHAPES-NEXT: output output_6 FLOAT Nx8x6
// SHAPES-NEXT: output output_7 FLOAT Nx12x4
// SHAPES-NEXT: output output_8 FLOAT Nx4x4
func.func @main(%x: tensor<?x6x4xf32>, %ids: tensor<2x5xi64>, %table: tensor<100x8xf32>)
    -> (tensor<2x5x8xf32>, tensor<4x6x?xf32>, tensor<?x3x4xf32>, tensor<?x2x4xf32>, tensor<?x4x4xf32>,
        tensor<?x24xf32>, tensor<?x8x6xf32>, tensor<?x12x4xf32>, tensor<?x4x4xf32>) {
  // SHAPES: node Gather gather_0 ['input_2', 'input_1'] -> ['output_0'] axis=0
  %e = shears.gather %table, %ids : (tensor<100x8xf32>, tensor<2x5xi64>) -> tensor<2x5x8xf32>
  // SHAPES: node Transpose transpose_0 ['input_0'] -> ['output_1'] perm=[2, 1, 0]
  %t = shears.transpose %x {perm = array<i64: 2, 1, 0>} : (tensor<?x6x4xf32>) -> tensor<4x6x?xf32>
  // SHAPES: init slice_0_starts INT64 [1] [1]
  // SHAPES: init slice_0_ends INT64 [1] [6]
  // SHAPES: init slice_0_axes INT64 [1] [1]
  // SHAPES: init slice_0_steps INT64 [1] [2]
  // SHAPES: node Slice slice_0 ['input_0', 'slice_0_starts', 'slice_0_ends', 'slice_0_axes', 'slice_0_steps'] -> ['output_2']{{$}}
  %s = shears.slice %x {axes = array<i64: 1>, starts = array<i64: 1>, ends = array<i64: 6>, steps = array<i64: 2>} : (tensor<?x6x4xf32>) -> tensor<?x3x4xf32>
  // SHAPES: init split_0_split INT64 [2] [2, 4]
  // SHAPES: node Split split_0 ['input_0', 'split_0_split'] -> ['output_3', 'output_4'] axis=1
  %a, %b = shears.split %x {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<?x6x4xf32>) -> (tensor<?x2x4xf32>, tensor<?x4x4xf32>)
  // The dynamic dimension of a reshape is ONNX's -1.
  // SHAPES: init reshape_0_shape INT64 [2] [-1, 24]
  // SHAPES: node Reshape reshape_0 ['input_0', 'reshape_0_shape'] -> ['output_5']{{$}}
  %r = shears.reshape %x : (tensor<?x6x4xf32>) -> tensor<?x24xf32>
  // SHAPES: init pad_0_pads INT64 [6] [0, 1, 0, 0, 1, 2]
  // SHAPES: init pad_0_value FLOAT [] [1.5]
  // SHAPES: node Pad pad_0 ['input_0', 'pad_0_pads', 'pad_0_value'] -> ['output_6'] mode=b'constant'
  %p = shears.pad %x {pads = array<i64: 0, 1, 0, 0, 1, 2>, value = 1.5 : f32} : (tensor<?x6x4xf32>) -> tensor<?x8x6xf32>
  // SHAPES: node Concat concat_0 ['input_0', 'input_0'] -> ['output_7'] axis=1
  %cat = shears.concat %x, %x {axis = 1 : i64} : (tensor<?x6x4xf32>, tensor<?x6x4xf32>) -> tensor<?x12x4xf32>
  // SHAPES: node Transpose transpose_1 ['input_0'] -> ['transpose_1'] perm=[0, 2, 1]
  // SHAPES: node MatMul matmul_0 ['transpose_1', 'input_0'] -> ['output_8']{{$}}
  %tt = shears.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<?x6x4xf32>) -> tensor<?x4x6xf32>
  %mm = shears.matmul %tt, %x : (tensor<?x4x6xf32>, tensor<?x6x4xf32>) -> tensor<?x4x4xf32>
  return %e, %t, %s, %a, %b, %r, %p, %cat, %mm : tensor<2x5x8xf32>, tensor<4x6x?xf32>, tensor<?x3x4xf32>, tensor<?x2x4xf32>, tensor<?x4x4xf32>, tensor<?x24xf32>, tensor<?x8x6xf32>, tensor<?x12x4xf32>, tensor<?x4x4xf32>
}

//--- elementwise.mlir
// Elementwise ops are one ONNX node each; float attributes keep their names
// and values, defaults included.
func.func @main(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?x1xf32>, tensor<f32>, tensor<?x3x4xf32>, tensor<?x3x4xf32>, tensor<?x4xf32>) {
  // ELEMENTWISE: node Pow pow_0 ['input_0', 'input_1'] -> ['pow_0']{{$}}
  // ELEMENTWISE: node Max max_0 ['pow_0', 'input_1'] -> ['max_0']{{$}}
  // ELEMENTWISE: node Min min_0 ['max_0', 'input_0'] -> ['min_0']{{$}}
  // ELEMENTWISE: node Exp exp_0 ['min_0'] -> ['exp_0']{{$}}
  // ELEMENTWISE: node Log log_0 ['exp_0'] -> ['log_0']{{$}}
  // ELEMENTWISE: node Neg neg_0 ['log_0'] -> ['neg_0']{{$}}
  // ELEMENTWISE: node Abs abs_0 ['neg_0'] -> ['abs_0']{{$}}
  // ELEMENTWISE: node Sqrt sqrt_0 ['abs_0'] -> ['sqrt_0']{{$}}
  // ELEMENTWISE: node Reciprocal reciprocal_0 ['sqrt_0'] -> ['reciprocal_0']{{$}}
  // ELEMENTWISE: node Erf erf_0 ['reciprocal_0'] -> ['erf_0']{{$}}
  // ELEMENTWISE: node Softplus softplus_0 ['erf_0'] -> ['softplus_0']{{$}}
  // HardSwish is opset 14: in 13 it is x * HardSigmoid(x).
  // ELEMENTWISE: node HardSigmoid hard_swish_0_gate ['softplus_0'] -> ['hard_swish_0_gate'] alpha=0.1666666716337204 beta=0.5{{$}}
  // ELEMENTWISE: node Mul hard_swish_0 ['softplus_0', 'hard_swish_0_gate'] -> ['hard_swish_0']{{$}}
  // ELEMENTWISE: node LeakyRelu leaky_relu_0 ['hard_swish_0'] -> ['leaky_relu_0'] alpha=0.25{{$}}
  // ELEMENTWISE: node Elu elu_0 ['leaky_relu_0'] -> ['elu_0'] alpha=1.0{{$}}
  // ELEMENTWISE: node HardSigmoid hard_sigmoid_0 ['elu_0'] -> ['output_0'] alpha=0.5 beta=0.5{{$}}
  %0 = shears.pow %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %1 = shears.max %0, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %2 = shears.min %1, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %3 = shears.exp %2 : tensor<?x4xf32>
  %4 = shears.log %3 : tensor<?x4xf32>
  %5 = shears.neg %4 : tensor<?x4xf32>
  %6 = shears.abs %5 : tensor<?x4xf32>
  %7 = shears.sqrt %6 : tensor<?x4xf32>
  %8 = shears.reciprocal %7 : tensor<?x4xf32>
  %9 = shears.erf %8 : tensor<?x4xf32>
  %10 = shears.softplus %9 : tensor<?x4xf32>
  %11 = shears.hard_swish %10 : tensor<?x4xf32>
  %12 = shears.leaky_relu %11 {alpha = 0.25 : f32} : tensor<?x4xf32>
  %13 = shears.elu %12 : tensor<?x4xf32>
  %14 = shears.hard_sigmoid %13 {alpha = 0.5 : f32} : tensor<?x4xf32>
  // Opset 13's ReduceSum takes its axes as an input; ReduceMean an attribute.
  // ELEMENTWISE: init reduce_sum_0_axes INT64 [1] [1]
  // ELEMENTWISE: node ReduceSum reduce_sum_0 ['output_0', 'reduce_sum_0_axes'] -> ['output_1'] keepdims=1{{$}}
  // ELEMENTWISE: node ReduceMean reduce_mean_0 ['output_0'] -> ['output_2'] axes=[0, 1] keepdims=0{{$}}
  %15 = shears.reduce_sum %14 {axes = array<i64: 1>} : (tensor<?x4xf32>) -> tensor<?x1xf32>
  %16 = shears.reduce_mean %14 {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  // An expand's dynamic sizes are read from its sources' shapes.
  // ELEMENTWISE: node Shape expand_0_shape ['input_0'] -> ['expand_0_shape']{{$}}
  // ELEMENTWISE: init expand_0_index INT64 [1] [0]
  // ELEMENTWISE: node Gather expand_0_dim ['expand_0_shape', 'expand_0_index'] -> ['expand_0_dim'] axis=0{{$}}
  // ELEMENTWISE: init expand_0_sizes INT64 [2] [3, 4]
  // ELEMENTWISE: node Concat expand_0_target ['expand_0_dim', 'expand_0_sizes'] -> ['expand_0_target'] axis=0{{$}}
  // ELEMENTWISE: node Expand expand_0 ['input_1', 'expand_0_target'] -> ['output_3']{{$}}
  %17 = shears.expand %y sizes of %x : tensor<?x4xf32> {source_dims = array<i64: 0>} : tensor<4xf32> -> tensor<?x3x4xf32>
  // LayerNormalization is opset 17: in 13 it is its definition.
  // ELEMENTWISE: node ReduceMean layer_norm_0_mean ['output_3'] -> ['layer_norm_0_mean'] axes=[2]{{$}}
  // ELEMENTWISE: node Sub layer_norm_0_centered ['output_3', 'layer_norm_0_mean'] -> ['layer_norm_0_centered']{{$}}
  // ELEMENTWISE: node Mul layer_norm_0_squared ['layer_norm_0_centered', 'layer_norm_0_centered'] -> ['layer_norm_0_squared']{{$}}
  // ELEMENTWISE: node ReduceMean layer_norm_0_var ['layer_norm_0_squared'] -> ['layer_norm_0_var'] axes=[2]{{$}}
  // ELEMENTWISE: init layer_norm_0_epsilon FLOAT [] [9.999999747378752e-06]
  // ELEMENTWISE: node Add layer_norm_0_var_eps ['layer_norm_0_var', 'layer_norm_0_epsilon'] -> ['layer_norm_0_var_eps']{{$}}
  // ELEMENTWISE: node Sqrt layer_norm_0_std ['layer_norm_0_var_eps'] -> ['layer_norm_0_std']{{$}}
  // ELEMENTWISE: node Div layer_norm_0_normalized ['layer_norm_0_centered', 'layer_norm_0_std'] -> ['layer_norm_0_normalized']{{$}}
  // ELEMENTWISE: node Mul layer_norm_0_scaled ['layer_norm_0_normalized', 'input_1'] -> ['layer_norm_0_scaled']{{$}}
  // ELEMENTWISE: node Add layer_norm_0 ['layer_norm_0_scaled', 'input_1'] -> ['output_4']{{$}}
  %18 = shears.layer_norm %17, %y, %y {axis = 2 : i64} : (tensor<?x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x3x4xf32>
  // ELEMENTWISE: node Less less_0 ['input_0', 'input_1'] -> ['less_0']{{$}}
  // ELEMENTWISE: node Where where_0 ['less_0', 'input_0', 'input_1'] -> ['output_5']{{$}}
  %19 = shears.less %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  %20 = shears.where %19, %x, %y : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %14, %15, %16, %17, %18, %20 : tensor<?x4xf32>, tensor<?x1xf32>, tensor<f32>, tensor<?x3x4xf32>, tensor<?x3x4xf32>, tensor<?x4xf32>
}

//--- cast.mlir
// A cast is Cast with the ONNX element type of its result.
// CAST: output output_0 DOUBLE Nx4
// CAST: output output_1 BOOL Nx4
// CAST: node Cast cast_0 ['input_0'] -> ['cast_0'] to=10{{$}}
// CAST: node Cast cast_1 ['cast_0'] -> ['cast_1'] to=6{{$}}
// CAST: node Cast cast_2 ['cast_1'] -> ['output_0'] to=11{{$}}
// CAST: node Cast cast_3 ['cast_1'] -> ['output_1'] to=9{{$}}
func.func @main(%x: tensor<?x4xf32>) -> (tensor<?x4xf64>, tensor<?x4xi1>) {
  %h = shears.cast %x : tensor<?x4xf32> to tensor<?x4xf16>
  %i = shears.cast %h : tensor<?x4xf16> to tensor<?x4xi32>
  %d = shears.cast %i : tensor<?x4xi32> to tensor<?x4xf64>
  %b = shears.cast %i : tensor<?x4xi32> to tensor<?x4xi1>
  return %d, %b : tensor<?x4xf64>, tensor<?x4xi1>
}

//--- logic.mlir
// Logic, PRelu, Round, Selu (attributes by name), LogSoftmax, ReduceProd and ArgMax.
// LOGIC: node And and_0 ['input_0', 'input_1'] -> ['and_0']{{$}}
// LOGIC: node Or or_0 ['and_0', 'input_1'] -> ['or_0']{{$}}
// LOGIC: node Xor xor_0 ['or_0', 'input_0'] -> ['xor_0']{{$}}
// LOGIC: node Not not_0 ['xor_0'] -> ['output_0']{{$}}
// LOGIC: node PRelu prelu_0 ['input_2', 'input_3'] -> ['prelu_0']{{$}}
// LOGIC: node Sin sin_0 ['prelu_0'] -> ['sin_0']{{$}}
// LOGIC: node Acosh acosh_0 ['sin_0'] -> ['acosh_0']{{$}}
// LOGIC: node Floor floor_0 ['acosh_0'] -> ['floor_0']{{$}}
// LOGIC: node Mod fmod_0 ['floor_0', 'input_2'] -> ['fmod_0'] fmod=1{{$}}
// LOGIC: node Sign sign_0 ['fmod_0'] -> ['sign_0']{{$}}
// LOGIC: node Round round_0 ['sign_0'] -> ['round_0']{{$}}
// LOGIC: node Selu selu_0 ['round_0'] -> ['selu_0'] alpha=1.5 gamma=1.0507010221481323{{$}}
// LOGIC: node LogSoftmax softmax_0 ['selu_0'] -> ['output_1'] axis=1{{$}}
// LOGIC: node ReduceProd reduce_prod_0 ['output_1'] -> ['output_2'] axes=[1] keepdims=1{{$}}
// LOGIC: node ArgMax arg_max_0 ['output_1'] -> ['output_3'] axis=1 keepdims=0 select_last_index=1{{$}}
func.func @main(%a: tensor<4xi1>, %b: tensor<4xi1>, %x: tensor<?x4xf32>, %s: tensor<4xf32>) -> (tensor<4xi1>, tensor<?x4xf32>, tensor<?x1xf32>, tensor<?xi64>) {
  %0 = shears.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = shears.or %0, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = shears.xor %1, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %3 = shears.not %2 : tensor<4xi1>
  %4 = shears.prelu %x, %s : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %s0 = shears.sin %4 : tensor<?x4xf32>
  %s1 = shears.acosh %s0 : tensor<?x4xf32>
  %s2 = shears.floor %s1 : tensor<?x4xf32>
  %s3 = shears.fmod %s2, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %s4 = shears.sign %s3 : tensor<?x4xf32>
  %5 = shears.round %s4 : tensor<?x4xf32>
  %6 = shears.selu %5 {alpha = 1.5 : f32} : tensor<?x4xf32>
  %7 = shears.softmax %6 {axis = 1 : i64, log = true} : tensor<?x4xf32>
  %8 = shears.reduce_prod %7 {axes = array<i64: 1>} : (tensor<?x4xf32>) -> tensor<?x1xf32>
  %9 = shears.arg_max %7 {axis = 1 : i64, keepdims = false, select_last_index = true} : (tensor<?x4xf32>) -> tensor<?xi64>
  return %3, %7, %8, %9 : tensor<4xi1>, tensor<?x4xf32>, tensor<?x1xf32>, tensor<?xi64>
}

//--- upsampling.mlir
// Resize exports its scales when ONNX's floor(in * scale) gives its sizes,
// else its sizes where its scales are sizes over input sizes; a negative end
// pad of a transposed convolution is its output_padding.
// UPSAMPLING: output output_0 FLOAT Nx2x9x9
// UPSAMPLING-NEXT: output output_1 FLOAT 1x2x13x3
// UPSAMPLING: init resize_0_scales FLOAT [4] [1.0, 1.0, 2.0, 2.0]
// UPSAMPLING: node Resize resize_0 ['input_0', '', 'resize_0_scales'] -> ['resize_0'] mode=b'nearest' coordinate_transformation_mode=b'asymmetric' nearest_mode=b'floor' cubic_coeff_a=-0.75 exclude_outside=0
// UPSAMPLING: init ct.weight FLOAT [4, 1, 3, 3]
// UPSAMPLING: node ConvTranspose ct ['resize_0', 'ct.weight'] -> ['output_0'] kernel_shape=[3, 3] strides=[2, 2] pads=[1, 1, 0, 0] dilations=[1, 1] group=2 output_padding=[1, 1]
// UPSAMPLING: init resize_1_sizes INT64 [4] [1, 2, 13, 3]
// UPSAMPLING: node Resize resize_1 ['input_1', '', '', 'resize_1_sizes'] -> ['output_1'] mode=b'cubic' coordinate_transformation_mode=b'half_pixel' nearest_mode=b'round_prefer_floor' cubic_coeff_a=-0.5 exclude_outside=1
func.func @main(%x: tensor<?x4x2x2xf32>, %y: tensor<1x2x11x2xf32>)
    -> (tensor<?x2x9x9xf32>, tensor<1x2x13x3xf32>) {
  %up = shears.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<?x4x2x2xf32>) -> tensor<?x4x4x4xf32>
  %w = shears.constant dense<0.5> : tensor<4x1x3x3xf32> loc("ct.weight")
  %ct = shears.conv_transpose %up, %w {groups = 2 : i64, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, -1, -1>} : (tensor<?x4x4x4xf32>, tensor<4x1x3x3xf32>) -> tensor<?x2x9x9xf32> loc("ct")
  // 13 / 11 in f32 times 11 is just under 13.
  %r = shears.resize %y {mode = "cubic", cubic_coeff_a = -0.5 : f32, exclude_outside = true, scales = array<f32: 1.0, 1.0, 1.18181813, 1.5>} : (tensor<1x2x11x2xf32>) -> tensor<1x2x13x3xf32>
  return %ct, %r : tensor<?x2x9x9xf32>, tensor<1x2x13x3xf32>
}

//--- negative-begin-pad.mlir
// BEGIN-PAD: error: 'shears.conv_transpose' op cannot be exported: ONNX has no negative begin pads
func.func @main(%x: tensor<1x1x3x3xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x6x5xf32> {
  %ct = shears.conv_transpose %x, %w {pads = array<i64: -1, 0, 0, 0>} : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x6x5xf32>
  return %ct : tensor<1x1x6x5xf32>
}

//--- resize-scales.mlir
// RESIZE-SCALES: error: 'shears.resize' op cannot be exported: ONNX takes either the result sizes as floor(input size * scale) or the scales as result size / input size, and neither holds
func.func @main(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x7x3xf32> {
  %r = shears.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 1.0>} : (tensor<1x1x3x3xf32>) -> tensor<1x1x7x3xf32>
  return %r : tensor<1x1x7x3xf32>
}
