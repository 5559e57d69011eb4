"""The one place that imports dbt: a thin wrapper around ``dbt.cli.main.dbtRunner``.

``run_dbt`` invokes dbt in-process with the project directory as both
``--project-dir`` and ``--profiles-dir``, the vars as JSON (JSON is YAML), the
environment overrides applied for the duration of the call, and dbt's own
console output switched off (``--log-level none``; the file log under
``<log-path>/dbt.log`` is unchanged). Progress reaches the caller through
``on_event``, which receives a plain :class:`DbtEvent` for each dbt event
(``dbtRunner(callbacks=[...])``), with the node fields already extracted.

DuckDB file lock
----------------
dbt-duckdb keeps its DuckDB instance open in a class attribute
(``DuckDBConnectionManager._ENV``) after ``dbt build`` returns, read-write. In the
same process, a later ``duckdb.connect(path, read_only=True)`` then fails with
"Can't open a connection to same database file with a different configuration".
``run_dbt`` therefore closes that instance (``_ENV.close()``) and drops it
(``DuckDBConnectionManager.close_all_connections()``) before it returns, so the
caller can open the warehouse read-only right away. See :func:`release_duckdb`.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from dbt.cli.main import dbtRunner, dbtRunnerResult

__all__ = [
    "DbtEvent",
    "NodeResult",
    "dbtRunnerResult",
    "node_results",
    "release_duckdb",
    "run_dbt",
]

# Events turned into a DbtEvent with node fields. Every other event is passed on
# with only name / level / message (cheap: no field extraction).
_NODE_EVENTS = frozenset({
    "NodeStart", "LogStartLine", "NodeFinished", "SkippingDetails",
    "LogHookStartLine", "LogHookEndLine", "LogTestResult", "RunResultError",
})

_ENV_LOCK = threading.Lock()  # os.environ is process-global


@dataclass
class DbtEvent:
    """One dbt event, flattened. Node fields are set only for node events."""

    name: str  # dbt event class name, e.g. "NodeFinished"
    level: str  # debug / info / warn / error
    message: str  # the human message dbt would log
    unique_id: str | None = None
    node_name: str | None = None
    resource_type: str | None = None
    status: str | None = None  # success / pass / fail / error / skipped / warn / started
    index: int | None = None  # dbt's "i of n" (start order)
    total: int | None = None
    execution_time: float | None = None
    failures: int | None = None
    raw: Any = field(default=None, repr=False)  # the EventMsg, for anything else


@dataclass
class NodeResult:
    """One entry of the run result (run_results.json), as plain values."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    failures: int | None
    message: str | None
    relation: str | None  # schema.alias for models/seeds
    attached_node: str | None  # the model a test is attached to
    compiled_code: str | None  # tests only: the SQL selecting the failing rows


def _flatten(msg: Any) -> DbtEvent:
    info = msg.info
    ev = DbtEvent(name=info.name, level=info.level, message=info.msg, raw=msg)
    if info.name not in _NODE_EVENTS:
        return ev
    data = msg.data
    node = getattr(data, "node_info", None)
    if node is not None and node.unique_id:
        ev.unique_id = node.unique_id
        ev.node_name = node.node_name
        ev.resource_type = node.resource_type
        ev.status = node.node_status or None
    if info.name == "NodeFinished":
        rr = data.run_result
        ev.status = rr.status or ev.status
        ev.execution_time = rr.execution_time
        ev.failures = rr.num_failures if rr.status in ("fail", "warn") else None
    elif info.name == "SkippingDetails":
        ev.status = "skipped"
        ev.resource_type = data.resource_type or ev.resource_type
        ev.node_name = data.node_name or ev.node_name
        ev.index, ev.total = data.index, data.total
    elif info.name in ("LogStartLine", "LogHookStartLine"):
        ev.index, ev.total = data.index, data.total
        ev.status = "started"
    elif info.name == "LogHookEndLine":
        ev.index, ev.total = data.index, data.total
        ev.status = data.status
        ev.execution_time = data.execution_time
    elif info.name == "LogTestResult":
        ev.index, ev.total = data.index, data.num_models
        ev.status = data.status
        ev.execution_time = data.execution_time
        ev.failures = data.num_failures
    return ev


