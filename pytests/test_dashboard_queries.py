"""The dashboard queries of analyses/, compiled by dbt and run with parameters
against the tiny warehouse. Expected values are worked out by hand from
pytests/tiny_dataset.py (see test_pipeline_end_to_end.py for the daily rows)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from conftest import run_dbt, tiny_vars

D = Decimal


@pytest.fixture(scope="module")
def compiled(tiny_build, tmp_path_factory) -> dict[str, str]:
    # Compile against a scratch file with the warehouse's name (so the compiled
    # "warehouse"."main" qualifiers match): the real file is open read-only by
    # tiny_con, and DuckDB allows one writer or many readers, never both.
    target = tmp_path_factory.mktemp("analyses_target")
    run_dbt(["compile", "--select", "resource_type:analysis", "--vars", tiny_vars(tiny_build["raw_dir"])],
            duckdb_path=target / "warehouse.duckdb", target_path=target)
    folder = target / "compiled" / "ad_precompute" / "analyses"
    return {path.stem: path.read_text() for path in folder.glob("*.sql")}


def run(con, sql: str, params: list):
    return con.execute(sql, params).fetchall()


def run_dicts(con, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_every_query_compiles(compiled):
    # the spec's five dashboard queries, and the read API's (python_hooks/api/; test_api.py)
    assert set(compiled) == {
        "dashboard_single_entity_day", "dashboard_date_range_totals", "dashboard_overall_and_country_14_days",
        "dashboard_row_sparkline_14_days", "dashboard_overview_sparkline_28_days",
        "api_entity_table", "api_entity_names", "api_entity_daily_rows", "api_entity_sparkline",
        "api_overview_sparkline", "api_entity_user_list", "api_level_sparklines",
        "api_quality_checks", "api_source_freshness",
        "api_entity_range_totals", "api_level_range_totals", "api_entity_curve",
    }


def test_single_entity_day(compiled, tiny_con):
    rows = run(tiny_con, compiled["dashboard_single_entity_day"], ["ad", "000777", date(2025, 1, 2)])
    assert len(rows) == 1 and rows[0][3] == D("10.00")   # meta_spend, 4th column


def test_range_totals_recompute_ratios_from_sums(compiled, tiny_con):
    # c1: spend 15.50 on 01-02 only; trials u1, u2 (01-02) + u6 (01-09) = 3; Meta trials 4
    (row,) = run_dicts(tiny_con, compiled["dashboard_date_range_totals"],
                       ["campaign", "c1", date(2025, 1, 1), date(2025, 1, 10)])
    assert (row["meta_spend"], row["meta_trial_count"], row["mixpanel_trial_count"],
            row["mixpanel_purchase_count"]) == (D("15.50"), 4, 3, 1)
    assert row["trial_accuracy_ratio"] == pytest.approx(75.0)   # 3 / 4 * 100, not an average of days


def test_overall_and_country_breakdown_in_one_query(compiled, tiny_con):
    rows = run_dicts(tiny_con, compiled["dashboard_overall_and_country_14_days"],
                     ["campaign", "c1", date(2025, 1, 1), date(2025, 1, 14)])
    # overall first, then countries by spend: US 7.00 (000777), DE 5.50 (777), ZZ 3.00 (Atlantis)
    assert [(r["breakdown_type"], r["country"], r["total_spend"]) for r in rows] == [
        ("all", "ALL", D("15.50")), ("country", "US", D("7.00")),
        ("country", "DE", D("5.50")), ("country", "ZZ", D("3.00")),
    ]
    # trials: overall 3 (u1, u2, u6); US 1 (u1), DE 0, ZZ 2 (u2 on 01-02, u6 on 01-09)
    assert [r["total_trials"] for r in rows] == [3, 1, 0, 2]


def test_row_sparkline_reads_the_days_in_order(compiled, tiny_con):
    rows = run(tiny_con, compiled["dashboard_row_sparkline_14_days"], ["ad", "000777", date(2025, 1, 10)])
    # 14 days back from 01-10 reach 12-28, but the window starts 01-01: 10 rows
    assert [r[0] for r in rows] == [date(2025, 1, d) for d in range(1, 11)]


def test_overview_sparkline_sums_one_level(compiled, tiny_con):
    rows = run(tiny_con, compiled["dashboard_overview_sparkline_28_days"], ["campaign", date(2025, 1, 10)])
    spend = {r[0]: r[1] for r in rows}
    assert len(rows) == 10 and spend[date(2025, 1, 2)] == D("15.50")   # not 3 x 15.50


def test_maturing_parts_count_the_cohorts_younger_than_refund_maturity_days(tiny_build, tiny_con, tmp_path):
    # docs/metrics.md §8: a row whose date is after as_of_date - refund_maturity_days counts its
    # converted users and purchases as maturing. c1 on 01-02: converted u1, purchase u6. In the
    # tiny build (as_of 01-10, default 14 days: cohorts after 2024-12-27 are young) both are.
    key = "entity_type = 'campaign' and entity_id = 'c1' and date = '2025-01-02'"
    stored = tiny_con.execute("select maturing_converted_user_count, maturing_mixpanel_purchase_count "
                              f"from entity_daily_range_parts where {key}").fetchone()
    assert stored == (1, 1)
    # The model's compiled SQL on the same mart rows with other windows: a cutoff of 01-02 makes the
    # 01-02 cohorts mature, 01-01 keeps them young.
    sql = (tiny_build["root"] / "target" / "compiled" / "ad_precompute" / "models" / "marts" / "range_parts"
           / "entity_daily_range_parts.sql").read_text()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))   # the catalog the compiled SQL names
    try:
        con.execute(f"attach '{tiny_build['warehouse']}' as tiny (read_only)")
        con.execute(f"create table entity_daily_metrics as select * from tiny.entity_daily_metrics where {key}")
        for cutoff, expected in (("2025-01-02", (0, 0)), ("2025-01-01", (1, 1))):
            con.execute("create or replace table int_reporting_window_resolved as select * replace "
                        f"(cast('{cutoff}' as date) as last_mature_refund_cohort_date) "
                        "from tiny.int_reporting_window_resolved")
            (row,) = run_dicts(con, sql, [])
            assert (row["maturing_converted_user_count"], row["maturing_mixpanel_purchase_count"]) == expected, cutoff
    finally:
        con.close()


def test_a_curve_pays_back_on_the_first_horizon_whose_range_roas_reaches_one(compiled, edges_con):
    # EDGES adds u1's renewal of prod_w on 01-09 (19.99, D + 7 of its 01-02 trial). Ad 000777's
    # cohort of 01-02 (u1, u2) earns nothing at D0 and 9.99 + 19.99 - (9.99 + 1.00) = 18.99 by D7,
    # against 10.00 of spend (tiny_dataset.CURVE_CELLS); D14 and later are not complete on 01-10.
    # So the range 01-02 .. 01-02 pays back on day 7, not 0 (and not 14: the first horizon wins).
    rows = run_dicts(edges_con, compiled["api_entity_curve"], ["ad", "000777", date(2025, 1, 2), date(2025, 1, 2)])
    assert [(r["days_since_cohort"], r["cohort_roas"], r["complete_cohort_days"]) for r in rows[:3]] == [
        (0, 0.0, 1), (7, pytest.approx(18.99 / 10.00), 1), (14, None, 0)]
    assert {r["payback_days"] for r in rows} == {7}
