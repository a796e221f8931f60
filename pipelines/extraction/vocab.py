"""Lexicons the extractor reads text with: endpoints, populations, and the subgroup vocabulary file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import ascii_lowercase

import pipelines
from pipelines.extraction.numbers import word_matches
from pipelines.extraction.prefilter import (
    Prefilter,
    fold,
    lower_ascii,
    lower_case_regex,
    opening_group,
    starts_with_word_char,
    top_level_alternatives,
)
from pipelines.regex_cache import compile_regex

# Found from the pipelines package, which stays in the project: a compiled build of this module
# (see _compiled) lives in another folder.
SUBGROUPS_PATH = Path(pipelines.__path__[0]).resolve().parent / "schemas" / "subgroups.toml"

# Ordered: at one position the first alternative wins, so composites and longer names
# come before their parts ("CV death or HHF" before "CV death", "PFS2" before "PFS").
_ENDPOINT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("PRIMARY", r"primary[- ](?:composite )?(?:end[- ]?point|outcome)|primary composite"),
    ("MACE", r"(?:CV|cardiovascular)(?: \(CV\))? death or (?:HHF|hospitali[sz]ations? for (?:heart failure|HF)|"
             r"(?:worsening |worse |a )?(?:heart failure|HF)(?: hospitali[sz]ations?| admissions?| events?)?)"),
    ("MACE", r"(?:HHF|hospitali[sz]ations? for (?:heart failure|HF)|(?:worsening |worse )(?:heart failure|HF))"
             r"(?: \([^()]{0,30}\))? or (?:CV|cardiovascular)(?: \(CV\))? (?:death|mortality)"),
    ("MACE", r"major adverse (?:cardiovascular|CV|cardiac) events?|\bMACE\b|major (?:CVD|CV|cardiovascular) events?"
             r"|composite (?:of |outcome|end ?point)(?!.{0,20}kidney)"),
    ("OTHER", r"progression-free survival 2|\bPFS2\b|second progression|chemotherapy(?:/ADC)?-free survival"
              r"|time to (?:first |second )?subsequent|\bstroke or systemic embol\w*|net (?:clinical )?(?:benefit|outcome)"),
    ("HOSP", r"hospitali[sz]ations? for (?:heart failure|HF)|(?:heart failure|HF) (?:hospitali[sz]ations?|admissions?)"
             r"|admissions? for (?:heart failure|HF)|\bHHF\b"
             r"|worsening (?:heart failure|HF)|worse HF"),
    ("MORTALITY", r"(?:CV|CVD|cardiovascular) (?:death|mortality)|death from (?:cardiovascular|CV|any) causes?"
                  r"|all-cause (?:death|mortality)|number of deaths|\bdeaths\b|\bmortality\b"),
    ("DRFS", r"distant (?:relapse|disease|recurrence|metastasis)-free (?:survival|interval)|\bDRFS\b|\bDDFS\b|\bDMFS\b"),
    ("iDFS", r"invasive disease-free survival|\bIDFS\b"),
    ("DFS", r"disease-free survival|\bDFS\b"),
    ("EFS", r"event-free survival|\bEFS\b"),
    ("RFS", r"(?:recurrence|relapse)-free survival|\bRFS\b"),
    ("PFS", r"progression-free survival|\bm?PFS\b|remained progression-free|(?:disease )?progression or death"),
    ("TTP", r"time to (?:disease )?progression|\bTTP\b"),
    ("OS", r"overall survival|\bOS\b|\bdeath\b"),
    ("pCR", r"pathologic(?:al)? complete response|\bpCR\b"),
    ("ORR", r"(?:objective|overall) response(?: rate)?|\bresponse rates?\b|\bORR\b"),
    ("DOR", r"duration of response|\bDOR\b"),
    ("CBR", r"clinical benefit rate|\bCBR\b"),
    ("AE", r"adverse events?|\bT?R?AEs?\b|bleed(?:s|ing)?\b|toxicit(?:y|ies)|side effects?|\brash\b|diarrh(?:o)?ea"
           r"|nausea|neutropenia|hyperglyc(?:a)?emia|fatigue"),
    ("OTHER", r"\bstroke\b|systemic embol\w*|myocardial infarction|\bMI\b|percutaneous coronary|\bPCI\b"
              r"|kidney (?:disease )?(?:events?|outcomes?|composite)|renal (?:events?|outcomes?|composite)"
              r"|limb events?|amputation|HbA1c|glycated hemoglobin|weight(?: loss)?\b|\bSNO\b"),
)
ENDPOINT_RE = compile_regex("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(_ENDPOINT_PATTERNS)),
                            re.IGNORECASE)


def _endpoint_alternation() -> tuple[re.Pattern, tuple[str, ...], dict[tuple[str, int], int]]:
    """The endpoint patterns as one regex for ASCII-lower-cased text, the label of each of its alternatives,
    and the group closing each alternative (by position in _ENDPOINT_ALTERNATIVES) where a letter tries it.

    Matching lower-cased patterns on lower-cased text (same length) is several times faster than
    IGNORECASE on this long alternation; every pattern above is written so that lower-casing keeps it
    valid. Every endpoint name starts a word, so positions inside words are ruled out first.

    Then the letter there picks the alternatives that can start with it: the patterns' own alternatives,
    in their order, which finds what the patterns tried in turn find, since those left out cannot match
    there. (An alternative whose first letter is not plain from the pattern is kept for every letter.)
    An empty group closing each alternative tells which one matched.
    """
    by_letter: dict[str, list[tuple[int, str, str]]] = {}
    for k, (alternative, label) in enumerate(_ENDPOINT_ALTERNATIVES):
        for letter in _opening_letters(alternative):
            by_letter.setdefault(letter, []).append((k, alternative, label))
    # The letter is told in two steps, a range of letters and then the letter, which tries fewer
    # look-aheads at each word than one step over every letter.
    groups, labels = [], []
    closing: dict[tuple[str, int], int] = {}
    for letters in _LETTER_RANGES:
        branches = []
        for letter in sorted(set(by_letter) & set(letters)):
            closed = []
            for k, alternative, label in by_letter[letter]:
                labels.append(label)
                closing[letter, k] = len(labels)
                closed.append(f"{alternative}(?P<a{len(labels)}>)")  # group number len(labels)
            branches.append(f"(?={letter})(?:{'|'.join(closed)})")
        if branches:
            groups.append(f"(?=[{letters}])(?:{'|'.join(branches)})")
    return compile_regex(rf"{_ENDPOINT_WORD_START}(?:{'|'.join(groups)})"), tuple(labels), closing


def _endpoint_alternatives() -> tuple[tuple[str, str], ...]:
    """Every top-level alternative of the endpoint patterns in lower case, in order, with its pattern's label."""
    out: list[tuple[str, str]] = []
    for label, pattern in _ENDPOINT_PATTERNS:
        alternatives = top_level_alternatives(pattern.lower())
        # Split only at top-level bars: each piece is a whole regex without groups of its own.
        if "|".join(alternatives) != pattern.lower() or any(compile_regex(a).groups for a in alternatives):
            raise ValueError(f"endpoint pattern not split at top-level bars: {pattern}")
        out.extend((alternative, label) for alternative in alternatives)
    return tuple(out)


