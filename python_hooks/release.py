"""Releases: the published warehouse is one complete, gated build, swapped in atomically.

Layout, for the published path ``PATH`` = ``<dir>/<name>.duckdb``::

    <dir>/<name>.duckdb                  symlink -> <name>.duckdb.releases/<run id>/<name>.duckdb
    <dir>/<name>.duckdb.releases/
        <run id>/<name>.duckdb           a release: the tables a dashboard reads (read-only file)
        <run id>/serving.sqlite          its serving copy: the tables of keyed reads, in SQLite
        <run id>/release.json            its metadata: run id, window, fingerprints, gate results
        <run id>/run_report.json         the run report of the run that built it
        .build/<run id>/<name>.duckdb    the private build of the latest run (every dbt model)
        .build/current -> <run id>       the running build, by a path that is the same in every run
        .build/current/source/           what ``precompute run --source`` imported for the build
        .lock                            held by the run (or rollback) that may publish

Why a symlink to a file per release (docs/decisions.md, "Publishing"):

* A DuckDB file has one writer or many readers. A run never opens a published
  file for writing: it builds into its own private file, copies the public tables
  into a *new* release file, closes it (checkpointed: no WAL is left), and then
  replaces the symlink with ``rename(2)``, which is atomic. A reader that opens
  ``PATH`` gets the old release before the rename and the new one after, never a
  mix, and holds no lock that the run needs.
* DuckDB resolves the symlink when it opens the file, so a connection keeps its
  release for as long as it stays open; it sees the new one when it reconnects.
  Each release file keeps the published file's own name, so the catalog name
  (``<name>``) that qualified queries use is the same in every release.
* A run that fails a gate, fails a model, or is killed never reaches the rename:
  the previous release stays published, byte for byte.

The serving copy (``SERVING_TABLES``) holds what the read API reads by key, the
entity names, the range parts (per entity, per level, and per country split
into delivery parts and the rows with events), the day
rows with their user lists, and the running sums of the entities' parts and of
the cohort curves, in SQLite tables ``WITHOUT ROWID`` keyed on (entity_type,
entity_id, date[, country_code]; the curves' on the cohort date, with a
column per horizon): a row store answers a keyed read in microseconds, where DuckDB plans
every statement. The run writes it from the build while the validation gate
and the export run (``write_serving_copy``);
``export`` moves it into the release directory before the directory is renamed,
so that the DuckDB file and its copy are published, and switched, together.

Inside a release file, next to the published tables: ``precompute_release`` (one
row: the run id, the window and the metadata as JSON) and ``precompute_queries``
(the read API's compiled SQL, name -> sql).

Only this module knows the layout; everything else asks it. The functions at
the end (*Reading a published release*) are the read side's.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import re
import shutil
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import adbc_driver_sqlite.dbapi as adbc_sqlite
import duckdb

__all__ = [
    "PUBLISHED_TABLES",
    "METADATA_TABLE",
    "QUERIES_TABLE",
    "ReleaseStore",
    "RunInProgress",
    "new_run_id",
    "PublishedFile",
    "ReleaseNotReadable",
    "published_file",
    "release_info",
    "release_metadata",
    "release_queries",
    "serving_file",
]

# What a dashboard reads (and nothing else: the intermediates stay in the build).
# Each entry: table name -> the key the rows are stored in (None: keep the build's order).
PUBLISHED_TABLES: dict[str, str | None] = {
    "entity_daily_metrics": None,  # the marts are stored sorted by their model
    "entity_country_breakdown": None,
    # the cohort revenue curves (docs/metrics.md §9), stored sorted by their key by their model
    "entity_cohort_curves": None,
    "entity_names": None,
    # what the read API sums for range totals (docs/metrics.md §8; models/marts/range_parts/)
    "entity_daily_range_parts": None,
    "entity_country_range_parts": None,
    "level_daily_range_parts": None,
    "int_source_rows_rejected": None,
    "int_attribution_gaps_listed": None,
    # run metadata that `precompute validate` reads: the window and the entity set
    "int_reporting_window_resolved": None,
    "int_entities_unioned": None,
    # data quality: each source's rows and dates (GET /api/health) and the checks (GET /api/quality)
    "int_source_freshness_measured": "source_table",
    "data_quality_checks": None,
}
# Tables that must exist in the build for a release to be made.
REQUIRED_TABLES = ("entity_daily_metrics", "entity_country_breakdown", "entity_cohort_curves")
# The serving copy: table -> (its primary key, the secondary indexes), with every
# column of the build's table. The date comes before the country, so that a range
# of days of one entity is one run of the key. The running sums
# (entity_*_running_parts) and the country parts split in two (views of
# entity_country_range_parts: its delivery parts on every row, its event parts on
# the rows with events) are in the copy only: only its queries read them. The
# countries' user lists stay in the release file only (entity_country_breakdown:
# 3.5 M rows at year scale).
SERVING_FILE = "serving.sqlite"
SERVING_TABLES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "entity_names": (("entity_type", "entity_id"), (("entity_type", "parent_id"),)),
    "entity_daily_range_parts": (("entity_type", "entity_id", "date"), ()),
    "level_daily_range_parts": (("entity_type", "date"), ()),
    "entity_daily_running_parts": (("entity_type", "entity_id", "date"), ()),
    "entity_daily_metrics": (("entity_type", "entity_id", "date"), ()),
    "entity_country_delivery_range_parts": (("entity_type", "entity_id", "date", "country_code"), ()),
    "entity_country_event_range_parts": (("entity_type", "entity_id", "date", "country_code"), ()),
    "entity_curve_running_parts": (("entity_type", "entity_id", "cohort_date"), ()),
}
METADATA_TABLE = "precompute_release"
# The read API's SQL: the dbt-compiled analyses of the run (name, sql), so that a
# server runs exactly the queries compiled with the release it reads.
QUERIES_TABLE = "precompute_queries"
RELEASE_META = "release.json"
CURRENT_BUILD = "current"  # .build/current: the running build, by a path that does not change
SOURCE_DIR = "source"  # .build/current/source: the sources `precompute run --source` imported
RUN_REPORT = "run_report.json"
DEFAULT_KEEP = 3

_RUN_ID = re.compile(r"^\d{8}T\d{6}(\d{6})?Z(-[0-9a-f]+)?$")


class RunInProgress(RuntimeError):
    """Another process holds the release lock of this warehouse."""


def new_run_id(now: _dt.datetime | None = None) -> str:
    """A run id that sorts by start time: ``20261126T043000123456Z-1a2b``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + os.urandom(2).hex()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ReleaseStore:
    """The releases of one published path."""

    path: Path  # the published path (a symlink once a release is published)

    # ------------------------------------------------------------------ layout

    @property
    def root(self) -> Path:
        return self.path.parent / (self.path.name + ".releases")

    @property
    def build_root(self) -> Path:
        return self.root / ".build"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    def release_dir(self, run_id: str) -> Path:
        return self.root / run_id

    def release_file(self, run_id: str) -> Path:
        return self.release_dir(run_id) / self.path.name

    def build_file(self, run_id: str) -> Path:
        return self.build_root / run_id / self.path.name

    @property
    def current_build(self) -> Path:
        """The running build's file by a path that is the same in every run:
        ``.build/current/<name>``, ``current`` a symlink to the run's build directory.

        dbt is given this path (DUCKDB_PATH), so that its profile is the same from one
        run to the next and dbt can reuse its saved parse."""
        return self.build_root / CURRENT_BUILD / self.path.name

    @property
    def current_source_dir(self) -> Path:
        """Where ``precompute run --source`` imports the sources of the running build:
        under ``.build/current/``, so that the var ``raw_data_dir`` is the same in every
        run (and dbt can reuse its saved parse)."""
        return self.build_root / CURRENT_BUILD / SOURCE_DIR

    # ------------------------------------------------------------------ reading

    def published_run_id(self) -> str | None:
        """The run id PATH points to, or None (nothing published, or PATH is not a release)."""
        if not self.path.is_symlink():
            return None
        target = Path(os.readlink(self.path))
        parts = target.parts
        if len(parts) >= 2 and parts[-1] == self.path.name and _RUN_ID.match(parts[-2]):
            return parts[-2]
        return None

    def run_ids(self) -> list[str]:
        """Complete releases, oldest first (a release is complete once its directory is named)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and _RUN_ID.match(p.name) and (p / self.path.name).is_file()
            and (p / RELEASE_META).is_file()
        )

    def metadata(self, run_id: str) -> dict[str, Any]:
        return json.loads((self.release_dir(run_id) / RELEASE_META).read_text(encoding="utf-8"))

    def link_target(self) -> str:
        """What the published symlink holds (relative to its directory), as ``precompute status`` shows it."""
        return os.readlink(self.path)

    def previous_run_id(self, before: str | None = None) -> str | None:
        """The newest release older than ``before`` (default: the published one)."""
        before = before or self.published_run_id()
        older = [r for r in self.run_ids() if before is None or r < before]
        return older[-1] if older else None

    # ------------------------------------------------------------------ lock

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock for a run or a rollback; raises RunInProgress when it is held."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                raise RunInProgress(
                    f"another precompute process holds {self.lock_path} ({holder}); "
                    "wait for it to finish") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock (also when the process dies)

    # ------------------------------------------------------------------ build

    def new_build_file(self, run_id: str) -> Path:
        """A fresh private build file for this run; earlier builds are removed."""
        self.build_root.mkdir(parents=True, exist_ok=True)
        for old in self.build_root.iterdir():
            if old.name in (run_id, CURRENT_BUILD):
                continue
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() and not old.is_symlink() \
                else old.unlink(missing_ok=True)
        build_file = self.build_file(run_id)
        build_file.parent.mkdir(parents=True, exist_ok=True)
        # .build/current -> <run id>, replaced in one rename (self.current_build)
        link = self.build_root / CURRENT_BUILD
        tmp = self.build_root / f".{CURRENT_BUILD}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, link)
        return build_file

    def write_serving_copy(self, build_file: Path, run_id: str) -> Path:
        """Write the serving copy of ``build_file`` next to it (the run then exports it
        with the release); it only reads the build, so it can run beside the gate and the export."""
        file = self.build_file(run_id).parent / SERVING_FILE
        _write_serving_copy(build_file, file)
        return file

    def remove_partial_releases(self) -> list[str]:
        """Release directories left unfinished by a killed run (``.<run id>.tmp``)."""
        removed = []
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(p.name)
        return removed

    # ------------------------------------------------------------------ export

    def export(self, build_file: Path, run_id: str, metadata: dict[str, Any], serving_copy: Callable[[], Path],
               run_report: dict[str, Any] | None = None, queries: dict[str, str] | None = None) -> Path:
        """Copy the published tables of ``build_file`` into a new, complete release directory,
        with the serving copy of the same build (``write_serving_copy``) moved beside them:
        ``serving_copy()`` is called once the DuckDB file is written, and returns it (the run
        writes it meanwhile).

        ``queries`` (name -> compiled SQL of ``analyses/``) are stored in the
        table ``precompute_queries`` for the read API (``python_hooks.api``).
        The release's metadata gets the row count of each table (``tables``).

        The file is written under a temporary name, checkpointed and closed (no
        WAL), fsynced, made read-only, and only then renamed to its final
        directory. Returns the release file.
        """
        tmp_dir = self.root / f".{run_id}.tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
        tmp_file = tmp_dir / self.path.name
        con = duckdb.connect(str(tmp_file))
        try:
            con.execute("attach ? as build (read_only)", [str(build_file)])
            present = _tables(con, "build")
            missing = [t for t in REQUIRED_TABLES if t not in present]
            if missing:
                raise RuntimeError(f"the build {build_file} has no table {', '.join(missing)}")
            copied = [t for t in PUBLISHED_TABLES if t in present]
            for table in copied:
                order = f" order by {PUBLISHED_TABLES[table]}" if PUBLISHED_TABLES[table] else ""
                con.execute(f'create table main."{table}" as select * from build.main."{table}"{order}')
            counts = {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in copied}
            metadata = {**metadata, "tables": counts}
            con.execute(f"""
                create table main.{METADATA_TABLE} (
                    run_id varchar not null,
                    computed_at timestamp,
                    start_date date,
                    as_of_date date,
                    trial_days integer,
                    released_at timestamp with time zone not null,
                    metadata_json varchar not null,
                    run_report_json varchar
                )""")
            window = metadata.get("window") or {}
            con.execute(
                f"insert into main.{METADATA_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, metadata.get("computed_at"), window.get("start_date"), window.get("as_of_date"),
                 window.get("trial_days"), metadata["released_at"], json.dumps(metadata, default=str),
                 json.dumps(run_report, default=str) if run_report is not None else None])
            con.execute(f"create table main.{QUERIES_TABLE} (name varchar primary key, sql varchar not null)")
            for name, sql in sorted((queries or {}).items()):
                con.execute(f"insert into main.{QUERIES_TABLE} values (?, ?)", [name, sql])
            con.execute("detach build")
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(serving_copy(), tmp_dir / SERVING_FILE)
        wal = tmp_file.with_name(tmp_file.name + ".wal")
        if wal.exists():  # a clean close checkpoints; a WAL here would make read-only opens replay it
            raise RuntimeError(f"DuckDB left a WAL next to the new release: {wal}")
        (tmp_dir / RELEASE_META).write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
        if run_report is not None:
            (tmp_dir / RUN_REPORT).write_text(json.dumps(run_report, indent=2, default=str) + "\n",
                                              encoding="utf-8")
        for f in tmp_dir.iterdir():
            if f.is_file():
                _fsync_file(f)
        for written in (tmp_file, tmp_dir / SERVING_FILE):  # releases are never written again
            os.chmod(written, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        _fsync_dir(tmp_dir)
        final_dir = self.release_dir(run_id)
        os.rename(tmp_dir, final_dir)
        _fsync_dir(self.root)
        return self.release_file(run_id)

    def write_run_report(self, run_id: str, run_report: dict[str, Any]) -> Path:
        """(Re)write the run report kept with a release (after publishing, with the publish timings)."""
        path = self.release_dir(run_id) / RUN_REPORT
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(run_report, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------------ publish

    def publish(self, run_id: str) -> None:
        """Point PATH at a release, atomically (symlink + rename(2))."""
        if run_id not in self.run_ids():
            raise FileNotFoundError(f"no complete release {run_id} in {self.root}")
        if self.path.exists() and not self.path.is_symlink() and self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a directory, not a warehouse file")
        target = os.path.relpath(self.release_file(run_id), self.path.parent)
        swap = self.path.parent / f".{self.path.name}.{run_id}.swap"
        swap.unlink(missing_ok=True)
        os.symlink(target, swap)
        os.replace(swap, self.path)  # atomic: readers see the old target or the new one
        _fsync_dir(self.path.parent)

    def prune(self, keep: int = DEFAULT_KEEP) -> list[str]:
        """Remove all but the ``keep`` newest releases; the published one is always kept."""
        published = self.published_run_id()
        ids = self.run_ids()
        keep_ids = set(ids[-keep:]) if keep > 0 else set()
        if published:
            keep_ids.add(published)
        removed = []
        for run_id in ids:
            if run_id not in keep_ids:
                shutil.rmtree(self.release_dir(run_id), ignore_errors=True)
                removed.append(run_id)
        return removed


def _sqlite_type(duckdb_type: str) -> str:
    """The SQLite column type of a DuckDB column: integers stay integers, decimals and
    doubles are REAL, dates and timestamps ISO text (they sort as dates)."""
    upper = duckdb_type.upper()
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "BOOLEAN"):
        return "INTEGER"
    if upper.startswith("DECIMAL") or upper in ("DOUBLE", "FLOAT", "REAL"):
        return "REAL"
    return "TEXT"


def _write_serving_copy(source: Path, file: Path) -> None:
    """Copy ``SERVING_TABLES`` of the DuckDB file ``source`` into a new SQLite file.

    One transaction, no journal (the file is new and moved into a release only once
    complete). Each table goes across as an Arrow stream, from DuckDB straight into
    SQLite's C API (ADBC ingest), with no Python object per value: 3.5 M country rows
    take seconds, where ``executemany`` took 15 s. The rows come in the tables' stored
    order, which is their key (the models end with ``order by`` their key), so the B-tree
    is appended to; a view of one keeps that order, since this connection keeps DuckDB's
    default ``preserve_insertion_order`` (the build's profile turns it off, D69). Integers
    are copied as 64-bit integers, decimals as doubles
    (DuckDB's cast is the nearest double of the decimal), dates and timestamps as ISO text.
    """
    file.unlink(missing_ok=True)
    con = duckdb.connect(str(source), read_only=True)
    con.execute("set enable_progress_bar = false")
    lite = adbc_sqlite.connect(str(file), autocommit=True)
    try:
        with lite.cursor() as cursor:
            cursor.execute("pragma journal_mode = off")
            cursor.execute("pragma synchronous = off")
            cursor.execute("begin")
            for table, (key, indexes) in SERVING_TABLES.items():
                kinds = dict(con.execute(
                    "select column_name, data_type from duckdb_columns() where database_name = current_database() "
                    "and schema_name = 'main' and table_name = ? order by column_index", [table]).fetchall())
                if not kinds:
                    raise RuntimeError(f"the build {source} has no table {table} to copy into the serving copy")
                columns = list(kinds.items())
                definitions = ", ".join(f'"{name}" {_sqlite_type(kind)}' for name, kind in columns)
                cursor.execute(f'create table "{table}" ({definitions}, primary key ({", ".join(key)})) '
                               "without rowid")
                cursor.adbc_ingest(table, con.sql(f'select {", ".join(_serving_value(n, k) for n, k in columns)} '
                                                  f'from main."{table}"'), mode="append")
                for number, index in enumerate(indexes, 1):
                    cursor.execute(f'create index "{table}_by_{number}" on "{table}" ({", ".join(index)})')
            # Statistics of entity_names only: with them the entity table joins its entities
            # through an index (every ad: 17.6 -> 12.8 ms); without, it scans them once per
            # entity. Those of the big tables would make SQLite build a Bloom filter over a
            # whole table for a keyed sparkline (10 ms instead of 0.15 ms at year scale).
            cursor.execute('analyze "entity_names"')
            cursor.execute("commit")
    finally:
        lite.close()
        con.close()


def _serving_value(name: str, duckdb_type: str) -> str:
    """The select expression of a column as the serving copy stores it (``_sqlite_type``)."""
    kind = _sqlite_type(duckdb_type)
    if kind == "REAL":
        return f'cast("{name}" as double) as "{name}"'
    if kind == "INTEGER":
        return f'cast("{name}" as bigint) as "{name}"'
    if duckdb_type.upper() != "VARCHAR":
        return f'cast("{name}" as varchar) as "{name}"'
    return f'"{name}"'


def _tables(con: duckdb.DuckDBPyConnection, database: str | None = None) -> set[str]:
    """The tables of schema main of an attached database (default: the connection's own file)."""
    return {name for (name,) in con.execute(
        "select table_name from duckdb_tables() where database_name = coalesce(?, current_database()) "
        "and schema_name = 'main'", [database]).fetchall()}


def release_age(metadata: dict[str, Any], now: _dt.datetime | None = None) -> _dt.timedelta | None:
    """How long ago a release's data was computed (``computed_at``, UTC)."""
    value = metadata.get("computed_at")
    if not value:
        return None
    computed = _dt.datetime.fromisoformat(str(value))
    if computed.tzinfo is None:
        computed = computed.replace(tzinfo=_dt.timezone.utc)
    return (now or _dt.datetime.now(_dt.timezone.utc)) - computed


def format_age(age: _dt.timedelta | None) -> str:
    if age is None:
        return "-"
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {rest % 60}s"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read 1 MiB at a time."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_fingerprints(raw_dir: Path, tables: list[str]) -> dict[str, dict[str, Any]]:
    """SHA-256, size and row count of each source file a run read (``None`` when absent)."""
    out: dict[str, dict[str, Any]] = {}
    con = duckdb.connect()
    try:
        for table in sorted(tables):
            path = raw_dir / f"{table}.parquet"
            if not path.is_file():
                out[table] = None
                continue
            rows = con.execute("select sum(num_rows) from parquet_file_metadata(?)", [str(path)]).fetchone()[0]
            out[table] = {"file": str(path), "sha256": file_sha256(path), "bytes": path.stat().st_size,
                          "rows": int(rows or 0)}
    finally:
        con.close()
    return out


# Reading a published release
#
# The read side (``python_hooks.api``, ``precompute validate``, benchmarks) asks
# these functions where the published file is and what a release file holds, so
# that the layout above stays known here alone. They take an open connection where
# the caller keeps one (read-only, with its own settings).


class ReleaseNotReadable(RuntimeError):
    """Nothing is published at a path, or the file published there is not a release; the
    message says which, and what to do."""


@dataclass(frozen=True)
class PublishedFile:
    """What a published path resolves to at one moment."""

    file: Path  # the file to open read-only: a release file, or a plain DuckDB file
    key: str  # the same as long as the same file is published; changes when a run publishes


def published_file(path: Path) -> PublishedFile:
    """The file a published path points to now (one ``readlink``).

    A release (the path is a symlink): the release file, keyed by its own path. A
    plain DuckDB file at the path (not a release): the path, keyed by its inode and
    modification time. Raises :class:`ReleaseNotReadable` when there is neither.
    """
    path = Path(path)
    try:
        if path.is_symlink():
            file = Path(os.path.normpath(os.path.join(path.parent, os.readlink(path))))
            return PublishedFile(file, str(file))
        if path.is_file():
            status = path.stat()
            return PublishedFile(path, f"{path}@{status.st_ino}:{status.st_mtime_ns}")
    except OSError as exc:
        raise ReleaseNotReadable(f"cannot read the published path {path}: {exc}") from None
    raise ReleaseNotReadable(f"nothing is published at {path}; run `precompute run`")


def _require_release_tables(con: duckdb.DuckDBPyConnection) -> None:
    present = _tables(con)
    if QUERIES_TABLE not in present or METADATA_TABLE not in present:
        raise ReleaseNotReadable(f"has no {QUERIES_TABLE} table (published before the read API); "
                                 "publish a new release with `precompute run`")


def release_queries(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The read API's SQL stored in the release open on ``con``: name -> compiled SQL, by name."""
    _require_release_tables(con)
    return dict(con.execute(f"select name, sql from main.{QUERIES_TABLE} order by name").fetchall())


def release_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The release open on ``con``: run_id, computed_at, released_at, start_date, as_of_date, trial_days,
    and refund_maturity_days (from its metadata's window; None in a release made before that var)."""
    _require_release_tables(con)
    cursor = con.execute(f"select run_id, computed_at, released_at, start_date, as_of_date, trial_days, "
                         f"metadata_json from main.{METADATA_TABLE}")
    row = cursor.fetchone()
    if row is None:
        raise ReleaseNotReadable(f"has no {METADATA_TABLE} row")
    info = dict(zip([column[0] for column in cursor.description], row))
    window = json.loads(info.pop("metadata_json")).get("window") or {}
    info["refund_maturity_days"] = window.get("refund_maturity_days")
    return info


def release_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The full metadata of the release open on ``con`` (as in its ``release.json``)."""
    _require_release_tables(con)
    row = con.execute(f"select metadata_json from main.{METADATA_TABLE}").fetchone()
    if row is None:
        raise ReleaseNotReadable(f"has no {METADATA_TABLE} row")
    return json.loads(row[0])


def serving_file(release_file: Path) -> Path | None:
    """The serving copy (SQLite) published with a release file, or None (a release made
    before serving copies, or a plain DuckDB file)."""
    file = Path(release_file).parent / SERVING_FILE
    return file if file.is_file() else None
