// Softmax and log-softmax over the rows of a (rows, cols) array, forward and backward.
//
// Each row is independent, so the rows are shared among the threads and each thread walks its
// rows one at a time. A row of a classifier's logits is small (1000 floats are 4 KiB), so it stays
// in L1 between the passes over it below; the whole kernel then reads its inputs from memory
// once and writes its output once, and the work that is left is the exponential, one per element.
// That is why this file has its own exp: the C library's is a function call per element that the
// compiler cannot vectorise (without -ffast-math), while the one below is a few multiply-adds
// that it turns into AVX-512 instructions, 16 floats at a time (measured: about 1.2 cycles per
// element for the whole softmax forward of a row in cache, one thread).
//
//   softmax_forward       pass 1: m = max(x)          pass 2: e = exp(x - m), s = sum(e)
//                         pass 3: y = e / s
//   log_softmax_forward   pass 1: m = max(x)          pass 2: s = sum(exp(x - m))
//                         pass 3: y = (x - m) - log(s)
//   softmax_backward      pass 1: d = sum(g * y)      pass 2: grad_x = y * (g - d)
//   log_softmax_backward  pass 1: s = sum(g)          pass 2: grad_x = g - exp(y) * s

#include "cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/runtime.h"

namespace minidl::cpu {

namespace {

// ---------------------------------------------------------------------------------------------
// exp, written so the compiler can vectorise it
//
// Write x = n ln2 + r with n an integer and |r| <= ln2/2. Then e^x = 2^n e^r, where
//   2^n  is exact: it is the float whose exponent field is n (built from bits, no arithmetic);
//   e^r  is a polynomial, because r is small: the Taylor series 1 + r + r^2/2! + ... + r^d/d!.
// Accuracy: the series cut after r^d leaves an error below |r|^(d+1)/(d+1)!, relative to e^r:
//   float,  d = 7:   0.347^8 / 8!   = 5e-9   (0.1 of the 6e-8 spacing of floats near 1)
//   double, d = 13:  0.347^14 / 14! = 4e-18  (0.04 of the 1.1e-16 spacing of doubles near 1)
// so the result is limited by rounding in the steps, not by the series. Measured against
// std::exp over 4 million arguments each in [-87, 0], [-1, 1] and [-20, 88] (float) and
// [-708, 0], [-1, 1], [0, 709] (double): never more than 1 unit in the last place apart.
// tests/test_softmax_loss.py::test_native_exp_accuracy keeps it within 2 against NumPy's exp
// (it reads the kernel's exp through log_softmax_backward).
// The ends: where e^x is below the smallest normal number (x < lowest) it returns 0; above
// `highest` it returns +inf (e^x is then within a factor 1.5 of the largest float anyway). NaN in
// gives NaN out. Softmax only ever asks for x <= 0 (x minus the row max), where none of the
// approximations at the ends matter: e^-87 is 1e-38 of the row's largest term.

template <typename T>
struct ExpConstants;

template <>
struct ExpConstants<float> {
    using Bits = uint32_t;
    static constexpr int mantissa_bits = 23;
    static constexpr Bits exponent_bias = 127;
    // Adding 1.5 * 2^23 to a float of magnitude below 2^22 leaves no bits for a fraction: the sum
    // is rounded to an integer, which then sits in the low mantissa bits of the sum.
    static constexpr float round_shift = 12582912.0f;
    static constexpr float lowest = -87.3f;  // round(x / ln2) >= -126: 2^n is a normal float
    static constexpr float highest = 88.3f;  // round(x / ln2) <= 127
    static constexpr float log2e = 1.44269504088896341f;
    // ln2 = ln2_hi + ln2_lo: twice float's precision for r = x - n ln2, which cancels heavily
    // (n ln2 is close to x); one rounded ln2 would leave an error of n * 2e-8 in r.
    static constexpr float ln2_hi = 0.693147182464599609375f;
    static constexpr float ln2_lo = -1.9046542121259336e-09f;
    static constexpr int degree = 7;
};

template <>
struct ExpConstants<double> {
    using Bits = uint64_t;
    static constexpr int mantissa_bits = 52;
    static constexpr Bits exponent_bias = 1023;
    static constexpr double round_shift = 6755399441055744.0;  // 1.5 * 2^52
    static constexpr double lowest = -708.0;                   // round(x / ln2) >= -1022
    static constexpr double highest = 709.0;                   // round(x / ln2) <= 1023
    static constexpr double log2e = 1.4426950408889634;
    static constexpr double ln2_hi = 0.6931471805599453;
    static constexpr double ln2_lo = 2.3190468138462996e-17;
    static constexpr int degree = 13;
};

// 1/k!, the k-th Taylor coefficient of e^r (computed in double, rounded once to T by the caller).
constexpr double inverse_factorial(int k) {
    double factorial = 1;
    for (int i = 2; i <= k; ++i) factorial *= i;
    return 1.0 / factorial;
}

// e^x for x in [lowest, highest] (or NaN): the core that both versions below share.
template <typename T>
inline T exp_in_range(T x) {
    using C = ExpConstants<T>;
    using Bits = typename C::Bits;

    // n = round(x / ln2), by the shifting trick (see round_shift). `shifted` keeps n in its bits.
    // (One fma: x * log2e is rounded only once, to the integer.)
    const T shifted = std::fma(x, C::log2e, C::round_shift);
    const T n = shifted - C::round_shift;

    // r = x - n ln2, |r| <= ln2/2. fma keeps n * ln2_hi exact inside the subtraction.
    T r = std::fma(-n, C::ln2_hi, x);
    r = std::fma(-n, C::ln2_lo, r);

    // e^r = 1/0! + r(1/1! + r(1/2! + ... + r(1/d!))): Horner's rule on the Taylor series,
    // innermost term first (the loop is unrolled; the coefficients are compile-time constants).
    T series = T(inverse_factorial(C::degree));
#pragma GCC unroll 16
    for (int k = C::degree - 1; k >= 0; --k) series = std::fma(series, r, T(inverse_factorial(k)));

    // 2^n: exponent field n + bias, mantissa 0. The integer n is read from the bits of `shifted`
    // (its bits minus those of round_shift); unsigned arithmetic, so a negative n wraps correctly.
    Bits shifted_bits, shift_bits;
    std::memcpy(&shifted_bits, &shifted, sizeof(T));
    const T shift = C::round_shift;
    std::memcpy(&shift_bits, &shift, sizeof(T));
    const Bits scale_bits = (shifted_bits - shift_bits + C::exponent_bias) << C::mantissa_bits;
    T scale;
    std::memcpy(&scale, &scale_bits, sizeof(T));

    return series * scale;
}

// e^x for any x. The ends: underflow to 0 (where -inf lands too), overflow to +inf.
// (A NaN fails every comparison and goes through the core unchanged, giving NaN.)
template <typename T>
inline T exp_vectorisable(T x) {
    using C = ExpConstants<T>;
    const T clamped = x < C::lowest ? C::lowest : (x > C::highest ? C::highest : x);
    T result = exp_in_range(clamped);
    result = x < C::lowest ? T(0) : result;
    result = x > C::highest ? std::numeric_limits<T>::infinity() : result;
    return result;
}

// e^x for x <= 0 (or NaN), without the overflow end: softmax's x - max(x) is never positive,
// and the forward kernels are bound by this exp, so two instructions fewer are worth a function.
template <typename T>
inline T exp_nonpositive(T x) {
    using C = ExpConstants<T>;
    const T clamped = x < C::lowest ? C::lowest : x;
    const T result = exp_in_range(clamped);
    return x < C::lowest ? T(0) : result;
}

// ---------------------------------------------------------------------------------------------
// One row of each kernel. `#pragma omp simd reduction` lets the compiler keep a vector of partial
// sums (maxima) and combine them at the end; without it, it may not reorder the additions of a
// floating-point sum, and that loop would run one element at a time.

template <typename T>
T row_max(const T* x, int64_t cols) {
    T m = -std::numeric_limits<T>::infinity();
    // A plain comparison, not std::max: std::max takes references, and a reduction variable
    // whose address is taken is kept in memory by GCC, which then gathers instead of vectorising.
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < cols; ++j) m = x[j] > m ? x[j] : m;
    return m;
}

template <typename T>
void softmax_row(const T* x, T* y, int64_t cols) {
    const T m = row_max(x, cols);
    // e_j = exp(x_j - m) <= 1, stored in y; the largest is exactly 1, so the sum is >= 1.
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j) {
        const T e = exp_nonpositive(x[j] - m);
        y[j] = e;
        sum += e;
    }
    // One division per row, then multiplications: the result differs from e_j / sum by at most
    // one rounding.
    const T inverse_sum = T(1) / sum;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) y[j] *= inverse_sum;
}

