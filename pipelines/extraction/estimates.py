"""Between-arm effect estimates: find ratio/difference figures and attribute endpoint, population and p."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.extraction.context import (
    Doc,
    Population,
    doc_cues,
    endpoint_before,
    endpoint_carried,
    frame_for,
    mentions,
    population_carried,
    resolve_anaphora,
    resolve_endpoint,
    sentence_figure_matches,
    sentence_index,
    sentence_measure_cues,
)
from pipelines.extraction.numbers import (
    LEVEL_RE,
    NOT_AN_ESTIMATE_RE,
    FigureCI,
    PValue,
    figures_with_ci,
    may_hold_interval,
    p_values,
    ratios_without_ci,
)
from pipelines.extraction.prefilter import Prefilter
from pipelines.extraction.vocab import load_subgroups, regex_requirements
from pipelines.regex_cache import compile_regex

RATIO_MEASURES = ("HR", "OR", "RR", "IRR")
_TRAILING_POP_RE = compile_regex(r"[\s)\],;]*+(?:in|among|for) (?:the |those |patients |pts )?")
_TRAILING_END_RE = compile_regex(r"\b(?:and|or|but|while|whereas)\b|[,;()]")
_TRAILING_ENDPOINT_RE = compile_regex(r"[\s)\],;]*+for (?:the |a )?")
_ELLIPTIC_NEGATION_RE = compile_regex(r"(?:^|\b(?:and|or|but|vs\.?|versus) )(?:in )?(?:those |patients |pts )?without\W*$",
                                      re.IGNORECASE)
_ELLIPTIC_LEVEL_RE = compile_regex(r"^[\s,;)\]]*(?:(?:or|and) )?(?P<level>[\w+\-<>=≥≤.]{1,20})[\s,:]*$")
_RESPECTIVELY_RE = compile_regex(r"\brespectively\b")
_SIGNIFICANT_NEG_RE = compile_regex(
    r"\b(?:not (?:statistically )?significant(?:ly)?|no (?:statistically )?significant|did not (?:reach|achieve)"
    r" (?:statistical )?significance|non-?significant|not statistically|no statistical(?:ly)? (?:significant )?difference"
    r"|was not (?:formally )?(?:tested|significant))",
    re.IGNORECASE)
_SIGNIFICANT_POS_RE = compile_regex(r"\bsignifican(?:t|tly|ce)\b", re.IGNORECASE)
_SIGNIFICANT_NEG_FILTER = Prefilter(_SIGNIFICANT_NEG_RE)
# Every match of _SIGNIFICANT_NEG_RE holds 'no' at the start of a word ('not', 'no', 'non-'), which most windows lack.
_NEGATION_WORD_START = "no"
_SIGNIFICANT_POS_FILTER = Prefilter(_SIGNIFICANT_POS_RE)

_DIGIT_RE = compile_regex(r"\d")
_DECIMAL_RE = compile_regex(r"\d\.\d")
_CLOSING_RE = compile_regex(r"[\s)\]]*")


@dataclass
class Estimate:
    """One between-arm estimate found in a sentence, before it becomes a record."""

    fig: FigureCI
    measure: str
    sent: int
    cue_start: int
    level: float | None
    p: PValue | None
    endpoint: str | None = None
    endpoint_text: str | None = None
    population: Population | None = None
    consumed_end: int = 0
    own_cue: bool = True
    label: str | None = None
    claimed: bool | None = None
    level_pos: int | None = None

    def __init__(self, fig: FigureCI, measure: str, sent: int, cue_start: int, level: float | None,
                 p: PValue | None, endpoint: str | None = None, endpoint_text: str | None = None,
                 population: Population | None = None, consumed_end: int = 0, own_cue: bool = True,
                 label: str | None = None, claimed: bool | None = None, level_pos: int | None = None) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build.
        self.fig = fig
        self.measure = measure
        self.sent = sent
        self.cue_start = cue_start
        self.level = level
        self.p = p
        self.endpoint = endpoint
        self.endpoint_text = endpoint_text
        self.population = population
        self.consumed_end = consumed_end
        self.own_cue = own_cue
        self.label = label
        self.claimed = claimed
        self.level_pos = level_pos

    @property
    def start(self) -> int:
        # The evidence holds every number of the record, the stated interval level included.
        # (Comparisons instead of min() over a list: attribution reads this many times.)
        start = self.fig.start
        if self.cue_start < start:
            start = self.cue_start
        if self.level_pos is not None and self.level_pos < start:
            start = self.level_pos
        if self.p is not None and self.p.start < start:
            start = self.p.start
        return start

    @property
    def end(self) -> int:
        end = self.fig.end
        p = self.p
        return p.end if p and p.end > end else end


def _after_window(text: str, start: int, limit: int) -> int:
    """Where the figure's clause ends: the bracket closing one opened before ``start``, else 90 characters on."""
    depth = 0
    end = min(limit, start + 90)
    pos = start
    # From one closing bracket to the next: the opening ones between them only deepen the nesting.
    while (close := _first_of(text, ")", "]", pos, end)) != -1:
        depth += text.count("(", pos, close) + text.count("[", pos, close)
        if depth == 0:
            return close
        depth -= 1
        pos = close + 1
    return end


