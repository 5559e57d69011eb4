"""Metric contract v2 on the inputs (§1 source types and empty tables, the
optional id_name_mapping; §2 rejects; §5 types), on mutated copies of the tiny
hand-written data set (pytests/tiny_dataset.py).

Few dbt runs: one run on broken inputs (it stops in on-run-start, in seconds),
one pre-flight `run-operation`, one build with an allowed empty table, and one
build of a data set that holds every new reject case and edge value at once.
Expected values are worked out by hand in the comments; none is copied from
the code under test.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

import tiny_dataset
from conftest import fetch_dicts, run_dbt, tiny_vars

D = Decimal
JAN_4 = date(2025, 1, 4)


def _tiny(table: str) -> str:
    return tiny_dataset.TABLES[table]


# --- broken inputs: stop before any model ---------------------------------------------

BROKEN_INPUTS = {
    # ids stored as numbers: leading zeros are lost (contract §1)
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

ACC_USERS = "select 'acc_' || lpad(cast(i as varchar), 3, '0') as distinct_id, i from range(100) as t(i)"

V2_INPUTS = {
    # widened types: impressions INTEGER (BIGINT expected)
    "ad_performance_daily": f"""
        select * replace (cast(impressions as integer) as impressions) from (
            {_tiny('ad_performance_daily')}
            union all
            select ad_id, cast(date as date), spend, impressions, clicks, meta_trials, meta_purchases
            from (values
                ('acc',   '2025-01-04', 0.01,                     100,  10,   1, 0),  -- 1 cent, 1 Meta trial
                ('nullm', '2025-01-04', null,                     100,  null, 0, 0),  -- NULL measures: kept as 0
                ('nanm',  '2025-01-04', cast('nan' as double),    1,    1,    0, 0),
                ('infm',  '2025-01-04', cast('inf' as double),    1,    1,    0, 0),
                ('ninfm', '2025-01-04', cast('-inf' as double),   1,    1,    0, 0),
                ('negm',  '2025-01-04', 1.0,                      -3,   0,    0, 0)
            ) as t(ad_id, date, spend, impressions, clicks, meta_trials, meta_purchases)
        )
    """,
    # widened types: date TIMESTAMP (DATE expected), clicks UINTEGER (BIGINT expected)
    "ad_performance_daily_country": f"""
        select * replace (cast(date as timestamp) as date, cast(clicks as uinteger) as clicks) from (
            {_tiny('ad_performance_daily_country')}
            union all
            select ad_id, cast(date as date), country, spend, impressions, clicks, meta_trials, meta_purchases
            from (values
                ('acc',   '2025-01-04', 'United States', 0.01,                  100, 10,   1, 0),
                ('nullm', '2025-01-04', 'Germany',       null,                  100, null, 0, 0),
                ('nanm',  '2025-01-04', 'Germany',       cast('nan' as double), 1,   1,    0, 0)
            ) as t(ad_id, date, country, spend, impressions, clicks, meta_trials, meta_purchases)
        )
    """,
    "mixpanel_user": f"""
        {_tiny('mixpanel_user')}
        union all
        select distinct_id, null, null, 'acc', true, ' us' from ({ACC_USERS})
        union all
        select * from (values
            ('tz_user',       null, null, 'nullm', true, 'DE'),
            ('blank_country', null, null, 'nullm', true, '   ')
        )
    """,
    # event_time is TIMESTAMPTZ for the whole file; every instant is given in UTC
    "mixpanel_event": f"""
        select * replace (cast(strftime(event_time, '%Y-%m-%d %H:%M:%S') || '+00' as timestamptz) as event_time)
        from (
            {_tiny('mixpanel_event')}
            union all
            select 'acc_e' || lpad(cast(i as varchar), 3, '0'), distinct_id, 'RC Trial started',
                   timestamp '2025-01-04 12:00:00', 'prod_acc', cast(null as double)
            from ({ACC_USERS})
            union all
            select event_uuid, distinct_id, event_name, cast(event_time as timestamp), product_id,
                   cast(revenue_usd as double)
            from (values
                ('tz_e1',       'tz_user',       'RC Trial started',    '2025-01-04 23:30:00', 'prod_w', null),
                ('blank_e1',    'blank_country', 'RC Trial started',    '2025-01-04 10:00:00', 'prod_w', null),
                (null,          'u1',            'RC Trial started',    '2025-01-03 10:00:00', 'prod_w', null),
                ('',            'u1',            'RC Trial started',    '2025-01-03 10:00:00', 'prod_w', null),
                ('e_nullname',  'u1',            null,                  '2025-01-03 10:00:00', 'prod_w', null),
                ('e_emptyname', 'u1',            '',                    '2025-01-03 10:00:00', 'prod_w', null),
                ('e_nulltime',  'u1',            'RC Trial started',    null,                  'prod_w', null),
                ('e_nulltime',  'u1',            'RC Trial started',    null,                  'prod_w', null),
                ('e_nan',       'u6',            'RC Initial purchase', '2025-01-05 10:00:00', 'prod_y', 'nan'),
                ('e_inf',       'u6',            'RC Initial purchase', '2025-01-05 11:00:00', 'prod_y', '-inf'),
                -- a bad copy of u3's purchase e30 that sorts first: it must not hide the good one
                ('e30',         'u3',            'RC Initial purchase', '2025-01-02 08:00:00', 'prod_a', 'nan')
            ) as t(event_uuid, distinct_id, event_name, event_time, product_id, revenue_usd)
        )
    """,
    "user_product_metrics": f"""
        {_tiny('user_product_metrics')}
        union all
        select distinct_id, 'prod_acc',
               case when i = 0 then 1.5 else 0.5 end,   -- acc_000: rate 1.5, rejected
               0.1, 0.1, 150.0
        from ({ACC_USERS})
        union all
        select distinct_id, product_id, cast(r1 as double), cast(r2 as double), cast(r3 as double),
               cast(cv as double)
        from (values
            ('u1',      'prod_rate_neg', '-0.1', '0.1', '0.1', '1'),
            ('u1',      'prod_rate_big', '0.1',  '0.1', '1.2', '1'),
            ('u1',      'prod_rate_nan', 'nan',  '0.1', '0.1', '1'),
            ('u1',      'prod_rate_inf', '0.1',  'inf', '0.1', '1'),
            ('u1',      'prod_cv_neg',   '0.1',  '0.1', '0.1', '-5'),
            ('u1',      'prod_cv_nan',   '0.1',  '0.1', '0.1', 'nan'),
            ('u1',      'prod_cv_inf',   '0.1',  '0.1', '0.1', 'inf'),
            ('tz_user', 'prod_w',        null,   null,  null,  null)     -- NULLs are kept
        ) as t(distinct_id, product_id, r1, r2, r3, cv)
    """,
    "id_name_mapping": """
        select * from (values
            ('campaign', 'c1',            'Campaign One'),
            ('ad',       '000777',        'Ad 000777'),
            ('adset',    'as1',           ''),              -- empty: named by its id
            ('ad',       '777',           'Seven'),
            ('ad',       '777',           'Seven'),         -- exact duplicate
            ('adset',    'as2',           'Two A'),         -- two names: both rejected
            ('adset',    'as2',           'Two B'),
            ('Campaign', 'c2',            'x'),             -- not campaign / adset / ad
            (null,       'c9',            'x'),
            ('ad',       '',              'x'),
            ('ad',       'not_an_entity', 'Zed')            -- kept, but no mart entity
        ) as t(entity_type, entity_id, canonical_name)
    """,
}


@pytest.fixture(scope="module")
def v2_build(tmp_path_factory) -> dict:
    """The v2 data set built once. The machine's zone is Asia/Tokyo (UTC+9): a
    TIMESTAMPTZ read in the session's local zone would move late-evening
    events to the next day."""
    root = tmp_path_factory.mktemp("v2_build")
    raw = tiny_dataset.write(root / "raw", overrides=V2_INPUTS)
    warehouse = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Tokyo")
        run_dbt(["build", "--vars", tiny_vars(raw)], duckdb_path=warehouse, target_path=root / "target")
    return {"raw": raw, "warehouse": warehouse}


@pytest.fixture(scope="module")
def v2_con(v2_build):
    con = duckdb.connect(str(v2_build["warehouse"]), read_only=True)
    yield con
    con.close()


def test_v2_source_types_are_as_written(v2_build):
    # the data set really has the widened and TIMESTAMPTZ types the tests rely on
    con = duckdb.connect()
    try:
        types = {
            (table, name): kind
            for table in ("mixpanel_event", "ad_performance_daily", "ad_performance_daily_country")
            for name, kind, *_ in con.execute(
                f"describe select * from '{v2_build['raw']}/{table}.parquet'").fetchall()
        }
    finally:
        con.close()
    assert types[("mixpanel_event", "event_time")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("ad_performance_daily", "impressions")] == "INTEGER"
    assert types[("ad_performance_daily_country", "date")] == "TIMESTAMP"
    assert types[("ad_performance_daily_country", "clicks")] == "UINTEGER"


def test_every_reject_has_its_reason(v2_con):
    counts = dict(v2_con.execute("""
        select source_table || ':' || reject_reason, count(*) from int_source_rows_rejected
        group by all""").fetchall())
    assert counts == {
        # the tiny data set's own rejects (test_pipeline_end_to_end.py)
        "ad_performance_daily:exact_duplicate": 1,
        "ad_performance_daily:outside_reporting_window": 1,
        "ad_performance_daily_country:exact_duplicate": 1,
        "id_hierarchy_mapping:exact_duplicate": 1,
        "mixpanel_user:comma_in_distinct_id": 1,
        "mixpanel_user:null_distinct_id": 1,
        "mixpanel_event:comma_in_distinct_id": 1,
        "mixpanel_event:null_distinct_id": 1,
        "mixpanel_event:duplicate_delivery": 1,
        "mixpanel_event:after_as_of_date": 1,
        # contract v2 §2
        "ad_performance_daily:negative_measure": 2,          # tiny's a2 -1.00, negm impressions -3
        "ad_performance_daily:non_finite_measure": 3,        # NaN, +Inf, -Inf spend
        "ad_performance_daily_country:non_finite_measure": 1,
        "mixpanel_event:null_event_uuid": 1,
        "mixpanel_event:empty_event_uuid": 1,
        "mixpanel_event:null_event_name": 1,
        "mixpanel_event:empty_event_name": 1,
        "mixpanel_event:null_event_time": 2,                 # both copies: not a duplicate delivery
        "mixpanel_event:non_finite_revenue": 3,              # e_nan, e_inf, the NaN copy of e30
        "user_product_metrics:rate_out_of_range": 3,         # acc_000 1.5, -0.1, 1.2
        "user_product_metrics:non_finite_rate": 2,
        "user_product_metrics:negative_current_value": 1,
        "user_product_metrics:non_finite_current_value": 2,
        "id_name_mapping:null_key": 2,
        "id_name_mapping:unknown_entity_type": 1,
        "id_name_mapping:conflicting_canonical_name": 2,
        "id_name_mapping:exact_duplicate": 1,
    }


def test_a_rejected_row_is_kept_whole(v2_con):
    records = [r[0] for r in v2_con.execute("""
        select source_record from int_source_rows_rejected
        where source_table = 'user_product_metrics' and source_record like 'distinct_id=acc_000;%'""").fetchall()]
    assert records == ["distinct_id=acc_000; product_id=prod_acc; trial_conversion_rate=1.5; "
                       "trial_converted_to_refund_rate=0.1; initial_purchase_to_refund_rate=0.1; "
                       "current_value_usd=150.0"]


def test_a_bad_copy_does_not_hide_the_good_delivery(v2_con):
    # u3's purchase e30 (49.99 on 01-02) still counts on its campaign c9
    row = fetch_dicts(v2_con, "select * from entity_daily_metrics where entity_id = 'c9' and date = '2025-01-02'")[0]
    assert (row["purchase_user_ids"], row["actual_revenue_usd"]) == ("u3", D("49.99"))


def test_timestamptz_events_are_taken_in_utc(v2_con):
    # tz_e1 is 2025-01-04 23:30 UTC (08:30 on 01-05 in Tokyo): its cohort day is 01-04
    event_time, event_date = v2_con.execute(
        "select event_time, event_date from stg_mixpanel__mixpanel_event where event_uuid = 'tz_e1'").fetchone()
    assert (event_time, event_date) == (datetime(2025, 1, 4, 23, 30), JAN_4)
    # the tiny events keep their UTC days too: u5's trial at 01-02 23:59:59 is in the 01-02 cohort
    row = fetch_dicts(v2_con, "select * from entity_daily_metrics where entity_id = '777' and date = '2025-01-02'")[0]
    assert row["trial_user_ids"] == "u5"


def test_null_meta_measures_are_kept_and_count_as_zero(v2_con):
    # nullm 01-04: spend and clicks NULL, impressions 100; users tz_user and blank_country
    row = fetch_dicts(v2_con, "select * from entity_daily_metrics where entity_id = 'nullm' and date = '2025-01-04'")[0]
    assert (row["meta_spend"], row["meta_impressions"], row["meta_clicks"]) == (D("0.00"), 100, 0)
    assert row["trial_user_ids"] == "blank_country,tz_user"
    # tz_user has a metrics row with NULL rates, blank_country none: no pair enters the mean
    assert (row["trial_conversion_estimate_pair_count"], row["trial_conversion_rate_estimated"]) == (0, D("0"))


def test_user_country_is_trimmed_and_upper_cased(v2_con):
    # the 100 acc users have country ' us'; blank_country has '   '
    codes = dict(v2_con.execute("""
        select distinct_id, country_code from stg_mixpanel__mixpanel_user
        where distinct_id in ('acc_000', 'acc_099', 'blank_country', 'tz_user')""").fetchall())
    assert codes == {"acc_000": "US", "acc_099": "US", "blank_country": "ZZ", "tz_user": "DE"}
    by_country = dict(v2_con.execute("""
        select country_code, mixpanel_trial_count from entity_country_breakdown
        where entity_id = 'acc' and date = '2025-01-04'""").fetchall())
    assert by_country == {"US": 100}


@pytest.mark.parametrize("table", ["entity_daily_metrics", "entity_country_breakdown"])
def test_huge_accuracy_and_roas_fit_their_types(v2_con, table):
    # ad acc on 01-04: Meta 1 trial, 0.01 spend, 10 clicks; 100 Mixpanel trials (acc_000..acc_099).
    # Metrics rows: acc_001..acc_099 (current_value 150, rate 0.5); acc_000's is rejected (rate 1.5).
    row = fetch_dicts(v2_con, f"select * from {table} where entity_id = 'acc' and date = '2025-01-04'")[0]
    assert {k: row[k] for k in (
        "meta_spend", "meta_trial_count", "mixpanel_trial_count", "trial_accuracy_ratio",
        "estimated_revenue_usd", "adjusted_estimated_revenue_usd", "estimated_roas", "profit_usd",
        "click_to_trial_rate", "trial_conversion_estimate_pair_count", "trial_conversion_rate_estimated",
    )} == {
        "meta_spend": D("0.01"), "meta_trial_count": 1, "mixpanel_trial_count": 100,
        "trial_accuracy_ratio": D("10000.0000"),             # 100 / 1 * 100
        "estimated_revenue_usd": D("14850.00"),              # 99 x 150
        "adjusted_estimated_revenue_usd": D("148.50"),       # 14850 / (10000 / 100)
        "estimated_roas": D("14850.0000"),                   # 148.50 / 0.01
        "profit_usd": D("148.49"),
        "click_to_trial_rate": D("1000.0000"),               # 100 / 10 * 100
        "trial_conversion_estimate_pair_count": 99,          # acc_000's pair has no metrics row
        "trial_conversion_rate_estimated": D("0.5000"),
    }


@pytest.mark.parametrize("table", ["entity_daily_metrics", "entity_country_breakdown"])
def test_mart_types_follow_contract_v2(v2_con, table):
    columns = v2_con.execute(f"""
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


def test_entity_names_use_the_mapping_when_present(v2_con):
    names = {(t, i): n for t, i, n in v2_con.execute(
        "select entity_type, entity_id, entity_name from entity_names").fetchall()}
    assert names == {
        ("ad", "000777"): "Ad 000777", ("ad", "777"): "Seven", ("ad", "a2"): "a2",
        ("ad", "acc"): "acc", ("ad", "ghost"): "ghost", ("ad", "nullm"): "nullm", ("ad", "orphan"): "orphan",
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
