"""The daily run (``precompute run``): plan, build, gate, publish, report.

:func:`run` takes :class:`RunSettings` and returns a :class:`RunResult`; the
command line (``python_hooks.cli``) only turns its arguments into settings and
prints the result. Each stage is one function:

* :func:`plan`: check the settings and the dbt vars, before anything starts
  (a wrong var is exit 2 in milliseconds, not a dbt compilation error);
* :func:`build`: ``dbt build`` in-process (``python_hooks.dbt_runner``) into the
  run's private build file, with the progress of each node; with ``source``, the
  import into the run's private directory comes first;
* :func:`gate`: every dbt test passed, and ``gate_cases`` cells compared with the
  on-demand path (``python_hooks.validate``) match;
* :func:`publish`: only when every gate passed, copy the public tables into a new
  release and publish it atomically (``python_hooks.release``);
* :func:`report`: the run report, in ``<target>/runs/<run id>/run_report.json``
  and, for a published run, in the release directory too.

:func:`run` holds the release lock from the build to the report: a second run
on the same published path stops with exit 4 instead of waiting.

Exit codes: 0 published; 1 a model, test or the validation gate failed
(nothing published); 2 bad settings or vars; 3 the source contract is broken
(nothing built); 4 the gates passed but nothing was published (another run
holds the lock, or writing the release failed).
"""

from __future__ import annotations

import datetime as _dt
import shutil
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from python_hooks import report as rep
from python_hooks import run_vars
from python_hooks.progress import BuildProgress
from python_hooks.project import absolute, contract_tables
from python_hooks.release import (
    DEFAULT_KEEP,
    ReleaseStore,
    RunInProgress,
    new_run_id,
    source_fingerprints,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_PUBLISHED",
    "EXIT_PUBLISHED",
    "EXIT_SOURCES",
    "EXIT_USAGE",
    "RunResult",
    "RunSettings",
    "run",
]

EXIT_PUBLISHED = 0  # every gate passed and the new release is published
EXIT_FAILED = 1  # a model, a dbt test or the validation gate failed: nothing published
EXIT_USAGE = 2  # bad arguments or vars: dbt did not start
EXIT_SOURCES = 3  # the source contract is broken (missing / mistyped / empty source): nothing built
EXIT_NOT_PUBLISHED = 4  # the gates passed but no release was published (lock held, disk full, ...)

RUN_REPORT_NAME = "run_report.json"


def default_gate_cases() -> int:
    from python_hooks.validate import DEFAULT_GATE_CASES

    return DEFAULT_GATE_CASES


@dataclass(frozen=True)
class RunSettings:
    """What one run is asked to do. Paths are absolute (``python_hooks.project`` resolves them)."""

    project_dir: Path  # the dbt project
    warehouse: Path  # the published path
    raw_dir: Path  # the source directory, unless var raw_data_dir or ``source`` names another
    target_dir: Path  # dbt's target path; the run report goes to <target_dir>/runs/<run id>/
    vars: Mapping[str, Any] = field(default_factory=dict)  # dbt vars as given (start_date, as_of_date, ...)
    source: str | None = None  # KIND:PATH (sqlite:..., csv:...) to import before the build
    gate_cases: int = field(default_factory=default_gate_cases)  # 0 skips the on-demand gate
    gate_seed: int = 0
    keep: int = DEFAULT_KEEP  # releases kept next to the published path
    live_progress: bool = False  # one live status line instead of a line per node


@dataclass(frozen=True)
class RunResult:
    """How a run ended."""

    exit_code: int
    run_id: str | None = None  # None: stopped before it had one (bad settings)
    report: dict[str, Any] | None = None  # the run report; None: stopped before its build
    error: str | None = None  # why it stopped before its build (bad settings, the lock held)


class SettingsError(ValueError):
    """Settings or vars that the run refuses before it starts (exit 2)."""


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Plan:
    settings: RunSettings
    run_id: str
    store: ReleaseStore
    raw_dir: Path
    dbt_vars: dict[str, Any]  # checked; raw_data_dir always set, absolute

    @property
    def run_dir(self) -> Path:
        return self.settings.target_dir / "runs" / self.run_id


