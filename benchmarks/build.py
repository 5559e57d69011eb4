"""Benchmark of the full ``dbt build`` on a generated data set.

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/build.py                      # year scale, seed 42
    .venv/bin/python benchmarks/build.py --scale small        # quick smoke run
    .venv/bin/python benchmarks/build.py --ads 750 --users-per-day 6000   # 3x the year

What it does, in order:

1. Data set. ``devtools.generate.generate(cache_dir, seed, scale)`` writes the six
   source Parquet files into the cache dir (default ``benchmarks/.cache/<scale>_seed<seed>/``,
   git-ignored). A marker ``generator.json`` records the generator arguments, the scale
   preset, a hash of ``devtools/generate.py`` and the row counts; the files are reused
   while all of these still match, and regenerated otherwise.
2. Baseline (``--repeats``, default 3). In a fresh Python process each time, DuckDB
   (default settings: one worker thread per core) a) scans every row of the six files once
   (``count(*)`` + ``sum(hash(row))``) and b) loads them into a fresh DuckDB file
   (``CREATE TABLE AS SELECT * FROM read_parquet``, then ``CHECKPOINT``).
3. Build (``--build-repeats``, default 1 at year scale, 3 at small). ``dbt build`` runs as a
   child process on a fresh warehouse file in the cache dir, with its own ``--target-path``
   and ``--log-path`` (the project's ``target/`` is not touched). Wall time is measured
   around the child; peak memory is the child's ``ru_maxrss`` as returned by ``os.wait4`` for
   that one child (dbt and DuckDB run in a single process, so this is the peak RSS of the
   whole build, and every build is measured on its own, not as a max over all children of
   this script); a sampler also polls ``/proc`` every 0.2 s to find *when* the peak occurs
   and which dbt nodes were running then. Per-node times come from the build's
   ``run_results.json``.
4. Warehouse, read after dbt has exited: one short read-write connection runs ``CHECKPOINT``
   (dbt-duckdb already checkpoints on close; this makes sure no WAL is left), then
   read-only: row counts of the two marts, ``pragma database_size``, and the marts alone
   copied (in their stored order) into a fresh DuckDB file whose size is measured.
5. Floor probe, after every build, on that build's warehouse, in a child process:
   ``benchmarks/floor_probe.py`` (plain DuckDB: the two finished marts copied sorted into a
   fresh file, and the cohort lists computed naively from the raw files). The report's
   headline is the ratio build wall time / probe time, build and probe alternating so that
   machine noise hits both alike; each pair gives a ratio, and the median is reported.
6. Writes a markdown report (default ``benchmarks/results/build_<scale>.md``) and prints it.

Only the standard library and duckdb are used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench_common import (  # noqa: F401 - re-exported: benchmarks/api.py loads this file for them
    BENCH_DIR, MEMORY_ENV, MARKER, MARTS, PROJECT_DIR, SAMPLE_EVERY_S, ensure_dataset, file_size, fmt_bytes, fmt_s, loadavg, machine_info,
    md_table, median, parser, quiet_connect, relative, report_head, rm_db, run_build, run_child, venv_bin,
    write_report,
)

TOP_NODES = 10


# --------------------------------------------------------------------------- baseline


def scan_worker(data_dir: str, db_path: str) -> None:
    """Hidden mode (--_scan-worker): time a full scan and a load of the six files; print JSON."""
    import duckdb

    from devtools.generate import TABLES

    out = {"scan": {}, "load": {}}
    con = quiet_connect()
    out["threads"] = con.execute("select current_setting('threads')").fetchone()[0]
    out["memory_limit"] = con.execute("select current_setting('memory_limit')").fetchone()[0]
    for t in TABLES:
        path = os.path.join(data_dir, f"{t}.parquet")
        t0 = time.perf_counter()
        con.execute(f"select count(*), sum(hash(r)) from read_parquet('{path}') as r").fetchall()
        out["scan"][t] = time.perf_counter() - t0
    con.close()

    rm_db(Path(db_path))
    t0 = time.perf_counter()
    con = quiet_connect(db_path)
    for t in TABLES:
        path = os.path.join(data_dir, f"{t}.parquet")
        t1 = time.perf_counter()
        con.execute(f"create table {t} as select * from read_parquet('{path}')")
        out["load"][t] = time.perf_counter() - t1
    con.execute("checkpoint")
    con.close()
    out["load_total_s"] = time.perf_counter() - t0
    out["load_bytes"] = file_size(Path(db_path))
    out["scan_total_s"] = sum(out["scan"].values())
    rm_db(Path(db_path))
    print(json.dumps(out))


def run_baseline(cache_dir: Path, runs_dir: Path, i: int) -> dict:
    log = runs_dir / f"baseline_{i}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_scan-worker", str(cache_dir),
           str(runs_dir / "baseline.duckdb")]
    res = run_child(cmd, dict(os.environ), log)
    if res["returncode"] != 0:
        raise SystemExit(f"baseline worker failed, see {log}:\n{log.read_text()[-3000:]}")
    res.update(json.loads(log.read_text().strip().splitlines()[-1]))
    return res


def run_probe(cache_dir: Path, runs_dir: Path, db: Path, i: int) -> dict:
    """benchmarks/floor_probe.py as a child process on the build's warehouse `db`."""
    log = runs_dir / f"probe_{i}.log"
    cmd = [sys.executable, str(BENCH_DIR / "floor_probe.py"), str(cache_dir), str(db), str(runs_dir / "probe.duckdb")]
    res = run_child(cmd, dict(os.environ), log)
    if res["returncode"] != 0:
        raise SystemExit(f"floor probe failed, see {log}:\n{log.read_text()[-3000:]}")
    res.update(json.loads(log.read_text().strip().splitlines()[-1]))
    print(f"[probe {i}] {res['wall_s']:.1f}s wall (marts {res['marts_s']:.1f}s, lists {res['lists_s']:.1f}s), "
          f"peak RSS {fmt_bytes(res['maxrss'])}", flush=True)
    return res


