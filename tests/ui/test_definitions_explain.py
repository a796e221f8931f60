"""The asset graph explains itself in the Dagster UI: descriptions, groups, kinds, column schemas."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from pipelines.definitions import build_defs

GROUPS = {"ingest", "extract", "core", "marts", "reports"}
KINDS = {"duckdb", "pandas", "sql", "python", "matplotlib"}
COLUMN_SCHEMA = "dagster/column_schema"
# A check name is read in the UI beside its asset: it should say what it checks, in words
# (a double underscore may separate the table from the rule, as in the SQL data tests).
CHECK_NAME = re.compile(r"^[a-z][a-z0-9]*(__?[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_defs(articles_dir="x", warehouse_path="y.duckdb")


@pytest.fixture(scope="module")
def specs(defs: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}


@pytest.fixture(scope="module")
def check_specs(defs: dg.Definitions) -> dict[str, dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    found = {
        f"{spec.asset_key.to_user_string()}:{spec.name}": spec
        for assets_def in graph.assets_defs
        for spec in assets_def.check_specs
    }
    # Every check the graph knows must have been reached through some definition's specs.
    assert len(found) == len(graph.asset_check_keys)
    return found


def _core_specs(specs: dict[str, dg.AssetSpec]) -> dict[str, dg.AssetSpec]:
    return {name: spec for name, spec in specs.items() if spec.key.path[0] == "core"}


def test_graph_is_not_empty(specs, check_specs):
    assert "raw/articles" in specs
    assert "marts/cross_trial_subgroups" in specs
    assert _core_specs(specs)
    assert check_specs


def test_every_asset_has_a_description(specs):
    missing = sorted(name for name, spec in specs.items() if not (spec.description or "").strip())
    assert not missing, f"assets without a description: {missing}"


def test_every_asset_is_in_a_known_group(specs):
    wrong = {name: spec.group_name for name, spec in specs.items() if spec.group_name not in GROUPS}
    assert not wrong, f"assets outside the groups {sorted(GROUPS)}: {wrong}"


def test_every_asset_has_a_known_kind(specs):
    wrong = {name: sorted(spec.kinds) for name, spec in specs.items() if not set(spec.kinds) & KINDS}
    assert not wrong, f"assets with none of the kinds {sorted(KINDS)}: {wrong}"


def test_core_assets_show_their_column_schema(specs):
    missing = sorted(name for name, spec in _core_specs(specs).items()
                     if COLUMN_SCHEMA not in spec.metadata)
    assert not missing, f"core assets without {COLUMN_SCHEMA} metadata: {missing}"


def test_core_column_schemas_describe_every_column(specs):
    undescribed = {}
    for name, spec in _core_specs(specs).items():
        schema = spec.metadata[COLUMN_SCHEMA]
        schema = getattr(schema, "schema", schema)  # a TableSchemaMetadataValue or a TableSchema
        assert isinstance(schema, dg.TableSchema), f"{name}: {COLUMN_SCHEMA} is {type(schema)}"
        assert schema.columns, f"{name}: empty column schema"
        blank = [col.name for col in schema.columns if not (col.description or "").strip()]
        if blank:
            undescribed[name] = blank
    assert not undescribed, f"columns without a description: {undescribed}"


def test_every_asset_check_has_a_description(check_specs):
    missing = sorted(name for name, spec in check_specs.items() if not (spec.description or "").strip())
    assert not missing, f"asset checks without a description: {missing}"


def test_asset_check_names_are_words(check_specs):
    wrong = sorted(name for name, spec in check_specs.items() if not CHECK_NAME.match(spec.name))
    assert not wrong, f"asset checks not named in snake_case words: {wrong}"
