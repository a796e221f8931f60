"""Hostile files in the articles folder: the run finishes, every file is accounted for, good ones load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets.core import core_tables
from pipelines.assets.extract import extracted_records
from pipelines.assets.ingest import ingest
from pipelines.resources import ArticlesFolder, WarehouseResource
from tests.ops.helpers import DEMO_ARTICLES, query, run_trialfx
from warehouse.db import Warehouse

SCRIPT_MARKER = "zqxscriptmarker"
STYLE_MARKER = "zqxstylemarker"

GOOD_PARAGRAPH = (
    "The phase 3 LANTERN-4 trial randomized 620 patients with advanced renal cancer to "
    "corimab (n = 310) or sunitinib (n = 310). Corimab improved progression-free survival "
    "(hazard ratio, 0.74; 95% CI, 0.61 to 0.90; P = 0.002)."
)
IMPOSSIBLE = (
    "The phase 3 MIRAGE-2 trial randomized 480 patients to drug Q or placebo. Progression-free "
    "survival: hazard ratio 1.20 (95% CI 1.40 to 0.90). Overall survival: HR -0.5 (95% CI, 0.40 "
    "to 0.80). Response: odds ratio 2.10 (95% CI, -0.30 to 3.50). Disease-free survival: hazard "
    "ratio 0.70 (95% CI, 0.55 to 0.89; p = 1.7). Event-free survival improved with drug Q "
    "(hazard ratio, 0.81; 95% CI, 0.69 to 0.95; P = 0.01).\n"
)
# (value, ci_low, ci_high, p) of the impossible figures above, and the rule each breaks.
IMPOSSIBLE_FIGURES = {
    (1.20, 1.40, 0.90, None): "ci_brackets_value",
    (-0.5, 0.40, 0.80, None): "ratio_positive",
    (2.10, -0.30, 3.50, None): "ratio_positive",
    (0.70, 0.55, 0.89, 1.7): "less_than_or_equal_to",
}


def _html_page() -> str:
    return (
        "<!doctype html><html><head><title>LANTERN-4 results</title>"
        f"<style>body::after {{ content: '{STYLE_MARKER}'; }}</style>"
        f"<script>var note = '{SCRIPT_MARKER} hazard ratio 0.11 (95% CI 0.05 to 0.20)';</script>"
        "</head><body><nav><a href='/'>Home</a></nav><article><h1>LANTERN-4 results</h1>"
        f"<p>{GOOD_PARAGRAPH.replace('LANTERN-4', 'BEACON-7')}</p>"
        f"<script>document.write('{SCRIPT_MARKER} odds ratio 0.12 (95% CI 0.06 to 0.22)')</script>"
        "</article></body></html>"
    )


def _hostile_folder(root: Path) -> dict[str, str | None]:
    """Write one file of each hostile kind; return file name -> expected error code (None: an
    article with no error row)."""
    root.mkdir()
    for name in ("01-ember3-2mm.txt", "01-ember3-2mm.meta.json", "06-veritac2-onclive.md"):
        shutil.copyfile(DEMO_ARTICLES / name, root / name)
    shutil.copyfile(DEMO_ARTICLES / "06-veritac2-onclive.md", root / "zz-copy-of-06.md")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("  \n\t\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 64)
    latin = GOOD_PARAGRAPH.replace("LANTERN-4", "CAF\u00c9-2").replace("corimab", "r\u00e9gorafenib")
    (root / "latin1.txt").write_bytes(latin.encode("latin-1"))
    with open(root / "huge.txt", "wb") as handle:
        line = (GOOD_PARAGRAPH + "\n").encode()
        handle.write(line * (10_500_000 // len(line) + 1))
    (root / "page.html").write_text(_html_page(), encoding="utf-8")
    (root / "broken.xml").write_text(
        "<?xml version='1.0'?><PubmedArticleSet><PubmedArticle><MedlineCitation><Article>"
        "<ArticleTitle>Unclosed", encoding="utf-8")
    lines = [json.dumps({"text": GOOD_PARAGRAPH.replace("LANTERN-4", "RIVER-5"), "title": "RIVER-5"}),
             '{"text": "broken line, no closing brace',
             json.dumps({"title": "no text key"})]
    (root / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "slides.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (root / "LICENSE").write_text("no suffix at all\n", encoding="utf-8")
    (root / "impossible.txt").write_text(IMPOSSIBLE, encoding="utf-8")
    return {
        "01-ember3-2mm.txt": None, "01-ember3-2mm.meta.json": None, "06-veritac2-onclive.md": None,
        "zz-copy-of-06.md": "duplicate", "empty.txt": "empty", "blank.md": "empty", "binary.txt": "binary",
        "latin1.txt": "decoded_as_cp1252", "huge.txt": "too_large", "page.html": None,
        "broken.xml": "bad_xml", "wire.jsonl": "bad_json_line", "slides.pdf": "unsupported_type",
        "LICENSE": "unsupported_type", "impossible.txt": None,
    }


@pytest.mark.slow
def test_a_hostile_folder_runs_to_the_end_and_accounts_for_every_file(tmp_path):
    articles = tmp_path / "articles"
    expected = _hostile_folder(articles)
    assert sorted(p.name for p in articles.iterdir()) == sorted(expected)
    warehouse = tmp_path / "wh" / "trialfx.duckdb"
    run_trialfx(articles, warehouse)  # raises unless the run succeeds

    loaded = {r[0] for r in query(warehouse, "select source_path from raw.articles")}
    errors: dict[str, set[str]] = {}
    for path, error, detail in query(warehouse, "select source_path, error, detail from raw.ingest_errors"):
        assert error and detail and path in detail, f"error row without a reason: {(path, error, detail)}"
        errors.setdefault(path, set()).add(error)
    for name, code in expected.items():
        if name.endswith(".meta.json"):
            article = name.removesuffix(".meta.json") + ".txt"
            assert article in loaded, f"{name}: its article did not load"
            continue
        assert name in loaded | set(errors), f"{name} is in neither raw.articles nor raw.ingest_errors"
        if code is not None:
            assert code in errors.get(name, set()), f"{name}: expected {code}, got {errors.get(name)}"
    assert {"01-ember3-2mm.txt", "06-veritac2-onclive.md", "latin1.txt", "page.html",
            "impossible.txt", "wire.jsonl"} <= loaded
    assert not loaded & {"zz-copy-of-06.md", "huge.txt", "binary.txt", "empty.txt", "broken.xml"}

    (latin_text,) = query(warehouse, "select text from raw.articles where source_path = 'latin1.txt'")[0]
    assert "CAF\u00c9-2" in latin_text and "r\u00e9gorafenib" in latin_text
    (html_text,) = query(warehouse, "select text from raw.articles where source_path = 'page.html'")[0]
    assert "BEACON-7" in html_text
    leaked = query(warehouse, "select count(*) from raw.articles where text ilike ? or text ilike ?",
                   [f"%{SCRIPT_MARKER}%", f"%{STYLE_MARKER}%"])[0][0]
    assert leaked == 0, "script or style text reached raw.articles.text"
    assert query(warehouse, "select count(*) from core.effect_estimates where value in (0.11, 0.12)")[0][0] == 0

    per_article = dict(query(warehouse, "select article_id, count(*) from core.effect_estimates group by 1"))
    for good in ("01-ember3-2mm.txt", "06-veritac2-onclive.md", "page.html", "latin1.txt", "wire.jsonl#1"):
        assert per_article.get(good, 0) > 0, f"{good}: no estimates loaded"

    # Whatever the extractor made of the impossible figures, none reached core.
    impossible = query(
        warehouse,
        """
        select count(*) from core.effect_estimates
        where value <= 0 and measure in ('HR', 'OR', 'RR', 'IRR')
           or ci_low > ci_high or ci_low > value or ci_high < value or p > 1 or p < 0
           or (measure in ('HR', 'OR', 'RR', 'IRR') and (ci_low <= 0 or ci_high <= 0))
        """,
    )[0][0]
    assert impossible == 0
    valid = query(warehouse, "select value, ci_low, ci_high from core.effect_estimates "
                             "where article_id = 'impossible.txt'")
    assert (0.81, 0.69, 0.95) in valid, "the sound figure of the impossible article did not load"


@pytest.mark.slow
def test_a_folder_with_one_article_and_one_bad_file_runs_and_publishes(tmp_path):
    """The smallest folders have no trial met twice, so the cross-trial mart is empty."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "only.txt").write_text(GOOD_PARAGRAPH, encoding="utf-8")
    (articles / "binary.txt").write_bytes(bytes(range(256)) * 8)
    warehouse = tmp_path / "wh" / "trialfx.duckdb"
    run_trialfx(articles, warehouse)
    assert query(warehouse, "select article_id from raw.articles") == [("only.txt",)]
    assert query(warehouse, "select source_path, error from raw.ingest_errors") == [("binary.txt", "binary")]
    assert query(warehouse, "select count(*) from marts.cross_trial_subgroups")[0][0] == 0