def inspect_warehouse(db: Path, work_dir: Path) -> dict:
    """After dbt has exited: CHECKPOINT, then read-only row counts and sizes."""
    import duckdb

    con = quiet_connect(str(db))
    con.execute("checkpoint")
    con.close()
    out = {"file_bytes": file_size(db), "wal_bytes": file_size(Path(str(db) + ".wal"))}

    con = quiet_connect(str(db), read_only=True)
    try:
        row = con.execute("pragma database_size").fetchone()
        cols = [d[0] for d in con.description]
        out["database_size"] = dict(zip(cols, row))
        out["rows"] = {m: con.execute(f"select count(*) from main.{m}").fetchone()[0] for m in MARTS}
        out["tables"] = con.execute(
            "select schema_name, table_name, estimated_size, column_count from duckdb_tables() "
            "order by estimated_size desc").fetchall()
        out["views"] = con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0]
    finally:
        con.close()

    # the marts alone: copied in stored order into fresh files (each alone, and both together)
    out["mart_bytes"] = {}
    con = quiet_connect()
    try:
        con.execute("set preserve_insertion_order = true")
        con.execute(f"attach '{db}' as wh (read_only)")
        targets = [(m, (m,)) for m in MARTS] + [("both", MARTS)]
        for label, tables in targets:
            f = work_dir / f"marts_{label}.duckdb"
            rm_db(f)
            con.execute(f"attach '{f}' as m")
            for t in tables:
                con.execute(f"create table m.{t} as select * from wh.main.{t}")
            con.execute("checkpoint m")
            con.execute("detach m")
            out["mart_bytes"][label] = file_size(f)
            rm_db(f)
    finally:
        con.close()
    return out


# --------------------------------------------------------------------------- report


def sample_rows(sample_dir: Path) -> int:
    """Source rows of the bundled sample (its six Parquet files)."""
    con = quiet_connect()
    try:
        return sum(con.execute(f"select count(*) from read_parquet('{f}')").fetchone()[0]
                   for f in sorted(sample_dir.glob("*.parquet")))
    finally:
        con.close()


def fixed_cost_rows(builds: list, probes: list, fixed: list, n_sample_rows: int) -> list[list]:
    """The report's rows on dbt's own cost: the same build on the bundled sample, after each pair."""
    if not fixed:
        return []
    cpu = [b["user_s"] + b["sys_s"] for b in fixed]
    shares = [f["wall_s"] / p["wall_s"] for f, p in zip(fixed, probes)]
    cpu_shares = [(f["user_s"] + f["sys_s"]) / (p["user_s"] + p["sys_s"]) for f, p in zip(fixed, probes)]
    left = [2 * p["wall_s"] - f["wall_s"] for f, p in zip(fixed, probes)]
    data_work = [b["wall_s"] - f["wall_s"] for b, f in zip(builds, fixed)]
    return [
        [f"The same `dbt build` on the bundled sample (`data/sample`, {n_sample_rows:,} source rows; "
         f"median of {len(fixed)}, one after each pair): dbt's own cost", fmt_s(median([f["wall_s"] for f in fixed])),
         ", ".join(f"{f['wall_s']:.1f}" for f in fixed) + f" s wall; CPU {fmt_s(median(cpu))}: start-up, "
         "parse, every node's materialization and every test on near-empty tables"],
        ["… as a share of the probe (median of the pairs)", f"{median(shares):.2f}×",
         f"CPU {median(cpu_shares):.2f}×; of the 2× goal, this much is spent before any data"],
        ["Time left for the data work within 2× the probe (2 × probe − sample build)",
         fmt_s(median(left)), f"the build's data work (build − sample build) took {fmt_s(median(data_work))}"],
    ]


