// Checks shared by the two bindings; see binding_checks.h.
#include "binding_checks.h"

#include <sstream>
#include <stdexcept>

namespace py = pybind11;

namespace minidl::bindings {

std::string ints_text(const std::vector<int64_t>& values) {
    std::ostringstream out;
    out << "(";
    for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
    out << ")";
    return out.str();
}

// A tuple or list of `count` Python ints, or a ValueError naming the kernel and the argument.
std::vector<int64_t> read_ints(const py::handle& obj, size_t count, const std::string& kernel,
                               const char* name) {
    auto fail = [&] {
        throw std::invalid_argument(kernel + ": " + name + " must be a tuple of " +
                                    std::to_string(count) + " ints, got " +
                                    std::string(py::repr(obj)));
    };
    if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj) || py::len(obj) != count)
        fail();
    std::vector<int64_t> values;
    for (const py::handle item : obj) {
        if (!py::isinstance<py::int_>(item)) fail();
        values.push_back(item.cast<int64_t>());
    }
    return values;
}

// The geometry of a pooling of `input` (N, C, H, W), checked so that every index the kernel
// computes lies inside its arrays. Raises ValueError with `context` (the shapes and parameters).
Pool2dGeometry pool2d_geometry(const std::string& kernel_name, const std::vector<int64_t>& input,
                               const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& stride,
                               const std::vector<int64_t>& padding,
                               const std::vector<int64_t>& dilation, bool ceil_mode,
                               const std::string& context) {
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument(kernel_name + ": " + why + " (" + context + ")");
    };
    if (input[0] < 0 || input[1] < 0 || input[2] < 1 || input[3] < 1)
        fail("input H and W must be at least 1 (and N, C at least 0)");
    for (int axis = 0; axis < 2; ++axis) {
        if (kernel[axis] < 1 || stride[axis] < 1 || dilation[axis] < 1)
            fail("kernel, stride and dilation must be positive");
        if (padding[axis] < 0 || padding[axis] > kernel[axis] / 2)
            fail("padding must be between 0 and half the kernel size");
    }
    Pool2dGeometry s{};
    s.batch = input[0], s.channels = input[1], s.in_h = input[2], s.in_w = input[3];
    s.kernel_h = kernel[0], s.kernel_w = kernel[1], s.stride_h = stride[0], s.stride_w = stride[1];
    s.padding_h = padding[0], s.padding_w = padding[1], s.dilation_h = dilation[0],
    s.dilation_w = dilation[1];
    s.out_h = minidl::pool2d_output_size(s.in_h, s.kernel_h, s.stride_h, s.padding_h, s.dilation_h,
                                         ceil_mode);
    s.out_w = minidl::pool2d_output_size(s.in_w, s.kernel_w, s.stride_w, s.padding_w, s.dilation_w,
                                         ceil_mode);
    if (s.out_h < 1 || s.out_w < 1)
        fail("the window is larger than the padded input; output would be " +
             std::to_string(s.out_h) + "x" + std::to_string(s.out_w));
    return s;
}

bool is_pool2d_output_size(const Pool2dGeometry& g, int64_t out_h, int64_t out_w) {
    const int64_t floor_h =
        pool2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.padding_h, g.dilation_h, false);
    const int64_t floor_w =
        pool2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.padding_w, g.dilation_w, false);
    return out_h >= 1 && out_w >= 1 && (out_h == g.out_h || out_h == floor_h) &&
           (out_w == g.out_w || out_w == floor_w);
}

std::string pool_context(const std::string& shapes, const std::vector<int64_t>& kernel,
                         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
    return shapes + ", kernel " + ints_text(kernel) + ", stride " + ints_text(stride) +
           ", padding " + ints_text(padding);
}

// The geometry of a convolution of x (N, C_in, H, W) with weight (C_out, C_in/groups, kh, kw),
// checked so that every index the kernels compute lies inside their arrays. Raises ValueError
// naming the kernel, with `context` (the shapes and parameters).
Conv2dGeometry conv2d_geometry(const std::string& name, const std::vector<int64_t>& x,
                               const std::vector<int64_t>& w, const std::vector<int64_t>& stride,
                               const std::vector<int64_t>& padding,
                               const std::vector<int64_t>& dilation, int64_t groups,
                               const std::string& context) {
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument(name + ": " + why + " (" + context + ")");
    };
    // Bounds that keep every size and offset the kernels compute far from int64 overflow.
    constexpr int64_t kLimit = int64_t(1) << 31;
    for (int64_t v : x)
        if (v < 0) fail("negative size in the input shape");
    if (w[0] < 0 || w[1] < 0 || w[2] < 1 || w[3] < 1)
        fail("the weight needs kh, kw >= 1 (and no negative size)");
    if (groups < 1) fail("groups must be positive, got " + std::to_string(groups));
    if (x[1] != w[1] * groups)
        fail("input channels " + std::to_string(x[1]) + " != weight's C_in/groups " +
             std::to_string(w[1]) + " x groups " + std::to_string(groups));
    if (w[0] % groups != 0)
        fail("output channels " + std::to_string(w[0]) + " not divisible by groups " +
             std::to_string(groups));
    for (int axis = 0; axis < 2; ++axis) {
        if (stride[axis] < 1 || dilation[axis] < 1) fail("stride and dilation must be positive");
        if (padding[axis] < 0) fail("padding must be non-negative");
        if (stride[axis] > kLimit || dilation[axis] > kLimit || padding[axis] > kLimit ||
            x[2 + axis] > kLimit || w[2 + axis] > kLimit)
            fail("sizes, stride, padding and dilation must be below 2^31");
    }
    Conv2dGeometry g{};
    g.batch = x[0], g.in_channels = x[1], g.in_h = x[2], g.in_w = x[3];
    g.out_channels = w[0], g.kernel_h = w[2], g.kernel_w = w[3];
    g.stride_h = stride[0], g.stride_w = stride[1], g.padding_h = padding[0],
    g.padding_w = padding[1];
    g.dilation_h = dilation[0], g.dilation_w = dilation[1], g.groups = groups;
    g.out_h = minidl::conv2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.padding_h, g.dilation_h);
    g.out_w = minidl::conv2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.padding_w, g.dilation_w);
    if (g.out_h < 1 || g.out_w < 1)
        fail("the (dilated) kernel is larger than the padded input; output would be " +
             std::to_string(g.out_h) + "x" + std::to_string(g.out_w));
    return g;
}

std::string conv2d_context(const std::string& shapes, const std::vector<int64_t>& stride,
                           const std::vector<int64_t>& padding,
                           const std::vector<int64_t>& dilation, int64_t groups) {
    return shapes + ", stride " + ints_text(stride) + ", padding " + ints_text(padding) +
           ", dilation " + ints_text(dilation) + ", groups " + std::to_string(groups);
}

Conv2dParams read_conv2d_params(const std::string& name, const py::object& stride,
                                const py::object& padding, const py::object& dilation) {
    return Conv2dParams{read_ints(stride, 2, name, "stride"),
                        read_ints(padding, 2, name, "padding"),
                        read_ints(dilation, 2, name, "dilation")};
}

}  // namespace minidl::bindings