def _estimate_rows(build: Path) -> list[dict]:
    con = duckdb.connect(str(build), read_only=True)
    try:
        rows = con.execute(
            "select article_id, content_sha256, extractor_version, record_index, record "
            "from staging.extracted_records where record_type = 'estimate' order by record_index"
        ).fetchall()
    finally:
        con.close()
    return [dict(zip(["article_id", "content_sha256", "extractor_version", "record_index", "record"], r))
            for r in rows]


def test_impossible_figures_go_to_quarantine_with_the_failing_check(tmp_path):
    """The extractor itself drops most impossible figures; to test validation, the cached
    extractor output is given impossible copies of a sound record, as a faulty extractor
    version would store them, and the core asset runs on it."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "sound.txt").write_text(GOOD_PARAGRAPH, encoding="utf-8")
    warehouse = tmp_path / "wh.duckdb"
    resources = {"articles": ArticlesFolder(path=str(articles)),
                 "warehouse": WarehouseResource(path=str(warehouse))}
    assert dg.materialize([ingest, extracted_records], resources=resources).success
    build = Warehouse(warehouse).build_path
    (sound,) = _estimate_rows(build)
    record = json.loads(sound["record"])
    assert (record["value"], record["ci_low"], record["ci_high"]) == (0.74, 0.61, 0.90)

    injected = []
    for index, ((value, low, high, p), _) in enumerate(IMPOSSIBLE_FIGURES.items(), start=100):
        bad = {**record, "value": value, "ci_low": low, "ci_high": high}
        if p is not None:
            bad.update(p=p, p_relation="=")
        injected.append({**sound, "record_index": index, "record": json.dumps(bad)})
    con = duckdb.connect(str(build))
    try:
        con.executemany(
            "insert into staging.extracted_records values (?, ?, ?, ?, 'estimate', ?)",
            [[r["article_id"], r["content_sha256"], r["extractor_version"], r["record_index"], r["record"]]
             for r in injected],
        )
    finally:
        con.close()

    assert dg.materialize([core_tables], resources=resources).success
    quarantined = query(build, "select check_name, reason, record from quarantine.rejected_records "
                               "where table_name = 'core.effect_estimates'")
    found = {}
    for check_name, reason, stored in quarantined:
        row = json.loads(stored)
        found[(row["value"], row["ci_low"], row["ci_high"])] = (check_name, reason, row["p"])
    for (value, low, high, p), check in IMPOSSIBLE_FIGURES.items():
        figures = (value, low, high)
        assert figures in found, f"{figures} not quarantined"
        check_name, reason, stored_p = found[figures]
        assert p is None or stored_p == p
        assert check in check_name and reason, f"{figures}: quarantined for {check_name!r}, expected {check}"
    stored = query(build, "select value, ci_low, ci_high, p from core.effect_estimates")
    assert stored and all(row[0] == 0.74 for row in stored)
