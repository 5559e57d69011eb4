"""The release reader: the published release, opened read-only, switched without a restart.

The published path is a symlink that ``precompute run`` swaps atomically
(python_hooks/release.py knows the layout). On each request the reader asks
where the path points (one ``readlink``); when it points to a new release, it
opens that release file read-only and serves new requests from it. Requests in
flight keep the connection they started with; the old connection is closed when
its last request ends. Each request uses its own cursor (DuckDB connections are
not thread-safe; cursors are).

A release may carry a serving copy (SQLite, ``release.serving_file``): the
tables of keyed reads. A query whose SQLite version ``serving_<name>`` the
release holds runs there, on a read-only connection per thread (sqlite3 keeps
each connection's compiled statements, so a repeated query is not planned
again); every other query runs on DuckDB. Both files are in the release's
directory, so a new release switches both at once. An answer that reads only the
serving copy is built on the event loop; one whose query runs past
INLINE_SECONDS is built in the thread pool instead (``Release.answer``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb
from cachetools import LRUCache
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from python_hooks.release import ReleaseNotReadable, published_file, release_info, release_queries, serving_file

CACHE_ENTRIES = 4096  # answers kept per release (a user list page is the largest: <= 1000 ids)
JSON = "application/json"
# DuckDB's projection_placement optimiser spends 25-35 ms on the entity table's
# query (its profiler), more than the rest of the query; without it the query
# plans 3x faster, with the same rows (docs/decisions.md, "Read API").
READ_CONFIG = {"disabled_optimizers": "projection_placement"}

_PARAMETERS = re.compile(r"^--\s*Parameters \(prepared statement\):(.*)$", re.MULTILINE)
_PARAMETER = re.compile(r"\$(\d+) (\w+)")
SERVING_PREFIX = "serving_"  # the SQLite version of query <name> is serving_<name>
SERVING_STATEMENTS = 64  # compiled statements sqlite3 keeps per connection
# An answer whose queries all run on the serving copy is built on the event loop:
# a keyed SQLite read takes well under a millisecond, less than the hop to a worker
# thread and back. A query still running after this long (a year of every ad, a
# CSV of a whole list) is interrupted, and the answer is built in the thread pool.
INLINE_SECONDS = 0.004
INLINE_CHECK_STEPS = 1000  # SQLite VM steps between two looks at the clock

Answer = Callable[..., bytes]


class _OverInlineBudget(Exception):
    """A query of an answer built on the event loop ran past INLINE_SECONDS."""


def serving_reads(*names: str) -> Callable[[Answer], Answer]:
    """Mark an answer that reads only queries ``names``: built on the event loop when the
    release's serving copy has all of them (``Release.answer``)."""
    def mark(body: Answer) -> Answer:
        body.serving_reads = names  # type: ignore[attr-defined]
        return body
    return mark


def parameter_order(sql: str) -> list[str]:
    """The parameter names of a query, by position, from its ``-- Parameters`` header."""
    match = _PARAMETERS.search(sql)
    if not match:
        return []
    pairs = [(int(pos), name) for pos, name in _PARAMETER.findall(match.group(1))]
    if [pos for pos, _ in pairs] != list(range(1, len(pairs) + 1)):
        raise ValueError(f"parameters not numbered $1..$n: {match.group(0)}")
    return [name for _, name in pairs]


class ReleaseUnavailable(RuntimeError):
    pass


