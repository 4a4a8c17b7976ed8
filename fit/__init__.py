"""Fitting scripts: they refit the model files the product ships in `rag/assets`.

- `fit_answerability`: `rag/assets/answerability.json` (`make fit-answerability`);
- `fit_sentence_ranker`: `rag/assets/sentence_ranker.json` (`make fit-sentence-ranker`).

Both read a SQuAD-style bench through `bench.common` and `bench.harness`.
"""
