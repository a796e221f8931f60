"""Article-level facts (trial acronym, NCT id, condition, phase, design, rating) and trial identity."""

from __future__ import annotations

import re
from collections import Counter

from pipelines.extraction.prefilter import Openings, fold, required_texts
from pipelines.extraction.text import normalize
from pipelines.regex_cache import compile_regex

_NCT_RE = compile_regex(r"\bNCT\s?0?(\d{7,8})\b", re.IGNORECASE)
# A trial name: a word with two capitals (KEYNOTE, CheckMate, TROPiCS) or a camel-cased word ending in a
# capital (monarchE, OlympiA), optionally followed by a number or a capitalised part (EMBER-3,
# CheckMate 77T, DESTINY-Breast04, EMPEROR-Preserved, ENGAGE AF-TIMI 48).
# The lower-case run is possessive: the capital after it can never be one of its letters, so giving
# letters back (which every lower-case word would otherwise try) cannot help a match.
_ACRONYM = (r"(?!(?:I{1,3}|IV|V)\b)(?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*|[a-z]{3,}+[A-Z][A-Za-z]*)"
            r"(?:[- ](?:\d{1,4}[A-Za-z]?|[A-Z][A-Za-z]+\d*|[A-Z]{2,}))?(?:[- ]\d{1,4}[A-Z]?)?")
# Every alternative starts with a letter at the start of a word, or with "(": checking that once
# per position, before the alternatives are tried one by one, makes the scan faster.
# The three ways a name is followed ("X trial", "X, a ... trial", "X (NCT...)") share one reading of the
# name, so each word is read as a name once, not three times. That finds what three alternatives
# (name + way, tried in turn) would: a name followed by one of the ways cannot be followed by another,
# nor be a shorter or longer reading of a name followed by another (a name holds no ',', '(' or a
# lower-case word after a blank). "trial (X)", tried in between before, cannot start where a name does.
_NEAR_TRIAL_RE = compile_regex(
    r"(?=[A-Za-z(])(?:(?<!\w)|(?=\())(?:"
    rf"(?:\b(?:(?i:phase)\s?(?:[1-3]|I{{1,3}})[ab]?(?:/(?:[1-3]|I{{1,3}}))?|the|in)\s+)(?P<a>{_ACRONYM})"
    rf"(?=\s+(?:\([^()]{{0,40}}\)\s+)?(?:trial|study|Trial|Study|investigators|analysis)\b)"
    rf"|\((?P<b>{_ACRONYM})\)\s+(?:trial|study)\b"
    rf"|\b(?P<c>{_ACRONYM})(?:\s+(?:trial|study)\b|(?: (?:was|is)|,) an? (?:[\w,-]+ ){{0,4}}(?:trial|study)\b"
    rf"| \((?:NCT|nct)\s?\d{{7,8}}\))"
    rf"|\b(?:trial|study)\s+\((?P<d>{_ACRONYM})\)"
    rf"|\bRCTs? (?P<g>{_ACRONYM}))")
