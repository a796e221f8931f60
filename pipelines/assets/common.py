"""Small pieces the asset modules share: the writer pool, table replacement, metadata helpers."""

import contextlib
from collections.abc import Iterable, Iterator

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from schemas.docs import core_docs

# Every asset that writes the warehouse sits in this pool; dagster.yaml limits it to one run
# at a time, since a run builds a private copy of the warehouse and publishes it whole.
WAREHOUSE_POOL = "warehouse"


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[None]:
    """``frame`` visible to SQL as ``name`` inside the block: values travel as a frame, never
    pasted into SQL text. Inside a transaction the frame is held until it ends, so this is for
    keys and other small frames; rows are written with `append_rows`."""
    con.register(name, frame)
    try:
        yield
    finally:
        con.unregister(name)


def key_frame(column: str, values: Iterable[str]) -> pd.DataFrame:
    """One text column of keys, to register and match with ``in``. Typed as text even when
    empty: an empty untyped column reaches DuckDB as DOUBLE, which cannot be compared with text."""
    return pd.DataFrame({column: pd.Series(list(values), dtype="string")})


def relation_digest(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Row count and an order-free sum of row hashes of a table or parenthesized query: the same
    string exactly when the rows are the same (up to hash collisions)."""
    rows, hashes = con.execute(
        f"select count(*), coalesce(sum(hash(q)), 0)::varchar from {relation} as q"
    ).fetchone()
    return f"{rows}:{hashes}"


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert the rows of ``frame`` into ``table``, matching columns by name."""
    if len(frame):
        # Scanned by its local name (DuckDB's replacement scan), the frame is let go when the
        # statement ends. A registered view would keep it, every string in it included, until the
        # transaction commits: a long build would hold all it wrote twice, once in Python.
        _rows = frame  # noqa: F841 - read by the SQL below
        con.execute(f"insert into {table} by name select * from _rows")


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace every row of ``table`` with ``frame`` (matched by column name), in one transaction."""
    con.execute("begin")
    try:
        con.execute(f"delete from {table}")
        append_rows(con, table, frame)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def keep_first_seen(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, keys: list[str], time_column: str
) -> pd.DataFrame:
    """``frame`` with ``time_column`` taken from ``table`` for rows already there (same ``keys``),
    so that a rerun on unchanged input leaves the table identical."""
    if frame.empty:
        return frame
    previous = con.execute(f"select {', '.join(keys)}, {time_column} from {table}").df()
    if previous.empty:
        return frame
    previous = previous.drop_duplicates(subset=keys)
    merged = frame.merge(previous, on=keys, how="left", suffixes=("", "_prev"))
    out = frame.copy()
    out[time_column] = merged[f"{time_column}_prev"].fillna(merged[time_column]).values
    return out


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The pandera model's columns as Dagster column metadata (shown in the asset's UI page)."""
    schema = model.to_schema()
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(column.dtype),
                description=column.description,
                constraints=dg.TableColumnConstraints(nullable=column.nullable, unique=column.unique),
            )
            for name, column in schema.columns.items()
        ]
    )


def documented_columns(table: str) -> dg.TableSchema:
    """Column metadata for a table written by Python, from its descriptions in sql/core.yml."""
    columns = (core_docs().get(table) or {}).get("columns") or {}
    return dg.TableSchema(columns=[dg.TableColumn(name=c, description=d) for c, d in columns.items()])


def table_description(table: str) -> str:
    """The table's description in sql/core.yml, as one line."""
    return " ".join(str((core_docs().get(table) or {}).get("description", "")).split())


def table_spec(table: str, group: str, kinds: set[str], **kwargs) -> dg.AssetSpec:
    """The asset of a table written by Python: key, description and columns from sql/core.yml."""
    metadata = {"dagster/column_schema": documented_columns(table), **kwargs.pop("metadata", {})}
    return dg.AssetSpec(
        dg.AssetKey(table.split(".")),
        description=table_description(table),
        group_name=group,
        kinds=kinds,
        metadata=metadata,
        **kwargs,
    )


def markdown_table(frame: pd.DataFrame, limit: int = 10) -> str:
    """The first rows of a frame as a markdown table for asset metadata."""
    if frame.empty:
        return "(none)"

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")[:200]

    head = frame.head(limit)
    lines = ["| " + " | ".join(map(cell, head.columns)) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    if len(frame) > limit:
        lines.append(f"\n{len(frame) - limit} more rows")
    return "\n".join(lines)
