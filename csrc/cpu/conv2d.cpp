// 2-d convolution on the CPU: im2col + our matmul.
//
// The method (chosen by measurement, numbers below)
// -------------------------------------------------
// A convolution is a matrix product in disguise. For one image and one group, copy every window
// the filters slide over into a column matrix (im2col):
//
//   cols[(c, i, j), (r, s)] = x[c, r*stride_h - padding_h + i*dilation_h,
//                                  s*stride_w - padding_w + j*dilation_w]
//                             (zero where that falls into the padding)
//   cols: K = C_in/groups * kernel_h * kernel_w rows  x  L = out_h * out_w columns
//
// and then all three kernels are GEMMs through csrc/cpu/matmul.cpp, one per group:
//
//   forward          y[g]      = W[g] @ cols[g]                   (C_out/G x K)(K x L)
//   backward_input   dcols[g]  = W[g]^T @ dy[g],  then col2im     (K x C_out/G)(C_out/G x L)
//   backward_weight  dW[g]     = dy[g] @ cols[g]^T                (C_out/G x L)(L x K)
//
// col2im is im2col's adjoint: each column entry is added back onto the pixel it was copied from.
//
// The alternative is a direct convolution: loop over filters, input channels and kernel offsets,
// adding weight * (a shifted row of x) into rows of y, vectorised along the output row. It needs
// no column buffer, but every multiply-add loads x and loads and stores y, so it runs at the
// speed of the L1 cache, while the GEMM keeps a tile of y in registers (12 x 32 floats with
// AVX-512) and reuses each loaded value 12 or 32 times. im2col costs one extra pass over K*L
// values per image, small next to the K*L*C_out/G multiply-adds of the product. Measured,
// float32 forward, one thread, AMD EPYC (Zen 4, AVX-512), against a direct version written for
// the comparison (4 filters at a time sharing each loaded row of x, vectorised along the output
// row):
//
//   case                       im2col+matmul    direct    direct / im2col
//   64x1->6    28x28 k5            0.50 ms      0.81 ms        1.6
//   64x6->16   14x14 k5            0.89 ms      3.28 ms        3.7
//   32x64->64  32x32 k3 p1        34.0  ms    209    ms        6.1
//   128x1->32  1x40  k1x5          0.08 ms      0.16 ms        2.1
//
// so im2col + matmul everywhere, even with one input channel, where the direct loop has the
// least to lose.
//
// Decisions around it
// -------------------
// - Side by side. The products work on a chunk of images at once, laid out side by side: row r
//   of every image in one long row, (rows, images * L). One wide product then replaces many
//   small ones, which matters for small images: the 128 products of a 1x40 conv1d (32x5 @ 5x36)
//   take 156 us on one thread, the one side-by-side product (32x5 @ 5x4608) 34 us, plus 15 us to
//   put y back in image order. With one image per chunk the two layouts are the same memory and
//   nothing is copied.
// - Chunks. A chunk takes as many images as fit kChunkBudget values of scratch (column matrices
//   plus one output-sized matrix), so the columns are still in cache when the product reads
//   them. 32x64->64 32x32 k3 needs 2.4 MB of columns per image and goes one image at a time;
//   a budget 4x larger (three images per chunk) made its three kernels 45% slower (96 -> 139 ms,
//   one thread).
// - 1x1 kernels with stride 1 and no padding need no im2col: x already is the column matrix.
// - backward_weight sums over the batch: side by side, the sum over images and positions is the
//   inner dimension of one product, so no accumulator is shared between threads. A small weight
//   gradient is a single output tile, which matmul would compute on one thread, so a chunk is
//   split into one part per thread and the parts' products are added here (LeNet's 6x25 weight:
//   1.03 -> 0.55 ms on two threads). The product is computed transposed when that fills
//   matmul's register tiles better (see weight_product_transposed).
// - Threads: the copies (im2col, col2im, reordering) run in parallel over (image, channel)
//   planes or rows, each written by one thread, so there are no races; the products use
//   matmul's own threading. Nothing calls matmul from inside a parallel region (matmul splits its
//   work for the threads it asks for, and inside a region it would get fewer).
// - Row loops are written for short rows (10-60 values): plain loops with __restrict and
//   `omp simd` instead of memset/memmove calls and compiler aliasing checks took col2im from
//   6.4 to 3.7 ms (of 28 ms) in 32x64->64 32x32 k3 backward_input.

