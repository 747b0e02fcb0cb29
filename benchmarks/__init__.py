"""Benchmarks at scale: ``python -m benchmarks.run``. Measured here, never in timed tests."""
