"""Extract asset: the extractor run over new or changed articles, its output cached as JSON."""

import datetime as dt
import json

import dagster as dg
import pandas as pd

from pipelines.assets.common import WAREHOUSE_POOL, documented_columns
from pipelines.assets.ingest import RAW_ARTICLES
from pipelines.extraction import EXTRACTOR_VERSION
from pipelines.parallel import extract_many
from pipelines.resources import WarehouseResource

EXTRACTED_RECORDS = dg.AssetKey(["staging", "extracted_records"])

RECORD_COLUMNS = [
    "article_id", "content_sha256", "extractor_version", "record_index", "record_type", "record",
]


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
    with warehouse.warehouse.connect() as con:
        con.execute(
            "delete from staging.extracted_records where article_id not in (select article_id from raw.articles)"
        )
        con.execute(
            "delete from staging.extraction_runs where article_id not in (select article_id from raw.articles)"
        )
        todo = con.execute(
            """
            select a.article_id, a.text, a.title, a.content_sha256
            from raw.articles as a
            left join staging.extraction_runs as r
              on r.article_id = a.article_id
             and r.content_sha256 = a.content_sha256
             and r.extractor_version = ?
            where r.article_id is null
            order by a.article_id
            """,
            [EXTRACTOR_VERSION],
        ).df()
        total = con.execute("select count(*) from raw.articles").fetchone()[0]

        sha = dict(zip(todo["article_id"], todo["content_sha256"]))
        rows, runs = [], []
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        items = zip(todo["article_id"], todo["text"], todo["title"].where(todo["title"].notna(), None))
        for article_id, facts, records in extract_many(items):
            payloads = [("article_facts", facts)] + [(r["type"], r) for r in records]
            for index, (record_type, payload) in enumerate(payloads):
                rows.append(
                    (article_id, sha[article_id], EXTRACTOR_VERSION, index, record_type, json.dumps(payload))
                )
            runs.append((article_id, sha[article_id], EXTRACTOR_VERSION, len(records), now))

        con.execute("begin")
        if len(todo):
            con.register("_todo", todo[["article_id"]])
            con.execute("delete from staging.extracted_records where article_id in (select article_id from _todo)")
            con.execute("delete from staging.extraction_runs where article_id in (select article_id from _todo)")
            con.unregister("_todo")
        if rows:
            con.register("_rows", pd.DataFrame(rows, columns=RECORD_COLUMNS))
            con.execute("insert into staging.extracted_records by name select * from _rows")
            con.unregister("_rows")
        if runs:
            con.register(
                "_runs",
                pd.DataFrame(
                    runs,
                    columns=["article_id", "content_sha256", "extractor_version", "n_records", "extracted_at"],
                ),
            )
            con.execute("insert into staging.extraction_runs by name select * from _runs")
            con.unregister("_runs")
        con.execute("commit")
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
