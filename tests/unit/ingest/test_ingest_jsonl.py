"""JSON Lines: one article per line; a bad line is reported by number and the rest still ingest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipelines.ingest.readers import read_file


def line(**item) -> str:
    return json.dumps(item)


def test_good_and_bad_lines_are_each_accounted_for(root: Path, write, codes) -> None:
    lines = [
        line(text="First made-up report: HR 0.80.", title="One", published="2022-05-01",
             trial="ALPHA", nct_id="NCT00000001", section="news"),
        "",
        '{"text": "broken line',
        line(title="no text key"),
        line(text=42),
        line(text="   "),
        "[1, 2, 3]",
        line(text="Second made-up report:\r\nline two.", url="https://example.org/2"),
    ]
    path = write(root, "batch.jsonl", "\n".join(lines) + "\n")

    result = read_file(path, root)

    first, second = result.articles
    assert (first.article_id, second.article_id) == ("batch.jsonl#1", "batch.jsonl#8")
    assert first.source_format == "jsonl"
    assert first.text == "First made-up report: HR 0.80."
    assert (first.title, first.trial_hint, first.nct_id_hint) == ("One", "ALPHA", "NCT00000001")
    assert first.published_on == dt.date(2022, 5, 1)
    assert first.meta["section"] == "news"
    assert "text" not in first.meta
    assert second.text == "Second made-up report:\nline two."
    assert second.url == "https://example.org/2"
    assert codes(result) == ["bad_json_line"] * 3 + ["empty", "bad_json_line"]
    lines_named = [error.detail.split(":")[1].strip() for error in result.errors]
    assert lines_named == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert all(error.detail.startswith("batch.jsonl: ") for error in result.errors)


def test_windows_line_endings_between_records(root: Path, write) -> None:
    path = write(root, "crlf.jsonl", line(text="Alpha.") + "\r\n" + line(text="Beta.") + "\r\n")

    result = read_file(path, root)

    assert [a.text for a in result.articles] == ["Alpha.", "Beta."]
    assert result.errors == []


def test_sidecar_gives_defaults_that_a_line_can_override(root: Path, write) -> None:
    write(root, "feed.meta.json", json.dumps({"outlet": "Feed Outlet", "trial": "BETA"}))
    content = line(text="One.") + "\n" + line(text="Two.", trial="GAMMA") + "\n"
    path = write(root, "feed.jsonl", content)

    one, two = read_file(path, root).articles

    assert (one.outlet, one.trial_hint) == ("Feed Outlet", "BETA")
    assert (two.outlet, two.trial_hint) == ("Feed Outlet", "GAMMA")


def test_repeated_text_within_a_file_is_kept_once(root: Path, write, codes) -> None:
    content = "\n".join([line(text="Same."), line(text="Other."), line(text="Same.")])
    path = write(root, "dup.jsonl", content)

    result = read_file(path, root)

    assert [a.article_id for a in result.articles] == ["dup.jsonl#1", "dup.jsonl#2"]
    assert codes(result) == ["duplicate"]
    assert result.errors[0].detail == "dup.jsonl#3: same text as dup.jsonl#1, which is kept"


def test_unpaired_surrogate_is_a_bad_line(root: Path, write, codes) -> None:
    path = write(root, "odd.jsonl", '{"text": "lone \\ud800 half"}\n' + line(text="Fine.") + "\n")

    result = read_file(path, root)

    assert [a.text for a in result.articles] == ["Fine."]
    assert codes(result) == ["bad_json_line"]
