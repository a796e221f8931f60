"""Report assets: forest plots drawn from the marts, and publishing the finished warehouse."""

import hashlib
import json
import math
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import numpy as np
import pandas as pd
import PIL

import pipelines.reports
import schemas.vocabulary
from pipelines.assets.common import WAREHOUSE_POOL, relation_digest
from pipelines.reports.forest import cross_trial_record_plot, png_markdown, trial_record_plot
from pipelines.reports.rows import number, records
from pipelines.resources import WarehouseResource

FOREST_PLOTS = dg.AssetKey(["reports", "forest_plots"])
PUBLISHED = dg.AssetKey(["warehouse", "published"])

# File name -> digest of the inputs each plot was drawn from.
MANIFEST = "manifest.json"
# Digest of all the plots' inputs together: when it is unchanged, the run draws and links nothing.
INPUTS_DIGEST = "inputs.digest"

# What the plots are drawn from.
SVO_QUERY = "marts.subgroup_vs_overall"
OVERALL_QUERY = """(
    select trial_id, endpoint, measure, comparison, value, ci_low, ci_high, p, p_relation
    from marts.canonical_estimates
    where population = 'overall'
)"""
POOLED_QUERY = "(select * from marts.cross_trial_subgroups where method = 'REML')"

# Plots shown inline in the UI; every plot is written to reports/ regardless. A pooled plot
# of hundreds of trials is too tall to embed in the run's metadata, so larger files are not.
MAX_INLINE_PLOTS = 6
MAX_INLINE_BYTES = 200_000

# Up to this many plots are drawn in this process (a few milliseconds each); beyond it, by a
# pool of worker processes, which costs a fraction of a second to start.
POOL_THRESHOLD = 300
POOL_WORKERS = 2

_GROUP_KEY = ["subgroup_variable", "subgroup_level", "endpoint", "measure"]
# The columns of marts.subgroup_vs_overall that the plots show or are ordered by: the others
# never change a plot, so they are neither hashed nor handed to the drawing.
SVO_PLOT_COLUMNS = (
    "trial_id", "endpoint", "comparison", "measure", "subgroup", "subgroup_variable",
    "subgroup_level", "n_articles", "subgroup_value", "subgroup_ci_low", "subgroup_ci_high",
    "overall_value", "overall_ci_low", "overall_ci_high", "complement_value",
    "complement_ci_low", "complement_ci_high", "complement_source", "interaction_ratio",
    "interaction_ci_low", "interaction_ci_high", "interaction_p",
)


class Plot(NamedTuple):
    """One plot of the run: its UI title, file name, input digest and how to draw it."""

    title: str
    filename: str
    digest: str
    draw: Callable[[Path], Path] | None  # None: taken unchanged from the published reports


@cache
def _drawing_digest() -> bytes:
    """Digest of the code that decides and draws what a plot shows (and of Pillow's version):
    plots drawn by other code are drawn again."""
    digest = hashlib.blake2b(PIL.__version__.encode(), digest_size=16)
    sources = sorted(Path(pipelines.reports.__file__).parent.glob("*.py"))
    for source in [*sources, Path(__file__), Path(schemas.vocabulary.__file__)]:
        digest.update(source.name.encode() + source.read_bytes())
    return digest.digest()


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of the frame, computed for the whole frame at once."""
    if frame.empty:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _digest(*parts: bytes) -> str:
    digest = hashlib.blake2b(_drawing_digest(), digest_size=20)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _columns(frame: pd.DataFrame) -> bytes:
    return ",".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items()).encode()


def _groups(frame: pd.DataFrame, by: str | list[str]) -> dict:
    """Row positions of each value of the key column(s), missing keys left out."""
    if frame.empty:
        return {}
    return frame.groupby(by, sort=False).indices


def _read_manifest(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _slug(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", "_".join(str(p) for p in parts)).strip("-").lower()


class _FileNames:
    """File names from slugs; a slug already given to another key (such as "<65 years" and
    ">=65 years") gets a short digest of its key, so no plot overwrites another."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, stem: str, *key: object) -> str:
        name = f"{stem}.png"
        if name in self.taken:
            exact = "\x1f".join(map(str, key)).encode()
            name = f"{stem}-{hashlib.blake2b(exact, digest_size=4).hexdigest()}.png"
        self.taken.add(name)
        return name


