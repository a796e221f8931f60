"""Incremental ingest: a rerun reads only changed files, and ends where reading everything would."""

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.assets.ingest import ingest_into
from pipelines.ingest.readers import scan_folder
from warehouse.db import SCHEMA_SQL

NOW = dt.datetime(2026, 1, 1)
LATER = dt.datetime(2026, 1, 2)


def _db(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(SCHEMA_SQL.read_text())
    return con


def _state(con) -> tuple:
    articles = con.execute(
        "select article_id, source_path, content_sha256, text from raw.articles order by article_id"
    ).fetchall()
    errors = con.execute("select source_path, error, detail from raw.ingest_errors order by all").fetchall()
    return articles, errors


def _fresh_state(root: Path, tmp: Path) -> tuple:
    con = _db(tmp / f"fresh-{len(list(tmp.iterdir()))}.duckdb")
    ingest_into(con, scan_folder(root), root, NOW)
    return _state(con)


def _write(path: Path, text: str, bump: int = 0) -> None:
    path.write_text(text, encoding="utf-8")
    if bump:
        # A new modification time even on file systems with coarse clocks.
        stamp = path.stat().st_mtime_ns + bump * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    root.mkdir()
    for i in range(5):
        _write(root / f"a{i}.txt", f"Article {i}. Median PFS was {i + 5}.1 months with drug versus 3.0 months.")
    (root / "broken.xml").write_text("<PubmedArticleSet><oops", encoding="utf-8")
    (root / "lonely.meta.json").write_text("{}", encoding="utf-8")
    return root


def test_a_rerun_reads_only_changed_files_and_keeps_first_seen_times(folder: Path, tmp_path: Path):
    con = _db(tmp_path / "w.duckdb")
    first = ingest_into(con, scan_folder(folder), folder, NOW)
    assert first.full_read and first.files_read == 6

    unchanged = ingest_into(con, scan_folder(folder), folder, LATER)
    assert (unchanged.files_read, unchanged.files_unchanged, unchanged.full_read) == (0, 6, False)
    assert con.execute("select count(*) from raw.articles where ingested_at <> ?", [NOW]).fetchone()[0] == 0
    assert con.execute("select count(*) from raw.ingest_errors where seen_at <> ?", [NOW]).fetchone()[0] == 0

    _write(folder / "a2.txt", "Article 2, revised. Median PFS was 9.9 months with drug versus 3.0 months.", bump=5)
    _write(folder / "new.txt", "A new article. ORR was 40% with drug versus 20%.")
    (folder / "a4.txt").unlink()
    changed = ingest_into(con, scan_folder(folder), folder, LATER)
    assert (changed.files_read, changed.files_removed, changed.full_read) == (2, 1, False)
    times = dict(con.execute("select article_id, ingested_at from raw.articles").fetchall())
    assert times["a0.txt"] == NOW and times["a2.txt"] == LATER and times["new.txt"] == LATER
    assert _state(con) == _fresh_state(folder, tmp_path)


def test_a_changed_copy_of_an_unchanged_text_is_a_duplicate(folder: Path, tmp_path: Path):
    con = _db(tmp_path / "w.duckdb")
    ingest_into(con, scan_folder(folder), folder, NOW)
    # a3 copies a1, which comes first in walk order and is unchanged: a3 is the duplicate.
    _write(folder / "a3.txt", (folder / "a1.txt").read_text(encoding="utf-8"), bump=5)
    stats = ingest_into(con, scan_folder(folder), folder, LATER)
    assert not stats.full_read
    errors = con.execute("select source_path, error from raw.ingest_errors where error = 'duplicate'").fetchall()
    assert errors == [("a3.txt", "duplicate")]
    assert _state(con) == _fresh_state(folder, tmp_path)


def test_moving_the_original_of_a_duplicate_reads_everything_and_matches_a_fresh_read(folder: Path, tmp_path: Path):
    con = _db(tmp_path / "w.duckdb")
    # a0 copies a3 and comes first: a0 keeps the text, a3 is the duplicate.
    _write(folder / "a0.txt", (folder / "a3.txt").read_text(encoding="utf-8"), bump=5)
    ingest_into(con, scan_folder(folder), folder, NOW)
    assert ("a3.txt", "duplicate") in con.execute("select source_path, error from raw.ingest_errors").fetchall()

    # Changing the original gives the text back to a3, which was not read again by signature.
    _write(folder / "a0.txt", "Article zero rewritten. OS HR 0.80 (95% CI, 0.70-0.91).", bump=10)
    stats = ingest_into(con, scan_folder(folder), folder, LATER)
    assert stats.full_read
    assert "a3.txt" in {row[0] for row in _state(con)[0]}
    assert _state(con) == _fresh_state(folder, tmp_path)


def test_a_changed_file_earlier_than_an_unchanged_copy_takes_the_text(folder: Path, tmp_path: Path):
    con = _db(tmp_path / "w.duckdb")
    ingest_into(con, scan_folder(folder), folder, NOW)
    # a0 now copies a4; a0 is earlier in walk order, so a4 must become the duplicate.
    _write(folder / "a0.txt", (folder / "a4.txt").read_text(encoding="utf-8"), bump=5)
    stats = ingest_into(con, scan_folder(folder), folder, LATER)
    assert stats.full_read
    assert _state(con) == _fresh_state(folder, tmp_path)


def test_a_new_reader_version_reads_everything(folder: Path, tmp_path: Path, monkeypatch):
    con = _db(tmp_path / "w.duckdb")
    ingest_into(con, scan_folder(folder), folder, NOW)
    monkeypatch.setattr("pipelines.assets.ingest.READER_VERSION", "next")
    stats = ingest_into(con, scan_folder(folder), folder, LATER)
    assert stats.full_read and stats.files_read == 6
    assert con.execute("select distinct reader_version from staging.source_files").fetchall() == [("next",)]


def test_batches_give_the_same_rows_as_one_batch(folder: Path, tmp_path: Path, monkeypatch):
    for i in range(5, 12):
        _write(folder / f"b{i}.txt", f"Batch article {i}. DFS HR 0.{i + 50} (95% CI 0.40-0.95).")
    _write(folder / "b99.txt", (folder / "b7.txt").read_text(encoding="utf-8"))
    one = _fresh_state(folder, tmp_path)
    monkeypatch.setattr("pipelines.assets.ingest.BATCH_FILES", 3)
    assert _fresh_state(folder, tmp_path) == one


def test_a_new_or_changed_sidecar_reads_its_article_again(folder: Path, tmp_path: Path):
    con = _db(tmp_path / "w.duckdb")
    ingest_into(con, scan_folder(folder), folder, NOW)
    (folder / "a1.meta.json").write_text('{"trial": "SIDECAR-1"}', encoding="utf-8")
    stats = ingest_into(con, scan_folder(folder), folder, LATER)
    assert (stats.files_read, stats.full_read) == (1, False)
    hint = con.execute("select trial_hint from raw.articles where article_id = 'a1.txt'").fetchone()
    assert hint == ("SIDECAR-1",)
    # The sidecar beside an article is not an orphan; the one without an article still is.
    orphans = con.execute("select source_path from raw.ingest_errors where error = 'orphan_sidecar'").fetchall()
    assert orphans == [("lonely.meta.json",)]
