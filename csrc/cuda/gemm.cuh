// The tiled GEMM kernel that matmul.cu and conv2d.cu both run (included by those .cu files only).
//
// The method
// ----------
// C (M x N) = A (M x K) @ B (K x N), for a batch of such products. A naive kernel gives each
// thread one c[row][col] and reads a whole row of A and column of B from global memory: two loads
// per multiply-add, so it runs at the speed of memory, not of arithmetic. This kernel reuses every
// loaded value many times, at two levels:
//
//   1. Shared memory. A block of threads owns a BM x BN tile of C. It walks along K in steps of
//      BK: the BM x BK slice of A and the BK x BN slice of B are copied into shared memory once
//      and then read by every thread of the block. Each value loaded from global memory is used
//      BN (for A) or BM (for B) times.
//   2. Registers. Each thread owns a TM x TN piece of the tile and keeps it in registers for the
//      whole walk along K. At each step k it reads TM values of A's column k and TN values of B's
//      row k from shared memory and does TM * TN multiply-adds (an outer product), so each value
//      read from shared memory is used TN or TM times.
//
// Both slices are stored k-major in shared memory (a_tile[k][row], b_tile[k][col]), so the TM
// values a thread needs at step k are adjacent and come in as one 16-byte vector load.
//
// Double buffering: there are two copies of each shared tile. While the block multiplies the
// slices in buffer `current`, each thread has already issued its global loads for the next slice
// into registers; they arrive while the arithmetic runs, and are written to the other buffer at
// the end of the step. One __syncthreads per step then separates writing a buffer from reading it.
//
// Operands
// --------
// The kernel does not know where A and B live. It asks an *operand* for element (row, k) of one
// batch entry, where `row` is a row of C for A and a column of C for B (B is read as B^T: both
// operands are "rows x K"). An operand says which of its two dimensions is contiguous in memory,
// and the kernel then lets neighbouring threads load neighbouring addresses (coalescing). The
// matmul operands (StridedOperand, below) read plain matrices, transposed or not; the conv2d
// operands compute the im2col address of (row, k) on the fly (implicit GEMM), so no column matrix
// is ever written to memory. An operand provides:
//
//   using Value;                          float or double
//   static constexpr bool kRowsContiguous true: (row, k) and (row+1, k) are adjacent in memory;
//                                         false: (row, k) and (row, k+1) are
//   static constexpr int kVec             values per load (1, or 16 bytes' worth when aligned)
//   struct Row;                           what a thread keeps about one row: its base address...
//   Row row(batch, r)                     the state of row r; r may be past the last row, and
//                                         then any row's values may be read (they only reach
//                                         outputs outside C, which are never stored)
//   void load(const Row&, int k, Value (&out)[kVec])   kVec values along the contiguous dimension
//                                         starting at (r, k); zeros past the end of K (they are
//                                         added to real outputs) and in a convolution's padding
//
// and an *output* says where c[row][col] goes: row_start(batch, split, row) + column_offset(col).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/check.cuh"
#include "cuda/stream.h"

