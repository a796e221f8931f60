"""Benchmark: end-to-end `trialfx run` on generated corpora of growing size, reruns, start-up and peak memory.

Run from the project root: `.venv/bin/python -m tests.bench.bench_pipeline [--sizes 1000 10000] [--full]`.
Every run is a fresh `trialfx` process under a private DAGSTER_HOME (a copy of dagster.yaml), as
`make run` starts it, so import and definition loading are part of every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.synthetic.generator import write_corpus

PROJECT = Path(__file__).resolve().parents[2]
TRIALFX = Path(sys.executable).with_name("trialfx")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    """One `trialfx run`: wall seconds, the largest single process and the whole process tree at its peak."""

    seconds: float
    peak_process_mb: float
    peak_tree_mb: float
    ok: bool


@dataclass
class SizeResult:
    articles: int
    full: list[Run] = field(default_factory=list)
    noop: list[Run] = field(default_factory=list)
    noop_if_changed: list[Run] = field(default_factory=list)
    plus_one_percent: list[Run] = field(default_factory=list)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(c) for c in handle.read().split()]
    except OSError:
        return []


def _tree_rss_kb(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_KB
        except OSError:
            continue
        todo += _children(pid)
    return total


def run_trialfx(articles: Path, warehouse: Path, env: dict[str, str], timeout: float | None,
                *options: str) -> Run:
    """Run the pipeline once under /usr/bin/time, sampling the process tree's memory twice a second."""
    command = ["/usr/bin/time", "-f", "%e %M", str(TRIALFX), "run", "--articles", str(articles),
               "--warehouse", str(warehouse), *options]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=PROJECT)
    peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not stop.wait(0.5):
            peak_tree = max(peak_tree, _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    finally:
        stop.set()
        sampler.join()
    seconds = time.perf_counter() - started
    last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
    try:
        _, max_kb = last[0].split()
        peak_process = int(max_kb) / 1024
    except ValueError:
        peak_process = float("nan")
    ok = proc.returncode == 0
    if not ok:
        print(f"  run failed or timed out after {seconds:.0f} s: {err.decode(errors='replace')[-400:]}", file=sys.stderr)
    return Run(seconds, peak_process, peak_tree / 1024, ok)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def bench_startup(work: Path, env: dict[str, str], repeats: int) -> tuple[str, list[Run]]:
    """The fixed cost: a run on an empty folder into a new warehouse; should that run fail, a run on
    a folder of one article stands in, so every step is counted."""
    folder = _fresh(work / "empty")
    label = "empty folder"
    runs: list[Run] = []
    for _ in range(repeats):
        warehouse = _fresh(work / "wh-empty") / "w.duckdb"
        runs.append(run_trialfx(folder, warehouse, env, None))
        if not runs[-1].ok and label == "empty folder":
            print("  the run on an empty folder failed; timing a one-article folder instead", file=sys.stderr)
            write_corpus(folder, 1)
            label = "one article (the empty-folder run failed)"
            runs = []
            runs.append(run_trialfx(folder, _fresh(work / "wh-empty") / "w.duckdb", env, None))
    return label, runs


def bench_size(work: Path, n: int, env: dict[str, str], repeats: int, timeout: float | None) -> SizeResult:
    """Full run into a new warehouse, then a no-op rerun, then a rerun after adding 1% new articles."""
    articles = _fresh(work / f"articles-{n}")
    write_corpus(articles, n)
    extra = max(1, n // 100)
    result = SizeResult(n)
    for repeat in range(repeats):
        warehouse = _fresh(work / f"wh-{n}") / "w.duckdb"
        full = run_trialfx(articles, warehouse, env, timeout)
        result.full.append(full)
        print(f"  {n} articles, repeat {repeat + 1}: full {full.seconds:.1f} s", file=sys.stderr, flush=True)
        if not full.ok:
            break
        result.noop.append(run_trialfx(articles, warehouse, env, timeout))
        result.noop_if_changed.append(run_trialfx(articles, warehouse, env, timeout, "--if-changed"))
        added = write_corpus(articles, extra, start=n)
        result.plus_one_percent.append(run_trialfx(articles, warehouse, env, timeout))
        for path in added:
            path.unlink()
        print(f"  no-op {result.noop[-1].seconds:.1f} s, --if-changed no-op {result.noop_if_changed[-1].seconds:.1f} s, "
              f"+1% {result.plus_one_percent[-1].seconds:.1f} s",
              file=sys.stderr, flush=True)
    shutil.rmtree(articles, ignore_errors=True)
    shutil.rmtree(work / f"wh-{n}", ignore_errors=True)
    return result


def _median(runs: list[Run]) -> float:
    good = [r.seconds for r in runs if r.ok]
    return statistics.median(good) if good else float("nan")


def report(startup_label: str, startup: list[Run], results: list[SizeResult]) -> None:
    fixed = _median(startup)
    print(f"fixed start-up ({startup_label}, new warehouse): median {fixed:.1f} s of {len(startup)} "
          f"({', '.join(f'{r.seconds:.1f}' for r in startup)}); peak {max(r.peak_process_mb for r in startup):.0f} MB")
    print(f"{'articles':>8} {'runs':>4} {'full s':>8} {'ms/art':>7} {'ms/art>fixed':>12} {'no-op s':>8} "
          f"{'no-op/full':>10} {'no-op>fixed s':>13} {'if-chg s':>8} {'+1% s':>7} {'+1%/full':>8} {'+1% beyond fixed':>16} "
          f"{'peak MB proc/tree':>18}")
    per_article = {}
    for res in results:
        full, noop, plus = _median(res.full), _median(res.noop), _median(res.plus_one_percent)
        if_changed = _median(res.noop_if_changed)
        per_article[res.articles] = (full - fixed) / res.articles
        beyond = (plus - fixed) / (full - fixed) if full > fixed else float("nan")
        every = res.full + res.noop + res.noop_if_changed + res.plus_one_percent
        peak_proc = max(r.peak_process_mb for r in every)
        peak_tree = max(r.peak_tree_mb for r in every)
        print(f"{res.articles:>8} {sum(r.ok for r in res.full):>4} {full:8.1f} {1000 * full / res.articles:7.2f} "
              f"{1000 * per_article[res.articles]:12.2f} {noop:8.1f} {noop / full:10.2f} {noop - fixed:13.1f} "
              f"{if_changed:8.1f} "
              f"{plus:7.1f} {plus / full:8.2f} {beyond:16.3f} {peak_proc:8.0f}/{peak_tree:<9.0f}")
        print(f"{'':>8} full runs: {', '.join(f'{r.seconds:.1f}' for r in res.full)}")
    print("no-op: `trialfx run` with nothing changed (every asset materialized, each finding nothing to do); "
          "if-chg: `trialfx run --if-changed`, which finds the warehouse up to date and starts no run")
    sizes = sorted(per_article)
    for small, large in zip(sizes, sizes[1:]):
        print(f"time per article beyond start-up, {large} vs {small}: "
              f"{per_article[large] / per_article[small]:.2f}x (target <= 1.3x from 10k to 100k)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--full", action="store_true", help="also 100k articles, once")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=None, help="give up a run after this many seconds")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="trialfx-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        home = _fresh(work / "dagster-home")
        shutil.copyfile(PROJECT / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        startup_label, startup = bench_startup(work, env, args.repeats)
        results = [bench_size(work, n, env, args.repeats, args.timeout) for n in args.sizes]
        if args.full:
            results.append(bench_size(work, 100_000, env, 1, args.timeout))
        report(startup_label, startup, results)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