@dataclass
class Release:
    """One opened release file: its read-only connection, queries, metadata and kept answers."""

    target: str
    con: duckdb.DuckDBPyConnection
    queries: dict[str, tuple[str, list[str]]]
    info: dict[str, Any]
    # (entity_type, entity_id) -> the entity's row of entity_names, read once per
    # release (query api_entity_names): every request checks its entity here.
    entities: dict[tuple[str, str], dict[str, Any]]
    in_flight: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A release never changes, so an answer (the response body, keyed by the
    # answer's function and its validated arguments) can be kept for as long as
    # the release is served (bounded, least recently used first out).
    cache: LRUCache = field(default_factory=lambda: LRUCache(maxsize=CACHE_ENTRIES))
    serving: Path | None = None  # the release's serving copy (SQLite), if it has one
    # source table -> {system, rows, first_date, last_date} (query api_source_freshness), read once
    # per release; empty for a release made before the sources' dates were recorded
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _serving_cons: list[sqlite3.Connection] = field(default_factory=list)

    @property
    def window(self) -> tuple[_dt.date, _dt.date]:
        return self.info["start_date"], self.info["as_of_date"]

    def _kept(self, key: tuple[Any, ...]) -> bytes | None:
        with self.lock:
            return self.cache.get(key)

    def _build(self, key: tuple[Any, ...], body: Answer, args: tuple[Any, ...]) -> bytes:
        data = body(self, *args)
        with self.lock:
            self.cache[key] = data
        return data

    async def answer(self, body: Answer, *args: Any) -> Response:
        """``body(self, *args)``, the JSON of one answer: kept, or built and kept (errors are not kept).

        A kept answer is returned on the event loop, without a thread hop. A new
        one that reads only the serving copy is built on the loop too: its keyed
        reads take less than the hop. Any other, or one whose query runs past
        INLINE_SECONDS, is built in the thread pool (its queries block), so the
        loop keeps answering meanwhile.
        """
        key = (body.__name__, *args)
        data = self._kept(key)
        if data is None and self._inline(body):
            data = self._build_inline(key, body, args)
        if data is None:
            data = await run_in_threadpool(self._build, key, body, args)
        return Response(content=data, media_type=JSON)

    def _inline(self, body: Answer) -> bool:
        names = getattr(body, "serving_reads", ())
        return bool(names) and all(self.serves(name) for name in names)

    def _build_inline(self, key: tuple[Any, ...], body: Answer, args: tuple[Any, ...]) -> bytes | None:
        """``_build`` on the calling thread, or None when a query ran past INLINE_SECONDS."""
        self._local.deadline = time.perf_counter() + INLINE_SECONDS
        try:
            return self._build(key, body, args)
        except _OverInlineBudget:
            return None
        finally:
            self._local.deadline = None

    def warm(self, asks: Iterable[tuple[Answer, tuple[Any, ...]]], limit: int) -> int:
        """Build and keep up to ``limit`` answers not kept yet; stops when the release is retired."""
        built = 0
        for body, args in asks:
            if self.retired or built >= limit:
                break
            key = (body.__name__, *args)
            if self._kept(key) is None:
                self._build(key, body, args)
                built += 1
        return built

    def enter(self) -> None:
        """Count one more user of the connection (under the reader's lock, before it can retire)."""
        with self.lock:
            self.in_flight += 1

    def leave(self) -> None:
        """One user fewer; the last user of a retired release closes its connection."""
        with self.lock:
            self.in_flight -= 1
            if self.retired and self.in_flight == 0:
                self._close()

    def retire(self) -> None:
        with self.lock:
            self.retired = True
            if self.in_flight == 0:
                self._close()

    def _close(self) -> None:
        """Close the DuckDB connection and every thread's SQLite connection (under the lock, unused)."""
        self.con.close()
        for con in self._serving_cons:
            con.close()
        self._serving_cons.clear()

    def _serving_con(self) -> sqlite3.Connection:
        """This thread's read-only connection to the serving copy (opened on first use)."""
        con = getattr(self._local, "con", None)
        if con is None:
            # immutable: a release file is never written again, so SQLite need not lock it
            con = sqlite3.connect(f"{self.serving.absolute().as_uri()}?mode=ro&immutable=1", uri=True,
                                  check_same_thread=False, cached_statements=SERVING_STATEMENTS)
            with self.lock:
                self._serving_cons.append(con)
            self._local.con = con
        return con

    def serves(self, name: str) -> bool:
        """Whether query ``name`` runs on the serving copy."""
        return self.serving is not None and SERVING_PREFIX + name in self.queries

    def query(self, name: str, serving: bool = True, columns: tuple[str, ...] | None = None,
              **params: Any) -> list[dict[str, Any]]:
        """The rows of query ``name`` bound to ``params``: on the serving copy when it has
        the query (and ``serving``), otherwise on the release file.

        ``columns``: the caller reads only these. On the serving copy the query is then
        wrapped in ``select <columns> from (...)``: SQLite flattens it, keeps the query's
        order and skips the formulas of the other columns (a sparkline of 4 metrics
        computes 4, not 25). The release file returns every column.
        """
        if serving and self.serves(name):
            sql, order = self.queries[SERVING_PREFIX + name]
            if columns:
                sql = f"select {', '.join(_quoted(column) for column in columns)} from (\n{sql}\n)"
            # SQLite reads $1 .. $n as named parameters "1" .. "n"; dates are ISO text in the copy
            values = {str(position): value.isoformat() if isinstance(value, _dt.date) else value
                      for position, value in enumerate(self._bind(name, order, params), 1)}
            con = self._serving_con()
            deadline = getattr(self._local, "deadline", None)
            if deadline is not None:
                con.set_progress_handler(lambda: time.perf_counter() > deadline, INLINE_CHECK_STEPS)
            try:
                cursor = con.execute(sql, values)
                try:
                    names = [column[0] for column in cursor.description]
                    return [dict(zip(names, row)) for row in cursor.fetchall()]
                finally:
                    cursor.close()
            except sqlite3.OperationalError:
                if deadline is not None and time.perf_counter() > deadline:
                    raise _OverInlineBudget(name) from None
                raise
            finally:
                if deadline is not None:
                    con.set_progress_handler(None, 0)
        if name not in self.queries:
            raise ReleaseUnavailable(f"the published release has no query {name!r}; publish a new release "
                                     "with `precompute run`")
        sql, order = self.queries[name]
        cursor = self.con.cursor()
        try:
            result = cursor.execute(sql, self._bind(name, order, params))
            names = [column[0] for column in result.description]
            return [dict(zip(names, row)) for row in result.fetchall()]
        finally:
            cursor.close()

    @staticmethod
    def _bind(name: str, order: list[str], params: dict[str, Any]) -> list[Any]:
        missing = [p for p in order if p not in params]
        if missing:
            raise KeyError(f"query {name} needs parameters {missing}")
        return [params[p] for p in order]


def _quoted(column: str) -> str:
    if not re.fullmatch(r"\w+", column):
        raise ValueError(f"not a column name: {column!r}")
    return f'"{column}"'


def open_release(file: Path, target: str) -> Release:
    """A release file opened read-only, with its queries, metadata and entities."""
    try:
        con = duckdb.connect(str(file), read_only=True, config=READ_CONFIG)
    except duckdb.Error as exc:
        raise ReleaseUnavailable(f"cannot open the release {file}: {exc}") from None
    try:
        info, queries = release_info(con), release_queries(con)
        release = Release(target=target, con=con, info=info, entities={}, serving=serving_file(file),
                          queries={name: (sql, parameter_order(sql)) for name, sql in queries.items()})
        release.entities = {(row["entity_type"], row["entity_id"]): row for row in release.query("api_entity_names")}
        if "api_source_freshness" in release.queries:
            release.sources = {row["source_table"]: {"system": row["source_system"], "rows": row["row_count"],
                                                     "first_date": row["first_date"], "last_date": row["last_date"]}
                               for row in release.query("api_source_freshness")}
    except ReleaseNotReadable as exc:
        con.close()
        raise ReleaseUnavailable(f"the release {file} {exc}") from None
    except BaseException:
        con.close()
        raise
    return release


class ReleaseReader:
    """Serves requests from the release the published path points to, switching without a restart.

    ``warm_view(release)``: the answers to build in a background thread after
    opening a release (the page's first view), so that the page's first load
    finds them kept; None: no warm-up.
    """

    def __init__(self, warehouse: Path,
                 warm_view: Callable[[Release], Iterable[tuple[Answer, tuple[Any, ...]]]] | None = None):
        self.warehouse = Path(warehouse)
        self.warm_view = warm_view
        self._lock = threading.Lock()
        self._current: Release | None = None
        # release target -> (answers its warm-up built, seconds it took; -1 answers: it failed)
        self.warmed: dict[str, tuple[int, float]] = {}

    def _warm_up(self, release: Release) -> None:
        """The background warm-up of one release, at the lowest CPU priority (Linux: per thread)."""
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        began = time.perf_counter()
        try:
            built = release.warm(self.warm_view(release), limit=CACHE_ENTRIES // 2)
            self.warmed[release.target] = (built, time.perf_counter() - began)
        except Exception as exc:  # a failed warm-up only costs speed: requests build their answers
            self.warmed[release.target] = (-1, time.perf_counter() - began)
            print(f"precompute serve: warming {release.target} failed: {exc}", file=sys.stderr)
        finally:
            release.leave()

    @contextmanager
    def acquire(self) -> Iterator[Release]:
        """The current release for one request; reopened when the published path moved."""
        try:
            published = published_file(self.warehouse)
        except ReleaseNotReadable as exc:
            raise ReleaseUnavailable(str(exc)) from None
        with self._lock:
            current = self._current
            if current is None or current.target != published.key:
                fresh = open_release(published.file, published.key)
                if current is not None:
                    current.retire()
                self._current = current = fresh
                if self.warm_view is not None:
                    fresh.enter()  # the warm-up's use, left when it ends
                    threading.Thread(target=self._warm_up, args=(fresh,), name="warm-up", daemon=True).start()
            current.enter()
        try:
            yield current
        finally:
            current.leave()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retire()
                self._current = None
