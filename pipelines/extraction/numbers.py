"""Number grammar: figures with confidence intervals, effect-measure cues, p-values and arm sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from pipelines.regex_cache import compile_regex

NUM = r"-?(?:\d+(?:\.\d+)?|\.\d+)"
_UNIT = (r"\s?%|\s(?:percentage points?|kg|months?|mo|years?|weeks?|days?|points?|mm ?Hg"
         r"|per 100 (?:patient|person)-years)")

# A figure followed by its interval: "0.62; 95% CI, 0.46-0.82", "0.63 (0.48-0.82)",
# "5.5 months (95% CI, 3.9 to 7.4)", "0.691; 95% CI = 0.519, 0.920", "0.69 (CI 0.57;0.85)".
# Possessive quantifiers keep the scan linear on long runs of blanks.
_LVL = r"(?P<lvl{k}>\d{{2}}(?:\.\d)?)\s?%\s*+"
_CIWORD = r"(?P<ci{k}>(?:CIs?|confidence inter(?:val|nal)s?)(?:\s*+[\[(]CIs?[\])])?\s*+[,:;=]?\s*+[(\[]?\s*+)"
FIGURE_CI_RE = compile_regex(
    rf"(?=[-.\d])(?<![\w.])(?P<val>{NUM})(?![\d])(?P<vunit>{_UNIT})?+"
    r"\s*+[,;:]?\s*+"
    rf"(?:(?P<open>[(\[])\s*+(?:{_LVL.format(k=1)})?{_CIWORD.format(k=1)}?|(?:{_LVL.format(k=2)})?{_CIWORD.format(k=2)})"
    rf"(?P<lo>{NUM})(?:\s?%|\s(?:months?|kg|years?|weeks?))?\s*+(?P<sep>-|to|,|;)\s*+"
    rf"(?P<hi>{NUM}(?![\d])|(?i:not reached|not estimable|NR|NE)\b)"
    r"(?:\s?%|\s(?:months?|kg|years?|weeks?))?(?P<close>\s*+[)\]])?",
)

_HR = r"(?<!receptor \()\bHRs?\b(?!\s?[+/]|-(?:positive|negative|pos|neg)\b)|(?i:hazard ratios?)"
_CUE_PARTS = (
    ("HR", _HR),
    ("OR", r"\bORs?\b(?=\s*+[,=:(\[]?\s*+[\d(\[.])|(?i:odds ratios?)"),
    ("IRR", r"\bIRRs?\b|(?i:(?:incidence )?rate ratios?)"),
    ("RR", r"\bRRs?\b(?=\s*+[,=:(\[]?\s*+[\d(\[.])|(?i:risk ratios?|relative risks?(?! reduction))"),
    ("MD", r"(?i:mean differences?)|\bMD\b"),
    ("RD", r"(?i:risk differences?|(?:absolute|estimated|treatment|between-group)(?: risk| treatment)? differences?)"
           r"|\bARD\b|\u0394"),
)
# Cues start words, and with one of these letters: the scan skips other positions quickly.
CUE_RE = compile_regex("(?=[HOIRMAETBhoirmaetb\u0394])(?<![A-Za-z0-9])(?:" + "|".join(f"(?P<{name}>{pat})" for name, pat in _CUE_PARTS) + ")")


def word_matches(regex: re.Pattern, finder: re.Pattern, text: str, start: int, end: int,
                 offset: int = 1) -> list[re.Match]:
    """``list(regex.finditer(text, start, end))``, trying ``regex`` only where ``finder`` points.

    A match of ``finder`` at ``r`` points at ``r + offset``. Wherever ``regex`` matches (after the text's
    first position), ``finder`` must match at the place pointing there, up to the same end: a finder
    opening with a class the engine can skip to is searched many times faster than ``regex``, whose
    look-arounds make the engine try it at every position. Each match is taken from ``regex`` itself,
    in the order finditer finds them, so the matches are the same.
    """
    out = []
    match = regex.match
    look = start - offset  # where the finder looks from: a match there points at ``start``
    if start == 0 and offset:
        # No character before the text's first one: only the regex itself can tell.
        m = match(text, 0, end)
        if m is not None:
            if m.end() == 0:
                return list(regex.finditer(text, start, end))
            out.append(m)
            look = m.end() - offset
        else:
            look = 1 - offset
    search = finder.search
    while (found := search(text, look, end)) is not None:
        at = found.start() + offset
        m = match(text, at, end)
        if m is None:
            look = at + 1 - offset
            continue
        if m.end() == at:  # empty matches step on as finditer does: not a regex this is for
            return list(regex.finditer(text, start, end))
        out.append(m)
        look = m.end() - offset
    return out


NOT_AN_ESTIMATE_RE = compile_regex(
    r"number needed|\bNNTs?\b|posterior|powered|to detect|(?i:per (?:\d+[- ])?(?:point|unit|%|SD))",
)

P_RE = compile_regex(
    r"(?<![A-Za-z])(?:(?i:two-sided|one-sided|nominal|log-rank)\s++)?[Pp](?:\s?-?(?i:values?))?\s*+"
    r"(?P<rel>[<>=\u2264\u2265])\s*+(?P<num>\d*\.\d+|\d+)"
    r"(?:\s*+[\u00d7x*]\s*+10\s*+(?:\^\s*+)?(?P<neg>-)?\s*+(?P<exp>\d{1,3}))?",
)
BARE_P_RE = compile_regex(r"[;,]\s*+(?P<rel>[<=>])\s*+(?P<num>0?\.\d+)")
INTERACTION_RE = compile_regex(r"(?i:interaction|heterogeneity|trend|noninferiority|non-inferiority)")
LEVEL_RE = compile_regex(r"(?P<lvl>\d{2}(?:\.\d)?)\s?%\s*+(?:CIs?\b|confidence inter(?:val|nal))")


# Dataclasses made per figure (these, and Estimate, Item, Pair, ArmSet) write out their __init__: the one
# @dataclass generates runs as plain Python even in the compiled build, many times slower than a compiled
# one. Their fields are not frozen, since __init__ could not then set them; nothing changes them.
@dataclass
class FigureCI:
    """A figure with its interval, as positions into the normalized text."""

    start: int
    end: int
    value: float
    lo: float | None
    hi: float | None
    unit: str | None
    level: float | None
    ci_word: bool

    # Every match of FIGURE_CI_RE holds its interval, read here on digit marks: the last digit of the low end
    # (no digit or '.' follows it), its unit, the separator and the first character of the high end. A blank is
    # an ASCII one (bytes patterns leave \x1c-\x1f out of \s) or b'?', which may stand for one beyond ASCII.
    # Kept on the class, apart from the module's patterns, which are all read on text.
    INTERVAL_MARKS_RE: ClassVar[re.Pattern[bytes]] = compile_regex(
        rb"0(?![0.])(?:[\s\x1c-\x1f?]?%|[\s\x1c-\x1f?](?:months?|kg|years?|weeks?))?"
        rb"[\s\x1c-\x1f?]*+(?:-|to|,|;)[\s\x1c-\x1f?]*+[-.0nN]")

    def __init__(self, start: int, end: int, value: float, lo: float | None, hi: float | None, unit: str | None,
                 level: float | None, ci_word: bool) -> None:
        self.start = start
        self.end = end
        self.value = value
        self.lo = lo
        self.hi = hi
        self.unit = unit
        self.level = level
        self.ci_word = ci_word


# Trial figures never need more than this; longer digit runs are not figures (and overflow ints).
MAX_MAGNITUDE = 1e9


def to_float(s: str) -> float | None:
    try:
        value = float(s.replace(",", ""))
    except ValueError:
        return None
    # Also false for NaN and infinities: the test of math.isfinite and abs in one comparison.
    return value if -MAX_MAGNITUDE < value < MAX_MAGNITUDE else None


def _unit_of(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip().lower()
    if raw == "%":
        return "%"
    for unit in ("months", "years", "weeks", "days"):
        if raw.startswith(unit[:-1]):
            return unit
    return "months" if raw == "mo" else raw


def figures_with_ci(text: str, start: int, end: int, matches: list[re.Match] | None = None) -> list[FigureCI]:
    """Every 'figure (interval)' in text[start:end] whose interval brackets the figure.

    ``matches`` are those of FIGURE_CI_RE in text[start:end] when the caller has them already.
    """
    out = []
    for m in FIGURE_CI_RE.finditer(text, start, end) if matches is None else matches:
        val, lo, hi = to_float(m.group("val")), to_float(m.group("lo")), to_float(m.group("hi"))
        if val is None or lo is None or lo > val or (hi is not None and (val > hi or lo == hi)):
            continue
        if hi is None and m.group("hi")[:1] not in ("n", "N"):
            continue
        lvl = m.group("lvl1") or m.group("lvl2")
        level = float(lvl) if lvl else None
        out.append(FigureCI(m.start(), m.end(), val, lo, hi, _unit_of(m.group("vunit")), level,
                            bool(m.group("ci1") or m.group("ci2"))))
    return out


@dataclass
class Cue:
    """A word naming an effect measure (HR, odds ratio, ...)."""

    start: int
    end: int
    measure: str

    def __init__(self, start: int, end: int, measure: str) -> None:  # see FigureCI
        self.start = start
        self.end = end
        self.measure = measure


_BARE_AFTER_CUE_RE = compile_regex(
    r"(?:\s*+\[[A-Za-z]{2,4}\])?(?:\s*+\([A-Za-z]{2,4}\))?\s*+(?:[,:=]|\bof\b|\bwas\b|\bwere\b)?\s*+"
    r"(?P<val>\d{1,2}\.\d{1,4})(?![\d.]|\s?%|\s(?:months?|mo|years?|weeks?)\b)")


def ratios_without_ci(text: str, start: int, end: int, taken: list[FigureCI], cues: list[Cue]) -> list[FigureCI]:
    """Ratios stated with no interval ('HR, 0.62; P = .01'): a measure word right before a decimal.

    ``cues`` are the measure words of text[start:end].
    """
    out = []
    for cue in cues:
        if cue.measure in ("RD", "MD"):
            continue
        m = _BARE_AFTER_CUE_RE.match(text, cue.end, end)
        if not m or any(f.start <= m.start("val") < f.end for f in taken):
            continue
        if INTERACTION_RE.search(text, max(start, cue.start - 30), m.end()):
            continue
        value = to_float(m.group("val"))
        if value is not None and 0 < value < 20:
            out.append(FigureCI(m.start("val"), m.end("val"), value, None, None, None, None, False))
    return out


@dataclass
class PValue:
    """A p-value: relation, value and where it is written."""

    start: int
    end: int
    rel: str
    value: float

    def __init__(self, start: int, end: int, rel: str, value: float) -> None:  # see FigureCI
        self.start = start
        self.end = end
        self.rel = rel
        self.value = value


def _rel(sym: str) -> str:
    return {"\u2264": "<", "\u2265": ">"}.get(sym, sym)


_OTHER_P_BEFORE_RE = compile_regex(r"(?i)(?:interaction|heterogeneity|trend)\W*$|required|threshold")
_OTHER_P_NAMED_RE = compile_regex(r"(?i)-?\s*(?:interaction|heterogeneity|trend)")
_OTHER_P_AFTER_RE = compile_regex(r"(?i)\s*for\s+(?:non-?inferiority|interaction|trend|heterogeneity)")


def _not_the_estimate_p(text: str, m: re.Match) -> bool:
    """Interaction, trend and non-inferiority p-values and significance thresholds belong to no estimate."""
    before = text[max(0, m.start() - 20):m.start()]
    if _OTHER_P_BEFORE_RE.search(before):
        return True
    if _OTHER_P_NAMED_RE.match(text[m.start() + 1:m.start() + 16]):
        return True
    return bool(_OTHER_P_AFTER_RE.match(text[m.end():m.end() + 30]))


def p_values(text: str, start: int, end: int, allow_bare: bool = False) -> list[PValue]:
    """p-values of estimates in text[start:end]; interaction and threshold p-values are left out."""
    out = []
    for m in word_matches(P_RE, _P_FINDER_RE, text, start, end):
        if _not_the_estimate_p(text, m):
            continue
        exponent = f"e{'-' if m.group('neg') else ''}{m.group('exp')}" if m.group("exp") else ""
        val = to_float(m.group("num") + exponent)
        if val is None or val > 1:
            continue
        out.append(PValue(m.start(), m.end(), _rel(m.group("rel")), val))
    if allow_bare and not out:
        bare = BARE_P_RE.search(text, start, end)
        if bare and (val := to_float(bare.group("num"))) is not None:
            out.append(PValue(bare.start() + 1, bare.end(), bare.group("rel"), val))
    return out


def measure_cues(text: str, start: int, end: int) -> list[Cue]:
    out: list[Cue] = []
    for m in word_matches(CUE_RE, _CUE_FINDER_RE, text, start, end):
        measure = m.lastgroup
        assert measure is not None  # every alternative of CUE_RE is a named group
        out.append(Cue(m.start(), m.end(), measure))
    return out


# Finders for word_matches. A cue follows a character other than a letter or digit and starts with one of
# these (IGNORECASE letters of the words are among the ASCII ones CUE_RE's look-ahead allows); the finder's
# match is the character before it. Its look-ahead at the first letter turns most words away before the
# alternatives are tried one by one.
_CUE_FINDER_RE = compile_regex(
    r"[^A-Za-z0-9](?=[HOIRMAETBhoirmaetb\u0394])"
    r"(?:HR|OR|IRR|RR|MD|ARD|\u0394|[Hh](?i:azard ratio)|[Oo](?i:dds ratio)|[Ii](?i:ncidence rate ratio)"
    r"|[Rr](?i:ate ratio|isk ratio|elative risk|isk difference)|[Mm](?i:ean difference)|[Aa](?i:bsolute)"
    r"|[Ee](?i:stimated)|[Tt](?i:reatment)|[Bb](?i:etween-group))")
# A p-value follows a character other than an ASCII letter and opens with one of P_RE's words or with its 'p'
# and relation.
_P_FINDER_RE = compile_regex(r"[^A-Za-z](?:(?i:two-sided|one-sided|nominal|log-rank)|[Pp](?:\s?-?(?i:values?))?\s*+"
                             r"[<>=\u2264\u2265])")
# A figure starts with a digit, '.' or '-' that does not follow a word character or '.' (FIGURE_CI_RE's
# look-behind, two characters wide here since it comes after that first character). The finder's first
# character is '-', '.', 0-9 or any beyond ASCII (where every digit but 0-9 is): a table of bits, read
# far faster than \d's look-up of every character's category.
FIGURE_CI_FINDER_RE = compile_regex(r"[^\x00-,/:-\x7f](?<![\w.].)")


_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def digit_marks(text: str) -> bytes | None:
    """``text`` as bytes, one per character, with b'0' exactly where \\d matches and every other ASCII character as is.

    None when some character other than an ASCII digit is one to \\d. Looking for digits with
    bytes.find on these marks is many times faster than a regex scan of the text.
    """
    marks = text.encode("ascii", "replace")  # one byte per character, b'?' for the others
    if not text.isascii():
        q = marks.find(b"?")
        while q != -1:
            if text[q].isdecimal():
                return None
            q = marks.find(b"?", q + 1)
    return marks.translate(_ZERO_DIGITS)


def may_hold_interval(marks: bytes, start: int, end: int) -> bool:
    """False when FIGURE_CI_RE surely finds nothing in text[start:end] (``marks`` are the text's digit_marks).

    Most sentences with figures state none with an interval: the marks rule them out before the
    figure regex is tried at each of their numbers.
    """
    return FigureCI.INTERVAL_MARKS_RE.search(marks, start, end) is not None


def parse_int(s: str) -> int | None:
    digits = s.replace(",", "").replace(" ", "")
    return int(digits) if digits.isdigit() and len(digits) <= 9 else None
