// Checks shared by the two bindings (csrc/bindings_cpu.cpp and csrc/bindings_cuda.cpp): reading
// the window parameters and shapes that arrive from Python, and working out a convolution's or a
// pooling's geometry from them, so that every index a CPU or CUDA kernel computes lies inside its
// arrays. Every failure is a std::invalid_argument (ValueError in Python) naming the kernel.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "geometry.h"

namespace minidl::bindings {

// "(1, 2, 3)"
std::string ints_text(const std::vector<int64_t>& values);

// A tuple or list of `count` Python ints, or a ValueError naming the kernel and the argument.
std::vector<int64_t> read_ints(const pybind11::handle& obj, size_t count, const std::string& kernel,
                               const char* name);

// The geometry of a pooling of `input` (N, C, H, W), checked so that every index the kernel
// computes lies inside its arrays. Raises ValueError with `context` (the shapes and parameters).
Pool2dGeometry pool2d_geometry(const std::string& kernel_name, const std::vector<int64_t>& input,
                               const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& stride,
                               const std::vector<int64_t>& padding,
                               const std::vector<int64_t>& dilation, bool ceil_mode,
                               const std::string& context);

// Whether out_h x out_w is the output size of pooling `g` (worked out in ceil_mode, so that its
// out_h, out_w are never the smaller sizes) in either mode: a backward learns the forward's
// ceil_mode only from the size of its output.
bool is_pool2d_output_size(const Pool2dGeometry& g, int64_t out_h, int64_t out_w);

// "x (1, 2, 8, 8), kernel (2, 2), stride (2, 2), padding (0, 0)" for error messages.
std::string pool_context(const std::string& shapes, const std::vector<int64_t>& kernel,
                         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding);

// The geometry of a convolution of x (N, C_in, H, W) with weight (C_out, C_in/groups, kh, kw),
// checked so that every index the kernels compute lies inside their arrays. Raises ValueError
// naming the kernel, with `context` (the shapes and parameters).
Conv2dGeometry conv2d_geometry(const std::string& name, const std::vector<int64_t>& x,
                               const std::vector<int64_t>& w, const std::vector<int64_t>& stride,
                               const std::vector<int64_t>& padding,
                               const std::vector<int64_t>& dilation, int64_t groups,
                               const std::string& context);

std::string conv2d_context(const std::string& shapes, const std::vector<int64_t>& stride,
                           const std::vector<int64_t>& padding,
                           const std::vector<int64_t>& dilation, int64_t groups);

struct Conv2dParams {
    std::vector<int64_t> stride, padding, dilation;
};

// stride, padding and dilation, each an (h, w) tuple of ints.
Conv2dParams read_conv2d_params(const std::string& name, const pybind11::object& stride,
                                const pybind11::object& padding, const pybind11::object& dilation);

}  // namespace minidl::bindings
