"""The extractor's entry point: article text in, gold-format records with spans into that text out."""

from __future__ import annotations

from pipelines.extraction.arms import arm_records, article_arms
from pipelines.extraction.context import Doc, population_fields, prepare, sentence_measure_cues
from pipelines.extraction.estimates import Estimate, sentence_estimates
from pipelines.extraction.numbers import digit_marks
from pipelines.extraction.results import Signs, arm_result_records
from pipelines.extraction.text import Sentence

# Bump whenever the records extract() returns for some text could change.
EXTRACTOR_VERSION = "1.3.1"

# How many sentences a measure named once ("HRs (95% CIs):") keeps applying to bare figures.
_INHERIT_SENTENCES = 2


def extract(text: str, article: str = "") -> list[dict]:
    """Every estimate, arm result and arm the text states, as records in the corpus gold format."""
    if not isinstance(text, str) or not text or text.isspace():  # blank: as text.strip() would tell, uncopied
        return []
    doc = prepare(text)
    # Where the digits are, found once for the estimates and the arm results.
    marks = digit_marks(doc.text)
    signs = Signs(doc.text, marks) if marks is not None else None
    estimates = _estimates(doc, marks)
    arms = article_arms(doc, estimates)
    results = arm_result_records(doc, estimates, arms, article, signs)
    if not arms.names:
        # Arms named only beside their own figures ('7.2 months with A vs 3.6 with B') still name the comparison.
        for r in results:
            arms.add(r["arm"])
    records = [_estimate_record(doc, e, arms, article) for e in _dedupe(estimates)]
    records += results + arm_records(doc, arms, article, _sizes_from_counts(results))
    return sorted(records, key=lambda r: (r["span_start"], r["type"]))


def _sizes_from_counts(results: list[dict]) -> list[tuple[str, int, int, int]]:
    """'415 of 2997 patients in the drug group', said of the whole trial, gives that arm's size."""
    return [(r["arm"], r["n"], r["span_start"], r["span_end"]) for r in results
            if r["statistic"] == "count" and r["population"] == "overall" and r["n"]]


def _estimates(doc: Doc, marks: bytes | None = None) -> list[Estimate]:
    """Estimates sentence by sentence; a measure named in one sentence carries to bare figures just after.

    ``marks`` are the text's digit_marks when the caller has them.
    """
    out: list[Estimate] = []
    inherited, since = None, 0
    text = doc.text
    previous = None
    for si, sent in enumerate(doc.sents):
        if previous is not None and previous.para != sent.para and not _ends_with_colon(text, previous):
            since += 1
        previous = sent
        found = sentence_estimates(doc, si, inherited if since <= _INHERIT_SENTENCES else None,
                                   out[-1] if out else None, marks)
        if found:
            out.extend(found)
            inherited, since = found[-1].measure, 0
        elif _ends_with_colon(text, sent) and (cues := sentence_measure_cues(doc, si)):
            inherited, since = cues[-1].measure, 0
        else:
            since += 1
    return out


def _is_header(doc: Doc, si: int) -> bool:
    return _ends_with_colon(doc.text, doc.sents[si])


def _ends_with_colon(text: str, sent: Sentence) -> bool:
    """Whether the sentence ends with a colon, blanks aside; the last character mostly settles it unsliced."""
    if sent.end <= sent.start:
        return False
    last = text[sent.end - 1]
    if last == ":" or not last.isspace():
        return last == ":"
    return text[sent.start:sent.end].rstrip().endswith(":")


def _dedupe(estimates: list[Estimate]) -> list[Estimate]:
    """A result repeated in other sentences is one record; repeats inside one sentence are distinct analyses."""
    seen: dict[tuple, int] = {}
    out = []
    for e in estimates:
        pop = e.population
        key = (e.measure, e.fig.value, e.fig.lo, e.fig.hi, e.endpoint, pop.overall if pop else True,
               pop.label if pop else None, e.label)
        if key in seen and seen[key] != e.sent:
            continue
        seen.setdefault(key, e.sent)
        out.append(e)
    return out


def _estimate_record(doc: Doc, e: Estimate, arms, article: str) -> dict:
    start, end = doc.norm.span(e.start, e.end)
    fig, p = e.fig, e.p
    experimental, comparator = arms.comparison_near(doc, e.sent, fig.start)
    return {
        "article": article,
        "type": "estimate",
        "endpoint": e.endpoint or "OTHER",
        "endpoint_text": e.endpoint_text,
        **population_fields(e.population),
        "comparison": f"{experimental} vs {comparator}" if experimental and comparator else None,
        "experimental_arm": experimental,
        "comparator_arm": comparator,
        "measure": e.measure,
        "value": fig.value,
        "ci_low": fig.lo,
        "ci_high": fig.hi,
        "ci_level": _level(e.level),
        "p": p.value if p else None,
        "p_relation": p.rel if p else None,
        "claimed_significance": e.claimed,
        "evidence": doc.norm.original[start:end],
        "span_start": start,
        "span_end": end,
    }


def _level(level: float | None) -> float | int | None:
    if level is None:
        return None
    return int(level) if level == int(level) else level