def _open_paren_before(text: str, start: int, pos: int) -> int | None:
    """The bracket left open before ``pos``, looking back no further than ``start``."""
    depth = 0
    # From one opening bracket back to the one before: the closing ones between them each close one.
    while pos > start:
        opening = max(text.rfind("(", start, pos), text.rfind("[", start, pos))
        if opening == -1:
            return None
        depth += text.count(")", opening, pos) + text.count("]", opening, pos)
        if depth == 0:
            return opening
        depth -= 1
        pos = opening
    return None


def _first_of(text: str, a: str, b: str, start: int, end: int) -> int:
    """Where the first ``a`` or ``b`` in text[start:end] is; -1 without one."""
    i = text.find(a, start, end)
    j = text.find(b, start, i if i != -1 else end)
    return i if j == -1 else j


def _measure_for(cues: list, fig: FigureCI, lead_start: int, inherited: str | None):
    """Measure of a figure: the last cue in its lead, else one earlier in the sentence, else inherited.

    ``cues`` are the measure words of the figure's sentence.
    """
    lead = [c for c in cues if lead_start <= c.start and c.end <= fig.start]
    if lead:
        return lead[-1].measure, lead[-1].start, True
    earlier = [c for c in cues if c.end <= lead_start]
    if earlier:
        return earlier[-1].measure, fig.start, False
    if inherited:
        return inherited, fig.start, False
    return None, fig.start, False


def _plausible(fig: FigureCI, measure: str, text: str, lead_start: int, own_cue: bool,
               folded: str | None = None) -> bool:
    """``folded`` is fold(text) when the caller keeps one: the regex then runs only where its words are."""
    window = max(lead_start, fig.start - 60)
    if ((folded is None or _has_all(folded, _NOT_AN_ESTIMATE_NEEDS, window, fig.start))
            and NOT_AN_ESTIMATE_RE.search(text, window, fig.start)):
        return False
    if fig.lo is None or fig.hi is None:
        return fig.lo is None and own_cue and measure in RATIO_MEASURES
    if measure in RATIO_MEASURES:
        if fig.unit is not None or fig.lo <= 0 or fig.value <= 0:
            return False
        return own_cue or fig.value < 20
    return measure in ("RD", "MD")


def _level_for(doc: Doc, fig: FigureCI, sent_start: int, previous: "Estimate | None") -> tuple[float | None, int | None]:
    """The interval's level and where it is stated (None when it comes from an earlier estimate)."""
    if fig.level is not None:
        return fig.level, None
    if fig.ci_word or fig.lo is None:
        return None, None
    stated = list(LEVEL_RE.finditer(doc.text, sent_start, fig.start))
    if stated:
        return float(stated[-1].group("lvl")), stated[-1].start()
    if previous is not None:
        return previous.level, None
    return _header_level(doc, sentence_index(doc, sent_start))


def _header_level(doc: Doc, si: int) -> tuple[float | None, int | None]:
    """A level stated in a list header ('HRs (95% CIs):') a few lines up."""
    for j in range(si - 1, max(-1, si - 4), -1):
        sent = doc.sents[j]
        if doc.text[sent.start:sent.end].rstrip().endswith(":"):
            stated = list(LEVEL_RE.finditer(doc.text, sent.start, sent.end))
            return (float(stated[-1].group("lvl")), stated[-1].start()) if stated else (None, None)
    return None, None


def _p_for(doc: Doc, fig: FigureCI, lead_start: int, cue_start: int, next_start: int) -> PValue | None:
    text = doc.text
    end = _after_window(text, fig.end, next_start)
    after = p_values(text, fig.end, end, allow_bare=True)
    if after:
        return after[0]
    paren = _open_paren_before(text, max(lead_start, cue_start - 60), min(cue_start, fig.start))
    if paren is not None:
        before = p_values(text, paren, min(cue_start, fig.start))
        if before:
            return before[-1]
    return None


def _trailing(doc: Doc, est: Estimate, next_start: int):
    """A population or endpoint named right after the figure: '0.73 (0.55-0.95) in the CPS >=10 subgroup'."""
    text = doc.text
    pos = est.end
    close = _CLOSING_RE.match(text, pos, next_start)
    if close:
        pos = close.end()
    m = _TRAILING_POP_RE.match(text, pos, next_start)
    if not m:
        return None, None, est.end
    stop = _TRAILING_END_RE.search(text, m.end(), next_start)
    end = stop.start() if stop else next_start
    cues = doc_cues(doc, m.start(), end)
    pop = cues[0] if cues else None
    ep = None
    if _TRAILING_ENDPOINT_RE.match(text, pos, next_start):
        found = mentions(doc, m.end(), min(end, m.end() + 50))
        if found and found[0][0] - m.end() < 12:
            ep = found[0]
    if pop is None and ep is None:
        return None, None, est.end
    return pop, ep, end


