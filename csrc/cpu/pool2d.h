// Max and average pooling over 2-d planes on the CPU: the C++ twins of max_pool2d_forward,
// max_pool2d_backward, avg_pool2d_forward and avg_pool2d_backward in minidl/backend/reference.py.
#pragma once

#include <cstdint>

#include "geometry.h"

namespace minidl::cpu {

// The sizes (Pool2dGeometry) and pool2d_output_size are in csrc/geometry.h, shared with the CUDA
// twins.
using minidl::pool2d_output_size;
using minidl::Pool2dGeometry;

// y = max over each window; indices = its position h*W + w in the (n, c) plane. Padding never
// wins; ties go to the first maximum in row-major window order; a NaN in the window makes y NaN
// (the first NaN's position is recorded). A window entirely in the padding gives -inf and -1.
// y and indices are written, never read.
template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s);

// grad_x = 0, then grad_x[plane][indices[o]] += grad_out[o] for every output o of each plane.
// Index -1 is skipped. Any other index outside 0..H*W-1 is skipped too, never written, and
// counted: the return value is the number of such bad indices (0 for indices from the forward).
template <typename T>
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x,
                            const Pool2dGeometry& s);

// y = sum over each window / divisor, where the divisor is the window's size clipped to the padded
// input (count_include_pad) or to the input itself (otherwise).
template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& s, bool count_include_pad);

// grad_x[window element] += grad_out[o] / divisor(o) for every output o; written, never read.
template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dGeometry& s,
                         bool count_include_pad);

}  // namespace minidl::cpu
