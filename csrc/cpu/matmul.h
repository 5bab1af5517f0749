// Batched matrix product on the CPU: the C++ twin of minidl.backend.reference.matmul.
#pragma once

#include <cstdint>

namespace minidl::cpu {

// c[b] = op(a[b or 0]) @ op(b[b or 0]) for every b < max(batch_a, batch_b), where op transposes
// when its flag is set. All arrays are C-contiguous:
//   a: (batch_a, M, K), or (batch_a, K, M) when trans_a
//   b: (batch_b, K, N), or (batch_b, N, K) when trans_b
//   c: (max(batch_a, batch_b), M, N), written, never read (it may hold garbage on entry)
// A batch of 1 is shared by every entry of the other operand; otherwise batch_a == batch_b.
// The caller has checked the shapes; this function trusts them.
template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t batch_a, int64_t batch_b, int64_t M, int64_t N,
            int64_t K, bool trans_a, bool trans_b);

// The tile of C one micro-kernel call computes, rows x cols, for T in this build (it follows the
// type and the target: 12 x 32 floats with AVX-512, 4 x 8 in the portable kernel). A product
// whose M or N is not a multiple of it wastes the rest of its edge tiles; conv2d reads it to
// choose the orientation of a product that can be computed either way round.
struct MatmulTile {
    int64_t rows, cols;
};
template <typename T>
MatmulTile matmul_tile();

// Which micro-kernel this build of matmul uses: "avx512f" (hand-written AVX-512 intrinsics) or
// "portable" (plain C++ loops the compiler vectorises for whatever the target offers).
const char* simd();

}  // namespace minidl::cpu