#include "cpu/conv2d.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/runtime.h"

namespace minidl::cpu {

namespace {

// The scratch of one chunk of images (column matrices plus one output-sized matrix) holds at
// most this many values, 4 MiB of floats, unless one image alone needs more. 2^18 to 2^20 measure
// the same on the benchmark shapes; 2^22 is too large (see the top of the file).
constexpr int64_t kChunkBudget = int64_t(1) << 20;

// Below this many values copied, the copies (im2col, col2im, reordering) run on one thread:
// 2^18 floats (1 MiB) take ~50 us on one core, against ~5-10 us to wake a sleeping second
// thread, and much more on a machine busy with other work.
constexpr int64_t kMinParallelCopy = int64_t(1) << 18;

// backward_weight splits a chunk's product among threads only if each share has at least this
// many multiply-adds: 2^18 take 10-20 us in the skinny products of small weights (a 128x1->32
// k5 conv1d's 32x5 weight gradient has 737k), against a few us to start a second thread.
constexpr int64_t kMinPartWork = int64_t(1) << 18;

// Scratch buffers above this size are freed after the call instead of kept for the next one.
constexpr size_t kKeepScratchBytes = size_t(64) << 20;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---------------------------------------------------------------------------------------------
// Sizes derived from the geometry, named once.

struct Sizes {
    int64_t L;              // output positions per image: out_h * out_w
    int64_t window;         // kernel_h * kernel_w
    int64_t in_per_group;   // C_in / groups
    int64_t out_per_group;  // C_out / groups
    int64_t K;              // rows of one group's column matrix: in_per_group * window
    int64_t x_image;        // values of one image of x: C_in * H * W
    int64_t y_image;        // values of one image of y: C_out * L
    int64_t cols_image;     // values of one image's column matrices: C_in * window * L
    int64_t weight_size;    // C_out * K
    bool pointwise;         // 1x1 kernel, stride 1, no padding: x is its own column matrix
    int64_t chunk;          // images per chunk (the last chunk may have fewer)

    explicit Sizes(const Conv2dGeometry& g)
        : L(g.out_h * g.out_w),
          window(g.kernel_h * g.kernel_w),
          in_per_group(g.in_channels / g.groups),
          out_per_group(g.out_channels / g.groups),
          K(in_per_group * window),
          x_image(g.in_channels * g.in_h * g.in_w),
          y_image(g.out_channels * L),
          cols_image(g.in_channels * window * L),
          weight_size(g.out_channels * K),
          pointwise(g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                    g.padding_h == 0 && g.padding_w == 0),
          chunk(balanced_chunk(g.batch, cols_image + y_image)) {}

    // As many images as fit the budget (at least one), evened out over the chunks the batch then
    // needs: 64 images of which 63 fit make two chunks of 32, not 63 and 1 (a lone image is a
    // product of its own, and an odd chunk cannot be split between two threads).
    static int64_t balanced_chunk(int64_t batch, int64_t per_image) {
        batch = std::max<int64_t>(batch, 1);
        const int64_t fit =
            std::clamp<int64_t>(kChunkBudget / std::max<int64_t>(per_image, 1), 1, batch);
        return ceil_div(batch, ceil_div(batch, fit));
    }
};

// ---------------------------------------------------------------------------------------------
// Scratch memory, kept per calling thread between calls so that a training loop does not
// allocate (and page-fault in) megabytes on every step.

template <typename T>
class Scratch {
   public:
    T* get(size_t count) {
        if (buffer_.size() < count) buffer_.resize(count);
        return buffer_.data();
    }
    void trim() {
        if (buffer_.size() * sizeof(T) > kKeepScratchBytes) std::vector<T>().swap(buffer_);
    }

