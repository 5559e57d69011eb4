"""``precompute``: the pipeline step's command line.

Subcommands::

    precompute run      [--raw-dir DIR] [--start DATE] [--as-of DATE] [--warehouse FILE]
                        [--full-refresh] [--progress auto|live|plain]
    precompute validate [--cases N] [--seed S] [--raw-dir DIR] [--start DATE] [--as-of DATE]
                        [--warehouse FILE]
    precompute generate OUT_DIR [--seed N] [--scale small|year] [--ads N] [--days N]
                        [--users-per-day N] [--start-date YYYY-MM-DD]

``run`` runs ``dbt build`` in-process (``python_hooks.dbt_runner``), shows the
progress of each node, then writes the run report ``<target>/precompute_run_report.json``
(``<target>`` = ``$DBT_TARGET_PATH`` or ``<project>/target``) and prints a summary.
Exit code: 0 when every node passed, 1 when any model, seed, hook or test failed
or dbt stopped with an error, 2 on bad arguments.

Paths: ``--warehouse`` > ``$DUCKDB_PATH`` > ``<project>/warehouse/ad_precompute.duckdb``;
``--raw-dir`` > ``$RAW_DATA_DIR`` > ``<project>/data/sample``. A relative path is
resolved against the current directory, and dbt always gets absolute paths.

``validate`` compares the warehouse with the on-demand path; see ``python_hooks.validate``.
``generate`` is ``python -m python_hooks.generate`` (same arguments).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUN_REPORT_NAME = "precompute_run_report.json"
VALIDATE_REPORT_NAME = "precompute_validate_report.json"


# --------------------------------------------------------------------------- paths


def _abs(path: str | os.PathLike[str]) -> Path:
    """Absolute path, relative ones resolved against the current directory (symlinks kept)."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def resolve_warehouse(arg: str | None, project_dir: Path = PROJECT_DIR) -> Path:
    if arg:
        return _abs(arg)
    if os.environ.get("DUCKDB_PATH"):
        return _abs(os.environ["DUCKDB_PATH"])
    return project_dir / "warehouse" / "ad_precompute.duckdb"


def resolve_raw_dir(arg: str | None, project_dir: Path = PROJECT_DIR) -> Path:
    if arg:
        return _abs(arg)
    if os.environ.get("RAW_DATA_DIR"):
        return _abs(os.environ["RAW_DATA_DIR"])
    return project_dir / "data" / "sample"


def resolve_target_dir(project_dir: Path = PROJECT_DIR) -> Path:
    """dbt's target path: $DBT_TARGET_PATH (relative = to the project dir) or <project>/target."""
    env = os.environ.get("DBT_TARGET_PATH")
    if env:
        p = Path(os.path.expanduser(env))
        return p if p.is_absolute() else project_dir / p
    return project_dir / "target"


def _iso_date(value: str) -> str:
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


# --------------------------------------------------------------------------- progress


_STATUS_LABEL = {"success": "OK", "pass": "PASS", "fail": "FAIL", "error": "ERROR",
                 "skipped": "SKIP", "warn": "WARN", "no-op": "NO-OP"}
_COLOR = {"OK": "32", "PASS": "32", "FAIL": "31", "ERROR": "31", "SKIP": "33", "WARN": "33"}


