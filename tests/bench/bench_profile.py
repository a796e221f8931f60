"""Benchmark: where one `trialfx run` spends its time, sampled with py-spy across the pool's processes too.

py-spy is a measuring tool, not a project dependency: install it into the environment by hand
(`.venv/bin/python -m pip install py-spy`). Run from the project root:
`.venv/bin/python -m tests.bench.bench_profile --articles 10000`, or summarize an earlier recording
with `--summarize FILE`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.synthetic.generator import write_corpus

PROJECT = Path(__file__).resolve().parents[2]
PY_SPY = Path(sys.executable).with_name("py-spy")
TRIALFX = Path(sys.executable).with_name("trialfx")
FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^():]*)(?::\d+)?\)$")
OWN_CODE = ("pipelines/", "warehouse/", "schemas/")


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for frame in stack.split(";"):
        m = FRAME_RE.match(frame.strip())
        if m:
            out.append((m["func"], m["file"]))
    return out


def _package(file: str) -> str:
    """py-spy names a file relative to its sys.path entry, so the first part is the package."""
    file = file.split("site-packages/", 1)[-1]
    if any(part in file for part in OWN_CODE):
        return "/".join(file.split("/")[-2:])
    if file.startswith("<") or "/" not in file:
        return "python (stdlib, import machinery)"
    return file.split("/", 1)[0]


def summarize(raw: Path, rate: int, top: int) -> None:
    """Inclusive seconds of the project's own functions, and self seconds by package."""
    inclusive: Counter[str] = Counter()
    own_self: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = _frames(stack)
        if not frames:
            continue
        seen = set()
        for func, file in frames:
            if any(part in file for part in OWN_CODE) and "site-packages" not in file:
                key = f"{file.split('/work/main/')[-1]}:{func}"
                if key not in seen:
                    inclusive[key] += samples
                    seen.add(key)
        func, file = frames[-1]
        by_package[_package(file)] += samples
        own = [f"{fi.split('/work/main/')[-1]}:{fu}" for fu, fi in frames if any(p in fi for p in OWN_CODE)
               and "site-packages" not in fi]
        own_self[own[-1] if own else "(outside project code)"] += samples
    print(f"{total / rate:.1f} sampled seconds across all processes ({total} samples at {rate:g}/s)")
    print(f"\nproject functions, inclusive seconds (top {top}):")
    for key, samples in inclusive.most_common(top):
        print(f"  {samples / rate:9.1f}  {100 * samples / total:5.1f}%  {key}")
    print(f"\ninnermost project function on the stack, seconds (top {top}):")
    for key, samples in own_self.most_common(top):
        print(f"  {samples / rate:9.1f}  {100 * samples / total:5.1f}%  {key}")
    print("\nself time by package of the innermost frame:")
    for key, samples in by_package.most_common(12):
        print(f"  {samples / rate:9.1f}  {100 * samples / total:5.1f}%  {key}")


def record(n: int, rate: int, out: Path, workdir: Path | None) -> None:
    """Profile a run into a new warehouse; with ``workdir``, its articles and warehouse are kept there
    for timing reruns by hand."""
    if not PY_SPY.exists():
        sys.exit(f"{PY_SPY} not found: install py-spy into the environment to profile (it is not a dependency)")
    with tempfile.TemporaryDirectory(prefix="trialfx-profile-") as tmp:
        work = workdir or Path(tmp)
        if work.exists() and workdir is not None:
            shutil.rmtree(work)
        write_corpus(work / "articles", n)
        (work / "home").mkdir()
        shutil.copyfile(PROJECT / "dagster.yaml", work / "home" / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(work / "home")}
        command = [str(PY_SPY), "record", "--subprocesses", "--rate", str(rate), "--format", "raw",
                   "--output", str(out), "--", str(TRIALFX), "run", "--articles", str(work / "articles"),
                   "--warehouse", str(work / "w.duckdb")]
        started = time.perf_counter()
        subprocess.run(command, cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"{n} articles: trialfx run took {time.perf_counter() - started:.1f} s under py-spy "
              f"(load average {os.getloadavg()[0]:.1f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=20, help="samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--output", type=Path, default=Path("trialfx-profile.txt"), help="raw py-spy stacks")
    parser.add_argument("--summarize", type=Path, help="only summarize this earlier recording")
    parser.add_argument("--workdir", type=Path, help="keep the articles, warehouse and DAGSTER_HOME here")
    args = parser.parse_args(argv)
    if args.summarize is None:
        record(args.articles, args.rate, args.output, args.workdir)
    summarize(args.summarize or args.output, args.rate, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
