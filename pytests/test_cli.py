"""End-to-end tests of the ``precompute`` console entry point on the tiny data set.

Every test writes ``pytests/tiny_dataset.py`` (possibly broken) into tmp_path and
runs the installed console script (``.venv/bin/precompute``; ``python -m
python_hooks.cli`` when it is not installed) in a subprocess, with the warehouse,
dbt's target path and log path all in tmp_path (nothing is written to the project).

Expected numbers, worked out by hand from tiny_dataset.py (window 2025-01-01 ..
2025-01-10, trial_days 7):

Entities (docs/metrics.md §3): campaign c1, c2 (u5's own id), c9 (u3's own id) = 3;
adset as1, as2 = 2; ad 000777, 777, a2, orphan (Meta only), ghost (u3 only) = 5.
10 entities x 10 days = 100 rows of entity_daily_metrics.

entity_country_breakdown (docs/metrics.md §4: Meta country data after mapping, or
trial / purchase users of that country), all on 2025-01-02 unless noted:
  Meta: 000777 United States + US -> US, Atlantis -> ZZ; 777 Germany -> DE
        (its exact duplicate counts once), rolled up to as1 and c1.
  Users: u1 trial US (000777/as1/c1), u2 trial ZZ (000777/as1/c1),
         u3 purchase DE (ghost, c9; no adset), u5 trial US (777, as1, own c2),
         u6 purchase ZZ on 01-02 and trial ZZ on 01-09 (as2, c1; no ad).
  ad:       000777 US, 000777 ZZ, 777 DE, 777 US, ghost DE                = 5
  adset:    as1 US, as1 ZZ, as1 DE, as2 ZZ, as2 ZZ (01-09)                = 5
  campaign: c1 US, c1 ZZ, c1 DE, c1 ZZ (01-09), c2 US, c9 DE              = 6
                                                                   total = 16

int_source_rows_rejected (docs/metrics.md §2 and the window):
  ad_performance_daily          exact_duplicate 1 (000777 01-02), negative_measure 1 (a2),
                                outside_reporting_window 1 (000777 01-12)          = 3
  ad_performance_daily_country  exact_duplicate 1 (777 Germany)                     = 1
  id_hierarchy_mapping          exact_duplicate 1 (a2)                              = 1
  mixpanel_user                 comma_in_distinct_id 1, null_distinct_id 1          = 2
  mixpanel_event                duplicate_delivery 1 (e01), comma_in_distinct_id 1 (e70),
                                null_distinct_id 1 (e71), after_as_of_date 1 (e05)  = 4
  user_product_metrics          none                                                = 0
                                                                           total = 11
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tiny_dataset
from conftest import precompute_command, precompute_env
from python_hooks.project import PROJECT_DIR

WINDOW = ["--start", tiny_dataset.START_DATE, "--as-of", tiny_dataset.AS_OF_DATE]
PROGRESS_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] (OK|PASS)\s+(model|test|seed|unit_test)\s+\S+ \(\d+\.\d+s\)$",
                           re.MULTILINE)

EXPECTED_ROWS = {"entity_daily_metrics": 100, "entity_country_breakdown": 16,
                 "entity_cohort_curves": 600,  # 100 entity days x 6 horizons
                 "int_source_rows_rejected": 11}
EXPECTED_REJECTS = tiny_dataset.REJECTS


def precompute(work: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*precompute_command(), *args], cwd=work, env=env or precompute_env(work),
                          capture_output=True, text=True, timeout=300)


def _report(work: Path, name: str | None = None) -> dict:
    """The newest run report (target/runs/<run id>/run_report.json), or a named file in target/."""
    if name:
        return json.loads((work / "target" / name).read_text(encoding="utf-8"))
    reports = sorted((work / "target" / "runs").glob("*/run_report.json"))
    assert reports, f"no run report under {work / 'target' / 'runs'}"
    return json.loads(reports[-1].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One successful `precompute run` on the tiny set (relative paths, resolved by the CLI)."""
    work = tmp_path_factory.mktemp("tiny_run")
    tiny_dataset.write(work / "raw")
    proc = precompute(work, "run", "--raw-dir", "raw", "--warehouse", "wh/tiny.duckdb", *WINDOW)
    return work, proc


