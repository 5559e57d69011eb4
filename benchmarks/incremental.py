"""Benchmark of the incremental refresh: one new day, ``precompute run --incremental`` against a full run.

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/incremental.py                 # year scale, seed 42 (about 10 minutes)
    .venv/bin/python benchmarks/incremental.py --scale small   # quick smoke run

What it does, in order:

1. Data set. ``bench_common.ensure_dataset`` (``benchmarks/.cache/<scale>_seed<seed>/``) is the
   *truth*; ``python_hooks.replay_days.write_day`` derives the inputs of one day from it (README of
   that module): the Meta rows and events up to that day, one event in 20 delivered three days late,
   and ``--metrics-rewrite-share`` (default 1 %) of the ``user_product_metrics`` rows rewritten by
   the value-estimation step every day. The scripted one-off changes of the replay test are left out
   (they happen long before the measured day).
2. Day N-1 (the day before the last of the truth) is written to ``<cache>/incremental_runs/raw/`` and
   published with a full ``precompute run`` into ``<cache>/incremental_runs/published/dash.duckdb``:
   the release an incremental run starts from. Then day N is written over it.
3. Alternating, ``--repeats`` times (default 3): a) ``precompute rollback --to <day N-1 release>``
   (not timed), then ``precompute run --incremental``; b) ``precompute run`` (full) of the same inputs
   into ``<cache>/incremental_runs/full/dash.duckdb``. Both are child processes timed around the
   process; peak RSS is that child's ``ru_maxrss`` (``os.wait4``). Both run every gate (dbt tests,
   the validation gate) and publish a release. The phases come from each run's report.
4. The last incremental release is compared with the last full release, cell for cell
   (``pytests/release_equality.py``).
5. Writes a markdown report (default ``benchmarks/results/incremental_<scale>.md``) and prints it;
   raw numbers go to ``<cache>/incremental_runs/last_results.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pytests"))

import bench_common as bc  # noqa: E402
from release_equality import release_differences  # noqa: E402

from python_hooks.release import ReleaseStore  # noqa: E402
from python_hooks.replay_days import Changes, pick_subjects, write_day  # noqa: E402

NEVER = 10 ** 6  # a scripted change that never happens
NO_CHANGES = Changes(*([NEVER] * 6))


def _report_of(run_dir: Path) -> dict:
    reports = sorted((run_dir / "target" / "runs").glob("*/run_report.json"))
    return json.loads(reports[-1].read_text()) if reports else {}


def _run(cmd: list[str], run_dir: Path) -> dict:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    child = bc.run_child(cmd, bc.precompute_env(run_dir), run_dir / "run.log")
    report = _report_of(run_dir)
    if child["returncode"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {child['returncode']}); see {run_dir / 'run.log'}")
    child.pop("samples", None)
    release = report.get("release") or {}
    return {**child, "report": {**{k: report.get(k) for k in ("run_id", "timings", "incremental", "rows", "status")},
                                "release_bytes": release.get("release_bytes")}}


def main(argv: list[str] | None = None) -> int:
    p = bc.parser(__doc__, "incremental")
    p.add_argument("--repeats", type=int, default=3, help="measured pairs (default 3)")
    p.add_argument("--metrics-rewrite-share", type=float, default=0.01,
                   help="share of user_product_metrics rows rewritten every day (default 0.01)")
    a = p.parse_args(argv)
    cache = a.cache_dir or bc.BENCH_DIR / ".cache" / f"{a.scale}_seed{a.seed}"
    output = a.output or bc.BENCH_DIR / "results" / f"incremental_{a.scale}.md"
    venv = bc.venv_bin()
    info = bc.ensure_dataset(cache, a.scale, a.seed, force=False)
    days = info["args"]["preset"]["days"]
    start = dt.date.fromisoformat(info["args"]["start_date"])
    runs = cache / "incremental_runs"
    raw, published, full = runs / "raw", runs / "published" / "dash.duckdb", runs / "full" / "dash.duckdb"
    for path in (raw, published.parent, full.parent):
        shutil.rmtree(path, ignore_errors=True)
    precompute = str(venv / "precompute")
    load_before = bc.loadavg()

    subjects = pick_subjects(cache)  # unused: NO_CHANGES happen
    write_day(cache, raw, start, days - 2, NO_CHANGES, subjects, a.metrics_rewrite_share)
    base = _run([precompute, "run", "--raw-dir", str(raw), "--warehouse", str(published), "--progress", "plain"],
                runs / "base")
    base_run_id = base["report"]["run_id"]
    as_of = write_day(cache, raw, start, days - 1, NO_CHANGES, subjects, a.metrics_rewrite_share)
    print(f"[bench] day N-1 published as {base_run_id}; day N = {as_of}", flush=True)

    measured: list[dict] = []
    for i in range(a.repeats):
        rollback = bc.run_child([precompute, "rollback", "--warehouse", str(published), "--to", base_run_id],
                                bc.precompute_env(runs / "rollback"), runs / "rollback.log")
        assert rollback["returncode"] == 0, "rollback failed"
        inc = _run([precompute, "run", "--raw-dir", str(raw), "--warehouse", str(published), "--progress", "plain",
                    "--incremental", "--keep", "10"], runs / f"incremental_{i}")
        assert inc["report"]["incremental"]["incremental"], inc["report"]["incremental"]
        fb = _run([precompute, "run", "--raw-dir", str(raw), "--warehouse", str(full), "--progress", "plain"],
                  runs / f"full_{i}")
        print(f"[bench] pair {i + 1}: incremental {inc['wall_s']:.1f} s {bc.fmt_bytes(inc['maxrss'])}, "
              f"full {fb['wall_s']:.1f} s {bc.fmt_bytes(fb['maxrss'])}", flush=True)
        measured.append({"incremental": inc, "full": fb})
    load_after = bc.loadavg()

    differences = release_differences(ReleaseStore(full).release_file(measured[-1]["full"]["report"]["run_id"]),
                                      ReleaseStore(published).release_file(
                                          measured[-1]["incremental"]["report"]["run_id"]))
    cells = differences.pop("__cells__")

    def med(kind: str, key: str) -> float:
        return bc.median([m[kind][key] for m in measured])

    def med_phase(kind: str, phase: str) -> float | None:
        values = [m[kind]["report"]["timings"].get(phase) for m in measured]
        values = [v for v in values if v is not None]
        return bc.median(values) if values else None

    def last_bytes(kind: str) -> float | None:
        return measured[-1][kind]["report"]["release_bytes"]

    t_inc, t_full = med("incremental", "wall_s"), med("full", "wall_s")
    m_inc, m_full = med("incremental", "maxrss"), med("full", "maxrss")
    plan = measured[-1]["incremental"]["report"]["incremental"]
    rows = measured[-1]["full"]["report"]["rows"] or {}
    machine = bc.machine_info(venv)
    lines = bc.report_head(
        f"Incremental refresh benchmark — `{a.scale}` scale, seed {a.seed}", "incremental.py",
        " ".join([".venv/bin/python", "benchmarks/incremental.py", *(argv if argv is not None else sys.argv[1:])]),
        machine, ["Date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")],
        ["Load average before / after", f"{load_before} / {load_after}"])
    lines += ["## The day measured\n",
              f"Truth: `generate(seed={a.seed}, scale={a.scale!r})`, {days} days from {start}. Day N-1 "
              f"({as_of - dt.timedelta(days=1)}) is published by a full run; day N ({as_of}) adds a day of "
              f"Meta rows and events, the late events (one in 20, three days late) and the conversions and "
              f"refunds of old cohorts that arrive that day, and rewrites {a.metrics_rewrite_share:.0%} of "
              "the metrics rows' `current_value`.\n",
              bc.md_table(["What the incremental run found", "Count"], [
                  *[[f"changed rows `{t}` (added / removed)", f"{c['added']:,d} / {c['removed']:,d}"]
                    for t, c in plan["changed_rows"].items() if c["added"] or c["removed"]],
                  *[[f"scope: {name}", f"{n:,d}"] for name, n in plan["touched"].items()],
                  ["entity-days recomputed (int_incremental_keys_touched)", f"{plan['keys_recomputed']:,d}"],
                  ["entity-days in the release (entity_daily_metrics rows)",
                   f"{rows.get('entity_daily_metrics', 0):,d}"],
              ], "lr"),
              "\n## Results (medians of the same run's pairs)\n",
              bc.md_table(["Measure", "Incremental", "Full", "Ratio incremental / full", "Target"], [
                  ["Wall time of `precompute run` (median of "
                   f"{a.repeats})", bc.fmt_s(t_inc), bc.fmt_s(t_full), f"{t_inc / t_full:.3f}", "≤ 0.100"],
                  ["Peak RSS (ru_maxrss)", bc.fmt_bytes(m_inc), bc.fmt_bytes(m_full), f"{m_inc / m_full:.3f}",
                   "≤ 0.250"],
                  ["Release file (last run)", bc.fmt_bytes(last_bytes("incremental")), bc.fmt_bytes(last_bytes("full")),
                   "", ""],
                  *[[f"… phase `{ph}`", bc.fmt_s(med_phase('incremental', ph)), bc.fmt_s(med_phase('full', ph)),
                     "", ""] for ph in ("plan_seconds", "build_seconds", "validate_seconds",
                                        "compile_queries_seconds", "export_seconds", "release_seconds")],
              ], "lrrrr"),
              "\nEvery run: " + ", ".join(
                  f"pair {i + 1} {m['incremental']['wall_s']:.1f} s / {m['full']['wall_s']:.1f} s"
                  for i, m in enumerate(measured)) + ".\n",
              "## Equality\n",
              (f"The last incremental release equals the last full release, cell for cell: {cells:,d} cells "
               "compared (every published table; `pytests/release_equality.py`)." if not differences else
               f"**The releases differ**: {json.dumps(differences, default=str)[:2000]}") + "\n"]
    bc.write_report(output, "\n".join(lines), runs / "last_results.json",
                    {"measured": measured, "differences": differences, "cells": cells, "info": info})
    return 0 if not differences else 1


if __name__ == "__main__":
    raise SystemExit(main())
