"""`dbt build` on the tiny hand-written data set (pytests/tiny_dataset.py): the
grain, the quality models, the vars, and the data-quality gate. The metric values
of its cells are checked by hand in test_metrics.py, against dbt and the on-demand
path alike.

Every expected value below is worked out by hand from docs/metrics.md, in
the comments next to it; none is produced by the code under test.
Window: 2025-01-01 .. 2025-01-10, trial_days 7 -> cohorts up to 2025-01-03 are post-trial.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb

import tiny_dataset
from conftest import fetch_dicts, run_dbt, tiny_vars


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


def test_rows_are_stored_in_lookup_order(tiny_con):
    stored = tiny_con.execute("select entity_type, entity_id, date from entity_daily_metrics").fetchall()
    assert stored == sorted(stored)


def test_unattributed_rejected_and_late_users_are_never_listed(tiny_con):
    lists = tiny_con.execute("""
        select string_agg(coalesce(trial_user_ids, '') || ',' || coalesce(purchase_user_ids, ''), ',')
        from entity_daily_metrics""").fetchone()[0]
    ids = set(filter(None, lists.split(",")))
    assert ids == {"u1", "u2", "u3", "u5", "u6"}   # not u4 (no attribution), 'bad,id', NULL


# --- quality models -----------------------------------------------------------------

def test_rejects_keep_every_unused_row_with_its_reason(tiny_con):
    counts = {(t, r): n for t, r, n in tiny_con.execute("""
        select source_table, reject_reason, count(*) from int_source_rows_rejected group by all""").fetchall()}
    assert counts == tiny_dataset.REJECTS


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
    raw = tiny_dataset.write(
        tmp_path / "raw",
        overrides={"mixpanel_user": "select * exclude (has_abi_attribution) from ("
                   + tiny_dataset.TABLES["mixpanel_user"] + ")"},
        skip=("ad_performance_daily_country",),
    )
    return raw


# --- the data-quality gate fails on broken data -----------------------------------------

BREAKAGES = {
    # invariant (docs/metrics.md §6)        -> SQL that breaks it on a copy of the warehouse
    "list_is_subset": "update entity_daily_metrics set converted_user_ids = 'u1,zz_not_post_trial' "
                      "where entity_id = '000777' and date = '2025-01-02'",
    "unique_key_entity_daily_metrics": "insert into entity_daily_metrics select * from entity_daily_metrics "
                                       "where entity_id = 'a2' and date = '2025-01-05'",
    "has_parent_row": "insert into entity_country_breakdown select * replace ('no_such_ad' as entity_id) "
                      "from entity_country_breakdown where entity_id = 'ghost'",
    "date_spine_complete": "delete from entity_daily_metrics where entity_id = '777' and date = '2025-01-07'",
    "breakdown_sums_to_overall": "update entity_country_breakdown set mixpanel_trial_count = 0, trial_user_ids = null "
                                 "where entity_id = '000777' and country_code = 'US'",
    "parent_equals_sum_of_ads": "update entity_daily_metrics set meta_clicks = 999 "
                                "where entity_id = 'c1' and date = '2025-01-02'",
    # the cohort curves (docs/metrics.md §9)
    "unique_key_entity_cohort_curves": "insert into entity_cohort_curves select * from entity_cohort_curves "
                                       "where entity_id = 'a2' and cohort_date = '2025-01-05' "
                                       "and days_since_cohort = 7",
    "entity_cohort_curves_grid_complete": "delete from entity_cohort_curves where entity_id = 'as2' "
                                          "and cohort_date = '2025-01-08' and days_since_cohort = 30",
    "entity_cohort_curves_non_decreasing": "update entity_cohort_curves set gross_revenue_usd = 0 "
                                           "where entity_id = '000777' and cohort_date = '2025-01-02' "
                                           "and days_since_cohort = 14",
    "entity_cohort_curves_row_checks": "update entity_cohort_curves set refunds_usd = -1 "
                                       "where entity_id = 'c2' and cohort_date = '2025-01-03'",
}
# the row-by-row checks of one row_checks test: each must be named in its failing rows' failed_checks
ROW_CHECK_BREAKAGES = {
    "mixpanel_purchase_count: count_equals_list_length":
        "update entity_daily_metrics set mixpanel_purchase_count = 5 where entity_id = 'c9' and date = '2025-01-02'",
    "trial_conversion_rate_actual: in_range":
        "update entity_daily_metrics set trial_conversion_rate_actual = 1.5 "
        "where entity_id = 'as2' and date = '2025-01-04'",
    "data_quality_score: in_range":
        "update entity_daily_metrics set data_quality_score = 1.5 where entity_id = 'as2' and date = '2025-01-06'",
    "actual_revenue_usd: in_range":
        "update entity_daily_metrics set actual_revenue_usd = -1 where entity_id = 'as2' and date = '2025-01-07'",
}


def test_each_invariant_fails_on_data_that_breaks_it(tmp_path, tiny_build, tiny_con):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(tiny_build["warehouse"], broken)
    con = duckdb.connect(str(broken))
    try:
        for sql in [*BREAKAGES.values(), *ROW_CHECK_BREAKAGES.values()]:
            con.execute(sql)
    finally:
        con.close()
    result = run_dbt(["test", "--store-failures", "--select", "entity_daily_metrics", "entity_country_breakdown",
                      "entity_cohort_curves", "--exclude", "test_type:unit", "--vars", tiny_vars(tiny_build["raw_dir"])],
                     duckdb_path=broken, target_path=tmp_path / "target", check=False)
    assert result.returncode != 0
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = [r["unique_id"] for r in results if r["status"] == "fail"]
    not_caught = [name for name in BREAKAGES if not any(name in uid for uid in failed)]
    assert not not_caught, f"breakages no test caught: {not_caught}; failed tests: {failed}"
    con = duckdb.connect(str(broken), read_only=True)
    try:
        named = " ".join(row[0] for row in con.execute(
            "select failed_checks from main_dbt_test__audit.entity_daily_metrics_row_checks").fetchall())
    finally:
        con.close()
    not_named = [check for check in ROW_CHECK_BREAKAGES if check not in named]
    assert not not_named, f"row checks not named by row_checks: {not_named}; failed_checks: {named}"
