"""Benchmarks: python -m benchmarks.run (see docs/performance.md)."""
