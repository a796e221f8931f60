"""append_rows inside a long transaction: rows land, and the frame they came from is not held."""

from __future__ import annotations

import gc
import tracemalloc

import duckdb
import pandas as pd

from pipelines.assets.common import append_rows


def test_rows_written_in_a_transaction_are_not_held_in_python_until_it_commits(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t (id varchar primary key, n integer, text varchar)")
    tracemalloc.start()
    try:
        con.execute("begin")
        for batch in range(5):
            frame = pd.DataFrame({
                "text": [f"{batch}-{i} " + "x" * 2000 for i in range(500)],
                "id": [f"{batch}-{i}" for i in range(500)],
                "n": range(500),
            })
            append_rows(con, "t", frame)
            del frame
        gc.collect()
        held_mb = tracemalloc.get_traced_memory()[0] / 1e6
        con.execute("commit")
    finally:
        tracemalloc.stop()
    # The five frames' texts come to 5 MB; only a little bookkeeping may remain.
    assert held_mb < 1.0
    assert con.execute("select count(*), sum(n), min(length(text)) from t").fetchone() == (2500, 5 * 124750, 2004)
