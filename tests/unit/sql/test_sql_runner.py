"""The model runner: discovery, dependency order, documentation and materialization."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.unit.sql.sql_helpers import build, fetch
from schemas.docs import core_docs
from warehouse import models


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_models_come_after_the_models_they_read():
    loaded = models.load_models()
    seen: set[str] = set()
    relations = {m.relation for m in loaded}
    for model in loaded:
        assert {d for d in model.deps if d in relations} <= seen, model.relation
        seen.add(model.relation)
    deps = {m.relation: m.deps for m in loaded}
    assert deps["staging.estimates"] == ("core.effect_estimates",)
    assert deps["marts.canonical_estimates"] == ("staging.comparisons", "staging.estimates")
    assert deps["marts.subgroup_vs_overall"] == ("marts.canonical_estimates", "staging.complementary_levels")


def test_table_refs_ignore_comments_and_string_literals():
    sql = (
        "-- reads core.not_this, nor staging.nor_this\n"
        "select 'marts.no_literal', x /* core.no_block */ from Staging.Estimates join core.trials using (id)"
    )
    assert models.table_refs(sql) == {"staging.estimates", "core.trials"}


def test_an_apostrophe_in_a_comment_does_not_hide_a_reference():
    assert models.table_refs("-- the text's claim\nselect * from staging.estimates") == {"staging.estimates"}


def test_every_model_documents_exactly_its_columns(con):
    build(con)
    for model in models.load_models():
        assert model.description, model.relation
        built = [r["column_name"] for r in fetch(
            con, "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [model.schema, model.name],
        )]
        assert list(model.columns) == built, model.relation


def test_core_yml_documents_exactly_the_tables_of_schema_sql(con):
    docs = core_docs()
    tables = fetch(
        con,
        "select schema_name || '.' || table_name as relation, list(column_name order by column_index) as columns "
        "from duckdb_columns() where schema_name in ('raw', 'core', 'quarantine', 'staging') group by all",
    )
    # staging also holds SQL models, documented by their own yml files.
    modelled = {m.relation for m in models.load_models()}
    tables = [t for t in tables if t["relation"] not in modelled]
    assert {t["relation"] for t in tables} == set(docs)
    for table in tables:
        assert list(docs[table["relation"]]["columns"]) == table["columns"], table["relation"]
        assert docs[table["relation"]]["description"]


def test_run_model_applies_the_comments_of_its_yml(con):
    counts = build(con)
    assert counts["staging.complementary_levels"] > 0
    model = next(m for m in models.load_models() if m.relation == "marts.subgroup_vs_overall")
    table_comment = con.execute(
        "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'subgroup_vs_overall'"
    ).fetchone()[0]
    column_comment = con.execute(
        "select comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'subgroup_vs_overall' and column_name = 'pattern'"
    ).fetchone()[0]
    assert table_comment == model.description
    assert column_comment == model.columns["pattern"]


def test_comment_tables_quotes_text_and_skips_what_is_not_there(con):
    models.comment_tables(con, {
        "core.trials": {"description": "The trial's row; it's quoted -- safely", "columns": {
            "acronym": "Name's spelling'); drop table core.trials; --", "no_such_column": "ignored",
        }},
        "core.no_such_table": {"description": "ignored"},
    })
    assert con.execute(
        "select comment from duckdb_tables() where schema_name = 'core' and table_name = 'trials'"
    ).fetchone()[0] == "The trial's row; it's quoted -- safely"
    assert con.execute(
        "select comment from duckdb_columns() where schema_name = 'core' and table_name = 'trials' "
        "and column_name = 'acronym'"
    ).fetchone()[0] == "Name's spelling'); drop table core.trials; --"


def test_models_rebuild_in_place(con):
    first = build(con)
    assert build(con) == first


def test_run_model_builds_views_and_switches_materialization(tmp_path, con):
    sql_dir = tmp_path / "sql"
    write(sql_dir / "staging" / "ratios.sql", "select measure from core.effect_estimates where measure = 'HR'")
    write(sql_dir / "staging" / "ratios.yml", "description: Hazard ratios.\nmaterialized: view\ncolumns:\n  measure: The measure.\n")
    (view_model,) = models.load_models(sql_dir)
    assert view_model.materialized == "view" and view_model.deps == ("core.effect_estimates",)
    assert models.run_model(con, view_model) == 0
    assert con.execute("select count(*) from duckdb_views() where view_name = 'ratios'").fetchone()[0] == 1
    models.run_model(con, view_model)
    write(sql_dir / "staging" / "ratios.yml", "description: Hazard ratios.\n")
    (table_model,) = models.load_models(sql_dir)
    models.run_model(con, table_model)
    models.run_model(con, table_model)
    assert con.execute("select count(*) from duckdb_views() where view_name = 'ratios'").fetchone()[0] == 0
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'ratios'").fetchone()[0] == 1


def test_a_failing_model_leaves_the_previous_table_in_place(tmp_path, con):
    sql_dir = tmp_path / "sql"
    write(sql_dir / "marts" / "numbers.sql", "select 1 as n union all select 2")
    models.run_model(con, models.load_models(sql_dir)[0])
    write(sql_dir / "marts" / "numbers.sql", "select n from staging.missing_table")
    with pytest.raises(duckdb.Error):
        models.run_model(con, models.load_models(sql_dir)[0])
    assert con.execute("select count(*) from marts.numbers").fetchone()[0] == 2


def test_model_names_must_be_plain_identifiers(tmp_path):
    write(tmp_path / "sql" / "marts" / "bad-name.sql", "select 1")
    with pytest.raises(ValueError, match="identifier"):
        models.load_models(tmp_path / "sql")


def test_data_tests_target_their_schema_qualified_table(tmp_path):
    sql_dir = tmp_path / "sql"
    write(sql_dir / "tests" / "trials__have_acronyms.sql", "-- trials have acronyms\nselect * from core.trials where acronym is null")
    (test,) = models.load_data_tests(sql_dir)
    assert (test.target, test.description) == ("core.trials", "trials have acronyms")
    write(sql_dir / "tests" / "arms__unreferenced.sql", "select * from core.trials")
    with pytest.raises(ValueError, match="arms"):
        models.load_data_tests(sql_dir)


def test_data_test_names_need_a_double_underscore(tmp_path):
    write(tmp_path / "sql" / "tests" / "trials_have_acronyms.sql", "select * from core.trials")
    with pytest.raises(ValueError, match="TABLE__"):
        models.load_data_tests(tmp_path / "sql")


def test_every_project_data_test_says_what_it_checks():
    for test in models.load_data_tests():
        assert test.description, test.name


CONTRACT_COLUMNS = {
    "marts.estimate_checks": (
        "estimate_id se_log z p_from_ci p_consistent ci_contains_value ci_symmetric claim_consistent"
    ),
    "marts.subgroup_vs_overall": (
        "trial_id endpoint measure comparison subgroup subgroup_variable subgroup_level subgroup_value "
        "subgroup_ci_low subgroup_ci_high overall_value overall_ci_low overall_ci_high ratio_to_overall "
        "complement_value complement_ci_low complement_ci_high complement_source interaction_ratio "
        "interaction_ci_low interaction_ci_high interaction_p pattern "
        # read by the cross-trial pooling
        "n_articles subgroup_y subgroup_se overall_y overall_se interaction_y interaction_se"
    ),
}


@pytest.mark.parametrize("relation", sorted(CONTRACT_COLUMNS))
def test_marts_have_the_columns_of_the_contract(relation):
    model = next(m for m in models.load_models() if m.relation == relation)
    assert set(CONTRACT_COLUMNS[relation].split()) <= set(model.columns)


def _incremental_model(sql_dir: Path, sql: str, key: str = "article_id") -> models.Model:
    write(sql_dir / "marts" / "per_article.sql", sql)
    write(sql_dir / "marts" / "per_article.yml", f"incremental_key: {key}\ndescription: Per article.\n")
    (model,) = models.load_models(sql_dir)
    return model


def _per_article(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute("select article_id, n, stamp from marts.per_article").fetchall()}


def test_an_incremental_model_rebuilds_only_the_keys_that_changed(tmp_path, con):
    con.execute("create table core.side (stamp integer)")
    con.execute("insert into core.side values (1)")
    con.execute("create table core.facts (article_id varchar, n integer)")
    con.execute("insert into core.facts values ('a', 1), ('b', 2), ('c', 3)")
    model = _incremental_model(
        tmp_path / "sql",
        "select article_id, n, (select stamp from core.side) as stamp from core.facts",
    )
    assert model.incremental_key == "article_id"
    models.run_model(con, model)
    assert _per_article(con) == {"a": (1, 1), "b": (2, 1), "c": (3, 1)}

    # Nothing recorded as changed: the rows stay, though the side table moved on.
    con.execute("update core.side set stamp = 2")
    con.execute("update core.facts set n = 20 where article_id = 'b'")
    con.execute("delete from core.facts where article_id = 'c'")
    models.run_model(con, model)
    assert _per_article(con) == {"a": (1, 1), "b": (2, 1), "c": (3, 1)}

    # b and c changed: only their rows are rebuilt (b takes the new stamp, c leaves), a is kept.
    con.execute("insert into staging.changed_keys values (1, 'b', 'T1'), (1, 'c', 'T1')")
    assert models.run_model(con, model) == 2
    assert _per_article(con) == {"a": (1, 1), "b": (20, 2)}
    assert con.execute("select generation from staging.model_state where relation = 'marts.per_article'"
                       ).fetchone() == (1,)


def test_an_incremental_model_whose_sql_changed_is_built_whole(tmp_path, con):
    con.execute("create table core.facts (article_id varchar, n integer)")
    con.execute("insert into core.facts values ('a', 1), ('b', 2)")
    models.run_model(con, _incremental_model(tmp_path / "sql", "select article_id, n, 0 as stamp from core.facts"))
    changed = _incremental_model(tmp_path / "sql", "select article_id, n, 7 as stamp from core.facts")
    models.run_model(con, changed)
    assert _per_article(con) == {"a": (1, 7), "b": (2, 7)}


def test_incremental_keys_are_checked(tmp_path):
    write(tmp_path / "sql" / "marts" / "m.sql", "select 1 as x")
    write(tmp_path / "sql" / "marts" / "m.yml", "incremental_key: x\n")
    with pytest.raises(ValueError, match="incremental_key"):
        models.load_models(tmp_path / "sql")
    write(tmp_path / "sql" / "marts" / "m.yml", "incremental_key: article_id\nmaterialized: view\n")
    with pytest.raises(ValueError, match="only a table"):
        models.load_models(tmp_path / "sql")


def test_a_removed_incremental_model_does_not_hold_back_pruning(tmp_path, con):
    con.execute("create table core.facts (article_id varchar, n integer)")
    con.execute("insert into core.facts values ('a', 1)")
    model = _incremental_model(tmp_path / "sql", "select article_id, n, 0 as stamp from core.facts")
    # A model since removed from the project took in nothing after generation 1.
    con.execute("insert into staging.model_state values ('marts.gone', 'old digest', 1)")
    con.execute("insert into staging.changed_keys values (2, 'a', 'T1'), (3, 'a', 'T1')")
    models.run_model(con, model)
    assert con.execute("select count(*) from staging.changed_keys").fetchone() == (2,)

    models.run_model(con, model, incremental=[model.relation])
    assert con.execute("select count(*) from staging.changed_keys").fetchone() == (0,)
    assert con.execute("select relation from staging.model_state").fetchall() == [("marts.per_article",)]


def test_an_incremental_update_reads_only_the_changed_keys_rows_of_keyed_inputs(con):
    con.execute("create table core.facts (article_id varchar, n integer)")
    con.execute("create table core.side (stamp integer)")
    sql = (
        "-- core.facts in a comment stays\n"
        "select f.article_id, 'core.facts' as label, (select max(stamp) from core.side) as stamp\n"
        "from core.facts as f where core.facts.n > 0"
    )
    out = models.restricted_to_keys(con, sql, "article_id", "(select 'a')")
    assert out.count("(select * from core.facts where article_id in (select 'a'))") == 1
    assert "-- core.facts in a comment stays" in out
    assert "'core.facts' as label" in out
    assert "from core.side)" in out
    assert "where core.facts.n > 0" in out
