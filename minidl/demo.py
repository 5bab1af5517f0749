"""``minidl demo``: fit a small network to a noisy sine curve with nothing but tensors and autograd.

No layers or optimizers yet, on purpose: the weights are plain tensors with requires_grad=True,
the loss is built from ops, ``loss.backward()`` fills in ``.grad``, and one line of gradient descent
updates each weight. Every ``@`` runs our C++ matmul kernel.
"""

import time
from collections.abc import Callable, Sequence

import minidl as md


def fit_sine(
    steps: int = 2000,
    hidden: int = 32,
    lr: float = 0.05,
    seed: int = 0,
    log: Callable[[str], object] = print,
) -> list[float]:
    """Train y = W2 tanh(W1 x + b1) + b2 on 256 points of sin(3x) + noise; returns the losses."""
    md.manual_seed(seed)
    x = md.linspace(-1, 1, 256).reshape(-1, 1)
    y = (3 * x).sin() + 0.05 * md.randn(256, 1)

    w1 = md.randn(1, hidden, requires_grad=True)
    b1 = md.zeros(hidden, requires_grad=True)
    w2 = (md.randn(hidden, 1) / hidden**0.5).requires_grad_()
    b2 = md.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps + 1):
        prediction = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        loss.backward()
        with md.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
                p.grad = None
        losses.append(loss.item())
        if step % (steps // 10 or 1) == 0:
            log(f"step {step:5d}   mean squared error {loss.item():.5f}")
    log(f"{steps} steps in {time.perf_counter() - start:.2f} s (kernels: {md.backend.active_kernels()})")
    return losses


def main(argv: Sequence[str] | None = None) -> int:
    losses = fit_sine()
    print(f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
    return 0 if losses[-1] < 0.1 * losses[0] else 1


if __name__ == "__main__":
    raise SystemExit(main())
