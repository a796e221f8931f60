"""Treatment arms: their names in an article, randomized arm sizes, and which arm a figure belongs to."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pipelines.extraction.context import Doc, doc_cues, population_carried, sentence_index
from pipelines.extraction.numbers import parse_int
from pipelines.extraction.prefilter import Openings, fold, lower_case_regex, positions_of, tried_at
from pipelines.extraction.vocab import ENDPOINT_RE
from pipelines.regex_cache import compile_regex

_WORD = r"[A-Za-z0-9][\w+\-/.]*"
_STOP = {"the", "a", "an", "of", "with", "and", "or", "in", "to", "vs", "versus", "patients", "pts", "who",
         "receiving", "received", "given", "treated", "those", "group", "arm", "alone", "plus", "for", "on",
         "were", "was", "participants", "mg", "once", "daily", "orally", "both", "either", "receive", "at",
         "dose", "that", "this", "all", "each", "their", "trial", "study", "than", "compared"}
_GENERIC = {"therapy", "treatment", "monotherapy", "regimen", "care", "oral", "doses", "endocrine", "chemotherapy",
            "combination", "doublet", "triplet"}
_NOT_GROUP_WORDS = {"between", "two", "2", "both", "three", "treatment", "research", "study", "smaller", "additional",
                    "across", "balanced", "other", "each", "same", "different", "age", "all", "its", "per", "by",
                    "experimental", "investigational", "intervention", "active", "treated"}
_CONTROL = compile_regex(r"(?i)\b(?:placebo|control|standard|SOC|usual care|TPC|physician|continuation|alone"
                         r"|observation|PBO|comparator)\b")
# A control arm named by a word of its own; "alone" only marks the monotherapy side of a comparison.
_CONTROL_MENTION = compile_regex(r"(?i)\b(?:placebo|control|standard|SOC|usual care|TPC|physician|continuation"
                                 r"|observation|PBO|comparator)\b")
_CUT = compile_regex(r"(?i)\s(?:at (?:a )?dose|at \d|\d[\d.]*\s?(?:mg|g|IU|mL|mcg)\b|once|twice|daily|every|administered"
                     r"|for \d|for up|until|following|stratified|in addition|as |with randomi|\(n\b|in a \d|who\b|on day)")
_ASSIGN_RE = compile_regex(
    r"(?i)(?=[ra1-3])(?:(?:randomi[sz]ed|randomly (?:assigned|allocated)|assigned|allocated)\b(?: \(?\d:\d\)?| in a \d:\d ratio"
    r"| \(\d:\d ratio\))?(?:[^.;:]{0,25}?)\bto|(?<![\d:])[1-3]:[1-3] to) (?:receive )?(?:either )?(?P<list>[^.;:]{3,220})")
_EITHER_RE = compile_regex(r"(?i)\s(?:with )?either (?P<a>[^,;()]+?) or (?P<b>[^,;()]+?)(?=\s*+(?:\(|,|$))")
_LIST_SPLIT = compile_regex(r"(?i)\s*+(?:\([^()]{0,40}\))?\s*+(?:,\s*+(?:or |and )?|(?<=\s)(?:or|vs\.?|versus)\s|(?<=\s)and\s(?=to\b))")
_GROUP_RE = compile_regex(rf"\b((?:{_WORD} ){{0,2}}{_WORD}) (?:group|arm)\b")
_N_AFTER_RE = compile_regex(r"\(\s*[nN]\s*=\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+)\s*[;)]")
_N_INSIDE_RE = compile_regex(r"[(;]\s*(?P<arm>[^,;()]{2,60}?),\s*[nN]\s*=\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+)\s*(?=[;)])")
_N_PATIENTS_RE = compile_regex(r"\(\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+) (?:patients|participants|pts)\)")
_N_OF_RE = compile_regex(r"\(\s*\d+ of (?P<n>\d+)\)")
_ARM_TEXT = r"(?P<arm>(?:(?! (?:and|or) \d)[^,;.()]){2,60})"
_ASSIGNED_N_RE = compile_regex(
    r"(?i)(?=[1-9])(?<!\d )(?<![\d,.])(?P<n>\d{1,3}(?:,\d{3})+|\d{2,})(?: (?:patients|pts|participants))?(?: were)?"
    rf"(?: randomly)? (?:assigned|randomi[sz]ed|allocated|R) to (?:receive )?(?:the )?{_ARM_TEXT}")
_ASSIGNED_NEXT_RE = compile_regex(
    rf"(?i)^,?\s*(?:and\s+)?(?P<n>\d{{1,3}}(?:,\d{{3}})+|\d{{2,}}) to (?:receive )?(?:the )?{_ARM_TEXT}")
_NAME_DELIM = compile_regex(r"(?i)[;:,()]|\.(?!\d)|\b(?:with|to|for|given|received|receiving|in|of|that|than|who|or|vs|versus"
                            r"|results|on)\b")
_NOT_ARM = compile_regex(r"(?i)%|[<>\u2264\u2265]|\b(?:disease|cohort|population|subgroup|patients|pts|participants"
                         r"|cancer|tumou?rs?|mutations?|mutated|mutant|altered|alterations?|wild-type|positive|negative)\b|^(?:treatment|therapy|study|trial|randomi[sz]ation)$")
_ASSIGNED_LIST_RE = compile_regex(
    r"(?i)(?=[ra])(?:randomi[sz]ed|randomly assigned|assigned|allocated)(?: \(?\d:\d\)?)?(?:,\s*+(?:including\s+)?|\s++)"
    rf"(?P<n>\d{{1,3}}(?:,\d{{3}})+|\d{{2,}})(?: (?:patients|participants|pts))? to (?:receive )?(?:the )?{_ARM_TEXT}")
_N_PATIENTS_NAMED_RE = compile_regex(r"\((?P<n>\d{1,3}(?:,\d{3})+|\d+) (?:patients|participants)[;,] (?:the )?(?P<arm>[^()]{2,60}?)\)")
_SIZES_RESPECTIVELY_RE = compile_regex(
    r"\(\s*(?P<list>\d[\d,]*(?:\s*,\s*(?:and\s+)?\d[\d,]*|\s+and\s+\d[\d,]*)+)\s+(?:patients|participants|pts)?"
    r",?\s*respectively\s*\)")
_AMONG_N_RE = compile_regex(r"(?i)\bamong the (?P<n>\d{1,3}(?:,\d{3})+|\d{2,}) (?:patients|pts|participants) in the (?P<arm>[^,;.()]{2,50}?) (?:arm|group)\b")


class _Places:
    """Where words occur in an article's folded text (``fold(text)``), each word looked for once.

    Several whole-article patterns open with the same words ('randomized', 'assigned'); finding each
    word once and trying every pattern there costs far less than a scan of the article per pattern
    and word.
    """

    def __init__(self, folded: str):
        self.folded = folded
        self._found: dict[str, list[int]] = {}
        self._assignments: list[int] | None = None

    def of(self, word: str) -> list[int]:
        """Every position of ``word`` (lower case), overlapping ones included."""
        found = self._found.get(word)
        if found is None:
            found = self._found[word] = positions_of(self.folded, (word,))
        return found

    def assignments(self) -> list[int]:
        """Where _ASSIGN_RE and _ASSIGNED_LIST_RE may match: 'randomi...', 'randomly', 'assigned', 'allocated', '1:1'."""
        found = self._assignments
        if found is None:
            folded = self.folded
            found = self._assignments = sorted(set(
                self.of("random") + self.of("assigned") + self.of("allocated")
                + [q - 1 for q in self.of(":") if q and folded[q - 1] in "123"]))
        return found


# How far from its start every match of _ASSIGN_RE has said 'to ': its longest verb ('randomly allocated'),
# its longest ratio (' in a 1:1 ratio'), up to 25 other characters, and 'to ' itself.
_ASSIGN_TO_REACH = 18 + 15 + 25 + 3


def _assign_matches(text: str, places: _Places) -> list[re.Match]:
    """``list(_ASSIGN_RE.finditer(text))``: its matches open with 'randomi', 'randomly ', 'assigned', 'allocated' or '1:'-'3:'.

    Most of those places say 'randomized patients' or 'assigned by', with no 'to ' soon after, and are passed over.
    """
    folded = places.folded
    return tried_at(_ASSIGN_RE, text, [q for q in places.assignments()
                                        if folded.find("to ", q, q + _ASSIGN_TO_REACH) != -1])


def _assigned_list_matches(text: str, places: _Places) -> list[re.Match]:
    """``list(_ASSIGNED_LIST_RE.finditer(text))``: its matches open with 'randomi', 'randomly', 'assigned' or 'allocated'."""
    return tried_at(_ASSIGNED_LIST_RE, text, places.assignments())


def _compared_matches(text: str, places: _Places) -> list[re.Match]:
    """``list(_COMPARED_RE.finditer(text))``: its matches open with 'compared', 'comparing', 'tested' or 'evaluated'."""
    return tried_at(_COMPARED_RE, text, places.of("compar") + places.of("tested") + places.of("evaluated"))


_AMONG_N_OPENINGS = Openings(_AMONG_N_RE)

# What a match of _ASSIGNED_N_RE holds before its verb, in lower case, up to the verb.
_BEFORE_VERB_RE = compile_regex(r"(?<![\d,.])[1-9][\d,]*(?: (?:patients|pts|participants))?(?: were)?(?: randomly)?\Z")
_WORDS_BEFORE_VERB = len(" participants were randomly")


def _verbs(places: _Places) -> list[int]:
    """Where _ASSIGNED_N_RE's verb is, with its blank before and ' to ' after: every match holds one."""
    folded = places.folded
    out = []
    for word, verbs in (("assigned", ("assigned to ",)), ("random", ("randomized to ", "randomised to ")),
                        ("allocated", ("allocated to ",))):
        for q in places.of(word):
            if q and folded[q - 1] == " " and folded.startswith(verbs, q):
                out.append(q - 1)
    return out + places.of(" r to ")


