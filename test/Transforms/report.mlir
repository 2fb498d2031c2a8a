// RUN: shears-opt %s --shears-report="json=%t.json onnx-bytes=1234" -o /dev/null | FileCheck %s
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: shears-opt %s --shears-report="table=false json=-" -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: shears-opt %s --shears-summary -o /dev/null | FileCheck %s --check-prefix=SUMMARY
// RUN: not shears-opt %s --shears-report="json=%t/no/such/dir/r.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ERROR

// fc1: 4x2 weight with 2 zeros and a 4-element bias with 1 zero; a 3x3
// depthwise conv on 3 channels (groups=3) at 5x5 outputs; fc2 still behind
// a mask counts as dense.
func.func @main(%x: tensor<?x2xf32>, %img: tensor<?x3x7x7xf32>) -> (tensor<?x3xf32>, tensor<?x3x5x5xf32>) {
  %w1 = shears.constant dense<[[1.0, 0.0], [0.5, 0.1], [3.0, 0.0], [-0.2, 4.0]]> : tensor<4x2xf32> loc("fc1.weight")
  %b1 = shears.constant dense<[0.0, 1.0, 2.0, 3.0]> : tensor<4xf32>
  %h = shears.linear %x, %w1, %b1 : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<?x4xf32> loc("fc1")
  %r = shears.relu %h : tensor<?x4xf32>
  %w2 = shears.constant dense<1.0> : tensor<3x4xf32> loc("fc2.weight")
  %m2 = shears.constant dense<[[true], [false], [true]]> : tensor<3x1xi1>
  %w2m = shears.mask %w2, %m2 : tensor<3x4xf32>, tensor<3x1xi1>
  %y = shears.linear %r, %w2m : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32> loc("fc2")
  %k = shears.constant dense<0.5> : tensor<3x1x3x3xf32>
  %c = shears.conv2d %img, %k {groups = 3 : i64} : (tensor<?x3x7x7xf32>, tensor<3x1x3x3xf32>) -> tensor<?x3x5x5xf32> loc("/features/dw/Conv")
  return %y, %c : tensor<?x3xf32>, tensor<?x3x5x5xf32>
}

// CHECK:      layer              op             weight       params     nonzero  sparsity   MACs/sample    out     in  format
// CHECK-NEXT: fc1                shears.linear  4x2              12           9     25.0%             8      4      2  dense
// CHECK-NEXT: fc2                shears.linear  3x4              12          12      0.0%            12      3      4  dense
// CHECK-NEXT: /features/dw/Conv  shears.conv2d  3x1x3x3          27          27      0.0%           675      3      3  dense
// CHECK-NEXT: total: 3 layers, 51 parameters (0.00 MB as f32), 48 nonzero (5.9% sparse), 695 MACs/sample, ONNX file 1234 bytes
// CHECK-NEXT: ops: linear=2 relu=1 mask=1 conv2d=1

// JSON:      "layers": [
// JSON-NEXT:   {
// JSON-NEXT:     "name": "fc1",
// JSON-NEXT:     "op": "shears.linear",
// JSON-NEXT:     "weight_shape": [
// JSON-NEXT:       4,
// JSON-NEXT:       2
// JSON-NEXT:     ],
// JSON-NEXT:     "parameters": 12,
// JSON-NEXT:     "nonzero_parameters": 9,
// JSON-NEXT:     "sparsity": 0.25,
// JSON-NEXT:     "macs_per_sample": 8,
// JSON-NEXT:     "output_channels": 4,
// JSON-NEXT:     "input_channels": 2,
// JSON-NEXT:     "format": "dense"
// JSON-NEXT:   },
// JSON:          "name": "/features/dw/Conv",
// JSON:          "macs_per_sample": 675,
// JSON-NEXT:     "output_channels": 3,
// JSON-NEXT:     "input_channels": 3,
// JSON-NEXT:     "format": "dense"
// JSON:      "ops": {
// JSON-NEXT:   "linear": 2,
// JSON-NEXT:   "relu": 1,
// JSON-NEXT:   "mask": 1,
// JSON-NEXT:   "conv2d": 1
// JSON-NEXT: },
// JSON-NEXT: "totals": {
// JSON-NEXT:   "layers": 3,
// JSON-NEXT:   "parameters": 51,
// JSON-NEXT:   "nonzero_parameters": 48,
// JSON-NEXT:   "sparsity": 0.058823529411764
// JSON-NEXT:   "macs_per_sample": 695,
// JSON-NEXT:   "onnx_bytes": {{1234|null}}
// JSON-NEXT: }

// SUMMARY: fc1                shears.linear  4x2              12           9     25.0%
// SUMMARY: total: 3 layers, 51 parameters

// ERROR: error: shears-report: cannot write '{{.*}}r.json'
