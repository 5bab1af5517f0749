// Max and average pooling on the CPU.
//
// Pooling does almost no arithmetic (one compare or add per input element read), so its speed is
// the speed of memory: read x once, write y (and the indices) once. Three things keep it there:
//   - planes: every (n, c) plane is pooled independently, so the threads split the N*C planes
//     between them and never write to the same memory;
//   - taps: which window elements fall inside the input depends only on the output's row (or
//     column), never on the plane, so it is worked out once per call; the inner loops then run
//     over in-bounds elements only, without a bounds test per element;
//   - a fast path for the window every CNN uses (2x2, stride 2, no padding, no dilation), whose
//     loop over output columns has a fixed body the compiler turns into vector instructions.
//
// The results match minidl/backend/reference.py exactly for max pooling (values and indices,
// including the tie and NaN rules) and the average-pooling forward (same summation order).

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
// below ~64k operations, where starting the team costs more than it saves.
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
// Used in selects, not branches (see max_plane_2x2). Note for whoever edits this: GCC 12
// vectorises the selects with this logical form but not with a bitwise (v > best) | (...) one.
template <typename T>
inline bool beats(T v, T best) {
    return v > best || (v != v && best == best);
}

template <typename T>
void max_plane_2x2(const T* x, T* y, int64_t* indices, const Pool2dShape& s) {
    // Sizes in locals: read through the reference, the compiler would have to assume every store
    // to y may change them and reload them on each iteration, which blocks vectorisation.
    const int64_t W = s.W, OH = s.OH, OW = s.OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h = 2 * oh;
        const T* top = x + h * W;
        const T* bottom = top + W;
        T* y_row = y + oh * OW;
        int64_t* index_row = indices + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t w = 2 * ow;
            // The four elements in row-major order; strict "beats" keeps the first of equals.
            // Selects, not branches: with random data a branch here is mispredicted half the
            // time, and selects let the compiler run many outputs at once in vector registers.
            const T a = top[w], b = top[w + 1], c = bottom[w], d = bottom[w + 1];
            T best = a;
            int64_t where = h * W + w;
            const bool b_wins = beats(b, best);
            best = b_wins ? b : best;
            where = b_wins ? h * W + w + 1 : where;
            const bool c_wins = beats(c, best);
            best = c_wins ? c : best;
            where = c_wins ? (h + 1) * W + w : where;
            const bool d_wins = beats(d, best);
            best = d_wins ? d : best;
            where = d_wins ? (h + 1) * W + w + 1 : where;
            y_row[ow] = best;
            index_row[ow] = where;
        }
    }
}