def plan(settings: RunSettings) -> Plan:
    """Check the settings and the vars; raises :class:`SettingsError`."""
    given = dict(settings.vars)
    try:
        if settings.source:  # checked now; imported once the run holds the lock
            from python_hooks.importers.command import check_run_source
            check_run_source(settings.source, given)
        given["raw_data_dir"] = str(absolute(given["raw_data_dir"]) if given.get("raw_data_dir")
                                    else settings.raw_dir)
        dbt_vars = run_vars.check_vars(given, run_vars.project_var_defaults(settings.project_dir))
    except run_vars.VarError as exc:
        raise SettingsError(str(exc)) from None
    if settings.warehouse.is_dir():
        raise SettingsError(f"--warehouse {settings.warehouse} is a directory; give the published file's path")
    if settings.gate_cases < 0 or settings.keep < 1:
        raise SettingsError("--gate-cases must be >= 0 and --keep >= 1")
    return Plan(settings, new_run_id(), ReleaseStore(settings.warehouse), Path(dbt_vars["raw_data_dir"]),
                dbt_vars)


# --------------------------------------------------------------------------- build


class DbtParse:
    """How dbt parsed the project for the build: ``partial`` (its saved parse reused) or
    ``full``, with dbt's reasons (run report ``dbt_parse``)."""

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


@dataclass(frozen=True)
class Build:
    """What the build stage made: the build file, its nodes and what it holds."""

    build_file: Path
    raw_dir: Path
    dbt_vars: dict[str, Any]
    dbt_args: list[str]
    imported: Any  # python_hooks.importers.command.RunSource of --source, or None
    previous_run_id: str | None  # the release published when the run started
    started_at: _dt.datetime
    started: float  # time.monotonic() at the start
    seconds: float
    dbt_parse: dict[str, Any]
    nodes: list[dict[str, Any]]
    facts: dict[str, Any]  # python_hooks.report.read_warehouse_facts of the build file
    errors: list[str]
    success: bool  # dbt's own verdict

    @property
    def source_contract_violated(self) -> bool:
        return any(n["resource_type"] == "operation" and n["status"] == "error" for n in self.nodes) or (
            not self.nodes and any("Source contract violated" in e for e in self.errors))

    @property
    def ok(self) -> bool:
        return self.success and not self.errors and not any(n["status"] in ("error", "fail") for n in self.nodes)


def build(p: Plan, out: TextIO) -> Build | int:
    """``dbt build`` into a new private build file; an exit code when ``source`` cannot be imported."""
    from python_hooks.dbt_runner import node_results, run_dbt

    store, raw_dir, dbt_vars = p.store, p.raw_dir, p.dbt_vars
    store.remove_partial_releases()
    build_file = store.new_build_file(p.run_id)
    imported = None
    if p.settings.source:
        from python_hooks.importers.command import import_for_run
        imported = import_for_run(p.settings.source, store.current_source_dir, out)
        if isinstance(imported, int):  # 3 unreadable (as a broken source contract), 1 failed
            return imported
        raw_dir, dbt_vars = imported.raw_dir, {**dbt_vars, "raw_data_dir": str(imported.raw_dir)}
    previous = store.published_run_id()
    # the data-quality checks' warn test is for a plain `dbt build`: the run reports the checks themselves
    args = ["build", "--exclude", f"test_name:{rep.QUALITY_TEST}", "--target-path", str(p.settings.target_dir)]

    started_at = _dt.datetime.now(_dt.timezone.utc)
    started = time.monotonic()
    errors: list[str] = []
    print(f"precompute run {p.run_id}: dbt build  project {p.settings.project_dir}", file=out)
    print(f"  publishes {store.path}\n  builds in {build_file}\n  raw data  {raw_dir}\n"
          f"  vars      {dbt_vars}", file=out, flush=True)
    result = None
    parse = DbtParse()
    with BuildProgress(out, live=p.settings.live_progress) as progress:
        try:
            # dbt writes the build by a path that is the same in every run (its saved parse is reused)
            result = run_dbt(args, project_dir=p.settings.project_dir, vars=dbt_vars,
                             env={"DUCKDB_PATH": str(store.current_build)},
                             on_event=parse.watching(progress.handle))
        except Exception as exc:  # noqa: BLE001 - dbt raising outside its own handling: still report
            errors.append(f"{type(exc).__name__}: {exc}")
    seconds = time.monotonic() - started
    _keep_run_results(p.settings.target_dir, p.run_dir)  # before `dbt compile` (publishing) overwrites it

    if result is not None and result.exception is not None:
        errors.append(str(result.exception))
    nodes = [asdict(n) for n in node_results(result)] if result is not None else []
    for n in nodes:
        sql = n.pop("compiled_code", None)
        if n["resource_type"] == "test" and n["status"] in ("fail", "warn"):
            n["failing_rows_sample"] = rep.failing_rows_sample(build_file, sql)
    built = {n["name"] for n in nodes if n["resource_type"] == "model" and n["status"] == "success"}
    return Build(build_file=build_file, raw_dir=raw_dir, dbt_vars=dbt_vars, dbt_args=args, imported=imported,
                 previous_run_id=previous, started_at=started_at, started=started, seconds=seconds,
                 dbt_parse=parse.summary(), nodes=nodes, facts=rep.read_warehouse_facts(build_file, built),
                 errors=errors, success=result is not None and result.success)


