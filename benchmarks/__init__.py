"""Benchmarks, each runnable as ``python -m benchmarks.<name>``; results go in RESULTS.md."""
