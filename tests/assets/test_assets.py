"""Assets materialized for real on a DuckDB file under tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets import core as core_module
from pipelines.assets.core import core_tables
from pipelines.assets.extract import EXTRACTED_RECORDS, extracted_records
from pipelines.assets.ingest import ingest
from pipelines.assets.reports import published_asset
from pipelines.extraction import EXTRACTOR_VERSION
from pipelines.resources import ArticlesFolder, WarehouseResource
from warehouse.db import Warehouse

ARTICLE = (
    "The phase 3 TESTTRIAL-1 study randomized 400 patients. Drug A prolonged progression-free "
    "survival compared with placebo (hazard ratio, 0.70; 95% CI, 0.55 to 0.88; P = 0.002)."
)


def _resources(articles: Path, warehouse: Path) -> dict:
    return {
        "articles": ArticlesFolder(path=str(articles)),
        "warehouse": WarehouseResource(path=str(warehouse)),
    }


def _metadata(result, key: dg.AssetKey) -> dict:
    """Metadata of the one materialization of ``key`` in a run."""
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "b.md").write_text("---\ntitle: Brief\ntrial: TESTTRIAL-1\n---\n" + ARTICLE.replace("0.70", "0.71"),
                               encoding="utf-8")
    (root / "c.pdf").write_bytes(b"%PDF-1.4 not supported")
    return root


def test_ingest_accounts_for_every_file(folder, tmp_path):
    wh = tmp_path / "wh.duckdb"
    result = dg.materialize([ingest], resources=_resources(folder, wh))
    assert result.success
    build = Warehouse(wh).build_path
    assert sorted(r[0] for r in _rows(build, "select article_id from raw.articles")) == ["a.txt", "b.md"]
    errors = _rows(build, "select source_path, error, detail from raw.ingest_errors")
    assert [(e[0], e[1]) for e in errors] == [("c.pdf", "unsupported_type")]
    assert "c.pdf" in errors[0][2]
    assert not wh.exists(), "nothing is published before the publishing step"


def test_extraction_is_cached_per_article_text(folder, tmp_path):
    wh = tmp_path / "wh.duckdb"
    resources = _resources(folder, wh)
    # The cache lives in the published warehouse: each run starts its build from it.
    steps = [ingest, extracted_records, published_asset([*ingest.keys, EXTRACTED_RECORDS])]
    first = dg.materialize(steps, resources=resources)
    assert _metadata(first, EXTRACTED_RECORDS)["articles_extracted"] == 2

    (folder / "a.txt").write_text(ARTICLE.replace("400", "401"), encoding="utf-8")
    second = dg.materialize(steps, resources=resources)
    meta = _metadata(second, EXTRACTED_RECORDS)
    assert (meta["articles_extracted"], meta["articles_unchanged"]) == (1, 1)

    (folder / "b.md").unlink()
    dg.materialize(steps, resources=resources)
    assert _rows(wh, "select distinct article_id from staging.extracted_records") == [("a.txt",)]


def _seed_extracted(path: Path, records: list[dict]) -> None:
    """Put hand-written extractor output in the build, as if the extract step had produced it."""
    wh = Warehouse(path)
    wh.start_build()
    with wh.connect() as con:
        con.execute(
            "insert into raw.articles (article_id, source_path, source_format, text, content_sha256, ingested_at)"
            " values ('x.txt', 'x.txt', 'txt', ?, 'sha', now())",
            [ARTICLE],
        )
        for i, rec in enumerate(records):
            con.execute(
                "insert into staging.extracted_records values ('x.txt', 'sha', ?, ?, ?, ?)",
                [EXTRACTOR_VERSION, i, rec["type"], json.dumps(rec)],
            )


def _estimate(**changes) -> dict:
    evidence = "hazard ratio, 0.70; 95% CI, 0.55 to 0.88; P = 0.002"
    start = ARTICLE.index(evidence)
    rec = {
        "type": "estimate", "endpoint": "PFS", "endpoint_text": "progression-free survival",
        "population": "overall", "subgroup": None, "subgroup_variable": None, "subgroup_level": None,
        "comparison": "Drug A vs placebo", "experimental_arm": "Drug A", "comparator_arm": "placebo",
        "measure": "HR", "value": 0.70, "ci_low": 0.55, "ci_high": 0.88, "ci_level": 95,
        "p": 0.002, "p_relation": "=", "claimed_significance": None,
        "evidence": evidence, "span_start": start, "span_end": start + len(evidence),
    }
    return {**rec, **changes}


def test_impossible_figures_go_to_quarantine_with_their_check(tmp_path):
    wh = tmp_path / "wh.duckdb"
    _seed_extracted(
        wh,
        [
            {"type": "article_facts", "acronym": "TESTTRIAL-1", "nct_id": None, "condition": None,
             "phase": "3", "design": None, "evidence_rating": None},
            _estimate(),
            _estimate(ci_low=0.88, ci_high=0.55, value=0.71),  # reversed interval
            _estimate(value=-0.7, ci_low=-0.9, ci_high=-0.5),  # negative hazard ratio
            _estimate(p=1.7, value=0.72),  # p above 1
        ],
    )
    result = dg.materialize([core_tables], resources=_resources(tmp_path, wh), raise_on_error=False)
    assert result.success
    build = Warehouse(wh).build_path
    assert _rows(build, "select value from core.effect_estimates") == [(0.70,)]
    checks = sorted(r[0] for r in _rows(build, "select check_name from quarantine.rejected_records"))
    assert len(checks) == 3
    assert any("ci_brackets_value" in c for c in checks)
    assert any("ratio_positive" in c for c in checks)
    assert any("less_than_or_equal_to" in c for c in checks)
    trials = _rows(build, "select trial_id, n_articles from core.trials")
    assert len(trials) == 1 and trials[0][1] == 1
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert evaluations[("core/effect_estimates", "matches_pandera_schema")] is True
    assert evaluations[("core/effect_estimates", "no_rows_quarantined")] is False


def test_a_rerun_redraws_only_plots_whose_inputs_changed(folder, tmp_path):
    from pipelines.assets.reports import FOREST_PLOTS
    from pipelines.definitions import build_defs

    wh = tmp_path / "wh.duckdb"
    job = build_defs(articles_dir=str(folder), warehouse_path=str(wh)).resolve_job_def("refresh_warehouse")
    first = _metadata(job.execute_in_process(), FOREST_PLOTS)
    assert first["plots"] >= 1 and first["plots_redrawn"] == first["plots"]
    again = _metadata(job.execute_in_process(), FOREST_PLOTS)
    assert (again["plots"], again["plots_redrawn"]) == (first["plots"], 0)
    assert sorted(p.name for p in (tmp_path / "reports").glob("*.png")) != []

    (folder / "a.txt").write_text(ARTICLE.replace("0.55 to 0.88", "0.56 to 0.88"), encoding="utf-8")
    changed = _metadata(job.execute_in_process(), FOREST_PLOTS)
    assert changed["plots_redrawn"] >= 1


def test_stored_rows_are_validated_chunk_by_chunk_and_failures_counted(folder, tmp_path, monkeypatch):
    # One article a chunk, so the two articles are read back and validated as two chunks in the pool.
    monkeypatch.setattr(core_module, "CHUNK_ARTICLES", 1)
    wh = tmp_path / "wh.duckdb"
    result = dg.materialize([ingest, extracted_records, core_tables], resources=_resources(folder, wh))
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()
    }
    passed = evaluations[("core/effect_estimates", "matches_pandera_schema")]
    assert passed.passed and passed.metadata["rows"].value == 2

    # The same check over stored rows that a database changed on the way: each bad row counts.
    con = duckdb.connect(str(Warehouse(wh).build_path), read_only=True)
    try:
        stored = con.execute("select * from core.effect_estimates order by article_id").df()
    finally:
        con.close()
    stored["value"] = -stored["value"]
    chunks = core_module.validate_stored([{"effect_estimates": stored.iloc[:1]}, {"effect_estimates": stored.iloc[1:]}])
    check = core_module.StoredCheck()
    for chunk in chunks:
        check.add(*chunk["effect_estimates"])
    failed = core_module._schema_check(dg.AssetKey(["core", "effect_estimates"]), check)
    assert not failed.passed
    assert check.rows == 2 and check.n_failures >= 2
    assert failed.metadata["failure_cases"].value == check.n_failures
