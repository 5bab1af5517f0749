// minidl._C: the C++ kernels of csrc/cpu, seen from Python.
//
// This file only translates: NumPy arrays in, NumPy arrays out, C++ exceptions to Python ones.
// The math lives in csrc/cpu, under the same names as here and in minidl/backend/reference.py.
//
// minidl/backend/kernels.py has already checked dtypes, shapes and contiguity before calling in;
// the checks here repeat the ones that protect memory, so that calling _C directly with bad
// arrays raises an error instead of reading out of bounds.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding_checks.h"
#include "cpu/conv2d.h"
#include "cpu/matmul.h"
#include "cpu/pool2d.h"
#include "cpu/runtime.h"
#include "cpu/softmax.h"

namespace py = pybind11;

using namespace minidl::bindings;

namespace {

// Arrays exactly as the kernels read them: this element type, C-contiguous. Arguments are
// declared noconvert(), so a float64 array given to the float32 overload is rejected (TypeError)
// rather than silently copied and converted.
template <typename T>
using CArray = py::array_t<T, py::array::c_style>;

// Binds one kernel under one name twice, for float and for double, with the same arguments.
// pybind11 tries the overloads in order and, because the arrays are noconvert(), picks the one
// whose dtype matches exactly; anything else (int arrays, mixed dtypes, non-contiguous views)
// matches neither and raises TypeError.
template <typename FloatKernel, typename DoubleKernel, typename... Extra>
void def_float_double(py::module_& m, const char* name, FloatKernel for_float,
                      DoubleKernel for_double, const Extra&... extra) {
    m.def(name, for_float, extra...);
    m.def(name, for_double, extra...);
}

std::string shape_of(const py::array& x) {
    std::ostringstream out;
    out << "(";
    for (py::ssize_t d = 0; d < x.ndim(); ++d) out << (d ? ", " : "") << x.shape(d);
    out << (x.ndim() == 1 ? ",)" : ")");
    return out.str();
}

template <typename T>
CArray<T> matmul(const CArray<T>& a, const CArray<T>& b, bool trans_a, bool trans_b) {
    // std::invalid_argument becomes ValueError in Python.
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument("matmul: " + why + " (shapes " + shape_of(a) + ", " +
                                    shape_of(b) + ", trans_a=" + (trans_a ? "True" : "False") +
                                    ", trans_b=" + (trans_b ? "True" : "False") + ")");
    };
    if (a.ndim() != 3 || b.ndim() != 3) fail("expected 3-d (batch, rows, cols) arrays");
    const int64_t batch_a = a.shape(0), batch_b = b.shape(0);
    const int64_t M = trans_a ? a.shape(2) : a.shape(1);
    const int64_t K = trans_a ? a.shape(1) : a.shape(2);
    const int64_t K_b = trans_b ? b.shape(2) : b.shape(1);
    const int64_t N = trans_b ? b.shape(1) : b.shape(2);
    if (K != K_b) fail("inner dimensions differ");
    if (batch_a != batch_b && batch_a != 1 && batch_b != 1)
        fail("batch sizes differ and neither is 1");
    // A batch of 0 on one side gives 0, not the other side's size: max(0, 1) would invent one.
    const int64_t batch = (batch_a == 0 || batch_b == 0) ? 0 : std::max(batch_a, batch_b);

    CArray<T> c({batch, M, N});
    const T* a_data = a.data();
    const T* b_data = b.data();
    T* c_data = c.mutable_data();
    {
        // The product can take seconds; other Python threads (a data loader) keep running.
        py::gil_scoped_release release;
        minidl::cpu::matmul<T>(a_data, b_data, c_data, batch_a, batch_b, M, N, K, trans_a, trans_b);
    }
    return c;
}

// ---------------------------------------------------------------------------------------------
// Softmax family (csrc/cpu/softmax.h): each works on the rows of C-contiguous 2-d arrays.

template <typename T>
using RowwiseForward = void (*)(const T*, T*, int64_t, int64_t);
template <typename T>
using RowwiseBackward = void (*)(const T*, const T*, T*, int64_t, int64_t);

