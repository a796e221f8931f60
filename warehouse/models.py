"""SQL model runner: loads sql/ models, macros and data tests, builds them in DuckDB, documents them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import yaml

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MODEL_LAYERS = ("staging", "marts")
MATERIALIZATIONS = ("table", "view")
# The columns of staging.changed_keys a model can be rebuilt by (None: rebuilt whole every run).
INCREMENTAL_KEYS = (None, "article_id", "trial_key")

# A dependency is any schema-qualified reference to a warehouse layer.
_TABLE_REF = re.compile(r"\b(raw|core|staging|marts)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# One pass over literals and comments, so an apostrophe in a comment cannot open a literal.
_LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Model:
    """One SQL model: a select query materialized as ``schema.name``."""

    name: str
    schema: str
    path: Path
    sql: str
    deps: tuple[str, ...]  # "schema.table", sorted
    description: str
    columns: dict[str, str] = field(hash=False)
    materialized: str  # "table" | "view"
    # A column such that the model's rows for one value depend only on its inputs' rows for that
    # value (article_id for row-wise models, trial_key for models that compare within a trial):
    # reruns then rebuild only the values whose core rows changed (see run_model).
    incremental_key: str | None = None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class DataTest:
    """One SQL data test: a select returning the failing rows of ``target``."""

    name: str
    target: str  # "schema.table"
    path: Path
    sql: str
    description: str


def _checked_identifier(name: str) -> str:
    # Model, schema and column names are interpolated into DDL, so only plain identifiers pass.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
    return name


def _code_only(sql: str) -> str:
    """The SQL without comments and string literals, so that neither can fake a reference."""
    return _LITERAL_OR_COMMENT.sub(" ", sql)


def table_refs(sql: str) -> set[str]:
    """Schema-qualified tables a query reads, lower-cased as "schema.table"."""
    return {f"{s.lower()}.{t.lower()}" for s, t in _TABLE_REF.findall(_code_only(sql))}


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _load_model(path: Path, schema: str) -> Model:
    name = _checked_identifier(path.stem)
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    docs = _read_yaml(path.with_suffix(".yml"))
    materialized = docs.get("materialized", "table")
    if materialized not in MATERIALIZATIONS:
        raise ValueError(f"{path}: materialized must be one of {MATERIALIZATIONS}")
    relation = f"{schema}.{name}"
    incremental_key = docs.get("incremental_key")
    if incremental_key not in INCREMENTAL_KEYS:
        raise ValueError(f"{path}: incremental_key must be one of {sorted(k for k in INCREMENTAL_KEYS if k)}")
    if incremental_key and materialized != "table":
        raise ValueError(f"{path}: only a table can be built incrementally")
    return Model(
        name=name,
        schema=schema,
        path=path,
        sql=sql,
        deps=tuple(sorted(table_refs(sql) - {relation})),
        description=" ".join(str(docs.get("description", "")).split()),
        columns={str(k): str(v) for k, v in (docs.get("columns") or {}).items()},
        materialized=materialized,
        incremental_key=incremental_key,
    )


def load_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model of ``sql_dir``/staging and /marts, dependencies before dependents."""
    models = {
        m.relation: m
        for layer in MODEL_LAYERS
        for m in (_load_model(p, layer) for p in sorted((sql_dir / layer).glob("*.sql")))
    }
    graph = TopologicalSorter({rel: [d for d in m.deps if d in models] for rel, m in sorted(models.items())})
    return [models[rel] for rel in graph.static_order()]


def _first_comment(sql: str) -> str:
    first_line = sql.lstrip().splitlines()[0] if sql.strip() else ""
    return first_line.removeprefix("--").strip() if first_line.startswith("--") else ""


def load_data_tests(sql_dir: Path = SQL_DIR) -> list[DataTest]:
    """Every data test in ``sql_dir``/tests, named ``TABLE__what_it_checks.sql``.

    The target is the schema-qualified reference to TABLE inside the test's SQL.
    """
    tests = []
    for path in sorted((sql_dir / "tests").glob("*.sql")):
        table, sep, _ = path.stem.partition("__")
        if not sep:
            raise ValueError(f"{path.name}: data test names read TABLE__what_it_checks.sql")
        targets = sorted(ref for ref in table_refs(path.read_text(encoding="utf-8")) if ref.split(".")[1] == table)
        if len(targets) != 1:
            raise ValueError(f"{path.name}: expected one schema-qualified reference to {table}, found {targets}")
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        tests.append(DataTest(name=path.stem, target=targets[0], path=path, sql=sql, description=_first_comment(sql)))
    return tests


