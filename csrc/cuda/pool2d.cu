// Max and average pooling on the GPU, forward and backward.
//
// Pooling does one compare or one add per input element it reads, so these kernels are limited
// by memory bandwidth, and the design goal is simply that every load and store is coalesced and
// every byte is moved once. Each kernel is one thread per element of the array it WRITES:
//
//   max_pool2d_forward    a thread per output: scan its window, keep the maximum and where it was
//   avg_pool2d_forward    a thread per output: sum its window, divide
//   avg_pool2d_backward   a thread per input element: add up the shares of every output whose
//                         window covers it (a gather: no two threads write the same element, so
//                         no atomics, no zero-fill first, and a fixed order of additions)
//   max_pool2d_backward   a thread per output: add its gradient to the element its index names
//                         (a scatter: which element is known only from the indices, which may
//                         repeat, so the additions are atomic, into a zero-filled grad_x)
//
// Consecutive threads take consecutive elements along a row (the last axis), so a warp's loads of
// one window tap are neighbours in memory (stride `sw` apart) and its stores are contiguous.
// Which window taps fall inside the input is tested tap by tap: windows are small (2x2, 3x3), and
// the test only diverges at the borders of a plane.
//
// The rules, from minidl/backend/reference.py and csrc/cpu/pool2d.h: max pooling ignores padding
// (it never wins), keeps the first maximum in row-major window order, lets the first NaN win and
// stay, and gives -inf and index -1 for a window with no input element in it; average pooling
// sums its window in row-major order from zero and divides by the window's length along each
// axis, clipped to the padded input (count_include_pad) or to the input.

#include "cuda/pool2d.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "cuda/check.cuh"

