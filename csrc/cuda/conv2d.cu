// 2-d convolution on the GPU: the CUDA twin of csrc/cpu/conv2d.cpp.
//
// The method: implicit GEMM
// -------------------------
// As on the CPU (read the top of csrc/cpu/conv2d.cpp), each of the three kernels is a matrix
// product per group g, over the im2col matrix of x:
//
//   cols[(c, i, j), (n, r, s)] = x[n, c, r*stride_h - padding_h + i*dilation_h,
//                                       s*stride_w - padding_w + j*dilation_w]   (0 in the padding)
//
//   forward          y[g]  (Cg_out x N*L)  = W[g] (Cg_out x Kc)  @ cols[g] (Kc x N*L)
//   backward_weight  dW[g] (Cg_out x Kc)   = dy[g] (Cg_out x N*L) @ cols[g]^T (N*L x Kc)
//   backward_input   dx[g] (Cg_in x N*H*W) = W[g]^T (Cg_in x Cg_out*kh*kw) @ dy gathered
//
// with Kc = Cg_in*kh*kw, L = out_h*out_w, and the images of the batch side by side, so that even
// a batch of tiny images makes one wide product (LeNet's 6 filters over 64 images of 24x24 is a
// 6 x 25 @ 25 x 36864 product, not 64 small ones).
//
// The CPU version writes cols to memory and calls matmul. Here no column matrix is ever
// written: the products run on the tiled kernel of gemm.cuh, whose operands only have to answer
// "what is element (row, k)?", and the conv operands below answer by computing the im2col
// address on the fly (that is what "implicit" means). This saves the memory traffic of writing
// and reading cols (kh*kw times the size of x) and the workspace, at the price of some integer
// arithmetic per loaded value, which the Divider below makes cheap.
//
// backward_input is the adjoint of im2col, written as a gather rather than a scatter: instead of
// computing dcols = W^T @ dy and adding each entry back onto its pixel (col2im, which needs
// atomics or a second pass), each pixel (h, w) sums over the kernel offsets (i, j) that reach
// it. Offset (i, j) reaches pixel h from output row oh = (h + padding_h - i*dilation_h) / stride_h
// when that division is exact and oh lies in [0, out_h) (likewise for w); the operand reads 0
// for the other offsets. Each value of dx is then written once, by one thread, deterministically.
//
// backward_weight sums over N*L, the batch and every position, while its output is as small as
// the weight (LeNet: 6 x 25, a single tile). One block per tile would leave the GPU idle, so the
// sum is split into parts computed by different blocks (split-K). The parts are written to a
// workspace and then added in a fixed order by a second small kernel, rather than added with
// atomicAdd into dW: atomics would make the order of the additions, and so the last bits of dW,
// change from run to run, and a seeded training run should give the same numbers twice. The
// workspace (parts x weight size) is small and comes from cudaMallocAsync on the stream.
//
// Sizes: all three kernels work on chunks of images small enough that every index inside a
// chunk's product fits in 32 bits (see kMaxFolded); that is one chunk for any realistic batch.

#include "cuda/conv2d.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "cuda/check.cuh"
#include "cuda/gemm.cuh"

namespace minidl::cuda {

namespace {

using gemm::MatrixOutput;
using gemm::StridedOperand;

// A chunk's folded dimension (images * positions) and every per-image size stay below this, so
// that indices inside a product, and the Divider's inputs, fit an int with room to spare.
constexpr int64_t kMaxFolded = int64_t(1) << 30;

// n / d for a divisor d fixed at launch. An integer division by a value unknown at compile time
// costs about 20 instructions on the GPU, and the operands need several per loaded value. A
// division by a constant d is a multiplication by about 2^(32+s)/d followed by a shift, and that
// multiplier can be computed once on the host (Granlund and Montgomery, "Division by Invariant
// Integers using Multiplication", 1994): with s the smallest shift such that 2^s >= d and
//   m = floor(2^32 * (2^s - d) / d) + 1   (which fits in 32 bits),
// n / d = (umulhi(n, m) + n) >> s for every 0 <= n < 2^31, where umulhi is the high 32 bits of
// the 64-bit product. (m + 2^32 exceeds 2^(32+s)/d by at most 1; the error that adds to n/d is
// below n / 2^(32+s) < 1/(2d), too little to reach the next integer.)
struct Divider {
    uint32_t divisor = 1, multiplier = 1, shift = 0;

