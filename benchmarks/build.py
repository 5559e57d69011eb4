"""Benchmark of the full ``dbt build`` on a generated data set (issue 3, item 5).

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/build.py                      # year scale, seed 42
    .venv/bin/python benchmarks/build.py --scale small        # quick smoke run

What it does, in order:

1. Data set. ``python_hooks.generate.generate(cache_dir, seed, scale)`` writes the six
   source Parquet files into the cache dir (default ``benchmarks/.cache/<scale>_seed<seed>/``,
   git-ignored). A marker ``generator.json`` records the generator arguments, the scale
   preset, a hash of ``python_hooks/generate.py`` and the row counts; the files are reused
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
5. Writes a markdown report (default ``benchmarks/results/build_<scale>.md``) and prints it.

Only the standard library and duckdb are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

MARTS = ("entity_daily_metrics", "entity_country_breakdown")
MARKER = "generator.json"
TOP_NODES = 10
SAMPLE_EVERY_S = 0.2


# --------------------------------------------------------------------------- helpers


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_s(s: float | None) -> str:
    return "n/a" if s is None else f"{s:,.2f} s"


def median(xs):
    return statistics.median(xs) if xs else None


def file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def rm_db(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        if p.exists():
            p.unlink()


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def quiet_connect(path: str = ":memory:", read_only: bool = False):
    """A DuckDB connection without the progress bar (it would end up in the logs)."""
    import duckdb

    con = duckdb.connect(path, read_only=read_only)
    con.execute("set enable_progress_bar = false")
    return con


# --------------------------------------------------------------------------- machine


def machine_info(venv_bin: Path) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass

    def ver(pkg):
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram": ram,
        "os": os_name,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": ver("dbt-core"),
        "dbt_duckdb": ver("dbt-duckdb"),
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "dbt": str(venv_bin / "dbt"),
    }


# --------------------------------------------------------------------------- data set


def generator_args(scale: str, seed: int, overrides: dict | None = None) -> dict:
    from python_hooks import generate as gen

    src = Path(gen.__file__).read_bytes()
    preset = dict(gen.SCALES[scale])
    preset["targets"] = list(preset["targets"])
    args = {
        "function": "python_hooks.generate.generate",
        "seed": seed,
        "scale": scale,
        "preset": preset,
        "start_date": "2025-01-01",
        "generate_py_sha256": hashlib.sha256(src).hexdigest(),
    }
    if overrides:
        args["overrides"] = dict(overrides)  # generate()'s ads / days / users_per_day
    return args


def ensure_dataset(cache_dir: Path, scale: str, seed: int, force: bool, overrides: dict | None = None) -> dict:
    """Generate the six Parquet files into cache_dir unless a matching marker is present.

    `overrides` (ads, days, users_per_day) change the scale preset."""
    from python_hooks import generate as gen

    args = generator_args(scale, seed, overrides)
    marker = cache_dir / MARKER
    if marker.exists() and not force:
        try:
            info = json.loads(marker.read_text())
        except ValueError:
            info = {}
        files_ok = all((cache_dir / f"{t}.parquet").is_file() for t in gen.TABLES)
        if info.get("args") == args and files_ok:
            print(f"[data] reusing {cache_dir} (generated {info.get('generated_at')})", flush=True)
            info["reused"] = True
            return info
        print(f"[data] marker in {cache_dir} does not match the generator arguments/code: regenerating",
              flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    if marker.exists():
        marker.unlink()
    print(f"[data] generating scale={scale} seed={seed} into {cache_dir} ...", flush=True)
    t0 = time.perf_counter()
    counts = gen.generate(cache_dir, seed=seed, scale=scale, start_date=dt.date.fromisoformat(args["start_date"]),
                          **(overrides or {}))
    elapsed = time.perf_counter() - t0
    info = {
        "args": args,
        "counts": counts,
        "bytes": {t: file_size(cache_dir / f"{t}.parquet") for t in gen.TABLES},
        "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "generation_seconds": round(elapsed, 1),
    }
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, marker)
    print(f"[data] generated in {elapsed:.1f}s: {counts}", flush=True)
    info["reused"] = False
    return info


# --------------------------------------------------------------------------- child processes


class RssSampler(threading.Thread):
    """Polls the RSS of a process and its descendants (from /proc) until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int]] = []  # (unix time, bytes)
        self._halt = threading.Event()

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
                except OSError:
                    pass
        except OSError:
            pass
        return out

    def _tree_rss(self) -> int:
        total, todo, seen = 0, [self.pid], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            try:
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            except OSError:
                continue
            todo += self._children(p)
        return total

    def run(self):
        while not self._halt.is_set():
            self.samples.append((time.time(), self._tree_rss()))
            self._halt.wait(SAMPLE_EVERY_S)

    def stop(self):
        self._halt.set()
        self.join()


