"""What every importer shares: the session that turns rows of text into the
contract's Parquet files, with every row it cannot read rejected and counted.

An importer hands the session, per contract table, a DuckDB relation of text
columns (one per contract column, named like it) and where each row came from.
The session casts each column to its contract type (``sql/contract_types.sql``),
rejects a row whose non-NULL value cannot be read (``unreadable_<column>``, or a
reason the importer found first), writes the kept rows to ``<table>.parquet``
and the others to ``import_rejects.parquet``, and checks that rows in = rows
out + rows rejected. The cleaning rules of docs/metrics.md §2 (NULL ids,
negative spend, duplicate deliveries, ...) are not applied here: the rows go
through, and the staging models reject them with their own reasons.

Files are written beside their final names and renamed into place only when
every table of the import has been written, so a failed import leaves the
directory as it was.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import duckdb

from python_hooks.project import SourceTable, contract_tables

SQL_DIR = Path(__file__).resolve().parent / "sql"
REJECTS_TABLE = "import_rejects"  # the optional source the importers write (models/staging/precompute_import)
REPORT_FILE = "import_report.json"
DEFAULT_MEMORY_LIMIT = "2GB"
# The longest record (an export line, a SQLite row as text): DuckDB's default. Its read
# buffers are about 13 times this, so a larger limit costs memory on every import.
MAX_LINE_BYTES = 2 << 20
CSV_ERRORS, CSV_SCANS = "csv_reject_errors", "csv_reject_scans"  # DuckDB's store_rejects tables

# contract type -> macro of sql/contract_types.sql (VARCHAR is kept as it is)
TYPE_MACROS = {
    "varchar": None,
    "bigint": "import_bigint",
    "double": "import_double",
    "date": "import_date",
    "timestamp": "import_timestamp",
    "boolean": "import_boolean",
}


class SourceUnreadable(Exception):
    """The input cannot be imported at all (missing file, table or column): nothing is written."""


def sql_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def importable_tables() -> dict[str, SourceTable]:
    """The contract's tables an importer may write: every source table but the rejects it writes itself."""
    return {name: t for name, t in contract_tables().items() if name != REJECTS_TABLE}


def record_sql(columns: Iterable[str], alias: str = "") -> str:
    """A row of text columns as ``col=value; col=value`` (NULL shown as NULL), like the
    rejects model's ``describe_record``."""
    prefix = f"{alias}." if alias else ""
    parts = [f"'{c}=' || coalesce({prefix}{ident(c)}, 'NULL')" for c in columns]
    return " || '; ' || ".join(parts)


@dataclass
class TableResult:
    table: str
    source: str
    rows_in: int
    rows_out: int
    rejects: dict[str, int] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejects.values())

    def as_dict(self) -> dict:
        return {"source": self.source, "rows_in": self.rows_in, "rows_out": self.rows_out,
                "rows_rejected": self.rows_rejected, "rejects_by_reason": dict(sorted(self.rejects.items()))}


@dataclass
class ImportReport:
    kind: str
    source: str
    out_dir: Path
    tables: list[TableResult]
    seconds: float = 0.0

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    @property
    def rows_out(self) -> int:
        return sum(t.rows_out for t in self.tables)

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)

    def lines(self) -> list[str]:
        """The printed summary: one line per table, then the totals."""
        width = max([len(t.table) for t in self.tables] + [5])
        out = [f"precompute import {self.kind}: {self.source} -> {self.out_dir}"]
        for t in self.tables:
            reasons = ", ".join(f"{r} {n:,d}" for r, n in sorted(t.rejects.items()))
            out.append(f"  {t.table:<{width}s}  in {t.rows_in:>11,d}  written {t.rows_out:>11,d}  "
                       f"rejected {t.rows_rejected:>9,d}" + (f" ({reasons})" if reasons else ""))
        out.append(f"  {'total':<{width}s}  in {self.rows_in:>11,d}  written {self.rows_out:>11,d}  "
                   f"rejected {self.rows_rejected:>9,d}  ({self.seconds:.1f} s)")
        out.append(f"  rows in = rows written + rows rejected: {self.rows_in:,d} = {self.rows_out:,d} + "
                   f"{self.rows_rejected:,d}; rejected rows: {self.out_dir / (REJECTS_TABLE + '.parquet')}")
        return out


