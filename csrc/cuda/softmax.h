// Softmax and log-softmax on the GPU, forward and backward: the CUDA twins of csrc/cpu/softmax.h
// (same names, same arguments, plus the stream they are queued on).
#pragma once

#include <cstdint>

#include "cuda/stream.h"

namespace minidl::cuda {

// Row by row over C-contiguous (rows, cols) device arrays; outputs are written, never read, and
// do not overlap the inputs. The numerics are the CPU's: the row maximum is subtracted before
// exp, a NaN anywhere in a row makes the whole row NaN, a row of all -inf gives NaN.

// y[r, :] = exp(x[r, :] - m) / sum(exp(x[r, :] - m)),  m = max(x[r, :])
template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, Stream stream);

// grad_x[r, :] = y[r, :] * (grad_out[r, :] - sum(grad_out[r, :] * y[r, :]))
template <typename T>
void softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols,
                      Stream stream);

// y[r, :] = (x[r, :] - m) - log(sum(exp(x[r, :] - m))),  m = max(x[r, :])
template <typename T>
void log_softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, Stream stream);

// grad_x[r, :] = grad_out[r, :] - exp(y[r, :]) * sum(grad_out[r, :])
template <typename T>
void log_softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols,
                          Stream stream);

}  // namespace minidl::cuda