_NOT_ACRONYMS = {
    "HR", "CI", "OS", "PFS", "ER", "HER2", "NSAI", "SOC", "RCT", "FDA", "ASCO", "SABCS", "NEJM", "ESC", "AI",
    "CDK4", "CV", "HF", "MACE", "ITT", "ORR", "EFS", "DFS", "IDFS", "TNBC", "NDA", "ODAC", "EBC", "ABC", "II",
    "III", "RECIST", "PD-L1", "CPS", "ET", "BC", "USA", "UK", "US", "MD", "PhD", "AACR", "ESMO", "JAMA",
    "SGLT2", "GLP-1", "NIH", "WHO", "NCT", "DNA", "RNA", "PARP", "AKT", "ESR1", "PIK3CA", "HFrEF", "HFpEF",
    "CDK4/6", "CDK4/6i", "IHC", "ISH", "TPC", "SERD", "PROTAC", "LVEF", "HHF", "CKD", "T2D", "MI", "PCI", "AE", "AEs",
    "PBO", "HbA1c", "NNT", "IU", "CVD", "ADC", "BICR", "DDFS", "DRFS", "RFS", "RIB", "NSCLC", "EGFR", "BRCA",
    "ER+", "HR+", "OR", "RR", "RD", "IRR", "ARR", "SNO", "LDER", "HDER", "AF", "ECOG", "AJCC", "STEEP", "RECIST v1.1",
    "PTEN", "AKT1", "TP53", "BRCA1", "BRCA2", "KRAS", "ALK", "HER2-low", "PD-1", "CTLA-4", "VEGF", "SERM", "CPS",
}
_NOT_ACRONYMS = {w.upper() for w in _NOT_ACRONYMS}
# Each condition: the terms naming it (any one will do) and the name it is given. Terms are matched
# without regard to case (see _Term).
_CONDITIONS = (
    (("triple-negative breast cancer", r"\bTNBC\b"), "triple-negative breast cancer"),
    ((r"advanced[\w\s,()+/-]{0,60}?breast cancer", r"metastatic[\w\s,()+/-]{0,60}?breast cancer", r"\bABC\b"),
     "advanced breast cancer"),
    ((r"early(?:-stage)? breast cancer", r"\bEBC\b"), "early breast cancer"),
    (("breast cancer",), "breast cancer"),
    ((r"non-small[- ]cell lung cancer", r"\bNSCLC\b"), "non-small-cell lung cancer"),
    ((r"heart failure with (?:reduced|preserved|mid-range) ejection fraction", r"\bHF[rp]EF\b"), "heart failure"),
    (("heart failure",), "heart failure"),
    (("atrial fibrillation",), "atrial fibrillation"),
    (("chronic kidney disease", r"\bCKD\b"), "chronic kidney disease"),
    (("type 2 diabetes", r"\bT2D\b"), "type 2 diabetes"),
    (("peripheral artery disease",), "peripheral artery disease"),
    (("cardiovascular disease",), "cardiovascular disease"),
)
_PHASE_RE = compile_regex(r"\bphase\s?(?P<p>III|II|I|[1-4])(?:[ab])?(?:\s?/\s?(?P<q>III|II|[1-4]))?\b", re.IGNORECASE)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
_DESIGN_TERMS = (
    ("randomized", r"\brandomi[sz]ed\b"),
    ("open-label", r"\bopen[- ]label\b"),
    ("double-blind", r"\bdouble[- ]blind(?:ed)?\b"),
    ("placebo-controlled", r"\bplacebo[- ]controlled\b"),
    ("multicenter", r"\bmulti-?cent(?:er|re)\b"),
    ("factorial", r"\bfactorial\b"),
    ("crossover", r"\bcross-?over\b"),
)
_RATING_RE = compile_regex(r"Evidence Rating Level:\s*(?P<r>\d\s*\([A-Za-z ]+\))", re.IGNORECASE)


# A title that ends by naming its trial in parentheses: "... breast cancer (SOLAR-1)."
_TITLE_PAREN_RE = compile_regex(rf"\((?P<a>{_ACRONYM})\)\s*[.:]?\s*$")
_NAME_RE = compile_regex(rf"\b{_ACRONYM}\b")
_NAME_HEAD_SPLIT = compile_regex(r"[- ]")
_ROMAN_NUMERAL_RE = compile_regex(r"[IVX]+[A-C]?")
_DIGIT_RE = compile_regex(r"\d")
_SEPARATED_NUMBER_RE = compile_regex(r"[-\s]\d")
_BLANKS_RE = compile_regex(r"\s+")
_WORD_OR_NUMBER_RE = compile_regex(r"[A-Za-z]+|\d+")


_WORD_CHAR = compile_regex(r"\w")


class _Term:
    """A term written as an ASCII regex, matched without regard to case: in lower case on ``fold``-ed text,
    which lets the regex engine jump to the term's first letters.

    A leading word boundary is checked by hand: in the regex it would keep the engine from
    jumping ahead to the term's first letters. Terms opening with one start with a word character.
    """

    def __init__(self, pattern: str):
        self.at_word = pattern.startswith(r"\b")
        self.regex = compile_regex((pattern[2:] if self.at_word else pattern).lower())
        # Strings one of which every match holds: most articles name none of the terms, which `in` tells
        # faster than the regex engine.
        self.needed = required_texts(self.regex.pattern)
        # A term that is one plain string is found with str.find.
        self.plain = self.regex.pattern if self.needed == (self.regex.pattern,) and not self.at_word else None

    def first(self, folded: str) -> int | None:
        """Where the term first occurs in ``folded``, or None."""
        if self.plain is not None:
            pos = folded.find(self.plain)
            return None if pos == -1 else pos
        if self.needed is not None:
            for text in self.needed:
                if text in folded:
                    break
            else:
                return None
        m = self.regex.search(folded)
        while m is not None and self.at_word and m.start() > 0 and _WORD_CHAR.match(folded, m.start() - 1):
            m = self.regex.search(folded, m.start() + 1)
        return m.start() if m else None


