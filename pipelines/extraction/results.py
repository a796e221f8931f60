"""Per-arm results: medians, rates, percentages, counts and means, paired across arms and attributed."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import ClassVar

from pipelines.extraction.arms import ArmSet, clean_name, is_control, main_pair, name_before, tokens
from pipelines.extraction.context import (
    Doc,
    Population,
    doc_cues,
    endpoint_before,
    endpoint_carried,
    frame_for,
    mentions,
    population_carried,
    population_fields,
    resolve_anaphora,
    resolve_endpoint,
    sentence_figure_matches,
)
from pipelines.extraction.estimates import Estimate
from pipelines.extraction.numbers import (
    FIGURE_CI_FINDER_RE,
    LEVEL_RE,
    NUM,
    P_RE,
    digit_marks,
    may_hold_interval,
    parse_int,
    to_float,
    word_matches,
)
from pipelines.extraction.prefilter import Prefilter, positions_of, tried_at
from pipelines.extraction.vocab import ENDPOINT_RE
from pipelines.regex_cache import compile_regex

_COUNT_RE = compile_regex(
    rf"(?=\d)(?:(?<![\w.])(?P<c>\d{{1,3}}(?:,\d{{3}})+|\d+) of (?P<m>\d{{1,3}}(?:,\d{{3}})+|\d+)(?: (?:patients|participants|pts))?"
    rf"(?:\s*+[\[(]\s*+(?P<p>{NUM})\s?%\s*+[\])])?"
    rf"|(?<![\w.])(?P<c2>\d{{1,3}}(?:,\d{{3}})+|\d+)(?: (?:patients|participants|pts))?\s*+[\[(]\s*+(?P<p2>{NUM})\s?%\s*+[\])]"
    rf"(?: of (?P<m2>\d{{1,3}}(?:,\d{{3}})+|\d+))?)")
_PLAIN_RE = compile_regex(
    rf"(?=[-.\d])(?<![\w.])(?P<val>{NUM})(?![\d])(?P<unit>\s?%|\s?(?:months?|mo)\b|\s(?:percentage points?|kg)\b)?"
    r"(?:(?P<rate>(?=\s(?:vs\.?|and|versus) -?[\d.]+ per 100 (?:person|patient)-years))| per 100 (?:person|patient)-years"
    r"|(?<=%) per (?:year|patient-year|person-year)\b)?")
_CONNECTOR_RE = compile_regex(
    r"(?:,\s*)?(?:\bas compared with\b|\bas com-?\s?pared with\b|\bcompared (?:with|to)\b|\bvs\.?|\bversus\b|\band\b|\bor\b"
    r"|\bto\b|\bagainst\b|\bwhile\b|\bwhereas\b)\s*(?:in\s+)?")
_COUNT_PAIR_RE = compile_regex(
    r"\s*+(?:in|on|with) (?:the )?[^,;()\d]{1,40}?,?\s*+(?:vs\.?|versus|against|compared with|and)\s*+")
_DIFFERENCE_RE = compile_regex(
    r"(?i)(?:\b(?:difference|reduction|improvement|increase|decrease|benefit|gain)\s*(?:of|was|were|=|:|in)?"
    r"|\bby(?: a median of)?|\b(?:less than|greater than|at least|more than|or equal to)|[<>\u2264\u2265])\s*$")
_LANDMARK_RE = compile_regex(r"(?i)(?:\b(?:at|after|over|within|up to|follow-up|followed|duration|for|aged?)\b[^.;()\d]{0,12}|-)$")
# How far back from a lead's end _LANDMARK_RE's matches start at most: its longest word, 12 characters
# more, and a newline ending the lead, before which $ also matches.
_LANDMARK_REACH = len("follow-up") + 12 + 1
_ARM_PREFIX_RE = compile_regex(
    r"^[\s,:]*(?:(?:of|in|for|with|on|among|receiving|given|treated with|assigned to)\s+)?(?:the\s+)?"
    r"(?:(?:treated\s+)?(?:patients|participants|pts|those)\s+)?(?:(?:in|receiving|given|treated with|on|of|with)\s+)?"
    r"(?:the\s+)?")
_TAIL_STOP_RE = compile_regex(r"[;()\[\]:]|,|\.(?!\d)|\b(?:vs|versus|and|compared|as|had|experienced|remained|who|while|whereas"
                              r"|for|in|among|at|by|was|were|respectively)\b")
_NOT_ARM_PHRASE = compile_regex(
    r"(?i)(?<![\w.-])\d+(?:\.\d+)?(?![\w-])|\b(?:population|cohort|subgroup|overall|all|years?|months?|weeks?|rates?"
    r"|events?|risk|cases|analysis|disease|cancer|mutations?|reduction|difference|ratio|hazard|HR|CI|median|mean)\b")
# Words saying a figure is an outcome although no endpoint is named ("had events in 171 of 1298").
_OUTCOME_WORDS_RE = compile_regex(r"(?i)\b(?:events?|outcomes?|occurred|incidence|died)\b")
# "48.6% vs 32.1% with drug A and placebo, respectively": both arms named after the pair, in order.
_RESPECTIVELY_ARMS_RE = compile_regex(
    r"\s*+(?:in|with|for|among|on) (?:the )?(?P<a>[^,;()]{1,40}?) (?:and|vs\.?|versus) (?:the )?(?P<b>[^,;()]{1,40}?)"
    r",? respectively\b")
_MEAN_RE = compile_regex(r"(?i)\bmean\b")
_N_NEAR_RE = compile_regex(r"[(\[;,]\s*[nN]\s*=\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+)")
_TIME_UNITS = ("months", "month", "mo")
_DIGIT_RE = compile_regex(r"\d")
_OCCURRED_RE = compile_regex(r"\b(?:occurred|were reported|was reported|was seen|were seen) in\b")
_OCCURRED_IN_RE = compile_regex(_OCCURRED_RE.pattern + r"\s*$")
_JOINED_RE = compile_regex(r"\s*+(?:vs\.?|versus|and|to|compared with)?\s*+")
_COUNT_FILTER = Prefilter(_COUNT_RE)
_LEVEL_FILTER = Prefilter(LEVEL_RE)
_BRACKETED_RE = compile_regex(r"\s*[(\[][^()\[\]]*[)\]]")
_LEADING_BRACKETS_RE = compile_regex(r"\s*[(\[][^()\[\]]{0,60}[)\]]")
_N_EQUALS_RE = compile_regex(r"\bn\s*=")
_FROM_END_RE = compile_regex(r"\bfrom\s*$")
_SPACES_RE = compile_regex(r"\s+")
_TRAILING_FOR_RE = compile_regex(r"[\s)\]]*for (?:the )?")
_FIGURE_BETWEEN_RE = compile_regex(r"\d\s?(?:%|months)")
_FIGURE_OR_JOIN_BETWEEN_RE = compile_regex(r"\d\s?(?:%|months)|\b(?:vs|versus|and)\b")
_AND_OR_RE = compile_regex(r"\b(?:and|or)\b")
_WHO_HAD_RE = compile_regex(r"\s*(?:of [\w\s-]{0,60}?)?(?:experienc\w+|had|developed|remained|reported)\b")


@dataclass
class Item:
    """One arm's figure in a sentence, before it is paired and attributed."""

    start: int
    end: int
    value: float | None  # None for a count stated without a percentage
    unit: str | None
    lo: float | None = None
    hi: float | None = None
    count: int | None = None
    count_of: int | None = None
    rate: bool = False
    row_arm: str | None = None

    def __init__(self, start: int, end: int, value: float | None, unit: str | None, lo: float | None = None,
                 hi: float | None = None, count: int | None = None, count_of: int | None = None, rate: bool = False,
                 row_arm: str | None = None) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build.
        self.start = start
        self.end = end
        self.value = value
        self.unit = unit
        self.lo = lo
        self.hi = hi
        self.count = count
        self.count_of = count_of
        self.rate = rate
        self.row_arm = row_arm

    @property
    def kind(self) -> str:
        if self.count is not None:
            return "count"
        if self.rate:
            return "rate"
        if self.unit == "%":
            return "percent"
        if self.unit in _TIME_UNITS:
            return "median"
        return "mean" if self.unit else "bare"


