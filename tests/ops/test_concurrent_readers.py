"""Readers open the published warehouse read-only while a run writes, and see one complete state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import duckdb
import pytest

from tests.ops.conftest import add_new_articles
from tests.ops.helpers import DUCKDB_CLI, READER_COUNTS, READER_SQL, start_trialfx

pytestmark = pytest.mark.slow


def _read_python(path) -> tuple[int, ...]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(con.execute(READER_SQL).fetchone())
    finally:
        con.close()


def _read_cli(path) -> tuple[int, ...]:
    done = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(path), "-csv", "-noheader", "-c", READER_SQL],
        capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise RuntimeError(f"duckdb CLI exit {done.returncode}: {done.stderr.strip()}")
    return tuple(int(field) for field in done.stdout.strip().split(","))


# A reader that keeps one connection open across the run. It lives in its own process: DuckDB
# shares one database instance per file within a process, so a connection held here would also
# serve every later connect() of this test from the old file.
HOLDING_READER = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(con.execute({READER_SQL!r}).fetchone()), flush=True)
sys.stdin.readline()
print(json.dumps(con.execute({READER_SQL!r}).fetchone()), flush=True)
"""


def test_readers_never_fail_and_never_see_a_mixture(published_demo, tmp_path):
    if not DUCKDB_CLI.exists():
        pytest.skip(f"the DuckDB CLI is not installed at {DUCKDB_CLI} (package duckdb-cli)")
    articles, warehouse = published_demo.copy_to(tmp_path)
    add_new_articles(articles)
    old = _read_python(warehouse)
    held = subprocess.Popen([sys.executable, "-c", HOLDING_READER, str(warehouse)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert tuple(json.loads(held.stdout.readline())) == old

    readers = {"python": _read_python, "cli": _read_cli}
    seen: list[tuple[str, tuple[int, ...]]] = []
    failures: list[str] = []
    run = start_trialfx(articles, warehouse, tmp_path / "run.log")
    while run.process.poll() is None:
        for name, read in readers.items():
            try:
                seen.append((name, read(warehouse)))
            except Exception as exc:  # noqa: BLE001 - every failed read is a finding, collected
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - run.started
    assert run.process.returncode == 0, run.output()

    new = _read_python(warehouse)
    still_old = tuple(json.loads(held.communicate("\n", timeout=60)[0]))
    assert old != new, "the new articles change no count a reader takes"
    assert not failures, f"{len(failures)} of {len(failures) + len(seen)} reads failed: {failures[:3]}"
    by_reader = Counter(name for name, _ in seen)
    assert by_reader["python"] >= 10 and by_reader["cli"] >= 10, f"too few reads during the run: {by_reader}"

    estimates = READER_COUNTS.index("core.effect_estimates")
    checks = READER_COUNTS.index("marts.estimate_checks")
    for name, counts in seen:
        assert counts[estimates] == counts[checks], f"{name} saw estimates and checks disagree: {counts}"
        assert counts in (old, new), f"{name} saw a state that is neither the old nor the new: {counts}"
    assert still_old == old, "a connection opened before the run saw its state change"

    states = Counter("old" if counts == old else "new" for _, counts in seen)
    print(f"\n{len(seen)} reads during a {seconds:.1f} s run ({dict(by_reader)}); states seen {dict(states)}")
