"""The refresh job, its daily schedule, and the sensor that reacts to files dropped in the articles folder."""

import dagster as dg

from pipelines.fingerprint import folder_fingerprint
from pipelines.ingest.readers import scan_folder
from pipelines.resources import ArticlesFolder

refresh_job = dg.define_asset_job(
    "refresh_warehouse",
    selection=dg.AssetSelection.all(),
    description="Ingest the articles folder, extract, validate, rebuild the marts and reports, publish.",
    executor_def=dg.in_process_executor,
)

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule="0 6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild the warehouse every morning, whether or not files changed.",
)


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Start a refresh when a file in the articles folder is added, changed or removed.",
)
def articles_folder_sensor(context: dg.SensorEvaluationContext, articles: ArticlesFolder):
    # The cursor is "<count>:<fingerprint>". The count goes into the run key because Dagster
    # never starts two runs with one key, and a folder may return to an earlier state.
    count, _, previous = (context.cursor or "0:").partition(":")
    # The same fingerprint `trialfx run --if-changed` compares: one stat per file, no file read.
    fingerprint = folder_fingerprint(scan_folder(articles.root))
    if fingerprint == previous:
        return dg.SkipReason(f"no change in {articles.root}")
    change = int(count) + 1
    context.update_cursor(f"{change}:{fingerprint}")
    return dg.RunRequest(run_key=f"{change}-{fingerprint[:16]}")
