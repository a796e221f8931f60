"""Security: article content never runs as code or SQL, links never lead out of the folder, the UI stays local."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.ops.helpers import DEMO_ARTICLES, PROJECT, query, run_trialfx

SQL_PAYLOAD = "'); drop table core.trials; --"
SQL_NAME = "x'); drop table core.trials; --.txt"
SECRET = "zqxsecretmarker: this text lives outside the articles folder"
BODY = (
    "The phase 3 ORCHID-{n} trial randomized 500 patients to drug {drug} or placebo. Drug {drug} "
    "improved progression-free survival (hazard ratio, 0.7{n}; 95% CI, 0.60 to 0.90; P = 0.003).\n"
)


def _body(n: int, extra: str = "") -> str:
    return BODY.format(n=n, drug="KX" + str(n)) + extra


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("security")
    articles, outside = root / "articles", root / "outside"
    articles.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n" + _body(9), encoding="utf-8")
    pwned = [root / "PWNED-apply", root / "PWNED-new"]
    texts = {
        "yaml-apply.md": _body(1),
        "yaml-new.md": _body(2),
        SQL_NAME: _body(3, f"A reader wrote {SQL_PAYLOAD} and \"quoted\" \\ text; select 1;\n"),
        "sql-title.md": _body(4, f"Patients aged {SQL_PAYLOAD} were excluded.\n"),
        "wire.jsonl#1": _body(5, SQL_PAYLOAD + "\n"),
        "traversal.md": (
            "In this randomized study, 300 patients received drug LZ or placebo. Drug LZ improved "
            "overall survival (hazard ratio, 0.66; 95% CI, 0.51 to 0.85; P = 0.001).\n"
        ),
    }
    (articles / "yaml-apply.md").write_text(
        f'---\ntitle: !!python/object/apply:os.system ["touch {pwned[0]}"]\n---\n' + texts["yaml-apply.md"],
        encoding="utf-8")
    (articles / "yaml-new.md").write_text(
        f"---\ntitle: !!python/object/new:subprocess.check_output [[touch, {pwned[1]}]]\n---\n"
        + texts["yaml-new.md"], encoding="utf-8")
    (articles / SQL_NAME).write_text(texts[SQL_NAME], encoding="utf-8")
    (articles / "sql-title.md").write_text(
        f"---\ntitle: {json.dumps(SQL_PAYLOAD)}\noutlet: {json.dumps(SQL_PAYLOAD + ' outlet')}\n---\n"
        + texts["sql-title.md"], encoding="utf-8")
    (articles / "wire.jsonl").write_text(
        json.dumps({"text": texts["wire.jsonl#1"], "title": SQL_PAYLOAD, "url": "javascript:alert(1)"}) + "\n",
        encoding="utf-8")
    (articles / "traversal.md").write_text(
        "---\nnct_id: ../../../../escaped-nct\n---\n" + texts["traversal.md"],
        encoding="utf-8")
    # Demo articles of three trials sharing a subgroup, so the cross-trial mart has rows.
    for name in ("01-ember3-2mm.txt", "01-ember3-2mm.meta.json", "05-emerald-onclive.md",
                 "06-veritac2-onclive.md"):
        shutil.copyfile(DEMO_ARTICLES / name, articles / name)
    os.symlink(outside / "secret.txt", articles / "escape.txt")
    os.symlink(outside, articles / "linked")

    before = sorted(p for p in root.rglob("*") if "wh" not in p.relative_to(root).parts)
    warehouse = root / "wh" / "trialfx.duckdb"
    run_trialfx(articles, warehouse)
    after = sorted(p for p in root.rglob("*") if "wh" not in p.relative_to(root).parts)
    return {"root": root, "warehouse": warehouse, "pwned": pwned, "texts": texts,
            "files_before": before, "files_after": after}


def _errors(warehouse: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path, error in query(warehouse, "select source_path, error from raw.ingest_errors"):
        found.setdefault(path, set()).add(error)
    return found


@pytest.mark.slow
def test_yaml_front_matter_constructs_no_objects(attacked):
    for marker in attacked["pwned"]:
        assert not marker.exists(), f"front matter ran a command: {marker} exists"
    errors = _errors(attacked["warehouse"])
    rows = dict(query(attacked["warehouse"], "select article_id, title from raw.articles"))
    for name in ("yaml-apply.md", "yaml-new.md"):
        assert "bad_front_matter" in errors.get(name, set()), f"{name}: refused tag not reported"
        assert name in rows and rows[name] is None, f"{name}: body not ingested, or a title was made up"


@pytest.mark.slow
def test_sql_looking_content_is_stored_verbatim_and_runs_nowhere(attacked):
    warehouse = attacked["warehouse"]
    stored = {r[0]: r[1:] for r in query(warehouse, "select article_id, text, title, outlet, url from raw.articles")}
    for article_id, text in attacked["texts"].items():
        assert article_id in stored, f"{article_id} not ingested"
        assert stored[article_id][0] == text, f"{article_id}: text changed on its way into raw.articles"
    assert stored["sql-title.md"][1:3] == (SQL_PAYLOAD, SQL_PAYLOAD + " outlet")
    assert stored["wire.jsonl#1"][1:] == (SQL_PAYLOAD, None, "javascript:alert(1)")

    assert query(warehouse, "select count(*) from core.trials")[0][0] > 0
    tables = {r[0] for r in query(warehouse, "select schema_name || '.' || table_name from duckdb_tables()")}
    assert {"core.trials", "core.effect_estimates", "raw.articles", "marts.subgroup_vs_overall"} <= tables
    # The payload's article carries figures of its own: they reach core under its verbatim id.
    assert query(warehouse, "select count(*) from core.effect_estimates where article_id = ?", [SQL_NAME])[0][0] > 0


@pytest.mark.slow
def test_links_out_of_the_articles_folder_are_not_followed(attacked):
    warehouse = attacked["warehouse"]
    errors = _errors(warehouse)
    assert "outside_root" in errors.get("escape.txt", set())
    assert "outside_root" in errors.get("linked", set())
    leaked = query(warehouse, "select article_id from raw.articles where text like ?", ["%zqxsecretmarker%"])
    assert not leaked, f"text from outside the folder was ingested: {leaked}"


@pytest.mark.slow
def test_paths_named_in_articles_write_nothing_outside_the_warehouse_folder(attacked):
    assert attacked["files_after"] == attacked["files_before"], "the run wrote files beside its folders"
    wh = attacked["warehouse"].parent
    written = [p for p in wh.rglob("*") if p.is_file()]
    safe_name = re.compile(r"^[a-z0-9_.-]+$")
    odd = [p for p in written if not safe_name.match(p.name) or not p.resolve().is_relative_to(wh.resolve())]
    assert written and not odd, f"files named from article content in the warehouse folder: {odd}"
    # A path-like trial number is not an NCT number, so it never becomes a trial id (nor a file name).
    trial_ids = [r[0] for r in query(attacked["warehouse"], "select distinct trial_id from core.effect_estimates")]
    assert not [t for t in trial_ids if t and ("/" in t or ".." in t)], trial_ids
    assert not list(attacked["root"].parent.glob("**/escaped-*"))


def _make_recipe(target: str) -> list[str]:
    lines = (PROJECT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^{target}\s*:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_ui_binds_the_webserver_to_localhost():
    (command,) = [shlex.split(line) for line in _make_recipe("ui") if "dagster" in line and " dev" in line]
    hosts = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg in ("-h", "--host")]
    assert hosts == ["127.0.0.1"], f"`make ui` binds {hosts or 'the default host'}"
    assert "0.0.0.0" not in " ".join(command)
