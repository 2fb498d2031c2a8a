//===- ConvShape.h - The sizes of a convolution kernel call ----*- C++ -*-===//
//
// The conv2d slots of include/shears-c/Kernels.h as fields, read once for
// every kernel that takes them (conv2d, dwconv2d, maxpool2d, qconv2d).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_KERNELS_CONVSHAPE_H
#define SHEARS_KERNELS_CONVSHAPE_H

#include "shears-c/Kernels.h"

namespace shears::uk {

struct ConvShape {
  int64_t n, c, h, w, cout, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow;
  /// Floats past a dense output between images (OUT_STRIDE): output element
  /// i of image n is at i + n * outSkip, i its dense index (the residual's).
  int64_t outSkip;

  /// From the first input's sizes and the kernel's iparams.
  void read(const int64_t *dims, const int64_t *ip) {
    n = dims[0];
    c = ip[SHEARS_UK_CONV_C];
    h = ip[SHEARS_UK_CONV_H];
    w = ip[SHEARS_UK_CONV_W];
    cout = ip[SHEARS_UK_CONV_COUT];
    kh = ip[SHEARS_UK_CONV_KH];
    kw = ip[SHEARS_UK_CONV_KW];
    sh = ip[SHEARS_UK_CONV_SH];
    sw = ip[SHEARS_UK_CONV_SW];
    pt = ip[SHEARS_UK_CONV_PT];
    pl = ip[SHEARS_UK_CONV_PL];
    dh = ip[SHEARS_UK_CONV_DH];
    dw = ip[SHEARS_UK_CONV_DW];
    oh = ip[SHEARS_UK_CONV_OH];
    ow = ip[SHEARS_UK_CONV_OW];
    int64_t stride = ip[SHEARS_UK_CONV_OUT_STRIDE];
    outSkip = stride ? stride - cout * oh * ow : 0;
  }
};

} // namespace shears::uk

#endif // SHEARS_KERNELS_CONVSHAPE_H
