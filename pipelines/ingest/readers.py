"""Public entry points of ingest: article files and folders to Article records and error rows.

Decisions beyond the contract, so callers know what to expect:
- Every file is either article(s) or error row(s); some give both. Caveats that do not stop a
  file are error rows too (WARNING_CODES): `decoded_as_cp1252` (not UTF-8, read as cp1252),
  `bad_front_matter` (text ingested from after the block, without its metadata), `bad_sidecar`
  (article ingested without the sidecar's metadata).
- Multi-article formats always number their records, even a file holding one:
  `a.jsonl#3` is the record on line 3, `b.xml#2` the second PubmedArticle.
- Metadata precedence: what the author wrote in the file (front matter, JSONL keys) beats the
  sidecar, which beats what is derived from publisher markup (HTML meta tags, PubMed fields).
  Dates are never completed: a PubMed PubDate without a day falls back to the ArticleDate, else
  `published_on` stays None (the date as written is kept in `meta["pub_date"]`).
- HTML: when a page has several <article> elements, the longest is the story (the others are
  usually teaser cards); a <form> wrapping the whole story is not dropped as boilerplate.
- Links that stay inside the root are followed (a copy reached twice is a `duplicate`); a folder
  link back into its own path, or a file link loop, is `symlink_loop`.
- Other error codes: `unsupported_type`, `not_a_file`, `unreadable`, `outside_root`,
  `symlink_loop`, `too_large`, `binary`, `not_utf8_text`, `empty`, `bad_xml`,
  `unsafe_xml` (declares entities), `unsupported_xml`, `bad_json_line`, `duplicate`,
  `orphan_sidecar` (NAME.meta.json with no NAME.txt, NAME.md, ... beside it), `reader_failed`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.decoding import decode_text, read_limited
from pipelines.ingest.html_text import read_html
from pipelines.ingest.jsonl import read_jsonl
from pipelines.ingest.metadata import (
    article_fields,
    load_sidecar,
    merge_metadata,
    split_front_matter,
)
from pipelines.ingest.parsed import Parsed, Problem, Record, Refused
from pipelines.ingest.pubmed import read_pubmed

DEFAULT_MAX_BYTES = 5_000_000
# Bump whenever what a file reads as could change: reruns then read every file again.
READER_VERSION = "1"
_FORMATS = {
    ".txt": "txt", ".md": "md", ".html": "html", ".htm": "html",
    ".xml": "pubmed_xml", ".jsonl": "jsonl",
}
SUPPORTED_SUFFIXES = tuple(_FORMATS)
SIDECAR_SUFFIX = ".meta.json"
# Error codes whose file still yields its article(s): a caveat to record, not a failure.
WARNING_CODES = frozenset({"decoded_as_cp1252", "bad_front_matter", "bad_sidecar"})
_MAX_SIDECAR_BYTES = 1_000_000
_MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Article:
    """One article as read: the text the extractor sees, its hash, and its metadata."""

    article_id: str
    source_path: str
    source_format: str
    title: str | None
    url: str | None
    outlet: str | None
    published_on: dt.date | None
    text: str
    content_sha256: str
    trial_hint: str | None
    nct_id_hint: str | None
    meta: dict


@dataclass(frozen=True)
class IngestError:
    """A file or record that could not be ingested (or was ingested with a caveat)."""

    source_path: str
    error: str
    detail: str


@dataclass
class IngestResult:
    """Articles and error rows from one file or folder."""

    articles: list[Article] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)


def read_file(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> IngestResult:
    """Read one article file (and its sidecar) found under `root`; never raises on bad input."""
    result = _read(_absolute(path), _absolute(root), max_bytes)
    return drop_duplicates(result, {})


@dataclass(frozen=True)
class SourceFile:
    """An article file found by a folder scan, with a signature that changes when it or its sidecar does.

    ``scanned`` says that ``link`` and ``sidecar`` hold what the scan saw, so reading need not look
    again: whether the entry was a link (a link is resolved and checked to stay inside the root), and
    the path of the sidecar beside it (None when there was none). A file named without a scan has
    both looked up when it is read.
    """

    path: str
    source_path: str
    signature: str
    scanned: bool = False
    link: bool = True
    sidecar: str | None = None


@dataclass
class FolderScan:
    """What a walk of the articles folder finds, without reading any article."""

    files: list[SourceFile] = field(default_factory=list)
    # Problems the walk itself finds: folders that cannot be listed, bad links, orphan sidecars.
    errors: list[IngestError] = field(default_factory=list)


def scan_folder(root: Path) -> FolderScan:
    """Every visible article file under `root` in walk order (sorted names, depth first), with
    its signature; costs one stat per file, so a rerun can read only what changed."""
    root = _absolute(root)
    scan = FolderScan()
    if not root.is_dir():
        cause = "not a folder (missing, or a file)"
        scan.errors.append(_error(root.as_posix(), "unreadable", cause))
        return scan
    real_root = root.resolve()
    # Plain strings and the listing's own entries from here on: at 100k files, pathlib objects
    # and a second stat per missing sidecar cost seconds of a run that may have nothing to do.
    entries = list(_walk(root, root, real_root, frozenset({real_root})))
    files = {entry.path: entry for entry in entries if not isinstance(entry, IngestError)}
    sidecars = {path: _sidecar_of(path, entry.name) for path, entry in files.items() if not _is_sidecar_name(entry.name)}
    # The sidecar names articles look for; any other NAME.meta.json would go unread.
    wanted = {sidecar for path, sidecar in sidecars.items() if os.path.splitext(path)[1].lower() in _FORMATS}
    root_prefix = len(os.path.join(str(root), ""))
    for entry in entries:
        if isinstance(entry, IngestError):
            scan.errors.append(entry)
        elif entry.path in sidecars:
            sidecar = files.get(sidecars[entry.path])
            signature = f"{_stat_signature(entry)}|{_stat_signature(sidecar) if sidecar else '-'}"
            scan.files.append(SourceFile(entry.path, entry.path[root_prefix:], signature, scanned=True,
                                         link=_is_link(entry), sidecar=sidecar.path if sidecar else None))
        elif entry.path not in wanted:
            cause = "metadata file with no article of a supported type beside it"
            scan.errors.append(_error(entry.path[root_prefix:], "orphan_sidecar", cause))
    return scan


def _sidecar_of(path: str, name: str) -> str:
    """The path of the sidecar an article file would have: NAME.meta.json beside NAME.ext
    (NAME as Path.stem gives it: the name without its last suffix)."""
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name
    return path[: len(path) - len(name)] + stem + SIDECAR_SUFFIX


def read_source(source: SourceFile, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> IngestResult:
    """Read one file a scan found (and its sidecar); never raises on bad input. Duplicates of
    other files' texts are not looked for here (see `drop_duplicates`)."""
    if not source.scanned or source.link:
        return _read(Path(source.path), _absolute(root), max_bytes)
    # A file the scan found, not a link, in a folder the walk kept inside the root: it is inside the
    # root unless it has been replaced by a link since, which opening it without following links
    # tells (then it is read as any other file). Its sidecar is the one the scan saw, or none.
    result = IngestResult()
    source_path = source.source_path
    try:
        source_format = _format_of_name(os.path.basename(source.path))
        data = read_limited(source.path, max_bytes, follow_links=False)
        if data is None:
            return _read(Path(source.path), _absolute(root), max_bytes)
        parsed = _decoded(data, source_format, source_path, result)
    except Refused as exc:
        result.errors.append(_error(source_path, exc.code, exc.cause))
        return result
    sidecar = {} if source.sidecar is None else _read_sidecar_at(Path(source.sidecar), _absolute(root), result)
    return _records(parsed, source_path, source_format, sidecar, result)


