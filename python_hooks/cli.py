"""``precompute``: the pipeline step's command line.

Subcommands::

    precompute run      [--raw-dir DIR | --source sqlite:PATH | --source csv:DIR] [--start DATE]
                        [--as-of DATE] [--vars YAML] [--warehouse PATH] [--gate-cases N] [--keep N]
                        [--progress auto|live|plain]
    precompute status   [--warehouse PATH] [--json] [--max-age-hours H]
    precompute releases [--warehouse PATH] [--json]
    precompute rollback [--warehouse PATH] [--to RUN_ID]
    precompute validate [--cases N] [--seed S] [--raw-dir DIR] [--start DATE] [--as-of DATE]
                        [--warehouse FILE]
    precompute serve    [--warehouse PATH] [--host 127.0.0.1] [--port 8000]
    precompute import   sqlite DB | mixpanel EXPORT.jsonl... | csv DIR  --out DIR  (python_hooks.importers)

``run`` is the daily run: build, gate, publish, report (``python_hooks.run``, which
also lists its exit codes). Its report goes to ``<target>/runs/<run id>/run_report.json``
(``<target>`` = ``$DBT_TARGET_PATH`` or ``<project>/target``).

Paths: the published path is ``--warehouse`` > ``$PRECOMPUTE_WAREHOUSE`` >
``<project>/warehouse/ad_precompute.duckdb``; ``--raw-dir`` > ``$RAW_DATA_DIR`` >
``<project>/data/sample``. A relative path is resolved against the current
directory, and dbt always gets absolute paths.

``serve`` runs the read API (``python_hooks.api``, FastAPI under uvicorn) over
the published release, read-only; it picks up a new release without a restart.

``run --source KIND:PATH`` first imports the legacy SQLite database (or a CSV
directory) into the run's private build directory, then builds from there.

``validate`` compares a warehouse with the on-demand path; see ``python_hooks.validate``.
The sample-data generator is a development tool: ``python -m devtools.generate``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys

from python_hooks.project import PROJECT_DIR, absolute as _abs, resolve_raw_dir, resolve_target_dir, resolve_warehouse

VALIDATE_REPORT_NAME = "precompute_validate_report.json"


# --------------------------------------------------------------------------- arguments


def _iso_date(value: str) -> str:
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


# --------------------------------------------------------------------------- run


def cmd_run(a: argparse.Namespace) -> int:
    from python_hooks import run_vars
    from python_hooks.run import EXIT_USAGE, RunSettings, run

    project_dir = _abs(a.project_dir)
    try:
        given = run_vars.parse_vars(a.vars)
    except run_vars.VarError as exc:
        print(f"precompute run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if a.start:
        given["start_date"] = a.start
    if a.as_of:
        given["as_of_date"] = a.as_of
    settings = RunSettings(
        project_dir=project_dir,
        warehouse=resolve_warehouse(a.warehouse, project_dir),
        raw_dir=resolve_raw_dir(a.raw_dir, project_dir),
        target_dir=resolve_target_dir(project_dir),
        vars=given,
        source=a.source,
        gate_cases=a.gate_cases,
        gate_seed=a.gate_seed,
        keep=a.keep,
        live_progress=a.progress == "live" or (a.progress == "auto" and sys.stdout.isatty()),
    )
    result = run(settings, out=sys.stdout)
    if result.report is not None:
        _print_run_report(result.report)
    elif result.error:
        print(f"precompute run: {result.error}", file=sys.stderr)
    return result.exit_code


def _print_run_report(report: dict) -> None:
    from python_hooks.release import release_age
    from python_hooks.report import format_summary

    print(format_summary(report), flush=True)
    for w in report["warnings"]:
        print(f"precompute run: warning: {w}", file=sys.stderr, flush=True)
    status, exit_code, errors = report["status"], report["exit_code"], report["errors"]
    if not report["published"]:  # the causes are in the summary above; one line for logs that keep stderr
        first = (errors[0].strip().splitlines() or [""])[0] if errors else ""
        print(f"precompute run: {status} (exit {exit_code}), nothing published"
              + (f": {first[:300]}" if first else "; see the summary on stdout"), file=sys.stderr, flush=True)
        kept = report["published_run_id"]
        print(f"not published: {report['warehouse']} still serves "
              f"{'release ' + kept if kept else 'no release (nothing published yet)'}", flush=True)
        return
    release = report["release"]
    age = release_age(release)
    print(f"published   {report['warehouse']} -> release {report['run_id']} (computed_at {release['computed_at']}, "
          f"age {age.total_seconds():.0f}s)" if age else f"published   {report['warehouse']} -> {report['run_id']}",
          flush=True)


# --------------------------------------------------------------------------- releases


def _store(a: argparse.Namespace):
    from python_hooks.release import ReleaseStore

    return ReleaseStore(resolve_warehouse(a.warehouse, _abs(a.project_dir)))


def _gate_line(meta: dict) -> str:
    gates = meta.get("gates") or {}
    parts = []
    dbt = gates.get("dbt")
    if dbt:
        parts.append(f"dbt tests {dbt.get('pass', 0)}/{dbt.get('total', 0)} pass")
    v = gates.get("validate")
    if v:
        parts.append(f"validate {v.get('matched')}/{v.get('cells')} cells")
    return ", ".join(parts) or "-"


def cmd_releases(a: argparse.Namespace) -> int:
    from python_hooks.release import format_age, release_age

    store = _store(a)
    published = store.published_run_id()
    ids = store.run_ids()
    if a.json:
        print(json.dumps([{**store.metadata(r), "published": r == published} for r in ids], indent=2,
                         default=str))
        return 0
    print(f"releases of {store.path} ({store.root})")
    if not ids:
        print("  none")
        return 0
    for run_id in reversed(ids):
        meta = store.metadata(run_id)
        w = meta.get("window") or {}
        mark = "*" if run_id == published else " "
        print(f"{mark} {run_id}  computed_at {meta.get('computed_at')} (age {format_age(release_age(meta))})  "
              f"window {w.get('start_date')} .. {w.get('as_of_date')}  gates: {_gate_line(meta)}")
    print("* = published")
    return 0


def cmd_status(a: argparse.Namespace) -> int:
    from python_hooks.release import format_age, release_age

    store = _store(a)
    run_id = store.published_run_id()
    if run_id is None:
        what = "a plain file, not a release" if store.path.exists() else "missing"
        print(f"{store.path}: no release published ({what}); run `precompute run`")
        return 1
    meta = store.metadata(run_id)
    age = release_age(meta)
    w = meta.get("window") or {}
    if a.json:
        print(json.dumps({**meta, "published": True, "age_seconds": age.total_seconds() if age else None},
                         indent=2, default=str))
    else:
        print(f"published   {store.path}")
        print(f"            -> {store.link_target()}")
        print(f"run id      {run_id}")
        print(f"computed_at {meta.get('computed_at')} UTC (age {format_age(age)})")
        print(f"window      {w.get('start_date')} .. {w.get('as_of_date')} ({w.get('window_days')} days)")
        print(f"rows        " + ", ".join(f"{t} {n:,d}" for t, n in (meta.get("tables") or {}).items()))
        print(f"gates       {_gate_line(meta)}")
        previous = store.previous_run_id()
        print(f"previous    {previous or '-'}" + ("  (precompute rollback publishes it)" if previous else ""))
    if a.max_age_hours is not None and (age is None or age.total_seconds() > a.max_age_hours * 3600):
        print(f"stale: the published release is older than {a.max_age_hours} h", file=sys.stderr)
        return 1
    return 0


def cmd_rollback(a: argparse.Namespace) -> int:
    from python_hooks.release import RunInProgress
    from python_hooks.run import EXIT_NOT_PUBLISHED

    store = _store(a)
    current = store.published_run_id()
    target = a.to or store.previous_run_id()
    if target is None:
        print(f"precompute rollback: no release older than {current or '(none published)'} in {store.root}",
              file=sys.stderr)
        return 1
    if target not in store.run_ids():
        print(f"precompute rollback: no release {target} in {store.root} "
              f"(see `precompute releases`)", file=sys.stderr)
        return 1
    try:
        with store.lock():
            store.publish(target)
    except RunInProgress as exc:
        print(f"precompute rollback: {exc}", file=sys.stderr)
        return EXIT_NOT_PUBLISHED
    print(f"published {store.path} -> release {target} (was {current or 'none'})")
    return 0


# --------------------------------------------------------------------------- validate


def cmd_validate(a: argparse.Namespace) -> int:
    from python_hooks import validate

    project_dir = _abs(a.project_dir)
    return validate.main_validate(
        warehouse=resolve_warehouse(a.warehouse, project_dir),
        raw_dir=resolve_raw_dir(a.raw_dir, project_dir),
        start=a.start,
        as_of=a.as_of,
        cases=a.cases,
        seed=a.seed,
        report_path=resolve_target_dir(project_dir) / VALIDATE_REPORT_NAME,
        country_mapping_csv=project_dir / "seeds" / "breakdown_mapping_country.csv",
        threshold=a.threshold,
    )


# --------------------------------------------------------------------------- serve


def cmd_serve(a: argparse.Namespace) -> int:
    from python_hooks.api import serve

    warehouse = resolve_warehouse(a.warehouse, _abs(a.project_dir))
    print(f"precompute serve: {warehouse} on http://{a.host}:{a.port}/ (API docs: /docs)", flush=True)
    serve(warehouse, host=a.host, port=a.port)
    return 0


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    from python_hooks.release import DEFAULT_KEEP
    from python_hooks.run import default_gate_cases

    p = argparse.ArgumentParser(prog="precompute", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project-dir", default=str(PROJECT_DIR),
                   help="the dbt project (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,status,releases,rollback,validate,serve,import}")

    r = sub.add_parser("run", help="build, gate and publish a release of the two tables")
    r_source = r.add_mutually_exclusive_group()
    r_source.add_argument("--raw-dir", help="directory of the source <table>.parquet files "
                                            "(default: $RAW_DATA_DIR or <project>/data/sample)")
    r_source.add_argument("--source", metavar="KIND:PATH",
                          help="import this first, into the run's private directory: sqlite:PATH (the "
                               "legacy dashboard's database) or csv:DIR (precompute import)")
    r.add_argument("--start", type=_iso_date, help="start_date var (default: earliest source date)")
    r.add_argument("--as-of", type=_iso_date, help="as_of_date var (default: latest source date)")
    r.add_argument("--vars", help="other dbt vars, YAML as dbt takes them, e.g. "
                                  "'{trial_days: 7, allow_empty_sources: [user_product_metrics]}'")
    r.add_argument("--warehouse", help="the published DuckDB path (default: $PRECOMPUTE_WAREHOUSE or "
                                       "<project>/warehouse/ad_precompute.duckdb)")
    r.add_argument("--gate-cases", type=int, default=default_gate_cases(),
                   help="cells compared with the on-demand path before publishing; 0 skips this gate "
                        "(default: %(default)s)")
    r.add_argument("--gate-seed", type=int, default=0, help="seed of the gate's cell draw (default: 0)")
    r.add_argument("--keep", type=int, default=DEFAULT_KEEP, help="releases kept next to the published path "
                                                       "(default: %(default)s)")
    r.add_argument("--progress", choices=("auto", "live", "plain"), default="auto",
                   help="live status line (TTY) or plain log lines; auto = live on a TTY")
    r.set_defaults(func=cmd_run)

    for name, func, text in (("status", cmd_status, "what is published, and how old it is"),
                             ("releases", cmd_releases, "list the kept releases"),
                             ("rollback", cmd_rollback, "publish the previous release")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--warehouse", help="the published DuckDB path (default as for run)")
        if name in ("status", "releases"):
            c.add_argument("--json", action="store_true", help="print the release metadata as JSON")
        if name == "status":
            c.add_argument("--max-age-hours", type=float,
                           help="exit 1 when the published release was computed longer ago than this")
        if name == "rollback":
            c.add_argument("--to", metavar="RUN_ID", help="the release to publish (default: the one "
                                                          "before the published one)")
        c.set_defaults(func=func)

    v = sub.add_parser("validate", help="compare random warehouse cells with the on-demand path")
    v.add_argument("--cases", type=int, default=200, help="number of cells to draw (default: %(default)s)")
    v.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    v.add_argument("--raw-dir", help="raw Parquet directory the warehouse was built from, for the on-demand "
                                     "side (default: $RAW_DATA_DIR or <project>/data/sample)")
    v.add_argument("--start", type=_iso_date, help="expected start_date (must equal the warehouse's)")
    v.add_argument("--as-of", type=_iso_date, help="expected as_of_date (must equal the warehouse's)")
    v.add_argument("--warehouse", help="DuckDB file (default as for run)")
    v.add_argument("--threshold", type=float, default=99.9,
                   help="minimum share of matching cells, in percent (default: %(default)s)")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("serve", help="run the read API over the published release (FastAPI, uvicorn)")
    s.add_argument("--warehouse", help="the published DuckDB path (default as for run)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    s.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    s.set_defaults(func=cmd_serve)

    from python_hooks.importers.command import add_import_parser
    add_import_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate" and args.cases < 1:
        print("precompute validate: --cases must be >= 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
