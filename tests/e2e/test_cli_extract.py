"""`trialfx extract`: JSON lines with spans, clear one-line errors, and no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipelines.extraction import extract
from pipelines.ingest.readers import ingest_folder
from pipelines.parallel import PARALLEL_THRESHOLD
from tests.conftest import PROJECT
from tests.synthetic.generator import write_corpus

BIN = Path(sys.executable).parent


def _extract(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "trialfx"), "extract", *map(str, paths)], capture_output=True, text=True, timeout=120
    )


def test_seed_article_yields_every_gold_estimate(corpus_dir):
    seed = corpus_dir / "articles" / "00-seed-ember3-2mm.txt"
    done = _extract(seed)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    text = seed.read_text(encoding="utf-8")
    for rec in records:
        assert rec["article"] == seed.name
        assert text[rec["span_start"] : rec["span_end"]] == rec["evidence"]
    gold = [
        json.loads(line)
        for line in (corpus_dir / "gold.jsonl").read_text().splitlines()
        if line.strip() and json.loads(line)["article"] == seed.name
    ]
    found = {(r["type"], r.get("measure"), r.get("value"), r.get("ci_low"), r.get("ci_high"), r.get("n"))
             for r in records}
    for g in gold:
        key = (g["type"], g.get("measure"), g.get("value"), g.get("ci_low"), g.get("ci_high"), g.get("n"))
        assert key in found, f"missed {g['type']}: {g['evidence']}"
    estimates = {(r["value"], r["population"], r["endpoint"], r["p"]) for r in records if r["type"] == "estimate"}
    expected = {(g["value"], g["population"], g["endpoint"], g["p"]) for g in gold if g["type"] == "estimate"}
    assert estimates == expected


def test_bad_files_get_one_line_errors_and_the_rest_is_processed(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(
        "In the trial, drug A lowered the risk of progression versus placebo "
        "(hazard ratio, 0.70; 95% CI, 0.55 to 0.88; P = 0.002).",
        encoding="utf-8",
    )
    (tmp_path / "broken.bin").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    done = _extract(tmp_path, tmp_path / "missing.txt")
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert any("broken.bin" in e for e in errors)
    assert any("notes.docx" in e for e in errors)
    assert any("missing.txt" in e for e in errors)
    values = [json.loads(line)["value"] for line in done.stdout.splitlines()]
    assert 0.70 in values


def test_extract_does_not_import_dagster_or_pandas(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("Median overall survival was 12.1 vs 9.8 months (HR 0.79; 95% CI 0.66-0.95).")
    code = (
        "import sys; from pipelines.cli import main; rc = main(['extract', sys.argv[1]]); "
        "heavy = [m for m in ('dagster', 'pandas', 'duckdb') if m in sys.modules]; "
        "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc or bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(article)], capture_output=True, text=True,
                          cwd=PROJECT, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_folder_read_on_every_core_prints_each_article_once_in_walk_order(tmp_path):
    paths = write_corpus(tmp_path / "in", PARALLEL_THRESHOLD + 30)
    (tmp_path / "in" / "zz-copy.txt").write_bytes(paths[3].read_bytes())
    (tmp_path / "in" / "broken.bin").write_bytes(b"\x00\x01\x02binary")
    done = _extract(tmp_path / "in")
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2, done.stderr
    assert any("broken.bin" in e for e in errors)
    assert any(e.startswith("trialfx: warning: zz-copy.txt: same text as") for e in errors)
    expected = [json.dumps({**record, "article": article.article_id}, ensure_ascii=False)
                for article in ingest_folder(tmp_path / "in").articles
                for record in extract(article.text, article=article.article_id)]
    assert done.stdout.splitlines() == expected