def ingest_folder(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> IngestResult:
    """Read every visible file under `root` in walk order; identical texts are kept once."""
    scan = scan_folder(root)
    result = IngestResult(errors=list(scan.errors))
    seen: dict[str, str] = {}
    for source in scan.files:
        one = drop_duplicates(read_source(source, root, max_bytes), seen)
        result.articles.extend(one.articles)
        result.errors.extend(one.errors)
    return result


def _stat_signature(entry: os.DirEntry) -> str:
    """Size and modification time in nanoseconds (links followed), or '-' when the stat fails."""
    try:
        info = entry.stat()
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}"


def _walk(
    folder: Path, root: Path, real_root: Path, ancestors: frozenset[Path]
) -> Iterator[os.DirEntry | IngestError]:
    """Visible files below `folder` in sorted order, and error rows for what cannot be walked."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        cause = f"cannot list folder: {exc.strerror or exc}"
        yield _error(_source_path(folder, root), "unreadable", cause)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if _is_folder(entry):
            yield from _walk_linked(Path(entry.path), root, real_root, ancestors)
        else:
            yield entry


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        # A link loop or a denied stat: read as a file, which reports the cause.
        return False


def _walk_linked(
    folder: Path, root: Path, real_root: Path, ancestors: frozenset[Path]
) -> Iterator[os.DirEntry | IngestError]:
    """Walk a subfolder, unless a link takes it outside the root or back into its own path."""
    source = _source_path(folder, root)
    try:
        real = folder.resolve()
    except (OSError, RuntimeError):
        yield _error(source, "symlink_loop", "folder link cannot be resolved")
        return
    if not real.is_relative_to(real_root):
        yield _error(source, "outside_root", f"folder link points outside the root, to {real}")
    elif real in ancestors:
        yield _error(source, "symlink_loop", f"folder link points back to {real}")
    else:
        yield from _walk(folder, root, real_root, ancestors | {real})


def _read(path: Path, root: Path, max_bytes: int) -> IngestResult:
    result = IngestResult()
    source = _source_path(path, root)
    try:
        _check_inside(path, root)
        source_format = _format_of(path)
        parsed = _decoded(read_limited(path, max_bytes), source_format, source, result)
    except Refused as exc:
        result.errors.append(_error(source, exc.code, exc.cause))
        return result
    sidecar = _read_sidecar(path, root, result)
    return _records(parsed, source, source_format, sidecar, result)


def _decoded(data: bytes, source_format: str, source: str, result: IngestResult) -> Parsed:
    """A file's bytes decoded and parsed (raises Refused); a decoding caveat is added to ``result``."""
    content, warning = decode_text(data)
    if warning:
        result.errors.append(_error(source, warning.code, warning.cause))
    if not content.strip():
        raise Refused("empty", "no text (empty or only whitespace)")
    return _parse(source_format, content)