namespace minidl::cuda::gemm {

// ---------------------------------------------------------------------------------------------
// Tile shapes

// A block computes a BM x BN tile of C walking K in steps of BK; each thread computes TM x TN.
// TM and TN are multiples of 4: a thread's rows are TM/4 groups of 4 adjacent rows, spread
// BM / (TM/4) apart (for 8 x 8: rows 4r..4r+3 and 64+4r..64+4r+3). Adjacent threads then read
// adjacent 16-byte vectors of shared memory at each step, which the hardware serves without bank
// conflicts; 8 adjacent rows per thread would put two threads of a quarter-warp on one bank.
// min_blocks is the number of blocks per SM the register allocation must allow
// (__launch_bounds__): 65536 registers / (threads * min_blocks) per thread at most.
template <int BM_, int BN_, int BK_, int TM_, int TN_, int MIN_BLOCKS_>
struct Tile {
    static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
    static constexpr int threads = (BM / TM) * (BN / TN);
    static constexpr int min_blocks = MIN_BLOCKS_;
    static_assert(BM % TM == 0 && BN % TN == 0, "the threads must cover the tile exactly");
    static_assert(TM % 4 == 0 && TN % 4 == 0, "a thread's rows and columns come in groups of 4");
};

// The tile shapes per value type, from large to small. The largest has the most reuse per loaded
// value; the smaller ones exist because a tile is computed whole even where it hangs over the
// edge of C (a 128 x 128 tile on a 6 x 25 product does 100x the useful work), and because a
// product with few tiles leaves most of the GPU idle (see choose_tile).
template <typename T>
struct Tiles;

template <>
struct Tiles<float> {
    // 128 x 128 x 8, 8 x 8 per thread, 256 threads.
    // - Registers: 64 accumulators + 16 fragment values + 8 staged loads + addresses and
    //   counters fit in 128 (ptxas: 126-128, no spills), so two blocks (16 warps) fit an SM's
    //   64K registers; the second block's arithmetic hides the first one's __syncthreads.
    // - Arithmetic intensity: each step loads (128 + 128) * 8 values for 128 * 128 * 8
    //   multiply-adds, 64 FMAs per float loaded (32 flops per byte, where an H100 needs about
    //   12 from L2 to keep its FP32 units busy); each thread does 64 FMAs per 16 values read
    //   from shared memory, and the A values are the same for half a warp (a broadcast).
    // - Shared memory: 2 buffers x 2 operands x 8 x (128 + 4) floats = 16.5 KiB per block, far
    //   below the 228 KiB of an SM: registers, not shared memory, limit occupancy.
    // - BK = 8 keeps the staged loads at 8 registers; BK = 16 would halve the __syncthreads per
    //   FMA but need 8 more registers, more than the two-block budget has left.
    using Large = Tile<128, 128, 8, 8, 8, 2>;
    // 64 x 64, 8 x 4 per thread, 128 threads: 32 accumulators. For products with too few 128-wide
    // tiles to fill the GPU (a 1024 x 1024 matrix is 64 large tiles for 132 SMs) or a dimension of
    // 33..64 (64 output channels of a conv layer).
    using Medium = Tile<64, 64, 8, 8, 4, 4>;
    // 32 x 32, 4 x 4 per thread, 64 threads: for the small products of tests and small-batch
    // training (a 10-class linear layer, LeNet's 6 filters), where a larger tile is mostly padding.
    using Small = Tile<32, 32, 8, 4, 4, 8>;
};

template <>
struct Tiles<double> {
    // A double takes two registers, so the same register budget holds a quarter of the
    // accumulators: 64 x 64, 4 x 4 per thread (16 accumulators = 32 registers), 256 threads.
    // FP64 runs at half the FP32 rate on an H100, and double is here for gradient checks, so
    // correctness and reasonable speed matter more than the last factor.
    using Large = Tile<64, 64, 8, 4, 4, 2>;
    // 32 x 32, 4 x 4 per thread, 64 threads, for everything smaller (one size is enough here).
    using Medium = Tile<32, 32, 8, 4, 4, 8>;
    using Small = Medium;
};

enum class TileSize { Large, Medium, Small };

// Each row of a shared tile is padded by 4 values, for two reasons. An operand whose K dimension
// is contiguous is stored down the columns of the tile: a warp writes 16 rows at k and the same
// 16 rows at k+4 (TileLoader); with rows 128 floats apart, k and k+4 fall on the same bank (a
// 2-way conflict), 132 apart they are 16 banks apart. And 4 keeps every row 16-byte aligned for
// the vector reads of the inner loop.
constexpr int kPad = 4;

// The SMs of the current device: the grid should have at least this many blocks.
inline int multiprocessor_count(const char* kernel) {
    int device = 0, count = 0;
    check(cudaGetDevice(&device), kernel, "cudaGetDevice");
    check(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), kernel,
          "cudaDeviceGetAttribute(MultiProcessorCount)");
    return count;
}

// The BM x BN of each tile size.
struct TileExtent {
    int64_t rows, cols;
};
template <typename T>
TileExtent extent(TileSize size) {
    using L = typename Tiles<T>::Large;
    using Md = typename Tiles<T>::Medium;
    using S = typename Tiles<T>::Small;
    switch (size) {
        case TileSize::Large: return {L::BM, L::BN};
        case TileSize::Medium: return {Md::BM, Md::BN};
        default: return {S::BM, S::BN};
    }
}

