"""Releases (docs/metrics.md §7): readers during runs, failed and killed runs, rollback.

``test_readers_never_fail_across_good_failed_and_killed_runs`` is the issue's
"readers during runs" test. After a first release is published, two reader
processes read the published path (pytests/release_reader.py): one reconnects
every few milliseconds, one holds a single connection throughout. Then five
runs, on variants of the bundled sample:

1. a good run;
2. a run that fails the gate (two different Meta rows for one key);
3. a run that fails a model (3,000,000,000 impressions on one ad-day: the
   mart's INTEGER column cannot hold it);
4. a good run killed with SIGKILL halfway through its dbt build;
5. a good run again.

Every read must succeed and see both marts from one run; runs 2-4 must leave
the release of run 1 published, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_DIR, precompute_command, precompute_env
from python_hooks.project import PROJECT_DIR
from python_hooks import release

READER = Path(__file__).resolve().with_name("release_reader.py")
PROGRESS_OK = re.compile(r"^\[\s*\d+/\d+\] (OK|PASS)\s")


def precompute(work: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*precompute_command(), *args], cwd=work, env=precompute_env(work),
                          capture_output=True, text=True, timeout=timeout)


def run_args(warehouse: Path, raw_dir: Path) -> list[str]:
    return ["run", "--warehouse", str(warehouse), "--raw-dir", str(raw_dir), "--progress", "plain"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_file(warehouse: Path) -> Path:
    assert warehouse.is_symlink(), f"{warehouse} is not a published release"
    return warehouse.resolve()


def published_run_id(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select run_id from precompute_release").fetchone()[0]
    finally:
        con.close()


def sample_variant(raw_dir: Path, table: str | None = None, select_sql: str | None = None) -> Path:
    """A copy of the bundled sample; ``table`` rewritten by ``select_sql`` ({src} = the sample file)."""
    shutil.copytree(SAMPLE_DIR, raw_dir)
    if table:
        src = SAMPLE_DIR / f"{table}.parquet"
        con = duckdb.connect()
        try:
            con.execute(f"copy ({select_sql.format(src=src)}) to '{raw_dir / f'{table}.parquet'}' "
                        "(format parquet)")
        finally:
            con.close()
    return raw_dir


# The first kept Meta row of the sample, in key order: the row the variants change.
FIRST_ROW = ("(select ad_id, date from read_parquet('{src}') where spend > 0 and impressions >= 0 "
             "and clicks >= 0 and meta_trials >= 0 and meta_purchases >= 0 order by ad_id, date limit 1)")

CONFLICTING_META_ROW = (
    "select * from read_parquet('{src}') union all "
    "(select * replace (spend + 1 as spend) from read_parquet('{src}') "
    f"where (ad_id, date) in {FIRST_ROW} limit 1)")

IMPRESSIONS_OVERFLOW = (
    "select * replace (case when (ad_id, date) in " + FIRST_ROW
    + " then cast(3000000000 as bigint) else impressions end as impressions) from read_parquet('{src}')")


def start_reader(work: Path, warehouse: Path, mode: str) -> tuple[subprocess.Popen, Path]:
    out = work / f"reader_{mode}.json"
    proc = subprocess.Popen([sys.executable, str(READER), str(warehouse), str(out), str(work / "stop"), mode],
                            cwd=work)
    deadline = time.monotonic() + 30
    while not Path(str(out) + ".ready").exists():
        assert proc.poll() is None, f"reader {mode} exited early"
        assert time.monotonic() < deadline, f"reader {mode} did not start"
        time.sleep(0.05)
    return proc, out


def run_and_kill_halfway(work: Path, args: list[str], after_nodes: int) -> tuple[int, str]:
    """Start a run, SIGKILL it once ``after_nodes`` nodes have finished."""
    proc = subprocess.Popen([*precompute_command(), *args], cwd=work, env=precompute_env(work),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen, lines = 0, []
    for line in proc.stdout:
        lines.append(line)
        if PROGRESS_OK.match(line):
            seen += 1
            if seen >= after_nodes:
                os.killpg(proc.pid, signal.SIGKILL)
                break
    proc.wait(timeout=60)
    proc.stdout.close()
    return proc.returncode, "".join(lines)


@pytest.mark.slow
def test_readers_never_fail_across_good_failed_and_killed_runs(tmp_path):
    work = tmp_path
    warehouse = work / "wh" / "dash.duckdb"
    good = sample_variant(work / "raw_good")
    gate_fail = sample_variant(work / "raw_gate_fail", "ad_performance_daily", CONFLICTING_META_ROW)
    model_fail = sample_variant(work / "raw_model_fail", "ad_performance_daily", IMPRESSIONS_OVERFLOW)

    first = precompute(work, *run_args(warehouse, good))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    release_0 = published_run_id(warehouse)

    readers = [start_reader(work, warehouse, "reconnect"), start_reader(work, warehouse, "hold")]
    try:
        # 1. a good run publishes a new release, with a reader holding the old one open
        run1 = precompute(work, *run_args(warehouse, good))
        assert run1.returncode == 0, run1.stdout[-4000:] + run1.stderr[-4000:]
        release_1 = published_run_id(warehouse)
        assert release_1 != release_0
        file_1, hash_1 = published_file(warehouse), sha256(published_file(warehouse))

        # 2. the gate fails: exit 1, the key is named, nothing published
        run2 = precompute(work, *run_args(warehouse, gate_fail))
        assert run2.returncode == 1, run2.stdout[-4000:]
        assert "unique_key_stg_meta_ads__ad_performance_daily_ad_id__report_date" in run2.stdout
        assert published_file(warehouse) == file_1 and sha256(file_1) == hash_1

        # 3. a model fails: exit 1, the database's own message is shown, nothing published
        run3 = precompute(work, *run_args(warehouse, model_fail))
        assert run3.returncode == 1, run3.stdout[-4000:]
        assert re.search(r"ERROR model \w+", run3.stdout), run3.stdout[-4000:]
        assert re.search(r"Conversion Error: .* value 3000\d{6} can't be cast because the value is out of range "
                         r"for the destination type INT32 when casting from source column meta_impressions",
                         run3.stdout), run3.stdout[-4000:]
        assert published_file(warehouse) == file_1 and sha256(file_1) == hash_1

        # 4. killed halfway through the build: nothing published, the build is left behind
        code, output = run_and_kill_halfway(work, run_args(warehouse, good), after_nodes=20)
        assert code == -signal.SIGKILL, output[-3000:]
        assert "=== precompute run" not in output  # killed before its summary
        assert published_file(warehouse) == file_1 and sha256(file_1) == hash_1

        # 5. a good run again: published, after cleaning up what the killed run left
        run5 = precompute(work, *run_args(warehouse, good))
        assert run5.returncode == 0, run5.stdout[-4000:] + run5.stderr[-4000:]
        release_5 = published_run_id(warehouse)
        assert release_5 not in (release_0, release_1)
        time.sleep(0.3)  # let the reconnecting reader see release 5
    finally:
        (work / "stop").touch()
        for proc, _ in readers:
            proc.wait(timeout=60)

    results = {mode: json.loads(out.read_text()) for (proc, out), mode in zip(readers, ("reconnect", "hold"))}
    print(f"readers: {results}")  # shown with pytest -s: reads, failures and releases seen per reader
    for mode, r in results.items():
        assert r["failures"] == 0, (mode, r)
        assert r["reads"] > 50, (mode, r)
    # the reconnecting reader moved from release to release; the held connection kept its release
    assert {release_1, release_5} <= set(results["reconnect"]["runs_seen"]), results["reconnect"]
    assert set(results["hold"]["runs_seen"]) == {release_0}, results["hold"]

    # three releases are kept by default; the published one is the newest
    status = precompute(work, "status", "--warehouse", str(warehouse))
    assert status.returncode == 0 and f"run id      {release_5}" in status.stdout
    releases_dir = warehouse.parent / (warehouse.name + ".releases")
    kept = sorted(p.name for p in releases_dir.iterdir() if not p.name.startswith("."))
    assert kept == sorted([release_0, release_1, release_5]), kept
    assert not [p for p in releases_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_rollback_publishes_the_previous_release_and_reports_stay_with_their_run(tmp_path):
    work = tmp_path
    warehouse = work / "dash.duckdb"
    raw = sample_variant(work / "raw")
    ids = []
    for keep in ("2", "2", "2"):
        proc = precompute(work, *run_args(warehouse, raw), "--keep", keep, "--gate-cases", "5")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        ids.append(published_run_id(warehouse))
    releases_dir = warehouse.parent / (warehouse.name + ".releases")
    assert sorted(p.name for p in releases_dir.iterdir() if not p.name.startswith(".")) == ids[1:]

    # each run's report is in its own directory, and in its release
    for run_id in ids:
        report = json.loads((work / "target" / "runs" / run_id / "run_report.json").read_text())
        assert report["run_id"] == run_id and report["status"] == "published" and report["exit_code"] == 0
        assert report["gates"]["validate"]["passed"] is True
    # the same vars, project and profile (dbt is given .build/current/): the runs
    # after the first reuse dbt's saved parse
    parses = [json.loads((work / "target" / "runs" / run_id / "run_report.json").read_text())["dbt_parse"]
              for run_id in ids]
    assert parses[1:] == [{"partial": True, "reasons": []}] * 2, parses
    assert (releases_dir / ".build" / "current").resolve() == releases_dir / ".build" / ids[2]
    kept_report = json.loads((releases_dir / ids[2] / "run_report.json").read_text())
    assert kept_report["run_id"] == ids[2]
    assert all(releases_dir.joinpath(r, warehouse.name).stat().st_mode & 0o222 == 0 for r in ids[1:])  # read-only
    meta = json.loads((releases_dir / ids[2] / "release.json").read_text())
    assert meta["tables"]["entity_daily_metrics"] > 0 and meta["tables"]["entity_country_breakdown"] > 0
    assert set(meta["source_fingerprints"]) >= {"ad_performance_daily", "mixpanel_event"}
    assert meta["source_fingerprints"]["ad_performance_daily"]["sha256"] == hashlib.sha256(
        (raw / "ad_performance_daily.parquet").read_bytes()).hexdigest()

    # the read side finds the release and what it holds through python_hooks.release alone
    published = release.published_file(warehouse)
    assert published.file == releases_dir / ids[2] / warehouse.name and published.key == str(published.file)
    con = duckdb.connect(str(published.file), read_only=True)
    try:
        assert release.release_info(con)["run_id"] == ids[2] and release.release_metadata(con) == meta
        assert "api_entity_names" in release.release_queries(con)
    finally:
        con.close()

    listing = precompute(work, "releases", "--warehouse", str(warehouse))
    assert listing.returncode == 0
    assert re.search(rf"^\* {ids[2]} ", listing.stdout, re.MULTILINE), listing.stdout
    assert re.search(rf"^  {ids[1]} ", listing.stdout, re.MULTILINE), listing.stdout

    back = precompute(work, "rollback", "--warehouse", str(warehouse))
    assert back.returncode == 0, back.stderr
    assert published_run_id(warehouse) == ids[1]
    again = precompute(work, "rollback", "--warehouse", str(warehouse))
    assert again.returncode == 1 and "no release older than" in again.stderr
    forward = precompute(work, "rollback", "--warehouse", str(warehouse), "--to", ids[2])
    assert forward.returncode == 0 and published_run_id(warehouse) == ids[2]

    # a plain dbt build pointed at the published path is refused before it writes anything
    before = sha256(published_file(warehouse))
    env = precompute_env(work) | {"DUCKDB_PATH": str(warehouse), "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    dbt = subprocess.run([str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(PROJECT_DIR),
                          "--vars", json.dumps({"raw_data_dir": str(raw)})],
                         cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert dbt.returncode != 0
    assert f"DUCKDB_PATH ({warehouse}) is a published release" in dbt.stdout, dbt.stdout[-3000:]
    assert sha256(published_file(warehouse)) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2025-02-01", "--as-of", "2025-01-21"], "var start_date (2025-02-01) is after as_of_date (2025-01-21)"),
    (["--vars", "{as_of_date: 2025-13-01}"], "var as_of_date must be a date YYYY-MM-DD, got '2025-13-01'"),
    (["--vars", "{start_date: 2025-1-5}"], "var start_date must be a date YYYY-MM-DD, got '2025-1-5'"),
    (["--start", "2000-01-01", "--as-of", "2025-01-21"],
     "is 9153 days, longer than var max_window_days (7320)"),
    (["--vars", "{trial_days: -1}"], "var trial_days must be a non-negative integer, got '-1'"),
    (["--vars", "{quality_rejected_rows_max_share: lots}"],
     "var quality_rejected_rows_max_share must be a non-negative number, got 'lots'"),
    (["--vars", "[as_of_date]"], "--vars must be a mapping"),
])
def test_argument_errors_exit_2_before_dbt_starts(tmp_path, args, message):
    warehouse = tmp_path / "dash.duckdb"
    proc = precompute(tmp_path, "run", "--warehouse", str(warehouse), *args, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "dbt build" not in proc.stdout  # dbt never started
    assert not (tmp_path / "target").exists()


def test_status_and_rollback_with_nothing_published(tmp_path):
    warehouse = tmp_path / "dash.duckdb"
    status = precompute(tmp_path, "status", "--warehouse", str(warehouse), timeout=60)
    assert status.returncode == 1 and "no release published" in status.stdout
    back = precompute(tmp_path, "rollback", "--warehouse", str(warehouse), timeout=60)
    assert back.returncode == 1 and "no release older than" in back.stderr

    # the read side: nothing published, then a plain DuckDB file that is not a release
    with pytest.raises(release.ReleaseNotReadable, match="nothing is published at"):
        release.published_file(warehouse)
    duckdb.connect(str(warehouse)).close()
    plain = release.published_file(warehouse)
    assert plain.file == warehouse and plain.key.startswith(f"{warehouse}@")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        with pytest.raises(release.ReleaseNotReadable, match="has no precompute_queries table"):
            release.release_queries(con)
    finally:
        con.close()


def test_full_disk_fails_with_the_database_message_and_publishes_nothing(tmp_path):
    # a 2 MiB file system for the published path, so the private build runs out of space
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        warehouse = mount_point / "dash.duckdb"
        proc = precompute(tmp_path, *run_args(warehouse, SAMPLE_DIR), "--gate-cases", "0")
        assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert re.search(r"ERROR model \w+:\n\s+.*No space left on device", proc.stdout), proc.stdout[-3000:]
        assert "not published" in proc.stdout and not warehouse.exists()
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_failed_validation_gate_publishes_nothing(tmp_path, monkeypatch, capsys):
    # the on-demand comparison is the last gate: when it fails, the run exits 1 and PATH is not
    # published, even though every dbt test passed. The gate's verdict is forced here (its own
    # comparisons are tested in test_validate.py); everything else runs for real, in-process.
    from python_hooks import cli, validate

    calls = []

    def failing_gate(warehouse, cases, seed, raw_dir=None, **kwargs):
        calls.append((Path(warehouse), cases, seed, raw_dir))
        return {"passed": False, "error": None, "cells": cases, "matched": cases - 1, "elapsed_seconds": 0.1,
                "mismatches": [{"table": "entity_daily_metrics", "entity_type": "ad", "entity_id": "000777",
                                "date": "2025-01-03", "column": "actual_revenue_usd",
                                "stored": "373.84", "on_demand": "373.85"}]}

    monkeypatch.setattr(validate, "run_gate", failing_gate)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    warehouse = tmp_path / "dash.duckdb"
    code = cli.main([*run_args(warehouse, SAMPLE_DIR), "--gate-cases", "7", "--gate-seed", "3"])
    out = capsys.readouterr().out
    assert code == 1, out[-3000:]
    [(gated, cases, seed, raw)] = calls
    assert gated.parent.parent.name == ".build" and (cases, seed, raw) == (7, 3, SAMPLE_DIR)
    assert "validate    6/7 cells match the on-demand path (FAIL" in out
    assert "MISMATCH table=entity_daily_metrics, entity_type=ad, entity_id=000777" in out
    assert "not published" in out and not warehouse.exists()
    [report] = (tmp_path / "target" / "runs").glob("*/run_report.json")
    assert json.loads(report.read_text())["status"] == "failed"


def test_a_second_run_exits_4_while_another_holds_the_lock(tmp_path):
    from python_hooks.release import ReleaseStore

    warehouse = tmp_path / "dash.duckdb"
    with ReleaseStore(warehouse).lock():  # as a run in progress holds it
        proc = precompute(tmp_path, *run_args(warehouse, SAMPLE_DIR), timeout=60)
        back = precompute(tmp_path, "rollback", "--warehouse", str(warehouse), "--to", "20250101T000000Z",
                          timeout=60)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"another precompute process holds {warehouse}.releases/.lock (pid {os.getpid()})" in proc.stderr
    assert "dbt build" not in proc.stdout
    assert back.returncode == 1  # no such release: refused before it even asks for the lock
