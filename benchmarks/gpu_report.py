"""Timing on the GPU, and the table benchmarks/gpu.py prints and writes.

GPU work is queued: a Python timer around a call measures the queueing, not the work. So the
clock here is a pair of CUDA events recorded on the stream around a loop of calls, read after the
second has completed; the figure is the median of several such loops, each long enough (about
``LOOP_MS``) that the events' own resolution (~0.5 us) does not matter. One call runs first as a
warm-up: CuPy compiles its kernels and fills its memory pool on first use.
"""

import dataclasses
import statistics

LOOP_MS = 20.0


def _median_ms(fn, repeats, make_event, elapsed_ms, synchronize):
    fn()  # warm-up
    synchronize()
    start, end = make_event(), make_event()
    start.record()
    fn()
    end.record()
    end.synchronize()
    loops = max(1, int(LOOP_MS / max(elapsed_ms(start, end), 1e-3)))
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(loops):
            fn()
        end.record()
        end.synchronize()
        times.append(elapsed_ms(start, end) / loops)
    return statistics.median(times)


def cupy_seconds(cp, fn, repeats):
    """Seconds per call of ``fn`` (work queued on CuPy's current stream), by CUDA events."""
    return (
        _median_ms(fn, repeats, cp.cuda.Event, cp.cuda.get_elapsed_time, cp.cuda.Device().synchronize) / 1e3
    )


def torch_seconds(torch, fn, repeats):
    """The same for PyTorch work, with PyTorch's own events on its current stream."""

    def event():
        return torch.cuda.Event(enable_timing=True)

    return _median_ms(fn, repeats, event, lambda s, e: s.elapsed_time(e), torch.cuda.synchronize) / 1e3


@dataclasses.dataclass
class Row:
    """One line of the table: our figure, the peer's, their ratio and the target for it."""

    section: str
    case: str
    ours: str  # the figure, with its unit
    peer: str = "-"  # what it is compared with, with its unit
    ratio: float | None = None
    target: float | None = None
    note: str = ""

    @property
    def verdict(self):
        if self.ratio is None or self.target is None:
            return "-"
        return "ok" if self.ratio >= self.target else "LOW"

    def cells(self):
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        target = "-" if self.target is None else f">= {self.target:.2f}"
        return [self.section, self.case, self.ours, self.peer, ratio, target, self.verdict, self.note]


HEADER = ["section", "case", "minidl", "peer", "ratio", "target", "", "note"]


def text_table(rows):
    cells = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEADER))).rstrip() for c in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(rows):
    def line(cells):
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    return "\n".join([line(HEADER), line(["---"] * len(HEADER))] + [line(r.cells()) for r in rows])
