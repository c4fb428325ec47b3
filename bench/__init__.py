"""Benchmarks, run on demand (`make bench`, `python -m bench.maps`, `python -m bench.grid`); not tests."""
