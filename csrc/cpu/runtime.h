// Settings shared by every CPU kernel: how many threads they run on, and what this build is.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace minidl::cpu {

// Threads the kernels use. Starts at OpenMP's default (OMP_NUM_THREADS, else the core count) and
// is kept here, not only in OpenMP's per-thread setting, so that a kernel called from any Python
// thread sees the value set from any other.
int get_num_threads();
void set_num_threads(int n);

// Threads worth using for `work` operations that split into `parts` independent pieces: one per
// `min_work_per_thread` operations (waking a thread costs microseconds, which its share must
// repay), at most one per piece, at most get_num_threads(), and at least 1. Every CPU kernel
// sizes its parallel regions with this one rule; each picks its own min_work_per_thread.
int threads_for(int64_t work, int64_t min_work_per_thread,
                int64_t parts = std::numeric_limits<int64_t>::max());

// Whether the kernels were compiled with OpenMP (without it they all run on one thread).
bool openmp_enabled();

// One line describing the build: compiler, flags, build type, portable/sanitized.
std::string build_info();

}  // namespace minidl::cpu