   private:
    std::vector<T> buffer_;
};

template <typename T>
thread_local Scratch<T> t_columns;  // a chunk's column matrices, side by side
template <typename T>
thread_local Scratch<T> t_outputs;  // a chunk's y or dy side by side (+ backward_weight's product)

// A chunk's scratch: its column matrices, and an output-sized matrix followed by `extra` values.
// Oversized buffers are freed when the kernel returns, whichever way it returns.
template <typename T>
struct ChunkScratch {
    T* columns;
    T* outputs;
    explicit ChunkScratch(const Sizes& s, int64_t extra = 0)
        : columns(t_columns<T>.get(size_t(s.chunk * s.cols_image))),
          outputs(t_outputs<T>.get(size_t(s.chunk * s.y_image + extra))) {}
    ChunkScratch(const ChunkScratch&) = delete;
    ChunkScratch& operator=(const ChunkScratch&) = delete;
    ~ChunkScratch() {
        t_columns<T>.trim();
        t_outputs<T>.trim();
    }
};

// Threads for copying `values` values split into `parts` independent parts.
int copy_threads(int64_t values, int64_t parts) {
    if (values < kMinParallelCopy) return 1;
    return int(std::min<int64_t>(get_num_threads(), parts));
}

// ---------------------------------------------------------------------------------------------
// Side by side: the layout every product works in.
//
// An array of images (images, rows, L) -- x, y, dy -- lists image after image. The products
// want each row of all the chunk's images in one long row instead: (rows, images * L), where
// column b*L + l is position l of image b. Then one product covers the whole chunk, as wide as
// matmul likes, instead of one small product per image. With one image both layouts are the
// same memory, and nothing is copied.
//
// backward_weight may split a chunk into `parts` equal groups of images, each side by side on
// its own: (parts, rows, per_part * L), so that each part is a separate product (see there).

struct Layout {
    int64_t images, parts, per_part;  // images = parts * per_part
    static Layout whole(int64_t images) { return Layout{images, 1, images}; }
};

// a (images, rows, L) -> out (parts, rows, per_part * L)
template <typename T>
void to_side_by_side(const T* a, const Layout& layout, int64_t rows, int64_t L, T* out) {
    const int64_t lines = layout.parts * rows;  // output rows, each written by one thread
    const int threads = copy_threads(layout.images * rows * L, lines);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t line = 0; line < lines; ++line) {
        const int64_t part = line / rows, r = line % rows;
        for (int64_t b = 0; b < layout.per_part; ++b) {
            const T* from = a + ((part * layout.per_part + b) * rows + r) * L;
            std::copy(from, from + L, out + (line * layout.per_part + b) * L);
        }
    }
}

// wide (rows, images * L) -> out (images, rows, L); the whole chunk as one part
template <typename T>
void from_side_by_side(const T* wide, int64_t images, int64_t rows, int64_t L, T* out) {
    const int threads = copy_threads(images * rows * L, images);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t b = 0; b < images; ++b)
        for (int64_t r = 0; r < rows; ++r)
            std::copy(wide + (r * images + b) * L, wide + (r * images + b + 1) * L,
                      out + (b * rows + r) * L);
}

// ---------------------------------------------------------------------------------------------
// im2col and col2im, one input channel plane at a time

// The outputs o in [begin, end) whose input position o*stride + offset lies inside [0, size).
struct Span {
    int64_t begin, end;
};

Span inside(int64_t offset, int64_t stride, int64_t size, int64_t outputs) {
    // o*stride + offset >= 0         <=>  o >= ceil(-offset / stride)
    // o*stride + offset <= size - 1  <=>  o <= floor((size - 1 - offset) / stride)
    const int64_t begin = offset >= 0 ? 0 : ceil_div(-offset, stride);
    const int64_t end = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    const int64_t b = std::min(begin, outputs);
    return Span{b, std::clamp(end, b, outputs)};
}

// Write the `window` rows that one input channel contributes to a column matrix (L values each,
// row_stride apart):
//   rows[(i, j), (r, s)] = plane[r*stride_h + i*dilation_h - padding_h,
//                                s*stride_w + j*dilation_w - padding_w]
// Padding positions are written as zeros, so the buffer needs no clearing beforehand.
template <typename T>
void im2col_plane(const T* plane, T* rows, int64_t row_stride, const Conv2dGeometry& g, int64_t L) {
    for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t row_offset = i * g.dilation_h - g.padding_h;
        const Span out_rows = inside(row_offset, g.stride_h, g.in_h, g.out_h);
        for (int64_t j = 0; j < g.kernel_w; ++j, rows += row_stride) {
            const int64_t col_offset = j * g.dilation_w - g.padding_w;
            const Span out_cols = inside(col_offset, g.stride_w, g.in_w, g.out_w);

            // Output rows whose window row falls into the top or bottom padding: all zeros.
            std::fill(rows, rows + out_rows.begin * g.out_w, T(0));
            std::fill(rows + out_rows.end * g.out_w, rows + L, T(0));
            for (int64_t r = out_rows.begin; r < out_rows.end; ++r) {
                const T* in = plane + (r * g.stride_h + row_offset) * g.in_w;
                T* out = rows + r * g.out_w;
                // Left padding, the part of the input row the window sees, right padding. Rows
                // are short (often 10-60 values), so these are plain loops the compiler turns
                // into a few vector instructions, not calls to memset/memmove.
                for (int64_t s = 0; s < out_cols.begin; ++s) out[s] = T(0);
                if (g.stride_w == 1 && out_cols.begin < out_cols.end) {  // a contiguous run
                    const T* __restrict from = in + out_cols.begin + col_offset;
                    T* __restrict to = out + out_cols.begin;
                    const int64_t count = out_cols.end - out_cols.begin;
#pragma omp simd
                    for (int64_t s = 0; s < count; ++s) to[s] = from[s];
                } else {
                    for (int64_t s = out_cols.begin; s < out_cols.end; ++s)
                        out[s] = in[s * g.stride_w + col_offset];
                }
                for (int64_t s = out_cols.end; s < g.out_w; ++s) out[s] = T(0);
            }
        }
    }
}

