"""`dagster dev` in the system Chromium: the lineage from the articles to the cross-trial mart."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import PROJECT

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SOURCE = ("raw", "articles")
TARGET = ("marts", "cross_trial_subgroups")
GROUPS = ("ingest", "extract", "core", "marts", "reports")
STARTUP_SECONDS = 90
STOP_SECONDS = 30
# Virtual time lets the app's JavaScript run its requests and layout without a real-time sleep.
RENDER_BUDGET_MS = 15000
WINDOW = (1600, 1000)
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
    f"--virtual-time-budget={RENDER_BUDGET_MS}",
]
LINEAGE_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } groupName } }"
CORE_ASSET = ("core", "effect_estimates")
CORE_ASSET_QUERY = """query ($path: [String!]!) { assetNodes(assetKeys: [{path: $path}]) {
  description groupName kinds
  metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name description } } } }
} }"""

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium with .ci/install-browser",
                allow_module_level=True)


@dataclass
class DagsterUI:
    url: str
    workdir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_sigint() -> None:
    # A process started from a non-interactive shell may inherit an ignored SIGINT, and then
    # `dagster dev` would ignore the SIGINT that stops it cleanly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_group(process: subprocess.Popen, seconds: float) -> None:
    """SIGINT to the whole process group (Dagster's clean stop), SIGKILL for whatever remains."""
    pgid = process.pid
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGINT)
    deadline = time.monotonic() + seconds
    while _group_alive(pgid) and time.monotonic() < deadline:
        process.poll()
        time.sleep(0.2)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=10)


def _post_graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer
    return answer["data"]


def _wait_until_served(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until /server_info answers and the code location's assets are listed, within a bound."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                pass
            if _post_graphql(url, LINEAGE_QUERY)["assetNodes"]:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster dev did not serve {url} within {STARTUP_SECONDS} s:\n"
                f"{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory) -> Iterator[DagsterUI]:
    workdir = tmp_path_factory.mktemp("dagster-ui")
    home = workdir / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    (workdir / "articles").mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TRIALFX_ARTICLES": str(workdir / "articles"),
        "TRIALFX_WAREHOUSE": str(workdir / "warehouse" / "trialfx.duckdb"),
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "dagster-dev.log"
    dagster = Path(sys.executable).with_name("dagster")
    with log.open("w") as handle:
        process = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT, env=env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,
        )
    try:
        _wait_until_served(url, process, log)
        yield DagsterUI(url=url, workdir=workdir)
    finally:
        _stop_group(process, STOP_SECONDS)


def _chromium(ui: DagsterUI, path: str, *action: str) -> str:
    """Runs headless Chromium on a page of the UI; returns its stdout (the DOM for --dump-dom)."""
    profile = ui.workdir / "chromium-profile"
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action, ui.url + path]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=120)
    finally:
        _stop_group(process, 5)
    assert process.returncode == 0, f"chromium exited with {process.returncode} on {path}"
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _text(html: str) -> str:
    """The visible text of rendered HTML, whitespace squashed."""
    html = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", " ", html, flags=re.S)
    return _squash(unescape(re.sub(r"<[^>]+>", " ", html)))


def _table_rows(html: str) -> list[list[str]]:
    """The cells' text of every HTML table row."""
    return [
        [_text(cell) for cell in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", row, flags=re.S)]
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", html, flags=re.S)
    ]


@dataclass(frozen=True)
class Box:
    label: str
    x: float


def _graph_boxes(html: str) -> list[Box]:
    """Every labelled box of the rendered SVG graph (asset nodes and group frames), with its x."""
    boxes = []
    for match in re.finditer(r'<foreignObject\b[^>]*\bx="([-\d.]+)"[^>]*>(.*?)</foreignObject>',
                             html, flags=re.S):
        label = _text(match.group(2))
        if label:
            boxes.append(Box(label=label, x=float(match.group(1))))
    return boxes


def _shows(label: str, name: str) -> bool:
    """Whether a node label shows ``name``: zoomed out, the UI elides the middle of long names."""
    if "…" not in label:
        return label == name
    head, tail = label.split("…", 1)
    return len(label) <= len(name) and name.startswith(head) and name.endswith(tail)


def _node_x(boxes: list[Box], name: str) -> float:
    found = [box.x for box in boxes if _shows(box.label, name)]
    assert len(found) == 1, f"{name!r} shown {len(found)} times among {[b.label for b in boxes]}"
    return found[0]


@pytest.fixture(scope="module")
def asset_graph(dagster_ui) -> dict[tuple[str, ...], dict]:
    nodes = _post_graphql(dagster_ui.url, LINEAGE_QUERY)["assetNodes"]
    return {
        tuple(node["assetKey"]["path"]): {
            "deps": {tuple(dep["path"]) for dep in node["dependencyKeys"]},
            "group": node["groupName"],
        }
        for node in nodes
    }


def _path_between(graph: dict, source: tuple, target: tuple) -> list[tuple]:
    """A dependency path from source to target (breadth-first on upstream edges), or []."""
    came_from = {target: None}
    frontier = [target]
    while frontier:
        key = frontier.pop(0)
        if key == source:
            path = [key]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])
            return path
        for parent in sorted(graph.get(key, {}).get("deps", ())):
            if parent not in came_from:
                came_from[parent] = key
                frontier.append(parent)
    return []


