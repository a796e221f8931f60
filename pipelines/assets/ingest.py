"""Ingest assets: article files into raw.articles, and what could not be read into raw.ingest_errors.

A rerun reads only files whose size or modification time (or their sidecar's) changed since
they were last read, per staging.source_files; the rows of every other file stay as they are.
Files are read and written in batches, so memory stays bounded by the batch, not the corpus.
"""

import dataclasses
import datetime as dt
import itertools
import json

import dagster as dg
import duckdb
import pandas as pd

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    append_rows,
    keep_first_seen,
    key_frame,
    markdown_table,
    registered,
    replace_rows,
    table_spec,
)
from pipelines.fingerprint import RUN_INPUT_COLUMNS, run_inputs
from pipelines.ingest.readers import (
    READER_VERSION,
    FolderScan,
    IngestError,
    drop_duplicates,
    scan_folder,
)
from pipelines.parallel import read_many
from pipelines.resources import ArticlesFolder, WarehouseResource

RAW_ARTICLES = dg.AssetKey(["raw", "articles"])
RAW_INGEST_ERRORS = dg.AssetKey(["raw", "ingest_errors"])

ARTICLE_COLUMNS = [
    "article_id", "source_path", "source_format", "title", "url", "outlet", "published_on",
    "text", "content_sha256", "ingested_at", "trial_hint", "nct_id_hint",
]
# The columns an Article carries as they are (ingested_at is the run's).
ARTICLE_FIELDS = [column for column in ARTICLE_COLUMNS if column != "ingested_at"]
ERROR_COLUMNS = ["source_path", "error", "detail", "seen_at"]
SOURCE_COLUMNS = ["source_path", "signature", "reader_version", "n_articles", "n_duplicates", "errors", "read_at"]

# Files read and written per batch.
BATCH_FILES = 1000


class _ReadEverything(Exception):
    """An incremental read would differ from reading the whole folder (a duplicate text moved)."""


@dataclasses.dataclass
class IngestStats:
    files_read: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    full_read: bool = False


def ingest_into(con: duckdb.DuckDBPyConnection, scan: FolderScan, root, now: dt.datetime) -> IngestStats:
    """Bring raw.articles, raw.ingest_errors and staging.source_files up to date with ``scan``.

    The result is the same as reading every file: when a changed file's text duplicates an
    unchanged file's and the walk order would keep the changed one, or unchanged files hold
    duplicates whose original may have changed, the whole folder is read again."""
    catalog = dict(con.execute("select source_path, signature from staging.source_files "
                               "where reader_version = ?", [READER_VERSION]).fetchall())
    stale_version = con.execute("select count(*) from staging.source_files where reader_version <> ?",
                                [READER_VERSION]).fetchone()[0]
    current = {source.source_path for source in scan.files}
    changed = [s for s in scan.files if catalog.get(s.source_path) != s.signature]
    removed = sorted(set(catalog) - current)
    stats = IngestStats(files_unchanged=len(scan.files) - len(changed), files_removed=len(removed))

    full = bool(stale_version) or not catalog
    if not full and (changed or removed):
        affected = {s.source_path for s in changed} | set(removed)
        holders = con.execute("select source_path from staging.source_files where n_duplicates > 0").fetchall()
        full = any(path not in affected for (path,) in holders)
    if not full:
        con.execute("begin")
        try:
            _read_files(con, scan, changed, removed, root, now, incremental=True)
            con.execute("commit")
        except _ReadEverything:
            con.execute("rollback")
            full = True
        except Exception:
            con.execute("rollback")
            raise
    if full:
        # A full read replaces every row, stale reader versions included.
        changed = scan.files
        stats.files_unchanged = 0
        con.execute("begin")
        try:
            _read_files(con, scan, changed, removed, root, now, incremental=False)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    stats.files_read, stats.full_read = len(changed), full
    _write_errors(con, scan, now)
    return stats


def _read_files(con, scan: FolderScan, changed, removed, root, now, incremental: bool) -> None:
    """Replace the rows of changed and removed files with what the changed files read as now."""
    order = {source.source_path: i for i, source in enumerate(scan.files)}
    affected = key_frame("source_path", [s.source_path for s in changed] + list(removed))
    where = "where source_path in (select source_path from _affected)" if incremental else ""
    with registered(con, "_affected", affected):
        first_seen = {
            (article_id, sha): seen
            for article_id, sha, seen in con.execute(
                f"select article_id, content_sha256, ingested_at from raw.articles {where}"
            ).fetchall()
        }
        con.execute(f"delete from raw.articles {where}")
        con.execute(f"delete from staging.source_files {where}")

    seen: dict[str, str] = {}
    # Files are read and parsed on every core; duplicates and writes are handled here, in order.
    in_order = read_many(changed, root)
    for start in range(0, len(changed), BATCH_FILES):
        batch = changed[start : start + BATCH_FILES]
        results = list(itertools.islice(in_order, len(batch)))
        if incremental:
            _check_kept_texts(con, results, order, seen)
        articles, sources = [], []
        for source, result in zip(batch, results):
            own = {a.article_id for a in result.articles}
            read = list(result.articles)
            result = drop_duplicates(result, seen)
            articles += result.articles
            # Only copies of another file's text tie this file to others on later reruns.
            kept = {a.article_id for a in result.articles}
            elsewhere = sum(1 for a in read if a.article_id not in kept and seen[a.content_sha256] not in own)
            sources.append({
                "source_path": source.source_path,
                "signature": source.signature,
                "reader_version": READER_VERSION,
                "n_articles": len(result.articles),
                "n_duplicates": elsewhere,
                "errors": json.dumps([dataclasses.asdict(e) for e in result.errors]),
                "read_at": now,
            })
        frame = pd.DataFrame(
            [
                {**{column: getattr(a, column) for column in ARTICLE_FIELDS},
                 "ingested_at": first_seen.get((a.article_id, a.content_sha256), now)}
                for a in articles
            ],
            columns=ARTICLE_COLUMNS,
        )
        append_rows(con, "raw.articles", frame)
        append_rows(con, "staging.source_files", pd.DataFrame(sources, columns=SOURCE_COLUMNS))


