"""``precompute import csv``: CSV files with the contract's columns -> the contract's directory.

``DIR/<table>.csv`` (or ``<table>.csv.gz``) for each contract table present is
imported; the others are left as they are in the output directory. The first
line is the header: column names are matched without regard to case or
surrounding spaces, extra columns are ignored, and a missing column is an
error naming the file and the column (like the source contract). An empty
unquoted field is NULL, a quoted one (``""``) is the empty string.

Values are read as text, then cast to the contract's types
(``sql/contract_types.sql``): dates ``YYYY-MM-DD``, datetimes ISO (UTC unless
they carry a zone), booleans ``true/false``, ``1/0``, ``yes/no``. A record DuckDB
cannot split (a field too many or too few, an unterminated quote, bytes that
are not UTF-8) is rejected as ``malformed_record`` with its line; a value that
cannot be read as ``unreadable_<column>``.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from python_hooks.importers.common import (
    DEFAULT_MEMORY_LIMIT, ImportReport, ImportSession, SourceUnreadable, ident, importable_tables, sql_str,
)

KIND = "csv"
SUFFIXES = (".csv", ".csv.gz")


def _find(directory: Path, table: str) -> Path | None:
    for suffix in SUFFIXES:
        if (directory / f"{table}{suffix}").is_file():
            return directory / f"{table}{suffix}"
    return None


def _header(path: Path, delimiter: str) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return [name.strip() for name in next(csv.reader(fh, delimiter=delimiter), [])]


def import_csv(directory: Path, out_dir: Path, *, delimiter: str = ",",
               memory_limit: str = DEFAULT_MEMORY_LIMIT) -> ImportReport:
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceUnreadable(f"CSV directory not found: {directory}")
    if len(delimiter) != 1:
        raise ValueError(f"--delimiter must be one character, got {delimiter!r}")
    tables = importable_tables()
    plan, problems = {}, []
    for name, table in tables.items():
        path = _find(directory, name)
        if path is None:
            continue
        try:
            header = _header(path, delimiter)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.append(f"{path}: cannot read the header line ({exc})")
            continue
        position = {}
        for i, column in enumerate(header):
            key = column.lower()
            if key in position and key in table.column_names:
                problems.append(f"{path}: column '{column}' appears twice in the header")
            position.setdefault(key, i)
        missing = [c for c in table.column_names if c not in position]
        problems += [f"{path}: missing column '{c}'" for c in missing]
        plan[name] = (path, len(header), position)
    if problems:
        raise SourceUnreadable("CSV files cannot be imported:\n  - " + "\n  - ".join(problems))
    if not plan:
        raise SourceUnreadable(f"{directory}: no CSV file of a contract table "
                               f"(expected <table>.csv for some of: {', '.join(tables)})")

    with ImportSession(KIND, str(directory), out_dir, memory_limit=memory_limit) as session:
        for name, (path, width, position) in plan.items():
            fields = [f"c{i}" for i in range(width)]
            lines = session.read_csv_sql(path, fields, location_prefix=f"{path.name} ", header=True,
                                         delim=delimiter)
            picked = ", ".join(f"c{position[c]} as {ident(c)}" for c in tables[name].column_names)
            raw = f"select {picked}, _row_number from ({lines})"
            session.convert(tables[name], raw, source=str(path),
                            location_sql=f"{sql_str(path.name + ' row ')} || raw._row_number")
        return session.commit()
