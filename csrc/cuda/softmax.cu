// Softmax and log-softmax over the rows of a (rows, cols) array on the GPU, forward and backward.
//
// Each row needs two things from all of its elements before it can write any output: for the
// forward, the row maximum m (subtracted so exp never overflows) and then s = sum(exp(x - m));
// for the backward, one sum. So each row is given to a GROUP of threads that share it out,
// column c going to thread c % group_size (neighbouring threads read neighbouring addresses:
// coalesced loads), and the group combines its partial maxima and sums in a reduction.
//
// These kernels do a few operations per element and are limited by memory bandwidth, so the aim
// is to read each input from DRAM once: every thread loads its share of the row into registers
// once, then all the passes (max, sum, output) run over the registers.
//
//   softmax_forward       m = max(x)     s = sum(exp(x - m))    y = exp(x - m) / s
//   log_softmax_forward   m = max(x)     s = sum(exp(x - m))    y = (x - m) - log(s)
//   softmax_backward      d = sum(g * y)                        grad_x = y * (g - d)
//   log_softmax_backward  s = sum(g)                            grad_x = g - exp(y) * s
//
// The group's size follows the row length (see `launch`):
//   cols <= 32:          2^k threads of one warp per row (several rows per warp), one value each;
//   cols <= 32 * V:      one warp per row, each lane holding up to V values (a power of two);
//   cols <= 512 * V:     one 512-thread block per row, the same way;
//   longer rows:         one block per row that re-reads the row for each pass (from L2 while
//                        the rows in flight fit there); registers cannot hold them.
// V, the values a thread holds, is a template parameter: the array of them then lives in
// registers (an array indexed by a run-time number would go to slow local memory).
// Warp groups reduce with __shfl_xor_sync (register to register, no shared memory, no barrier);
// block groups reduce within each warp that way, then across warps through shared memory.
//
// Numerics are the CPU's (csrc/cpu/softmax.h): the maximum is taken first; the exp and log are
// CUDA's accurate expf/exp and logf/log (within 1-2 units in the last place; never __expf). A NaN
// anywhere in a row reaches m and makes the whole row NaN; a row of all -inf, or one holding
// +inf, gives NaN through -inf - -inf or inf - inf, exactly as in the reference.

#include "cuda/softmax.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "cuda/check.cuh"

namespace minidl::cuda {

namespace {

// ---------------------------------------------------------------------------------------------
// Arithmetic

__device__ inline float exp_of(float v) { return expf(v); }
__device__ inline double exp_of(double v) { return exp(v); }
__device__ inline float log_of(float v) { return logf(v); }
__device__ inline double log_of(double v) { return log(v); }

template <typename T>
__device__ inline T negative_infinity() {
    return -T(INFINITY);
}

// The larger of a and b, where a NaN beats everything. fmax would not do: it returns the number
// when one argument is NaN, and the NaN rule would be lost.
template <typename T>
__device__ inline T max_keeping_nan(T a, T b) {
    return (a > b || isnan(a)) ? a : b;
}

struct Max {
    template <typename T>
    __device__ T operator()(T a, T b) const {
        return max_keeping_nan(a, b);
    }
};

struct Sum {
    template <typename T>
    __device__ T operator()(T a, T b) const {
        return a + b;
    }
};

// ---------------------------------------------------------------------------------------------
// Launch shapes

constexpr int kWarp = 32;
constexpr unsigned kAllLanes = 0xffffffffu;

// Warp groups run in 128-thread blocks (4 warps): big enough that a block does useful work, small
// enough that the last wave of blocks leaves few SMs idle.
constexpr int kWarpGroupBlock = 128;
// Block groups: 512 threads, so that a thread may have up to 128 registers (65536 per SM / 512):
// room for 64 registers of row plus the rest. At 1024 threads the limit would be 64 registers in
// all, and the held row would spill to local memory.
constexpr int kBlockGroup = 512;
// Row data a thread may hold, in 32-bit registers: 64 (32 floats or doubles of the forward's one
// input; 32 floats or 16 doubles of each of the backward's two inputs).
constexpr int kHeldRegisters = 64;
// V above, for a kernel holding `arrays` input arrays of T.
template <typename T, int arrays>
constexpr int kMaxHeld = kHeldRegisters / (arrays * int(sizeof(T) / 4)) < 32
                             ? kHeldRegisters / (arrays * int(sizeof(T) / 4))
                             : 32;
// A held value count meaning "hold nothing: read the row from memory in each pass".
constexpr int kReread = 0;
// The row loop strides over the grid, so the grid never needs more blocks than this (CUDA allows
// 2^31 - 1, but rows can outnumber even that when cols is tiny); 65536 blocks are still dozens of
// waves on any GPU, so the cap costs nothing.
constexpr long long kMaxBlocks = 1 << 16;

__host__ __device__ constexpr int block_size_for(int group) {
    return group <= kWarp ? kWarpGroupBlock : group;
}
// Blocks that must fit on one SM at once, for __launch_bounds__: with 65536 registers per SM,
// either choice lets a thread have 128 registers, room for 64 registers of held row and the rest
// without spilling; left to itself, ptxas aims for more blocks and spills a few long-row kernels.
__host__ __device__ constexpr int min_blocks_for(int group) { return group <= kWarp ? 4 : 1; }

// ---------------------------------------------------------------------------------------------
// One group working on one row

// What a thread knows about its row: how many columns (0 for a group past the last row: it
// still takes part in the warp's shuffles, which need every lane, but touches no memory), its
// place in the group, and how to share a value with the group.
template <int kGroup, int kHeld>
struct Row {
    int64_t cols;
    int lane;  // 0 .. kGroup - 1