def _unit(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    if raw == "%":
        return "%"
    if raw.startswith("mo"):
        return "months"
    return raw


def _blocked(doc: Doc, start: int, end: int, estimates: list[Estimate]) -> _Mask:
    text = doc.text
    mask = _Mask(start, end)
    for e in estimates:
        mask.add(e.start, e.end)
    # Every p-value and every 'n = x' holds one of these signs; most sentences have none.
    segment = text[start:end]
    if any(sign in segment for sign in "<>=\u2264\u2265"):
        for regex in (P_RE, _N_NEAR_RE):
            for m in regex.finditer(text, start, end):
                mask.add(m.start(), m.end())
    return mask


class _Mask:
    """Characters of a sentence already taken by another figure."""

    def __init__(self, start: int, end: int):
        self.offset = start
        self.taken = bytearray(end - start + 1)

    def add(self, s: int, e: int) -> None:
        a, b = max(s - self.offset, 0), max(min(e - self.offset, len(self.taken)), 0)
        self.taken[a:b] = b"\x01" * (b - a) if b > a else b""

    def free(self, s: int, e: int) -> bool:
        a, b = max(s - self.offset, 0), max(min(e - self.offset, len(self.taken)), 0)
        return not any(self.taken[a:b])


# A figure that is kept carries one of these signs inside its own span: '5%', '12 months', '3 kg',
# '7 of 20'. Each match is one digit (the sign is looked ahead at), so that no sign hides another.
_OWN_SIGN_RE = compile_regex(r"\d(?=\s?(?:%|mo)|\s(?:percentage point|kg)| of \d)")
# Otherwise a figure is kept only beside one of these: a table row's '(n = 149)', a rate read ahead
# ('3.1 vs 3.7 per 100 person-years') or two bare counts compared ('407 in the drug arm against 541').
_ROW_SIGN_RE = compile_regex(r"\(\s*[nN]\s*=\s*\d[\d,]*\s*\)\s*-?\.?\d")
_RATE_SIGN = "per 100 "
_COUNT_PAIR_SIGN_RE = compile_regex(r"\d" + _COUNT_PAIR_RE.pattern + r"-?\.?\d")


def _other_sign(text: str, start: int, end: int) -> bool:
    return (text.find(_RATE_SIGN, start, end) != -1 or _ROW_SIGN_RE.search(text, start, end) is not None
            or _COUNT_PAIR_SIGN_RE.search(text, start, end) is not None)


def may_hold_items(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    """False when _sentence_items surely finds nothing in text[start:end], ``taken`` (spans of estimates) aside.

    Every figure _sentence_items keeps has a unit, is a rate or a count; each of those needs a sign
    above, and one of its own signs cannot lie inside an estimate, whose characters no item may share.
    Most sentences with numbers hold only estimates, p-values or sizes, and skip all of the work.
    """
    for m in _OWN_SIGN_RE.finditer(text, start, end):
        pos = m.start()
        for s, e in taken:
            if s <= pos < e:
                break
        else:
            return True
    return _other_sign(text, start, end)


class Signs:
    """A text's digits, marked once per article, and the own signs of its figures (see may_hold_items), read
    on those marks sentence by sentence.

    Regex scans cost about as much per character as they find; str.find and bytes.find jump to the
    few places that matter. ``marks`` is the text's numbers.digit_marks.
    """

    # _OWN_SIGN_RE read on marks: \s there is an ASCII blank (bytes patterns leave out \x1c-\x1f, which
    # \s takes in str) or b'?', which may stand for a blank beyond ASCII. Class variables: compiled, a plain
    # class attribute would be set up again (re.compile included) for every instance.
    OWN_SIGN_MARKS_RE: ClassVar[re.Pattern[bytes]] = compile_regex(
        rb"0(?=[\s\x1c-\x1f?]?(?:%|mo)|[\s\x1c-\x1f?](?:percentage point|kg)| of 0)")
    # Where _COUNT_PAIR_SIGN_RE may match, read on marks the same way: a digit, blanks and the word after them.
    COUNT_PAIR_MARKS_RE: ClassVar[re.Pattern[bytes]] = compile_regex(rb"0[\s\x1c-\x1f?]*(?:in|on|with) ")

    # How far past its digit OWN_SIGN_MARKS_RE's look-ahead reads: a blank and 'percentage point'.
    OWN_SIGN_REACH: ClassVar[int] = len(" percentage point")

    def __init__(self, text: str, marks: bytes):
        self.text = text
        self.marks = marks

    @classmethod
    def of(cls, text: str) -> Signs | None:
        """The signs of ``text``; None when some character other than an ASCII digit is one to \\d."""
        marks = digit_marks(text)
        return None if marks is None else cls(text, marks)

    def may_hold_items(self, start: int, end: int, taken: list[tuple[int, int]]) -> bool:
        """may_hold_items(text, start, end, taken), or False where that is True but no digit is free.

        A kept figure's digits are its own, so one of them lies outside every estimate.
        """
        find_digit = self.marks.find
        pos = start
        for s, e in sorted(taken):
            if s > pos and find_digit(b"0", pos, min(s, end)) != -1:
                break
            pos = max(pos, e)
            if pos >= end:
                return False
        else:
            if find_digit(b"0", pos, end) == -1:
                return False
        # Digits with an own sign (OWN_SIGN_MARKS_RE), in this sentence only: searched up to OWN_SIGN_REACH
        # past its end, the look-ahead reads what it would read in the whole text.
        marks = self.marks
        own_sign = self.OWN_SIGN_MARKS_RE.search
        stop = min(len(marks), end + self.OWN_SIGN_REACH)
        found = own_sign(marks, start, stop)
        while found is not None and found.start() < end:
            at = found.start()
            for s, e in taken:
                if s <= at < e:
                    break
            else:
                return True
            found = own_sign(marks, at + 1, stop)
        return self._other_sign(start, end)

    def _other_sign(self, start: int, end: int) -> bool:
        """_other_sign(text, start, end), trying _COUNT_PAIR_SIGN_RE only where the marks show its opening."""
        text = self.text
        if text.find(_RATE_SIGN, start, end) != -1 or _ROW_SIGN_RE.search(text, start, end) is not None:
            return True
        find = self.COUNT_PAIR_MARKS_RE.search
        found = find(self.marks, start, end)
        while found is not None:
            if _COUNT_PAIR_SIGN_RE.match(text, found.start(), end) is not None:
                return True
            found = find(self.marks, found.start() + 1, end)
        return False


def _sentence_items(doc: Doc, si: int, estimates: list[Estimate], marks: bytes | None = None) -> list[Item]:
    """Every candidate per-arm figure of a sentence, in order (``marks``, the text's digit_marks when given, rule
    out intervals). Callers skip sentences without a digit, or where may_hold_items rules every figure out."""
    sent = doc.sents[si]
    text = doc.text
    blocked = _blocked(doc, sent.start, sent.end, estimates)
    segment = text[sent.start:sent.end]
    items: list[Item] = []
    for m in _COUNT_FILTER.finditer(text, sent.start, sent.end, segment):
        if blocked.free(m.start(), m.end()):
            pct = m.group("p") or m.group("p2")
            count = parse_int(m.group("c") or m.group("c2"))
            if count is None or (pct and to_float(pct) is None):
                continue
            items.append(Item(m.start(), m.end(), to_float(pct) if pct else None, "%" if pct else None,
                              count=count,
                              count_of=parse_int(m.group("m") or m.group("m2") or "")))
    for i in items:
        blocked.add(i.start, i.end)
    for m in _LEVEL_FILTER.finditer(text, sent.start, sent.end, segment):
        blocked.add(m.start(), m.end())
    with_interval = marks is None or may_hold_interval(marks, sent.start, sent.end)
    for m in sentence_figure_matches(doc, si) if with_interval else ():
        unit = _unit(m.group("vunit"))
        if unit not in ("%", "months") or not blocked.free(m.start(), m.end("vunit")):
            continue
        lo, hi, val = to_float(m.group("lo")), to_float(m.group("hi")), to_float(m.group("val"))
        if val is None or lo is None or lo > val or (hi is not None and val > hi):
            continue
        items.append(Item(m.start(), m.end(), val, unit, lo, hi))
        blocked.add(m.start(), m.end())
    # _PLAIN_RE opens as FIGURE_CI_RE does, so the figure finder leads to each of its matches.
    for m in word_matches(_PLAIN_RE, FIGURE_CI_FINDER_RE, text, sent.start, sent.end, 0):
        if not blocked.free(m.start(), m.end()):
            continue
        val = to_float(m.group("val"))
        if val is None:
            continue
        rate = m.group("rate") is not None or " per " in m.group(0)
        items.append(Item(m.start(), m.end(), val, _unit(m.group("unit")), rate=rate))
    items.sort(key=lambda i: i.start)
    _table_rows(doc, si, items)
    return _propagate_units(text, items, lambda pos: bool(mentions(doc, sent.start, pos)))


_ROW_RE = compile_regex(r"\(\s*[nN]\s*=\s*\d[\d,]*\s*\)\s*$")
_HEADER_UNIT_RE = compile_regex(r"\((?P<unit>months|%)\)")


def _table_rows(doc: Doc, si: int, items: list[Item]) -> None:
    """Rows of a flattened table, 'Drug A arm (n = 149) 6.4', under a header giving the unit: '(months)'."""
    text = doc.text
    for item in items:
        if item.unit or item.count is not None or item.rate:
            continue
        size = _ROW_RE.search(text, max(doc.sents[si].start, item.start - 25), item.start)
        if not size:
            continue
        header = None
        for j in range(si, max(-1, si - 4), -1):
            header = _HEADER_UNIT_RE.search(text, doc.sents[j].start, min(doc.sents[j].end, item.start))
            if header:
                break
        if header:
            item.unit = "%" if header.group("unit") == "%" else "months"
            item.row_arm = name_before(text, size.start())


def _propagate_units(text: str, items: list[Item], endpoint_named_before) -> list[Item]:
    """'18.2 vs 10.0 months', '3.1 vs 3.7 per 100 person-years': the first figure takes the second's unit."""
    for a, b in zip(items, items[1:]):
        if not _JOINED_RE.fullmatch(text[a.end:b.start]):
            continue
        if a.unit is None and not a.rate and a.count is None and b.count is None and (b.unit or b.rate):
            a.unit, a.rate = b.unit, b.rate
        elif b.unit is None and not b.rate and b.count is None and a.count is None and a.unit and a.unit != "%":
            b.unit = a.unit
        elif a.count is not None and b.count is None and b.unit is None and b.value is not None \
                and b.value == int(b.value):
            b.count, b.value = int(b.value), None
    for a, b in zip(items, items[1:]):
        # "hospitalizations totalled 407 in the drug arm against 541 in the placebo arm": two bare whole
        # numbers after a named outcome are counts (without one they are more likely group sizes).
        if a.unit is None and b.unit is None and a.count is None and b.count is None and not (a.rate or b.rate) \
                and a.value is not None and b.value is not None \
                and a.value == int(a.value) and b.value == int(b.value) and _COUNT_PAIR_RE.fullmatch(text[a.end:b.start]) \
                and endpoint_named_before(a.start):
            a.count, a.value, b.count, b.value = int(a.value), None, int(b.value), None
    return [i for i in items if i.unit or i.rate or i.count is not None]


@dataclass
class Pair:
    """Figures of two arms compared in one breath, or a single arm's figure."""

    items: list[Item]
    phrases: list[str | None]
    reverse: bool = False

    def __init__(self, items: list[Item], phrases: list[str | None], reverse: bool = False) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build.
        self.items = items
        self.phrases = phrases
        self.reverse = reverse


def _connector(text: str, a: Item, b: Item) -> tuple[str, str] | None:
    """(arm phrase after a, connector) when a and b are joined as a comparison."""
    between = text[a.end:b.start]
    if len(between) > 90:
        return None
    if not between.strip():
        return "", ""
    # Each bracketed part is blanked out; every one holds an opening bracket, and most gaps have none.
    between_ci = (_BRACKETED_RE.sub(lambda m: " " * len(m.group(0)), between)
                  if "(" in between or "[" in between else between)
    c = _last_connector(between_ci)
    if c is None:
        return None
    return between[:c.start()], between[c.end():]


# What every match of _CONNECTOR_RE opens with: the comma before a connector, or the connector's word.
_CONNECTOR_OPENINGS = (",", "as com", "compared", "vs", "versus", "and", "or", "to", "against", "while", "whereas")


def _last_connector(between: str) -> re.Match | None:
    """The last match of ``_CONNECTOR_RE.finditer(between)``, tried only where one of its openings is."""
    found = tried_at(_CONNECTOR_RE, between, positions_of(between, _CONNECTOR_OPENINGS))
    return found[-1] if found else None


def _tail_phrase(text: str, pos: int, end: int) -> str:
    m = _LEADING_BRACKETS_RE.match(text[pos:end])
    if m and not _N_EQUALS_RE.search(m.group(0)):
        pos += m.end()
    chunk = text[pos:min(end, pos + 80)]
    prefix = _ARM_PREFIX_RE.match(chunk)
    rest = chunk[prefix.end():] if prefix else chunk
    stop = _TAIL_STOP_RE.search(rest)
    return rest[:stop.start()] if stop else rest


def _pairs(doc: Doc, si: int, items: list[Item]) -> list[Pair]:
    text = doc.text
    sent = doc.sents[si]
    out: list[Pair] = []
    i = 0
    while i < len(items):
        a = items[i]
        b = items[i + 1] if i + 1 < len(items) else None
        if b is not None and a.kind == b.kind:
            joined = _connector(text, a, b)
            if joined is not None and not _parallel(doc, a, b, sent.end):
                phrase_a = _arm_from_phrase(joined[0])
                phrase_b = _tail_phrase(text, b.end, sent.end)
                before_b = joined[1].strip(" ([,")
                if before_b and not _TAIL_STOP_RE.search(before_b):
                    phrase_b = _arm_from_phrase(before_b)
                # Every match ends with ' respectively', which few sentences hold.
                both = (_RESPECTIVELY_ARMS_RE.match(text, b.end, sent.end)
                        if text.find(" respectively", b.end, sent.end) != -1 else None)
                if both and not phrase_a:
                    phrase_a, phrase_b = both.group("a"), both.group("b")
                lead = text[max(sent.start, a.start - 12):a.start]
                out.append(Pair([a, b], [phrase_a, phrase_b], reverse=bool(_FROM_END_RE.search(lead))))
                i += 2
                continue
        out.append(Pair([a], [_tail_phrase(text, a.end, sent.end)]))
        i += 1
    return out


def _arm_from_phrase(between: str) -> str:
    prefix = _ARM_PREFIX_RE.match(between)
    rest = between[prefix.end():] if prefix else between
    stop = _TAIL_STOP_RE.search(rest)
    return rest[:stop.start()] if stop else rest


def _parallel(doc: Doc, a: Item, b: Item, sent_end: int) -> bool:
    """'98% had any event and 48% a grade 3 event': each figure names its own endpoint, so no comparison."""
    inner = mentions(doc, a.end, b.start)
    if not inner:
        return False
    after = mentions(doc, b.end, min(sent_end, b.end + 60))
    if after and after[0][0] - b.end < 40:
        return True
    # 'hyperglycemia occurred in 32.7% and rash in 9.9%': each figure follows a different outcome of its own;
    # 'arm A (median PFS = x) vs arm B (median PFS = y)' repeats one outcome and stays a comparison.
    before = mentions(doc, max(0, a.start - 40), a.start)
    text = doc.text
    return (bool(before) and b.start - inner[-1][1] < 20
            and text[before[-1][0]:before[-1][1]].lower() != text[inner[-1][0]:inner[-1][1]].lower())


def _known_arm(arms: ArmSet, phrase: str | None) -> str | None:
    if not phrase:
        return None
    phrase = phrase.strip(" ,:;-")
    words = tokens(phrase)
    if not words:
        return None
    vocab = arms.vocabulary()
    if words & vocab or is_control(phrase):
        return _SPACES_RE.sub(" ", phrase)
    for name in arms.names:
        for w in words:
            if len(w) >= 3 and any(t.startswith(w) for t in tokens(name)):
                return name
    if len(phrase.split()) <= 4 and not _NOT_ARM_PHRASE.search(phrase) and not mentions_any(phrase):
        return _SPACES_RE.sub(" ", phrase)
    return None


def mentions_any(phrase: str) -> bool:
    return bool(ENDPOINT_RE.search(phrase))


_VS_PHRASE_RE = compile_regex(
    r"(?:\bover|\bvs\.?|\bversus|\bcompared (?:with|to)|\bthan)\s+(?:the\s+)?"
    r"(?P<arm>[\w+/-]+(?:\s[\w+/-]+){0,3}?)(?=\s+(?:irrespective|regardless|in|among|for|with|at|on|was|were)\b|[,.;(]|$)")


_VS_PHRASE_FILTER = Prefilter(_VS_PHRASE_RE)


def _sentence_arms(doc: Doc, arms: ArmSet, start: int, end: int) -> list[str]:
    """Arms named in text[start:end], in order: known names and the other side of a 'vs'."""
    seen: list[str] = []
    found = [(pos, written) for pos, _name, written in arms.find(doc.text, start, end, doc.folded[start:end])]
    for m in _VS_PHRASE_FILTER.finditer(doc.text, start, end, doc.text[start:end]):
        phrase = m.group("arm")
        if tokens(phrase) & arms.vocabulary() and not _NOT_ARM_PHRASE.search(phrase):
            found.append((m.start("arm"), phrase))
    found.sort(key=lambda f: (f[0], -len(f[1])))
    covered = -1
    for pos, name in found:
        # Two names found at one place ("imlunestrant" inside "imlunestrant-abemaciclib") are one mention.
        if pos < covered or any(tokens(name) == tokens(s) for s in seen):
            continue
        seen.append(name)
        covered = pos + len(name)
    return seen


def _assign(doc: Doc, si: int, pair: Pair, arms: ArmSet, carried: list[str]) -> list[str | None]:
    """Arms of a pair: as named beside each figure, else as named earlier in the sentence or paragraph."""
    named = [_known_arm(arms, p) for p in pair.phrases]
    sent = doc.sents[si]
    context = _sentence_arms(doc, arms, sent.start, pair.items[0].start)
    if len(pair.items) == 1:
        if pair.items[0].row_arm:
            return [pair.items[0].row_arm]
        if named[0]:
            return named
        return [context[0]] if len(context) == 1 else [None]
    if all(named):
        return named
    if named[0] is None and named[1] is None:
        for source in (context, carried, main_pair(arms.targets())):
            if len(source) >= 2:
                ordered: list[str | None] = list(source[:2])
                return list(reversed(ordered)) if pair.reverse else ordered
        return [None, None]
    known = named[0] or named[1]
    other = None
    for source in (context, carried, main_pair(arms.targets()), arms.names):
        other = next((c for c in source if tokens(c) - tokens(known) and not tokens(c) <= tokens(known)), None)
        if other:
            break
    return [known, other] if named[0] else [other, known]


def _neighbour_estimate(pair: Pair, estimates: list[Estimate], si: int) -> Estimate | None:
    first, last = pair.items[0], pair.items[-1]
    same = [e for e in estimates if e.sent == si]
    # The estimate right after the figures ("5.5 vs 3.8 months (HR 0.62 ...)") is theirs before one just before.
    after = [e for e in same if 0 <= e.start - last.end <= 60]
    before = [e for e in same if 0 <= first.start - e.end <= 40]
    return after[0] if after else before[0] if before else None


def _endpoint(doc: Doc, si: int, pair: Pair, est: Estimate | None) -> tuple[str | None, str | None]:
    text = doc.text
    sent = doc.sents[si]
    last = pair.items[-1]
    trailing = _TRAILING_FOR_RE.match(text[last.end:sent.end])
    if trailing:
        found = mentions(doc, last.end + trailing.end(), min(sent.end, last.end + trailing.end() + 40))
        if found and found[0][0] == last.end + trailing.end():
            label = resolve_endpoint(doc, found[0][2])
            if label:
                return label, text[found[0][0]:found[0][1]]
    if est is not None and est.endpoint:
        return est.endpoint, est.endpoint_text
    named, pos = endpoint_before(doc, si, pair.items[0].start)
    if named and pos is not None:  # pos is None only when named is
        end = next((e for s, e, _l in mentions(doc, pos, pos + 120) if s == pos), pos)
        return named, text[pos:end]
    after = mentions(doc, pair.items[0].end, min(sent.end, last.end + 60))
    for s, e, label in after:
        resolved = resolve_endpoint(doc, label)
        if resolved:
            return resolved, text[s:e]
    primary = [m for m in mentions(doc, sent.start, sent.end) if m[2] == "PRIMARY"]
    if primary:
        return "OTHER", text[primary[0][0]:primary[0][1]]
    return None, None


def _population(doc: Doc, si: int, pair: Pair, est: Estimate | None, endpoint: str | None) -> Population:
    if est is not None and est.population is not None:
        return est.population
    sent = doc.sents[si]
    frame = frame_for(doc, si, pair.items[0].start)
    cues = doc_cues(doc, sent.start, pair.items[0].start)
    if cues:
        return resolve_anaphora(doc, si, cues[-1]).within(frame)
    if endpoint == "AE":
        # Harms are reported for everyone treated; a subgroup of the sentence before is about efficacy.
        return frame or Population()
    return frame or population_carried(doc, si)


# What every match of _DIFFERENCE_RE ends with, blanks aside, in lower case.
_DIFFERENCE_ENDINGS = ("difference", "reduction", "improvement", "increase", "decrease", "benefit", "gain", "of", "was",
                       "were", "=", ":", "in", "by", "than", "least", "to", "<", ">", "\u2264", "\u2265")
# What every match of _DIFFERENCE_RE opens with, in lower case.
_DIFFERENCE_OPENINGS = ("difference", "reduction", "improvement", "increase", "decrease", "benefit", "gain", "by",
                        "less than", "greater than", "at least", "more than", "or equal to", "<", ">", "\u2264",
                        "\u2265")


def _difference(doc: Doc, si: int, item: Item) -> bool:
    sent = doc.sents[si]
    lead_start = max(sent.start, item.start - 40)
    lead = doc.text[lead_start:item.start]
    if item.kind == "median" and _LANDMARK_RE.search(lead, max(0, len(lead) - _LANDMARK_REACH)):
        return True
    folded = doc.folded[lead_start:item.start]
    # Most leads end otherwise, and the regex is not tried.
    if not folded.rstrip().endswith(_DIFFERENCE_ENDINGS):
        return False
    # The regex, which has no fixed opening, is tried only where a match can open, not at every position.
    for opening in _DIFFERENCE_OPENINGS:
        i = folded.find(opening)
        while i != -1:
            if _DIFFERENCE_RE.match(lead, i):
                return True
            i = folded.find(opening, i + 1)
    return False


def _n_near(doc: Doc, si: int, item: Item, phrase_end: int) -> int | None:
    if item.count_of is not None:
        return item.count_of
    sent = doc.sents[si]
    # Every match of _N_NEAR_RE holds '=', and each search below stays within the sentence.
    if doc.text.find("=", sent.start, sent.end) == -1:
        return None
    if item.row_arm:
        before = _N_NEAR_RE.search(doc.text, max(sent.start, item.start - 25), item.start)
        return parse_int(before.group("n")) if before else None
    text = doc.text
    after = _N_NEAR_RE.search(text, item.end, min(sent.end, phrase_end + 25))
    if after and not _FIGURE_BETWEEN_RE.search(text[item.end:after.start()]):
        return parse_int(after.group("n"))
    earlier = list(_N_NEAR_RE.finditer(text, max(sent.start, item.start - 70), item.start))
    if earlier and not _FIGURE_OR_JOIN_BETWEEN_RE.search(text[earlier[-1].end():item.start]):
        return parse_int(earlier[-1].group("n"))
    return None


def arm_results(doc: Doc, estimates: list[Estimate], arms: ArmSet, signs: Signs | None = None) -> list[dict]:
    """Per-arm result records (without article/span keys) of the whole document.

    ``signs`` are the text's Signs when the caller has them.
    """
    out: list[dict] = []
    by_sentence: dict[int, list[Estimate]] = {}
    for e in estimates:
        by_sentence.setdefault(e.sent, []).append(e)
    carried: list[str] = []
    text = doc.text
    sents = doc.sents
    para = sents[0].para if sents else 0
    if signs is None:
        signs = Signs.of(text)
    # Most sentences have no number, or none that can be an arm's figure: _sentence_items reads only the others.
    for si in _sentences_with_digits(doc, signs):
        sent = sents[si]
        # Paragraph numbers only grow, so a change since the last sentence read is a paragraph break.
        if sent.para != para:
            carried = []
            para = sent.para
        sent_est = by_sentence.get(si, [])
        taken = [(e.start, e.end) for e in sent_est]
        if not (signs.may_hold_items(sent.start, sent.end, taken) if signs is not None
                else may_hold_items(text, sent.start, sent.end, taken)):
            continue
        items = [i for i in _sentence_items(doc, si, sent_est, signs.marks if signs is not None else None)
                 if not _difference(doc, si, i)]
        if not items:
            continue
        for pair in _pairs(doc, si, items):
            records = _pair_records(doc, si, pair, sent_est, arms, carried)
            arms_used = list(dict.fromkeys(r["arm"] for r in records))
            if len(arms_used) == 2:
                carried = arms_used
            out.extend(records)
    return out


def _sentences_with_digits(doc: Doc, signs: Signs | None) -> list[int]:
    """Indexes of the sentences holding a digit, in order (a list: compiled, a generator costs more).

    With ``signs``, from each digit straight to its sentence: sentences follow one another without
    overlapping, so those passed over on the way hold none.
    """
    sents = doc.sents
    text = doc.text
    if signs is None:
        return [si for si, sent in enumerate(sents) if _DIGIT_RE.search(text, sent.start, sent.end)]
    found = []
    find_digit = signs.marks.find
    starts = doc.sent_starts
    si = 0
    while si < len(sents):
        q = find_digit(b"0", sents[si].start)
        if q == -1:
            break
        si = bisect_right(starts, q, si) - 1
        if q < sents[si].end:
            found.append(si)
        si += 1
    return found


def _pair_records(doc: Doc, si: int, pair: Pair, sent_est: list[Estimate], arms: ArmSet,
                  carried: list[str]) -> list[dict]:
    est = _neighbour_estimate(pair, sent_est, si)
    endpoint, endpoint_text = _endpoint(doc, si, pair, est)
    if endpoint is None and (est := _carried_estimate(doc, si, sent_est)) is not None:
        endpoint, endpoint_text = est.endpoint, est.endpoint_text
    if endpoint is None and si and doc.text[doc.sents[si - 1].start:doc.sents[si - 1].end].rstrip().endswith(":"):
        endpoint, endpoint_text = _header_endpoint(doc, si - 1)
    if endpoint is None and (pair.items[0].row_arm or
                             _OUTCOME_WORDS_RE.search(doc.text, doc.sents[si].start, pair.items[0].start)):
        endpoint, endpoint_text = endpoint_carried(doc, si, doc.sents[si].start), None
    if endpoint is None:
        return []
    names = [clean_name(n) for n in _assign(doc, si, pair, arms, carried)]
    if len(pair.items) == 1 and (names[0] is None or not _single_ok(doc, si, pair.items[0])):
        return []
    pop = _population(doc, si, pair, est, endpoint)
    # What every record of the pair says alike.
    shared = {"type": "arm_result", "endpoint": endpoint, "endpoint_text": endpoint_text, **population_fields(pop)}
    start, end = _evidence(doc, si)
    values = tuple(i.value for i in pair.items)
    out = []
    for k, (item, arm) in enumerate(zip(pair.items, names)):
        if arm is None:
            continue
        phrase_end = pair.items[k + 1].start if k + 1 < len(pair.items) else doc.sents[si].end
        n = _n_near(doc, si, item, min(phrase_end, item.end + 60))
        for stat, value, unit, lo, hi in _figures(doc, si, item):
            out.append({**shared, "arm": arm, "statistic": stat, "value": value, "unit": unit, "ci_low": lo,
                        "ci_high": hi, "n": n, "_start": start, "_end": end, "_pair": values})
    return out


def _carried_estimate(doc: Doc, si: int, sent_est: list[Estimate]) -> Estimate | None:
    """With no endpoint named, figures in a sentence that also gives an estimate share its endpoint."""
    return sent_est[0] if sent_est and sent_est[0].endpoint else None


def _header_endpoint(doc: Doc, si: int) -> tuple[str | None, str | None]:
    sent = doc.sents[si]
    found = mentions(doc, sent.start, sent.end)
    for s, e, label in reversed(found):
        resolved = resolve_endpoint(doc, label)
        if resolved:
            return resolved, doc.text[s:e]
    return None, None


def _single_ok(doc: Doc, si: int, item: Item) -> bool:
    """A lone figure counts when the text says who had the outcome: '48.6% experiencing a grade 3 event'."""
    text = doc.text
    after = text[item.end:min(doc.sents[si].end, item.end + 60)]
    if item.count_of is not None or item.row_arm:
        return True
    lead = text[max(doc.sents[si].start, item.start - 30):item.start]
    if _OCCURRED_IN_RE.search(lead):
        return True
    # '... hyperglycemia occurred in 32.7% and rash in 9.9%': the verb is understood for the second outcome.
    if lead.endswith(" in ") and mentions(doc, item.start - 30, item.start) and \
            _OCCURRED_RE.search(text, doc.sents[si].start, item.start) is not None and \
            _AND_OR_RE.search(lead):
        return True
    return bool(_WHO_HAD_RE.match(after))


def _figures(doc: Doc, si: int, item: Item) -> list[tuple]:
    if item.count is not None:
        out = [("count", float(item.count), None, None, None)]
        return out + ([("percent", item.value, "%", None, None)] if item.value is not None else [])
    kind = item.kind
    sent = doc.sents[si]
    lead_start = max(sent.start, item.start - 80)
    lead = doc.text[lead_start:item.start]
    # Most leads say no 'mean' (in any case), and then neither they nor a part of them is searched for it.
    said_mean = doc.folded.find("mean", lead_start, item.start) != -1
    if kind == "median" and not (said_mean and _MEAN_RE.search(lead.rsplit("median", 1)[-1])):
        return [("median", item.value, "months", item.lo, item.hi)]
    if kind == "median":
        return [("mean", item.value, "months", item.lo, item.hi)]
    if kind == "rate":
        return [("rate", item.value, None, None, None)]
    if (said_mean and _MEAN_RE.search(lead)) or kind == "mean":
        return [("mean", item.value, None, item.lo, item.hi)]
    return [("percent", item.value, "%", item.lo, item.hi)]


def _evidence(doc: Doc, si: int) -> tuple[int, int]:
    sent = doc.sents[si]
    start, end = sent.start, sent.end
    while start < end and doc.text[start] in " \n\t\u2022*":
        start += 1
    while end > start and doc.text[end - 1].isspace():
        end -= 1
    return start, end


def arm_result_records(doc: Doc, estimates: list[Estimate], arms: ArmSet, article: str,
                       signs: Signs | None = None) -> list[dict]:
    """Per-arm result records with spans into the original text, each result once (``signs``: see arm_results)."""
    out: list[dict] = []
    seen: dict[tuple, int] = {}
    for rec in arm_results(doc, estimates, arms, signs):
        key = (rec["statistic"], rec["value"], rec["ci_low"], rec["ci_high"], rec["endpoint"], rec["population"],
               rec["subgroup"], frozenset(tokens(rec["arm"])), rec.pop("_pair"))
        # A figure repeated in another sentence is the same result; within one sentence it is another one.
        if key in seen and seen[key] != rec["_start"]:
            continue
        seen.setdefault(key, rec["_start"])
        a, b = doc.norm.span(rec.pop("_start"), rec.pop("_end"))
        rec.update({"article": article, "evidence": doc.norm.original[a:b], "span_start": a, "span_end": b})
        out.append(rec)
    return out
