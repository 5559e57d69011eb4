"""The command line of the importers: ``precompute import <kind>`` and ``precompute run --source``.

    precompute import sqlite   DB_PATH --out DIR [--product-property NAME] [--batch-rows N]
    precompute import mixpanel EXPORT.jsonl [...] --out DIR [--product-property NAME]
                               [--revenue-property NAME ...] [--time-zone TZ]
    precompute import csv      CSV_DIR --out DIR [--delimiter C]
    (each also takes --memory-limit, DuckDB's, default 2GB)

Exit codes of ``import``: 0 imported (rows it could not read are rejected, listed
in DIR/import_rejects.parquet and counted on stdout: they do not fail it); 1 the
import failed on its way (disk full, out of memory: the database's own message;
nothing is written); 2 bad arguments; 3 the input cannot be imported at all (a
missing file, table or column: nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import duckdb

from python_hooks.importers import common

EXIT_IMPORTED, EXIT_FAILED, EXIT_USAGE, EXIT_UNREADABLE = 0, 1, 2, 3
RUN_SOURCE_KINDS = ("sqlite", "csv")  # kinds that hold every table, so that a run can read them alone


def add_import_parser(sub: Any) -> None:
    """Register ``import`` and its subcommands on the ``precompute`` subparsers."""
    from python_hooks.importers import mixpanel_export, sqlite_db

    p = sub.add_parser("import", help="turn a legacy SQLite database, a Mixpanel export or CSV files "
                                      "into the contract's source directory (Parquet)")
    kinds = p.add_subparsers(dest="import_kind", required=True, metavar="{sqlite,mixpanel,csv}")

    s = kinds.add_parser("sqlite", help="the legacy dashboard's SQLite database: every table")
    s.add_argument("database", type=Path, help="the SQLite file (opened read-only)")
    s.add_argument("--product-property", default=sqlite_db.DEFAULT_PRODUCT_PROPERTY,
                   help="the property of event_json holding the product (default: %(default)s)")
    s.add_argument("--batch-rows", type=int, default=sqlite_db.DEFAULT_BATCH_ROWS,
                   help="rows read from SQLite at a time (default: %(default)s)")

    m = kinds.add_parser("mixpanel", help="Mixpanel's raw event export, JSON lines: mixpanel_event")
    m.add_argument("export", type=Path, nargs="+", help="export files (.jsonl, .json or .gz)")
    m.add_argument("--product-property", default=mixpanel_export.DEFAULT_PRODUCT_PROPERTY,
                   help="the event property holding the product (default: %(default)s)")
    m.add_argument("--revenue-property", action="append", dest="revenue_properties",
                   help="an event property holding the revenue in USD; repeat it, the first found wins "
                        f"(default: {', '.join(mixpanel_export.DEFAULT_REVENUE_PROPERTIES)})")
    m.add_argument("--time-zone", default="UTC",
                   help="the project time zone of a project whose export counts local time "
                        "(Mixpanel projects created before 2023); default: %(default)s")

    c = kinds.add_parser("csv", help="CSV files DIR/<table>.csv with the contract's columns")
    c.add_argument("directory", type=Path, help="the directory of the CSV files")
    c.add_argument("--delimiter", default=",", help="field delimiter (default: %(default)s)")

    for k in (s, m, c):
        k.add_argument("--out", type=Path, required=True,
                       help="the source directory to write (created if needed; other tables in it are kept)")
        k.add_argument("--memory-limit", default=common.DEFAULT_MEMORY_LIMIT,
                       help="DuckDB's memory_limit for the import (default: %(default)s)")
    p.set_defaults(func=cmd_import)


def _import(kind: str, a: argparse.Namespace) -> common.ImportReport:
    if kind == "sqlite":
        from python_hooks.importers.sqlite_db import import_sqlite
        if a.batch_rows < 1:
            raise ValueError("--batch-rows must be >= 1")
        return import_sqlite(a.database, a.out, product_property=a.product_property,
                             batch_rows=a.batch_rows, memory_limit=a.memory_limit)
    if kind == "mixpanel":
        from python_hooks.importers.mixpanel_export import DEFAULT_REVENUE_PROPERTIES, import_mixpanel
        return import_mixpanel(a.export, a.out, product_property=a.product_property,
                               revenue_properties=tuple(a.revenue_properties or DEFAULT_REVENUE_PROPERTIES),
                               time_zone=a.time_zone, memory_limit=a.memory_limit)
    from python_hooks.importers.csv_files import import_csv
    return import_csv(a.directory, a.out, delimiter=a.delimiter, memory_limit=a.memory_limit)


def _still_missing(out_dir: Path) -> list[str]:
    return [name for name, table in common.importable_tables().items()
            if not table.optional and not (out_dir / f"{name}.parquet").is_file()]


def cmd_import(a: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    kind = a.import_kind
    try:
        report = _import(kind, a)
    except common.SourceUnreadable as exc:
        print(f"precompute import {kind}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except ValueError as exc:
        print(f"precompute import {kind}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (duckdb.Error, OSError) as exc:
        print(f"precompute import {kind}: failed, nothing written: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print("\n".join(report.lines()), file=out)
    tables = common.importable_tables()
    for t in report.tables:
        if t.rows_out == 0 and not tables[t.table].optional:  # the source contract's own rule
            print(f"  {t.table} has no rows: `precompute run` stops on an empty table unless "
                  f"--vars '{{allow_empty_sources: [{t.table}]}}' allows it", file=out)
    missing = _still_missing(Path(a.out))
    if missing:
        print(f"  {a.out} has no {', '.join(missing)} yet: `precompute run` needs them", file=out)
    return EXIT_IMPORTED


# --------------------------------------------------------------------------- precompute run --source


@dataclass
class RunSource:
    """A source a run imported into its private directory."""

    raw_dir: Path
    metadata: dict  # for the release: what was imported, its fingerprint, the import's counts


def parse_run_source(spec: str) -> tuple[str, Path]:
    """``sqlite:PATH`` / ``csv:DIR`` -> (kind, path); ValueError otherwise."""
    kind, sep, path = spec.partition(":")
    if not sep or kind not in RUN_SOURCE_KINDS or not path:
        raise ValueError(f"--source must be KIND:PATH with KIND one of {', '.join(RUN_SOURCE_KINDS)} "
                         f"(e.g. sqlite:/data/dashboard.db), got {spec!r}")
    return kind, Path(path).expanduser().absolute()


def check_run_source(spec: str, run_vars: dict) -> None:
    """``precompute run --source``, before the run starts: a VarError (exit 2) when it is malformed,
    or when var raw_data_dir names the source directory too."""
    from python_hooks.run_vars import VarError

    try:
        parse_run_source(spec)
    except ValueError as exc:
        raise VarError(str(exc)) from None
    if run_vars.get("raw_data_dir"):
        raise VarError("--source and var raw_data_dir both name the source directory: give one")


def import_for_run(spec: str, dest: Path, out: TextIO = sys.stdout) -> RunSource | int:
    """Import ``--source`` into ``dest`` (the run's private directory); when it fails, the
    exit code of ``precompute run``, with the cause on stderr: 3 (the input cannot be
    imported, like a broken source contract) or 1 (the import failed on its way)."""
    from python_hooks.release import file_sha256

    try:
        kind, path = parse_run_source(spec)
        if kind == "sqlite":
            from python_hooks.importers.sqlite_db import import_sqlite
            report = import_sqlite(path, dest)
            inputs = [path]
        else:
            from python_hooks.importers.csv_files import import_csv
            report = import_csv(path, dest)
            inputs = sorted(Path(t.source) for t in report.tables)
    except (common.SourceUnreadable, ValueError) as exc:
        print(f"precompute run: --source {spec}: {exc}", file=sys.stderr, flush=True)
        return EXIT_UNREADABLE
    except (duckdb.Error, OSError) as exc:
        print(f"precompute run: --source {spec}: import failed: {type(exc).__name__}: {exc}",
              file=sys.stderr, flush=True)
        return EXIT_FAILED
    print("\n".join(report.lines()), file=out, flush=True)
    metadata = {
        "kind": kind,
        "path": str(path),
        "files": {str(p): {"sha256": file_sha256(p), "bytes": p.stat().st_size} for p in inputs},
        "imported_into": str(dest),
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_rejected": report.rows_rejected,
        "tables": {t.table: t.as_dict() for t in report.tables},
    }
    return RunSource(dest, metadata)
