"""Benchmark: extractor throughput on generated articles, beside a floor of reading and scanning the same files.

Run from the project root: `.venv/bin/python -m tests.bench.bench_extract [--articles N] [--repeats R]`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from pipelines.extraction import extract
from pipelines.parallel import extract_article, extract_many
from tests.synthetic.generator import write_corpus

NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
TRIALFX = Path(sys.executable).with_name("trialfx")


def floor(paths: list[Path]) -> int:
    """The least any extractor must do: read, normalize, find every number once."""
    found = 0
    for path in paths:
        text = unicodedata.normalize("NFKC", path.read_text(encoding="utf-8"))
        found += sum(1 for _ in NUMBER_RE.finditer(text))
    return found


def single_process(paths: list[Path]) -> int:
    return sum(len(extract(path.read_text(encoding="utf-8"), article=path.name)) for path in paths)


def single_process_with_facts(paths: list[Path]) -> int:
    """What each worker of extract_many does per article: article facts, then records."""
    found = 0
    for path in paths:
        facts, records = extract_article(path.name, path.read_text(encoding="utf-8"), None)
        found += len(records)
    return found


def two_workers(paths: list[Path]) -> int:
    items = ((path.name, path.read_text(encoding="utf-8"), None) for path in paths)
    return sum(len(records) for _, _, records in extract_many(items, workers=2))


def cli(folder: Path) -> Callable[[list[Path]], int]:
    """`trialfx extract --quiet FOLDER`, start-up included, as a user runs it."""
    def run(_paths: list[Path]) -> int:
        done = subprocess.run([str(TRIALFX), "extract", "--quiet", str(folder)], stdout=subprocess.PIPE, check=True)
        return done.stdout.count(b"\n")
    return run


def timed(work: Callable[[list[Path]], int], paths: list[Path], repeats: int) -> tuple[list[float], int]:
    seconds, result = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = work(paths)
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="generated articles (about 3 KB each)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="trialfx-bench-") as tmp:
        folder = Path(tmp)
        paths = write_corpus(folder, args.articles, seed=args.seed)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(f"{len(paths)} articles, {megabytes:.2f} MB ({1e6 * megabytes / len(paths):.0f} B each), "
              f"median of {args.repeats} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        floor_seconds, _ = timed(floor, paths, args.repeats)
        base = statistics.median(floor_seconds)
        rows = [("floor (read + NFKC + number regex)", floor_seconds, None)]
        for label, work in (("extract, 1 process", single_process),
                            ("facts + extract, 1 process", single_process_with_facts),
                            ("extract_many, 2 workers", two_workers),
                            ("trialfx extract CLI", cli(folder))):
            seconds, records = timed(work, paths, args.repeats)
            rows.append((label, seconds, records))
        empty = folder / "empty"
        empty.mkdir()
        startup, _ = timed(cli(empty), [], args.repeats)
        cli_seconds = rows[-1][1]
        # The CLI's time less its start-up (the same command on an empty folder), run by run.
        rows.append(("trialfx extract CLI beyond start-up",
                     [s - statistics.median(startup) for s in cli_seconds], rows[-1][2]))

    print(f"{'':36} {'median s':>9} {'min s':>7} {'max s':>7} {'articles/s':>11} {'MB/s':>7} {'x floor':>8} {'records':>8}")
    for label, seconds, records in rows:
        median = statistics.median(seconds)
        print(f"{label:36} {median:9.3f} {min(seconds):7.3f} {max(seconds):7.3f} {len(paths) / median:11.0f} "
              f"{megabytes / median:7.2f} {median / base:8.1f} {records if records is not None else '':>8}")
    print(f"trialfx extract start-up (empty folder): {statistics.median(startup):.3f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
