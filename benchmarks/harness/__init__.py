"""The pieces of the benchmark harness that `benchmarks/run.py` puts together."""