    Divider() = default;
    explicit Divider(int64_t d) : divisor(d > 1 ? uint32_t(d) : 1) {  // 0 (an empty size): unused
        while ((uint64_t(1) << shift) < divisor) ++shift;
        const uint64_t excess = (uint64_t(1) << shift) - divisor;  // 2^s - d < d
        multiplier = uint32_t((excess << 32) / divisor + 1);
    }
    __device__ int divide(int n) const {
        return int((__umulhi(uint32_t(n), multiplier) + uint32_t(n)) >> shift);
    }
};

// The sizes the operands need, as ints (checked against kMaxFolded by check_sizes), with the
// divisors they divide by.
struct ConvDims {
    int in_h, in_w, out_h, out_w, kernel_w;
    int stride_h, stride_w, padding_h, padding_w, dilation_h, dilation_w;
    int in_per_group, out_per_group;  // Cg_in, Cg_out
    int window;                       // kernel_h * kernel_w
    int64_t in_plane, out_plane;      // H*W, L = out_h*out_w
    int64_t x_image, y_image;         // values per image: C_in*H*W, C_out*L
    Divider by_window, by_kernel_w, by_out_w, by_in_w, by_out_plane, by_in_plane, by_stride_h,
        by_stride_w;

    explicit ConvDims(const Conv2dGeometry& g)
        : in_h(int(g.in_h)),
          in_w(int(g.in_w)),
          out_h(int(g.out_h)),
          out_w(int(g.out_w)),
          kernel_w(int(g.kernel_w)),
          stride_h(int(g.stride_h)),
          stride_w(int(g.stride_w)),
          padding_h(int(g.padding_h)),
          padding_w(int(g.padding_w)),
          dilation_h(int(g.dilation_h)),
          dilation_w(int(g.dilation_w)),
          in_per_group(int(g.in_channels / g.groups)),
          out_per_group(int(g.out_channels / g.groups)),
          window(int(g.kernel_h * g.kernel_w)),
          in_plane(g.in_h * g.in_w),
          out_plane(g.out_h * g.out_w),
          x_image(g.in_channels * in_plane),
          y_image(g.out_channels * out_plane),
          by_window(window),
          by_kernel_w(kernel_w),
          by_out_w(out_w),
          by_in_w(in_w),
          by_out_plane(out_plane),
          by_in_plane(in_plane),
          by_stride_h(stride_h),
          by_stride_w(stride_w) {}

    __host__ __device__ int64_t weight_per_group() const {
        return int64_t(out_per_group) * in_per_group * window;
    }
};

// Throws, naming the kernel, if some size would overflow the 32-bit indices (an image or a
// kernel of more than 2^30 values, which no real layer has).
void check_sizes(const Conv2dGeometry& g, const char* kernel) {
    const int64_t largest[] = {g.in_h + 2 * g.padding_h + g.dilation_h * g.kernel_h,
                               g.in_w + 2 * g.padding_w + g.dilation_w * g.kernel_w,
                               g.out_h * g.stride_h,
                               g.out_w * g.stride_w,
                               g.in_h * g.in_w,
                               g.out_h * g.out_w,
                               g.in_channels * g.kernel_h * g.kernel_w,
                               g.out_channels * g.kernel_h * g.kernel_w};
    for (int64_t size : largest)
        if (size >= kMaxFolded)
            throw std::runtime_error(std::string(kernel) +
                                     ": sizes too large for 32-bit indexing"
                                     " (limit 2^30 values per image)");
}

// Images per chunk: as many as keep images * per_image below kMaxFolded.
int64_t images_per_chunk(int64_t per_image) {
    const int64_t fit = kMaxFolded / (per_image > 0 ? per_image : 1);
    return fit > 0 ? fit : 1;
}

// ---------------------------------------------------------------------------------------------
// Operands (the interface is described at the top of gemm.cuh). `batch` is the group. A row
// past the end is read as the last row: its values only reach outputs that are never stored.

// forward, B: cols[g] seen as rows (n, r, s) = output positions x k = (c, i, j).
// Adjacent output positions read adjacent pixels (stride 1), so rows are the contiguous side.
template <typename T>
struct Im2colOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = true;
    static constexpr int kVec = 1;
    const T* x;
    ConvDims d;
    int rows, depth;  // images * L, Kc