    // f(k, col) for each column of this thread, in increasing order; k is the slot of a held value.
    template <typename F>
    __device__ void for_each_column(F f) const {
        if constexpr (kHeld == kReread) {
            // Unrolled so that each thread has several loads in flight, not one at a time.
#pragma unroll 4
            for (int64_t col = lane; col < cols; col += kGroup) f(0, col);
        } else {
#pragma unroll
            for (int k = 0; k < kHeld; ++k) {
                const int64_t col = int64_t(k) * kGroup + lane;
                if (col < cols) f(k, col);
            }
        }
    }

    // op over the whole group's values; every thread of the group receives the result.
    template <typename T, typename Op>
    __device__ T reduce(T value, Op op) const {
        // Butterfly: after the step with offset o, each lane holds the combination of an aligned
        // run of 2*o lanes. Offsets below kGroup keep a sub-warp group inside its own lanes. The
        // full mask is right: the row loop in rows_kernel keeps all 32 lanes of every warp active.
        constexpr int kWarpSteps = kGroup < kWarp ? kGroup : kWarp;
#pragma unroll
        for (int offset = kWarpSteps / 2; offset > 0; offset /= 2)
            value = op(value, __shfl_xor_sync(kAllLanes, value, offset));
        if constexpr (kGroup > kWarp) {
            // Across warps: each warp's lane 0 posts its result; after the barrier every thread
            // folds all of them in the same order, so the whole block agrees to the last bit.
            constexpr int kWarps = kGroup / kWarp;
            __shared__ T partial[kWarps];
            if (threadIdx.x % kWarp == 0) partial[threadIdx.x / kWarp] = value;
            __syncthreads();
            value = partial[0];
#pragma unroll
            for (int w = 1; w < kWarps; ++w) value = op(value, partial[w]);
            __syncthreads();  // everyone has read `partial` before the next reduction writes it
        }
        return value;
    }
};

// A thread's share of one input row: loaded into registers up front (all loads in flight at
// once, the row read from DRAM once), or with kHeld == kReread, read from memory at each use.
template <typename T, int kGroup, int kHeld>
struct HeldRow {
    const T* row;
    T held[kHeld > 0 ? kHeld : 1];

    __device__ HeldRow(const T* row_, const Row<kGroup, kHeld>& r) : row(row_) {
        if constexpr (kHeld != kReread) {
#pragma unroll
            for (int k = 0; k < kHeld; ++k) held[k] = T(0);
            r.for_each_column([&](int k, int64_t col) { held[k] = row[col]; });
        }
    }

    __device__ T at(int k, int64_t col) const {
        if constexpr (kHeld == kReread)
            return row[col];
        else
            return held[k];
    }
};

// ---------------------------------------------------------------------------------------------
// The four operations, one row each. `r` is the row's number.

// The first two passes of both forwards: m = max(x) and s = sum(exp(x - m)) over the row.
template <typename T>
struct MaxAndExpSum {
    T max, exp_sum;
};

template <typename T, int kGroup, int kHeld>
__device__ MaxAndExpSum<T> max_and_exp_sum(const Row<kGroup, kHeld>& row,
                                           const HeldRow<T, kGroup, kHeld>& xs) {
    T m = negative_infinity<T>();
    row.for_each_column([&](int k, int64_t col) { m = max_keeping_nan(m, xs.at(k, col)); });
    m = row.reduce(m, Max{});
    T s = T(0);
    row.for_each_column([&](int k, int64_t col) { s += exp_of(xs.at(k, col) - m); });
    return {m, row.reduce(s, Sum{})};
}

template <typename T>
struct SoftmaxForward {
    static constexpr int kArrays = 1;
    const T* __restrict__ x;
    T* __restrict__ y;

