// 2-d convolution on the CPU: im2col + our matmul.
//
// The method (chosen by measurement, numbers below)
// -------------------------------------------------
// A convolution is a matrix product in disguise. For one image and one group, copy every window
// the filters slide over into a column matrix (im2col):
//
//   cols[(c, i, j), (r, s)] = x[c, r*stride_h - pad_h + i*dilation_h, s*stride_w - pad_w + j*dilation_w]
//                             (zero where that falls into the padding)
//   cols: (C_in/groups * kernel_h * kernel_w) rows  x  (out_h * out_w) columns
//
// and then all three kernels are GEMMs through csrc/cpu/matmul.cpp:
//
//   forward          y[n, g]      = W[g] @ cols[n, g]                   (C_out/g x K)(K x L)
//   backward_input   dcols[n, g]  = W[g]^T @ dy[n, g],  then col2im     (K x C_out/g)(C_out/g x L)
//   backward_weight  dW[g]       += dy[n, g] @ cols[n, g]^T             (C_out/g x L)(L x K)
//
// with K = C_in/groups * kernel_h * kernel_w and L = out_h * out_w. col2im is im2col's adjoint:
// each column entry is added back to the pixel it was copied from.
//
// The alternative is a direct convolution: loop over filters, input channels and kernel offsets,
// adding weight * (a shifted row of x) into rows of y, vectorised along the output row. It needs
// no column buffer, but each multiply-add loads an x value and loads and stores a y value, so it
// runs at memory speed, while the GEMM keeps a 12 x 32 tile of y in registers and reuses every
// loaded value 12 or 32 times. im2col costs one extra pass over K*L values per image, small
// next to the K*L*C_out/g multiply-adds of the product once C_out/g is more than a few.
// Measured (float32, 2 threads, forward only, best of 7; a direct version written for the
// comparison, vectorised along the output row, parallel over images and filters):
//
//   MEASUREMENTS_PLACEHOLDER
//
// Decisions at the edges of that choice:
// - 1x1 kernels with stride 1 and no padding need no im2col: an image (C_in, H*W) already is its
//   column matrix, so the products read x (and write grad_x) in place.
// - Images are processed in chunks whose column matrices fit a budget (kColumnBudget): small
//   images go many at a time (matmul then runs one product per thread), a large image alone
//   (matmul then spreads one product over all threads). The buffer stays in L2/L3 between the
//   im2col that writes it and the product that reads it.
// - backward_weight sums over the batch, and matmul only writes its output. Each image's product
//   goes to its own slot of a (images, C_out, K) buffer, in one batched matmul call (so the images
//   run in parallel with no shared accumulator), and a final loop sums the slots.
// - Threads: im2col and col2im run in parallel over (image, channel) planes, each plane written
//   by one thread, so there are no races; the products use matmul's own threading. Nothing calls
//   matmul from inside a parallel region.

#include "cpu/conv2d.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/runtime.h"

namespace minidl::cpu {

namespace {

// The column buffer of one chunk of images holds at most this many values (4 MiB of floats),
// unless one image alone needs more. Measured on the benchmark shapes (benchmarks/conv.py):
// MEASURED_BUDGET_PLACEHOLDER
constexpr int64_t kColumnBudget = int64_t(1) << 20;

// Below this many values copied, im2col/col2im run on one thread: starting the second costs more.
constexpr int64_t kMinParallelCopy = int64_t(1) << 15;

// Scratch buffers above this size are freed after the call instead of kept for the next one.
constexpr size_t kKeepScratchBytes = size_t(64) << 20;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---------------------------------------------------------------------------------------------
// Sizes derived from the geometry, named once.

struct Sizes {
    int64_t L;             // output positions per image: out_h * out_w
    int64_t window;        // kernel_h * kernel_w
    int64_t in_per_group;  // C_in / groups
    int64_t out_per_group; // C_out / groups
    int64_t K;             // rows of one group's column matrix: in_per_group * window
    int64_t x_image;       // values of one image of x: C_in * H * W
    int64_t y_image;       // values of one image of y: C_out * L
    int64_t cols_image;    // values of one image's column matrices: C_in * window * L
    int64_t weight_size;   // C_out * K
    bool pointwise;        // 1x1 kernel, stride 1, no padding: x is its own column matrix

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
                    g.pad_h == 0 && g.pad_w == 0) {}