    struct Row {
        const T* image;  // x[n, first channel of the group]
        int top, left;   // the window's corner: r*stride_h - padding_h, s*stride_w - padding_w
    };

    __device__ Row row(int64_t group, int64_t r64) const {
        const int r = r64 < rows ? int(r64) : rows - 1;
        const int n = d.by_out_plane.divide(r);
        const int position = r - n * int(d.out_plane);
        const int out_r = d.by_out_w.divide(position);
        const int out_s = position - out_r * d.out_w;
        return Row{x + n * d.x_image + group * d.in_per_group * d.in_plane,
                   out_r * d.stride_h - d.padding_h, out_s * d.stride_w - d.padding_w};
    }

    __device__ void load(const Row& row, int k, T (&out)[1]) const {
        out[0] = T(0);
        if (k >= depth) return;
        const int c = d.by_window.divide(k);
        const int offset = k - c * d.window;
        const int i = d.by_kernel_w.divide(offset);
        const int j = offset - i * d.kernel_w;
        const int h = row.top + i * d.dilation_h;
        const int w = row.left + j * d.dilation_w;
        if (unsigned(h) < unsigned(d.in_h) && unsigned(w) < unsigned(d.in_w))
            out[0] = row.image[c * d.in_plane + int64_t(h) * d.in_w + w];
    }
};

// backward_input, A: W[g]^T, rows c (input channel) x k = (o, i, j).
template <typename T>
struct TransposedWeightOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = false;  // (i, j) of one filter are adjacent
    static constexpr int kVec = 1;
    const T* weight;
    ConvDims d;
    int depth;  // Cg_out * kh*kw

    struct Row {
        const T* channel;  // weight[first filter of the group, c]
    };

    __device__ Row row(int64_t group, int64_t r64) const {
        const int c = r64 < d.in_per_group ? int(r64) : d.in_per_group - 1;
        return Row{weight + group * d.weight_per_group() + int64_t(c) * d.window};
    }

    __device__ void load(const Row& row, int k, T (&out)[1]) const {
        out[0] = T(0);
        if (k >= depth) return;
        const int o = d.by_window.divide(k);
        const int offset = k - o * d.window;
        out[0] = row.channel[int64_t(o) * d.in_per_group * d.window + offset];
    }
};

// backward_input, B: dy gathered, rows (n, h, w) = input pixels x k = (o, i, j).
template <typename T>
struct GradGatherOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = true;  // adjacent pixels read adjacent outputs
    static constexpr int kVec = 1;
    const T* grad_out;
    ConvDims d;
    int rows, depth;  // images * H*W, Cg_out * kh*kw

    struct Row {
        const T* image;          // dy[n, first channel of the group]
        int padded_h, padded_w;  // h + padding_h, w + padding_w
    };

    __device__ Row row(int64_t group, int64_t r64) const {
        const int r = r64 < rows ? int(r64) : rows - 1;
        const int n = d.by_in_plane.divide(r);
        const int pixel = r - n * int(d.in_plane);
        const int h = d.by_in_w.divide(pixel);
        const int w = pixel - h * d.in_w;
        return Row{grad_out + n * d.y_image + group * d.out_per_group * d.out_plane,
                   h + d.padding_h, w + d.padding_w};
    }

    __device__ void load(const Row& row, int k, T (&out)[1]) const {
        out[0] = T(0);
        if (k >= depth) return;
        const int o = d.by_window.divide(k);
        const int offset = k - o * d.window;
        const int i = d.by_kernel_w.divide(offset);
        const int j = offset - i * d.kernel_w;
        // Output row oh reaches this pixel through offset i when oh*stride_h == h + padding_h -
        // i*dil.
        const int row_span = row.padded_h - i * d.dilation_h;
        const int col_span = row.padded_w - j * d.dilation_w;
        if (row_span < 0 || col_span < 0) return;
        const int oh = d.by_stride_h.divide(row_span);
        const int ow = d.by_stride_w.divide(col_span);
        if (oh * d.stride_h != row_span || ow * d.stride_w != col_span) return;
        if (oh >= d.out_h || ow >= d.out_w) return;
        out[0] = row.image[o * d.out_plane + int64_t(oh) * d.out_w + ow];
    }
};

