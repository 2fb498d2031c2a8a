// Graph inputs, outputs, initializers and nodes take their names from the
// function's shears.name attributes and the ops' name locations; everything
// else gets a unique generated name. The dump prints each initializer before
// the first node that reads it.
// RUN: shears-translate --export-onnx %s -o %t.onnx
// RUN: %python -c 'import onnx, sys; from onnx import numpy_helper as nh; \
// RUN:   m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); g = m.graph; \
// RUN:   T = onnx.TensorProto.DataType.Name; \
// RUN:   D = lambda v: "x".join(d.dim_param or str(d.dim_value) for d in v.type.tensor_type.shape.dim); \
// RUN:   V = lambda k, v: print(k, v.name, T(v.type.tensor_type.elem_type), D(v)); \
// RUN:   print("graph", g.name); [V("input", v) for v in g.input]; [V("output", v) for v in g.output]; \
// RUN:   I = {t.name: t for t in g.initializer}; \
// RUN:   P = lambda t: print("init", t.name, T(t.data_type), list(t.dims), nh.to_array(t).ravel().tolist()); \
// RUN:   [([P(I.pop(i)) for i in n.input if i in I], print("node", n.op_type, n.name, list(n.input), "->", list(n.output))) for n in g.node]; \
// RUN:   print("unused", sorted(I))' %t.onnx | FileCheck %s

// Only `main` is exported when there are several functions.
func.func @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// CHECK: graph main
// CHECK-NEXT: input x FLOAT Nx5xdim_2
// CHECK-NEXT: input input_1 INT32 3
// CHECK-NEXT: input input_2 BOOL 2x2
// CHECK-NEXT: output x FLOAT Nx5xdim_2
// CHECK-NEXT: output y FLOAT Nx5xdim_2
// CHECK-NEXT: output output_2 FLOAT Nx5xdim_2
// CHECK-NEXT: output again FLOAT Nx5xdim_2
// CHECK-NEXT: output output_4 BOOL 3x2
// CHECK-NEXT: output output_5 DOUBLE 2
// CHECK-NEXT: output output_6 INT64 3x2
// CHECK-NEXT: output output_7 FLOAT16 3
// CHECK-NEXT: output output_8 BOOL 3x2
func.func @main(%x: tensor<?x5x?xf32> {shears.name = "x"}, %idx: tensor<3xi32>,
                %mask: tensor<2x2xi1>)
    -> (tensor<?x5x?xf32> {shears.name = "x"}, tensor<?x5x?xf32> {shears.name = "y"},
        tensor<?x5x?xf32>, tensor<?x5x?xf32> {shears.name = "again"},
        tensor<3x2xi1>, tensor<2xf64>, tensor<3x2xi64>, tensor<3xf16>, tensor<3x2xi1>) {
  // Initializers are named after the location (or the resource), else const_<n>.
  // CHECK-NEXT: init w FLOAT [] [2.0]
  // CHECK-NEXT: node Mul scale ['x', 'w'] -> ['scale']
  // CHECK-NEXT: init w_0 FLOAT [] [3.0]
  // CHECK-NEXT: node Mul scale_0 ['scale', 'w_0'] -> ['scale_0']
  %w1 = shears.constant dense<2.0> : tensor<f32> loc("w"("model.onnx":1:1))
  %w2 = shears.constant dense<3.0> : tensor<f32> loc("w")
  %s1 = shears.mul %x, %w1 : (tensor<?x5x?xf32>, tensor<f32>) -> tensor<?x5x?xf32> loc("scale")
  %s2 = shears.mul %s1, %w2 : (tensor<?x5x?xf32>, tensor<f32>) -> tensor<?x5x?xf32> loc("scale"("model.onnx":2:1))
  // CHECK-NEXT: init blob FLOAT [] [0.5]
  // CHECK-NEXT: node Add fused ['scale_0', 'blob'] -> ['y']
  %b = shears.constant dense_resource<blob> : tensor<f32>
  %y = shears.add %s2, %b : (tensor<?x5x?xf32>, tensor<f32>) -> tensor<?x5x?xf32> loc(fused["fused", "other"])
  // CHECK-NEXT: init const_0 BOOL [3, 2] [True, False, False, False, True, True]
  // CHECK-NEXT: node Gather gather_0 ['const_0', 'input_1'] -> ['output_4']
  %bools = shears.constant dense<[[true, false], [false, false], [true, true]]> : tensor<3x2xi1>
  %g = shears.gather %bools, %idx : (tensor<3x2xi1>, tensor<3xi32>) -> tensor<3x2xi1>
  // CHECK-NEXT: init const_1 INT32 [3] [1, 0, 1]
  // CHECK-NEXT: node Gather gather_1 ['input_2', 'const_1'] -> ['output_8']
  %ids = shears.constant dense<[1, 0, 1]> : tensor<3xi32>
  %g2 = shears.gather %mask, %ids : (tensor<2x2xi1>, tensor<3xi32>) -> tensor<3x2xi1>
  // Outputs that no node of their own writes go through Identity nodes.
  // CHECK-NEXT: node Identity Identity_0 ['x'] -> ['output_2']
  // CHECK-NEXT: node Identity Identity_1 ['y'] -> ['again']
  // CHECK-NEXT: init const_2 DOUBLE [2] [1.5, -2.5]
  // CHECK-NEXT: node Identity Identity_2 ['const_2'] -> ['output_5']
  // CHECK-NEXT: init const_3 INT64 [3, 2] [7, 7, 7, 7, 7, 7]
  // CHECK-NEXT: node Identity Identity_3 ['const_3'] -> ['output_6']
  // CHECK-NEXT: init const_4 FLOAT16 [3] [1.0, -0.5, 2.0]
  // CHECK-NEXT: node Identity Identity_4 ['const_4'] -> ['output_7']
  // CHECK-NEXT: unused []
  %d = shears.constant dense<[1.5, -2.5]> : tensor<2xf64>
  %i = shears.constant dense<7> : tensor<3x2xi64>
  %h = shears.constant dense<[1.0, -0.5, 2.0]> : tensor<3xf16>
  %unused = shears.constant dense<1.0> : tensor<4xf32>
  return %x, %y, %x, %y, %g, %d, %i, %h, %g2 : tensor<?x5x?xf32>, tensor<?x5x?xf32>, tensor<?x5x?xf32>, tensor<?x5x?xf32>, tensor<3x2xi1>, tensor<2xf64>, tensor<3x2xi64>, tensor<3xf16>, tensor<3x2xi1>
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000003F"
    }
  }
#-}
