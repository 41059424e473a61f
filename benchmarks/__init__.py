"""The collection's benchmark (``make bench``); see ``benchmarks/bench.py``."""
