"""Folders: sorted walk, hidden files, sidecars, links, duplicates, and every file accounted for."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from pipelines.ingest import readers
from pipelines.ingest.readers import SUPPORTED_SUFFIXES, ingest_folder

PUBMED = (
    "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>7</PMID><Article>"
    "<ArticleTitle>T</ArticleTitle><Abstract><AbstractText>XML abstract text.</AbstractText>"
    "</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
)


def build_mixed_folder(root: Path, write) -> dict[str, str | None]:
    """Write good and bad files; return each visible path with its expected error (None = ok)."""
    files: dict[str, tuple[str | bytes, str | None]] = {
        "a-news.txt": ("A plain made-up news item.\n", None),
        "b-notes.md": ("---\ntitle: B\n---\nMarkdown body.\n", None),
        "c-page.html": ("<html><body><p>Page text.</p></body></html>", None),
        "d-set.xml": (PUBMED, None),
        "e-feed.jsonl": (json.dumps({"text": "Feed text."}) + "\n{oops\n", "bad_json_line"),
        "f-scan.pdf": (b"%PDF-1.5 ...", "unsupported_type"),
        "g-blob.txt": (b"\x00\x01\x02\x03", "binary"),
        "h-blank.md": ("  \n", "empty"),
        "i-broken.xml": ("<PubmedArticleSet>", "bad_xml"),
        "j-feed.xml": ("<rss/>", "unsupported_xml"),
        "k-copy.txt": ("A plain made-up news item.\n", "duplicate"),
        "nested/deeper/l-story.txt": ("Nested story text.\n", None),
        "m-lonely.meta.json": ("{}", "orphan_sidecar"),
        "f-scan.meta.json": ("{}", "orphan_sidecar"),
        "n-CASE.META.JSON": ("{}", "orphan_sidecar"),
        "n-CASE.txt": ("Sidecar name in other case.\n", None),
    }
    for name, (content, _) in files.items():
        write(root, name, content)
    write(root, ".hidden.txt", "Never read.")
    write(root, ".git/objects/x.txt", "Never read either.")
    write(root, "nested/.cache/y.txt", "Nor this.")
    return {name: expected for name, (_, expected) in files.items()}


def test_every_visible_file_is_an_article_or_an_error(root: Path, write) -> None:
    expected = build_mixed_folder(root, write)

    result = ingest_folder(root)

    accounted = {a.source_path for a in result.articles} | {e.source_path for e in result.errors}
    assert accounted == set(expected)
    for name, code in expected.items():
        assert code is None or code in {e.error for e in result.errors if e.source_path == name}
    ok = {name for name, code in expected.items() if code in (None, "bad_json_line")}
    assert {a.source_path for a in result.articles} == ok
    assert all(error.detail.startswith(error.source_path) for error in result.errors)


def test_articles_come_in_sorted_path_order(root: Path, write) -> None:
    build_mixed_folder(root, write)

    ids = [article.article_id for article in ingest_folder(root).articles]

    assert ids == [
        "a-news.txt", "b-notes.md", "c-page.html", "d-set.xml#1", "e-feed.jsonl#1",
        "n-CASE.txt", "nested/deeper/l-story.txt",
    ]


def test_duplicate_names_the_first_file_in_sorted_order(root: Path, write) -> None:
    write(root, "z-last.txt", "Shared made-up text.")
    write(root, "a-first/story.md", "Shared made-up text.")

    result = ingest_folder(root)

    assert [a.article_id for a in result.articles] == ["a-first/story.md"]
    [error] = result.errors
    assert (error.source_path, error.error) == ("z-last.txt", "duplicate")
    assert "a-first/story.md" in error.detail


def test_links_never_lead_outside_the_root(tmp_path: Path, root: Path, write) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.txt", "Outside text.")
    (root / "file-link.txt").symlink_to(outside / "secret.txt")
    (root / "folder-link").symlink_to(outside, target_is_directory=True)
    (root / "loop").mkdir()
    (root / "loop" / "back").symlink_to(root / "loop", target_is_directory=True)
    write(root, "real/inside.txt", "Inside text.")
    (root / "alias.txt").symlink_to(root / "real" / "inside.txt")

    result = ingest_folder(root)

    assert all("Outside" not in article.text for article in result.articles)
    assert {(e.source_path, e.error) for e in result.errors} == {
        ("file-link.txt", "outside_root"),
        ("folder-link", "outside_root"),
        ("loop/back", "symlink_loop"),
        ("real/inside.txt", "duplicate"),
    }
    assert [a.article_id for a in result.articles] == ["alias.txt"]


def test_file_link_loop_and_outside_sidecar_are_reported(tmp_path: Path, root: Path, write) -> None:
    (root / "ping.txt").symlink_to(root / "pong.txt")
    (root / "pong.txt").symlink_to(root / "ping.txt")
    write(tmp_path, "private.json", '{"title": "Outside"}')
    write(root, "story.txt", "Made-up story.")
    (root / "story.meta.json").symlink_to(tmp_path / "private.json")

    result = ingest_folder(root)

    assert [(a.article_id, a.title) for a in result.articles] == [("story.txt", None)]
    assert [(e.source_path, e.error) for e in result.errors] == [
        ("ping.txt", "symlink_loop"),
        ("pong.txt", "symlink_loop"),
        ("story.meta.json", "outside_root"),
    ]


def test_missing_root_is_an_error_not_an_exception(tmp_path: Path, codes) -> None:
    result = ingest_folder(tmp_path / "nowhere")

    assert result.articles == []
    assert codes(result) == ["unreadable"]


def test_a_reader_crash_is_contained_to_its_file(
    root: Path, monkeypatch: pytest.MonkeyPatch, write
) -> None:
    def crash(_content: str):
        raise KeyError("unexpected")

    monkeypatch.setitem(readers._READERS, "html", crash)
    write(root, "page.html", "<p>Made-up page.</p>")
    write(root, "note.txt", "Made-up note.")

    result = ingest_folder(root)

    assert [a.article_id for a in result.articles] == ["note.txt"]
    assert [(e.source_path, e.error) for e in result.errors] == [("page.html", "reader_failed")]


def test_reading_twice_gives_the_same_result(root: Path, write) -> None:
    build_mixed_folder(root, write)

    assert ingest_folder(root) == ingest_folder(root)


def test_suffixes_are_matched_case_insensitively(root: Path, write) -> None:
    for index, suffix in enumerate(SUPPORTED_SUFFIXES):
        content = PUBMED if suffix == ".xml" else json.dumps({"text": f"Item {index}."})
        write(root, f"item{index}{suffix.upper()}", content)

    result = ingest_folder(root)

    assert result.errors == []
    assert len(result.articles) == len(SUPPORTED_SUFFIXES)


@pytest.mark.corpus
def test_corpus_articles_ingest_exactly_as_saved(corpus_dir: Path) -> None:
    folder = corpus_dir / "articles"

    result = ingest_folder(folder)

    assert result.errors == []
    texts = sorted(folder.glob("*.txt"))
    assert [a.source_path for a in result.articles] == [path.name for path in texts]
    for article, path in zip(result.articles, texts):
        assert article.text == path.read_text(encoding="utf-8")
        sidecar = json.loads(path.with_name(path.stem + ".meta.json").read_text(encoding="utf-8"))
        assert article.trial_hint == sidecar["trial"]
        assert article.outlet == sidecar["outlet"]


def test_a_scanned_file_reads_as_it_does_without_the_scan(tmp_path: Path, root: Path, write) -> None:
    # Reading a file the scan found skips what the scan already saw (links, the sidecar beside it);
    # the result must be what reading it from its path alone gives.
    build_mixed_folder(root, write)
    write(root, "o-story.txt", "Made-up story with metadata.")
    write(root, "o-story.meta.json", '{"title": "O", "outlet": "Made-up Outlet"}')
    write(root, "p-story.txt", "Made-up story with a broken sidecar.")
    write(root, "p-story.meta.json", "{not json")
    write(tmp_path, "outside/secret.txt", "Outside text.")
    (root / "q-link.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "r-alias.txt").symlink_to(root / "o-story.txt")
    (root / "s-dangling.txt").symlink_to(root / "missing.txt")
    (root / "t-fifo.txt").unlink(missing_ok=True)
    os.mkfifo(root / "t-fifo.txt")

    scan = readers.scan_folder(root)

    links = {source.source_path for source in scan.files if source.link}
    assert links == {"q-link.txt", "r-alias.txt", "s-dangling.txt"}
    with_sidecars = [source.source_path for source in scan.files if source.sidecar]
    assert with_sidecars == ["f-scan.pdf", "o-story.txt", "p-story.txt"]
    for source in scan.files:
        unscanned = dataclasses.replace(source, scanned=False, link=True, sidecar=None)
        assert readers.read_source(source, root) == readers.read_source(unscanned, root), source.source_path


def test_a_file_made_a_link_after_the_scan_is_checked_again(tmp_path: Path, root: Path, write) -> None:
    write(tmp_path, "outside/secret.txt", "Outside text.")
    write(root, "story.txt", "Made-up story.")
    [source] = readers.scan_folder(root).files
    assert not source.link
    (root / "story.txt").unlink()
    (root / "story.txt").symlink_to(tmp_path / "outside" / "secret.txt")

    result = readers.read_source(source, root)

    assert result.articles == []
    assert [(e.source_path, e.error) for e in result.errors] == [("story.txt", "outside_root")]