def install_macros(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """Create (or replace) the macros of ``sql_dir``/macros.sql in the connected database."""
    con.execute((sql_dir / "macros.sql").read_text(encoding="utf-8"))


def sql_literal(text: str) -> str:
    """A SQL string literal, for statements that take no parameters (COMMENT ON, ATTACH); only for the
    project's own text and paths."""
    return "'" + str(text).replace("'", "''") + "'"


def _object_kind(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
    row = con.execute(
        "select 'view' from duckdb_views() where schema_name = ? and view_name = ? and not internal "
        "union all select 'table' from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table, schema, table],
    ).fetchone()
    return row[0] if row else None


def comment_tables(con: duckdb.DuckDBPyConnection, docs: dict) -> None:
    """Apply ``{"schema.table": {"description": ..., "columns": {name: text}}}`` as COMMENT ON.

    Tables absent from the database and columns absent from a table are skipped, so the same
    documentation serves a warehouse that has not built everything yet. Comments that already
    read as documented are left alone: every run documents the warehouse, and most runs find
    nothing to change (each COMMENT ON is a catalog write).
    """
    objects, columns = _comments(con)
    for relation, entry in docs.items():
        schema, table = (_checked_identifier(part) for part in relation.split("."))
        if (schema, table) not in objects:
            continue
        kind, comment = objects[(schema, table)]
        description = " ".join(str((entry or {}).get("description", "")).split())
        if description and description != comment:
            con.execute(f"comment on {kind} {schema}.{table} is {sql_literal(description)}")
        for column, text in ((entry or {}).get("columns") or {}).items():
            key = (schema, table, column)
            if key in columns and columns[key] != str(text):
                con.execute(f"comment on column {schema}.{table}.{_checked_identifier(column)} is {sql_literal(text)}")


def _comments(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict]:
    """Every user table and view as (schema, name) -> (kind, comment), and every column of them
    as (schema, table, column) -> comment."""
    objects = {
        (schema, name): (kind, comment)
        for schema, name, kind, comment in con.execute(
            "select schema_name, view_name, 'view', comment from duckdb_views() where not internal "
            "union all select schema_name, table_name, 'table', comment from duckdb_tables() where not internal"
        ).fetchall()
    }
    columns = {
        (schema, table, column): comment
        for schema, table, column, comment in con.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    }
    return objects, columns


def run_model(con: duckdb.DuckDBPyConnection, model: Model, incremental: Iterable[str] | None = None) -> int:
    """Build ``model`` and return its row count.

    A model with an ``incremental_key`` whose SQL (and macros) are those it was last built with
    only replaces its rows for the keys that changed since then (staging.changed_keys, written
    by the core build, one generation per change); any other model, or one whose SQL changed,
    is built whole (create or replace) and documented.

    ``incremental`` names every incremental model of the project (``Model.relation``). When it
    is given, the state of an incremental model no longer in it is forgotten, so a removed model
    cannot hold back the pruning of generations every remaining model has taken in."""
    if not (model.incremental_key and _update_incremental(con, model)):
        _build_whole(con, model)
    if model.incremental_key:
        if incremental is not None:
            # Rows with a null generation belong to Python marts, which keep only a digest.
            con.execute("delete from staging.model_state where generation is not null "
                        "and list_position(?, relation) is null", [sorted(set(incremental))])
        # Changes every incremental model has taken in are done with.
        con.execute("delete from staging.changed_keys where generation <= "
                    "(select coalesce(min(generation), 0) from staging.model_state)")
    schema, name = _checked_identifier(model.schema), _checked_identifier(model.name)
    return con.execute(f"select count(*) from {schema}.{name}").fetchone()[0]


def _build_whole(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    schema, name = _checked_identifier(model.schema), _checked_identifier(model.name)
    kind = "view" if model.materialized == "view" else "table"
    con.execute("begin transaction")
    try:
        # An earlier materialization may hold the name as the other kind of object.
        existing = _object_kind(con, schema, name)
        if existing is not None and existing != kind:
            con.execute(f"drop {existing} {schema}.{name}")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace {kind} {schema}.{name} as\n{model.sql}")
        comment_tables(con, {model.relation: {"description": model.description, "columns": model.columns}})
        if model.incremental_key:
            con.execute(
                "insert or replace into staging.model_state values (?, ?, ?)",
                [model.relation, _model_digest(model), latest_generation(con)],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _update_incremental(con: duckdb.DuckDBPyConnection, model: Model) -> bool:
    """Replace the rows of the changed keys; False when the model must be built whole instead."""
    schema, name = _checked_identifier(model.schema), _checked_identifier(model.name)
    key = _checked_identifier(model.incremental_key)
    state = con.execute(
        "select digest, generation from staging.model_state where relation = ?", [model.relation]
    ).fetchone()
    if state is None or state[0] != _model_digest(model) or _object_kind(con, schema, name) != "table":
        return False
    latest = latest_generation(con)
    if latest <= state[1]:
        return True
    changed = (f"(select {key} from staging.changed_keys where generation > {int(state[1])} "
               f"and {key} is not null)")
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {schema}.{name} where {key} in {changed}")
        sql = restricted_to_keys(con, model.sql, key, changed)
        con.execute(f"insert into {schema}.{name} by name select * from (\n{sql}\n) as model where {key} in {changed}")
        con.execute("update staging.model_state set generation = ? where relation = ?", [latest, model.relation])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True


def restricted_to_keys(con: duckdb.DuckDBPyConnection, sql: str, key: str, keys_sql: str) -> str:
    """``sql`` with every table it reads that has a ``key`` column narrowed to the rows whose key is
    in ``keys_sql`` (a subquery).

    The model's rows of a key depend on its inputs' rows of that key alone (what declaring
    ``incremental_key`` promises), so this gives the same rows for those keys; it lets DuckDB read
    those rows only, where a filter on the model's output is not pushed through its joins and
    window functions and would cost a whole build. References inside comments and string
    literals are left alone."""
    skipped = [(m.start(), m.end()) for m in _LITERAL_OR_COMMENT.finditer(sql)]
    keyed = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_columns() where column_name = ?", [key]
        ).fetchall()
    }
    out, pos = [], 0
    for m in _TABLE_REF.finditer(sql):
        relation = f"{m.group(1).lower()}.{m.group(2).lower()}"
        inside = any(a <= m.start() < b for a, b in skipped)
        # 'schema.table.column' names a column, not a table to read.
        if inside or relation not in keyed or sql.startswith(".", m.end()):
            continue
        out += [sql[pos:m.start()], f"(select * from {relation} where {key} in {keys_sql})"]
        pos = m.end()
    return "".join(out) + sql[pos:]


def latest_generation(con: duckdb.DuckDBPyConnection) -> int:
    """The newest generation of changes ever recorded. Taken-in rows leave staging.changed_keys,
    so the models' own marks count too: numbers keep growing and are never issued twice."""
    return con.execute(
        "select greatest(coalesce((select max(generation) from staging.changed_keys), 0), "
        "coalesce((select max(generation) from staging.model_state), 0))"
    ).fetchone()[0]


def _model_digest(model: Model) -> str:
    """What an incremental model's rows were built by: its SQL, its key and the macros."""
    macros = (SQL_DIR / "macros.sql").read_text(encoding="utf-8")
    return hashlib.sha256(f"{model.incremental_key}\0{model.sql}\0{macros}".encode()).hexdigest()


def run_data_test(con: duckdb.DuckDBPyConnection, test: DataTest, limit: int = 20) -> tuple[int, list[dict]]:
    """Run a data test: the number of failing rows and up to ``limit`` of them as dicts."""
    failing = f"(\n{test.sql}\n) as failing"
    count = con.execute(f"select count(*) from {failing}").fetchone()[0]
    if count == 0:
        # The usual case: nothing to show, so the query is not run a second time.
        return 0, []
    cursor = con.execute(f"select * from {failing} limit ?", [limit])
    columns = [d[0] for d in cursor.description]
    return count, [dict(zip(columns, row)) for row in cursor.fetchall()]
