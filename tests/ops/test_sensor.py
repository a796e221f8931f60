"""The folder sensor and daily schedule, and the settings that keep warehouse writers to one run at a time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.definitions import build_defs
from pipelines.resources import ArticlesFolder
from pipelines.schedules import articles_folder_sensor, daily_refresh
from tests.ops.helpers import PROJECT


def _evaluate(folder: Path, cursor: str | None) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    context = dg.build_sensor_context(cursor=cursor, resources={"articles": ArticlesFolder(path=str(folder))})
    return articles_folder_sensor(context), context.cursor


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    root.mkdir()
    (root / "a.txt").write_text("First article.\n", encoding="utf-8")
    return root


def test_sensor_requests_a_run_for_each_new_folder_state_and_skips_an_unchanged_one(folder):
    first, cursor = _evaluate(folder, None)
    assert isinstance(first, dg.RunRequest)
    assert cursor

    again, same_cursor = _evaluate(folder, cursor)
    assert isinstance(again, dg.SkipReason)
    assert same_cursor == cursor

    (folder / "b.md").write_text("A new article.\n", encoding="utf-8")
    added, cursor_added = _evaluate(folder, cursor)
    assert isinstance(added, dg.RunRequest) and cursor_added != cursor

    path = folder / "a.txt"
    stat = path.stat()
    path.write_text("First article, corrected and longer.\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed, cursor_changed = _evaluate(folder, cursor_added)
    assert isinstance(changed, dg.RunRequest) and cursor_changed not in (cursor, cursor_added)

    (folder / "b.md").unlink()
    removed, _ = _evaluate(folder, cursor_changed)
    assert isinstance(removed, dg.RunRequest)


def test_returning_to_an_earlier_folder_state_still_starts_a_run(folder):
    """Dagster launches at most one run per run_key of a sensor; a file added and then removed
    brings the folder back to a state whose key was used, and the removal must still be run."""
    first, cursor = _evaluate(folder, None)
    (folder / "b.md").write_text("A new article.\n", encoding="utf-8")
    added, cursor = _evaluate(folder, cursor)
    (folder / "b.md").unlink()
    removed, _ = _evaluate(folder, cursor)
    assert isinstance(removed, dg.RunRequest)
    keys = [first.run_key, added.run_key, removed.run_key]
    assert len(set(keys)) == 3, f"run keys repeat: {keys}"


def test_sensor_ignores_hidden_files(folder):
    _, cursor = _evaluate(folder, None)
    (folder / ".partial-upload.txt").write_text("still copying\n", encoding="utf-8")
    result, _ = _evaluate(folder, cursor)
    assert isinstance(result, dg.SkipReason)


def test_sensor_and_schedule_run_under_the_daemon_by_default():
    defs = build_defs(articles_dir="unused", warehouse_path="unused.duckdb")
    assert articles_folder_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert daily_refresh.default_status == dg.DefaultScheduleStatus.RUNNING
    assert daily_refresh.cron_schedule == "0 6 * * *"
    job = defs.resolve_job_def("refresh_warehouse")
    assert articles_folder_sensor.job_name == daily_refresh.job_name == job.name
    assert {s.name for s in defs.sensors} == {articles_folder_sensor.name}
    assert {s.name for s in defs.schedules} == {daily_refresh.name}


def test_instance_settings_admit_one_writing_run_at_a_time(tmp_path):
    settings = yaml.safe_load((PROJECT / "dagster.yaml").read_text())
    assert settings["concurrency"]["runs"]["max_concurrent_runs"] == 1
    pools = settings["concurrency"]["pools"]
    assert pools.get("granularity") == "run"

    # What Dagster itself makes of the file, loaded as `make ui` loads it from DAGSTER_HOME.
    shutil.copyfile(PROJECT / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        config = instance.get_concurrency_config()
        limit = instance.event_log_storage.get_pool_limits()
        explicit = {p.name: p.limit for p in limit} if limit else {}
        assert explicit.get("warehouse", config.pool_config.default_pool_limit) == 1
        assert config.pool_config.pool_granularity.value == "run"
        assert config.run_queue_config is not None and config.run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


def test_every_asset_writing_the_warehouse_is_in_the_warehouse_pool():
    defs = build_defs(articles_dir="unused", warehouse_path="unused.duckdb")
    outside = [
        key.to_user_string()
        for asset in defs.assets
        for key in asset.keys
        if asset.op.pool != "warehouse"
    ]
    assert len(list(defs.assets)) >= 10
    assert not outside, f"assets outside the warehouse pool: {outside}"


def test_every_check_opening_the_build_is_in_the_warehouse_pool():
    """Checks connect to the build file read-write (Warehouse.connect); launched on their own from
    the UI they would run beside a refresh, and DuckDB lets one writer hold the file."""
    defs = build_defs(articles_dir="unused", warehouse_path="unused.duckdb")
    outside = [check.node_def.name for check in defs.asset_checks if check.op.pool != "warehouse"]
    assert not outside, f"checks outside the warehouse pool: {outside}"
