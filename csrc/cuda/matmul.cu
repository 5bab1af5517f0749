// Batched matrix product (GEMM) on the GPU: the CUDA twin of csrc/cpu/matmul.cpp.
//
// The method
// ----------
// The work is done by the tiled kernel in gemm.cuh (read its header first): each block of threads
// computes one BM x BN tile of C, walking along K one BK-deep slice at a time; the slices of A
// and B are copied into shared memory, where every thread of the block reads them, and each
// thread keeps a TM x TN piece of C in registers, so that every value it reads is used TM or TN
// times. For float, the large tile is 128 x 128 with 8 x 8 per thread, the classic shape that
// reaches most of the FMA units' speed without tensor cores.
//
// This file only has to say, for matmul, where the elements of A and B are and where C goes,
// and pick a tile shape:
//
//   - Transposes cost nothing: op(A) is read in place, element (m, k) at a[m*K + k] or, with
//     trans_a, at a[k*M + m]. What changes is which of the two dimensions is contiguous, and the
//     kernel lets neighbouring threads load along that one, so every warp reads whole cache lines
//     in all four combinations of flags. B is read as B^T ("rows" are columns of C): contiguous
//     along its rows when not transposed.
//   - Vector loads. When a matrix starts on a 16-byte boundary and its contiguous dimension is a
//     multiple of 4 floats (2 doubles), each thread loads 16 bytes at once. That is checked here,
//     at launch, and the kernel compiled for it; the scalar kernel serves every other case.
//   - A batch of 1 is shared by every entry of the other operand (batch stride 0). When that is B
//     and A is not transposed, the batch is folded into M instead: (batch*M x K) @ (K x N) is one
//     tall product with fewer, fuller tiles (a linear layer applied to a batch of sequences).
//   - Tile shapes: see gemm::choose_tile; small products get small tiles.
//   - Sizes of 0: a batch, M or N of 0 writes nothing; K = 0 writes zeros (an empty sum).

#include "cuda/matmul.h"

#include <cstdint>

#include "cuda/check.cuh"
#include "cuda/gemm.cuh"

namespace minidl::cuda {

namespace {

using gemm::kVec16;
using gemm::MatrixOutput;
using gemm::StridedOperand;

// The arguments of one call, after folding a shared B's batch into M.
template <typename T>
struct Product {
    const T* a;
    const T* b;
    T* c;
    int64_t batch_a, batch_b, batches, M, N, K;
    bool trans_a, trans_b;
    Stream stream;
};

// The leading dimension (distance between rows in memory) of each operand as stored.
template <typename T>
int64_t lead_a(const Product<T>& p) {
    return p.trans_a ? p.M : p.K;
}
template <typename T>
int64_t lead_b(const Product<T>& p) {
    return p.trans_b ? p.K : p.N;
}

template <typename T>
bool vector_aligned(const T* pointer, int64_t lead) {
    return reinterpret_cast<uintptr_t>(pointer) % 16 == 0 && lead % kVec16<T> == 0;
}

template <typename T, class Tile, bool kTransA, bool kTransB, int kVecA, int kVecB>
void run(const Product<T>& p) {
    // op(A) as "M rows x K": contiguous along rows (M) exactly when stored transposed.
    const StridedOperand<T, kTransA, kVecA> a{p.a, p.batch_a == 1 ? 0 : p.M * p.K, p.M, lead_a(p),
                                              int(p.K)};
    // B as "N rows x K" (B^T): contiguous along N when B is stored (K x N), i.e. not transposed.
    const StridedOperand<T, !kTransB, kVecB> b{p.b, p.batch_b == 1 ? 0 : p.K * p.N, p.N, lead_b(p),
                                               int(p.K)};
    const MatrixOutput<T> c{p.c, p.M * p.N, 0, p.N};
    // One split covering all of K (k_per_split = K: K = 0 gives no steps and a tile of zeros).
    const gemm::Problem problem{p.M, p.N, p.K, p.batches, 1, p.K, 0, 0};
    gemm::launch<Tile>(a, b, c, problem, p.stream, "matmul");
}

// Runtime flags -> the kernel compiled for them.
template <typename T, class Tile, int kVecA, int kVecB>
void run_transposes(const Product<T>& p) {
    if (p.trans_a) {
        if (p.trans_b)
            run<T, Tile, true, true, kVecA, kVecB>(p);
        else
            run<T, Tile, true, false, kVecA, kVecB>(p);
    } else {
        if (p.trans_b)
            run<T, Tile, false, true, kVecA, kVecB>(p);
        else
            run<T, Tile, false, false, kVecA, kVecB>(p);
    }
}

// Vector loads only for the large tile: that is where global loads can limit the speed, and
// compiling them for every tile would double the number of kernels for no measurable gain.
template <typename T, class Tile, bool kTryVectors>
void run_tile(const Product<T>& p) {
    if constexpr (kTryVectors) {
        constexpr int V = kVec16<T>;
        const bool vec_a = vector_aligned(p.a, lead_a(p));
        const bool vec_b = vector_aligned(p.b, lead_b(p));
        if (vec_a && vec_b) return run_transposes<T, Tile, V, V>(p);
        if (vec_a) return run_transposes<T, Tile, V, 1>(p);
        if (vec_b) return run_transposes<T, Tile, 1, V>(p);
    }
    run_transposes<T, Tile, 1, 1>(p);
}

}  // namespace

template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t batch_a, int64_t batch_b, int64_t M, int64_t N,
            int64_t K, bool trans_a, bool trans_b, Stream stream) {
    // An empty batch on either side is an empty result (a batch of 0 broadcasts to 0, not 1).
    if (batch_a == 0 || batch_b == 0 || M == 0 || N == 0) return;
    Product<T> p{a, b, c, batch_a, batch_b, batch_a > batch_b ? batch_a : batch_b,
                 M, N, K, trans_a, trans_b, stream};
    // A (batch, M, K) not transposed is also one (batch*M, K) matrix, and C likewise (batch*M, N).
    if (batch_b == 1 && batch_a > 1 && !trans_a) {
        p.M = batch_a * M;
        p.batch_a = p.batches = 1;
    }

    using Tiles = gemm::Tiles<T>;
    switch (gemm::choose_tile<T>(p.M, p.N, p.batches, gemm::multiprocessor_count("matmul"))) {
        case gemm::TileSize::Large: run_tile<T, typename Tiles::Large, true>(p); break;
        case gemm::TileSize::Medium: run_tile<T, typename Tiles::Medium, false>(p); break;
        case gemm::TileSize::Small: run_tile<T, typename Tiles::Small, false>(p); break;
    }
}

template void matmul<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                            int64_t, bool, bool, Stream);
template void matmul<double>(const double*, const double*, double*, int64_t, int64_t, int64_t,
                             int64_t, int64_t, bool, bool, Stream);

}  // namespace minidl::cuda
