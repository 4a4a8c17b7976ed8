"""Development harnesses that tests and benchmarks share (not part of the product).

- `serve`: the chat served on a free local port (`rag ui`), and where Chromium is;
- `extract_set`: the sample articles rebuilt as HTML pages, PDFs, Word files, feeds and JSONL;
- `llm_server`: a real OpenAI-compatible llama.cpp server for the `llm` test tier.
"""
