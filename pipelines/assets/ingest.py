"""Ingest assets: article files into raw.articles, and what could not be read into raw.ingest_errors."""

import dataclasses
import datetime as dt

import dagster as dg
import pandas as pd

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    keep_first_seen,
    markdown_table,
    replace_rows,
    table_spec,
)
from pipelines.ingest.readers import ingest_folder
from pipelines.resources import ArticlesFolder, WarehouseResource

RAW_ARTICLES = dg.AssetKey(["raw", "articles"])
RAW_INGEST_ERRORS = dg.AssetKey(["raw", "ingest_errors"])

ARTICLE_COLUMNS = [
    "article_id", "source_path", "source_format", "title", "url", "outlet", "published_on",
    "text", "content_sha256", "ingested_at", "trial_hint", "nct_id_hint",
]
ERROR_COLUMNS = ["source_path", "error", "detail", "seen_at"]


@dg.multi_asset(
    specs=[
        table_spec("raw.articles", "ingest", {"python", "duckdb"}),
        table_spec("raw.ingest_errors", "ingest", {"python", "duckdb"}),
    ],
    pool=WAREHOUSE_POOL,
)
def ingest(context: dg.AssetExecutionContext, articles: ArticlesFolder, warehouse: WarehouseResource):
    """Read the articles folder (txt, md, html, PubMed XML, JSONL) and start this run's warehouse build."""
    wh = warehouse.warehouse
    wh.start_build()
    result = ingest_folder(articles.root)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    articles_df = pd.DataFrame(
        [
            {**{k: v for k, v in dataclasses.asdict(a).items() if k in ARTICLE_COLUMNS}, "ingested_at": now}
            for a in result.articles
        ],
        columns=ARTICLE_COLUMNS,
    )
    errors_df = pd.DataFrame(
        [{**dataclasses.asdict(e), "seen_at": now} for e in result.errors], columns=ERROR_COLUMNS
    )
    for error in result.errors:
        context.log.warning(error.detail)

    with wh.connect() as con:
        # Unchanged articles and errors keep their first time, so reruns leave the tables identical.
        articles_df = keep_first_seen(con, "raw.articles", articles_df, ["article_id", "content_sha256"], "ingested_at")
        errors_df = keep_first_seen(con, "raw.ingest_errors", errors_df, ["source_path", "error", "detail"], "seen_at")
        replace_rows(con, "raw.articles", articles_df)
        replace_rows(con, "raw.ingest_errors", errors_df)

    yield dg.MaterializeResult(
        asset_key=RAW_ARTICLES,
        metadata={
            "dagster/row_count": len(articles_df),
            "formats": dg.MetadataValue.json(articles_df["source_format"].value_counts().to_dict()),
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_INGEST_ERRORS,
        metadata={
            "dagster/row_count": len(errors_df),
            "errors": dg.MetadataValue.md(markdown_table(errors_df.drop(columns="seen_at"), limit=20)),
        },
    )

