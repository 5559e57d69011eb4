"""Read API latency over HTTP under a bounded concurrent load, beside the on-demand path (issue 7).

Run from anywhere with the project's virtualenv::

    .venv/bin/python benchmarks/api.py                  # year scale, seed 42
    .venv/bin/python benchmarks/api.py --scale small    # quick smoke run

What it does, in order:

1. Release. ``<cache>/published/dash.duckdb`` (``<cache>`` = ``benchmarks/.cache/<scale>_seed<seed>/``,
   the release that ``benchmarks/release.py`` publishes) is reused when it is a published release of
   ``<cache>`` built after the data set's ``generator.json``; otherwise (or with ``--rerun``) the data
   set is ensured with ``build.py``'s ``ensure_dataset`` and ``precompute run --warehouse <published>
   --raw-dir <cache>`` publishes a new one (logs under ``<cache>/api_runs/``).
2. Samples. The release is opened read-only once (then closed): entity ids per level, the campaign /
   adset parents, the window, and the entity-days with trials. ``random.Random(--sample-seed)`` draws
   the requests: levels cycle campaign / adset / ad, an entity of the level, an end day on which a
   28-day window fits; 14-day ranges end on it, single-day requests use it.
3. Server. ``precompute serve --warehouse <published> --host 127.0.0.1 --port <free port>`` as a child
   process; ready when ``GET /api/health`` answers 200.
4. HTTP load. For each endpoint: ``--warmup`` untimed requests, then a reference pass of
   ``--single-requests`` requests by ONE client, then ``--requests`` requests by ``--clients`` (default
   8) concurrent clients, each a thread with its own keep-alive ``http.client.HTTPConnection``, sending
   its next request as soon as the previous answer is read (closed loop, no think time). Latency = send
   to last byte of the body read (``time.perf_counter``); requests/s = requests / wall time of the pass.
   The *page load* is measured as one unit: the requests the page makes on first load, one after the
   other on one connection (health, the campaign-level 28-day overview sparkline, the campaign table of
   the last 14 days, then the 14-day sparklines of its rows, one ``/api/sparklines`` request).
5. On-demand path, in the same run, after the HTTP passes (the server idles): the comparable requests
   computed at request time from the raw Parquet files by ``python_hooks.on_demand.OnDemandMetrics``,
   through ``benchmarks/queries.py``'s own ``Requests.ondemand`` (14-day range totals; overall + one
   ``range_totals`` per country the API returned; 14-day sparkline; campaign-level 28-day overview =
   every campaign's 28 days summed), one client, ``--od-samples`` / ``--od-heavy-samples`` requests.
6. Report: p50 / p95 / p99 (nearest rank) per endpoint, requests/s, errors, the targets met or not,
   the machine and its load average before / after. Written to ``benchmarks/results/api_<scale>.md``
   (``--output``) and printed; raw timings in ``<cache>/runs/api_last_results.json``.

Only the standard library and duckdb are used (plus the server under test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import types
import urllib.parse
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench_common import load_sibling  # noqa: E402 - after the path set-up



bench_build = load_sibling("build.py")        # data set cache, machine info, run_child, md_table
bench_queries = load_sibling("queries.py")  # the on-demand requests (Requests.ondemand)
md_table, fmt_bytes, loadavg = bench_build.md_table, bench_build.fmt_bytes, bench_build.loadavg
fmt_t = bench_queries.fmt_t

PUBLISHED_NAME = "dash.duckdb"
LEVELS = ("campaign", "adset", "ad")
SINGLE = "single entity: p99 ≤ 10 ms"
PAGE = "page data: p99 ≤ 100 ms"
SPARK = "28-day sparkline: p99 < 50 ms"
ANY = "any load: p99 < 1 s"
# key, label, kind of target (text, seconds, strict <)
TARGETS = {SINGLE: (0.010, False), PAGE: (0.100, False), SPARK: (0.050, True), ANY: (1.0, True)}
ENDPOINTS = [
    ("health", "`GET /api/health`", [ANY]),
    ("page_load", "**Page load** (health + overview + campaign table + its row sparklines, one unit)", [PAGE, ANY]),
    ("page_first_view", "**Page load, first view** (the same 4 requests on the page's default range, the last "
                        "14 days: answered by the warm-up)", [PAGE, ANY]),
    ("countries_first_view", "`…/{id}/countries?start&end` on the default range (a row click on the first view: "
                             "answered by the warm-up)", [SINGLE, ANY]),
    ("entities_campaign", "`/api/entities?level=campaign&start&end` (14 days)", [ANY]),
    ("entities_adset_children", "`/api/entities?level=adset&parent_id=<campaign>&start&end`", [ANY]),
    ("entities_ad_children", "`/api/entities?level=ad&parent_id=<adset>&start&end`", [ANY]),
    ("entity_range", "`/api/entities/{level}/{id}?start&end` (14 days)", [SINGLE, ANY]),
    ("countries_range", "`…/{id}/countries?start&end` (14 days)", [SINGLE, ANY]),
    ("countries_day", "`…/{id}/countries?date=`", [SINGLE, ANY]),
    ("sparkline", "`…/{id}/sparkline?end&days=14`", [SINGLE, ANY]),
    ("level_sparklines", "`/api/sparklines?level=ad&parent_id=<adset>&end&days=14` (a table's rows)", [ANY]),
    ("users", "`…/{id}/users?date&list=trial`", [SINGLE, ANY]),
    ("overview", "`/api/overview/campaign/sparkline?end&days=28`", [SPARK, ANY]),
]
# on-demand counterpart: key in queries.Requests.ondemand, heavy (fewer samples)
ON_DEMAND = {
    "entity_range": ("range_totals", False),
    "countries_range": ("overall_country", True),
    "sparkline": ("row_sparkline", False),
    "overview": ("overview_sparkline", True),
}


# --------------------------------------------------------------------------- helpers


def pct(xs: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return None
    s = sorted(xs)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def quote(x: str) -> str:
    return urllib.parse.quote(str(x), safe="")


# --------------------------------------------------------------------------- release


def release_problem(published: Path, cache_dir: Path) -> str | None:
    """Why the published release cannot be reused, or None."""
    if not published.exists():
        return "missing"
    marker = cache_dir / bench_build.MARKER
    real = published.resolve()
    if marker.exists() and marker.stat().st_mtime > real.stat().st_mtime:
        return "older than the data set (generator.json)"
    try:
        con = bench_build.quiet_connect(str(published), read_only=True)
    except Exception as exc:  # noqa: BLE001
        return f"cannot be opened read-only ({exc})"
    try:
        meta = json.loads(con.execute("select metadata_json from main.precompute_release").fetchone()[0])
        for t in bench_build.MARTS:
            con.execute(f"select 1 from main.{t} limit 1")
    except Exception as exc:  # noqa: BLE001
        return f"incomplete ({exc})"
    finally:
        con.close()
    raw = meta.get("raw_data_dir") or (meta.get("vars") or {}).get("raw_data_dir")
    if raw and Path(raw).resolve() != cache_dir.resolve():
        return f"built from another raw directory ({raw})"
    return None


def ensure_release(args, cache_dir: Path, venv_bin: Path) -> dict:
    published = cache_dir / "published" / PUBLISHED_NAME
    problem = "--rerun" if args.rerun else release_problem(published, cache_dir)
    if problem is None:
        print(f"[release] reusing {published} -> {published.resolve()}", flush=True)
        return {"path": published, "built": False}
    print(f"[release] {published}: {problem}; running precompute run", flush=True)
    bench_build.ensure_dataset(cache_dir, args.scale, args.seed, force=False)
    run_dir = cache_dir / "api_runs" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for k in ("DUCKDB_PATH", "RAW_DATA_DIR", "PRECOMPUTE_WAREHOUSE"):
        env.pop(k, None)
    env["DBT_TARGET_PATH"] = str(run_dir / "target")
    env["DBT_LOG_PATH"] = str(run_dir / "logs")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    cmd = [str(venv_bin / "precompute"), "run", "--warehouse", str(published), "--raw-dir", str(cache_dir),
           "--progress", "plain"]
    print(f"[release] {' '.join(cmd)}", flush=True)
    log = run_dir / "precompute_run.log"
    res = bench_build.run_child(cmd, env, log)
    if res["returncode"] != 0:
        raise SystemExit(f"precompute run failed (exit {res['returncode']}), log {log}:\n"
                         f"{log.read_text(errors='replace')[-4000:]}")
    print(f"[release] published in {res['wall_s']:.0f} s", flush=True)
    return {"path": published, "built": True, "run_wall_s": res["wall_s"], "reason": problem}


def read_release(published: Path) -> dict:
    con = bench_build.quiet_connect(str(published), read_only=True)
    try:
        run_id, computed_at, start, as_of, trial_days = con.execute(
            "select run_id, computed_at, start_date, as_of_date, trial_days from main.precompute_release").fetchone()
        ids = {lvl: [r[0] for r in con.execute(
            "select distinct entity_id from main.entity_daily_metrics where entity_type = ? order by 1",
            [lvl]).fetchall()] for lvl in LEVELS}
        cols = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where table_name = 'entity_daily_metrics'").fetchall()}
        parents = {}
        for lvl, col in (("adset", "campaign_id"), ("ad", "adset_id")):
            if col in cols:
                parents[lvl] = sorted({r[0] for r in con.execute(
                    f"select distinct {col} from main.entity_daily_metrics where entity_type = ? "
                    f"and {col} is not null", [lvl]).fetchall()})
        trial_days_rows = con.execute(
            "select entity_type, entity_id, date from main.entity_daily_metrics "
            "where mixpanel_trial_count > 0 order by 1, 2, 3").fetchall()
        rows = {t: con.execute(f"select count(*) from main.{t}").fetchone()[0] for t in bench_build.MARTS}
    finally:
        con.close()
    return {"run_id": run_id, "computed_at": computed_at, "start_date": start, "as_of_date": as_of,
            "trial_days": trial_days, "ids": ids, "parents": parents, "trial_entity_days": trial_days_rows,
            "rows": rows, "file": str(published.resolve()), "bytes": bench_build.file_size(published.resolve())}


# --------------------------------------------------------------------------- samples


def draw_samples(rel: dict, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    start, as_of = rel["start_date"], rel["as_of_date"]
    n_days = (as_of - start).days + 1
    first_end = min(27, n_days - 1)
    offset = rng.randrange(len(LEVELS))
    parents_campaign = rel["parents"].get("adset") or rel["ids"]["campaign"]
    parents_adset = rel["parents"].get("ad") or rel["ids"]["adset"]
    trial_rows = rel["trial_entity_days"]
    out = []
    for i in range(n):
        lvl = LEVELS[(offset + i) % len(LEVELS)]
        end = start + dt.timedelta(days=rng.randint(first_end, n_days - 1))
        s = {"i": i, "entity_type": lvl, "entity_id": rng.choice(rel["ids"][lvl]), "end": end,
             "start": max(start, end - dt.timedelta(days=13)),
             "day": start + dt.timedelta(days=rng.randint(0, n_days - 1)),
             "campaign_parent": rng.choice(parents_campaign), "adset_parent": rng.choice(parents_adset)}
        if trial_rows:
            s["user_entity"] = rng.choice(trial_rows)
        else:
            s["user_entity"] = (lvl, s["entity_id"], s["day"])
        out.append(s)
    return out


def path_for(key: str, s: dict) -> str:
    t, e = s["entity_type"], quote(s["entity_id"])
    start, end = s["start"].isoformat(), s["end"].isoformat()
    if key == "health":
        return "/api/health"
    if key == "entities_campaign":
        return q("/api/entities", level="campaign", start=start, end=end)
    if key == "entities_adset_children":
        return q("/api/entities", level="adset", parent_id=s["campaign_parent"], start=start, end=end)
    if key == "entities_ad_children":
        return q("/api/entities", level="ad", parent_id=s["adset_parent"], start=start, end=end)
    if key == "entity_range":
        return q(f"/api/entities/{t}/{e}", start=start, end=end)
    if key in ("countries_range", "countries_first_view"):
        return q(f"/api/entities/{t}/{e}/countries", start=start, end=end)
    if key == "countries_day":
        return q(f"/api/entities/{t}/{e}/countries", date=s["day"].isoformat())
    if key == "sparkline":
        return q(f"/api/entities/{t}/{e}/sparkline", end=end, days=14)
    if key == "level_sparklines":
        return q("/api/sparklines", level="ad", parent_id=s["adset_parent"], end=end, days=14)
    if key == "users":
        ut, ue, ud = s["user_entity"]
        return q(f"/api/entities/{ut}/{quote(ue)}/users", date=ud.isoformat(), list="trial")
    if key == "overview":
        return q("/api/overview/campaign/sparkline", end=end, days=28)
    raise KeyError(key)


# --------------------------------------------------------------------------- HTTP client


SEEN_URLS: set[str] = set()  # every URL this run has requested (the server keeps answers per release)


class Client:
    """One keep-alive HTTP/1.1 connection (one simulated browser tab / API client)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.reconnects = 0
        self.requests = 0
        self.first_time = 0

    def get(self, path: str) -> tuple[int, bytes, float]:
        self.requests += 1
        if path not in SEEN_URLS:
            SEEN_URLS.add(path)
            self.first_time += 1
        for attempt in (0, 1):
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", path, headers={"Accept": "application/json"})
                r = self.conn.getresponse()
                body = r.read()
                return r.status, body, time.perf_counter() - t0
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.conn.close()


