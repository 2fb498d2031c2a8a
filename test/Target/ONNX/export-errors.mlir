// What ONNX cannot express is an error located at its op, and no output is
// written: no file, nothing on stdout.
// RUN: rm -rf %t && split-file --leading-lines %s %t
// RUN: not shears-translate --export-onnx %t/call.mlir -o %t/call.onnx 2>&1 | FileCheck %t/call.mlir && not test -e %t/call.onnx
// RUN: not shears-translate --export-onnx %t/arith.mlir -o %t/arith.onnx 2>&1 | FileCheck %t/arith.mlir && not test -e %t/arith.onnx
// RUN: not shears-translate --export-onnx %t/f8-constant.mlir -o %t/f8-constant.onnx 2>&1 | FileCheck %t/f8-constant.mlir && not test -e %t/f8-constant.onnx
// RUN: not shears-translate --export-onnx %t/f8-input.mlir -o %t/f8-input.onnx 2>&1 | FileCheck %t/f8-input.mlir && not test -e %t/f8-input.onnx
// RUN: not shears-translate --export-onnx %t/i4-output.mlir -o %t/i4-output.onnx 2>&1 | FileCheck %t/i4-output.mlir && not test -e %t/i4-output.onnx
// RUN: not shears-translate --export-onnx %t/no-blob.mlir -o %t/no-blob.onnx 2>&1 | FileCheck %t/no-blob.mlir && not test -e %t/no-blob.onnx
// RUN: not shears-translate --export-onnx %t/short-blob.mlir -o %t/short-blob.onnx 2>&1 | FileCheck %t/short-blob.mlir && not test -e %t/short-blob.onnx
// RUN: not shears-translate --export-onnx %t/bf16-conv.mlir -o %t/bf16-conv.onnx 2>&1 | FileCheck %t/bf16-conv.mlir && not test -e %t/bf16-conv.onnx
// RUN: not shears-translate --export-onnx %t/bf16-conv.mlir 2>/dev/null | count 0
// RUN: not shears-translate --export-onnx %t/zero-reshape.mlir -o %t/zero-reshape.onnx 2>&1 | FileCheck %t/zero-reshape.mlir && not test -e %t/zero-reshape.onnx
// RUN: not shears-translate --export-onnx %t/duplicate-input.mlir -o %t/duplicate-input.onnx 2>&1 | FileCheck %t/duplicate-input.mlir && not test -e %t/duplicate-input.onnx
// RUN: not shears-translate --export-onnx %t/duplicate-output.mlir -o %t/duplicate-output.onnx 2>&1 | FileCheck %t/duplicate-output.mlir && not test -e %t/duplicate-output.onnx
// RUN: not shears-translate --export-onnx %t/no-main.mlir -o %t/no-main.onnx 2>&1 | FileCheck %t/no-main.mlir && not test -e %t/no-main.onnx
// RUN: not shears-translate --export-onnx %t/declaration.mlir -o %t/declaration.onnx 2>&1 | FileCheck %t/declaration.mlir && not test -e %t/declaration.onnx

//--- call.mlir
func.func private @external(tensor<2xf32>) -> tensor<2xf32>
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %r = shears.relu %x : tensor<2xf32>
  // CHECK: call.mlir:[[# @LINE + 1]]:8: error: cannot export op 'func.call' to ONNX
  %0 = func.call @external(%r) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

