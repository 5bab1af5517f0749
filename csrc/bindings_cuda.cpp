// minidl._C_cuda: the CUDA kernels of csrc/cuda, seen from Python.
//
// The kernels take device pointers, not arrays: pybind11 knows NumPy arrays but not CuPy's, and
// the GPU memory belongs to CuPy's allocator anyway. So Python (minidl/backend/cuda_kernels.py)
// allocates every output with CuPy and passes, for each kernel, in the CPU twin's order:
//   - the arrays as integers, `array.data.ptr` (C-contiguous device memory);
//   - the sizes: shapes as tuples, window parameters as (h, w) tuples;
//   - dtype, "float32" or "float64", which picks the template instance;
//   - stream, `cupy.cuda.get_current_stream().ptr`, the CUDA stream to queue the work on, so our
//     kernels run in order with CuPy's own work on the same stream (0 is the default stream).
// Every kernel returns as soon as its work is queued, like CuPy's, except max_pool2d_backward,
// which reads back a count of bad indices.
//
// The sizes are checked here as in bindings_cpu.cpp (shared code in binding_checks.cpp), so the
// kernels never index outside arrays of the shapes Python allocated. The pointers themselves
// cannot be checked: a wrong pointer or a host pointer is a CUDA error (or worse). That is why this
// module is called only through minidl.backend.kernels, which checks the arrays first.
//
// Errors: a bad size is a ValueError naming the kernel; a CUDA failure is a RuntimeError naming the
// kernel and CUDA's error (see csrc/cuda/check.cuh). The module links the CUDA runtime statically
// and only talks to the driver when a function is called, so importing it never fails for lack of
// a GPU.

#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "binding_checks.h"
#include "cuda/conv2d.h"
#include "cuda/device_info.h"
#include "cuda/matmul.h"
#include "cuda/pool2d.h"
#include "cuda/softmax.h"

namespace py = pybind11;
namespace cuda = minidl::cuda;
using namespace minidl::bindings;
using minidl::Conv2dGeometry;
using minidl::Pool2dGeometry;

namespace {

// A device pointer as Python passes it: `array.data.ptr`.
using Pointer = std::uintptr_t;

template <typename T>
T* as(Pointer p) {
    return reinterpret_cast<T*>(p);
}

cuda::Stream as_stream(Pointer s) { return reinterpret_cast<cuda::Stream>(s); }

// Runs `body(T{})` with T = float or double, as `dtype` says, with the GIL released (the body
// only queues GPU work, or waits for it). A generic lambda keeps each binding one function
// instead of two overloads.
template <typename Body>
void with_dtype(const std::string& kernel, const std::string& dtype, Body&& body) {
    if (dtype != "float32" && dtype != "float64")
        throw std::invalid_argument(kernel + ": dtype must be 'float32' or 'float64', got '" +
                                    dtype + "'");
    py::gil_scoped_release release;
    if (dtype == "float32")
        body(float{});
    else
        body(double{});
}

// A null pointer for an array that holds elements is a caller's bug; say so instead of faulting.
// (CuPy gives empty arrays a null pointer, so an empty array's pointer is not checked.)
void check_pointer(const std::string& kernel, const char* array, int64_t elements, Pointer p) {
    if (elements > 0 && p == 0)
        throw std::invalid_argument(kernel + ": null device pointer for " + array +
                                    ", which holds " + std::to_string(elements) + " elements");
}

// ---------------------------------------------------------------------------------------------
// matmul

void matmul(Pointer a, Pointer b, Pointer c, int64_t batch_a, int64_t batch_b, int64_t M, int64_t N,
            int64_t K, bool trans_a, bool trans_b, const std::string& dtype, Pointer stream) {
    const std::string name = "matmul";
    if (batch_a < 0 || batch_b < 0 || M < 0 || N < 0 || K < 0)
        throw std::invalid_argument(name + ": sizes must be non-negative");
    if (batch_a != batch_b && batch_a != 1 && batch_b != 1)
        throw std::invalid_argument(name + ": batch sizes " + std::to_string(batch_a) + " and " +
                                    std::to_string(batch_b) + " differ and neither is 1");
    const int64_t batch = (batch_a == 0 || batch_b == 0) ? 0 : std::max(batch_a, batch_b);
    check_pointer(name, "a", batch_a * M * K, a);
    check_pointer(name, "b", batch_b * K * N, b);
    check_pointer(name, "c", batch * M * N, c);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        cuda::matmul<T>(as<const T>(a), as<const T>(b), as<T>(c), batch_a, batch_b, M, N, K,
                        trans_a, trans_b, as_stream(stream));
    });
}

