"""The warehouse macros against scipy, and their use from a database attached under another name."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from scipy import stats

from warehouse import models


def _column(con, sql: str, values) -> np.ndarray:
    con.execute("create or replace temp table grid (x double)")
    con.executemany("insert into grid values (?)", [[float(v)] for v in values])
    return np.array([row[0] for row in con.execute(sql).fetchall()], dtype=float)


@pytest.fixture
def memory_con():
    con = duckdb.connect()
    models.install_macros(con)
    yield con
    con.close()


def test_norm_cdf_relative_error_over_both_tails(memory_con):
    grid = np.linspace(-8.0, 8.0, 641)
    got = _column(memory_con, "select norm_cdf(x) from grid order by x", grid)
    expected = stats.norm.cdf(grid)
    assert np.max(np.abs(got - expected) / expected) < 2e-7


def test_p_from_z_relative_error_and_symmetry(memory_con):
    grid = np.linspace(-8.0, 8.0, 641)
    got = _column(memory_con, "select p_from_z(x) from grid order by x", grid)
    expected = 2.0 * stats.norm.sf(np.abs(grid))
    assert np.max(np.abs(got - expected) / expected) < 2e-7
    assert np.all(got <= 1.0)


@pytest.mark.parametrize(
    ("level", "published"),
    [(95, 1.959964), (90, 1.644854), (99, 2.575829), (98.5, 2.432379)],
)
def test_z_crit_reproduces_the_usual_critical_values(memory_con, level, published):
    got = memory_con.execute("select z_crit(?)", [level]).fetchone()[0]
    assert got == pytest.approx(published, abs=5e-7)


def test_z_crit_inverse_normal_over_levels(memory_con):
    levels = np.array([1.0, 10.0, 50.0, 68.0, 80.0, 95.15, 95.2, 97.5, 99.5, 99.9, 99.99])
    got = _column(memory_con, "select z_crit(x) from grid order by x", levels)
    expected = stats.norm.ppf(0.5 + levels / 200.0)
    assert np.max(np.abs(got - expected) / expected) < 1e-8


def test_z_crit_defaults_to_95_and_rejects_impossible_levels(memory_con):
    default, zero, hundred = memory_con.execute("select z_crit(null), z_crit(0), z_crit(100)").fetchone()
    assert default == pytest.approx(1.959964, abs=5e-7)
    assert zero is None and hundred is None


def test_se_from_ci_follows_the_cochrane_formula(memory_con):
    ratio, difference, at_90, unstated = memory_con.execute(
        "select se_from_ci(0.72, 1.04, 95, true), se_from_ci(-0.1, 6.8, 95, false), "
        "se_from_ci(0.72, 1.04, 90, true), se_from_ci(0.72, 1.04, null, true)"
    ).fetchone()
    assert ratio == pytest.approx((np.log(1.04) - np.log(0.72)) / (2 * stats.norm.ppf(0.975)), rel=1e-8)
    assert difference == pytest.approx(6.9 / (2 * stats.norm.ppf(0.975)), rel=1e-8)
    assert at_90 == pytest.approx((np.log(1.04) - np.log(0.72)) / (2 * stats.norm.ppf(0.95)), rel=1e-8)
    assert unstated == pytest.approx(ratio)


@pytest.mark.parametrize(
    ("low", "high", "is_ratio"),
    [(0.0, 1.2, True), (-0.1, 1.2, True), (1.2, 0.8, True), (2.0, 1.0, False), (None, 1.0, True)],
)
def test_se_from_ci_is_null_for_unusable_intervals(memory_con, low, high, is_ratio):
    assert memory_con.execute("select se_from_ci(?, ?, 95, ?)", [low, high, is_ratio]).fetchone()[0] is None


def test_macros_work_in_a_database_attached_under_another_name(tmp_path):
    path = tmp_path / "trialfx.duckdb"
    with duckdb.connect(str(path)) as writer:
        models.install_macros(writer)
    with duckdb.connect() as reader:
        # ATTACH takes no parameters; the path is the test's own tmp_path, quoted as a literal.
        literal = "'" + str(path).replace("'", "''") + "'"
        reader.execute(f"attach {literal} as elsewhere (read_only)")
        qualified = reader.execute(
            "select elsewhere.main.p_from_z(1.959964), elsewhere.main.norm_cdf(0.0), "
            "elsewhere.main.z_crit(90), elsewhere.main.se_from_ci(0.46, 0.82, 95, true)"
        ).fetchone()
        reader.execute("use elsewhere")
        unqualified = reader.execute("select se_from_ci(0.46, 0.82, 95, true)").fetchone()[0]
    assert qualified[0] == pytest.approx(0.05, rel=1e-6)
    assert qualified[1] == pytest.approx(0.5, rel=1e-7)
    assert qualified[2] == pytest.approx(1.644854, abs=5e-7)
    assert qualified[3] == pytest.approx((np.log(0.82) - np.log(0.46)) / (2 * 1.959964), rel=1e-6)
    assert unqualified == pytest.approx(qualified[3])
