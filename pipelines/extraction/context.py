"""Article context: sentences, paragraphs, endpoint and population attribution across sentences."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from pipelines.extraction.numbers import FIGURE_CI_FINDER_RE, FIGURE_CI_RE, Cue, measure_cues, word_matches
from pipelines.extraction.prefilter import Openings, fold_lowered
from pipelines.extraction.text import Normalized, Sentence, normalize, sentences
from pipelines.extraction.vocab import (
    ENDPOINT_RE,
    PopulationCue,
    ascii_lower,
    band_level,
    content_words,
    endpoint_mentions,
    population_cues,
)
from pipelines.regex_cache import compile_regex

_DEFINITION_RE = compile_regex(r"\b(?:included|includes|defined as|consist(?:ed|s)? of|comprising|comprised)\b",
                               re.IGNORECASE)
_ABBR_RE = compile_regex(r"\(([A-Z][A-Za-z0-9/]{1,7})\)")
_COMPOSITE_LIST_RE = compile_regex(r"(?i)(?:composite|primary)[^;():.]{0,60}?\bof\b")
_LIST_STOP_RE = compile_regex(r"[;():.]|\b(?:occurred|was|were|is)\b")
# Sentences saying who was enrolled describe the trial population, not a subgroup of it.
_ENROLMENT_RE = compile_regex(r"(?i)\b(?:enrolled|randomly assigned|were randomi[sz]ed|randomi[sz]ed \d+|eligible|inclusion)\b")
_RESULT_RE = compile_regex(r"\d\s?%|\d (?:months|mo)\b|\(\s*[nN]\s*=")
# Context is carried back at most this many sentences within a paragraph.
LOOK_BACK = 6
MAX_ABBREVIATIONS = 24
_SUBGROUP_ANAPHORA_RE = compile_regex(r"\b(?:this|that|the same) (?:subgroup|population|cohort|subset)\b",
                                      re.IGNORECASE)


@dataclass
class Population:
    """Who a figure is about: overall, or a subgroup with its label and normalized variable/level."""

    overall: bool = True
    label: str | None = None
    variable: str | None = None
    level: str | None = None

    def __init__(self, overall: bool = True, label: str | None = None, variable: str | None = None,
                 level: str | None = None) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build: one is made for every estimate.
        self.overall = overall
        self.label = label
        self.variable = variable
        self.level = level

    @classmethod
    def from_cue(cls, cue: PopulationCue) -> "Population":
        return cls(cue.overall, None if cue.overall else cue.label, cue.variable, cue.level)

    def within(self, frame: "Population | None") -> "Population":
        """This population read inside a framing subgroup ("For those exposed >12 months: in all patients ...")."""
        if frame is None or frame.overall or (not self.overall and self.label == frame.label):
            return self
        inner = "all patients" if self.overall else self.label
        return Population(False, f"{frame.label}, {inner}" if inner else frame.label,
                          frame.variable if self.overall else self.variable,
                          frame.level if self.overall else self.level)


def population_fields(pop: Population | None) -> dict[str, str | None]:
    """A record's population fields, in record order: overall (also when ``pop`` is None), or the subgroup."""
    if pop is None or pop.overall:
        return {"population": "overall", "subgroup": None, "subgroup_variable": None, "subgroup_level": None}
    return {"population": "subgroup", "subgroup": pop.label, "subgroup_variable": pop.variable,
            "subgroup_level": pop.level}


