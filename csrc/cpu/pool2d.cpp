// Max and average pooling on the CPU.
//
// Pooling does almost no arithmetic (one compare or add per input element read), so its speed is
// the speed of memory, if the loops let the compiler use vector instructions. Four things do:
//   - planes: every (n, c) plane is pooled independently, so the threads split the N*C planes
//     between them and never write to the same memory;
//   - blocks: outputs are computed a block (one cache line: 16 floats, 8 doubles) at a time
//     along an output row, in loops of fixed length that the compiler turns into straight vector
//     code, with selects instead of branches (a max-pooling branch on random data is mispredicted
//     about every other time);
//   - a row buffer: the input rows of one output row are copied once into a buffer with the
//     padding written out and the columns deinterleaved by the stride, so that every window tap
//     of a block is one contiguous vector load with no bounds test;
//   - a fast path for the window every CNN uses (2x2, stride 2, no padding, no dilation), which
//     reads the input in place.
// Which window taps fall inside the input depends only on the output's row and column, never on
// the plane, so it is worked out once per call (WindowTaps).
//
// Measured on the 2-core AVX-512 machine these kernels were written on, float32, 64x16x28x28, one
// thread: the blocks are 3-5x faster than the same loops one output at a time. See
// benchmarks/pool.py.
//
// The results match minidl/backend/reference.py exactly for max pooling (values and indices,
// including the tie and NaN rules) and for the 2x2 average-pooling forward (same summation order).

#include "cpu/pool2d.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu/runtime.h"

namespace minidl::cpu {

namespace {

// ---------------------------------------------------------------------------------------------
// Geometry shared by the four kernels

// The window taps i in [first, end) that land inside the input along one axis, for a window whose
// tap 0 sits at `start` (negative in the padding): the rest are padding and are skipped.
struct Taps {
    int64_t first, end;
};

Taps inside_taps(int64_t start, int64_t size, int64_t kernel, int64_t dilation) {
    // first: the smallest i with start + i*dilation >= 0 (a ceiling division of -start)
    const int64_t first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    // end: one past the largest i with start + i*dilation <= size - 1
    const int64_t end = start >= size ? 0 : std::min(kernel, (size - 1 - start) / dilation + 1);
    // A window entirely in the padding (possible with dilation) has no taps: first == end.
    return {first, std::max(first, end)};
}

// Taps of every output row and every output column, computed once per call.
struct WindowTaps {
    std::vector<Taps> rows, cols;
    std::vector<int64_t> row_start, col_start;  // input row/column of tap 0 (may be negative)

    explicit WindowTaps(const Pool2dGeometry& s)
        : rows(s.out_h), cols(s.out_w), row_start(s.out_h), col_start(s.out_w) {
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
            row_start[oh] = oh * s.stride_h - s.padding_h;
            rows[oh] = inside_taps(row_start[oh], s.in_h, s.kernel_h, s.dilation_h);
        }
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
            col_start[ow] = ow * s.stride_w - s.padding_w;
            cols[ow] = inside_taps(col_start[ow], s.in_w, s.kernel_w, s.dilation_w);
        }
    }
};

// The common CNN window: 2x2, stride 2, no padding, no dilation, and (ceil_mode aside) every
// window inside the input. Each output then reads input rows 2*oh and 2*oh+1, columns 2*ow and
// 2*ow+1, with no bounds to check.
bool is_2x2_stride_2(const Pool2dGeometry& s) {
    return s.kernel_h == 2 && s.kernel_w == 2 && s.stride_h == 2 && s.stride_w == 2 &&
           s.padding_h == 0 && s.padding_w == 0 && s.dilation_h == 1 && s.dilation_w == 1 &&
           2 * s.out_h <= s.in_h && 2 * s.out_w <= s.in_w;
}

// Each thread gets at least this many element operations: below it, starting the team costs
// more than it saves.
constexpr int64_t kMinWorkPerThread = 1 << 15;