// The adjoint of im2col_plane: plane (zeroed here first) += every column entry at the pixel it
// was copied from. Entries that were padding are dropped.
template <typename T>
void col2im_plane(const T* rows, int64_t row_stride, T* plane, const Conv2dGeometry& g) {
    std::fill(plane, plane + g.in_h * g.in_w, T(0));
    for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t row_offset = i * g.dilation_h - g.padding_h;
        const Span out_rows = inside(row_offset, g.stride_h, g.in_h, g.out_h);
        for (int64_t j = 0; j < g.kernel_w; ++j, rows += row_stride) {
            const int64_t col_offset = j * g.dilation_w - g.padding_w;
            const Span out_cols = inside(col_offset, g.stride_w, g.in_w, g.out_w);
            if (out_cols.begin == out_cols.end) continue;  // entirely in the padding
            for (int64_t r = out_rows.begin; r < out_rows.end; ++r) {
                T* in = plane + (r * g.stride_h + row_offset) * g.in_w;
                const T* out = rows + r * g.out_w;
                if (g.stride_w == 1) {
                    // Contiguous runs, and rows never overlap the column buffer: tell the
                    // compiler so, and it emits one plain vector loop (no aliasing checks,
                    // which cost as much as the work on rows this short).
                    T* __restrict to = in + out_cols.begin + col_offset;
                    const T* __restrict from = out + out_cols.begin;
                    const int64_t count = out_cols.end - out_cols.begin;
#pragma omp simd
                    for (int64_t s = 0; s < count; ++s) to[s] += from[s];
                } else {
                    for (int64_t s = out_cols.begin; s < out_cols.end; ++s)
                        in[s * g.stride_w + col_offset] += out[s];
                }
            }
        }
    }
}

// The column matrices of a chunk of x, side by side: per part (C_in * window, per_part * L),
// which read as (groups, K, per_part * L) is each group's matrix in turn (a group's channels are
// consecutive). Returns x itself when that already is the layout (pointwise, one image a part).
template <typename T>
const T* to_columns(const T* x, const Layout& layout, T* cols, const Conv2dGeometry& g,
                    const Sizes& s) {
    if (s.pointwise) {
        if (layout.per_part == 1) return x;
        to_side_by_side(x, layout, g.in_channels, s.L, cols);
        return cols;
    }
    // One task per (image, channel) plane: each writes its own rows, so no two threads collide.
    const int64_t planes = layout.images * g.in_channels;
    const int64_t plane_size = g.in_h * g.in_w, row_stride = layout.per_part * s.L;
    const int threads = copy_threads(planes * s.window * s.L, planes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p) {
        const int64_t b = p / g.in_channels, c = p % g.in_channels;
        const int64_t part = b / layout.per_part, b_in_part = b % layout.per_part;
        T* rows = cols + part * s.cols_image * layout.per_part + c * s.window * row_stride +
                  b_in_part * s.L;
        im2col_plane(x + p * plane_size, rows, row_stride, g, s.L);
    }
    return cols;
}

