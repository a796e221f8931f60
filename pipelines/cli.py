"""The `trialfx` command: run the pipeline, extract records from files, query and describe the warehouse."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.ingest.readers import SourceFile

# Heavy imports (dagster, pandas, duckdb) happen inside the commands that need them, so that
# `trialfx extract` starts in a fraction of a second.

DEFAULT_ARTICLES = "data/articles"
DEFAULT_WAREHOUSE = "warehouse/trialfx.duckdb"

SUMMARY_TABLES = [
    "raw.articles", "raw.ingest_errors", "core.trials", "core.arms", "core.effect_estimates",
    "core.arm_results", "quarantine.rejected_records", "marts.estimate_checks",
    "marts.subgroup_vs_overall", "marts.cross_trial_subgroups",
]


def _fail(message: str) -> None:
    print(f"trialfx: {message}", file=sys.stderr)


def _warehouse_path(args: argparse.Namespace) -> str:
    return args.warehouse or os.environ.get("TRIALFX_WAREHOUSE") or DEFAULT_WAREHOUSE


def cmd_run(args: argparse.Namespace) -> int:
    articles = args.articles or os.environ.get("TRIALFX_ARTICLES") or DEFAULT_ARTICLES
    warehouse = _warehouse_path(args)
    if not Path(articles).is_dir():
        _fail(f"{articles}: articles folder not found")
        return 2
    started = time.perf_counter()
    if args.if_changed and _up_to_date(Path(articles), Path(warehouse)):
        print(f"trialfx run: {warehouse} is up to date with {articles} "
              f"(no file and no code changed since it was built; no run started) "
              f"[{time.perf_counter() - started:.1f} s]")
        _print_counts(warehouse)
        return 0
    import dagster as dg

    from pipelines.definitions import build_defs

    defs = build_defs(articles_dir=str(Path(articles)), warehouse_path=str(Path(warehouse)))
    if os.environ.get("DAGSTER_HOME"):
        # Runs are recorded where the UI (`make ui`) shows them.
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        instance = dg.DagsterInstance.get()
    else:
        instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        for event in result.all_events:
            if event.is_failure and event.step_key:
                error = event.event_specific_data.error if event.event_specific_data else None
                while error is not None and error.cause is not None:
                    error = error.cause
                message = error.message.strip().splitlines()[0] if error else event.message
                _fail(f"step {event.step_key} failed: {message}")
        published = any(
            e.is_successful_output and e.step_key == "warehouse__published" for e in result.all_events
        )
        state = "was published" if published else "is unchanged"
        _fail(f"run failed after {elapsed:.1f} s; the warehouse {warehouse} {state}")
        return 1
    print(f"trialfx run: {articles} -> {warehouse} in {elapsed:.1f} s")
    _print_counts(warehouse)
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    print(f"  checks: {len(checks) - len(failed)} of {len(checks)} passed")
    for check in failed:
        print(f"    failed: {check.asset_key.to_user_string()} {check.check_name} ({check.severity.value.lower()})")
    return 0


def _up_to_date(articles: Path, warehouse: Path) -> bool:
    """True when the published warehouse was built from this folder, with every file as it is
    now, by this code, and its reports are in place: a run would change nothing."""
    from warehouse.db import Warehouse

    if not warehouse.is_file() or not Warehouse(warehouse).published_reports_dir.is_dir():
        return False
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    from pipelines.fingerprint import RUN_INPUT_COLUMNS, run_inputs
    from pipelines.ingest.readers import scan_folder

    try:
        recorded = con.execute(f"select {', '.join(RUN_INPUT_COLUMNS)} from staging.run_inputs").fetchall()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return recorded == [run_inputs(articles, scan_folder(articles))]


def _print_counts(warehouse: str) -> None:
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    try:
        for table in SUMMARY_TABLES:
            (count,) = con.execute(f"select count(*) from {table}").fetchone()
            print(f"  {table:<32} {count:>7}")
    finally:
        con.close()


def _sources(paths: list[str], report: Callable[[str, bool], None]) -> list[tuple[int, SourceFile, Path]]:
    """``(group, file, root)`` for every article file the paths name, a folder's files in walk order;
    each problem found on the way goes to ``report(message, fatal)``. Identical texts are looked
    for within a group (one path), as `ingest_folder` does for a folder."""
    from pipelines.ingest.readers import SourceFile, scan_folder

    found = []
    for group, raw in enumerate(paths):
        path = Path(raw)
        if path.is_dir():
            scan = scan_folder(path)
            for error in scan.errors:
                report(error.detail, _is_fatal(error))
            found.extend((group, source, path) for source in scan.files)
        elif path.is_file():
            # A file named on the command line is read wherever a symlink to it points.
            target = path.resolve()
            found.append((group, SourceFile(str(target), target.name, ""), target.parent))
        else:
            report(f"{raw}: no such file or folder", True)
    return found


def _is_fatal(error) -> bool:
    """A caveat on an article that was still read, or a duplicate left out, is a warning."""
    from pipelines.ingest.readers import WARNING_CODES

    return error.error not in WARNING_CODES and error.error != "duplicate"


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.ingest.readers import drop_duplicates
    from pipelines.parallel import read_json_lines

    failures = 0

    def report(message: str, fatal: bool) -> None:
        nonlocal failures
        failures += fatal
        _fail(message if fatal else f"warning: {message}")

    sources = _sources(args.paths, report)
    progress = sys.stderr.isatty() and len(sources) > 20 and not args.quiet
    out = sys.stdout
    seen: dict[int, dict[str, str]] = {}
    read = read_json_lines((source, root) for _, source, root in sources)
    for done, ((group, _, _), (result, lines)) in enumerate(zip(sources, read), 1):
        result = drop_duplicates(result, seen.setdefault(group, {}))
        for error in result.errors:
            report(error.detail, _is_fatal(error))
        for article in result.articles:
            out.write(lines[article.article_id])
        if progress:
            bar = "#" * (30 * done // len(sources))
            print(f"\r[{bar:<30}] {done}/{len(sources)} files", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    return 1 if failures else 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    warehouse = _warehouse_path(args)
    if not Path(warehouse).exists():
        _fail(f"{warehouse}: no warehouse yet; run `trialfx run` first")
        return 2
    con = duckdb.connect(warehouse, read_only=True)
    try:
        relation = con.sql(args.query)
        if relation is None:
            return 0
        relation.show(max_rows=args.max_rows, max_width=10_000)
    except duckdb.Error as exc:
        _fail(str(exc).splitlines()[0])
        return 1
    finally:
        con.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import duckdb

    warehouse = _warehouse_path(args)
    path = Path(warehouse)
    if not path.exists():
        _fail(f"{warehouse}: no warehouse yet; run `trialfx run` first")
        return 2
    published = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    print(f"warehouse {warehouse} ({path.stat().st_size / 1e6:.1f} MB), last published {published}")
    _print_counts(warehouse)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        errors = con.execute(
            "select error, count(*) from raw.ingest_errors group by 1 order by 2 desc"
        ).fetchall()
        rejected = con.execute(
            "select check_name, count(*) from quarantine.rejected_records group by 1 order by 2 desc"
        ).fetchall()
    finally:
        con.close()
    for title, rows in (("ingest errors", errors), ("quarantined rows", rejected)):
        if rows:
            print(f"{title}: " + ", ".join(f"{name} {count}" for name, count in rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialfx", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="ingest, extract, validate, build the marts and publish the warehouse")
    run.add_argument("--articles", help=f"articles folder (default $TRIALFX_ARTICLES or {DEFAULT_ARTICLES})")
    run.add_argument("--warehouse", help=f"DuckDB file (default $TRIALFX_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    run.add_argument("--if-changed", action="store_true",
                     help="start no run when no article file and no code changed since the warehouse was built")
    run.set_defaults(func=cmd_run)

    ext = sub.add_parser("extract", help="print the records found in files or folders as JSON lines")
    ext.add_argument("paths", nargs="+", metavar="PATH")
    ext.add_argument("--format", choices=["jsonl"], default="jsonl")
    ext.add_argument("--quiet", action="store_true", help="no progress bar")
    ext.set_defaults(func=cmd_extract)

    sql = sub.add_parser("sql", help="run a read-only SQL query on the warehouse and print a table")
    sql.add_argument("query")
    sql.add_argument("--warehouse")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.set_defaults(func=cmd_sql)

    status = sub.add_parser("status", help="what the warehouse holds, when it was published, errors")
    status.add_argument("--warehouse")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