@contextmanager
def _environ(overrides: Mapping[str, str | None] | None) -> Iterator[None]:
    """Apply env overrides (None = unset) for the duration of the block."""
    if not overrides:
        yield
        return
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in overrides}
        try:
            for k, v in overrides.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = str(v)
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def release_duckdb() -> str:
    """Close the DuckDB instance dbt-duckdb keeps open in this process.

    Returns a short description of what was done (for the run report).
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing to release
        return "dbt-duckdb not loaded"
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        was_open = env is not None and getattr(env, "conn", None) is not None
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - closing is best effort; dropping it is what matters
                pass
        DuckDBConnectionManager.close_all_connections()
    return ("closed the DuckDB instance dbt-duckdb kept open (DuckDBConnectionManager._ENV.close() "
            "+ close_all_connections())" if was_open else "no DuckDB instance left open by dbt-duckdb")


def run_dbt(
    args: Sequence[str],
    *,
    project_dir: str | os.PathLike[str],
    profiles_dir: str | os.PathLike[str] | None = None,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - dbt's name
    env: Mapping[str, str | None] | None = None,
    on_event: Callable[[DbtEvent], None] | None = None,
    log_level: str = "none",
    extra_args: Sequence[str] = (),
) -> dbtRunnerResult:
    """Run ``dbt <args>`` in-process and return the dbtRunnerResult.

    ``args`` starts with the dbt command (``["build", "--full-refresh"]``).
    ``project_dir`` is also the profiles dir unless ``profiles_dir`` is given.
    ``vars`` are passed as one JSON ``--vars`` (only when non-empty). ``env``
    entries are set in ``os.environ`` during the call (``None`` unsets).
    ``log_level`` is dbt's console level (``none`` = silent; events still reach
    ``on_event``). The target / log paths follow dbt's own rules (flags, then
    ``DBT_TARGET_PATH`` / ``DBT_LOG_PATH``, then the project's defaults).

    The DuckDB instance dbt-duckdb keeps open is released before returning
    (see :func:`release_duckdb`), also when dbt fails.
    """
    if not args:
        raise ValueError("args must start with a dbt command, e.g. ['build']")
    project_dir = Path(project_dir).resolve()
    profiles = Path(profiles_dir).resolve() if profiles_dir is not None else project_dir
    cli_args = [
        *args,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(profiles),
        "--log-level", log_level,
        *extra_args,
    ]
    if vars:
        cli_args += ["--vars", json.dumps(dict(vars), default=str)]

    callbacks = []
    if on_event is not None:
        def _callback(msg: Any) -> None:
            try:
                on_event(_flatten(msg))
            except Exception:  # noqa: BLE001 - a progress bug must not break the build
                pass
        callbacks.append(_callback)

    with _environ(env):
        try:
            return dbtRunner(callbacks=callbacks).invoke(cli_args)
        finally:
            release_duckdb()


def node_results(result: dbtRunnerResult) -> list[NodeResult]:
    """The per-node results of a build/run/test invocation (empty when dbt stopped early)."""
    run = result.result
    out: list[NodeResult] = []
    for r in getattr(run, "results", None) or []:
        node = r.node
        status = getattr(r.status, "value", r.status)
        rtype = getattr(node.resource_type, "value", node.resource_type)
        relation = None
        if rtype in ("model", "seed", "snapshot"):
            relation = f"{node.schema}.{getattr(node, 'alias', None) or node.name}"
        attached = getattr(node, "attached_node", None)
        compiled = getattr(node, "compiled_code", None) if rtype == "test" else None
        out.append(NodeResult(
            unique_id=node.unique_id,
            name=node.name,
            resource_type=str(rtype),
            status=str(status),
            execution_time=float(r.execution_time or 0.0),
            failures=r.failures,
            message=r.message,
            relation=relation,
            attached_node=attached,
            compiled_code=compiled,
        ))
    return out
