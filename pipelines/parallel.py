"""Per-item work (extracting articles, building core rows) in batches spread over the machine's cores."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from pipelines.extraction import article_facts, extract
from pipelines.ingest.readers import IngestResult, SourceFile, read_source

# Below this many items a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 200
BATCH_SIZE = 100
# Batches handed to the pool ahead of the one being consumed, per worker: enough to keep every
# worker busy, few enough that memory holds a handful of batches, never the whole input.
AHEAD_PER_WORKER = 2
# One encoder for every record: json.dumps with any option set builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)

In = TypeVar("In")
Out = TypeVar("Out")


def map_in_batches(
    work: Callable[[list[In]], list[Out]],
    items: Iterable[In],
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    threshold: int = PARALLEL_THRESHOLD,
) -> Iterator[Out]:
    """``work`` applied to batches of ``items``, results yielded one by one in input order; in
    a process pool when there are ``threshold`` items or more.

    ``items`` is consumed lazily, a few batches ahead of the output, so a stream of any length
    runs in bounded memory. ``work`` must be a module-level function (it is pickled to workers)."""
    items = iter(items)
    workers = workers or os.cpu_count() or 1
    head = list(itertools.islice(items, threshold))
    if workers == 1 or len(head) < threshold:
        for batch in _batches(itertools.chain(head, items), batch_size):
            yield from work(batch)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for batch in _batches(itertools.chain(head, items), batch_size):
            pending.append(pool.submit(work, batch))
            if len(pending) > AHEAD_PER_WORKER * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def extract_article(article_id: str, text: str, title: str | None) -> tuple[dict, list[dict]]:
    """The extractor's article facts and records for one article."""
    return article_facts(text, title=title), extract(text, article=article_id)


def _extract_batch(batch: list[tuple[str, str, str | None]]) -> list[tuple[str, dict, list[dict]]]:
    return [(article_id, *extract_article(article_id, text, title)) for article_id, text, title in batch]


def extract_many(
    items: Iterable[tuple[str, str, str | None]], workers: int | None = None
) -> Iterator[tuple[str, dict, list[dict]]]:
    """Yield ``(article_id, facts, records)`` for each ``(article_id, text, title)``, in input order."""
    return map_in_batches(_extract_batch, items, workers)


def _read_batch(batch: list[tuple[SourceFile, Path]]) -> list[IngestResult]:
    return [read_source(source, root) for source, root in batch]


def read_many(sources: Iterable[SourceFile], root: Path, workers: int | None = None) -> Iterator[IngestResult]:
    """What each file reads as (``read_source``), in input order, read on every core."""
    return map_in_batches(_read_batch, ((source, root) for source in sources), workers)


def _json_lines(article_id: str, text: str) -> str:
    """One article's records as JSON lines, as `trialfx extract` prints them ("" when it has none)."""
    return "".join(_JSON.encode(record) + "\n" for record in extract(text, article=article_id))


def _read_json_lines_batch(batch: list[tuple[SourceFile, Path]]) -> list[tuple[IngestResult, dict[str, str]]]:
    out = []
    for source, root in batch:
        result = read_source(source, root)
        lines = {article.article_id: _json_lines(article.article_id, article.text) for article in result.articles}
        # The texts stay in the worker: the caller needs only ids and hashes, and sending each text
        # back through the pipe would cost as much as reading it.
        result.articles = [dataclasses.replace(article, text="") for article in result.articles]
        out.append((result, lines))
    return out


def read_json_lines(
    sources: Iterable[tuple[SourceFile, Path]], workers: int | None = None
) -> Iterator[tuple[IngestResult, dict[str, str]]]:
    """For each ``(file, root)``, in input order, what it reads as (``read_source``; article texts
    left out) and each article's JSON lines by article id: files are read, extracted and
    serialized on every core, so no core waits for the whole input to be read first."""
    return map_in_batches(_read_json_lines_batch, sources, workers)
