"""Timing one call the way every benchmark here does: warm up, then the best of several loops."""
import time


def best_time(fn, repeats, budget=0.2, clock=time.perf_counter):
    """Seconds per call: the best, over ``repeats`` runs, of a loop long enough to take ``budget``.

    The best (not the mean) because on a shared machine every disturbance only adds time.
    ``clock=time.process_time`` counts CPU time instead, which on a busy machine is what a quiet
    machine's wall time would be (for one thread).
    """
    fn()  # warm up: caches, allocator, thread pools
    start = clock()
    fn()
    once = max(clock() - start, 1e-6)
    loops = max(1, int(budget / once))
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(loops):
            fn()
        best = min(best, (clock() - start) / loops)
    return best


def forward_and_backward(run, leaves, grad, no_grad):
    """The two calls each benchmark times for an op, in minidl or PyTorch alike: ``run()`` with
    recording off (``no_grad``: md.no_grad or torch.no_grad), and ``run().backward(grad)`` after
    clearing the leaves' gradients (``grad`` None: the output is a scalar loss)."""
    def forward():
        with no_grad():
            run()

    def forward_backward():
        for leaf in leaves:
            leaf.grad = None
        out = run()
        out.backward() if grad is None else out.backward(grad)

    return forward, forward_backward