_ENDPOINT_ALTERNATIVES = _endpoint_alternatives()


_LETTER_RANGES = ("abcdef", "ghijklm", "nopqr", "stuvwxyz")


_ENDPOINT_WORD_START = "(?=[a-z])(?<![a-z0-9])"


def _opening_letters(pattern: str) -> str:
    """The letters a to z a match of ``pattern`` (no IGNORECASE) can start with; all of them when unsure.

    Read from the parsed pattern, which sees through optional openings ('m?pfs' starts with m or p), so
    fewer alternatives are tried at each word. Zero-width assertions are passed over, which can only
    leave in letters that cannot start a match.
    """
    try:
        # The parser of the running Python (missing from typeshed's stubs); any surprise keeps every letter.
        from re import _parser  # type: ignore[attr-defined]
        chars, nullable = _first_chars(_parser.parse(pattern).data, _parser)
    except Exception:  # noqa: BLE001
        return ascii_lowercase
    if chars is None or nullable:
        return ascii_lowercase
    return "".join(letter for letter in ascii_lowercase if letter in chars)


def _first_chars(items, p) -> tuple[set[str] | None, bool]:
    """(characters a match of the parsed sequence ``items`` can start with or None when unsure, whether it can be empty)."""
    out: set[str] = set()
    for op, av in items:
        if op is p.LITERAL:
            out.add(chr(av))
            return out, False
        if op is p.IN:
            for kind, value in av:
                if kind is p.LITERAL:
                    out.add(chr(value))
                elif kind is p.RANGE:
                    out.update(map(chr, range(value[0], value[1] + 1)))
                else:
                    return None, False
            return out, False
        if op is p.AT or op is p.ASSERT or op is p.ASSERT_NOT:
            continue
        if op is p.SUBPATTERN:
            if av[1] or av[2]:  # inline flags
                return None, False
            chars, nullable = _first_chars(av[3].data, p)
        elif op is p.BRANCH:
            chars, nullable = set(), False
            for alternative in av[1]:
                found, empty = _first_chars(alternative.data, p)
                if found is None:
                    return None, False
                chars |= found
                nullable = nullable or empty
        elif op is p.MAX_REPEAT or op is p.MIN_REPEAT or op is p.POSSESSIVE_REPEAT:
            chars, nullable = _first_chars(av[2].data, p)
            nullable = nullable or av[0] == 0
        else:
            return None, False
        if chars is None:
            return None, False
        out |= chars
        if not nullable:
            return out, False
    return out, True


# The alternative that closed with group i + 1 names the endpoint _ENDPOINT_LABELS[i].
_ENDPOINT_LOWER_RE, _ENDPOINT_LABELS, _ENDPOINT_GROUPS = _endpoint_alternation()
# The same regex taking in the character before the name. Searching for it lets the engine skip letters
# and digits outright, where the regex above is tried at every position; its matches are those of the
# regex above, one character earlier, at every position but the first of the text.
_AFTER_SEPARATOR_RE = compile_regex("[^a-z0-9](?=[a-z])" + _ENDPOINT_LOWER_RE.pattern[len(_ENDPOINT_WORD_START):])


