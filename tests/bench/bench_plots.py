"""Benchmark: forest plots per plot and for a whole reports folder, on generated mart frames.

Run from the project root: `.venv/bin/python -m tests.bench.bench_plots [--trials 1000 20000]
[--repeats R]`. Prints the median milliseconds per trial plot and per pooled plot (PNG written
to disk included), the PNG encoding alone beside Pillow's encoder on the same pixels, then, for each number of trials, the seconds write_forest_plots (what the
reports asset does after its queries) takes on a first run (every plot drawn), on a rerun
with nothing changed (every plot linked from the published folder) and on a rerun with 1% of
the trials changed.
"""

import argparse
import io
import math
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from pipelines.assets.reports import write_forest_plots
from pipelines.reports.forest import cross_trial_forest_plot, trial_forest_plot, trial_record_plot
from pipelines.reports.render import png_bytes
from pipelines.reports.rows import records

ENDPOINTS = ("PFS", "OS", "DFS", "ORR", "EFS", "pCR")
MEASURES = ("HR",) * 8 + ("OR", "RD")
VARIABLES = [
    ("ESR1 mutation status", ("mutated", "wild-type")),
    ("age", ("<65 years", ">=65 years")),
    ("sex", ("female", "male")),
    ("ECOG performance status", ("0", "1")),
    ("region", ("North America", "Europe", "Asia")),
    ("PD-L1 expression", ("<1%", ">=1%", ">=50%")),
    ("prior CDK4/6 inhibitor", ("yes", "no")),
    ("visceral metastases", ("yes", "no")),
    ("number of prior lines of therapy", ("1", ">=2")),
    ("histology", ("squamous", "non-squamous")),
] + [(f"biomarker {rank}", ("positive", "negative")) for rank in range(11, 301)]
# Subgroup variables are long-tailed: a few (age, sex, region) in many trials, most in few.
WEIGHTS = [1 / rank for rank in range(1, len(VARIABLES) + 1)]
# Columns of marts.subgroup_vs_overall the plots never read, so that frames have the mart's width.
EXTRA_TEXT = ("trial_key", "endpoint_key", "comparison_key", "subgroup_key", "article_ids",
              "subgroup_estimate_id", "overall_estimate_id", "complement_estimate_id", "pattern")
EXTRA_NUMBERS = ("ci_level", "ratio_to_overall", "y", "se", "overall_y", "overall_se",
                 "complement_y", "complement_se", "interaction_y", "interaction_se")


def _ratio(rng: random.Random, centre: float, spread: float) -> tuple[float, float, float]:
    value = math.exp(rng.gauss(math.log(centre), 0.25))
    half = 1.96 * spread
    return value, value * math.exp(-half), value * math.exp(half)


def _difference(rng: random.Random, spread: float) -> tuple[float, float, float]:
    value = rng.gauss(0.0, 0.08)
    return value, value - 1.96 * spread * 0.1, value + 1.96 * spread * 0.1


def _distinct(rng: random.Random, count: int) -> list[tuple[str, tuple[str, ...]]]:
    chosen: dict[str, tuple[str, ...]] = {}
    while len(chosen) < count:
        variable, levels = rng.choices(VARIABLES, WEIGHTS)[0]
        chosen[variable] = levels
    return list(chosen.items())


