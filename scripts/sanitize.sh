#!/usr/bin/env bash
# Run the native-kernel tests against an AddressSanitizer + UndefinedBehaviorSanitizer build of
# minidl._C, without touching the normal build.
#
#   scripts/sanitize.sh                      # the kernel tests (matmul, conv, pool, softmax)
#   scripts/sanitize.sh tests/test_foo.py    # any pytest arguments
#
# How it works, and why:
# 1. CMake configures and builds a second copy of _C with MINIDL_SANITIZE=ON into build/sanitize
#    (not through pip: `pip install -e .` would overwrite minidl/_C*.so, the module every other
#    test and benchmark uses). CUDA is off: nvcc code is not instrumented anyway.
# 2. A fresh temporary directory gets a mirror of minidl/ made of symlinks, with the sanitized _C
#    in place of the normal one, and goes first on sys.path: `import minidl` finds the mirror
#    before the source tree and any installed copy. (A directory per run, so that two runs at
#    once do not pull each other's files away; the build itself is serialised with a lock.)
# 3. Python itself is not built with ASan, so the ASan runtime must be loaded before anything
#    else: LD_PRELOAD=libasan.so. libstdc++ is preloaded with it: ASan wraps C++ `throw`, and
#    finds the real one only if libstdc++ is already loaded when ASan starts; otherwise the first
#    exception a kernel throws (a ValueError for bad shapes) aborts the process. Python keeps
#    objects alive until exit by design, which the leak checker would report by the thousand:
#    detect_leaks=0. Any other ASan or UBSan report stops the process (halt_on_error), so a
#    finding fails the run instead of scrolling past.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/sanitize"
PYTHON="${PYTHON:-python3}"
SITE="$(mktemp -d "${TMPDIR:-/tmp}/minidl-sanitize.XXXXXX")"
trap 'rm -rf "$SITE"' EXIT

# 1. The sanitized build (one build at a time in this directory)
"$PYTHON" -c "import pybind11" 2>/dev/null || { echo "sanitize.sh: needs pybind11 (pip install pybind11)" >&2; exit 1; }
mkdir -p "$BUILD"
(
    flock 9
    cmake -S "$ROOT" -B "$BUILD" \
        -DCMAKE_BUILD_TYPE=Release \
        -DMINIDL_SANITIZE=ON \
        -DMINIDL_CUDA=OFF \
        -DPython_EXECUTABLE="$(command -v "$PYTHON")" \
        -Dpybind11_DIR="$("$PYTHON" -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
        -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$BUILD/modules"
    cmake --build "$BUILD" --parallel "$(nproc)"
    # 2. The mirror package with the sanitized module, taken while the lock still holds
    cp -rs "$ROOT/minidl" "$SITE/"
    rm -f "$SITE"/minidl/_C.*.so "$SITE"/minidl/_C_cuda.*.so
    cp "$BUILD"/modules/_C.*.so "$SITE/minidl/"
) 9>"$BUILD/.lock"

# 3. Run the tests under the sanitizers
LIBASAN="$(${CXX:-g++} -print-file-name=libasan.so)"
LIBSTDCXX="$(${CXX:-g++} -print-file-name=libstdc++.so)"
for lib in "$LIBASAN" "$LIBSTDCXX"; do
    [ -f "$lib" ] || { echo "sanitize.sh: cannot find $lib" >&2; exit 1; }
done
export LD_PRELOAD="$LIBASAN $LIBSTDCXX"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"

# Python with the mirror first on sys.path, ahead of the current directory.
with_mirror() {
    "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv.pop(1)); exec(sys.argv.pop(1))' "$SITE" "$@"
}

with_mirror "import minidl._C as C; assert 'sanitized' in C.build_info(), C.__file__; print('sanitized module:', C.__file__)"
if [ "$#" -eq 0 ]; then
    # The tests of the four native kernel families (whichever exist).
    shopt -s nullglob
    set -- "$ROOT"/tests/test_native_*.py "$ROOT"/tests/test_conv*.py "$ROOT"/tests/test_pool*.py \
           "$ROOT"/tests/test_softmax*.py
fi
with_mirror "import pytest; raise SystemExit(pytest.main(sys.argv[1:]))" -p no:cacheprovider "$@"
