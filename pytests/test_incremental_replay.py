"""Issue 11: an incremental release equals a full rebuild of the same inputs, day after day.

A generated data set is replayed one day at a time (python_hooks/replay_days.py): day
after day, new Meta days and events arrive, conversions and refunds reach old
cohorts, one event in 20 is delivered three days late, and on scripted days Meta
restates earlier days (a spend change and a deleted row), a metrics row is
rewritten, a user's country changes, a user's ad changes, an ad moves to an
adset of another campaign, and the run's country mapping gains a row.

After every day, ``precompute run --incremental`` publishes a release, and a
plain full ``dbt build`` of the same inputs is built beside it; every published
table must be equal, cell for cell (pytests/release_equality.py).

Speed: each replayed run leaves the dbt data tests out (``replay_without_dbt_tests``,
not a command-line option: it exists for this test only, D83). Each day's
release is still gated by the validation gate (on-demand path), and
``test_incremental_run_is_gated`` runs the incremental path with every gate.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import pytest
from release_equality import release_differences

from python_hooks import cli
from python_hooks.dbt_runner import run_dbt
from python_hooks.generate import generate
from python_hooks.project import PROJECT_DIR
from python_hooks.release import ReleaseStore
from python_hooks.replay_days import Changes, pick_subjects, write_day

START = _dt.date(2025, 1, 1)
FIRST_DAY = 12  # the first release (a full build) covers START .. START + FIRST_DAY
REPLAY_DAYS = 30
CHANGES = Changes(meta_restatement=FIRST_DAY + 4, metrics_rewrite=FIRST_DAY + 7, user_country=FIRST_DAY + 10,
                  user_ad=FIRST_DAY + 13, ad_moved=FIRST_DAY + 16, country_mapping_row=FIRST_DAY + 19)


def _run(raw: Path, warehouse: Path, *extra: str, without_dbt_tests: bool = True) -> tuple[int, dict]:
    args = cli.build_parser().parse_args(
        ["run", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--progress", "plain",
         "--gate-cases", "100", *extra])
    args.replay_without_dbt_tests = without_dbt_tests
    code = args.func(args)
    store = ReleaseStore(warehouse)
    meta = store.metadata(store.published_run_id()) if store.published_run_id() else {}
    return code, meta


def _full_build(raw: Path, path: Path, target: Path) -> None:
    path.unlink(missing_ok=True)
    result = run_dbt(["build", "--exclude-resource-type", "test", "unit_test", "--target-path", str(target)],
                     project_dir=PROJECT_DIR, vars={"raw_data_dir": str(raw)}, env={"DUCKDB_PATH": str(path)})
    assert result.success, f"full build failed: {result.exception}"


@pytest.fixture(scope="module")
def truth(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("replay_truth")
    generate(out, seed=11, scale="small", ads=8, days=FIRST_DAY + REPLAY_DAYS + 1, users_per_day=10,
             start_date=START)
    return out


def test_replay_incremental_equals_full_build(truth, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target_incremental"))
    subjects = pick_subjects(truth)
    raw, warehouse = tmp_path / "raw", tmp_path / "published" / "dash.duckdb"
    full_file = tmp_path / "full" / "dash.duckdb"
    full_file.parent.mkdir()

    write_day(truth, raw, START, FIRST_DAY, CHANGES, subjects)
    code, meta = _run(raw, warehouse, "--incremental")
    assert code == 0 and meta["incremental"]["incremental"] is False  # nothing published yet: in full
    assert "no release is published yet" in meta["incremental"]["full_build_reason"]

    compared = []
    for day in range(FIRST_DAY + 1, FIRST_DAY + REPLAY_DAYS + 1):
        as_of = write_day(truth, raw, START, day, CHANGES, subjects, metrics_rewrite_share=0.02)
        code, meta = _run(raw, warehouse, "--incremental", "--max-touched-share", "1")
        out = capsys.readouterr().out
        assert code == 0, f"day {as_of}: the incremental run failed:\n{out[-4000:]}"
        assert meta["incremental"]["incremental"] is True, (as_of, meta["incremental"])
        assert meta["window"]["as_of_date"] == as_of.isoformat()
        _full_build(raw, full_file, tmp_path / "target_full")
        differences = release_differences(full_file, ReleaseStore(warehouse).release_file(meta["run_id"]))
        cells = differences.pop("__cells__")
        assert not differences, f"day {as_of}: incremental != full build:\n" + json.dumps(
            differences, default=str, indent=1)[:6000]
        total_keys = meta["tables"]["entity_daily_metrics"]
        compared.append((as_of, cells, meta["incremental"]["keys_recomputed"], total_keys))

    assert len(compared) >= 30
    # it is incremental: an ordinary day recomputes a minority of the entity-days
    ordinary = [recomputed / total for _, _, recomputed, total in compared]
    assert sorted(ordinary)[len(ordinary) // 2] < 0.5, compared
    print(f"replayed {len(compared)} days, {sum(c for _, c, _, _ in compared):,d} cells compared; "
          f"entity-days recomputed per day: {[r for _, _, r, _ in compared]}")


def test_incremental_run_is_gated_and_falls_back(truth, tmp_path, monkeypatch):
    """The incremental path with every gate (dbt tests included), and its fallbacks."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    subjects = pick_subjects(truth)
    raw, warehouse = tmp_path / "raw", tmp_path / "published" / "dash.duckdb"
    write_day(truth, raw, START, FIRST_DAY, CHANGES, subjects)
    code, meta = _run(raw, warehouse, "--incremental", without_dbt_tests=False)
    assert code == 0

    write_day(truth, raw, START, FIRST_DAY + 1, CHANGES, subjects)
    code, meta = _run(raw, warehouse, "--incremental", without_dbt_tests=False)
    assert code == 0 and meta["incremental"]["incremental"] is True
    dbt_gate = meta["gates"]["dbt"]
    assert dbt_gate["passed"] and dbt_gate["pass"] > 50, dbt_gate  # the data tests ran and passed
    _scoped_tests_read_the_recomputed_keys(ReleaseStore(warehouse), meta["run_id"], raw, tmp_path)

    # forced: a full build, and the reason is recorded
    code, meta = _run(raw, warehouse, "--incremental", "--full-build")
    assert code == 0 and meta["incremental"]["incremental"] is False
    assert meta["incremental"]["full_build_reason"].startswith("forced")

    # too large to win: every metrics row rewritten
    import duckdb
    metrics = raw / "user_product_metrics.parquet"
    duckdb.sql(f"copy (select * replace (current_value + 1 as current_value) from read_parquet('{metrics}')) "
               f"to '{raw}/rewritten.parquet' (format parquet)")
    (raw / "rewritten.parquet").rename(metrics)
    code, meta = _run(raw, warehouse, "--incremental")
    assert code == 0 and meta["incremental"]["incremental"] is False
    assert "too large to win" in meta["incremental"]["full_build_reason"]

    # as_of_date moved back: cannot be incremental
    code, meta = _run(raw, warehouse, "--incremental", "--as-of", (START + _dt.timedelta(days=5)).isoformat())
    assert code == 0 and "moved back" in meta["incremental"]["full_build_reason"]


