// Low-rank factorization: a layer W [out, in] becomes W ~ U V, two layers of
// rank r, where r * (in + out) < in * out.
// fc1's weight has singular values 4, 3, 2, 1 (energies 16, 9, 4, 1 of 30);
// the convolution's filter is all ones: rank 1.
// RUN: shears-opt %s --shears-low-rank | FileCheck %s --check-prefix=ENERGY90
// RUN: shears-opt %s --shears-low-rank="energy=0.5" | FileCheck %s --check-prefix=ENERGY50
// RUN: shears-opt %s --shears-low-rank="rank-by=error max-error=0.6" | FileCheck %s --check-prefix=RANK2
// RUN: shears-opt %s --shears-low-rank="rank-by=rank rank=2" | FileCheck %s --check-prefix=RANK2
// RUN: shears-opt %s --shears-low-rank="rank-by=params params=0.5" | FileCheck %s --check-prefix=RANK2
// RUN: shears-opt %s --shears-low-rank="rank-by=params params=0.4" | FileCheck %s --check-prefix=ENERGY50
// RUN: shears-opt %s --shears-low-rank="energy=0.5 exclude=^conv$" | FileCheck %s --check-prefix=EXCLUDE
// A MAC budget weighs the convolution's parameters by its 9 output
// positions: fc1 (48 MACs) stays dense and the convolution (648) goes to
// rank 1 (198), 246 of 696.
// RUN: shears-opt %s --shears-low-rank="rank-by=macs macs=0.5" | FileCheck %s --check-prefix=ENERGY90
// RUN: shears-opt %s --shears-low-rank="rank-by=rank rank=4 require-saving=false" | FileCheck %s --check-prefix=FULL
// RUN: shears-opt %s --shears-low-rank="report=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// Tucker-2: the all-ones filter has rank 1 along its outputs and its inputs,
// so the convolution becomes a 1 x 1 to one channel at the input's 6 x 6
// positions, the 3 x 3 core with the original window, and a 1 x 1 to the
// four outputs with the bias; 2 + 9 + 4 = 15 parameters. fc1 is SVD's as
// before. Under a MAC budget the first 1 x 1 costs its 36 input positions.
// RUN: shears-opt %s --shears-low-rank="decomposition=tucker2" | FileCheck %s --check-prefix=TUCKER
// RUN: shears-opt %s --shears-low-rank="decomposition=tucker2 report=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TUCKER-REPORT
// RUN: shears-opt %s --shears-low-rank="decomposition=tucker2 rank-by=rank rank=2 require-saving=false" | FileCheck %s --check-prefix=TUCKER-RANK2
// RUN: shears-opt %s --shears-low-rank="decomposition=tucker2 rank-by=macs macs=0.3 report=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TUCKER-MACS

// Errors.
// RUN: not shears-opt %s --shears-low-rank="energy=0" 2>&1 | FileCheck %s --check-prefix=ERR-ENERGY
// RUN: not shears-opt %s --shears-low-rank="max-error=1" 2>&1 | FileCheck %s --check-prefix=ERR-ERROR
// RUN: not shears-opt %s --shears-low-rank="params=1.5" 2>&1 | FileCheck %s --check-prefix=ERR-PARAMS
// RUN: not shears-opt %s --shears-low-rank="rank-by=rank" 2>&1 | FileCheck %s --check-prefix=ERR-RANK
// RUN: not shears-opt %s --shears-low-rank="rank-by=rank rank=5 require-saving=false" 2>&1 | FileCheck %s --check-prefix=ERR-ABOVE
// RUN: not shears-opt %s --shears-low-rank="rank-by=params params=0.1" 2>&1 | FileCheck %s --check-prefix=ERR-BUDGET
// RUN: not shears-opt %s --shears-low-rank="damp=0" 2>&1 | FileCheck %s --check-prefix=ERR-DAMP
// RUN: not shears-opt %s --shears-low-rank="rank-by=macs macs=0" 2>&1 | FileCheck %s --check-prefix=ERR-MACS
// RUN: not shears-opt %s --shears-low-rank="rank-by=macs macs=0.1" 2>&1 | FileCheck %s --check-prefix=ERR-MACS-BUDGET
// RUN: not shears-opt %s --shears-low-rank="exclude=(" 2>&1 | FileCheck %s --check-prefix=ERR-REGEX
// RUN: not shears-opt %s --shears-low-rank="rank-by=svd" 2>&1 | FileCheck %s --check-prefix=ERR-BY
// RUN: not shears-opt %s --shears-low-rank="statistics=%t.missing.npz" 2>&1 | FileCheck %s --check-prefix=ERR-FILE
// RUN: not shears-opt %s --shears-low-rank="decomposition=tucker2 statistics=%t.missing.npz" 2>&1 | FileCheck %s --check-prefix=ERR-TUCKER-DATA
// RUN: not shears-opt %s --shears-low-rank="decomposition=tucker2 rank-by=rank rank=3 require-saving=false exclude=fc1" 2>&1 | FileCheck %s --check-prefix=ERR-TUCKER-ABOVE

