// Max and average pooling on the GPU: the CUDA twins of csrc/cpu/pool2d.h (same names, same
// arguments, plus the stream they are queued on). Sizes: minidl::Pool2dGeometry in csrc/geometry.h.
#pragma once

#include <cstdint>

#include "cuda/stream.h"
#include "geometry.h"

namespace minidl::cuda {

using minidl::Pool2dGeometry;

// y = max over each window; indices = its position h*W + w in the (n, c) plane. Padding never
// wins; ties go to the first maximum in row-major window order; a NaN in the window makes y NaN
// (the first NaN's position is recorded). A window entirely in the padding gives -inf and -1.
template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s, Stream stream);

// grad_x = 0, then grad_x[plane][indices[o]] += grad_out[o] for every output o of each plane.
// Index -1 is skipped; any other index outside 0..H*W-1 is skipped too, never written, and
// counted: returns the number of such bad indices. Reading that count back waits for the stream.
template <typename T>
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x,
                            const Pool2dGeometry& s, Stream stream);

// y = sum over each window / divisor (the window clipped to the padded input when
// count_include_pad, else to the input).
template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& s, bool count_include_pad,
                        Stream stream);

// grad_x[window element] += grad_out[o] / divisor(o) for every output o; written, never read.
template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dGeometry& s,
                         bool count_include_pad, Stream stream);

}  // namespace minidl::cuda
