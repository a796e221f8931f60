"""Assembles the Dagster definitions: assets, checks, resources, the job, schedule and sensor."""

import dagster as dg

from pipelines.assets.core import core_tables
from pipelines.assets.extract import extracted_records
from pipelines.assets.ingest import ingest
from pipelines.assets.marts import mart_definitions
from pipelines.assets.reports import forest_plots, published_asset
from pipelines.resources import ArticlesFolder, WarehouseResource
from pipelines.schedules import articles_folder_sensor, daily_refresh, refresh_job


def build_defs(
    articles_dir: str | dg.EnvVar | None = None, warehouse_path: str | dg.EnvVar | None = None
) -> dg.Definitions:
    """Definitions bound to an articles folder and a warehouse file (by default the
    TRIALFX_ARTICLES and TRIALFX_WAREHOUSE environment variables)."""
    mart_assets, mart_checks = mart_definitions()
    writers = [ingest, extracted_records, core_tables, *mart_assets, forest_plots]
    upstream = [key for asset in writers for key in asset.keys]
    return dg.Definitions(
        assets=[*writers, published_asset(upstream)],
        asset_checks=mart_checks,
        jobs=[refresh_job],
        schedules=[daily_refresh],
        sensors=[articles_folder_sensor],
        executor=dg.in_process_executor,
        resources={
            "articles": ArticlesFolder(path=articles_dir or dg.EnvVar("TRIALFX_ARTICLES")),
            "warehouse": WarehouseResource(path=warehouse_path or dg.EnvVar("TRIALFX_WAREHOUSE")),
        },
    )


defs = build_defs()
