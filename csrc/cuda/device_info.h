// What the CUDA runtime can see: the GPUs and the runtime version.
//
// csrc/cuda/ will hold the CUDA twins of csrc/cpu/ (matmul.cu next to cpu/matmul.cpp, ...), with
// the same function names and argument order; this file is the first, and holds no kernel.
//
// Plain C++ declarations: bindings_cuda.cpp includes this header without any CUDA header, so
// pybind11 code and CUDA code are compiled by their own compilers (g++ and nvcc).
#pragma once

#include <string>

namespace minidl::cuda {

// Number of visible CUDA devices; 0 (not an error) when there is no GPU or no driver.
int device_count();

// Why device_count() is 0: the CUDA runtime's message ("no CUDA-capable device is detected",
// "CUDA driver version is insufficient ..."); empty when there is a device.
std::string no_gpu_reason();

// The name of device i ("NVIDIA H100 80GB HBM3"). Throws std::out_of_range for a bad index.
std::string device_name(int index);

// The CUDA runtime this module was built with, as (major, minor), e.g. (13, 0).
struct Version {
    int major, minor;
};
Version runtime_version();

}  // namespace minidl::cuda