// The avg-pooling divisor of one output along one axis: the window's length clipped to the padded
// input (count_include_pad; a ceil_mode window may hang past the padding) or to the input itself.
int64_t avg_length(int64_t start, int64_t size, int64_t kernel, int64_t padding,
                   bool count_include_pad) {
    if (count_include_pad) return std::min(start + kernel, size + padding) - start;
    return std::min(start + kernel, size) - std::max<int64_t>(start, 0);
}

// ---------------------------------------------------------------------------------------------
// Max pooling

// Whether v replaces `best` as the running maximum: when it is larger, or when it is a NaN and
// best is not yet one (the first NaN wins and stays: nothing compares larger than NaN).
// Used in selects, not branches (see max_block_2x2), written as a plain logical expression,
// which vectorisers turn into compare-and-blend (GCC 12 does so for this form, not for a
// bitwise (v > best) | (...) one).
template <typename T>
inline bool beats(T v, T best) {
    return v > best || (v != v && best == best);
}

// Blocks. Every path computes kBlock<T> outputs of one output row at a time, in loops over the
// block's lanes whose trip count is a compile-time constant, so the compiler emits straight
// vector code with selects and no scalar remainder loop. That matters: pooled rows are short
// (14 outputs for a 28x28 map), so a remainder loop would do nearly all the work, and as scalar
// code the selects below become branches that random data mispredicts half the time (measured:
// 7x slower than the blocks).
//
// Tiling decision: a block is one cache line of outputs, 64 bytes (16 floats, 8 doubles), so it
// follows the element type, and it is a whole number of the vectors the compiler targets: one
// register with AVX-512, two with AVX2, four with SSE2 or NEON (the compiler unrolls the lanes
// loop over them).
#if defined(__AVX512F__)
constexpr int64_t kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int64_t kVectorBytes = 32;
#else  // SSE2 (every x86-64) or NEON
constexpr int64_t kVectorBytes = 16;
#endif
constexpr int64_t kBlockBytes = 64;
static_assert(kBlockBytes % kVectorBytes == 0, "a block is a whole number of vectors");
template <typename T>
constexpr int64_t kBlock = kBlockBytes / int64_t(sizeof(T));

// Outputs k = 0..kBlock<T>-1 of a block: the 2x2 window at columns 2k, 2k+1 of rows `top` and
// `bottom`. Indices are `top_index` + the position in the window's rows, `W` apart.
template <typename T>
inline void max_block_2x2(const T* top, const T* bottom, T* y, int64_t* indices, int64_t top_index,
                          int64_t W) {
    for (int64_t k = 0; k < kBlock<T>; ++k) {
        const int64_t w = 2 * k;
        // The four elements in row-major order; strict "beats" keeps the first of equals.
        // Selects, not branches: the compiler runs all kBlock<T> outputs at once in vector
        // registers.
        const T a = top[w], b = top[w + 1], c = bottom[w], d = bottom[w + 1];
        T best = a;
        int64_t where = top_index + w;
        const bool b_wins = beats(b, best);
        best = b_wins ? b : best;
        where = b_wins ? top_index + w + 1 : where;
        const bool c_wins = beats(c, best);
        best = c_wins ? c : best;
        where = c_wins ? top_index + W + w : where;
        const bool d_wins = beats(d, best);
        best = d_wins ? d : best;
        where = d_wins ? top_index + W + w + 1 : where;
        y[k] = best;
        indices[k] = where;
    }
}