template <typename T>
void log_softmax_row(const T* x, T* y, int64_t cols) {
    const T m = row_max(x, cols);
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j) sum += exp_nonpositive(x[j] - m);
    const T log_sum = std::log(sum);
    // (x_j - m) - log_sum, in this order: with logits of 1e4, m + log_sum would round away most of
    // log_sum, while x_j - m is exact for the entries near the max (the ones that matter).
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - m) - log_sum;
}

template <typename T>
void softmax_backward_row(const T* g, const T* y, T* grad_x, int64_t cols) {
    // d softmax_i / d x_k = y_i (delta_ik - y_k), so grad_x_k = y_k (g_k - sum_i g_i y_i)
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; ++j) dot += g[j] * y[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) grad_x[j] = y[j] * (g[j] - dot);
}

template <typename T>
void log_softmax_backward_row(const T* g, const T* y, T* grad_x, int64_t cols) {
    // d log_softmax_i / d x_k = delta_ik - softmax_k, and softmax = exp(y),
    // so grad_x_k = g_k - exp(y_k) sum_i g_i
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j) sum += g[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) grad_x[j] = g[j] - exp_vectorisable(y[j]) * sum;
}

// ---------------------------------------------------------------------------------------------
// Rows shared among threads

// Each thread gets at least this many elements, so a kernel below 2^15 elements runs on the
// calling thread: waking the OpenMP team costs a few microseconds, as long as ~30k exponentials
// take.
constexpr int64_t kMinWorkPerThread = 1 << 14;