// At energy 0.9 fc1 needs rank 3 (29 of 30), which saves nothing (3 * 16 =
// 48 = 4 * 12): it stays. The convolution becomes a 3x3 one with one filter
// and the original window, then a 1x1 one with the bias.
// ENERGY90-LABEL: func @layers
// ENERGY90: shears.linear %arg0, %{{.*}}, %{{.*}} : (tensor<?x12xf32>, tensor<4x12xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// ENERGY90: %[[V:.*]] = shears.constant dense_resource<conv.weight.v> : tensor<1x2x3x3xf32>
// ENERGY90: %[[U:.*]] = shears.constant dense_resource<conv.weight.u> : tensor<4x1x1x1xf32>
// ENERGY90: %[[R:.*]] = shears.conv2d %arg1, %[[V]] {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>) -> tensor<1x1x3x3xf32>
// ENERGY90: shears.conv2d %[[R]], %[[U]], %{{.*}} : (tensor<1x1x3x3xf32>, tensor<4x1x1x1xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>

// ENERGY50: %[[V:.*]] = shears.constant dense_resource<fc1.weight.v> : tensor<1x12xf32>
// ENERGY50: %[[U:.*]] = shears.constant dense_resource<fc1.weight.u> : tensor<4x1xf32>
// ENERGY50: %[[H:.*]] = shears.linear %arg0, %[[V]] : (tensor<?x12xf32>, tensor<1x12xf32>) -> tensor<?x1xf32>
// ENERGY50: shears.linear %[[H]], %[[U]], %{{.*}} : (tensor<?x1xf32>, tensor<4x1xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// ENERGY50: tensor<1x2x3x3xf32>

// RANK2: shears.linear %arg0, %{{.*}} : (tensor<?x12xf32>, tensor<2x12xf32>) -> tensor<?x2xf32>
// RANK2: shears.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// RANK2: tensor<1x2x3x3xf32>

// EXCLUDE: tensor<1x12xf32>
// EXCLUDE: shears.conv2d %arg1, %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>

// At rank 4 the convolution (rank 1) gets three zero components.
// FULL: tensor<4x12xf32>) -> tensor<?x4xf32>
// FULL: tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// FULL: tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>

// REPORT: remark: {{.*}}layer 'fc1' [4, 12] rank 3 of 4, 96.67% of the energy, 48 -> 48 parameters: kept dense (no saving)
// REPORT: remark: {{.*}}layer 'conv' [4, 18] rank 1 of 4, 100.00% of the energy, 72 -> 22 parameters

