"""Cheap tests that rule a regex out, or narrow where it is tried, before the regex engine reads the text.

Most sentences hold none of the words most patterns look for; a substring test settles that far
faster than running the pattern (Prefilter). A pattern read over a whole article can be tried only
where the words its matches start with occur (Openings). Neither changes what is found: when unsure
whether a pattern may match, or where, they say it may, everywhere. A Prefilter also looks for the
matches of an IGNORECASE pattern in lower case on ``fold``-ed text when it can show that finds the
same places (lower_case_pattern), and takes each match from the pattern itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipelines.regex_cache import compile_regex

# re.IGNORECASE equates an ASCII letter only with itself, its other case and these four.
_FOLD_NON_ASCII = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_ASCII_LOWER_BYTES = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def lower_ascii(text: str) -> str:
    """``text`` with A-Z in lower case and every other character as it is (same length).

    Through UTF-8 when the text has other characters: their bytes are all above 0x7f, so a byte
    table lowers exactly A-Z, many times faster than str.translate on such text.
    """
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").translate(_ASCII_LOWER_BYTES).decode("utf-8", "surrogatepass")


def fold(text: str) -> str:
    """``text`` with every character IGNORECASE matches to an ASCII letter written as that letter in lower case.

    Same length as ``text``, so positions carry over. An ASCII string occurs in ``text`` under
    IGNORECASE exactly where its lower case occurs in ``fold(text)``.
    """
    if text.isascii():
        return text.lower()
    return fold_lowered(lower_ascii(text))


def fold_lowered(lowered: str) -> str:
    """``fold(text)`` from ``lower_ascii(text)``, when the caller has that already (the same for ASCII text)."""
    if lowered.isascii():
        return lowered
    folded = lowered
    for char, letter in _FOLD_NON_ASCII.items():
        if char in folded:
            folded = folded.replace(char, letter)
    return folded


_FLAG_GROUP = compile_regex(r"\(\?[aiLmsux-]")
_BOUNDS = compile_regex(r"\{\d*(?:,\d*)?\}")


def required_texts(pattern: str) -> tuple[str, ...] | None:
    """Strings of which every match of ``pattern`` contains at least one (None when that cannot be told).

    For each top-level alternative, the most telling of its runs of plain characters and of the
    string sets of its required groups ('(?:with|whose)'). Anything unclear (inline flags, a class,
    a lookaround, an optional character or group) only ends a run or is passed over, so the strings
    are always really required. ``pattern`` must not be verbose.
    """
    if _FLAG_GROUP.search(pattern):
        return None
    return _any_of(pattern)


def _any_of(pattern: str) -> tuple[str, ...] | None:
    out: list[str] = []
    for alternative in top_level_alternatives(pattern):
        found = _requirement(alternative)
        if found is None:
            return None
        out.extend(found)
    return tuple(out)


def _skip_class(pattern: str, i: int) -> int:
    """Index just past the character class opening at ``pattern[i]``."""
    j = i + 1
    if pattern[j:j + 1] == "^":
        j += 1
    if pattern[j:j + 1] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _skip_group(pattern: str, i: int) -> int:
    """Index just past the group opening at ``pattern[i]``."""
    depth, j = 0, i
    while j < len(pattern):
        ch = pattern[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _skip_class(pattern, j)
            continue
        depth += ch == "("
        depth -= ch == ")"
        j += 1
        if depth == 0:
            break
    return j


def top_level_alternatives(pattern: str) -> list[str]:
    parts, start, i = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
        elif ch == "[":
            i = _skip_class(pattern, i)
        elif ch == "(":
            i = _skip_group(pattern, i)
        else:
            if ch == "|":
                parts.append(pattern[start:i])
                start = i + 1
            i += 1
    parts.append(pattern[start:])
    return parts


def starts_with_word_char(pattern: str) -> bool:
    """Whether every match of ``pattern`` surely starts with a word character (False when unsure).

    True when each top-level alternative opens with a letter or digit that is not optional, or with a
    group, not optional, whose alternatives all do so.
    """
    for alternative in top_level_alternatives(pattern):
        first = alternative[:1]
        if first == "(":
            end = _skip_group(alternative, 0)
            body = _group_body(alternative[:end])
            if body is None or alternative[end:end + 1] in ("?", "*", "{") or not starts_with_word_char(body):
                return False
        elif not (first.isascii() and first.isalnum()) or alternative[1:2] in ("?", "*", "{"):
            return False
    return True


def first_letters(pattern: str) -> frozenset[str] | None:
    """The ASCII letters a match of ``pattern`` can start with (None when unsure).

    Known when each top-level alternative opens, past a \\b, with a letter that is not optional, or
    with a group, not optional, whose alternatives are all known. Letters are as written: for a
    pattern matched without IGNORECASE.
    """
    out: set[str] = set()
    for alternative in top_level_alternatives(pattern):
        if alternative.startswith("\\b"):
            alternative = alternative[2:]
        first = alternative[:1]
        if first == "(":
            end = _skip_group(alternative, 0)
            body = _group_body(alternative[:end])
            inner = None if body is None or alternative[end:end + 1] in ("?", "*", "{") else first_letters(body)
            if inner is None:
                return None
            out |= inner
        elif first.isascii() and first.isalpha() and alternative[1:2] not in ("?", "*", "{"):
            out.add(first)
        else:
            return None
    return frozenset(out)


def opens_with_digit(pattern: str) -> bool:
    """Whether every match of ``pattern`` surely starts with a digit, a character \\d matches (False when unsure).

    True when each top-level alternative, past zero-width tests (\\b, ^, look-behinds, negative
    look-aheads), opens with a look-ahead that does, or with \\d or a group that does, neither optional.
    """
    if _FLAG_GROUP.search(pattern):
        return False
    return all(_alternative_opens_with_digit(a) for a in top_level_alternatives(pattern))


_ASSERTIONS = ("(?=", "(?!", "(?<=", "(?<!")
_ASSERTIONS_BUT_LOOKAHEAD = ("(?!", "(?<=", "(?<!")


def _past_zero_width(alternative: str, i: int, assertions: tuple[str, ...]) -> int:
    """Where ``alternative`` goes on after the anchors (\\b, \\B, \\A, ^) and the ``assertions``
    groups that start at index ``i``: they match no character."""
    while True:
        if alternative.startswith(("\\b", "\\B", "\\A"), i):
            i += 2
        elif alternative.startswith("^", i):
            i += 1
        elif alternative.startswith(assertions, i):
            i = _skip_group(alternative, i)
        else:
            return i


# A count that asks for at least one.
_AT_LEAST_ONE = compile_regex(r"\{0*[1-9]\d*(?:,\d*)?\}")


def _alternative_opens_with_digit(alternative: str) -> bool:
    i = _past_zero_width(alternative, 0, _ASSERTIONS_BUT_LOOKAHEAD)
    while alternative.startswith("(?=", i):
        end = _skip_group(alternative, i)
        if alternative[end:end + 1] not in ("?", "*", "{") and opens_with_digit(alternative[i + 3:end - 1]):
            return True
        i = _past_zero_width(alternative, end, _ASSERTIONS_BUT_LOOKAHEAD)
    if alternative.startswith("\\d", i):
        end = i + 2
    elif alternative.startswith("(", i):
        end = _skip_group(alternative, i)
        body = _group_body(alternative[i:end])
        if body is None or not opens_with_digit(body):
            return False
    else:
        return False
    after = alternative[end:end + 1]
    return after not in ("?", "*", "{") or (after == "{" and _AT_LEAST_ONE.match(alternative, end) is not None)


def _group_body(group: str) -> str | None:
    """What a group matches when it matches, or None for lookarounds, references and conditionals."""
    if group.startswith("(?:"):
        return group[3:-1]
    if group.startswith("(?P<"):
        return group[group.index(">") + 1:-1]
    return None if group.startswith("(?") else group[1:-1]


def opening_group(pattern: str) -> tuple[str, str, str] | None:
    """For a pattern that opens with a plain or named group: the group's body, the character after the group
    if it is a quantifier ('?', '*', '+', '{', else ''), and the rest of the pattern after that character.
    None when the pattern opens otherwise (a lookaround, a reference or anything else)."""
    if not pattern.startswith("("):
        return None
    end = _skip_group(pattern, 0)
    body = _group_body(pattern[:end])
    if body is None:
        return None
    quantifier = pattern[end:end + 1] if pattern[end:end + 1] in ("?", "*", "+", "{") else ""
    return body, quantifier, pattern[end + len(quantifier):]


def _requirement(alternative: str) -> tuple[str, ...] | None:
    """The best set of strings of which every match of an alternative (no top-level '|') contains one."""
    options: list[tuple[str, ...]] = []
    run, i = "", 0
    while i < len(alternative):
        ch = alternative[i]
        literal = None
        if ch == "\\":
            nxt = alternative[i + 1:i + 2]
            # Escaped punctuation stands for itself; letter and digit escapes are classes, anchors or references.
            literal = nxt if nxt.isascii() and nxt and not nxt.isalnum() else None
            i += 2
        elif ch == "[":
            i = _skip_class(alternative, i)
        elif ch == "(":
            end = _skip_group(alternative, i)
            body = _group_body(alternative[i:end])
            optional = alternative[end:end + 1] in ("?", "*", "+", "{")
            if body is not None and not optional and (inner := _any_of(body)) is not None:
                options.append(inner)
            i = end
        elif ch in "?*+{":
            # The character before may be absent or repeated: it leaves the run, which ends there.
            run = run[:-1]
            bounds = _BOUNDS.match(alternative, i) if ch == "{" else None
            i = bounds.end() if bounds else i + 1
        else:
            literal = ch if ch.isascii() and ch not in ".^$" else None
            i += 1
        if literal is None:
            options.append((run,))
            run = ""
        else:
            run += literal
    options.append((run,))
    # The set whose shortest string is longest rules out the most text.
    best = max(options, key=lambda strings: min(map(len, strings)))
    return best if min(map(len, best)) > 0 else None


# Escapes that mean the same in lower case: classes and anchors in lower case, escaped punctuation and
# characters by code (which must then be uncased, see lower_case_pattern).
_SAFE_ESCAPE = compile_regex(r"\\(?:[bdswnt]|[^\w]|u(?P<code>[0-9a-fA-F]{4}))")
# Group openings other than plain, lookaround and named groups (inline flags, back-references by name).
_SPECIAL_GROUP = compile_regex(r"\(\?(?![:=!]|<[=!]|P<)")
_CLASS = compile_regex(r"\[\^?\]?(?:\\.|[^\]])*\]")
_RANGE = compile_regex(r"(?<!\\)(\\?.)-(?!\])(\\?.)")


def lower_case_pattern(pattern: str) -> str | None:
    """``pattern`` in lower case, to be matched without IGNORECASE on ``fold``-ed text exactly where
    ``pattern`` matches the text under IGNORECASE; None when that is not sure.

    Lower-casing changes only letters. Refused: cased characters beyond ASCII (IGNORECASE may equate
    them with others, which fold leaves apart; uncased ones such as '≥' IGNORECASE matches as written),
    escapes whose lower case means something else (\\W, \\S, \\x41, back-references), inline flags,
    and class ranges whose ends are not both letters of one case or both digits ('[@-Z]' in lower case
    would take in more).
    """
    escapes = list(_SAFE_ESCAPE.finditer(pattern))
    if _SPECIAL_GROUP.search(pattern) or pattern.count("\\") != len(escapes):
        return None
    coded = "".join(chr(int(m.group("code"), 16)) for m in escapes if m.group("code"))
    if any(ch.lower() != ch or ch.upper() != ch for ch in pattern + coded if not ch.isascii()):
        return None
    for cls in _CLASS.findall(pattern):
        for a, b in _RANGE.findall(cls[1:-1]):
            if not (a.islower() and b.islower() or a.isupper() and b.isupper() or a.isdigit() and b.isdigit()):
                return None
    return _NAMED_GROUP.sub("(?P<", pattern.lower())


# A named group's opening once lower-cased; a literal parenthesis would be escaped.
_NAMED_GROUP = compile_regex(r"(?<!\\)\(\?p<")


def lower_case_regex(regex: re.Pattern) -> re.Pattern | None:
    """For an IGNORECASE regex, the one that matches ``fold``-ed text where it matches the text
    (see lower_case_pattern), several times faster; None for other regexes and when unsure."""
    if not regex.flags & re.IGNORECASE:
        return None
    pattern = regex.pattern[4:] if regex.pattern.startswith("(?i)") else regex.pattern
    lowered = lower_case_pattern(pattern)
    try:
        return None if lowered is None else compile_regex(lowered, regex.flags & ~re.IGNORECASE)
    except re.error:
        return None


def _word_char_before(text: str, at: int) -> bool:
    """Whether text[at - 1] is a word character as \\w tells: alphanumeric by str.isalnum (the regex engine's
    own test) or '_'. Far cheaper than a call into the engine for one character."""
    ch = text[at - 1]
    return ch.isalnum() or ch == "_"


def _fewest(texts: tuple[str, ...]) -> tuple[str, ...]:
    """``texts`` without repeats and without those holding another of them, in their order: a text holds
    one of these exactly when it holds one of ``texts``."""
    unique = tuple(dict.fromkeys(texts))
    return tuple(t for t in unique if not any(other != t and other in t for other in unique))


# The text last searched without its fold()-ed form, and that form once the same text came again. One
# tuple, read and replaced whole, so that threads sharing it can only miss, never mix two texts up.
_FOLD_CACHE: tuple[str | None, str | None] = (None, None)


def _folded_of(text: str) -> str | None:
    """``fold(text)`` when ``text`` is the very text searched just before (an article read sentence by
    sentence by a caller that keeps no fold of its own); None the first time, when it may be read once."""
    global _FOLD_CACHE
    last, folded = _FOLD_CACHE
    if text is last:
        if folded is None:
            folded = fold(text)
            _FOLD_CACHE = (text, folded)
        return folded
    _FOLD_CACHE = (text, None)
    return None


class Prefilter:
    """Whether a compiled regex may match a stretch of text, from the strings every match contains."""

    def __init__(self, regex: re.Pattern):
        self.regex = regex
        self.ignorecase = bool(regex.flags & re.IGNORECASE)
        pattern = regex.pattern
        if pattern.startswith("(?i)"):
            pattern = pattern[4:]  # already in regex.flags
        texts = required_texts(pattern)
        self.texts = None if texts is None else tuple(t.lower() if self.ignorecase else t for t in texts)
        # The same test with fewer strings: one holding another of them is there only where that one is.
        self._tests = None if self.texts is None else _fewest(self.texts)
        # Only for a regex with required strings, whose matches are never empty (see matches).
        lowered = lower_case_regex(regex) if texts is not None and all(texts) else None
        # A leading word boundary on every alternative is checked by hand: in the regex it keeps the engine
        # from jumping to the letters a match can start with. When a word character follows, \b is the
        # test that no word character goes before.
        alternatives = top_level_alternatives(lowered.pattern) if lowered is not None else []
        self.at_word = (lowered is not None and bool(alternatives) and "|".join(alternatives) == lowered.pattern
                        and all(a.startswith("\\b") and starts_with_word_char(a[2:]) for a in alternatives))
        if self.at_word and lowered is not None:
            lowered = compile_regex("|".join(a[2:] for a in alternatives), lowered.flags)
        self.lowered = lowered
        self.word_finder = self._word_finder(lowered) if self.at_word and lowered is not None else None
        self._alternatives_by_text(alternatives)
        # A regex read as written whose matches all open with a digit: the engine, which cannot jump to
        # such a start itself (a look-ahead or a group comes first), jumps to the digits of this one,
        # which matches a digit where the regex matches (see _located_matches).
        self.located = None
        if (lowered is None and not self.ignorecase and not regex.flags & re.VERBOSE
                and opens_with_digit(pattern)):
            try:
                self.located = compile_regex(r"\d(?<=(?=(?:" + pattern + r"))\d)", regex.flags)
            except re.error:
                self.located = None

    @staticmethod
    def _word_finder(stripped: re.Pattern) -> re.Pattern | None:
        """For a lowered regex whose leading word boundaries are checked by hand: the regex behind a character
        other than an ASCII letter, digit or '_', which a match at a word start follows. None when the regex
        opens with one string: the engine jumps straight to that string, faster than to such characters.

        Without a string to jump to, the engine tries the regex at almost every position; searching for
        the finder, it tries only after blanks and punctuation.
        """
        if len(opening_texts(stripped.pattern) or ()) == 1:
            return None
        try:
            return compile_regex(f"[^a-z0-9_](?:{stripped.pattern})", stripped.flags)
        except re.error:
            return None

    # Most compiled subsets of alternatives kept per Prefilter (see _live_regex).
    _MAX_SUBSETS = 64

    def _alternatives_by_text(self, alternatives: list[str]) -> None:
        """For a lowered regex of several alternatives each with required strings: which alternatives each
        string keeps alive. A sentence mostly holds the strings of few of them, and a regex of just those
        finds the same places as the whole, often much sooner (no time spent trying the others)."""
        self._alive: tuple[tuple[str, int], ...] | None = None
        self._all = (1 << len(alternatives)) - 1
        self._alternatives = alternatives
        self._subsets: dict[int, tuple[re.Pattern, bool]] = {}
        if len(alternatives) < 2 or self.at_word:
            # Without a leading \b to keep it from it, the engine already jumps to where a match may start,
            # and testing the strings would cost more than it saves.
            return
        alive: dict[str, int] = {}
        for k, alternative in enumerate(alternatives):
            texts = required_texts(alternative)
            if texts is None or not all(texts):
                return
            for text in texts:
                alive[text] = alive.get(text, 0) | 1 << k
        self._alive = tuple(alive.items())

    def _live_regex(self, folded: str, start: int, end: int) -> tuple[re.Pattern, bool] | None:
        """The lowered regex and its at_word for folded[start:end], made of only the alternatives one of
        whose required strings lies there (those others lack cannot match there); None when none can.
        Only for a Prefilter with a lowered regex."""
        lowered = self.lowered
        assert lowered is not None
        if self._alive is None:
            return lowered, self.at_word
        live = 0
        segment = folded[start:end]
        for text, alternatives in self._alive:
            if text in segment:
                live |= alternatives
        if live == self._all or not live:
            return (lowered, self.at_word) if live else None
        subset = self._subsets.get(live)
        if subset is None:
            chosen = [a for k, a in enumerate(self._alternatives) if live >> k & 1]
            # As for the whole: a leading word boundary on every alternative is checked by hand.
            at_word = all(a.startswith("\\b") and starts_with_word_char(a[2:]) for a in chosen)
            try:
                regex = compile_regex("|".join(a[2:] if at_word else a for a in chosen), lowered.flags)
            except re.error:
                regex, at_word = lowered, self.at_word
            subset = (regex, at_word)
            if len(self._subsets) < self._MAX_SUBSETS:
                self._subsets[live] = subset
        return subset

    def may_match(self, segment: str) -> bool:
        """False when no match can lie inside ``segment``: ``fold``-ed for an IGNORECASE regex, as written otherwise."""
        if self._tests is None:
            return True
        for text in self._tests:  # a plain loop: this runs for every sentence, and any() with a generator costs more
            if text in segment:
                return True
        return False

    def finditer(self, text: str, start: int, end: int, segment: str,
                 folded: str | None = None) -> Iterator[re.Match]:
        """``regex.finditer(text, start, end)``, skipped when ``segment`` (text[start:end], as for may_match) rules it out.

        ``folded`` is ``fold(text)`` when the caller has it (see matches).
        """
        # may_match written out: this runs for every sentence, several times.
        if self._tests is not None:
            for required in self._tests:
                if required in segment:
                    break
            else:
                return iter(())
        return self.matches(text, start, end, folded)

    def matches(self, text: str, start: int, end: int, folded: str | None = None) -> Iterator[re.Match]:
        """``regex.finditer(text, start, end)``.

        With ``folded`` (``fold(text)``), an IGNORECASE regex looks for its matches in lower case
        there, several times faster, and takes each match object from the regex itself at the place
        found, so the matches are exactly the same. Without it, a text searched again is folded once
        (see _folded_of). A regex whose matches open with a digit is tried only at digits.
        """
        if self.lowered is None:
            if self.located is not None:
                return self._located_matches(text, start, end)
            return self.regex.finditer(text, start, end)
        if folded is None and (folded := _folded_of(text)) is None:
            return self.regex.finditer(text, start, end)
        return self._folded_matches(text, start, end, folded)

    def _located_matches(self, text: str, start: int, end: int) -> Iterator[re.Match]:
        """``regex.finditer(text, start, end)`` for a regex with a digit locator: where the locator matches
        (at the first digit from which the regex matches), the regex's own match; never empty."""
        located = self.located
        assert located is not None
        pos = start
        while (found := located.search(text, pos, end)) is not None:
            m = self.regex.match(text, found.start(), end)
            assert m is not None  # the locator matches only where the regex does
            yield m
            pos = m.end()

    def _folded_matches(self, text: str, start: int, end: int, folded: str) -> Iterator[re.Match]:
        if self.word_finder is not None:
            return self._word_start_matches(text, start, end, folded)
        return self._searched_matches(text, start, end, folded)

    def _word_start_matches(self, text: str, start: int, end: int, folded: str) -> Iterator[re.Match]:
        """The matches of a regex with a word finder: where the lowered regex matches at a word start."""
        finder, lowered = self.word_finder, self.lowered
        assert finder is not None and lowered is not None
        look = start - 1  # a finder's match there points at ``start``
        if start == 0:
            # No character before the text's first one: only the lowered regex itself can tell.
            look = 0
            if lowered.match(folded, 0, end) is not None:
                m = self.regex.match(text, 0, end)
                assert m is not None  # as in _searched_matches
                yield m
                look = m.end() - 1
        while (found := finder.search(folded, look, end)) is not None:
            at = found.start() + 1
            if _word_char_before(folded, at):
                look = at  # a word character beyond ASCII
                continue
            m = self.regex.match(text, at, end)
            assert m is not None  # as in _searched_matches
            yield m
            look = m.end() - 1

    def _searched_matches(self, text: str, start: int, end: int, folded: str) -> Iterator[re.Match]:
        if self._alive is None:
            assert self.lowered is not None  # finditer comes here only with a lowered regex
            lowered, at_word = self.lowered, self.at_word
        else:
            live = self._live_regex(folded, start, end)
            if live is None:
                return
            lowered, at_word = live
        pos = start
        while (found := lowered.search(folded, pos, end)) is not None:
            at = found.start()
            if at_word and at > 0 and _word_char_before(folded, at):
                pos = at + 1
                continue
            m = self.regex.match(text, at, end)
            assert m is not None  # the lowered regex matches the folded text only where the regex matches
            yield m
            pos = m.end()  # never empty, so finditer too goes on from the end