def _assigned_n_matches(text: str, folded: str, places: _Places | None = None) -> list[re.Match]:
    """``list(_ASSIGNED_N_RE.finditer(text))``, tried only at the number before each verb.

    Read backwards from a verb, the words before it ('patients', 'were', 'randomly') are each
    there or not, and the number ends where they begin: only the start of that run of digits
    and commas can start a match. ``folded`` is ``fold(text)``, ``places`` its _Places.
    """
    starts = []
    for at in _verbs(places or _Places(folded)):
        window = max(0, at - _WORDS_BEFORE_VERB)
        while window > 0 and (folded[window - 1] == "," or folded[window - 1].isdecimal()):
            window -= 1
        before = _BEFORE_VERB_RE.search(folded, window, at)
        if before is not None:
            starts.append(before.start())
    return tried_at(_ASSIGNED_N_RE, text, starts)


# Every match of _N_INSIDE_RE holds this; most articles have none.
_N_INSIDE_SIGN_RE = compile_regex(r",\s*[nN]\s*=")

# An article compares a handful of arms; more names than this are noise, and capping them bounds the work.
MAX_ARMS = 12


_JOINER = r"(?:\s*(?:\bplus\b|\band\b|\bwith\b|\+|-|/)\s*|\s+)"
_NAME_WORD_SPLIT = compile_regex(r"\s*(?:\bplus\b|\band\b|\bwith\b|\+|/)\s*|\s+")
_TOKEN_RE = compile_regex(r"[a-z0-9]+")


@lru_cache(maxsize=4096)
def _name_words(name: str) -> list[str]:
    """A name split at blanks and at _JOINER's joining words and signs; callers must not change the list.

    Without a joining word or sign, only blanks split it, as str.split splits (\\s is a blank to both).
    """
    if "+" in name or "/" in name or "plus" in name or "and" in name or "with" in name:
        return [w for w in _NAME_WORD_SPLIT.split(name) if w]
    return name.split()