// The largest tile that (1) is at least half used in both directions (a dimension of 40 gets
// 64-wide tiles, not 128) and (2) still gives every SM a block to run; else the smallest. The
// larger tile does more work per loaded value, but an idle SM wastes more than that gains.
template <typename T>
TileSize choose_tile(int64_t M, int64_t N, int64_t batches, int sm_count) {
    for (TileSize size : {TileSize::Large, TileSize::Medium}) {
        const TileExtent tile = extent<T>(size);
        const int64_t blocks =
            batches * ((M + tile.rows - 1) / tile.rows) * ((N + tile.cols - 1) / tile.cols);
        if (2 * M > tile.rows && 2 * N > tile.cols && blocks >= sm_count) return size;
    }
    return TileSize::Small;
}

// ---------------------------------------------------------------------------------------------
// Small vector moves

// kVec values of T as one aligned load or store (16 bytes: LDG.128 / LDS.128 / STS.128).
template <typename T, int kVec>
struct alignas(sizeof(T) * kVec) Vector {
    T values[kVec];
};

// Values of T in one 16-byte vector: 4 floats, 2 doubles.
template <typename T>
constexpr int kVec16 = 16 / int(sizeof(T));

// out[0..kVec) = p[0..kVec), p aligned to the whole vector (the callers have checked).
template <typename T, int kVec>
__device__ __forceinline__ void load_vector(const T* p, T (&out)[kVec]) {
    if constexpr (kVec == 1) {
        out[0] = *p;
    } else {
        const Vector<T, kVec> v = *reinterpret_cast<const Vector<T, kVec>*>(p);
#pragma unroll
        for (int q = 0; q < kVec; ++q) out[q] = v.values[q];
    }
}

// Four adjacent values of a shared tile (16-byte aligned) into out[0..4), as 16-byte loads.
template <typename T>
__device__ __forceinline__ void load4_shared(const T* p, T* out) {
    constexpr int V = kVec16<T>;
#pragma unroll
    for (int part = 0; part < 4 / V; ++part) {
        const Vector<T, V> v = *reinterpret_cast<const Vector<T, V>*>(p + part * V);
#pragma unroll
        for (int q = 0; q < V; ++q) out[part * V + q] = v.values[q];
    }
}

// ---------------------------------------------------------------------------------------------
// Plain matrices: the operand and output of matmul (and of conv2d's weight matrices)

// Element (row, k) of batch entry b of a matrix in memory with one dimension contiguous:
//   kRowsContiguous == false:  data[b * batch_stride + row * ld + k]     (row-major "rows x K")
//   kRowsContiguous == true:   data[b * batch_stride + k * ld + row]     (stored as "K x rows")
// batch_stride = 0 shares one matrix among all batch entries (broadcasting).
// kVec > 1 loads kVec adjacent values at once; the caller guarantees that data is aligned to
// them and that ld and the contiguous extent are multiples of kVec, so a vector is either wholly
// inside the matrix or wholly outside.
//
// Edges. Past the end of K the operand reads zeros: those products are added to real outputs.
// Past the last row it reads the last row again (the last vector of rows): those values only
// reach accumulators of rows or columns of C outside C, which are never stored, so whatever
// they are does no harm, and the load needs no extra branch.
template <typename T, bool kRowsContiguous_, int kVec_ = 1>
struct StridedOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = kRowsContiguous_;
    static constexpr int kVec = kVec_;

    const T* data;
    int64_t batch_stride, rows, ld;
    int depth;  // the K extent (at most kMaxDepth)

    struct Row {
        const T* start;  // element (row, 0)
    };

    __device__ Row row(int64_t batch, int64_t r) const {
        if (r >= rows) r = kRowsContiguous ? rows - kVec : rows - 1;
        const T* matrix = data + batch * batch_stride;
        return Row{kRowsContiguous ? matrix + r : matrix + r * ld};
    }

    __device__ void load(const Row& row, int k, T (&out)[kVec]) const {
        if (k >= depth) {
#pragma unroll
            for (int q = 0; q < kVec; ++q) out[q] = T(0);
            return;
        }
        load_vector<T, kVec>(kRowsContiguous ? row.start + int64_t(k) * ld : row.start + k, out);
    }
};

