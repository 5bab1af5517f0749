#include "cpu/runtime.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#ifdef _OPENMP
#include <omp.h>
#endif

// CMakeLists.txt describes the build in these strings; the defaults keep a hand build compiling.
#ifndef MINIDL_COMPILER
#define MINIDL_COMPILER "unknown compiler"
#endif
#ifndef MINIDL_CXX_FLAGS
#define MINIDL_CXX_FLAGS "unknown flags"
#endif
#ifndef MINIDL_BUILD_TYPE
#define MINIDL_BUILD_TYPE "unknown"
#endif

namespace minidl::cpu {

namespace {

int default_num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// An atomic global rather than omp_set_num_threads: OpenMP keeps that setting per calling thread,
// so a value set from one Python thread would silently not apply to kernels run from another.
std::atomic<int> g_num_threads{default_num_threads()};

}  // namespace

int get_num_threads() { return g_num_threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    if (n < 1) throw std::invalid_argument("set_num_threads: expected a positive integer");
#ifdef _OPENMP
    g_num_threads.store(n, std::memory_order_relaxed);
#endif
    // Without OpenMP there is only one thread to run on; accepting the call keeps scripts portable.
}

int threads_for(int64_t work, int64_t min_work_per_thread, int64_t parts) {
    const int64_t by_work = work / min_work_per_thread;
    return int(std::max<int64_t>(1, std::min<int64_t>({get_num_threads(), parts, by_work})));
}

bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

std::string build_info() {
    std::string info = std::string(MINIDL_COMPILER) + "; flags: " + MINIDL_CXX_FLAGS +
                       "; build type: " + MINIDL_BUILD_TYPE;
#if defined(MINIDL_PORTABLE_BUILD) && MINIDL_PORTABLE_BUILD
    info += "; portable";
#endif
#if defined(MINIDL_SANITIZE_BUILD) && MINIDL_SANITIZE_BUILD
    info += "; sanitized (ASan+UBSan)";
#endif
    info += openmp_enabled() ? "; OpenMP" : "; no OpenMP";
    return info;
}

}  // namespace minidl::cpu
