// The sizes of a convolution and of a pooling, shared by the CPU kernels (csrc/cpu), the CUDA
// kernels (csrc/cuda) and both bindings, so that all of them read one definition. The names are
// those of the Python side (minidl/backend/geometry.py): conv2d_output_size, pool2d_output_size,
// and the words of the Python API (batch, channels, kernel, stride, padding, dilation) for the
// fields.
#pragma once

#include <cstdint>

namespace minidl {

// Every size of one convolution. Shapes (all arrays C-contiguous):
//   x:      (batch, in_channels, in_h, in_w)
//   weight: (out_channels, in_channels / groups, kernel_h, kernel_w)
//   y:      (batch, out_channels, out_h, out_w)
// Output (n, o, r, c) reads input row r*stride_h - padding_h + i*dilation_h and column
// c*stride_w - padding_w + j*dilation_w for kernel offset (i, j); positions outside the input are
// zero padding. The caller has checked that the sizes are consistent (channels divisible by
// groups, strides and dilations >= 1, paddings >= 0, out_h and out_w >= 1 and matching).
struct Conv2dGeometry {
    int64_t batch, in_channels, in_h, in_w;
    int64_t out_channels, out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t padding_h, padding_w;
    int64_t dilation_h, dilation_w;
    int64_t groups;
};

// Every size of one pooling (max or average), with the same field words as Conv2dGeometry:
//   x: (batch, channels, in_h, in_w),  y: (batch, channels, out_h, out_w),  C-contiguous.
// Output (r, c) looks at input rows r*stride_h - padding_h + i*dilation_h (i < kernel_h) and
// columns c*stride_w - padding_w + j*dilation_w (j < kernel_w); positions outside the input are
// padding. Average pooling has no dilation: dilation_h = dilation_w = 1.
struct Pool2dGeometry {
    int64_t batch, channels, in_h, in_w;
    int64_t out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t padding_h, padding_w;
    int64_t dilation_h, dilation_w;
};

// a / b rounded toward -inf, for b > 0 (C++'s / rounds toward zero): a kernel larger than the
// padded input gives a negative span, and the output size must then come out below 1.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Outputs along one axis: floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1,
// which is < 1 when the dilated kernel is larger than the padded input (the caller rejects it).
inline int64_t conv2d_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding,
                                  int64_t dilation) {
    return floor_div(size + 2 * padding - dilation * (kernel - 1) - 1, stride) + 1;
}

// As conv2d_output_size, with ceil instead of floor in ceil_mode; a last ceil_mode window that
// would start in the right-hand padding is dropped (PyTorch's rule). May be < 1.
inline int64_t pool2d_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding,
                                  int64_t dilation, bool ceil_mode) {
    const int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
    if (!ceil_mode) return floor_div(span, stride) + 1;
    int64_t out = floor_div(span + stride - 1, stride) + 1;
    // The last window must start inside the input or its left padding.
    if (out > 1 && (out - 1) * stride >= size + padding) --out;
    return out;
}

}  // namespace minidl