def _letter_and_rest(alternative: str) -> list[tuple[str, str]]:
    """An endpoint alternative, read at a word start after a non-word character, as (letter, rest) pairs: there
    it matches what the first pair to match does, a pair matching where its letter is followed by its rest.

    The pairs come in the order the engine tries the alternative's ways to match. A leading \\b holds at
    such a place and goes; an optional opening gives the pairs with it, then those without; each of a
    group's alternatives is followed by what comes after the group.
    """
    if alternative.startswith("\\b"):
        alternative = alternative[2:]
    group = opening_group(alternative)
    if group is not None and group[1] in ("", "?"):
        body, quantifier, rest = group
        out = [pair for inner in top_level_alternatives(body) for pair in _letter_and_rest(inner + rest)]
        return out + _letter_and_rest(rest) if quantifier else out
    letter, after = alternative[:1], alternative[1:2]
    if letter not in ascii_lowercase or after in ("*", "+", "{"):
        raise ValueError(f"endpoint alternative not read letter first: {alternative}")
    if after == "?":
        return [(letter, alternative[2:]), *_letter_and_rest(alternative[2:])]
    return [(letter, alternative[1:])]


def _plain_word_alternation() -> tuple[re.Pattern, tuple[int, ...]]:
    """_AFTER_SEPARATOR_RE for text in which no character but a-z and 0-9 is a word character, and for each of
    its groups the group of _ENDPOINT_LOWER_RE closing the same alternative (0 for group 0).

    There every separator starts a word, each alternative is a letter and a rest (_letter_and_rest), and
    the letter is picked by a branch that opens with it: the engine passes over such a branch at one
    comparison, where a look-ahead costs a call. The same alternatives are tried in the same order.
    """
    by_letter: dict[str, list[tuple[str, int]]] = {}
    for k, (alternative, _label) in enumerate(_ENDPOINT_ALTERNATIVES):
        for letter, rest in _letter_and_rest(alternative):
            by_letter.setdefault(letter, []).append((rest, _ENDPOINT_GROUPS[letter, k]))
    branches, groups = [], [0]
    for letter, rests in sorted(by_letter.items()):
        closed = []
        for rest, group in rests:
            groups.append(group)
            closed.append(f"{rest}(?P<a{len(groups) - 1}>)")
        branches.append(f"{letter}(?:{'|'.join(closed)})")
    return compile_regex(f"[^a-z0-9](?:{'|'.join(branches)})"), tuple(groups)


_PLAIN_WORD_RE, _PLAIN_WORD_GROUPS = _plain_word_alternation()
_SAME_GROUPS = tuple(range(_ENDPOINT_LOWER_RE.groups + 1))


