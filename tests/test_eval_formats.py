"""Test sets in other tools' formats (RAGAS-style JSON/JSONL/CSV, SQuAD JSON) read as suites,
and results written as JUnit XML."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from cli import app
from evals import SuiteError, run_suite
from evals.formats import write_junit
from evals.suite import load_suite
from tests.support import SAMPLE

# Reference contexts as a testset generator writes them: sentences of the articles, their line
# breaks and spacing not kept.
ALASKA = (
    "US President Donald Trump delivered the letter by hand to Putin during their summit "
    "talks in Alaska.  Melania, who was born in Slovenia,\ndid not travel to Alaska for the "
    "meeting."
)
ANCHORAGE = "During a high-stakes summit in Anchorage, Alaska, US President Donald Trump"
RAGAS_ROWS: list[dict[str, Any]] = [
    {
        "user_input": "Where did Trump hand Putin the letter?",
        "reference": "In Alaska, during their summit talks.",
        "reference_contexts": [ALASKA, ANCHORAGE],
        "synthesizer_name": "single_hop_specifc_query_synthesizer",
    },
    {
        "user_input": "Where was Melania Trump born?",
        "reference": "Slovenia",
        "reference_contexts": [ALASKA],
        "synthesizer_name": "single_hop_specifc_query_synthesizer",
    },
    {"user_input": "What is the capital of Australia?", "reference": "Canberra"},
]
SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Zebra census",
            "paragraphs": [
                {
                    "context": "The 2025 zebra census in Kenya counted 4,812 zebras in the "
                    "Laikipia plateau, up from 4,100 in 2020.",
                    "qas": [
                        {
                            "id": "z1",
                            "question": "How many zebras did the 2025 census in Kenya count?",
                            "answers": [{"text": "4,812", "answer_start": 44}],
                            "is_impossible": False,
                        },
                        {
                            "id": "z2",
                            "question": "How many lions did the 2025 census count?",
                            "answers": [],
                            "plausible_answers": [{"text": "4,812", "answer_start": 44}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
        {
            "title": "Harbour bridge",
            "paragraphs": [
                {
                    "context": "The new harbour bridge in Mombasa opened on 3 March 2025 after "
                    "six years of building.",
                    "qas": [
                        {
                            "id": "b1",
                            "question": "When did the new harbour bridge in Mombasa open?",
                            "answers": [
                                {"text": "3 March 2025", "answer_start": 44},
                                {"text": "3 March 2025", "answer_start": 44},
                            ],
                        }
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def testset_dir(tmp_path: Path) -> Path:
    """A folder with the sample articles in `articles/`, as a testset would sit beside them."""
    shutil.copytree(SAMPLE, tmp_path / "set" / "articles")
    return tmp_path / "set"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """As pandas' `to_csv` writes a RAGAS testset: list cells as Python literals."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["user_input", "reference_contexts", "reference"])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "user_input": row["user_input"],
                    "reference_contexts": repr(row.get("reference_contexts", [])),
                    "reference": row["reference"],
                }
            )


def test_a_ragas_testset_reads_alike_as_json_jsonl_and_csv(testset_dir: Path) -> None:
    (testset_dir / "testset.json").write_text(json.dumps(RAGAS_ROWS))
    lines = "\n".join(json.dumps(row) for row in RAGAS_ROWS)
    (testset_dir / "testset.jsonl").write_text(lines + "\n")
    _write_csv(testset_dir / "testset.csv", RAGAS_ROWS)
    suites = [load_suite(testset_dir / f"testset.{ext}") for ext in ("json", "jsonl", "csv")]
    first = suites[0]
    assert first.corpus == (testset_dir / "articles").resolve()
    assert [c.question for c in first.cases] == [r["user_input"] for r in RAGAS_ROWS]
    # contexts are found in their files, spacing aside: the second sentence is in two files
    assert first.cases[0].expected_sources == (
        "000_e5097b3054c473ee.txt",
        "002_d141276db4e5eb8d.txt",
    )
    assert first.cases[1].expected_sources == ("000_e5097b3054c473ee.txt",)
    assert first.cases[2].expected_sources == () and first.cases[2].reference == ("Canberra",)
    assert first.cases[0].tags == ("single_hop_specifc_query_synthesizer",)
    for other in suites[1:]:
        pairs = zip(first.cases, other.cases, strict=True)
        assert all(
            (a.question, a.reference, a.expected_sources)
            == (b.question, b.reference, b.expected_sources)
            for a, b in pairs
        )


def test_ragas_0_1_columns_and_an_explicit_corpus(testset_dir: Path, tmp_path: Path) -> None:
    rows = [
        {
            "question": "Where was Melania Trump born?",
            "ground_truth": "Slovenia",
            "contexts": [ALASKA],
            "evolution_type": "simple",
        },
        {"question": "How did Trump rate the summit?", "ground_truths": ["10 out of 10"]},
    ]
    path = tmp_path / "old.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    suite = load_suite(path, corpus=testset_dir / "articles")
    assert suite.cases[0].expected_sources == ("000_e5097b3054c473ee.txt",)
    assert suite.cases[0].tags == ("simple",) and suite.cases[1].reference == ("10 out of 10",)


