"""The source checks (docs/metrics.md §1 source types and empty tables, the
optional id_name_mapping; §2 rejects; §5 types), on mutated copies of the tiny
hand-written data set (pytests/tiny_dataset.py).

Few dbt runs: one run on broken inputs (it stops in on-run-start, in seconds),
one pre-flight `run-operation`, one build with an allowed empty table, and the
shared build of tiny_dataset.EDGES, which holds every reject case and edge value
at once (its metric values are checked in test_metrics.py).
Expected values are worked out by hand in the comments; none is copied from
the code under test.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

import tiny_dataset
from conftest import run_dbt, tiny_vars

D = Decimal
JAN_4 = date(2025, 1, 4)


def _tiny(table: str) -> str:
    return tiny_dataset.TABLES[table]


# --- broken inputs: stop before any model ---------------------------------------------

BROKEN_INPUTS = {
    # ids stored as numbers: leading zeros are lost (docs/metrics.md §1)
    "ad_performance_daily_country": f"""
        select * replace (cast(777 as bigint) as ad_id) from ({_tiny('ad_performance_daily_country')})
    """,
    # a table with its columns but no rows
    "ad_performance_daily": f"select * from ({_tiny('ad_performance_daily')}) where false",
    # DOUBLE where BOOLEAN is expected
    "mixpanel_user": f"""
        select * replace (cast(has_abi_attribution as double) as has_abi_attribution)
        from ({_tiny('mixpanel_user')})
    """,
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("broken_inputs")
    raw = tiny_dataset.write(root / "raw", overrides=BROKEN_INPUTS)
    warehouse = root / "warehouse.duckdb"
    result = run_dbt(["build", "--vars", tiny_vars(raw)], duckdb_path=warehouse,
                     target_path=root / "target", check=False)
    return {"raw": raw, "warehouse": warehouse, "result": result, "root": root}


def test_integer_id_column_names_file_column_expected_and_found_type(broken_run):
    raw = broken_run["raw"]
    assert broken_run["result"].returncode != 0
    assert (f"source meta_ads.ad_performance_daily_country ({raw}/ad_performance_daily_country.parquet): "
            "column 'ad_id' has type BIGINT, expected VARCHAR "
            "(an id must be text: a number loses its leading zeros)") in broken_run["result"].stdout


def test_empty_source_is_an_error_naming_it(broken_run):
    raw = broken_run["raw"]
    assert (f"source meta_ads.ad_performance_daily ({raw}/ad_performance_daily.parquet): has no rows"
            in broken_run["result"].stdout)


def test_double_where_boolean_expected(broken_run):
    assert ("mixpanel_user.parquet): column 'has_abi_attribution' has type DOUBLE, expected BOOLEAN"
            in broken_run["result"].stdout)


def test_all_problems_in_one_error_and_no_model_ran(broken_run):
    stdout = broken_run["result"].stdout
    assert stdout.count("Source contract violated") == 1
    assert "START sql" not in stdout and "OK created" not in stdout
    if broken_run["warehouse"].exists():
        con = duckdb.connect(str(broken_run["warehouse"]), read_only=True)
        try:
            assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0
            assert con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
        finally:
            con.close()


def test_preflight_run_operation_reports_the_same_problems(broken_run):
    root = broken_run["root"]
    result = run_dbt(["run-operation", "check_source_contract", "--vars", tiny_vars(broken_run["raw"])],
                     duckdb_path=root / "preflight.duckdb", target_path=root / "preflight_target", check=False)
    assert result.returncode != 0
    assert "column 'ad_id' has type BIGINT, expected VARCHAR" in result.stdout
    assert "ad_performance_daily.parquet): has no rows" in result.stdout


def test_an_allowed_empty_source_builds(tmp_path):
    raw = tiny_dataset.write(tmp_path / "raw", overrides={
        "ad_performance_daily": BROKEN_INPUTS["ad_performance_daily"]})
    warehouse = tmp_path / "warehouse.duckdb"
    run_dbt(["build", "--vars", tiny_vars(raw, allow_empty_sources=["ad_performance_daily"])],
            duckdb_path=warehouse, target_path=tmp_path / "target")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        spend, rows = con.execute("select sum(meta_spend), count(*) from entity_daily_metrics").fetchone()
    finally:
        con.close()
    # no daily Meta rows: no spend in the overall table; the 10 entities of the
    # tiny set minus `orphan` (only in the daily Meta table) x 10 days
    assert (spend, rows) == (D("0.00"), 90)


# --- one build with every reject case and edge value ------------------------------------

def test_v2_source_types_are_as_written(edges_build):
    # the data set really has the widened and TIMESTAMPTZ types the tests rely on
    con = duckdb.connect()
    try:
        types = {
            (table, name): kind
            for table in ("mixpanel_event", "ad_performance_daily", "ad_performance_daily_country")
            for name, kind, *_ in con.execute(
                f"describe select * from '{edges_build['raw_dir']}/{table}.parquet'").fetchall()
        }
    finally:
        con.close()
    assert types[("mixpanel_event", "event_time")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("ad_performance_daily", "impressions")] == "INTEGER"
    assert types[("ad_performance_daily_country", "date")] == "TIMESTAMP"
    assert types[("ad_performance_daily_country", "clicks")] == "UINTEGER"


def test_every_reject_has_its_reason(edges_con):
    counts = {(t, r): n for t, r, n in edges_con.execute("""
        select source_table, reject_reason, count(*) from int_source_rows_rejected group by all""").fetchall()}
    assert counts == tiny_dataset.REJECTS | {
        # docs/metrics.md §2
        ("ad_performance_daily", "negative_measure"): 2,         # tiny's a2 -1.00, negm impressions -3
        ("ad_performance_daily", "non_finite_measure"): 3,       # NaN, +Inf, -Inf spend
        ("ad_performance_daily_country", "non_finite_measure"): 1,
        ("mixpanel_event", "null_event_uuid"): 1,
        ("mixpanel_event", "empty_event_uuid"): 1,
        ("mixpanel_event", "null_event_name"): 1,
        ("mixpanel_event", "empty_event_name"): 1,
        ("mixpanel_event", "null_event_time"): 2,                # both copies: not a duplicate delivery
        ("mixpanel_event", "non_finite_revenue"): 3,             # e_nan, e_inf, the NaN copy of e30
        ("user_product_metrics", "rate_out_of_range"): 3,        # acc_000 1.5, -0.1, 1.2
        ("user_product_metrics", "non_finite_rate"): 2,
        ("user_product_metrics", "negative_current_value"): 1,
        ("user_product_metrics", "non_finite_current_value"): 2,
        ("id_name_mapping", "null_key"): 2,
        ("id_name_mapping", "unknown_entity_type"): 1,
        ("id_name_mapping", "conflicting_canonical_name"): 2,
        ("id_name_mapping", "exact_duplicate"): 1,
    }


def test_a_rejected_row_is_kept_whole(edges_con):
    records = [r[0] for r in edges_con.execute("""
        select source_record from int_source_rows_rejected
        where source_table = 'user_product_metrics' and source_record like 'distinct_id=acc_000;%'""").fetchall()]
    assert records == ["distinct_id=acc_000; product_id=prod_acc; trial_conversion_rate=1.5; "
                       "trial_converted_to_refund_rate=0.1; initial_purchase_to_refund_rate=0.1; "
                       "current_value_usd=150.0"]


def test_timestamptz_events_are_taken_in_utc(edges_con):
    # tz_e1 is 2025-01-04 23:30 UTC (08:30 on 01-05 in Tokyo): its cohort day is 01-04
    event_time, event_date = edges_con.execute(
        "select event_time, event_date from stg_mixpanel__mixpanel_event where event_uuid = 'tz_e1'").fetchone()
    assert (event_time, event_date) == (datetime(2025, 1, 4, 23, 30), JAN_4)


def test_user_country_is_trimmed_and_upper_cased(edges_con):
    # the 100 acc users have country ' us'; blank_country has '   '
    codes = dict(edges_con.execute("""
        select distinct_id, country_code from stg_mixpanel__mixpanel_user
        where distinct_id in ('acc_000', 'acc_099', 'blank_country', 'tz_user')""").fetchall())
    assert codes == {"acc_000": "US", "acc_099": "US", "blank_country": "ZZ", "tz_user": "DE"}


@pytest.mark.parametrize("table", ["entity_daily_metrics", "entity_country_breakdown"])
def test_mart_types_follow_contract_v2(edges_con, table):
    columns = edges_con.execute(f"""
        select column_name, data_type from information_schema.columns
        where table_name = '{table}' order by ordinal_position""").fetchall()
    types = dict(columns)
    names = [name for name, _ in columns]
    for name in ("meta_spend", "actual_revenue_usd", "net_actual_revenue_usd", "profit_usd",
                 "adjusted_estimated_revenue_usd", "mixpanel_cost_per_trial", "meta_cost_per_purchase"):
        assert types[name] == "DECIMAL(18,2)", name
    for name in ("trial_accuracy_ratio", "purchase_accuracy_ratio", "click_to_trial_rate", "estimated_roas"):
        assert types[name] == "DECIMAL(18,4)", name
    assert types["trial_conversion_rate_estimated"] == "DECIMAL(5,4)"
    assert types["data_quality_score"] == "DECIMAL(3,2)"
    after_rates = names.index("purchase_refund_rate_actual") + 1
    assert names[after_rates:after_rates + 3] == [
        "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
        "purchase_refund_estimate_pair_count"]
    assert {types[n] for n in names[after_rates:after_rates + 3]} == {"INTEGER"}


def test_entity_names_use_the_mapping_when_present(edges_con):
    names = {(t, i): n for t, i, n in edges_con.execute(
        "select entity_type, entity_id, entity_name from entity_names").fetchall()}
    assert names == {
        ("ad", "000777"): "Ad 000777", ("ad", "777"): "Seven", ("ad", "a2"): "a2",
        ("ad", "acc"): "acc", ("ad", "country_only"): "country_only", ("ad", "ghost"): "ghost",
        ("ad", "nullm"): "nullm", ("ad", "orphan"): "orphan", ("ad", "refund_once"): "refund_once",
        ("adset", "as1"): "as1",            # empty name: its id
        ("adset", "as2"): "as2",            # two names, both rejected: its id
        ("campaign", "c1"): "Campaign One", ("campaign", "c2"): "c2", ("campaign", "c9"): "c9",
    }


def test_entity_names_without_the_mapping_are_the_ids(tiny_build, tiny_con):
    assert not (tiny_build["raw_dir"] / "id_name_mapping.parquet").exists()
    assert tiny_con.execute("select count(*) from stg_meta_ads__id_name_mapping").fetchone()[0] == 0
    rows = tiny_con.execute("select entity_type, entity_id, entity_name from entity_names").fetchall()
    # the 10 entities of the tiny set (test_pipeline_end_to_end.py), each named by its id
    assert len(rows) == 10 and all(name == entity_id for _, entity_id, name in rows)