// ---------------------------------------------------------------------------------------------
// Softmax family: (rows, cols) arrays, one distribution per row.

using RowwiseForward = void (*)(const void*, void*, int64_t, int64_t, cuda::Stream);

void softmax_family_forward(const std::string& name, Pointer x, Pointer y, int64_t rows,
                            int64_t cols, const std::string& dtype, Pointer stream) {
    if (rows < 0 || cols < 0)
        throw std::invalid_argument(name + ": rows and cols must be non-negative");
    check_pointer(name, "x", rows * cols, x);
    check_pointer(name, "y", rows * cols, y);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        auto kernel =
            name == "softmax_forward" ? &cuda::softmax_forward<T> : &cuda::log_softmax_forward<T>;
        kernel(as<const T>(x), as<T>(y), rows, cols, as_stream(stream));
    });
}

void softmax_family_backward(const std::string& name, Pointer grad_out, Pointer y, Pointer grad_x,
                             int64_t rows, int64_t cols, const std::string& dtype, Pointer stream) {
    if (rows < 0 || cols < 0)
        throw std::invalid_argument(name + ": rows and cols must be non-negative");
    check_pointer(name, "grad_out", rows * cols, grad_out);
    check_pointer(name, "y", rows * cols, y);
    check_pointer(name, "grad_x", rows * cols, grad_x);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        auto kernel = name == "softmax_backward" ? &cuda::softmax_backward<T>
                                                 : &cuda::log_softmax_backward<T>;
        kernel(as<const T>(grad_out), as<const T>(y), as<T>(grad_x), rows, cols, as_stream(stream));
    });
}

// ---------------------------------------------------------------------------------------------
// Pooling

void max_pool2d_forward(Pointer x, Pointer y, Pointer indices, const py::object& input_shape,
                        const py::object& kernel, const py::object& stride,
                        const py::object& padding, const py::object& dilation, bool ceil_mode,
                        const std::string& dtype, Pointer stream) {
    const std::string name = "max_pool2d_forward";
    const auto input = read_ints(input_shape, 4, name, "input_shape");
    const auto k = read_ints(kernel, 2, name, "kernel"), s = read_ints(stride, 2, name, "stride");
    const auto p = read_ints(padding, 2, name, "padding"),
               d = read_ints(dilation, 2, name, "dilation");
    const std::string context =
        pool_context("input_shape " + ints_text(input), k, s, p) + ", dilation " + ints_text(d);
    const Pool2dGeometry shape = pool2d_geometry(name, input, k, s, p, d, ceil_mode, context);
    for (auto [array, p] : {std::pair{"x", x}, {"y", y}, {"indices", indices}})
        check_pointer(name, array, input[0] * input[1], p);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        cuda::max_pool2d_forward<T>(as<const T>(x), as<T>(y), as<int64_t>(indices), shape,
                                    as_stream(stream));
    });
}

void max_pool2d_backward(Pointer grad_out, Pointer indices, Pointer grad_x,
                         const py::object& input_shape, const py::object& output_size,
                         const std::string& dtype, Pointer stream) {
    const std::string name = "max_pool2d_backward";
    const auto input = read_ints(input_shape, 4, name, "input_shape");
    const auto out = read_ints(output_size, 2, name, "output_size");
    const std::string context =
        "input_shape " + ints_text(input) + ", output_size " + ints_text(out);
    if (input[0] < 0 || input[1] < 0 || input[2] < 1 || input[3] < 1 || out[0] < 1 || out[1] < 1)
        throw std::invalid_argument(name + ": expected N, C >= 0 and H, W, OH, OW >= 1 (" +
                                    context + ")");
    Pool2dGeometry shape{};
    shape.batch = input[0], shape.channels = input[1], shape.in_h = input[2], shape.in_w = input[3];
    shape.out_h = out[0], shape.out_w = out[1];
    for (auto [array, p] :
         {std::pair{"grad_out", grad_out}, {"indices", indices}, {"grad_x", grad_x}})
        check_pointer(name, array, input[0] * input[1], p);
    int64_t bad = 0;
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        // The kernel skips (never writes through) an index outside the plane, and counts it.
        bad = cuda::max_pool2d_backward<T>(as<const T>(grad_out), as<const int64_t>(indices),
                                           as<T>(grad_x), shape, as_stream(stream));
    });
    if (bad > 0)
        throw std::invalid_argument(name + ": " + std::to_string(bad) +
                                    " indices lie outside the " + std::to_string(shape.in_h) + "x" +
                                    std::to_string(shape.in_w) + " plane (expected 0.." +
                                    std::to_string(shape.in_h * shape.in_w - 1) +
                                    ", or -1 for an empty window) (" + context + ")");
}

