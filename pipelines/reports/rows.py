"""What a forest plot shows, as plain rows and blocks built from mart frames (no drawing)."""

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import pandas as pd

from pipelines.reports.labels import (
    LABEL_CHARS, format_estimate, format_interval, format_p, p_phrase, truncate,
)
from pipelines.reports.scales import axis_scale
from schemas.vocabulary import ENDPOINTS

# Row kinds the renderer knows how to draw.
OVERALL, SUBGROUP, COMPLEMENT = "overall", "subgroup", "complement"
TRIAL, TRIAL_OVERALL, POOLED, INTERVAL = "trial", "trial_overall", "pooled", "interval"

# marts.cross_trial_subgroups names only the tau² estimator; STATISTICS.md pairs REML with
# the Hartung–Knapp–Sidik–Jonkman interval, which readers need to see in the title.
_METHOD_LABELS = {"REML": "REML, HKSJ"}

_BLOCK_KEY = ("endpoint", "comparison", "measure")

# A pooled plot draws at most this many trials: past a few dozen rows a forest plot is no
# longer read row by row, and its image grows without bound (the mart keeps every trial).
MAX_TRIALS_DRAWN = 40

# One row of marts.cross_trial_subgroups, as a Series or a dict.
Pooled = pd.Series | Mapping


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot: a label, a point with its CI, and extra printed columns."""

    label: str
    kind: str
    value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForestBlock:
    """Rows sharing one x axis (one endpoint/comparison/measure), with headers and a caption."""

    title: str
    measure: str
    quantity: str
    rows: tuple[ForestRow, ...]
    note_headers: tuple[str, ...] = ()
    reference: float = math.nan
    caption: str = ""


def number(x: object) -> float:
    """Return x as a float, NaN for anything missing or not numeric."""
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def text(x: object) -> str:
    """Return x as a stripped string, empty for missing values."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return ""
    return str(x).strip()


def estimate_text(row: ForestRow) -> str:
    """Return the figures printed at the right of a row."""
    if row.kind != INTERVAL:
        return format_estimate(row.value, row.ci_low, row.ci_high)
    if math.isfinite(row.ci_low) and math.isfinite(row.ci_high):
        return format_interval(row.ci_low, row.ci_high)
    return ""


# ---------------------------------------------------------------- one trial


