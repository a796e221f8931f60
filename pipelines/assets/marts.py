"""Mart assets: one asset per SQL model in sql/, the cross-trial pooling, and SQL data tests as checks."""

import hashlib
from pathlib import Path

import dagster as dg
import pandas as pd
import yaml

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, registered, relation_digest
from pipelines.resources import WarehouseResource
from warehouse.models import (
    SQL_DIR,
    DataTest,
    Model,
    comment_tables,
    load_data_tests,
    load_models,
    run_data_test,
    run_model,
)

CROSS_TRIAL = dg.AssetKey(["marts", "cross_trial_subgroups"])
CROSS_TRIAL_DOCS = yaml.safe_load((SQL_DIR / "python" / "cross_trial_subgroups.yml").read_text(encoding="utf-8"))
SUBGROUP_VS_OVERALL = dg.AssetKey(["marts", "subgroup_vs_overall"])
STATS_DIR = Path(__file__).resolve().parents[1] / "stats"


def key_of(table: str) -> dg.AssetKey:
    """``schema.table`` → the asset key of the same name."""
    return dg.AssetKey(table.split("."))


def _column_schema(columns: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=c, description=d) for c, d in columns.items()])


def _sql_asset(model: Model, incremental: frozenset[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=key_of(f"{model.schema}.{model.name}"),
        deps=[key_of(dep) for dep in model.deps],
        description=model.description,
        group_name="marts",
        kinds={"sql", "duckdb"},
        metadata={
            "sql_file": str(model.path.relative_to(model.path.parents[2])),
            "dagster/column_schema": _column_schema(model.columns),
        },
        pool=WAREHOUSE_POOL,
    )
    def _build(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.warehouse.connect() as con:
            rows = run_model(con, model, incremental)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _build


def _rule(test: DataTest) -> str:
    # A check sits on its table's page, so it is named after the rule alone.
    return test.name.split("__", 1)[-1]


def _data_checks(tests: list[DataTest]) -> dg.AssetChecksDefinition:
    """Every SQL data test as a check on its table, all run in one step on one connection: a step
    costs a run more than most of these queries do, and the tests read the same tables."""
    by_key = {dg.AssetCheckKey(key_of(test.target), _rule(test)): test for test in tests}

    @dg.multi_asset_check(
        name="sql_data_tests",
        specs=[dg.AssetCheckSpec(name=_rule(test), asset=key_of(test.target), description=test.description)
               for test in tests],
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        selected = [key for key in by_key if key in context.selected_asset_check_keys]
        with warehouse.warehouse.connect() as con:
            for key in selected:
                test = by_key[key]
                failing, sample = run_data_test(con, test)
                yield dg.AssetCheckResult(
                    asset_key=key.asset_key,
                    check_name=key.name,
                    passed=failing == 0,
                    metadata={
                        "failing_rows": failing,
                        "sql_file": str(test.path.name),
                        "sample": dg.MetadataValue.md(markdown_table(pd.DataFrame(sample))),
                    },
                )

    return _checks


@dg.asset(
    key=CROSS_TRIAL,
    deps=[SUBGROUP_VS_OVERALL],
    group_name="marts",
    kinds={"python", "duckdb"},
    metadata={"dagster/column_schema": _column_schema(CROSS_TRIAL_DOCS["columns"])},
    pool=WAREHOUSE_POOL,
)
def cross_trial_subgroups_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Random-effects pooling, across trials, of subgroup estimates, overall estimates and
    within-trial interactions for each subgroup, endpoint and measure seen in two or more trials
    (REML with Hartung-Knapp-Sidik-Jonkman intervals; DerSimonian-Laird rows for comparison)."""
    with warehouse.warehouse.connect() as con:
        digest = _pooling_input_digest(con)
        stored = con.execute(
            "select digest from staging.model_state where relation = 'marts.cross_trial_subgroups'"
        ).fetchone()
        if stored == (digest,) and con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'cross_trial_subgroups'"
        ).fetchone()[0]:
            (rows, groups) = con.execute(
                "select count(*), count(distinct (subgroup_variable, subgroup_level, endpoint, measure)) "
                "from marts.cross_trial_subgroups"
            ).fetchone()
            context.log.info("marts.subgroup_vs_overall and the pooling code are unchanged: pooling skipped")
            return dg.MaterializeResult(metadata={"dagster/row_count": rows, "groups": groups, "pooled_again": False})

        # Imported here: scipy takes about 2 s to import, which a run with nothing to pool need not pay.
        from pipelines.stats.cross_trial import CROSS_TRIAL_COLUMNS, cross_trial_subgroups

        svo = con.execute("select * from marts.subgroup_vs_overall").df()
        pooled = cross_trial_subgroups(svo)
        # Text columns as pandas strings, so that an empty result still makes VARCHAR columns.
        pooled = pooled.astype({c: "string" for c in pooled.columns if pooled[c].dtype == object})
        with registered(con, "_pooled", pooled[CROSS_TRIAL_COLUMNS]):
            con.execute("create or replace table marts.cross_trial_subgroups as select * from _pooled")
        comment_tables(con, {"marts.cross_trial_subgroups": CROSS_TRIAL_DOCS})
        con.execute("insert or replace into staging.model_state values ('marts.cross_trial_subgroups', ?, null)",
                    [digest])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(pooled),
            "groups": int(pooled[["subgroup_variable", "subgroup_level", "endpoint", "measure"]]
                          .drop_duplicates().shape[0]) if len(pooled) else 0,
            "pooled_again": True,
        }
    )


def _pooling_input_digest(con) -> str:
    """Digest of marts.subgroup_vs_overall (row count and an order-free sum of row hashes) and of
    the pooling code: when both are as last time, the pooled table would come out the same."""
    code = hashlib.sha256()
    for path in sorted(STATS_DIR.glob("*.py")):
        code.update(path.read_bytes())
    return f"{relation_digest(con, 'marts.subgroup_vs_overall')}:{code.hexdigest()}"


def mart_definitions() -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """Every SQL model as an asset, the Python mart, and every SQL data test as a check."""
    models = load_models()
    incremental = frozenset(m.relation for m in models if m.incremental_key)
    assets = [_sql_asset(model, incremental) for model in models] + [cross_trial_subgroups_asset]
    tests = load_data_tests()
    checks = [_data_checks(tests)] if tests else []
    return assets, checks