@dataclass
class Doc:
    """An article prepared for extraction: normalized text, sentences and article-level facts."""

    norm: Normalized
    sents: list[Sentence]
    abbreviations: dict[str, str] = field(default_factory=dict)
    raw_mentions: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    abbreviation_re: re.Pattern | None = None
    lowered: str = ""
    # fold(text): where IGNORECASE patterns find their words with str.find.
    folded: str = ""
    trial_words: frozenset[str] = frozenset()
    # Where the sentences saying who was enrolled start (_ENROLMENT_RE finds something in them), when known.
    enrolment: frozenset[int] | None = None
    cue_cache: dict[int, list[PopulationCue]] = field(default_factory=dict)
    measure_cache: dict[int, list[Cue]] = field(default_factory=dict)
    figure_cache: dict[int, list[re.Match]] = field(default_factory=dict)
    # Where each sentence starts, for finding the sentence of a position by bisection.
    sent_starts: list[int] = field(init=False, repr=False)
    # norm.text, read at every step: a plain attribute is read several times faster than a property.
    text: str = field(init=False, repr=False, compare=False)

    # The primary endpoint, once found (see primary). Set in __init__ rather than by a field default,
    # which a compiled Doc (see _compiled) would not apply to an init=False field.
    _primary: str | None = field(init=False, repr=False, compare=False)
    _primary_found: bool = field(init=False, repr=False, compare=False)

    def __init__(self, norm: Normalized, sents: list[Sentence], abbreviations: dict[str, str] | None = None,
                 raw_mentions: dict[int, list[tuple[int, int, str]]] | None = None,
                 abbreviation_re: re.Pattern | None = None, lowered: str = "", folded: str = "",
                 trial_words: frozenset[str] = frozenset(), enrolment: frozenset[int] | None = None,
                 cue_cache: dict[int, list[PopulationCue]] | None = None,
                 measure_cache: dict[int, list[Cue]] | None = None,
                 figure_cache: dict[int, list[re.Match]] | None = None) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build; None stands for a new empty dict.
        self.norm = norm
        self.sents = sents
        self.abbreviations = {} if abbreviations is None else abbreviations
        self.raw_mentions = {} if raw_mentions is None else raw_mentions
        self.abbreviation_re = abbreviation_re
        self.lowered = lowered
        self.folded = folded
        self.trial_words = trial_words
        self.enrolment = enrolment
        self.cue_cache = {} if cue_cache is None else cue_cache
        self.measure_cache = {} if measure_cache is None else measure_cache
        self.figure_cache = {} if figure_cache is None else figure_cache
        self.sent_starts = [s.start for s in sents]
        self.text = norm.text
        self._primary, self._primary_found = None, False

    @property
    def primary(self) -> str | None:
        """The article's primary endpoint, found when first asked for (after prepare): many articles never ask."""
        if not self._primary_found:
            self._primary, self._primary_found = _primary_endpoint(self), True
        return self._primary


def prepare(original: str) -> Doc:
    norm = normalize(original)
    sents = sentences(norm.text)
    norm = _unwrap_lines(norm, sents)
    doc = Doc(norm, sents, lowered=ascii_lower(norm.text))
    doc.folded = fold_lowered(doc.lowered)
    enrolment = _enrolment_sentences(doc)
    doc.trial_words = frozenset().union(*(content_words(doc.text[t.start:t.end]) for t in enrolment))
    doc.enrolment = frozenset(t.start for t in enrolment)
    doc.abbreviations = _learn_abbreviations(doc)
    if doc.abbreviations:
        doc.abbreviation_re = compile_regex(r"\b(?:" + "|".join(map(re.escape, doc.abbreviations)) + r")\b")
    return doc


def _enrolment_sentences(doc: Doc) -> list[Sentence]:
    """The sentences, in order, in which _ENROLMENT_RE finds something.

    Every match starts where one of the regex's opening words does: those are found across the
    article with str.find, and the regex is tried only there, within the sentence of each.
    """
    sents = doc.sents
    if _ENROLMENT_OPENINGS.texts is None or not sents:
        return [t for t in sents if _ENROLMENT_RE.search(doc.text, t.start, t.end)]
    found = set()
    folded = doc.folded
    for word in _ENROLMENT_OPENINGS.texts:
        i = folded.find(word)
        while i != -1:
            si = sentence_index(doc, i)
            sent = sents[si]
            if si not in found and sent.start <= i < sent.end and _ENROLMENT_RE.match(doc.text, i, sent.end):
                found.add(si)
            i = folded.find(word, i + 1)
    return [sents[si] for si in sorted(found)]


_ENROLMENT_OPENINGS = Openings(_ENROLMENT_RE)


def _unwrap_lines(norm: Normalized, sents: list[Sentence]) -> Normalized:
    """Line breaks inside a hard-wrapped sentence read as spaces (same length, so offsets hold)."""
    text = norm.text
    if "\n" not in text:
        return norm
    # Sentences follow one another without overlapping: the text is cut into the stretches to rewrite
    # (each sentence but its first character) and those kept as they are.
    pieces = []
    pos = 0
    for sent in sents:
        first = sent.start + 1
        if first < pos:
            return _unwrap_by_characters(norm, sents)
        if text.find("\n", first, sent.end) == -1:
            continue
        pieces.append(text[pos:first])
        pieces.append(text[first:sent.end].replace("\n", " "))
        pos = sent.end
    if not pieces:
        return norm
    pieces.append(text[pos:])
    return Normalized("".join(pieces), norm.starts, norm.ends, norm.original)


def _unwrap_by_characters(norm: Normalized, sents: list[Sentence]) -> Normalized:
    text = norm.text
    chars = list(text)
    for sent in sents:
        i = text.find("\n", sent.start + 1, sent.end)
        while i != -1:
            chars[i] = " "
            i = text.find("\n", i + 1, sent.end)
    return Normalized("".join(chars), norm.starts, norm.ends, norm.original)


