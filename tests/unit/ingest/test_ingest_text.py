"""Plain text and Markdown: front matter, sidecars, decoding, size limits and refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from pipelines.ingest.readers import WARNING_CODES, read_file

BODY = "The rollout trial randomised 412 adults; the hazard ratio for relapse was 0.71.\n"


def test_plain_text_is_kept_exactly_with_its_hash(root: Path, write) -> None:
    text = "Line one of a made-up report.\n\n  Indented line, two  spaces kept.\n"
    path = write(root, "notes/report.txt", text)

    result = read_file(path, root)

    assert result.errors == []
    [article] = result.articles
    assert article.article_id == "notes/report.txt"
    assert article.source_path == "notes/report.txt"
    assert article.source_format == "txt"
    assert article.text == text
    assert article.content_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (article.title, article.url, article.published_on, article.trial_hint) == (None,) * 4


def test_front_matter_fills_fields_and_text_starts_after_it(root: Path, write) -> None:
    content = (
        "---\n"
        "title: Rollout trial meets its goal\n"
        "url: https://example.org/rollout\n"
        "outlet: Example Health News\n"
        "published: 2024-03-05\n"
        "trial: ROLLOUT-1\n"
        "nct_id: NCT01234567\n"
        "tags: [oncology, phase 3]\n"
        "---\n" + BODY
    )
    path = write(root, "rollout.md", content)

    [article] = read_file(path, root).articles

    assert article.source_format == "md"
    assert article.text == BODY
    assert content.index(BODY) == len(content) - len(BODY)
    assert article.title == "Rollout trial meets its goal"
    assert article.url == "https://example.org/rollout"
    assert article.outlet == "Example Health News"
    assert article.published_on == dt.date(2024, 3, 5)
    assert (article.trial_hint, article.nct_id_hint) == ("ROLLOUT-1", "NCT01234567")
    assert article.meta["tags"] == ["oncology", "phase 3"]
    json.dumps(article.meta)  # the YAML date must have become a string


def test_published_may_be_a_quoted_string_or_a_timestamp(root: Path, write) -> None:
    quoted = write(root, "a.txt", '---\npublished: "2023-11-30"\n---\nFirst made-up text.\n')
    stamped = write(root, "b.txt", "---\npublished: 2023-12-01T08:30:00Z\n---\nSecond text.\n")
    unusable = write(root, "c.txt", "---\npublished: last spring\n---\nThird text.\n")

    assert read_file(quoted, root).articles[0].published_on == dt.date(2023, 11, 30)
    assert read_file(stamped, root).articles[0].published_on == dt.date(2023, 12, 1)
    [vague] = read_file(unusable, root).articles
    assert vague.published_on is None
    assert vague.meta["published"] == "last spring"


@pytest.mark.parametrize(
    "block",
    [
        "title: [unclosed\n",  # YAML syntax error
        "- just\n- a list\n",  # not a mapping
        "!!python/object/apply:os.getcwd []\n",  # object construction is refused
    ],
)
def test_bad_front_matter_ingests_the_text_and_records_why(
    root: Path, block: str, write, codes
) -> None:
    path = write(root, "bad.md", "---\n" + block + "---\n" + BODY)

    result = read_file(path, root)

    [article] = result.articles
    assert article.text == BODY
    assert article.title is None
    assert codes(result) == ["bad_front_matter"]
    assert result.errors[0].detail.startswith("bad.md: ")


def test_front_matter_alias_bomb_is_refused_quickly(root: Path, write, codes) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write(root, "bomb.md", "---\n" + "\n".join(levels) + "\n---\n" + BODY)

    started = time.perf_counter()
    result = read_file(path, root)

    assert time.perf_counter() - started < 2
    assert codes(result) == ["bad_front_matter"]
    assert result.articles[0].text == BODY


def test_unclosed_front_matter_is_read_as_plain_text(root: Path, write, codes) -> None:
    content = "---\ntitle: never closed\n" + BODY
    path = write(root, "open.txt", content)

    result = read_file(path, root)

    assert result.articles[0].text == content
    assert codes(result) == ["bad_front_matter"]


def test_sidecar_supplies_metadata_and_front_matter_wins(root: Path, write) -> None:
    write(root, "story.meta.json", json.dumps(
        {"title": "Sidecar title", "outlet": "Sidecar Weekly", "trial": "ROLLOUT-1", "topic": "x"}
    ))
    path = write(root, "story.txt", "---\ntitle: Front matter title\n---\n" + BODY)

    result = read_file(path, root)

    assert result.errors == []
    [article] = result.articles
    assert article.title == "Front matter title"
    assert article.outlet == "Sidecar Weekly"
    assert article.trial_hint == "ROLLOUT-1"
    assert article.meta["topic"] == "x"


@pytest.mark.parametrize("sidecar", ["{not json", "[1, 2]", '"a string"'])
def test_bad_sidecar_is_reported_and_the_article_kept(root: Path, sidecar: str, write) -> None:
    write(root, "story.meta.json", sidecar)
    path = write(root, "story.txt", BODY)

    result = read_file(path, root)

    assert [a.text for a in result.articles] == [BODY]
    assert [(e.source_path, e.error) for e in result.errors] == [("story.meta.json", "bad_sidecar")]


def test_line_endings_become_newlines_and_nothing_else_changes(root: Path, write) -> None:
    path = write(root, "mixed.txt", b"one\r\ntwo\rthree\n\tfour  \r\n")

    assert read_file(path, root).articles[0].text == "one\ntwo\nthree\n\tfour  \n"


def test_byte_order_mark_is_dropped(root: Path, write) -> None:
    path = write(root, "bom.md", b"\xef\xbb\xbf---\ntitle: With a BOM\n---\nBody text.\n")

    [article] = read_file(path, root).articles

    assert (article.title, article.text) == ("With a BOM", "Body text.\n")


def test_cp1252_text_is_ingested_with_a_warning_row(root: Path, write, codes) -> None:
    text = "Caf\u00e9 owners in M\u00fcnchen joined the \u201cstudy\u201d \u2013 all 40 of them.\n"
    path = write(root, "latin.txt", text.encode("cp1252"))

    result = read_file(path, root)

    assert [a.text for a in result.articles] == [text]
    assert codes(result) == ["decoded_as_cp1252"]
    assert "decoded_as_cp1252" in WARNING_CODES


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.7\x00\x01\x02binary body", "binary"),
        (bytes(range(1, 9)) * 40 + b"a few letters", "binary"),
        (bytes(range(128, 256)) * 4, "binary"),
        ("UTF-16 text".encode("utf-16"), "not_utf8_text"),
        (b"text with an undefined cp1252 byte \x81 here", "not_utf8_text"),
        (b"", "empty"),
        (b" \n\t\r\n  ", "empty"),
        (b"---\ntitle: Only metadata\n---\n\n", "empty"),
    ],
)
def test_unreadable_content_is_refused_with_its_code(
    root: Path, data: bytes, code: str, write, codes
) -> None:
    path = write(root, "item.txt", data)

    result = read_file(path, root)

    assert result.articles == []
    assert codes(result) == [code]
    assert result.errors[0].detail.startswith("item.txt: ")
    assert "\n" not in result.errors[0].detail


def test_file_over_the_limit_is_refused(root: Path, write, codes) -> None:
    path = write(root, "long.txt", "x" * 101)

    result = read_file(path, root, max_bytes=100)

    assert codes(result) == ["too_large"]
    assert read_file(path, root, max_bytes=101).articles[0].text == "x" * 101


def test_ten_megabyte_file_is_refused_without_being_read(root: Path, codes) -> None:
    path = root / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(11 * 1024 * 1024)  # sparse: costs no disk, but would cost 11 MB to read

    tracemalloc.start()
    try:
        result = read_file(path, root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert codes(result) == ["too_large"]
    assert peak < 1024 * 1024


def test_unsupported_suffix_and_lone_sidecar_are_refused(root: Path, write, codes) -> None:
    pdf = write(root, "paper.pdf", b"%PDF-1.4 not really")
    sidecar = write(root, "paper.meta.json", "{}")

    assert codes(read_file(pdf, root)) == ["unsupported_type"]
    assert codes(read_file(sidecar, root)) == ["unsupported_type"]


def test_fifo_is_refused_without_blocking(root: Path, codes) -> None:
    fifo = root / "pipe.txt"
    os.mkfifo(fifo)

    assert codes(read_file(fifo, root)) == ["not_a_file"]


def test_broken_link_is_unreadable(root: Path, codes) -> None:
    link = root / "gone.txt"
    link.symlink_to(root / "missing.txt")

    assert codes(read_file(link, root)) == ["unreadable"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_file_without_read_permission_is_unreadable(root: Path, write, codes) -> None:
    path = write(root, "locked.txt", BODY)
    path.chmod(0)

    assert codes(read_file(path, root)) == ["unreadable"]


def test_file_outside_the_root_is_refused(tmp_path: Path, root: Path, write, codes) -> None:
    outside = write(tmp_path, "elsewhere.txt", BODY)
    link = root / "inside-looking.txt"
    link.symlink_to(outside)

    assert codes(read_file(outside, root)) == ["outside_root"]
    assert codes(read_file(link, root)) == ["outside_root"]
