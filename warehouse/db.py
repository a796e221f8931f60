"""DuckDB warehouse access: a private build file per run, published by an atomic rename."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import IO
from pathlib import Path

import duckdb

from schemas.docs import core_docs
from warehouse.models import comment_tables, install_macros, sql_literal

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
DEFAULT_WAREHOUSE = Path("warehouse") / "trialfx.duckdb"
# DuckDB's own default is 80% of the machine's memory; a run holds its buffers to this and
# spills larger joins and sorts to disk, so its memory stays flat as the corpus grows.
DEFAULT_MEMORY_LIMIT = "1GB"


def memory_limit() -> str:
    """The DuckDB memory limit of a run's connections (TRIALFX_DUCKDB_MEMORY, e.g. "2GB")."""
    return os.environ.get("TRIALFX_DUCKDB_MEMORY") or DEFAULT_MEMORY_LIMIT


# Rows per row group in what a run writes (DuckDB's default is 122,880). A commit that appends
# to a table rewrites the table's last row group, rows already there included: at 100k articles,
# raw.articles was one group, and appending 1% more articles rewrote all their text (3.3 s).
# At 100k articles, 32,768 rows made a +1% run as fast as 16,384 did, and the run's largest
# process about 170 MB smaller (DuckDB holds more while writing many small groups).
ROW_GROUP_ROWS = 32_768
# The name the build file is attached under in a run's connections (the default database).
BUILD_ALIAS = "trialfx_build"

# Writer locks this process holds, by resolved warehouse path (see Warehouse._acquire).
_HELD_LOCKS: dict[str, IO[str]] = {}


class WarehouseLocked(RuntimeError):
    """Another run holds the warehouse build."""


class Warehouse:
    """One published DuckDB file and the private file a run builds before publishing it.

    Readers open ``path`` read-only at any time. Writers only ever touch ``build_path``; a
    finished run swaps it in with ``os.replace``, which is atomic on POSIX, so a reader sees
    the old state or the new one, never a mixture, and a killed run leaves ``path`` untouched.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @property
    def build_path(self) -> Path:
        return self.path.with_name(self.path.name + ".build")

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def reports_dir(self) -> Path:
        """Where this run's reports go: a private folder beside the build, published with it."""
        return self.path.with_name(self.path.name + ".build-reports")

    @property
    def published_reports_dir(self) -> Path:
        """The reports of the published warehouse: a link to the folder of the run that published."""
        return self.path.parent / "reports"

    def _acquire(self) -> None:
        """Take the writer lock until publish: two runs never build the same warehouse at once.
        The lock dies with the process, so a killed run never leaves it behind."""
        key = str(self.path.resolve())
        if key in _HELD_LOCKS:
            return
        handle = open(self.lock_path, "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WarehouseLocked(f"{self.path}: another run is building this warehouse; try again when it ends")
        _HELD_LOCKS[key] = handle

    def _release(self) -> None:
        handle = _HELD_LOCKS.pop(str(self.path.resolve()), None)
        if handle is not None:
            handle.close()

    def start_build(self) -> None:
        """Begin a run: the build file starts as a copy of what is published (kept caches),
        never as a leftover of a run that died half-way."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        for leftover in (self.build_path, Path(str(self.build_path) + ".wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(self.reports_dir, ignore_errors=True)
        if self.path.exists():
            shutil.copyfile(self.path, self.build_path)
        with self.connect() as con:
            con.execute(SCHEMA_SQL.read_text())
            install_macros(con)
            comment_tables(con, core_docs())

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the build file (created from the published one if absent)."""
        if not self.build_path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                shutil.copyfile(self.path, self.build_path)
        # Attached rather than opened, for the row group size; the default temp folder of a
        # file database, the file's name with ".tmp", is kept.
        con = duckdb.connect(config={"memory_limit": memory_limit(), "temp_directory": f"{self.build_path}.tmp"})
        try:
            build = sql_literal(str(self.build_path))
            con.execute(f"attach {build} as {BUILD_ALIAS} (ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
            con.execute(f"use {BUILD_ALIAS}")
            yield con
        finally:
            con.close()

    @staticmethod
    def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Another connection to the build that ``con`` (from ``connect``) is on, for reading while
        ``con`` writes; a bare ``con.cursor()`` would start in DuckDB's in-memory database."""
        cursor = con.cursor()
        cursor.execute(f"use {BUILD_ALIAS}")
        return cursor

    def publish(self) -> None:
        """Make the build the published warehouse in one atomic step."""
        with self.connect() as con:
            con.execute(f"checkpoint {BUILD_ALIAS}")
        fd = os.open(self.build_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.build_path, self.path)
        self._publish_reports()
        self._release()
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _publish_reports(self) -> None:
        """Swap this run's reports in by replacing a link, since a folder full of files cannot be
        renamed over another atomically; readers of ``reports/`` see one run's plots, never a mix."""
        if not self.reports_dir.is_dir():
            return
        link = self.published_reports_dir
        previous = link.resolve() if link.is_symlink() else None
        target = link.with_name(f".reports-{uuid.uuid4().hex[:12]}")
        os.rename(self.reports_dir, target)
        staged = link.with_name(link.name + ".link")
        staged.unlink(missing_ok=True)
        os.symlink(target.name, staged)
        if link.is_dir() and not link.is_symlink():
            # A real folder from before reports were published by link: moved aside once.
            shutil.rmtree(link)
        os.replace(staged, link)
        if previous is not None and previous != target and previous.parent == link.parent:
            shutil.rmtree(previous, ignore_errors=True)

    def read(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the published warehouse."""
        return duckdb.connect(str(self.path), read_only=True)