_LETTERS_RE = compile_regex(r"[A-Za-z]+")


def _learn_abbreviations(doc: Doc) -> dict[str, str]:
    """Abbreviations defined after an endpoint name, e.g. 'serious net outcome (SNO)'."""
    out: dict[str, str] = {}
    text = doc.text
    for m in _ABBR_RE.finditer(text):
        abbr = m.group(1)
        if ENDPOINT_RE.fullmatch(abbr):
            continue
        before = endpoint_mentions(text, max(0, m.start() - 80), m.start(), doc.lowered)
        if not before or m.start() - before[-1][1] > 2:
            continue
        long_form = text[before[-1][0]:before[-1][1]]
        initials = "".join(w[0] for w in _LETTERS_RE.findall(long_form)).upper()
        if abbr.upper().replace("/", "") in initials or initials.startswith(abbr.upper()[:2]):
            out[abbr] = before[-1][2]
            if len(out) >= MAX_ABBREVIATIONS:
                break
    return out


def _sentence_mentions(doc: Doc, si: int) -> list[tuple[int, int, str]]:
    """Endpoint names of one sentence, found once and kept: attribution asks for them many times."""
    cached = doc.raw_mentions.get(si)
    if cached is None:
        sent = doc.sents[si]
        cached = endpoint_mentions(doc.text, sent.start, sent.end, doc.lowered)
        # abbreviation_re is set whenever abbreviations are (prepare).
        if doc.abbreviations and doc.abbreviation_re is not None:
            for m in doc.abbreviation_re.finditer(doc.text, sent.start, sent.end):
                cached.append((m.start(), m.end(), doc.abbreviations[m.group(0)]))
        cached.sort()
        doc.raw_mentions[si] = cached
    return cached


def mentions(doc: Doc, start: int, end: int) -> list[tuple[int, int, str]]:
    """Endpoint mentions in [start, end), with learned abbreviations, leaving out items of a composite's list."""
    if not doc.sents or end <= start:
        return []
    first = bisect_right(doc.sent_starts, start) - 1
    last = bisect_right(doc.sent_starts, end - 1) - 1
    if first < 0:
        first = 0
    if last < 0:
        last = 0
    raw = doc.raw_mentions
    found = []
    for si in range(first, last + 1):
        cached = raw.get(si)
        if cached is None:
            cached = _sentence_mentions(doc, si)
        for m in cached:
            if m[0] >= start and m[1] <= end:
                found.append(m)
    # Only a composite's name has a list to leave out.
    for m in found:
        if m[2] == "MACE" or m[2] == "PRIMARY":
            return _without_composite_items(doc, end, found)
    return found


