"""What a format reader hands back to the dispatcher: parsed records, problems, refusals."""

from __future__ import annotations

from dataclasses import dataclass, field


class Refused(Exception):
    """A whole file cannot be ingested; `code` is the error code, `cause` a short reason."""

    def __init__(self, code: str, cause: str):
        super().__init__(f"{code}: {cause}")
        self.code = code
        self.cause = cause


@dataclass(frozen=True)
class Record:
    """One article found in a file, before ids, hashes and sidecar metadata are added.

    `number` is None for single-article formats and the 1-based record number otherwise.
    `explicit` holds metadata the author wrote (front matter, JSONL keys) and outranks the
    sidecar; `derived` holds metadata taken from publisher markup (HTML tags, PubMed fields),
    which the sidecar outranks.
    """

    number: int | None
    text: str
    explicit: dict = field(default_factory=dict)
    derived: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file or one of its records that does not stop the rest."""

    code: str
    cause: str


@dataclass
class Parsed:
    """The records and problems a format reader found in one file."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