// x (rows, cols) -> y (rows, cols): softmax_forward, log_softmax_forward.
template <typename T>
CArray<T> rowwise_forward(const char* name, RowwiseForward<T> kernel, const CArray<T>& x) {
    if (x.ndim() != 2)
        throw std::invalid_argument(
            std::string(name) + ": expected a 2-d (rows, cols) array, got shape " + shape_of(x));
    const int64_t rows = x.shape(0), cols = x.shape(1);
    CArray<T> y({rows, cols});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    {
        py::gil_scoped_release release;
        kernel(x_data, y_data, rows, cols);
    }
    return y;
}

// grad_out, y (rows, cols) -> grad_x (rows, cols): softmax_backward, log_softmax_backward.
template <typename T>
CArray<T> rowwise_backward(const char* name, RowwiseBackward<T> kernel, const CArray<T>& grad_out,
                           const CArray<T>& y) {
    if (grad_out.ndim() != 2 || y.ndim() != 2 || grad_out.shape(0) != y.shape(0) ||
        grad_out.shape(1) != y.shape(1))
        throw std::invalid_argument(std::string(name) +
                                    ": expected grad_out and y of one 2-d (rows, cols) shape, "
                                    "got shapes " +
                                    shape_of(grad_out) + ", " + shape_of(y));
    const int64_t rows = y.shape(0), cols = y.shape(1);
    CArray<T> grad_x({rows, cols});
    const T* g_data = grad_out.data();
    const T* y_data = y.data();
    T* gx_data = grad_x.mutable_data();
    {
        py::gil_scoped_release release;
        kernel(g_data, y_data, gx_data, rows, cols);
    }
    return grad_x;
}

// The Python function of one instance of a softmax-family kernel.
template <typename T>
auto rowwise_binding(const char* name, RowwiseForward<T> kernel) {
    return [name, kernel](const CArray<T>& x) { return rowwise_forward<T>(name, kernel, x); };
}
template <typename T>
auto rowwise_binding(const char* name, RowwiseBackward<T> kernel) {
    return [name, kernel](const CArray<T>& grad_out, const CArray<T>& y) {
        return rowwise_backward<T>(name, kernel, grad_out, y);
    };
}

// ---------------------------------------------------------------------------------------------
// Pooling (csrc/cpu/pool2d.h): max_pool2d_forward/backward, avg_pool2d_forward/backward.
// Window parameters arrive as (h, w) tuples of ints, the input shape as an (N, C, H, W) tuple,
// in the argument order of minidl.backend.reference.

using minidl::cpu::Pool2dGeometry;

std::vector<int64_t> shape_vector(const py::array& a) {
    return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

template <typename T>
py::tuple max_pool2d_forward(const CArray<T>& x, const py::object& kernel_obj,
                             const py::object& stride_obj, const py::object& padding_obj,
                             const py::object& dilation_obj, bool ceil_mode) {
    const std::string name = "max_pool2d_forward";
    const auto kernel = read_ints(kernel_obj, 2, name, "kernel");
    const auto stride = read_ints(stride_obj, 2, name, "stride");
    const auto padding = read_ints(padding_obj, 2, name, "padding");
    const auto dilation = read_ints(dilation_obj, 2, name, "dilation");
    const std::string context = pool_context("x " + shape_of(x), kernel, stride, padding) +
                                ", dilation " + ints_text(dilation);
    if (x.ndim() != 4)
        throw std::invalid_argument(name + ": expected a 4-d (N, C, H, W) x (" + context + ")");
    const Pool2dGeometry s = pool2d_geometry(name, shape_vector(x), kernel, stride, padding,
                                             dilation, ceil_mode, context);

    CArray<T> y({s.batch, s.channels, s.out_h, s.out_w});
    CArray<int64_t> indices({s.batch, s.channels, s.out_h, s.out_w});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    int64_t* index_data = indices.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::max_pool2d_forward<T>(x_data, y_data, index_data, s);
    }
    return py::make_tuple(y, indices);
}