@lru_cache(maxsize=512)
def _name_pattern(name: str) -> re.Pattern:
    """'imlunestrant plus abemaciclib' also matches 'imlunestrant-abemaciclib' and 'imlunestrant + abemaciclib'."""
    words = _name_words(name)
    return compile_regex(r"\b" + _JOINER.join(re.escape(w) for w in words) + r"\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _not_arm(phrase: str) -> bool:
    """Whether _NOT_ARM rules ``phrase`` out as an arm name; the same phrases are asked about many times."""
    return _NOT_ARM.search(phrase) is not None


@lru_cache(maxsize=4096)
def is_control(name: str) -> bool:
    """Whether a name is a control arm's; asked for the same few names many times per article."""
    return bool(_CONTROL.search(name))


@lru_cache(maxsize=4096)
def tokens(name: str) -> frozenset[str]:
    """The content words of a name; asked for the same few names many times per article."""
    return frozenset(w for w in _TOKEN_RE.findall(name.lower()) if w not in _STOP and len(w) > 1)


_PAREN_WITH_NUMBER = compile_regex(r"\s*\([^()]*\d[^()]*\)?")
_LEAD_WORD = compile_regex(r"(?i)^(?:the|a|an|to|receive|either|those|patients|with|in|on)\s+")
_LEAD_WORD_AGAIN = compile_regex(r"(?i)^(?:the|a|an|to|receive|either|and|or|oral|intravenous|subcutaneous)\s+")
_COMBINATION_OF = compile_regex(r"(?i)^(?:the )?combination of\s+")
_GROUP_SUFFIX = compile_regex(r"(?i)\s+(?:group|arm)s?$")


@lru_cache(maxsize=4096)
def _clean(name: str) -> str:
    """Words of a name without doses, articles and a trailing 'group'; the same phrases recur, so results are kept."""
    name = _CUT.split(name, maxsplit=1)[0]
    name = _PAREN_WITH_NUMBER.sub("", name)
    name = _LEAD_WORD.sub("", name.strip())
    name = _LEAD_WORD_AGAIN.sub("", name.strip())
    name = _COMBINATION_OF.sub("", name)
    name = _GROUP_SUFFIX.sub("", name.strip(" ,;:-"))
    return name.strip(" ,;:-")


# Words that only ever join a sentence to the next one; inside a name they show it ran past a sentence end.
_SENTENCE_OPENERS = {"The", "This", "These", "In", "Among", "After", "For", "During", "However", "Overall"}
_PURE_NUMBER = compile_regex(r"^[(\[]?\d[\d.,%]*[)\]]?$|^\d+(?:\.\d+)+\.")
_NOT_NAME_START = compile_regex(r"(?i)^(?:each|both|with|without|and|or|to|of|day|cycle|than)\b")
_COMBINATION = compile_regex(r"(?i)\b(?:combination|doublet|triplet|combined regimen)\b")
# Every match of these opens with one of a few words: a sentence is searched only where they are.
_COMBINATION_OPENINGS = Openings(_COMBINATION)
_CONTROL_MENTION_OPENINGS = Openings(_CONTROL_MENTION)
_COMBINED_WITH = compile_regex(r"(?i)\s(?:in combination|combined|each|both) with\b.*")
_PATIENTS_SUFFIX = compile_regex(r"(?i)(?:-treated)?\s+(?:patients|participants|pts)$|-treated$")


@lru_cache(maxsize=4096)
def clean_name(name: str | None) -> str | None:
    """An arm name as a clean noun phrase, or None when the words cannot be one (numbers, two sentences...)."""
    if not name:
        return None
    name = " ".join(name.split())
    if name.count("(") > name.count(")"):
        name = name[:name.rfind("(")]
    name = _COMBINED_WITH.sub("", name)
    name = _PATIENTS_SUFFIX.sub("", name.strip(" ,;:-"))
    name = name.strip(" ,;:-")
    words = name.split()
    if not words or len(words) > 8 or _NOT_NAME_START.match(name):
        return None
    if any(_PURE_NUMBER.match(w) for w in words) or any(w in _SENTENCE_OPENERS for w in words[1:]):
        return None
    return name


@dataclass
class ArmSet:
    """Names of the arms an article talks about, in order of first mention."""

    names: list[str] = field(default_factory=list)
    sizes: list[tuple[str, int, int, int]] = field(default_factory=list)
    # The arms given with their randomized sizes, each once, in text order: what comparisons are named by.
    randomized: list[str] = field(default_factory=list)
    _lookup: list[tuple[str, _WholeName, list[str], str | None]] | None = field(
        default=None, repr=False, compare=False)
    # The names' words (see vocabulary), kept until a name is added.
    _vocabulary: frozenset[str] | None = field(default=None, repr=False, compare=False)
    # comparison_near per (text, sentence start, sentence end, names, randomized): a sentence's estimates ask alike.
    _near: dict[tuple, tuple[str | None, str | None]] = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, names: list[str] | None = None, sizes: list[tuple[str, int, int, int]] | None = None,
                 randomized: list[str] | None = None) -> None:
        # Written out as numbers.FigureCI's is, for the compiled build.
        self.names = [] if names is None else names
        self.sizes = [] if sizes is None else sizes
        self.randomized = [] if randomized is None else randomized
        self._lookup = None
        self._vocabulary = None
        self._near = {}

    def add(self, name: str) -> None:
        cleaned = clean_name(_clean(name))
        if not cleaned or not tokens(cleaned) or len(cleaned) > 70 or len(self.names) >= MAX_ARMS:
            return
        if any(tokens(cleaned) == tokens(n) for n in self.names):
            return
        self.names.append(cleaned)
        self._lookup = None
        self._vocabulary = None

    def vocabulary(self) -> frozenset[str]:
        """The content words of the arms' names; every per-arm result asks for them."""
        if self._vocabulary is None:
            out: set[str] = set()
            for n in self.names:
                out |= tokens(n)
            self._vocabulary = frozenset(out)
        return self._vocabulary

    def _patterns(self) -> list[tuple[str, _WholeName, list[str], str | None]]:
        """Per name: its whole-name matcher, the words no other arm has, and a word the whole name needs.

        Built once per article (see _name_patterns).
        """
        if self._lookup is None:
            self._lookup = _name_patterns(tuple(self.names))
        return self._lookup

    def find(self, text: str, start: int, end: int, segment: str | None = None) -> list[tuple[int, str, str]]:
        """(position, arm, words as written) of arm names in text[start:end], whole or by a word no other arm has.

        ``segment`` is ``fold(text[start:end])`` when the caller has it.
        """
        segment = fold(text[start:end]) if segment is None else segment
        return [(pos, name, text[pos:stop] if (exact or whole.fullmatch(text, segment, start, pos, stop))
                 else _as_written(text, pos, stop, name, end))
                for pos, stop, name, whole, exact in self._hits(text, start, end, segment)]

    def _hits(self, text: str, start: int, end: int, segment: str) -> list[tuple[int, int, str, _WholeName, bool]]:
        """find's mentions as (position, end, arm, its whole-name matcher, whether that end is as written)."""
        found = []
        for name, whole, own_words, needed in self._patterns():
            if needed is None or needed in segment:
                spans = whole.spans(text, segment, start, end)
                if spans:
                    exact = whole.ends_in_word
                    found += [(a, b, name, whole, exact) for a, b in spans]
                    continue
            if own_words:
                first = _first_word(text, segment, start, end, own_words)
                if first is not None:
                    found.append((*first, name, whole, False))
        if len(found) < 2:
            return found
        found.sort(key=lambda f: (f[0], f[0] - f[1]))
        out = []
        covered = -1
        for hit in found:
            # A name found inside another one's mention ("imlunestrant" in "imlunestrant-abemaciclib") is that one.
            if hit[0] < covered:
                continue
            out.append(hit)
            covered = hit[1]
        return out

    def targets(self) -> list[str]:
        """Names comparisons are written with: the randomized arms when two or more are known, else every name."""
        return self.randomized if len(self.randomized) >= 2 else self.names

    def resolve(self, mention: str) -> str | None:
        """The article's arm a mention stands for: same words, a control or combination word, or a unique superset."""
        return _resolve(mention, tuple(self.targets()))

    def is_combination(self, name: str) -> bool:
        """A name adding a drug to another arm ('A plus B' beside 'A')."""
        return _is_combination(name, tuple(self.targets()))

    def comparison_near(self, doc: Doc, si: int, pos: int) -> tuple[str | None, str | None]:
        """(experimental, comparator) of a figure: arms named in its sentence, else the article's arms."""
        sent = doc.sents[si]
        key = (doc.text, sent.start, sent.end, tuple(self.names), tuple(self.randomized))
        if key not in self._near:
            self._near[key] = self._comparison_in(doc.text, sent.start, sent.end, doc.folded[sent.start:sent.end])
        return self._near[key]

    def _comparison_in(self, text: str, start: int, end: int,
                       segment: str | None = None) -> tuple[str | None, str | None]:
        seen = self._mentioned(text, start, end, segment)
        if len(seen) == 1:
            partner = self._partner(seen[0])
            seen += [partner] if partner else []
        if not seen:
            seen = main_pair(self.targets())
        if len(seen) < 2:
            return (seen[0] if seen else None), None
        return orient(seen[0], seen[1])

    def _mentioned(self, text: str, start: int, end: int, segment: str | None = None) -> list[str]:
        """Arms a sentence names, in order, each as the article's arm it stands for.

        ``segment`` is ``fold(text[start:end])`` when the caller has it.
        """
        segment = fold(text[start:end]) if segment is None else segment
        found = [(hit[0], hit[2], True) for hit in self._hits(text, start, end, segment)]
        for m in _CONTROL_MENTION_OPENINGS.finditer_in(text, start, end, segment):
            found.append((m.start(), m.group(0), False))
        for m in _COMBINATION_OPENINGS.finditer_in(text, start, end, segment):
            found.append((m.start(), m.group(0), False))
        found.sort()
        out: list[str] = []
        targets = self.targets()
        loose = targets is self.names
        names = tuple(targets)
        for _p, mention, named in found:
            arm = _resolve(mention, names)
            if arm is None and out and is_control(mention):
                arm = _partner(out[0], names)
            if arm is None and named and loose:
                arm = mention
            if arm and arm not in out:
                out.append(arm)
        return out

    def _partner(self, arm: str) -> str | None:
        """The arm compared with ``arm`` when only it is named: the monotherapy a combination adds to, else control."""
        return _partner(arm, tuple(self.targets()))