def opening_texts(pattern: str, past_classes: bool = False) -> tuple[str, ...] | None:
    """Strings one of which every match of ``pattern`` starts with (None when that cannot be told).

    Assertions at the start (\\b, look-arounds) are passed over: they say where a match may start,
    not what it starts with. ``pattern`` must not be verbose. With ``past_classes``, an opening class
    is followed by the plain characters after it ('[1-3]:' gives '1:', '2:', '3:', not '1', '2', '3'):
    fewer places to try where a digit or a letter alone is common.
    """
    if _FLAG_GROUP.search(pattern):
        return None
    return _openings(pattern, past_classes)


def _openings(pattern: str, past_classes: bool = False) -> tuple[str, ...] | None:
    out: list[str] = []
    for alternative in top_level_alternatives(pattern):
        found = _alternative_openings(alternative, past_classes)
        if not found:
            return None
        out.extend(found)
    return tuple(out)


def _alternative_openings(alternative: str, past_classes: bool = False) -> tuple[str, ...] | None:
    i = _past_zero_width(alternative, 0, _ASSERTIONS)
    first = alternative[i:i + 1]
    if first in ("(", "["):
        end = _skip_group(alternative, i) if first == "(" else _skip_class(alternative, i)
        if alternative[end:end + 1] in ("?", "*", "{"):
            return None
        if first == "[":
            chars = _class_chars(alternative[i + 1:end - 1])
            if not chars or not past_classes or alternative[end:end + 1] == "+":
                return chars
            # The class matched once, so what follows it comes right after its character.
            run = _literal_run(alternative, end)
            return tuple(c + run for c in chars)
        body = _group_body(alternative[i:end])
        return None if body is None else _openings(body, past_classes)
    run = _literal_run(alternative, i)
    return (run,) if run else None