void avg_pool2d_forward(Pointer x, Pointer y, const py::object& input_shape,
                        const py::object& kernel, const py::object& stride,
                        const py::object& padding, bool ceil_mode, bool count_include_pad,
                        const std::string& dtype, Pointer stream) {
    const std::string name = "avg_pool2d_forward";
    const auto input = read_ints(input_shape, 4, name, "input_shape");
    const auto k = read_ints(kernel, 2, name, "kernel"), s = read_ints(stride, 2, name, "stride");
    const auto p = read_ints(padding, 2, name, "padding");
    const std::string context = pool_context("input_shape " + ints_text(input), k, s, p);
    const Pool2dGeometry shape = pool2d_geometry(name, input, k, s, p, {1, 1}, ceil_mode, context);
    for (auto [array, p] : {std::pair{"x", x}, {"y", y}})
        check_pointer(name, array, input[0] * input[1], p);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        cuda::avg_pool2d_forward<T>(as<const T>(x), as<T>(y), shape, count_include_pad,
                                    as_stream(stream));
    });
}

void avg_pool2d_backward(Pointer grad_out, Pointer grad_x, const py::object& input_shape,
                         const py::object& output_size, const py::object& kernel,
                         const py::object& stride, const py::object& padding,
                         bool count_include_pad, const std::string& dtype, Pointer stream) {
    const std::string name = "avg_pool2d_backward";
    const auto input = read_ints(input_shape, 4, name, "input_shape");
    const auto out = read_ints(output_size, 2, name, "output_size");
    const auto k = read_ints(kernel, 2, name, "kernel"), s = read_ints(stride, 2, name, "stride");
    const auto p = read_ints(padding, 2, name, "padding");
    const std::string context = pool_context(
        "input_shape " + ints_text(input) + ", output_size " + ints_text(out), k, s, p);
    // The output size says whether the forward ran in ceil_mode; it must be one of the two sizes
    // (the ceil_mode size is never the smaller, so it is the one checked for >= 1).
    Pool2dGeometry shape = pool2d_geometry(name, input, k, s, p, {1, 1}, true, context);
    if (!is_pool2d_output_size(shape, out[0], out[1]))
        throw std::invalid_argument(
            name + ": output_size is not the output size of this pooling (" + context + ")");
    shape.out_h = out[0], shape.out_w = out[1];
    for (auto [array, p] : {std::pair{"grad_out", grad_out}, {"grad_x", grad_x}})
        check_pointer(name, array, input[0] * input[1], p);
    with_dtype(name, dtype, [&](auto zero) {
        using T = decltype(zero);
        cuda::avg_pool2d_backward<T>(as<const T>(grad_out), as<T>(grad_x), shape, count_include_pad,
                                     as_stream(stream));
    });
}

// ---------------------------------------------------------------------------------------------
// Convolution: the three kernels share one geometry, worked out from the input and weight shapes.

Conv2dGeometry read_conv2d(const std::string& name, const py::object& input_shape,
                           const py::object& weight_shape, const py::object& stride,
                           const py::object& padding, const py::object& dilation, int64_t groups) {
    const auto input = read_ints(input_shape, 4, name, "input_shape");
    const auto weight = read_ints(weight_shape, 4, name, "weight_shape");
    const Conv2dParams p = read_conv2d_params(name, stride, padding, dilation);
    const std::string context =
        conv2d_context("input_shape " + ints_text(input) + ", weight_shape " + ints_text(weight),
                       p.stride, p.padding, p.dilation, groups);
    return conv2d_geometry(name, input, weight, p.stride, p.padding, p.dilation, groups, context);
}

// The three arrays of a conv2d kernel each have the shape of x, of the weight or of y.
enum class Conv2dShape { x, weight, y };

