"""The cohort curves (entity_cohort_curves, docs/metrics.md §9) of the hand-checked data set.

The expected rows and range totals are worked out by hand in pytests/tiny_dataset.py
(CURVE_CELLS, CURVE_RANGES); here they are checked against the dbt build and
against the on-demand path (python_hooks/on_demand.py), the independent
implementation that the validation gate compares the curves with.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import tiny_dataset
from conftest import fetch_dicts

KEY = ("entity_type", "entity_id", "cohort_date", "days_since_cohort")


def _expected(value):
    return Decimal(value) if isinstance(value, str) else value


@pytest.mark.parametrize("key", tiny_dataset.CURVE_CELLS, ids=lambda key: " ".join(map(str, key)))
def test_curve_row_worked_out_by_hand(tiny_con, key):
    level, entity, day, horizon = key
    [row] = fetch_dicts(tiny_con, "select * from entity_cohort_curves where entity_type = ? and entity_id = ? "
                                  "and cohort_date = ? and days_since_cohort = ?", [level, entity, day, horizon])
    expected = {column: _expected(value) for column, value in tiny_dataset.CURVE_CELLS[key].items()}
    assert {column: row[column] for column in expected} == expected


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
        assert roas[horizon] == (None if values["roas"] is None else Decimal(values["roas"])), horizon
        assert row["complete_cohort_days"] == values["complete_cohort_days"], horizon
        for column in ("net_revenue_usd", "meta_spend"):
            if column in values:
                assert row[column] == Decimal(values[column]), (horizon, column)
    payback = min((h for h, value in roas.items() if value is not None and value >= 1), default=None)
    assert payback == expected["payback_days"]
