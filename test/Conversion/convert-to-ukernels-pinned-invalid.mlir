// RUN: shears-opt %s --shears-convert-to-ukernels --split-input-file --verify-diagnostics

// A pinned kernel (shears.kernel) must name one a linear layer runs on.
func.func @unknown(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = shears.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  // expected-error @+1 {{shears.kernel must be "gemm" or "spgemm" on a shears.linear, got "csr"}}
  %y = shears.linear %x, %w {shears.kernel = "csr"} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

func.func @not_a_string(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = shears.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  // expected-error @+1 {{shears.kernel must be "gemm" or "spgemm" on a shears.linear, got 1 : i64}}
  %y = shears.linear %x, %w {shears.kernel = 1} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

func.func @not_a_linear(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  // expected-error @+1 {{shears.kernel must be "gemm" or "spgemm" on a shears.linear, got "gemm"}}
  %y = shears.relu %x {shears.kernel = "gemm"} : tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
