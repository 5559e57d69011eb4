"""``precompute``: the pipeline step's command line.

Subcommands::

    precompute run      [--raw-dir DIR | --source sqlite:PATH | --source csv:DIR] [--start DATE]
                        [--as-of DATE] [--vars YAML] [--warehouse PATH] [--gate-cases N] [--keep N]
                        [--progress auto|live|plain]
                        [--incremental [--full-build] [--max-touched-share S]]
    precompute status   [--warehouse PATH] [--json] [--max-age-hours H]
    precompute releases [--warehouse PATH] [--json]
    precompute rollback [--warehouse PATH] [--to RUN_ID]
    precompute validate [--cases N] [--seed S] [--raw-dir DIR] [--start DATE] [--as-of DATE]
                        [--warehouse FILE]
    precompute serve    [--warehouse PATH] [--host 127.0.0.1] [--port 8000]
    precompute generate OUT_DIR [--seed N] [--scale small|year] [--ads N] [--days N]
                        [--users-per-day N] [--start-date YYYY-MM-DD]
    precompute import   sqlite DB | mixpanel EXPORT.jsonl... | csv DIR  --out DIR  (python_hooks.importers)

``run`` checks the vars (exit 2 before dbt starts), then runs ``dbt build``
in-process (``python_hooks.dbt_runner``) into a private build file, shows the
progress of each node, runs the validation gate (``--gate-cases`` cells compared
with the on-demand path), and only when every gate passed copies the public
tables into a new release and publishes it atomically (``python_hooks.release``).
The run report goes to ``<target>/runs/<run id>/run_report.json`` (``<target>`` =
``$DBT_TARGET_PATH`` or ``<project>/target``) and, for a published run, into the
release directory too.

Exit codes of ``run``: 0 published; 1 a model, test or the validation gate
failed (nothing published); 2 bad arguments or vars; 3 the source contract is
broken (nothing built); 4 the gates passed but nothing was published (another
run holds the lock, or writing the release failed).

Paths: the published path is ``--warehouse`` > ``$PRECOMPUTE_WAREHOUSE`` >
``<project>/warehouse/ad_precompute.duckdb``; ``--raw-dir`` > ``$RAW_DATA_DIR`` >
``<project>/data/sample``. A relative path is resolved against the current
directory, and dbt always gets absolute paths.

``serve`` runs the read API (``python_hooks.serve``, FastAPI under uvicorn) over
the published release, read-only; it picks up a new release without a restart.

``run --incremental`` recomputes only the entity-days touched by the source rows
that changed since the published release (``python_hooks.incremental``), in a
copy of that release, and publishes through the same gates; it builds in full,
saying why, when it cannot (README "Incremental refresh").

``run --source KIND:PATH`` first imports the legacy SQLite database (or a CSV
directory) into the run's private build directory, then builds from there.

``validate`` compares a warehouse with the on-demand path; see ``python_hooks.validate``.
``generate`` is ``python -m python_hooks.generate`` (same arguments).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from python_hooks.progress import BuildProgress
from python_hooks.project import PROJECT_DIR, absolute as _abs, resolve_raw_dir, resolve_target_dir, resolve_warehouse

RUN_REPORT_NAME = "run_report.json"
VALIDATE_REPORT_NAME = "precompute_validate_report.json"


# --------------------------------------------------------------------------- paths


def _iso_date(value: str) -> str:
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


# --------------------------------------------------------------------------- run

# Exit codes of `precompute run` (README, "Exit codes").
EXIT_PUBLISHED = 0  # every gate passed and the new release is published
EXIT_FAILED = 1  # a model, a dbt test or the validation gate failed: nothing published
EXIT_USAGE = 2  # bad arguments or vars: dbt did not start
EXIT_SOURCES = 3  # the source contract is broken (missing / mistyped / empty source): nothing built
EXIT_NOT_PUBLISHED = 4  # the gates passed but no release was published (lock held, disk full, ...)


def _default_gate_cases() -> int:
    from python_hooks.validate import DEFAULT_GATE_CASES

    return DEFAULT_GATE_CASES


def _default_touched_share() -> float:
    from python_hooks.incremental import MAX_TOUCHED_SHARE

    return MAX_TOUCHED_SHARE


def _node_message(node: dict) -> str:
    return (node.get("message") or "").strip()


def cmd_run(a: argparse.Namespace) -> int:
    from python_hooks import run_vars
    from python_hooks.release import ReleaseStore, RunInProgress, new_run_id

    project_dir = _abs(a.project_dir)
    warehouse = resolve_warehouse(a.warehouse, project_dir)
    raw_dir = resolve_raw_dir(a.raw_dir, project_dir)
    target_dir = resolve_target_dir(project_dir)

    try:
        given = run_vars.parse_vars(a.vars)
        if a.start:
            given["start_date"] = a.start
        if a.as_of:
            given["as_of_date"] = a.as_of
        if a.source:  # checked now (exit 2); imported once the run holds the lock
            from python_hooks.importers.command import check_run_source
            check_run_source(a.source, given)
        given["raw_data_dir"] = str(_abs(given["raw_data_dir"])) if given.get("raw_data_dir") else str(raw_dir)
        dbt_vars = run_vars.check_vars(given, run_vars.project_var_defaults(project_dir))
    except run_vars.VarError as exc:
        print(f"precompute run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    raw_dir = Path(dbt_vars["raw_data_dir"])
    if warehouse.is_dir():
        print(f"precompute run: --warehouse {warehouse} is a directory; give the published file's path",
              file=sys.stderr)
        return EXIT_USAGE
    if not 0 < a.max_touched_share <= 1:
        print("precompute run: --max-touched-share must be in (0, 1]", file=sys.stderr)
        return EXIT_USAGE
    if a.gate_cases < 0 or a.keep < 1:
        print("precompute run: --gate-cases must be >= 0 and --keep >= 1", file=sys.stderr)
        return EXIT_USAGE

    store = ReleaseStore(warehouse)
    run_id = new_run_id()
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        with store.lock():
            return _run_locked(a, store, run_id, project_dir, raw_dir, target_dir, dbt_vars)
    except RunInProgress as exc:
        print(f"precompute run: {exc}", file=sys.stderr)
        return EXIT_NOT_PUBLISHED


def _run_locked(a: argparse.Namespace, store: Any, run_id: str, project_dir: Path, raw_dir: Path,
                target_dir: Path, dbt_vars: dict[str, Any]) -> int:
    from python_hooks import report as rep
    from python_hooks.dbt_runner import node_results, run_dbt
    from python_hooks.incremental import project_fingerprint, snapshot_files
    from python_hooks.project import contract_tables
    from python_hooks.release import ReleaseDelta, release_age, source_fingerprints

    out = sys.stdout
    run_dir = target_dir / "runs" / run_id
    store.remove_partial_releases()
    build_file = store.new_build_file(run_id)
    imported = None
    if a.source:  # --source: import into the run's private build directory, then build from there
        from python_hooks.importers.command import import_for_run
        # by the build's stable path, so that raw_data_dir is the same var in every run (D74)
        imported = import_for_run(a.source, store.current_build.parent / "source", out)
        if isinstance(imported, int):  # 3 unreadable (as a broken source contract), 1 failed
            return imported
        raw_dir, dbt_vars = imported.raw_dir, {**dbt_vars, "raw_data_dir": str(imported.raw_dir)}
    previous = store.published_run_id()
    live = a.progress == "live" or (a.progress == "auto" and sys.stdout.isatty())
    args = ["build", "--target-path", str(target_dir)]

    started_at = _dt.datetime.now(_dt.timezone.utc)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    errors: list[str] = []
    warnings: list[str] = []
    tables = sorted(contract_tables(project_dir))
    plan, incremental = None, {"requested": bool(a.incremental)}
    if a.incremental:
        plan, incremental["full_build_reason"] = _plan_incremental(a, store, raw_dir, dbt_vars, project_dir,
                                                                   tables, out)
        timings["plan_seconds"] = time.monotonic() - t0
    result = None
    parse = DbtParse()
    while True:
        build_vars = dbt_vars
        if plan is not None:
            build_vars = {**dbt_vars, "incremental_scope_dir": str(plan.scope_dir)}
            start_from_release(store, plan.previous_run_id, build_file)
        print(f"precompute run {run_id}: dbt build{' (incremental)' if plan else ''}  project {project_dir}",
              file=out)
        print(f"  publishes {store.path}\n  builds in {build_file}\n  raw data  {raw_dir}\n"
              f"  vars      {build_vars}", file=out, flush=True)
        # unit tests check the formulas on fixture rows, not the data: the project is
        # unchanged since the release they passed for (the plan checks its fingerprint),
        # and their fixtures have no rows for the scope models (D82)
        build_args = args + (["--exclude-resource-type", "unit_test"] if plan is not None else [])
        if getattr(a, "replay_without_dbt_tests", False):  # pytests/test_incremental_replay.py only (D83)
            build_args = args + ["--exclude-resource-type", "test", "unit_test"]
        t_build = time.monotonic()
        with BuildProgress(out, live=live) as progress:
            try:
                result = run_dbt(build_args, project_dir=project_dir, vars=build_vars,
                                 env={"DUCKDB_PATH": str(store.current_build)},
                                 on_event=parse.watching(progress.handle))
            except Exception as exc:  # noqa: BLE001 - dbt raising outside its own handling: still report
                errors.append(f"{type(exc).__name__}: {exc}")
        timings["build_seconds"] = time.monotonic() - t_build
        mismatch = plan is not None and result is not None and result.success and \
            window_mismatch(build_file, plan.window)
        if not mismatch:
            break
        # the window the plan assumed is not the build's (start_date moved, as_of_date
        # from a rejected row): the touched days are unknown, so build everything
        incremental["full_build_reason"] = f"the window changed in a way the plan did not expect: {mismatch}"
        print(f"precompute run: full build: {incremental['full_build_reason']}", file=out, flush=True)
        plan, result = None, None
        build_file.unlink()
        build_file = store.new_build_file(run_id)
    incremental["incremental"] = plan is not None
    if plan is not None:
        incremental.update(plan.summary())
        incremental["keys_recomputed"] = scope_size(build_file)
    _keep_run_results(target_dir, run_dir)  # before `dbt compile` (publishing) overwrites it

    if result is not None and result.exception is not None:
        errors.append(str(result.exception))
    nodes = [asdict(n) for n in node_results(result)] if result is not None else []
    for n in nodes:
        sql = n.pop("compiled_code", None)
        if n["resource_type"] == "test" and n["status"] in ("fail", "warn"):
            n["failing_rows_sample"] = rep.failing_rows_sample(build_file, sql)
    built = {n["name"] for n in nodes if n["resource_type"] == "model" and n["status"] == "success"}
    facts = rep.read_warehouse_facts(build_file, built)

    hook_failed = any(n["resource_type"] == "operation" and n["status"] == "error" for n in nodes) or (
        not nodes and any("Source contract violated" in e for e in errors))
    any_failed = any(n["status"] in ("error", "fail") for n in nodes)
    build_ok = result is not None and result.success and not any_failed and not errors
    gates: dict[str, Any] = {"dbt": rep.summarize_tests(nodes)["counts"] | {"passed": build_ok}}

    window = facts.get("window") or {}
    if build_ok and window.get("last_source_date") and window["as_of_date"] > window["last_source_date"]:
        warnings.append(f"as_of_date {window['as_of_date']} is later than the last source date "
                        f"{window['last_source_date']}: the days after it have no data yet")

    validation = None
    if build_ok and a.gate_cases:
        from python_hooks import validate
        t1 = time.monotonic()
        validation = validate.run_gate(warehouse=build_file, cases=a.gate_cases, seed=a.gate_seed,
                                       raw_dir=raw_dir)
        timings["validate_seconds"] = time.monotonic() - t1
        gates["validate"] = validation
    gates_passed = build_ok and (validation is None or validation["passed"])

    published = False
    publish_error = None
    metadata: dict[str, Any] = {}
    if gates_passed:
        t2 = time.monotonic()
        try:
            metadata = {
                "run_id": run_id,
                "project_fingerprint": project_fingerprint(project_dir),
                "incremental": rep.jsonable(incremental),
                "computed_at": _computed_at(build_file),
                "released_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "window": rep.jsonable(window),
                "raw_data_dir": str(raw_dir),
                "vars": dbt_vars,
                "source_fingerprints": source_fingerprints(raw_dir, tables),
                "imported_from": imported.metadata if imported else None,
                "gates": rep.jsonable(gates),
                "previous_run_id": previous,
            }
            timings["fingerprint_seconds"] = time.monotonic() - t2
            t_compile = time.monotonic()
            if plan is not None:  # same project (the plan checked its fingerprint): same compiled SQL
                queries = release_queries(store, plan.previous_run_id)
            else:
                queries = compile_read_queries(project_dir, target_dir, store.current_build, dbt_vars)
            timings["compile_queries_seconds"] = time.monotonic() - t_compile
            t3 = time.monotonic()
            delta = None
            if plan is not None:  # copy the release the build started from, replace the touched keys
                delta = ReleaseDelta(plan.previous_run_id, incremental_models(target_dir))
            release_file = store.export(build_file, run_id, metadata, queries=queries,
                                        inputs=snapshot_files(raw_dir, tables), delta=delta)
            timings["export_seconds"] = time.monotonic() - t3
            t4 = time.monotonic()
            store.publish(run_id)
            timings["publish_seconds"] = time.monotonic() - t4
            published = True
            metadata = store.metadata(run_id)  # as written into the release, with its row counts
            metadata["pruned"] = store.prune(a.keep)
            metadata["release_file"] = str(release_file)
            metadata["release_bytes"] = release_file.stat().st_size
        except Exception as exc:  # noqa: BLE001 - disk full, permissions: report, keep the old release
            publish_error = f"{type(exc).__name__}: {exc}"
            errors.append("could not publish the release: " + publish_error)
        timings["release_seconds"] = time.monotonic() - t2
    timings["total_seconds"] = time.monotonic() - t0

    if published:
        status, exit_code = "published", EXIT_PUBLISHED
    elif hook_failed:
        status, exit_code = "source_contract_violated", EXIT_SOURCES
    elif gates_passed:
        status, exit_code = "not_published", EXIT_NOT_PUBLISHED
    else:
        status, exit_code = ("failed" if nodes or validation else "error"), EXIT_FAILED

    report: dict[str, Any] = {
        "run_id": run_id,
        "status": status,
        "exit_code": exit_code,
        "published": published,
        "published_path": store.path,
        "published_run_id": store.published_run_id(),
        "previous_run_id": previous,
        "started_at": started_at,
        "finished_at": _dt.datetime.now(_dt.timezone.utc),
        "elapsed_seconds": round(timings["total_seconds"], 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "project_dir": project_dir,
        "warehouse": store.path,
        "build_file": build_file,
        "raw_data_dir": raw_dir,
        "vars": dbt_vars,
        "dbt_args": args,
        "incremental": incremental,
        "dbt_parse": parse.summary(),
        "window": window or None,
        "entities": facts["entities"],
        "rows": facts["rows"],
        "rejects": facts["rejects"],
        "data_quality_score": facts["data_quality_score"],
        "tables_not_built": facts["not_built"],
        "tests": rep.summarize_tests(nodes),
        "gates": gates,
        "release": metadata or None,
        "nodes": nodes,
        "errors": errors,
        "warnings": warnings,
        "warehouse_read_error": facts["read_error"],
        "report_path": run_dir / RUN_REPORT_NAME,
    }
    try:
        rep.write_json(run_dir / RUN_REPORT_NAME, report)
        if published:
            store.write_run_report(run_id, rep.jsonable(report))
    except OSError as exc:
        print(f"precompute: cannot write the run report {run_dir}: {exc}", file=sys.stderr)
    print(rep.format_summary(report), file=out, flush=True)
    for w in warnings:
        print(f"precompute run: warning: {w}", file=sys.stderr, flush=True)
    if exit_code != EXIT_PUBLISHED:  # the causes are in the summary above; one line for logs that keep stderr
        first = (errors[0].strip().splitlines() or [""])[0] if errors else ""
        print(f"precompute run: {status} (exit {exit_code}), nothing published"
              + (f": {first[:300]}" if first else "; see the summary on stdout"), file=sys.stderr, flush=True)
    if published:
        age = release_age(metadata)
        print(f"published   {store.path} -> release {run_id} (computed_at {metadata['computed_at']}, "
              f"age {age.total_seconds():.0f}s)" if age else f"published   {store.path} -> {run_id}",
              file=out, flush=True)
    else:
        kept = store.published_run_id()
        print(f"not published: {store.path} still serves "
              f"{'release ' + kept if kept else 'no release (nothing published yet)'}", file=out, flush=True)
    return exit_code


def _plan_incremental(a: argparse.Namespace, store: Any, raw_dir: Path, dbt_vars: dict[str, Any],
                      project_dir: Path, tables: list[str], out: Any) -> tuple[Any, str | None]:
    """The incremental plan of ``run --incremental``, or (None, why the run builds in full)."""
    from python_hooks.incremental import FullBuild, plan_incremental

    if a.full_build or os.environ.get("PRECOMPUTE_FULL_BUILD", "").strip() not in ("", "0"):
        reason = "forced (--full-build or PRECOMPUTE_FULL_BUILD)"
    else:
        try:
            plan = plan_incremental(store, raw_dir, dbt_vars, project_dir, tables, store.build_root / "scope",
                                    max_touched_share=a.max_touched_share)
        except FullBuild as exc:
            reason = str(exc)
        else:
            t = plan.touched
            print(f"precompute run: incremental since release {plan.previous_run_id}: "
                  f"{t['touched_users']:,d} users, {t['touched_ad_days']:,d} Meta ad-days, "
                  f"{t['touched_entity_ids']:,d} remapped ids, {t['touched_dates']:,d} whole days, "
                  f"{t['touched_keys']:,d} previous entity-days touched", file=out, flush=True)
            return plan, None
    print(f"precompute run: full build: {reason}", file=out, flush=True)
    return None, reason


class DbtParse:
    """How dbt parsed the project for the build: ``partial`` (its saved parse reused) or
    ``full``, with dbt's reasons (run report ``dbt_parse``; D74)."""

    def __init__(self) -> None:
        self.partial = False
        self.reasons: list[str] = []

    def watching(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """``handler``, also noting dbt's partial-parsing events."""
        def on_event(ev: Any) -> None:
            if ev.name in ("PartialParsingSkipParsing", "PartialParsingEnabled"):
                self.partial = True
            elif ev.name == "UnableToPartialParse":
                self.reasons.append(ev.message)
            handler(ev)
        return on_event

    def summary(self) -> dict[str, Any]:
        partial = self.partial and not self.reasons
        return {"partial": partial, "reasons": self.reasons if not partial else []}


def start_from_release(store: Any, run_id: str, build_file: Path) -> None:
    """Make ``build_file`` a writable copy of a release's tables (the marts the
    incremental run refreshes in place), without the release's own metadata tables."""
    import duckdb

    from python_hooks.release import METADATA_TABLE, QUERIES_TABLE

    build_file.unlink(missing_ok=True)
    shutil.copyfile(store.release_file(run_id), build_file)
    os.chmod(build_file, 0o644)
    con = duckdb.connect(str(build_file))
    try:
        for table in (METADATA_TABLE, QUERIES_TABLE):
            con.execute(f"drop table if exists main.{table}")
    finally:
        con.close()


def window_mismatch(build_file: Path, window: dict[str, Any]) -> str | None:
    """How the build's window differs from the one an incremental plan assumed (None: equal)."""
    import duckdb

    con = duckdb.connect(str(build_file), read_only=True)
    try:
        start, as_of, trial_days = con.execute(
            "select start_date, as_of_date, trial_days from main.int_reporting_window_resolved").fetchone()
    finally:
        con.close()
    built = {"start_date": start.isoformat(), "as_of_date": as_of.isoformat(), "trial_days": int(trial_days)}
    if built == window:
        return None
    return f"planned {window}, built {built}"


def scope_size(build_file: Path) -> int | None:
    """Entity-days an incremental build recomputed (rows of int_incremental_keys_touched)."""
    import duckdb

    con = duckdb.connect(str(build_file), read_only=True)
    try:
        return con.execute("select count(*) from main.int_incremental_keys_touched").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def incremental_models(target_dir: Path) -> tuple[str, ...]:
    """The models the build refreshed by delete+insert (materialized incremental), from its manifest."""
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    return tuple(sorted(node["name"] for node in manifest["nodes"].values()
                        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"))


def _keep_run_results(target_dir: Path, run_dir: Path) -> None:
    """Copy dbt's run_results.json of the build next to the run report."""
    try:
        if (target_dir / "run_results.json").is_file():
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target_dir / "run_results.json", run_dir / "run_results.json")
    except OSError as exc:
        print(f"precompute: cannot copy run_results.json into {run_dir}: {exc}", file=sys.stderr)


def compile_read_queries(project_dir: Path, target_dir: Path, build_file: Path,
                         dbt_vars: dict[str, Any]) -> dict[str, str]:
    """``dbt compile`` the analyses (the read API's SQL) against the build; name -> compiled SQL.

    The compiled SQL qualifies tables with the build file's catalog name, which is
    the release file's too (same file name), so it runs unchanged on the release.
    Stored in the release (``precompute_queries``) by ``ReleaseStore.export``.
    """
    from python_hooks.dbt_runner import run_dbt

    folder = target_dir / "compiled" / "ad_precompute" / "analyses"
    shutil.rmtree(folder, ignore_errors=True)  # no stale file of a removed analysis
    result = run_dbt(["compile", "--select", "resource_type:analysis", "--target-path", str(target_dir)],
                     project_dir=project_dir, vars=dbt_vars, env={"DUCKDB_PATH": str(build_file)})
    if not result.success:
        raise RuntimeError(f"dbt compile of the analyses failed: {result.exception}")
    queries = {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.sql"))}
    if not queries:
        raise RuntimeError(f"dbt compile wrote no analyses under {folder}")
    return queries


def release_queries(store: Any, run_id: str) -> dict[str, str]:
    """The compiled read queries a release holds (``precompute_queries``)."""
    import duckdb

    from python_hooks.release import QUERIES_TABLE

    con = duckdb.connect(str(store.release_file(run_id)), read_only=True)
    try:
        return dict(con.execute(f"select name, sql from main.{QUERIES_TABLE}").fetchall())
    finally:
        con.close()


def _computed_at(build_file: Path) -> str | None:
    import duckdb

    con = duckdb.connect(str(build_file), read_only=True)
    try:
        value = con.execute("select max(computed_at) from main.entity_daily_metrics").fetchone()[0]
    finally:
        con.close()
    return value.isoformat() if value is not None else None


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
        print(f"            -> {os.readlink(store.path)}")
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
    p = argparse.ArgumentParser(prog="precompute", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project-dir", default=str(PROJECT_DIR),
                   help="the dbt project (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,status,releases,rollback,validate,serve,generate,import}")

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
    r.add_argument("--gate-cases", type=int, default=_default_gate_cases(),
                   help="cells compared with the on-demand path before publishing; 0 skips this gate "
                        "(default: %(default)s)")
    r.add_argument("--gate-seed", type=int, default=0, help="seed of the gate's cell draw (default: 0)")
    r_mode = r.add_argument_group("incremental refresh (DuckDB only; README \"Incremental refresh\")")
    r_mode.add_argument("--incremental", action="store_true",
                        help="recompute only the entity-days touched by the source rows that changed since "
                             "the published release; builds in full when that is not possible or would not "
                             "win, and says why")
    r_mode.add_argument("--full-build", action="store_true",
                        help="build everything even with --incremental (as does env PRECOMPUTE_FULL_BUILD=1)")
    r_mode.add_argument("--max-touched-share", type=float, default=_default_touched_share(),
                        help="with --incremental: build in full when more than this share of the users, Meta "
                             "ad-days, window days or entities is touched (default: %(default)s)")
    r.add_argument("--keep", type=int, default=3, help="releases kept next to the published path "
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

    sub.add_parser("generate", help="write a synthetic source data set (python -m python_hooks.generate)",
                   add_help=False)

    from python_hooks.importers.command import add_import_parser
    add_import_parser(sub)
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
