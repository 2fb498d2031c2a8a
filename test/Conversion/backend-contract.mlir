// RUN: shears-opt %s --shears-verify-backend-contract --split-input-file --verify-diagnostics

func.func @ok(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %x, %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @not_lowered(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'shears.relu' is not part of the backend contract (linalg, tensor, arith, math, func, shears.ukernel): it was not lowered}}
  %0 = shears.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