def test_a_squad_file_brings_its_own_articles(tmp_path: Path) -> None:
    path = tmp_path / "dev-v2.0.json"
    path.write_text(json.dumps(SQUAD))
    suite = load_suite(path)
    names = sorted(p.name for p in suite.corpus.iterdir())
    assert names == ["0000_Zebra_census.txt", "0001_Harbour_bridge.txt"]
    assert suite.corpus.is_relative_to((tmp_path / ".rag" / "evals" / "imported").resolve())
    zebras = (suite.corpus / names[0]).read_text()
    assert zebras.startswith("Zebra census\n\nThe 2025 zebra census")
    cases = {c.id: c for c in suite.cases}
    assert cases["z1"].expected_sources == ("0000_Zebra_census.txt",)
    assert cases["z1"].reference == ("4,812",)
    assert cases["z2"].unanswerable and not cases["z2"].reference
    assert cases["b1"].reference == ("3 March 2025",)  # duplicate answers kept once
    assert load_suite(path).corpus == suite.corpus  # the same file, the same folder


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("t.json", json.dumps([{"user_input": "Q?"}, {"reference": "A"}]), r"row 2: no question"),
        ("t.json", json.dumps({"rows": []}), "expected a list of testset rows"),
        ("t.json", "[{", "not valid JSON"),
        ("t.jsonl", '{"question": "Q?"}\n{oops\n', "line 2: not valid JSON"),
        ("t.csv", 'user_input,reference_contexts\nQ?,"[\'unclosed"\n', "row 1: a list cell"),
        ("t.json", json.dumps({"data": [{"title": "x"}]}), r"data\[0\] has no 'paragraphs'"),
        ("t.json", json.dumps([{"id": "a", "question": "Q?"}] * 2), "used more than once"),
        ("t.json", "[]", "no rows"),
    ],
)
def test_bad_testsets_say_where(testset_dir: Path, name: str, content: str, problem: str) -> None:
    (testset_dir / name).write_text(content)
    with pytest.raises(SuiteError, match=problem):
        load_suite(testset_dir / name)


def test_a_testset_without_its_articles_says_how_to_give_them(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(RAGAS_ROWS))
    with pytest.raises(SuiteError, match="--corpus"):
        load_suite(path, corpus=tmp_path / "missing")


def test_rag_eval_runs_a_ragas_csv_and_writes_junit(testset_dir: Path, tmp_path: Path) -> None:
    _write_csv(testset_dir / "testset.csv", RAGAS_ROWS)
    run = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            *["eval", str(testset_dir / "testset.csv"), "--mode", "extractive"],
            *["--out", str(run), "--quiet", "--corpus", str(testset_dir / "articles")],
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(row["status"] == "ok" for row in rows)
    suite = ET.parse(run / "junit.xml").getroot()
    assert suite.tag == "testsuite" and suite.get("name") == "testset"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["row-1", "row-2", "row-3"]
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    passed = {r["case_id"] for r in rows if r["scores"]["passed"] == 1.0}
    assert failed == {r["case_id"] for r in rows} - passed
    assert suite.get("failures") == str(len(failed)) and suite.get("errors") == "0"


def test_a_squad_file_runs_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(SQUAD))
    report = run_suite(path, mode="extractive", out=tmp_path / "run", progress=False)
    assert report.cases == 3 and not report.errors
    rows = {
        r["case_id"]: r
        for r in map(json.loads, (tmp_path / "run" / "results.jsonl").read_text().splitlines())
    }
    assert rows["z1"]["citations"][0]["source_file"] == "0000_Zebra_census.txt"
    assert "4,812" in rows["z1"]["answer"]
    junit = ET.parse(tmp_path / "run" / "junit.xml").getroot()
    assert junit.get("tests") == "3"


def test_junit_counts_failures_and_errors(tmp_path: Path) -> None:
    rows = [
        {"case_id": "ok", "status": "ok", "scores": {"passed": 1.0}, "latency_s": 0.5},
        {
            "case_id": "wrong",
            "status": "ok",
            "scores": {"passed": 0.0, "citation_recall": 0.0},
            "missing_facts": ["Slovenia"],
            "question": "Where?",
            "answer": "Nowhere [1].",
            "latency_s": 0.25,
        },
        {"case_id": "slow", "status": "timeout", "error": "no answer within 1 s"},
        {"case_id": "ok", "repeat": 1, "status": "ok", "scores": {"passed": 1.0}},
    ]
    write_junit(tmp_path / "junit.xml", "mini <suite>", rows)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    assert root.get("name") == "mini <suite>" and root.get("time") == "0.750"
    wrong = root.findall("testcase")[1].find("failure")
    assert wrong is not None and "missing facts: Slovenia" in (wrong.get("message") or "")
    assert "no expected source cited" in (wrong.get("message") or "")
    assert root.findall("testcase")[3].get("name") == "ok (repeat 2)"