// TUCKER-LABEL: func @layers
// TUCKER: shears.linear %arg0, %{{.*}}, %{{.*}} : (tensor<?x12xf32>, tensor<4x12xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// TUCKER: %[[V:.*]] = shears.constant dense_resource<conv.weight.v> : tensor<1x2x1x1xf32>
// TUCKER: %[[R:.*]] = shears.conv2d %arg1, %[[V]] : (tensor<1x2x6x6xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x6x6xf32>
// TUCKER: %[[CORE:.*]] = shears.constant dense_resource<conv.weight.core> : tensor<1x1x3x3xf32>
// TUCKER: %[[M:.*]] = shears.conv2d %[[R]], %[[CORE]] {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
// TUCKER: %[[U:.*]] = shears.constant dense_resource<conv.weight.u> : tensor<4x1x1x1xf32>
// TUCKER: shears.conv2d %[[M]], %[[U]], %{{.*}} : (tensor<1x1x3x3xf32>, tensor<4x1x1x1xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>

// TUCKER-REPORT: remark: {{.*}}layer 'fc1' [4, 12] rank 3 of 4, 96.67% of the energy, 48 -> 48 parameters: kept dense (no saving)
// TUCKER-REPORT: remark: {{.*}}layer 'conv' [4, 2, 9] ranks 1, 1 of 4, 2 (outputs, inputs), at least 100.00% of the energy, 72 -> 15 parameters

// At rank 2 the input mode is full (two channels): its 1 x 1 convolution,
// a rotation, is folded into the core. The output mode pads a zero
// component.
// TUCKER-RANK2: shears.conv2d %arg1, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x3x3xf32>
// TUCKER-RANK2: shears.conv2d %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x2x3x3xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>

// MACs: fc1 48 + the convolution 648 = 696; 0.3 keeps 208. The convolution
// at ranks 1, 1 costs 2 * 36 + (9 + 4) * 9 = 189, fc1 at rank 1 16.
// TUCKER-MACS: remark: {{.*}}layer 'fc1' [4, 12] rank 1 of 4, 53.33% of the energy, 48 -> 16 parameters
// TUCKER-MACS: remark: {{.*}}layer 'conv' [4, 2, 9] ranks 1, 1 of 4, 2 (outputs, inputs)

// ERR-ENERGY: energy must be in (0, 1], got 0
// ERR-ERROR: max-error must be in [0, 1), got 1
// ERR-PARAMS: params must be in (0, 1], got 1.5
// ERR-RANK: rank-by=rank needs a rank of at least 1, got 0
// ERR-ABOVE: error: {{.*}}shears-low-rank: rank 5 is above the rank of layer 'fc1' (4, its weight is [4, 12])
// ERR-BUDGET: error: shears-low-rank: params=0.1 cannot be met: at rank 1 the 2 layers considered need 38 of their 120 parameters
// ERR-DAMP: damp must be positive, got 0
// ERR-MACS: macs must be in (0, 1], got 0
// ERR-MACS-BUDGET: error: shears-low-rank: macs=0.1 cannot be met: at rank 1 the 2 layers considered need 214 of their 696 MACs per sample
// ERR-TUCKER-DATA: decomposition=tucker2 is not data-aware: give no statistics
// ERR-TUCKER-ABOVE: error: {{.*}}shears-low-rank: rank 3 is above the rank of layer 'conv' along its 2 input channels (2)
// ERR-REGEX: exclude '(' is not a valid regex
// ERR-BY: for the --rank-by option: Cannot find option named 'svd'!
// ERR-FILE: error: shears-low-rank: cannot open '{{.*}}missing.npz'

func.func @layers(%x: tensor<?x12xf32>, %img: tensor<1x2x6x6xf32>) -> (tensor<?x4xf32>, tensor<1x4x3x3xf32>) {
  %w1 = shears.constant dense<[[4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x12xf32> loc("fc1.weight")
  %b1 = shears.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> loc("fc1.bias")
  %h = shears.linear %x, %w1, %b1 : (tensor<?x12xf32>, tensor<4x12xf32>, tensor<4xf32>) -> tensor<?x4xf32> loc("fc1")
  %wc = shears.constant dense<1.0> : tensor<4x2x3x3xf32>
  %bc = shears.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %c = shears.conv2d %img, %wc, %bc {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32> loc("conv")
  return %h, %c : tensor<?x4xf32>, tensor<1x4x3x3xf32>
}
