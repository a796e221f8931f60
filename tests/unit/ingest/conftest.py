"""Helpers for the ingest tests: a private articles folder and a writer for small files in it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty articles folder of this test's own."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


def write(root: Path, name: str, content: str | bytes) -> Path:
    """Write `content` (text as UTF-8, bytes as given) to root/name, creating folders."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
    return path


def codes(result) -> list[str]:
    """The error codes of an IngestResult, in order."""
    return [error.error for error in result.errors]
