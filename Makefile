# The contract: `make run` sets up, indexes the sample corpus and opens the chat;
# `make test` sets up, lints and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3

# `make help`: every target with a `## description` after its name, in file order.
help:
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/  \1\t\2/' \
		| expand -t 24

.DEFAULT_GOAL := help
.PHONY: help setup index run test test-fast test-llm lint docs docs-serve format eval bench-llm bench-claims bench-ingest bench-query-scale bench-retrieval bench-citations bench-ui bench-load bench-api bench-startup bench-answers bench-conflicts bench-extract bench-watch bench-duplicates fit-answer-encoder fit-answerability fit-sentence-ranker clean

setup: $(VENV)/.installed ## create .venv and install the package with the dev extra

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

index: setup ## index the sample corpus (data/articles)
	$(BIN)/rag index data/articles

run: index ## set up, index the sample corpus and open the chat
	$(BIN)/rag ui

lint: setup ## ruff, mypy, the generated-docs check, the docs site built strictly
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(PY) -m scripts.gen_docs --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: lint ## lint, then every test (what CI runs)
	$(PY) -m pytest

# The edit loop: the tests not marked slow (servers, subprocesses, large indexes, the browser).
test-fast: lint ## lint, then the tests not marked slow, on every core
	$(PY) -m pytest -m 'not slow and not llm' -n auto

docs: setup ## regenerate .env.example, the settings table and the CLI help in docs/
	$(PY) -m scripts.gen_docs

docs-serve: setup ## preview the docs site on http://127.0.0.1:8000
	$(BIN)/mkdocs serve

# The [llm] extra: pip builds llama-cpp-python from source once (~10 min), then reuses its wheel.
$(VENV)/.llm-installed: $(VENV)/.installed pyproject.toml
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install --quiet -e '.[dev,llm]'
	touch $@

# The generative path against a real OpenAI-compatible server (llama.cpp + SmolLM2-135M).
test-llm: setup $(VENV)/.llm-installed ## the generative path against a real llama.cpp server
	RAG_REQUIRE_LLM=1 $(PY) -m pytest tests/llm -m llm

bench-llm: setup $(VENV)/.llm-installed ## citations of a real model (SmolLM2-135M on llama.cpp)
	$(PY) -m bench.llm $(BENCH)

# The verifier on correct and wrong claims, through the generative path; BASELINE=DIR (e.g. a
# `git worktree add /tmp/base main`) adds that checkout's figures, measured in the same run.
bench-claims: setup ## the verifier on true and wrong claims, old and new
	$(PY) -m bench.claims $(if $(BASELINE),--baseline $(BASELINE)) $(BENCH)

# The articles suite offline; fails if answers fall under the bars measured when it shipped.
eval: setup ## the articles suite offline, gated on its metric bars
	$(BIN)/rag eval evals/suites/articles.yaml --mode extractive $(EVAL) \
		--fail-under passed=0.65 --fail-under fact_recall=0.70 \
		--fail-under citation_validity=1.0 --fail-under hit@5=0.90 --fail-above errors=0

bench-retrieval: setup ## retrieval against llama-index baselines (squad-dev)
	$(PY) -m bench.retrieval $(BENCH)

bench-ingest: setup ## indexing throughput and memory on generated corpora
	$(PY) -m bench.ingest $(BENCH)

bench-query-scale: setup ## retrieval latency against index size (1k-100k chunks)
	$(PY) -m bench.query_scale $(BENCH)

bench-citations: setup ## citation precision and recall (ALCE-style)
	$(PY) -m bench.citations

# The old (branch's first commit) and new extractive answerer on the squad-dev bench.
bench-answers: setup ## old vs new extractive answerer on squad-dev
	$(PY) -m bench.answers $(BENCH)

# Extraction per format (HTML, PDF, DOCX, feed, JSONL) and the articles suite over HTML copies.
bench-extract: setup ## extraction per article format
	$(PY) -m bench.extract $(BENCH)

# Planted value/negation conflicts, false alarms on the untouched bench, the seed letter case.
bench-conflicts: setup ## planted disagreements, false alarms
	$(PY) -m bench.conflicts $(BENCH)

# Refit rag/assets/answerability.json on squad-dev (leave-one-article-out CV figures).
fit-answerability: setup ## refit rag/assets/answerability.json
	$(PY) -m fit.fit_answerability $(BENCH) $(ENCODERS)

# Refit rag/assets/sentence_ranker.json on squad-dev (leave-one-article-out CV figures).
fit-sentence-ranker: setup ## refit rag/assets/sentence_ranker.json
	$(PY) -m fit.fit_sentence_ranker $(BENCH) $(ENCODERS)

# The answer encoder is fine-tuned with torch, which the product never imports: a separate
# environment (the CPU build of torch; plain `pip install torch` pulls GBs of CUDA wheels).
TRAIN_VENV ?= .venv-train
ENCODERS = $(if $(wildcard build/encoders/folds.json),--encoders build/encoders)
$(TRAIN_VENV)/.installed: fit/requirements-train.txt
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install --quiet -r fit/requirements-train.txt
	touch $@

# Then refit the ranker and answerability on its cross-fitted folds (build/encoders).
fit-answer-encoder: setup $(TRAIN_VENV)/.installed ## refit rag/assets/answer_encoder.onnx (~30 min)
	$(PY) -m fit.answer_pairs $(BENCH)
	$(TRAIN_VENV)/bin/python fit/fit_answer_encoder.py --cross-fit build/encoders

# `rag watch`: file landed -> answerable (singles, a burst of 1,000), the watcher's idle CPU.
bench-watch: setup ## rag watch: landed -> answerable, idle CPU
	$(PY) -m bench.watch $(BENCH)

# Syndicated copies: precision/recall of the grouping (threshold picked on half, reported on the rest).
bench-duplicates: setup ## syndicated copies: precision and recall of the grouping
	$(PY) -m bench.duplicates $(BENCH)

bench-ui: setup ## chat timings in a real browser
	$(PY) -m bench.ui

bench-load: setup ## concurrent answering
	$(PY) -m bench.load

# `rag serve` on 127.0.0.1 driven by 1, 4 and 16 concurrent clients for a fixed time each.
bench-api: setup ## rag serve under 1, 4 and 16 concurrent clients
	$(PY) -m bench.api $(BENCH)

bench-startup: setup ## cold start of rag ask against importing chromadb + onnxruntime
	$(PY) -m bench.startup $(BENCH)

format: setup ## ruff format and fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove the local store, caches and the built site
	rm -rf .rag .pytest_cache .mypy_cache .ruff_cache site