def endpoint_matches(lowered: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(start, end, lastindex)`` of each match of ``_ENDPOINT_LOWER_RE.finditer(lowered, start, end)``.

    ``lowered`` is in lower case as ascii_lower leaves it (no A-Z).
    """
    # Every alternative of _ENDPOINT_LOWER_RE is a group, so lastindex is never None.
    out: list[tuple[int, int, int]] = []
    if start == 0:
        m = _ENDPOINT_LOWER_RE.match(lowered, 0, end)
        if m is not None:
            assert m.lastindex is not None
            out.append((0, m.end(), m.lastindex))
            start = m.end()
    # A match at ``start`` or later is one of _AFTER_SEPARATOR_RE a character before; matches are never
    # empty, so the next one is looked for from the end of the last, as finditer does. Where the text read
    # is ASCII without '_', its only word characters are a-z and 0-9, and _PLAIN_WORD_RE finds the same.
    pos = start - 1 if start else 0
    read = lowered[pos:end]
    if read.isascii() and "_" not in read:
        search, groups = _PLAIN_WORD_RE.search, _PLAIN_WORD_GROUPS
    else:
        search, groups = _AFTER_SEPARATOR_RE.search, _SAME_GROUPS
    while (m := search(lowered, pos, end)) is not None:
        pos = m.end()
        assert m.lastindex is not None
        out.append((m.start() + 1, pos, groups[m.lastindex]))
        pos -= 1
    return out


def ascii_lower(text: str) -> str:
    """``text`` with A-Z in lower case, every other character as it is (same length)."""
    return lower_ascii(text)

_CASE_SENSITIVE = {"OS", "MI", "PCI", "SNO", "OR"}


def endpoint_mentions(text: str, start: int = 0, end: int | None = None,
                      lowered: str | None = None) -> list[tuple[int, int, str]]:
    """(start, end, endpoint) of every endpoint named in text[start:end]; PRIMARY marks 'primary end point'.

    ``lowered`` is ``ascii_lower(text)`` when the caller keeps one.
    """
    end = len(text) if end is None else end
    lowered = ascii_lower(text[:end]) if lowered is None else lowered
    out = []
    labels = _ENDPOINT_LABELS
    for s, e, group in endpoint_matches(lowered, start, end):
        word = text[s:e]
        # Short abbreviations count only in capitals: "os" or "mi" inside prose are not endpoints.
        if word.strip().upper() in _CASE_SENSITIVE and word != word.upper():
            continue
        out.append((s, e, labels[group - 1]))
    return out


OVERALL_RE = compile_regex(
    r"\boverall (?:study )?(?:population|cohort|HER2-low \w+ \w+ \w+ cohort|\w+ cohort)\b|\ball(?: the)? (?:randomi[sz]ed )?"
    r"(?:patients|pts|participants|subjects)\b|\ball-patient population\b|\bintention-to-treat\b|\bintent-to-treat\b"
    r"|\bITT\b|\bfull (?:cohort|population|analysis set)\b|\btotal (?:patient |study )?population\b"
    r"|\bentire (?:population|cohort|study)\b|\bwhole (?:population|cohort)\b|\bwhen all patients\b"
    r"|\bregardless of\b|\birrespective of\b|\b(?:patients|participants) (?:randomi[sz]ed|enrolled) (?:while|when|during|after)\b",
    re.IGNORECASE)

# Mentions of a narrower population that the vocabulary file does not name.
GENERIC_SUBGROUP_RE = compile_regex(
    r"\b(?:in|among|for) (?:the )?(?:\d+% of )?(?:those|pts|patients|participants|women|men) "
    r"(?:who (?:had|have|were exposed)|with(?:out)? (?:a |an )?(?:history|prior|previous|dietary|baseline|high|low))\b"
    r"|\b(?:in|among|for) those (?:with|without|who had|who have|who were exposed)\b|\b\d+% of (?:patients|pts|participants) (?:who|with)\b"
    r"|\b(?:this|the) subgroup\b|\bsubgroup (?:of|with)\b|\b\w+ subgroup\b|\bsubset\b|\bcohort (?:of patients )?with(?:out)?\b",
    re.IGNORECASE)

# "In patients with visceral metastases, ...": a narrower population unless the words describe who was
# enrolled ("in patients with early-stage TNBC" in a TNBC trial); the caller passes the enrolment words.
PATIENTS_WITH_RE = compile_regex(
    r"\b(?:in|among|for) (?:the )?(?:\d[\d,]* )?(?:patients|participants|pts|those|women|men) "
    r"(?:with(?:out)?|whose|who had|who have)\s+(?P<x>[^,;()\d]{3,60})", re.IGNORECASE)
# "in the 41-49% group": a band of some measurement, named by its range alone; the caller may learn
# which measurement from an earlier mention of the same band ("LVEF 41-49%").
BAND_RE = compile_regex(
    r"\b(?:in|among|for) the (?P<level>\d+(?:\.\d+)?\s?-\s?\d+(?:\.\d+)?\s?%|[<>\u2264\u2265]=?\s?\d+(?:\.\d+)?\s?%)"
    r" (?:group|subgroup|stratum|band|category)\b", re.IGNORECASE)
_TRIAL_WORD_MIN = 4
_CLAUSE_START_RE = compile_regex(r"(?:[;:(,.\n]|\b(?:and|but|while|whereas))\s*$", re.IGNORECASE)

SUBGROUP_BLOCKERS = compile_regex(
    r"(?:regardless of|irrespective of|independent of|stratified (?:by|according to)|according to|by|across|based on"
    r"|upon|on the basis of|detection of|emergent|with (?:or|and) without|with (?:or|and))\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE)
NEGATION_RE = compile_regex(r"(?:\bwithout|\bno|\bnon-|\bnot|\bneither)\s*(?:\w+\s+){0,2}$|\bnon-?$", re.IGNORECASE)


@dataclass(frozen=True)
class SubgroupTerm:
    """One entry of the subgroup vocabulary with its compiled patterns."""

    variable: str
    level: str
    negated_level: str | None
    patterns: tuple[re.Pattern, ...]


@lru_cache(maxsize=4)
def load_subgroups(path: str | None = None) -> tuple[SubgroupTerm, ...]:
    """Read the subgroup vocabulary (schemas/subgroups.toml unless ``path`` is given).

    A vocabulary that cannot be read is an error: without it every subgroup would read as the
    whole population, and nothing would say why."""
    file = Path(path) if path else SUBGROUPS_PATH
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuntimeError(f"{file}: the subgroup vocabulary cannot be read ({exc})") from None
    terms = []
    for entry in data.get("subgroup", []):
        pats = []
        for p in entry.get("patterns", []):
            try:
                pats.append(compile_regex(p, re.IGNORECASE))
            except re.error as exc:
                # Skipped, the pattern's subgroup would read as the whole population without a word.
                where = f"{entry.get('variable')} = {entry.get('level')}"
                raise RuntimeError(f"{file}: pattern {p!r} of {where} is not a valid regex ({exc})") from None
        if entry.get("variable") and pats:
            terms.append(SubgroupTerm(entry["variable"], entry.get("level", ""),
                                      entry.get("negated_level"), tuple(pats)))
    return tuple(terms)


@dataclass(frozen=True)
class PopulationCue:
    """A population named in text: overall, or a subgroup with its normalized variable and level."""

    start: int
    end: int
    overall: bool
    label: str | None = None
    variable: str | None = None
    level: str | None = None

    def __init__(self, start: int, end: int, overall: bool, label: str | None = None, variable: str | None = None,
                 level: str | None = None) -> None:
        # Written out in place of the frozen dataclass's, which runs as plain Python even compiled: cues are
        # made for most sentences read. Compiled (see _compiled), a cue has no __dict__ to write the fields into.
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "overall", overall)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "variable", variable)
        object.__setattr__(self, "level", level)


@lru_cache(maxsize=4)
def _any_subgroup_re(path: str | None = None) -> re.Pattern | None:
    """One pattern matching where any vocabulary pattern could: most sentences name no subgroup at all.

    Patterns opening with a word boundary share one check of it, which makes the scan several times
    faster than running each pattern; the first hit is where the single patterns start looking.
    """
    parts = _union_parts(path)
    at_word = [body for body, word in parts if word]
    other = [body for body, word in parts if not word]
    bodies = ([_AT_WORD + "(?:" + "|".join(at_word) + ")"] if at_word else []) + [f"(?:{b})" for b in other]
    try:
        return compile_regex("|".join(bodies), re.IGNORECASE) if bodies else None
    except re.error:
        return None


_AT_WORD = r"(?=\w)(?<!\w)"


def _union_parts(path: str | None = None) -> list[tuple[str, bool]]:
    """Each vocabulary pattern as _any_subgroup_re joins it: without group names, and whether it opens at a word."""
    out = []
    for term in load_subgroups(path):
        for pat in term.patterns:
            body = re.sub(r"\(\?P<\w+>", "(?:", pat.pattern)
            out.append((body[2:], True) if body.startswith("\\b") else (body, False))
    return out


@dataclass(frozen=True)
class _VocabularyIndex:
    """The vocabulary's patterns and the strings they need: a sentence lacking those rules most patterns out at once."""

    patterns: tuple[tuple[SubgroupTerm, re.Pattern], ...]
    strings: tuple[str, ...]
    # For each string, the patterns (by position) of which every match contains it or another string they list.
    users: tuple[tuple[int, ...], ...]
    # Patterns no string rules out.
    always: tuple[int, ...]
    # Each pattern's part of _any_subgroup_re on its own (None when a part does not compile alone).
    openers: tuple[re.Pattern, ...] | None
    # The same in lower case for fold-ed text (see lower_case_regex), where one can be had.
    folded_openers: tuple[re.Pattern | None, ...]
    # Each pattern's Prefilter, which runs it on fold-ed text when it can.
    filters: tuple[Prefilter, ...]
    # Patterns whose part of _any_subgroup_re surely matches wherever they do: for these alone, starting
    # at the union's first hit finds what starting at the sentence start does.
    seen_by_union: frozenset[int]
    # For each pattern, sets of lower-case strings of which its matches hold one each (see _required_strings),
    # but for those any candidate meets (see _unmet): the strings above rule a pattern in when one of a few
    # words is there, these all together rule most out.
    requirements: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # The strings to look for in turn, alone or behind a piece several share (see _gated); set on creation.
    plan: tuple[tuple[str, tuple[str, ...] | None], ...] | None = field(default=None, init=False, compare=False)
    by_string: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, compare=False, repr=False)

    def live(self, folded: str, candidates: list[int]) -> list[int]:
        """Those of ``candidates`` (see candidates) whose every requirement the ``fold``-ed text meets; the others
        cannot match it."""
        out = []
        requirements = self.requirements
        for k in candidates:
            for strings in requirements[k]:
                for string in strings:
                    if string in folded:
                        break
                else:
                    break
            else:
                out.append(k)
        return out

    def candidates(self, folded: str) -> list[int]:
        """Positions, in vocabulary order, of the patterns that may match the ``fold``-ed text."""
        live = set(self.always)
        if self.plan is not None:
            for key, group in self.plan:
                if key in folded:
                    if group is None:
                        live.update(self.by_string[key])
                        continue
                    for string in group:
                        if string in folded:
                            live.update(self.by_string[string])
            return sorted(live)
        for string, users in zip(self.strings, self.users):
            if string in folded:
                live.update(users)
        return sorted(live)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_string", dict(zip(self.strings, self.users)))
        object.__setattr__(self, "plan", _gated(self.strings) if self.strings and all(self.strings) else None)

    def first_hit(self, text: str, start: int, end: int, live: list[int], anywhere: re.Pattern,
                  folded_text: str | None = None) -> int | None:
        """Where ``anywhere`` first matches text[start:end]: the earliest of the parts of the ``live`` patterns,
        those meeting their requirements there (see live), since no other part can match there.

        ``start`` itself when every live pattern is seen by the union (and then maybe none matches).
        ``folded_text`` is ``fold(text)`` when the caller keeps one.
        """
        if self.seen_by_union.issuperset(live):
            return start
        if self.openers is None:
            m = anywhere.search(text, start, end)
            return m.start() if m else None
        hits = []
        for k in live:
            if k in self.seen_by_union:
                # The part matches where its pattern does, whose Prefilter finds the first match sooner.
                m = next(self.filters[k].matches(text, start, end, folded_text), None)
            else:
                lowered = self.folded_openers[k] if folded_text is not None else None
                m = lowered.search(folded_text, start, end) if lowered else self.openers[k].search(text, start, end)
            if m:
                hits.append(m.start())
        return min(hits) if hits else None


