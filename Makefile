# The contract: `make run` sets up, indexes the sample corpus and opens the chat;
# `make test` sets up, lints and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: setup index run test test-llm lint format eval bench-llm bench-ingest bench-query-scale bench-retrieval bench-citations bench-ui bench-load bench-startup bench-answers bench-conflicts bench-extract bench-watch bench-duplicates fit-answerability fit-sentence-ranker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

index: setup
	$(BIN)/rag index data/articles

run: index
	$(BIN)/rag ui

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(PY) -m pytest

# The [llm] extra: pip builds llama-cpp-python from source once (~10 min), then reuses its wheel.
$(VENV)/.llm-installed: $(VENV)/.installed pyproject.toml
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install --quiet -e '.[dev,llm]'
	touch $@

# The generative path against a real OpenAI-compatible server (llama.cpp + SmolLM2-135M).
test-llm: setup $(VENV)/.llm-installed
	RAG_REQUIRE_LLM=1 $(PY) -m pytest tests/llm -m llm

bench-llm: setup $(VENV)/.llm-installed
	$(PY) -m bench.llm $(BENCH)

# The articles suite offline; fails if answers fall under the bars measured when it shipped.
eval: setup
	$(BIN)/rag eval evals/suites/articles.yaml --mode extractive $(EVAL) \
		--fail-under passed=0.65 --fail-under fact_recall=0.70 \
		--fail-under citation_validity=1.0 --fail-under hit@5=0.90 --fail-above errors=0

bench-retrieval: setup
	$(PY) -m bench.retrieval $(BENCH)

bench-ingest: setup
	$(PY) -m bench.ingest $(BENCH)

bench-query-scale: setup
	$(PY) -m bench.query_scale $(BENCH)

bench-citations: setup
	$(PY) -m bench.citations

# The old (branch's first commit) and new extractive answerer on the squad-dev bench.
bench-answers: setup
	$(PY) -m bench.answers $(BENCH)

# Extraction per format (HTML, PDF, DOCX, feed, JSONL) and the articles suite over HTML copies.
bench-extract: setup
	$(PY) -m bench.extract $(BENCH)

# Planted value/negation conflicts, false alarms on the untouched bench, the seed letter case.
bench-conflicts: setup
	$(PY) -m bench.conflicts $(BENCH)

# Refit rag/assets/answerability.json on squad-dev (leave-one-article-out CV figures).
fit-answerability: setup
	$(PY) -m bench.fit_answerability $(BENCH)

# Refit rag/assets/sentence_ranker.json on squad-dev (leave-one-article-out CV figures).
fit-sentence-ranker: setup
	$(PY) -m bench.fit_sentence_ranker $(BENCH)

# `rag watch`: file landed -> answerable (singles, a burst of 1,000), the watcher's idle CPU.
bench-watch: setup
	$(PY) -m bench.watch $(BENCH)

# Syndicated copies: precision/recall of the grouping (threshold picked on half, reported on the rest).
bench-duplicates: setup
	$(PY) -m bench.duplicates $(BENCH)

bench-ui: setup
	$(PY) -m bench.ui

bench-load: setup
	$(PY) -m bench.load

bench-startup: setup
	$(PY) -m bench.startup $(BENCH)

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf .rag .pytest_cache .mypy_cache .ruff_cache
