"""The compiled extractor: used only when built from the sources as they are, and it gives what they give."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from pipelines.extraction import _compiled
from tests.conftest import CORPUS, PROJECT
from tests.synthetic.generator import write_corpus

# Extracts every article given on the command line, with its facts, as one JSON document;
# also says which build ran (the package's COMPILED flag and where a module came from).
_EXTRACT = """
import json, sys
import pipelines.extraction as pkg
from pipelines.extraction import arms
from pipelines.parallel import extract_article
out = {"compiled": pkg.COMPILED, "module": arms.__file__, "records": []}
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    out["records"].append(extract_article(path, text, None))
print(json.dumps(out, sort_keys=True, default=str))
"""


def _run(paths: list[str], pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TRIALFX_PURE_PYTHON"}
    if pure:
        env["TRIALFX_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, "-c", _EXTRACT, *paths], capture_output=True, text=True,
                          cwd=PROJECT, env=env, timeout=300, check=True)
    return json.loads(done.stdout)


def test_the_hash_follows_every_compiled_source_and_nothing_else(tmp_path):
    for path in _compiled.compiled_modules():
        shutil.copy2(path, tmp_path / path.name)
    before = _compiled.source_hash(tmp_path)
    (tmp_path / "__init__.py").write_text("# the package's own init is not compiled\n")
    (tmp_path / "notes.txt").write_text("not a module")
    assert _compiled.source_hash(tmp_path) == before
    first = _compiled.compiled_modules(tmp_path)[0]
    first.write_text(first.read_text() + "\n")
    assert _compiled.source_hash(tmp_path) != before


def test_without_a_build_of_these_sources_the_plain_modules_run(tmp_path, monkeypatch):
    monkeypatch.setattr(_compiled, "BUILD_ROOT", tmp_path / "none-here")
    path: list[str] = []
    assert _compiled.use_if_current(path) is False
    assert path == []


def test_compiled_and_plain_extractors_give_the_same_records(tmp_path):
    if not _compiled.build_dir().is_dir():
        pytest.skip("no compiled build of the current sources (`make compiled` makes one)")
    folders = [PROJECT / "data" / "articles", CORPUS / "articles"]
    paths = sorted(str(p) for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file())
    paths += [str(p) for p in write_corpus(tmp_path, 300, seed=5)]
    compiled, plain = _run(paths, pure=False), _run(paths, pure=True)
    assert compiled["compiled"] is True and compiled["module"].endswith(".so")
    assert plain["compiled"] is False and plain["module"].endswith(".py")
    assert len(compiled["records"]) == len(paths)
    assert compiled["records"] == plain["records"]
