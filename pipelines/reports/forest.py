"""Forest plots of the marts as PNG files: one per trial, one per cross-trial subgroup group."""

import base64
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from pipelines.reports.render import render_forest
from pipelines.reports.rows import (
    Pooled, cross_trial_record_blocks, cross_trial_title, records, trial_blocks,
    trial_record_blocks,
)

TRIAL_FOOTER = (
    "Complement: the trial's patients outside the subgroup; (derived) means back-calculated "
    "from the overall and subgroup estimates by inverse-variance decomposition. "
    "P int.: subgroup vs complement. Square size: precision (inverse CI width). "
    "Dotted line: overall estimate; solid line: no effect."
)


def trial_forest_plot(svo: pd.DataFrame, overall: pd.DataFrame, trial_id: str, path: Path) -> Path:
    """Plot one trial: per endpoint/comparison/measure, the overall estimate, then each
    subgroup with its complement and interaction p, from marts.subgroup_vs_overall rows (svo)
    and the trial's overall estimates. Returns the PNG's path."""
    return _render_trial(trial_blocks(svo, overall, trial_id), trial_id, path)


def trial_record_plot(svo: list[dict], overall: list[dict], trial_id: str, path: Path) -> Path:
    """trial_forest_plot for the trial's own rows given as dicts (rows.records): the form
    that is cheap to hand to another process."""
    return _render_trial(trial_record_blocks(svo, overall), trial_id, path)


def _render_trial(blocks: list, trial_id: str, path: Path) -> Path:
    return render_forest(blocks, f"{trial_id}: overall and subgroup estimates", TRIAL_FOOTER, path)


def cross_trial_forest_plot(per_trial: pd.DataFrame, pooled: Pooled, path: Path) -> Path:
    """Plot one row of marts.cross_trial_subgroups: each trial's subgroup estimate and the
    pooled diamond (with the prediction interval when given), and the per-trial and pooled
    interaction ratios when per_trial carries them. Returns the PNG's path."""
    return cross_trial_record_plot(records(per_trial), pooled, tuple(per_trial.columns), path)


def cross_trial_record_plot(
    per_trial: list[dict], pooled: Pooled, columns: Collection[str], path: Path
) -> Path:
    """cross_trial_forest_plot for the per-trial rows given as dicts and their column names."""
    blocks = cross_trial_record_blocks(per_trial, pooled, columns)
    return render_forest(blocks, cross_trial_title(pooled), _cross_trial_footer(columns), path)


def _cross_trial_footer(columns: Collection[str]) -> str:
    notes = ["Squares: each trial's subgroup estimate, sized by precision (inverse CI width)."]
    if "overall_value" in columns:
        notes.append("Open circles: the whole trial.")
    notes.append("Diamond: random-effects pooled estimate with its CI.")
    if "interaction_ratio" in columns:
        notes.append(
            "Interactions compare each trial's subgroup with its complement, then are pooled."
        )
    notes.append("Solid line: no effect.")
    return " ".join(notes)


def png_markdown(path: Path, alt: str) -> str:
    """Embed a PNG as "![alt](data:image/png;base64,...)" for Dagster markdown metadata."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    safe_alt = " ".join(alt.replace("[", "(").replace("]", ")").split())
    return f"![{safe_alt}](data:image/png;base64,{encoded})"
