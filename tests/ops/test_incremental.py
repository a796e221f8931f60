"""Reruns are idempotent and incremental: only new, changed or re-versioned articles are extracted again."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import dagster as dg
import pytest

from pipelines.assets.extract import EXTRACTED_RECORDS
from pipelines.definitions import build_defs
from tests.ops.conftest import add_new_articles
from tests.ops.helpers import RUN_TIME_COLUMNS, query, snapshot

pytestmark = pytest.mark.slow

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
CHANGED = "13-dapahf-2mm.txt"
DELETED = "12-keynote522-onclive.md"


def _refresh(articles: Path, warehouse: Path) -> int:
    """Run the refresh job in this process, as `trialfx run` does; return how many articles the
    extract asset reports it extracted."""
    defs = build_defs(articles_dir=str(articles), warehouse_path=str(warehouse))
    result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == EXTRACTED_RECORDS]
    return event.materialization.metadata["articles_extracted"].value


def _extraction_runs(warehouse: Path) -> dict[str, tuple]:
    rows = query(warehouse, "select article_id, content_sha256, extractor_version, extracted_at "
                            "from staging.extraction_runs")
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def copy(published_demo, tmp_path) -> tuple[Path, Path]:
    return published_demo.copy_to(tmp_path)


def _ids(warehouse: Path, table: str) -> set[str]:
    return {r[0] for r in query(warehouse, f"select distinct article_id from {table}")}


def test_the_first_build_extracted_every_article(published_demo):
    warehouse = published_demo.warehouse
    assert _ids(warehouse, "staging.extraction_runs") == _ids(warehouse, "raw.articles")
    assert query(warehouse, "select count(*) from raw.ingest_errors")[0][0] == 1


def test_rerun_on_unchanged_input_extracts_nothing_and_changes_no_table(copy):
    articles, warehouse = copy
    # The copy's folder sits elsewhere, and the warehouse records where it was read from.
    place = ("articles_root",)
    before_runs, before = _extraction_runs(warehouse), snapshot(warehouse, place)
    assert _refresh(articles, warehouse) == 0
    assert _extraction_runs(warehouse) == before_runs
    after = snapshot(warehouse, place)
    changed = sorted(t for t in before if after.get(t) != before[t])
    assert not changed, f"tables changed by a rerun on unchanged input: {changed}"


def test_only_a_changed_file_is_extracted_again_and_a_deleted_ones_rows_leave(copy):
    articles, warehouse = copy
    before = _extraction_runs(warehouse)
    assert DELETED in _ids(warehouse, "core.effect_estimates")
    path = articles / CHANGED
    path.write_text(path.read_text(encoding="utf-8") + "\nThe trial was funded by its sponsor.\n",
                    encoding="utf-8")
    (articles / DELETED).unlink()

    assert _refresh(articles, warehouse) == 1
    after = _extraction_runs(warehouse)
    assert {a for a in after if after[a] != before.get(a)} == {CHANGED}
    assert after[CHANGED][0] != before[CHANGED][0], "the new text's hash was not recorded"

    with_ids = query(
        warehouse,
        "select table_schema || '.' || table_name from information_schema.columns "
        "where column_name = 'article_id' and table_schema in ('raw', 'core', 'staging', 'quarantine', 'marts')",
    )
    assert len(with_ids) >= 6
    for (table,) in with_ids:
        assert DELETED not in _ids(warehouse, table), f"{table} still holds rows of the deleted {DELETED}"


def test_a_new_extractor_version_extracts_everything_again(copy):
    """The version constant the extract asset compares with the cache is patched, and the real
    job runs in this process."""
    articles, warehouse = copy
    (total,) = query(warehouse, "select count(*) from raw.articles")[0]
    with mock.patch("pipelines.assets.extract.EXTRACTOR_VERSION", "test-bump"):
        assert _refresh(articles, warehouse) == total
    versions = query(warehouse, "select distinct extractor_version from staging.extracted_records "
                                "union select distinct extractor_version from staging.extraction_runs")
    assert versions == [("test-bump",)]


def _metadata(result: dg.ExecuteInProcessResult, key: list[str], name: str):
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)]
    return event.materialization.metadata[name].value


def test_an_incremental_rerun_ends_where_a_fresh_build_of_the_same_folder_does(copy, tmp_path):
    """Change, delete and add articles; the rerun reads, extracts and builds only those, and
    every table then equals a build from scratch (run times aside)."""
    articles, warehouse = copy
    path = articles / CHANGED
    path.write_text(path.read_text(encoding="utf-8").replace("0.74", "0.73"), encoding="utf-8")
    (articles / DELETED).unlink()
    added = add_new_articles(articles)

    defs = build_defs(articles_dir=str(articles), warehouse_path=str(warehouse))
    result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET
    )
    assert result.success
    assert _metadata(result, ["raw", "articles"], "files_read") == 1 + len(added)
    assert _metadata(result, ["raw", "articles"], "files_removed") == 1
    assert _metadata(result, ["staging", "extracted_records"], "articles_extracted") == 1 + len(added)
    assert _metadata(result, ["core", "effect_estimates"], "articles_built") == 1 + len(added)

    fresh = tmp_path / "fresh" / "trialfx.duckdb"
    _refresh(articles, fresh)
    # Generations count the core builds a warehouse has seen: history, not content.
    ignore = (*RUN_TIME_COLUMNS, "generation")
    incremental_state, fresh_state = snapshot(warehouse, ignore), snapshot(fresh, ignore)
    differ = sorted(t for t in fresh_state if incremental_state.get(t) != fresh_state[t])
    assert not differ, f"tables that differ from a fresh build: {differ}"