def _ancestors(graph: dict, key: tuple) -> set[tuple]:
    seen, frontier = set(), [key]
    while frontier:
        for parent in graph[frontier.pop()]["deps"]:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def test_graphql_lineage_runs_from_articles_to_cross_trial_mart(asset_graph):
    path = _path_between(asset_graph, SOURCE, TARGET)
    assert path, f"no dependency path from {SOURCE} to {TARGET}"
    assert path[0] == SOURCE and path[-1] == TARGET
    groups_on_path = [asset_graph[key]["group"] for key in path]
    assert groups_on_path[0] == "ingest" and groups_on_path[-1] == "marts"
    assert "core" in groups_on_path


def test_global_lineage_page_shows_every_group(dagster_ui):
    dom = _chromium(dagster_ui, "/asset-groups", "--dump-dom")
    labels = {box.label for box in _graph_boxes(dom)}
    missing = [group for group in GROUPS if group not in labels]
    assert not missing, f"groups not drawn on the global lineage page: {missing}; saw {labels}"


@pytest.fixture(scope="module")
def lineage_page(dagster_ui) -> tuple[str, Path]:
    """The upstream lineage page of the cross-trial mart: its rendered DOM and a screenshot."""
    shot = dagster_ui.workdir / "lineage.png"
    page = "/assets/{}/{}?view=lineage&lineageScope=upstream&lineageDepth=100".format(*TARGET)
    dom = _chromium(dagster_ui, page, "--dump-dom", f"--screenshot={shot}")
    print(f"lineage screenshot: {shot}")
    return dom, shot


def test_upstream_lineage_of_cross_trial_mart_is_drawn_left_to_right(lineage_page, asset_graph):
    """Every ancestor of the mart is drawn, raw/articles among them, each dependency to the left
    of the asset that reads it, inside the frames of their groups."""
    boxes = _graph_boxes(lineage_page[0])
    shown = {key: _node_x(boxes, key[-1]) for key in _ancestors(asset_graph, TARGET) | {TARGET}}
    assert SOURCE in shown
    for key, x in shown.items():
        for parent in asset_graph[key]["deps"]:
            assert shown[parent] < x, f"{parent} is not drawn left of {key}"
    drawn_groups = {box.label for box in boxes} & set(GROUPS)
    assert {"ingest", "extract", "core", "marts"} <= drawn_groups


def test_screenshot_of_the_lineage_is_a_picture(lineage_page):
    with Image.open(lineage_page[1]) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    # A page that failed to render is one flat colour; the graph has text, boxes and edges.
    assert len(colours) > 50


def test_core_asset_page_shows_description_group_kinds_and_columns(dagster_ui):
    """What the definitions say about core.effect_estimates is what a reader sees on its page."""
    answer = _post_graphql(dagster_ui.url, CORE_ASSET_QUERY, {"path": list(CORE_ASSET)})["assetNodes"]
    assert len(answer) == 1, answer
    node = answer[0]
    schemas = [entry["schema"] for entry in node["metadataEntries"] if "schema" in entry]
    assert len(schemas) == 1, node["metadataEntries"]
    columns = schemas[0]["columns"]
    assert columns

    dom = _chromium(dagster_ui, "/assets/{}/{}".format(*CORE_ASSET), "--dump-dom")
    page = _text(dom)
    for text in (_squash(node["description"]), f"Group {node['groupName']}"):
        assert text in page, f"{text!r} not on the page of {CORE_ASSET}"
    assert all(kind.lower() in page.lower() for kind in node["kinds"]), node["kinds"]

    rows = {cells[0]: cells[-1] for cells in _table_rows(dom) if len(cells) > 1}
    wrong = {col["name"]: rows.get(col["name"]) for col in columns
             if rows.get(col["name"]) != _squash(col["description"])}
    assert not wrong, f"columns not shown with their descriptions (shown instead): {wrong}"
