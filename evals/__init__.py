"""Eval suites over answers: `run_suite(path) -> Report`, benchmarks in the `bench_*` modules.

>>> from evals import run_suite
>>> report = run_suite("evals/suites/articles.yaml", mode="extractive")
>>> report.metrics["fact_recall"].mean
"""

from evals.report import Report
from evals.runner import run_suite
from evals.suite import Case, Suite, SuiteError, load_suite

__all__ = ["Case", "Report", "Suite", "SuiteError", "load_suite", "run_suite"]