    // Images per chunk when each needs `buffered` values of scratch: as many as fit the budget,
    // at least one.
    static int64_t chunk(int64_t batch, int64_t buffered) {
        return std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(buffered, 1), 1, batch);
    }
    // forward and backward_input buffer the column matrices; pointwise, nothing at all.
    int64_t chunk(int64_t batch) const { return pointwise ? batch : chunk(batch, cols_image); }
};

// ---------------------------------------------------------------------------------------------
// Scratch memory, kept per calling thread between calls so that a training loop does not
// allocate (and page-fault in) megabytes on every step. Two buffers, because backward_weight
// needs two at once.

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
thread_local Scratch<T> t_columns;  // column matrices of one chunk
template <typename T>
thread_local Scratch<T> t_partial;  // backward_weight: dy side by side, and a chunk's product

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

// Write the window rows (L values each, row_stride apart) that one input channel contributes to
// a column matrix:
//   rows[(i, j), (r, s)] = plane[r*stride_h + i*dilation_h - pad_h, s*stride_w + j*dilation_w - pad_w]
// Padding positions are written as zeros, so the buffer needs no clearing beforehand.
template <typename T>
void im2col_plane(const T* plane, T* rows, int64_t row_stride, const Conv2dGeometry& g, int64_t L) {
    for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t row_offset = i * g.dilation_h - g.pad_h;
        const Span out_rows = inside(row_offset, g.stride_h, g.in_h, g.out_h);
        for (int64_t j = 0; j < g.kernel_w; ++j, rows += row_stride) {
            const int64_t col_offset = j * g.dilation_w - g.pad_w;
            const Span out_cols = inside(col_offset, g.stride_w, g.in_w, g.out_w);

            // Output rows whose window row falls into the top or bottom padding: all zeros.
            std::fill(rows, rows + out_rows.begin * g.out_w, T(0));
            std::fill(rows + out_rows.end * g.out_w, rows + L, T(0));
            for (int64_t r = out_rows.begin; r < out_rows.end; ++r) {
                const T* in = plane + (r * g.stride_h + row_offset) * g.in_w;
                T* out = rows + r * g.out_w;
                std::fill(out, out + out_cols.begin, T(0));
                if (out_cols.begin == out_cols.end) {
                    // the whole row falls into the left or right padding
                } else if (g.stride_w == 1) {  // a contiguous run of the input row
                    std::copy(in + out_cols.begin + col_offset, in + out_cols.end + col_offset,
                              out + out_cols.begin);
                } else {
                    for (int64_t s = out_cols.begin; s < out_cols.end; ++s)
                        out[s] = in[s * g.stride_w + col_offset];
                }
                std::fill(out + out_cols.end, out + g.out_w, T(0));
            }
        }
    }
}

// The adjoint of im2col_plane: plane (zeroed here first) += every column entry at the pixel it
// was copied from. Entries that were padding are dropped.
template <typename T>
void col2im_plane(const T* rows, T* plane, const Conv2dGeometry& g, int64_t L) {
    std::fill(plane, plane + g.in_h * g.in_w, T(0));
    for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t row_offset = i * g.dilation_h - g.pad_h;
        const Span out_rows = inside(row_offset, g.stride_h, g.in_h, g.out_h);
        for (int64_t j = 0; j < g.kernel_w; ++j, rows += L) {
            const int64_t col_offset = j * g.dilation_w - g.pad_w;
            const Span out_cols = inside(col_offset, g.stride_w, g.in_w, g.out_w);
            for (int64_t r = out_rows.begin; r < out_rows.end; ++r) {
                T* in = plane + (r * g.stride_h + row_offset) * g.in_w;
                const T* out = rows + r * g.out_w;
                for (int64_t s = out_cols.begin; s < out_cols.end; ++s)
                    in[s * g.stride_w + col_offset] += out[s];
            }
        }
    }
}

// Threads for a copy of `values` values split into `planes` independent planes.
int copy_threads(int64_t values, int64_t planes) {
    if (values < kMinParallelCopy) return 1;
    return int(std::min<int64_t>(get_num_threads(), planes));
}