// The adjoint of to_columns for a whole chunk (one part): grad_x (images, C_in, H, W) from the
// column gradient, side by side.
template <typename T>
void from_columns(const T* dcols, int64_t images, T* grad_x, const Conv2dGeometry& g,
                  const Sizes& s) {
    if (s.pointwise) {
        if (dcols != grad_x) from_side_by_side(dcols, images, g.in_channels, s.L, grad_x);
        return;
    }
    // One task per (image, channel) plane of grad_x: each plane is written by one thread only.
    const int64_t planes = images * g.in_channels;
    const int64_t plane_size = g.in_h * g.in_w, row_stride = images * s.L;
    const int threads = copy_threads(planes * s.window * s.L, planes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p) {
        const int64_t b = p / g.in_channels, c = p % g.in_channels;
        col2im_plane(dcols + c * s.window * row_stride + b * s.L, row_stride,
                     grad_x + p * plane_size, g);
    }
}

// backward_weight's product dW = dy @ cols^T is (C_out/G x K); it can as well be computed as
// dW^T = cols @ dy^T (K x C_out/G) and transposed back, which costs nothing next to the product.
// matmul computes C in register tiles (matmul_tile<T>(): 12 x 32 floats or 12 x 16 doubles with
// AVX-512, 4 x 8 floats or 4 x 4 doubles in the portable kernel), and a partly filled tile costs
// as much as a full one, so the orientation that wastes less of its tiles wins: with 12 x 32,
// C_out = 64, K = 576 runs 72 -> 84 GF/s transposed (64 fills two 32-wide tiles exactly, where
// 64 rows leave a 4-row tile); C_out = 6, K = 25 is better upright. Only speed depends on this
// choice, never the result.
template <typename T>
bool weight_product_transposed(const Sizes& s) {
    const MatmulTile tile = matmul_tile<T>();
    auto padded = [&](int64_t rows, int64_t cols) {
        return ceil_div(rows, tile.rows) * tile.rows * ceil_div(cols, tile.cols) * tile.cols;
    };
    return padded(s.K, s.out_per_group) <= padded(s.out_per_group, s.K);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g) {
    const Sizes s(g);
    if (g.batch == 0 || s.y_image == 0) return;
    const ChunkScratch<T> scratch(s);
    T* cols_buffer = scratch.columns;
    T* y_buffer = scratch.outputs;

    for (int64_t n0 = 0; n0 < g.batch; n0 += s.chunk) {
        const int64_t images = std::min(s.chunk, g.batch - n0);
        T* y_chunk = y + n0 * s.y_image;
        // 1. cols: (groups, K, images * L)
        const T* cols = to_columns(x + n0 * s.x_image, Layout::whole(images), cols_buffer, g, s);
        // 2. y[g] = W[g] @ cols[g]: (C_out/G, K) @ (K, images * L), one product per group
        T* y_wide = images == 1 ? y_chunk : y_buffer;
        matmul<T>(weight, cols, y_wide, g.groups, g.groups, s.out_per_group, images * s.L, s.K,
                  false, false);
        // 3. back to one image after another
        if (images > 1) from_side_by_side(y_wide, images, g.out_channels, s.L, y_chunk);
    }
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g) {
    const Sizes s(g);
    if (g.batch == 0 || s.x_image == 0) return;
    if (s.y_image == 0) {  // no outputs (C_out = 0): nothing flows back
        std::fill(grad_x, grad_x + g.batch * s.x_image, T(0));
        return;
    }
    const ChunkScratch<T> scratch(s);
    T* cols_buffer = scratch.columns;
    T* dy_buffer = scratch.outputs;

    for (int64_t n0 = 0; n0 < g.batch; n0 += s.chunk) {
        const int64_t images = std::min(s.chunk, g.batch - n0);
        T* grad_x_chunk = grad_x + n0 * s.x_image;
        // 1. dy: (groups, C_out/G, images * L)
        const T* dy = grad_out + n0 * s.y_image;
        if (images > 1) {
            to_side_by_side(dy, Layout::whole(images), g.out_channels, s.L, dy_buffer);
            dy = dy_buffer;
        }
        // 2. dcols[g] = W[g]^T @ dy[g]: (K, C_out/G) @ (C_out/G, images * L); pointwise with one
        //    image, that is grad_x itself
        T* dcols = s.pointwise && images == 1 ? grad_x_chunk : cols_buffer;
        matmul<T>(weight, dy, dcols, g.groups, g.groups, s.K, images * s.L, s.out_per_group, true,
                  false);
        // 3. col2im: every entry back onto the pixel it was gathered from
        from_columns(dcols, images, grad_x_chunk, g, s);
    }
}