// backward_weight, A: dy[g], rows o (output channel) x k = (n, r, s) positions of all images.
template <typename T>
struct GradRowsOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = false;  // positions of one channel are adjacent
    static constexpr int kVec = 1;
    const T* grad_out;
    ConvDims d;
    int depth;  // images * L

    struct Row {
        const T* channel;  // dy[0, o of the group]
    };

    __device__ Row row(int64_t group, int64_t r64) const {
        const int o = r64 < d.out_per_group ? int(r64) : d.out_per_group - 1;
        return Row{grad_out + (group * d.out_per_group + o) * d.out_plane};
    }

    __device__ void load(const Row& row, int k, T (&out)[1]) const {
        out[0] = T(0);
        if (k >= depth) return;
        const int n = d.by_out_plane.divide(k);
        out[0] = row.channel[n * d.y_image + (k - n * int(d.out_plane))];
    }
};

// backward_weight, B: cols[g]^T, rows (c, i, j) x k = (n, r, s) positions of all images.
template <typename T>
struct Im2colTransposedOperand {
    using Value = T;
    static constexpr bool kRowsContiguous = false;  // adjacent positions read adjacent pixels
    static constexpr int kVec = 1;
    const T* x;
    ConvDims d;
    int rows, depth;  // Kc, images * L

    struct Row {
        const T* channel;          // x[0, c of the group]
        int row_shift, col_shift;  // i*dilation_h - padding_h, j*dilation_w - padding_w
    };

    __device__ Row row(int64_t group, int64_t r64) const {
        const int r = r64 < rows ? int(r64) : rows - 1;
        const int c = d.by_window.divide(r);
        const int offset = r - c * d.window;
        const int i = d.by_kernel_w.divide(offset);
        const int j = offset - i * d.kernel_w;
        return Row{x + (group * d.in_per_group + c) * d.in_plane, i * d.dilation_h - d.padding_h,
                   j * d.dilation_w - d.padding_w};
    }

    __device__ void load(const Row& row, int k, T (&out)[1]) const {
        out[0] = T(0);
        if (k >= depth) return;
        const int n = d.by_out_plane.divide(k);
        const int position = k - n * int(d.out_plane);
        const int out_r = d.by_out_w.divide(position);
        const int out_s = position - out_r * d.out_w;
        const int h = out_r * d.stride_h + row.row_shift;
        const int w = out_s * d.stride_w + row.col_shift;
        if (unsigned(h) < unsigned(d.in_h) && unsigned(w) < unsigned(d.in_w))
            out[0] = row.channel[n * d.x_image + int64_t(h) * d.in_w + w];
    }
};

// y or dx: row = channel within the group, column = (n, position) of the chunk's images side by
// side; stored image after image, channel after channel: data[n, g*rows_per_group + row, pos].
template <typename T>
struct ChannelMajorOutput {
    T* data;
    int64_t group_stride, plane, image_stride;  // rows_per_group*plane, plane, channels*plane
    Divider by_plane;

    __device__ T* row_start(int64_t group, int64_t /*split*/, int64_t row) const {
        return data + group * group_stride + row * plane;
    }
    __device__ int64_t column_offset(int64_t col) const {
        const int n = by_plane.divide(int(col));
        return n * image_stride + (col - n * plane);
    }
};

// ---------------------------------------------------------------------------------------------
// Launching

// The tile shape chosen at run time -> the kernel compiled for it.
template <typename T, class OperandA, class OperandB, class Output>
void launch_tiled(gemm::TileSize size, const OperandA& a, const OperandB& b, const Output& out,
                  const gemm::Problem& p, Stream stream, const char* kernel) {
    using Tiles = gemm::Tiles<T>;
    switch (size) {
        case gemm::TileSize::Large:
            return gemm::launch<typename Tiles::Large>(a, b, out, p, stream, kernel);
        case gemm::TileSize::Medium:
            return gemm::launch<typename Tiles::Medium>(a, b, out, p, stream, kernel);
        case gemm::TileSize::Small:
            return gemm::launch<typename Tiles::Small>(a, b, out, p, stream, kernel);
    }
}

// parts: `count` arrays of `size` values, one after the other; out = their sum, added in order.
template <typename T>
__global__ void sum_parts_kernel(const T* parts, T* out, int64_t size, int64_t count) {
    for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < size;
         index += int64_t(gridDim.x) * blockDim.x) {
        T total = T(0);
        for (int64_t part = 0; part < count; ++part) total += parts[part * size + index];
        out[index] = total;
    }
}

