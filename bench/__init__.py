"""Benchmarks, run on demand (`make bench` or `python -m bench.maps`); not part of the tests."""
