"""Benchmarks: scripts that print tables and write JSON under evals/results/ (not tests)."""
