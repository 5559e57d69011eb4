"""What the cohort curves (entity_cohort_curves, docs/metrics.md §9) add to the year build.

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/curves.py                          # year scale, seed 42, 3 pairs
    .venv/bin/python benchmarks/curves.py --raw-dir /work/yeardata # an already generated data set

Two full ``dbt build`` runs (every model and test, as ``build.py`` runs them) on the same
data: *with* the curves, and *without* them (``--exclude entity_cohort_curves``, which
also leaves out every test of the model). They alternate, the order flipped in every
pair, so that the machine's noise hits both alike; each variant has its own dbt target,
warmed up by a parse first, so that every timed build reuses its saved parse, as
``precompute run`` does. Wall time and peak RSS (``ru_maxrss`` of the build's process)
of each build, per-node times from ``run_results.json``; the report gives the medians
and the median of the per-pair ratios. Target: the curves add at most 15 % to the wall
time and nothing to the peak memory.

The data set is ``--raw-dir`` when given (read only), else the cache of ``build.py``
(``bench_common.ensure_dataset``). The warehouses go into the cache dir and are deleted.
Writes ``benchmarks/results/curves_<scale>.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_common import (
    BENCH_DIR, ensure_dataset, fmt_bytes, fmt_s, loadavg, machine_info, md_table, median, parser, relative,
    report_head, rm_db, run_build, venv_bin, write_report,
)

CURVES = "entity_cohort_curves"
VARIANTS = {"with": [], "without": ["--exclude", CURVES]}
TIME_TARGET = 1.15


def _node_time(build: dict, predicate) -> float:
    return sum(n["time_s"] for n in build["nodes"] if predicate(n))


def _is_curve_node(node: dict) -> bool:
    return CURVES in node["name"] or CURVES in node["unique_id"]


def _rows(db: Path) -> int | None:
    from bench_common import quiet_connect

    con = quiet_connect(str(db), read_only=True)
    try:
        return con.execute(f"select count(*) from main.{CURVES}").fetchone()[0]
    finally:
        con.close()


def report(args, machine: dict, data: dict, builds: dict[str, list[dict]], curve_rows: int | None,
           load_before: str, load_after: str, elapsed: float) -> str:
    with_, without = builds["with"], builds["without"]
    wall = {k: median([b["wall_s"] for b in v]) for k, v in builds.items()}
    rss = {k: median([b["maxrss"] for b in v]) for k, v in builds.items()}
    cpu = {k: median([b["user_s"] + b["sys_s"] for b in v]) for k, v in builds.items()}
    ratios = [w["wall_s"] / o["wall_s"] for w, o in zip(with_, without)]
    cpu_ratios = [(w["user_s"] + w["sys_s"]) / (o["user_s"] + o["sys_s"]) for w, o in zip(with_, without)]
    curve_model = [_node_time(b, lambda n: n["type"] == "model" and _is_curve_node(n)) for b in with_]
    curve_tests = [_node_time(b, lambda n: n["type"] == "test" and _is_curve_node(n)) for b in with_]
    unit_tests = [_node_time(b, lambda n: n["type"] == "unit_test" and _is_curve_node(n)) for b in with_]
    windowed = {k: median([_node_time(b, lambda n: n["name"].endswith("int_revenuecat_events_windowed")
                                      and n["type"] == "model") for b in v]) for k, v in builds.items()}
    ratio = median(ratios)
    verdict = "met" if ratio <= TIME_TARGET and rss["with"] <= rss["without"] * 1.02 else "NOT met"
    lines = report_head(
        f"The cohort curves in the year build — `{args.scale}` scale, seed {args.seed}", "curves.py",
        args.command_line, machine,
        ["Project built", f"`{relative(Path(__file__).resolve().parents[1])}`"],
        ["Date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())],
        ["Load average before / after", f"{load_before} / {load_after}"],
    )
    lines += ["\n## Data set\n", f"`{data.get('dir')}`: {data.get('rows', 'n/a')} source rows; "
              f"`{CURVES}`: {curve_rows:,} rows (every entity-day of `entity_daily_metrics` × 6 horizons).\n"]
    lines += ["## Results\n", md_table(["Measure", "With the curves", "Without", "Detail"], [
        ["`dbt build` wall time (median)", fmt_s(wall["with"]), fmt_s(wall["without"]),
         "runs: " + ", ".join(f"{w['wall_s']:.1f} / {o['wall_s']:.1f}" for w, o in zip(with_, without))],
        ["**Ratio with / without** (median of the pairs)", f"**{ratio:.3f}×**", "",
         f"pairs {', '.join(f'{r:.3f}' for r in ratios)}; target ≤ {TIME_TARGET:.2f}× ({verdict})"],
        ["CPU time, user + sys (median)", fmt_s(cpu["with"]), fmt_s(cpu["without"]),
         f"ratio (median of the pairs) {median(cpu_ratios):.3f}×"],
        ["Peak RSS of `dbt build` (median)", fmt_bytes(rss["with"]), fmt_bytes(rss["without"]),
         "runs: " + ", ".join(f"{fmt_bytes(w['maxrss'])} / {fmt_bytes(o['maxrss'])}"
                              for w, o in zip(with_, without))],
        [f"`{CURVES}` model (median)", fmt_s(median(curve_model)), "—", "node time in run_results.json"],
        ["… its data tests (median, summed)", fmt_s(median(curve_tests)), "—", "key, grid and spend, "
         "non-decreasing, row checks"],
        ["… its unit tests (median, summed)", fmt_s(median(unit_tests)), "—", "two unit tests, five cases"],
        ["`int_revenuecat_events_windowed` (median)", fmt_s(windowed["with"]), fmt_s(windowed["without"]),
         "holds the renewals for the curves in both variants"],
    ], "lrrl")]
    lines += [f"\nTotal time of this benchmark: {fmt_s(elapsed)}. The machine is shared (2 cores): compare "
              "the ratio, measured within the run, rather than absolute seconds; under load the CPU-time "
              "ratio is the steadier of the two.\n"]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = parser(__doc__, "curves", builds=True)
    p.add_argument("--repeats", type=int, default=3, help="pairs of builds, alternated (default 3)")
    p.add_argument("--raw-dir", type=Path, default=None,
                   help="an already generated data set (read only) instead of the cache's")
    args = p.parse_args(argv)
    args.command_line = " ".join([relative(sys.executable), relative(Path(__file__).resolve())]
                                 + (argv if argv is not None else sys.argv[1:]))
    args.cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}").resolve()
    bin_dir = venv_bin()
    t_start = time.perf_counter()
    machine = machine_info(bin_dir)
    if args.raw_dir:
        raw_dir = args.raw_dir.resolve()
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        data = {"dir": str(raw_dir), "rows": "given"}
    else:
        data = ensure_dataset(args.cache_dir, args.scale, args.seed, args.regenerate)
        raw_dir = args.cache_dir
        data.setdefault("dir", str(raw_dir))
        data["rows"] = f"{sum((data.get('rows') or {}).values()):,}" if isinstance(data.get("rows"), dict) else "n/a"
    runs_dir = args.cache_dir / "curves_runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    targets = {name: runs_dir / f"target_{name}" for name in VARIANTS}
    for name in VARIANTS:  # warm up each variant's saved parse (the selection is not part of it)
        run_build(args, args.cache_dir, runs_dir, f"parse_{name}", bin_dir, raw_dir=raw_dir,
                  db_name=f"curves_{name}.duckdb", target_dir=targets[name], command="parse")

    load_before = loadavg()
    builds: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    curve_rows = None
    for i in range(1, args.repeats + 1):
        order = list(VARIANTS) if i % 2 else list(reversed(VARIANTS))
        for name in order:
            b = run_build(args, args.cache_dir, runs_dir, f"{name}_{i}", bin_dir, raw_dir=raw_dir,
                          db_name=f"curves_{name}.duckdb", target_dir=targets[name], extra=VARIANTS[name])
            if name == "with" and curve_rows is None:
                curve_rows = _rows(b["db"])
            rm_db(b["db"])
            builds[name].append(b)
    load_after = loadavg()
    elapsed = time.perf_counter() - t_start

    output = args.output or BENCH_DIR / "results" / f"curves_{args.scale}.md"
    text = report(args, machine, data, builds, curve_rows, load_before, load_after, elapsed)
    drop = ("samples", "nodes")
    write_report(output, text, runs_dir / "last_results.json", {
        "machine": machine, "data": data, "command_line": args.command_line,
        "builds": {k: [{key: v for key, v in b.items() if key not in drop} for b in bs] for k, bs in builds.items()},
        "load_before": load_before, "load_after": load_after,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
