// Settings shared by every CPU kernel: how many threads they run on, and what this build is.
#pragma once

#include <string>

namespace minidl::cpu {

// Threads the kernels use. Starts at OpenMP's default (OMP_NUM_THREADS, else the core count) and
// is kept here, not only in OpenMP's per-thread setting, so that a kernel called from any Python
// thread sees the value set from any other.
int get_num_threads();
void set_num_threads(int n);

// Whether the kernels were compiled with OpenMP (without it they all run on one thread).
bool openmp_enabled();

// One line describing the build: compiler, flags, build type, portable/sanitized.
std::string build_info();

}  // namespace minidl::cpu