// Device memory from the stream's pool, given back to it (in stream order, after the work queued
// so far) when the object goes out of scope, whichever way the launch code exits.
class StreamBuffer {
   public:
    StreamBuffer(size_t bytes, Stream stream, const char* kernel) : stream_(stream) {
        check(cudaMallocAsync(&pointer_, bytes, stream_), kernel, "cudaMallocAsync");
    }
    // An error here would be an earlier one resurfacing; a destructor must not throw it, and
    // must not leave it recorded for the next launch's check to blame on another kernel.
    ~StreamBuffer() {
        if (cudaFreeAsync(pointer_, stream_) != cudaSuccess) cudaGetLastError();
    }
    StreamBuffer(const StreamBuffer&) = delete;
    StreamBuffer& operator=(const StreamBuffer&) = delete;
    void* get() const { return pointer_; }

   private:
    void* pointer_ = nullptr;
    Stream stream_;
};

// How backward_weight splits its sum over positions (split-K).
struct SplitPlan {
    int64_t splits, per_split;
};

// Enough parts for about two blocks per SM, but each part at least kMinSplitDepth deep (a part
// costs a write of its tile and its share of the final sum, which a few hundred steps of k
// repay) and the workspace at most kMaxWorkspace values; parts of whole BK-deep steps.
template <typename T>
SplitPlan plan_split(int64_t tiles, int64_t depth, int64_t sm_count, int64_t workspace_per_split) {
    constexpr int64_t kMinSplitDepth = 256, kMaxWorkspace = int64_t(1) << 24;
    constexpr int64_t kStep = gemm::Tiles<T>::Large::BK;
    static_assert(kStep == gemm::Tiles<T>::Medium::BK && kStep == gemm::Tiles<T>::Small::BK,
                  "parts are whole steps of every tile");
    int64_t splits = (2 * sm_count + tiles - 1) / tiles;
    splits = std::min(splits, (depth + kMinSplitDepth - 1) / kMinSplitDepth);
    splits = std::min(splits, kMaxWorkspace / workspace_per_split);
    splits = std::max<int64_t>(splits, 1);
    int64_t per_split = (depth + splits - 1) / splits;
    per_split = std::max<int64_t>((per_split + kStep - 1) / kStep * kStep, kStep);
    return SplitPlan{(depth + per_split - 1) / per_split, per_split};  // no empty parts
}

}  // namespace

template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g, Stream stream) {
    const char* kernel = "conv2d_forward";
    check_sizes(g, kernel);
    const ConvDims d(g);
    const int depth = d.in_per_group * d.window;  // Kc; 0 when C_in = 0: y is all zeros
    const int64_t chunk = images_per_chunk(d.out_plane);
    const int sm_count = gemm::multiprocessor_count(kernel);
    for (int64_t first = 0; first < g.batch; first += chunk) {
        const int64_t images = g.batch - first < chunk ? g.batch - first : chunk;
        const int64_t columns = images * d.out_plane;
        // W[g] is a plain (Cg_out x Kc) matrix, one per group.
        const StridedOperand<T, false> a{weight, d.weight_per_group(), d.out_per_group, depth,
                                         depth};
        const Im2colOperand<T> b{x + first * d.x_image, d, int(columns), depth};
        const ChannelMajorOutput<T> out{y + first * d.y_image, d.out_per_group * d.out_plane,
                                        d.out_plane, d.y_image, d.by_out_plane};
        const gemm::Problem p{d.out_per_group, columns, depth, g.groups, 1, depth, 0, 0};
        launch_tiled<T>(gemm::choose_tile<T>(p.M, p.N, g.groups, sm_count), a, b, out, p, stream,
                        kernel);
    }
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g,
                           Stream stream) {
    const char* kernel = "conv2d_backward_input";
    check_sizes(g, kernel);
    const ConvDims d(g);
    const int depth = d.out_per_group * d.window;  // 0 when C_out = 0: grad_x is all zeros
    const int64_t chunk = images_per_chunk(d.in_plane);
    const int sm_count = gemm::multiprocessor_count(kernel);
    for (int64_t first = 0; first < g.batch; first += chunk) {
        const int64_t images = g.batch - first < chunk ? g.batch - first : chunk;
        const int64_t columns = images * d.in_plane;
        const TransposedWeightOperand<T> a{weight, d, depth};
        const GradGatherOperand<T> b{grad_out + first * d.y_image, d, int(columns), depth};
        const ChannelMajorOutput<T> out{grad_x + first * d.x_image, d.in_per_group * d.in_plane,
                                        d.in_plane, d.x_image, d.by_in_plane};
        const gemm::Problem p{d.in_per_group, columns, depth, g.groups, 1, depth, 0, 0};
        launch_tiled<T>(gemm::choose_tile<T>(p.M, p.N, g.groups, sm_count), a, b, out, p, stream,
                        kernel);
    }
}

