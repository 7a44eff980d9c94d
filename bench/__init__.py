"""Benchmarks: `python -m bench.<name>`. They print figures and exit non-zero on a missed target."""
