"""A run killed with SIGKILL at any moment leaves the published warehouse as it was; the next run completes."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ops.conftest import add_new_articles
from tests.ops.helpers import (
    RUN_TIME_COLUMNS,
    file_sha256,
    run_env,
    run_trialfx,
    snapshot,
    start_trialfx,
)
from warehouse.db import Warehouse


def _reports(warehouse: Path) -> dict[str, str]:
    folder = warehouse.parent / "reports"
    return {p.name: file_sha256(p) for p in sorted(folder.glob("*.png"))}


def _kill_after(articles: Path, warehouse: Path, seconds: float, log: Path, env: dict) -> tuple[float, bool]:
    """Start a run, SIGKILL it ``seconds`` later; return when it was killed and whether it had
    already exited by itself."""
    run = start_trialfx(articles, warehouse, log, env)
    deadline = run.started + seconds
    while time.perf_counter() < deadline and run.process.poll() is None:
        time.sleep(0.01)
    finished = run.process.poll() is not None
    return run.kill(), finished


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _plots(folder: Path) -> dict[str, int]:
    found = {}
    for path in folder.rglob("*.png"):
        try:
            found[str(path)] = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue  # removed between listing and stat
    return found


def _kill_when(articles: Path, warehouse: Path, log: Path, env: dict, happened: Callable[[], bool]) -> float:
    """Start a run and SIGKILL it the moment ``happened()`` turns true."""
    run = start_trialfx(articles, warehouse, log, env)
    while run.process.poll() is None:
        if happened():
            return run.kill()
        time.sleep(0.005)
    raise AssertionError(f"the run ended before the moment to kill it:\n{run.output()}")


def _kill_when_plots_appear(articles: Path, warehouse: Path, log: Path, env: dict) -> float:
    """SIGKILL a run the moment it writes its first forest plot (anywhere in the warehouse's
    folder; plots a killed run left behind do not count): the reports step, the last one
    before publishing."""
    since = time.time_ns()
    return _kill_when(articles, warehouse, log, env,
                      lambda: any(mtime > since for mtime in _plots(warehouse.parent).values()))


def _assert_untouched(warehouse: Path, published: tuple[str, dict, dict], when: str) -> None:
    """The file's bytes, its tables, and the forest plots beside it (they belong to the
    published state too) are those of before the killed run."""
    file_digest, state, reports = published
    assert file_sha256(warehouse) == file_digest, f"{when}: published file bytes changed"
    assert snapshot(warehouse) == state, f"{when}: published tables changed"
    assert _reports(warehouse) == reports, f"{when}: published plots changed"


class _BuildStarted:
    """True from the moment a run starts its own build copy (a killed run's leftover discarded);
    remembers when that was."""

    def __init__(self, warehouse: Path):
        self.build = Path(str(warehouse) + ".build")
        self.leftover = _identity(self.build)
        self.at: float | None = None

    def __call__(self) -> bool:
        if self.at is None and _identity(self.build) not in (self.leftover, None):
            self.at = time.perf_counter()
        return self.at is not None


class _StepDone:
    """True once the next run recorded in ``dagster_home`` has finished step ``step_key``: a
    moment inside the build that does not depend on how fast the machine is at the time."""

    def __init__(self, dagster_home: Path, step_key: str):
        self.runs = dagster_home / "history" / "runs"
        self.before = set(self.runs.glob("*.db"))
        self.step_key = step_key

    def __call__(self) -> bool:
        for db in set(self.runs.glob("*.db")) - self.before:
            if db.name == "index.db":
                continue
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
                try:
                    done = con.execute(
                        "select 1 from event_logs where dagster_event_type = 'STEP_SUCCESS' and step_key = ?",
                        [self.step_key],
                    ).fetchone()
                finally:
                    con.close()
            except sqlite3.Error:
                continue  # the run is still creating its event log
            if done:
                return True
        return False


@pytest.mark.slow
def test_sigkill_at_any_moment_keeps_the_published_state(published_demo, tmp_path):
    timings: dict[str, float] = {}
    env = run_env(tmp_path / "dagster-home")

    # A full run of the changed folder, on its own copy: how long its start-up and its work on the
    # build take, and what it publishes.
    articles, reference = published_demo.copy_to(tmp_path / "reference")
    add_new_articles(articles)
    run, build_started = start_trialfx(articles, reference, tmp_path / "reference.log", env), _BuildStarted(reference)
    while run.process.poll() is None:
        build_started()
        time.sleep(0.005)
    assert run.process.returncode == 0 and build_started.at is not None, run.output()
    ended = time.perf_counter()
    timings["full run of the changed folder"] = ended - run.started
    timings["of which start-up before the build"] = build_started.at - run.started
    timings["of which work on the build"] = ended - build_started.at
    new_state = snapshot(reference, ignore=RUN_TIME_COLUMNS)

    articles, warehouse = published_demo.copy_to(tmp_path / "crash")
    add_new_articles(articles)
    old = (file_sha256(warehouse), snapshot(warehouse), _reports(warehouse))
    assert old[2], "the demo build wrote no plots"
    assert snapshot(warehouse, ignore=RUN_TIME_COLUMNS) != new_state, "the new articles change nothing"

    outcomes = []
    for seconds in (0.5, 2.0, 4.0):
        killed_at, finished = _kill_after(articles, warehouse, seconds, tmp_path / f"kill-{seconds:.1f}.log", env)
        assert not finished, f"the run finished within {seconds:.1f} s; kill earlier"
        _assert_untouched(warehouse, old, f"killed at {killed_at:.2f} s")
        outcomes.append((round(killed_at, 2), "old state kept"))

    # Through the work on the build: as its copy begins, then once extraction and once the core
    # tables are done (moments read from the run's event log, so a busy machine cannot move
    # them past publishing).
    moments = [("as the build copy begins", lambda: _BuildStarted(warehouse))] + [
        (f"after step {step}", lambda step=step: _StepDone(tmp_path / "dagster-home", step))
        for step in ("staging__extracted_records", "core_tables")
    ]
    for label, moment in moments:
        killed_at = _kill_when(articles, warehouse, tmp_path / f"kill-{label.replace(' ', '-')}.log", env, moment())
        _assert_untouched(warehouse, old, f"killed {label} at {killed_at:.2f} s")
        outcomes.append((round(killed_at, 2), f"{label}: old state kept"))

    # Just before the end: the reports step is the last before publishing.
    killed_at = _kill_when_plots_appear(articles, warehouse, tmp_path / "kill-plots.log", env)
    _assert_untouched(warehouse, old, f"killed while writing plots at {killed_at:.2f} s")
    outcomes.append((round(killed_at, 2), "writing plots: old state kept"))

    started = time.perf_counter()
    run_trialfx(articles, warehouse, env)
    timings["run after the kills"] = time.perf_counter() - started
    assert snapshot(warehouse, ignore=RUN_TIME_COLUMNS) == new_state
    assert not Path(str(warehouse) + ".build").exists(), "a build file outlived its publishing"

    print(f"\nfirst demo build {published_demo.seconds:.1f} s; "
          + "; ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print("kills (seconds after start, outcome): " + "; ".join(f"{t} s: {o}" for t, o in outcomes))


def _build_with_plots(wh: Warehouse, names: list[str]) -> None:
    wh.start_build()
    wh.reports_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (wh.reports_dir / name).write_bytes(name.encode())


def test_reports_are_published_with_the_warehouse_and_only_then(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    _build_with_plots(wh, ["a.png", "b.png"])
    assert not wh.published_reports_dir.exists(), "plots visible before their run published"
    wh.publish()
    assert sorted(p.name for p in wh.published_reports_dir.iterdir()) == ["a.png", "b.png"]

    _build_with_plots(wh, ["b.png", "c.png"])
    assert sorted(p.name for p in wh.published_reports_dir.iterdir()) == ["a.png", "b.png"]
    wh.publish()
    assert sorted(p.name for p in wh.published_reports_dir.iterdir()) == ["b.png", "c.png"]
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".reports-")]
    assert len(hidden) == 1, f"folders of earlier runs left behind: {hidden}"


def test_a_leftover_build_of_a_killed_run_is_discarded(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    _build_with_plots(wh, ["a.png"])
    wh.publish()
    (tmp_path / "w.duckdb.build").write_bytes(b"half-written by a run that died")
    wh.reports_dir.mkdir()
    (wh.reports_dir / "stale.png").write_bytes(b"from the run that died")
    _build_with_plots(wh, ["new.png"])
    wh.publish()
    assert sorted(p.name for p in wh.published_reports_dir.iterdir()) == ["new.png"]


def test_reports_in_a_folder_from_before_links_are_replaced(tmp_path):
    legacy = tmp_path / "reports"
    legacy.mkdir()
    (legacy / "old.png").write_bytes(b"old")
    wh = Warehouse(tmp_path / "w.duckdb")
    _build_with_plots(wh, ["new.png"])
    wh.publish()
    assert wh.published_reports_dir.is_symlink()
    assert sorted(p.name for p in wh.published_reports_dir.iterdir()) == ["new.png"]
