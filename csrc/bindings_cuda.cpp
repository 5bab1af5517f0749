// minidl._C_cuda: the CUDA side of minidl, seen from Python.
//
// For now it answers what the CUDA runtime sees. The kernels will follow csrc/cpu: a CUDA twin of
// each CPU kernel in csrc/cuda/, with the same name, bound here taking raw device pointers from
// CuPy arrays. The module links the CUDA runtime statically and only talks to the driver when a
// function is called, so importing it never fails for lack of a GPU.

#include <pybind11/pybind11.h>

#include <tuple>

#include "cuda/device_info.h"

namespace py = pybind11;

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
}
