"""Fixtures for the ingest tests: a private articles folder, a file writer, an error-code lister."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty articles folder of this test's own."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.fixture
def write() -> Callable[[Path, str, str | bytes], Path]:
    """write(folder, name, content): text as UTF-8, bytes as given; creates subfolders."""
    return _write


@pytest.fixture
def codes() -> Callable:
    """codes(result): the error codes of an IngestResult, in order."""
    return lambda result: [error.error for error in result.errors]
