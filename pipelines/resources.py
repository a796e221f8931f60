"""Dagster resources: where the articles are read from and where the warehouse lives."""

from pathlib import Path

import dagster as dg

from warehouse.db import Warehouse


class ArticlesFolder(dg.ConfigurableResource):
    """The folder of article files a run ingests (TRIALFX_ARTICLES, or run config)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (TRIALFX_WAREHOUSE): runs write a private build and publish it."""

    path: str

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.path)