int64_t elements(const Conv2dGeometry& g, Conv2dShape shape) {
    switch (shape) {
        case Conv2dShape::x: return g.batch * g.in_channels * g.in_h * g.in_w;
        case Conv2dShape::weight:
            return g.out_channels * (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
        case Conv2dShape::y: return g.batch * g.out_channels * g.out_h * g.out_w;
    }
    return 0;
}

struct Conv2dArray {
    const char* name;
    Conv2dShape shape;
    Pointer pointer;
};

// The body shared by the three conv2d bindings: the geometry from the shapes and parameters,
// the null-pointer check of each array, then `launch(T{}, g)` for the dtype.
template <typename Launch>
void conv2d_call(const std::string& name, std::initializer_list<Conv2dArray> arrays,
                 const py::object& input_shape, const py::object& weight_shape,
                 const py::object& stride, const py::object& padding, const py::object& dilation,
                 int64_t groups, const std::string& dtype, Launch&& launch) {
    const Conv2dGeometry g =
        read_conv2d(name, input_shape, weight_shape, stride, padding, dilation, groups);
    for (const Conv2dArray& array : arrays)
        check_pointer(name, array.name, elements(g, array.shape), array.pointer);
    with_dtype(name, dtype, [&](auto zero) { launch(zero, g); });
}

void conv2d_forward(Pointer x, Pointer weight, Pointer y, const py::object& input_shape,
                    const py::object& weight_shape, const py::object& stride,
                    const py::object& padding, const py::object& dilation, int64_t groups,
                    const std::string& dtype, Pointer stream) {
    conv2d_call("conv2d_forward",
                {{"x", Conv2dShape::x, x},
                 {"weight", Conv2dShape::weight, weight},
                 {"y", Conv2dShape::y, y}},
                input_shape, weight_shape, stride, padding, dilation, groups, dtype,
                [&](auto zero, const Conv2dGeometry& g) {
                    using T = decltype(zero);
                    cuda::conv2d_forward<T>(as<const T>(x), as<const T>(weight), as<T>(y), g,
                                            as_stream(stream));
                });
}

void conv2d_backward_input(Pointer grad_out, Pointer weight, Pointer grad_x,
                           const py::object& input_shape, const py::object& weight_shape,
                           const py::object& stride, const py::object& padding,
                           const py::object& dilation, int64_t groups, const std::string& dtype,
                           Pointer stream) {
    conv2d_call("conv2d_backward_input",
                {{"grad_out", Conv2dShape::y, grad_out},
                 {"weight", Conv2dShape::weight, weight},
                 {"grad_x", Conv2dShape::x, grad_x}},
                input_shape, weight_shape, stride, padding, dilation, groups, dtype,
                [&](auto zero, const Conv2dGeometry& g) {
                    using T = decltype(zero);
                    cuda::conv2d_backward_input<T>(as<const T>(grad_out), as<const T>(weight),
                                                   as<T>(grad_x), g, as_stream(stream));
                });
}

void conv2d_backward_weight(Pointer grad_out, Pointer x, Pointer grad_weight,
                            const py::object& input_shape, const py::object& weight_shape,
                            const py::object& stride, const py::object& padding,
                            const py::object& dilation, int64_t groups, const std::string& dtype,
                            Pointer stream) {
    conv2d_call("conv2d_backward_weight",
                {{"grad_out", Conv2dShape::y, grad_out},
                 {"x", Conv2dShape::x, x},
                 {"grad_weight", Conv2dShape::weight, grad_weight}},
                input_shape, weight_shape, stride, padding, dilation, groups, dtype,
                [&](auto zero, const Conv2dGeometry& g) {
                    using T = decltype(zero);
                    cuda::conv2d_backward_weight<T>(as<const T>(grad_out), as<const T>(x),
                                                    as<T>(grad_weight), g, as_stream(stream));
                });
}

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
    m.doc() = "minidl's CUDA kernels (csrc/cuda). Use them through minidl.backend.kernels.";

    m.def("device_count", &minidl::cuda::device_count,
          "Number of CUDA devices visible; 0 when there is no GPU or driver.");
    m.def("no_gpu_reason", &minidl::cuda::no_gpu_reason,
          "Why device_count() is 0 (the CUDA runtime's error); '' when a GPU is visible.");
    m.def("device_name", &minidl::cuda::device_name, py::arg("index") = 0,
          "Name of CUDA device `index`.");
    m.def(
        "runtime_version",
        [] {
            const auto v = minidl::cuda::runtime_version();
            return std::make_tuple(v.major, v.minor);
        },
        "CUDA runtime version this module was built with, as (major, minor).");

    // The kernels. Pointers are `array.data.ptr`, stream is `cupy.cuda.get_current_stream().ptr`.
    m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("batch_a"),
          py::arg("batch_b"), py::arg("M"), py::arg("N"), py::arg("K"), py::arg("trans_a"),
          py::arg("trans_b"), py::arg("dtype"), py::arg("stream"),
          "c[b] = op(a[b or 0]) @ op(b[b or 0]); see csrc/cuda/matmul.h.");

    for (const char* name : {"softmax_forward", "log_softmax_forward"}) {
        m.def(
            name,
            [name](Pointer x, Pointer y, int64_t rows, int64_t cols, const std::string& dtype,
                   Pointer stream) {
                softmax_family_forward(name, x, y, rows, cols, dtype, stream);
            },
            py::arg("x"), py::arg("y"), py::arg("rows"), py::arg("cols"), py::arg("dtype"),
            py::arg("stream"), "Row-wise over (rows, cols); see csrc/cuda/softmax.h.");
    }
    for (const char* name : {"softmax_backward", "log_softmax_backward"}) {
        m.def(
            name,
            [name](Pointer grad_out, Pointer y, Pointer grad_x, int64_t rows, int64_t cols,
                   const std::string& dtype, Pointer stream) {
                softmax_family_backward(name, grad_out, y, grad_x, rows, cols, dtype, stream);
            },
            py::arg("grad_out"), py::arg("y"), py::arg("grad_x"), py::arg("rows"), py::arg("cols"),
            py::arg("dtype"), py::arg("stream"),
            "Row-wise over (rows, cols); see csrc/cuda/softmax.h.");
    }

    m.def("max_pool2d_forward", &max_pool2d_forward, py::arg("x"), py::arg("y"), py::arg("indices"),
          py::arg("input_shape"), py::arg("kernel"), py::arg("stride"), py::arg("padding"),
          py::arg("dilation"), py::arg("ceil_mode"), py::arg("dtype"), py::arg("stream"),
          "y and int64 indices of each window's maximum; see csrc/cuda/pool2d.h.");
    m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad_out"), py::arg("indices"),
          py::arg("grad_x"), py::arg("input_shape"), py::arg("output_size"), py::arg("dtype"),
          py::arg("stream"),
          "Scatter-add grad_out to indices; waits for the stream (bad-index count).");
    m.def("avg_pool2d_forward", &avg_pool2d_forward, py::arg("x"), py::arg("y"),
          py::arg("input_shape"), py::arg("kernel"), py::arg("stride"), py::arg("padding"),
          py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("dtype"), py::arg("stream"),
          "Mean of each window; see csrc/cuda/pool2d.h.");
    m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad_out"), py::arg("grad_x"),
          py::arg("input_shape"), py::arg("output_size"), py::arg("kernel"), py::arg("stride"),
          py::arg("padding"), py::arg("count_include_pad"), py::arg("dtype"), py::arg("stream"),
          "Gradient of avg_pool2d_forward; see csrc/cuda/pool2d.h.");

    m.def("conv2d_forward", &conv2d_forward, py::arg("x"), py::arg("weight"), py::arg("y"),
          py::arg("input_shape"), py::arg("weight_shape"), py::arg("stride"), py::arg("padding"),
          py::arg("dilation"), py::arg("groups"), py::arg("dtype"), py::arg("stream"),
          "y = conv2d(x, weight); see csrc/cuda/conv2d.h.");
    m.def("conv2d_backward_input", &conv2d_backward_input, py::arg("grad_out"), py::arg("weight"),
          py::arg("grad_x"), py::arg("input_shape"), py::arg("weight_shape"), py::arg("stride"),
          py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("dtype"),
          py::arg("stream"),
          "Gradient of conv2d_forward with respect to x; see csrc/cuda/conv2d.h.");
    m.def("conv2d_backward_weight", &conv2d_backward_weight, py::arg("grad_out"), py::arg("x"),
          py::arg("grad_weight"), py::arg("input_shape"), py::arg("weight_shape"),
          py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
          py::arg("dtype"), py::arg("stream"),
          "Gradient of conv2d_forward with respect to weight; see csrc/cuda/conv2d.h.");
}