def _first_of(terms: tuple[_Term, ...], folded: str) -> int | None:
    """Where the first of several terms occurs."""
    return min((pos for term in terms if (pos := term.first(folded)) is not None), default=None)


_CONDITION_TERMS = tuple((tuple(_Term(p) for p in terms), name) for terms, name in _CONDITIONS)
_DESIGN_RES = tuple((name, _Term(p)) for name, p in _DESIGN_TERMS)


def _not_a_trial(name: str) -> bool:
    head = _NAME_HEAD_SPLIT.split(name)[0].upper()
    return (name.upper() in _NOT_ACRONYMS or head in _NOT_ACRONYMS or bool(_ROMAN_NUMERAL_RE.fullmatch(head))
            or head.startswith("NCT"))


# Every match of _NEAR_TRIAL_RE holds, or (the first alternative) looks ahead to, one of these words.
_TRIAL_WORDS = ("trial", "study", "Trial", "Study", "investigators", "analysis", "NCT", "nct", "RCT")
# Every trial name holds a capital after a letter or digit of its own first word ('KEYNOTE', 'monarchE',
# 'SYN-0000' at 'SY'): a stretch without one names no trial. Written to open with the capital, which
# lets the engine skip to the capitals (the look-behind may also see the character before the stretch,
# which only lets a stretch be read in vain).
_NAME_CAPITAL_RE = compile_regex(r"[A-Z](?<=[A-Za-z0-9][A-Z])")


# The trial words as fold() writes them, each with the spellings of it _TRIAL_WORDS holds: one scan of
# the folded text finds them all. No word can overlap itself, so stepping past each finds every one.
_FOLDED_TRIAL_WORDS = tuple((w, tuple(s for s in _TRIAL_WORDS if s.lower() == w))
                            for w in dict.fromkeys(s.lower() for s in _TRIAL_WORDS))


def _near_trial_matches(text: str, folded: str | None = None) -> list[re.Match]:
    """``_NEAR_TRIAL_RE.finditer(text)``, read only in the stretches between full stops that hold a trial word.

    No match, nor what it looks at, reaches over a full stop, except one inside a short parenthesis
    ('(N = 3,000; 2.5 mg)') that the first alternative looks ahead past: such a stop does not bound a
    stretch. Ending the regex's text at a full stop changes nothing: no part of the pattern matches
    one, and for the word boundaries and look-aheads the end of the text is, like a full stop, no
    word character. The stretches without a trial word, most of the text, are not read at all, nor
    those in which no trial name can be (see _NAME_CAPITAL_RE). ``folded`` is ``fold(text)`` when the
    caller has it.
    """
    folded = fold(text) if folded is None else folded
    starts = []
    for word, spellings in _FOLDED_TRIAL_WORDS:
        pos = folded.find(word)
        while pos != -1:
            if text.startswith(spellings, pos):
                starts.append(pos)
            pos = folded.find(word, pos + len(word))
    out: list[re.Match] = []
    read_to = -1
    for pos in sorted(starts):
        if pos < read_to:
            continue  # in the stretch just read
        start = _stop_before(text, pos) + 1
        read_to = _stop_after(text, pos)
        if _NAME_CAPITAL_RE.search(text, start, read_to):
            out.extend(_NEAR_TRIAL_RE.finditer(text, start, read_to))
    return out


def _in_short_parenthesis(text: str, pos: int) -> bool:
    """Whether text[pos] lies inside a parenthesis of at most 40 characters with none nested in it.

    Its brackets are then within 41 characters of ``pos``, so only so far is looked.
    """
    opening = text.rfind("(", max(0, pos - 41), pos)
    if opening == -1 or text.find(")", opening, pos) != -1:
        return False  # no opening bracket near enough, or it is closed before pos
    closing = text.find(")", pos, opening + 42)
    return closing != -1 and text.find("(", pos, closing) == -1


def _stop_before(text: str, pos: int) -> int:
    """The last full stop before ``pos`` that bounds a stretch, or -1."""
    stop = text.rfind(".", 0, pos)
    while stop != -1 and _in_short_parenthesis(text, stop):
        stop = text.rfind(".", 0, stop)
    return stop


def _stop_after(text: str, pos: int) -> int:
    """The first full stop after ``pos`` that bounds a stretch, or the end of the text."""
    stop = text.find(".", pos)
    while stop != -1 and _in_short_parenthesis(text, stop):
        stop = text.find(".", stop + 1)
    return len(text) if stop == -1 else stop


