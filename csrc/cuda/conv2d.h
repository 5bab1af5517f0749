// 2-d convolution on the GPU: the CUDA twins of csrc/cpu/conv2d.h (same names, same arguments,
// plus the stream they are queued on). Sizes: minidl::Conv2dGeometry in csrc/geometry.h.
#pragma once

#include "cuda/stream.h"
#include "geometry.h"

namespace minidl::cuda {

using minidl::Conv2dGeometry;

// y = conv2d(x, weight): x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw),
// y (N, C_out, out_h, out_w); device pointers, C-contiguous; y is written, never read.
template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g, Stream stream);

// grad_x = d(sum(grad_out * y)) / dx, with grad_out shaped like y and grad_x like x.
template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g,
                           Stream stream);

// grad_weight = d(sum(grad_out * y)) / dweight, shaped like weight, summed over the batch.
template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight, const Conv2dGeometry& g,
                            Stream stream);

}  // namespace minidl::cuda