// c[row][col] of batch entry b and reduction part `split` at
//   data + b * batch_stride + split * split_stride + row * ld + col.
template <typename T>
struct MatrixOutput {
    T* data;
    int64_t batch_stride, split_stride, ld;

    __device__ T* row_start(int64_t batch, int64_t split, int64_t row) const {
        return data + batch * batch_stride + split * split_stride + row * ld;
    }
    __device__ int64_t column_offset(int64_t col) const { return col; }
};

// ---------------------------------------------------------------------------------------------
// Loading one operand's tile

// One thread's share of copying a (kRows x BK) slice of an operand into shared memory, k-major:
// tile[k][row]. Neighbouring threads load neighbouring addresses along the operand's contiguous
// dimension, so that a warp reads whole 32-byte sectors:
//
//   rows contiguous:  a thread loads kVec adjacent rows at one k; kRows / kVec threads side by
//                     side cover a row of the slice; kPasses passes cover the BK values of k.
//   k contiguous:     a thread loads kPerThread adjacent k of one row (kVec at a time, kPasses
//                     loads); BK / kPerThread threads side by side cover a row of the slice.
//
// Either way a thread has one row (or one vector of rows) for the whole walk along K, so it works
// out the row's address once (Row) and only k changes from step to step. One Row per thread, not
// one per pass, is what keeps the large tile within 128 registers.
template <class Operand, int kRows, int BK, int kThreads>
struct TileLoader {
    using T = typename Operand::Value;
    using Row = typename Operand::Row;
    static constexpr int kVec = Operand::kVec;
    static constexpr bool kRowsFast = Operand::kRowsContiguous;
    static constexpr int kPerThread = kRows * BK / kThreads;  // values each thread loads
    static constexpr int kPasses = kPerThread / kVec;         // loads each thread issues
    // Threads side by side along the contiguous dimension.
    static constexpr int kLanes = kRowsFast ? kRows / kVec : BK / kPerThread;
    static constexpr int kKStride = kThreads / kLanes;  // rows fast: k distance between passes
    static_assert(kRows * BK % kThreads == 0 && kPerThread % kVec == 0 && kPasses >= 1,
                  "the block's threads must cover the slice exactly, whole vectors each");
    static_assert(kRowsFast
                      ? (kRows % kVec == 0 && kThreads % kLanes == 0 && BK == kKStride * kPasses)
                      : (BK % kPerThread == 0 && kRows * kLanes == kThreads),
                  "the block's threads must cover the slice exactly");

    int row;      // my (first) row within the slice
    int k_first;  // my first k within the slice
    Row my_row;
    T staged[kPasses][kVec];  // loaded, not yet stored to shared memory

    __device__ TileLoader(const Operand& op, int64_t batch, int64_t first_row, int thread) {
        if constexpr (kRowsFast) {
            row = (thread % kLanes) * kVec;
            k_first = thread / kLanes;
        } else {
            row = thread / kLanes;
            k_first = (thread % kLanes) * kPerThread;
        }
        my_row = op.row(batch, first_row + row);
    }

    // k of pass `pass`, within the slice.
    __device__ static constexpr int k_step(int pass) {
        return kRowsFast ? pass * kKStride : pass * kVec;
    }

    // Global memory -> registers: the slice starting at k_start.
    __device__ void fetch(const Operand& op, int k_start) {
#pragma unroll
        for (int pass = 0; pass < kPasses; ++pass)
            op.load(my_row, k_start + k_first + k_step(pass), staged[pass]);
    }

