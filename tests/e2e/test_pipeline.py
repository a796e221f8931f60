"""The whole pipeline, run through the `trialfx` command on a copy of the demo corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DEMO_ARTICLES, DEMO_GOLD

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

# The tables and columns users rely on (the public contract of the warehouse).
CONTRACT = {
    "raw.articles": "article_id source_path source_format title url outlet published_on text content_sha256 ingested_at",
    "raw.ingest_errors": "source_path error detail seen_at",
    "core.trials": "trial_id acronym nct_id condition n_articles",
    "core.arms": "article_id trial_id arm n evidence span_start span_end",
    "core.effect_estimates": "estimate_id article_id trial_id endpoint endpoint_text population subgroup "
    "subgroup_variable subgroup_level comparison experimental_arm comparator_arm measure value ci_low "
    "ci_high ci_level p p_relation claimed_significance evidence span_start span_end",
    "core.arm_results": "result_id article_id trial_id endpoint endpoint_text population subgroup arm "
    "statistic value unit ci_low ci_high n evidence span_start span_end",
    "quarantine.rejected_records": "table_name article_id reason record rejected_at",
    "marts.estimate_checks": "estimate_id se_log z p_from_ci p_consistent ci_contains_value ci_symmetric "
    "claim_consistent",
    "marts.subgroup_vs_overall": "trial_id endpoint measure comparison subgroup subgroup_variable "
    "subgroup_level subgroup_value subgroup_ci_low subgroup_ci_high overall_value overall_ci_low "
    "overall_ci_high ratio_to_overall complement_value complement_ci_low complement_ci_high "
    "complement_source interaction_ratio interaction_ci_low interaction_ci_high interaction_p pattern",
    "marts.cross_trial_subgroups": "subgroup_variable subgroup_level endpoint measure k_trials trial_ids "
    "pooled_subgroup_value pooled_subgroup_ci_low pooled_subgroup_ci_high pooled_overall_value "
    "pooled_overall_ci_low pooled_overall_ci_high pooled_interaction_ratio pooled_interaction_ci_low "
    "pooled_interaction_ci_high pooled_interaction_p tau2 i2 q q_p method",
}


def _run(articles: Path, warehouse: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "trialfx"), "run", "--articles", str(articles), "--warehouse", str(warehouse), *options],
        capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("e2e")
    articles = root / "articles"
    shutil.copytree(DEMO_ARTICLES, articles)
    warehouse = root / "wh" / "trialfx.duckdb"
    done = _run(articles, warehouse)
    assert done.returncode == 0, done.stdout + done.stderr
    return articles, warehouse, done


def _query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_run_prints_a_summary(built):
    _, warehouse, done = built
    assert "core.effect_estimates" in done.stdout
    assert str(warehouse) in done.stdout


def test_every_contract_table_and_column_exists(built):
    _, warehouse, _ = built
    for table, columns in CONTRACT.items():
        schema, name = table.split(".")
        present = {
            row[0]
            for row in _query(
                warehouse,
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                (schema, name),
            )
        }
        missing = set(columns.split()) - present
        assert not missing, f"{table} lacks {sorted(missing)}"


def test_ember3_figures_and_their_spans(built):
    _, warehouse, _ = built
    rows = _query(
        warehouse,
        """
        select e.population, e.subgroup_level, e.endpoint, e.value, e.ci_low, e.ci_high,
               e.evidence, substr(a.text, e.span_start + 1, e.span_end - e.span_start)
        from core.effect_estimates e join raw.articles a using (article_id)
        where e.trial_id = (select trial_id from core.trials where acronym ilike 'EMBER%3' limit 1)
          and e.endpoint = 'PFS' and e.measure = 'HR'
        """,
    )
    assert rows, "no EMBER-3 PFS hazard ratios in the warehouse"
    figures = {(r[0], r[3], r[4], r[5]) for r in rows}
    assert ("overall", 0.87, 0.72, 1.04) in figures
    assert ("subgroup", 0.62, 0.46, 0.82) in figures
    assert ("subgroup", 1.00, 0.79, 1.27) in figures
    assert ("overall", 0.57, 0.44, 0.73) in figures
    for row in rows:
        assert row[6] == row[7], "evidence differs from the text at its span"
    levels = {r[1] for r in rows if r[0] == "subgroup"}
    assert {"mutated", "wild-type"} <= levels


def test_every_span_in_the_warehouse_holds_its_evidence(built):
    _, warehouse, _ = built
    for table in ("core.effect_estimates", "core.arm_results", "core.arms"):
        bad = _query(
            warehouse,
            f"""
            select count(*) from {table} r join raw.articles a using (article_id)
            where substr(a.text, r.span_start + 1, r.span_end - r.span_start) <> r.evidence
            """,
        )[0][0]
        assert bad == 0, f"{table}: {bad} rows whose span does not hold their evidence"


def _gold_keys(kind: str) -> set[tuple]:
    keys = set()
    for line in DEMO_GOLD.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec["type"] != kind:
            continue
        if kind == "estimate":
            keys.add((rec["article"], rec["measure"], rec["value"], rec["ci_low"], rec["ci_high"]))
        elif kind == "arm":
            keys.add((rec["article"], rec["n"]))
    return keys


def test_demo_estimates_match_their_gold_records(built):
    _, warehouse, _ = built
    found = set(
        _query(warehouse, "select article_id, measure, value, ci_low, ci_high from core.effect_estimates")
    )
    gold = _gold_keys("estimate")
    assert gold, "demo gold has no estimates"
    assert gold - found == set(), "gold estimates missing from the warehouse"
    assert found - gold == set(), "estimates in the warehouse that the gold does not have"


def test_demo_arms_match_their_gold_records(built):
    _, warehouse, _ = built
    found = set(_query(warehouse, "select article_id, n from core.arms"))
    assert _gold_keys("arm") == found


def test_esr1_mutated_trials_pool_across_trials(built):
    _, warehouse, _ = built
    rows = _query(
        warehouse,
        """
        select k_trials, pooled_subgroup_value, pooled_interaction_ratio
        from marts.cross_trial_subgroups
        where subgroup_level = 'mutated' and endpoint = 'PFS' and measure = 'HR' and method = 'REML'
        """,
    )
    assert rows and rows[0][0] >= 3
    assert 0.5 < rows[0][1] < 0.7


def test_forest_plots_are_written_beside_the_warehouse(built):
    _, warehouse, _ = built
    plots = list((warehouse.parent / "reports").glob("*.png"))
    assert plots
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)


def test_duckdb_cli_opens_the_warehouse_read_only(built):
    _, warehouse, _ = built
    done = subprocess.run(
        [str(BIN / "duckdb"), "-readonly", str(warehouse), "-csv", "-c",
         "select count(*) from core.effect_estimates"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.strip().splitlines()[-1])
    assert count == _query(warehouse, "select count(*) from core.effect_estimates")[0][0] > 0


def test_rerun_on_unchanged_input_changes_nothing(built, tmp_path):
    articles, warehouse, _ = built
    tables = ["raw.articles", "core.effect_estimates", "core.arm_results", "marts.subgroup_vs_overall",
              "marts.cross_trial_subgroups", "staging.extraction_runs"]
    before = {t: sorted(map(repr, _query(warehouse, f"select * from {t}"))) for t in tables}
    copy = tmp_path / "again.duckdb"
    shutil.copyfile(warehouse, copy)
    done = _run(articles, copy)
    assert done.returncode == 0, done.stderr
    assert "up to date" not in done.stdout
    after = {t: sorted(map(repr, _query(copy, f"select * from {t}"))) for t in tables}
    assert before == after


def test_if_changed_starts_no_run_until_a_file_changes(built, tmp_path):
    articles, warehouse, _ = built
    folder = tmp_path / "articles"
    shutil.copytree(articles, folder)
    copy = tmp_path / "wh" / "trialfx.duckdb"
    first = _run(folder, copy)
    assert first.returncode == 0, first.stderr
    published = copy.read_bytes()

    again = _run(folder, copy, "--if-changed")
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    assert copy.read_bytes() == published

    touched = folder / "13-dapahf-2mm.txt"
    touched.write_text(touched.read_text(encoding="utf-8") + "\nFunded by the sponsor.\n", encoding="utf-8")
    changed = _run(folder, copy, "--if-changed")
    assert changed.returncode == 0, changed.stderr
    assert "is up to date" not in changed.stdout
    assert copy.read_bytes() != published


def test_sql_and_status_commands_read_the_warehouse(built):
    _, warehouse, _ = built
    done = subprocess.run(
        [str(BIN / "trialfx"), "sql", "--warehouse", str(warehouse),
         "select acronym, n_articles from core.trials order by n_articles desc"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "EMBER" in done.stdout.upper()
    status = subprocess.run(
        [str(BIN / "trialfx"), "status", "--warehouse", str(warehouse)],
        capture_output=True, text=True, timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert "core.effect_estimates" in status.stdout


def test_sql_command_refuses_to_write(built):
    _, warehouse, _ = built
    done = subprocess.run(
        [str(BIN / "trialfx"), "sql", "--warehouse", str(warehouse), "drop table core.trials"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1
    assert _query(warehouse, "select count(*) from core.trials")[0][0] > 0


def _readme_queries() -> list[str]:
    from tests.conftest import PROJECT

    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```sql\n")[1:]]


def test_every_cookbook_query_in_the_readme_runs(built):
    _, warehouse, _ = built
    queries = _readme_queries()
    assert len(queries) >= 10
    results = [_query(warehouse, q) for q in queries]
    # The ESR1-mutated questions must have answers on the demo corpus.
    assert results[1] and results[2]


def test_every_table_and_column_carries_a_comment(built):
    _, warehouse, _ = built
    tables = _query(
        warehouse,
        "select schema_name, table_name, comment from duckdb_tables() "
        "where schema_name in ('raw', 'core', 'quarantine', 'marts')",
    )
    assert len(tables) >= 12
    assert [t for t in tables if not t[2]] == []
    columns = _query(
        warehouse,
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where schema_name in ('raw', 'core', 'quarantine', 'marts') and (comment is null or comment = '')",
    )
    assert columns == []
