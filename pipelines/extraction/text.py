"""Text normalization with an offset map back to the original, and sentence segmentation."""

from __future__ import annotations

import html
import operator
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pipelines.extraction.prefilter import positions_of
from pipelines.regex_cache import compile_regex

_DASHES = "\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d\u2043"
_LONG_DASHES = "\u2014\u2015"
_SPACES = "\u00a0\u2007\u2009\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u200a\u3000\t"
_DROP = "\u00ad\u200b\u200c\u200d\ufeff"
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2032": "'"}
_SUPERSCRIPTS = {"\u207b": "-", "\u00b9": "1", "\u00b2": "2", "\u00b3": "3", "\u2070": "0",
                 "\u2074": "4", "\u2075": "5", "\u2076": "6", "\u2077": "7", "\u2078": "8",
                 "\u2079": "9"}
_ENTITY = compile_regex(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


@dataclass(frozen=True)
class Normalized:
    """Normalized text plus, for every normalized character, its span in the original."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]
    original: str

    def __init__(self, text: str, starts: Sequence[int], ends: Sequence[int], original: str) -> None:
        # Written out in place of the frozen dataclass's, as Sentence's is.
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "ends", ends)
        object.__setattr__(self, "original", original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized [start, end) span to the original text."""
        if end <= start or not self.text:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


class _Offsets(Sequence):
    """A sequence of offsets held as runs, each a stretch copied from another sequence (a range, mostly)
    or one offset repeated.

    Normalizing changes a few characters of thousands: a handful of runs stand for the offsets of all
    of them, which as a tuple would cost an int object each. Read by index (or slice, as a list).
    """

    __slots__ = ("_len", "_keys", "_sources", "_firsts")

    def __init__(self) -> None:
        self._len = 0
        self._keys: list[int] = []  # where each run starts
        self._sources: list[Sequence[int] | None] = []  # what it copies, None for a repeat
        self._firsts: list[int] = []  # the index copied first, or the offset repeated

    def copy(self, source: Sequence[int], start: int, end: int) -> None:
        """Append source[start:end]; the runs of an _Offsets source are copied, not nested."""
        if end <= start:
            return
        if not isinstance(source, _Offsets):
            self._keys.append(self._len)
            self._sources.append(source)
            self._firsts.append(start)
            self._len += end - start
            return
        k = bisect_right(source._keys, start) - 1
        while start < end:
            run_end = source._keys[k + 1] if k + 1 < len(source._keys) else source._len
            stop = min(end, run_end)
            inner = source._sources[k]
            if inner is None:
                self.repeat(source._firsts[k], stop - start)
            else:
                first = source._firsts[k] + start - source._keys[k]
                self.copy(inner, first, first + stop - start)
            start = stop
            k += 1

    def repeat(self, offset: int, count: int) -> None:
        """Append ``offset`` ``count`` times."""
        if count > 0:
            self._keys.append(self._len)
            self._sources.append(None)
            self._firsts.append(offset)
            self._len += count

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("offset index out of range")
        k = bisect_right(self._keys, i) - 1
        source = self._sources[k]
        if source is None:
            return self._firsts[k]
        return source[self._firsts[k] + i - self._keys[k]]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"_Offsets({list(self)!r})"


def _neighbour_digit(text: str, i: int, step: int) -> bool:
    j = i + step
    while 0 <= j < len(text) and text[j] == " ":
        j += step
    return 0 <= j < len(text) and text[j].isdigit()


def _map_char(text: str, i: int) -> str:
    ch = text[i]
    if ch in _DASHES:
        return "-"
    if ch in _LONG_DASHES:
        # A long dash between numbers is a range; elsewhere it separates clauses.
        both = _neighbour_digit(text, i, -1) and _neighbour_digit(text, i, 1)
        return "-" if both else ", "
    if ch in _SPACES:
        return " "
    if ch in _DROP:
        return ""
    if ch == "\u00b7" or ch == "\u2027":
        # Lancet writes decimals with a raised dot: 0·62.
        return "." if _neighbour_digit(text, i, -1) and _neighbour_digit(text, i, 1) else " "
    if ch in _QUOTES:
        return _QUOTES[ch]
    if ch in _SUPERSCRIPTS:
        return _SUPERSCRIPTS[ch]
    if ch == "\r":
        return "\n" if i + 1 >= len(text) or text[i + 1] != "\n" else ""
    return ch


# Rewrites after the character map: words broken at a line end ("pro- gression", "with- out") are
# joined again, and a spelled-out "95 percent" reads as "95%".
# Each with strings one of which every match contains: without any in the text, the rewrite has nothing
# to do (and the percent pattern, which opens with a look-behind, would be tried at every position).
# The '- ' pattern opens with its literal (the look-behind follows it) so that the engine can jump to it,
# faster than `in` finds '- ': its test is for '-' alone, a one-character scan.
_REWRITES = (
    (compile_regex(r"- (?<=[a-z]- )(?=[a-z])(?!(?:and|or|to|vs|nor)\b)"), "", ("-",)),
    (compile_regex(r"(?<=\d) ?(?:percent|per cent)\b"), "%", ("percent", "per cent")),
)


@lru_cache(maxsize=2)
def normalize(text: str) -> Normalized:
    """Return the normalized text with per-character offsets into ``text``.

    The last results are kept: article facts (text, then title) and records are read one after the other.
    """
    norm = _normalize_chars(text)
    for regex, replacement, needed in _REWRITES:
        if any(word in norm.text for word in needed):
            norm = _rewrite(norm, regex, replacement)
    return norm


def _rewrite(norm: Normalized, regex: re.Pattern, replacement: str) -> Normalized:
    """Replace every match by ``replacement`` (one character or none), which maps to the whole match."""
    matches = list(regex.finditer(norm.text))
    if not matches:
        return norm
    out, starts, ends = [], _Offsets(), _Offsets()
    pos = 0
    for m in matches:
        out.append(norm.text[pos:m.start()])
        starts.copy(norm.starts, pos, m.start())
        ends.copy(norm.ends, pos, m.start())
        if replacement:
            out.append(replacement)
            starts.repeat(norm.starts[m.start()], 1)
            ends.repeat(norm.ends[m.end() - 1], 1)
        pos = m.end()
    out.append(norm.text[pos:])
    starts.copy(norm.starts, pos, len(norm.text))
    ends.copy(norm.ends, pos, len(norm.text))
    return Normalized("".join(out), starts, ends, norm.original)


_OTHER_SPECIAL = _DASHES + _LONG_DASHES + _SPACES + _DROP + "".join(_QUOTES) + "".join(_SUPERSCRIPTS)
_SPECIAL = compile_regex("[&\r\u00b7\u2027" + re.escape(_OTHER_SPECIAL) + "]")
_SPECIAL_SET = frozenset("&\r\u00b7\u2027" + _OTHER_SPECIAL)
# All special characters but these lie beyond ASCII.
_SPECIAL_ASCII = tuple(sorted(ch for ch in _SPECIAL_SET if ch.isascii()))


def _special_positions(text: str) -> list[int]:
    """Where _SPECIAL matches in ``text``, in order.

    Encoded as ASCII, the text has b'?' for each character beyond it: bytes.find jumps to those few
    places (and to the ASCII special characters), where the class's scan would test every character.
    """
    marks = text.encode("ascii", "replace")
    found: list[int] = []
    q = marks.find(b"?")
    while q != -1:
        if text[q] in _SPECIAL_SET:
            found.append(q)
        q = marks.find(b"?", q + 1)
    found += positions_of(text, _SPECIAL_ASCII)
    found.sort()
    return found


def _normalize_chars(text: str) -> Normalized:
    """Map characters one by one; plain runs between special characters are copied in bulk."""
    if text.isascii() and "&" not in text and "\r" not in text and "\t" not in text:
        # Every other special character lies beyond ASCII: nothing to map (str tests, not a scan).
        return Normalized(text, range(len(text)), range(1, len(text) + 1), text)
    # (start, end) in text of each special character or entity, and what it becomes.
    changes: list[tuple[int, int, str]] = []
    pos = 0
    for i in _special_positions(text):
        if i < pos:
            continue
        entity = _ENTITY.match(text, i) if text[i] == "&" else None
        if entity:
            rep = html.unescape(entity.group(0))
            if rep != entity.group(0):
                changes.append((i, entity.end(), "".join(_map_char(rep, k) for k in range(len(rep)))))
                pos = entity.end()
                continue
        changes.append((i, i + 1, _map_char(text, i)))
        pos = i + 1
    out: list[str] = []
    pos = 0
    for start, end, mapped in changes:
        out.append(text[pos:start])
        out.append(mapped)
        pos = end
    out.append(text[pos:])
    # Unchanged characters map to their own positions, which ranges hold without materialising
    # thousands of offsets.
    own_starts, own_ends = range(len(text)), range(1, len(text) + 1)
    if all(end - start == 1 and len(mapped) == 1 for start, end, mapped in changes):
        return Normalized("".join(out), own_starts, own_ends, text)
    starts, ends = _Offsets(), _Offsets()
    pos = 0
    for start, end, mapped in changes:
        starts.copy(own_starts, pos, start)
        ends.copy(own_ends, pos, start)
        starts.repeat(start, len(mapped))
        ends.repeat(end, len(mapped))
        pos = end
    starts.copy(own_starts, pos, len(text))
    ends.copy(own_ends, pos, len(text))
    return Normalized("".join(out), starts, ends, text)


@dataclass(frozen=True)
class Sentence:
    """A sentence of the normalized text; ``para`` counts paragraph breaks before it."""

    start: int
    end: int
    para: int

    def __init__(self, start: int, end: int, para: int) -> None:
        # Written out in place of the frozen dataclass's: sentences are made by the thousand.
        # Compiled (see _compiled), a Sentence has no __dict__ to write the fields into.
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "para", para)


