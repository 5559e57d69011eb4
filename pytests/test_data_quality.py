"""The data-quality checks end to end: a release of sources made to trip two of them.

A small data set, 2025-01-01 .. 2025-01-10, as clean as the tiny one is not: ads
`ad_ok` and `ad_silent` (adset as_q, campaign c_q) spend 10.00 a day every day, in
the United States; `ad_ok` has 4 Mixpanel trials a day (each with its metrics
row) on 01-01 .. 01-09 and 1 on 01-10, a last day cut short by a failed export;
`ad_silent` has no Mixpanel user at all. No row is rejected, every cohort pair has
its metrics row, every country label is mapped, and both sources reach as_of_date.

So `precompute run` publishes, and the run report, its summary and
`GET /api/quality` list two warnings: `spend_without_mixpanel_users` (ad_silent)
and `event_volume_drop` (1 event against a median of 4); the four other checks
pass (test_api.py sees them warn on the tiny release, test_cli.py sees
source_freshness warn and event_volume_drop pass).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_dataset  # noqa: E402
from conftest import precompute_command, precompute_env  # noqa: E402

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from python_hooks.api import create_app  # noqa: E402

_DAYS = "range(0, 10) as days(day_number)"
_DAY = "cast(date '2025-01-01' + day_number * interval 1 day as date)"
# the trials of ad_ok: 4 a day on 01-01 .. 01-09, 1 on 01-10 (the cut-short export)
_TRIALS = f"""
    select 'u_' || day_number || '_' || trial_number as distinct_id, {_DAY} as trial_day
    from {_DAYS} cross join range(0, 4) as trials(trial_number)
    where day_number < 9 or trial_number = 0
"""
TRIPS: dict[str, str] = {
    "id_hierarchy_mapping": """
        select * from (values ('ad_ok', 'as_q', 'c_q'), ('ad_silent', 'as_q', 'c_q')) as t(ad_id, adset_id, campaign_id)
    """,
    "ad_performance_daily": f"""
        select ad_id, {_DAY} as date, 10.0::double as spend, 1000::bigint as impressions, 50::bigint as clicks,
               4::bigint as meta_trials, 0::bigint as meta_purchases
        from {_DAYS} cross join (values ('ad_ok'), ('ad_silent')) as ads(ad_id)
    """,
    "ad_performance_daily_country": f"""
        select ad_id, {_DAY} as date, 'United States' as country, 10.0::double as spend,
               1000::bigint as impressions, 50::bigint as clicks, 4::bigint as meta_trials,
               0::bigint as meta_purchases
        from {_DAYS} cross join (values ('ad_ok'), ('ad_silent')) as ads(ad_id)
    """,
    "mixpanel_user": f"""
        select distinct_id, 'c_q' as abi_campaign_id, 'as_q' as abi_ad_set_id, 'ad_ok' as abi_ad_id,
               true as has_abi_attribution, 'US' as country
        from ({_TRIALS})
    """,
    "mixpanel_event": f"""
        select 'ev_' || distinct_id as event_uuid, distinct_id, 'RC Trial started' as event_name,
               cast(trial_day + interval 10 hour as timestamp) as event_time, 'prod_q' as product_id,
               cast(null as double) as revenue_usd
        from ({_TRIALS})
    """,
    "user_product_metrics": f"""
        select distinct_id, 'prod_q' as product_id, 0.5::double as trial_conversion_rate,
               0.1::double as trial_converted_to_refund_rate, 0.1::double as initial_purchase_to_refund_rate,
               20.0::double as current_value
        from ({_TRIALS})
    """,
}


@pytest.fixture(scope="module")
def tripped_release(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("quality")
    tiny_dataset.write(work / "raw", overrides=TRIPS)
    proc = subprocess.run([*precompute_command(), "run", "--raw-dir", "raw", "--warehouse", "wh/q.duckdb",
                           "--progress", "plain", "--gate-cases", "50",
                           "--start", tiny_dataset.START_DATE, "--as-of", tiny_dataset.AS_OF_DATE],
                          cwd=work, env=precompute_env(work), capture_output=True, text=True, timeout=300)
    return work, proc


WARNINGS = {
    "spend_without_mixpanel_users": (1, "spend on each day from 2025-01-08 to 2025-01-10 and no Mixpanel trial "
                                        "or purchase user, ads: ad_silent"),
    "event_volume_drop": (1, "1 events on 2025-01-10; median of the 9 days before: 4.0"),
}
PASSES = {
    "source_freshness": "Meta through 2025-01-10, Mixpanel through 2025-01-10",
    "rejected_rows": "no rejected source rows",
    "pairs_without_metrics": "0 of 37 cohort pairs (0.0 %)",
    "unmapped_country_spend": "0.0 % of the per-country spend of the window is under ZZ; warns",
}


def test_a_release_with_tripped_checks_publishes_and_lists_the_warnings(tripped_release):
    work, proc = tripped_release
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    [release_report] = (work / "wh").glob("q.duckdb.releases/*/run_report.json")
    report = json.loads(release_report.read_text())
    assert report["published"] is True
    checks = {c["check_name"]: c for c in report["data_quality_checks"]}
    assert set(checks) == set(WARNINGS) | set(PASSES)
    for name, (count, detail) in WARNINGS.items():
        assert (checks[name]["status"], checks[name]["offending_count"]) == ("warn", count), checks[name]
        assert detail in checks[name]["detail"]
        assert f"data quality: {name}: {checks[name]['detail']}" in report["warnings"]
        assert f"WARN  {name}: {checks[name]['detail']}" in proc.stdout           # the run's summary
    for name, detail in PASSES.items():
        assert (checks[name]["status"], checks[name]["offending_count"]) == ("pass", 0), checks[name]
        assert detail in checks[name]["detail"], checks[name]
    assert "data quality 2 warnings (6 checks; never blocks a release)" in proc.stdout
    # the run lists the checks from their table, without the warn test of a plain `dbt build`
    assert report["tests"]["counts"]["warn"] == report["tests"]["counts"]["fail"] == 0

    with TestClient(create_app(work / "wh" / "q.duckdb")) as client:
        response = client.get("/api/quality")
        assert response.status_code == 200, response.text
        api_checks = response.json()["checks"]
        health = client.get("/api/health").json()
    assert [(c["name"], c["status"]) for c in api_checks[:2]] == [
        ("event_volume_drop", "warn"), ("spend_without_mixpanel_users", "warn")]
    assert {c["name"]: (c["status"], c["count"], c["detail"]) for c in api_checks} == {
        name: (c["status"], c["offending_count"], c["detail"]) for name, c in checks.items()}
    # 37 trials of 37 users: 4 x 9 + 1; 20 Meta rows a table
    assert health["sources"]["mixpanel_event"] == {"system": "mixpanel", "rows": 37, "first_date": "2025-01-01", "last_date": "2025-01-10"}
    assert health["sources"]["ad_performance_daily"] == {"system": "meta", "rows": 20, "first_date": "2025-01-01",
                                                         "last_date": "2025-01-10"}


def test_a_plain_dbt_build_shows_the_warnings_as_a_warn_test(tiny_build):
    # conftest's `dbt build` of the tiny set (test_api.py: 12 of its checks warn) exits 0
    results = json.loads((tiny_build["root"] / "target" / "run_results.json").read_text())["results"]
    [quality] = [r for r in results if r["unique_id"].startswith("test.ad_precompute.quality_checks_pass_")]
    assert (quality["status"], quality["failures"]) == ("warn", 12)
    assert not [r["unique_id"] for r in results if r["status"] in ("fail", "error")]