# The same mentions are resolved against the same arms many times per article; these are kept.

@lru_cache(maxsize=4096)
def _resolve(mention: str, names: tuple[str, ...]) -> str | None:
    """ArmSet.resolve, with ``names`` the arms comparisons are written with (ArmSet.targets)."""
    words = tokens(mention) - _GENERIC
    if is_control(mention) and not words - _CONTROL_WORDS:
        # 'control', 'placebo', 'SOC' alone: the article's first control arm, however it is named.
        return next((n for n in names if is_control(n)), None)
    for known in names:
        if words and words == tokens(known) - _GENERIC:
            return known
    if _COMBINATION.search(mention) and not words - {"combination", "doublet", "triplet", "combined", "regimen"}:
        combos = [n for n in names if _is_combination(n, names)]
        return combos[0] if len(combos) == 1 else None
    wider = [n for n in names if tokens(mention) and tokens(mention) <= tokens(n)]
    wider.sort(key=lambda n: len(tokens(n)))
    if wider and (len(wider) == 1 or len(tokens(wider[0])) < len(tokens(wider[1]))):
        return wider[0]
    return None


def _is_combination(name: str, names: tuple[str, ...]) -> bool:
    """ArmSet.is_combination, with ``names`` the arms comparisons are written with."""
    own = tokens(name)
    return any(tokens(n) < own for n in names if n != name)


@lru_cache(maxsize=4096)
def _partner(arm: str, names: tuple[str, ...]) -> str | None:
    """ArmSet._partner, with ``names`` the arms comparisons are written with."""
    others = [n for n in names if n != arm and tokens(n) != tokens(arm)]
    if is_control(arm):
        return next((n for n in others if not is_control(n)), None)
    inner = [n for n in others if tokens(n) < tokens(arm)]
    if inner:
        return inner[0]
    return next((n for n in others if is_control(n)), None) or next(
        (n for n in others if not tokens(n) & tokens(arm)), None) or next(iter(others), None)


