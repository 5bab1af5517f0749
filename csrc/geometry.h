// The sizes of a convolution and of a pooling, shared by the CPU kernels (csrc/cpu), the CUDA
// kernels (csrc/cuda) and both bindings, so that all of them read one definition.
#pragma once

#include <cstdint>

namespace minidl {

// Every size of one convolution. Shapes (all arrays C-contiguous):
//   x:      (batch, in_channels, in_h, in_w)
//   weight: (out_channels, in_channels / groups, kernel_h, kernel_w)
//   y:      (batch, out_channels, out_h, out_w)
// Output (n, o, r, c) reads input row r*stride_h - pad_h + i*dilation_h and column
// c*stride_w - pad_w + j*dilation_w for kernel offset (i, j); positions outside the input are
// zero padding. The caller has checked that the sizes are consistent (channels divisible by
// groups, strides and dilations >= 1, paddings >= 0, out_h and out_w >= 1 and matching).
struct Conv2dGeometry {
    int64_t batch, in_channels, in_h, in_w;
    int64_t out_channels, kernel_h, kernel_w;
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int64_t groups;
    int64_t out_h, out_w;
};

// Outputs along one axis: (size + 2*pad - dilation*(kernel-1) - 1) / stride + 1, which is < 1
// when the dilated kernel is larger than the padded input.
inline int64_t conv2d_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad,
                                  int64_t dilation) {
    const int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1;
    // Floor division (span may be negative: the kernel does not fit, and the result is < 1).
    return (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
}

// Everything the pooling kernels need to know about the arrays and the windows.
//   input x:  (N, C, H, W), C-contiguous
//   output y: (N, C, OH, OW), C-contiguous
// Output (oh, ow) looks at the input rows  oh*sh - ph + i*dh  (i = 0..kh-1) and the columns
// ow*sw - pw + j*dw  (j = 0..kw-1); rows and columns outside the input are padding.
// Average pooling has no dilation: dh = dw = 1.
struct Pool2dShape {
    int64_t N, C, H, W;  // input
    int64_t OH, OW;      // output
    int64_t kh, kw;      // kernel (window) size
    int64_t sh, sw;      // stride
    int64_t ph, pw;      // padding on each side
    int64_t dh, dw;      // dilation
};

// Outputs along one axis (may be < 1, which the caller must reject). floor or ceil of
// (size + 2*padding - dilation*(kernel-1) - 1) / stride, plus one; in ceil_mode a last window that
// would start in the right-hand padding is dropped (PyTorch's rule).
inline int64_t pool_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding,
                                int64_t dilation, bool ceil_mode) {
    const int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
    // Division rounding toward -inf (C++ rounds toward zero), so a negative span gives out <= 0.
    auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    if (!ceil_mode) return floor_div(span, stride) + 1;
    int64_t out = floor_div(span + stride - 1, stride) + 1;
    // PyTorch's rule: the last window must start inside the input or its left padding.
    if (out > 1 && (out - 1) * stride >= size + padding) --out;
    return out;
}

}  // namespace minidl
