"""HTML pages to article text (main content, no boilerplate or scripts) and page metadata."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

from pipelines.ingest.parsed import Parsed, Record

# Content that is not readable text at all: never text, never a title.
_NON_TEXT = frozenset({
    "script", "style", "noscript", "template", "svg", "iframe", "object", "canvas",
})
# Page furniture: left out of the text, though a headline inside <header> still names the page.
# A <form> holding the <article> or <main> is the exception: some sites wrap the whole page in one.
_BOILERPLATE = frozenset({"nav", "header", "footer", "aside", "form"})
_DROPPED = _NON_TEXT | _BOILERPLATE
_BLOCKS = frozenset({
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "section", "article", "main",
    "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "caption", "blockquote",
    "pre", "figure", "figcaption", "hr", "address", "details", "summary", "body",
})
# Table cells sit side by side: a space keeps "0.62</td><td>0.55" from running together.
_CELLS = frozenset({"td", "th"})
# Containers tracked to pick the main content.
_CONTAINERS = ("article", "main", "body")
_BREAK = "\n"
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_SPACES = re.compile(r" {2,}")

_TITLE_KEYS = ("og:title", "twitter:title", "citation_title", "dc.title")
_URL_KEYS = ("og:url", "citation_abstract_html_url", "citation_fulltext_html_url")
_OUTLET_KEYS = ("og:site_name", "citation_journal_title", "application-name", "dc.publisher")
_PUBLISHED_KEYS = (
    "article:published_time", "citation_publication_date", "citation_online_date", "citation_date",
    "dc.date", "dc.date.issued", "date", "pubdate", "publish-date", "datepublished",
    "og:published_time",
)


def read_html(markup: str) -> Parsed:
    """Parse an HTML page into one record: main text plus title/url/outlet/published metadata."""
    parser = _PageParser()
    parser.feed(markup)
    parser.close()
    return Parsed(records=[Record(number=None, text=parser.main_text(), derived=parser.metadata())])


class _Piece(NamedTuple):
    """A run of text (or a break), with the containers it sits in."""

    text: str
    article: int  # which outermost <article> (numbered from 1), 0 for none
    in_main: bool
    in_body: bool
    furniture: tuple[int, ...]  # the boilerplate elements open around it, by number


class _PageParser(HTMLParser):
    """Streams a page into text pieces, each tagged with the containers it sits in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._depth: dict[str, int] = {}
        self._hidden = 0  # open non-text elements; kept apart from _depth as it is asked per piece
        self._pieces: list[_Piece] = []
        self._articles_seen = 0
        self._article = 0
        self._furniture: list[tuple[str, int]] = []
        self._furniture_seen = 0
        self._content_forms: set[int] = set()
        self._title: list[str] = []
        self._title_done = False
        self._h1: list[str] = []
        self._h1_done = False
        self._meta: dict[str, str] = {}
        self._canonical: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self._record_meta(dict(attrs))
        elif tag == "link":
            self._record_link(dict(attrs))
        if tag in _BLOCKS or tag in _DROPPED:
            self._add(_BREAK)
        elif tag in _CELLS:
            self._add(" ")
        if tag == "article" and not self._depth.get(tag):
            self._articles_seen += 1
            self._article = self._articles_seen
        if tag in ("article", "main"):
            self._content_forms.update(number for name, number in self._furniture if name == "form")
        if tag in _BOILERPLATE:
            self._furniture_seen += 1
            self._furniture.append((tag, self._furniture_seen))
        if tag in _NON_TEXT or tag in _CONTAINERS or tag in ("title", "h1"):
            self._depth[tag] = self._depth.get(tag, 0) + 1
            self._hidden += tag in _NON_TEXT

    def handle_endtag(self, tag: str) -> None:
        if self._depth.get(tag):
            self._depth[tag] -= 1
            self._hidden -= tag in _NON_TEXT
            if tag == "h1" and self._h1 and not self._depth[tag]:
                self._h1_done = True
            if tag == "title" and self._title and not self._depth[tag]:
                self._title_done = True
            if tag == "article" and not self._depth[tag]:
                self._article = 0
        if tag in _BOILERPLATE:
            self._close_furniture(tag)
        if tag in _BLOCKS or tag in _DROPPED:
            self._add(_BREAK)
        elif tag in _CELLS:
            self._add(" ")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._depth.get("title"):
            if not self._title_done:
                self._title.append(data)
            return
        if self._depth.get("h1") and not self._h1_done:
            self._h1.append(data)
        self._add(_HTML_SPACE.sub(" ", data))

    def _close_furniture(self, tag: str) -> None:
        for index in range(len(self._furniture) - 1, -1, -1):
            if self._furniture[index][0] == tag:
                del self._furniture[index]
                return

    def _add(self, piece: str) -> None:
        if self._hidden or self._depth.get("title"):
            return
        in_main, in_body = bool(self._depth.get("main")), bool(self._depth.get("body"))
        furniture = tuple(number for _, number in self._furniture)
        self._pieces.append(_Piece(piece, self._article, in_main, in_body, furniture))

    def _record_meta(self, attrs: dict) -> None:
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        content = attrs.get("content")
        if key and content is not None:
            self._meta.setdefault(key.strip().lower(), content.strip())

    def _record_link(self, attrs: dict) -> None:
        rel = (attrs.get("rel") or "").lower().split()
        if "canonical" in rel and attrs.get("href") and self._canonical is None:
            self._canonical = attrs["href"].strip()

    def main_text(self) -> str:
        """The longest <article> (others are often teasers); else <main>, <body> or the page."""
        pieces = [
            piece for piece in self._pieces
            if all(number in self._content_forms for number in piece.furniture)
        ]
        articles: dict[int, list[str]] = {}
        for piece in pieces:
            if piece.article:
                articles.setdefault(piece.article, []).append(piece.text)
        longest = max((_assemble(texts) for texts in articles.values()), key=len, default="")
        if longest:
            return longest
        in_main = _assemble(piece.text for piece in pieces if piece.in_main)
        in_body = _assemble(piece.text for piece in pieces if piece.in_body)
        return in_main or in_body or _assemble(piece.text for piece in pieces)

    def metadata(self) -> dict:
        """Title, url, outlet and published date found in the page head, with every meta tag."""
        found = {
            "title": _squash("".join(self._title)) or _squash("".join(self._h1))
            or self._first_meta(_TITLE_KEYS),
            "url": self._canonical or self._first_meta(_URL_KEYS),
            "outlet": self._first_meta(_OUTLET_KEYS),
            "published": self._first_meta(_PUBLISHED_KEYS),
            "html_meta": dict(self._meta) or None,
        }
        return {key: value for key, value in found.items() if value}

    def _first_meta(self, keys: tuple[str, ...]) -> str | None:
        return next((self._meta[key] for key in keys if self._meta.get(key)), None)


def _assemble(pieces) -> str:
    lines = (_SPACES.sub(" ", line).strip(" ") for line in "".join(pieces).split(_BREAK))
    return "\n".join(line for line in lines if line.strip())


def _squash(text: str) -> str:
    return " ".join(text.split())
