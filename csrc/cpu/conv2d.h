// 2-d convolution on the CPU: the C++ twins of conv2d_forward, conv2d_backward_input and
// conv2d_backward_weight in minidl/backend/reference.py (same names, same argument order, with
// the sizes gathered into one Conv2dGeometry).
#pragma once

#include <cstdint>

namespace minidl::cpu {

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
int64_t conv2d_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation);

// y = conv2d(x, weight): y is written, never read.
template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g);

// grad_x = d(sum(grad_out * y)) / dx, with grad_out shaped like y and grad_x like x.
template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g);

// grad_weight = d(sum(grad_out * y)) / dweight, shaped like weight, summed over the batch.
template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g);

}  // namespace minidl::cpu
