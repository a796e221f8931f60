"""Text printed on forest plots: numbers, estimates with their CI, p-values, truncated labels."""

import math

# Row labels longer than this would run into the plot area at the house font size.
LABEL_CHARS = 46


def format_number(x: float) -> str:
    """Format an estimate or CI limit with the precision journals usually print."""
    if not math.isfinite(x):
        return "n/a"
    size = abs(x)
    if size >= 100:
        return f"{x:.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 0.1 or size == 0:
        return f"{x:.2f}"
    return f"{x:.2g}"


def format_interval(low: float, high: float) -> str:
    """Format a CI as "0.46–0.82", or "-1.20 to 0.30" when a limit is negative."""
    separator = " to " if low < 0 or high < 0 else "–"
    return f"{format_number(low)}{separator}{format_number(high)}"


def format_estimate(value: float, ci_low: float, ci_high: float) -> str:
    """Format "0.62 (0.46–0.82)"; the bare value when the CI is incomplete."""
    if not math.isfinite(value):
        return "not reported"
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return format_number(value)
    return f"{format_number(value)} ({format_interval(ci_low, ci_high)})"


def format_p(p: float, relation: str | None = None) -> str:
    """Format a p-value ("0.12", "0.008", "<0.001"); empty when missing."""
    if not math.isfinite(p):
        return ""
    if relation in ("<", ">"):
        return f"{relation}{_p_digits(p)}"
    if p < 0.001:
        return "<0.001"
    if p > 0.99:
        return ">0.99"
    return _p_digits(p)


def p_phrase(p: float) -> str:
    """Phrase a p-value for running text: "p = 0.12", "p < 0.001"."""
    formatted = format_p(p)
    if formatted[:1] in ("<", ">"):
        return f"p {formatted[0]} {formatted[1:]}"
    return f"p = {formatted}"


def _p_digits(p: float) -> str:
    # Three decimals below 0.1 keep values such as 0.048 and 0.052 apart; a reported bound
    # like "p < 0.0001" keeps its own digits.
    if p < 0.001:
        return f"{p:.2g}"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def truncate(text: str, width: int) -> str:
    """Shorten text to width characters, marking the cut with an ellipsis."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