def test_run_succeeds_with_progress_and_report(tiny_run):
    work, proc = tiny_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # (a) progress: one line per finished node, "[i/n] STATUS type name (time)", up to n/n
    lines = PROGRESS_LINE.findall(proc.stdout)
    assert len(lines) > 100
    assert {int(n) for _, n, _, _ in lines} == {len(lines)}
    assert sorted(int(i) for i, _, _, _ in lines) == list(range(1, len(lines) + 1))
    assert "[hook] OK" in proc.stdout
    assert (work / "wh" / "tiny.duckdb").is_file()  # relative --warehouse resolved, parent created
    assert (work / "wh" / "tiny.duckdb").is_symlink()  # the published path points at the release

    report = _report(work)
    assert report["status"] == "published" and report["exit_code"] == 0 and report["published"] is True
    assert report["warehouse"] == str(work / "wh" / "tiny.duckdb")
    assert report["raw_data_dir"] == str(work / "raw")
    assert report["rows"] == EXPECTED_ROWS
    rejects = {(r["source_table"], r["reject_reason"]): r["rows"] for r in report["rejects"]}
    assert rejects == EXPECTED_REJECTS
    assert report["window"] == {"start_date": "2025-01-01", "as_of_date": "2025-01-10", "trial_days": 7,
                                "last_post_trial_cohort_date": "2025-01-03", "window_days": 10,
                                "first_source_date": "2024-12-31", "last_source_date": "2025-01-12",
                                "refund_maturity_days": 14, "last_mature_refund_cohort_date": "2024-12-27"}
    assert {lvl: v["entities"] for lvl, v in report["entities"].items()} == {"campaign": 3, "adset": 2, "ad": 5}
    for table in ("entity_daily_metrics", "entity_country_breakdown"):
        dist = report["data_quality_score"][table]
        assert sum(dist["buckets"].values()) == EXPECTED_ROWS[table]
        assert 0 <= dist["min"] <= dist["median"] <= dist["max"] <= 1
    tests = report["tests"]["counts"]
    # every data and unit test ran and passed (74 on the tiny set)
    assert tests["fail"] == tests["error"] == 0 and tests["pass"] == tests["total"] > 60
    assert all(n["execution_time"] >= 0 for n in report["nodes"])
    # the human summary
    assert "entity_country_breakdown 16" in proc.stdout
    assert "2025-01-01 .. 2025-01-10" in proc.stdout


def test_run_fails_on_conflicting_meta_rows(tmp_path):
    # (b) two DIFFERENT rows for (777, 2025-01-02): the unique_key gate fails with 1 failing row
    sql = tiny_dataset.TABLES["ad_performance_daily"].replace(
        "('777',    '2025-01-02',  5.50,  500, 20, 0, 0),",
        "('777',    '2025-01-02',  5.50,  500, 20, 0, 0),\n"
        "            ('777',    '2025-01-02',  6.50,  600, 20, 0, 0),",
    )
    assert sql != tiny_dataset.TABLES["ad_performance_daily"]
    tiny_dataset.write(tmp_path / "raw", overrides={"ad_performance_daily": sql})
    proc = precompute(tmp_path, "run", "--raw-dir", str(tmp_path / "raw"),
                      "--warehouse", str(tmp_path / "w.duckdb"), *WINDOW)
    assert proc.returncode != 0
    test_name = "unique_key_stg_meta_ads__ad_performance_daily_ad_id__report_date"
    assert re.search(rf"FAIL 1\s+test\s+{test_name}", proc.stdout), proc.stdout  # progress line
    assert f"FAIL  {test_name}: 1 failing row" in proc.stdout  # summary
    assert "ad_id=777 | report_date=2025-01-02" in proc.stdout  # the key is named
    report = _report(tmp_path)
    assert report["status"] == "failed" and report["exit_code"] == 1 and report["published"] is False
    assert not (tmp_path / "w.duckdb").exists()  # nothing was ever published there
    [failing] = report["tests"]["failing"]
    assert failing["name"] == test_name and failing["failures"] == 1
    assert report["rows"]["entity_daily_metrics"] is None  # not built in this run


def test_run_fails_on_missing_column_and_file(tmp_path):
    # (c) mixpanel_user without abi_ad_set_id, and no user_product_metrics.parquet
    sql = tiny_dataset.TABLES["mixpanel_user"].replace("abi_ad_set_id, abi_ad_id,\n", "abi_ad_id,\n", 1)
    assert sql != tiny_dataset.TABLES["mixpanel_user"]
    tiny_dataset.write(tmp_path / "raw", overrides={"mixpanel_user": sql}, skip=("user_product_metrics",))
    proc = precompute(tmp_path, "run", "--raw-dir", "raw", "--warehouse", "w.duckdb")
    assert proc.returncode == 3  # the source contract: nothing built
    out = proc.stdout + proc.stderr
    assert f"{tmp_path / 'raw' / 'mixpanel_user.parquet'}): missing column 'abi_ad_set_id'" in out
    assert f"not found at {tmp_path / 'raw' / 'user_product_metrics.parquet'}" in out
    report = _report(tmp_path)  # written even though dbt stopped before any node
    assert report["status"] == "source_contract_violated" and "abi_ad_set_id" in report["errors"][0]


