// RUN: shears-opt %s --split-input-file --verify-diagnostics

func.func @linear_features(%x: tensor<?x10xf32>, %w: tensor<4x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+2 {{input has 10 features but the weight expects 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.linear %x, %w : (tensor<?x10xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @linear_bias(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %b: tensor<5xf32>) -> tensor<?x4xf32> {
  // expected-error @+2 {{bias must be a 1-D tensor of 4 elements}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.linear %x, %w, %b : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<5xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @linear_result(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?x5xf32> {
  // expected-error @+2 {{inferred type(s) 'tensor<?x4xf32>' are incompatible with return type(s) of operation 'tensor<?x5xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.linear %x, %w : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{input has 3 channels but the filter expects 2 x 1 groups}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+2 {{groups (4) must divide the output channels (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv2d %x, %w {groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_window(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+2 {{window of 3 does not fit spatial dimension 0 of size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv2d %x, %w : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{expects 2 kernel dims, 2 strides, 2 dilations and 4 pads}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv2d %x, %w {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @batch_norm_params(%x: tensor<1x3x4x4xf32>, %p: tensor<3xf32>, %q: tensor<4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+2 {{variance must be a 1-D tensor of 3 elements}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.batch_norm %x, %p, %p, %p, %q : (tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{shapes 'tensor<2x3xf32>' and 'tensor<4xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @clip_bounds(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{min (6.000000e+00) is greater than max (0.000000e+00)}}
  %0 = shears.clip %a {min = 6.0 : f32, max = 0.0 : f32} : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = shears.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{cannot reshape 'tensor<2x3xf32>' into 'tensor<7xf32>': element counts differ}}
  %0 = shears.reshape %a : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @reshape_dynamic(%a: tensor<?x3xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{result may have at most one dynamic dimension}}
  %0 = shears.reshape %a : (tensor<?x3xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{perm is not a permutation}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.transpose %a {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+2 {{inputs differ in dimension 1 (3 vs 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @slice_end(%a: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+2 {{slice end 5 exceeds size 3 of axis 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.slice %a {axes = array<i64: 1>, starts = array<i64: 3>, ends = array<i64: 5>, steps = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @split_sizes(%a: tensor<2x6xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  // expected-error @+2 {{split sizes add up to 4 but axis 1 has 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0, %1 = shears.split %a {axis = 1 : i64, sizes = array<i64: 2, 2>} : (tensor<2x6xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
  return %0, %1 : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

func.func @pad_count(%a: tensor<2x6xf32>) -> tensor<2x8xf32> {
  // expected-error @+2 {{expects 4 pads, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.pad %a {pads = array<i64: 1, 1>} : (tensor<2x6xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @gather_axis(%t: tensor<10x4xf32>, %i: tensor<3xi64>) -> tensor<3x4xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.gather %t, %i {axis = 2 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @pool_rank(%a: tensor<2x6xf32>) -> tensor<2x6x1x1xf32> {
  // expected-error @+2 {{expects a 4-D NCHW input, got rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.global_avg_pool %a : (tensor<2x6xf32>) -> tensor<2x6x1x1xf32>
  return %0 : tensor<2x6x1x1xf32>
}

// -----

func.func @mask_shape(%w: tensor<4x8xf32>, %m: tensor<4x2xi1>) -> tensor<4x8xf32> {
  // expected-error @+1 {{mask dimension 1 is 2, expected 1 or 8}}
  %0 = shears.mask %w, %m : tensor<4x8xf32>, tensor<4x2xi1>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @ukernel_unknown(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{unknown micro-kernel 'conv3d' (bmm, conv2d, dwconv2d, gemm, maxpool2d, qconv2d, qgemm, spconv2d, spgemm, wqgemm)}}
  %0 = shears.ukernel "conv3d" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_params(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{'gemm' takes 4 iparams, got 3}}
  %0 = shears.ukernel "gemm" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_flags(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 1 call for 3 inputs, got 2}}
  %0 = shears.ukernel "gemm" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 1] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_channel_panels(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 4 ask for channel panels, which only conv2d has}}
  %0 = shears.ukernel "gemm" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 4] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_planes(%x: tensor<4x16xf32>, %w: tensor<73xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 1024 ask for planes, which only spgemm on an input of rank 3 or more has}}
  %0 = shears.ukernel "spgemm" ins(%x, %w : tensor<4x16xf32>, tensor<73xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 1024] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_wqgemm_bits(%x: tensor<4x16xf32>, %q: tensor<2x128xi8>, %s: tensor<2x1x16xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{bits 2: wqgemm reads 4 or 1}}
  %0 = shears.ukernel "wqgemm" ins(%x, %q, %s : tensor<4x16xf32>, tensor<2x128xi8>, tensor<2x1x16xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 0, 2, 16] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_wqgemm_group(%x: tensor<4x16xf32>, %q: tensor<2x128xi8>, %s: tensor<2x4x16xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{group 5 of 4-bit weights over K = 16: int4 groups are even or K, binary's K}}
  %0 = shears.ukernel "wqgemm" ins(%x, %q, %s : tensor<4x16xf32>, tensor<2x128xi8>, tensor<2x4x16xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 0, 4, 5] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_maxpool_bias(%x: tensor<1x4x8x8xf32>, %b: tensor<4xf32>, %o: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{flags 1 ask for a bias, which maxpool2d has not}}
  %0 = shears.ukernel "maxpool2d" ins(%x, %b : tensor<1x4x8x8xf32>, tensor<4xf32>) outs(%o : tensor<1x4x4x4xf32>) iparams = [4, 8, 8, 4, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4, 4, 1, 0] fparams = [0.0, 0.0] -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @ukernel_out_stride_small(%x: memref<1x4x8x8xf32>, %o: memref<1x4x4x4xf32, strided<[100, 16, 4, 1]>>) {
  // expected-error @+1 {{out-stride 60 is below the 64 floats of an output image}}
  shears.ukernel "maxpool2d" ins(%x : memref<1x4x8x8xf32>) outs(%o : memref<1x4x4x4xf32, strided<[100, 16, 4, 1]>>) iparams = [4, 8, 8, 4, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4, 4, 0, 60] fparams = [0.0, 0.0]
  return
}

// -----

func.func @ukernel_out_stride_qconv(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %o: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{out-stride 512: 'qconv2d' writes dense outputs only (0)}}
  %0 = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%o : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 512] fparams = [0.0, 0.0, 0.25, 0.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @ukernel_mixed(%x: memref<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{mixes tensors and memrefs}}
  %0 = shears.ukernel "gemm" ins(%x, %w : memref<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @quantize_zero_point_type(%x: tensor<4xf32>, %s: tensor<f32>, %zp: tensor<i8>) -> tensor<4xui8> {
  // expected-error @+1 {{zero point must be of 'ui8', got 'tensor<i8>'}}
  %0 = shears.quantize %x, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

func.func @quantize_shape(%x: tensor<4xf32>, %s: tensor<f32>, %zp: tensor<ui8>) -> tensor<5xui8> {
  // expected-error @+1 {{float and integer sides differ in shape: 'tensor<4xf32>' and 'tensor<5xui8>'}}
  %0 = shears.quantize %x, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<5xui8>
  return %0 : tensor<5xui8>
}

// -----

func.func @dequantize_no_axis(%q: tensor<4x8xi8>, %s: tensor<4xf32>, %zp: tensor<4xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{a 1-D scale needs an axis}}
  %0 = shears.dequantize %q, %s, %zp : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @dequantize_axis_size(%q: tensor<4x8xi8>, %s: tensor<8xf32>, %zp: tensor<8xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{scale must be a 1-D tensor of 4 elements, got 'tensor<8xf32>'}}
  %0 = shears.dequantize %q, %s, %zp {axis = 0 : i64} : (tensor<4x8xi8>, tensor<8xf32>, tensor<8xi8>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @dequantize_axis_range(%q: tensor<4x8xi8>, %s: tensor<4xf32>, %zp: tensor<4xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = shears.dequantize %q, %s, %zp {axis = 2 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @dequantize_scalar_axis(%q: tensor<4x8xi8>, %s: tensor<f32>, %zp: tensor<i8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{axis is only for per-axis (1-D) scales}}
  %0 = shears.dequantize %q, %s, %zp {axis = 0 : i64} : (tensor<4x8xi8>, tensor<f32>, tensor<i8>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @ukernel_qgemm_fparams(%x: tensor<4x16xf32>, %w: tensor<1x4x32x4xi8>, %s: tensor<20xf32>, %b: tensor<20xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{'qgemm' takes 6 fparams, got 2}}
  %0 = shears.ukernel "qgemm" ins(%x, %w, %s, %b : tensor<4x16xf32>, tensor<1x4x32x4xi8>, tensor<20xf32>, tensor<20xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 1] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_qgemm_bias(%x: tensor<4x16xf32>, %w: tensor<1x4x32x4xi8>, %s: tensor<20xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 0 lack the bias, which 'qgemm' always has}}
  %0 = shears.ukernel "qgemm" ins(%x, %w, %s : tensor<4x16xf32>, tensor<1x4x32x4xi8>, tensor<20xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_gemm_u8(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 256 ask for u8 operands, which only qconv2d and qgemm take}}
  %0 = shears.ukernel "gemm" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 256] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_qgemm_u8_input(%x: tensor<4x16xf32>, %w: tensor<1x4x32x4xi8>, %s: tensor<20xf32>, %b: tensor<20xf32>, %o: tensor<4x20xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{flags 257 call for an input of ui8, got 'f32'}}
  %0 = shears.ukernel "qgemm" ins(%x, %w, %s, %b : tensor<4x16xf32>, tensor<1x4x32x4xi8>, tensor<20xf32>, tensor<20xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 257] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

func.func @ukernel_qgemm_f32_output(%x: tensor<4x16xf32>, %w: tensor<1x4x32x4xi8>, %s: tensor<20xf32>, %b: tensor<20xf32>, %o: tensor<4x20xui8>) -> tensor<4x20xui8> {
  // expected-error @+1 {{flags 1 call for an output of f32, got 'ui8'}}
  %0 = shears.ukernel "qgemm" ins(%x, %w, %s, %b : tensor<4x16xf32>, tensor<1x4x32x4xi8>, tensor<20xf32>, tensor<20xf32>) outs(%o : tensor<4x20xui8>) iparams = [16, 20, 2, 1] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<4x20xui8>
  return %0 : tensor<4x20xui8>
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.reduce_sum %x {axes = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x3xf32>) -> tensor<1x1xf32> {
  // expected-error @+2 {{axes must be distinct and ascending}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.reduce_sum %x {axes = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

func.func @expand_mismatch(%x: tensor<2x8xf32>) -> tensor<3x4x8xf32> {
  // expected-error @+1 {{input dimension 0 (2) neither is 1 nor matches the result's (4)}}
  %0 = shears.expand %x {source_dims = array<i64>} : tensor<2x8xf32> -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}

// -----

func.func @expand_sources(%x: tensor<1x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs one source dimension per dynamic result dimension (1), got 0 sources and 0 dims}}
  %0 = shears.expand %x {source_dims = array<i64>} : tensor<1x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x5x16xf32>, %s: tensor<5x16xf32>, %b: tensor<16xf32>) -> tensor<2x5x16xf32> {
  // expected-error @+2 {{scale must have the shape of the normalized dimensions, got 'tensor<5x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.layer_norm %x, %s, %b {axis = 2 : i64} : (tensor<2x5x16xf32>, tensor<5x16xf32>, tensor<16xf32>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

func.func @where_condition(%c: tensor<3xi1>, %x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{the condition 'tensor<3xi1>' does not broadcast with 'tensor<2x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.where %c, %x, %x : (tensor<3xi1>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @cast_shape(%x: tensor<2x4xf32>) -> tensor<4x2xf16> {
  // expected-error @+1 {{'shears.cast' op requires the same shape for all operands and results}}
  %0 = shears.cast %x : tensor<2x4xf32> to tensor<4x2xf16>
  return %0 : tensor<4x2xf16>
}

// -----

func.func @cast_unsigned(%x: tensor<2x4xf32>) -> tensor<2x4xui8> {
  // expected-error @+1 {{'shears.cast' op result #0 must be ranked tensor of floating-point or signless integer values, but got 'tensor<2x4xui8>'}}
  %0 = shears.cast %x : tensor<2x4xf32> to tensor<2x4xui8>
  return %0 : tensor<2x4xui8>
}

// -----

func.func @add_unsigned(%x: tensor<2x4xui8>) -> tensor<2x4xui8> {
  // expected-error @+1 {{'shears.add' op operand #0 must be ranked tensor of floating-point or signless integer values, but got 'tensor<2x4xui8>'}}
  %0 = shears.add %x, %x : (tensor<2x4xui8>, tensor<2x4xui8>) -> tensor<2x4xui8>
  return %0 : tensor<2x4xui8>
}

// -----

func.func @div_integers(%x: tensor<2x4xi32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'shears.div' op operand #0 must be ranked tensor of floating-point values, but got 'tensor<2x4xi32>'}}
  %0 = shears.div %x, %x : (tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<2x4xi32>
  return %0 : tensor<2x4xi32>
}

// -----

func.func @arg_max_axis(%x: tensor<2x4xf32>) -> tensor<2x4xi64> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.arg_max %x {axis = 2 : i64} : (tensor<2x4xf32>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}

// -----

func.func @resize_mode(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{mode must be nearest, linear or cubic, got 'area'}}
  %0 = shears.resize %x {mode = "area", scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @resize_dynamic(%x: tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32> {
  // expected-error @+1 {{resized dimension 0 must be static and non-empty}}
  %0 = shears.resize %x {scales = array<f32: 2.0, 1.0, 2.0, 2.0>} : (tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32>
  return %0 : tensor<?x3x8x8xf32>
}

// -----

func.func @conv_transpose_groups(%x: tensor<1x6x4x4xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+2 {{groups (4) must divide the filter's input channels (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv_transpose %x, %w {groups = 4 : i64} : (tensor<1x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_transpose_stride(%x: tensor<1x6x4x4xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+2 {{expects 2 strides and dilations in [1, 1048576] and 4 pads in [-1048576, 1048576]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = shears.conv_transpose %x, %w {strides = array<i64: 0, 1>} : (tensor<1x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// QUANT_OUTPUT_BOTH (16384): the f32 output, then its u8 copy.
func.func @ukernel_both_one_output(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %e: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{flags 16385 call for 2 outputs, got 1}}
  %0 = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 16385, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.5, 3.0] -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @ukernel_both_f32_copy(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %e: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{flags 16385 call for a second output of ui8, got 'f32'}}
  %0:2 = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e, %e : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 16385, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.5, 3.0] -> tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
  return %0#0 : tensor<1x4x8x8xf32>
}

// -----

func.func @ukernel_both_and_u8(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %e: tensor<1x4x8x8xf32>, %u: tensor<1x4x8x8xui8>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{flags 16897 ask for a u8 output and for both outputs}}
  %0:2 = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e, %u : tensor<1x4x8x8xf32>, tensor<1x4x8x8xui8>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 16897, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.5, 3.0] -> tensor<1x4x8x8xf32>, tensor<1x4x8x8xui8>
  return %0#0 : tensor<1x4x8x8xf32>
}
