"""Batches over a process pool: same results as one process, in order, reading input lazily."""

from __future__ import annotations

import itertools
import json

from pipelines import parallel
from pipelines.extraction import extract
from pipelines.ingest.readers import read_source, scan_folder
from pipelines.parallel import extract_article, extract_many, map_in_batches
from tests.synthetic.generator import generate, write_corpus


def _square_all(batch: list[int]) -> list[int]:
    return [n * n for n in batch]


def test_the_pool_gives_what_one_process_gives_in_input_order():
    numbers = list(range(1000))
    assert list(map_in_batches(_square_all, numbers, workers=2)) == [n * n for n in numbers]
    assert list(map_in_batches(_square_all, numbers, workers=1)) == [n * n for n in numbers]
    assert list(map_in_batches(_square_all, [], workers=2)) == []


def test_input_is_read_only_a_few_batches_ahead_of_the_output():
    taken = 0

    def endless():
        nonlocal taken
        for n in itertools.count():
            taken += 1
            if taken > 100_000:
                raise AssertionError("the whole input was read before any output")
            yield n

    out = map_in_batches(_square_all, endless(), workers=2)
    assert list(itertools.islice(out, 5)) == [0, 1, 4, 9, 16]
    ahead = parallel.AHEAD_PER_WORKER * 2 + 2
    assert taken <= max(parallel.PARALLEL_THRESHOLD, ahead * parallel.BATCH_SIZE)
    out.close()


def test_extract_many_on_two_workers_matches_extracting_one_by_one():
    articles = [(a.name, a.text, None) for a in generate(parallel.PARALLEL_THRESHOLD + 30)]
    expected = [(name, *extract_article(name, text, title)) for name, text, title in articles]
    assert list(extract_many(iter(articles), workers=2)) == expected


def test_files_read_and_extracted_on_two_workers_give_what_reading_and_extracting_in_turn_gives(tmp_path):
    paths = write_corpus(tmp_path, parallel.PARALLEL_THRESHOLD + 30)
    (tmp_path / "zz-same-as-first.txt").write_bytes(paths[0].read_bytes())
    scan = scan_folder(tmp_path)
    got = list(parallel.read_json_lines(((source, tmp_path) for source in scan.files), workers=2))
    assert len(got) == len(scan.files) == len(paths) + 1
    for source, (result, lines) in zip(scan.files, got):
        expected = read_source(source, tmp_path)
        assert result.errors == expected.errors
        assert [a.article_id for a in result.articles] == [a.article_id for a in expected.articles]
        assert [a.content_sha256 for a in result.articles] == [a.content_sha256 for a in expected.articles]
        assert all(a.text == "" for a in result.articles)
        for article in expected.articles:
            records = [json.loads(line) for line in lines[article.article_id].splitlines()]
            assert records == [{**r, "article": article.article_id}
                               for r in extract(article.text, article=article.article_id)]
