"""Row builders and model-run helpers shared by the SQL model tests."""

from __future__ import annotations

import duckdb

from warehouse import models

ESTIMATE_COLUMNS = (
    "estimate_id", "article_id", "trial_id", "endpoint", "endpoint_text", "population", "subgroup",
    "subgroup_variable", "subgroup_level", "comparison", "experimental_arm", "comparator_arm",
    "measure", "value", "ci_low", "ci_high", "ci_level", "p", "p_relation", "claimed_significance",
    "evidence", "span_start", "span_end",
)


def estimate(estimate_id: str, **fields) -> dict:
    """A core.effect_estimates row: an overall PFS hazard ratio unless told otherwise."""
    row = {
        "estimate_id": estimate_id,
        "article_id": "a1.txt",
        "trial_id": "TRIAL",
        "endpoint": "PFS",
        "endpoint_text": "progression-free survival",
        "population": "overall",
        "subgroup": None,
        "subgroup_variable": None,
        "subgroup_level": None,
        "comparison": "drug vs placebo",
        "experimental_arm": None,
        "comparator_arm": None,
        "measure": "HR",
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "ci_level": 95.0,
        "p": None,
        "p_relation": None,
        "claimed_significance": None,
        "evidence": "made-up test sentence",
        "span_start": 0,
        "span_end": 21,
    }
    unknown = set(fields) - set(row)
    if unknown:
        raise KeyError(f"not a core.effect_estimates column: {sorted(unknown)}")
    row.update(fields)
    return row


def insert_estimates(connection: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    placeholders = ", ".join("?" for _ in ESTIMATE_COLUMNS)
    connection.executemany(
        f"insert into core.effect_estimates ({', '.join(ESTIMATE_COLUMNS)}) values ({placeholders})",
        [[row[c] for c in ESTIMATE_COLUMNS] for row in rows],
    )


def build(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every SQL model in order; row counts by relation."""
    return {m.relation: models.run_model(connection, m) for m in models.load_models()}


def fetch(connection: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = connection.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