//--- arith.mlir
// The translator knows only the shears and func dialects.
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: arith.mlir:[[# @LINE + 1]]:8: error: Dialect `arith' not found
  %0 = arith.addf %x, %x : tensor<2xf32>
  return %0 : tensor<2xf32>
}

//--- f8-constant.mlir
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: f8-constant.mlir:[[# @LINE + 1]]:8: error: cannot export 'shears.constant' with element type 'f8E4M3FN' to ONNX
  %c = shears.constant dense<1.0> : tensor<2xf8E4M3FN>
  %r = shears.relu %c : tensor<2xf8E4M3FN>
  return %x : tensor<2xf32>
}

//--- f8-input.mlir
// CHECK: f8-input.mlir:[[# @LINE + 1]]:17: error: cannot export graph input 'input_0' of type 'tensor<2xf8E5M2>' to ONNX
func.func @main(%x: tensor<2xf8E5M2>) -> tensor<2xf8E5M2> {
  return %x : tensor<2xf8E5M2>
}

//--- i4-output.mlir
func.func @main(%i: tensor<3xi64>) -> tensor<3xi4> {
  %c = shears.constant dense<1> : tensor<2xi4>
  %g = shears.gather %c, %i : (tensor<2xi4>, tensor<3xi64>) -> tensor<3xi4>
  // CHECK: i4-output.mlir:[[# @LINE + 1]]:3: error: cannot export graph output 'output_0' of type 'tensor<3xi4>' to ONNX
  return %g : tensor<3xi4>
}

//--- no-blob.mlir
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: no-blob.mlir:[[# @LINE + 1]]:8: error: resource 'missing' has no data
  %c = shears.constant dense_resource<missing> : tensor<2xf32>
  %a = shears.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %a : tensor<2xf32>
}

//--- short-blob.mlir
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: short-blob.mlir:[[# @LINE + 1]]:8: error: constant data has 4 bytes, expected 8
  %c = shears.constant dense_resource<short> : tensor<2xf32>
  %a = shears.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %a : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F"
    }
  }
#-}

//--- bf16-conv.mlir
// ONNX's own checks catch the rest, such as a type an op does not take in
// opset 13; the error is on the op whose node fails.
func.func @main(%x: tensor<1x1x4x4xbf16>, %w: tensor<1x1x3x3xbf16>) -> tensor<1x1x2x2xbf16> {
  // CHECK: bf16-conv.mlir:[[# @LINE + 1]]:8: error: exported ONNX model is invalid: {{.*}}node name: conv2d_0{{.*}}unsupported type: tensor(bfloat16)
  %c = shears.conv2d %x, %w : (tensor<1x1x4x4xbf16>, tensor<1x1x3x3xbf16>) -> tensor<1x1x2x2xbf16>
  return %c : tensor<1x1x2x2xbf16>
}

//--- zero-reshape.mlir
func.func @main(%x: tensor<0x4xf32>) -> tensor<4x0xf32> {
  // CHECK: zero-reshape.mlir:[[# @LINE + 1]]:8: error: cannot export a reshape to a zero-sized dimension in ONNX opset 13
  %r = shears.reshape %x : (tensor<0x4xf32>) -> tensor<4x0xf32>
  return %r : tensor<4x0xf32>
}

//--- duplicate-input.mlir
// CHECK: duplicate-input.mlir:[[# @LINE + 1]]:56: error: duplicate ONNX graph input name 'a'
func.func @main(%x: tensor<2xf32> {shears.name = "a"}, %y: tensor<2xf32> {shears.name = "a"}) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

//--- duplicate-output.mlir
func.func @main(%x: tensor<2xf32> {shears.name = "a"}, %y: tensor<2xf32>) -> (tensor<2xf32> {shears.name = "a"}) {
  %s = shears.add %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  // CHECK: duplicate-output.mlir:[[# @LINE + 1]]:3: error: duplicate ONNX graph output name 'a'
  return %s : tensor<2xf32>
}

//--- no-main.mlir
// CHECK: no-main.mlir:[[# @LINE + 1]]:1: error: ONNX export expects one function with a body, or one named 'main'
module {
  func.func @a(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
  func.func @b(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

//--- declaration.mlir
// CHECK: declaration.mlir:[[# @LINE + 1]]:1: error: ONNX export expects one function with a body, or one named 'main'
module {
  func.func private @main(tensor<2xf32>) -> tensor<2xf32>
}