@lru_cache(maxsize=4)
def _vocabulary_index(path: str | None = None) -> _VocabularyIndex:
    patterns = tuple((term, pat) for term in load_subgroups(path) for pat in term.patterns)
    users: dict[str, list[int]] = {}
    always = []
    filters = tuple(Prefilter(pat) for _term, pat in patterns)
    for k, pat_filter in enumerate(filters):
        texts = pat_filter.texts
        if texts is None:
            always.append(k)
        for string in texts or ():
            users.setdefault(string, []).append(k)
    parts = _union_parts(path)
    try:
        openers = tuple(compile_regex(_AT_WORD + f"(?:{body})" if word else f"(?:{body})", re.IGNORECASE)
                        for body, word in parts)
    except re.error:
        openers = None
    folded_openers = tuple(lower_case_regex(o) for o in openers or ())
    # A part differs from its pattern by the word check replacing a leading \b, which is the same test when
    # a word character follows, and by group names, which matter only to back-references.
    seen = frozenset(k for k, (body, word) in enumerate(parts)
                     if not _BACK_REFERENCE.search(body) and (not word or starts_with_word_char(body)))
    return _VocabularyIndex(patterns, tuple(users), tuple(tuple(u) for u in users.values()), tuple(always),
                            openers, folded_openers, filters, seen,
                            tuple(_unmet(regex_requirements(pat), f.texts) for (_t, pat), f in zip(patterns, filters)))