def sentence_estimates(doc: Doc, si: int, inherited: str | None, previous: Estimate | None,
                       marks: bytes | None = None) -> list[Estimate]:
    """Estimates of one sentence, in order, with measure, interval level and p-value.

    ``marks`` are the text's digit_marks when the caller has them: digits are then looked for there.
    """
    sent = doc.sents[si]
    text = doc.text
    if not (marks.find(b"0", sent.start, sent.end) != -1 if marks is not None
            else _DIGIT_RE.search(text, sent.start, sent.end)):
        return []
    if marks is not None and not may_hold_interval(marks, sent.start, sent.end):
        figs = []
    else:
        figs = figures_with_ci(text, sent.start, sent.end, sentence_figure_matches(doc, si))
    if not figs and not (marks.find(b"0.0", sent.start, sent.end) != -1 if marks is not None
                         else _DECIMAL_RE.search(text, sent.start, sent.end)):
        return []  # no interval, and no decimal for a ratio stated without one (ratios_without_ci)
    cues = sentence_measure_cues(doc, si)
    if not figs and not cues:
        return []
    figs = sorted(figs + ratios_without_ci(text, sent.start, sent.end, figs, cues), key=lambda f: f.start)
    out: list[Estimate] = []
    lead_start = sent.start
    for k, fig in enumerate(figs):
        next_start = figs[k + 1].start if k + 1 < len(figs) else sent.end
        measure, cue_start, own = _measure_for(cues, fig, lead_start, inherited)
        if measure is None or not _plausible(fig, measure, text, lead_start, own, doc.folded):
            lead_start = fig.end
            continue
        if measure in ("RD", "MD") and not own:
            lead_start = fig.end
            continue
        level, level_pos = _level_for(doc, fig, sent.start, out[-1] if out else previous)
        p = _p_for(doc, fig, lead_start, cue_start, next_start)
        est = Estimate(fig, measure, si, cue_start, level, p, own_cue=own, level_pos=level_pos)
        est.consumed_end = est.end
        _attribute(doc, est, lead_start, next_start, out or ([previous] if previous else []))
        out.append(est)
        lead_start = est.consumed_end
    _apply_respectively(doc, si, out)
    return out


def _attribute(doc: Doc, est: Estimate, lead_start: int, next_start: int, done: list[Estimate]) -> None:
    text = doc.text
    sent = doc.sents[est.sent]
    pop_cue, ep_mention, consumed = _trailing(doc, est, next_start)
    est.consumed_end = max(est.consumed_end, consumed)
    est.endpoint, est.endpoint_text = _endpoint(doc, est, lead_start, ep_mention)
    est.population = _population(doc, est, lead_start, pop_cue, done)
    if not est.own_cue:
        label = text[lead_start:est.fig.start].strip(" ,;:()[]")
        est.label = label[-80:] or None
    est.claimed = _claimed(doc, sent.start, est)


def _endpoint(doc: Doc, est: Estimate, lead_start: int, trailing) -> tuple[str | None, str | None]:
    text = doc.text
    if trailing is not None:
        label = resolve_endpoint(doc, trailing[2])
        if label:
            return label, text[trailing[0]:trailing[1]]
    inside = mentions(doc, est.cue_start, est.fig.start)
    for s, e, label in inside:
        resolved = resolve_endpoint(doc, label)
        if resolved:
            return resolved, text[s:e]
    found, pos = endpoint_before(doc, est.sent, min(est.cue_start, est.fig.start))
    if found and pos is not None:  # pos is None only when found is
        end = next((e for s, e, _l in mentions(doc, pos, pos + 120) if s == pos), pos)
        return found, text[pos:end]
    carried = endpoint_carried(doc, est.sent, doc.sents[est.sent].start, fallback=None)
    if carried:
        return carried, None
    # Nothing named before: "... (HR 0.57 ...), with median progression-free survival of ..." names it after.
    for s, e, label in mentions(doc, est.end, doc.sents[est.sent].end):
        resolved = resolve_endpoint(doc, label)
        if resolved:
            return resolved, text[s:e]
    return doc.primary, None


