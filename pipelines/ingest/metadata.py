"""Article metadata: YAML front matter, sidecar files, and the fields every article carries."""

from __future__ import annotations

import datetime as dt
import json
import re

from pipelines.ingest.parsed import Refused

FIELD_KEYS = ("title", "url", "outlet", "published", "trial", "nct_id")
# Front matter is a handful of keys; anything bigger is not metadata, or an attack on the loader.
_MAX_FRONT_MATTER_CHARS = 64_000
# YAML aliases can make a small document expand into a huge tree; stop walking it long before.
_MAX_META_NODES = 10_000
_OPENING = re.compile(r"---[ \t]*\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\d])")


def split_front_matter(text: str) -> tuple[dict, str, str | None]:
    """Split `---` front matter off the start of `text`.

    Returns (metadata, body, problem). Without front matter the body is `text` itself. A
    front-matter block that is not a YAML mapping still ends where its closing line ends: the
    body starts after it, the metadata is empty and `problem` says why.
    """
    opening = _OPENING.match(text)
    if not opening:
        return {}, text, None
    closing = _CLOSING.search(text, opening.end())
    if not closing:
        return {}, text, "front matter opened with --- but never closed; read as plain text"
    block = text[opening.end() : closing.start()]
    body = text[closing.end() + 1 :]
    try:
        return load_front_matter(block), body, None
    except Refused as exc:
        return {}, body, f"{exc.cause}; front matter ignored"


def load_front_matter(block: str) -> dict:
    """Load a YAML block with the safe loader; it must be a mapping (or empty)."""
    if len(block) > _MAX_FRONT_MATTER_CHARS:
        raise Refused("bad_front_matter", f"front matter over {_MAX_FRONT_MATTER_CHARS} characters")
    # Imported here: most articles have no front matter, and `trialfx extract` starts 13 ms sooner.
    import yaml

    try:
        loaded = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise Refused("bad_front_matter", f"YAML error: {_first_line(exc)}") from None
    except RecursionError:
        raise Refused("bad_front_matter", "YAML nested too deeply") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        kind = type(loaded).__name__
        raise Refused("bad_front_matter", f"front matter is a {kind}, not a mapping")
    return json_safe(loaded)


def load_sidecar(raw: str) -> dict:
    """Parse the text of a NAME.meta.json sidecar; it must hold one JSON object."""
    try:
        loaded = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Refused("bad_sidecar", f"invalid JSON: {_first_line(exc)}") from None
    if not isinstance(loaded, dict):
        raise Refused("bad_sidecar", f"sidecar holds a {type(loaded).__name__}, not an object")
    return loaded


def json_safe(value: dict) -> dict:
    """Copy loaded YAML into plain JSON types (dates as ISO strings), bounding its size."""
    remaining = _MAX_META_NODES

    def convert(item: object) -> object:
        nonlocal remaining
        remaining -= 1
        if remaining < 0:
            raise Refused("bad_front_matter", f"front matter has over {_MAX_META_NODES} values")
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, (dt.date, dt.datetime)):
            return item.isoformat()
        if isinstance(item, dict):
            return {str(key): convert(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple, set, frozenset)):
            return [convert(inner) for inner in item]
        return str(item)

    try:
        return convert(value)
    except RecursionError:
        raise Refused("bad_front_matter", "front matter nested too deeply") from None


def merge_metadata(*sources: dict) -> dict:
    """Merge metadata mappings, later ones winning, except that a null never hides a value."""
    merged: dict = {}
    for source in sources:
        for key, value in source.items():
            if value is not None or key not in merged:
                merged[key] = value
    return merged


def article_fields(meta: dict) -> dict:
    """The Article fields carried by a metadata mapping; blank or unusable values become None."""
    return {
        "title": _text(meta.get("title")),
        "url": _text(meta.get("url")),
        "outlet": _text(meta.get("outlet")),
        "published_on": parse_date(meta.get("published", meta.get("published_on"))),
        "trial_hint": _text(meta.get("trial")),
        "nct_id_hint": _text(meta.get("nct_id")),
    }


def parse_date(value: object) -> dt.date | None:
    """A date from a date, a datetime or a string starting YYYY-MM-DD (or YYYY/MM/DD); else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _ISO_DATE.match(value.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
