"""One side of `make bench-claims`: answers every case through the generative path of the `rag`
found on PYTHONPATH (this tree's, or main's from a worktree, for the before/after figures).

    PYTHONPATH=CODE python bench/claims_worker.py --store DIR --corpus DIR --base-url URL \
        --cases FILE --out FILE

It imports only `rag` and the standard library, so any version of the product can run it.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

from pydantic import SecretStr

from rag import Pipeline, Settings


def main() -> None:
    """Answer each case with its draft set on the wire server; one JSON line per case."""
    parser = argparse.ArgumentParser()
    for flag in ("--store", "--corpus", "--base-url", "--cases", "--out"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    settings = Settings(
        chroma_path=Path(args.store),
        corpus_dir=Path(args.corpus),
        answer_mode="openai",
        openai_api_key=SecretStr("sk-local"),
        openai_base_url=args.base_url,
        chat_model="draft",
        top_k=4,
        max_retries=0,
    )
    pipeline = Pipeline.from_settings(settings)
    cases = [json.loads(line) for line in Path(args.cases).read_text().splitlines() if line]
    with Path(args.out).open("w", encoding="utf-8") as out:
        for case in cases:
            data = json.dumps({"draft": case["draft"]}).encode()
            control = args.base_url.rsplit("/v1", 1)[0] + "/v1/control/draft"
            request = urllib.request.Request(control, data, {"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
            answer = pipeline.answer(case["question"], filters={"sources": case["files"]})
            row = {
                "id": case["id"],
                "text": answer.text,
                "refused": answer.refused,
                "citations": [{"n": c.n, "file": c.source_file} for c in answer.citations],
                "unsupported": answer.unsupported,
            }
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