def _population(doc: Doc, est: Estimate, lead_start: int, trailing, done: list[Estimate]) -> Population:
    text = doc.text
    sent = doc.sents[est.sent]
    frame = frame_for(doc, est.sent, est.fig.start)
    lead_cues = doc_cues(doc, lead_start, est.fig.start)
    if lead_cues:
        return resolve_anaphora(doc, est.sent, lead_cues[-1]).within(frame)
    if trailing is not None:
        return resolve_anaphora(doc, est.sent, trailing).within(frame)
    prev = done[-1].population if done else None
    lead = text[lead_start:min(est.cue_start, est.fig.start)]
    if prev is not None and not prev.overall:
        if _ELLIPTIC_NEGATION_RE.search(lead.strip(" ([*-\u2022\t\n")):
            return Population(False, f"without {prev.label}", prev.variable, _negated(prev))
        short = _ELLIPTIC_LEVEL_RE.match(lead)
        if short and done[-1].sent == est.sent:
            words = (prev.label or "").split()
            label = " ".join(words[:-1] + [short.group("level")]) if len(words) > 1 else short.group("level")
            return Population(False, label, prev.variable, short.group("level"))
    earlier = doc_cues(doc, sent.start, lead_start)
    if earlier:
        return resolve_anaphora(doc, est.sent, earlier[-1]).within(frame)
    if frame is not None:
        return frame
    return population_carried(doc, est.sent)


def _negated(pop: Population) -> str | None:
    for term in load_subgroups():
        if term.variable == pop.variable and term.level == pop.level:
            return term.negated_level
    return None


def _apply_respectively(doc: Doc, si: int, found: list[Estimate]) -> None:
    """'HRs for PFS were a, b and c, respectively' take the populations of the list before them."""
    runs: list[list[Estimate]] = []
    for est in found:
        if est.own_cue or not runs:
            runs.append([])
        runs[-1].append(est)
    sent = doc.sents[si]
    for k, run in enumerate(runs):
        if len(run) < 2:
            continue
        stop = runs[k + 1][0].fig.start if k + 1 < len(runs) else sent.end
        if not _RESPECTIVELY_RE.search(doc.text, run[-1].end, stop):
            continue
        if any(doc_cues(doc, e.cue_start if e.own_cue else e.fig.start, e.consumed_end) for e in run):
            continue
        earlier = next((r for r in reversed(runs[:k]) if len(r) == len(run)), None)
        if earlier:
            for est, src in zip(run, earlier):
                est.population = src.population


def _claimed(doc: Doc, sent_start: int, est: Estimate) -> bool | None:
    window_start = max(sent_start, est.fig.start - 160)
    end = est.end
    # The window's words are looked for in the article's folded text (fold is done per character, so
    # fold(text)[a:b] is fold(text[a:b])); the regexes then read the window as its own string.
    # The window is read as a string of its own; the Prefilters' lower-case regexes find the same matches
    # in its folded copy, faster than IGNORECASE.
    folded = doc.folded
    if (_has_word_start(doc.text, folded, _NEGATION_WORD_START, window_start, end)
            and _has_any(folded, _SIGNIFICANT_NEG_FILTER.texts, window_start, end)):
        chunk = doc.text[window_start:end]
        if _first_match(_SIGNIFICANT_NEG_FILTER, chunk, folded[window_start:end]):
            return False
    if _has_any(folded, _SIGNIFICANT_POS_FILTER.texts, window_start, end):
        chunk = doc.text[window_start:end]
        if _first_match(_SIGNIFICANT_POS_FILTER, chunk, folded[window_start:end]):
            return True
    return None


def _has_word_start(text: str, folded: str, word: str, start: int, end: int) -> bool:
    """Whether folded[start:end] holds ``word`` where text[start:end], read alone, has a word start (as \\b does)."""
    i = folded.find(word, start, end)
    while i != -1:
        if i == start or not (text[i - 1].isalnum() or text[i - 1] == "_"):
            return True
        i = folded.find(word, i + 1, end)
    return False


def _first_match(prefilter: Prefilter, chunk: str, folded_chunk: str) -> bool:
    """Whether ``prefilter.regex.search(chunk)`` finds a match (``folded_chunk`` is ``fold(chunk)``)."""
    return next(prefilter.matches(chunk, 0, len(chunk), folded_chunk), None) is not None


def _has_all(folded: str, requirements: tuple[tuple[str, ...], ...], start: int, end: int) -> bool:
    """Whether folded[start:end] holds a string of each of ``requirements`` (see vocab.regex_requirements)."""
    for strings in requirements:
        if not _has_any(folded, strings, start, end):
            return False
    return True


# Strings NOT_AN_ESTIMATE_RE's matches need, in lower case for the folded text.
_NOT_AN_ESTIMATE_NEEDS = regex_requirements(NOT_AN_ESTIMATE_RE)


def _has_any(folded: str, texts: tuple[str, ...] | None, start: int, end: int) -> bool:
    """Prefilter.may_match(folded[start:end]) without cutting the slice."""
    if texts is None:
        return True
    for t in texts:
        if folded.find(t, start, end) != -1:
            return True
    return False
