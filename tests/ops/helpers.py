"""Helpers for the operations tests: start `trialfx run`, and fingerprint a warehouse state."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parents[2]
DEMO_ARTICLES = PROJECT / "data" / "articles"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
WAREHOUSE_SCHEMAS = ("raw", "core", "staging", "quarantine", "marts")

# Counts a reader takes in one statement (one transaction). Pairs that a half-written state would
# break: estimate_checks has one row per estimate; trials and arms come from the same extraction.
READER_COUNTS = (
    "raw.articles", "raw.ingest_errors", "core.trials", "core.arms", "core.effect_estimates",
    "core.arm_results", "marts.estimate_checks", "marts.subgroup_vs_overall",
)
READER_SQL = "select " + ", ".join(f"(select count(*) from {table})" for table in READER_COUNTS)


def run_command(articles: Path, warehouse: Path) -> list[str]:
    """`trialfx run` of the tree these tests live in (``-m`` from the project root, so an
    installed copy elsewhere cannot stand in for it)."""
    return [sys.executable, "-m", "pipelines.cli", "run", "--articles", str(articles),
            "--warehouse", str(warehouse)]


def run_env(dagster_home: Path | None = None) -> dict[str, str]:
    """The environment of a run: an ephemeral Dagster instance, or ``dagster_home`` holding the
    project's dagster.yaml, as `make run` sets it up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "TRIALFX_"))}
    if dagster_home is not None:
        dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT / "dagster.yaml", dagster_home / "dagster.yaml")
        env["DAGSTER_HOME"] = str(dagster_home)
    return env


def run_trialfx(articles: Path, warehouse: Path, env: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the pipeline to the end; raise with its output when it fails."""
    done = subprocess.run(run_command(articles, warehouse), cwd=PROJECT, env=env or run_env(),
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"trialfx run failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    return done


@dataclass
class Started:
    """A `trialfx run` in the background, in its own process group."""

    process: subprocess.Popen
    started: float
    log: Path

    def kill(self) -> float:
        """SIGKILL the whole group; return the seconds it had run."""
        elapsed = time.perf_counter() - self.started
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        return elapsed

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_trialfx(articles: Path, warehouse: Path, log: Path, env: dict[str, str] | None = None) -> Started:
    handle = open(log, "w")
    try:
        process = subprocess.Popen(run_command(articles, warehouse), cwd=PROJECT, env=env or run_env(),
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        handle.close()
    return Started(process, time.perf_counter(), log)


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in (select unnest(?)) order by 1",
        [list(WAREHOUSE_SCHEMAS)],
    ).fetchall()
    return [r[0] for r in rows]


def table_rows(con: duckdb.DuckDBPyConnection, table: str, ignore: tuple[str, ...] = ()) -> list[str]:
    """Every row of ``table`` as text, sorted, so two equal tables compare equal in any order."""
    cursor = con.execute(f"select * from {table}")
    keep = [i for i, column in enumerate(cursor.description) if column[0] not in ignore]
    return sorted(repr(tuple(row[i] for i in keep)) for row in cursor.fetchall())


# Columns holding wall-clock times, of a run or of a file's last change (file signatures and
# the folder fingerprint hold modification times), or the folder's place: equal states built by
# different runs, or from copies of the same folder, differ here.
RUN_TIME_COLUMNS = ("ingested_at", "seen_at", "extracted_at", "rejected_at", "read_at", "built_at", "signature",
                    "articles_root", "folder_fingerprint")


def snapshot(path: Path, ignore: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """``{table: (row count, sha256 of its sorted rows)}`` for every warehouse table, read-only;
    columns named in ``ignore`` are left out of the digest."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        state = {}
        for table in tables(con):
            rows = table_rows(con, table, ignore)
            state[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return state
    finally:
        con.close()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
