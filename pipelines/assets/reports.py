"""Report assets: forest plots drawn from the marts, and publishing the finished warehouse."""

import re

import dagster as dg
import pandas as pd

from pipelines.assets.common import WAREHOUSE_POOL
from pipelines.reports.forest import cross_trial_forest_plot, png_markdown, trial_forest_plot
from pipelines.resources import WarehouseResource

FOREST_PLOTS = dg.AssetKey(["reports", "forest_plots"])
PUBLISHED = dg.AssetKey(["warehouse", "published"])

# Plots shown inline in the UI; every plot is written to reports/ regardless.
MAX_INLINE_PLOTS = 6


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
        svo = con.execute("select * from marts.subgroup_vs_overall order by trial_id").df()
        overall = con.execute(
            """
            select trial_id, endpoint, measure, comparison, value, ci_low, ci_high, p, p_relation
            from marts.canonical_estimates
            where population = 'overall'
            order by trial_id, endpoint, comparison
            """
        ).df()
        pooled = con.execute(
            "select * from marts.cross_trial_subgroups where method = 'REML' "
            "order by subgroup_variable, subgroup_level, endpoint, measure"
        ).df()

    written = []
    for trial_id in sorted(set(svo["trial_id"].dropna()) | set(overall["trial_id"].dropna())):
        path = out / f"trial_{_slug(trial_id)}.png"
        trial_forest_plot(
            svo[svo["trial_id"] == trial_id], overall[overall["trial_id"] == trial_id], trial_id, path
        )
        written.append((f"{trial_id}", path))
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
        name = _slug("pooled", group.subgroup_variable, group.subgroup_level, group.endpoint, group.measure)
        path = out / f"{name}.png"
        cross_trial_forest_plot(per_trial, pd.Series(group._asdict()), path)
        written.append((f"{group.subgroup_variable} = {group.subgroup_level}, {group.endpoint} {group.measure}", path))

    keep = {p.name for _, p in written}
    for stale in out.glob("*.png"):
        if stale.name not in keep:
            stale.unlink()
    inline = [png_markdown(path, title) for title, path in written[-MAX_INLINE_PLOTS:]]
    return dg.MaterializeResult(
        metadata={
            "plots": len(written),
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
