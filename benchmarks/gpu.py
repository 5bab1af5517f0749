"""GPU benchmark: minidl's CUDA kernels vs the GPU's ceilings, cuBLAS and cuDNN; training, CPU vs GPU.

    python -m benchmarks.gpu                     # the full run (about 2-3 minutes on an H100)
    python -m benchmarks.gpu --quick             # a smoke pass: fewer sizes and repeats
    python -m benchmarks.gpu --out gpu.md        # also write the table as markdown

First the ceilings, measured in this run: the bandwidth of a large device-to-device copy
(counted as 2 x bytes: each byte is read once and written once) and cuBLAS SGEMM through CuPy
(``cupy.matmul`` on float32 calls cublasSgemm; TF32 is off, CUPY_TF32=0). Then, float32:

    matmul       GFLOP/s (2 M N K / time) at n = 1024 .. 8192 vs cuBLAS SGEMM  target >= 50 % at 4096
    softmax      bandwidth vs the copy's; a forward moves 2 x the array (read x, write y), a
    log_softmax  backward 3 x (read grad_out and y, write grad_x)               target >= 70 %
    pooling      bandwidth vs the copy's; bytes = what the kernel must read and write at least:
                 max forward x + y + int64 indices, max backward grad_out + indices + grad_x,
                 avg forward x + y, avg backward grad_out + grad_x              target >= 60 %
    conv2d       forward, and forward + backward (grad of input and weight) through Tensors,
                 vs cuDNN through PyTorch (TF32 off); ratio = cuDNN time / ours  target >= 40 %
    training     one epoch of the MNIST-1D CNN and of a larger CNN, CPU vs GPU; ratio = speed-up

Forward kernels are called through ``minidl.backend.kernels`` on CuPy arrays (native setting);
forward + backward through minidl Tensors and autograd, as a model would. Each figure is the
median of several loops timed with CUDA events after a warm-up (benchmarks/gpu_report.py).
PyTorch is optional: without a CUDA build of it the cuDNN rows say so.
"""

import os

# Before CuPy is imported (by this module or by minidl): CuPy reads it once, and TF32 would make
# cuBLAS's "SGEMM" a tensor-core product of 10-bit mantissas, not the float32 ceiling we want.
os.environ["CUPY_TF32"] = "0"

import argparse  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402

import minidl as md  # noqa: E402
import minidl.functional as F  # noqa: E402
from minidl.backend import kernels, native  # noqa: E402

from . import gpu_train  # noqa: E402
from .gpu_report import Row, cupy_seconds, markdown_table, text_table, torch_seconds  # noqa: E402

GB = 1e9


def native_kernel(name):
    """kernels.<name> under the native setting (the CUDA kernel for CuPy arrays)."""
    fn = getattr(kernels, name)

    def call(*args):
        with md.use_kernels("native"):
            return fn(*args)

    return call