@lru_cache(maxsize=256)
def _name_patterns(names: tuple[str, ...]) -> list[tuple[str, _WholeName, list[str], str | None]]:
    """ArmSet._patterns for these names; articles of one trial name the same arms, so results are kept.

    The whole name needs each of its words, so its longest ASCII word (None when it has none) rules
    the pattern out of most sentences. Callers must not change the list.
    """
    lookup = []
    for name in names:
        others = set().union(*(tokens(n) for n in names if n != name))
        own = sorted(tokens(name) - others - _GENERIC)
        words = _name_words(name)
        ascii_words = [w.lower() for w in words if w.isascii()]
        needed = max(ascii_words, key=len) if ascii_words else None
        lookup.append((name, _whole_name(name), own, needed))
    return lookup


class _WholeName:
    """_name_pattern(name), compiled: for names with a word beyond ASCII."""

    # Whether each of the name's matches is its own fullmatch, without asking (see _AsciiName).
    ends_in_word = False

    def __init__(self, name: str):
        self.regex = _name_pattern(name)

    def spans(self, text: str, segment: str, start: int, end: int) -> list[tuple[int, int]]:
        """Spans of ``_name_pattern(name).finditer(text, start, end)``; ``segment`` is ``fold(text[start:end])``."""
        return [m.span() for m in self.regex.finditer(text, start, end)]

    def fullmatch(self, text: str, segment: str, start: int, pos: int, stop: int) -> bool:
        """Whether ``_name_pattern(name).fullmatch(text, pos, stop)``, for start <= pos <= stop <= the segment's end."""
        return self.regex.fullmatch(text, pos, stop) is not None


class _AsciiName(_WholeName):
    """_name_pattern(name) for a name whose words are all ASCII, matched without compiling a pattern.

    A pattern per arm name costs about 0.1 ms to compile, and unseen articles name unseen drugs.
    The pattern is \\b, the words joined by _JOINER, \\b, ignoring case; an ASCII word occurs under
    IGNORECASE exactly where its lower case occurs in the folded text. A word never holds a blank
    (names are split at blanks), so each joiner can end at one place only for each of its two forms,
    blanks with a joining word or sign ('plus', 'and', 'with', '+', '-', '/') or blanks alone; the
    two are tried in the pattern's order, as the regex engine would.
    """

    def __init__(self, words: list[str]):
        self.words = [w.lower() for w in words]
        self.last = len(words) - 1
        # A match ends with the name's last character: when it is a word character, \\b after it holds
        # wherever the text is cut there, so fullmatch of a match's own span holds.
        self.ends_in_word = is_word_char(words[-1][-1])

    def spans(self, text: str, segment: str, start: int, end: int) -> list[tuple[int, int]]:
        first = self.words[0]
        i = segment.find(first)
        if i == -1:
            return []
        out = []
        taken = start
        size = len(first)
        single = self.last == 0
        while i != -1:
            pos = start + i
            if pos >= taken and _boundary(text, pos, end):
                if single:
                    stop = pos + size if _boundary(text, pos + size, end) else -1
                else:
                    stop = self._first_end(text, segment, start, end, 1, pos + size)
                if stop != -1:
                    out.append((pos, stop))
                    taken = stop
            i = segment.find(first, i + 1)
        return out

    def fullmatch(self, text: str, segment: str, start: int, pos: int, stop: int) -> bool:
        return _boundary(text, pos, stop) and any(e == stop for e in self._ends(text, segment, start, stop, 0, pos))

    def _first_end(self, text: str, segment: str, start: int, end: int, k: int, at: int) -> int:
        """End of the first match (in the regex's order) whose words[k - 1] ends at ``at``; -1 without one.

        Text past ``end`` is not read, as when the regex is given ``end`` for the end of the text.
        """
        blank = at
        while blank < end and text[blank].isspace():
            blank += 1
        places = []
        joined = _joining_word_end(text, segment, start, end, blank)
        if joined != -1:  # blanks, a joining word or sign, blanks
            while joined < end and text[joined].isspace():
                joined += 1
            places.append(joined)
        if blank > at:  # blanks alone
            places.append(blank)
        word = self.words[k]
        for after in places:
            if segment.startswith(word, after - start, end - start):
                stop = after + len(word)
                if k == self.last:
                    if _boundary(text, stop, end):
                        return stop
                else:
                    found = self._first_end(text, segment, start, end, k + 1, stop)
                    if found != -1:
                        return found
        return -1

    def _ends(self, text: str, segment: str, start: int, end: int, k: int, at: int):
        """Where a match can end when words[k] starts at ``at`` (text[..end] read as the whole text), in the regex's order."""
        word = self.words[k]
        stop = at + len(word)
        if not segment.startswith(word, at - start, end - start):
            return
        if k == self.last:
            if _boundary(text, stop, end):
                yield stop
            return
        blank = stop
        while blank < end and text[blank].isspace():
            blank += 1
        joined = _joining_word_end(text, segment, start, end, blank)
        if joined != -1:
            after = joined
            while after < end and text[after].isspace():
                after += 1
            yield from self._ends(text, segment, start, end, k + 1, after)
        if blank > stop:
            yield from self._ends(text, segment, start, end, k + 1, blank)


def _joining_word_end(text: str, segment: str, start: int, end: int, at: int) -> int:
    """End of _JOINER's 'plus', 'and', 'with' (each a whole word), '+', '-' or '/' at ``at``; -1 without one."""
    if at >= end:
        return -1
    ch = segment[at - start]
    if ch in "+-/":
        return at + 1
    for word in ("plus", "and", "with"):
        if segment.startswith(word, at - start, end - start):
            stop = at + len(word)
            return stop if _boundary(text, at, end) and _boundary(text, stop, end) else -1
    return -1


