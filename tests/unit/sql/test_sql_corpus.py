"""The SQL models on the hand-checked gold estimates of the development corpus (read in place)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.unit.sql.sql_helpers import build, estimate, fetch, insert_estimates
from warehouse import models

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"

pytestmark = pytest.mark.corpus


def gold_estimates() -> list[dict]:
    if not (CORPUS / "gold.jsonl").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    rows = []
    for number, line in enumerate((CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        if record["type"] != "estimate":
            continue
        meta_path = CORPUS / "articles" / record["article"].replace(".txt", ".meta.json")
        trial = json.loads(meta_path.read_text(encoding="utf-8"))["trial"]
        rows.append(estimate(
            f"gold{number:03d}", article_id=record["article"], trial_id=trial,
            **{k: record[k] for k in (
                "endpoint", "endpoint_text", "population", "subgroup", "comparison", "measure",
                "value", "ci_low", "ci_high", "ci_level", "p", "p_relation", "evidence",
            )},
        ))
    return rows


@pytest.fixture
def corpus_warehouse(con):
    insert_estimates(con, gold_estimates())
    build(con)
    return con


def test_every_data_test_passes_on_the_gold_estimates(corpus_warehouse):
    for test in models.load_data_tests():
        if test.target != "marts.cross_trial_subgroups":
            assert models.run_data_test(corpus_warehouse, test)[0] == 0, test.name


def test_ember3_overall_pfs_is_corroborated_across_differently_worded_articles(corpus_warehouse):
    # the seed, CancerNetwork and HealthDay pieces all print 0.87 (0.72–1.04) for imlunestrant
    # against standard / SOC / endocrine therapy
    (row,) = fetch(
        corpus_warehouse,
        "select * from marts.canonical_estimates where trial_id = 'EMBER-3' and endpoint = 'PFS' "
        "and population = 'overall' and value = 0.87",
    )
    assert row["article_ids"] == (
        "00-seed-ember3-2mm.txt,01-ember3-cancernetwork.txt,03-ember3-drugscom-healthday.txt"
    )
    assert not row["conflicting"]


def test_ember3_esr1_mutated_pfs_derives_the_published_complement(corpus_warehouse):
    (row,) = fetch(
        corpus_warehouse,
        "select * from marts.subgroup_vs_overall where trial_id = 'EMBER-3' and endpoint = 'PFS' "
        "and subgroup_value = 0.62",
    )
    assert (row["overall_value"], row["complement_source"]) == (0.87, "derived")
    assert [round(row[c], 2) for c in ("complement_value", "complement_ci_low", "complement_ci_high")] == [
        1.10, 0.86, 1.39,
    ]


def test_one_sided_p_values_are_flagged_and_two_sided_ones_pass(corpus_warehouse):
    checks = {
        (r["article_id"][:2], r["value"]): r
        for r in fetch(corpus_warehouse, "select * from marts.estimate_checks where p is not null")
    }
    # NATALEE and MONALEESA-7 report one-sided p-values, smaller than any the interval allows
    for key in (("15", 0.749), ("35", 0.553)):
        row = checks[key]
        assert row["p_consistent"] is False
        assert row["p"] < row["p_ci_min"]
    # two-sided p-values printed beside their intervals
    for key in (("00", 0.87), ("00", 0.55), ("20", 0.83), ("33", 0.99)):
        assert checks[key]["p_consistent"] is True, key
    assert math.isclose(checks[("00", 0.55)]["p_from_ci"], 0.00914, rel_tol=1e-3)