def _rows_of(doc) -> list:
    if isinstance(doc, dict):
        for k in ("rows", "data", "items"):
            if isinstance(doc.get(k), list):
                return doc[k]
        return []
    return doc if isinstance(doc, list) else []


PAGE_METRICS = "meta_spend,mixpanel_trial_count,adjusted_estimated_revenue_usd,estimated_roas"  # app.js SPARK_METRICS
PAGE_SIZE = 50  # app.js PAGE_SIZE


def page_load(client: Client, s: dict, fallback_campaigns: list[str]) -> tuple[float, int, list[str]]:
    """The page's first load (python_hooks/static/app.js main -> reload) as one unit, one request after
    the other: returns (seconds, requests made, errors)."""
    errors = []
    total = 0.0
    n = 0
    start, end = s["start"].isoformat(), s["end"].isoformat()
    for path in ("/api/health",
                 q("/api/overview/campaign/sparkline", end=end, days=28, metrics=PAGE_METRICS)):
        st, body, t = client.get(path)
        total += t
        n += 1
        if st != 200:
            errors.append(f"{st} {path}")
    t0 = time.perf_counter()
    st, body, t = client.get(q("/api/entities", level="campaign", start=start, end=end, limit=PAGE_SIZE,
                               offset=0))
    ids = []
    if st == 200:
        try:
            ids = [r.get("entity_id") for r in _rows_of(json.loads(body)) if isinstance(r, dict)]
        except ValueError:
            ids = []
    else:
        errors.append(f"{st} /api/entities")
    total += time.perf_counter() - t0  # the page parses the table to know its rows
    n += 1
    if not ids and not fallback_campaigns:
        errors.append("no campaign rows")
    # the row sparklines of the table: one request for the level (app.js loadRowSparklines)
    st, body, t = client.get(q("/api/sparklines", level="campaign", end=end, days=14, metrics=PAGE_METRICS))
    total += t
    n += 1
    if st != 200:
        errors.append(f"{st} /api/sparklines")
    return total, n, errors