template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g) {
    const Sizes s(g);
    if (s.weight_size == 0) return;
    if (g.batch == 0 || s.L == 0) {  // an empty sum
        std::fill(grad_weight, grad_weight + s.weight_size, T(0));
        return;
    }
    // The sum over images goes inside the product: with a chunk's images side by side,
    //   dW[g] = dy[g] @ cols[g]^T,   dy[g]: (C_out/G, images*L),  cols[g]: (K, images*L)
    // is one product per group whose inner dimension runs over every image and position.
    //
    // matmul shares a product's output tiles among the threads, and a weight gradient is often
    // a single tile (C_out = 6, K = 25: a 6 x 25 result summed over 36864 positions), which one
    // thread would then compute alone. So a chunk is split into `parts` equal groups of images,
    // one product each: matmul runs them one per thread, and their sum is taken here. One thread
    // per part, with the images evenly divisible (else the chunk stays whole), and only when
    // each part has kMinPartWork multiply-adds to do.
    const int64_t threads = get_num_threads();
    const bool transposed = weight_product_transposed<T>(s);
    const ChunkScratch<T> scratch(s, (threads + 1) * s.weight_size);
    T* cols_buffer = scratch.columns;
    T* dy_buffer = scratch.outputs;
    T* products = dy_buffer + s.chunk * s.y_image;  // each part's dW (or dW^T)
    // The running sum over chunks, in the products' orientation: grad_weight itself when
    // upright; when transposed, a scratch dW^T, transposed into grad_weight once at the end.
    T* sum = transposed ? products + threads * s.weight_size : grad_weight;

    for (int64_t n0 = 0; n0 < g.batch; n0 += s.chunk) {
        const int64_t images = std::min(s.chunk, g.batch - n0);
        const int64_t work = s.weight_size * images * s.L;  // multiply-adds of the chunk
        int64_t parts = std::clamp<int64_t>(work / kMinPartWork, 1, std::min(threads, images));
        while (images % parts != 0) --parts;
        const Layout layout{images, parts, images / parts};
        const int64_t width = layout.per_part * s.L;  // the inner dimension of each product

        const T* cols = to_columns(x + n0 * s.x_image, layout, cols_buffer, g, s);
        const T* dy = grad_out + n0 * s.y_image;
        if (layout.per_part > 1) {
            to_side_by_side(dy, layout, g.out_channels, s.L, dy_buffer);
            dy = dy_buffer;
        }  // else: one image per part, and dy already is (parts, C_out, L)

        // One product per (part, group), all in one batched call. The first chunk, if whole,
        // writes the running sum directly; otherwise the parts are added into it.
        const bool first = n0 == 0;
        T* target = first && parts == 1 ? sum : products;
        if (transposed)  // dW[g]^T = cols[g] @ dy[g]^T: (K x C_out/G)
            matmul<T>(cols, dy, target, parts * g.groups, parts * g.groups, s.K, s.out_per_group,
                      width, false, true);
        else  // dW[g] = dy[g] @ cols[g]^T: (C_out/G x K)
            matmul<T>(dy, cols, target, parts * g.groups, parts * g.groups, s.out_per_group, s.K,
                      width, false, true);
        if (target == products)
            for (int64_t e = 0; e < s.weight_size; ++e) {
                T total = first ? T(0) : sum[e];
                for (int64_t part = 0; part < parts; ++part)
                    total += products[part * s.weight_size + e];
                sum[e] = total;
            }
    }

    // grad_weight[group, o, k] = sum[group, k, o]
    if (transposed)
        for (int64_t group = 0; group < g.groups; ++group) {
            const T* from = sum + group * s.K * s.out_per_group;
            T* to = grad_weight + group * s.out_per_group * s.K;
            for (int64_t k = 0; k < s.K; ++k)
                for (int64_t o = 0; o < s.out_per_group; ++o)
                    to[o * s.K + k] = from[k * s.out_per_group + o];
        }
}

template void conv2d_forward<float>(const float*, const float*, float*, const Conv2dGeometry&);
template void conv2d_forward<double>(const double*, const double*, double*, const Conv2dGeometry&);
template void conv2d_backward_input<float>(const float*, const float*, float*,
                                           const Conv2dGeometry&);
template void conv2d_backward_input<double>(const double*, const double*, double*,
                                            const Conv2dGeometry&);
template void conv2d_backward_weight<float>(const float*, const float*, float*,
                                            const Conv2dGeometry&);
template void conv2d_backward_weight<double>(const double*, const double*, double*,
                                             const Conv2dGeometry&);

}  // namespace minidl::cpu