def _check_kept_texts(con, results, order: dict[str, int], seen: dict[str, str]) -> None:
    """Texts of changed files already held by unchanged files: the earlier file in walk order
    keeps the text. When the unchanged file is the earlier one, the changed file's copy is a
    duplicate (marked in ``seen``); when it is later, only a full read gives the right answer."""
    hashes = key_frame("content_sha256", sorted({a.content_sha256 for r in results for a in r.articles}))
    with registered(con, "_hashes", hashes):
        holders = con.execute(
            "select content_sha256, article_id, source_path from raw.articles "
            "where content_sha256 in (select content_sha256 from _hashes)"
        ).fetchall()
    for sha, article_id, source_path in holders:
        first_new = min(order[a.source_path] for r in results for a in r.articles if a.content_sha256 == sha)
        if order.get(source_path, len(order)) > first_new:
            raise _ReadEverything(source_path)
        seen.setdefault(sha, article_id)


def _write_errors(con, scan: FolderScan, now: dt.datetime) -> None:
    """raw.ingest_errors: what the walk found now, and the errors each current file gave when read."""
    errors: list[IngestError] = list(scan.errors)
    for (stored,) in con.execute(
        "select errors from staging.source_files where errors <> '[]' order by source_path"
    ).fetchall():
        errors += [IngestError(**e) for e in json.loads(stored)]
    frame = pd.DataFrame([{**dataclasses.asdict(e), "seen_at": now} for e in errors], columns=ERROR_COLUMNS)
    # Errors seen before keep their first time, so reruns leave the table identical.
    frame = keep_first_seen(con, "raw.ingest_errors", frame, ["source_path", "error", "detail"], "seen_at")
    replace_rows(con, "raw.ingest_errors", frame)


def record_run_inputs(con, root, scan: FolderScan) -> None:
    """What this build is made from, so that `trialfx run --if-changed` can tell when nothing has changed."""
    replace_rows(con, "staging.run_inputs", pd.DataFrame([run_inputs(root, scan)], columns=RUN_INPUT_COLUMNS))


@dg.multi_asset(
    specs=[
        table_spec("raw.articles", "ingest", {"python", "duckdb"}),
        table_spec("raw.ingest_errors", "ingest", {"python", "duckdb"}),
    ],
    pool=WAREHOUSE_POOL,
)
def ingest(context: dg.AssetExecutionContext, articles: ArticlesFolder, warehouse: WarehouseResource):
    """Read the articles folder (txt, md, html, PubMed XML, JSONL) and start this run's warehouse
    build. Only files that changed since they were last read are read again."""
    wh = warehouse.warehouse
    wh.start_build()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    scan = scan_folder(articles.root)
    with wh.connect() as con:
        stats = ingest_into(con, scan, articles.root, now)
        record_run_inputs(con, articles.root, scan)
        n_articles = con.execute("select count(*) from raw.articles").fetchone()[0]
        formats = dict(con.execute("select source_format, count(*) from raw.articles group by 1 order by 1").fetchall())
        errors_df = con.execute("select source_path, error, detail from raw.ingest_errors order by all").df()
    for error in errors_df.itertuples():
        context.log.warning(error.detail)
    context.log.info(
        f"read {stats.files_read} files ({'all' if stats.full_read else 'changed only'}); "
        f"{stats.files_unchanged} unchanged, {stats.files_removed} removed"
    )

    yield dg.MaterializeResult(
        asset_key=RAW_ARTICLES,
        metadata={
            "dagster/row_count": int(n_articles),
            "formats": dg.MetadataValue.json({k: int(v) for k, v in formats.items()}),
            "files_read": stats.files_read,
            "files_unchanged": stats.files_unchanged,
            "files_removed": stats.files_removed,
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_INGEST_ERRORS,
        metadata={
            "dagster/row_count": len(errors_df),
            "errors": dg.MetadataValue.md(markdown_table(errors_df, limit=20)),
        },
    )