# A stop followed by blank space (maybe after a closing quote or bracket), or a line break.
_BREAK = compile_regex(r"[.!?\n](?:(?<=\n)|(?=[\"')\]]?\s))")
# _BREAK's stops one at a time (see _breaks): a pattern opening with one character is searched for many
# times faster than one opening with a class, which the engine tests character by character.
_STOP_BREAKS = tuple((stop, compile_regex(re.escape(stop) + r"(?=[\"')\]]?\s)")) for stop in ".!?")


def _breaks(text: str) -> list[int]:
    """Where _BREAK matches in ``text``, in order."""
    found: list[int] = []
    for stop, regex in _STOP_BREAKS:
        if stop in text:
            found += [m.start() for m in regex.finditer(text)]
    found += positions_of(text, ("\n",))
    found.sort()
    return found


# A stop ending an abbreviation (vs, e.g, i.e, al, Dr, Fig, approx, no, No, ca, cf, Inc, Ltd, St) or an initial.
# The words are look-behinds (one per length, as look-behinds need), so the pattern is tried at the stop
# alone (match) instead of searched for across the word before it.
_ABBREV = compile_regex(r"(?:(?<=\b[A-Z])|(?<=\b(?:vs|al|Dr|no|No|ca|cf|St))|(?<=\b(?:e\.g|i\.e|Fig|Inc|Ltd))"
                        r"|(?<=\bapprox))\.$")
