"""The definitions load from workspace.yaml, and the asset graph matches its snapshot."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from tests.conftest import PROJECT

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _workspace_module() -> str:
    workspace = yaml.safe_load((PROJECT / "workspace.yaml").read_text())
    return workspace["load_from"][0]["python_module"]["module_name"]


def _graph(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    nodes = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        nodes[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
        }
    return nodes


def test_workspace_module_exposes_definitions():
    module = importlib.import_module(_workspace_module())
    assert isinstance(module.defs, dg.Definitions)
    assert module.defs.resolve_job_def("refresh_warehouse") is not None
    assert {s.name for s in module.defs.schedules} == {"daily_refresh"}
    assert {s.name for s in module.defs.sensors} == {"articles_folder_sensor"}


def test_asset_graph_matches_snapshot():
    """Any change to keys, dependencies, groups or checks must be deliberate: regenerate the
    snapshot with TRIALFX_UPDATE_SNAPSHOT=1 and review the diff."""
    from pipelines.definitions import build_defs

    current = _graph(build_defs(articles_dir="unused", warehouse_path="unused.duckdb"))
    if os.environ.get("TRIALFX_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_lineage_runs_from_articles_to_cross_trial_mart():
    from pipelines.definitions import build_defs

    graph = build_defs(articles_dir="unused", warehouse_path="unused.duckdb").resolve_asset_graph()
    target = dg.AssetKey(["marts", "cross_trial_subgroups"])
    seen, frontier = set(), [target]
    while frontier:
        key = frontier.pop()
        seen.add(key)
        frontier += [p for p in graph.get(key).parent_keys if p not in seen]
    assert dg.AssetKey(["raw", "articles"]) in seen
    assert dg.AssetKey(["core", "effect_estimates"]) in seen


def test_dagster_cli_validates_workspace():
    env = {**os.environ, "TRIALFX_ARTICLES": "data/articles", "TRIALFX_WAREHOUSE": "warehouse/x.duckdb"}
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