// `x_end`: one past the last element of the whole input, to know how far a block may read.
template <typename T>
void max_plane_2x2(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s, const T* x_end) {
    const int64_t W = s.in_w, OH = s.out_h, OW = s.out_w;
    const int64_t full = OW - OW % kBlock<T>;  // outputs covered by whole blocks
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h = 2 * oh;
        const T* top = x + h * W;
        const T* bottom = top + W;
        T* y_row = y + oh * OW;
        int64_t* index_row = indices + oh * OW;
        for (int64_t ow = 0; ow < full; ow += kBlock<T>)
            max_block_2x2(top + 2 * ow, bottom + 2 * ow, y_row + ow, index_row + ow, h * W + 2 * ow,
                          W);
        if (full == OW) continue;
        // The last, partial block runs whole too; its extra lanes are dropped. They must not be
        // written (they would land on the next row, which may belong to another thread's plane),
        // so the block writes to a small buffer first. They may be read: the lanes past the row
        // read the next rows of x, harmlessly, except at the very end of x, where the two rows are
        // first copied into zero-padded buffers.
        const int64_t rest = OW - full;
        T y_buf[kBlock<T>];
        int64_t index_buf[kBlock<T>];
        const T* top_block = top + 2 * full;
        const T* bottom_block = bottom + 2 * full;
        T top_buf[2 * kBlock<T>] = {}, bottom_buf[2 * kBlock<T>] = {};
        if (bottom_block + 2 * kBlock < T >> x_end) {
            std::copy(top_block, top_block + 2 * rest, top_buf);
            std::copy(bottom_block, bottom_block + 2 * rest, bottom_buf);
            top_block = top_buf;
            bottom_block = bottom_buf;
        }
        max_block_2x2(top_block, bottom_block, y_buf, index_buf, h * W + 2 * full, W);
        std::copy(y_buf, y_buf + rest, y_row + full);
        std::copy(index_buf, index_buf + rest, index_row + full);
    }
}

// Any window shape, kBlock<T> outputs of an output row at a time, like max_block_2x2.
//
// The input rows an output row needs are first copied into a buffer, each as the windows see it:
// -inf in the padding on both sides, and on the right as far as the last block's extra lanes
// reach. Every tap of every lane then reads the buffer without a bounds test. -inf never beats
// the starting -inf, so padding never wins; a window whose real elements are all -inf is the one
// case where nothing wins, fixed up after the block.
//
// The copy also deinterleaves each row by the stride s: padded column c goes to phase c % s,
// slot c / s. Lane k of tap j reads padded column (ow0 + k)*s + j*dw, which is slot
// ow0 + k + (j*dw)/s of phase (j*dw) % s: consecutive lanes read consecutive slots, one vector
// load, whatever the stride. (Read in place, a stride-s column would be assembled element by
// element: measured 2x slower at stride 2.)
struct PhasedRows {
    int64_t phases;     // the column stride s
    int64_t slots;      // slots per phase
    int64_t row_len;    // phases * slots: one row of the buffer
    int64_t real_cols;  // columns of an input row that some window reads (a prefix of the row)
};