def _unmet(needs: tuple[tuple[str, ...], ...], texts: tuple[str, ...] | None) -> tuple[tuple[str, ...], ...]:
    """``needs`` without the sets a text holding one of ``texts`` surely meets: those with a piece of each of them.

    A pattern is a candidate only when one of its Prefilter's texts is there, and a Prefilter's may_match
    holds only then: after either, these sets need no test.
    """
    if not texts:
        return needs
    return tuple(strings for strings in needs if not all(any(s in text for s in strings) for text in texts))


def regex_requirements(regex: re.Pattern) -> tuple[tuple[str, ...], ...]:
    """Sets of strings of which every match of ``regex`` holds one each, in lower case for ``fold``-ed text.

    Read from the parsed pattern; none when it cannot be parsed here.
    """
    try:
        # The parser of the running Python (missing from typeshed's stubs); any surprise gives no requirement.
        from re import _parser  # type: ignore[attr-defined]
        found = _required_strings(_parser.parse(regex.pattern, regex.flags).data, _parser)
    except Exception:  # noqa: BLE001
        return ()
    # The longest first: they are the likeliest to be missing.
    return tuple(sorted(found, key=lambda strings: -min(map(len, strings))))


def _required_strings(items, p) -> list[tuple[str, ...]]:
    """For the parsed sequence ``items``: sets of strings of which each match holds one each.

    Runs of ASCII literals, in lower case: a string occurs in text matched with or without IGNORECASE
    only where its lower case occurs in ``fold`` of that text. Alternatives give the union of one set
    each; a group or a repeat that must occur gives its own. Anything else (classes, assertions, optional
    parts, non-ASCII characters) only ends a run, so every string is surely required.
    """
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in items:
        if op is p.LITERAL and av < 128:
            run.append(chr(av).lower())
            continue
        if run:
            out.append(("".join(run),))
            run = []
        if op is p.SUBPATTERN:
            out.extend(_required_strings(av[3].data, p))
        elif op is p.BRANCH:
            alternatives = [_required_strings(a.data, p) for a in av[1]]
            if all(alternatives):
                out.append(tuple(s for a in alternatives for s in max(a, key=lambda strings: min(map(len, strings)))))
        elif (op is p.MAX_REPEAT or op is p.MIN_REPEAT or op is p.POSSESSIVE_REPEAT) and av[0] >= 1:
            out.extend(_required_strings(av[2].data, p))
    if run:
        out.append(("".join(run),))
    return out


def _gated(strings: tuple[str, ...], shortest: int = 4, longest: int = 12) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """The strings to look for in turn: each alone, or a piece several of them share with those strings.

    A string holding the piece occurs only where the piece does, so most of a group is ruled out by one
    test. Pieces are taken greedily, the one shared by most strings first.
    """
    holders: dict[str, set[str]] = {}
    for string in strings:
        for i in range(len(string)):
            for j in range(i + shortest, min(len(string), i + longest) + 1):
                holders.setdefault(string[i:j], set()).add(string)
    holders = {piece: held for piece, held in holders.items() if len(held) >= 2}
    left = set(strings)
    groups: list[tuple[str, tuple[str, ...] | None]] = []
    while holders:
        count, _length, piece = max((len(held & left), len(piece), piece) for piece, held in holders.items())
        if count < 2:
            break
        group = tuple(s for s in strings if s in left and s in holders[piece])
        groups.append((piece, group))
        left.difference_update(group)
    alone: list[tuple[str, tuple[str, ...] | None]] = [(s, None) for s in strings if s in left]
    return tuple(alone + groups)


_BACK_REFERENCE = compile_regex(r"\\\d|\(\?P=")


_NEGATED_TERM_RE = compile_regex(r"(?i)(?:without|non-?|no|not|free of)\b")


def _vocab_cues(text: str, start: int, end: int, folded: str, folded_text: str | None = None) -> list[PopulationCue]:
    """Cues of the subgroup vocabulary in text[start:end]; ``folded`` is ``fold(text[start:end])``,
    ``folded_text`` ``fold(text)`` when the caller keeps one."""
    out: list[PopulationCue] = []
    index = _vocabulary_index()
    candidates = index.candidates(folded)
    if not candidates:
        return out
    live = index.live(folded, candidates)
    if not live:
        return out
    anywhere = _any_subgroup_re()
    # Patterns seen by the union find the same matches from the union's first hit as from ``start``: the
    # hit is looked for only when a pattern that may match is not seen by it.
    if anywhere is not None and not index.seen_by_union.issuperset(live):
        first = index.first_hit(text, start, end, live, anywhere, folded_text)
        if first is None:
            return out
        start = first
    for k in live:
        term, pat = index.patterns[k]
        for m in index.filters[k].matches(text, start, end, folded_text):
            cue = _vocab_cue(text, term, pat, m, folded_text)
            if cue is not None:
                out.append(cue)
    return out