def _records(parsed: Parsed, source: str, source_format: str, sidecar: dict, result: IngestResult) -> IngestResult:
    """A parsed file's articles and problems, added to ``result``."""
    result.errors.extend(_error(source, problem.code, problem.cause) for problem in parsed.problems)
    for record in parsed.records:
        if record.text.strip():
            result.articles.append(_article(record, source, source_format, sidecar))
        else:
            where = "" if record.number is None else f"record {record.number}: "
            result.errors.append(_error(source, "empty", f"{where}no text to ingest"))
    return result


def _read_plain(content: str) -> Parsed:
    """Text and Markdown: optional YAML front matter, then the article text exactly as written."""
    meta, body, problem = split_front_matter(content)
    problems = [Problem("bad_front_matter", problem)] if problem else []
    return Parsed(records=[Record(number=None, text=body, explicit=meta)], problems=problems)


_READERS = {
    "txt": _read_plain, "md": _read_plain, "html": read_html,
    "pubmed_xml": read_pubmed, "jsonl": read_jsonl,
}


def _parse(source_format: str, content: str) -> Parsed:
    try:
        return _READERS[source_format](content)
    except Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop a folder; the row names it
        raise Refused("reader_failed", f"{type(exc).__name__}: {exc}") from None


def _read_sidecar(path: Path, root: Path, result: IngestResult) -> dict:
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not os.path.lexists(sidecar):
        return {}
    return _read_sidecar_at(sidecar, root, result)


def _read_sidecar_at(sidecar: Path, root: Path, result: IngestResult) -> dict:
    source = _source_path(sidecar, root)
    try:
        _check_inside(sidecar, root)
        raw, warning = decode_text(read_limited(sidecar, _MAX_SIDECAR_BYTES))
        if warning:
            result.errors.append(_error(source, warning.code, warning.cause))
        return load_sidecar(raw)
    except Refused as exc:
        code = exc.code if exc.code == "outside_root" else "bad_sidecar"
        result.errors.append(_error(source, code, f"{exc.cause}; its metadata is not used"))
        return {}


def _article(record: Record, source: str, source_format: str, sidecar: dict) -> Article:
    meta = merge_metadata(record.derived, sidecar, record.explicit)
    return Article(
        article_id=source if record.number is None else f"{source}#{record.number}",
        source_path=source,
        source_format=source_format,
        text=record.text,
        content_sha256=hashlib.sha256(record.text.encode("utf-8")).hexdigest(),
        meta=meta,
        **article_fields(meta),
    )


def drop_duplicates(result: IngestResult, seen: dict[str, str]) -> IngestResult:
    """Keep the first article of each text (`seen` maps hash to article id); report the rest."""
    kept = []
    for article in result.articles:
        first = seen.setdefault(article.content_sha256, article.article_id)
        if first == article.article_id:
            kept.append(article)
        else:
            detail = _one_line(f"{article.article_id}: same text as {first}, which is kept")
            result.errors.append(IngestError(article.source_path, "duplicate", detail))
    result.articles = kept
    return result


def _check_inside(path: Path, root: Path) -> None:
    try:
        real, real_root = path.resolve(), _resolved(root)
    except (OSError, RuntimeError):
        raise Refused("symlink_loop", "link cannot be resolved") from None
    if not real.is_relative_to(real_root):
        raise Refused("outside_root", f"resolves outside the root, to {real}")


@functools.lru_cache(maxsize=16)
def _resolved(root: Path) -> Path:
    """The root with links resolved: once per root, not once per file read."""
    return root.resolve()


def _format_of(path: Path) -> str:
    return _format_of_name(path.name)


def _format_of_name(name: str) -> str:
    if _is_sidecar_name(name):
        raise Refused("unsupported_type", "a metadata sidecar, read with its article, not alone")
    # The suffix as Path.suffix gives it: from the last dot, unless the name ends or starts with it.
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    source_format = _FORMATS.get(suffix.lower())
    if source_format is None:
        supported = " ".join(SUPPORTED_SUFFIXES)
        raise Refused("unsupported_type", f"suffix {suffix or '(none)'} is not one of {supported}")
    return source_format


def _is_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return True


def _is_sidecar_name(name: str) -> bool:
    return name.lower().endswith(SIDECAR_SUFFIX)


def _absolute(path: Path) -> Path:
    # abspath, not resolve: ids keep the names the user sees, links included.
    return Path(os.path.abspath(path))


def _source_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _error(source: str, code: str, cause: str) -> IngestError:
    return IngestError(source, code, _one_line(f"{source}: {cause}"))


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_DETAIL_CHARS else line[: _MAX_DETAIL_CHARS - 1] + "…"
