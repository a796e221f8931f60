"""Compiled regular expressions kept on disk, so that a process starts without compiling them again.

The extractor compiles about 600 regular expressions on import and on its first article; Python's
own compiler (pure Python) spends about 80 ms of CPU on them, half the start-up of `trialfx extract`.
``compile_regex`` is ``re.compile`` that first looks in a cache file made by ``make`` (``python -m
pipelines.regex_cache``): for each pattern and flags, the program the regex engine runs, as Python's
compiler made it.

What is stored depends on the Python that made it, so the file is named for the exact Python
version and regex engine. A pattern not in the file, a file that is missing or unreadable, or any
surprise in building from it: ``re.compile`` does the work, as it always would.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # the regex engine, which has no stubs
import marshal
import os
import re
import sys
from pathlib import Path
from typing import AnyStr

import pipelines

CACHE_DIR = Path(pipelines.__path__[0]).parent / "build" / "regex-cache"

# (pattern, flags) -> what _sre.compile needs besides the pattern: flags, program, groups, names.
Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
_entries: dict[tuple[str | bytes, int], Entry] | None = None
# While a cache is being made, what each miss compiled to; None otherwise.
_recorded: dict[tuple[str | bytes, int], Entry] | None = None


def cache_path(cache_dir: Path = CACHE_DIR) -> Path:
    """The cache file for the running Python (what is stored depends on its version and regex engine)."""
    version = ".".join(map(str, sys.version_info[:3]))
    return cache_dir / f"{sys.implementation.name}-{version}-{sys.version_info.releaselevel}-sre{_sre.MAGIC}.marshal"


def compile_regex(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, from the cache file when it holds the pattern."""
    key = (pattern, int(flags))
    entry = _cached().get(key)
    if entry is None:
        if _recorded is None:
            return re.compile(pattern, flags)
        entry = _recorded[key] = _entry(pattern, int(flags))
    try:
        return _sre.compile(pattern, *entry)
    except Exception:  # noqa: BLE001 - a cache that does not fit this Python is only a lost shortcut
        return re.compile(pattern, flags)


def _cached() -> dict[tuple[str | bytes, int], Entry]:
    global _entries
    if _entries is None:
        try:
            _entries = marshal.loads(cache_path().read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            _entries = {}
    return _entries


def _entry(pattern: str | bytes, flags: int) -> Entry:
    """What Python's own compiler hands the regex engine for ``pattern`` (as re._compiler.compile does)."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(pattern, flags)
    program = [int(op) for op in _compiler._code(parsed, flags)]
    names = dict(parsed.state.groupdict)
    by_index: list[str | None] = [None] * parsed.state.groups
    for name, index in names.items():
        by_index[index] = name
    return int(flags | parsed.state.flags), program, parsed.state.groups - 1, names, tuple(by_index)


def main(cache_dir: Path = CACHE_DIR) -> None:
    """Make the cache file: import the extractor and run it once, recording every regex compiled.

    Run as a program of its own, so that nothing has imported the extractor before recording starts.
    """
    global _recorded, _entries
    if "pipelines.extraction" in sys.modules:
        raise RuntimeError("the regex cache must be made in a process that has not imported the extractor")
    _entries, _recorded = {}, {}
    from pipelines.extraction import article_facts, extract

    sample = ("In the PHASE-3 trial (NCT01234567), 600 patients were randomly assigned 1:1 to drug A or placebo. "
              "Median progression-free survival was 9.1 vs 5.4 months (HR 0.62; 95% CI, 0.49-0.80; P<.001); "
              "among patients with ESR1 mutations, HR 0.55 (95% CI 0.39-0.77). ORR was 40% vs 20%.")
    article_facts(sample, title="Drug A in a made-up trial")
    extract(sample, article="sample")
    path = cache_path(cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = marshal.dumps(_recorded)
    if path.exists() and path.read_bytes() == data:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    os.replace(partial, path)
    print(f"regex cache: {len(_recorded)} patterns in {path}")


if __name__ == "__main__":
    # Through the module the extractor imports: run as a program, this file is another module, __main__.
    from pipelines import regex_cache

    regex_cache.main()
