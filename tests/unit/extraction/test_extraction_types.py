"""The extractor's annotations hold: mypy finds no error in pipelines/extraction.

Honest types keep the extractor open to being compiled (mypyc turns every annotation into a
runtime check), and they catch a None reaching arithmetic before an article does."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT


def test_mypy_finds_no_error_in_the_extractor(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "--no-error-summary",
         "pipelines/extraction"],
        capture_output=True, text=True, cwd=PROJECT, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