    template <int kGroup, int kHeld>
    __device__ void operator()(const Row<kGroup, kHeld>& row, int64_t r) const {
        const HeldRow<T, kGroup, kHeld> xs(x + r * row.cols, row);
        T* y_row = y + r * row.cols;
        const MaxAndExpSum<T> r_stats = max_and_exp_sum(row, xs);
        const T m = r_stats.max, s = r_stats.exp_sum;
        // One division per row, then multiplications, as on the CPU (one rounding from e / s).
        const T inverse_s = T(1) / s;
        row.for_each_column(
            [&](int k, int64_t col) { y_row[col] = exp_of(xs.at(k, col) - m) * inverse_s; });
    }
};

template <typename T>
struct LogSoftmaxForward {
    static constexpr int kArrays = 1;
    const T* __restrict__ x;
    T* __restrict__ y;

    template <int kGroup, int kHeld>
    __device__ void operator()(const Row<kGroup, kHeld>& row, int64_t r) const {
        const HeldRow<T, kGroup, kHeld> xs(x + r * row.cols, row);
        T* y_row = y + r * row.cols;
        const MaxAndExpSum<T> r_stats = max_and_exp_sum(row, xs);
        const T m = r_stats.max, log_s = log_of(r_stats.exp_sum);
        // (x - m) - log(s) in this order: x - m is exact near the maximum, m + log(s) is not.
        row.for_each_column([&](int k, int64_t col) { y_row[col] = (xs.at(k, col) - m) - log_s; });
    }
};

template <typename T>
struct SoftmaxBackward {
    static constexpr int kArrays = 2;
    const T* __restrict__ grad_out;
    const T* __restrict__ y;
    T* __restrict__ grad_x;

    template <int kGroup, int kHeld>
    __device__ void operator()(const Row<kGroup, kHeld>& row, int64_t r) const {
        const HeldRow<T, kGroup, kHeld> gs(grad_out + r * row.cols, row);
        const HeldRow<T, kGroup, kHeld> ys(y + r * row.cols, row);
        T* out_row = grad_x + r * row.cols;
        T d = T(0);
        row.for_each_column([&](int k, int64_t col) { d += gs.at(k, col) * ys.at(k, col); });
        d = row.reduce(d, Sum{});
        row.for_each_column(
            [&](int k, int64_t col) { out_row[col] = ys.at(k, col) * (gs.at(k, col) - d); });
    }
};

template <typename T>
struct LogSoftmaxBackward {
    static constexpr int kArrays = 2;
    const T* __restrict__ grad_out;
    const T* __restrict__ y;
    T* __restrict__ grad_x;

