"""Eval suites and benchmarks over the answering pipeline."""
