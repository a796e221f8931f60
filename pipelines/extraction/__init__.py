"""Pure text-to-records extraction of trial results; no Dagster, DuckDB or pandas here."""

from pipelines.extraction import _compiled

# The mypyc build of these very sources, when `make` has made one (see _compiled).
COMPILED = _compiled.use_if_current(__path__)

from pipelines.extraction.extract import EXTRACTOR_VERSION, extract  # noqa: E402
from pipelines.extraction.facts import article_facts, trial_id_for  # noqa: E402

__all__ = ["COMPILED", "EXTRACTOR_VERSION", "article_facts", "extract", "trial_id_for"]