template <typename T>
CArray<T> max_pool2d_backward(const CArray<T>& grad_out, const CArray<int64_t>& indices,
                              const py::object& input_shape_obj) {
    const std::string name = "max_pool2d_backward";
    const auto input = read_ints(input_shape_obj, 4, name, "input_shape");
    const std::string context = "grad_out " + shape_of(grad_out) + ", indices " +
                                shape_of(indices) + ", input_shape " + ints_text(input);
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument(name + ": " + why + " (" + context + ")");
    };
    if (grad_out.ndim() != 4) fail("expected a 4-d (N, C, OH, OW) grad_out");
    if (shape_vector(indices) != shape_vector(grad_out)) fail("indices must have grad_out's shape");
    if (input[0] != grad_out.shape(0) || input[1] != grad_out.shape(1))
        fail("input_shape's N and C must be grad_out's");
    if (input[2] < 1 || input[3] < 1) fail("input H and W must be at least 1");

    Pool2dGeometry s{};
    s.batch = input[0], s.channels = input[1], s.in_h = input[2], s.in_w = input[3];
    s.out_h = grad_out.shape(2), s.out_w = grad_out.shape(3);
    CArray<T> grad_x({s.batch, s.channels, s.in_h, s.in_w});
    const T* g_data = grad_out.data();
    const int64_t* index_data = indices.data();
    T* gx_data = grad_x.mutable_data();
    int64_t bad = 0;
    {
        py::gil_scoped_release release;
        // The kernel checks every index against the plane and never writes outside it.
        bad = minidl::cpu::max_pool2d_backward<T>(g_data, index_data, gx_data, s);
    }
    if (bad > 0)
        fail(std::to_string(bad) + " indices lie outside the " + std::to_string(s.in_h) + "x" +
             std::to_string(s.in_w) + " plane (expected 0.." + std::to_string(s.in_h * s.in_w - 1) +
             ", or -1 for an empty window)");
    return grad_x;
}

template <typename T>
CArray<T> avg_pool2d_forward(const CArray<T>& x, const py::object& kernel_obj,
                             const py::object& stride_obj, const py::object& padding_obj,
                             bool ceil_mode, bool count_include_pad) {
    const std::string name = "avg_pool2d_forward";
    const auto kernel = read_ints(kernel_obj, 2, name, "kernel");
    const auto stride = read_ints(stride_obj, 2, name, "stride");
    const auto padding = read_ints(padding_obj, 2, name, "padding");
    const std::string context = pool_context("x " + shape_of(x), kernel, stride, padding);
    if (x.ndim() != 4)
        throw std::invalid_argument(name + ": expected a 4-d (N, C, H, W) x (" + context + ")");
    const Pool2dGeometry s =
        pool2d_geometry(name, shape_vector(x), kernel, stride, padding, {1, 1}, ceil_mode, context);

    CArray<T> y({s.batch, s.channels, s.out_h, s.out_w});
    const T* x_data = x.data();
    T* y_data = y.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::avg_pool2d_forward<T>(x_data, y_data, s, count_include_pad);
    }
    return y;
}

template <typename T>
CArray<T> avg_pool2d_backward(const CArray<T>& grad_out, const py::object& input_shape_obj,
                              const py::object& kernel_obj, const py::object& stride_obj,
                              const py::object& padding_obj, bool count_include_pad) {
    const std::string name = "avg_pool2d_backward";
    const auto input = read_ints(input_shape_obj, 4, name, "input_shape");
    const auto kernel = read_ints(kernel_obj, 2, name, "kernel");
    const auto stride = read_ints(stride_obj, 2, name, "stride");
    const auto padding = read_ints(padding_obj, 2, name, "padding");
    const std::string context =
        pool_context("grad_out " + shape_of(grad_out) + ", input_shape " + ints_text(input), kernel,
                     stride, padding);
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument(name + ": " + why + " (" + context + ")");
    };
    if (grad_out.ndim() != 4) fail("expected a 4-d (N, C, OH, OW) grad_out");
    // grad_out's size says whether the forward ran in ceil_mode; it must be one of the two sizes.
    // (The ceil_mode size is never the smaller one, so it is the one checked for >= 1 here.)
    Pool2dGeometry s = pool2d_geometry(name, input, kernel, stride, padding, {1, 1}, true, context);
    const int64_t OH = grad_out.shape(2), OW = grad_out.shape(3);
    if (grad_out.shape(0) != s.batch || grad_out.shape(1) != s.channels ||
        !is_pool2d_output_size(s, OH, OW))
        fail("grad_out's shape is not the output shape of this pooling");
    s.out_h = OH, s.out_w = OW;

    CArray<T> grad_x({s.batch, s.channels, s.in_h, s.in_w});
    const T* g_data = grad_out.data();
    T* gx_data = grad_x.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::avg_pool2d_backward<T>(g_data, gx_data, s, count_include_pad);
    }
    return grad_x;
}

