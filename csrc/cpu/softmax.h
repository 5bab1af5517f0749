// Softmax and log-softmax on the CPU, forward and backward: the C++ twins of
// minidl.backend.reference.softmax_forward (and the three functions next to it).
#pragma once

#include <cstdint>

namespace minidl::cpu {

// Every function works row by row on C-contiguous (rows, cols) arrays: each row is one
// distribution over its `cols` entries. Outputs are written, never read (they may hold garbage on
// entry), and must not overlap the inputs. The caller has checked the shapes; these trust them.
// rows == 0 or cols == 0 is allowed and writes nothing.
//
// Numerics, the same as the reference:
//   - the row maximum is subtracted before exp, so no finite input overflows (logits of 1e4 are
//   fine);
//   - a NaN anywhere in a row makes the whole output row NaN (it reaches the row's sum);
//   - a row of all -inf gives NaN (-inf - -inf), as PyTorch does; so does a row holding +inf.

// y[r, :] = exp(x[r, :] - m) / sum(exp(x[r, :] - m)),  m = max(x[r, :])
template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols);

// grad_x[r, :] = y[r, :] * (grad_out[r, :] - sum(grad_out[r, :] * y[r, :])),  y the softmax output
template <typename T>
void softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols);

// y[r, :] = (x[r, :] - m) - log(sum(exp(x[r, :] - m))),  m = max(x[r, :])
template <typename T>
void log_softmax_forward(const T* x, T* y, int64_t rows, int64_t cols);

// grad_x[r, :] = grad_out[r, :] - exp(y[r, :]) * sum(grad_out[r, :]),  y the log-softmax output
template <typename T>
void log_softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols);

}  // namespace minidl::cpu