def _scoped_tests_read_the_recomputed_keys(store: ReleaseStore, run_id: str, raw: Path, tmp_path: Path) -> None:
    """D88: a test with `where: __incremental_scope__` reads the recomputed entity-days in an
    incremental build, and every row in a full one. On the build the run kept, a duplicated
    *untouched* breakdown row is seen by the unscoped test only (the scoped run relies on the
    previous release having passed it); a duplicated *recomputed* row fails the scoped test."""
    import duckdb

    build = store.build_file(run_id)
    select = ["--select", "entity_country_breakdown,test_name:unique_key"]
    scoped = {"raw_data_dir": str(raw), "incremental_scope_dir": str(store.build_root / "scope")}

    def unique_key_test(variables: dict) -> bool:
        result = run_dbt(["test", *select, "--target-path", str(tmp_path / "target_scoped")],
                         project_dir=PROJECT_DIR, vars=variables, env={"DUCKDB_PATH": str(build)})
        assert result.exception is None, result.exception
        return result.success

    inside = "(entity_type, entity_id, date) in (select entity_type, entity_id, report_date " \
             "from main.int_incremental_keys_touched)"

    def duplicate_one_row(where: str) -> None:
        con = duckdb.connect(str(build))
        try:
            con.execute(f"insert into main.entity_country_breakdown (select * from main.entity_country_breakdown "
                        f"where {where} order by all limit 1)")
        finally:
            con.close()

    assert unique_key_test(scoped)
    duplicate_one_row(f"not {inside}")
    assert unique_key_test(scoped), "the scoped test read an entity-day the run did not recompute"
    assert not unique_key_test({"raw_data_dir": str(raw)}), "a full build's test must read every row"
    duplicate_one_row(inside)
    assert not unique_key_test(scoped), "the scoped test missed a duplicated recomputed row"