def _vocab_cue(text: str, term: SubgroupTerm, pat: re.Pattern, m: re.Match,
               folded_text: str | None) -> PopulationCue | None:
    """The cue a match ``m`` of the vocabulary pattern ``pat`` of ``term`` names; None where the words before it
    keep it from naming a subgroup ('regardless of ...') or it names a status ('ESR1 status')."""
    at = m.start()
    if text.startswith(" status", m.end()):
        return None
    # The look-backs run only where the words they need are there (Prefilter on the folded text).
    lead = max(0, at - 40)
    lead_folded = folded_text[lead:at] if folded_text is not None else fold(text[lead:at])
    if _BLOCKERS_FILTER.may_match(lead_folded) and _found(_BLOCKERS_LOWER, SUBGROUP_BLOCKERS, text, lead, at,
                                                          lead_folded):
        return None
    near = max(0, at - 25)
    near_folded = lead_folded[near - lead:]
    negated = bool(_NEGATION_FILTER.may_match(near_folded)
                   and _found(_NEGATION_LOWER, NEGATION_RE, text, near, at, near_folded)
                   or _NEGATED_TERM_RE.match(m.group(0)))
    level = term.level
    if "level" in pat.groupindex and m.group("level"):
        level = m.group("level")
    if negated:
        level = term.negated_level or f"not {level}"
    label_start = _label_start(text, at, negated) if negated else at
    return PopulationCue(at, m.end(), False, text[label_start:m.end()].strip(), term.variable, level)


_BLOCKERS_FILTER = Prefilter(SUBGROUP_BLOCKERS)
_NEGATION_FILTER = Prefilter(NEGATION_RE)
# The same in lower case for fold-ed text (see lower_case_regex): IGNORECASE makes the engine try every
# alternative in full at every position, where in lower case it passes over those whose first letter differs.
_BLOCKERS_LOWER = lower_case_regex(SUBGROUP_BLOCKERS)
_NEGATION_LOWER = lower_case_regex(NEGATION_RE)


def _found(lowered: re.Pattern | None, regex: re.Pattern, text: str, start: int, end: int, folded: str) -> bool:
    """Whether ``regex`` finds something in text[start:end], whose ``fold`` is ``folded``; ``lowered`` is
    ``lower_case_regex(regex)``, searched there instead when there is one."""
    if lowered is not None:
        return lowered.search(folded) is not None
    return regex.search(text[start:end]) is not None


def _label_start(text: str, pos: int, negated: bool) -> int:
    if not negated:
        return pos
    m = NEGATION_RE.search(text[max(0, pos - 25):pos])
    return max(0, pos - 25) + m.start() if m else pos


# Runs of these characters, only those of _TRIAL_WORD_MIN or more (a shorter run holds no such run).
_CONTENT_WORD_RE = compile_regex(r"[a-z0-9+-]{%d,}" % _TRIAL_WORD_MIN)
_WITHOUT_EITHER_RE = compile_regex(r"(?i)(?:or|and) without")
_BAND_LEAD_RE = compile_regex(r"^(?:in|among|for) the ", re.IGNORECASE)
_WHOLE_POPULATION_WORD_RE = compile_regex(r"overall|all-patient|ITT|intention|entire|total", re.IGNORECASE)


_PATIENTS_WITH_FILTER = Prefilter(PATIENTS_WITH_RE)
_BAND_FILTER = Prefilter(BAND_RE)
_OVERALL_FILTER = Prefilter(OVERALL_RE)
_GENERIC_SUBGROUP_FILTER = Prefilter(GENERIC_SUBGROUP_RE)


def content_words(text: str) -> set[str]:
    """The runs of letters, digits, '+' and '-' in ``text`` in lower case, of _TRIAL_WORD_MIN characters or more."""
    return set(_CONTENT_WORD_RE.findall(text.lower()))


def population_cues(text: str, start: int, end: int, trial_words: frozenset[str] | None = None,
                    folded_text: str | None = None) -> list[PopulationCue]:
    """Every population cue in text[start:end], ordered by position; overlapping cues keep the longest.

    With ``trial_words`` (words of the enrolment sentences), 'patients with X' counts as a subgroup
    when X is not how the enrolled population was described. ``folded_text`` is ``fold(text)`` when
    the caller keeps one.
    """
    folded = fold(text[start:end]) if folded_text is None else folded_text[start:end]
    cues = _vocab_cues(text, start, end, folded, folded_text)
    if trial_words is not None:
        for m in _scan(_PATIENTS_WITH_FILTER, _PATIENTS_WITH_NEEDS, text, start, end, folded, folded_text):
            words = content_words(m.group("x")) - _GENERIC_WORDS
            # Only a fronted phrase ("In patients with X, the HR was ...") names a subgroup; one trailing a
            # comparison ("... vs placebo in patients with X") usually restates who was enrolled.
            before = text[max(start, m.start() - 12):m.start()]
            fronted = not before.strip() or _CLAUSE_START_RE.search(before)
            if fronted and words and not words & trial_words and not _WITHOUT_EITHER_RE.match(m.group("x")):
                cues.append(PopulationCue(m.start(), m.end(), False, _generic_label(text, m), None, None))
    # Every band's level ends with '%': most sentences lack one, and the scan is skipped.
    for m in _scan(_BAND_FILTER, _BAND_NEEDS, text, start, end, folded, folded_text) if "%" in folded else ():
        label = _BAND_LEAD_RE.sub("", m.group(0))
        cues.append(PopulationCue(m.start(), m.end(), False, label, None, band_level(m.group("level"))))
    for m in _scan(_OVERALL_FILTER, _OVERALL_NEEDS, text, start, end, folded, folded_text):
        before = text[max(0, m.start() - 20):m.start()].lower()
        if before.endswith(("consistent with the ", "similar to the ", "similar results to the ",
                            "to those of the ", "than the ")):
            continue
        cues.append(PopulationCue(m.start(), m.end(), True))
    for m in _generic_subgroup_matches(text, start, end, folded, folded_text):
        if _WHOLE_POPULATION_WORD_RE.search(m.group(0)):
            continue
        cues.append(PopulationCue(m.start(), m.end(), False, _generic_label(text, m), None, None))
    if len(cues) < 2:
        return cues
    cues.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[PopulationCue] = []
    for c in cues:
        if kept and c.start < kept[-1].end:
            prev = kept[-1]
            # A vocabulary cue is more specific than a generic one at the same place.
            if prev.variable is None and not prev.overall and c.variable is not None:
                kept[-1] = PopulationCue(prev.start, max(prev.end, c.end), False, c.label, c.variable, c.level)
            continue
        kept.append(c)
    return kept


