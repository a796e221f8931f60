"""The extractor scored against the hand-checked corpus gold and the demo corpus gold."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from pipelines.extraction import extract

PROJECT = Path(__file__).resolve().parents[3]
CORPUS = PROJECT.parent / "shared" / "corpus"
DEMO_ARTICLES = PROJECT / "data" / "articles"
DEMO_GOLD = PROJECT / "tests" / "fixtures" / "demo_gold.jsonl"
SEED = "00-seed-ember3-2mm.txt"

# Floors just under what the extractor reaches on all 37 corpus articles (1.0 for estimates and arms,
# 0.96 F1 for arm results); the targets are 0.97/0.95 for estimates and 0.90 F1 for the others.
TARGETS = {"estimate_precision": 0.99, "estimate_recall": 0.99, "endpoint_acc": 0.99, "population_acc": 0.99,
           "p_acc": 0.99, "arm_result_f1": 0.95, "arm_f1": 0.99}


def _scorer():
    path = CORPUS / "score.py"
    if not path.is_file():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the project, not in it)")
    spec = importlib.util.spec_from_file_location("corpus_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _predict(articles: dict[str, str]) -> list[dict]:
    out = []
    for name, text in articles.items():
        out.extend(extract(text, name))
    return out


def _check(result: dict) -> None:
    est, arm_results, arms = result["estimate"], result["arm_result"], result["arm"]
    reached = {"estimate_precision": est["precision"], "estimate_recall": est["recall"],
               "endpoint_acc": est["endpoint_acc"], "population_acc": est["population_acc"], "p_acc": est["p_acc"],
               "arm_result_f1": arm_results["f1"], "arm_f1": arms["f1"]}
    short = {k: v for k, v in reached.items() if v < TARGETS[k]}
    assert not short, f"below target: {short}"


@pytest.mark.corpus
def test_corpus_scores_reach_the_targets():
    score = _scorer()
    gold = score.load(str(CORPUS / "gold.jsonl"))
    articles = {p.name: p.read_text(encoding="utf-8") for p in sorted((CORPUS / "articles").glob("*.txt"))}
    _check(score.score(gold, _predict(articles)))


@pytest.mark.corpus
def test_seed_article_is_read_completely():
    score = _scorer()
    gold = [g for g in score.load(str(CORPUS / "gold.jsonl")) if g["article"] == SEED]
    pred = extract((CORPUS / "articles" / SEED).read_text(encoding="utf-8"), SEED)
    result = score.score(gold, pred)
    for kind in ("estimate", "arm_result", "arm"):
        assert (result[kind]["precision"], result[kind]["recall"]) == (1.0, 1.0), kind
    assert (result["estimate"]["endpoint_acc"], result["estimate"]["population_acc"],
            result["estimate"]["p_acc"]) == (1.0, 1.0, 1.0)


def _demo_articles() -> dict[str, str]:
    out = {}
    for path in sorted(DEMO_ARTICLES.glob("*")):
        if path.suffix in (".txt", ".md"):
            text = path.read_text(encoding="utf-8")
            front = re.match(r"---\n.*?\n---\n", text, re.DOTALL)
            out[path.name] = text[front.end():] if front else text
        elif path.suffix == ".jsonl":
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            for i, line in enumerate(lines, 1):
                out[f"{path.name}#{i}"] = json.loads(line)["text"]
    return out


@pytest.mark.corpus
def test_demo_text_articles_are_read_correctly():
    if not DEMO_GOLD.is_file():
        pytest.skip("demo gold records not present")
    score = _scorer()
    articles = _demo_articles()
    gold = [g for g in score.load(str(DEMO_GOLD)) if g["article"] in articles]
    result = score.score(gold, _predict(articles))
    for kind in ("estimate", "arm_result", "arm"):
        assert result[kind]["recall"] == 1.0 and result[kind]["precision"] == 1.0, kind
    assert result["estimate"]["endpoint_acc"] == 1.0 and result["estimate"]["p_acc"] == 1.0


@pytest.mark.corpus
def test_demo_articles_in_every_format_are_read_correctly():
    if not DEMO_GOLD.is_file():
        pytest.skip("demo gold records not present")
    from pipelines.ingest.readers import ingest_folder

    score = _scorer()
    articles = {a.article_id: a.text for a in ingest_folder(DEMO_ARTICLES).articles}
    result = score.score(score.load(str(DEMO_GOLD)), _predict(articles))
    for kind in ("estimate", "arm_result", "arm"):
        assert (result[kind]["precision"], result[kind]["recall"]) == (1.0, 1.0), kind
    est = result["estimate"]
    assert (est["endpoint_acc"], est["population_acc"], est["p_acc"]) == (1.0, 1.0, 1.0)