template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight, const Conv2dGeometry& g,
                            Stream stream) {
    const char* kernel = "conv2d_backward_weight";
    check_sizes(g, kernel);
    const ConvDims d(g);
    const int64_t weight_size = g.groups * d.weight_per_group();
    if (weight_size == 0) return;
    if (g.batch == 0 || d.out_plane == 0) {  // an empty sum
        check(cudaMemsetAsync(grad_weight, 0, size_t(weight_size) * sizeof(T), stream), kernel,
              "cudaMemsetAsync");
        return;
    }
    const int64_t M = d.out_per_group, N = int64_t(d.in_per_group) * d.window;
    const int64_t chunk = images_per_chunk(d.out_plane);
    const int64_t chunks = (g.batch + chunk - 1) / chunk;
    const int64_t full_depth = std::min(g.batch, chunk) * d.out_plane;  // a full chunk's K

    // The tile by shape alone (sm_count 1): the split, not the tile size, fills the GPU.
    const gemm::TileSize size = gemm::choose_tile<T>(M, N, g.groups, 1);
    const gemm::TileExtent tile = gemm::extent<T>(size);
    const int64_t tiles =
        g.groups * ((M + tile.rows - 1) / tile.rows) * ((N + tile.cols - 1) / tile.cols);
    const SplitPlan plan =
        plan_split<T>(tiles, full_depth, gemm::multiprocessor_count(kernel), chunks * weight_size);

    // One part in all: straight into grad_weight. Else each (chunk, split) part into its own
    // slot of a workspace, then the sum. A short last chunk leaves parts empty: they hold zeros.
    const int64_t parts = chunks * plan.splits;
    std::optional<StreamBuffer> workspace;
    T* destination = grad_weight;
    if (parts > 1) {
        workspace.emplace(size_t(parts * weight_size) * sizeof(T), stream, kernel);
        destination = static_cast<T*>(workspace->get());
    }
    for (int64_t index = 0; index < chunks; ++index) {
        const int64_t first = index * chunk;
        const int depth = int(std::min(chunk, g.batch - first) * d.out_plane);
        const GradRowsOperand<T> a{grad_out + first * d.y_image, d, depth};
        const Im2colTransposedOperand<T> b{x + first * d.x_image, d, int(N), depth};
        // dW[g] (Cg_out x Kc) is rows Kc apart, groups weight_per_group apart; parts weight_size.
        const MatrixOutput<T> out{destination + index * plan.splits * weight_size,
                                  d.weight_per_group(), weight_size, N};
        const gemm::Problem p{M, N, depth, g.groups, plan.splits, plan.per_split, 0, 0};
        launch_tiled<T>(size, a, b, out, p, stream, kernel);
    }
    if (parts > 1) {
        // A grid-stride loop: at most 4096 blocks, each thread then sums several values.
        constexpr int kThreads = 256;
        const unsigned blocks = std::min(blocks_for(weight_size, kThreads), 4096u);
        sum_parts_kernel<T>
            <<<blocks, kThreads, 0, stream>>>(destination, grad_weight, weight_size, parts);
        check_launch(kernel);
    }
}

template void conv2d_forward<float>(const float*, const float*, float*, const Conv2dGeometry&,
                                    Stream);
template void conv2d_forward<double>(const double*, const double*, double*, const Conv2dGeometry&,
                                     Stream);
template void conv2d_backward_input<float>(const float*, const float*, float*,
                                           const Conv2dGeometry&, Stream);
template void conv2d_backward_input<double>(const double*, const double*, double*,
                                            const Conv2dGeometry&, Stream);
template void conv2d_backward_weight<float>(const float*, const float*, float*,
                                            const Conv2dGeometry&, Stream);
template void conv2d_backward_weight<double>(const double*, const double*, double*,
                                             const Conv2dGeometry&, Stream);

}  // namespace minidl::cuda
