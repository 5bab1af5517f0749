// Batched matrix product on the GPU: the CUDA twin of csrc/cpu/matmul.h (same name, same
// arguments, plus the stream it is queued on).
#pragma once

#include <cstdint>

#include "cuda/stream.h"

namespace minidl::cuda {

// c[b] = op(a[b or 0]) @ op(b[b or 0]) for every b < max(batch_a, batch_b), where op transposes
// when its flag is set. All pointers are device memory, C-contiguous:
//   a: (batch_a, M, K), or (batch_a, K, M) when trans_a
//   b: (batch_b, K, N), or (batch_b, N, K) when trans_b
//   c: (max(batch_a, batch_b), M, N), written, never read
// A batch of 1 is shared by every entry of the other operand; otherwise batch_a == batch_b.
// Queued on `stream`; returns before the product is done. Throws std::runtime_error naming
// "matmul" when CUDA reports an error. The caller has checked the shapes.
template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t batch_a, int64_t batch_b, int64_t M, int64_t N,
            int64_t K, bool trans_a, bool trans_b, Stream stream);

}  // namespace minidl::cuda
