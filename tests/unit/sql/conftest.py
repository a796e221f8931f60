"""Fixtures for the SQL model tests: a fresh DuckDB warehouse under tmp_path."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import models

SCHEMA_SQL = Path(__file__).resolve().parents[3] / "warehouse" / "schema.sql"


@pytest.fixture
def con(tmp_path: Path):
    """A warehouse file with the core DDL applied and the macros installed."""
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    models.install_macros(connection)
    yield connection
    connection.close()
