"""JSON Lines files: one article object per line, each line ingested or reported on its own."""

from __future__ import annotations

import json

from pipelines.ingest.decoding import normalize_newlines
from pipelines.ingest.parsed import Parsed, Problem, Record


def read_jsonl(content: str) -> Parsed:
    """One record per non-blank line; the record number is the line number (1-based)."""
    parsed = Parsed()
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        record = _read_line(number, line)
        if isinstance(record, Problem):
            parsed.problems.append(record)
        else:
            parsed.records.append(record)
    return parsed


def _read_line(number: int, line: str) -> Record | Problem:
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return Problem("bad_json_line", f"line {number}: invalid JSON ({exc})")
    if not isinstance(item, dict):
        kind = type(item).__name__
        return Problem("bad_json_line", f"line {number}: a JSON {kind}, not an object")
    text = item.get("text")
    if not isinstance(text, str):
        return Problem("bad_json_line", f'line {number}: no string "text" key')
    if not _encodable(text):
        return Problem("bad_json_line", f'line {number}: "text" holds an unpaired surrogate escape')
    if not text.strip():
        return Problem("empty", f'line {number}: "text" is empty')
    explicit = {key: value for key, value in item.items() if key != "text"}
    return Record(number=number, text=normalize_newlines(text), explicit=explicit)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