// Column matrices of `images` consecutive images, one after another: cols[b] is
// (C_in * window, L), which read as (groups, K, L) is each group's matrix in turn (a group's
// channels are consecutive).
template <typename T>
void im2col_images(const T* x, int64_t images, T* cols, const Conv2dGeometry& g, const Sizes& s) {
    const int64_t planes = images * g.in_channels;
    const int64_t plane_size = g.in_h * g.in_w, plane_cols = s.window * s.L;
    const int threads = copy_threads(planes * plane_cols, planes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p)
        im2col_plane(x + p * plane_size, cols + p * plane_cols, s.L, g, s.L);
}

// The column matrices of `images` images side by side instead: one (C_in * window, images * L)
// matrix whose column b*L + l is position l of image b. A product with it sums over images and
// positions at once (backward_weight's reduction).
template <typename T>
void im2col_images_side_by_side(const T* x, int64_t images, T* cols, const Conv2dGeometry& g,
                                const Sizes& s) {
    const int64_t planes = images * g.in_channels;
    const int64_t plane_size = g.in_h * g.in_w, row_stride = images * s.L;
    const int threads = copy_threads(planes * s.window * s.L, planes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p) {
        const int64_t b = p / g.in_channels, c = p % g.in_channels;
        im2col_plane(x + p * plane_size, cols + c * s.window * row_stride + b * s.L, row_stride, g,
                     s.L);
    }
}

// a (images, rows, L) -> (rows, images * L): row r of the result is row r of every image in turn.
template <typename T>
void place_side_by_side(const T* a, int64_t images, int64_t rows, int64_t L, T* out) {
    const int threads = copy_threads(images * rows * L, rows);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t b = 0; b < images; ++b)
            std::copy(a + (b * rows + r) * L, a + (b * rows + r + 1) * L, out + (r * images + b) * L);
}

template <typename T>
void col2im_images(const T* cols, int64_t images, T* x, const Conv2dGeometry& g, const Sizes& s) {
    const int64_t planes = images * g.in_channels;
    const int64_t plane_size = g.in_h * g.in_w, plane_cols = s.window * s.L;
    const int threads = copy_threads(planes * plane_cols, planes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t p = 0; p < planes; ++p)
        col2im_plane(cols + p * plane_cols, x + p * plane_size, g, s.L);
}

// backward_weight's product dW = dy @ cols^T is (C_out/G x K); it can as well be computed as
// dW^T = cols @ dy^T (K x C_out/G) and transposed back, which costs nothing next to the product.
// matmul computes C in register tiles of 12 rows x 32 columns (float, AVX-512; see Blocking in
// matmul.cpp), and a partly filled tile costs as much as a full one, so the orientation that
// wastes less of its tiles wins: C_out = 64, K = 576 runs 72 -> 84 GF/s transposed (64 fills
// two 32-wide tiles exactly, where 64 rows leave a 4-row tile); C_out = 6, K = 25 is better
// upright. Only speed depends on this choice (the tile sizes are an estimate here, never a
// requirement).
bool weight_product_transposed(const Sizes& s) {
    constexpr int64_t kTileRows = 12, kTileCols = 32;
    auto padded = [](int64_t rows, int64_t cols) {
        return ceil_div(rows, kTileRows) * kTileRows * ceil_div(cols, kTileCols) * kTileCols;
    };
    return padded(s.K, s.out_per_group) <= padded(s.out_per_group, s.K);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int64_t conv2d_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation) {
    const int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1;
    // Floor division (span may be negative: the kernel does not fit, and the result is < 1).
    return (span >= 0 ? span / stride : -ceil_div(-span, stride)) + 1;
}