template <typename T>
void max_plane(const T* x, T* y, int64_t* indices, const Pool2dShape& s, const WindowTaps& taps) {
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        const Taps rows = taps.rows[oh];
        for (int64_t ow = 0; ow < s.OW; ++ow) {
            const Taps cols = taps.cols[ow];
            // Empty window (all padding): -inf and index -1, which the backward skips.
            T best = -std::numeric_limits<T>::infinity();
            int64_t where = -1;
            for (int64_t i = rows.first; i < rows.end; ++i) {
                const int64_t h = taps.row_start[oh] + i * s.dh;
                for (int64_t j = cols.first; j < cols.end; ++j) {
                    const int64_t w = taps.col_start[ow] + j * s.dw;
                    const T v = x[h * s.W + w];
                    // The first in-bounds element always counts, so that a window of -inf values
                    // still records a real position.
                    // (A select rather than a branch: the outcome is data-dependent and a
                    // mispredicted branch costs more than the whole comparison.)
                    const bool wins = where < 0 || beats(v, best);
                    best = wins ? v : best;
                    where = wins ? h * s.W + w : where;
                }
            }
            y[oh * s.OW + ow] = best;
            indices[oh * s.OW + ow] = where;
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

template <typename T>
void avg_plane(const T* x, T* y, const Pool2dShape& s, const WindowTaps& taps,
               const std::vector<T>& row_length, const std::vector<T>& col_length) {
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        const Taps rows = taps.rows[oh];
        for (int64_t ow = 0; ow < s.OW; ++ow) {
            const Taps cols = taps.cols[ow];
            T sum = T(0);
            for (int64_t i = rows.first; i < rows.end; ++i) {
                const T* x_row = x + (taps.row_start[oh] + i) * s.W + taps.col_start[ow];
                for (int64_t j = cols.first; j < cols.end; ++j) sum += x_row[j];
            }
            y[oh * s.OW + ow] = sum / (row_length[oh] * col_length[ow]);
        }
    }
}

template <typename T>
void avg_plane_backward_2x2(const T* grad_out, T* grad_x, const Pool2dShape& s) {
    const int64_t W = s.W, OH = s.OH, OW = s.OW;  // locals, see max_plane_2x2
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

template <typename T>
void avg_plane_backward(const T* grad_out, T* grad_x, const Pool2dShape& s, const WindowTaps& taps,
                        const std::vector<T>& row_length, const std::vector<T>& col_length) {
    std::fill(grad_x, grad_x + s.H * s.W, T(0));
    for (int64_t oh = 0; oh < s.OH; ++oh) {
        const Taps rows = taps.rows[oh];
        for (int64_t ow = 0; ow < s.OW; ++ow) {
            const Taps cols = taps.cols[ow];
            // Each in-bounds element of the window receives an equal share; the padding's share
            // is dropped.
            const T share = grad_out[oh * s.OW + ow] / (row_length[oh] * col_length[ow]);
            for (int64_t i = rows.first; i < rows.end; ++i) {
                T* g_row = grad_x + (taps.row_start[oh] + i) * s.W + taps.col_start[ow];
                for (int64_t j = cols.first; j < cols.end; ++j) g_row[j] += share;
            }
        }
    }
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

int64_t pool_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding,
                         int64_t dilation, bool ceil_mode) {
    const int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
    // Division rounding toward -inf (C++ rounds toward zero), so a negative span gives out <= 0.
    auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    if (!ceil_mode) return floor_div(span, stride) + 1;
    int64_t out = floor_div(span + stride - 1, stride) + 1;
    // PyTorch's rule: the last window must start inside the input or its left padding.
    if (out > 1 && (out - 1) * stride >= size + padding) --out;
    return out;
}

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, const Pool2dShape& s) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    const int threads = threads_for(planes, planes * out_plane * s.kh * s.kw);
    const bool fast = is_2x2_stride_2(s);
    const WindowTaps taps(s);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t plane = 0; plane < planes; ++plane) {
        const T* x_plane = x + plane * in_plane;
        T* y_plane = y + plane * out_plane;
        int64_t* index_plane = indices + plane * out_plane;
        if (fast)
            max_plane_2x2(x_plane, y_plane, index_plane, s);
        else
            max_plane(x_plane, y_plane, index_plane, s, taps);
    }
}

template <typename T>
int64_t max_pool2d_backward(const T* grad_out, const int64_t* indices, T* grad_x, const Pool2dShape& s) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    const int threads = threads_for(planes, planes * (in_plane + out_plane));
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
    const int threads = threads_for(planes, planes * out_plane * s.kh * s.kw);
    const bool fast = is_2x2_stride_2(s);
    const WindowTaps taps(s);
    std::vector<T> row_length, col_length;
    avg_lengths(s, count_include_pad, row_length, col_length);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t plane = 0; plane < planes; ++plane) {
        if (fast)
            avg_plane_2x2(x + plane * in_plane, y + plane * out_plane, s);
        else
            avg_plane(x + plane * in_plane, y + plane * out_plane, s, taps, row_length, col_length);
    }
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_x, const Pool2dShape& s, bool count_include_pad) {
    const int64_t planes = s.N * s.C;
    const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
    const int threads = threads_for(planes, planes * (in_plane + out_plane * s.kh * s.kw));
    const WindowTaps taps(s);
    std::vector<T> row_length, col_length;
    avg_lengths(s, count_include_pad, row_length, col_length);
    const bool fast = is_2x2_stride_2(s);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t plane = 0; plane < planes; ++plane) {
        if (fast)
            avg_plane_backward_2x2(grad_out + plane * out_plane, grad_x + plane * in_plane, s);
        else
            avg_plane_backward(grad_out + plane * out_plane, grad_x + plane * in_plane, s, taps,
                               row_length, col_length);
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
