"""Read API latency over HTTP under load: `precompute serve` driven by wrk.

Run from anywhere with the project's virtualenv (wrk from Debian: ``apt-get install wrk``)::

    .venv/bin/python benchmarks/api.py                  # year scale, seed 42
    .venv/bin/python benchmarks/api.py --scale small    # quick smoke run

1. Release: ``<cache>/published/dash.duckdb`` (``<cache>`` = ``benchmarks/.cache/<scale>_seed<seed>/``)
   is reused when it was published from ``<cache>`` after its data set; otherwise (or with
   ``--rerun``) ``precompute run`` publishes one.
2. Requests: ``random.Random(--sample-seed)`` draws request paths per endpoint from the release:
   levels cycle campaign / adset / ad, an entity of the level, an end day on which a 28-day window
   fits, 14-day ranges ending on it (*new ranges*: the warm-up does not cover them).
3. Server: ``precompute serve`` as a child process; the passes start once ``/api/health`` reports
   the warm-up of the release's first view done.
4. Load: per endpoint, wrk (``benchmarks/api_paths.lua``) sends a list of paths, each once, in a
   closed loop (no think time): ``--single-requests`` new paths by 1 client; ``--requests`` other new
   paths by ``--clients`` clients (default 8); then those same paths again (*held*: the server keeps
   each answer per release). The *first view* rows send the page's default-range requests, which the
   warm-up answered. wrk reports the median and p99 of its latency histogram.
   The ``--single-requests`` paths are then sent again by 1 client (*held*, 1 client).
5. Report: ``benchmarks/results/api_<scale>.md`` (``--output``); raw figures in
   ``<cache>/runs/api_last_results.json`` (``--results``).

Before / after: ``--published PATH`` serves an existing published path as it is, ``--server-bin
DIR`` runs another checkout's ``precompute serve`` (e.g. ``/work/main/.venv/bin``), and ``--before
RESULTS.json`` (the raw figures of an earlier run on the same release data) adds a before / after
table to the report::

    .venv/bin/python benchmarks/api.py --published before/dash.duckdb --server-bin ../main/.venv/bin \
        --results before.json --output before.md
    .venv/bin/python benchmarks/api.py --published after/dash.duckdb --before before.json
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path[:0] = [str(PROJECT_DIR), str(BENCH_DIR)]

import bench_common as bench  # noqa: E402 - after the path set-up

from python_hooks.release import release_info  # noqa: E402

LUA = BENCH_DIR / "api_paths.lua"
PUBLISHED_NAME = "dash.duckdb"
LEVELS = ("campaign", "adset", "ad")
# The targets of the read API (the specification's latencies): target label -> (pass, seconds), met when
# that pass's p99 is below the limit; "first ≤ 3 × held" compares the 1-client p50s (first-time, held).
ROW_SPARK, TOTALS, FIRST_LOAD = ("1 client, new: p99 < 20 ms", "1 client, new: p99 < 20 ms",
                                 "1 client, new: p99 < 50 ms")
LOADED, RATIO = "8 clients, new: p99 ≤ 50 ms", "1 client: new p50 ≤ 3 × held p50"
TARGETS = {ROW_SPARK: ("single", 0.020), FIRST_LOAD: ("single", 0.050), LOADED: ("new", 0.050)}
ENDPOINTS = [  # key, label, targets
    ("health", "`GET /api/health`", []),
    ("page_first_view", "**Page, first view** (overview, campaign table, its row sparklines on the default "
                        "range: answered by the warm-up)", [FIRST_LOAD]),
    ("countries_first_view", "`…/{id}/countries` on the default range (a row click on the first view)",
     [LOADED]),
    ("entities_campaign", "`/api/entities?level=campaign&start&end` (14 days)", [FIRST_LOAD, RATIO]),
    ("entities_adset_children", "`/api/entities?level=adset&parent_id=<campaign>&start&end`", [FIRST_LOAD, RATIO]),
    ("entities_ad_children", "`/api/entities?level=ad&parent_id=<adset>&start&end`", [FIRST_LOAD, RATIO]),
    ("entity_range", "`/api/entities/{level}/{id}?start&end` (14 days: totals and day rows)",
     [TOTALS, LOADED, RATIO]),
    ("countries_range", "`…/{id}/countries?start&end` (14 days)", [TOTALS, LOADED, RATIO]),
    ("countries_day", "`…/{id}/countries?date=`", [TOTALS, LOADED, RATIO]),
    ("sparkline", "`…/{id}/sparkline?end&days=14`", [ROW_SPARK, LOADED, RATIO]),
    ("level_sparklines", "`/api/sparklines?level=ad&parent_id=<adset>&end&days=14` (a table's rows)",
     [ROW_SPARK, RATIO]),
    ("users", "`…/{id}/users?date&list=trial`", [LOADED, RATIO]),
    ("overview", "`/api/overview/campaign/sparkline?end&days=28`", [FIRST_LOAD, RATIO]),
    ("curve", "`…/{id}/curve?start&end` (14 cohort days: a row's cohort curve)", [TOTALS, LOADED, RATIO]),
    ("entities_ad_by_cohort", "`/api/entities?level=ad&start&end&sort=<the first cohort column>` (every ad, "
                              "14 days, sorted by D7 ROAS)", [FIRST_LOAD]),
]


def q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}) if params else "")


def get_json(base: str, path: str):
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.loads(response.read())


def fmt_t(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


# --------------------------------------------------------------------------- release and requests


def ensure_release(args, cache_dir: Path, venv_bin: Path) -> Path:
    """The published release of the cached data set: reused, or published by `precompute run`."""
    published = cache_dir / "published" / PUBLISHED_NAME
    marker = cache_dir / bench.MARKER
    fresh = published.exists() and marker.exists() and published.resolve().stat().st_mtime > marker.stat().st_mtime
    if fresh and not args.rerun:
        print(f"[release] reusing {published}", flush=True)
        return published
    bench.ensure_dataset(cache_dir, args.scale, args.seed, force=False)
    run_dir = cache_dir / "api_runs" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(venv_bin / "precompute"), "run", "--warehouse", str(published), "--raw-dir", str(cache_dir),
           "--progress", "plain"]
    print(f"[release] {shlex.join(cmd)}", flush=True)
    result = bench.run_child(cmd, bench.precompute_env(run_dir), run_dir / "precompute_run.log")
    if result["returncode"] != 0:
        raise SystemExit(f"precompute run failed (exit {result['returncode']}): {run_dir / 'precompute_run.log'}")
    return published


def read_release(published: Path) -> dict:
    """The window and the entities of the release (its parents from entity_names)."""
    con = bench.quiet_connect(str(published), read_only=True)
    try:
        info = release_info(con)
        names = con.execute("select entity_type, entity_id, parent_id from main.entity_names").fetchall()
        trials = con.execute("select entity_type, entity_id, date from main.entity_daily_metrics "
                             "where mixpanel_trial_count > 0 order by 1, 2, 3").fetchall()
        rows = {t: con.execute(f"select count(*) from main.{t}").fetchone()[0] for t in bench.MARTS}
    finally:
        con.close()
    ids = {level: sorted(e for t, e, _ in names if t == level) for level in LEVELS}
    return {**info, "ids": ids, "trial_days_rows": trials, "rows": rows, "file": published.resolve(),
            "bytes": bench.file_size(published.resolve())}


def draw_paths(rel: dict, key: str, n: int, rng: random.Random, view: dict) -> list[str]:
    """``n`` request paths of one endpoint (new ranges; the default range for the first-view rows)."""
    start, as_of = rel["start_date"], rel["as_of_date"]
    n_days = (as_of - start).days + 1
    default_start = max(start, as_of - dt.timedelta(days=view["range_days"] - 1))
    metrics = ",".join(m["metric"] for m in view["overview"])
    paths = []
    for i in range(n):
        level = LEVELS[i % len(LEVELS)]
        entity = urllib.parse.quote(rng.choice(rel["ids"][level]), safe="")
        end = start + dt.timedelta(days=rng.randint(min(27, n_days - 1), n_days - 1))
        first = max(start, end - dt.timedelta(days=13))
        day = start + dt.timedelta(days=rng.randrange(n_days))
        campaign, adset = rng.choice(rel["ids"]["campaign"]), rng.choice(rel["ids"]["adset"])
        paths.append({
            "health": lambda: "/api/health",
            "page_first_view": lambda: [
                q("/api/overview/campaign/sparkline", end=as_of, days=view["overview_days"], metrics=metrics),
                q("/api/entities", level="campaign", start=default_start, end=as_of, sort=view["sort"],
                  order=view["order"], limit=view["page_size"], offset=0),
                q("/api/sparklines", level="campaign", end=as_of, days=view["row_spark_days"], metrics=metrics),
            ][i % 3],
            "countries_first_view": lambda: q(f"/api/entities/{level}/{entity}/countries", start=default_start,
                                              end=as_of),
            "entities_campaign": lambda: q("/api/entities", level="campaign", start=first, end=end),
            "entities_adset_children": lambda: q("/api/entities", level="adset", parent_id=campaign, start=first,
                                                 end=end),
            "entities_ad_children": lambda: q("/api/entities", level="ad", parent_id=adset, start=first, end=end),
            "entity_range": lambda: q(f"/api/entities/{level}/{entity}", start=first, end=end),
            "countries_range": lambda: q(f"/api/entities/{level}/{entity}/countries", start=first, end=end),
            "countries_day": lambda: q(f"/api/entities/{level}/{entity}/countries", date=day),
            "sparkline": lambda: q(f"/api/entities/{level}/{entity}/sparkline", end=end, days=14),
            "level_sparklines": lambda: q("/api/sparklines", level="ad", parent_id=adset, end=end, days=14),
            "users": lambda: users_path(rel, rng),
            "overview": lambda: q("/api/overview/campaign/sparkline", end=end, days=28),
            "curve": lambda: q(f"/api/entities/{level}/{entity}/curve", start=first, end=end),
            "entities_ad_by_cohort": lambda: q("/api/entities", level="ad", start=first, end=end,
                                               sort=view["cohort_columns"][0]["name"]),
        }[key]())
    return paths


def users_path(rel: dict, rng: random.Random) -> str:
    level, entity, day = rng.choice(rel["trial_days_rows"])
    return q(f"/api/entities/{level}/{urllib.parse.quote(entity, safe='')}/users", date=day, list="trial")


# --------------------------------------------------------------------------- server and load


def start_server(venv_bin: Path, published: Path, log_path: Path) -> tuple[subprocess.Popen, str, dict]:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [str(venv_bin / "precompute"), "serve", "--warehouse", str(published), "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k not in ("DUCKDB_PATH", "RAW_DATA_DIR", "PRECOMPUTE_WAREHOUSE")}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    base, began, health = f"http://127.0.0.1:{port}", time.perf_counter(), {}
    while health.get("warm_up_answers") is None:  # up, and its warm-up of the first view done
        if proc.poll() is not None or time.perf_counter() - began > 900:
            stop_server(proc)
            raise SystemExit(f"the server did not get ready; log {log_path}")
        try:
            health = get_json(base, "/api/health")
        except OSError:
            pass
        time.sleep(0.2)
    print(f"[serve] {base}: warm-up {health['warm_up_answers']} answers in {health['warm_up_seconds']:.1f} s",
          flush=True)
    return proc, base, {"cmd": shlex.join(cmd), "health": health}


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session
        proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(base: str, paths: list[str], clients: int, work: Path, pid: int) -> dict:
    """One closed-loop pass of wrk over ``paths`` (each sent once) by ``clients`` connections."""
    threads = min(clients, os.cpu_count() or 1)
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    for marker in work.glob("paths.txt.done*"):
        marker.unlink()
    cpu_before = cpu_seconds(pid)
    wrk_process = subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", "3600s", "--timeout", "30s", "-s", str(LUA), base],
        env={**os.environ, "WRK_PATHS": str(listing), "WRK_THREADS": str(threads)}, stdout=subprocess.PIPE,
        text=True)
    while len(list(work.glob("paths.txt.done*"))) < threads and wrk_process.poll() is None:
        time.sleep(0.01)
    wrk_process.send_signal(signal.SIGINT)  # every thread is done: wrk reports and exits
    stdout, _ = wrk_process.communicate(timeout=60)
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(p50=result["p50_us"] / 1e6, p95=result["p95_us"] / 1e6, p99=result["p99_us"] / 1e6,
                  paths=len(paths), clients=clients,
                  rps=result["requests"] / result["seconds"] if result["seconds"] else None,
                  cpu_ms=1000 * (cpu_seconds(pid) - cpu_before) / max(result["requests"], 1))
    return result


# --------------------------------------------------------------------------- report


def met(target: str, result: dict) -> str:
    """Whether one endpoint's figures meet ``target``, with the figure judged."""
    if target == RATIO:
        first, held = result["single"]["p50"], result["single_held"]["p50"]
        return f"{'met' if first <= 3 * held else '**not met**'} ({first / held:.1f} ×)"
    pass_, limit = TARGETS[target]
    p99 = result[pass_]["p99"]
    strict = target != LOADED
    ok = p99 is not None and (p99 < limit if strict else p99 <= limit)
    return f"{'met' if ok else '**not met**'} ({fmt_t(p99)})"


