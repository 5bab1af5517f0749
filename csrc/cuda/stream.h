// The stream a CUDA kernel is queued on.
//
// CUDA's cudaStream_t is a pointer to the opaque struct CUstream_st. Naming that struct here, not
// including cuda_runtime.h, lets the bindings (compiled by the host compiler, without CUDA's
// headers) take CuPy's current stream as an integer and hand it to the kernels; in the .cu files
// Stream and cudaStream_t are the same type. Stream 0 is CUDA's default stream.
#pragma once

struct CUstream_st;

namespace minidl::cuda {

using Stream = CUstream_st*;

}  // namespace minidl::cuda
