"""Spark on one machine against DuckDB: the same ``dbt build`` of the project.

Run from anywhere with the project's virtualenv, after ``make install-spark``::

    .venv/bin/python benchmarks/spark.py                        # the sample and a 90-day set, 3 builds each
    .venv/bin/python benchmarks/spark.py --sizes sample --repeats 1   # smoke run, ~5 min

For each data set, in one run:

1. Data. ``sample`` is ``data/sample`` (the bundled small scale: 12 ads, 21 days);
   ``q90`` is the year preset cut to 90 days (250 ads, ~2,000 new users a day), generated
   once into ``benchmarks/.cache/spark_q90_seed<seed>/`` by ``bench_common.ensure_dataset``
   (reused while its marker matches); ``year`` is the full year preset.
2. Builds, alternated engine by engine (DuckDB, Spark, DuckDB, Spark, ...) so that the
   noise of the shared machine hits both alike; ``--repeats`` each, medians reported:
   * DuckDB: ``dbt build`` (every model, seed, data test and unit test) into a fresh file,
     ``DUCKDB_THREADS`` as in the profile (2);
   * Spark: ``dbt build --target spark`` (method: session, ``local[2]``, 4 shuffle partitions,
     3 GiB driver; profiles.yml) into a fresh warehouse directory: the same nodes.
   Each build is one child process (``bench_common.run_child``): wall time around it, and
   the peak RSS of its process tree sampled every 0.2 s (Spark's JVM is a child of dbt's
   Python process, so ``ru_maxrss`` of the child alone would miss it). ``run_results.json``
   gives the time of every node; the report splits it into models and tests.
3. Parity: after the last pair, ``devtools.compare_marts`` compares the two marts of the
   Spark build with the DuckDB build cell for cell (the check of ``make test-spark``).
4. Report: printed and written to ``benchmarks/results/spark_<sizes>.md`` (``--output``).

The machine is shared: compare the engines within a run (same data, alternated), not runs by
seconds. Do not run it beside ``build.py``, ``queries.py`` or ``release.py``: they share the
cache directory and the two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

from bench_common import (
    BENCH_DIR, PROJECT_DIR, ensure_dataset, fmt_bytes, fmt_s, loadavg, machine_info, md_table, median,
    quiet_connect, rm_db, run_child, venv_bin,
)

# name -> (generator scale preset, overrides of generate(); None = the bundled sample)
SIZES = {
    "sample": None,
    "q90": ("year", {"days": 90}),
    "year": ("year", {}),
}
ENGINES = ("duckdb", "spark")
SPARK_SCHEMA = "ad_precompute"
TOP_NODES = 8


def source_rows(raw_dir: Path) -> dict[str, int]:
    con = quiet_connect()
    try:
        return {p.stem: con.execute(f"select count(*) from read_parquet('{p}')").fetchall()[0][0]
                for p in sorted(raw_dir.glob("*.parquet"))}
    finally:
        con.close()


def dataset(name: str, seed: int, cache_root: Path, regenerate: bool) -> Path:
    if SIZES[name] is None:
        return PROJECT_DIR / "data" / "sample"
    scale, overrides = SIZES[name]
    cache_dir = cache_root / f"spark_{name}_seed{seed}"
    ensure_dataset(cache_dir, scale, seed, regenerate, overrides=overrides)
    return cache_dir


def run_one(engine: str, raw_dir: Path, work: Path, i: int, bin_dir: Path) -> dict:
    """One `dbt build` on `engine` from nothing; returns timings, RSS and node times."""
    run_dir = work / f"{engine}_{i}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("RAW_DATA_DIR", None)
    cmd = [str(bin_dir / "dbt"), "build", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(run_dir / "target"), "--log-path", str(run_dir / "logs"),
           "--vars", json.dumps({"raw_data_dir": str(raw_dir)})]
    if engine == "duckdb":
        env["DUCKDB_PATH"] = str(work / "duckdb.duckdb")
        rm_db(work / "duckdb.duckdb")
    else:
        cmd += ["--target", "spark"]
        env["SPARK_WAREHOUSE_DIR"] = str(work / "spark_warehouse")
        env["SPARK_SCHEMA"] = SPARK_SCHEMA
        shutil.rmtree(work / "spark_warehouse", ignore_errors=True)
    print(f"[{engine} {i}] dbt build on {raw_dir}", flush=True)
    res = run_child(cmd, env, run_dir / "dbt_build.log", sample=True)
    if res["returncode"] != 0:
        tail = (run_dir / "dbt_build.log").read_text(errors="replace")[-4000:]
        raise SystemExit(f"{engine} dbt build failed (exit {res['returncode']}), log {run_dir}:\n{tail}")
    results = json.loads((run_dir / "target" / "run_results.json").read_text())
    nodes = [{"name": r["unique_id"].split(".", 2)[-1], "type": r["unique_id"].split(".")[0],
              "time_s": r.get("execution_time") or 0.0} for r in results["results"]]
    peak = max((s[1] for s in res["samples"]), default=None)
    out = {
        "engine": engine, "wall_s": res["wall_s"], "dbt_elapsed_s": results.get("elapsed_time"),
        "peak_rss": peak, "cpu_s": res["user_s"] + res["sys_s"], "nodes": nodes,
        "models_s": sum(n["time_s"] for n in nodes if n["type"] in ("model", "seed")),
        "tests_s": sum(n["time_s"] for n in nodes if n["type"] in ("test", "unit_test")),
        "node_count": len(nodes),
    }
    print(f"[{engine} {i}] {out['wall_s']:.1f} s wall, dbt elapsed {out['dbt_elapsed_s']:.1f} s, "
          f"peak RSS {fmt_bytes(peak)}", flush=True)
    return out


def parity(work: Path) -> dict:
    from devtools import compare_marts

    results = compare_marts.compare(work / "duckdb.duckdb", work / "spark_warehouse" / f"{SPARK_SCHEMA}.db")
    return {
        "passed": all(r.passed for r in results),
        "cells": sum(r.cells for r in results),
        "failed": sum(r.failed_cells + r.only_in_reference + r.only_in_candidate + len(r.schema_problems)
                      for r in results),
        "rows": {r.table: r.reference_rows for r in results},
        "within_tolerance": sum(e["within_tolerance"] for r in results for e in r.columns.values()),
    }


def summarize(builds: list[dict]) -> dict:
    return {k: median([b[k] for b in builds]) for k in ("wall_s", "dbt_elapsed_s", "models_s", "tests_s",
                                                         "peak_rss", "cpu_s")} | {
        "walls": [round(b["wall_s"], 1) for b in builds]}


def report(args, machine: dict, sizes: dict, load_before: str, load_after: str) -> str:
    lines = [
        "# Spark (local) against DuckDB: the same `dbt build`",
        "",
        f"`benchmarks/spark.py --sizes {','.join(args.sizes)} --repeats {args.repeats}`, {machine['date']}.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores_usable']} cores, {fmt_bytes(machine['ram'])} RAM, "
        f"{machine['os']}; shared with other jobs (load average {load_before} before, {load_after} after). "
        f"Python {machine['python']}, dbt-core {machine['dbt_core']}, dbt-duckdb {machine['dbt_duckdb']} "
        f"(duckdb {machine['duckdb']}), dbt-spark {machine['dbt_spark']} (pyspark {machine['pyspark']}, "
        f"Java {machine['java']}).",
        "",
        "Each build is a full `dbt build` from nothing (every model, seed, data test and unit test), "
        "one child process; DuckDB and Spark builds alternate. Spark: method session, `local[2]`, "
        "4 shuffle partitions, 3 GiB driver, 2 dbt threads; DuckDB: 2 dbt threads. Medians "
        f"of {args.repeats}; peak RSS is the sampled process tree (dbt + Spark's JVM).",
        "",
    ]
    rows = []
    for name, s in sizes.items():
        d, k = s["duckdb"], s["spark"]
        rows.append([name, f"{s['source_rows']:,}", f"{s['parity']['rows'].get('entity_daily_metrics', 0):,} + "
                     f"{s['parity']['rows'].get('entity_country_breakdown', 0):,}",
                     fmt_s(d["wall_s"]), fmt_s(k["wall_s"]), f"{k['wall_s'] / d['wall_s']:.1f} ×",
                     fmt_bytes(d["peak_rss"]), fmt_bytes(k["peak_rss"])])
    lines += [md_table(["data set", "source rows", "mart rows (daily + breakdown)", "DuckDB", "Spark local[2]",
                        "Spark / DuckDB", "DuckDB peak RSS", "Spark peak RSS"], rows, "lrrrrrrr"), ""]
    rows = []
    for name, s in sizes.items():
        for engine in ENGINES:
            e = s[engine]
            rows.append([name, engine, ", ".join(f"{w:.1f}" for w in e["walls"]), fmt_s(e["dbt_elapsed_s"]),
                         fmt_s(e["models_s"]), fmt_s(e["tests_s"]), fmt_s(e["cpu_s"])])
    lines += ["Every build (wall seconds) and the split of the median build: dbt's own elapsed time, and the "
              "sum of node times of models (and the seed) and of tests; CPU is the dbt process's own (for "
              "Spark, the JVM's CPU is not in it).", "",
              md_table(["data set", "engine", "builds (s)", "dbt elapsed", "models", "tests", "CPU (dbt process)"],
                       rows, "llrrrrr"), ""]
    rows = [[name, "yes" if s["parity"]["passed"] else "**NO**", f"{s['parity']['cells']:,}",
             s["parity"]["failed"], s["parity"]["within_tolerance"]] for name, s in sizes.items()]
    lines += ["Parity (`devtools.compare_marts`, the check of `make test-spark`) of the last Spark build "
              "against the last DuckDB build: lists and counts exactly, money to the cent, ratios to 1e-4.", "",
              md_table(["data set", "match", "cells", "differ", "within tolerance, not bit-identical"], rows,
                       "lrrrr"), ""]
    for name, s in sizes.items():
        top = sorted(s["spark_nodes"], key=lambda n: -n["time_s"])[:TOP_NODES]
        duck = {n["name"]: n["time_s"] for n in s["duckdb_nodes"]}
        lines += [f"Slowest Spark nodes, `{name}` (last build), beside DuckDB's time for the same node:", "",
                  md_table(["node", "Spark", "DuckDB"],
                           [[f"`{n['name']}`", fmt_s(n["time_s"]), fmt_s(duck.get(n["name"]))] for n in top],
                           "lrr"), ""]
    lines += ["## Reading", "", args.reading.strip() if args.reading else "(see benchmarks/README.md)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=lambda s: s.split(","), default=["sample", "q90"],
                   help=f"comma-separated, of {', '.join(SIZES)} (default sample,q90)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument("--output", type=Path)
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--reading", help="text of the report's 'Reading' section (a file name or the text)")
    args = p.parse_args(argv)
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown:
        p.error(f"unknown size(s) {unknown}; one of {list(SIZES)}")
    if args.reading and Path(args.reading).is_file():
        args.reading = Path(args.reading).read_text()
    bin_dir = venv_bin()
    machine = machine_info(bin_dir)
    machine["dbt_spark"] = _version("dbt-spark")
    machine["pyspark"] = _version("pyspark")
    machine["java"] = _java_version()
    load_before = loadavg()
    sizes = {}
    for name in args.sizes:
        raw_dir = dataset(name, args.seed, args.cache_dir, args.regenerate)
        work = args.cache_dir / "spark_runs" / name
        work.mkdir(parents=True, exist_ok=True)
        builds = {engine: [] for engine in ENGINES}
        for i in range(args.repeats):
            for engine in ENGINES:
                builds[engine].append(run_one(engine, raw_dir, work, i, bin_dir))
        sizes[name] = {"raw_dir": str(raw_dir), "source_rows": sum(source_rows(raw_dir).values()),
                       "parity": parity(work), **{e: summarize(builds[e]) for e in ENGINES},
                       "spark_nodes": builds["spark"][-1]["nodes"], "duckdb_nodes": builds["duckdb"][-1]["nodes"]}
        print(f"[{name}] parity: {sizes[name]['parity']}", flush=True)
    load_after = loadavg()
    text = report(args, machine, sizes, load_before, load_after)
    output = args.output or BENCH_DIR / "results" / f"spark_{'_'.join(args.sizes)}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    raw = {name: {k: v for k, v in s.items() if not k.endswith("_nodes")} for name, s in sizes.items()}
    (args.cache_dir / "spark_runs" / "last_results.json").write_text(
        json.dumps({"machine": machine, "sizes": raw, "at": dt.datetime.now().isoformat()}, indent=2, default=str))
    print(text)
    print(f"\nwritten: {output}")
    return 0 if all(s["parity"]["passed"] for s in sizes.values()) else 1


def _version(package: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _java_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    except OSError:
        return "not found"
    first = out.splitlines()[0] if out else ""
    return first.split('"')[1] if '"' in first else first


if __name__ == "__main__":
    sys.exit(main())
