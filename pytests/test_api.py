"""The read API (python_hooks/api/) on a release of the tiny data set.

One `precompute run` of pytests/tiny_dataset.py (window 2025-01-01 .. 2025-01-10,
trial_days 7) publishes a release; the API is exercised with FastAPI's TestClient.
Every expected number is worked out by hand from tiny_dataset.py in the comment
next to it (the daily values are those of test_pipeline_end_to_end.py); none is
an output of the code under test.

The facts the sums use (all on 2025-01-02 unless noted):
  Meta (after the duplicate and the negative a2 row): ad 000777 10.00 spend /
  1000 impressions / 50 clicks / 4 trials / 1 purchase; ad 777 5.50 / 500 / 20 / 0 / 0;
  ad orphan 3.00 / 100 / 0 / 1 / 0 on 01-03 (not in the mapping: no parent).
  Campaign c1 = 000777 + 777 = 15.50 / 1500 / 70 / 4 / 1.
  c1 users: u1, u2 trials (post-trial; u1 converts and refunds, u2 does not
  convert); u6 purchase (prod_y, refund estimate 0.15, current_value 30) on 01-02,
  and u6 trial (prod_w, conversion estimate 0.4, current_value 12) on 01-09, not
  post-trial. Daily c1 01-02: adjusted revenue 60 / 0.5 = 120.00 (trial ratio 2/4);
  01-09: Meta 0 trials, Mixpanel 1 -> trial ratio 100 -> adjusted 12.00.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_dataset  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = PROJECT_DIR / ".venv" / "bin" / "precompute"

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from python_hooks.api import create_app  # noqa: E402
from python_hooks.api.reader import parameter_order  # noqa: E402
from python_hooks.catalogue import MARTS_YAML, catalogue, read_catalogue  # noqa: E402

RANGE_METRICS = catalogue().range_metrics


def _precompute(work: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.is_file() else [sys.executable, "-m", "python_hooks.cli"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("DUCKDB_PATH", "RAW_DATA_DIR", "PRECOMPUTE_WAREHOUSE", "PRECOMPUTE_AS_OF")}
    env["DBT_TARGET_PATH"] = str(work / "target")
    env["DBT_LOG_PATH"] = str(work / "logs")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    return subprocess.run([*command, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)


def _publish(work: Path) -> None:
    proc = _precompute(work, "run", "--raw-dir", "raw", "--warehouse", "wh/tiny.duckdb", "--progress", "plain",
                       "--start", tiny_dataset.START_DATE, "--as-of", tiny_dataset.AS_OF_DATE)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("api")
    tiny_dataset.write(work / "raw")
    _publish(work)
    return work


@pytest.fixture(scope="module")
def client(tiny_release):
    with TestClient(create_app(tiny_release / "wh" / "tiny.duckdb")) as test_client:
        yield test_client


def ok(client, url: str, **params):
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-9)


# --- the SQL the API runs --------------------------------------------------------

def test_the_release_stores_the_compiled_queries_and_the_metric_list_matches_the_macro(tiny_release):
    con = duckdb.connect(str(tiny_release / "wh" / "tiny.duckdb"), read_only=True)
    try:
        queries = dict(con.execute("select name, sql from precompute_queries").fetchall())
        assert {"api_entity_table", "api_entity_names", "api_entity_daily_rows", "api_entity_sparkline",
                "api_overview_sparkline", "api_entity_user_list", "dashboard_date_range_totals",
                "dashboard_overall_and_country_14_days"} <= set(queries)
        # compiled by dbt: refs resolved to the release's catalog, no Jinja left
        assert '"tiny"."main"."entity_daily_range_parts"' in queries["dashboard_date_range_totals"]
        assert "{{" not in "".join(queries.values())
        # the columns range_totals() emits are the metrics the response models declare, in order
        sql = queries["dashboard_date_range_totals"]
        names = parameter_order(sql)
        assert names == ["entity_type", "entity_id", "start_day", "end_day"]
        cursor = con.execute(sql, ["ad", "a2", dt.date(2025, 1, 1), dt.date(2025, 1, 1)])
        assert tuple(column[0] for column in cursor.description) == RANGE_METRICS
    finally:
        con.close()


# --- health --------------------------------------------------------------------------

def test_health_names_the_published_release(client, tiny_release):
    body = ok(client, "/api/health")
    published = os.readlink(tiny_release / "wh" / "tiny.duckdb")
    assert body["run_id"] == Path(published).parent.name
    assert (body["start_date"], body["as_of_date"], body["trial_days"]) == ("2025-01-01", "2025-01-10", 7)
    assert body["computed_at"] and body["age_seconds"] >= 0


def test_health_gives_each_source_tables_rows_and_dates(client):
    # tiny_dataset.TABLES, every delivered row counted (rejected ones too): Meta rows of
    # 01-02 .. 01-12 (the 01-12 row is after as_of_date), country rows of 01-02 only, events
    # from 2024-12-31 (e04) to 2025-01-11 (e05); the mapping, users and metrics have no date
    assert ok(client, "/api/health")["sources"] == {
        "ad_performance_daily": {"system": "meta", "rows": 6, "first_date": "2025-01-02", "last_date": "2025-01-12"},
        "ad_performance_daily_country": {"system": "meta", "rows": 5, "first_date": "2025-01-02", "last_date": "2025-01-02"},
        "id_hierarchy_mapping": {"system": "meta", "rows": 4, "first_date": None, "last_date": None},
        "mixpanel_event": {"system": "mixpanel", "rows": 20, "first_date": "2024-12-31", "last_date": "2025-01-11"},
        "mixpanel_user": {"system": "mixpanel", "rows": 8, "first_date": None, "last_date": None},
        "user_product_metrics": {"system": "mixpanel", "rows": 5, "first_date": None, "last_date": None},
    }
    # every metric's days rest on dated source tables (its catalogue `fed_by`, the page's incomplete days)
    fed_by = {m["name"]: m["fed_by"] for m in ok(client, "/api/catalogue")["metrics"]}
    assert set().union(*fed_by.values()) == {"ad_performance_daily", "mixpanel_event"}
    assert fed_by["meta_spend"] == ["ad_performance_daily"] and fed_by["mixpanel_trial_count"] == ["mixpanel_event"]
    assert fed_by["estimated_roas"] == ["ad_performance_daily", "mixpanel_event"]


def test_quality_checks_of_the_tiny_release(client):
    checks = ok(client, "/api/quality")["checks"]
    assert all(set(c) == {"name", "subject", "severity", "status", "count", "detail"} and c["severity"] == "warn"
               for c in checks)
    statuses = [c["status"] for c in checks]
    assert statuses == sorted(statuses, reverse=True)  # warnings first
    by_key = {(c["name"], c["subject"]): c for c in checks}
    # every rejected row but the window cuts is over 1 % of its table (4 to 20 rows a table)
    rows = {"ad_performance_daily": 6, "ad_performance_daily_country": 5, "id_hierarchy_mapping": 4,
            "mixpanel_user": 8, "mixpanel_event": 20, "user_product_metrics": 5}
    rejected = {f"{table}: {reason}": n for (table, reason), n in tiny_dataset.REJECTS.items()
                if reason not in ("outside_reporting_window", "after_as_of_date")}
    assert {s for (name, s) in by_key if name == "rejected_rows"} == set(rejected)
    for subject, n in rejected.items():
        check = by_key[("rejected_rows", subject)]
        assert (check["status"], check["count"]) == ("warn", n), check
        assert f"{n} of {rows[subject.split(':')[0]]} rows" in check["detail"]
    expected = {
        # Meta through 01-12, Mixpanel through 01-11: neither behind as_of_date 01-10
        "source_freshness": ("pass", 0, "Meta through 2025-01-12, Mixpanel through 2025-01-11"),
        # 6 cohort pairs (u1 w, u2 w, u5 w, u6 w trials; u3 y, u6 y purchases): (u5, prod_w) has no metrics row
        "pairs_without_metrics": ("warn", 1, "1 of 6 cohort pairs (16.67 %)"),
        # Atlantis: 3.00 of 6.00 + 1.00 + 3.00 + 5.50 = 15.50 (19.35 %)
        "unmapped_country_spend": ("warn", 1, "19.35 % of the per-country spend of the window is under ZZ; "
                                              "unmapped labels: Atlantis"),
        # no spend on 01-08 .. 01-10, the last 3 days
        "spend_without_mixpanel_users": ("pass", 0, "from 2025-01-08 to 2025-01-10"),
        # 01-10 has no event; kept events of 01-01 .. 01-09: 0, 6, 1, 1, 1, 1, 1, 1, 3 (median 1)
        "event_volume_drop": ("warn", 1, "0 events on 2025-01-10; median of the 9 days before: 1.0"),
    }
    for name, (status, count, detail) in expected.items():
        check = by_key[(name, None)]
        assert (check["status"], check["count"]) == (status, count), check
        assert detail in check["detail"], check


# --- the entity table -----------------------------------------------------------------

def test_entity_table_of_ads_sorted_by_spend_and_paginated(client):
    # spend over the window: 000777 10.00, 777 5.50, orphan 3.00, a2 0 (its row is rejected),
    # ghost 0 (users only); ties by entity_id: a2 < ghost. 5 ads.
    first = ok(client, "/api/entities", level="ad", start="2025-01-01", end="2025-01-10", limit=2)
    assert first["total"] == 5
    assert [(r["entity_id"], r["totals"]["meta_spend"]) for r in first["rows"]] == [("000777", 10.0), ("777", 5.5)]
    rest = ok(client, "/api/entities", level="ad", limit=2, offset=2)
    assert [r["entity_id"] for r in rest["rows"]] == ["orphan", "a2"]
    last = ok(client, "/api/entities", level="ad", limit=2, offset=4)
    assert [r["entity_id"] for r in last["rows"]] == ["ghost"] and last["total"] == 5
    past = ok(client, "/api/entities", level="ad", limit=2, offset=10)
    assert past["rows"] == [] and past["total"] == 5
    # names: no id_name_mapping in the tiny set -> the id; parents from id_hierarchy_mapping
    row = first["rows"][0]
    assert (row["entity_type"], row["name"], row["parent_id"]) == ("ad", "000777", "as1")
    # ascending by name: 000777, 777, a2, ghost, orphan
    by_name = ok(client, "/api/entities", level="ad", sort="name", order="asc")
    assert [r["name"] for r in by_name["rows"]] == ["000777", "777", "a2", "ghost", "orphan"]


def test_entity_table_children_of_a_parent(client):
    # mapping: as1 and as2 under c1; ads 000777 and 777 under as1, a2 under as2
    adsets = ok(client, "/api/entities", level="adset", parent_id="c1", sort="entity_id", order="asc")
    assert [(r["entity_id"], r["parent_id"]) for r in adsets["rows"]] == [("as1", "c1"), ("as2", "c1")]
    assert adsets["total"] == 2
    ads = ok(client, "/api/entities", level="ad", parent_id="as1", sort="entity_id", order="asc")
    assert [r["entity_id"] for r in ads["rows"]] == ["000777", "777"]
    # campaigns c1 (mapping), c2 (u5's own id), c9 (u3's own id)
    campaigns = ok(client, "/api/entities", level="campaign", sort="entity_id", order="asc")
    assert [(r["entity_id"], r["parent_id"]) for r in campaigns["rows"]] == [
        ("c1", None), ("c2", None), ("c9", None)]


def test_entity_table_totals_follow_section_8(client):
    # campaign c1 over the window, every metric:
    rows = ok(client, "/api/entities", level="campaign", sort="entity_id", order="asc")["rows"]
    c1 = rows[0]["totals"]
    assert c1 == {
        "meta_spend": 15.5, "meta_impressions": 1500, "meta_clicks": 70,
        "meta_trial_count": 4, "meta_purchase_count": 1,
        "mixpanel_trial_count": 3,                       # u1 + u2 (01-02) + u6 (01-09)
        "mixpanel_purchase_count": 1,                    # u6 (01-02)
        # estimated: (0.4 x 2 pairs on 01-02 + 0.4 x 1 pair on 01-09) / 3 = 0.4;
        # the AVG of the 10 daily values would be 0.8 / 10 = 0.08
        "trial_conversion_rate_estimated": approx(0.4),
        # actual: converted 1 (u1) / post-trial 2 (u1, u2; u6's 01-09 trial is not post-trial) = 0.5;
        # the AVG of the daily rates would be 0.5 / 10 = 0.05
        "trial_conversion_rate_actual": 0.5,
        "trial_refund_rate_estimated": approx(0.2),      # u1's converted pair: 0.2 x 1 / 1
        "trial_refund_rate_actual": 1.0,                 # u1 refunded / u1 converted
        "purchase_refund_rate_estimated": approx(0.15),  # u6 prod_y: 0.15 x 1 / 1
        "purchase_refund_rate_actual": 0.0,              # 0 refunds / 1 purchase
        "trial_conversion_estimate_pair_count": 3,       # 2 + 1
        "trial_refund_estimate_pair_count": 1,
        "purchase_refund_estimate_pair_count": 1,
        "actual_revenue_usd": 39.98,                     # 9.99 (u1 conversion) + 29.99 (u6 purchase)
        "actual_refunds_usd": 9.99,                      # u1's refund
        "net_actual_revenue_usd": 29.99,
        "estimated_revenue_usd": 72.0,                   # 01-02: 20 + 10 + 30; 01-09: 12
        "adjusted_estimated_revenue_usd": 132.0,         # 120 + 12
        "profit_usd": 116.5,                             # 132 - 15.50
        # 132 / 15.50 = 8.516129...; the AVG of daily ROAS would be (120 / 15.50 + 0) / 10 = 0.774
        "estimated_roas": approx(132 / 15.5),
        # 3 / 4 x 100 = 75 (on the sums, not the days' 50 % and 100 %)
        "trial_accuracy_ratio": approx(75.0),
        "purchase_accuracy_ratio": approx(100.0),        # 1 / 1 x 100
        "mixpanel_cost_per_trial": approx(15.5 / 3),
        "mixpanel_cost_per_purchase": approx(15.5),      # 15.50 / 1
        "meta_cost_per_trial": approx(3.875),            # 15.50 / 4
        "meta_cost_per_purchase": approx(15.5),          # 15.50 / 1
        "click_to_trial_rate": approx(300 / 70),         # 3 / 70 x 100
    }


def test_entity_table_sorts_by_a_ratio_of_the_sums(client):
    # campaign ROAS over the window: c1 132 / 15.50 = 8.52; c2 0 (no spend); c9 0 (no spend)
    rows = ok(client, "/api/entities", level="campaign", sort="estimated_roas", order="desc")["rows"]
    assert [r["entity_id"] for r in rows] == ["c1", "c2", "c9"]
    # trial accuracy ascending: c9 0 (no trials at all), c1 75, c2 100 (Meta 0, Mixpanel 1)
    rows = ok(client, "/api/entities", level="campaign", sort="trial_accuracy_ratio", order="asc")["rows"]
    assert [(r["entity_id"], r["totals"]["trial_accuracy_ratio"]) for r in rows] == [
        ("c9", 0.0), ("c1", 75.0), ("c2", 100.0)]


# --- one entity ---------------------------------------------------------------------------

def test_entity_detail_totals_and_day_rows(client):
    body = ok(client, "/api/entities/campaign/c1", start="2025-01-02", end="2025-01-09")
    assert (body["name"], body["parent_id"], body["start"], body["end"]) == ("c1", None, "2025-01-02", "2025-01-09")
    # 8 day rows, 01-02 .. 01-09, the stored values
    assert [d["date"] for d in body["daily"]] == [f"2025-01-0{d}" for d in range(2, 10)]
    jan_2, jan_9 = body["daily"][0], body["daily"][-1]
    assert (jan_2["meta_spend"], jan_2["trial_accuracy_ratio"], jan_2["adjusted_estimated_revenue_usd"]) == (
        15.5, 50.0, 120.0)                               # 2 / 4 x 100; 60 / 0.5
    assert (jan_9["mixpanel_trial_count"], jan_9["trial_accuracy_ratio"], jan_9["data_quality_score"]) == (
        1, 100.0, 0.7)                                  # u6; Meta 0, Mixpanel 1;
    # quality 1 - 0.2 (u6 has no country) - 0.1 (Mixpanel trials without Meta trials)
    assert "trial_user_ids" not in jan_2                 # lists come from .../users
    totals = body["totals"]
    # the range holds both c1 days: the same totals as the whole window
    assert totals["trial_accuracy_ratio"] == approx(75.0)   # 3 / 4, not (50 + 100) / 2 days with trials
    assert totals["trial_conversion_rate_actual"] == 0.5    # 1 / 2, not the days' mean 0.5 / 8
    assert totals["estimated_roas"] == approx(132 / 15.5)
    assert totals["profit_usd"] == 116.5


def test_entity_detail_single_day_equals_the_stored_row(client):
    # ad 000777 on 01-02 (test_pipeline_end_to_end): trial ratio 2 / 4 = 50, adjusted 30 / 0.5 = 60, ROAS 6
    body = ok(client, "/api/entities/ad/000777", start="2025-01-02", end="2025-01-02")
    totals = body["totals"]
    assert (totals["meta_spend"], totals["mixpanel_trial_count"], totals["trial_accuracy_ratio"],
            totals["adjusted_estimated_revenue_usd"], totals["estimated_roas"]) == (10.0, 2, 50.0, 60.0, 6.0)
    assert len(body["daily"]) == 1


# --- the country breakdown ----------------------------------------------------------------

def test_countries_over_a_range_in_the_spec_shape(client):
    rows = ok(client, "/api/entities/campaign/c1/countries", start="2025-01-01", end="2025-01-10")
    # ALL first, then by spend: US 7.00 (000777 'United States' 6 + 'US' 1), DE 5.50 (777 Germany),
    # ZZ 3.00 (000777 Atlantis)
    assert [(r["breakdown_type"], r["country"], r["total_spend"]) for r in rows] == [
        ("all", "ALL", 15.5), ("country", "US", 7.0), ("country", "DE", 5.5), ("country", "ZZ", 3.0)]
    every, us, de, zz = rows
    # ALL: trials u1, u2, u6 = 3; purchases u6 = 1; revenue 120 + 12 = 132
    assert (every["total_trials"], every["total_purchases"], every["total_revenue"]) == (3, 1, 132.0)
    assert every["trial_accuracy_ratio"] == approx(75.0)
    # US: u1 only (u5 is US but counts under its own campaign c2); Meta 3 trials, 1 purchase
    # trial ratio 1 / 3 x 100; adjusted 20 / (1/3) = 60; ROAS 60 / 7
    assert (us["total_trials"], us["total_purchases"], us["total_revenue"]) == (1, 0, 60.0)
    assert us["trial_accuracy_ratio"] == approx(100 / 3)
    assert us["estimated_roas"] == approx(60 / 7)
    # DE: Meta only (u3 is DE but in c9)
    assert (de["total_trials"], de["total_purchases"], de["total_revenue"]) == (0, 0, 0.0)
    # ZZ: u2 trial + u6 purchase on 01-02, u6 trial on 01-09 -> trials 2, purchases 1 (entries, not users);
    # revenue: 01-02 (10 + 30) / (1 / 1) = 40, 01-09 12 / 1 = 12 -> 52;
    # trial ratio 2 / 1 (Atlantis' one Meta trial) x 100 = 200
    assert (zz["total_trials"], zz["total_purchases"], zz["total_revenue"]) == (2, 1, 52.0)
    assert zz["trial_accuracy_ratio"] == approx(200.0)
    assert zz["meta_spend"] == zz["total_spend"] and zz["mixpanel_trial_count"] == zz["total_trials"]


def test_countries_of_a_single_day(client):
    # c1 on 01-09: u6's trial only (ZZ, no Meta data): estimated 12, ratio 100 -> 12
    rows = ok(client, "/api/entities/campaign/c1/countries", date="2025-01-09")
    assert [(r["country"], r["total_spend"], r["total_trials"], r["total_revenue"]) for r in rows] == [
        ("ALL", 0.0, 1, 12.0), ("ZZ", 0.0, 1, 12.0)]
    # a day without rows: ALL of zeros, no country
    rows = ok(client, "/api/entities/campaign/c1/countries", date="2025-01-05")
    assert [(r["country"], r["total_spend"], r["total_trials"]) for r in rows] == [("ALL", 0.0, 0)]


# --- cohort curves (docs/metrics.md §9) ----------------------------------------------------------
#
# The cohort pairs and what they earn, from tiny_dataset.py (as_of 2025-01-10):
#   c1 on 01-02: u1 prod_w (trial), u2 prod_w (trial), u6 prod_y (purchase 29.99 at the start: D0).
#     u1 converts 9.99 and is refunded 9.99 on 01-09 (D7; its renewal is in the EDGES set only);
#     u2's prod_w refund of 1.00 on 01-05 (D3) counts (a refund at or after the pair's start), her
#     4.99 is prod_m (another product).
#     Net D0 29.99, D7 and later 29.99 + 9.99 - 9.99 - 1.00 = 28.99; spend 15.50.
#   c1 on 01-09: u6 prod_w (trial), nothing earned; spend 0. Every other c1 day: no pair, no spend.
#   ad 000777 on 01-02: u1 and u2's trials: D0 0, D7 9.99 - 10.99 = -1.00; spend 10.00.
#   ad 777 on 01-02: u5 prod_w: refund 9.99 on 01-04, conversion 9.99 on 01-06 (0 is not a refund):
#     D7 net 0; spend 5.50. Ads a2, ghost: no spend; orphan: 3.00 on 01-03, no pair.
# A row is complete when D + N <= 01-10: D0 every day, D7 the cohort days 01-01 .. 01-03, D14 .. D90 none.

def _horizon(n, net, spend, roas, complete, days):
    return {"days_since_cohort": n, "net_revenue_usd": net, "meta_spend": spend, "cohort_roas": roas,
            "complete_cohort_days": complete, "cohort_days": days}


def test_curve_of_a_range_counts_only_the_complete_cohort_days(client):
    body = ok(client, "/api/entities/campaign/c1/curve", start="2025-01-01", end="2025-01-10")
    assert (body["entity_type"], body["entity_id"], body["start"], body["end"]) == (
        "campaign", "c1", "2025-01-01", "2025-01-10")
    assert body["horizons"] == [
        _horizon(0, 29.99, 15.5, approx(29.99 / 15.5), 10, 10),
        # D7: only 01-01 .. 01-03 are complete (3 of 10): 01-02's 29.99 + 9.99 - (9.99 + 1.00)
        # = 28.99 against its 15.50 (tiny_dataset.CURVE_RANGES); later days do not count
        _horizon(7, 28.99, 15.5, approx(28.99 / 15.5), 3, 10),
        # no cohort day has reached D14 or later: no ratio (not 0: nothing has arrived yet)
        *[_horizon(n, 0.0, 0.0, None, 0, 10) for n in (14, 30, 60, 90)],
    ]
    # D0 already pays back: 29.99 / 15.50 = 1.93
    assert body["payback_days"] == 0


def test_curve_paying_back_and_ones_that_do_not(client):
    # c1 pays back on day 0 (test above). ad 000777 (as1 without u5's ad 777): D0 0 / 10.00 = 0;
    # D7 (complete on 01-02 and 01-03) as1's -1.00 less 777's 0 = -1.00 / 10.00: no payback
    body = ok(client, "/api/entities/ad/000777/curve", start="2025-01-02", end="2025-01-08")
    assert [(h["days_since_cohort"], h["cohort_roas"], h["complete_cohort_days"], h["cohort_days"])
            for h in body["horizons"]] == [(0, 0.0, 7, 7), (7, approx(-0.1), 2, 7), (14, None, 0, 7),
                                           (30, None, 0, 7), (60, None, 0, 7), (90, None, 0, 7)]
    assert body["payback_days"] is None
    # ad 777 (u5's refund 9.99 and conversion 9.99): 0 / 5.50 at D0 and D7: no payback
    body = ok(client, "/api/entities/ad/777/curve", start="2025-01-01", end="2025-01-10")
    assert [(h["days_since_cohort"], h["net_revenue_usd"], h["meta_spend"], h["cohort_roas"])
            for h in body["horizons"][:3]] == [(0, 0.0, 5.5, 0.0), (7, 0.0, 5.5, 0.0), (14, 0.0, 0.0, None)]
    assert body["payback_days"] is None
    # a range whose complete D7 days hold no spend: 0 (a ratio with no spend), not NULL
    body = ok(client, "/api/entities/ad/000777/curve", start="2025-01-03", end="2025-01-03")
    assert [(h["cohort_roas"], h["complete_cohort_days"]) for h in body["horizons"][:3]] == [
        (0.0, 1), (0.0, 1), (None, 0)]


def test_curve_parameters_are_checked_like_the_other_endpoints(client):
    assert client.get("/api/entities/campaign/nope/curve").status_code == 404
    assert client.get("/api/entities/planet/c1/curve").status_code == 422
    reversed_range = client.get("/api/entities/campaign/c1/curve", params={"start": "2025-01-05", "end": "2025-01-02"})
    assert reversed_range.status_code == 422 and "start" in reversed_range.json()["detail"]
    outside = client.get("/api/entities/campaign/c1/curve", params={"start": "2024-12-01"})
    assert outside.status_code == 422 and "outside" in outside.json()["detail"]
    # start/end default to the window
    assert ok(client, "/api/entities/campaign/c1/curve")["payback_days"] == 0


def test_entity_table_carries_the_cohort_columns_and_sorts_by_them(client):
    # ads over the window, D7 (cohort days 01-01 .. 01-03 complete): 000777 -1.00 / 10.00 = -0.1;
    # 777 0 / 5.50 = 0; orphan 0 / 3.00; a2 and ghost no spend: 0. No payback.
    # D30: no complete day -> NULL. Ascending, ties by entity_id.
    rows = ok(client, "/api/entities", level="ad", sort="d7_cohort_roas", order="asc")["rows"]
    assert [(r["entity_id"], r["cohort"]) for r in rows] == [
        ("000777", {"d7_cohort_roas": approx(-0.1), "d30_cohort_roas": None, "payback_days": None}),
        ("777", {"d7_cohort_roas": 0.0, "d30_cohort_roas": None, "payback_days": None}),
        ("a2", {"d7_cohort_roas": 0.0, "d30_cohort_roas": None, "payback_days": None}),
        ("ghost", {"d7_cohort_roas": 0.0, "d30_cohort_roas": None, "payback_days": None}),
        ("orphan", {"d7_cohort_roas": 0.0, "d30_cohort_roas": None, "payback_days": None}),
    ]
    # adsets by payback, descending: as1 (u1, u2, u5: -1.00 / 15.50 at D7) and as2 (u6's 29.99
    # on D0, no spend: 0) never pay back (NULLs, ties by entity_id)
    rows = ok(client, "/api/entities", level="adset", sort="payback_days", order="desc")["rows"]
    assert [(r["entity_id"], r["cohort"]["d7_cohort_roas"], r["cohort"]["payback_days"]) for r in rows] == [
        ("as1", approx(-1.00 / 15.5), None), ("as2", 0.0, None)]
    # campaigns: c1 D7 28.99 / 15.50, payback D0 (29.99 / 15.50); c2 and c9 have no spend
    rows = ok(client, "/api/entities", level="campaign", sort="payback_days", order="asc")["rows"]
    assert [(r["entity_id"], r["cohort"]["d7_cohort_roas"], r["cohort"]["payback_days"]) for r in rows] == [
        ("c1", approx(28.99 / 15.5), 0), ("c2", 0.0, None), ("c9", 0.0, None)]
    # a range no cohort day of which has reached D7: NULL, sorted last either way
    rows = ok(client, "/api/entities", level="campaign", start="2025-01-04", end="2025-01-10",
              sort="d7_cohort_roas", order="asc")["rows"]
    assert {r["cohort"]["d7_cohort_roas"] for r in rows} == {None}
    assert client.get("/api/entities", params={"level": "ad", "sort": "d14_cohort_roas"}).status_code == 422


# --- sparklines ------------------------------------------------------------------------------

def test_entity_sparkline_is_zero_filled(client):
    body = ok(client, "/api/entities/ad/000777/sparkline", end="2025-01-03", days=4,
              metrics="meta_spend,mixpanel_trial_count,estimated_roas")
    # 12-31 is before the window: zero-filled like the empty days
    assert body["dates"] == ["2024-12-31", "2025-01-01", "2025-01-02", "2025-01-03"]
    assert body["series"] == {"meta_spend": [0, 0, 10.0, 0], "mixpanel_trial_count": [0, 0, 2, 0],
                              "estimated_roas": [0, 0, 6.0, 0]}   # 60 / 10 on 01-02
    default = ok(client, "/api/entities/ad/000777/sparkline")
    assert len(default["dates"]) == 14 and default["dates"][-1] == "2025-01-10"   # days=14, end = as_of


def test_entity_sparkline_of_one_country(client):
    # 000777 US on 01-02: 7.00 spend, u1 -> ROAS 60 / 7
    body = ok(client, "/api/entities/ad/000777/sparkline", end="2025-01-02", days=2, country="US",
              metrics="meta_spend,estimated_roas")
    assert body["series"]["meta_spend"] == [0, 7.0]
    assert body["series"]["estimated_roas"] == [0, approx(60 / 7)]
    # a country without rows: all zeros
    body = ok(client, "/api/entities/ad/000777/sparkline", end="2025-01-02", days=2, country="FR")
    assert all(v == 0 for values in body["series"].values() for v in values)


def test_overview_sparkline_sums_one_level_per_day(client):
    body = ok(client, "/api/overview/campaign/sparkline", end="2025-01-10", days=28,
              metrics="meta_spend,mixpanel_trial_count,adjusted_estimated_revenue_usd,estimated_roas")
    assert len(body["dates"]) == 28 and body["dates"][0] == "2024-12-14"
    spend = dict(zip(body["dates"], body["series"]["meta_spend"]))
    # campaign spend is c1's 15.50 on 01-02 (not 3 x 15.50 over the three levels); orphan has no campaign
    assert spend["2025-01-02"] == 15.5 and sum(spend.values()) == 15.5
    by_day = {name: dict(zip(body["dates"], values)) for name, values in body["series"].items()}
    # trials 01-02: c1 2 (u1, u2) + c2 1 (u5); 01-09: c1 1 (u6)
    assert (by_day["mixpanel_trial_count"]["2025-01-02"], by_day["mixpanel_trial_count"]["2025-01-09"]) == (3, 1)
    # adjusted 01-02: c1 120 + c2 0 + c9 50 = 170; ROAS = 170 / 15.50 (a ratio of the day's sums)
    assert by_day["adjusted_estimated_revenue_usd"]["2025-01-02"] == 170.0
    assert by_day["estimated_roas"]["2025-01-02"] == approx(170 / 15.5)


def test_level_sparklines_equal_each_entitys_sparkline(client):
    metrics = "meta_spend,mixpanel_trial_count,adjusted_estimated_revenue_usd,estimated_roas"
    for level, parent_id in [("campaign", None), ("adset", None), ("ad", None), ("adset", "c1"), ("ad", "as1")]:
        params = {"level": level, "end": "2025-01-03", "days": 4, "metrics": metrics}
        if parent_id:
            params["parent_id"] = parent_id
        body = ok(client, "/api/sparklines", **params)
        table = ok(client, "/api/entities", level=level, parent_id=parent_id, limit=500) if parent_id else ok(
            client, "/api/entities", level=level, limit=500)
        # one sparkline per entity of the table (the children of parent_id), no other
        assert set(body["series"]) == {row["entity_id"] for row in table["rows"]}, (level, parent_id)
        assert body["dates"] == ["2024-12-31", "2025-01-01", "2025-01-02", "2025-01-03"]
        for entity_id, series in body["series"].items():
            one = ok(client, f"/api/entities/{level}/{entity_id}/sparkline", end="2025-01-03", days=4,
                     metrics=metrics)
            assert series == one["series"], (level, entity_id)
    # hand-worked: ad 000777 on 01-02 spends 10.00 with 2 trials and ROAS 60 / 10
    ads = ok(client, "/api/sparklines", level="ad", end="2025-01-03", days=4, metrics="meta_spend,estimated_roas")
    assert ads["series"]["000777"] == {"meta_spend": [0, 0, 10.0, 0], "estimated_roas": [0, 0, 6.0, 0]}


# --- user lists --------------------------------------------------------------------------------

def test_user_lists_are_paginated(client):
    url = "/api/entities/campaign/c1/users"
    body = ok(client, url, date="2025-01-02", list="trial", limit=1, offset=1)
    assert (body["total"], body["user_ids"]) == (2, ["u2"])          # trial list u1,u2
    assert ok(client, url, date="2025-01-02", list="trial")["user_ids"] == ["u1", "u2"]
    assert ok(client, url, date="2025-01-02", list="converted")["user_ids"] == ["u1"]
    assert ok(client, url, date="2025-01-02", list="purchase")["user_ids"] == ["u6"]
    assert ok(client, url, date="2025-01-02", list="purchase_refund")["total"] == 0
    # the ZZ breakdown row: u2 (NULL country) trial, u6 ('' country) purchase
    assert ok(client, url, date="2025-01-02", list="trial", country="ZZ")["user_ids"] == ["u2"]
    # as1: u5 converts too (filled from ad 777)
    assert ok(client, "/api/entities/adset/as1/users", date="2025-01-02", list="converted")["user_ids"] == [
        "u1", "u5"]
    past = ok(client, url, date="2025-01-02", list="trial", offset=5)
    assert (past["total"], past["user_ids"]) == (2, [])


# --- denominators, provisional refund rates, the previous period, CSV ---------------------------

C1_DENOMINATORS = {                                  # campaign c1 over the window (hand-worked above)
    "meta_trial_count": 4, "meta_purchase_count": 1,  # the Meta denominators of the accuracy ratios
    "mixpanel_purchase_count": 1,                     # u6: purchase_refund_rate_actual's denominator
    "post_trial_user_count": 2,                       # u1, u2 (u6's 01-09 trial is not post-trial)
    "converted_user_count": 1,                        # u1
    "trial_conversion_estimate_pair_count": 3, "trial_refund_estimate_pair_count": 1,
    "purchase_refund_estimate_pair_count": 1,
}


def test_range_answers_carry_their_denominators(client):
    table = ok(client, "/api/entities", level="campaign", sort="entity_id", order="asc")["rows"]
    c1 = table[0]
    assert c1["denominators"] == C1_DENOMINATORS
    assert ok(client, "/api/entities/campaign/c1")["denominators"] == C1_DENOMINATORS
    countries = {row["country"]: row for row in ok(client, "/api/entities/campaign/c1/countries")}
    assert countries["ALL"]["denominators"] == C1_DENOMINATORS
    # US: u1 only (post-trial, converted, 1 conversion-estimate and 1 refund-estimate pair, no
    # purchase); Meta 'United States' 3 trials 1 purchase + 'US' 0 / 0
    assert countries["US"]["denominators"] == {
        "meta_trial_count": 3, "meta_purchase_count": 1, "mixpanel_purchase_count": 0, "post_trial_user_count": 1,
        "converted_user_count": 1, "trial_conversion_estimate_pair_count": 1, "trial_refund_estimate_pair_count": 1,
        "purchase_refund_estimate_pair_count": 0}
    # c9: u3's purchase (01-02) only: no trial, so trial conversion has nothing to divide by
    c9 = table[2]
    assert (c9["entity_id"], c9["denominators"]["post_trial_user_count"], c9["totals"]["trial_conversion_rate_actual"],
            c9["denominators"]["mixpanel_purchase_count"]) == ("c9", 0, 0.0, 1)
    # c1 on 01-09 .. 01-10: u6's trial of 01-09 is 1 day old: no post-trial user yet, and the
    # stored rate is 0 (docs/metrics.md §5), which the denominator tells apart from "none converted"
    late = ok(client, "/api/entities/campaign/c1", start="2025-01-09", end="2025-01-10")
    assert (late["denominators"]["post_trial_user_count"], late["totals"]["trial_conversion_rate_actual"],
            late["denominators"]["trial_conversion_estimate_pair_count"]) == (0, 0.0, 1)


def test_refund_rates_of_young_cohorts_are_provisional(client, tiny_release):
    # refund_maturity_days 14 (default): cohorts after 2025-01-10 - 14 = 2024-12-27 are young; c1's
    # converted user u1 and purchaser u6 are both of 01-02: 1 of 1 young -> provisional
    assert ok(client, "/api/health")["refund_maturity_days"] == 14
    c1 = ok(client, "/api/entities/campaign/c1")
    assert c1["provisional"] == {"trial_refund_rate_actual": True, "purchase_refund_rate_actual": True}
    # US: u1 converted (young) -> provisional; no purchase -> an empty denominator is not provisional
    us = [row for row in ok(client, "/api/entities/campaign/c1/countries") if row["country"] == "US"][0]
    assert us["provisional"] == {"trial_refund_rate_actual": True, "purchase_refund_rate_actual": False}
    # The flag is "more than half of the denominator's entries are young", on the release's parts:
    # adset as1 has 2 converted users (u1, u5, both 01-02). With 1 of them young the rate is not
    # provisional, with 2 it is; 0 young purchases of c1's 1 -> not provisional.
    con = duckdb.connect(str(tiny_release / "tiny.duckdb"))       # the catalog the compiled SQL names
    try:
        release = str(tiny_release / "wh" / "tiny.duckdb")
        con.execute(f"attach '{release}' as published (read_only)")
        sql = con.execute("select sql from published.precompute_queries where name = 'api_entity_range_totals'").fetchone()[0]
        con.execute("create table entity_daily_range_parts as select * from published.entity_daily_range_parts")
        con.execute("detach published")

        def flags(entity_type, entity_id, young_converted, young_purchases):
            con.execute("update entity_daily_range_parts set maturing_converted_user_count = ?, "
                        "maturing_mixpanel_purchase_count = ? where date = '2025-01-02'",
                        [young_converted, young_purchases])
            cursor = con.execute(sql, [entity_type, entity_id, dt.date(2025, 1, 1), dt.date(2025, 1, 10)])
            row = dict(zip([column[0] for column in cursor.description], cursor.fetchone()))
            return row["trial_refund_rate_actual_provisional"], row["purchase_refund_rate_actual_provisional"]

        assert flags("adset", "as1", 2, 0) == (1, 0)
        assert flags("adset", "as1", 1, 0) == (0, 0)
        assert flags("campaign", "c1", 0, 0) == (0, 0)
        assert flags("campaign", "c1", 1, 1) == (1, 1)
    finally:
        con.close()


def test_overview_totals_of_a_range_and_of_the_previous_period(client):
    # campaigns, 01-06 .. 01-10 against 01-01 .. 01-05
    body = ok(client, "/api/overview/campaign/totals", start="2025-01-06", end="2025-01-10")
    assert (body["start"], body["end"]) == ("2025-01-06", "2025-01-10")
    assert (body["previous"]["start"], body["previous"]["end"]) == ("2025-01-01", "2025-01-05")
    now, before, change = body["totals"], body["previous"]["totals"], body["change"]
    # now: u6's trial (c1, 01-09) only: no spend, 1 trial, adjusted 12.00; before: c1's 15.50 spend
    # (orphan's 3.00 has no campaign), trials u1 u2 (c1) + u5 (c2), adjusted 120 (c1) + 50 (c9)
    assert (now["meta_spend"], now["mixpanel_trial_count"], now["adjusted_estimated_revenue_usd"]) == (0.0, 1, 12.0)
    assert (before["meta_spend"], before["mixpanel_trial_count"], before["adjusted_estimated_revenue_usd"]) == (
        15.5, 3, 170.0)
    assert before["estimated_roas"] == approx(170 / 15.5)
    # changes: (now - before) / |before|; None where before is 0
    assert change["meta_spend"] == -1.0
    assert change["mixpanel_trial_count"] == approx(-2 / 3)
    assert change["adjusted_estimated_revenue_usd"] == approx((12 - 170) / 170)
    assert change["trial_accuracy_ratio"] == approx((100 - 75) / 75)   # 1 / 0 Meta -> 100; 3 / 4 -> 75
    # the previous period's denominators: post-trial u1 u2 u5, converted u1 u5, purchases u6 (c1) u3 (c9)
    assert {k: body["previous"]["denominators"][k] for k in (
        "post_trial_user_count", "converted_user_count", "mixpanel_purchase_count")} == {
        "post_trial_user_count": 3, "converted_user_count": 2, "mixpanel_purchase_count": 2}
    assert body["denominators"]["post_trial_user_count"] == 0
    # 01-05 .. 01-06 against 01-03 .. 01-04: no campaign spend in either (orphan's 01-03 spend has
    # no campaign): a change from 0 is None
    quiet = ok(client, "/api/overview/campaign/totals", start="2025-01-05", end="2025-01-06")
    assert quiet["previous"]["totals"]["meta_spend"] == 0.0 and quiet["change"]["meta_spend"] is None
    # the whole window has no previous period in the window
    whole = ok(client, "/api/overview/campaign/totals")
    assert whole["previous"] is None and whole["change"] is None
    assert whole["totals"]["meta_spend"] == 15.5


def _csv(client, url: str, **params) -> list[dict[str, str]]:
    response = client.get(url, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def _same_as_json(table: list[dict[str, str]], rows: list[dict]) -> None:
    """A CSV equals the rows of its JSON: the same rows, the same columns (nested objects as
    <object>.<field>), in order; each cell the JSON's value."""
    from python_hooks.api.csv_answers import flatten

    assert len(table) == len(rows) and rows
    for cells, row in zip(table, rows):
        flat = flatten(row)
        assert list(cells) == list(flat)
        for name, value in flat.items():
            if value is None:
                assert cells[name] == "", name
            elif isinstance(value, bool):
                assert cells[name] == str(value).lower(), name
            elif isinstance(value, (int, float)):
                assert float(cells[name]) == value, name
            else:
                assert cells[name] == value, name


