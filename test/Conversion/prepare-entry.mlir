// RUN: shears-opt %s --split-input-file --shears-prepare-entry --verify-diagnostics | FileCheck %s

// The entry is renamed for the C ABI; its names, dtypes and shapes go to the
// module's signature and leave the arguments.
// CHECK: module attributes {shears.signature = "{\22inputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22x\22,\22shape\22:[-1,4]},{\22dtype\22:\22i64\22,\22name\22:\22input_1\22,\22shape\22:[3]}],\22outputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22y\22,\22shape\22:[-1,4]}]}"}
// CHECK: func.func @shears_model(%arg0: tensor<?x4xf32>, %arg1: tensor<3xi64>) -> tensor<?x4xf32> attributes {llvm.emit_c_interface}
func.func @main(%x: tensor<?x4xf32> {shears.name = "x"}, %i: tensor<3xi64>) -> (tensor<?x4xf32> {shears.name = "y"}) {
  return %x : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{no entry function: expected `main` or a single public function}}
module {
  func.func private @a() {
    return
  }
}

// -----

// expected-error @+2 {{argument 0 has type 'tensor<2xcomplex<f32>>', which the runtime cannot pass}}
// expected-error @+1 {{result 0 has type 'tensor<2xcomplex<f32>>', which the runtime cannot pass}}
func.func @main(%x: tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>> {
  return %x : tensor<2xcomplex<f32>>
}

// -----

// expected-error @+1 {{the entry function returns nothing}}
func.func @main(%x: tensor<2xf32>) {
  return
}
