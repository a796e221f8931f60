"""Pure text-to-records extraction of trial results; no Dagster, DuckDB or pandas here."""

from pipelines.extraction.extract import EXTRACTOR_VERSION, extract
from pipelines.extraction.facts import article_facts, trial_id_for

__all__ = ["EXTRACTOR_VERSION", "article_facts", "extract", "trial_id_for"]
