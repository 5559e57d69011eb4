"""Releases: the published warehouse is one complete, gated build, swapped in atomically.

Layout, for the published path ``PATH`` = ``<dir>/<name>.duckdb``::

    <dir>/<name>.duckdb                  symlink -> <name>.duckdb.releases/<run id>/<name>.duckdb
    <dir>/<name>.duckdb.releases/
        <run id>/<name>.duckdb           a release: the tables a dashboard reads (read-only file)
        <run id>/release.json            its metadata: run id, window, fingerprints, gate results
        <run id>/run_report.json         the run report of the run that built it
        <run id>/inputs/<table>.parquet  the source files it was built from (for --incremental)
        .build/<run id>/<name>.duckdb    the private build of the latest run (every dbt model)
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

Only this module knows the layout; everything else asks it.
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
from typing import Any, Iterator

import duckdb

__all__ = [
    "PUBLISHED_TABLES",
    "METADATA_TABLE",
    "QUERIES_TABLE",
    "ReleaseDelta",
    "ReleaseStore",
    "RunInProgress",
    "new_run_id",
]

# What a dashboard reads (and nothing else: the intermediates stay in the build).
# Each entry: table name -> the key the rows are stored in (None: keep the build's order).
PUBLISHED_TABLES: dict[str, str | None] = {
    "entity_daily_metrics": None,  # the marts are stored sorted by their model
    "entity_country_breakdown": None,
    "entity_names": None,
    # what the read API sums for range totals (contract §8; models/marts/range_parts/)
    "entity_daily_range_parts": None,
    "entity_country_range_parts": None,
    "int_source_rows_rejected": None,
    "int_attribution_gaps_listed": None,
    # run metadata that `precompute validate` reads: the window and the entity set
    "int_reporting_window_resolved": None,
    "int_entities_unioned": None,
}
# Tables that must exist in the build for a release to be made.
REQUIRED_TABLES = ("entity_daily_metrics", "entity_country_breakdown")
METADATA_TABLE = "precompute_release"
# The read API's SQL: the dbt-compiled analyses of the run (name, sql), so that a
# server runs exactly the queries compiled with the release it reads.
QUERIES_TABLE = "precompute_queries"
RELEASE_META = "release.json"
INPUTS_DIR = "inputs"  # the source files a release was built from (python_hooks.incremental)
CURRENT_BUILD = "current"  # .build/current: the running build, by a path that does not change (D74)
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
        run to the next and dbt can reuse its saved parse (docs/decisions.md D74)."""
        return self.build_root / CURRENT_BUILD / self.path.name

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

    def export(self, build_file: Path, run_id: str, metadata: dict[str, Any],
               run_report: dict[str, Any] | None = None, queries: dict[str, str] | None = None,
               inputs: dict[str, Path] | None = None, delta: ReleaseDelta | None = None) -> Path:
        """Copy the published tables of ``build_file`` into a new, complete release directory.

        ``queries`` (name -> compiled SQL of ``analyses/``) are stored in the
        table ``precompute_queries`` for the read API (``python_hooks.api``).

        ``inputs`` (table -> source file) are copied into ``inputs/``: the snapshot
        that the next ``precompute run --incremental`` compares the sources with.

        ``delta`` (an incremental run): the new release starts as a file copy of
        the release the build started from, and only the touched entity-days of
        the keyed tables are replaced (``ReleaseDelta``); every other published
        table is replaced whole. Either way each table must then hold as many
        rows as the build's.

        The file is written under a temporary name, checkpointed and closed (no
        WAL), fsynced, made read-only, and only then renamed to its final
        directory. Returns the release file.
        """
        tmp_dir = self.root / f".{run_id}.tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
        tmp_file = tmp_dir / self.path.name
        if delta is not None:
            shutil.copyfile(self.release_file(delta.base_run_id), tmp_file)
            os.chmod(tmp_file, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        con = duckdb.connect(str(tmp_file))
        try:
            con.execute("attach ? as build (read_only)", [str(build_file)])
            present = _tables(con, "build")
            missing = [t for t in REQUIRED_TABLES if t not in present]
            if missing:
                raise RuntimeError(f"the build {build_file} has no table {', '.join(missing)}")
            copied = [t for t in PUBLISHED_TABLES if t in present]
            if delta is None:
                for table in copied:
                    order = f" order by {PUBLISHED_TABLES[table]}" if PUBLISHED_TABLES[table] else ""
                    con.execute(f'create table main."{table}" as select * from build.main."{table}"{order}')
            else:
                delta.apply(con, copied)
            counts = {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in copied}
            built = {t: con.execute(f'select count(*) from build.main."{t}"').fetchone()[0] for t in copied}
            if counts != built:  # a lost or doubled row would end here, never in a release
                raise RuntimeError(f"the release's row counts {counts} differ from the build's {built}")
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
        wal = tmp_file.with_name(tmp_file.name + ".wal")
        if wal.exists():  # a clean close checkpoints; a WAL here would make read-only opens replay it
            raise RuntimeError(f"DuckDB left a WAL next to the new release: {wal}")
        (tmp_dir / RELEASE_META).write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
        if run_report is not None:
            (tmp_dir / RUN_REPORT).write_text(json.dumps(run_report, indent=2, default=str) + "\n",
                                              encoding="utf-8")
        if inputs:
            (tmp_dir / INPUTS_DIR).mkdir()
            for table, source in sorted(inputs.items()):
                shutil.copyfile(source, tmp_dir / INPUTS_DIR / f"{table}.parquet")
                _fsync_file(tmp_dir / INPUTS_DIR / f"{table}.parquet")
            _fsync_dir(tmp_dir / INPUTS_DIR)
        for f in tmp_dir.iterdir():
            if f.is_file():
                _fsync_file(f)
        os.chmod(tmp_file, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # releases are never written again
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


def _tables(con: duckdb.DuckDBPyConnection, database: str | None = None) -> set[str]:
    """The tables of schema main of an attached database (default: the connection's own file)."""
    return {name for (name,) in con.execute(
        "select table_name from duckdb_tables() where database_name = coalesce(?, current_database()) "
        "and schema_name = 'main'", [database]).fetchall()}


def _column_types(con: duckdb.DuckDBPyConnection, database: str | None, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = coalesce(?, current_database()) "
        "and schema_name = 'main' and table_name = ? order by column_index", [database, table]).fetchall()


@dataclass(frozen=True)
class ReleaseDelta:
    """How an incremental run makes its release: a copy of the release it started from,
    with the touched entity-days of the keyed tables replaced (docs/decisions.md D86).

    ``keyed_tables`` are the tables the build refreshed by delete+insert of the keys in
    its table ``scope_table`` (entity_type, entity_id, report_date); outside those keys
    the build's rows *are* the base release's (the build started as its copy), so the
    same delete+insert applied to a copy of the base gives the build's table. Every
    other published table was rebuilt whole and is replaced whole.
    """

    base_run_id: str
    keyed_tables: tuple[str, ...]
    scope_table: str = "int_incremental_keys_touched"

    def apply(self, con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
        """Turn the base release (the connection's own file) into the build's (attached as ``build``)."""
        base = _tables(con)
        if self.scope_table not in _tables(con, "build"):
            raise RuntimeError(f"the build has no {self.scope_table}: it was not an incremental build")
        for table in (METADATA_TABLE, QUERIES_TABLE, *(base - set(tables))):
            con.execute(f'drop table if exists main."{table}"')
        for table in tables:
            if table not in self.keyed_tables:
                con.execute(f'create or replace table main."{table}" as select * from build.main."{table}"')
                continue
            if table not in base:
                raise RuntimeError(f"the base release {self.base_run_id} has no table {table}")
            if _column_types(con, None, table) != _column_types(con, "build", table):
                raise RuntimeError(f"{table}: the columns of the build differ from the base release's")
            touched = (f"exists (select 1 from build.main.{self.scope_table} as touched_keys "
                       f"where touched_keys.entity_type = {{t}}.entity_type "
                       f"and touched_keys.entity_id = {{t}}.entity_id and touched_keys.report_date = {{t}}.date)")
            con.execute(f'delete from main."{table}" where ' + touched.format(t=f'main."{table}"'))
            con.execute(f'insert into main."{table}" by name select * from build.main."{table}" as built '
                        "where " + touched.format(t="built"))


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


# --------------------------------------------------------------------------- Reading a published release
# What a reader of the published path (the read API) needs of the layout: which
# file the path points to now, and the metadata and queries a release file holds.


class ReleaseUnreadable(LookupError):
    """Nothing readable is published at a path; the message says what to do."""


def published_file(path: Path) -> tuple[Path, str]:
    """The file the published path points to now, and a key that changes with every publish.

    A release: the symlink's target (its path is the key). A plain file (a warehouse
    published before releases, or a test's): the file, keyed by inode and mtime.
    """
    path = Path(path)
    try:
        if path.is_symlink():
            target = os.path.normpath(os.path.join(path.parent, os.readlink(path)))
            return Path(target), target
    except OSError as exc:
        raise ReleaseUnreadable(f"cannot read the published path {path}: {exc}") from None
    if path.is_file():
        status = path.stat()
        return path, f"{path}@{status.st_ino}:{status.st_mtime_ns}"
    raise ReleaseUnreadable(f"nothing is published at {path}; run `precompute run`")


def read_release_contents(con: duckdb.DuckDBPyConnection, file: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The metadata row (run_id, computed_at, released_at, window, trial_days) and the stored
    queries (name -> compiled SQL) of a release file opened as ``con``."""
    present = _tables(con)
    if QUERIES_TABLE not in present or METADATA_TABLE not in present:
        raise ReleaseUnreadable(f"the release {file} has no {QUERIES_TABLE} table (published before the read API); "
                                "publish a new release with `precompute run`")
    queries = dict(con.execute(f"select name, sql from main.{QUERIES_TABLE} order by name").fetchall())
    cursor = con.execute("select run_id, computed_at, released_at, start_date, as_of_date, trial_days "
                         f"from main.{METADATA_TABLE}")
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise ReleaseUnreadable(f"the release {file} has no {METADATA_TABLE} row")
    return dict(zip(names, row)), queries
