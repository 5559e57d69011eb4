"""The cohort curves (entity_cohort_curves, docs/metrics.md §9) of the hand-checked data set.

The expected rows and range totals are worked out by hand in pytests/tiny_dataset.py
(CURVE_CELLS on the edges set, which has a renewal; CURVE_RANGES on the tiny set, as
a release of it holds them); here they are checked against the dbt build and
against the on-demand path (python_hooks/on_demand.py), the independent
implementation that the validation gate compares the curves with.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import shutil

import duckdb
import pytest

import tiny_dataset
from conftest import fetch_dicts
from python_hooks import run_vars, validate
from python_hooks.on_demand import OnDemandMetrics

KEY = ("entity_type", "entity_id", "cohort_date", "days_since_cohort")
HORIZONS = [0, 7, 14, 30, 60, 90]


def _on_demand(build: dict, materialize: bool) -> OnDemandMetrics:
    return OnDemandMetrics(build["raw_dir"], start_date=tiny_dataset.START_DATE,
                           as_of_date=tiny_dataset.AS_OF_DATE, materialize=materialize)


def _expected(value):
    return Decimal(value) if isinstance(value, str) else value


@pytest.mark.parametrize("key", tiny_dataset.CURVE_CELLS, ids=lambda key: " ".join(map(str, key)))
def test_curve_row_worked_out_by_hand(edges_con, key):
    level, entity, day, horizon = key
    [row] = fetch_dicts(edges_con, "select * from entity_cohort_curves where entity_type = ? and entity_id = ? "
                                  "and cohort_date = ? and days_since_cohort = ?", [level, entity, day, horizon])
    expected = {column: _expected(value) for column, value in tiny_dataset.CURVE_CELLS[key].items()}
    assert {column: row[column] for column in expected} == expected


def test_the_on_demand_path_gives_the_rows_worked_out_by_hand(edges_build):
    with _on_demand(edges_build, materialize=False) as od:
        for (level, entity, day, horizon), expected in tiny_dataset.CURVE_CELLS.items():
            [rows] = od.cohort_curves_many(level, [(entity, day)], HORIZONS)
            [row] = [r for r in rows if r["days_since_cohort"] == horizon]
            for column, value in expected.items():
                assert validate.compare_value(column, _expected(value), row[column])[0], (level, entity, day,
                                                                                           horizon, column)


@pytest.mark.parametrize("build_name", ["tiny_build", "edges_build"])
def test_the_on_demand_path_gives_every_curve_row(build_name, request):
    """Every (entity, cohort day) of the build, on every horizon, by the rules of
    `precompute validate` (python_hooks/on_demand.py is the gate's second implementation)."""
    build = request.getfixturevalue(build_name)
    con = duckdb.connect(str(build["warehouse"]), read_only=True)
    stored = fetch_dicts(con, "select * from entity_cohort_curves order by all")
    con.close()
    cells = sorted({(r["entity_type"], r["entity_id"], r["cohort_date"]) for r in stored})
    with _on_demand(build, materialize=True) as od:
        on_demand = {}
        for level in ("campaign", "adset", "ad"):
            keys = [(eid, day) for lvl, eid, day in cells if lvl == level]
            for (eid, day), rows in zip(keys, od.cohort_curves_many(level, keys, HORIZONS)):
                on_demand.update({(level, eid, day, r["days_since_cohort"]): r for r in rows})
    assert len(on_demand) == len(stored)
    differ = [(tuple(row[k] for k in KEY), column, row[column], on_demand[tuple(row[k] for k in KEY)][column])
              for row in stored for column in validate.CURVE_COMPARED
              if not validate.compare_value(column, row[column], on_demand[tuple(row[k] for k in KEY)][column])[0]]
    assert differ == []


def test_the_validation_gate_compares_the_curves(tiny_build, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(tiny_build["warehouse"], warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("update entity_cohort_curves set refunds_usd = refunds_usd + 0.02 where refunds_usd > 0")
    con.close()
    gate = validate.run_gate(warehouse, 100, 0, raw_dir=tiny_build["raw_dir"])
    assert gate["error"] is None and gate["passed"] is False
    assert set(gate["mismatches_per_column"]) == {"refunds_usd"}
    assert {m["table"] for m in gate["mismatches"]} == {"entity_cohort_curves"}


def test_every_entity_day_has_every_horizon(tiny_con):
    [(curve_rows, daily_rows, horizons)] = tiny_con.execute("""
        select (select count(*) from entity_cohort_curves), (select count(*) from entity_daily_metrics),
               (select list(distinct days_since_cohort order by days_since_cohort) from entity_cohort_curves)
    """).fetchall()
    assert horizons == [0, 7, 14, 30, 60, 90]
    assert curve_rows == daily_rows * len(horizons)


def test_a_trial_and_a_purchase_of_one_product_on_one_day_are_one_pair(edges_con):
    # d12 (ad refund_once): trial 08:00, purchase 6.00 09:00, conversion 7.00 10:00, refund
    # 7.00 11:00 of prod_d on 01-02: one cohort pair from 08:00; 6.00 + 7.00 - 7.00; no spend.
    [row] = fetch_dicts(edges_con, "select * from entity_cohort_curves where entity_type = 'ad' "
                                   "and entity_id = 'refund_once' and cohort_date = '2025-01-02' "
                                   "and days_since_cohort = 0")
    assert (row["cohort_pair_count"], row["gross_revenue_usd"], row["refunds_usd"], row["net_revenue_usd"],
            row["cohort_roas"]) == (1, Decimal("13.00"), Decimal("7.00"), Decimal("6.00"), Decimal("0.0000"))


@pytest.mark.parametrize("key", tiny_dataset.CURVE_RANGES, ids=lambda key: " ".join(key))
def test_range_values_worked_out_by_hand(tiny_con, key):
    """The hand-worked range totals that the read API is checked against agree with the
    stored rows: per N, sums over the complete rows, ROAS and the payback day."""
    level, entity, start, end = key
    rows = fetch_dicts(tiny_con, """
        select
            days_since_cohort,
            count(*) as cohort_days,
            count(*) filter (where is_complete) as complete_cohort_days,
            coalesce(sum(net_revenue_usd) filter (where is_complete), 0) as net_revenue_usd,
            coalesce(sum(meta_spend) filter (where is_complete), 0) as meta_spend
        from entity_cohort_curves
        where entity_type = ? and entity_id = ? and cohort_date between ? and ?
        group by days_since_cohort
        order by days_since_cohort""", [level, entity, start, end])
    expected = tiny_dataset.CURVE_RANGES[key]
    by_horizon = {row["days_since_cohort"]: row for row in rows}
    roas = {}
    for horizon, row in by_horizon.items():
        assert row["cohort_days"] == expected["cohort_days"]
        if row["complete_cohort_days"] == 0:
            roas[horizon] = None
        else:
            roas[horizon] = (row["net_revenue_usd"] / row["meta_spend"] if row["meta_spend"] else Decimal(0)
                             ).quantize(Decimal("0.0001"))
    for horizon, values in expected["horizons"].items():
        row = by_horizon[horizon]
        expected_roas = values["cohort_roas"]
        assert roas[horizon] == (None if expected_roas is None else Decimal(expected_roas)), horizon
        assert row["complete_cohort_days"] == values["complete_cohort_days"], horizon
        for column in ("net_revenue_usd", "meta_spend"):
            if column in values:
                assert row[column] == Decimal(values[column]), (horizon, column)
    payback = min((h for h, value in roas.items() if value is not None and value >= 1), default=None)
    assert payback == expected["payback_days"]


@pytest.mark.parametrize("value", [[], ["x"], [-1], "a,b", [True], 7])
def test_precompute_run_refuses_bad_horizons_before_dbt_starts(value):
    with pytest.raises(run_vars.VarError, match="cohort_horizons"):
        run_vars.check_vars({"cohort_horizons": value}, {"cohort_horizons": [0, 7]})
    assert run_vars.check_vars({"cohort_horizons": [30, 0]}, {}) == {"cohort_horizons": [30, 0]}