def report(args, machine, data, baselines, builds, probes, fixed, n_sample_rows, wh,
           load_before, load_after) -> str:
    b_wall = median([b["wall_s"] for b in builds])
    p_wall = median([p["wall_s"] for p in probes])
    ratios = [b["wall_s"] / p["wall_s"] for b, p in zip(builds, probes)]
    cpu_ratios = [(b["user_s"] + b["sys_s"]) / (p["user_s"] + p["sys_s"]) for b, p in zip(builds, probes)]
    b_dbt = median([b["dbt_elapsed_s"] for b in builds])
    b_rss = median([b["maxrss"] for b in builds])
    scan = median([b["scan_total_s"] for b in baselines])
    load = median([b["load_total_s"] for b in baselines])
    scan_rss = median([b["maxrss"] for b in baselines])
    counts = data["counts"]
    daily, breakdown = wh["rows"]["entity_daily_metrics"], wh["rows"]["entity_country_breakdown"]
    days = data["args"].get("overrides", {}).get("days", data["args"]["preset"]["days"])
    marts_bytes = wh["mart_bytes"]["both"]
    threads = args.threads if args.threads is not None else os.environ.get("DUCKDB_THREADS", "2 (profile default)")
    last = builds[-1]

    memory = ", ".join(f"{k}={os.environ[k]}" for k in MEMORY_ENV if k in os.environ) or "profile defaults"
    out = report_head(f"dbt build benchmark — {data_label(args)}, seed {args.seed}", "build.py", args.command_line,
                      machine,
                      ["Project built", project_label(args)],
                      ["dbt threads (DUCKDB_THREADS)", threads],
                      ["Build's DuckDB memory settings (env)", memory],
                      ["Probe / baseline DuckDB threads / memory_limit",
                       f"{baselines[0]['threads']} / {baselines[0]['memory_limit']} (defaults)"],
                      ["Date", machine["date"]],
                      ["Load average before / after", f"{load_before} / {load_after}"])
    out.append("")

    out.append("## Data set\n")
    a = data["args"]
    preset = ", ".join(f"{k}={v}" for k, v in a["preset"].items())
    if a.get("overrides"):
        preset += "; overridden: " + ", ".join(f"{k}={v}" for k, v in a["overrides"].items())
    gen_note = "reused from cache" if data.get("reused") else "generated in this run"
    out.append(f"`generate(out_dir, seed={a['seed']}, scale=\"{a['scale']}\")` — preset: {preset}; "
               f"{gen_note} (generation took {data.get('generation_seconds', 'n/a')} s).\n")
    out.append(md_table(["Source table", "Rows", "Parquet size"], [
        [f"`{t}`", f"{n:,}", fmt_bytes(data.get("bytes", {}).get(t))] for t, n in counts.items()
    ] + [["**total**", f"**{sum(counts.values()):,}**", fmt_bytes(sum(data.get("bytes", {}).values()) or None)]]))
    out.append("")

    out.append("## Results\n")
    nb, nr = len(builds), len(baselines)
    out.append(md_table(["Floor probe", "Value", "Detail"], [
        [f"Build wall time, `dbt build` (median of {nb})", fmt_s(b_wall),
         ", ".join(f"{b['wall_s']:.1f}" for b in builds) + " s"],
        ["dbt's parse in the timed builds", ", ".join(dict.fromkeys(b["parse"] for b in builds + fixed)),
         "partial: dbt reused its saved parse, as `precompute run` does; `--cold-parse` for a full "
         "parse in every build (about 4.5 s more)"],
        [f"Floor probe wall time (median of {len(probes)}, each right after its build)", fmt_s(p_wall),
         ", ".join(f"{p['wall_s']:.1f}" for p in probes) + " s"],
        ["… write the two marts sorted into a fresh file", fmt_s(median([p["marts_s"] for p in probes])),
         "median"],
        ["… cohort lists, naively (dedup, sorted distinct lists, 2 grains × 3 levels)",
         fmt_s(median([p["lists_s"] for p in probes])), "median"],
        ["**Ratio build / probe** (median of the per-pair ratios)", f"**{median(ratios):.2f}×**",
         ", ".join(f"{r:.2f}" for r in ratios) + "; goal ≤ 2×"],
        ["Ratio of CPU time (user + sys) build / probe (median of the pairs)", f"{median(cpu_ratios):.2f}×",
         "steadier than wall time on a shared machine: " + ", ".join(f"{r:.2f}" for r in cpu_ratios)],
        [f"Peak RSS of `dbt build` (median of {nb})", fmt_bytes(b_rss),
         ", ".join(fmt_bytes(b["maxrss"]) for b in builds)],
        [f"Peak RSS of the probe (median of {len(probes)})", fmt_bytes(median([p["maxrss"] for p in probes])), ""],
    ] + fixed_cost_rows(builds, probes, fixed, n_sample_rows), "lrl"))
    out.append("")
    rows = [
        [f"Build wall time, `dbt build` (median of {nb})", fmt_s(b_wall),
         ", ".join(f"{b['wall_s']:.1f}" for b in builds) + " s"],
        ["… of which dbt execution (`run_results.json` elapsed_time)", fmt_s(b_dbt),
         "the rest is process start-up, parsing and manifest writing"],
        [f"Baseline: full scan of the six Parquet files (median of {nr})", fmt_s(scan),
         ", ".join(f"{b['scan_total_s']:.2f}" for b in baselines) + " s"],
        [f"Baseline: load the six files into a fresh DuckDB file (median of {nr})", fmt_s(load),
         ", ".join(f"{b['load_total_s']:.2f}" for b in baselines) + " s"],
        ["**Ratio build / full scan**", f"**{b_wall / scan:,.0f}×**" if scan else "n/a", ""],
        ["Ratio build / load", f"{b_wall / load:,.1f}×" if load else "n/a", ""],
        [f"Peak RSS of `dbt build` (median of {nb})", fmt_bytes(b_rss),
         f"sampled peak {fmt_bytes(last.get('sampled_peak'))} at {last.get('sampled_peak_at_s', 0):.0f} s"],
        ["Peak RSS of the baseline process", fmt_bytes(scan_rss), "scan + load"],
        ["CPU time of `dbt build` (user + sys, last run)", fmt_s(last["user_s"] + last["sys_s"]),
         f"{(last['user_s'] + last['sys_s']) / last['wall_s']:.2f} cores busy on average"],
        ["Rows `entity_daily_metrics`", f"{daily:,}", ""],
        ["Rows `entity_country_breakdown`", f"{breakdown:,}", ""],
        ["Rows per day, both marts (/ " + str(days) + " days)", f"{(daily + breakdown) / days:,.0f}",
         "spec target ≈ 10,000"],
        ["Warehouse file on disk (after CHECKPOINT)", fmt_bytes(wh["file_bytes"]),
         f"{wh['file_bytes']:,} B; {wh['database_size']['used_blocks']:,} used + "
         f"{wh['database_size']['free_blocks']:,} free blocks of {fmt_bytes(wh['database_size']['block_size'])}; "
         f"WAL {fmt_bytes(wh['wal_bytes'])}"],
        ["Marts only (both copied into a fresh file)", fmt_bytes(marts_bytes),
         f"{wh['mart_bytes']['entity_daily_metrics']:,} B daily alone, "
         f"{wh['mart_bytes']['entity_country_breakdown']:,} B breakdown alone"],
        ["Bytes per mart row (marts only / (daily + breakdown rows))",
         f"{marts_bytes / (daily + breakdown):,.1f} B", ""],
    ]
    out.append(md_table(["Measure", "Value", "Detail"], rows, "lrl"))
    out.append("")

    at_peak = last.get("nodes_at_peak", [])
    peak_models = [n["name"] for n in last["nodes"] if n["name"] in at_peak and n["type"] in ("model", "seed")]
    out.append(f"At the sampled RSS peak ({last.get('sampled_peak_at_s', 0):.0f} s into the build; "
               f"samples every {SAMPLE_EVERY_S} s) {len(at_peak)} node(s) were executing: models "
               f"{', '.join('`' + n + '`' for n in peak_models) or 'none'}, "
               f"plus {len(at_peak) - len(peak_models)} test(s)/other nodes.\n")

    out.append(f"## Where the time goes (last build, top {TOP_NODES} nodes)\n")
    nodes = sorted(last["nodes"], key=lambda n: n["time_s"], reverse=True)
    total_nodes = sum(n["time_s"] for n in nodes)
    out.append(md_table(["#", "Node", "Type", "Time", "Share of node time", "Max sampled RSS while running"], [
        [i + 1, f"`{n['name']}`", n["type"], fmt_s(n["time_s"]),
         f"{100 * n['time_s'] / total_nodes:.1f} %" if total_nodes else "", fmt_bytes(n.get("max_rss"))]
        for i, n in enumerate(nodes[:TOP_NODES])
    ], "rllrrr"))
    out.append("")
    models = [n for n in nodes if n["type"] in ("model", "seed")]
    total_models = sum(n["time_s"] for n in models)
    out.append(f"Top {TOP_NODES} models and seeds only (sum of their times {fmt_s(total_models)}):\n")
    out.append(md_table(["#", "Model", "Time", "Share of model time", "Max sampled RSS while running"], [
        [i + 1, f"`{n['name']}`", fmt_s(n["time_s"]),
         f"{100 * n['time_s'] / total_models:.1f} %" if total_models else "", fmt_bytes(n.get("max_rss"))]
        for i, n in enumerate(models[:TOP_NODES])
    ], "rlrrr"))
    out.append("")
    by_type: dict[str, list] = {}
    for n in nodes:
        by_type.setdefault(n["type"], []).append(n["time_s"])
    out.append(md_table(["Node type", "Count", "Sum of execution times"], [
        [t, len(v), fmt_s(sum(v))] for t, v in sorted(by_type.items(), key=lambda kv: -sum(kv[1]))
    ] + [["**all**", len(nodes), fmt_s(total_nodes)]]))
    out.append("")
    if str(threads) == "1":
        out.append("Node times are `execution_time` from `run_results.json`. With 1 dbt thread nodes run one "
                   "at a time (DuckDB still uses every core inside a node), so node times are uncontended.\n")
    else:
        out.append(f"Node times are `execution_time` from `run_results.json`. With {threads} dbt threads on "
                   f"{machine['cores_usable']} cores, nodes run concurrently and share the cores, so the sum of "
                   "node times can exceed the wall time and a node's time includes waiting for the CPU; run "
                   "with `--threads 1` for an uncontended per-node split.\n")

    out.append("## Warehouse contents (largest tables by rows)\n")
    out.append(md_table(["Table", "Rows", "Columns"], [
        [f"`{s}.{t}`", f"{n:,}", c] for s, t, n, c in wh["tables"][:12]
    ]))
    out.append("")
    out.append(f"{len(wh['tables'])} tables and {wh['views']} views in the warehouse; intermediate "
               "models are materialized as tables in the same file, which is why the whole file is much "
               "larger than the marts alone.\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def overrides(args) -> dict:
    """generate()'s overrides of the scale preset given on the command line."""
    return {k: v for k, v in (("ads", args.ads), ("days", args.days), ("users_per_day", args.users_per_day))
            if v is not None}


def project_label(args) -> str:
    """The checkout that was built, with its commit when it is a git checkout."""
    import subprocess

    project = args.project or PROJECT_DIR
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True)
    commit = f" at `{rev.stdout.strip()}`" if rev.returncode == 0 else ""
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=project,
                           capture_output=True, text=True).stdout.strip()
    return f"`{relative(project)}`{commit}" + (" (uncommitted changes)" if dirty else "")