    // Registers -> shared memory, k-major.
    __device__ void stash(T (*tile)[kRows + kPad]) const {
#pragma unroll
        for (int pass = 0; pass < kPasses; ++pass) {
            const int k = k_first + k_step(pass);
            if constexpr (kRowsFast) {
                // kVec adjacent rows of one k: adjacent in the tile too, one vector store.
                if constexpr (kVec == 1) {
                    tile[k][row] = staged[pass][0];
                } else {
                    Vector<T, kVec> v;
#pragma unroll
                    for (int q = 0; q < kVec; ++q) v.values[q] = staged[pass][q];
                    *reinterpret_cast<Vector<T, kVec>*>(&tile[k][row]) = v;
                }
            } else {
                // kVec adjacent k of one row: a column of the k-major tile, one store each.
#pragma unroll
                for (int q = 0; q < kVec; ++q) tile[k + q][row] = staged[pass][q];
            }
        }
    }
};

// ---------------------------------------------------------------------------------------------
// The kernel

// The sizes of one launch. The reduction over K may be split into `splits` parts of k_per_split
// (a multiple of BK) each, computed by different blocks and written to different places (the
// output's split_stride); the caller adds them up. matmul uses one split, k_per_split = K.
// K is at most kMaxDepth, so that positions along K, and k_per_split past them, fit an int: the
// inner loop then counts in 32-bit registers (64-bit ones would cost the two-blocks-per-SM
// register budget of the large tile).
constexpr int64_t kMaxDepth = int64_t(1) << 30;

struct Problem {
    int64_t M, N, K;
    int64_t batches;
    int64_t splits;
    int64_t k_per_split;
    // This launch's first row tile and first (batch entry, split) pair: see launch.
    int64_t first_row_tile, first_slice;
};

// Grid: x over column tiles, y over row tiles, z over (batch entry, split) pairs. Blocks of one
// row of tiles run next to each other (x varies fastest) and share its slices of A through L2.
template <class Tile, class OperandA, class OperandB, class Output>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    gemm_kernel(const OperandA a, const OperandB b, const Output out, const Problem p) {
    using T = typename OperandA::Value;
    constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, TM = Tile::TM, TN = Tile::TN;
    constexpr int kThreadCols = BN / TN;  // threads across the tile
    // A thread's rows: TM/4 groups of 4 adjacent rows, kRowGroupStride apart (see Tile).
    constexpr int kRowGroupStride = BM / (TM / 4);
    constexpr int kColGroupStride = BN / (TN / 4);

    // Two buffers of each slice, k-major (see the top of the file).
    alignas(16) __shared__ T a_tile[2][BK][BM + kPad];
    alignas(16) __shared__ T b_tile[2][BK][BN + kPad];

    const int thread = threadIdx.x;
    const int thread_row = thread / kThreadCols;  // my place in the grid of threads
    const int thread_col = thread % kThreadCols;
    auto row_in_tile = [&](int i) { return (i / 4) * kRowGroupStride + thread_row * 4 + i % 4; };
    auto col_in_tile = [&](int j) { return (j / 4) * kColGroupStride + thread_col * 4 + j % 4; };

    const int K = int(p.K), k_per_split = int(p.k_per_split);  // <= kMaxDepth (see launch)
    const int64_t tile_col = blockIdx.x;
    const int64_t tile_row = p.first_row_tile + blockIdx.y;
    const int64_t slice = p.first_slice + blockIdx.z;
    const int64_t batch = slice / p.splits;
    const int split = int(slice % p.splits);
    // This split's part of K: [k_begin, k_end), whole BK-deep steps except at the very end.
    const int k_begin = split * k_per_split;
    const int k_end = k_begin + k_per_split < K ? k_begin + k_per_split : K;
    const int k_tiles = k_end > k_begin ? (k_end - k_begin + BK - 1) / BK : 0;

    TileLoader<OperandA, BM, BK, Tile::threads> a_loader(a, batch, tile_row * BM, thread);
    TileLoader<OperandB, BN, BK, Tile::threads> b_loader(b, batch, tile_col * BN, thread);

    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

    // The first slice goes straight into buffer 0 (no thread has read shared memory yet).
    if (k_tiles > 0) {
        a_loader.fetch(a, k_begin);
        b_loader.fetch(b, k_begin);
        a_loader.stash(a_tile[0]);
        b_loader.stash(b_tile[0]);
        __syncthreads();
    }

    for (int k_tile = 0; k_tile < k_tiles; ++k_tile) {
        const int current = k_tile & 1;
        const bool has_next = k_tile + 1 < k_tiles;
        // Issue the next slice's global loads now; they complete during the arithmetic.
        if (has_next) {
            a_loader.fetch(a, k_begin + (k_tile + 1) * BK);
            b_loader.fetch(b, k_begin + (k_tile + 1) * BK);
        }

        // The outer products of this slice, all in registers.
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            T a_frag[TM], b_frag[TN];
#pragma unroll
            for (int group = 0; group < TM / 4; ++group)
                load4_shared(&a_tile[current][k][group * kRowGroupStride + thread_row * 4],
                             &a_frag[group * 4]);
#pragma unroll
            for (int group = 0; group < TN / 4; ++group)
                load4_shared(&b_tile[current][k][group * kColGroupStride + thread_col * 4],
                             &b_frag[group * 4]);
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += a_frag[i] * b_frag[j];
        }

        // The other buffer was last read in the previous step, which every thread has
        // finished (the __syncthreads below, one step ago), so it may be overwritten now.
        if (has_next) {
            a_loader.stash(a_tile[current ^ 1]);
            b_loader.stash(b_tile[current ^ 1]);
        }
        // Makes the stores visible before the next step reads them, and keeps the next
        // step's stores (into this step's buffer) from overtaking a slow reader.
        __syncthreads();
    }

    // Write my TM x TN piece, only the part inside C. Zero steps (K = 0) write zeros.
    int64_t col_offsets[TN];
    bool col_inside[TN];
