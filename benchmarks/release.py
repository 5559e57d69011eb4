"""Benchmark of the release step: ``precompute run`` against a plain ``dbt build`` of the same data.

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/release.py                    # year scale, seed 42 (several minutes)
    .venv/bin/python benchmarks/release.py --scale small      # quick smoke run

What it does, in order:

1. Data set. ``build.py``'s ``ensure_dataset`` (``benchmarks/.cache/<scale>_seed<seed>/``, reused
   while its ``generator.json`` matches the generator).
2. Alternating, ``--repeats`` times (default 2 at year scale, 3 at small): a) the baseline, a plain
   ``dbt build`` into ``<cache>/warehouse.duckdb`` exactly as ``build.py`` runs it (its ``run_build``:
   own target/log paths under ``<cache>/release_runs/build_<i>/``); b) ``precompute run --warehouse
   <cache>/published/dash.duckdb --raw-dir <cache> --progress plain`` with ``DBT_TARGET_PATH`` /
   ``DBT_LOG_PATH`` under ``<cache>/release_runs/run_<i>/`` (the project's ``target/`` is untouched).
   Both are child processes timed around the process and waited for with ``os.wait4`` (peak RSS of
   that one child, via ``build.py``'s ``run_child``). The run's phases (build, validation gate,
   fingerprint, export, publish, release) come from its run report; the RSS sampled every 0.2 s is
   split by phase using the report's ``started_at``.
3. After the last run: the published file (read through the symlink) and the run's private build
   file (every dbt model, intermediates included) are measured; the release's tables are counted
   and their storage blocks summed per table.
4. Reader: 20 times, open the published path read-only, run one entity-day point query (the
   ``dashboard_single_entity_day`` analysis, on random entity-days of the release) and close.
5. Writes a markdown report (default ``benchmarks/results/release_<scale>.md``) and prints it; raw
   numbers go to ``<cache>/release_runs/last_results.json``.

The published directory ``<cache>/published/`` is kept between runs (``precompute run --keep``
bounds it to 3 releases), so every run but the very first replaces a published release, as in
production. ``<cache>/warehouse.duckdb`` is deleted at the end unless ``--keep-warehouse``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

from bench_common import (
    BENCH_DIR, PROJECT_DIR, file_size, fmt_bytes, fmt_s, loadavg, md_table, median, parser, relative,
    report_head, venv_bin, write_report,
)
import bench_common as common

PUBLISHED_NAME = "dash.duckdb"
READER_QUERIES = 20
# run report timing keys, in the order the phases run
PHASES = [
    ("build_seconds", "build (`dbt build`, in-process)"),
    ("compile_queries_seconds", "compile the read queries (dbt analyses)"),
    ("validate_seconds", "validation gate (`run_gate`)"),
    ("fingerprint_seconds", "fingerprint sources (SHA-256 + row counts)"),
    ("export_seconds", "export public tables to the release file"),
    ("serving_copy_wait_seconds", "wait for the serving copy (written beside the gate and the export)"),
    ("publish_seconds", "publish (symlink swap)"),
]
POINT_QUERY = ("select * from entity_daily_metrics "
               "where entity_type = $1 and entity_id = $2 and date = $3")


def fmt_ms(s: float | None) -> str:
    return "n/a" if s is None else f"{s * 1000:,.1f} ms" if s < 0.01 else f"{s * 1000:,.0f} ms"


def ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    return "n/a" if not a or not b else f"{a / b:.{digits}f}×"


# --------------------------------------------------------------------------- precompute run


def run_precompute(args, cache_dir: Path, runs_dir: Path, i: int, venv_bin: Path, published: Path) -> dict:
    run_dir = runs_dir / f"run_{i}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    env = common.precompute_env(run_dir)
    if args.threads is not None:
        env["DUCKDB_THREADS"] = str(args.threads)
    cmd = [str(venv_bin / "precompute"), "run", "--warehouse", str(published), "--raw-dir", str(cache_dir),
           "--progress", "plain"]
    if args.gate_cases is not None:
        cmd += ["--gate-cases", str(args.gate_cases)]
    print(f"[run {i}] {' '.join(cmd)}", flush=True)
    log = run_dir / "precompute_run.log"
    res = common.run_child(cmd, env, log, sample=True)
    res["cmd"] = cmd
    res["run_dir"] = run_dir
    reports = sorted((run_dir / "target" / "runs").glob("*/run_report.json"))
    if res["returncode"] != 0 or not reports:
        tail = log.read_text(errors="replace")[-4000:]
        raise SystemExit(f"precompute run failed (exit {res['returncode']}), log {log}:\n{tail}")
    rep = json.loads(reports[-1].read_text())
    if not rep.get("published"):
        raise SystemExit(f"precompute run did not publish (status {rep.get('status')}), see {reports[-1]}")
    res["report_path"] = reports[-1]
    res["report"] = rep
    res["timings"] = rep["timings"]
    res["release"] = dict(rep["release"])
    res["build_file"] = Path(rep["build_file"])
    res["build_file_bytes"] = file_size(res["build_file"])
    res["build_file_wal_bytes"] = file_size(Path(str(res["build_file"]) + ".wal"))
    gate = (rep.get("gates") or {}).get("validate")
    res["gate"] = None if gate is None else {
        k: gate.get(k) for k in ("passed", "cells", "matched", "share_percent", "cases_requested",
                                 "mismatch_count", "entity_sets_equal", "timings_seconds", "elapsed_seconds")}
    res["gate_cases"] = gate.get("cases_requested") if gate else 0
    # sampled RSS per phase: the report's started_at is taken just before its build clock starts
    t = dt.datetime.fromisoformat(rep["started_at"]).timestamp()
    windows = {}
    for key, _ in PHASES:
        d = res["timings"].get(key)
        if d is not None:
            windows[key] = (t, t + d)
            t += d
    windows["startup"] = (res["started_at"], dt.datetime.fromisoformat(rep["started_at"]).timestamp())
    res["phase_rss"] = {}
    for key, (a, b) in windows.items():
        inside = [s[1] for s in res["samples"] if a - 0.1 <= s[0] <= b + 0.1]
        res["phase_rss"][key] = max(inside) if inside else None
    tm = res["timings"]
    print(f"[run {i}] {res['wall_s']:.1f}s wall, total {tm['total_seconds']:.1f}s "
          f"(build {tm['build_seconds']:.1f}s, gate {tm.get('validate_seconds', 0):.1f}s, "
          f"export {tm.get('export_seconds', 0):.1f}s, publish {1000 * tm.get('publish_seconds', 0):.1f} ms), "
          f"peak RSS {fmt_bytes(res['maxrss'])}", flush=True)
    return res


# --------------------------------------------------------------------------- published file


def inspect_release(published: Path) -> dict:
    """Sizes and per-table storage of the published release (read-only, through the symlink)."""
    real = published.resolve()
    out = {"published": str(published), "release_file": str(real), "bytes": file_size(real),
           "wal_bytes": file_size(Path(str(real) + ".wal")), "tables": {}}
    con = common.quiet_connect(str(published), read_only=True)
    try:
        block = con.execute("select block_size from pragma_database_size()").fetchone()[0]
        out["block_size"] = block
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by table_name").fetchall()]
        for name in names:
            rows = con.execute(f'select count(*) from main."{name}"').fetchone()[0]
            blocks = con.execute(
                f"select count(distinct block_id) from pragma_storage_info('{name}') "
                "where persistent and block_id >= 0").fetchone()[0]
            out["tables"][name] = {"rows": rows, "blocks": blocks, "approx_bytes": blocks * block}
        out["used_blocks"], out["free_blocks"] = con.execute(
            "select used_blocks, free_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return out


def reader_timing(published: Path, n: int, seed: int) -> dict:
    """n times: open the published path read-only, one entity-day point query, close."""
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        keys = con.execute("select distinct entity_type, entity_id from entity_daily_metrics "
                           "order by 1, 2").fetchall()
        lo, hi = con.execute("select min(date), max(date) from entity_daily_metrics").fetchone()
    finally:
        con.close()
    rng = random.Random(seed)
    days = (hi - lo).days
    times, opens, rows = [], [], 0
    for _ in range(n):
        etype, eid = rng.choice(keys)
        day = lo + dt.timedelta(days=rng.randint(0, days))
        t0 = time.perf_counter()
        c = duckdb.connect(str(published), read_only=True)
        t1 = time.perf_counter()
        got = c.execute(POINT_QUERY, [etype, eid, day]).fetchall()
        c.close()
        times.append(time.perf_counter() - t0)
        opens.append(t1 - t0)
        rows += len(got)
    return {"n": n, "times_s": times, "open_s": opens, "rows_returned": rows,
            "median_s": median(times), "median_open_s": median(opens),
            "min_s": min(times), "max_s": max(times)}


# --------------------------------------------------------------------------- report


def report(args, machine, data, baselines, runs, rel, reader, load_before, load_after, elapsed) -> str:
    nb, nr = len(baselines), len(runs)
    b_wall = median([b["wall_s"] for b in baselines])
    b_dbt = median([b["dbt_elapsed_s"] for b in baselines])
    b_rss = median([b["maxrss"] for b in baselines])
    r_wall = median([r["wall_s"] for r in runs])
    r_rss = median([r["maxrss"] for r in runs])
    tm = {key: median([r["timings"][key] for r in runs if key in r["timings"]])
          for key in [k for k, _ in PHASES] + ["release_seconds", "total_seconds"]}
    total, build = tm["total_seconds"], tm["build_seconds"]
    overhead = median([r["timings"]["total_seconds"] - r["timings"]["build_seconds"] for r in runs])
    gate_cases = runs[-1]["gate_cases"]
    gate_src = (f"`precompute run`'s default, which was {args.default_gate_cases} at the time"
                if args.gate_cases is None else f"`--gate-cases {args.gate_cases}` given; precompute run's "
                                                f"default was {args.default_gate_cases}")
    last = runs[-1]
    tables = last["release"]["tables"] or {t: v["rows"] for t, v in rel["tables"].items()}
    daily, breakdown = tables["entity_daily_metrics"], tables["entity_country_breakdown"]
    mart_rows = daily + breakdown
    rel_bytes = int(median([r["release"]["release_bytes"] for r in runs]))
    build_file_bytes = int(median([r["build_file_bytes"] for r in runs]))
    plain_bytes = int(median([b["wh_bytes"] for b in baselines]))
    days = data["args"]["preset"]["days"]
    threads = args.threads if args.threads is not None else os.environ.get("DUCKDB_THREADS", "2 (profile default)")

    def series(xs, f=lambda v: f"{v:.1f}", unit=" s"):
        return ", ".join(f(x) for x in xs) + unit

    out = report_head(f"Release benchmark — `precompute run` vs `dbt build`, `{args.scale}` scale, seed {args.seed}",
                      "release.py", args.command_line, machine,
                      ["dbt threads (DUCKDB_THREADS)", threads],
                      ["Date", machine["date"]],
                      ["Load average before / after", f"{load_before} / {load_after}"],
                      ["Run time of the benchmark", f"{elapsed:.0f} s"])
    out.append("")
    out.append("Each run command (`<cache>` = `" + os.path.relpath(args.cache_dir, PROJECT_DIR) + "`):\n")
    out.append("```\n" + "\n".join([
        "# baseline (as benchmarks/build.py)",
        f"DUCKDB_PATH=<cache>/warehouse.duckdb .venv/bin/dbt build --project-dir . --profiles-dir . "
        f"--target-path <cache>/release_runs/build_<i>/target --log-path <cache>/release_runs/build_<i>/logs "
        "--vars '{\"raw_data_dir\": \"<cache>\"}'",
        "# the pipeline step",
        "DBT_TARGET_PATH=<cache>/release_runs/run_<i>/target DBT_LOG_PATH=<cache>/release_runs/run_<i>/logs \\",
        f"  .venv/bin/precompute run --warehouse <cache>/published/{PUBLISHED_NAME} --raw-dir <cache> "
        "--progress plain" + (f" --gate-cases {args.gate_cases}" if args.gate_cases is not None else ""),
    ]) + "\n```\n")
    out.append(f"Alternated baseline, run, baseline, run, … ({nb} + {nr}); **every figure is a median over "
               "the repeats, on a shared machine** (other processes compete for the 2 cores: compare the "
               "ratios, which are measured in the same run, rather than absolute seconds).\n")


    a = data["args"]
    preset = ", ".join(f"{k}={v}" for k, v in a["preset"].items())
    counts = data["counts"]
    out.append("## Data set\n")
    out.append(f"`generate(out_dir, seed={a['seed']}, scale=\"{a['scale']}\")` — preset: {preset}; "
               f"{'reused from cache' if data.get('reused') else 'generated in this run'}; "
               f"{sum(counts.values()):,} source rows, "
               f"{fmt_bytes(sum(data.get('bytes', {}).values()) or None)} of Parquet.\n")

    out.append("## Build vs release\n")
    rows = [
        [f"`dbt build` alone, wall (baseline, median of {nb})", fmt_s(b_wall),
         series([b["wall_s"] for b in baselines]) + f"; dbt elapsed_time {fmt_s(b_dbt)}"],
        [f"`precompute run`, wall of the process (median of {nr})", fmt_s(r_wall),
         series([r["wall_s"] for r in runs])],
        ["`precompute run`, `total_seconds` of its report", fmt_s(total),
         series([r["timings"]["total_seconds"] for r in runs]) + "; the rest of the wall is start-up and "
                                                                  "the summary"],
        ["**Ratio run / build** (process walls)", f"**{ratio(r_wall, b_wall)}**",
         f"{ratio(total, b_wall)} with the report's total"],
        ["Release overhead = total − build", fmt_s(overhead),
         f"**{100 * overhead / build:.1f} % of the run's build**" if build else ""],
    ]
    out.append(md_table(["Measure", "Value", "Detail"], rows, "lrl"))
    out.append("")

    out.append("### Phases of `precompute run` (from its run report)\n")
    prow = []
    for key, label in PHASES:
        vals = [r["timings"][key] for r in runs if key in r["timings"]]
        if not vals:
            prow.append([label, "not run", "", "", ""])
            continue
        v = median(vals)
        shown = fmt_ms(v) if v < 1 else fmt_s(v)
        rss = median([r["phase_rss"].get(key) for r in runs if r["phase_rss"].get(key)])
        prow.append([label, shown, f"{100 * v / build:.1f} %" if key != "build_seconds" else "100 %",
                     f"{100 * v / total:.1f} %",
                     fmt_bytes(rss) if rss else "n/a"])
    rs = tm["release_seconds"]
    prow.append(["release = fingerprint + export + wait + publish + prune (compile: before the gate)", fmt_s(rs) if rs >= 1 else fmt_ms(rs),
                 f"{100 * rs / build:.1f} %", f"{100 * rs / total:.1f} %", ""])
    prow.append(["**total**", fmt_s(total), f"{100 * total / build:.1f} %", "100 %",
                 f"{fmt_bytes(r_rss)} (ru_maxrss)"])
    out.append(md_table(["Phase", "Median", "Share of build", "Share of total", "Peak sampled RSS (tree)"], prow,
                        "lrrrr"))
    out.append("")
    out.append("Per run: " + "; ".join(
        f"run {i + 1}: " + ", ".join(f"{k.replace('_seconds', '')} {r['timings'][k]:.3f}"
                                     for k in r["timings"]) + " s"
        for i, r in enumerate(runs)) + ".\n")
    pub = [r["timings"]["publish_seconds"] for r in runs]
    out.append(f"The publish step (symlink + `rename(2)` + fsync of the directory) took **{fmt_ms(median(pub))}** "
               f"(runs: {series(pub, lambda v: f'{v * 1000:.0f}', ' ms')}; the run report rounds to 1 ms). "
               "Peak sampled RSS per phase is the maximum of the 0.2 s samples (RSS summed over the process "
               "tree) taken within 0.1 s of the phase, median over the runs; the publish step is shorter "
               "than a sampling interval, so its figure is the neighbourhood's. The total row is the "
               "process's own `ru_maxrss`.\n")
    if last["gate"]:
        g = last["gate"]
        out.append(f"Validation gate: **{gate_cases} cells** ({gate_src}), last run {g['matched']}/{g['cells']} "
                   f"matched ({g['share_percent']} %), entity sets equal: {g['entity_sets_equal']}; "
                   "its split: " + ", ".join(f"{k} {v:.1f} s" for k, v in (g['timings_seconds'] or {}).items())
                   + ".\n")
    else:
        out.append(f"Validation gate: **{gate_cases} cells** ({gate_src}) — the gate did not run.\n")

    out.append("## Files\n")
    rel_tables = rel["tables"]
    frows = [
        ["Published release file (what readers open)", fmt_bytes(rel_bytes),
         f"{rel_bytes:,} B; {rel['used_blocks']:,} used + {rel['free_blocks']:,} free blocks; WAL "
         f"{fmt_bytes(rel['wal_bytes'])}"],
        ["… bytes per mart row (file / (daily + breakdown rows))", f"{rel_bytes / mart_rows:,.1f} B",
         f"{daily:,} daily + {breakdown:,} breakdown = {mart_rows:,} rows ({mart_rows / days:,.0f} a day)"],
        ["Private build file of the run (every model, intermediates included)", fmt_bytes(build_file_bytes),
         f"WAL {fmt_bytes(last['build_file_wal_bytes'])}; **release = "
         f"{100 * rel_bytes / build_file_bytes:.1f} % of it**" if build_file_bytes else ""],
        ["Plain `dbt build` warehouse file (baseline)", fmt_bytes(plain_bytes),
         f"WAL {fmt_bytes(median([b['wh_wal_bytes'] for b in baselines]))}"],
    ]
    out.append(md_table(["File", "Size", "Detail"], frows, "lrl"))
    out.append("")
    out.append("Tables of the release (storage = distinct blocks of `pragma_storage_info` × block size, "
               "an upper bound: small tables share partly-filled blocks):\n")
    out.append(md_table(["Table", "Rows", "Storage"], [
        [f"`{t}`", f"{v['rows']:,}", fmt_bytes(v["approx_bytes"])]
        for t, v in sorted(rel_tables.items(), key=lambda kv: -kv[1]["approx_bytes"])
    ]))
    out.append("")

    out.append("## Memory\n")
    out.append(md_table(["Process", "Peak RSS (median)", "Per run"], [
        ["`dbt build` (baseline)", fmt_bytes(b_rss), ", ".join(fmt_bytes(b["maxrss"]) for b in baselines)],
        ["`precompute run` (dbt, gate and export in one process)", fmt_bytes(r_rss),
         ", ".join(fmt_bytes(r["maxrss"]) for r in runs)],
    ], "lrl"))
    out.append("")
    out.append("Peak RSS is the child's own `ru_maxrss` from `os.wait4` (build.py's `run_child`).\n")

    out.append("## Reader sanity check\n")
    out.append(f"{reader['n']} times, in one Python process: `duckdb.connect(<published path>, read_only=True)`, "
               "one entity-day point query (`dashboard_single_entity_day`: all columns of "
               "`entity_daily_metrics` for one entity_type, entity_id, date; random entity-days), "
               f"fetch, close. Median **{fmt_ms(reader['median_s'])}** (open alone {fmt_ms(reader['median_open_s'])}; "
               f"min {fmt_ms(reader['min_s'])}, max {fmt_ms(reader['max_s'])}); {reader['rows_returned']} rows "
               "returned in all.\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = parser(__doc__, "release", builds=True)
    p.add_argument("--repeats", type=int, default=None,
                   help="pairs baseline + run, alternated (median reported; default 2 at year scale, 3 at small)")
    p.add_argument("--gate-cases", type=int, default=None,
                   help="passed to precompute run (default: not passed, i.e. precompute run's own default)")
    p.add_argument("--keep-warehouse", action="store_true",
                   help="keep the baseline's <cache>/warehouse.duckdb (queries.py reuses it)")
    args = p.parse_args(argv)

    args.command_line = " ".join([relative(sys.executable), relative(Path(__file__).resolve())]
                                 + (argv if argv is not None else sys.argv[1:]))
    repeats = args.repeats or (2 if args.scale == "year" else 3)
    args.cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}").resolve()
    cache_dir = args.cache_dir
    output = args.output or BENCH_DIR / "results" / f"release_{args.scale}.md"
    bin_dir = venv_bin()
    if not (bin_dir / "precompute").exists():
        raise SystemExit(f"precompute not found in {bin_dir} (run `make install`)")

    t_start = time.perf_counter()
    try:  # what `precompute run` uses without --gate-cases (recorded in the report)
        from python_hooks import cli as precompute_cli
        args.default_gate_cases = precompute_cli.build_parser().parse_args(["run"]).gate_cases
    except Exception as exc:  # noqa: BLE001 - only for the report
        args.default_gate_cases = f"unknown ({type(exc).__name__})"
    machine = common.machine_info(bin_dir)
    data = common.ensure_dataset(cache_dir, args.scale, args.seed, args.regenerate)
    runs_dir = cache_dir / "release_runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    published = cache_dir / "published" / PUBLISHED_NAME
    published.parent.mkdir(parents=True, exist_ok=True)

    load_before = loadavg()
    baselines, runs = [], []
    for i in range(1, repeats + 1):
        b = common.run_build(args, cache_dir, runs_dir, i, bin_dir)
        b["wh_bytes"] = file_size(b["db"])
        b["wh_wal_bytes"] = file_size(Path(str(b["db"]) + ".wal"))
        baselines.append(b)
        runs.append(run_precompute(args, cache_dir, runs_dir, i, bin_dir, published))
    load_after = loadavg()

    rel_info = inspect_release(published)
    reader = reader_timing(published, READER_QUERIES, seed=0)
    if not args.keep_warehouse:
        common.rm_db(baselines[-1]["db"])
    elapsed = time.perf_counter() - t_start

    text = report(args, machine, data, baselines, runs, rel_info, reader, load_before, load_after, elapsed)
    drop = ("samples", "nodes", "report")
    write_report(output, text, runs_dir / "last_results.json", {
        "machine": machine, "data": data, "command_line": args.command_line,
        "baselines": [{k: v for k, v in b.items() if k not in drop} for b in baselines],
        "runs": [{k: v for k, v in r.items() if k not in drop} for r in runs],
        "release": rel_info, "reader": reader,
        "load_before": load_before, "load_after": load_after,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
