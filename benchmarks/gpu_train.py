"""Training epochs on the CPU and on the GPU, for benchmarks/gpu.py.

Two models, each trained with the loop ``minidl train`` runs (``train_one_epoch``: forward,
cross-entropy, backward, Adam step, ``loss.item()`` per batch), the same code on both devices:

- the MNIST-1D CNN of ``minidl.train.models`` (4000 signals of length 40, batches of 100): a tiny
  model whose GPU epoch is mostly per-op launch cost;
- a larger CNN on synthetic CIFAR-sized images (3 x 32 x 32, batches of 128; three conv/BN/ReLU/
  pool stages of 32, 64, 128 channels): enough work per op for the GPU to show.

An epoch is timed on the wall clock (each ``loss.item()`` waits for the GPU, so the epoch's work is
done when it returns); the figure is the fastest of a few epochs after one warm-up epoch. The CPU
runs at minidl's default thread count.
"""

import time

import numpy as np

import minidl as md
from minidl import nn
from minidl.train import build_model, load_splits
from minidl.train.loop import train_one_epoch
from minidl.train.run import make_optimizer


def larger_cnn():
    def stage(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(
        *stage(3, 32),
        *stage(32, 64),
        *stage(64, 128),
        nn.Flatten(),
        nn.Linear(128 * 4 * 4, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )


def synthetic_images(n, seed=0):
    """n random 3 x 32 x 32 images with labels: the timing does not depend on what they show."""
    rng = np.random.default_rng(seed)
    return md.data.TensorDataset(
        rng.standard_normal((n, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, n)
    )


def epoch_seconds(make_model, dataset, batch_size, device, epochs):
    """The fastest of ``epochs`` timed epochs (after a warm-up one) on ``device``."""
    md.manual_seed(0)
    model = make_model().to(device)
    optimizer = make_optimizer("adam", model.parameters(), 1e-3)
    loader = md.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=0)
    train_one_epoch(model, loader, optimizer, device)
    best = float("inf")
    for _ in range(epochs):
        start = time.perf_counter()
        train_one_epoch(model, loader, optimizer, device)
        if device != "cpu":
            md.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def cases(data_root, quick):
    """(label, model builder, dataset, batch size) for each model; a model whose data cannot be
    had is returned with dataset None and the reason instead of a batch size."""
    try:
        mnist1d = load_splits("mnist1d", data_root)[0]
    except Exception as err:  # the mnist1d package (which generates the data) may be missing
        mnist1d = None
        why = f"MNIST-1D unavailable: {type(err).__name__}: {err}"
    out = [("MNIST-1D CNN", lambda: build_model("mnist1d", "cnn"), mnist1d, 100 if mnist1d else why)]
    out.append(("CNN 32-64-128, 3x32x32", larger_cnn, synthetic_images(1024 if quick else 4096), 128))
    return out
