"""Benchmarks: `python -m bench` (or `make bench`) runs every module here.

A bench module exposes `main()`, sync or async, that prints what it measured and returns 0 when the target is
met (non-zero, or an exception, otherwise). Benchmarks run against the local fakes in tests/fakes, never the
internet.
"""
