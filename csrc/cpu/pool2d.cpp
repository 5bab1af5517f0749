// Max and average pooling on the CPU.
//
// Pooling does almost no arithmetic (one compare or add per input element read), so its speed is
// the speed of memory, if the loops let the compiler use vector instructions. Four things do:
//   - planes: every (n, c) plane is pooled independently, so the threads split the N*C planes
//     between them and never write to the same memory;
//   - blocks: outputs are computed kBlock (16) at a time along an output row, in loops of fixed
//     length that the compiler turns into straight vector code, with selects instead of branches
//     (a max-pooling branch on random data is mispredicted about every other time);
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

    explicit WindowTaps(const Pool2dShape& s) : rows(s.OH), cols(s.OW), row_start(s.OH), col_start(s.OW) {
        for (int64_t oh = 0; oh < s.OH; ++oh) {
            row_start[oh] = oh * s.sh - s.ph;
            rows[oh] = inside_taps(row_start[oh], s.H, s.kh, s.dh);
        }
        for (int64_t ow = 0; ow < s.OW; ++ow) {
            col_start[ow] = ow * s.sw - s.pw;
            cols[ow] = inside_taps(col_start[ow], s.W, s.kw, s.dw);
        }
    }
};

// The common CNN window: 2x2, stride 2, no padding, no dilation, and (ceil_mode aside) every
// window inside the input. Each output then reads input rows 2*oh and 2*oh+1, columns 2*ow and
// 2*ow+1, with no bounds to check.
bool is_2x2_stride_2(const Pool2dShape& s) {
    return s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.ph == 0 && s.pw == 0 && s.dh == 1 &&
           s.dw == 1 && 2 * s.OH <= s.H && 2 * s.OW <= s.W;
}

// Threads for a kernel over `planes` planes doing about `work` element operations: one thread
// below ~64k operations, where starting the team costs more than it saves. (Unused, hence
// [[maybe_unused]] at the call sites, in a build without OpenMP.)
int threads_for(int64_t planes, int64_t work) {
    constexpr int64_t kMinWorkPerThread = 1 << 15;
    const int64_t useful = std::max<int64_t>(1, std::min<int64_t>(planes, work / kMinWorkPerThread));
    return int(std::min<int64_t>(get_num_threads(), useful));
}

// The avg-pooling divisor of one output along one axis: the window's length clipped to the padded
// input (count_include_pad; a ceil_mode window may hang past the padding) or to the input itself.
int64_t avg_length(int64_t start, int64_t size, int64_t kernel, int64_t padding, bool count_include_pad) {
    if (count_include_pad) return std::min(start + kernel, size + padding) - start;
    return std::min(start + kernel, size) - std::max<int64_t>(start, 0);
}

// ---------------------------------------------------------------------------------------------
// Max pooling

// Whether v replaces `best` as the running maximum: when it is larger, or when it is a NaN and
// best is not yet one (the first NaN wins and stays: nothing compares larger than NaN).
// Used in selects, not branches (see max_block_2x2). Note for whoever edits this: GCC 12
// vectorises the selects with this logical form but not with a bitwise (v > best) | (...) one.
template <typename T>
inline bool beats(T v, T best) {
    return v > best || (v != v && best == best);
}

// The 2x2 stride-2 path works on blocks of kBlock outputs of one output row. A block has a trip
// count known at compile time, so the compiler turns it into straight-line vector code (16 floats
// are one AVX-512 register) with no scalar remainder loop. That matters: pooled rows are short
// (14 outputs for a 28x28 map), so a remainder loop would do nearly all the work, and as scalar
// code the compiler compiles the selects below into branches that random data mispredicts half
// the time (measured: 7x slower than the blocks).
constexpr int64_t kBlock = 16;