namespace minidl::cuda {

namespace {

// ---------------------------------------------------------------------------------------------
// Launch shape and index arithmetic

// 256 threads per block: a memory-bound element-wise kernel runs the same with any multiple of
// 32 from 128 to 512; 256 gives 8 blocks per SM, enough for the scheduler to hide memory latency.
constexpr int kThreads = 256;
// The element loops stride over the grid, so the grid never needs more than this many blocks
// (dozens of waves on any GPU; CUDA's own limit is 2^31 - 1) and a huge array cannot overflow it.
constexpr long long kMaxBlocks = 1 << 16;

unsigned int grid_for(int64_t work) {
    const unsigned int blocks = blocks_for(work, kThreads);
    return blocks < kMaxBlocks ? blocks : unsigned(kMaxBlocks);
}

// Integer division. Each thread turns its flat element number into (plane, row, column), and
// average pooling's backward finds the windows over an element, with divisions by sizes that are
// the same for the whole launch. A GPU has no divide instruction: a 32-bit division is ~20
// instructions, a 64-bit one a call to a longer routine, and these kernels have only a few dozen
// instructions per element to spend before they stop being memory-bound. So:
//   - the arithmetic is done in 32 bits (Index = int32_t) whenever every number a kernel forms
//     fits (fits_int32), and in 64 bits otherwise; only a plane's start, plane * plane size,
//     which can pass 2^31 in any case, is always a 64-bit number;
//   - in 32 bits, dividing by a launch-wide constant d is a multiply and a shift by numbers the
//     host works out once (Divider<int32_t>; Granlund and Montgomery's method).
template <typename Index>
struct Divider;

template <>
struct Divider<int64_t> {
    int64_t d;
    explicit Divider(int64_t divisor) : d(divisor) {}
    __device__ int64_t divide(int64_t n) const { return n / d; }
};

// n / d = floor(n * magic / 2^(32 + shift)) with magic = 2^32 + m, 2^shift >= d the first power
// of two at or above d, and m = floor(2^32 (2^shift - d) / d) + 1 (< 2^32, as 2^shift < 2d). The
// product's high half plus n gives floor(n m / 2^32) + n = floor(n magic / 2^32), which is exact
// enough for every 0 <= n < 2^31; then the shift. For d = 1: m = 1, shift 0, and n / 1 = n.
template <>
struct Divider<int32_t> {
    int32_t d;
    uint32_t m;
    uint32_t shift;
    explicit Divider(int32_t divisor) : d(divisor), m(0), shift(0) {
        if (divisor < 1) return;  // sizes and strides are >= 1; never divide by 0 on the host
        const uint64_t one = 1, dd = uint64_t(divisor);
        while ((one << shift) < dd) ++shift;
        m = uint32_t((one << 32) * ((one << shift) - dd) / dd + 1);
    }
    // n >= 0: every number divided here is (so n + high half < 2^32 does not overflow).
    __device__ int32_t divide(int32_t n) const {
        const uint32_t high = __umulhi(uint32_t(n), m);
        return int32_t((high + uint32_t(n)) >> shift);
    }
};

// The sizes, in the integer type the kernels compute in, and dividers for the ones divided by.
template <typename Index>
struct Dims {
    Index H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
    Divider<Index> by_H, by_W, by_OH, by_OW, by_sh, by_sw, by_out_plane;
};

template <typename Index>
Dims<Index> dims_of(const Pool2dGeometry& s) {
    return {Index(s.in_h),
            Index(s.in_w),
            Index(s.out_h),
            Index(s.out_w),
            Index(s.kernel_h),
            Index(s.kernel_w),
            Index(s.stride_h),
            Index(s.stride_w),
            Index(s.padding_h),
            Index(s.padding_w),
            Index(s.dilation_h),
            Index(s.dilation_w),
            Divider<Index>(Index(s.in_h)),
            Divider<Index>(Index(s.in_w)),
            Divider<Index>(Index(s.out_h)),
            Divider<Index>(Index(s.out_w)),
            Divider<Index>(Index(s.stride_h)),
            Divider<Index>(Index(s.stride_w)),
            Divider<Index>(Index(s.out_h * s.out_w))};
}

// Whether 32-bit arithmetic is safe: flat element numbers of the input and the output, and every
// row or column a window reaches (start + span of the window, plus padding on both sides).
bool fits_int32(const Pool2dGeometry& s) {
    constexpr int64_t kLimit = INT32_MAX;
    const int64_t planes = s.batch * s.channels;
    return planes * s.in_h * s.in_w <= kLimit && planes * s.out_h * s.out_w <= kLimit &&
           s.out_h * s.stride_h + s.kernel_h * s.dilation_h + s.in_h + 2 * s.padding_h <= kLimit &&
           s.out_w * s.stride_w + s.kernel_w * s.dilation_w + s.in_w + 2 * s.padding_w <= kLimit;
}

// Element number `e` of a (planes, rows, cols) array, split into its three coordinates.
template <typename Index>
struct Coordinates {
    Index plane, row, col;
};

template <typename Index>
__device__ inline Coordinates<Index> split(Index e, const Divider<Index>& by_rows,
                                           const Divider<Index>& by_cols) {
    const Index plane_row = by_cols.divide(e);
    const Index plane = by_rows.divide(plane_row);
    return {plane, plane_row - plane * by_rows.d, e - plane_row * by_cols.d};
}

template <typename T>
__device__ inline T negative_infinity() {
    return -T(INFINITY);
}

// The length of one average-pooling window along one axis, as the divisor counts it: from its
// start (negative in the padding) clipped to the padded input (a ceil_mode window may hang past
// it), or, without count_include_pad, clipped to the input itself.
template <typename Index>
__device__ inline Index avg_length(Index start, Index size, Index kernel, Index pad,
                                   bool count_include_pad) {
    const Index end = min(start + kernel, size + pad);
    if (count_include_pad) return end - start;
    return min(end, size) - max(start, Index(0));
}

// ---------------------------------------------------------------------------------------------
// Kernels

// Whether v takes the running maximum's place: when larger, or when it is the first NaN (nothing
// is larger than a NaN, so a NaN, once held, stays). Equal values do not: the first one stays.
template <typename T>
__device__ inline bool beats(T v, T best) {
    return v > best || (isnan(v) && !isnan(best));
}

template <typename T, typename Index>
__global__ void max_pool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                          int64_t* __restrict__ indices, Dims<Index> d,
                                          int64_t outputs) {
    for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs;
         o += int64_t(gridDim.x) * blockDim.x) {
        const Coordinates<Index> out = split(Index(o), d.by_OH, d.by_OW);
        const T* x_plane = x + int64_t(out.plane) * d.H * d.W;
        const Index top = out.row * d.sh - d.ph, left = out.col * d.sw - d.pw;
        T best = negative_infinity<T>();
        int64_t where = -1;  // stays -1 only if no tap of the window is inside the input
        for (Index i = 0; i < d.kh; ++i) {
            const Index h = top + i * d.dh;
            if (h < 0 || h >= d.H) continue;  // padding: never wins
            for (Index j = 0; j < d.kw; ++j) {
                const Index w = left + j * d.dw;
                if (w < 0 || w >= d.W) continue;
                const Index at = h * d.W + w;
                const T v = x_plane[at];
                // The first real element starts the scan, so a window of -infs records its first.
                if (where < 0 || beats(v, best)) {
                    best = v;
                    where = at;
                }
            }
        }
        y[o] = best;
        indices[o] = where;
    }
}