void register_pool2d(py::module_& m) {
    // noconvert(): a wrong dtype (or int32 indices) is a TypeError instead of a silent copy.
    const char* max_fwd_doc =
        "max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode) -> (y, indices): see "
        "minidl.backend.reference.max_pool2d_forward. x: C-contiguous (N, C, H, W); the window "
        "parameters are (h, w) tuples.";
    const char* max_bwd_doc =
        "max_pool2d_backward(grad_out, indices, input_shape) -> grad_x: see "
        "minidl.backend.reference.max_pool2d_backward. indices: int64, grad_out's shape.";
    const char* avg_fwd_doc =
        "avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad) -> y: see "
        "minidl.backend.reference.avg_pool2d_forward.";
    const char* avg_bwd_doc =
        "avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, count_include_pad) -> "
        "grad_x: see minidl.backend.reference.avg_pool2d_backward.";
    def_float_double(m, "max_pool2d_forward", &max_pool2d_forward<float>,
                     &max_pool2d_forward<double>, py::arg("x").noconvert(), py::arg("kernel"),
                     py::arg("stride"), py::arg("padding"), py::arg("dilation"),
                     py::arg("ceil_mode") = false, max_fwd_doc);
    def_float_double(m, "max_pool2d_backward", &max_pool2d_backward<float>,
                     &max_pool2d_backward<double>, py::arg("grad_out").noconvert(),
                     py::arg("indices").noconvert(), py::arg("input_shape"), max_bwd_doc);
    def_float_double(m, "avg_pool2d_forward", &avg_pool2d_forward<float>,
                     &avg_pool2d_forward<double>, py::arg("x").noconvert(), py::arg("kernel"),
                     py::arg("stride"), py::arg("padding"), py::arg("ceil_mode") = false,
                     py::arg("count_include_pad") = true, avg_fwd_doc);
    def_float_double(m, "avg_pool2d_backward", &avg_pool2d_backward<float>,
                     &avg_pool2d_backward<double>, py::arg("grad_out").noconvert(),
                     py::arg("input_shape"), py::arg("kernel"), py::arg("stride"),
                     py::arg("padding"), py::arg("count_include_pad") = true, avg_bwd_doc);
}

// ---------------------------------------------------------------------------------------------
// Convolution (csrc/cpu/conv2d.h): conv2d_forward, conv2d_backward_input, conv2d_backward_weight.
// stride, padding, dilation arrive as (h, w) tuples of ints, shapes as 4-tuples, groups as an int,
// in the argument order of minidl.backend.reference.

using minidl::cpu::Conv2dGeometry;

// A gradient of y must have y's shape (batch, out_channels, out_h, out_w).
void expect_output_shape(const std::string& name, const py::array& grad_out,
                         const Conv2dGeometry& g, const std::string& context) {
    const std::vector<int64_t> expected{g.batch, g.out_channels, g.out_h, g.out_w};
    if (shape_vector(grad_out) != expected)
        throw std::invalid_argument(name + ": grad_out must have the output shape " +
                                    ints_text(expected) + " (" + context + ")");
}

template <typename T>
CArray<T> conv2d_forward(const CArray<T>& x, const CArray<T>& weight, const py::object& stride_obj,
                         const py::object& padding_obj, const py::object& dilation_obj,
                         int64_t groups) {
    const std::string name = "conv2d_forward";
    const Conv2dParams p = read_conv2d_params(name, stride_obj, padding_obj, dilation_obj);
    const std::string context = conv2d_context("x " + shape_of(x) + ", weight " + shape_of(weight),
                                               p.stride, p.padding, p.dilation, groups);
    if (x.ndim() != 4 || weight.ndim() != 4)
        throw std::invalid_argument(name +
                                    ": expected 4-d x (N, C_in, H, W) and weight "
                                    "(C_out, C_in/groups, kh, kw) (" +
                                    context + ")");
    const Conv2dGeometry g = conv2d_geometry(name, shape_vector(x), shape_vector(weight), p.stride,
                                             p.padding, p.dilation, groups, context);

    CArray<T> y({g.batch, g.out_channels, g.out_h, g.out_w});
    const T* x_data = x.data();
    const T* w_data = weight.data();
    T* y_data = y.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::conv2d_forward<T>(x_data, w_data, y_data, g);
    }
    return y;
}