    template <int kGroup, int kHeld>
    __device__ void operator()(const Row<kGroup, kHeld>& row, int64_t r) const {
        const HeldRow<T, kGroup, kHeld> gs(grad_out + r * row.cols, row);
        const HeldRow<T, kGroup, kHeld> ys(y + r * row.cols, row);
        T* out_row = grad_x + r * row.cols;
        T s = T(0);
        row.for_each_column([&](int k, int64_t col) { s += gs.at(k, col); });
        s = row.reduce(s, Sum{});
        row.for_each_column(
            [&](int k, int64_t col) { out_row[col] = gs.at(k, col) - exp_of(ys.at(k, col)) * s; });
    }
};

// ---------------------------------------------------------------------------------------------
// The kernel: groups of kGroup threads, each group one row at a time.

template <typename Op, int kGroup, int kHeld>
__global__ void __launch_bounds__(block_size_for(kGroup), min_blocks_for(kGroup))
    rows_kernel(Op op, int64_t rows, int64_t cols) {
    constexpr int kRowsPerBlock = block_size_for(kGroup) / kGroup;
    const int lane = int(threadIdx.x % kGroup);
    const int group = int(threadIdx.x / kGroup);
    // `first` is the same for every thread of the block, so every thread runs the loop the same
    // number of times: the shuffles (all 32 lanes) and barriers of `reduce` are always complete.
    // A group whose row is past the end works on an empty row instead of leaving the loop.
    for (int64_t first = int64_t(blockIdx.x) * kRowsPerBlock; first < rows;
         first += int64_t(gridDim.x) * kRowsPerBlock) {
        const int64_t r = first + group;
        const bool exists = r < rows;
        op(Row<kGroup, kHeld>{exists ? cols : 0, lane}, exists ? r : first);
    }
}

template <typename Op, int kGroup, int kHeld>
void launch_with(const Op& op, int64_t rows, int64_t cols, Stream stream, const char* name) {
    constexpr int kBlock = block_size_for(kGroup);
    const unsigned int blocks = blocks_for(rows, kBlock / kGroup);
    const unsigned int grid = blocks < kMaxBlocks ? blocks : unsigned(kMaxBlocks);
    rows_kernel<Op, kGroup, kHeld><<<grid, kBlock, 0, stream>>>(op, rows, cols);
    check_launch(name);
}

// cols <= 32: the smallest power-of-two group of lanes that covers the row, one value each, so
// that short rows do not leave most of a warp idle: a warp per 10-column row would spend its
// instructions on reductions for 40 bytes, and the kernel would stop being memory-bound.
template <typename Op, int kGroup = 1>
void launch_short_rows(const Op& op, int64_t rows, int64_t cols, Stream stream, const char* name) {
    if constexpr (kGroup < kWarp) {
        if (cols > kGroup) return launch_short_rows<Op, 2 * kGroup>(op, rows, cols, stream, name);
    }
    launch_with<Op, kGroup, 1>(op, rows, cols, stream, name);
}

// The smallest power-of-two count of held values with kGroup * kHeld >= cols (the caller has
// checked that kMax values are enough). Powers of two keep the number of kernels small; the
// unused slots cost registers, never memory traffic.
template <typename Op, int kGroup, int kMax, int kHeld = 2>
void launch_held_rows(const Op& op, int64_t rows, int64_t cols, Stream stream, const char* name) {
    if constexpr (kHeld < kMax) {
        if (cols > int64_t(kGroup) * kHeld)
            return launch_held_rows<Op, kGroup, kMax, 2 * kHeld>(op, rows, cols, stream, name);
    }
    launch_with<Op, kGroup, kHeld>(op, rows, cols, stream, name);
}

template <typename T, template <typename> class OpFor>
void launch(const OpFor<T>& op, int64_t rows, int64_t cols, Stream stream, const char* name) {
    using Op = OpFor<T>;
    if (rows <= 0 || cols <= 0) return;  // nothing to write, and a 0-block grid is a CUDA error
    constexpr int kMax = kMaxHeld<T, Op::kArrays>;
    if (cols <= kWarp)
        launch_short_rows(op, rows, cols, stream, name);
    else if (cols <= int64_t(kWarp) * kMax)
        launch_held_rows<Op, kWarp, kMax>(op, rows, cols, stream, name);  // a warp per row
    else if (cols <= int64_t(kBlockGroup) * kMax)  // a block per row, from twice what a warp holds
        launch_held_rows<Op, kBlockGroup, kMax, 2 * kWarp * kMax / kBlockGroup>(op, rows, cols,
                                                                                stream, name);
    else
        launch_with<Op, kBlockGroup, kReread>(op, rows, cols, stream, name);
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, Stream stream) {
    launch(SoftmaxForward<T>{x, y}, rows, cols, stream, "softmax_forward");
}

template <typename T>
void softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols,
                      Stream stream) {
    launch(SoftmaxBackward<T>{grad_out, y, grad_x}, rows, cols, stream, "softmax_backward");
}

template <typename T>
void log_softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, Stream stream) {
    launch(LogSoftmaxForward<T>{x, y}, rows, cols, stream, "log_softmax_forward");
}

template <typename T>
void log_softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols,
                          Stream stream) {
    launch(LogSoftmaxBackward<T>{grad_out, y, grad_x}, rows, cols, stream, "log_softmax_backward");
}

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, Stream);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, Stream);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, Stream);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t,
                                       Stream);
template void log_softmax_forward<float>(const float*, float*, int64_t, int64_t, Stream);
template void log_softmax_forward<double>(const double*, double*, int64_t, int64_t, Stream);
template void log_softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t,
                                          Stream);
template void log_softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t,
                                           Stream);

}  // namespace minidl::cuda