def trial_plots(
    svo: pd.DataFrame, overall: pd.DataFrame, changed: Callable[[str, str], bool], names: _FileNames
) -> list[Plot]:
    """One plot per trial of marts.subgroup_vs_overall (svo) and the overall estimates, in
    trial order. Rows are grouped and hashed once for all trials; the rows a plot is drawn
    from are taken out only for the plots that changed(filename, digest)."""
    svo_at, overall_at = _groups(svo, "trial_id"), _groups(overall, "trial_id")
    svo_hashes, overall_hashes = _row_hashes(svo), _row_hashes(overall)
    svo_columns, overall_columns = _columns(svo), _columns(overall)
    none = np.zeros(0, dtype=np.intp)
    found = []
    for trial_id in sorted(svo_at.keys() | overall_at.keys()):
        rows, estimates = svo_at.get(trial_id, none), overall_at.get(trial_id, none)
        filename = names(f"trial_{_slug(trial_id)}", trial_id)
        digest = _digest(
            svo_columns, svo_hashes[rows].tobytes(), overall_columns, overall_hashes[estimates].tobytes()
        )
        found.append((str(trial_id), filename, digest, rows, estimates))

    to_draw = [plot for plot in found if changed(plot[1], plot[2])]
    svo_rows = _records_of(svo, [plot[3] for plot in to_draw])
    overall_rows = _records_of(overall, [plot[4] for plot in to_draw])
    drawers = {
        filename: partial(trial_record_plot, rows, estimates, trial_id)
        for (trial_id, filename, *_), rows, estimates in zip(to_draw, svo_rows, overall_rows)
    }
    return [
        Plot(trial_id, filename, digest, drawers.get(filename))
        for trial_id, filename, digest, *_ in found
    ]


def _records_of(frame: pd.DataFrame, positions: list[np.ndarray]) -> list[list[dict]]:
    """The rows at each list of positions as dicts, converted in one pass over the frame."""
    if not positions:
        return []
    everything = records(frame.take(np.concatenate(positions)))
    bounds = np.cumsum([0] + [len(p) for p in positions])
    return [everything[start:end] for start, end in zip(bounds[:-1], bounds[1:])]


def pooled_plots(
    svo: pd.DataFrame, pooled: pd.DataFrame, changed: Callable[[str, str], bool], names: _FileNames
) -> list[Plot]:
    """One plot per row of marts.cross_trial_subgroups: the group's per-trial rows of svo (one
    per trial, from the most articles) and the pooled estimates."""
    at = _groups(svo, _GROUP_KEY) if set(_GROUP_KEY) <= set(svo.columns) else {}
    trial_of = svo["trial_id"].to_numpy() if "trial_id" in svo.columns else None
    svo_hashes, pooled_hashes = _row_hashes(svo), _row_hashes(pooled)
    columns = _columns(svo) + b"|" + _columns(pooled)
    none = np.zeros(0, dtype=np.intp)
    found = []
    for index, group in enumerate(pooled.itertuples(index=False)):
        key = (group.subgroup_variable, group.subgroup_level, group.endpoint, group.measure)
        trial_ids = set(str(group.trial_ids).split(","))
        rows = np.array([p for p in at.get(key, none) if trial_of[p] in trial_ids], dtype=np.intp)
        title = f"{group.subgroup_variable} = {group.subgroup_level}, {group.endpoint} {group.measure}"
        filename = names(_slug("pooled", *key), *key)
        digest = _digest(columns, svo_hashes[rows].tobytes(), pooled_hashes[index : index + 1].tobytes())
        found.append((title, filename, digest, rows, index))

    to_draw = [plot for plot in found if changed(plot[1], plot[2])]
    groups = _records_of(svo, [plot[3] for plot in to_draw])
    pooled_rows = records(pooled.take([plot[4] for plot in to_draw]))
    renamed = tuple(_PER_TRIAL_NAMES.get(name, name) for name in svo.columns)
    drawers = {
        filename: partial(cross_trial_record_plot, _one_per_trial(rows), row, renamed)
        for (_, filename, *_), rows, row in zip(to_draw, groups, pooled_rows)
    }
    return [Plot(title, filename, digest, drawers.get(filename)) for title, filename, digest, *_ in found]


# svo's subgroup columns under the names the cross-trial plot reads.
_PER_TRIAL_NAMES = {"subgroup_value": "value", "subgroup_ci_low": "ci_low", "subgroup_ci_high": "ci_high"}


def _one_per_trial(rows: list[dict]) -> list[dict]:
    """Each trial's row reported by most articles (the first of equals), in trial order, with
    the subgroup figures renamed for the cross-trial plot."""
    def order(row: dict) -> tuple[str, bool, float]:
        articles = number(row.get("n_articles"))
        missing = math.isnan(articles)
        return str(row.get("trial_id")), missing, 0.0 if missing else -articles

    chosen: dict = {}
    for row in sorted(rows, key=order):
        chosen.setdefault(row.get("trial_id"), row)
    return [{_PER_TRIAL_NAMES.get(name, name): value for name, value in row.items()} for row in chosen.values()]