def data_label(args) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in overrides(args).items())
    return f"`{args.scale}` scale" + (f" ({extra})" if extra else "")


def data_suffix(args) -> str:
    """Cache-dir and report-name suffix of the overrides, e.g. `_ads750_upd6000`."""
    short = {"ads": "ads", "days": "days", "users_per_day": "upd"}
    return "".join(f"_{short[k]}{v}" for k, v in overrides(args).items())


def main(argv=None) -> int:
    p = parser(__doc__, "build", builds=True)
    p.add_argument("--repeats", type=int, default=3, help="baseline repetitions (median reported; default 3)")
    p.add_argument("--build-repeats", type=int, default=None,
                   help="dbt build repetitions (median reported; default 1 at year scale, 3 at small)")
    p.add_argument("--keep-warehouse", action="store_true", help="keep the last build's warehouse file")
    p.add_argument("--project", type=Path, default=None,
                   help="build another checkout of the project (e.g. `git worktree add /tmp/main main`) with "
                        "its own profiles.yml: a before/after comparison on the same data, probe and machine")
    p.add_argument("--ads", type=int, default=None, help="override the preset's number of ads (generate --ads)")
    p.add_argument("--days", type=int, default=None, help="override the preset's number of days (generate --days)")
    p.add_argument("--users-per-day", type=int, default=None,
                   help="override the preset's users per day (generate --users-per-day)")
    p.add_argument("--cold-parse", action="store_true",
                   help="a fresh dbt target for every build, so each parses the project in full (default: "
                        "parse once, then every build reuses the saved parse, as `precompute run` does)")
    p.add_argument("--no-fixed-cost", action="store_true",
                   help="skip the build of the bundled sample after each pair (dbt's own cost, ~20 s each)")
    p.add_argument("--_scan-worker", nargs=2, metavar=("DATA_DIR", "DB"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._scan_worker:
        scan_worker(*args._scan_worker)
        return 0

    args.command_line = " ".join([relative(sys.executable), relative(Path(__file__).resolve())]
                                 + (argv if argv is not None else sys.argv[1:]))
    build_repeats = args.build_repeats or (1 if args.scale == "year" else 3)
    cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}{data_suffix(args)}").resolve()
    output = args.output or BENCH_DIR / "results" / f"build_{args.scale}{data_suffix(args)}.md"
    bin_dir = venv_bin()

    machine = machine_info(bin_dir)
    data = ensure_dataset(cache_dir, args.scale, args.seed, args.regenerate, overrides(args))
    runs_dir = cache_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)

    load_before = loadavg()
    baselines = []
    for i in range(args.repeats):
        b = run_baseline(cache_dir, runs_dir, i + 1)
        print(f"[baseline {i + 1}] scan {b['scan_total_s']:.2f}s, load {b['load_total_s']:.2f}s", flush=True)
        baselines.append(b)
    builds, probes, fixed = [], [], []
    sample_dir = (args.project or PROJECT_DIR) / "data" / "sample"
    sample = {"raw_dir": sample_dir, "db_name": "warehouse_sample.duckdb"}
    # one dbt target for the year builds and one for the sample builds, each parsed once
    # before the timed builds: every build reuses dbt's saved parse, as `precompute run`
    # does; --cold-parse gives each build a fresh target instead
    year_target = None if args.cold_parse else runs_dir / "target_year"
    sample_target = None if args.cold_parse else runs_dir / "target_sample"
    if not args.cold_parse:
        for target in (year_target, sample_target):
            shutil.rmtree(target, ignore_errors=True)
        run_build(args, cache_dir, runs_dir, "parse", bin_dir, target_dir=year_target, command="parse")
        if not args.no_fixed_cost:
            run_build(args, cache_dir, runs_dir, "parse_sample", bin_dir, target_dir=sample_target,
                      command="parse", **sample)
    for i in range(build_repeats):  # build, probe on its warehouse, build, probe, ...
        builds.append(run_build(args, cache_dir, runs_dir, i + 1, bin_dir, target_dir=year_target))
        probes.append(run_probe(cache_dir, runs_dir, builds[-1]["db"], i + 1))
        if not args.no_fixed_cost:  # then the same build on the bundled sample: dbt's own cost
            fixed.append(run_build(args, cache_dir, runs_dir, f"sample_{i + 1}", bin_dir, target_dir=sample_target,
                                   **sample))
            rm_db(fixed[-1]["db"])
    load_after = loadavg()

    wh = inspect_warehouse(builds[-1]["db"], runs_dir)
    if not args.keep_warehouse:
        rm_db(builds[-1]["db"])

    text = report(args, machine, data, baselines, builds, probes, fixed, sample_rows(sample_dir), wh,
                  load_before, load_after)
    write_report(output, text, runs_dir / "last_results.json", {
        "machine": machine, "data": data,
        "baselines": [{k: v for k, v in b.items() if k != "samples"} for b in baselines],
        "builds": [{k: (str(v) if isinstance(v, Path) else v) for k, v in b.items() if k not in ("samples",)}
                   for b in builds],
        "probes": probes,
        "sample_builds": [{k: (str(v) if isinstance(v, Path) else v) for k, v in b.items() if k != "samples"}
                          for b in fixed],
        "warehouse": wh,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
