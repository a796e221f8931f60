"""Run the extractor over many articles, in batches spread over the machine's cores."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from pipelines.extraction import article_facts, extract

# Below this many articles a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 200
BATCH_SIZE = 100


def extract_article(article_id: str, text: str, title: str | None) -> tuple[dict, list[dict]]:
    """The extractor's article facts and records for one article."""
    return article_facts(text, title=title), extract(text, article=article_id)


def _extract_batch(batch: list[tuple[str, str, str | None]]) -> list[tuple[str, dict, list[dict]]]:
    return [(article_id, *extract_article(article_id, text, title)) for article_id, text, title in batch]


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def extract_many(
    items: Iterable[tuple[str, str, str | None]], workers: int | None = None
) -> Iterator[tuple[str, dict, list[dict]]]:
    """Yield ``(article_id, facts, records)`` for each ``(article_id, text, title)``, in input order."""
    items = list(items)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(items) < PARALLEL_THRESHOLD:
        yield from _extract_batch(items)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for batch_result in pool.map(_extract_batch, _batches(items, BATCH_SIZE)):
            yield from batch_result
