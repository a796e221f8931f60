"""Shared fixtures: project paths, the shared corpus (skipped where absent), demo copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DEMO_ARTICLES = PROJECT / "data" / "articles"
DEMO_GOLD = PROJECT / "tests" / "fixtures" / "demo_gold.jsonl"
CORPUS = PROJECT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "articles").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the project, not in it)")
    return CORPUS


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo articles a test may change."""
    target = tmp_path / "articles"
    shutil.copytree(DEMO_ARTICLES, target)
    return target
