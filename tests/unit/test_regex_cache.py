"""The regex cache: what it holds compiles to exactly what re.compile makes, and anything amiss falls back."""

from __future__ import annotations

import _sre
import marshal
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import regex_cache

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def made_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache made the way `make` makes it, into a folder of the test's own."""
    folder = tmp_path_factory.mktemp("regex-cache")
    code = f"from pathlib import Path; from pipelines import regex_cache; regex_cache.main(Path({str(folder)!r}))"
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, check=True, capture_output=True)
    return regex_cache.cache_path(folder)


def test_every_cached_regex_is_the_one_re_compile_makes(made_cache: Path) -> None:
    entries = marshal.loads(made_cache.read_bytes())

    # Hundreds: every regex of the extractor, those compiled on import and on its first article.
    assert len(entries) > 300
    for (pattern, flags), entry in entries.items():
        cached, compiled = _sre.compile(pattern, *entry), re.compile(pattern, flags)
        # Patterns compare equal only with the same pattern, flags and engine program.
        assert cached == compiled, pattern
        assert (cached.groups, cached.groupindex) == (compiled.groups, compiled.groupindex), pattern


def test_a_cached_pattern_is_used_and_others_are_compiled_as_usual(
    made_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern, flags = next(iter(marshal.loads(made_cache.read_bytes())))
    monkeypatch.setattr(regex_cache, "_entries", None)
    monkeypatch.setattr(regex_cache, "cache_path", lambda cache_dir=made_cache.parent: made_cache)

    assert regex_cache.compile_regex(pattern, flags) == re.compile(pattern, flags)
    assert (pattern, flags) in regex_cache._cached()
    uncached = r"(?P<made_up>x{2,3})\b"
    assert regex_cache.compile_regex(uncached, re.IGNORECASE) == re.compile(uncached, re.IGNORECASE)


@pytest.mark.parametrize("content", [b"", b"not marshal data", marshal.dumps({("a+", 0): (0, [1, 2, 3], 0, {}, ())})])
def test_a_missing_broken_or_foreign_cache_falls_back_to_re_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    broken = tmp_path / "cache.marshal"
    broken.write_bytes(content)
    monkeypatch.setattr(regex_cache, "_entries", None)
    monkeypatch.setattr(regex_cache, "cache_path", lambda cache_dir=tmp_path: broken)

    # The last content holds a program the regex engine refuses for "a+".
    assert regex_cache.compile_regex("a+", 0) == re.compile("a+")
    assert regex_cache.compile_regex("a+", 0).fullmatch("aaa")