template <typename T>
CArray<T> conv2d_backward_input(const CArray<T>& grad_out, const CArray<T>& weight,
                                const py::object& input_shape_obj, const py::object& stride_obj,
                                const py::object& padding_obj, const py::object& dilation_obj,
                                int64_t groups) {
    const std::string name = "conv2d_backward_input";
    const auto input = read_ints(input_shape_obj, 4, name, "input_shape");
    const Conv2dParams p = read_conv2d_params(name, stride_obj, padding_obj, dilation_obj);
    const std::string context =
        conv2d_context("grad_out " + shape_of(grad_out) + ", weight " + shape_of(weight) +
                           ", input_shape " + ints_text(input),
                       p.stride, p.padding, p.dilation, groups);
    if (grad_out.ndim() != 4 || weight.ndim() != 4)
        throw std::invalid_argument(name +
                                    ": expected 4-d grad_out (N, C_out, OH, OW) and weight "
                                    "(C_out, C_in/groups, kh, kw) (" +
                                    context + ")");
    const Conv2dGeometry g = conv2d_geometry(name, input, shape_vector(weight), p.stride, p.padding,
                                             p.dilation, groups, context);
    expect_output_shape(name, grad_out, g, context);

    CArray<T> grad_x({g.batch, g.in_channels, g.in_h, g.in_w});
    const T* g_data = grad_out.data();
    const T* w_data = weight.data();
    T* gx_data = grad_x.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::conv2d_backward_input<T>(g_data, w_data, gx_data, g);
    }
    return grad_x;
}

template <typename T>
CArray<T> conv2d_backward_weight(const CArray<T>& grad_out, const CArray<T>& x,
                                 const py::object& weight_shape_obj, const py::object& stride_obj,
                                 const py::object& padding_obj, const py::object& dilation_obj,
                                 int64_t groups) {
    const std::string name = "conv2d_backward_weight";
    const auto wshape = read_ints(weight_shape_obj, 4, name, "weight_shape");
    const Conv2dParams p = read_conv2d_params(name, stride_obj, padding_obj, dilation_obj);
    const std::string context =
        conv2d_context("grad_out " + shape_of(grad_out) + ", x " + shape_of(x) + ", weight_shape " +
                           ints_text(wshape),
                       p.stride, p.padding, p.dilation, groups);
    if (grad_out.ndim() != 4 || x.ndim() != 4)
        throw std::invalid_argument(name +
                                    ": expected 4-d grad_out (N, C_out, OH, OW) and x "
                                    "(N, C_in, H, W) (" +
                                    context + ")");
    const Conv2dGeometry g = conv2d_geometry(name, shape_vector(x), wshape, p.stride, p.padding,
                                             p.dilation, groups, context);
    expect_output_shape(name, grad_out, g, context);

    CArray<T> grad_w({wshape[0], wshape[1], wshape[2], wshape[3]});
    const T* g_data = grad_out.data();
    const T* x_data = x.data();
    T* gw_data = grad_w.mutable_data();
    {
        py::gil_scoped_release release;
        minidl::cpu::conv2d_backward_weight<T>(g_data, x_data, gw_data, g);
    }
    return grad_w;
}