#pragma unroll
    for (int j = 0; j < TN; ++j) {
        const int64_t col = tile_col * BN + col_in_tile(j);
        col_inside[j] = col < p.N;
        col_offsets[j] = col_inside[j] ? out.column_offset(col) : 0;
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int64_t row = tile_row * BM + row_in_tile(i);
        if (row >= p.M) continue;
        T* c_row = out.row_start(batch, split, row);
#pragma unroll
        for (int j = 0; j < TN; ++j)
            if (col_inside[j]) c_row[col_offsets[j]] = acc[i][j];
    }
}

// Queues the product on `stream`; `kernel` names the minidl function in errors.
template <class Tile, class OperandA, class OperandB, class Output>
void launch(const OperandA& a, const OperandB& b, const Output& out, Problem p, Stream stream,
            const char* kernel) {
    if (p.M == 0 || p.N == 0 || p.batches == 0) return;
    if (p.K > kMaxDepth || p.k_per_split > kMaxDepth)
        throw std::runtime_error(std::string(kernel) + ": the inner dimension " +
                                 std::to_string(p.K) + " is larger than 2^30");
    const int64_t col_tiles = (p.N + Tile::BN - 1) / Tile::BN;
    const int64_t row_tiles = (p.M + Tile::BM - 1) / Tile::BM;
    const int64_t slices = p.batches * p.splits;
    if (col_tiles > int64_t(0x7fffffff))
        throw std::runtime_error(std::string(kernel) + ": too many columns for one grid");
    // gridDim.y and gridDim.z are at most 65535: more row tiles or slices take more launches
    // (rare: 65535 row tiles are 2 million rows at the smallest tile), each starting where the
    // last one stopped. Looping inside the kernel instead would keep loop counters alive in
    // registers through the inner loop, where the large tile has none to spare.
    constexpr int64_t kMaxGridYZ = 65535;
    for (p.first_row_tile = 0; p.first_row_tile < row_tiles; p.first_row_tile += kMaxGridYZ) {
        for (p.first_slice = 0; p.first_slice < slices; p.first_slice += kMaxGridYZ) {
            const int64_t rows_now = std::min(kMaxGridYZ, row_tiles - p.first_row_tile);
            const int64_t slices_now = std::min(kMaxGridYZ, slices - p.first_slice);
            const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(rows_now),
                            static_cast<unsigned>(slices_now));
            gemm_kernel<Tile, OperandA, OperandB, Output>
                <<<grid, Tile::threads, 0, stream>>>(a, b, out, p);
            check_launch(kernel);
        }
    }
}

}  // namespace minidl::cuda::gemm
