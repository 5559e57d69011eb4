"""`dbt build` on the tiny hand-written data set (pytests/tiny_dataset.py).

Every expected value below is worked out by hand from the metric contract, in
the comments next to it; none is produced by the code under test.
Window: 2025-01-01 .. 2025-01-10, trial_days 7 -> cohorts up to 2025-01-03 are post-trial.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from conftest import fetch_dicts, run_dbt, tiny_vars

D = Decimal
JAN_2 = date(2025, 1, 2)


def daily_row(con, entity_type: str, entity_id: str, day: date) -> dict:
    rows = fetch_dicts(
        con,
        "select * from entity_daily_metrics where entity_type = ? and entity_id = ? and date = ?",
        [entity_type, entity_id, day],
    )
    assert len(rows) == 1, rows
    return rows[0]


def assert_row(actual: dict, expected: dict) -> None:
    mismatches = {k: (actual[k], v) for k, v in expected.items() if actual[k] != v}
    assert not mismatches, f"(actual, expected) by column: {mismatches}"


# --- grain --------------------------------------------------------------------

def test_every_entity_has_every_day_of_the_window(tiny_con):
    # entities: ads 000777, 777, a2 (mapping), orphan (Meta only), ghost (user u3);
    # adsets as1, as2 (mapping); campaigns c1 (mapping), c2 (u5's own), c9 (u3's own)
    # -> 10 entities x 10 days = 100 rows; the 2025-01-12 Meta row is outside the window.
    rows = fetch_dicts(tiny_con, """
        select entity_type, list(distinct entity_id order by entity_id) as ids, count(*) as n,
               min(date) as first_day, max(date) as last_day
        from entity_daily_metrics group by entity_type order by entity_type""")
    assert rows == [
        {"entity_type": "ad", "ids": ["000777", "777", "a2", "ghost", "orphan"], "n": 50,
         "first_day": date(2025, 1, 1), "last_day": date(2025, 1, 10)},
        {"entity_type": "adset", "ids": ["as1", "as2"], "n": 20,
         "first_day": date(2025, 1, 1), "last_day": date(2025, 1, 10)},
        {"entity_type": "campaign", "ids": ["c1", "c2", "c9"], "n": 30,
         "first_day": date(2025, 1, 1), "last_day": date(2025, 1, 10)},
    ]


def test_breakdown_rows_exist_only_with_meta_country_data_or_cohort_users(tiny_con):
    # Meta (after mapping): 000777 US (United States + US), ZZ (Atlantis); 777 DE.
    # Users: u1 US, u2 ZZ (NULL country), u3 DE, u5 US, u6 ZZ ('' country).
    keys = tiny_con.execute("""
        select entity_type, entity_id, strftime(date, '%d'), country_code
        from entity_country_breakdown order by all""").fetchall()
    assert keys == [
        ("ad", "000777", "02", "US"), ("ad", "000777", "02", "ZZ"),   # Meta + u1 / Meta + u2
        ("ad", "777", "02", "DE"), ("ad", "777", "02", "US"),         # Meta / u5
        ("ad", "ghost", "02", "DE"),                                  # u3 purchase
        ("adset", "as1", "02", "DE"), ("adset", "as1", "02", "US"), ("adset", "as1", "02", "ZZ"),
        ("adset", "as2", "02", "ZZ"), ("adset", "as2", "09", "ZZ"),   # u6 purchase / u6 trial
        ("campaign", "c1", "02", "DE"), ("campaign", "c1", "02", "US"), ("campaign", "c1", "02", "ZZ"),
        ("campaign", "c1", "09", "ZZ"),
        ("campaign", "c2", "02", "US"),                               # u5: own campaign wins
        ("campaign", "c9", "02", "DE"),                               # u3: own campaign
    ]


def test_rows_are_stored_in_lookup_order(tiny_con):
    stored = tiny_con.execute("select entity_type, entity_id, date from entity_daily_metrics").fetchall()
    assert stored == sorted(stored)


# --- overall rows -----------------------------------------------------------------

def test_ad_000777_on_jan_2(tiny_con):
    # Meta: the exact duplicate daily row counts once: 10.00 / 1000 / 50 / 4 / 1.
    # Users of ad 000777: u1 (own), u2 (own ad id). Both trial on 01-02 (u1's duplicate
    # delivery counts once) and are post-trial (01-02 <= 01-03).
    # u1 converts prod_w on 01-09 (>= start) and refunds -9.99 after: converted + refund.
    # u2's conversion is on prod_m, not its trial product prod_w: not converted.
    row = daily_row(tiny_con, "ad", "000777", JAN_2)
    assert_row(row, {
        "meta_spend": D("10.00"), "meta_impressions": 1000, "meta_clicks": 50,
        "meta_trial_count": 4, "meta_purchase_count": 1,
        "mixpanel_trial_count": 2, "mixpanel_purchase_count": 0,
        "trial_user_ids": "u1,u2", "post_trial_user_ids": "u1,u2", "converted_user_ids": "u1",
        "trial_refund_user_ids": "u1", "purchase_user_ids": None, "purchase_refund_user_ids": None,
        "trial_conversion_rate_estimated": D("0.4000"),   # mean(0.5, 0.3)
        "trial_conversion_rate_actual": D("0.5000"),      # 1 / 2
        "trial_refund_rate_estimated": D("0.2000"),       # u1's 0.2
        "trial_refund_rate_actual": D("1.0000"),          # 1 / 1
        "purchase_refund_rate_estimated": D("0.0000"), "purchase_refund_rate_actual": D("0.0000"),
        "actual_revenue_usd": D("9.99"), "actual_refunds_usd": D("9.99"), "net_actual_revenue_usd": D("0.00"),
        "estimated_revenue_usd": D("30.00"),              # 20 + 10
        "trial_accuracy_ratio": D("50.0000"),             # 2 / 4 * 100
        "purchase_accuracy_ratio": D("0.0000"),           # 0 / 1 * 100
        "adjusted_estimated_revenue_usd": D("60.00"),     # 30 / 0.5
        "profit_usd": D("50.00"),                         # 60 - 10
        "estimated_roas": D("6.0000"),                    # 60 / 10
        "mixpanel_cost_per_trial": D("5.00"), "mixpanel_cost_per_purchase": D("0.00"),
        "meta_cost_per_trial": D("2.50"), "meta_cost_per_purchase": D("10.00"),
        "click_to_trial_rate": D("4.0000"),               # 2 / 50 * 100
        # 1 - 0.2 (Atlantis label, u2 without country) - 0.1 (Meta 1 purchase, Mixpanel 0)
        "data_quality_score": D("0.70"),
    })


def test_adset_as1_counts_filled_users(tiny_con):
    # as1 users: u1 (own), u2 (filled from ad 000777), u5 (filled from ad 777).
    # u5 converts prod_w on 01-06 after its 01-02 23:59:59 start; its -9.99 cancellation
    # on 01-04 is before the conversion and the 01-07 one has zero revenue: no refund.
    # Meta: 000777 + 777 = 15.50 / 1500 / 70 / 4 / 1.
    row = daily_row(tiny_con, "adset", "as1", JAN_2)
    assert_row(row, {
        "meta_spend": D("15.50"), "meta_clicks": 70,
        "trial_user_ids": "u1,u2,u5", "post_trial_user_ids": "u1,u2,u5",
        "converted_user_ids": "u1,u5", "trial_refund_user_ids": "u1",
        "trial_conversion_rate_estimated": D("0.4000"),   # u5 has no metrics row: mean(0.5, 0.3)
        "trial_conversion_rate_actual": D("0.6667"),      # 2 / 3
        "trial_refund_rate_estimated": D("0.2000"),       # converted pairs with metrics: u1 only
        "trial_refund_rate_actual": D("0.5000"),          # 1 / 2
        "actual_revenue_usd": D("19.98"), "actual_refunds_usd": D("9.99"), "net_actual_revenue_usd": D("9.99"),
        "estimated_revenue_usd": D("30.00"),
        "trial_accuracy_ratio": D("75.0000"),             # 3 / 4 * 100
        "adjusted_estimated_revenue_usd": D("40.00"),     # 30 / 0.75
        "profit_usd": D("24.50"), "estimated_roas": D("2.5806"),
        "mixpanel_cost_per_trial": D("5.17"),             # 15.50 / 3
        # 1 - 0.4 * 1/3 (u5 pair without metrics) - 0.2 (unmapped country) - 0.1 (purchases)
        "data_quality_score": D("0.57"),
    })


def test_campaign_c1_mixes_trials_and_purchases(tiny_con):
    # c1 users: u1 (own), u2 (via ad mapping), u6 (via adset as2 -> c1); u5 is c2 (own wins).
    # a2's Meta row is negative and rejected: Meta = 000777 + 777.
    row = daily_row(tiny_con, "campaign", "c1", JAN_2)
    assert_row(row, {
        "meta_spend": D("15.50"), "meta_trial_count": 4, "meta_purchase_count": 1,
        "trial_user_ids": "u1,u2", "purchase_user_ids": "u6", "purchase_refund_user_ids": None,
        "mixpanel_trial_count": 2, "mixpanel_purchase_count": 1,
        "purchase_refund_rate_estimated": D("0.1500"),    # u6 prod_y
        "actual_revenue_usd": D("39.98"),                 # 9.99 (u1 conversion) + 29.99 (u6 purchase)
        "actual_refunds_usd": D("9.99"),
        "estimated_revenue_usd": D("60.00"),              # 20 + 10 + 30
        "trial_accuracy_ratio": D("50.0000"), "purchase_accuracy_ratio": D("100.0000"),
        "adjusted_estimated_revenue_usd": D("120.00"),    # purchases 1 < trials 2 -> trial ratio: 60 / 0.5
        "profit_usd": D("104.50"),
        "data_quality_score": D("0.80"),                  # 1 - 0.2 (Atlantis)
    })


def test_campaign_c2_exists_only_through_a_users_own_id(tiny_con):
    # u5 carries c2, which the mapping does not know; no Meta data.
    row = daily_row(tiny_con, "campaign", "c2", JAN_2)
    assert_row(row, {
        "meta_spend": D("0.00"), "trial_user_ids": "u5", "converted_user_ids": "u5",
        "trial_refund_user_ids": None,
        "trial_conversion_rate_estimated": D("0.0000"),   # no pair with a metrics row
        "trial_accuracy_ratio": D("100.0000"),            # Meta 0 trials, Mixpanel 1
        "adjusted_estimated_revenue_usd": D("0.00"), "estimated_roas": D("0.0000"),
        "actual_revenue_usd": D("9.99"),
        # 1 - 0.4 (1 of 1 pairs without metrics) - 0.2 (not in mapping) - 0.1 (trials)
        "data_quality_score": D("0.30"),
    })


def test_campaign_c9_purchase_refund_matched_case_insensitively(tiny_con):
    # u3 buys prod_y 49.99 on 01-02 and has 'RC CANCELLATION' -49.99 on 01-03.
    row = daily_row(tiny_con, "campaign", "c9", JAN_2)
    assert_row(row, {
        "purchase_user_ids": "u3", "purchase_refund_user_ids": "u3",
        "purchase_refund_rate_actual": D("1.0000"), "purchase_refund_rate_estimated": D("0.2500"),
        "actual_revenue_usd": D("49.99"), "actual_refunds_usd": D("49.99"), "net_actual_revenue_usd": D("0.00"),
        "purchase_accuracy_ratio": D("0.0000"),           # Meta 0 purchases: 0, no 100 case
        # purchases 1 > trials 0 -> purchase ratio, which is 0 -> estimated revenue unchanged
        "adjusted_estimated_revenue_usd": D("50.00"), "profit_usd": D("50.00"),
    })


def test_ad_missing_from_mapping_has_ad_level_rows_only(tiny_con):
    row = daily_row(tiny_con, "ad", "orphan", date(2025, 1, 3))
    assert_row(row, {
        "meta_spend": D("3.00"), "meta_trial_count": 1, "mixpanel_trial_count": 0,
        "trial_accuracy_ratio": D("0.0000"),              # 0 / 1
        "meta_cost_per_trial": D("3.00"),
        "data_quality_score": D("0.70"),                  # 1 - 0.2 (not in mapping) - 0.1 (trials)
    })
    # orphan's spend reaches no adset or campaign: c1 on 01-03 has none
    assert daily_row(tiny_con, "campaign", "c1", date(2025, 1, 3))["meta_spend"] == D("0.00")


def test_recent_trials_are_not_post_trial(tiny_con):
    # u6's prod_w trial on 01-09 > 01-03: in the trial list only.
    row = daily_row(tiny_con, "adset", "as2", date(2025, 1, 9))
    assert_row(row, {
        "trial_user_ids": "u6", "post_trial_user_ids": None, "converted_user_ids": None,
        "trial_conversion_rate_actual": D("0.0000"), "trial_conversion_rate_estimated": D("0.4000"),
        "estimated_revenue_usd": D("12.00"),
    })


def test_empty_days_are_zeros_and_null_lists(tiny_con):
    row = daily_row(tiny_con, "ad", "a2", date(2025, 1, 5))
    numbers = {k: v for k, v in row.items() if isinstance(v, (int, Decimal))}
    assert numbers and all(v == 0 for k, v in numbers.items() if k != "data_quality_score")
    assert all(row[k] is None for k in row if k.endswith("_user_ids"))
    assert row["data_quality_score"] == D("1.00")


def test_unattributed_rejected_and_late_users_are_never_listed(tiny_con):
    lists = tiny_con.execute("""
        select string_agg(coalesce(trial_user_ids, '') || ',' || coalesce(purchase_user_ids, ''), ',')
        from entity_daily_metrics""").fetchone()[0]
    ids = set(filter(None, lists.split(",")))
    assert ids == {"u1", "u2", "u3", "u5", "u6"}   # not u4 (no attribution), 'bad,id', NULL


# --- breakdown rows ---------------------------------------------------------------

def test_breakdown_us_and_zz_of_ad_000777(tiny_con):
    rows = {r["country_code"]: r for r in fetch_dicts(tiny_con, """
        select * from entity_country_breakdown where entity_id = '000777' and date = '2025-01-02'""")}
    # US = 'United States' (6.00/600/30/3/1) + 'US' (1.00/100/5/0/0); user u1
    assert_row(rows["US"], {
        "meta_spend": D("7.00"), "meta_impressions": 700, "meta_clicks": 35,
        "meta_trial_count": 3, "meta_purchase_count": 1,
        "trial_user_ids": "u1", "converted_user_ids": "u1", "trial_refund_user_ids": "u1",
        "trial_accuracy_ratio": D("33.3333"),             # 1 / 3 * 100
        "adjusted_estimated_revenue_usd": D("60.00"),     # 20 / (1/3), from the unrounded ratio
        "profit_usd": D("53.00"), "estimated_roas": D("8.5714"),
        "meta_cost_per_trial": D("2.33"), "click_to_trial_rate": D("2.8571"),
        "data_quality_score": D("0.90"),                  # 1 - 0.1 (Meta 1 purchase, Mixpanel 0)
    })
    # ZZ = 'Atlantis' (unmapped) 3.00/300/15/1/0; user u2 (NULL country)
    assert_row(rows["ZZ"], {
        "meta_spend": D("3.00"), "trial_user_ids": "u2", "converted_user_ids": None,
        "trial_conversion_rate_actual": D("0.0000"), "trial_accuracy_ratio": D("100.0000"),
        "estimated_revenue_usd": D("10.00"), "adjusted_estimated_revenue_usd": D("10.00"),
        "profit_usd": D("7.00"), "data_quality_score": D("0.80"),   # 1 - 0.2 (ZZ)
    })


# --- quality models -----------------------------------------------------------------

def test_rejects_keep_every_unused_row_with_its_reason(tiny_con):
    counts = dict(tiny_con.execute("""
        select source_table || ':' || reject_reason, count(*) from int_source_rows_rejected
        group by all""").fetchall())
    assert counts == {
        "ad_performance_daily:exact_duplicate": 1,
        "ad_performance_daily:negative_measure": 1,
        "ad_performance_daily:outside_reporting_window": 1,
        "ad_performance_daily_country:exact_duplicate": 1,
        "id_hierarchy_mapping:exact_duplicate": 1,
        "mixpanel_user:comma_in_distinct_id": 1,
        "mixpanel_user:null_distinct_id": 1,
        "mixpanel_event:comma_in_distinct_id": 1,
        "mixpanel_event:null_distinct_id": 1,
        "mixpanel_event:duplicate_delivery": 1,
        "mixpanel_event:after_as_of_date": 1,
    }


def test_attribution_gaps(tiny_con):
    gaps = set(tiny_con.execute(
        "select distinct_id, entity_type, gap_type, user_entity_id, mapped_entity_id from int_attribution_gaps_listed"
    ).fetchall())
    assert gaps == {
        ("u5", "campaign", "user_id_disagrees_with_mapping", "c2", "c1"),
        ("u3", "ad", "ad_not_in_mapping", "ghost", None),
        ("u3", "adset", "no_entity_at_level", None, None),
        ("u6", "ad", "no_entity_at_level", None, None),
    }


# --- vars ------------------------------------------------------------------------------

def test_window_defaults_to_the_dates_found_in_the_sources(tmp_path, tiny_build):
    # earliest: u1's trial on 2024-12-31; latest: the 2025-01-12 Meta row.
    warehouse = tmp_path / "defaults.duckdb"
    run_dbt(["run", "--select", "+int_reporting_window_resolved",
             "--vars", f"{{raw_data_dir: '{tiny_build['raw_dir']}'}}"],
            duckdb_path=warehouse, target_path=tmp_path / "target")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        window = fetch_dicts(con, "select * from int_reporting_window_resolved")[0]
    finally:
        con.close()
    assert (window["start_date"], window["as_of_date"], window["window_days"]) == (
        date(2024, 12, 31), date(2025, 1, 12), 13)
    assert window["last_post_trial_cohort_date"] == date(2025, 1, 5)


def test_bad_window_var_is_a_clear_error(tmp_path, tiny_build):
    result = run_dbt(["run", "--select", "int_reporting_window_resolved",
                      "--vars", tiny_vars(tiny_build["raw_dir"], as_of_date="2025-13-45x")],
                     duckdb_path=tmp_path / "bad.duckdb", target_path=tmp_path / "target", check=False)
    assert result.returncode != 0
    assert "as_of_date must be a date YYYY-MM-DD" in result.stdout


def test_missing_source_column_names_the_file_and_the_column(tmp_path):
    raw = tiny_dataset_without_column(tmp_path)
    result = run_dbt(["build", "--vars", tiny_vars(raw)], duckdb_path=tmp_path / "w.duckdb",
                     target_path=tmp_path / "target", check=False)
    assert result.returncode != 0
    assert "mixpanel_user.parquet): missing column 'has_abi_attribution'" in result.stdout
    assert "ad_performance_daily_country: not found at" in result.stdout


def tiny_dataset_without_column(tmp_path):
    import tiny_dataset
    raw = tiny_dataset.write(
        tmp_path / "raw",
        overrides={"mixpanel_user": "select * exclude (has_abi_attribution) from ("
                   + tiny_dataset.TABLES["mixpanel_user"] + ")"},
        skip=("ad_performance_daily_country",),
    )
    return raw


# --- the data-quality gate fails on broken data -----------------------------------------

BREAKAGES = {
    # invariant (metric-contract §6)        -> SQL that breaks it on a copy of the warehouse
    "count_equals_list_length": "update entity_daily_metrics set mixpanel_purchase_count = 5 "
                                "where entity_id = 'c9' and date = '2025-01-02'",
    "list_is_subset": "update entity_daily_metrics set converted_user_ids = 'u1,zz_not_post_trial' "
                      "where entity_id = '000777' and date = '2025-01-02'",
    "unique_key_entity_daily_metrics": "insert into entity_daily_metrics select * from entity_daily_metrics "
                                       "where entity_id = 'a2' and date = '2025-01-05'",
    "has_parent_row": "insert into entity_country_breakdown select * replace ('no_such_ad' as entity_id) "
                      "from entity_country_breakdown where entity_id = 'ghost'",
    "date_spine_complete": "delete from entity_daily_metrics where entity_id = '777' and date = '2025-01-07'",
    "in_range_entity_daily_metrics_trial_conversion_rate_actual":
        "update entity_daily_metrics set trial_conversion_rate_actual = 1.5 "
        "where entity_id = 'as2' and date = '2025-01-04'",
    "in_range_entity_daily_metrics_data_quality_score":
        "update entity_daily_metrics set data_quality_score = 1.5 where entity_id = 'as2' and date = '2025-01-06'",
    "in_range_entity_daily_metrics_actual_revenue_usd":
        "update entity_daily_metrics set actual_revenue_usd = -1 where entity_id = 'as2' and date = '2025-01-07'",
    "breakdown_sums_to_overall": "update entity_country_breakdown set mixpanel_trial_count = 0, trial_user_ids = null "
                                 "where entity_id = '000777' and country_code = 'US'",
    "parent_equals_sum_of_ads": "update entity_daily_metrics set meta_clicks = 999 "
                                "where entity_id = 'c1' and date = '2025-01-02'",
}


def test_each_invariant_fails_on_data_that_breaks_it(tmp_path, tiny_build, tiny_con):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(tiny_build["warehouse"], broken)
    con = duckdb.connect(str(broken))
    try:
        for sql in BREAKAGES.values():
            con.execute(sql)
    finally:
        con.close()
    result = run_dbt(["test", "--select", "entity_daily_metrics", "entity_country_breakdown",
                      "--exclude", "test_type:unit", "--vars", tiny_vars(tiny_build["raw_dir"])],
                     duckdb_path=broken, target_path=tmp_path / "target", check=False)
    assert result.returncode != 0
    import json
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = [r["unique_id"] for r in results if r["status"] == "fail"]
    not_caught = [name for name in BREAKAGES if not any(name in uid for uid in failed)]
    assert not not_caught, f"breakages no test caught: {not_caught}; failed tests: {failed}"