def randn(cp, *shape, seed=0):
    return cp.asarray(np.random.default_rng(seed).standard_normal(shape, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# Ceilings


def copy_bandwidth(cp, repeats, quick):
    n = (128 if quick else 512) * 2**20 // 4  # float32 elements: 128 or 512 MiB
    src, dst = cp.ones(n, cp.float32), cp.empty(n, cp.float32)
    seconds = cupy_seconds(cp, lambda: cp.copyto(dst, src), repeats)
    bandwidth = 2 * src.nbytes / seconds
    row = Row(
        "ceiling",
        f"device-to-device copy, {src.nbytes >> 20} MiB",
        f"{bandwidth / GB:,.0f} GB/s",
        note="2 x bytes / time (read + write)",
    )
    return bandwidth, row


def sgemm_seconds(cp, n, repeats):
    a, b = randn(cp, n, n, seed=1), randn(cp, n, n, seed=2)
    return cupy_seconds(cp, lambda: cp.matmul(a, b), repeats)


# ---------------------------------------------------------------------------------------------
# Kernels


def matmul_rows(cp, sizes, repeats):
    rows = []
    ours = native_kernel("matmul")
    for n in sizes:
        a, b = randn(cp, 1, n, n, seed=3), randn(cp, 1, n, n, seed=4)
        flops = 2.0 * n**3
        mine = flops / cupy_seconds(cp, lambda: ours(a, b, False, False), repeats)
        cublas = flops / sgemm_seconds(cp, n, repeats)
        rows.append(
            Row(
                "matmul",
                f"{n} x {n} x {n}",
                f"{mine / GB:,.0f} GFLOP/s",
                f"cuBLAS {cublas / GB:,.0f} GFLOP/s",
                mine / cublas,
                0.5 if n == 4096 else None,
            )
        )
    return rows


def bandwidth_row(cp, section, case, fn, nbytes, copy_bw, target, repeats):
    bandwidth = nbytes / cupy_seconds(cp, fn, repeats)
    return Row(
        section,
        case,
        f"{bandwidth / GB:,.0f} GB/s",
        f"copy {copy_bw / GB:,.0f} GB/s",
        bandwidth / copy_bw,
        target,
        f"{nbytes / 2**20:,.0f} MiB moved",
    )


def softmax_rows(cp, shapes, copy_bw, repeats):
    rows = []
    for rows_, cols in shapes:
        x = randn(cp, rows_, cols, seed=5)
        g = randn(cp, rows_, cols, seed=6)
        size = x.nbytes
        for name in ("softmax", "log_softmax"):
            forward, backward = native_kernel(f"{name}_forward"), native_kernel(f"{name}_backward")
            y = forward(x)
            shape = f"{rows_} x {cols}"
            rows.append(
                bandwidth_row(
                    cp, name, f"forward {shape}", lambda: forward(x), 2 * size, copy_bw, 0.7, repeats
                )
            )
            rows.append(
                bandwidth_row(
                    cp, name, f"backward {shape}", lambda: backward(g, y), 3 * size, copy_bw, 0.7, repeats
                )
            )
    return rows


def pool_rows(cp, shape, copy_bw, repeats):
    x = randn(cp, *shape, seed=7)
    rows = []
    max_fwd, max_bwd = native_kernel("max_pool2d_forward"), native_kernel("max_pool2d_backward")
    avg_fwd, avg_bwd = native_kernel("avg_pool2d_forward"), native_kernel("avg_pool2d_backward")
    for kernel, stride, padding in [((3, 3), (2, 2), (1, 1)), ((2, 2), (2, 2), (0, 0))]:
        window = f"k{kernel[0]} s{stride[0]} p{padding[0]}, {shape}"
        y, idx = max_fwd(x, kernel, stride, padding, (1, 1), False)
        g = cp.ones_like(y)
        rows.append(
            bandwidth_row(
                cp,
                "max_pool2d",
                f"forward {window}",
                lambda: max_fwd(x, kernel, stride, padding, (1, 1), False),
                x.nbytes + y.nbytes + idx.nbytes,
                copy_bw,
                0.6,
                repeats,
            )
        )
        rows.append(
            bandwidth_row(
                cp,
                "max_pool2d",
                f"backward {window}",
                lambda: max_bwd(g, idx, shape),
                g.nbytes + idx.nbytes + x.nbytes,
                copy_bw,
                0.6,
                repeats,
            )
        )
        a = avg_fwd(x, kernel, stride, padding, False, True)
        rows.append(
            bandwidth_row(
                cp,
                "avg_pool2d",
                f"forward {window}",
                lambda: avg_fwd(x, kernel, stride, padding, False, True),
                x.nbytes + a.nbytes,
                copy_bw,
                0.6,
                repeats,
            )
        )
        rows.append(
            bandwidth_row(
                cp,
                "avg_pool2d",
                f"backward {window}",
                lambda: avg_bwd(a, shape, kernel, stride, padding, True),
                a.nbytes + x.nbytes,
                copy_bw,
                0.6,
                repeats,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# conv2d against cuDNN

CONV_CASES = [
    # x shape, weight shape, stride, padding
    ((32, 64, 56, 56), (64, 64, 3, 3), 1, 1),  # a ResNet stage-1 layer
    ((32, 128, 28, 28), (128, 128, 3, 3), 1, 1),  # stage 2
    ((32, 256, 14, 14), (64, 256, 1, 1), 1, 0),  # a pointwise bottleneck
    ((32, 3, 224, 224), (64, 3, 7, 7), 2, 3),  # the stem
]


def load_torch():
    """PyTorch with CUDA and TF32 off, or (None, why not)."""
    try:
        import torch
    except ImportError:
        return None, "PyTorch not installed"
    if not torch.cuda.is_available():
        return None, f"PyTorch {torch.__version__} has no usable CUDA"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # cuDNN picks its fastest algorithm per shape: the best peer
    return torch, ""


def conv_rows(cp, cases, repeats):
    torch, why = load_torch()
    ours_fwd = native_kernel("conv2d_forward")
    rows = []
    for x_shape, w_shape, stride, padding in cases:
        x, w = randn(cp, *x_shape, seed=8), randn(cp, *w_shape, seed=9)
        y = ours_fwd(x, w, stride, padding, 1, 1)
        flops = 2.0 * y.size * w_shape[1] * w_shape[2] * w_shape[3]
        case = f"{x_shape} * {w_shape[:2]} {w_shape[2]}x{w_shape[3]} s{stride} p{padding}"
        fwd = cupy_seconds(cp, lambda: ours_fwd(x, w, stride, padding, 1, 1), repeats)

        xt = md.tensor(x, requires_grad=True)
        wt = md.tensor(w, requires_grad=True)
        gt = md.tensor(randn(cp, *y.shape, seed=10))

        def ours_fwd_bwd():
            xt.grad = wt.grad = None
            F.conv2d(xt, wt, stride=stride, padding=padding).backward(gt)

        both = cupy_seconds(cp, ours_fwd_bwd, repeats)

        peer = [None, None]
        if torch is not None:
            tx = torch.tensor(cp.asnumpy(x), device="cuda", requires_grad=True)
            tw = torch.tensor(cp.asnumpy(w), device="cuda", requires_grad=True)
            tg = torch.tensor(cp.asnumpy(gt.data), device="cuda")
            conv = torch.nn.functional.conv2d

            def torch_fwd():
                with torch.no_grad():
                    conv(tx, tw, stride=stride, padding=padding)

            def torch_fwd_bwd():
                tx.grad = tw.grad = None
                conv(tx, tw, stride=stride, padding=padding).backward(tg)

            peer = [torch_seconds(torch, torch_fwd, repeats), torch_seconds(torch, torch_fwd_bwd, repeats)]
        for what, mine, theirs, total in (
            ("forward", fwd, peer[0], flops),
            ("fwd+bwd", both, peer[1], 3 * flops),
        ):
            figure = f"{1e3 * mine:.2f} ms, {total / mine / GB:,.0f} GFLOP/s"
            if theirs is None:
                rows.append(Row("conv2d", f"{what} {case}", figure, "-", None, 0.4, f"no cuDNN row: {why}"))
            else:
                rows.append(
                    Row(
                        "conv2d", f"{what} {case}", figure, f"cuDNN {1e3 * theirs:.2f} ms", theirs / mine, 0.4
                    )
                )
    return rows


# ---------------------------------------------------------------------------------------------
# Training epochs


def train_rows(data_root, quick):
    rows = []
    epochs = 1 if quick else 2
    threads = md.get_num_threads()
    for label, make_model, dataset, batch in gpu_train.cases(data_root, quick):
        if dataset is None:
            rows.append(Row("training", label, "-", note=batch))
            continue
        gpu = gpu_train.epoch_seconds(make_model, dataset, batch, "cuda", epochs)
        cpu = gpu_train.epoch_seconds(make_model, dataset, batch, "cpu", epochs)
        rows.append(
            Row(
                "training",
                f"{label}, one epoch ({len(dataset)} samples, batch {batch})",
                f"GPU {gpu:.3f} s",
                f"CPU {cpu:.3f} s ({threads} threads)",
                cpu / gpu,
                note="ratio = CPU time / GPU time",
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------


def describe(cp):
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    torch, why = load_torch()
    cuda_module = native.cuda_module()
    missing = [n for n in kernels.KERNELS if cuda_module is None or not hasattr(cuda_module, n)]
    lines = [
        f"GPU: {name} ({props['totalGlobalMem'] / 2**30:.0f} GiB, {props['multiProcessorCount']} SMs), "
        f"CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}, CuPy {cp.__version__}, "
        f"{'PyTorch ' + torch.__version__ if torch else why}, minidl {md.__version__}, CUPY_TF32=0"
    ]
    if missing:
        lines.append(
            f"WARNING: minidl._C_cuda has no {', '.join(missing)}; those rows measure whatever "
            f"backend.kernels runs instead ({native.load_error('_C_cuda') or 'module loaded'})"
        )
    return lines


def run_section(rows, name, fn, *args):
    """Append fn(*args)'s rows; a section that fails becomes one row saying why (the rest still run)."""
    try:
        rows.extend(fn(*args))
    except Exception as err:
        traceback.print_exc()
        rows.append(Row(name, "FAILED", "-", note=f"{type(err).__name__}: {err}"[:200]))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke pass: fewer sizes and repeats")
    parser.add_argument("--out", metavar="PATH", help="also write the table as markdown to PATH")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed loops per figure (default 7, quick 3)"
    )
    parser.add_argument("--data-root", default="data", help="where the MNIST-1D cache lives (or is made)")
    args = parser.parse_args(argv)
    if not md.cuda.is_available():
        print(f"benchmarks.gpu: no usable GPU here: {md.cuda.unavailable_reason()}", file=sys.stderr)
        return 2
    import cupy as cp

    repeats = args.repeats or (3 if args.quick else 7)
    header = describe(cp)
    print("\n".join(header), flush=True)

    copy_bw, copy_row = copy_bandwidth(cp, repeats, args.quick)
    n = 4096
    sgemm = 2.0 * n**3 / sgemm_seconds(cp, n, repeats)
    rows = [copy_row, Row("ceiling", f"cuBLAS SGEMM {n} (TF32 off)", f"{sgemm / GB:,.0f} GFLOP/s")]
    sizes = (1024, 4096) if args.quick else (1024, 2048, 4096, 8192)
    softmax_shapes = [(8192, 4096)] if args.quick else [(8192, 4096), (65536, 1000)]
    pool_shape = (16, 64, 112, 112) if args.quick else (32, 64, 112, 112)
    run_section(rows, "matmul", matmul_rows, cp, sizes, repeats)
    run_section(rows, "softmax", softmax_rows, cp, softmax_shapes, copy_bw, repeats)
    run_section(rows, "pooling", pool_rows, cp, pool_shape, copy_bw, repeats)
    run_section(rows, "conv2d", conv_rows, cp, CONV_CASES[:1] if args.quick else CONV_CASES, repeats)
    run_section(rows, "training", train_rows, args.data_root, args.quick)

    print("\n" + text_table(rows))
    judged = [r for r in rows if r.verdict != "-"]
    summary = f"{sum(r.verdict == 'ok' for r in judged)} of {len(judged)} targets met" + (
        " (--quick: a smoke pass, not for RESULTS.md)" if args.quick else ""
    )
    print("\n" + summary)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n\n".join(["\n".join(header), markdown_table(rows), summary]) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