def test_validate_matches_on_demand(tiny_run):
    # (d) every drawn cell matches the on-demand path
    work, proc = tiny_run
    assert proc.returncode == 0
    v = precompute(work, "validate", "--cases", "200", "--warehouse", "wh/tiny.duckdb", "--raw-dir", "raw")
    assert v.returncode == 0, v.stdout + v.stderr
    assert "matching cells: 200/200 = 100.00%" in v.stdout
    report = _report(work, "precompute_validate_report.json")
    assert report["share_percent"] == 100.0 and report["mismatches"] == []
    assert report["raw_data_dir"] == str(work / "raw")
    assert set(report["per_category"]) == {"overall", "overall_empty", "breakdown", "breakdown_absent", "curves"}
    assert {c["entity_type"] for c in report["cells_compared"]} == {"campaign", "adset", "ad"}
    # deterministic for a seed
    again = precompute(work, "validate", "--cases", "200", "--warehouse", "wh/tiny.duckdb", "--raw-dir", "raw")
    assert _report(work, "precompute_validate_report.json")["cells_compared"] == report["cells_compared"]
    assert again.returncode == 0


def _pipeline_script() -> Path:
    pipeline_yaml = PROJECT_DIR / "pipelines" / "master_pipeline.yaml"
    [step] = yaml.safe_load(pipeline_yaml.read_text(encoding="utf-8"))
    assert step["id"] == "⚡ Pre-processing - Pre-compute Dashboard Metrics" and step["tested"] is True
    script = (pipeline_yaml.parent / step["file"]).resolve()
    assert script == PROJECT_DIR / "pipelines" / "04_precompute_dashboard_metrics.py"
    return script


def test_pipeline_step_passes_yesterday_and_exits_non_zero_without_a_release(tmp_path):
    # master_pipeline.yaml's entry runs `precompute run`, forwarding env and args, exit code kept;
    # a missing source is exit 3 (nothing built, nothing published)
    tiny_dataset.write(tmp_path / "raw", skip=("mixpanel_event",))
    env = precompute_env(tmp_path) | {"RAW_DATA_DIR": str(tmp_path / "raw")}
    proc = subprocess.run([sys.executable, str(_pipeline_script()), "--warehouse", "w.duckdb"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"not found at {tmp_path / 'raw' / 'mixpanel_event.parquet'}" in proc.stdout + proc.stderr
    report = _report(tmp_path)
    assert report["warehouse"] == str(tmp_path / "w.duckdb")
    assert report["raw_data_dir"] == str(tmp_path / "raw")
    yesterday = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)
    assert report["vars"]["as_of_date"] == yesterday.isoformat()  # the step's explicit as-of
    assert not (tmp_path / "w.duckdb").exists()


def test_pipeline_step_publishes_and_warns_when_as_of_is_after_the_sources(tmp_path):
    # PRECOMPUTE_AS_OF overrides "yesterday"; the sources end on 2025-01-12, so the run warns
    tiny_dataset.write(tmp_path / "raw")
    env = precompute_env(tmp_path) | {"RAW_DATA_DIR": str(tmp_path / "raw"), "PRECOMPUTE_AS_OF": "2025-01-20"}
    proc = subprocess.run([sys.executable, str(_pipeline_script()), "--warehouse", "w.duckdb",
                           "--start", tiny_dataset.START_DATE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert ("warning: as_of_date 2025-01-20 is later than the last source date 2025-01-12"
            in proc.stderr), proc.stderr
    report = _report(tmp_path)
    assert report["published"] is True and report["warnings"]
    assert (tmp_path / "w.duckdb").is_symlink()
    # data quality: Meta through 01-12 < 01-19 and Mixpanel through 01-11 < 01-20 (both late); the
    # last event day 01-11 has 1 event (e05), the median of 01-01 .. 01-10 is 1 (0 0 1 1 1 1 1 1 3 6)
    checks = {c["check_name"]: c for c in report["data_quality_checks"]}
    assert (checks["source_freshness"]["status"], checks["source_freshness"]["offending_count"]) == ("warn", 2)
    assert (checks["event_volume_drop"]["status"], checks["event_volume_drop"]["offending_count"]) == ("pass", 0)
    assert "warning: data quality: source_freshness: Meta through 2025-01-12" in proc.stderr
    assert "WARN  source_freshness: Meta through 2025-01-12, Mixpanel through 2025-01-11" in proc.stdout
