"""Fixtures of the operations tests: a published demo warehouse built once, and new articles."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.helpers import DEMO_ARTICLES, run_trialfx

# Three short articles about invented trials, so a run over the demo folder plus these publishes
# a state that differs from the demo one in every table a reader counts.
NEW_ARTICLES = {
    "90-northwind2-brief.txt": (
        "Velarib delays progression in NORTHWIND-2\n\n"
        "In the phase 3 NORTHWIND-2 trial (NCT09000001), 512 patients with advanced gastric cancer "
        "were randomly assigned to velarib plus chemotherapy (n = 256) or placebo plus chemotherapy "
        "(n = 256). Velarib lengthened progression-free survival (hazard ratio, 0.68; 95% CI, 0.55 "
        "to 0.84; P < 0.001). Median progression-free survival was 7.9 months with velarib and 5.6 "
        "months with placebo. Overall survival did not differ significantly (hazard ratio, 0.88; "
        "95% CI, 0.70 to 1.10; P = 0.26).\n\n"
        "In patients younger than 65 years, the hazard ratio for progression-free survival was 0.61 "
        "(95% CI, 0.46 to 0.80); in those 65 years or older it was 0.79 (95% CI, 0.58 to 1.07).\n"
    ),
    "91-harbor1-news.md": (
        "---\ntitle: HARBOR-1 meets its primary endpoint\noutlet: Example Oncology Wire\n"
        "published: 2026-03-02\n---\n"
        "Investigators of HARBOR-1, a randomized phase 3 study, enrolled 430 women with hormone "
        "receptor-positive breast cancer and assigned 215 to tolvanib plus endocrine therapy and 215 "
        "to endocrine therapy alone.\n\n"
        "Tolvanib reduced the risk of invasive disease recurrence by 27% (hazard ratio, 0.73; 95% CI, "
        "0.58 to 0.92; P = 0.008).\n"
    ),
    "92-quay3-abstract.txt": (
        "Background: QUAY-3 compared ferolimab with docetaxel in previously treated non-small-cell "
        "lung cancer.\nMethods: 300 patients were randomized 1:1 to ferolimab (n = 150) or docetaxel "
        "(n = 150).\nResults: Overall survival was longer with ferolimab (HR 0.76; 95% CI 0.60-0.96; "
        "p = 0.02). The objective response rate was 24% with ferolimab and 13% with docetaxel.\n"
    ),
}


def add_new_articles(folder: Path) -> list[Path]:
    paths = []
    for name, text in NEW_ARTICLES.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Published:
    """The demo folder (plus a file no reader takes) and the warehouse a first run published from it."""

    articles: Path
    warehouse: Path
    seconds: float

    def copy_to(self, target: Path) -> tuple[Path, Path]:
        """A private copy of the articles and of the published warehouse (reports included)."""
        articles = target / "articles"
        shutil.copytree(self.articles, articles)
        warehouse = target / "wh" / self.warehouse.name
        shutil.copytree(self.warehouse.parent, warehouse.parent, symlinks=True,
                        ignore=shutil.ignore_patterns("*.lock", "*.build", "*.build.wal", "*.build-reports"))
        return articles, warehouse


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory) -> Published:
    root = tmp_path_factory.mktemp("published-demo")
    articles = root / "articles"
    shutil.copytree(DEMO_ARTICLES, articles)
    (articles / "poster.pdf").write_bytes(b"%PDF-1.4 not an article format")
    warehouse = root / "wh" / "trialfx.duckdb"
    started = time.perf_counter()
    run_trialfx(articles, warehouse)
    return Published(articles, warehouse, time.perf_counter() - started)
