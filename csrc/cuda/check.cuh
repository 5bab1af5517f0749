// Checking every CUDA call and every kernel launch (included by the .cu files only).
//
// CUDA reports a failure as a return code, and a failed kernel launch (a bad grid, too much
// shared memory) only through cudaGetLastError. Both become a std::runtime_error that names the
// kernel, which pybind11 turns into a Python RuntimeError:
//   "matmul: CUDA error cudaErrorInvalidConfiguration (invalid configuration argument) at launch"
// Errors inside a running kernel (an illegal address) are reported by CUDA at a later call, often
// in another kernel or in CuPy; CUDA_LAUNCH_BLOCKING=1 makes them surface at their own launch.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace minidl::cuda {

// Throws when `status` is an error: `kernel` is the minidl function, `where` the failing step.
inline void check(cudaError_t status, const char* kernel, const char* where) {
    if (status == cudaSuccess) return;
    // The runtime also records a failed call as its "last error", which the check_launch of the
    // next, healthy kernel would report under that kernel's name. Reported here, so cleared here.
    cudaGetLastError();
    throw std::runtime_error(std::string(kernel) + ": CUDA error " + cudaGetErrorName(status) +
                             " (" + cudaGetErrorString(status) + ") at " + where);
}

// Call right after every <<<...>>> launch.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel, "launch"); }

// Blocks needed to cover `work` items with `per_block` items per block (at least 1 block).
inline unsigned int blocks_for(long long work, long long per_block) {
    const long long blocks = (work + per_block - 1) / per_block;
    return static_cast<unsigned int>(blocks > 0 ? blocks : 1);
}

}  // namespace minidl::cuda
