"""Article-level facts (trial acronym, NCT id, condition, phase, design, rating) and trial identity."""

from __future__ import annotations

EXTRACTOR_VERSION = "0.1.0"


def article_facts(text: str, title: str | None = None) -> dict:
    return {"acronym": None, "nct_id": None, "condition": None, "phase": None, "design": None,
            "evidence_rating": None}


def trial_id_for(acronym: str | None, nct_id: str | None) -> str | None:
    return None
