"""Trial identity across articles, and the warehouse's build-then-publish file handling."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.assets.core import resolve_trials
from warehouse.db import Warehouse


def _articles(rows):
    return pd.DataFrame(rows, columns=["article_id", "acronym", "nct_id", "condition"])


def test_acronym_and_nct_number_link_articles_into_one_trial():
    trial_of, trials = resolve_trials(
        _articles(
            [
                ("a", "EMBER-3", None, "breast cancer"),
                ("b", None, "NCT04975308", None),
                ("c", "Ember 3", "NCT04975308", "breast cancer"),
                ("d", "EMERALD", None, None),
                ("e", None, None, None),
            ]
        )
    )
    assert trial_of["a"] == trial_of["b"] == trial_of["c"]
    assert trial_of["d"] not in (trial_of["a"], None)
    assert trial_of["e"] is None
    ember = trials.set_index("trial_id").loc[trial_of["a"]]
    assert ember["n_articles"] == 3
    assert ember["nct_id"] == "NCT04975308"
    assert ember["condition"] == "breast cancer"


def test_publish_swaps_the_build_in_while_a_reader_keeps_its_snapshot(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.start_build()
    with wh.connect() as con:
        con.execute("create table t as select 1 as v")
    wh.publish()
    reader = duckdb.connect(str(wh.path), read_only=True)

    wh.start_build()
    with wh.connect() as con:
        con.execute("insert into t values (2)")
    assert reader.execute("select count(*) from t").fetchone()[0] == 1
    wh.publish()
    assert reader.execute("select count(*) from t").fetchone()[0] == 1
    reader.close()
    with wh.read() as fresh:
        assert fresh.execute("select count(*) from t").fetchone()[0] == 2
    assert not wh.build_path.exists()


def test_a_second_writer_is_refused_while_a_build_is_open(tmp_path):
    import subprocess
    import sys

    wh = Warehouse(tmp_path / "w.duckdb")
    wh.start_build()
    code = (
        "import sys; from warehouse.db import Warehouse, WarehouseLocked\n"
        "try:\n    Warehouse(sys.argv[1]).start_build()\nexcept WarehouseLocked as e:\n    print(e); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(wh.path)], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "another run" in done.stdout
    wh.publish()
    done = subprocess.run([sys.executable, "-c", code, str(wh.path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_dead_build_is_discarded_by_the_next_run(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.start_build()
    with wh.connect() as con:
        con.execute("create table t as select 1 as v")
    wh.publish()
    wh.build_path.write_bytes(b"half-written garbage")  # what a killed run might leave
    wh.start_build()
    with wh.connect() as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 1


def test_malformed_identifiers_from_metadata_do_not_become_trial_ids():
    trial_of, trials = resolve_trials(
        _articles(
            [
                ("a", "../../etc", "../../../escaped-nct", None),
                ("b", None, "NCT0497530", None),
                ("c", None, " nct04975308 ", None),
            ]
        )
    )
    assert trial_of["a"] is not None and "/" not in trial_of["a"] and "." not in trial_of["a"]
    assert trial_of["b"] is None
    assert trial_of["c"] == "NCT04975308"
    assert "NCT0497530" not in set(trials["nct_id"])


def test_a_build_is_written_in_small_row_groups_that_appends_do_not_rewrite(tmp_path):
    # A commit rewrites the last row group of a table it appends to; the build's groups are kept
    # small, so that cost stays bounded however large the table grows.
    from warehouse.db import ROW_GROUP_ROWS

    wh = Warehouse(tmp_path / "w.duckdb")
    starts = range(0, 3 * ROW_GROUP_ROWS, 5_000)
    wh.start_build()
    with wh.connect() as con:
        con.execute("create schema if not exists raw")
        con.execute("create table raw.t (v integer, s varchar)")
        for start in starts:
            con.execute("insert into raw.t select range, 'row ' || range from range(?, ?)", [start, start + 5_000])
    wh.publish()
    with wh.read() as reader:
        sizes = reader.execute(
            "select row_group_id, max(count) from pragma_storage_info('raw.t') group by 1"
        ).fetchall()
        rows = reader.execute("select count(distinct v) from raw.t").fetchone()[0]
    assert rows == 5_000 * len(starts)
    assert len(sizes) >= 3
    assert max(count for _, count in sizes) <= ROW_GROUP_ROWS
