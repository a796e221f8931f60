"""Report assets: forest plots drawn from the marts, and publishing the finished warehouse."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.assets.common import WAREHOUSE_POOL
from pipelines.reports.forest import cross_trial_forest_plot, png_markdown, trial_forest_plot
from pipelines.resources import WarehouseResource

FOREST_PLOTS = dg.AssetKey(["reports", "forest_plots"])
PUBLISHED = dg.AssetKey(["warehouse", "published"])

# File name -> digest of the inputs each plot was drawn from.
MANIFEST = "manifest.json"

# Plots shown inline in the UI; every plot is written to reports/ regardless.
MAX_INLINE_PLOTS = 6


def _digest(frames: tuple[pd.DataFrame, ...]) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def _read_manifest(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _slug(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", "_".join(str(p) for p in parts)).strip("-").lower()


@dg.asset(
    key=FOREST_PLOTS,
    deps=[
        dg.AssetKey(["marts", "subgroup_vs_overall"]),
        dg.AssetKey(["marts", "cross_trial_subgroups"]),
        dg.AssetKey(["marts", "canonical_estimates"]),
    ],
    group_name="reports",
    kinds={"python", "matplotlib"},
    pool=WAREHOUSE_POOL,
)
def forest_plots(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Forest plots as PNG files in reports/ beside the warehouse: one per trial (overall,
    subgroups and complements) and one per cross-trial subgroup group (each trial and the
    pooled estimate)."""
    wh = warehouse.warehouse
    out = wh.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    with wh.connect() as con:
        svo = con.execute("select * from marts.subgroup_vs_overall order by all").df()
        overall = con.execute(
            """
            select trial_id, endpoint, measure, comparison, value, ci_low, ci_high, p, p_relation
            from marts.canonical_estimates
            where population = 'overall'
            order by all
            """
        ).df()
        pooled = con.execute(
            "select * from marts.cross_trial_subgroups where method = 'REML' "
            "order by subgroup_variable, subgroup_level, endpoint, measure"
        ).df()

    # Each plot: (title, file name, its input frames, how to draw it).
    plots = []
    for trial_id in sorted(set(svo["trial_id"].dropna()) | set(overall["trial_id"].dropna())):
        rows, estimates = svo[svo["trial_id"] == trial_id], overall[overall["trial_id"] == trial_id]
        plots.append(
            (str(trial_id), f"trial_{_slug(trial_id)}.png", (rows, estimates),
             lambda path, r=rows, e=estimates, t=trial_id: trial_forest_plot(r, e, t, path))
        )
    for group in pooled.itertuples(index=False):
        mask = (
            (svo["subgroup_variable"] == group.subgroup_variable)
            & (svo["subgroup_level"] == group.subgroup_level)
            & (svo["endpoint"] == group.endpoint)
            & (svo["measure"] == group.measure)
            & svo["trial_id"].isin(str(group.trial_ids).split(","))
        )
        per_trial = (
            svo[mask]
            .sort_values(["trial_id", "n_articles"], ascending=[True, False])
            .drop_duplicates("trial_id")
            .rename(columns={"subgroup_value": "value", "subgroup_ci_low": "ci_low", "subgroup_ci_high": "ci_high"})
        )
        row = pd.Series(group._asdict())
        name = _slug("pooled", group.subgroup_variable, group.subgroup_level, group.endpoint, group.measure)
        plots.append(
            (f"{group.subgroup_variable} = {group.subgroup_level}, {group.endpoint} {group.measure}",
             f"{name}.png", (per_trial, row.to_frame()),
             lambda path, t=per_trial, r=row: cross_trial_forest_plot(t, r, path))
        )

    # A plot whose inputs did not change is taken from the published reports, not drawn again:
    # drawing costs about a second a plot, and most runs change few trials.
    published = wh.published_reports_dir
    previous = _read_manifest(published)
    manifest, written, redrawn = {}, [], 0
    for title, filename, inputs, draw in plots:
        digest = _digest(inputs)
        path = out / filename
        if previous.get(filename) == digest and (published / filename).is_file():
            shutil.copyfile(published / filename, path)
        else:
            draw(path)
            redrawn += 1
        manifest[filename] = digest
        written.append((title, path))
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))

    keep = {p.name for _, p in written}
    for stale in out.glob("*.png"):
        if stale.name not in keep:
            stale.unlink()
    inline = [png_markdown(path, title) for title, path in written[-MAX_INLINE_PLOTS:]]
    return dg.MaterializeResult(
        metadata={
            "plots": len(written),
            "plots_redrawn": redrawn,
            "folder": dg.MetadataValue.path(str(wh.published_reports_dir)),
            "preview": dg.MetadataValue.md("\n\n".join(inline) or "No plots yet."),
        }
    )


def published_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publishing step, downstream of every asset that writes the build."""

    @dg.asset(key=PUBLISHED, deps=upstream, group_name="reports", kinds={"duckdb"}, pool=WAREHOUSE_POOL)
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        """The finished build swapped in as the warehouse file readers open: one atomic rename, so
        a reader sees the previous complete state or this one, never a half-written one."""
        wh = warehouse.warehouse
        wh.publish()
        size = wh.path.stat().st_size
        context.log.info(f"published {wh.path} ({size / 1e6:.1f} MB)")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(wh.path)), "bytes": size})

    return published_warehouse