def test_csv_answers_equal_the_json(client):
    params = {"level": "ad", "start": "2025-01-01", "end": "2025-01-10", "limit": 3, "offset": 1}
    _same_as_json(_csv(client, "/api/entities", **params), ok(client, "/api/entities", **params)["rows"])
    # one file for a whole level: more rows than a JSON page may hold
    assert client.get("/api/entities", params={"level": "ad", "limit": 501, "format": "csv"}).status_code == 200
    url = "/api/entities/campaign/c1/countries"
    _same_as_json(_csv(client, url), ok(client, url))
    url = "/api/entities/campaign/c1/users"
    assert _csv(client, url, date="2025-01-02", list="trial") == [{"user_id": "u1"}, {"user_id": "u2"}]
    assert [row["user_id"] for row in _csv(client, url, date="2025-01-02", list="trial", offset=1)] == \
        ok(client, url, date="2025-01-02", list="trial", offset=1)["user_ids"]
    # an empty answer still has its header
    response = client.get("/api/entities", params={"level": "ad", "offset": 99, "format": "csv"})
    assert response.text.splitlines()[0].startswith("entity_type,entity_id,name,parent_id,totals.meta_spend")


# --- bad parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("url, params, status, names", [
    ("/api/entities", {"level": "region"}, 422, "level"),
    ("/api/overview/region/sparkline", {}, 422, "level"),
    ("/api/entities", {"level": "ad", "start": "2025-02-30"}, 422, "start"),
    ("/api/entities", {"level": "ad", "start": "2025-01-05", "end": "2025-01-02"}, 422, "start"),
    ("/api/entities", {"level": "ad", "start": "2024-12-31"}, 422, "start"),
    ("/api/entities", {"level": "ad", "end": "2025-01-11"}, 422, "end"),
    ("/api/entities", {"level": "ad", "limit": 0}, 422, "limit"),
    ("/api/entities", {"level": "ad", "limit": 501}, 422, "limit"),
    ("/api/entities", {"level": "ad", "offset": -1}, 422, "offset"),
    ("/api/entities", {"level": "ad", "sort": "meta_spend; drop table x"}, 422, "sort"),
    ("/api/entities", {"level": "campaign", "parent_id": "c1"}, 422, "parent_id"),
    ("/api/entities", {"level": "adset", "parent_id": "nope"}, 404, "entity_id"),
    ("/api/entities/ad/nope", {}, 404, "entity_id"),
    ("/api/entities/adset/000777", {}, 404, "entity_id"),   # an ad id is not an adset
    ("/api/entities/ad/000777/countries", {"date": "2025-01-02", "start": "2025-01-01"}, 422, "date"),
    ("/api/entities/ad/000777/countries", {"date": "2025-01-11"}, 422, "date"),
    ("/api/entities/ad/000777/sparkline", {"metrics": "meta_spend,bogus"}, 422, "metrics"),
    ("/api/entities/ad/000777/sparkline", {"days": 0}, 422, "days"),
    ("/api/entities/ad/000777/sparkline", {"country": "usa"}, 422, "country"),
    ("/api/overview/ad/sparkline", {"end": "2025-02-01"}, 422, "end"),
    ("/api/sparklines", {"level": "region"}, 422, "level"),
    ("/api/sparklines", {"level": "campaign", "parent_id": "c1"}, 422, "parent_id"),
    ("/api/sparklines", {"level": "ad", "parent_id": "nope"}, 404, "entity_id"),
    ("/api/sparklines", {"level": "ad", "days": 400}, 422, "days"),
    ("/api/entities/ad/000777/users", {"date": "2025-01-02", "list": "everyone"}, 422, "list"),
    ("/api/entities/ad/000777/users", {"list": "trial"}, 422, "date"),
    ("/api/entities/ad/000777/users", {"date": "2025-01-02", "list": "trial", "limit": 5000}, 422, "limit"),
])
def test_bad_parameters_get_a_4xx_naming_the_parameter(client, url, params, status, names):
    response = client.get(url, params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else " ".join(str(item["loc"][-1]) for item in detail)
    assert names in text, detail


# --- schema and page ----------------------------------------------------------------------------

def test_openapi_lists_every_endpoint(client):
    schema = ok(client, "/openapi.json")
    assert set(schema["paths"]) == {
        "/api/health", "/api/entities", "/api/entities/{level}/{entity_id}",
        "/api/entities/{level}/{entity_id}/countries", "/api/entities/{level}/{entity_id}/sparkline",
        "/api/overview/{level}/sparkline", "/api/entities/{level}/{entity_id}/users", "/api/sparklines",
        "/api/catalogue", "/api/quality", "/api/entities/{level}/{entity_id}/curve",
        "/api/overview/{level}/totals",
    }
    totals = schema["components"]["schemas"]["Totals"]["properties"]
    assert tuple(totals) == RANGE_METRICS


def test_the_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and "html" in response.headers["content-type"]


# --- a new release without a restart ----------------------------------------------------------

def test_a_new_release_is_picked_up_without_a_restart(tiny_release, client):
    before = ok(client, "/api/health")["run_id"]
    _publish(tiny_release)
    after = ok(client, "/api/health")
    assert after["run_id"] != before
    assert after["run_id"] == Path(os.readlink(tiny_release / "wh" / "tiny.duckdb")).parent.name
    assert ok(client, "/api/entities", level="ad")["total"] == 5


def test_nothing_published_is_a_503(tmp_path):
    with TestClient(create_app(tmp_path / "missing.duckdb")) as empty:
        response = empty.get("/api/health")
    assert response.status_code == 503 and "precompute run" in response.json()["detail"]


# --- the warm-up of a new release --------------------------------------

def _page_first_view(health: dict, view: dict) -> list[tuple[str, dict]]:
    """The requests of the page's first load and first clicks, as python_hooks/api/static/app.js sends them
    (its view and metrics from /api/catalogue)."""
    end = dt.date.fromisoformat(health["as_of_date"])
    start = max(dt.date.fromisoformat(health["start_date"]), end - dt.timedelta(days=view["range_days"] - 1))
    metrics = ",".join(m["metric"] for m in view["overview"])
    table = {"start": str(start), "end": str(end), "sort": view["sort"], "order": view["order"],
             "limit": view["page_size"], "offset": 0}
    spark = {"end": str(end), "days": view["row_spark_days"], "metrics": metrics}
    return [
        ("/api/overview/campaign/sparkline", {"end": str(end), "days": view["overview_days"], "metrics": metrics}),
        ("/api/entities", {"level": "campaign", **table}),
        ("/api/sparklines", {"level": "campaign", **spark}),
        ("/api/entities", {"level": "adset", "parent_id": "c1", **table}),
        ("/api/sparklines", {"level": "adset", "parent_id": "c1", **spark}),
        ("/api/entities/campaign/c1/countries", {"start": str(start), "end": str(end)}),
        ("/api/entities/ad/000777", {"start": str(start), "end": str(end)}),
    ]


def test_the_warm_up_answers_the_page_first_view_as_requests_would(tiny_release):
    with TestClient(create_app(tiny_release / "wh" / "tiny.duckdb", warm=True)) as warm, \
            TestClient(create_app(tiny_release / "wh" / "tiny.duckdb", warm=False)) as cold:
        health = ok(warm, "/api/health")                     # opens the release: the warm-up starts
        reader = warm.app.state.reader
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while not reader.warmed and dt.datetime.now() < deadline:
            threading.Event().wait(0.05)
        ((built, _seconds),) = reader.warmed.values()
        assert ok(warm, "/api/health")["warm_up_answers"] == built
        # tiny (entity_names): 3 overviews; the campaign table, the adset tables of c1, c2
        # and c9 and the ad tables of as1 and as2, each with its sparklines (2 x 6); then
        # 3 campaigns + 2 adsets + 5 ads, each with countries, detail and sparkline (3 x 10)
        assert built == 3 + 12 + 30
        with reader.acquire() as release:
            kept = len(release.cache)
            for url, params in _page_first_view(health, ok(warm, "/api/catalogue")["page"]):
                body = warm.get(url, params=params)
                assert body.status_code == 200, (url, body.text)
                assert body.content == cold.get(url, params=params).content, url   # same answer as a cold build
                assert len(release.cache) == kept, f"{url} {params} was not kept by the warm-up"


def test_the_page_view_is_the_one_the_warm_up_builds(client):
    # the page takes its first view from /api/catalogue: the same view the warm-up builds
    from python_hooks.api.answers import DEFAULT_SPARK_METRICS, PAGE_VIEW

    view = ok(client, "/api/catalogue")["page"]
    assert {k: view[k] for k in PAGE_VIEW} == PAGE_VIEW
    assert PAGE_VIEW == {"range_days": 14, "overview_days": 28, "row_spark_days": 14, "page_size": 50,
                         "sort": "meta_spend", "order": "desc"}
    assert tuple(m["metric"] for m in view["overview"]) == DEFAULT_SPARK_METRICS
    assert len(view["columns"]) == 17 and len(view["overview"]) == 4


# --- one metric catalogue: the API and the page show no metric the catalogue lacks ---------------

# Numeric fields of the metric-bearing response models that are not metrics (none today); a field
# described as "= <metric>" is the spec's alias of that metric.
NOT_METRICS: set[str] = set()


def metrics_outside(known, openapi: dict, catalogue_answer: dict, page_script: str) -> set[str]:
    """Metrics the API or the page shows that the catalogue ``known`` lacks."""
    names = {column.name for column in known.metrics()}
    shown: set[str] = set()
    schemas = openapi["components"]["schemas"]
    for model in ("Totals", "CountryTotals", "DayRow"):
        for field, spec in schemas[model]["properties"].items():
            numeric = spec.get("type") in ("number", "integer")
            alias = (spec.get("description") or "").startswith("= ")
            if alias:
                shown.add(spec["description"][2:])
            elif numeric and field not in NOT_METRICS:
                shown.add(field)
    shown |= {m["name"] for m in catalogue_answer["metrics"]} | set(catalogue_answer["range_metrics"])
    shown |= {m["metric"] for m in catalogue_answer["page"]["columns"] + catalogue_answer["page"]["overview"]}
    shown.add(catalogue_answer["page"]["sort"])
    # the page names no metric of its own: every quoted snake_case word of app.js that names a mart column
    every_column = {column.name for mart in known.columns.values() for column in mart} | names
    words = set(re.findall(r'["\'`]([a-z]+(?:_[a-z0-9]+)+)["\'`]', page_script))
    shown |= {word for word in words if word in every_column or re.search(
        r"(_count|_usd|_rate|_ratio|_roas|_estimated|_actual|^meta_|^mixpanel_)", word)}
    return shown - names


def test_the_api_and_the_page_show_no_metric_the_catalogue_lacks(client, tmp_path):
    openapi = ok(client, "/openapi.json")
    answer = ok(client, "/api/catalogue")
    script = (PROJECT_DIR / "python_hooks" / "api" / "static" / "app.js").read_text(encoding="utf-8")
    assert metrics_outside(catalogue(), openapi, answer, script) == set()
    assert [m["name"] for m in answer["metrics"]] == [c.name for c in catalogue().metrics()]
    # the API's answers carry the catalogue's range metrics, and nothing else
    row = ok(client, "/api/entities", level="campaign", limit=1)["rows"][0]
    assert tuple(row["totals"]) == RANGE_METRICS
    day = ok(client, "/api/entities/campaign/c1", start="2025-01-02", end="2025-01-02")["daily"][0]
    assert set(day) - {"date", "computed_at"} == {c.name for c in catalogue().metrics()}
    # the check can fail: a catalogue without click_to_trial_rate, a page that names a metric itself
    yaml_text = (PROJECT_DIR / MARTS_YAML).read_text(encoding="utf-8")
    broken = tmp_path / "_marts__models.yml"
    broken.write_text(yaml_text.replace("meta: {unit: percent, range_total: formula}}", "meta: {}}", 1),
                      encoding="utf-8")
    assert metrics_outside(read_catalogue(broken), openapi, answer, script) == {"click_to_trial_rate"}
    assert metrics_outside(catalogue(), openapi, answer, script + '\nconst X = "meta_new_count";') == {
        "meta_new_count"}


def test_every_metric_of_the_catalogue_has_a_type_and_a_unit_the_page_can_show():
    # money is shown in USD, counts are integers, rates are 0-1 fractions (docs/metrics.md §5)
    for column in catalogue().metrics():
        assert (column.unit == "count") == column.is_integer, column
        assert (column.unit == "usd") == (column.data_type == "decimal(18,2)"), column
        if column.unit == "fraction":
            assert column.data_type in ("decimal(5,4)", "decimal(3,2)"), column
    assert set(catalogue().list_columns) == {c for c in (x.name for x in catalogue().mart()) if c.endswith("_user_ids")}
    # both marts carry the same metrics (entity_country_breakdown lists them by YAML alias)
    assert catalogue().metrics("entity_daily_metrics") == catalogue().metrics("entity_country_breakdown")