template <typename T>
PhasedRows phased_rows(const Pool2dGeometry& s) {
    const int64_t lanes =
        (s.out_w + kBlock<T> - 1) / kBlock<T> * kBlock<T>;  // outputs the blocks compute
    const int64_t padded_len =
        (lanes - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1;  // columns they read
    const int64_t slots = (padded_len + s.stride_w - 1) / s.stride_w;
    return {s.stride_w, slots, s.stride_w * slots, std::min(s.in_w, padded_len - s.padding_w)};
}

// One tap of the windows of an output row, for lane 0 of block 0 (output column 0): where it
// reads in the buffer and which input position that is. Lane k of the block at ow0 reads
// offset + ow0 + k and position first_index + (ow0 + k)*stride.
struct Tap {
    int64_t offset;  // -1 ends a list of taps
    int64_t first_index;
};

// The taps of output row oh in row-major window order, the padding rows left out, ended by
// offset -1 (see max_block for why a marker rather than a count). The buffer holds either the
// rows of this output row's windows (tap row i at i*row_len) or, with whole_plane, every input
// row (input row h at h*row_len).
void row_taps_list(const Pool2dGeometry& s, const WindowTaps& taps, const PhasedRows& layout,
                   int64_t oh, bool whole_plane, std::vector<Tap>& list) {
    const int64_t step = layout.phases;
    list.clear();
    for (int64_t i = taps.rows[oh].first; i < taps.rows[oh].end; ++i) {
        const int64_t h = taps.row_start[oh] + i * s.dilation_h;
        const int64_t row = (whole_plane ? h : i) * layout.row_len;
        for (int64_t j = 0; j < s.kernel_w; ++j) {
            const int64_t c =
                j * s.dilation_w;  // padded column of tap j in output column 0's window
            list.push_back(
                {row + (c % step) * layout.slots + c / step, h * s.in_w + c - s.padding_w});
        }
    }
    list.push_back({-1, 0});
}

// Copies input row x_row into `row` of the buffer, deinterleaved: slot m of phase p is padded
// column m*step + p, input column m*step + p - pw. Only real columns are written; the padding
// keeps the value the buffer was filled with.
template <typename T>
void copy_phased_row(const T* x_row, T* row, const PhasedRows& layout, int64_t pw) {
    const int64_t step = layout.phases;
    for (int64_t p = 0; p < step; ++p) {
        T* phase = row + p * layout.slots;
        const int64_t first = p >= pw ? 0 : (pw - p + step - 1) / step;  // first real slot
        for (int64_t m = first, w = first * step + p - pw; w < layout.real_cols; ++m, w += step)
            phase[m] = x_row[w];
    }
}

// The reverse: real columns of a buffer row back into an input-shaped row; a column no window
// reads (past real_cols) gets 0.
template <typename T>
void uncopy_phased_row(const T* row, T* x_row, const PhasedRows& layout, int64_t pw, int64_t W) {
    const int64_t step = layout.phases;
    for (int64_t p = 0; p < step; ++p) {
        const T* phase = row + p * layout.slots;
        const int64_t first = p >= pw ? 0 : (pw - p + step - 1) / step;
        for (int64_t m = first, w = first * step + p - pw; w < layout.real_cols; ++m, w += step)
            x_row[w] = phase[m];
    }
    std::fill(x_row + layout.real_cols, x_row + W, T(0));
}

// Loads what output row oh of a plane reads: each input row of its windows into the buffer
// (tap row i at i*row_len, deinterleaved; the padding keeps the buffer's fill value), and the
// list of its taps.
template <typename T>
void load_window_rows(const T* x, const Pool2dGeometry& s, const WindowTaps& taps,
                      const PhasedRows& layout, int64_t oh, T* buffer, std::vector<Tap>& tap_list) {
    for (int64_t i = taps.rows[oh].first; i < taps.rows[oh].end; ++i)
        copy_phased_row(x + (taps.row_start[oh] + i * s.dilation_h) * s.in_w,
                        buffer + i * layout.row_len, layout, s.padding_w);
    row_taps_list(s, taps, layout, oh, false, tap_list);
}

// One block: outputs ow0 .. ow0 + kBlock<T> - 1 of output row oh (only the first `count` exist).
// Loop structure: taps outside, lanes inside. The lanes loop (k, fixed length) is the vector
// loop, and best/where stay in vector registers from the first tap to the last. The taps loop
// walks a list to its end marker rather than counting, so that no compiler fuses two taps into
// one lanes loop (GCC 12 does that to a counted loop, "unroll and jam", and then fails to
// vectorise it: 2-4x slower).
template <typename T>
void max_block(const T* rows, const Tap* tap_list, const Pool2dGeometry& s, const WindowTaps& taps,
               int64_t oh, int64_t ow0, int64_t count, T* y, int64_t* indices) {
    const int64_t step = s.stride_w;
    T best[kBlock<T>];
    int64_t where[kBlock<T>];
    std::fill(best, best + kBlock<T>, -std::numeric_limits<T>::infinity());
    std::fill(where, where + kBlock<T>, int64_t(-1));
    for (const Tap* tap = tap_list; tap->offset >= 0; ++tap) {
        const T* column = rows + tap->offset + ow0;
        const int64_t first_index = tap->first_index + ow0 * step;
        for (int64_t k = 0; k < kBlock<T>; ++k) {
            const T v = column[k];
            const bool wins = beats(v, best[k]);
            best[k] = wins ? v : best[k];
            where[k] = wins ? first_index + k * step : where[k];
        }
    }
    const Taps row_taps = taps.rows[oh];
    for (int64_t k = 0; k < count; ++k) {
        const Taps cols = taps.cols[ow0 + k];
        if (where[k] < 0 && row_taps.first < row_taps.end && cols.first < cols.end) {
            // All real elements are -inf: the first of them is the maximum. (A window with no
            // real elements, all padding, keeps -inf and index -1.)
            where[k] = (taps.row_start[oh] + row_taps.first * s.dilation_h) * s.in_w +
                       taps.col_start[ow0 + k] + cols.first * s.dilation_w;
        }
        y[k] = best[k];
        indices[k] = where[k];
    }
}

template <typename T>
void max_plane(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s, const WindowTaps& taps,
               std::vector<T>& buffer, std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows<T>(s);
    buffer.assign(s.kernel_h * layout.row_len, -std::numeric_limits<T>::infinity());  // the padding
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
        load_window_rows(x, s, taps, layout, oh, buffer.data(), tap_list);
        for (int64_t ow0 = 0; ow0 < s.out_w; ow0 += kBlock<T>) {
            const int64_t at = oh * s.out_w + ow0;
            max_block(buffer.data(), tap_list.data(), s, taps, oh, ow0,
                      std::min(kBlock<T>, s.out_w - ow0), y + at, indices + at);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Average pooling

template <typename T>
void avg_plane_2x2(const T* x, T* y, const Pool2dGeometry& s) {
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
        const T* top = x + 2 * oh * s.in_w;
        const T* bottom = top + s.in_w;
        T* y_row = y + oh * s.out_w;
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
            const int64_t w = 2 * ow;
            // Summed from zero in row-major order, as the generic loop and the reference do, so
            // the results agree to the last bit. No padding: the divisor is 4 either way.
            T sum = T(0);
            sum += top[w];
            sum += top[w + 1];
            sum += bottom[w];
            sum += bottom[w + 1];
            y_row[ow] = sum / T(4);
        }
    }
}

// Any window shape, kBlock<T> outputs at a time over the same deinterleaved row buffer as
// max_plane (zeros in the padding): each tap adds one vector of inputs to the block's sums, which
// are then divided by each output's divisor. Taps are summed in row-major window order from zero,
// as in the reference.
template <typename T>
void avg_plane(const T* x, T* y, const Pool2dGeometry& s, const WindowTaps& taps,
               const std::vector<T>& row_length, const std::vector<T>& col_length,
               std::vector<T>& buffer, std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows<T>(s);
    buffer.assign(s.kernel_h * layout.row_len, T(0));  // the padding
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
        load_window_rows(x, s, taps, layout, oh, buffer.data(), tap_list);
        for (int64_t ow0 = 0; ow0 < s.out_w; ow0 += kBlock<T>) {
            T sum[kBlock<T>] = {};
            // A list walked to its end marker, not a counted loop: see max_block.
            for (const Tap* tap = tap_list.data(); tap->offset >= 0; ++tap) {
                const T* column = buffer.data() + tap->offset + ow0;
                for (int64_t k = 0; k < kBlock<T>; ++k) sum[k] += column[k];
            }
            const int64_t count = std::min(kBlock<T>, s.out_w - ow0);
            for (int64_t k = 0; k < count; ++k)
                y[oh * s.out_w + ow0 + k] = sum[k] / (row_length[oh] * col_length[ow0 + k]);
        }
    }
}