class ImportSession:
    """One import into ``out_dir``: a DuckDB connection, the tables written so far, their rejects.

    Use as a context manager; ``commit()`` moves the files into place. Each table is
    streamed from its input twice (the kept rows to Parquet, then the rejected rows)
    and nothing is materialized, so memory stays within DuckDB's ``memory_limit``
    (it spills to a scratch directory beyond it) whatever the size of the input.
    """

    def __init__(self, kind: str, source: str, out_dir: Path, *, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                 threads: int | None = None):
        self.kind = kind
        self.source = source
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.scratch = Path(tempfile.mkdtemp(prefix=".import-", dir=self.out_dir))
        self.con = duckdb.connect()
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute("set enable_progress_bar = false")
        self.con.execute(f"set memory_limit = {sql_str(memory_limit)}")
        self.con.execute(f"set temp_directory = {sql_str(str(self.scratch / 'spill'))}")
        if threads:
            self.con.execute(f"set threads = {int(threads)}")
        self.con.execute(read_sql("contract_types.sql"))
        self.con.execute("create table import_rejects (source_table varchar, reject_reason varchar, "
                         "source_location varchar, source_record varchar)")
        self.results: list[TableResult] = []
        self._written: dict[str, Path] = {}  # table -> its file beside the final name
        self._csv_location_prefix: str | None = None  # of the last read_csv_sql relation; None: its file's name
        self._malformed_pending = False  # the last read_csv_sql relation's unsplit records are not added yet
        self._started = _dt.datetime.now(_dt.timezone.utc)

    # ------------------------------------------------------------------ context
    def __enter__(self) -> "ImportSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            for path in self._written.values():
                path.unlink(missing_ok=True)
            shutil.rmtree(self.scratch, ignore_errors=True)

    def scratch_file(self, name: str) -> Path:
        return self.scratch / name

    # ------------------------------------------------------------------ reading text
    def read_csv_sql(self, paths: Path | str | list, columns: list[str], *, location_prefix: str | None = None,
                     header: bool = False, delim: str = ",", quote: str = '"', nullstr: str = "",
                     filename: bool = False) -> str:
        """A relation of the records of one CSV file (or several, in order) as text columns,
        numbered in file order (``_row_number``; with ``filename``, also the file's path).

        Records DuckDB cannot split into ``columns`` (too many or too few fields, an
        unterminated quote, bytes that are not UTF-8) are not in it: storing the table
        rejects them as ``malformed_record``, located as ``<location_prefix>line <n>``
        (default prefix: the file's name).
        """
        self._csv_location_prefix = location_prefix
        self._malformed_pending = True
        for table in (CSV_ERRORS, CSV_SCANS):
            self.con.execute(f"drop table if exists {table}")
        files = [str(p) for p in paths] if isinstance(paths, list) else [str(paths)]
        spec = ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns)
        return (f"select *, row_number() over () as _row_number from read_csv("
                f"[{', '.join(sql_str(f) for f in files)}], "
                f"columns = {{{spec}}}, header = {str(header).lower()}, delim = {sql_str(delim)}, "
                f"quote = {sql_str(quote)}, escape = {sql_str(quote)}, nullstr = {sql_str(nullstr)}, "
                f"allow_quoted_nulls = false, auto_detect = false, max_line_size = {MAX_LINE_BYTES}, "
                f"filename = {str(filename).lower()}, "
                f"store_rejects = true, rejects_table = '{CSV_ERRORS}', rejects_scan = '{CSV_SCANS}')")

    def add_malformed_records(self, table: str) -> int:
        """The records the last ``read_csv_sql`` relation could not split, as rejects of
        ``table`` (each once, however many times the relation was scanned); how many."""
        if not self._malformed_pending:
            return 0
        self._malformed_pending = False
        found = self.con.execute(
            "select count(*) from duckdb_tables() where table_name = ?", [CSV_ERRORS]).fetchall()
        if not found[0][0]:
            return 0
        prefix = self._csv_location_prefix
        where = (sql_str(prefix) if prefix is not None
                 else "regexp_extract(scans.file_path, '[^/]*$') || ' '")
        before = self._rejected(table)
        self.con.execute(f"""
            insert into import_rejects
            select {sql_str(table)}, 'malformed_record', {where} || 'line ' || errors.line,
                   coalesce(errors.csv_line, '') || ' (' || errors.error_message || ')'
            from (
                select distinct on (file_id, line) * from {CSV_ERRORS} order by file_id, line
            ) as errors
            left join (select distinct on (file_id) * from {CSV_SCANS}) as scans using (file_id)
            order by errors.file_id, errors.line""")
        self.con.execute(f"drop table {CSV_ERRORS}")
        return self._rejected(table) - before

    def _rejected(self, table: str) -> int:
        return self.con.execute("select count(*) from import_rejects where source_table = ?",
                                [table]).fetchall()[0][0]

    # ------------------------------------------------------------------ tables
    def convert(self, table: SourceTable, raw_sql: str, *, location_sql: str, source: str,
                record: str | None = None, reject_first_sql: str | None = None,
                typed_overrides: dict[str, str] | None = None, rows_in: int | None = None) -> TableResult:
        """Cast the text columns of ``raw_sql`` to ``table``'s contract types and write the table.

        ``raw_sql`` has one text column per contract column. ``location_sql`` and
        ``record`` are expressions over it (the record defaults to every column as
        ``col=value``); ``reject_first_sql``, when not NULL for a row, is its reject
        reason before any cast; ``typed_overrides`` replaces a column's cast.
        ``rows_in`` is how many rows the input had, counted by the importer; when not
        given, ``raw_sql`` is counted (plus the records DuckDB could not split).
        """
        overrides = typed_overrides or {}
        casts, outputs, checks = [], [], []
        for column in table.columns:
            macro = TYPE_MACROS[column.data_type]
            name, typed = ident(column.name), ident("_typed_" + column.name)
            expr = overrides.get(column.name) or (f"{macro}(raw.{name})" if macro else None)
            if expr is None:  # text stays text
                outputs.append(f"raw.{name}")
                continue
            casts.append(f"{expr} as {typed}")  # cast once, read twice below
            outputs.append(f"raw.{typed} as {name}")
            checks.append(f"when raw.{name} is not null and raw.{typed} is null then 'unreadable_{column.name}'")
        first = f"when ({reject_first_sql}) is not null then ({reject_first_sql}) " if reject_first_sql else ""
        reason = f"case {first}{' '.join(checks)} end" if first or checks else "cast(null as varchar)"
        cast_sql = f"select raw.*{''.join(', ' + c for c in casts)} from ({raw_sql}) as raw"
        relation = f"""
            select
                {', '.join(outputs)},
                {reason} as _reject_reason,
                {location_sql} as _source_location,
                {record or record_sql(table.column_names, "raw")} as _source_record
            from ({cast_sql}) as raw"""
        return self.store(table, relation, source=source, rows_in=rows_in, count_sql=raw_sql)

    def store(self, table: SourceTable, relation: str, *, source: str, rows_in: int | None = None,
              count_sql: str | None = None) -> TableResult:
        """Write the kept rows of ``relation`` (contract columns + _reject_reason,
        _source_location, _source_record) to the table's file and keep its rejects,
        with the records its read_csv_sql relation could not split; check that rows in
        (``rows_in``, or ``count_sql`` counted) = rows written + rows rejected."""
        columns = ", ".join(ident(c) for c in table.column_names)
        target = self.out_dir / f".{table.name}.parquet.importing"
        self._written[table.name] = target
        self.con.execute(f"copy (select {columns} from ({relation}) where _reject_reason is null) "
                         f"to {sql_str(str(target))} (format parquet)")
        self.con.execute(f"""
            insert into import_rejects
            select {sql_str(table.name)}, _reject_reason, _source_location, _source_record
            from ({relation}) where _reject_reason is not null""")
        if rows_in is None:
            rows_in = self.con.execute(f"select count(*) from ({count_sql or relation})").fetchall()[0][0]
            rows_in += self.add_malformed_records(table.name)
        else:
            self.add_malformed_records(table.name)
        rows_out = self.con.execute(f"select count(*) from read_parquet({sql_str(str(target))})").fetchall()[0][0]
        rejects = dict(self.con.execute(
            "select reject_reason, count(*) from import_rejects where source_table = ? group by 1",
            [table.name]).fetchall())
        result = TableResult(table.name, source, rows_in, rows_out, rejects)
        if result.rows_in != result.rows_out + result.rows_rejected:  # two counts of one input disagree
            raise AssertionError(f"{table.name}: rows in {result.rows_in:,d} != written {result.rows_out:,d} "
                                 f"+ rejected {result.rows_rejected:,d}")
        self.results.append(result)
        return result

    # ------------------------------------------------------------------ commit
    def commit(self) -> ImportReport:
        """Write the rejects and the report, then move every file into place."""
        written = sorted(self._written)
        rejects_final = self.out_dir / f"{REJECTS_TABLE}.parquet"
        rejects_tmp = self.out_dir / f".{REJECTS_TABLE}.parquet.importing"
        keep_earlier = ""
        if rejects_final.is_file():  # rejects of tables this import did not write stay
            keep_earlier = (f"union all select source_table, reject_reason, source_location, source_record "
                            f"from read_parquet({sql_str(str(rejects_final))}) "
                            f"where source_table not in ({', '.join(sql_str(t) for t in written) or 'NULL'})")
        self.con.execute(f"copy (select * from import_rejects {keep_earlier}) to {sql_str(str(rejects_tmp))} "
                         f"(format parquet)")
        self._written[REJECTS_TABLE] = rejects_tmp

        report_path = self.out_dir / REPORT_FILE
        try:
            earlier = json.loads(report_path.read_text(encoding="utf-8")).get("tables", {})
        except (OSError, ValueError):
            earlier = {}
        imported_at = self._started.isoformat(timespec="seconds")
        tables = {**earlier, **{r.table: {**r.as_dict(), "kind": self.kind, "imported_at": imported_at}
                                for r in self.results}}
        report_tmp = self.out_dir / f".{REPORT_FILE}.importing"
        report_tmp.write_text(json.dumps({"tables": dict(sorted(tables.items()))}, indent=2) + "\n",
                              encoding="utf-8")
        self._written[REPORT_FILE] = report_tmp

        for name, path in list(self._written.items()):
            final = self.out_dir / (name if name == REPORT_FILE else f"{name}.parquet")
            os.replace(path, final)
            del self._written[name]
        seconds = (_dt.datetime.now(_dt.timezone.utc) - self._started).total_seconds()
        return ImportReport(self.kind, self.source, self.out_dir, list(self.results), seconds)