# Where GENERIC_SUBGROUP_RE's matches start, in lower case on fold-ed text, with the character before them,
# which is not a word character: every one starts so, but for '(this|the) subgroup' and '\w+ subgroup', which
# need ' subgroup'. That character is looked for as one that is not an ASCII letter, digit or '_', which the
# engine tests far faster than \w and which takes in every non-word character.
_GENERIC_FINDER_RE = compile_regex(
    r"[^a-z0-9_](?:(?:in|among|for) (?:the )?(?:\d+% of )?(?:those|pts|patients|participants|women|men) (?:who |with)"
    r"|\d+% of (?:patients|pts|participants) (?:who|with)|subgroup (?:of|with)|subset|cohort (?:of patients )?with)")


def _generic_subgroup_matches(text: str, start: int, end: int, folded: str, folded_text: str | None) -> list[re.Match]:
    """GENERIC_SUBGROUP_RE's matches in text[start:end] (``folded`` is fold of that, ``folded_text`` of ``text``).

    The regex tries eight alternatives at every word, one of them backtracking through the word; without
    ' subgroup' in the sentence, the finder above leads to the few places where it can match.
    """
    generic = _GENERIC_SUBGROUP_FILTER
    if not generic.may_match(folded) or not _meets(folded, _GENERIC_SUBGROUP_NEEDS):
        return []
    if folded_text is None or generic.lowered is None or " subgroup" in folded:
        return list(generic.matches(text, start, end, folded_text))
    match = GENERIC_SUBGROUP_RE.match
    out: list[re.Match] = []
    for m in word_matches(generic.lowered, _GENERIC_FINDER_RE, folded_text, start, end):
        found = match(text, m.start(), end)
        assert found is not None  # the lowered regex matches fold(text) only where the regex matches text
        out.append(found)
    return out


def _meets(folded: str, needs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the ``fold``-ed text holds a string of each set of ``needs`` (see regex_requirements)."""
    for strings in needs:
        for string in strings:
            if string in folded:
                break
        else:
            return False
    return True


def _scan(prefilter: Prefilter, needs: tuple[tuple[str, ...], ...], text: str, start: int, end: int, folded: str,
          folded_text: str | None):
    """``prefilter.finditer``, skipped also when a string the regex needs is missing (all of them, not one)."""
    if not prefilter.may_match(folded) or not _meets(folded, needs):
        return ()
    return prefilter.matches(text, start, end, folded_text)


# Every string set each regex needs but those its Prefilter's may_match meets (see _unmet): a Prefilter
# tests one set only.
_PATIENTS_WITH_NEEDS = _unmet(regex_requirements(PATIENTS_WITH_RE), _PATIENTS_WITH_FILTER.texts)
_BAND_NEEDS = _unmet(regex_requirements(BAND_RE), _BAND_FILTER.texts)
_OVERALL_NEEDS = _unmet(regex_requirements(OVERALL_RE), _OVERALL_FILTER.texts)
_GENERIC_SUBGROUP_NEEDS = _unmet(regex_requirements(GENERIC_SUBGROUP_RE), _GENERIC_SUBGROUP_FILTER.texts)

_BLANKS_RE = compile_regex(r"\s+")


def band_level(level: str) -> str:
    """A band written with or without blanks ('41 - 49 %', '41-49%') as one level."""
    return _BLANKS_RE.sub("", level)


_GENERIC_WORDS = {"patients", "participants", "disease", "treatment", "therapy", "those", "their", "with", "without",
                  "were", "have", "that", "this", "also", "more", "less", "least", "after", "before", "prior"}


_LABEL_TAIL_RE = compile_regex(r"[^,;()]{0,60}")
_LABEL_STOP_RE = compile_regex(r"\s(?:the|HR|HRs|hazard|was|were|had|\d[\d.]*)\b")
_LABEL_LEAD_RE = compile_regex(r"^(?:in|among|for) (?:the )?", re.IGNORECASE)


def _generic_label(text: str, m: re.Match) -> str:
    tail = _LABEL_TAIL_RE.match(text[m.end():])
    words = (m.group(0) + (tail.group(0) if tail else "")).strip()
    words = _LABEL_STOP_RE.split(words, maxsplit=1)[0]
    words = _LABEL_LEAD_RE.sub("", words)
    return words.strip(" .") or m.group(0)