def _literal_run(alternative: str, i: int) -> str:
    """The plain characters every match of ``alternative`` has from index ``i`` on, until anything else."""
    run = ""
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\":
            literal = alternative[i + 1:i + 2]
            if not (literal.isascii() and literal and not literal.isalnum()):
                break
            step = 2
        elif not ch.isascii() or ch in "()[]|.^$?*+{":
            break
        else:
            literal, step = ch, 1
        quantifier = alternative[i + step:i + step + 1]
        if quantifier in ("?", "*", "{"):
            break  # optional or counted: the run ends before it
        run += literal
        i += step
        if quantifier == "+":
            break
    return run


def _class_chars(body: str) -> tuple[str, ...] | None:
    """The characters of a plain ASCII class such as '(;' or 'a-c' (None for anything else or more than 16)."""
    if not body or body[0] == "^" or not body.isascii() or any(c in body for c in "\\[&~|") or "--" in body:
        return None
    chars: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            chars.append(body[i])
            i += 1
    return tuple(dict.fromkeys(chars)) if len(chars) <= 16 else None


class Openings:
    """A compiled regex run only where the strings its matches start with occur.

    On a long text, trying a pattern at every position costs far more than finding a few words
    with str.find and trying the pattern there; the matches are the same.
    """

    def __init__(self, regex: re.Pattern):
        self.regex = regex
        self.ignorecase = bool(regex.flags & re.IGNORECASE)
        pattern = regex.pattern[4:] if regex.pattern.startswith("(?i)") else regex.pattern
        texts = opening_texts(pattern, past_classes=True)
        self.texts = None if texts is None else tuple(dict.fromkeys(t.lower() if self.ignorecase else t
                                                                    for t in texts))

    def finditer(self, text: str, folded: str | None = None) -> list[re.Match]:
        """``list(regex.finditer(text))``; ``folded`` is ``fold(text)`` when the caller has it (used for IGNORECASE)."""
        if self.texts is None:
            return list(self.regex.finditer(text))
        return tried_at(self.regex, text, positions_of(self._haystack(text, folded), self.texts))

    def finditer_in(self, text: str, start: int, end: int, segment: str) -> list[re.Match]:
        """``list(regex.finditer(text, start, end))``; ``segment`` is text[start:end], ``fold``-ed for IGNORECASE."""
        if self.texts is None:
            return list(self.regex.finditer(text, start, end))
        return tried_at(self.regex, text, positions_of(segment, self.texts, start), end)

    def search(self, text: str, folded: str | None = None) -> re.Match | None:
        """``regex.search(text)``: the match at the first opening where the regex matches."""
        if self.texts is None:
            return self.regex.search(text)
        for pos in sorted(set(positions_of(self._haystack(text, folded), self.texts))):
            m = self.regex.match(text, pos)
            if m is not None:
                return m
        return None

    def _haystack(self, text: str, folded: str | None) -> str:
        """What the openings are looked for in: ``fold(text)`` for an IGNORECASE regex, else ``text``."""
        if not self.ignorecase:
            return text
        return folded if folded is not None else fold(text)


def positions_of(haystack: str, texts: tuple[str, ...], offset: int = 0) -> list[int]:
    """``offset`` plus each position in ``haystack`` where one of ``texts`` starts (unsorted, maybe repeated)."""
    out: list[int] = []
    for t in texts:
        i = haystack.find(t)
        while i != -1:
            out.append(offset + i)
            i = haystack.find(t, i + 1)
    return out


def tried_at(regex: re.Pattern, text: str, starts: list[int], end: int | None = None) -> list[re.Match]:
    """``list(regex.finditer(text, 0, end))`` when every match starts at one of ``starts`` (more do no harm).

    The regex is tried at each place in order, past the end of the last match, as finditer goes on.
    """
    if not starts:
        return []
    out = []
    taken = 0
    stop = len(text) if end is None else end
    for pos in sorted(set(starts)):
        if pos < taken:
            continue
        m = regex.match(text, pos, stop)
        if m is not None:
            out.append(m)
            taken = max(m.end(), pos + 1)
    return out