template <typename T>
void avg_plane_backward_2x2(const T* grad_out, T* grad_x, const Pool2dGeometry& s) {
    const int64_t W = s.in_w, OH = s.out_h, OW = s.out_w;
    // The windows do not overlap: each input element receives a quarter of one output's gradient,
    // except a last odd row or column, which no window covers and which stays 0.
    std::fill(grad_x, grad_x + s.in_h * W, T(0));
    for (int64_t oh = 0; oh < OH; ++oh) {
        T* top = grad_x + 2 * oh * W;
        T* bottom = top + W;
        const T* g_row = grad_out + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
            const T share = g_row[ow] / T(4);
            top[2 * ow] = share;
            top[2 * ow + 1] = share;
            bottom[2 * ow] = share;
            bottom[2 * ow + 1] = share;
        }
    }
}

// The transpose of avg_plane: each output's share, grad / divisor, is added to every element
// of its window, a block of kBlock<T> outputs and one tap at a time, into a deinterleaved buffer
// holding the whole plane's gradient (windows of different output rows overlap when the stride
// is below the kernel). The padding's shares land in buffer slots that are never copied out.
template <typename T>
void avg_plane_backward(const T* grad_out, T* grad_x, const Pool2dGeometry& s,
                        const WindowTaps& taps, const std::vector<T>& row_length,
                        const std::vector<T>& col_length, std::vector<T>& buffer,
                        std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows<T>(s);
    buffer.assign(s.in_h * layout.row_len, T(0));
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
        row_taps_list(s, taps, layout, oh, true, tap_list);
        for (int64_t ow0 = 0; ow0 < s.out_w; ow0 += kBlock<T>) {
            // The block's lanes past the last output carry a share of 0: their windows may cover
            // real columns that no real window covers.
            T share[kBlock<T>] = {};
            const int64_t count = std::min(kBlock<T>, s.out_w - ow0);
            for (int64_t k = 0; k < count; ++k)
                share[k] =
                    grad_out[oh * s.out_w + ow0 + k] / (row_length[oh] * col_length[ow0 + k]);
            // A list walked to its end marker, not a counted loop: see max_block.
            for (const Tap* tap = tap_list.data(); tap->offset >= 0; ++tap) {
                T* column = buffer.data() + tap->offset + ow0;
                for (int64_t k = 0; k < kBlock<T>; ++k) column[k] += share[k];
            }
        }
    }
    for (int64_t h = 0; h < s.in_h; ++h)
        uncopy_phased_row(buffer.data() + h * layout.row_len, grad_x + h * s.in_w, layout,
                          s.padding_w, s.in_w);
}