# The last character of every abbreviation _ABBREV knows: a stop after any other is never one's.
_ABBREV_LAST = frozenset("sgelrxoafcdt" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# The last two characters of every abbreviation _ABBREV knows but an initial.
_ABBREV_ENDINGS = frozenset(("vs", "al", "Dr", "no", "No", "ca", "cf", "St", ".g", ".e", "ig", "nc", "td", "ox"))


def _may_end_abbreviation(text: str, pos: int) -> bool:
    """False when the stop at ``pos`` (not the text's first character) surely ends no abbreviation _ABBREV knows.

    Most stops end plain words whose last letter ends some abbreviation too ('results.'): the last two
    characters tell those apart without the regex.
    """
    last = text[pos - 1]
    if "A" <= last <= "Z":
        return True
    return last in _ABBREV_LAST and text[pos - 2:pos] in _ABBREV_ENDINGS


_INNER_CAPITALS_RE = compile_regex(r"[a-z]{1,2}[A-Z][A-Za-z0-9]*")


def _starts_sentence(text: str, j: int) -> bool:
    while j < len(text) and text[j] in " \t\"'":
        j += 1
    if j >= len(text):
        return True
    ch = text[j]
    if ch.islower():
        # "mPFS was ...", "eGFR fell ...": an abbreviation with inner capitals can open a sentence.
        return _INNER_CAPITALS_RE.match(text, j, j + 12) is not None
    return ch.isupper() or ch.isdigit() or ch in "\u2022*-\u25cf\u25aa\u2013"


def _joins_line(text: str, nl: int) -> bool:
    """A single newline inside a hard-wrapped sentence does not end it."""
    j = nl + 1
    while j < len(text) and text[j] in " \t":
        j += 1
    if j >= len(text) or text[j] == "\n":
        return False
    k = nl - 1
    while k >= 0 and text[k] in " \t":
        k -= 1
    if k < 0 or text[k] in ".!?:":
        return False
    return text[j].islower() or text[j].isdigit() or text[j] in "([" or text[k] in ";,"


# Longer stretches without a sentence end are cut at a clause boundary, which bounds the work
# done per sentence and keeps extraction linear in the length of the text.
MAX_SENTENCE = 1200


def _bounded(start: int, end: int, para: int, text: str) -> list[Sentence]:
    out = []
    while end - start > MAX_SENTENCE:
        window = text[start:start + MAX_SENTENCE]
        cut = max(window.rfind("; "), window.rfind(". "), window.rfind(", "))
        if cut < MAX_SENTENCE // 2:
            cut = window.rfind(" ")
        if cut < MAX_SENTENCE // 2:
            cut = MAX_SENTENCE - 1
        out.append(Sentence(start, start + cut + 1, para))
        start += cut + 1
    out.append(Sentence(start, end, para))
    return out


def sentences(text: str) -> list[Sentence]:
    """Split normalized text into sentences, counting line breaks that end one as paragraphs."""
    out: list[Sentence] = []
    start, para = 0, 0
    for pos in _breaks(text):
        if text[pos] == "\n":
            if _joins_line(text, pos):
                continue
            end, new_para = pos, True
        else:
            if pos and _may_end_abbreviation(text, pos) and _ABBREV.match(text, pos, pos + 1):
                continue
            # Mostly a blank and a capital follow, which need no closer look.
            if not text[pos + 2:pos + 3].isupper() or text[pos + 1] != " ":
                if not _starts_sentence(text, pos + 1):
                    continue
            end, new_para = pos + 1, False
        # Something besides blanks between start and end; most sentences end on a character that is not one.
        if start < end and (not text[end - 1].isspace() or text[start:end].strip()):
            if end - start > MAX_SENTENCE:
                out.extend(_bounded(start, end, para, text))
            else:
                out.append(Sentence(start, end, para))
        if new_para:
            para += 1
        start = end
    if text[start:].strip():
        out.extend(_bounded(start, len(text), para, text))
    return out