PASSES = [("single", "1 client, new"), ("single_held", "1 client, held"), ("new", "8 clients, new"),
          ("held", "8 clients, held")]


def three(r: dict) -> str:
    return f"{fmt_t(r['p50'])} / {fmt_t(r['p95'])} / {fmt_t(r['p99'])}"


def report(args, machine: dict, rel: dict, server: dict, results: dict, seconds: float, loads: tuple,
           before: dict | None) -> str:
    head = bench.report_head(f"Read API latency over HTTP — `{args.scale}` scale", "api.py", args.command_line,
                             machine, ["Date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")],
                             ["Load average before / after", f"{loads[0]} / {loads[1]}"],
                             ["Run time of the passes", f"{seconds:.0f} s"])
    health = server["health"]
    lines = head + [
        "\n**The machine is shared**, and wrk runs on the same 2 cores as the server: the figures are an upper "
        "bound of what a dedicated server would show. Compare endpoints within one run.\n",
        "## Release and server\n",
        bench.md_table(["", ""], [
            ["Published release", f"`{args.published}` → run `{rel['run_id']}`, "
                                  f"{bench.fmt_bytes(rel['bytes'])}"],
            ["Window", f"{rel['start_date']} .. {rel['as_of_date']}, trial_days {rel['trial_days']}"],
            ["Rows `entity_daily_metrics` / `entity_country_breakdown`",
             " / ".join(f"{rel['rows'][t]:,}" for t in bench.MARTS)],
            ["Entities (campaign / adset / ad)", " / ".join(str(len(rel["ids"][lv])) for lv in LEVELS)],
            ["Server", f"`{server['cmd']}`"],
            ["Warm-up of the release's first view (before the passes)",
             f"{health['warm_up_answers']} answers in {health['warm_up_seconds']:.1f} s"],
        ], "ll"),
        "\n## Method\n",
        f"* **Load**: [wrk](https://github.com/wg/wrk) (Debian's) with `benchmarks/api_paths.lua`, closed loop "
        f"(each connection sends its next request when it has read the answer). Per endpoint: "
        f"{args.single_requests} new paths by 1 client, then the same paths again by 1 client (*held*); "
        f"{args.requests} other new paths by {args.clients} clients; then the same {args.requests} paths "
        "again, *held* (the server keeps every answer per release in an LRU, `python_hooks/api/reader.py`). "
        "Each path is sent once per pass (a pass may send up to clients − 1 repeats while its last answers "
        "arrive).",
        f"* **New ranges**: paths drawn with `random.Random({args.sample_seed})`: levels cycle campaign / adset / "
        "ad, a random entity, an end day on which a 28-day window fits, 14-day ranges ending on it. *First-time "
        "paths*: the share of the pass's paths not requested before in the run; it is low where the "
        "key space is small (the campaign table and the overview depend only on the end day), and there the "
        "new pass measures mostly held answers.",
        "* **First view**: the page's requests on its default range (from `/api/catalogue`), which the server "
        "built when it opened the release (the warm-up): what a marketer opening the dashboard gets.",
        "* **Latency**: wrk's, send to the last byte of the answer; p50 / p95 / p99 of its histogram. "
        "*Server CPU / request* = the server's CPU time during the 8-client new pass / its requests.\n",
        "## Results\n",
    ]
    rows = []
    for key, label, _ in ENDPOINTS:
        if key not in results:
            continue
        r = results[key]
        errors = sum(p["non_200"] + p["socket_errors"] for p in r.values() if isinstance(p, dict) and "non_200" in p)
        rows.append([label, *(three(r[pass_]) for pass_, _ in PASSES), f"{100 * r['new']['first_time']:.0f} %",
                     f"{r['new']['rps']:,.0f}/s", f"{r['new']['cpu_ms']:.1f} ms", errors])
    lines.append(bench.md_table(
        ["Endpoint", *(f"{name}: p50 / p95 / p99" for _, name in PASSES), "First-time paths (8 clients)",
         "Throughput (8 clients, new)", "Server CPU / request", "Errors"], rows, "lllllrrrr"))
    if before is not None:
        lines.append("\n## Before / after\n")
        lines.append("The same passes (same paths, same seed) of the `--before` run, on a release of the same data "
                     f"set built and served by another checkout (`{before['server']['cmd']}`, release run "
                     f"`{before['release']['run_id']}`). p50 / p95 / p99.\n")
        rows = []
        for key, label, _ in ENDPOINTS:
            if key not in results or key not in before["results"]:
                continue
            for pass_, name in PASSES:
                rows.append([label if pass_ == "single" else "", name, three(before["results"][key][pass_]),
                             three(results[key][pass_])])
        lines.append(bench.md_table(["Endpoint", "Pass", "Before", "After"], rows, "llll"))
    lines.append("\n## Targets\n")
    target_rows = []
    for key, label, targets in ENDPOINTS:
        if key not in results:
            continue
        for target in targets:
            target_rows.append([label, target, met(target, before["results"][key])
                                if before and key in before["results"] else "", met(target, results[key])])
    lines.append(bench.md_table(["Endpoint", "Target", "Before", "After"], target_rows, "llll"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = bench.parser(__doc__, "api")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--requests", type=int, default=400, help="paths per endpoint under load (default 400)")
    parser.add_argument("--single-requests", type=int, default=100, help="paths of the 1-client pass (default 100)")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the request paths (default 0)")
    parser.add_argument("--rerun", action="store_true", help="publish a new release even if one can be reused")
    parser.add_argument("--published", type=Path, default=None,
                        help="serve this published path as it is (default: the data set cache's release)")
    parser.add_argument("--server-bin", type=Path, default=None,
                        help="the bin folder whose `precompute serve` to run (default: this virtualenv's)")
    parser.add_argument("--results", type=Path, default=None,
                        help="raw figures (default <cache>/runs/api_last_results.json)")
    parser.add_argument("--before", type=Path, default=None,
                        help="raw figures of an earlier run (--results) to compare with, in the report")
    parser.add_argument("--only", default=None,
                        help="comma-separated endpoint keys to measure (default: every one), e.g. curve,"
                             "entities_ad_by_cohort; keys: " + ", ".join(key for key, _, _ in ENDPOINTS))
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    unknown = (only or set()) - {key for key, _, _ in ENDPOINTS}
    if unknown:
        raise SystemExit(f"--only: unknown endpoint {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    args.command_line = shlex.join([".venv/bin/python", "benchmarks/api.py", *(argv if argv is not None else
                                                                              sys.argv[1:])])
    cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}").resolve()
    output = args.output or BENCH_DIR / "results" / f"api_{args.scale}.md"
    venv_bin = bench.venv_bin()
    args.published = args.published.resolve() if args.published else ensure_release(args, cache_dir, venv_bin)
    rel = read_release(args.published)
    runs = cache_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    before = json.loads(args.before.read_text()) if args.before else None
    proc, base, server = start_server(args.server_bin or venv_bin, args.published, runs / "api_serve.log")
    results, loads, began = {}, [bench.loadavg()], time.perf_counter()
    try:
        view = get_json(base, "/api/catalogue")["page"]
        rng, seen = random.Random(args.sample_seed), set()  # seen: every path requested so far
        for key, _label, _targets in ENDPOINTS:
            if only is not None and key not in only:
                continue
            single = draw_paths(rel, key, args.single_requests, rng, view)
            loaded = draw_paths(rel, key, args.requests, rng, view)
            results[key] = {"single": wrk(base, single, 1, runs, proc.pid)}
            results[key]["single_held"] = wrk(base, single, 1, runs, proc.pid)
            seen |= set(single)
            first_time = sum(path not in seen for path in loaded) / len(loaded)
            results[key]["new"] = {**wrk(base, loaded, args.clients, runs, proc.pid), "first_time": first_time}
            results[key]["held"] = wrk(base, loaded, args.clients, runs, proc.pid)
            seen |= set(loaded)
            r = results[key]
            print(f"[{key}] 1 client p50 {fmt_t(r['single']['p50'])} p99 {fmt_t(r['single']['p99'])} "
                  f"(held p50 {fmt_t(r['single_held']['p50'])}); "
                  f"{args.clients} clients new p50 {fmt_t(r['new']['p50'])} p99 {fmt_t(r['new']['p99'])}; "
                  f"held p50 {fmt_t(r['held']['p50'])} p99 {fmt_t(r['held']['p99'])}", flush=True)
    finally:
        stop_server(proc)
    loads.append(bench.loadavg())
    machine = bench.machine_info(venv_bin)
    text = report(args, machine, rel, server, results, time.perf_counter() - began, tuple(loads), before)
    bench.write_report(output, text, args.results or runs / "api_last_results.json",
                       {"release": {k: v for k, v in rel.items() if k != "trial_days_rows"}, "server": server,
                        "results": results, "machine": machine})
    errors = sum(r["non_200"] + r["socket_errors"] for pass_ in results.values() for r in pass_.values())
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