def run_child(cmd: list[str], env: dict, log_path: Path, sample: bool = False) -> dict:
    """Run cmd, wait for it with os.wait4 (rusage of that child only); return timings and RSS."""
    with open(log_path, "wb") as log:
        t_start = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_DIR)
        sampler = RssSampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.stop()
    return {
        "returncode": proc.returncode,
        "wall_s": wall,
        "started_at": t_start,
        "maxrss": ru.ru_maxrss * 1024,  # Linux reports KiB
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "samples": sampler.samples if sampler else [],
    }


# --------------------------------------------------------------------------- baseline


def scan_worker(data_dir: str, db_path: str) -> None:
    """Hidden mode (--_scan-worker): time a full scan and a load of the six files; print JSON."""
    import duckdb

    from python_hooks.generate import TABLES

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


# --------------------------------------------------------------------------- build


def parse_ts(s: str) -> float:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def run_build(args, cache_dir: Path, runs_dir: Path, i: int, venv_bin: Path) -> dict:
    run_dir = runs_dir / f"build_{i}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    db = cache_dir / "warehouse.duckdb"
    rm_db(db)
    env = dict(os.environ)
    env["DUCKDB_PATH"] = str(db)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.pop("RAW_DATA_DIR", None)
    if args.threads is not None:
        env["DUCKDB_THREADS"] = str(args.threads)
    cmd = [
        str(venv_bin / "dbt"), "build",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(run_dir / "target"),
        "--log-path", str(run_dir / "logs"),
        "--vars", json.dumps({"raw_data_dir": str(cache_dir)}),
    ]
    print(f"[build {i}] {' '.join(cmd)}", flush=True)
    res = run_child(cmd, env, run_dir / "dbt_build.log", sample=True)
    res["cmd"] = cmd
    res["db"] = db
    rr_path = run_dir / "target" / "run_results.json"
    if res["returncode"] != 0:
        tail = (run_dir / "dbt_build.log").read_text(errors="replace")[-4000:]
        raise SystemExit(f"dbt build failed (exit {res['returncode']}), log {run_dir / 'dbt_build.log'}:\n{tail}")
    rr = json.loads(rr_path.read_text())
    res["dbt_elapsed_s"] = rr.get("elapsed_time")
    nodes = []
    for r in rr["results"]:
        timing = {t["name"]: t for t in r.get("timing", [])}
        ex = timing.get("execute") or {}
        start = parse_ts(ex["started_at"]) if ex.get("started_at") else None
        end = parse_ts(ex["completed_at"]) if ex.get("completed_at") else None
        nodes.append({
            "unique_id": r["unique_id"],
            "type": r["unique_id"].split(".")[0],
            "name": r["unique_id"].split(".", 2)[-1],
            "status": r["status"],
            "time_s": r.get("execution_time") or 0.0,
            "start": start,
            "end": end,
        })
    # memory context: sampled RSS, and the nodes running at the sampled peak
    samples = res["samples"]
    if samples:
        t_peak, rss_peak = max(samples, key=lambda s: s[1])
        res["sampled_peak"] = rss_peak
        res["sampled_peak_at_s"] = t_peak - res["started_at"]
        res["nodes_at_peak"] = [n["name"] for n in nodes
                                if n["start"] and n["end"] and n["start"] - 0.1 <= t_peak <= n["end"] + 0.1]
        for n in nodes:
            if n["start"] and n["end"]:
                inside = [s[1] for s in samples if n["start"] - 0.1 <= s[0] <= n["end"] + 0.1]
                n["max_rss"] = max(inside) if inside else None
    res["nodes"] = nodes
    res["run_dir"] = run_dir
    print(f"[build {i}] {res['wall_s']:.1f}s wall, dbt elapsed {res['dbt_elapsed_s']:.1f}s, "
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


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def report(args, machine, data, baselines, builds, wh, load_before, load_after) -> str:
    b_wall = median([b["wall_s"] for b in builds])
    b_dbt = median([b["dbt_elapsed_s"] for b in builds])
    b_rss = median([b["maxrss"] for b in builds])
    scan = median([b["scan_total_s"] for b in baselines])
    load = median([b["load_total_s"] for b in baselines])
    scan_rss = median([b["maxrss"] for b in baselines])
    counts = data["counts"]
    daily, breakdown = wh["rows"]["entity_daily_metrics"], wh["rows"]["entity_country_breakdown"]
    days = data["args"]["preset"]["days"]
    marts_bytes = wh["mart_bytes"]["both"]
    threads = args.threads if args.threads is not None else os.environ.get("DUCKDB_THREADS", "2 (profile default)")
    last = builds[-1]

    out = []
    out.append(f"# dbt build benchmark — `{args.scale}` scale, seed {args.seed}\n")
    out.append("Generated by `benchmarks/build.py` (see `benchmarks/README.md`). Command:\n")
    out.append("```\n" + args.command_line + "\n```\n")
    out.append("## Machine\n")
    out.append(md_table(["", ""], [
        ["CPU", machine["cpu"]],
        ["Cores", f"{machine['cores']} (usable: {machine['cores_usable']})"],
        ["RAM", fmt_bytes(machine["ram"])],
        ["OS", machine["os"]],
        ["Python", machine["python"]],
        ["duckdb", machine["duckdb"]],
        ["dbt-core / dbt-duckdb", f"{machine['dbt_core']} / {machine['dbt_duckdb']}"],
        ["dbt threads (DUCKDB_THREADS)", threads],
        ["DuckDB threads / memory_limit", f"{baselines[0]['threads']} / {baselines[0]['memory_limit']} (defaults)"],
        ["Date", machine["date"]],
        ["Load average before / after", f"{load_before} / {load_after}"],
    ], "ll"))
    out.append("")

    out.append("## Data set\n")
    a = data["args"]
    preset = ", ".join(f"{k}={v}" for k, v in a["preset"].items())
    gen_note = "reused from cache" if data.get("reused") else "generated in this run"
    out.append(f"`generate(out_dir, seed={a['seed']}, scale=\"{a['scale']}\")` — preset: {preset}; "
               f"{gen_note} (generation took {data.get('generation_seconds', 'n/a')} s).\n")
    out.append(md_table(["Source table", "Rows", "Parquet size"], [
        [f"`{t}`", f"{n:,}", fmt_bytes(data.get("bytes", {}).get(t))] for t, n in counts.items()
    ] + [["**total**", f"**{sum(counts.values()):,}**", fmt_bytes(sum(data.get("bytes", {}).values()) or None)]]))
    out.append("")

    out.append("## Results\n")
    nb, nr = len(builds), len(baselines)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=["year", "small"], default="year")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeats", type=int, default=3, help="baseline repetitions (median reported; default 3)")
    p.add_argument("--build-repeats", type=int, default=None,
                   help="dbt build repetitions (median reported; default 1 at year scale, 3 at small)")
    p.add_argument("--threads", type=int, default=None,
                   help="dbt threads, passed as DUCKDB_THREADS (default: profile default, 2)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="data set cache (default benchmarks/.cache/<scale>_seed<seed>/)")
    p.add_argument("--output", type=Path, default=None,
                   help="markdown report (default benchmarks/results/build_<scale>.md)")
    p.add_argument("--regenerate", action="store_true", help="regenerate the data set even if cached")
    p.add_argument("--keep-warehouse", action="store_true", help="keep the last build's warehouse file")
    p.add_argument("--_scan-worker", nargs=2, metavar=("DATA_DIR", "DB"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._scan_worker:
        scan_worker(*args._scan_worker)
        return 0

    def rel(x: str) -> str:
        try:
            return os.path.relpath(x, PROJECT_DIR) if Path(x).is_absolute() else x
        except ValueError:
            return x

    args.command_line = " ".join([rel(sys.executable), rel(str(Path(__file__).resolve()))]
                                 + (argv if argv is not None else sys.argv[1:]))
    build_repeats = args.build_repeats or (1 if args.scale == "year" else 3)
    cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}").resolve()
    output = args.output or BENCH_DIR / "results" / f"build_{args.scale}.md"
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "dbt").exists():
        venv_bin = PROJECT_DIR / ".venv" / "bin"
    if not (venv_bin / "dbt").exists():
        raise SystemExit(f"dbt not found next to {sys.executable} nor in {venv_bin}")

    machine = machine_info(venv_bin)
    data = ensure_dataset(cache_dir, args.scale, args.seed, args.regenerate)
    runs_dir = cache_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)

    load_before = loadavg()
    baselines = []
    for i in range(args.repeats):
        b = run_baseline(cache_dir, runs_dir, i + 1)
        print(f"[baseline {i + 1}] scan {b['scan_total_s']:.2f}s, load {b['load_total_s']:.2f}s", flush=True)
        baselines.append(b)
    builds = [run_build(args, cache_dir, runs_dir, i + 1, venv_bin) for i in range(build_repeats)]
    load_after = loadavg()

    wh = inspect_warehouse(builds[-1]["db"], runs_dir)
    if not args.keep_warehouse:
        rm_db(builds[-1]["db"])

    text = report(args, machine, data, baselines, builds, wh, load_before, load_after)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    # raw numbers next to the runs, for later comparison
    raw = {
        "machine": machine, "data": data,
        "baselines": [{k: v for k, v in b.items() if k != "samples"} for b in baselines],
        "builds": [{k: (str(v) if isinstance(v, Path) else v) for k, v in b.items() if k not in ("samples",)}
                   for b in builds],
        "warehouse": wh,
    }
    (runs_dir / "last_results.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    print()
    print(text)
    print(f"\n[report] written to {output}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