def _keep_run_results(target_dir: Path, run_dir: Path) -> None:
    """Copy dbt's run_results.json of the build next to the run report."""
    try:
        if (target_dir / "run_results.json").is_file():
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target_dir / "run_results.json", run_dir / "run_results.json")
    except OSError as exc:
        print(f"precompute: cannot copy run_results.json into {run_dir}: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------- gate


@dataclass(frozen=True)
class Gates:
    results: dict[str, Any]  # "dbt": the test counts and verdict; "validate": the on-demand comparison
    passed: bool
    warnings: list[str]
    validate_seconds: float | None  # None: the on-demand gate did not run


def gate(p: Plan, b: Build) -> Gates:
    """Every dbt test passed (the build), then ``gate_cases`` cells match the on-demand path."""
    from python_hooks import validate

    results: dict[str, Any] = {"dbt": rep.summarize_tests(b.nodes)["counts"] | {"passed": b.ok}}
    warnings = []
    window = b.facts.get("window") or {}
    if b.ok and window.get("last_source_date") and window["as_of_date"] > window["last_source_date"]:
        warnings.append(f"as_of_date {window['as_of_date']} is later than the last source date "
                        f"{window['last_source_date']}: the days after it have no data yet")
    validation, seconds = None, None
    if b.ok and p.settings.gate_cases:
        started = time.monotonic()
        validation = validate.run_gate(warehouse=b.build_file, cases=p.settings.gate_cases,
                                       seed=p.settings.gate_seed, raw_dir=b.raw_dir)
        seconds = time.monotonic() - started
        results["validate"] = validation
    return Gates(results, b.ok and (validation is None or validation["passed"]), warnings, seconds)


# --------------------------------------------------------------------------- publish


@dataclass(frozen=True)
class Publication:
    published: bool
    metadata: dict[str, Any]  # the release's metadata (release.json) and where it is; {} when none was made
    error: str | None  # why publishing failed
    timings: dict[str, float]


def _timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.monotonic()
    return function(*args), time.monotonic() - started


def _compiled(p: Plan) -> dict[str, str] | Exception:
    """The read queries (``compile_read_queries``), or why they could not be compiled."""
    try:
        return compile_read_queries(p.settings.project_dir, p.settings.target_dir, p.store.current_build,
                                    p.dbt_vars)
    except Exception as exc:  # noqa: BLE001 - reported by publish, which then keeps the old release
        return exc


def publish(p: Plan, b: Build, g: Gates, compiled: tuple[dict[str, str] | Exception, float],
            serving: Future) -> Publication:
    """Make a release of the build and publish it; the previous release stays published on any error.

    ``compiled``: the read queries (``_timed`` ``_compiled``). ``serving``: the serving copy being
    written beside the gate and the export (``_timed`` ``write_serving_copy``).
    """
    store, timings = p.store, {}
    started = time.monotonic()
    metadata: dict[str, Any] = {}
    try:
        metadata = {
            "run_id": p.run_id,
            "computed_at": _computed_at(b.build_file),
            "released_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "window": rep.jsonable(b.facts.get("window") or {}),
            "raw_data_dir": str(b.raw_dir),
            "vars": p.dbt_vars,
            "source_fingerprints": source_fingerprints(b.raw_dir, sorted(contract_tables(p.settings.project_dir))),
            "imported_from": b.imported.metadata if b.imported else None,
            "gates": rep.jsonable(g.results),
            "previous_run_id": b.previous_run_id,
        }
        timings["fingerprint_seconds"] = time.monotonic() - started
        queries, timings["compile_queries_seconds"] = compiled
        if isinstance(queries, Exception):
            raise queries

        def serving_copy() -> Path:  # export asks for it once the DuckDB file is written
            waited = time.monotonic()
            path, timings["serving_copy_seconds"] = serving.result()
            timings["serving_copy_wait_seconds"] = time.monotonic() - waited
            return path

        t = time.monotonic()
        release_file = store.export(b.build_file, p.run_id, metadata, serving_copy, queries=queries)
        timings["export_seconds"] = time.monotonic() - t - timings["serving_copy_wait_seconds"]
        t = time.monotonic()
        store.publish(p.run_id)
        timings["publish_seconds"] = time.monotonic() - t
    except Exception as exc:  # noqa: BLE001 - disk full, permissions: report, keep the old release
        timings["release_seconds"] = time.monotonic() - started
        return Publication(False, metadata, f"{type(exc).__name__}: {exc}", timings)
    metadata = store.metadata(p.run_id)  # as written into the release, with its row counts
    metadata["pruned"] = store.prune(p.settings.keep)
    metadata["release_file"] = str(release_file)
    metadata["release_bytes"] = release_file.stat().st_size
    timings["release_seconds"] = time.monotonic() - started
    return Publication(True, metadata, None, timings)


def compile_read_queries(project_dir: Path, target_dir: Path, build_file: Path,
                         dbt_vars: dict[str, Any]) -> dict[str, str]:
    """``dbt compile`` the analyses (the read API's SQL) against the build; name -> compiled SQL.

    The compiled SQL qualifies tables with the build file's catalog name, which is
    the release file's too (same file name), so it runs unchanged on the release.
    Stored in the release by ``ReleaseStore.export``.
    """
    from python_hooks.dbt_runner import run_dbt

    folder = target_dir / "compiled" / "ad_precompute" / "analyses"
    shutil.rmtree(folder, ignore_errors=True)  # no stale file of a removed analysis
    result = run_dbt(["compile", "--select", "resource_type:analysis", "--target-path", str(target_dir)],
                     project_dir=project_dir, vars=dbt_vars, env={"DUCKDB_PATH": str(build_file)})
    if not result.success:
        raise RuntimeError(f"dbt compile of the analyses failed: {result.exception}")
    # analyses/serving/: the SQLite versions of the keyed queries (serving_<name>)
    queries = {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.sql"))}
    if not queries:
        raise RuntimeError(f"dbt compile wrote no analyses under {folder}")
    return queries


def _computed_at(build_file: Path) -> str | None:
    import duckdb

    con = duckdb.connect(str(build_file), read_only=True)
    try:
        value = con.execute("select max(computed_at) from main.entity_daily_metrics").fetchone()[0]
    finally:
        con.close()
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------- report


def report(p: Plan, b: Build, g: Gates, pub: Publication | None) -> RunResult:
    """The run report, written to ``<target>/runs/<run id>/`` (and into the published release)."""
    timings = {"build_seconds": b.seconds}
    if g.validate_seconds is not None:
        timings["validate_seconds"] = g.validate_seconds
    timings |= pub.timings if pub else {}
    timings["total_seconds"] = time.monotonic() - b.started
    errors = list(b.errors)
    if pub and pub.error:
        errors.append("could not publish the release: " + pub.error)
    published = bool(pub and pub.published)

    if published:
        status, exit_code = "published", EXIT_PUBLISHED
    elif b.source_contract_violated:
        status, exit_code = "source_contract_violated", EXIT_SOURCES
    elif g.passed:
        status, exit_code = "not_published", EXIT_NOT_PUBLISHED
    else:
        status, exit_code = ("failed" if b.nodes or "validate" in g.results else "error"), EXIT_FAILED

    store, facts = p.store, b.facts
    run_report: dict[str, Any] = {
        "run_id": p.run_id,
        "status": status,
        "exit_code": exit_code,
        "published": published,
        "published_path": store.path,
        "published_run_id": store.published_run_id(),
        "previous_run_id": b.previous_run_id,
        "started_at": b.started_at,
        "finished_at": _dt.datetime.now(_dt.timezone.utc),
        "elapsed_seconds": round(timings["total_seconds"], 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "project_dir": p.settings.project_dir,
        "warehouse": store.path,
        "build_file": b.build_file,
        "raw_data_dir": b.raw_dir,
        "vars": p.dbt_vars,
        "dbt_args": b.dbt_args,
        "dbt_parse": b.dbt_parse,
        "window": facts.get("window") or None,
        "entities": facts["entities"],
        "rows": facts["rows"],
        "rejects": facts["rejects"],
        "data_quality_score": facts["data_quality_score"],
        # each source table's rows and dates, and the data-quality checks (warnings never block)
        "sources": facts.get("sources"),
        "data_quality_checks": facts.get("data_quality_checks"),
        "tables_not_built": facts["not_built"],
        "tests": rep.summarize_tests(b.nodes),
        "gates": g.results,
        "release": (pub.metadata if pub else None) or None,
        "nodes": b.nodes,
        "errors": errors,
        "warnings": g.warnings + ["data quality: " + w
                                  for w in rep.quality_warnings(facts.get("data_quality_checks"))],
        "warehouse_read_error": facts["read_error"],
        "report_path": p.run_dir / RUN_REPORT_NAME,
    }
    try:
        rep.write_json(p.run_dir / RUN_REPORT_NAME, run_report)
        if published:
            store.write_run_report(p.run_id, rep.jsonable(run_report))
    except OSError as exc:
        print(f"precompute: cannot write the run report {p.run_dir}: {exc}", file=sys.stderr)
    return RunResult(exit_code, p.run_id, run_report)


# --------------------------------------------------------------------------- the run


def run(settings: RunSettings, out: TextIO | None = None) -> RunResult:
    """One daily run: plan, then, holding the release lock, build, gate, publish and report.

    ``out`` gets the progress of the run (default: ``sys.stdout``); the summary is
    the caller's to print (``RunResult.report``, ``python_hooks.report.format_summary``).
    """
    out = out or sys.stdout
    try:
        p = plan(settings)
    except SettingsError as exc:
        return RunResult(EXIT_USAGE, error=str(exc))
    try:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with p.store.lock():
            b = build(p, out)
            if isinstance(b, int):
                return RunResult(b, p.run_id)
            with ThreadPoolExecutor(max_workers=1) as pool:
                # dbt compile opens the build for writing, which DuckDB refuses while another
                # connection reads it: the read queries are compiled first. The serving copy only
                # reads the build, as the gate and the export do: it is written beside them.
                compiled = _timed(_compiled, p) if b.ok else None
                serving = pool.submit(_timed, p.store.write_serving_copy, b.build_file, p.run_id) if b.ok \
                    else None
                g = gate(p, b)
                pub = publish(p, b, g, compiled, serving) if g.passed and compiled and serving else None
            return report(p, b, g, pub)
    except RunInProgress as exc:
        return RunResult(EXIT_NOT_PUBLISHED, p.run_id, error=str(exc))