def records(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as dicts, the form the plot builders read."""
    return frame.to_dict("records") if len(frame) else []


def trial_blocks(svo: pd.DataFrame, overall: pd.DataFrame, trial_id: str) -> list[ForestBlock]:
    """Group a trial's overall estimates and subgroup rows into one block per endpoint,
    comparison and measure, the overall estimate first, each subgroup followed by its
    complement."""
    return trial_record_blocks(
        _for_trial(records(svo), trial_id), _for_trial(records(overall), trial_id)
    )


def trial_record_blocks(svo: list[dict], overall: list[dict]) -> list[ForestBlock]:
    """trial_blocks for rows already narrowed to one trial, as dicts."""
    svo_by_key, overall_by_key = _by_block(svo), _by_block(overall)
    return [
        _trial_block(key, svo_by_key.get(key, []), overall_by_key.get(key, []))
        for key in sorted(svo_by_key.keys() | overall_by_key.keys(), key=_block_order)
    ]


def _for_trial(rows: list[dict], trial_id: str) -> list[dict]:
    return [row for row in rows if "trial_id" not in row or text(row["trial_id"]) == trial_id]


def _by_block(rows: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """Split rows by (endpoint, comparison, measure), missing parts read as empty text."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        key = tuple(text(row.get(name)) for name in _BLOCK_KEY)
        groups.setdefault(key, []).append(row)  # type: ignore[arg-type]
    return groups


def _block_order(key: tuple[str, str, str]) -> tuple[int, str, str, str]:
    endpoint, comparison, measure = key
    rank = ENDPOINTS.index(endpoint) if endpoint in ENDPOINTS else len(ENDPOINTS)
    return rank, endpoint, comparison, measure


def _trial_block(
    key: tuple[str, str, str], svo: list[dict], overall: list[dict]
) -> ForestBlock:
    endpoint, comparison, measure = key
    overall_row = _overall_row(svo, overall)
    rows = [overall_row] if overall_row else []
    for subgroup in _sorted_subgroups(svo):
        rows.extend(_subgroup_rows(subgroup))
    return ForestBlock(
        title=" · ".join(part for part in (endpoint, comparison) if part) or "estimate",
        measure=measure,
        quantity=measure or "estimate",
        rows=tuple(rows),
        note_headers=("P", "P int."),
        reference=overall_row.value if overall_row else math.nan,
    )


def _overall_row(svo: list[dict], overall: list[dict]) -> ForestRow | None:
    """The trial's overall estimate, from the overall rows or else from the subgroup rows."""
    if overall:
        first = overall[0]
        p = format_p(number(first.get("p")), text(first.get("p_relation")) or None)
        return ForestRow(
            "Overall", OVERALL, number(first.get("value")),
            number(first.get("ci_low")), number(first.get("ci_high")), (p, ""),
        )
    if svo:
        first = svo[0]
        return ForestRow(
            "Overall", OVERALL, number(first.get("overall_value")),
            number(first.get("overall_ci_low")), number(first.get("overall_ci_high")), ("", ""),
        )
    return None


def _sorted_subgroups(svo: list[dict]) -> list[dict]:
    return sorted(svo, key=lambda row: tuple(
        text(row.get(name)) for name in ("subgroup_variable", "subgroup_level", "subgroup")
    ))


def subgroup_label(variable: str, level: str, subgroup: str, width: int | None = None) -> str:
    """Name a subgroup by its controlled variable and level, else by its text; when width
    is given and the name is too long, shorten the variable so the level stays readable."""
    if not (variable and level):
        return subgroup or level or variable or "subgroup"
    label = f"{variable} = {level}"
    if width is None or len(label) <= width:
        return label
    room = width - len(level) - len(" = ")
    return f"{truncate(variable, room)} = {level}" if room >= 8 else truncate(label, width)


def _subgroup_rows(row: dict) -> list[ForestRow]:
    label = subgroup_label(
        text(row.get("subgroup_variable")), text(row.get("subgroup_level")),
        text(row.get("subgroup")), width=LABEL_CHARS,
    )
    rows = [
        ForestRow(
            label, SUBGROUP, number(row.get("subgroup_value")),
            number(row.get("subgroup_ci_low")), number(row.get("subgroup_ci_high")),
            ("", format_p(number(row.get("interaction_p")))),
        )
    ]
    if math.isfinite(number(row.get("complement_value"))):
        derived = text(row.get("complement_source")) == "derived"
        rows.append(
            ForestRow(
                "    complement" + (" (derived)" if derived else ""), COMPLEMENT,
                number(row.get("complement_value")),
                number(row.get("complement_ci_low")), number(row.get("complement_ci_high")),
                ("", ""),
            )
        )
    return rows


# ---------------------------------------------------------------- across trials


def cross_trial_title(pooled: Pooled) -> str:
    """Title such as "ESR1 mutation status = mutated · PFS · HR (REML, HKSJ)"."""
    method = text(pooled.get("method"))
    measure = text(pooled.get("measure"))
    method_label = f" ({_METHOD_LABELS.get(method, method)})" if method else ""
    subgroup = subgroup_label(
        text(pooled.get("subgroup_variable")), text(pooled.get("subgroup_level")), ""
    )
    parts = (subgroup, text(pooled.get("endpoint")), measure)
    return " · ".join(part for part in parts if part) + method_label


def cross_trial_blocks(per_trial: pd.DataFrame, pooled: Pooled) -> list[ForestBlock]:
    """The per-trial subgroup estimates with the pooled diamond, and, when the frame carries
    interaction ratios, the per-trial interactions with the pooled interaction."""
    return cross_trial_record_blocks(records(per_trial), pooled, tuple(per_trial.columns))


def cross_trial_record_blocks(
    per_trial: list[dict], pooled: Pooled, columns: Collection[str]
) -> list[ForestBlock]:
    """cross_trial_blocks for the per-trial rows given as dicts and the names of their
    columns. Past MAX_TRIALS_DRAWN trials, only the most precise are drawn (in their order),
    with a line saying how many more the pooled estimate includes."""
    measure = text(pooled.get("measure"))
    drawn = most_precise(per_trial, MAX_TRIALS_DRAWN, measure)
    hidden = len(per_trial) - len(drawn)
    blocks = [_subgroup_block(drawn, pooled, measure, hidden, _count_values(per_trial, "value"))]
    if "interaction_ratio" in columns:
        k = _count_values(per_trial, "interaction_ratio")
        blocks.append(_interaction_block(drawn, pooled, measure, hidden, k))
    return blocks


def most_precise(per_trial: list[dict], limit: int, measure: str) -> list[dict]:
    """At most ``limit`` rows: those with the narrowest subgroup CI (on the axis scale), in
    their original order; rows without a CI count as least precise."""
    if len(per_trial) <= limit:
        return per_trial
    log = axis_scale(measure) == "log"

    def width(row: dict) -> float:
        low, high = number(row.get("ci_low")), number(row.get("ci_high"))
        if log:
            low, high = (math.log(x) if x > 0 else math.nan for x in (low, high))
        spread = high - low
        return spread if math.isfinite(spread) else math.inf

    keep = set(sorted(range(len(per_trial)), key=lambda i: (width(per_trial[i]), i))[:limit])
    return [row for i, row in enumerate(per_trial) if i in keep]


def _not_drawn_row(hidden: int) -> list[ForestRow]:
    if not hidden:
        return []
    return [ForestRow(f"+ {hidden} more trials (pooled, not drawn)", INTERVAL)]


def _subgroup_block(
    per_trial: list[dict], pooled: Pooled, measure: str, hidden: int, k: int
) -> ForestBlock:
    rows: list[ForestRow] = []
    for trial in per_trial:
        rows.append(_trial_row(trial, TRIAL, ("value", "ci_low", "ci_high")))
        if math.isfinite(number(trial.get("overall_value"))):
            rows.append(_trial_row(
                trial, TRIAL_OVERALL, ("overall_value", "overall_ci_low", "overall_ci_high"),
                label="    whole trial",
            ))
    rows += _not_drawn_row(hidden)
    rows.append(_pooled_row(pooled, "pooled_subgroup_value", "k_trials", k, ()))
    pi = (number(pooled.get("pi_low")), number(pooled.get("pi_high")))
    if all(math.isfinite(limit) for limit in pi):
        rows.append(ForestRow("    prediction interval", INTERVAL, math.nan, *pi))
    return ForestBlock(
        title="Subgroup estimate by trial",
        measure=measure,
        quantity=measure or "estimate",
        rows=tuple(rows),
        caption=heterogeneity_caption(pooled, measure, prefix=""),
    )


def _interaction_block(
    per_trial: list[dict], pooled: Pooled, measure: str, hidden: int, k: int
) -> ForestBlock:
    columns = ("interaction_ratio", "interaction_ci_low", "interaction_ci_high")
    rows = [_trial_row(trial, TRIAL, columns, notes=("",)) for trial in per_trial]
    rows += _not_drawn_row(hidden)
    p = format_p(number(pooled.get("pooled_interaction_p")))
    rows.append(_pooled_row(pooled, "pooled_interaction_ratio", "k_interaction", k, (p,)))
    contrast = "Ratio" if axis_scale(measure) == "log" else "Difference"
    return ForestBlock(
        title="Interaction: subgroup vs complement, by trial",
        measure=measure,
        quantity=f"{contrast} of {measure or 'estimate'}s",
        rows=tuple(rows),
        note_headers=("P",),
        caption=heterogeneity_caption(pooled, measure, prefix="interaction_"),
    )


def _trial_row(
    trial: dict, kind: str, columns: tuple[str, str, str],
    label: str | None = None, notes: tuple[str, ...] = (),
) -> ForestRow:
    value, low, high = (number(trial.get(name)) for name in columns)
    return ForestRow(label or text(trial.get("trial_id")) or "trial", kind, value, low, high, notes)


def _count_values(rows: list[dict], column: str) -> int:
    return sum(not math.isnan(number(row.get(column))) for row in rows)


def _pooled_row(
    pooled: Pooled, value_column: str, k_column: str, k: int, notes: tuple[str, ...]
) -> ForestRow:
    """The pooled diamond; the CI columns share the value column's stem. k counts the
    trials that entered the pooling, which the mart states when some trials lack a figure."""
    stem = value_column.rsplit("_", 1)[0]
    k_pooled = number(pooled.get(k_column))
    k_label = int(k_pooled) if math.isfinite(k_pooled) else k
    return ForestRow(
        f"Pooled (k = {k_label})", POOLED, number(pooled.get(value_column)),
        number(pooled.get(f"{stem}_ci_low")), number(pooled.get(f"{stem}_ci_high")), notes,
    )


def heterogeneity_caption(pooled: Pooled, measure: str, prefix: str) -> str:
    """Caption with I², τ² and Q for the pooling whose columns start with prefix."""
    i2, tau2, q, q_p = (number(pooled.get(prefix + name)) for name in ("i2", "tau2", "q", "q_p"))
    parts = []
    if math.isfinite(i2):
        parts.append(f"I² = {i2:.1f}%")
    if math.isfinite(tau2):
        scale = " (log scale)" if axis_scale(measure) == "log" else ""
        parts.append(f"τ² = {tau2:.4f}{scale}")
    if math.isfinite(q):
        parts.append(f"Q = {q:.2f}" + (f" ({p_phrase(q_p)})" if math.isfinite(q_p) else ""))
    return "Heterogeneity: " + ", ".join(parts) if parts else ""
