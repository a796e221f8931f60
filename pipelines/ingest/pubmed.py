"""PubMed XML (PubmedArticleSet) to one record per article: title, abstract, journal, dates, ids."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pipelines.ingest.parsed import Parsed, Problem, Record, Refused

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")
# Entity declarations are how "billion laughs" and external-entity attacks start; PubMed's own
# exports never declare any, so a document that does is refused before parsing.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_LINE_BREAK_RUN = re.compile(r"[ \t]*\n\s*")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def read_pubmed(xml_text: str) -> Parsed:
    """Parse a PubmedArticleSet into one record per PubmedArticle (or PubmedBookArticle)."""
    if _ENTITY_DECLARATION.search(xml_text):
        raise Refused("unsafe_xml", "declares XML entities (<!ENTITY); refused without parsing")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise Refused("bad_xml", f"malformed XML: {exc}") from None
    if root.tag in _RECORD_TAGS:
        entries = [root]
    elif root.tag == "PubmedArticleSet":
        entries = [child for child in root if child.tag in _RECORD_TAGS]
    else:
        raise Refused("unsupported_xml", f"root element <{root.tag}> is not a PubmedArticleSet")
    if not entries:
        raise Refused("empty", "PubmedArticleSet holds no PubmedArticle")
    parsed = Parsed()
    for number, entry in enumerate(entries, start=1):
        _read_entry(number, entry, parsed)
    return parsed


def _read_entry(number: int, entry: ET.Element, parsed: Parsed) -> None:
    derived = _entry_metadata(entry)
    text = abstract_text(entry.find(".//Abstract"))
    if text:
        parsed.records.append(Record(number=number, text=text, derived=derived))
    else:
        pmid = derived.get("pmid", "unknown")
        cause = f"record {number} (PMID {pmid}) has no abstract text"
        parsed.problems.append(Problem("empty", cause))


def abstract_text(abstract: ET.Element | None) -> str:
    """Each AbstractText a paragraph, prefixed by its Label; paragraphs split by a blank line."""
    if abstract is None:
        return ""
    paragraphs = []
    for part in abstract.iter("AbstractText"):
        body = _element_text(part)
        if not body:
            continue
        label = (part.get("Label") or "").strip()
        paragraphs.append(f"{label}: {body}" if label else body)
    return "\n\n".join(paragraphs)


def _entry_metadata(entry: ET.Element) -> dict:
    pmid = _element_text(entry.find(".//PMID"))
    journal = entry.find(".//Journal")
    pub_date = entry.find(".//Journal/JournalIssue/PubDate")
    if pub_date is None:
        pub_date = entry.find(".//PubDate")
    found = {
        "title": _element_text(entry.find(".//ArticleTitle"))
        or _element_text(entry.find(".//BookTitle")),
        "url": PUBMED_URL.format(pmid=pmid) if pmid else None,
        "outlet": _element_text(journal.find("Title")) if journal is not None else None,
        "published": _full_date(pub_date) or _full_date(entry.find(".//ArticleDate")),
        "pmid": pmid,
        "doi": _article_id(entry, "doi"),
        "pmcid": _article_id(entry, "pmc"),
        "journal_abbreviation": _element_text(entry.find(".//Journal/ISOAbbreviation")),
        "pub_date": _date_as_written(pub_date),
    }
    return {key: value for key, value in found.items() if value}


def _full_date(element: ET.Element | None) -> str | None:
    """YYYY-MM-DD when the element gives year, month and day; partial dates give None."""
    if element is None:
        return None
    year, month, day = (_element_text(element.find(name)) for name in ("Year", "Month", "Day"))
    month_number = _month_number(month)
    if not (year.isdigit() and month_number and day.isdigit()):
        return None
    return f"{int(year):04d}-{month_number:02d}-{int(day):02d}"


def _month_number(month: str) -> int | None:
    if month.isdigit():
        return int(month) if 1 <= int(month) <= 12 else None
    return _MONTHS.get(month[:3].lower())


def _date_as_written(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    medline = _element_text(element.find("MedlineDate"))
    parts = [_element_text(element.find(name)) for name in ("Year", "Month", "Day")]
    return medline or " ".join(part for part in parts if part) or None


def _article_id(entry: ET.Element, id_type: str) -> str | None:
    for element in entry.iter("ArticleId"):
        if element.get("IdType") == id_type:
            return _element_text(element) or None
    return None


def _element_text(element: ET.Element | None) -> str:
    """All text inside an element (inline markup such as <i> or <sup> kept as its text)."""
    if element is None:
        return ""
    return _LINE_BREAK_RUN.sub(" ", "".join(element.itertext())).strip()
