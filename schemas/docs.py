"""Descriptions of the warehouse's raw, core and quarantine columns, read from sql/core.yml."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

CORE_DOCS = Path(__file__).resolve().parent.parent / "sql" / "core.yml"


@functools.cache
def core_docs() -> dict:
    """``{"schema.table": {"description": str, "columns": {column: str}}}``."""
    if not CORE_DOCS.exists():
        return {}
    return yaml.safe_load(CORE_DOCS.read_text(encoding="utf-8")) or {}


def column_doc(table: str, column: str) -> str | None:
    """One line saying what a column means (None where sql/core.yml does not say)."""
    entry = core_docs().get(table) or {}
    return (entry.get("columns") or {}).get(column)
