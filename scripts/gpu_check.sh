#!/usr/bin/env bash
# The whole GPU check in one command, for a machine with a GPU, nvcc and CuPy:
#   1. build minidl with its CUDA kernels (in place, like `pip install --no-build-isolation -e .`);
#   2. minidl doctor, to see the GPU, the CUDA runtime and _C_cuda loaded;
#   3. the GPU tests, MINIDL_REQUIRE_GPU=1 pytest -m gpu (a missing GPU is a failure there);
#   4. the GPU benchmark, python -m benchmarks.gpu, whose table goes to benchmarks/RESULTS.md.
# Each step's output is kept in $OUT (default: gpu_check_out/): build.log, doctor.txt,
# gpu_tests.log, gpu_benchmark.md and gpu_benchmark.log. A failing step does not stop the later
# ones: one run should bring back as much as it can. The exit status is the first failure's.
#
#   scripts/gpu_check.sh              everything
#   QUICK=1 scripts/gpu_check.sh      the benchmark's --quick pass, tests without the slow ones
#   SANITIZE=1 scripts/gpu_check.sh   also run the kernel tests under compute-sanitizer (memcheck)
#
# The training-epoch rows of the benchmark and a few tests need the mnist1d package; where it is
# missing they say so and skip.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-gpu_check_out}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"
status=0
step() {  # step NAME COMMAND...: run, keep the first failure's status
    echo "=== $1"
    shift
    "$@"
    local rc=$?
    echo "=== exit $rc"
    if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
}

export PYTHONUNBUFFERED=1
step build bash -c "set -o pipefail; $PYTHON -m pip install --no-build-isolation --no-deps -e . > '$OUT/build.log' 2>&1 || { tail -40 '$OUT/build.log'; exit 1; }"
step doctor bash -c "set -o pipefail; $PYTHON -c 'import minidl; minidl.doctor()' 2>&1 | tee '$OUT/doctor.txt'; nvidia-smi -L >> '$OUT/doctor.txt' 2>&1"

marks="gpu"
bench_flags=()
if [ -n "${QUICK:-}" ]; then
    marks="gpu and not slow"
    bench_flags=(--quick)
fi
step gpu-tests bash -c "set -o pipefail; MINIDL_REQUIRE_GPU=1 $PYTHON -m pytest -m '$marks' -q -p no:cacheprovider --maxfail=30 2>&1 | tee '$OUT/gpu_tests.log'"
if [ -n "${SANITIZE:-}" ]; then
    # memcheck on the edge-size kernel tests (tile edges, odd shapes, every softmax width bucket,
    # empty arrays): out-of-bounds and misaligned accesses, and CUDA API errors.
    step sanitize bash -c "set -o pipefail; MINIDL_REQUIRE_GPU=1 HYPOTHESIS_PROFILE=ci compute-sanitizer --tool memcheck --error-exitcode 9 \
        $PYTHON -m pytest tests/test_gpu_kernels.py -q -x -p no:cacheprovider -k 'tile_edges or special_shapes or row_lengths or empty' 2>&1 \
        | tail -60 | tee '$OUT/sanitize.log'"
fi
step benchmark bash -c "set -o pipefail; $PYTHON -m benchmarks.gpu ${bench_flags[*]:-} --out '$OUT/gpu_benchmark.md' 2>&1 | tee '$OUT/gpu_benchmark.log'"
exit "$status"