def make_frames(trials: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(svo, overall, pooled) frames shaped like the marts of a corpus with that many trials:
    one to three endpoints a trial, up to six subgroups each, complements and interactions
    for most, and pooled rows for subgroups reported by two or more trials."""
    rng = random.Random(seed)
    svo_rows, overall_rows = [], []
    for number in range(trials):
        trial_id = f"NCT{number:08d}"
        for endpoint in rng.sample(ENDPOINTS, rng.choice((1, 1, 1, 2, 2, 3))):
            measure = rng.choice(MEASURES)
            comparison = f"drug {number % 97} vs control"
            ratio = measure != "RD"
            overall = _ratio(rng, 0.8, 0.1) if ratio else _difference(rng, 0.5)
            overall_rows.append({
                "trial_id": trial_id, "endpoint": endpoint, "measure": measure,
                "comparison": comparison, "value": overall[0], "ci_low": overall[1],
                "ci_high": overall[2], "p": rng.choice((0.001, 0.04, 0.3, math.nan)),
                "p_relation": rng.choice(("=", "<", None)),
            })
            for variable, levels in _distinct(rng, rng.choice((0, 1, 2, 2, 3, 4, 6))):
                level = rng.choice(levels)
                estimate = _ratio(rng, 0.75, 0.2) if ratio else _difference(rng, 1.0)
                complement = _ratio(rng, 0.85, 0.18) if ratio else _difference(rng, 1.0)
                interaction = _ratio(rng, 0.9, 0.3) if ratio else _difference(rng, 1.4)
                has_complement = rng.random() < 0.7
                row = {
                    "trial_id": trial_id, "endpoint": endpoint, "measure": measure,
                    "comparison": comparison, "subgroup": f"{variable}: {level}",
                    "subgroup_variable": variable, "subgroup_level": level,
                    "n_articles": rng.choice((1, 1, 2, 3)),
                    "subgroup_value": estimate[0], "subgroup_ci_low": estimate[1],
                    "subgroup_ci_high": estimate[2], "overall_value": overall[0],
                    "overall_ci_low": overall[1], "overall_ci_high": overall[2],
                    "complement_value": complement[0] if has_complement else math.nan,
                    "complement_ci_low": complement[1] if has_complement else math.nan,
                    "complement_ci_high": complement[2] if has_complement else math.nan,
                    "complement_source": rng.choice(("reported", "derived")) if has_complement else None,
                    "interaction_ratio": interaction[0] if has_complement else math.nan,
                    "interaction_ci_low": interaction[1] if has_complement else math.nan,
                    "interaction_ci_high": interaction[2] if has_complement else math.nan,
                    "interaction_p": rng.random() if has_complement else math.nan,
                }
                row.update({name: f"{name}-{number}-{len(svo_rows)}" for name in EXTRA_TEXT})
                row.update({name: rng.random() for name in EXTRA_NUMBERS})
                svo_rows.append(row)
    svo = pd.DataFrame(svo_rows).sort_values(["trial_id", "endpoint", "measure"], kind="stable")
    overall = pd.DataFrame(overall_rows)
    return svo.reset_index(drop=True), overall, _pooled(svo, rng)


def _pooled(svo: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    rows = []
    key = ["subgroup_variable", "subgroup_level", "endpoint", "measure"]
    for (variable, level, endpoint, measure), group in svo.groupby(key, sort=True):
        trial_ids = sorted(set(group["trial_id"]))
        if len(trial_ids) < 2:
            continue
        pooled = _ratio(rng, 0.75, 0.05) if measure != "RD" else _difference(rng, 0.3)
        interaction = _ratio(rng, 0.9, 0.1) if measure != "RD" else _difference(rng, 0.5)
        rows.append({
            "subgroup_variable": variable, "subgroup_level": level, "endpoint": endpoint,
            "measure": measure, "k_trials": len(trial_ids), "trial_ids": ",".join(trial_ids),
            "pooled_subgroup_value": pooled[0], "pooled_subgroup_ci_low": pooled[1],
            "pooled_subgroup_ci_high": pooled[2], "pooled_interaction_ratio": interaction[0],
            "pooled_interaction_ci_low": interaction[1], "pooled_interaction_ci_high": interaction[2],
            "pooled_interaction_p": rng.random(), "tau2": rng.random() / 10,
            "i2": rng.random() * 100, "q": rng.random() * 10, "q_p": rng.random(), "method": "REML",
            "pi_low": pooled[1] * 0.8, "pi_high": pooled[2] * 1.2,
        })
    return pd.DataFrame(rows)


def _median_ms(calls: list, repeats: int) -> float:
    """Median over the calls of each call's best of `repeats` runs, in milliseconds."""
    times = []
    for call in calls:
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return statistics.median(times) * 1000


def per_plot(folder: Path, repeats: int) -> None:
    svo, overall, pooled = make_frames(300, seed=11)
    path = folder / "plot.png"
    svo_by_trial = {t: records(g) for t, g in svo.groupby("trial_id")}
    overall_by_trial = {t: records(g) for t, g in overall.groupby("trial_id")}
    trial_ids = sorted(overall_by_trial)
    # Warm the glyph and string caches the way a long run does.
    for trial_id in trial_ids:
        trial_record_plot(svo_by_trial.get(trial_id, []), overall_by_trial[trial_id], trial_id, path)
    from_records = [
        lambda t=trial_id: trial_record_plot(svo_by_trial.get(t, []), overall_by_trial[t], t, path)
        for trial_id in trial_ids
    ]
    from_frames = [
        lambda t=trial_id: trial_forest_plot(svo[svo.trial_id == t], overall[overall.trial_id == t], t, path)
        for trial_id in trial_ids[:100]
    ]
    per_trial = svo.rename(columns={"subgroup_value": "value", "subgroup_ci_low": "ci_low",
                                    "subgroup_ci_high": "ci_high"})
    groups = []
    for _, row in pooled.head(100).iterrows():
        mask = ((per_trial.subgroup_variable == row.subgroup_variable)
                & (per_trial.subgroup_level == row.subgroup_level)
                & (per_trial.endpoint == row.endpoint) & (per_trial.measure == row.measure))
        groups.append((per_trial[mask].drop_duplicates("trial_id"), row))
    pooled_calls = [lambda g=g, r=r: cross_trial_forest_plot(g, r, path) for g, r in groups]
    print(f"per plot, median of {len(trial_ids)} trials / {len(groups)} pooled groups "
          f"(best of {repeats} each), PNG written:")
    print(f"  trial plot from the trial's rows as dicts: {_median_ms(from_records, repeats):6.2f} ms")
    print(f"  trial plot from mart frames (filtered):    {_median_ms(from_frames, repeats):6.2f} ms")
    print(f"  pooled plot from frames:                   {_median_ms(pooled_calls, repeats):6.2f} ms")
    _encoders(folder, svo_by_trial, overall_by_trial, trial_ids, repeats)


def _encoders(folder: Path, svo_by_trial: dict, overall_by_trial: dict, trial_ids: list,
              repeats: int) -> None:
    """Side by side on the same pixels: the renderer's PNG writer and Pillow's PNG encoder."""
    images = []
    for trial_id in trial_ids:
        path = trial_record_plot(svo_by_trial.get(trial_id, []), overall_by_trial[trial_id],
                                 trial_id, folder / "encode.png")
        with Image.open(path) as image:
            images.append(image.copy())
    ours = [lambda i=image: png_bytes(np.asarray(i)) for image in images]
    pillows = [lambda i=image: i.save(io.BytesIO(), format="png", compress_level=1) for image in images]
    print("PNG encoding of the same trial plots, median:")
    print(f"  png_bytes (4-bit, zlib level 1):           {_median_ms(ours, repeats):6.2f} ms")
    print(f"  Pillow PNG encoder (compress_level=1):     {_median_ms(pillows, repeats):6.2f} ms")


def whole_folder(folder: Path, trials: int) -> None:
    svo, overall, pooled = make_frames(trials)
    build, published = folder / f"build-{trials}", folder / f"published-{trials}"

    def run() -> tuple[float, int, int]:
        shutil.rmtree(build, ignore_errors=True)
        start = time.perf_counter()
        written, drawn = write_forest_plots(svo, overall, pooled, build, published)
        seconds = time.perf_counter() - start
        shutil.rmtree(published, ignore_errors=True)
        build.rename(published)
        return seconds, len(written), drawn

    print(f"{trials} trials ({len(svo)} subgroup rows, {len(pooled)} pooled groups):")
    seconds, plots, drawn = run()
    print(f"  first run:           {seconds:7.2f} s  {plots} plots, {drawn} drawn")
    seconds, plots, drawn = run()
    print(f"  rerun, no change:    {seconds:7.2f} s  {plots} plots, {drawn} drawn")
    changed = set(sorted(set(overall.trial_id))[:: 100])
    overall.loc[overall.trial_id.isin(changed), "value"] *= 1.01
    seconds, plots, drawn = run()
    print(f"  rerun, 1% changed:   {seconds:7.2f} s  {plots} plots, {drawn} drawn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="*", default=[1000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-plots-") as tmp:
        per_plot(Path(tmp), args.repeats)
        for trials in args.trials:
            whole_folder(Path(tmp), trials)


if __name__ == "__main__":
    main()
