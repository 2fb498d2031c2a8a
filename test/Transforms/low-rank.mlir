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

// ERR-ENERGY: energy must be in (0, 1], got 0
// ERR-ERROR: max-error must be in [0, 1), got 1
// ERR-PARAMS: params must be in (0, 1], got 1.5
// ERR-RANK: rank-by=rank needs a rank of at least 1, got 0
// ERR-ABOVE: error: {{.*}}shears-low-rank: rank 5 is above the rank of layer 'fc1' (4, its weight is [4, 12])
// ERR-BUDGET: error: shears-low-rank: params=0.1 cannot be met: at rank 1 the 2 layers considered need 38 of their 120 parameters
// ERR-DAMP: damp must be positive, got 0
// ERR-MACS: macs must be in (0, 1], got 0
// ERR-MACS-BUDGET: error: shears-low-rank: macs=0.1 cannot be met: at rank 1 the 2 layers considered need 214 of their 696 MACs per sample
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
  %wc = shears.constant dense<1.0> : tensor<4x2x3x3xf32> loc("conv.weight")
  %bc = shears.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> loc("conv.bias")
  %c = shears.conv2d %img, %wc, %bc {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32> loc("conv")
  return %h, %c : tensor<?x4xf32>, tensor<1x4x3x3xf32>
}