def _link_or_copy(source: str, target: str) -> None:
    """Give target the bytes of source: a hard link where the file system allows it, else a
    copy. Paths are strings: a run links thousands of plots."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        os.unlink(target)  # only a folder written to before; a run's own starts empty
    except OSError:
        shutil.copyfile(source, target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _draw_one(draw: Callable[[Path], Path], path: Path) -> None:
    draw(path)


def draw_plots(jobs: list[tuple[Callable[[Path], Path], Path]]) -> None:
    """Draw each (draw, path) job: in this process when there are few, else in a pool. (The
    renderer replaces a file rather than writing through it, so a file linked from the
    published reports is never changed.)"""
    if len(jobs) <= POOL_THRESHOLD:
        for draw, path in jobs:
            draw(path)
        return
    draws, paths = zip(*jobs)
    # Small chunks keep both workers busy to the end: pooled plots can be much taller.
    chunk = max(1, min(32, len(jobs) // (POOL_WORKERS * 8)))
    with ProcessPoolExecutor(max_workers=POOL_WORKERS) as pool:
        for _ in pool.map(_draw_one, draws, paths, chunksize=chunk):
            pass


def write_forest_plots(
    svo: pd.DataFrame, overall: pd.DataFrame, pooled: pd.DataFrame, out: Path, published: Path
) -> tuple[list[tuple[str, Path]], int]:
    """Write every plot to out, taking a plot whose inputs did not change since the reports
    in published (by their manifest) from there; write the manifest and drop plots no longer
    made. Returns each plot's (title, path) and how many were drawn."""
    out.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(published)
    svo = svo[[name for name in SVO_PLOT_COLUMNS if name in svo.columns]]

    # The published folder cannot change under this run: publishing needs the writer lock,
    # which the run holds. So it is listed once rather than asked about each plot.
    present = {entry.name for entry in os.scandir(published) if entry.is_file()} if published.is_dir() else set()

    def changed(filename: str, digest: str) -> bool:
        return previous.get(filename) != digest or filename not in present

    names = _FileNames()
    plots = trial_plots(svo, overall, changed, names) + pooled_plots(svo, pooled, changed, names)
    jobs = []
    source_dir, target_dir = str(published), str(out)
    for plot in plots:
        if plot.draw is None:
            _link_or_copy(os.path.join(source_dir, plot.filename), os.path.join(target_dir, plot.filename))
        else:
            jobs.append((plot.draw, out / plot.filename))
    draw_plots(jobs)
    manifest = {plot.filename: plot.digest for plot in plots}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))

    for stale in out.glob("*.png"):
        if stale.name not in manifest:
            stale.unlink()
    return [(plot.title, out / plot.filename) for plot in plots], len(jobs)


@dg.asset(
    key=FOREST_PLOTS,
    deps=[
        dg.AssetKey(["marts", "subgroup_vs_overall"]),
        dg.AssetKey(["marts", "cross_trial_subgroups"]),
        dg.AssetKey(["marts", "canonical_estimates"]),
    ],
    group_name="reports",
    kinds={"python", "pillow"},
    pool=WAREHOUSE_POOL,
)
def forest_plots(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Forest plots as PNG files in reports/ beside the warehouse: one per trial (overall,
    subgroups and complements) and one per cross-trial subgroup group (each trial and the
    pooled estimate)."""
    wh = warehouse.warehouse
    published = wh.published_reports_dir
    with wh.connect() as con:
        inputs = _inputs_digest(con)
        if _read_text(published / INPUTS_DIGEST) == inputs and (published / MANIFEST).is_file():
            # Nothing any plot is drawn from changed: no reports folder is made for this run,
            # so publishing keeps the published one as it is.
            return _unchanged_result(context, published)
        svo = con.execute(f"select * from {SVO_QUERY} order by all").df()
        overall = con.execute(f"select * from {OVERALL_QUERY} order by all").df()
        pooled = con.execute(
            f"select * from {POOLED_QUERY} order by subgroup_variable, subgroup_level, endpoint, measure"
        ).df()

    # A plot whose inputs did not change is linked from the published reports, not drawn
    # again: most runs change few trials.
    written, redrawn = write_forest_plots(svo, overall, pooled, wh.reports_dir, published)
    (wh.reports_dir / INPUTS_DIGEST).write_text(inputs)
    context.log.info(f"{len(written)} forest plots, {redrawn} drawn")
    inline: list[str] = []
    for title, path in reversed(written):
        if len(inline) == MAX_INLINE_PLOTS:
            break
        if path.stat().st_size <= MAX_INLINE_BYTES:
            inline.insert(0, png_markdown(path, title))
    return dg.MaterializeResult(
        metadata={
            "plots": len(written),
            "plots_redrawn": redrawn,
            "folder": dg.MetadataValue.path(str(wh.published_reports_dir)),
            "preview": dg.MetadataValue.md("\n\n".join(inline) or "No plots yet."),
        }
    )


def _inputs_digest(con) -> str:
    """Digest of every row any plot is drawn from (order-free sums of row hashes, per input)
    and of the drawing code."""
    inputs = (relation_digest(con, query) for query in (SVO_QUERY, OVERALL_QUERY, POOLED_QUERY))
    return " ".join([_drawing_digest().hex(), *inputs])


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _unchanged_result(context: dg.AssetExecutionContext, published: Path) -> dg.MaterializeResult:
    names = sorted(_read_manifest(published))
    context.log.info(f"no input of the {len(names)} forest plots changed: the published plots stay")
    inline = [png_markdown(published / name, name.removesuffix(".png")) for name in names[-MAX_INLINE_PLOTS:]
              if (published / name).is_file() and (published / name).stat().st_size <= MAX_INLINE_BYTES]
    return dg.MaterializeResult(
        metadata={
            "plots": len(names),
            "plots_redrawn": 0,
            "folder": dg.MetadataValue.path(str(published)),
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