template <typename T, typename Index>
__global__ void max_pool2d_backward_kernel(const T* __restrict__ grad_out,
                                           const int64_t* __restrict__ indices,
                                           T* __restrict__ grad_x, Dims<Index> d, int64_t outputs,
                                           unsigned long long* __restrict__ bad) {
    const int64_t in_plane = int64_t(d.H) * d.W;
    for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs;
         o += int64_t(gridDim.x) * blockDim.x) {
        // The index is the caller's data, so it is checked in 64 bits, as given.
        const int64_t where = indices[o];
        if (where == -1) continue;  // a window with no input element: nothing received its value
        if (where < 0 || where >= in_plane) {
            atomicAdd(bad, 1ull);  // never written; counted, and the caller raises
            continue;
        }
        const int64_t plane = d.by_out_plane.divide(Index(o));
        // Overlapping windows (stride < kernel) can give one element several outputs' gradients,
        // added by different threads: hence atomicAdd (native for float and double on sm_60+).
        atomicAdd(grad_x + plane * in_plane + where, grad_out[o]);
    }
}

template <typename T, typename Index>
__global__ void avg_pool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y, Dims<Index> d,
                                          int64_t outputs, bool count_include_pad) {
    for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs;
         o += int64_t(gridDim.x) * blockDim.x) {
        const Coordinates<Index> out = split(Index(o), d.by_OH, d.by_OW);
        const T* x_plane = x + int64_t(out.plane) * d.H * d.W;
        const Index top = out.row * d.sh - d.ph, left = out.col * d.sw - d.pw;
        // Only the taps inside the input: the padding adds zeros, which change no sum. (No
        // dilation in average pooling, so the taps inside are one run along each axis.)
        const Index i_end = min(d.kh, d.H - top), j_end = min(d.kw, d.W - left);
        T sum = T(0);
        for (Index i = max(Index(0), -top); i < i_end; ++i)
            for (Index j = max(Index(0), -left); j < j_end; ++j)
                sum += x_plane[(top + i) * d.W + left + j];
        const Index divisor = avg_length(top, d.H, d.kh, d.ph, count_include_pad) *
                              avg_length(left, d.W, d.kw, d.pw, count_include_pad);
        y[o] = sum / T(divisor);
    }
}

template <typename T, typename Index>
__global__ void avg_pool2d_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_x,
                                           Dims<Index> d, int64_t inputs, bool count_include_pad) {
    for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < inputs;
         e += int64_t(gridDim.x) * blockDim.x) {
        const Coordinates<Index> in = split(Index(e), d.by_H, d.by_W);
        const T* g_plane = grad_out + int64_t(in.plane) * d.OH * d.OW;
        // Output row oh covers input rows oh*sh - ph .. oh*sh - ph + kh - 1, so the rows covering
        // in.row are ceil((row + ph - kh + 1) / sh) .. floor((row + ph) / sh), within 0 .. OH-1.
        // (row + ph >= 0, so plain division floors; the lower end is clipped at 0 first.)
        const Index row_reach = in.row + d.ph, col_reach = in.col + d.pw;
        const Index oh_first = row_reach < d.kh ? 0 : d.by_sh.divide(row_reach - d.kh + d.sh);
        const Index ow_first = col_reach < d.kw ? 0 : d.by_sw.divide(col_reach - d.kw + d.sw);
        const Index oh_last = min(d.by_sh.divide(row_reach), d.OH - 1);
        const Index ow_last = min(d.by_sw.divide(col_reach), d.OW - 1);
        // Added in the reference's order (its loop over window taps in row-major order reaches
        // this element from the last covering window to the first), so the sums agree to the bit.
        T sum = T(0);
        for (Index oh = oh_last; oh >= oh_first; --oh) {
            const Index top = oh * d.sh - d.ph;
            const Index rows = avg_length(top, d.H, d.kh, d.ph, count_include_pad);
            for (Index ow = ow_last; ow >= ow_first; --ow) {
                const Index left = ow * d.sw - d.pw;
                const Index divisor = rows * avg_length(left, d.W, d.kw, d.pw, count_include_pad);
                sum += g_plane[oh * d.OW + ow] / T(divisor);
            }
        }
        grad_x[e] = sum;
    }
}

// The kernels with the Index type that fits: `launch(int32_t{})` or `launch(int64_t{})`.
template <typename Launch>
void with_index_type(const Pool2dGeometry& s, Launch launch) {
    if (fits_int32(s))
        launch(int32_t{});
    else
        launch(int64_t{});
}