def _acronym(text: str, title: str | None, folded: str | None = None) -> str | None:
    """``folded`` is ``fold(text)`` when the caller has it."""
    votes: Counter[str] = Counter()
    for source, weight, source_folded in ((title or "", 2, None), (text, 1, folded)):
        for m in _near_trial_matches(source, source_folded):
            name = next(g for g in m.groups() if g).strip()
            if not _not_a_trial(name):
                votes[name] += weight
    titled = _TITLE_PAREN_RE.search(title or "")
    if titled and not _not_a_trial(titled.group("a")):
        votes[titled.group("a")] += 2
    if not votes:
        votes = _frequent_names(text)
    if not votes:
        return None
    best = max(votes.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
    return best


def _frequent_names(text: str) -> Counter[str]:
    """Without 'X trial' anywhere, a trial-like name the text repeats (DAPA-HF, monarchE) is taken."""
    counts: Counter[str] = Counter()
    for m in _NAME_RE.finditer(text):
        name = m.group(0)
        if _not_a_trial(name) or len(name) < 4:
            continue
        if _DIGIT_RE.search(name) and not _SEPARATED_NUMBER_RE.search(name):
            continue
        counts[name] += 1
    return Counter({k: v for k, v in counts.items() if v >= 2})


# Patterns read over whole articles, tried only where their first words occur.
_NCT_OPENINGS = Openings(_NCT_RE)
_PHASE_OPENINGS = Openings(_PHASE_RE)
_RATING_OPENINGS = Openings(_RATING_RE)


def _nct(text: str, folded: str | None = None) -> str | None:
    """``folded``, here and below, is ``fold(text)`` when the caller has it."""
    m = _NCT_OPENINGS.search(text, folded)
    return f"NCT{int(m.group(1)):08d}" if m else None


def _condition(text: str, folded: str | None = None) -> str | None:
    """The disease named first, under the most specific name the text gives it."""
    folded = fold(text) if folded is None else folded
    found = [(pos, k, name) for k, (terms, name) in enumerate(_CONDITION_TERMS)
             if (pos := _first_of(terms, folded)) is not None]
    if not found:
        return None
    family = " ".join(min(found)[2].split()[-2:])
    # Within the disease named first, the most specific name the text gives (list order) wins.
    return min((k, name) for _pos, k, name in found if name.endswith(family))[1]


def _phase(text: str, folded: str | None = None) -> str | None:
    m = _PHASE_OPENINGS.search(text, folded)
    if not m:
        return None
    first = _ROMAN.get(m.group("p").upper(), m.group("p"))
    if m.group("q"):
        return f"{first}/{_ROMAN.get(m.group('q').upper(), m.group('q'))}"
    return first


def _design(text: str, folded: str | None = None) -> str | None:
    folded = fold(text) if folded is None else folded
    found = [(pos, name) for name, term in _DESIGN_RES if (pos := term.first(folded)) is not None]
    return ", ".join(name for _pos, name in sorted(found)) or None


def article_facts(text: str, title: str | None = None) -> dict:
    """What the article says about its trial; None for anything it does not state."""
    if not isinstance(text, str):
        text = ""
    plain = normalize(text).text
    head = normalize(title).text if isinstance(title, str) else None
    folded = fold(plain)
    rating = _RATING_OPENINGS.search(plain, folded)
    return {
        "acronym": _acronym(plain, head, folded),
        "nct_id": _nct(plain, folded) or (_nct(head) if head else None),
        "condition": _condition(plain, folded) or (_condition(head) if head else None),
        "phase": _phase(plain, folded),
        "design": _design(plain, folded),
        "evidence_rating": _BLANKS_RE.sub(" ", rating.group("r")) if rating else None,
    }


def trial_id_for(acronym: str | None, nct_id: str | None) -> str | None:
    """Canonical trial id: the acronym without case, spaces, dashes or leading zeros, else the NCT number.

    The acronym wins over the NCT number because news items name the trial far more often than
    its registration, so articles about one trial meet on it.
    """
    if isinstance(acronym, str) and acronym.strip():
        parts = _WORD_OR_NUMBER_RE.findall(normalize(acronym).text)
        key = "".join(p.upper() if p.isalpha() else str(int(p)) for p in parts)
        if key:
            return key
    if isinstance(nct_id, str):
        m = _NCT_RE.search(nct_id)
        if m:
            return f"NCT{int(m.group(1)):08d}"
    return None