// Per-axis divisors of average pooling, as T, for every output row and column.
template <typename T>
void avg_lengths(const Pool2dGeometry& s, bool count_include_pad, std::vector<T>& row_length,
                 std::vector<T>& col_length) {
    row_length.resize(s.out_h);
    col_length.resize(s.out_w);
    for (int64_t oh = 0; oh < s.out_h; ++oh)
        row_length[oh] = T(avg_length(oh * s.stride_h - s.padding_h, s.in_h, s.kernel_h,
                                      s.padding_h, count_include_pad));
    for (int64_t ow = 0; ow < s.out_w; ++ow)
        col_length[ow] = T(avg_length(ow * s.stride_w - s.padding_w, s.in_w, s.kernel_w,
                                      s.padding_w, count_include_pad));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The four kernels: one plane per loop iteration, the planes split between threads.

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dGeometry& s) {
    const int64_t planes = s.batch * s.channels;
    const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
    [[maybe_unused]] const int threads =
        threads_for(planes * out_plane * s.kernel_h * s.kernel_w, kMinWorkPerThread, planes);
    const bool fast = is_2x2_stride_2(s);
    const WindowTaps taps(s);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        std::vector<T> buffer;      // each thread's copy of the input rows one output row reads
        std::vector<Tap> tap_list;  // and the taps of that output row
#pragma omp for schedule(static)
        for (int64_t plane = 0; plane < planes; ++plane) {
            const T* x_plane = x + plane * in_plane;
            T* y_plane = y + plane * out_plane;
            int64_t* index_plane = indices + plane * out_plane;
            if (fast)
                max_plane_2x2(x_plane, y_plane, index_plane, s, x + planes * in_plane);
            else
                max_plane(x_plane, y_plane, index_plane, s, taps, buffer, tap_list);
        }
    }
}