template <typename T>
void conv2d_forward(const T* x, const T* weight, T* y, const Conv2dGeometry& g) {
    const Sizes s(g);
    if (g.batch == 0 || s.y_image == 0) return;
    const int64_t chunk = s.chunk(g.batch);
    T* buffer = s.pointwise ? nullptr : t_columns<T>.get(size_t(chunk * s.cols_image));

    for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
        const int64_t images = std::min(chunk, g.batch - n0);
        const T* cols = x + n0 * s.x_image;  // pointwise: the images themselves
        if (!s.pointwise) {
            im2col_images(x + n0 * s.x_image, images, buffer, g, s);
            cols = buffer;
        }
        T* y_chunk = y + n0 * s.y_image;
        if (g.groups == 1) {
            // One weight for every image: matmul shares a batch-1 operand across the batch.
            matmul<T>(weight, cols, y_chunk, 1, images, g.out_channels, s.L, s.K, false, false);
        } else {
            // Per image, one product per group: weight (G, C_out/G, K) @ cols (G, K, L).
            for (int64_t b = 0; b < images; ++b)
                matmul<T>(weight, cols + b * s.cols_image, y_chunk + b * s.y_image, g.groups,
                          g.groups, s.out_per_group, s.L, s.K, false, false);
        }
    }
    t_columns<T>.trim();
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_x, const Conv2dGeometry& g) {
    const Sizes s(g);
    if (g.batch == 0 || s.x_image == 0) return;
    if (s.y_image == 0) {  // no outputs (C_out = 0): nothing flows back
        std::fill(grad_x, grad_x + g.batch * s.x_image, T(0));
        return;
    }
    const int64_t chunk = s.chunk(g.batch);
    T* buffer = s.pointwise ? nullptr : t_columns<T>.get(size_t(chunk * s.cols_image));

    for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
        const int64_t images = std::min(chunk, g.batch - n0);
        // pointwise: the column gradient is the input gradient, written in place
        T* dcols = s.pointwise ? grad_x + n0 * s.x_image : buffer;
        const T* dy = grad_out + n0 * s.y_image;
        if (g.groups == 1) {
            matmul<T>(weight, dy, dcols, 1, images, s.K, s.L, g.out_channels, true, false);
        } else {
            for (int64_t b = 0; b < images; ++b)
                matmul<T>(weight, dy + b * s.y_image, dcols + b * s.cols_image, g.groups,
                          g.groups, s.K, s.L, s.out_per_group, true, false);
        }
        if (!s.pointwise) col2im_images(buffer, images, grad_x + n0 * s.x_image, g, s);
    }
    t_columns<T>.trim();
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
    // Scratch per image: its column matrix, and its dy placed side by side with the others'.
    const bool transposed = weight_product_transposed(s);
    const int64_t chunk = Sizes::chunk(g.batch, s.cols_image + s.y_image);
    T* cols_buffer = t_columns<T>.get(size_t(chunk * s.cols_image));
    T* dy_buffer = t_partial<T>.get(size_t(chunk * s.y_image + s.weight_size));
    T* product = dy_buffer + chunk * s.y_image;  // (groups, K, C_out/G): one chunk's dW^T

    for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
        const int64_t images = std::min(chunk, g.batch - n0);
        const T* x_chunk = x + n0 * s.x_image;
        const T* dy = grad_out + n0 * s.y_image;
        const T* cols = x_chunk;
        if (images > 1) {
            place_side_by_side(dy, images, g.out_channels, s.L, dy_buffer);
            dy = dy_buffer;
            if (s.pointwise) {
                place_side_by_side(x_chunk, images, g.in_channels, s.L, cols_buffer);
            } else {
                im2col_images_side_by_side(x_chunk, images, cols_buffer, g, s);
            }
            cols = cols_buffer;
        } else if (!s.pointwise) {
            im2col_images(x_chunk, 1, cols_buffer, g, s);
            cols = cols_buffer;
        }

        const bool first = n0 == 0;
        if (!transposed) {
            // the first chunk's product goes straight into grad_weight, later ones are added
            T* target = first ? grad_weight : product;
            matmul<T>(dy, cols, target, g.groups, g.groups, s.out_per_group, s.K, images * s.L,
                      false, true);
            if (!first)
                for (int64_t e = 0; e < s.weight_size; ++e) grad_weight[e] += product[e];
            continue;
        }
        // dW[g]^T = cols[g] @ dy[g]^T, then grad_weight[group, o, k] (+)= product[group, k, o]
        matmul<T>(cols, dy, product, g.groups, g.groups, s.K, s.out_per_group, images * s.L,
                  false, true);
        for (int64_t group = 0; group < g.groups; ++group) {
            const T* from = product + group * s.K * s.out_per_group;
            T* to = grad_weight + group * s.out_per_group * s.K;
            for (int64_t o = 0; o < s.out_per_group; ++o)
                for (int64_t k = 0; k < s.K; ++k) {
                    const T value = from[k * s.out_per_group + o];
                    to[o * s.K + k] = first ? value : to[o * s.K + k] + value;
                }
        }
    }
    t_columns<T>.trim();
    t_partial<T>.trim();
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
