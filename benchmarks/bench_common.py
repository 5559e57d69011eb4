"""What the benchmark scripts share: formatting, the machine, the cached data set,
child processes with their memory, a timed ``dbt build`` and the report's tail.

The scripts import it by name (``import bench_common``): each runs with
``benchmarks/`` first on ``sys.path``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
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
from types import ModuleType

from python_hooks.project import PROJECT_DIR

BENCH_DIR = Path(__file__).resolve().parent
MARTS = ("entity_daily_metrics", "entity_country_breakdown")
MARKER = "generator.json"
SAMPLE_EVERY_S = 0.2


def load_sibling(file: str) -> ModuleType:
    """``benchmarks/<file>`` as a module named ``benchmarks_<stem>`` (a plain ``import build``
    could pick up PyPA's ``build`` package instead of ``benchmarks/build.py``)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{Path(file).stem}", BENCH_DIR / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def venv_bin() -> Path:
    """The virtualenv's bin folder, with dbt: next to this interpreter, else the project's .venv."""
    for folder in (Path(sys.executable).parent, PROJECT_DIR / ".venv" / "bin"):
        if (folder / "dbt").exists():
            return folder
    raise SystemExit(f"dbt not found next to {sys.executable} nor in {PROJECT_DIR / '.venv' / 'bin'}")


def relative(path: str | Path) -> str:
    """A path relative to the project, for reports (other paths as they are)."""
    try:
        return os.path.relpath(path, PROJECT_DIR) if Path(path).is_absolute() else str(path)
    except ValueError:
        return str(path)


def write_report(output: Path, text: str, raw_path: Path, raw: dict) -> None:
    """Write the markdown report and the raw numbers next to the runs, and print the report."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    raw_path.write_text(json.dumps(raw, indent=2, default=str) + "\n")
    print()
    print(text)
    print(f"\n[report] written to {output}", flush=True)


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


def generator_args(scale: str, seed: int) -> dict:
    from python_hooks import generate as gen

    src = Path(gen.__file__).read_bytes()
    preset = dict(gen.SCALES[scale])
    preset["targets"] = list(preset["targets"])
    return {
        "function": "python_hooks.generate.generate",
        "seed": seed,
        "scale": scale,
        "preset": preset,
        "start_date": "2025-01-01",
        "generate_py_sha256": hashlib.sha256(src).hexdigest(),
    }


def ensure_dataset(cache_dir: Path, scale: str, seed: int, force: bool) -> dict:
    """Generate the six Parquet files into cache_dir unless a matching marker is present."""
    from python_hooks import generate as gen

    args = generator_args(scale, seed)
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
    counts = gen.generate(cache_dir, seed=seed, scale=scale, start_date=dt.date.fromisoformat(args["start_date"]))
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


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