template <typename T>
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x,
                            const Pool2dGeometry& s) {
    const int64_t planes = s.batch * s.channels;
    const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
    [[maybe_unused]] const int threads =
        threads_for(planes * (in_plane + out_plane), kMinWorkPerThread, planes);
    int64_t bad = 0;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1) reduction(+ : bad)
    for (int64_t plane = 0; plane < planes; ++plane) {
        T* g_plane = grad_x + plane * in_plane;
        const T* go_plane = grad_out + plane * out_plane;
        const int64_t* index_plane = indices + plane * out_plane;
        std::fill(g_plane, g_plane + in_plane, T(0));
        for (int64_t o = 0; o < out_plane; ++o) {
            const int64_t where = index_plane[o];
            if (where == -1) continue;  // an empty window: no input received its value
            // An index from anywhere but the forward could point outside the plane: never write
            // there, count it, and let the caller raise.
            if (where < 0 || where >= in_plane) {
                ++bad;
                continue;
            }
            // Windows overlap when stride < kernel: one element may win several and gets the sum.
            g_plane[where] += go_plane[o];
        }
    }
    return bad;
}

template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& s, bool count_include_pad) {
    const int64_t planes = s.batch * s.channels;
    const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
    [[maybe_unused]] const int threads =
        threads_for(planes * out_plane * s.kernel_h * s.kernel_w, kMinWorkPerThread, planes);
    const bool fast = is_2x2_stride_2(s);
    const WindowTaps taps(s);
    std::vector<T> row_length, col_length;
    avg_lengths(s, count_include_pad, row_length, col_length);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        std::vector<T> buffer;  // each thread's scratch, as in max_pool2d_forward
        std::vector<Tap> tap_list;
#pragma omp for schedule(static)
        for (int64_t plane = 0; plane < planes; ++plane) {
            if (fast)
                avg_plane_2x2(x + plane * in_plane, y + plane * out_plane, s);
            else
                avg_plane(x + plane * in_plane, y + plane * out_plane, s, taps, row_length,
                          col_length, buffer, tap_list);
        }
    }
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dGeometry& s,
                         bool count_include_pad) {
    const int64_t planes = s.batch * s.channels;
    const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
    [[maybe_unused]] const int threads = threads_for(
        planes * (in_plane + out_plane * s.kernel_h * s.kernel_w), kMinWorkPerThread, planes);
    const WindowTaps taps(s);
    std::vector<T> row_length, col_length;
    avg_lengths(s, count_include_pad, row_length, col_length);
    const bool fast = is_2x2_stride_2(s);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        std::vector<T> buffer;  // each thread's scratch: one plane's gradient, deinterleaved
        std::vector<Tap> tap_list;
#pragma omp for schedule(static)
        for (int64_t plane = 0; plane < planes; ++plane) {
            if (fast)
                avg_plane_backward_2x2(grad_out + plane * out_plane, grad_x + plane * in_plane, s);
            else
                avg_plane_backward(grad_out + plane * out_plane, grad_x + plane * in_plane, s, taps,
                                   row_length, col_length, buffer, tap_list);
        }
    }
}

template void max_pool2d_forward<float>(const float*, float*, int64_t*, const Pool2dGeometry&);
template void max_pool2d_forward<double>(const double*, double*, int64_t*, const Pool2dGeometry&);
template int64_t max_pool2d_backward<float>(const float*, const int64_t*, float*,
                                            const Pool2dGeometry&);
template int64_t max_pool2d_backward<double>(const double*, const int64_t*, double*,
                                             const Pool2dGeometry&);
template void avg_pool2d_forward<float>(const float*, float*, const Pool2dGeometry&, bool);
template void avg_pool2d_forward<double>(const double*, double*, const Pool2dGeometry&, bool);
template void avg_pool2d_backward<float>(const float*, float*, const Pool2dGeometry&, bool);
template void avg_pool2d_backward<double>(const double*, double*, const Pool2dGeometry&, bool);

}  // namespace minidl::cpu
