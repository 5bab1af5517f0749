#include "cuda/device_info.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace minidl::cuda {

namespace {

// Every CUDA call goes through here: a failure becomes an exception that names the call, which
// pybind11 turns into a Python RuntimeError.
void check(cudaError_t status, const char* call) {
    if (status != cudaSuccess)
        throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(status) + ": " +
                                 cudaGetErrorString(status));
}

// cudaGetDeviceCount reports "no driver" and "no device" as errors. Those are not failures for
// us, they are the answer 0; the error is kept as the reason.
struct Probe {
    int count = 0;
    cudaError_t status = cudaSuccess;
};

Probe probe() {
    Probe result;
    result.status = cudaGetDeviceCount(&result.count);
    if (result.status != cudaSuccess) {
        result.count = 0;
        // The runtime remembers the last error; clear it so a later, unrelated call does not
        // report this one.
        cudaGetLastError();
    }
    return result;
}

}  // namespace

int device_count() { return probe().count; }

std::string no_gpu_reason() {
    const Probe p = probe();
    if (p.status != cudaSuccess)
        return std::string(cudaGetErrorName(p.status)) + ": " + cudaGetErrorString(p.status);
    if (p.count == 0) return "the CUDA runtime found no device";
    return "";
}

std::string device_name(int index) {
    const int count = device_count();
    if (index < 0 || index >= count)
        throw std::out_of_range("device_name: no CUDA device " + std::to_string(index) + " (" +
                                std::to_string(count) + " visible)");
    cudaDeviceProp props;
    check(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
    return props.name;
}

Version runtime_version() {
    int version = 0;
    check(cudaRuntimeGetVersion(&version), "cudaRuntimeGetVersion");
    // Encoded as 1000 * major + 10 * minor.
    return Version{version / 1000, (version % 1000) / 10};
}

}  // namespace minidl::cuda
