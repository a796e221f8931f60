"""Axis decisions for forest plots: log or linear scale, null value, limits and ticks."""

import math
from collections.abc import Iterable

from schemas.vocabulary import RATIO_MEASURES

# Ratios far outside this range only squash the informative part of the plot; the printed
# figures still carry the exact values.
LOG10_RANGE = (-2.0, 2.0)
# Candidate tick mantissas per decade, coarse to fine; the finest that stays readable wins.
_LOG_TICK_MANTISSAS = (
    (1,),
    (1, 2, 5),
    (1, 1.5, 2, 3, 5, 7),
    (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9),
)
MAX_TICKS = 7


def axis_scale(measure: str | None) -> str:
    """Return "log" for ratio measures (HR OR RR IRR) and "linear" for differences (RD MD)."""
    return "log" if (measure or "").upper() in RATIO_MEASURES else "linear"


def null_value(measure: str | None) -> float:
    """Return the no-effect value: 1 for ratio measures, 0 for differences."""
    return 1.0 if axis_scale(measure) == "log" else 0.0


def is_plottable(x: float, scale: str) -> bool:
    """Tell whether x can be placed on an axis of the given scale."""
    return math.isfinite(x) and (scale == "linear" or x > 0)


def axis_limits(values: Iterable[float], measure: str | None) -> tuple[float, float]:
    """Return x limits covering the plottable values and the null, with a little margin."""
    scale = axis_scale(measure)
    null = null_value(measure)
    points = [v for v in values if is_plottable(v, scale)] + [null]
    if scale == "log":
        logs = [math.log10(v) for v in points]
        low, high = _padded(min(logs), max(logs), minimum_pad=0.05)
        low, high = max(low, LOG10_RANGE[0]), min(high, LOG10_RANGE[1])
        return 10.0**low, 10.0**high
    return _padded(min(points), max(points), minimum_pad=0.5)


def _padded(low: float, high: float, minimum_pad: float) -> tuple[float, float]:
    pad = max((high - low) * 0.08, minimum_pad if high == low else 0.0)
    return low - pad, high + pad


def log_ticks(low: float, high: float) -> list[float]:
    """Return readable tick positions for a log axis from low to high (at most MAX_TICKS)."""
    best: list[float] = []
    for mantissas in _LOG_TICK_MANTISSAS:
        ticks = _ticks_in_range(low, high, mantissas)
        if len(ticks) > MAX_TICKS:
            break
        best = ticks
    return best or [low, high]


def _ticks_in_range(low: float, high: float, mantissas: tuple[float, ...]) -> list[float]:
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    candidates = (round(m * 10.0**d, 10) for d in decades for m in mantissas)
    return sorted(t for t in set(candidates) if low <= t <= high)


def linear_ticks(low: float, high: float) -> list[float]:
    """Return evenly spaced ticks at 1, 2, 2.5 or 5 times a power of ten (at most MAX_TICKS)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low, high]
    power = 10.0 ** math.floor(math.log10(high - low) - 1)
    for step in (power * m for m in (1, 2, 2.5, 5, 10, 20, 25, 50, 100)):
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        if last - first + 1 <= MAX_TICKS:
            return [round(i * step, 10) + 0.0 for i in range(first, last + 1)]
    return [low, high]


def tick_label(x: float) -> str:
    """Print a tick value without trailing zeros: 0.5, 1, 1.5, -0.05."""
    return f"{round(x, 10) + 0.0:g}"