def _boundary(text: str, pos: int, end: int) -> bool:
    """Whether \\b holds at ``pos`` when the text is read up to ``end`` (what comes before is read too)."""
    if pos > 0:
        ch = text[pos - 1]
        before = ch.isalnum() or ch == "_"
    else:
        before = False
    if pos < end:
        ch = text[pos]
        return before != (ch.isalnum() or ch == "_")
    return before


@lru_cache(maxsize=512)
def _whole_name(name: str) -> _WholeName:
    """The whole-name matcher of a name: without a compiled pattern when its words are ASCII."""
    words = _name_words(name)
    return _AsciiName(words) if words and all(w.isascii() for w in words) else _WholeName(name)


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` is a character \\w matches (in a str pattern without the ASCII flag)."""
    return ch.isalnum() or ch == "_"


def _first_word(text: str, segment: str, start: int, end: int, words: list[str]) -> tuple[int, int] | None:
    """Span of the first of ``words`` in text[start:end] standing as a whole word, ignoring case; None without one.

    What ``re.compile(r"\\b(?:w1|w2|...)\\b", re.IGNORECASE).search(text, start, end)`` finds, without
    compiling a pattern for every article's names: ``words`` are lower-case ASCII letters and digits
    (see tokens), so they occur under IGNORECASE exactly where they occur in ``segment``
    (``fold(text[start:end])``). Like \\b, the test before a word reads text before ``start``; the one
    after it takes ``end`` for the end of the text. At most one word can stand at a place, since the
    longer of two words sharing a start goes on with a word character.
    """
    best: tuple[int, int] | None = None
    for w in words:
        i = segment.find(w)
        while i != -1:
            pos = start + i
            if best is not None and pos >= best[0]:
                break
            stop = pos + len(w)
            if (pos == 0 or not is_word_char(text[pos - 1])) and (stop >= end or not is_word_char(text[stop])):
                best = (pos, stop)
                break
            i = segment.find(w, i + 1)
    return best


_CONTROL_WORDS = {"placebo", "control", "standard", "soc", "usual", "tpc", "physician", "continuation",
                  "observation", "pbo", "comparator"}


_NEXT_WORD = compile_regex(r"[ -]([A-Za-z][\w/+-]*)")


def _as_written(text: str, start: int, stop: int, name: str, end: int) -> str:
    """A mention found by one word, widened over the words of that arm around it ('standard' -> 'standard therapy')."""
    allowed = tokens(name) | _GENERIC
    while (m := _NEXT_WORD.match(text[stop:min(end, stop + 30)])) and m.group(1).lower() in allowed:
        stop += m.end()
    return text[start:stop]


def orient(a: str, b: str) -> tuple[str, str]:
    """(experimental, comparator): a control arm, or the monotherapy a combination adds to, is the comparator."""
    if is_control(a) and not is_control(b):
        return b, a
    if not is_control(a) and not is_control(b) and tokens(a) < tokens(b):
        return b, a
    return a, b


def main_pair(names: list[str]) -> list[str]:
    """The article's main pair: its first experimental arm and its first control arm."""
    exp = [n for n in names if not is_control(n)]
    ctl = [n for n in names if is_control(n)]
    return (exp[:1] + ctl[:1]) if exp and ctl else names[:2]


# A list item of a design sentence that is a number or an aim, not a treatment.
_NOT_AN_ARM_ITEM = compile_regex(r"\s*(?:\d|(?:evaluate|assess|compare|determine|identify|test)\b)")


def article_arms(doc: Doc, estimates) -> ArmSet:
    """Collect arm names from randomization sentences, 'X group'/'X arm' phrases and sized arms."""
    arms = ArmSet()
    text = doc.text
    places = _Places(doc.folded)
    for m in _assign_matches(text, places):
        listed = m.group("list")
        # Every match of _EITHER_RE says 'either' (in any case), which few lists do.
        says_either = doc.folded.find("either", m.start("list"), m.end("list")) != -1
        either = _EITHER_RE.search(listed) if says_either else None
        items = _LIST_SPLIT.split(_EITHER_RE.sub("", listed) if says_either else listed)[:4]
        if either and len(items) < 2:
            # "fulvestrant with either placebo or capivasertib": the options are the arms.
            items = [either.group("a"), either.group("b")]
        for item in items:
            if not _NOT_AN_ARM_ITEM.match(item) \
                    and not _not_arm(_clean(item)):
                arms.add(item)
    group_places = _group_places(text)
    for m in _anchored(_GROUP_RE, _GROUP_ANCHOR, text, 200, 8, group_places, _GroupReach(text, group_places)):
        words = m.group(1).split()
        if {w.lower() for w in words} & _NOT_GROUP_WORDS:
            words = words[max(i for i, w in enumerate(words) if w.lower() in _NOT_GROUP_WORDS) + 1:]
        while words and words[0].lower() in _STOP:
            words = words[1:]
        if words and not _not_arm(" ".join(words)):
            arms.add(" ".join(words))
    for m in _compared_matches(text, places):
        pair = [_clean(m.group("a")), _clean(m.group("b"))]
        if all(p and not _not_arm(p) for p in pair):
            for name in pair:
                arms.add(name)
    for m in _anchored(_VS_PAIR_RE, _VS_ANCHOR, text, 42, 52, _vs_places(text)):
        pair = [m.group("x"), m.group("y")]
        if all(_plausible_vs_name(text, w) for w in pair) and any(is_control(w) for w in pair):
            for w in pair:
                arms.add(w)
    arms.sizes = _sizes(doc, arms, places)
    for name, _n, _s, _e in arms.sizes:
        arms.add(name)
    arms.randomized = _randomized(arms)
    return arms


def _randomized(arms: ArmSet) -> list[str]:
    out: list[str] = []
    for name, _n, _s, _e in sorted(arms.sizes, key=lambda s: s[2]):
        cleaned = clean_name(name)
        if cleaned and not any(tokens(cleaned) - _GENERIC == tokens(n) - _GENERIC for n in out):
            out.append(cleaned)
    return out


# A design sentence naming both arms: "the trial compared A plus B with placebo plus B in ...".
_COMPARED_RE = compile_regex(r"(?i)(?=[cte])\b(?:compared|comparing|tested|evaluated) (?!with\b|to\b|the (?:efficacy|safety)\b)"
                             r"(?P<a>[^,;.()]{2,60}?) (?:with|to|versus|vs\.?|against) (?P<b>[^,;.()]{2,60}?)"
                             r"(?= (?:in|among|for|as|after)\b|[,.;]|$)")
_VS_PAIR_RE = compile_regex(r"(?<![\w+/-])(?P<x>[A-Za-z][\w+/-]{1,40}) (?:vs\.?|versus) (?P<y>[A-Za-z][\w+/-]{1,40})(?![\w+/-])")
_NOT_VS_WORDS = {"months", "patients", "group", "arm", "the", "a", "an", "those", "and", "or", "with", "without",
                 "baseline", "weeks", "years", "days", "rates", "rate", "events", "median", "mean", "each"}


# Each takes only the blank before its word, so that anchors sharing characters ('A vs vs B') are all
# found; opening with that blank lets the engine jump from blank to blank.
_GROUP_ANCHOR = compile_regex(r" (?=(?:group|arm)\b)")
_VS_ANCHOR = compile_regex(r" (?=(?:vs\.?|versus) )")


def _anchored(regex: re.Pattern, anchor: re.Pattern, text: str, before: int, after: int,
              places: list[int] | None = None, reach=None):
    """regex.finditer(text), found by looking only around the anchor words every match contains.

    A few words either side of 'group' or 'vs' is all these patterns span; scanning whole articles
    for them word by word costs far more than finding the anchors. ``places`` are the anchor's
    match starts when the caller has them; ``reach(text, start, places, k)`` may move the start of
    the window around ``places[k]`` up to where the first match in it can start.
    """
    prev = 0
    if places is None:
        places = [a.start() for a in anchor.finditer(text)]
    for k, pos in enumerate(places):
        if pos < prev:
            continue
        start = max(prev, pos - before)
        if reach is not None:
            start = reach(text, start, places, k)
        m = regex.search(text, start, min(len(text), pos + after))
        while m is not None and m.end() <= pos:
            m = regex.search(text, m.end(), min(len(text), pos + after))
        # The window may have cut a longer match short ('drug group group'): read it again unbounded.
        m = regex.match(text, m.start()) if m is not None and m.start() <= pos else None
        if m is not None:
            prev = m.end()
            yield m


def _group_places(text: str) -> list[int]:
    """Starts of _GROUP_ANCHOR's matches: the blank before 'group' or 'arm' ending a word."""
    out = []
    for word in (" group", " arm"):
        q = text.find(word)
        while q != -1:
            stop = q + len(word)
            if stop == len(text) or not is_word_char(text[stop]):
                out.append(q)
            q = text.find(word, q + 1)
    out.sort()
    return out


def _vs_places(text: str) -> list[int]:
    """Starts of _VS_ANCHOR's matches: the blank before 'vs ', 'vs. ' or 'versus '."""
    out = []
    q = text.find(" vs")
    while q != -1:
        if text.startswith((" vs ", " vs. "), q):
            out.append(q)
        q = text.find(" vs", q + 1)
    out += positions_of(text, (" versus ",))
    out.sort()
    return out


class _GroupReach:
    """Where the first _GROUP_RE match in a window from ``start`` around ``places[k]`` can start, at the earliest.

    A match ends at an anchor with up to three words before it, each a run of word characters, the
    later ones each after a single blank: no match ending at an anchor starts before the third such
    run back from it (its reach, found once per anchor). The reach of a later anchor is never
    earlier (its runs go back through the earlier anchor's, or stop after it), so the window's first
    anchor bounds every match in the window.
    """

    def __init__(self, text: str, places: list[int]):
        self.text = text
        self.places = places
        self.reach: dict[int, int] = {}

    def __call__(self, text: str, start: int, places: list[int], k: int) -> int:
        first = bisect_left(places, start, 0, k + 1)
        reach = self.reach.get(first)
        if reach is None:
            reach = self.reach[first] = self._reach(places[first])
        return max(start, reach)

    def _reach(self, end: int) -> int:
        text = self.text
        first = end
        for _ in range(3):
            run = end
            while run > 0:
                ch = text[run - 1]
                if not (ch.isalnum() or ch in "_+-/."):  # [\w+\-/.]: what _GROUP_RE's words hold
                    break
                run -= 1
            if run == end:
                break
            first = run
            if run < 2 or text[run - 1] != " ":
                break
            end = run - 1
        return first


def _plausible_vs_name(text: str, word: str) -> bool:
    """A word beside 'vs' is an arm when it is no common word, endpoint or population word."""
    return word.lower() not in _NOT_VS_WORDS and not ENDPOINT_RE.fullmatch(word) and not _not_arm(word)


def _lowered(regex: re.Pattern) -> re.Pattern:
    """prefilter.lower_case_regex(regex), which must exist: it finds the same spans in fold(text), faster."""
    lowered = lower_case_regex(regex)
    if lowered is None:
        raise ValueError(f"no lower-case form of {regex.pattern!r}")
    return lowered


_NAME_DELIM_LOWERED = _lowered(_NAME_DELIM)
_CUT_LOWERED = _lowered(_CUT)


def name_before(text: str, pos: int) -> str:
    """The arm named right before ``pos``; 'fulvestrant or exemestane (n = 330)' is one arm of two options."""
    chunk = text[max(0, pos - 70):pos]
    # Read in lower case: the matches fall where _NAME_DELIM's and _CUT's do in the text as written.
    delims = list(_NAME_DELIM_LOWERED.finditer(fold(chunk)))
    cuts = [m.end() for m in delims]
    if len(delims) >= 2 and delims[-1].group(0) == "or" and delims[-2].group(0) not in ",;:()":
        cuts.pop()
    tail = " " + (chunk[cuts[-1]:] if cuts else chunk).strip()
    cut = _CUT_LOWERED.search(fold(tail))
    if cut is not None:
        tail = tail[:cut.start()]
    return _clean(" ".join(tail.split()[-5:]))


_N_EQUALS_NEXT = compile_regex(r"\s*\(\s*n\s*=", re.IGNORECASE)
_SIZE_LIST_NUMBER = compile_regex(r"\d[\d,]*")


def _sizes(doc: Doc, arms: ArmSet, places: _Places | None = None) -> list[tuple[str, int, int, int]]:
    """(arm, n, start, end) for every randomized arm size stated for the whole population."""
    text = doc.text
    places = places or _Places(doc.folded)
    out: list[tuple[str | None, int | None, int, int]] = []
    assigned: set[int] = set()
    for m in (*_assigned_n_matches(text, doc.folded, places), *_assigned_list_matches(text, places)):
        if _N_EQUALS_NEXT.match(text[m.end():m.end() + 12]):
            continue  # "874 patients were assigned to A (n = 331), ...": a total, the arms follow
        start = m.start("n") if m.re is _ASSIGNED_LIST_RE else m.start()
        out.append((m.group("arm"), parse_int(m.group("n")), start, m.end()))
        assigned.add(start)
        pos = m.end()
        while (nxt := _ASSIGNED_NEXT_RE.match(text[pos:pos + 120])):
            out.append((nxt.group("arm"), parse_int(nxt.group("n")), pos + nxt.start("n"), pos + nxt.end()))
            assigned.add(pos + nxt.start("n"))
            pos += nxt.end()
    by_n, by_number = _bracket_places(text)
    out.extend(_sizes_respectively(text, by_number))
    assigned.update(start for _name, _n, start, _end in out)
    for m in (*_AMONG_N_OPENINGS.finditer(text, doc.folded), *tried_at(_N_PATIENTS_NAMED_RE, text, by_number)):
        out.append((m.group("arm"), parse_int(m.group("n")), m.start(), m.end()))
    for m in _N_INSIDE_RE.finditer(text) if _N_INSIDE_SIGN_RE.search(text) else ():
        out.append((m.group("arm"), parse_int(m.group("n")), m.start() + 1, m.end()))
    for regex, places_of_regex in ((_N_AFTER_RE, by_n), (_N_PATIENTS_RE, by_number), (_N_OF_RE, by_number)):
        for m in tried_at(regex, text, places_of_regex):
            name = name_before(text, m.start())
            found = text.rfind(name, max(0, m.start() - 80), m.start()) if name else -1
            out.append((name, parse_int(m.group("n")), found if found >= 0 else m.start(), m.end()))
    kept: list[tuple[str, int, int, int]] = []
    for raw_name, n, start, end in out:
        name = _clean(raw_name or "")
        if n is None or n < 10 or not tokens(name) or _not_arm(name):
            continue
        if _in_subgroup(doc, end, carry=start not in assigned):
            continue
        kept.append((name, n, start, end))
        if len(kept) >= MAX_ARMS * 2:
            break
    return kept


def _bracket_places(text: str) -> tuple[list[int], list[int]]:
    """Where the bracketed sizes _sizes reads may start: before 'n' or 'N', and before a number, blanks aside.

    Their regexes open with '(', blanks and then 'n' (_N_AFTER_RE) or digits followed by a blank or a
    comma (the others). Most brackets hold neither ('(HR', '(95% CI'), and each regex is tried only at
    the brackets that do, not run over the whole article.
    """
    by_n: list[int] = []
    by_number: list[int] = []
    size = len(text)
    q = text.find("(")
    while q != -1:
        k = q + 1
        while k < size and text[k].isspace():  # \s, as the regexes read it
            k += 1
        if k < size and text[k] in "nN":
            by_n.append(q)
        elif k < size and text[k].isdecimal():  # \d
            while k < size and text[k].isdecimal():
                k += 1
            if k < size and (text[k] == "," or text[k].isspace()):
                by_number.append(q)
        q = text.find("(", q + 1)
    return by_n, by_number


def _sizes_respectively(text: str, places: list[int]) -> list[tuple[str, int | None, int, int]]:
    """'assigned to A, B, or C (331, 330, and 213 patients, respectively)'; ``places`` as _bracket_places gives."""
    out: list[tuple[str, int | None, int, int]] = []
    for m in tried_at(_SIZES_RESPECTIVELY_RE, text, places):
        assign = None
        for a in _ASSIGN_RE.finditer(text, max(0, m.start() - 300), m.start()):
            assign = a
        if assign is None:
            continue
        listed = text[assign.start("list"):m.start()]
        names = [_clean(item) for item in _LIST_SPLIT.split(listed) if _clean(item)]
        sizes = [parse_int(x) for x in _SIZE_LIST_NUMBER.findall(m.group("list"))]
        if len(names) == len(sizes):
            out.extend((name, n, assign.start("list"), m.end()) for name, n in zip(names, sizes))
    return out


def _in_subgroup(doc: Doc, pos: int, carry: bool) -> bool:
    si = sentence_index(doc, pos)
    sent = doc.sents[si]
    cues = doc_cues(doc, sent.start, pos)
    if cues:
        return not cues[-1].overall
    return carry and not population_carried(doc, si).overall


def arm_records(doc: Doc, arms: ArmSet, article: str,
                from_counts: Sequence[tuple[str, int, int, int]] = ()) -> list[dict]:
    """One record per randomized arm; sizes read off outcome counts ('x of N') fill in arms not sized otherwise.

    ``from_counts`` spans already point into the original text.
    """
    out: list[dict] = []
    seen: set[tuple[int, frozenset[str]]] = set()
    candidates = [(name, n, *doc.norm.span(start, end)) for name, n, start, end in arms.sizes]
    candidates += list(from_counts)
    sized = len(arms.sizes)
    for k, (name, n, a, b) in enumerate(candidates):
        key = (n, frozenset(tokens(name)))
        if key in seen or any(s[0] == n and s[1] & key[1] for s in seen):
            continue
        if k >= sized and any(s[1] == key[1] for s in seen):
            continue  # the arm's randomized size is already known; a count's denominator does not replace it
        seen.add(key)
        out.append({"article": article, "type": "arm", "arm": name, "n": n,
                    "evidence": doc.norm.original[a:b], "span_start": a, "span_end": b})
    return out
