"""Timing benchmark: the extractor on megabytes of near-miss trial text must scale linearly.

Run: .venv/bin/python tests/unit/extraction/bench_adversarial.py  (not collected by pytest)
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pipelines.extraction import extract  # noqa: E402

# Fragments that start a figure, an interval, a p-value or an arm size and then stop short,
# plus long runs of the characters the grammar repeats (digits, blanks, brackets, dashes).
NEAR_MISSES = [
    "HR 0.62 (95% CI 0.46-", "hazard ratio, 0.5; 95% CI, ", "(0.63 (0.48\u20120.82", "P < .", "p=9.83\u00d710",
    "5.5 months (95% CI, 3.9-", "171 of 1298 (13.", "(n = ", "331 patients were assigned to the ", "vs 3.8 months",
    "in patients with ESR1-mutated", "HRs (95% CIs):", "0\u00b762 (0\u00b746\u2013", "&amp;&lt;&#8211;",
    " " * 300, "1" * 300, "1.1." * 80, "(" * 200, "[95% CI " * 40, "-" * 200, "0.5 " * 100, "% " * 100,
    "vs " * 100, "\n" * 50, "a" * 400, "CI, " * 60, "of " * 120,
]


def make_text(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        piece = rng.choice(NEAR_MISSES)
        parts.append(piece)
        total += len(piece)
    return "".join(parts)[:size]


def time_extract(text: str) -> float:
    """CPU seconds, so that other work on the machine does not blur the growth rate."""
    start = time.process_time()
    extract(text, "bench.txt")
    return time.process_time() - start


def main() -> None:
    sizes = [500_000, 1_000_000, 2_000_000, 4_000_000]
    times = []
    for size in sizes:
        elapsed = time_extract(make_text(size))
        times.append(elapsed)
        print(f"{size / 1e6:4.1f} MB: {elapsed:6.2f} s CPU  ({elapsed / (size / 1e6):5.2f} s/MB)", flush=True)
    growth = (times[-1] / times[0]) / (sizes[-1] / sizes[0])
    print(f"time grows {growth:.2f}x as fast as size from {sizes[0] / 1e6} MB to {sizes[-1] / 1e6} MB "
          f"(1.0 = linear)")


if __name__ == "__main__":
    main()
