"""Extract asset: the extractor run over new or changed articles, its output cached as JSON."""

import datetime as dt
import itertools
import json
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from pipelines.assets.common import WAREHOUSE_POOL, append_rows, documented_columns, key_frame, registered
from pipelines.assets.ingest import RAW_ARTICLES
from pipelines.extraction import EXTRACTOR_VERSION
from pipelines.parallel import extract_many
from pipelines.resources import WarehouseResource

EXTRACTED_RECORDS = dg.AssetKey(["staging", "extracted_records"])

RECORD_COLUMNS = [
    "article_id", "content_sha256", "extractor_version", "record_index", "record_type", "record",
]
RUN_COLUMNS = ["article_id", "content_sha256", "extractor_version", "n_records", "extracted_at"]

# Articles read from the warehouse per query, and extracted articles written per transaction:
# memory holds a few chunks, never the whole corpus.
READ_CHUNK = 2000
WRITE_CHUNK = 2000


@dg.asset(
    key=EXTRACTED_RECORDS,
    deps=[RAW_ARTICLES],
    group_name="extract",
    kinds={"python", "duckdb"},
    metadata={"dagster/column_schema": documented_columns("staging.extracted_records")},
    pool=WAREHOUSE_POOL,
)
def extracted_records(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Estimates, arm results, arms and article facts found in each article's text, one JSON
    record per row with its character span. Only articles whose text or extractor version
    changed since the last run are extracted again; rows of deleted articles are dropped."""
    wh = warehouse.warehouse
    with wh.connect() as con:
        for table in ("staging.extracted_records", "staging.extraction_runs"):
            con.execute(f"delete from {table} where article_id not in (select article_id from raw.articles)")
        todo = [
            article_id
            for (article_id,) in con.execute(
                """
                select a.article_id
                from raw.articles as a
                left join staging.extraction_runs as r
                  on r.article_id = a.article_id
                 and r.content_sha256 = a.content_sha256
                 and r.extractor_version = ?
                where r.article_id is null
                order by a.article_id
                """,
                [EXTRACTOR_VERSION],
            ).fetchall()
        ]
        total = con.execute("select count(*) from raw.articles").fetchone()[0]
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        sha: dict[str, str] = {}
        extracted = extract_many(_texts(wh.cursor(con), todo, sha))
        while chunk := list(itertools.islice(extracted, WRITE_CHUNK)):
            _write_chunk(con, chunk, sha, now)
        counts = dict(
            con.execute(
                "select record_type, count(*) from staging.extracted_records group by all order by 1"
            ).fetchall()
        )

    context.log.info(f"extracted {len(todo)} of {total} articles (the rest unchanged)")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(sum(counts.values())),
            "articles_extracted": len(todo),
            "articles_unchanged": int(total - len(todo)),
            "extractor_version": EXTRACTOR_VERSION,
            "records_by_type": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
        }
    )


def _texts(cursor, article_ids: list[str], sha: dict[str, str]) -> Iterator[tuple[str, str, str | None]]:
    """``(article_id, text, title)`` of the given articles, read a chunk at a time; records
    each article's text hash in ``sha`` as it goes."""
    for start in range(0, len(article_ids), READ_CHUNK):
        with registered(cursor, "_ids", key_frame("article_id", article_ids[start : start + READ_CHUNK])):
            rows = cursor.execute(
                "select article_id, text, title, content_sha256 from raw.articles "
                "where article_id in (select article_id from _ids) order by article_id"
            ).fetchall()
        for article_id, text, title, content_sha256 in rows:
            sha[article_id] = content_sha256
            yield article_id, text, title


def _write_chunk(con, chunk: list[tuple[str, dict, list[dict]]], sha: dict[str, str], now: dt.datetime) -> None:
    """Replace the cached records of a chunk of articles with what the extractor found now."""
    rows, runs = [], []
    for article_id, facts, records in chunk:
        payloads = [("article_facts", facts)] + [(r["type"], r) for r in records]
        rows += [
            (article_id, sha[article_id], EXTRACTOR_VERSION, index, record_type, json.dumps(payload))
            for index, (record_type, payload) in enumerate(payloads)
        ]
        runs.append((article_id, sha.pop(article_id), EXTRACTOR_VERSION, len(records), now))
    runs_frame = pd.DataFrame(runs, columns=RUN_COLUMNS)
    con.execute("begin")
    try:
        with registered(con, "_runs", runs_frame):
            for table in ("staging.extracted_records", "staging.extraction_runs"):
                con.execute(f"delete from {table} where article_id in (select article_id from _runs)")
        append_rows(con, "staging.extracted_records", pd.DataFrame(rows, columns=RECORD_COLUMNS))
        append_rows(con, "staging.extraction_runs", runs_frame)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
