// 2-d convolution on the CPU: the C++ twins of conv2d_forward, conv2d_backward_input and
// conv2d_backward_weight in minidl/backend/reference.py (same names, same argument order, with
// the sizes gathered into one Conv2dGeometry).
#pragma once

#include <cstdint>

#include "geometry.h"

namespace minidl::cpu {

// The sizes (Conv2dGeometry) and conv2d_output_size are in csrc/geometry.h, shared with the
// CUDA twins.
using minidl::conv2d_output_size;
using minidl::Conv2dGeometry;

// y = conv2d(x, weight): y is written, never read.
template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g);

// grad_x = d(sum(grad_out * y)) / dx, with grad_out shaped like y and grad_x like x.
template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g);

// grad_weight = d(sum(grad_out * y)) / dweight, shaped like weight, summed over the batch.
template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight, const Conv2dGeometry& g);

}  // namespace minidl::cpu