// Frees the bad-index counter of max_pool2d_backward if a check throws before it is freed.
struct CounterGuard {
    unsigned long long* counter;
    Stream stream;
    ~CounterGuard() {
        // Already failing: the error is dropped, not left for the next launch's check to report.
        if (counter != nullptr && cudaFreeAsync(counter, stream) != cudaSuccess) cudaGetLastError();
    }
};

}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s,
                        Stream stream) {
    const int64_t outputs = s.batch * s.channels * s.out_h * s.out_w;
    if (outputs <= 0) return;  // nothing to write, and a 0-block grid is a CUDA error
    with_index_type(s, [&](auto index) {
        using Index = decltype(index);
        max_pool2d_forward_kernel<T, Index>
            <<<grid_for(outputs), kThreads, 0, stream>>>(x, y, indices, dims_of<Index>(s), outputs);
        check_launch("max_pool2d_forward");
    });
}

template <typename T>
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x,
                            const Pool2dGeometry& s, Stream stream) {
    const char* name = "max_pool2d_backward";
    const int64_t inputs = s.batch * s.channels * s.in_h * s.in_w,
                  outputs = s.batch * s.channels * s.out_h * s.out_w;
    // Zero first: elements that win no window get 0, and the others are sums of atomic additions.
    if (inputs > 0)
        check(cudaMemsetAsync(grad_x, 0, size_t(inputs) * sizeof(T), stream), name,
              "zeroing grad_x");
    if (outputs <= 0) return 0;

    // A device counter of bad indices, allocated, zeroed, used and freed in stream order.
    CounterGuard guard{nullptr, stream};
    check(cudaMallocAsync(reinterpret_cast<void**>(&guard.counter), sizeof(unsigned long long),
                          stream),
          name, "allocating the bad-index counter");
    check(cudaMemsetAsync(guard.counter, 0, sizeof(unsigned long long), stream), name,
          "zeroing the counter");
    with_index_type(s, [&](auto index) {
        using Index = decltype(index);
        max_pool2d_backward_kernel<T, Index><<<grid_for(outputs), kThreads, 0, stream>>>(
            grad_out, indices, grad_x, dims_of<Index>(s), outputs, guard.counter);
        check_launch(name);
    });
    // The one kernel here that waits for the stream: the count decides whether the caller raises
    // a ValueError, so it must be on the host before this function returns.
    unsigned long long bad = 0;
    check(cudaMemcpyAsync(&bad, guard.counter, sizeof(bad), cudaMemcpyDeviceToHost, stream), name,
          "reading the bad-index count");
    check(cudaStreamSynchronize(stream), name, "waiting for the bad-index count");
    unsigned long long* counter = guard.counter;
    guard.counter = nullptr;
    check(cudaFreeAsync(counter, stream), name, "freeing the counter");
    return int64_t(bad);
}

template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& s, bool count_include_pad,
                        Stream stream) {
    const int64_t outputs = s.batch * s.channels * s.out_h * s.out_w;
    if (outputs <= 0) return;
    with_index_type(s, [&](auto index) {
        using Index = decltype(index);
        avg_pool2d_forward_kernel<T, Index><<<grid_for(outputs), kThreads, 0, stream>>>(
            x, y, dims_of<Index>(s), outputs, count_include_pad);
        check_launch("avg_pool2d_forward");
    });
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dGeometry& s,
                         bool count_include_pad, Stream stream) {
    const int64_t inputs = s.batch * s.channels * s.in_h * s.in_w;
    if (inputs <= 0) return;
    with_index_type(s, [&](auto index) {
        using Index = decltype(index);
        avg_pool2d_backward_kernel<T, Index><<<grid_for(inputs), kThreads, 0, stream>>>(
            grad_out, grad_x, dims_of<Index>(s), inputs, count_include_pad);
        check_launch("avg_pool2d_backward");
    });
}

template void max_pool2d_forward<float>(const float*, float*, int64_t*, const Pool2dGeometry&,
                                        Stream);
template void max_pool2d_forward<double>(const double*, double*, int64_t*, const Pool2dGeometry&,
                                         Stream);
template int64_t max_pool2d_backward<float>(const float*, const int64_t*, float*,
                                            const Pool2dGeometry&, Stream);
template int64_t max_pool2d_backward<double>(const double*, const int64_t*, double*,
                                             const Pool2dGeometry&, Stream);
template void avg_pool2d_forward<float>(const float*, float*, const Pool2dGeometry&, bool, Stream);
template void avg_pool2d_forward<double>(const double*, double*, const Pool2dGeometry&, bool,
                                         Stream);
template void avg_pool2d_backward<float>(const float*, float*, const Pool2dGeometry&, bool, Stream);
template void avg_pool2d_backward<double>(const double*, double*, const Pool2dGeometry&, bool,
                                          Stream);

}  // namespace minidl::cuda