// Outputs k = 0..kBlock-1 of a block: the 2x2 window at columns 2k, 2k+1 of rows `top` and
// `bottom`. Indices are `top_index` + the position in the window's rows, `W` apart.
template <typename T>
inline void max_block_2x2(const T* top, const T* bottom, T* y, int64_t* indices, int64_t top_index,
                          int64_t W) {
    for (int64_t k = 0; k < kBlock; ++k) {
        const int64_t w = 2 * k;
        // The four elements in row-major order; strict "beats" keeps the first of equals.
        // Selects, not branches: the compiler runs all kBlock outputs at once in vector registers.
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
void max_plane_2x2(const T* x, T* y, int64_t* indices, const Pool2dShape& s, const T* x_end) {
    const int64_t W = s.W, OH = s.OH, OW = s.OW;
    const int64_t full = OW - OW % kBlock;  // outputs covered by whole blocks
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h = 2 * oh;
        const T* top = x + h * W;
        const T* bottom = top + W;
        T* y_row = y + oh * OW;
        int64_t* index_row = indices + oh * OW;
        for (int64_t ow = 0; ow < full; ow += kBlock)
            max_block_2x2(top + 2 * ow, bottom + 2 * ow, y_row + ow, index_row + ow, h * W + 2 * ow, W);
        if (full == OW) continue;
        // The last, partial block runs whole too; its extra lanes are dropped. They must not be
        // written (they would land on the next row, which may belong to another thread's plane),
        // so the block writes to a small buffer first. They may be read: the lanes past the row
        // read the next rows of x, harmlessly, except at the very end of x, where the two rows are
        // first copied into zero-padded buffers.
        const int64_t rest = OW - full;
        T y_buf[kBlock];
        int64_t index_buf[kBlock];
        const T* top_block = top + 2 * full;
        const T* bottom_block = bottom + 2 * full;
        T top_buf[2 * kBlock] = {}, bottom_buf[2 * kBlock] = {};
        if (bottom_block + 2 * kBlock > x_end) {
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

// Any window shape, kBlock outputs of an output row at a time, like max_block_2x2.
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

PhasedRows phased_rows(const Pool2dShape& s) {
    const int64_t lanes = (s.OW + kBlock - 1) / kBlock * kBlock;  // outputs the blocks compute
    const int64_t padded_len = (lanes - 1) * s.sw + (s.kw - 1) * s.dw + 1;  // columns they read
    const int64_t slots = (padded_len + s.sw - 1) / s.sw;
    return {s.sw, slots, s.sw * slots, std::min(s.W, padded_len - s.pw)};
}

// One tap of the windows of an output row, for lane 0 of block 0 (output column 0): where it
// reads in the buffer and which input position that is. Lane k of the block at ow0 reads
// offset + ow0 + k and position first_index + (ow0 + k)*stride.
struct Tap {
    int64_t offset;       // -1 ends a list of taps
    int64_t first_index;
};

// The taps of output row oh in row-major window order, the padding rows left out, ended by
// offset -1 (see max_block for why a marker rather than a count). The buffer holds either the
// rows of this output row's windows (tap row i at i*row_len) or, with whole_plane, every input
// row (input row h at h*row_len).
void row_taps_list(const Pool2dShape& s, const WindowTaps& taps, const PhasedRows& layout, int64_t oh,
                   bool whole_plane, std::vector<Tap>& list) {
    const int64_t step = layout.phases;
    list.clear();
    for (int64_t i = taps.rows[oh].first; i < taps.rows[oh].end; ++i) {
        const int64_t h = taps.row_start[oh] + i * s.dh;
        const int64_t row = (whole_plane ? h : i) * layout.row_len;
        for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t c = j * s.dw;  // padded column of tap j in output column 0's window
            list.push_back({row + (c % step) * layout.slots + c / step, h * s.W + c - s.pw});
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

// One block: outputs ow0 .. ow0 + kBlock - 1 of output row oh (only the first `count` exist).
// The loop over taps walks the list to its end marker instead of counting: with a counted loop,
// GCC 12 "unrolls and jams" two taps into one lane loop that it then fails to vectorise (2-4x
// slower; -fno-loop-unroll-and-jam would not survive the link-time optimisation). Walking a list
// it does not, and best and where stay in vector registers from the first tap to the last.
template <typename T>
void max_block(const T* rows, const Tap* tap_list, const Pool2dShape& s, const WindowTaps& taps,
               int64_t oh, int64_t ow0, int64_t count, T* y, int64_t* indices) {
    const int64_t step = s.sw;
    T best[kBlock];
    int64_t where[kBlock];
    std::fill(best, best + kBlock, -std::numeric_limits<T>::infinity());
    std::fill(where, where + kBlock, int64_t(-1));
    for (const Tap* tap = tap_list; tap->offset >= 0; ++tap) {
        const T* column = rows + tap->offset + ow0;
        const int64_t first_index = tap->first_index + ow0 * step;
        for (int64_t k = 0; k < kBlock; ++k) {
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
            where[k] = (taps.row_start[oh] + row_taps.first * s.dh) * s.W + taps.col_start[ow0 + k] +
                       cols.first * s.dw;
        }
        y[k] = best[k];
        indices[k] = where[k];
    }
}

template <typename T>
void max_plane(const T* x, T* y, int64_t* indices, const Pool2dShape& s, const WindowTaps& taps,
               std::vector<T>& buffer, std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows(s);
    buffer.assign(s.kh * layout.row_len, -std::numeric_limits<T>::infinity());  // the padding
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        for (int64_t i = taps.rows[oh].first; i < taps.rows[oh].end; ++i)
            copy_phased_row(x + (taps.row_start[oh] + i * s.dh) * s.W, buffer.data() + i * layout.row_len,
                            layout, s.pw);
        row_taps_list(s, taps, layout, oh, false, tap_list);
        for (int64_t ow0 = 0; ow0 < s.OW; ow0 += kBlock) {
            const int64_t at = oh * s.OW + ow0;
            max_block(buffer.data(), tap_list.data(), s, taps, oh, ow0, std::min(kBlock, s.OW - ow0), y + at,
                      indices + at);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Average pooling

template <typename T>
void avg_plane_2x2(const T* x, T* y, const Pool2dShape& s) {
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        const T* top = x + 2 * oh * s.W;
        const T* bottom = top + s.W;
        T* y_row = y + oh * s.OW;
        for (int64_t ow = 0; ow < s.OW; ++ow) {
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

// Any window shape, kBlock outputs at a time over the same deinterleaved row buffer as
// max_plane (zeros in the padding): each tap adds one vector of inputs to the block's sums, which
// are then divided by each output's divisor. Taps are summed in row-major window order from zero,
// as in the reference.
template <typename T>
void avg_plane(const T* x, T* y, const Pool2dShape& s, const WindowTaps& taps,
               const std::vector<T>& row_length, const std::vector<T>& col_length, std::vector<T>& buffer,
               std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows(s);
    buffer.assign(s.kh * layout.row_len, T(0));  // the padding
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        for (int64_t i = taps.rows[oh].first; i < taps.rows[oh].end; ++i)
            copy_phased_row(x + (taps.row_start[oh] + i * s.dh) * s.W, buffer.data() + i * layout.row_len,
                            layout, s.pw);
        row_taps_list(s, taps, layout, oh, false, tap_list);
        for (int64_t ow0 = 0; ow0 < s.OW; ow0 += kBlock) {
            T sum[kBlock] = {};
            // A list walked to its end marker, not a counted loop: see max_block.
            for (const Tap* tap = tap_list.data(); tap->offset >= 0; ++tap) {
                const T* column = buffer.data() + tap->offset + ow0;
                for (int64_t k = 0; k < kBlock; ++k) sum[k] += column[k];
            }
            const int64_t count = std::min(kBlock, s.OW - ow0);
            for (int64_t k = 0; k < count; ++k)
                y[oh * s.OW + ow0 + k] = sum[k] / (row_length[oh] * col_length[ow0 + k]);
        }
    }
}

template <typename T>
void avg_plane_backward_2x2(const T* grad_out, T* grad_x, const Pool2dShape& s) {
    const int64_t W = s.W, OH = s.OH, OW = s.OW;
    // The windows do not overlap: each input element receives a quarter of one output's gradient,
    // except a last odd row or column, which no window covers and which stays 0.
    std::fill(grad_x, grad_x + s.H * W, T(0));
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
// of its window, a block of kBlock outputs and one tap at a time, into a deinterleaved buffer
// holding the whole plane's gradient (windows of different output rows overlap when the stride
// is below the kernel). The padding's shares land in buffer slots that are never copied out.
template <typename T>
void avg_plane_backward(const T* grad_out, T* grad_x, const Pool2dShape& s, const WindowTaps& taps,
                        const std::vector<T>& row_length, const std::vector<T>& col_length,
                        std::vector<T>& buffer, std::vector<Tap>& tap_list) {
    const PhasedRows layout = phased_rows(s);
    buffer.assign(s.H * layout.row_len, T(0));
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        row_taps_list(s, taps, layout, oh, true, tap_list);
        for (int64_t ow0 = 0; ow0 < s.OW; ow0 += kBlock) {
            // The block's lanes past the last output carry a share of 0: their windows may cover
            // real columns that no real window covers.
            T share[kBlock] = {};
            const int64_t count = std::min(kBlock, s.OW - ow0);
            for (int64_t k = 0; k < count; ++k)
                share[k] = grad_out[oh * s.OW + ow0 + k] / (row_length[oh] * col_length[ow0 + k]);
            // A list walked to its end marker, not a counted loop: see max_block.
            for (const Tap* tap = tap_list.data(); tap->offset >= 0; ++tap) {
                T* column = buffer.data() + tap->offset + ow0;
                for (int64_t k = 0; k < kBlock; ++k) column[k] += share[k];
            }
        }
    }
    for (int64_t h = 0; h < s.H; ++h)
        uncopy_phased_row(buffer.data() + h * layout.row_len, grad_x + h * s.W, layout, s.pw, s.W);
}

// Per-axis divisors of average pooling, as T, for every output row and column.
template <typename T>
void avg_lengths(const Pool2dShape& s, bool count_include_pad, std::vector<T>& row_length,
                 std::vector<T>& col_length) {
    row_length.resize(s.OH);
    col_length.resize(s.OW);
    for (int64_t oh = 0; oh < s.OH; ++oh)
        row_length[oh] = T(avg_length(oh * s.sh - s.ph, s.H, s.kh, s.ph, count_include_pad));
    for (int64_t ow = 0; ow < s.OW; ++ow)
        col_length[ow] = T(avg_length(ow * s.sw - s.pw, s.W, s.kw, s.pw, count_include_pad));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The four kernels: one plane per loop iteration, the planes split between threads.

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dShape& s) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    [[maybe_unused]] const int threads = threads_for(planes, planes * out_plane * s.kh * s.kw);
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
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x, const Pool2dShape& s) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    [[maybe_unused]] const int threads = threads_for(planes, planes * (in_plane + out_plane));
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
void avg_pool2d_forward(const T* x, T* y, const Pool2dShape& s, bool count_include_pad) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    [[maybe_unused]] const int threads = threads_for(planes, planes * out_plane * s.kh * s.kw);
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
                avg_plane(x + plane * in_plane, y + plane * out_plane, s, taps, row_length, col_length,
                          buffer, tap_list);
        }
    }
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dShape& s, bool count_include_pad) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    [[maybe_unused]] const int threads = threads_for(planes, planes * (in_plane + out_plane * s.kh * s.kw));
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

template void max_pool2d_forward<float>(const float*, float*, int64_t*, const Pool2dShape&);
template void max_pool2d_forward<double>(const double*, double*, int64_t*, const Pool2dShape&);
template int64_t max_pool2d_backward<float>(const float*, const int64_t*, float*, const Pool2dShape&);
template int64_t max_pool2d_backward<double>(const double*, const int64_t*, double*, const Pool2dShape&);
template void avg_pool2d_forward<float>(const float*, float*, const Pool2dShape&, bool);
template void avg_pool2d_forward<double>(const double*, double*, const Pool2dShape&, bool);
template void avg_pool2d_backward<float>(const float*, float*, const Pool2dShape&, bool);
template void avg_pool2d_backward<double>(const double*, double*, const Pool2dShape&, bool);

}  // namespace minidl::cpu