class Progress:
    """Renders dbt node events: one line per finished node; on a TTY also a live status line.

    Thread-safe (dbt fires events from its worker threads). ``i/n`` is the number
    of finished nodes out of the nodes dbt selected (the hook is shown apart).
    """

    def __init__(self, stream: TextIO, live: bool):
        self.stream = stream
        self.live = live
        self.total: int | None = None
        self.done = 0
        self.running: dict[str, str] = {}
        self.finished: set[str] = set()
        self.failed: list[str] = []
        self.skipped: list[str] = []
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._status_shown = False
        self._last_draw = 0.0

    # -- event entry point
    def handle(self, ev: Any) -> None:
        name = ev.name
        if name not in ("LogStartLine", "NodeFinished", "SkippingDetails", "LogHookEndLine"):
            return
        with self._lock:
            if ev.total:
                self.total = ev.total if name != "LogHookEndLine" else self.total
            if name == "LogStartLine":
                self.running[ev.unique_id] = f"{ev.resource_type} {ev.node_name}"
                self._draw_status(force=False)
            elif name == "LogHookEndLine":
                self._emit(f"[hook] {self._label(ev.status, None):<7s} on-run-start "
                           f"{ev.node_name} {self._secs(ev.execution_time)}", ev.status)
            else:
                if ev.unique_id in self.finished:
                    return
                self.finished.add(ev.unique_id)
                self.running.pop(ev.unique_id, None)
                self.done += 1
                label = self._label(ev.status, ev.failures)
                if ev.status == "skipped":  # downstream of a failure: counted, summed up at the end
                    self.skipped.append(ev.node_name)
                    self._draw_status(force=True)
                    return
                if ev.status in ("fail", "error", "warn"):
                    self.failed.append(ev.node_name)
                total = self.total or 0
                width = len(str(total)) if total else 3
                line = (f"[{self.done:>{width}d}/{total}] {label:<7s} {ev.resource_type or '':<9s} "
                        f"{ev.node_name} {self._secs(ev.execution_time)}")
                self._emit(line, ev.status)

    def start(self) -> "Progress":
        """On a live display, refresh the status line (elapsed time) every 0.5 s."""
        if self.live:
            self._stop = threading.Event()

            def tick() -> None:
                while not self._stop.wait(0.5):
                    with self._lock:
                        self._draw_status(force=True)

            threading.Thread(target=tick, name="precompute-progress", daemon=True).start()
        return self

    def close(self) -> None:
        if getattr(self, "_stop", None) is not None:
            self._stop.set()
        with self._lock:
            self._clear_status()
            if self.skipped:
                self.stream.write(f"[{self.done}/{self.total or self.done}] SKIP    {len(self.skipped)} nodes "
                                  f"(downstream of a failure), e.g. {', '.join(self.skipped[:3])}\n")
            self.stream.flush()

    # -- rendering helpers
    @staticmethod
    def _secs(t: float | None) -> str:
        return f"({t:.2f}s)" if t is not None else ""

    @staticmethod
    def _label(status: str | None, failures: int | None) -> str:
        label = _STATUS_LABEL.get(status or "", (status or "?").upper())
        if status in ("fail", "warn") and failures is not None:
            label += f" {failures}"
        return label

    def _colored(self, line: str, status: str | None) -> str:
        label = _STATUS_LABEL.get(status or "")
        if not self.live or label not in _COLOR:
            return line
        return line.replace(label, f"\x1b[{_COLOR[label]}m{label}\x1b[0m", 1)

    def _clear_status(self) -> None:
        if self.live and self._status_shown:
            self.stream.write("\r\x1b[K")
            self._status_shown = False

    def _emit(self, line: str, status: str | None) -> None:
        self._clear_status()
        self.stream.write(self._colored(line, status) + "\n")
        self._draw_status(force=True)
        self.stream.flush()

    def _draw_status(self, force: bool) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        cols = shutil.get_terminal_size((100, 20)).columns
        names = list(self.running.values())
        running = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
        doing = f"  running: {running}" if running else ("" if self.total else "  parsing the dbt project ...")
        status = f"[{self.done}/{self.total or '?'}] {now - self.t0:5.1f}s{doing}"
        self.stream.write("\r\x1b[K" + status[: max(cols - 1, 10)])
        self._status_shown = True
        self.stream.flush()


# --------------------------------------------------------------------------- run


def cmd_run(a: argparse.Namespace) -> int:
    from python_hooks import report as rep
    from python_hooks.dbt_runner import node_results, run_dbt

    project_dir = _abs(a.project_dir)
    warehouse = resolve_warehouse(a.warehouse, project_dir)
    raw_dir = resolve_raw_dir(a.raw_dir, project_dir)
    target_dir = resolve_target_dir(project_dir)
    warehouse.parent.mkdir(parents=True, exist_ok=True)

    dbt_vars: dict[str, Any] = {"raw_data_dir": str(raw_dir)}
    if a.start:
        dbt_vars["start_date"] = a.start
    if a.as_of:
        dbt_vars["as_of_date"] = a.as_of
    args = ["build", "--target-path", str(target_dir)]
    if a.full_refresh:
        args.append("--full-refresh")
    live = a.progress == "live" or (a.progress == "auto" and sys.stdout.isatty())

    out = sys.stdout
    print(f"precompute run: dbt build  project {project_dir}", file=out)
    print(f"  warehouse {warehouse}\n  raw data  {raw_dir}\n  vars      {dbt_vars}", file=out, flush=True)

    started_at = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.monotonic()
    progress = Progress(out, live=live).start()
    errors: list[str] = []
    result = None
    try:
        result = run_dbt(args, project_dir=project_dir, vars=dbt_vars,
                         env={"DUCKDB_PATH": str(warehouse)}, on_event=progress.handle)
    except Exception as exc:  # noqa: BLE001 - dbt raising outside its own handling: still report
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        progress.close()
    elapsed = time.monotonic() - t0

    if result is not None and result.exception is not None:
        errors.append(str(result.exception))
    nodes = [asdict(n) for n in node_results(result)] if result is not None else []
    for n in nodes:
        sql = n.pop("compiled_code", None)
        if n["resource_type"] == "test" and n["status"] in ("fail", "warn"):
            n["failing_rows_sample"] = rep.failing_rows_sample(warehouse, sql)
    built = {n["name"] for n in nodes if n["resource_type"] == "model" and n["status"] == "success"}
    facts = rep.read_warehouse_facts(warehouse, built)

    any_failed = any(n["status"] in ("error", "fail") for n in nodes)
    ok = result is not None and result.success and not any_failed and not errors
    status = "success" if ok else ("error" if errors or result is None else "failed")
    report_path = target_dir / RUN_REPORT_NAME
    report: dict[str, Any] = {
        "status": status,
        "exit_code": 0 if ok else 1,
        "started_at": started_at,
        "finished_at": _dt.datetime.now(_dt.timezone.utc),
        "elapsed_seconds": round(elapsed, 3),
        "project_dir": project_dir,
        "warehouse": warehouse,
        "raw_data_dir": raw_dir,
        "vars": dbt_vars,
        "full_refresh": bool(a.full_refresh),
        "dbt_args": args,
        "window": facts["window"],
        "entities": facts["entities"],
        "rows": facts["rows"],
        "rejects": facts["rejects"],
        "data_quality_score": facts["data_quality_score"],
        "tables_not_built": facts["not_built"],
        "tests": rep.summarize_tests(nodes),
        "nodes": nodes,
        "errors": errors,
        "warehouse_read_error": facts["read_error"],
        "warehouse_access": ("read-only connection opened after dbt returned; the DuckDB instance "
                             "dbt-duckdb keeps open in-process is closed first by "
                             "python_hooks.dbt_runner.release_duckdb()"),
        "report_path": report_path,
    }
    try:
        rep.write_json(report_path, report)
    except OSError as exc:
        print(f"precompute: cannot write the run report {report_path}: {exc}", file=sys.stderr)
    print(rep.format_summary(report), file=out, flush=True)
    if errors:
        print("precompute run failed:\n" + "\n".join(errors), file=sys.stderr, flush=True)
    return report["exit_code"]