def _without_composite_items(doc: Doc, end: int, found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    skip_until = -1
    for s, e, label in found:
        if s < skip_until:
            continue
        if label in ("MACE", "PRIMARY") and (head := _COMPOSITE_LIST_RE.match(doc.text, s, min(e + 70, len(doc.text)))):
            stop = _LIST_STOP_RE.search(doc.text, head.end(), max(end, head.end()))
            skip_until = stop.start() if stop else end
            items = [m[2] for m in found if head.end() <= m[0] < skip_until]
            label = _composite_label(label, items)
        out.append((s, e, label))
    return out


def _composite_label(label: str, items: list[str]) -> str:
    """A composite's endpoint from the list that defines it ('composite of CV death, MI, or stroke')."""
    if "MACE" in items or (len(items) >= 2 and ({"MORTALITY", "HOSP", "OS"} & set(items))):
        return "MACE"
    if label == "MACE":
        return label
    return items[0] if items else label


def _primary_endpoint(doc: Doc) -> str | None:
    # Only a sentence saying 'primary', or an abbreviation standing for a primary end point, can name it:
    # the others are not read here (most of an article's sentences are never asked for their endpoints).
    abbreviated = "PRIMARY" in doc.abbreviations.values()
    for sent in doc.sents if abbreviated else _sentences_saying(doc, "primary"):
        if not abbreviated and doc.lowered.find("primary", sent.start, sent.end) == -1:
            continue
        found = mentions(doc, sent.start, sent.end)
        for s, _e, label in found:
            if label != "PRIMARY" and doc.text[s:s + 7].lower() == "primary":
                return label
        prim = [m for m in found if m[2] == "PRIMARY"]
        others = [m for m in found if m[2] != "PRIMARY"]
        if prim and others:
            p0 = prim[0][0]
            return min(others, key=lambda m: (abs(m[0] - p0) + (0 if m[0] > p0 else 10)))[2]
    # Without a definition, the endpoint the article leads with stands for its primary one.
    for si in range(min(len(doc.sents), LOOK_BACK)):
        named = [m for m in mentions(doc, doc.sents[si].start, doc.sents[si].end) if m[2] != "PRIMARY"]
        if named:
            return named[0][2]
    return None


def _sentences_saying(doc: Doc, word: str) -> list[Sentence]:
    """The sentences, in order, that ``doc.lowered`` has ``word`` in or at the start of (found across the text)."""
    found: list[int] = []
    lowered = doc.lowered
    i = lowered.find(word)
    while i != -1:
        si = sentence_index(doc, i)
        if not found or found[-1] != si:
            found.append(si)
        i = lowered.find(word, i + 1)
    return [doc.sents[si] for si in found] if doc.sents else []


def resolve_endpoint(doc: Doc, label: str) -> str | None:
    if label == "PRIMARY":
        return doc.primary
    return label


def doc_cues(doc: Doc, start: int, end: int) -> list[PopulationCue]:
    """Population cues in [start, end), reading 'patients with X' against who was enrolled.

    Cues are found once per sentence and kept, since attribution asks for them many times.
    """
    if not doc.sents or end <= start:
        return []
    out: list[PopulationCue] = []
    first = bisect_right(doc.sent_starts, start) - 1
    last = bisect_right(doc.sent_starts, end - 1) - 1
    cache = doc.cue_cache
    for si in range(first if first > 0 else 0, (last if last > 0 else 0) + 1):
        cached = cache.get(si)
        if cached is None:
            sent = doc.sents[si]
            cached = population_cues(doc.text, sent.start, sent.end, doc.trial_words, doc.folded)
            cached = cache[si] = [_band_variable(doc, si, c) for c in cached] if cached else []
        for c in cached:
            if c.start >= start and c.end <= end:
                out.append(c)
    return out


def _band_variable(doc: Doc, si: int, cue: PopulationCue) -> PopulationCue:
    """A bare band ('the 41-49% group') is of the measurement an earlier sentence gave that band for."""
    if cue.overall or cue.variable is not None or cue.level is None:
        return cue
    for j in range(si - 1, -1, -1):
        for earlier in doc_cues(doc, doc.sents[j].start, doc.sents[j].end):
            if earlier.variable and earlier.level and band_level(earlier.level) == cue.level:
                return PopulationCue(cue.start, cue.end, False, cue.label, earlier.variable, earlier.level)
    return cue


def sentence_measure_cues(doc: Doc, si: int) -> list[Cue]:
    """Measure words (HR, odds ratio, ...) of one sentence, found once: several steps read them."""
    cached = doc.measure_cache.get(si)
    if cached is None:
        sent = doc.sents[si]
        cached = doc.measure_cache[si] = measure_cues(doc.text, sent.start, sent.end)
    return cached


def sentence_figure_matches(doc: Doc, si: int) -> list[re.Match]:
    """FIGURE_CI_RE's matches in one sentence, found once: estimates and arm results both read them."""
    cached = doc.figure_cache.get(si)
    if cached is None:
        sent = doc.sents[si]
        cached = doc.figure_cache[si] = word_matches(FIGURE_CI_RE, FIGURE_CI_FINDER_RE, doc.text, sent.start, sent.end, 0)
    return cached


def sentence_index(doc: Doc, pos: int) -> int:
    """The last sentence starting at or before ``pos`` (the first one for positions before it)."""
    return max(0, bisect_right(doc.sent_starts, pos) - 1)


def endpoint_before(doc: Doc, si: int, pos: int, floor: int | None = None) -> tuple[str | None, int | None]:
    """The endpoint named last before ``pos`` in sentence ``si``, else in the sentences before it."""
    sent = doc.sents[si]
    start = sent.start if floor is None else max(sent.start, floor)
    for s, _e, label in reversed(mentions(doc, start, pos)):
        resolved = resolve_endpoint(doc, label)
        if resolved:
            return resolved, s
    return None, None


_PRIMARY = object()


def endpoint_carried(doc: Doc, si: int, pos: int, back: int = 4, fallback=_PRIMARY) -> str | None:
    """Carry the endpoint from the current sentence start or the few sentences before it.

    With nothing to carry, the article's primary endpoint, or ``fallback`` when one is given.

    A sentence listing a composite's parts ("Events included CV death, MI or stroke") names the
    composite, not its parts, so only a composite named there is carried.
    """
    found, _ = endpoint_before(doc, si, pos)
    if found:
        return found
    for j in range(si - 1, max(-1, si - 1 - back), -1):
        sent = doc.sents[j]
        named = mentions(doc, sent.start, sent.end)
        if _DEFINITION_RE.search(doc.text, sent.start, sent.end):
            if named and named[0][2] in ("MACE", "PRIMARY"):
                return resolve_endpoint(doc, named[0][2])
            continue
        for _s, _e, label in reversed(named):
            resolved = resolve_endpoint(doc, label)
            if resolved:
                return resolved
    return doc.primary if fallback is _PRIMARY else fallback


def last_population_cue(doc: Doc, start: int, end: int) -> PopulationCue | None:
    cues = doc_cues(doc, start, end)
    return cues[-1] if cues else None


def _is_heading(doc: Doc, j: int) -> bool:
    sent = doc.sents[j]
    line = doc.text[sent.start:sent.end].strip(" \n\t*#")
    return 0 < len(line) < 150 and line[-1] not in ".!?;," and (j + 1 >= len(doc.sents) or
                                                               doc.sents[j + 1].para != sent.para)


_SUBGROUP_WORD_RE = compile_regex(r"(?i)subgroups?\b")


def heading_frame(doc: Doc, si: int) -> Population | None:
    """A heading naming a subgroup ('Patients with ESR1 mutations') frames the lines under it."""
    # The first line is the title: it names the article's topic, not a part of the population.
    for j in range(si - 1, max(0, si - 2 * LOOK_BACK), -1):
        if _is_heading(doc, j):
            sent = doc.sents[j]
            cues = doc_cues(doc, sent.start, sent.end)
            if cues and not cues[-1].overall:
                return Population.from_cue(cues[-1])
            if cues or _SUBGROUP_WORD_RE.search(doc.text[sent.start:sent.end]):
                return Population(False, doc.text[sent.start:sent.end].strip(" \n*#")) if not cues else None
            return None
    return None


def frame_for(doc: Doc, si: int, pos: int) -> Population | None:
    """A subgroup announced before a colon, or in a heading, frames what follows it."""
    sents = doc.sents
    text = doc.text
    para = sents[si].para
    j = si
    floor = max(0, si - LOOK_BACK)
    while j >= floor and sents[j].para == para:
        sent = sents[j]
        colon = text.rfind(":", sent.start, pos if j == si else sent.end)
        if colon != -1:
            after = text[colon + 1:colon + 3].strip()
            # Only a colon that opens a list or new sentences frames what follows ("achieved: In all ...").
            if not after or after[0].isupper() or after[0] in "\u2022-*":
                cue = last_population_cue(doc, sent.start, colon)
                if cue is not None and not cue.overall:
                    return Population.from_cue(cue)
        j -= 1
    return None


def population_carried(doc: Doc, si: int) -> Population:
    """The population last named in earlier sentences of the paragraph, else under a heading (overall if none)."""
    para = doc.sents[si].para
    j = si - 1
    while j >= max(0, si - LOOK_BACK) and doc.sents[j].para == para:
        sent = doc.sents[j]
        if doc.enrolment is not None:
            enrolment = sent.start in doc.enrolment
        else:
            enrolment = _ENROLMENT_RE.search(doc.text, sent.start, sent.end) is not None
        if not enrolment and (j == si - 1 or _RESULT_RE.search(doc.text, sent.start, sent.end)):
            cues = doc_cues(doc, sent.start, sent.end)
            if cues:
                return resolve_anaphora(doc, j, cues[-1])
        j -= 1
    return heading_frame(doc, si) or Population()


def resolve_anaphora(doc: Doc, si: int, cue: PopulationCue) -> Population:
    """'this subgroup' means the subgroup last named before it."""
    label = doc.text[cue.start:cue.end]
    if not _SUBGROUP_ANAPHORA_RE.search(label):
        return Population.from_cue(cue)
    sent = doc.sents[si]
    earlier = [c for c in doc_cues(doc, sent.start, cue.start) if not c.overall
               and not _SUBGROUP_ANAPHORA_RE.search(doc.text[c.start:c.end])]
    if earlier:
        return Population.from_cue(earlier[-1])
    j = si - 1
    while j >= max(0, si - LOOK_BACK) and doc.sents[j].para == sent.para:
        named = [c for c in doc_cues(doc, doc.sents[j].start, doc.sents[j].end) if not c.overall
                 and not _SUBGROUP_ANAPHORA_RE.search(doc.text[c.start:c.end])]
        if named:
            return Population.from_cue(named[-1])
        j -= 1
    return Population(False, label)