def run_pass(host: str, port: int, key: str, samples: list[dict], clients: int,
             fallback_campaigns: list[str]) -> dict:
    """One request (or page load) per sample, by `clients` concurrent keep-alive clients (closed loop);
    client c takes samples c, c + clients, ..."""
    per_client = [samples[i::clients] for i in range(clients)]
    quota = [len(x) for x in per_client]
    lat: list[list[float]] = [[] for _ in range(clients)]
    errs: list[list[str]] = [[] for _ in range(clients)]
    sub_requests = [0] * clients
    conns = [Client(host, port) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def worker(c: int):
        mine = per_client[c]
        barrier.wait()
        for j in range(quota[c]):
            s = mine[j]
            try:
                if key in ("page_load", "page_first_view"):
                    t, n, e = page_load(conns[c], s, fallback_campaigns)
                    sub_requests[c] += n
                    errs[c] += e
                else:
                    st, body, t = conns[c].get(path_for(key, s))
                    sub_requests[c] += 1
                    if st != 200:
                        errs[c].append(f"{st} {path_for(key, s)}: {body[:200]!r}")
                lat[c].append(t)
            except Exception as exc:  # noqa: BLE001 - a failed request is a result
                errs[c].append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for c in conns:
        c.close()
    n_http = sum(c.requests for c in conns)
    first = sum(c.first_time for c in conns)
    all_lat = [x for xs in lat for x in xs]
    all_err = [x for xs in errs for x in xs]
    return {"latencies": all_lat, "errors": len(all_err), "error_samples": all_err[:5], "wall_s": wall,
            "n": len(all_lat), "http_requests": sum(sub_requests), "clients": clients,
            "first_time_share": (first / n_http) if n_http else None,
            "rps": (len(all_lat) / wall) if wall else None,
            "http_rps": (sum(sub_requests) / wall) if wall else None,
            "p50": pct(all_lat, 50), "p95": pct(all_lat, 95), "p99": pct(all_lat, 99),
            "max": max(all_lat) if all_lat else None}


# --------------------------------------------------------------------------- server


def proc_stats(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:", "Threads:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) * (1024 if k.startswith("Vm") else 1)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / tck
    except (OSError, IndexError, ValueError):
        pass
    return out


def code_state() -> dict:
    """The commit and the hashes of the server's code (it may be uncommitted while it is developed)."""
    import hashlib

    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=PROJECT_DIR, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    files = [PROJECT_DIR / "python_hooks" / "serve.py", PROJECT_DIR / "python_hooks" / "cli.py"]
    files += sorted((PROJECT_DIR / "python_hooks" / "sql").glob("*.sql"))
    files += sorted((PROJECT_DIR / "analyses").glob("*.sql"))
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    dirty = git("status", "--porcelain", "--", "python_hooks", "analyses", "macros", "models")
    return {"commit": git("rev-parse", "--short", "HEAD"), "server_code_sha256": h.hexdigest()[:12],
            "uncommitted": len(dirty.splitlines()) if dirty else 0}


def start_server(args, published: Path, venv_bin: Path, log_path: Path) -> tuple[subprocess.Popen, int, dict]:
    port = args.port or free_port()
    if args.server_command:
        cmd = shlex.split(args.server_command) + ["--warehouse", str(published), "--host", "127.0.0.1",
                                                  "--port", str(port)]
    else:
        cmd = [str(venv_bin / "precompute"), "serve", "--warehouse", str(published), "--host", "127.0.0.1",
               "--port", str(port)]
    env = dict(os.environ)
    for k in ("DUCKDB_PATH", "RAW_DATA_DIR", "PRECOMPUTE_WAREHOUSE"):
        env.pop(k, None)
    print(f"[serve] {' '.join(cmd)}", flush=True)
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    t0 = time.perf_counter()
    deadline = time.monotonic() + args.server_timeout
    while True:
        if proc.poll() is not None:
            log.close()
            raise SystemExit(f"the server exited ({proc.returncode}) before answering; log {log_path}:\n"
                             f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/health")
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status == 200:
                health = json.loads(body)
                break
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"the server did not answer /api/health within {args.server_timeout} s; "
                             f"log {log_path}")
        time.sleep(0.1)
    startup = time.perf_counter() - t0
    print(f"[serve] ready on port {port} after {startup:.1f} s", flush=True)
    # the server builds the release's first view in the background (serve.default_view, D50); measure
    # once it is done, so that the first-view rows measure kept answers and the others do not share
    # the cores with it
    while health.get("warm_up_answers") is None and time.monotonic() < deadline + 600:
        time.sleep(0.5)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/health")
        health = json.loads(c.getresponse().read())
        c.close()
    print(f"[serve] warm-up: {health.get('warm_up_answers')} answers in {health.get('warm_up_seconds')} s",
          flush=True)
    return proc, port, {"cmd": cmd, "startup_s": startup, "health": health, "log": str(log_path),
                        "code": code_state()}


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and any worker it spawned
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --------------------------------------------------------------------------- on-demand


def run_on_demand(args, cache_dir: Path, rel: dict, samples: list[dict], host: str, port: int) -> dict:
    import duckdb

    from python_hooks.on_demand import OnDemandMetrics

    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    od = OnDemandMetrics(cache_dir, start_date=rel["start_date"], as_of_date=rel["as_of_date"],
                         trial_days=int(rel["trial_days"]), con=con)
    req = bench_queries.Requests(None, None, od, rel["ids"]["campaign"])
    client = Client(host, port)
    out = {}
    try:
        for key, (od_key, heavy) in ON_DEMAND.items():
            n = args.od_heavy_samples if heavy else args.od_samples
            picked = samples[:n]
            warm = samples[-1]
            times, agree, checked, notes = [], 0, 0, []
            countries_for = {}
            for s in [warm] + picked:
                if od_key == "overall_country":  # the on-demand side is handed the API's country list
                    st, body, _ = client.get(path_for(key, s))
                    rows = _rows_of(json.loads(body)) if st == 200 else []
                    countries_for[s["i"]] = [r.get("country") for r in rows if isinstance(r, dict)
                                             and r.get("country") not in (None, "ALL")]
            sod = lambda s: {"entity_type": s["entity_type"], "entity_id": s["entity_id"], "end": s["end"]}  # noqa: E731
            t0 = time.perf_counter()
            req.ondemand(od_key, sod(warm), countries_for.get(warm["i"]))  # untimed warm-up
            warm_s = time.perf_counter() - t0
            for s in picked:
                t0 = time.perf_counter()
                res = req.ondemand(od_key, sod(s), countries_for.get(s["i"]))
                times.append(time.perf_counter() - t0)
                ok = check_agreement(key, client, s, res, len(rel["ids"]["campaign"]))
                if ok is not None:
                    checked += 1
                    agree += ok is True
                    if ok is not True:
                        notes.append(f"{s['entity_type']} {s['entity_id']} end {s['end']}: {ok}")
            out[key] = {"od_key": od_key, "times": times, "n": len(times), "warm_s": warm_s,
                        "p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99),
                        "checked": checked, "agree": agree, "notes": notes[:3],
                        "countries_median": statistics.median([len(v) for v in countries_for.values()])
                        if countries_for else None}
            print(f"[on-demand] {key}: p50 {fmt_t(out[key]['p50'])} max {fmt_t(max(times) if times else None)} "
                  f"(n={len(times)}); agree {agree}/{checked}", flush=True)
    finally:
        client.close()
        od.close()
        con.close()
    return out


def _num(x) -> float:
    return 0.0 if x is None else float(x)


def check_agreement(key: str, client: Client, s: dict, od_res, n_campaigns: int) -> bool | str | None:
    """Compare spend (within half a cent per day) and trials with the API's answer; None if not comparable."""
    try:
        st, body, _ = client.get(path_for(key, s))
        if st != 200:
            return f"API answered {st}"
        doc = json.loads(body)
        if key == "entity_range":
            tot = doc.get("totals") or {}
            a_sp, a_tr = tot.get("meta_spend", tot.get("total_spend")), tot.get("mixpanel_trial_count",
                                                                                 tot.get("total_trials"))
            o_sp, o_tr, days = od_res["meta_spend"], od_res["mixpanel_trial_count"], od_res["days"]
        elif key == "countries_range":
            rows = _rows_of(doc)
            allrow = next(r for r in rows if r.get("country") == "ALL")
            a_sp, a_tr = allrow.get("total_spend"), allrow.get("total_trials")
            o_sp, o_tr, days = od_res["ALL"]["meta_spend"], od_res["ALL"]["mixpanel_trial_count"], 14
        elif key in ("sparkline", "overview"):
            st, body, _ = client.get(path_for(key, s) + "&metrics=meta_spend,mixpanel_trial_count")
            doc = json.loads(body) if st == 200 else {}
            series = doc.get("series") or {}
            if "meta_spend" not in series:
                return None
            a_sp = sum(_num(v) for v in series["meta_spend"])
            a_tr = sum(int(v or 0) for v in series.get("mixpanel_trial_count") or [])
            if key == "sparkline":
                o_sp = sum(_num(r["meta_spend"]) for r in od_res)
                o_tr = sum(int(r["mixpanel_trial_count"]) for r in od_res)
                days = len(od_res)
            else:  # the on-demand overview sums spend only
                o_sp = sum(r["daily_spend"] for r in od_res)
                a_tr = o_tr = None
                days = len(od_res) * n_campaigns  # one rounded row per campaign-day
        else:
            return None
        if a_sp is None:
            return None
        if abs(_num(a_sp) - _num(o_sp)) > 0.005 * max(days, 1) + 1e-6:
            return f"spend API {_num(a_sp):.2f} vs on-demand {_num(o_sp):.2f}"
        if a_tr is not None and int(a_tr or 0) != int(o_tr or 0):
            return f"trials API {a_tr} vs on-demand {o_tr}"
        return True
    except (KeyError, StopIteration, ValueError, TypeError, AttributeError):
        return None


def planning_cost(published: Path, rel: dict, samples: list[dict], reps: int = 5) -> dict | None:
    """In-process, on the release: each stored query the server runs (``precompute_queries``), timed as
    executed and as ``EXPLAIN`` (parse, bind and optimize only), median of `reps`. None when the release
    or the server module does not offer this (the section is then left out)."""
    try:
        from python_hooks.serve import parameter_order
    except Exception:  # noqa: BLE001
        return None
    con = bench_build.quiet_connect(str(published), read_only=True)
    try:
        stored = con.execute("select name, sql from main.precompute_queries order by name").fetchall()
    except Exception:  # noqa: BLE001
        con.close()
        return None
    s = samples[0]
    values = {"entity_type": s["entity_type"], "entity_id": s["entity_id"], "start_day": s["start"],
              "end_day": s["end"], "days": 14, "country": None, "parent_id": None, "sort": None,
              "sort_order": None, "page_limit": 50, "page_offset": 0, "day": s["end"], "target_day": s["end"],
              "list": "trial"}
    out = {}
    try:
        for name, sql in stored:
            try:
                order = parameter_order(sql)
                params = [values[p] for p in order]
            except Exception:  # noqa: BLE001 - a parameter this benchmark does not know
                continue
            ex, pl = [], []
            try:
                for _ in range(reps):
                    c = con.cursor()
                    t0 = time.perf_counter()
                    c.execute(sql, params).fetchall()
                    ex.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    c.execute("explain " + sql, params).fetchall()
                    pl.append(time.perf_counter() - t0)
                    c.close()
            except Exception as exc:  # noqa: BLE001
                out[name] = {"error": f"{type(exc).__name__}: {str(exc)[:120]}", "chars": len(sql)}
                continue
            out[name] = {"chars": len(sql), "execute_s": statistics.median(ex), "explain_s": statistics.median(pl)}
    finally:
        con.close()
    return out


# --------------------------------------------------------------------------- report


def verdict(target: str, p99: float | None) -> str:
    if p99 is None:
        return "n/a"
    limit, strict = TARGETS[target]
    ok = p99 < limit if strict else p99 <= limit
    return "met" if ok else "**not met**"


def report(args, machine, rel_info, rel, server, results, ondemand, load_before, load_after, total_s,
           server_stats, plan=None) -> str:
    out = []
    out.append(f"# Read API latency over HTTP — `{args.scale}` scale\n")
    out.append("Generated by `benchmarks/api.py` (see `benchmarks/README.md`). Command:\n")
    out.append("```\n" + args.command_line + "\n```\n")

    out.append("## Machine\n")
    out.append(md_table(["", ""], [
        ["CPU", machine["cpu"]],
        ["Cores", f"{machine['cores']} (usable: {machine['cores_usable']})"],
        ["RAM", fmt_bytes(machine["ram"])],
        ["OS", machine["os"]],
        ["Python / duckdb", f"{machine['python']} / {machine['duckdb']}"],
        ["Date", machine["date"]],
        ["Load average before / after", f"{load_before} / {load_after}"],
        ["Run time of the measurement", f"{total_s:.0f} s"],
    ], "ll"))
    out.append("\n**The machine is shared** (other sessions run builds and tests on it), and the load "
               f"generator ({args.clients} client threads in one Python process) runs on the same "
               f"{machine['cores_usable']} cores as the server: the figures are an upper bound of what a "
               "dedicated server would show, and vary from run to run. Compare endpoints within one run.\n")

    out.append("## Release and server\n")
    built = (f"published by this run ({rel_info.get('run_wall_s', 0):.0f} s, reason: {rel_info.get('reason')})"
             if rel_info["built"] else "reused (published earlier from the same data set)")
    h = server["health"]
    out.append(md_table(["", ""], [
        ["Published release", f"`{os.path.relpath(rel_info['path'], PROJECT_DIR)}` → run `{rel['run_id']}`, "
                              f"{fmt_bytes(rel['bytes'])}; {built}"],
        ["computed_at (from `/api/health`)", str(h.get("computed_at"))],
        ["Window", f"{rel['start_date']} .. {rel['as_of_date']}, trial_days {rel['trial_days']}"],
        ["Rows `entity_daily_metrics` / `entity_country_breakdown`",
         f"{rel['rows']['entity_daily_metrics']:,} / {rel['rows']['entity_country_breakdown']:,}"],
        ["Entities (campaign / adset / ad)", " / ".join(str(len(rel["ids"][lvl])) for lvl in LEVELS)],
        ["Server", "`" + " ".join(os.path.relpath(c, PROJECT_DIR) if c.startswith(str(PROJECT_DIR)) else c
                                  for c in server["cmd"]) + "`"],
        ["Code", f"commit `{server['code']['commit']}`"
                 + (f" + {server['code']['uncommitted']} uncommitted files under python_hooks/, analyses/, "
                    f"macros/, models/" if server["code"]["uncommitted"] else "")
                 + f"; sha256 of serve.py, cli.py, python_hooks/sql/*.sql, analyses/*.sql: "
                   f"`{server['code']['server_code_sha256']}`"],
        ["Server start until `/api/health` answered", f"{server['startup_s']:.1f} s"],
        ["Warm-up of the release's first view (in the background, before the passes)",
         f"{h.get('warm_up_answers')} answers in {h.get('warm_up_seconds') or 0:.1f} s"],
        ["Server process after the run: peak RSS / CPU time / threads",
         f"{fmt_bytes(server_stats.get('VmHWM'))} / {server_stats.get('cpu_s', 0):.1f} s / "
         f"{server_stats.get('Threads', 'n/a')}"],
    ], "ll"))
    out.append("")

    out.append("## Method\n")
    out.append(
        f"* **Requests**: {args.n_samples} samples drawn with `random.Random({args.sample_seed})` from the release: "
        f"levels cycle campaign / adset / ad, an entity of the level, an end day on which a 28-day window fits "
        f"(14-day ranges end on it); single-day requests (`countries?date=`) a random day of the window; the "
        f"user list an entity-day with trials; `parent_id` a random campaign (adset table) or adset (ad table).\n"
        f"* **Load**: per endpoint, {args.warmup} untimed warm-up requests, a reference pass by 1 client "
        f"({args.single_requests} requests), then **{args.clients} concurrent clients** "
        f"({args.requests} requests in all; page load: {args.page_loads} loads), each request on the next "
        f"sample, so no sample is requested twice; then the same {args.clients}-client pass **replayed** "
        f"(the same URLs again). Each client is a thread with its own keep-alive `http.client` connection and "
        f"sends its next request as soon as it has read the previous answer (closed loop, no think time: "
        f"the server is saturated, the harshest bounded load).\n"
        f"* **The server keeps answers** (an LRU per release, `python_hooks/serve.py`), so the first pass "
        f"measures mostly uncached requests and the replay cached ones. *First-time URLs* is the share of the "
        f"pass's HTTP requests whose URL this run had not requested before; it is below 100 % where the key "
        f"space is small: the campaign table and the overview depend only on the end day "
        f"({(rel['as_of_date'] - rel['start_date']).days + 1 - min(27, (rel['as_of_date'] - rel['start_date']).days)} "
        f"possible ones), so most of their requests repeat one already answered. Page loads come first (after "
        f"health), each on its own end day, so they are as uncached as the window allows.\n"
        f"* **Latency** = from sending the request to the last byte of the body; percentiles are nearest-rank; "
        f"requests/s = requests / wall time of the pass.\n"
        f"* **Page load** = the requests of the page's first load, one after the other on one connection "
        f"(a browser would overlap some of them, so this is an upper bound): `/api/health`, "
        f"`/api/overview/campaign/sparkline?days=28`, `/api/entities?level=campaign` (14 days, parsed to get "
        f"its rows), then `/api/sparklines?level=campaign&days=14`, the 14-day sparklines of its "
        f"{len(rel['ids']['campaign'])} rows (4 requests per load).\n"
        f"* **First view** = the page load and a row click's country breakdown on the page's default range "
        f"(the last 14 days of the window, every sample): the server built these answers when it opened the "
        f"release (`serve.default_view`, docs/decisions.md D50), and the passes start once `/api/health` "
        f"reports that warm-up done; they measure what a marketer opening the dashboard gets. Every other row "
        f"asks for random ranges, which the warm-up does not cover.\n"
        f"* **On-demand path** (same run, after the HTTP passes, one client, in-process: no HTTP, so it is "
        f"flattered): `python_hooks.on_demand.OnDemandMetrics` on the raw Parquet files, through "
        f"`benchmarks/queries.py`'s `Requests.ondemand`: range totals = `range_totals` over the 14 days; "
        f"country breakdown = `range_totals` overall plus one per country the API returned for that request; "
        f"sparkline = `daily_metrics` over 14 days; overview = `daily_metrics` over 28 days for each campaign, "
        f"summed per day. {args.od_samples} samples each ({args.od_heavy_samples} for the two looping ones), "
        f"after one untimed warm-up; each answer is checked against the API's (spend within half a cent per "
        f"day, trial counts exact).\n"
        f"* **Targets** (issue 7), judged on the p99 under {args.clients} clients: single-entity endpoints "
        f"p99 ≤ 10 ms; all the data of the page p99 ≤ 100 ms; the spec's 28-day sparkline < 50 ms and any "
        f"load < 1 s.\n")

    out.append(f"## Results — {args.clients} concurrent clients\n")
    rows = []
    for key, label, targets in ENDPOINTS:
        r = results[key]["load"]
        one = results[key]["single"]
        pages = key in ("page_load", "page_first_view")
        unit = "loads/s" if pages else "req/s"
        c = results[key]["cached"]
        rows.append([label, r["n"], fmt_t(r["p50"]), fmt_t(r["p95"]), f"**{fmt_t(r['p99'])}**", fmt_t(r["max"]),
                     f"{r['rps']:,.0f} {unit}" + (f" ({r['http_rps']:,.0f} req/s)" if pages else ""),
                     f"{100 * (r['first_time_share'] or 0):.0f} %",
                     f"{fmt_t(c['p50'])} / {fmt_t(c['p99'])} ({c['rps']:,.0f}/s)",
                     r["errors"] + c["errors"] + one["errors"], f"{fmt_t(one['p50'])} / {fmt_t(one['p99'])}",
                     f"{r['server_cpu_ms_per_request']:.1f} ms ({100 * r['server_cpu_share']:.0f} %)"
                     if r.get("server_cpu_ms_per_request") is not None else "n/a"])
    out.append(md_table(["Endpoint", "n", "p50", "p95", "p99", "max", "Throughput", "First-time URLs",
                         "Replayed (cached): p50 / p99", "Errors", "1 client: p50 / p99",
                         "Server CPU per HTTP request (CPU busy)"], rows, "lrrrrrrrrrrr"))
    out.append("\n*Server CPU per HTTP request* = the server process's user + system CPU time during the "
               f"{args.clients}-client pass (all its threads, from `/proc/<pid>/stat`) / the HTTP requests of "
               "the pass; *CPU busy* = that CPU time / the pass's wall time (100 % = one core). When the CPU per "
               "request is close to the 1-client latency, the server's own work, not the network or the client, "
               "is what a request waits for.\n")

    out.append("## Targets (p99 under load)\n")
    trows = []
    for key, label, targets in ENDPOINTS:
        r = results[key]["load"]
        for tg in targets:
            c = results[key]["cached"]
            trows.append([label, tg, fmt_t(r["p99"]), verdict(tg, r["p99"]),
                          f"{verdict(tg, c['p99'])} ({fmt_t(c['p99'])})",
                          f"{verdict(tg, results[key]['single']['p99'])} ({fmt_t(results[key]['single']['p99'])})"])
    out.append(md_table(["Endpoint", "Target", f"p99 ({args.clients} clients)", f"{args.clients} clients",
                         f"{args.clients} clients, replayed (cached)", "1 client"], trows, "llllll"))
    out.append("")

    out.append("## Beside the on-demand path\n")
    orows = []
    for key, label, _ in ENDPOINTS:
        if key not in ondemand:
            continue
        o = ondemand[key]
        r, one = results[key]["load"], results[key]["single"]
        ratio = (o["p50"] / one["p50"]) if o["p50"] and one["p50"] else None
        orows.append([label, f"`{o['od_key']}`", o["n"], fmt_t(o["p50"]), fmt_t(o["p95"]), fmt_t(o["p99"]),
                      f"{fmt_t(one['p50'])} / {fmt_t(r['p50'])}",
                      f"**{ratio:,.0f}×**" if ratio else "n/a",
                      f"{o['agree']}/{o['checked']}" if o["checked"] else "not compared"])
    out.append(md_table(["Request", "On-demand (queries.py key)", "n", "On-demand p50", "p95", "p99",
                         f"API p50: 1 client / {args.clients} clients", "On-demand p50 / API p50 (1 client)",
                         "Answers agree"], orows, "llrrrrrrr"))
    out.append("\nWith n on-demand samples ≤ 20, p95 and p99 are the maximum. The on-demand side runs in "
               "the benchmark's own process with no HTTP and no concurrency; served over HTTP to 8 clients it "
               "would queue far longer.\n")
    if plan:
        out.append("## Where a request's time goes: planning the stored queries\n")
        out.append("In this process, on the release (one connection, no HTTP, no concurrency), each query the "
                   "server runs from `precompute_queries`, with the parameters of the first sample: median of 5 "
                   "executions, and of 5 `EXPLAIN`s of the same statement (parse, bind and optimize, no "
                   "execution). DuckDB's Python API plans a statement again on every `execute`.\n")
        prow = []
        for name, v in plan.items():
            if "error" in v:
                prow.append([f"`{name}`", f"{v['chars']:,}", v["error"], "", ""])
            else:
                prow.append([f"`{name}`", f"{v['chars']:,}", fmt_t(v["execute_s"]), fmt_t(v["explain_s"]),
                             f"{100 * min(v['explain_s'] / v['execute_s'], 9.99):.0f} %" if v["execute_s"] else "n/a"])
        out.append(md_table(["Stored query", "SQL characters", "Execute + fetch", "EXPLAIN only",
                             "EXPLAIN / execute"], prow, "lrrrr"))
        out.append("")
    notes = [f"* {key}: {n}" for key, o in ondemand.items() for n in o["notes"]]
    if notes:
        out.append("Disagreements:\n")
        out += notes
        out.append("")
    errs = [f"* {key}: {e}" for key, _, _ in ENDPOINTS
            for e in (results[key]["single"]["error_samples"] + results[key]["load"]["error_samples"]
                      + results[key]["cached"]["error_samples"])[:3]]
    if errs:
        out.append("## Errors (first ones)\n")
        out += errs
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=["year", "small"], default="year")
    p.add_argument("--seed", type=int, default=42, help="data set seed (as build.py; default 42)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--requests", type=int, default=800, help="requests per endpoint under load (default 800)")
    p.add_argument("--single-requests", type=int, default=100,
                   help="requests per endpoint of the 1-client reference pass (default 100)")
    p.add_argument("--page-loads", type=int, default=200, help="page loads under load (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="untimed requests per endpoint first (default 20)")
    p.add_argument("--samples", type=int, default=0,
                   help="request samples drawn (default: warmup + single-requests + requests, one per request)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the request samples (default 0)")
    p.add_argument("--od-samples", type=int, default=10,
                   help="on-demand requests per type (default 10)")
    p.add_argument("--od-heavy-samples", type=int, default=3,
                   help="on-demand requests of the two looping types, country breakdown and overview (default 3)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="data set cache (default benchmarks/.cache/<scale>_seed<seed>/)")
    p.add_argument("--output", type=Path, default=None,
                   help="markdown report (default benchmarks/results/api_<scale>.md)")
    p.add_argument("--rerun", action="store_true", help="publish a new release even if one can be reused")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--server-timeout", type=float, default=120, help="seconds to wait for /api/health")
    p.add_argument("--server-command", default=None,
                   help="run this instead of `precompute serve` (given --warehouse/--host/--port); for testing")
    args = p.parse_args(argv)
    if args.clients < 1 or args.requests < args.clients:
        p.error("--clients must be at least 1 and --requests at least --clients")

    args.command_line = shlex.join([".venv/bin/python", "benchmarks/api.py"]
                                   + (argv if argv is not None else sys.argv[1:]))
    args.cache_dir = (args.cache_dir or BENCH_DIR / ".cache" / f"{args.scale}_seed{args.seed}").resolve()
    output = args.output or BENCH_DIR / "results" / f"api_{args.scale}.md"
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "precompute").exists():
        venv_bin = PROJECT_DIR / ".venv" / "bin"
    machine = bench_build.machine_info(venv_bin)

    rel_info = ensure_release(args, args.cache_dir, venv_bin)
    rel = read_release(rel_info["path"])
    n_samples = args.samples or (args.warmup + args.single_requests + args.requests)
    args.n_samples = n_samples
    samples = draw_samples(rel, n_samples + 1, args.sample_seed)  # the last one: on-demand warm-up
    # page loads: their own draw, each on a different end day while the window has enough of them
    page_samples = draw_samples(rel, args.page_loads + args.single_requests // 5 + args.warmup // 5 + 1,
                                args.sample_seed + 1)
    n_days = (rel["as_of_date"] - rel["start_date"]).days + 1
    ends = [rel["start_date"] + dt.timedelta(days=d) for d in range(min(27, n_days - 1), n_days)]
    random.Random(args.sample_seed + 1).shuffle(ends)
    for i, ps in enumerate(page_samples):
        ps["end"] = ends[i % len(ends)]
        ps["start"] = max(rel["start_date"], ps["end"] - dt.timedelta(days=13))
    runs_dir = args.cache_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)

    def _terminate(signum, frame):  # stop the server on SIGTERM / SIGINT too (the finally below)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    proc, port, server = start_server(args, rel_info["path"], venv_bin, runs_dir / "api_serve.log")
    host = "127.0.0.1"
    results, ondemand, server_stats = {}, {}, {}
    load_before = loadavg()
    t_all = time.perf_counter()
    try:
        # the page's default range (app.js lastDays(DEFAULT_RANGE_DAYS)), which the warm-up answers
        first_view = {"end": rel["as_of_date"],
                      "start": max(rel["start_date"], rel["as_of_date"] - dt.timedelta(days=13))}
        for key, label, _ in ENDPOINTS:
            pages = key in ("page_load", "page_first_view")
            lst = page_samples if pages else samples
            if key.endswith("_first_view"):
                lst = [{**s, **first_view} for s in lst]
            w = max(1, args.warmup // 5) if pages else args.warmup
            ns = max(1, args.single_requests // 5) if pages else args.single_requests
            nl = args.page_loads if pages else args.requests
            camps = rel["ids"]["campaign"]
            run_pass(host, port, key, lst[:w], 1, camps)
            single = run_pass(host, port, key, lst[w:w + ns], 1, camps)
            cpu0 = proc_stats(proc.pid).get("cpu_s")
            load = run_pass(host, port, key, lst[w + ns:w + ns + nl], args.clients, camps)
            cpu1 = proc_stats(proc.pid).get("cpu_s")
            load["server_cpu_ms_per_request"] = (1000 * (cpu1 - cpu0) / load["http_requests"]
                                                 if cpu0 is not None and cpu1 is not None and load["http_requests"]
                                                 else None)
            load["server_cpu_share"] = ((cpu1 - cpu0) / load["wall_s"]
                                        if cpu0 is not None and cpu1 is not None and load["wall_s"] else None)
            cached = run_pass(host, port, key, lst[w + ns:w + ns + nl], args.clients, camps)  # the same again
            results[key] = {"single": single, "load": load, "cached": cached}
            print(f"[{key}] 1 client p50 {fmt_t(single['p50'])} p99 {fmt_t(single['p99'])}; "
                  f"{args.clients} clients p50 {fmt_t(load['p50'])} p95 {fmt_t(load['p95'])} "
                  f"p99 {fmt_t(load['p99'])}, {load['rps']:,.0f}/s, first-time URLs "
                  f"{100 * (load['first_time_share'] or 0):.0f} %; replayed p50 {fmt_t(cached['p50'])} "
                  f"p99 {fmt_t(cached['p99'])}; errors {single['errors'] + load['errors'] + cached['errors']}",
                  flush=True)
        ondemand = run_on_demand(args, args.cache_dir, rel, samples, host, port)
        server_stats = proc_stats(proc.pid)
    finally:
        stop_server(proc)
    total_s = time.perf_counter() - t_all
    load_after = loadavg()
    plan = planning_cost(rel_info["path"], rel, samples)

    text = report(args, machine, rel_info, rel, server, results, ondemand, load_before, load_after, total_s,
                  server_stats, plan)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    raw = {"machine": machine, "release": {k: v for k, v in rel.items() if k != "trial_entity_days"},
           "server": server, "server_stats": server_stats, "results": results, "ondemand": ondemand, "planning": plan,
           "load_before": load_before, "load_after": load_after, "args": vars(args)}
    (runs_dir / "api_last_results.json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    print()
    print(text)
    print(f"\n[report] written to {output}", flush=True)
    failed = sum(r["load"]["errors"] + r["single"]["errors"] + r["cached"]["errors"] for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