# --------------------------------------------------------------------------- validate


def cmd_validate(a: argparse.Namespace) -> int:
    from python_hooks import validate

    project_dir = _abs(a.project_dir)
    return validate.main_validate(
        warehouse=resolve_warehouse(a.warehouse, project_dir),
        raw_dir=_abs(a.raw_dir) if a.raw_dir else None,
        default_raw_dir=resolve_raw_dir(None, project_dir),
        start=a.start,
        as_of=a.as_of,
        cases=a.cases,
        seed=a.seed,
        report_path=resolve_target_dir(project_dir) / VALIDATE_REPORT_NAME,
        country_mapping_csv=project_dir / "seeds" / "breakdown_mapping_country.csv",
        threshold=a.threshold,
    )


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="precompute", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project-dir", default=str(PROJECT_DIR),
                   help="the dbt project (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,validate,generate}")

    r = sub.add_parser("run", help="dbt build with progress, run report and summary")
    r.add_argument("--raw-dir", help="directory of the six <table>.parquet files "
                                     "(default: $RAW_DATA_DIR or <project>/data/sample)")
    r.add_argument("--start", type=_iso_date, help="start_date var (default: earliest source date)")
    r.add_argument("--as-of", type=_iso_date, help="as_of_date var (default: latest source date)")
    r.add_argument("--warehouse", help="DuckDB file (default: $DUCKDB_PATH or "
                                       "<project>/warehouse/ad_precompute.duckdb)")
    r.add_argument("--full-refresh", action="store_true", help="pass --full-refresh to dbt build")
    r.add_argument("--progress", choices=("auto", "live", "plain"), default="auto",
                   help="live status line (TTY) or plain log lines; auto = live on a TTY")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="compare random warehouse cells with the on-demand path")
    v.add_argument("--cases", type=int, default=200, help="number of cells to draw (default: %(default)s)")
    v.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    v.add_argument("--raw-dir", help="raw Parquet directory for the on-demand side (default: the "
                                     "directory the warehouse was built from)")
    v.add_argument("--start", type=_iso_date, help="expected start_date (must equal the warehouse's)")
    v.add_argument("--as-of", type=_iso_date, help="expected as_of_date (must equal the warehouse's)")
    v.add_argument("--warehouse", help="DuckDB file (default as for run)")
    v.add_argument("--threshold", type=float, default=99.9,
                   help="minimum share of matching cells, in percent (default: %(default)s)")
    v.set_defaults(func=cmd_validate)

    sub.add_parser("generate", help="write a synthetic source data set (python -m python_hooks.generate)",
                   add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `generate` forwards its arguments untouched (same options and help as the module).
    i = 0
    while i < len(argv) and argv[i].startswith("--project-dir"):
        i += 1 if "=" in argv[i] else 2
    if i < len(argv) and argv[i] == "generate":
        from python_hooks import generate
        return generate.main(argv[i + 1:])
    args = build_parser().parse_args(argv)
    if args.command == "validate" and args.cases < 1:
        print("precompute validate: --cases must be >= 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