void register_conv2d(py::module_& m) {
    const char* fwd_doc =
        "conv2d_forward(x, weight, stride, padding, dilation, groups) -> y: see "
        "minidl.backend.reference.conv2d_forward. x: C-contiguous (N, C_in, H, W), weight: "
        "(C_out, C_in/groups, kh, kw); stride, padding, dilation: (h, w) tuples.";
    const char* bwd_input_doc =
        "conv2d_backward_input(grad_out, weight, input_shape, stride, padding, dilation, groups) "
        "-> grad_x: see minidl.backend.reference.conv2d_backward_input.";
    const char* bwd_weight_doc =
        "conv2d_backward_weight(grad_out, x, weight_shape, stride, padding, dilation, groups) "
        "-> grad_weight: see minidl.backend.reference.conv2d_backward_weight.";
    def_float_double(m, "conv2d_forward", &conv2d_forward<float>, &conv2d_forward<double>,
                     py::arg("x").noconvert(), py::arg("weight").noconvert(), py::arg("stride"),
                     py::arg("padding"), py::arg("dilation"), py::arg("groups"), fwd_doc);
    def_float_double(m, "conv2d_backward_input", &conv2d_backward_input<float>,
                     &conv2d_backward_input<double>, py::arg("grad_out").noconvert(),
                     py::arg("weight").noconvert(), py::arg("input_shape"), py::arg("stride"),
                     py::arg("padding"), py::arg("dilation"), py::arg("groups"), bwd_input_doc);
    def_float_double(m, "conv2d_backward_weight", &conv2d_backward_weight<float>,
                     &conv2d_backward_weight<double>, py::arg("grad_out").noconvert(),
                     py::arg("x").noconvert(), py::arg("weight_shape"), py::arg("stride"),
                     py::arg("padding"), py::arg("dilation"), py::arg("groups"), bwd_weight_doc);
}

}  // namespace

PYBIND11_MODULE(_C, m) {
    m.doc() = "minidl's C++ kernels (csrc/cpu). Use them through minidl.backend.kernels.";

    const char* matmul_doc =
        "matmul(a, b, trans_a, trans_b) -> c: batched op(a) @ op(b), see "
        "minidl.backend.reference.matmul. a, b: C-contiguous 3-d arrays of one float dtype.";
    def_float_double(m, "matmul", &matmul<float>, &matmul<double>, py::arg("a").noconvert(),
                     py::arg("b").noconvert(), py::arg("trans_a") = false,
                     py::arg("trans_b") = false, matmul_doc);

    // Softmax family: float and double overloads of each, see minidl.backend.reference.
    namespace cpu = minidl::cpu;
    const char* softmax_doc = "softmax_forward(x) -> y: softmax over the last axis of a 2-d array.";
    const char* log_softmax_doc =
        "log_softmax_forward(x) -> y: log-softmax over the last axis of a 2-d array.";
    const char* softmax_backward_doc =
        "softmax_backward(grad_out, y) -> grad_x = y * (grad_out - sum(grad_out * y, -1)).";
    const char* log_softmax_backward_doc =
        "log_softmax_backward(grad_out, y) -> grad_x = grad_out - exp(y) * sum(grad_out, -1).";
    const auto x_arg = py::arg("x").noconvert();
    const auto grad_out_arg = py::arg("grad_out").noconvert(), y_arg = py::arg("y").noconvert();
    def_float_double(
        m, "softmax_forward", rowwise_binding("softmax_forward", &cpu::softmax_forward<float>),
        rowwise_binding("softmax_forward", &cpu::softmax_forward<double>), x_arg, softmax_doc);
    def_float_double(m, "log_softmax_forward",
                     rowwise_binding("log_softmax_forward", &cpu::log_softmax_forward<float>),
                     rowwise_binding("log_softmax_forward", &cpu::log_softmax_forward<double>),
                     x_arg, log_softmax_doc);
    def_float_double(m, "softmax_backward",
                     rowwise_binding("softmax_backward", &cpu::softmax_backward<float>),
                     rowwise_binding("softmax_backward", &cpu::softmax_backward<double>),
                     grad_out_arg, y_arg, softmax_backward_doc);
    def_float_double(m, "log_softmax_backward",
                     rowwise_binding("log_softmax_backward", &cpu::log_softmax_backward<float>),
                     rowwise_binding("log_softmax_backward", &cpu::log_softmax_backward<double>),
                     grad_out_arg, y_arg, log_softmax_backward_doc);

    m.def("get_num_threads", &minidl::cpu::get_num_threads, "Threads the CPU kernels run on.");
    m.def("set_num_threads", &minidl::cpu::set_num_threads, py::arg("n"),
          "Run the CPU kernels on n threads (ignored without OpenMP).");
    m.def("openmp_enabled", &minidl::cpu::openmp_enabled,
          "Whether the kernels were compiled with OpenMP.");
    m.def("simd", &minidl::cpu::simd,
          "The matmul micro-kernel in this build: 'avx512f' or 'portable'.");
    m.def("build_info", &minidl::cpu::build_info, "Compiler, flags and build type of this build.");

    register_pool2d(m);
    register_conv2d(m);
}