// Runs row_fn(r) for every row; static schedule: rows cost the same, so equal shares balance.
template <typename RowFn>
void for_each_row(int64_t rows, int64_t cols, RowFn row_fn) {
    const int threads = threads_for(rows * cols, kMinWorkPerThread, rows);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t r = 0; r < rows; ++r) row_fn(r);
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols) {
    for_each_row(rows, cols, [=](int64_t r) { softmax_row(x + r * cols, y + r * cols, cols); });
}

template <typename T>
void log_softmax_forward(const T* x, T* y, int64_t rows, int64_t cols) {
    for_each_row(rows, cols, [=](int64_t r) { log_softmax_row(x + r * cols, y + r * cols, cols); });
}

template <typename T>
void softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols) {
    for_each_row(rows, cols, [=](int64_t r) {
        softmax_backward_row(grad_out + r * cols, y + r * cols, grad_x + r * cols, cols);
    });
}

template <typename T>
void log_softmax_backward(const T* grad_out, const T* y, T* grad_x, int64_t rows, int64_t cols) {
    for_each_row(rows, cols, [=](int64_t r) {
        log_softmax_backward_row(grad_out + r * cols, y + r * cols, grad_x + r * cols, cols);
    });
}

// The two element types the bindings use.
template void softmax_forward<float>(const float*, float*, int64_t, int64_t);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t);
template void log_softmax_forward<float>(const float*, float*, int64_t, int64_t);
template void log_softmax_forward<double>(const double*, double*, int64_t, int64_t);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t);
template void log_softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t);
template void log_softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t);

}  // namespace minidl::cpu
