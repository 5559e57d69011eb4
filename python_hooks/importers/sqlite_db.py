"""``precompute import sqlite``: the legacy dashboard's SQLite database -> the contract's directory.

The legacy tables carry the contract's column names (plus columns of their
own, which are ignored), with two exceptions:

- ``mixpanel_event`` has no ``product_id`` column: the product is in
  ``event_json`` at ``$.properties.<product property>`` (``product_id`` by
  default). An ``event_json`` that is not JSON rejects the event
  (``invalid_event_json``): its product is unknown.
- ``meta_country_mapping`` (``meta_country_name``, ``mixpanel_country_code``,
  ``is_active``) becomes ``breakdown_mapping_country``: its active rows, which
  override the seed label by label. The other rows are rejected with
  their reason (``sql/legacy_country_mapping.sql``).

DuckDB's sqlite extension would be downloaded at run time, so the database is
read with the standard library's ``sqlite3``, opened read-only and streamed in
batches of ``batch_rows``: SQLite renders each row as one line of text with
``quote()`` (NULL stays distinct from '', a REAL keeps every bit), the lines go
to a scratch file, and DuckDB casts them to the contract's types
(``common.ImportSession``). Memory stays bounded by the batch and by DuckDB's
``memory_limit``, whatever the size of the database. Dates and datetimes stored
as text are read as ISO text; a datetime without a zone is UTC.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from python_hooks.importers.common import (
    DEFAULT_MEMORY_LIMIT, ImportReport, ImportSession, SourceUnreadable, ident, importable_tables,
    read_sql, record_sql, sql_str,
)
from python_hooks.project import SourceTable

KIND = "sqlite"
DEFAULT_BATCH_ROWS = 50_000
DEFAULT_PRODUCT_PROPERTY = "product_id"

# contract table -> (legacy table, legacy column of each contract column that is named otherwise)
MAPPING_TABLE = "breakdown_mapping_country"
LEGACY_MAPPING_TABLE = "meta_country_mapping"
LEGACY_MAPPING_COLUMNS = ("meta_country_name", "mixpanel_country_code", "is_active")
EVENT_TABLE = "mixpanel_event"
EVENT_JSON_COLUMN = "event_json"
INVALID_EVENT_JSON = "_invalid_event_json"


def _json_path(prop: str) -> str:
    """The JSON path of a Mixpanel event property, quoted (``$insert_id`` has a ``$``)."""
    return '$.properties."' + prop + '"'


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SourceUnreadable(f"legacy database not found: {path}")
    try:
        # read by one reader thread at a time (import_sqlite), never concurrently
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        db.execute("select count(*) from sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        raise SourceUnreadable(f"{path}: not a SQLite database ({exc})") from None
    return db


def _columns(db: sqlite3.Connection, table: str) -> dict[str, str]:
    """lower-case name -> the table's own spelling."""
    return {row[1].lower(): row[1] for row in db.execute(f"pragma table_info({ident(table)})")}


def _plan(db: sqlite3.Connection, path: Path, product_property: str) -> dict[str, dict]:
    """What to read for each contract table, or one SourceUnreadable naming every problem."""
    tables = {row[0].lower(): row[0] for row in db.execute(
        "select name from sqlite_master where type in ('table', 'view')")}
    problems, plan = [], {}
    for name, table in importable_tables().items():
        legacy = LEGACY_MAPPING_TABLE if name == MAPPING_TABLE else name
        if legacy.lower() not in tables:
            if not table.optional:
                problems.append(f"missing table '{legacy}'")
            continue
        legacy = tables[legacy.lower()]
        found = _columns(db, legacy)
        wanted = list(LEGACY_MAPPING_COLUMNS) if name == MAPPING_TABLE else table.column_names
        select = {}
        for column in wanted:
            if column.lower() in found:
                select[column] = found[column.lower()]
            elif name == EVENT_TABLE and column == "product_id" and EVENT_JSON_COLUMN in found:
                select[column] = None  # from event_json
            else:
                problems.append(f"table '{legacy}' has no column '{column}'"
                                + (f" (nor '{EVENT_JSON_COLUMN}')" if column == "product_id" else ""))
        plan[name] = {"legacy": legacy, "select": select, "event_json": found.get(EVENT_JSON_COLUMN)}
    if problems:
        raise SourceUnreadable(f"legacy database {path} cannot be imported:\n  - " + "\n  - ".join(problems))
    return plan


def _line_sql(select: dict[str, str | None], event_json: str | None, product_property: str,
              text_columns: set[str]) -> tuple[str, list[str]]:
    """A SQLite expression rendering a row as one CSV line, and the names of its fields.

    Text columns go through ``printf('%Q')`` and the others through ``quote()``: text
    is single-quoted with quotes doubled, NULL is an unquoted NULL (so it stays
    distinct from ''), and a REAL gets the digits that give back the same double.
    """
    formats, values, names = [], [], []
    for column, source in select.items():
        if source is None:  # the product, from event_json; NULL when event_json is not JSON
            doc = ident(event_json)
            path = sql_str(_json_path(product_property))
            formats.append("%Q")
            values.append(f"case when json_valid({doc}) then cast(json_extract({doc}, {path}) as text) end")
            names.append(column)
            # the text of an event_json that is not JSON, so that the reject shows it
            formats.append("%Q")
            values.append(f"case when {doc} is not null and not json_valid({doc}) then cast({doc} as text) end")
            names.append(INVALID_EVENT_JSON)
        elif column in text_columns:
            formats.append("%Q")
            values.append(f"cast({ident(source)} as text)")
            names.append(column)
        else:
            formats.append("%s")
            values.append(f"quote({ident(source)})")
            names.append(column)
    return f"printf({sql_str(','.join(formats) + chr(10))}, {', '.join(values)})", names


def _dump(db: sqlite3.Connection, legacy: str, line: str, target: Path, batch_rows: int) -> int:
    """Write the table's rows as lines into ``target``, ``batch_rows`` at a time; the number of rows.

    A rowid table is read in rowid ranges, each batch joined into one string by SQLite
    (``group_concat``), so that Python handles one value per batch instead of one per
    row; a table without dense rowids (or without rowids) row by row, ``fetchmany``.
    """
    table = ident(legacy)
    rows = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        try:
            low, high, count = db.execute(f"select min(rowid), max(rowid), count(*) from {table}").fetchone()
        except sqlite3.OperationalError:  # WITHOUT ROWID table, or a view
            low = None
            count = -1
        if count == 0:
            return 0
        if low is not None and high - low + 1 <= 2 * count:
            batch = (f"select group_concat(line, ''), count(*) from "
                     f"(select {line} as line from {table} where rowid >= ? and rowid < ?)")
            for start in range(low, high + 1, batch_rows):
                text, n = db.execute(batch, (start, start + batch_rows)).fetchone()
                if n:
                    out.write(text)
                    rows += n
            return rows
        cursor = db.execute(f"select {line} from {table}")
        while chunk := cursor.fetchmany(batch_rows):
            out.write("".join([r[0] for r in chunk]))
            rows += len(chunk)
    return rows


def import_sqlite(db_path: Path, out_dir: Path, *, product_property: str = DEFAULT_PRODUCT_PROPERTY,
                  batch_rows: int = DEFAULT_BATCH_ROWS, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> ImportReport:
    db_path = Path(db_path)
    if '"' in product_property:
        raise ValueError(f"--product-property must not contain a double quote: {product_property!r}")
    db = _connect(db_path)
    try:
        plan = _plan(db, db_path, product_property)
        tables = importable_tables()
        # one read transaction: every table is read from the same snapshot, even
        # while the legacy system writes (WAL), or holds writers off (rollback journal)
        db.execute("begin")
        with ImportSession(KIND, str(db_path), out_dir, memory_limit=memory_limit) as session, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-dump") as reader:
            jobs = []
            for name, item in plan.items():
                text = ({"meta_country_name", "mixpanel_country_code"} if name == MAPPING_TABLE else
                        {c.name for c in tables[name].columns if c.data_type == "varchar"})
                line, columns = _line_sql(item["select"], item["event_json"], product_property, text)
                jobs.append((name, item, line, columns, session.scratch_file(f"{name}.csv")))

            def dump(job: tuple) -> int:
                name, item, line, _, lines = job
                try:
                    return _dump(db, item["legacy"], line, lines, batch_rows)
                except sqlite3.DatabaseError as exc:
                    raise SourceUnreadable(f"{db_path}: reading table '{item['legacy']}' failed: {exc}") from None

            # SQLite renders table i + 1 (in a thread: sqlite3 releases the GIL while it
            # works) while DuckDB converts table i; at most two scratch files at a time
            pending = reader.submit(dump, jobs[0]) if jobs else None
            for i, (name, item, _, columns, lines) in enumerate(jobs):
                dumped = pending.result()
                pending = reader.submit(dump, jobs[i + 1]) if i + 1 < len(jobs) else None
                _convert(session, tables[name], item, columns, lines, dumped, db_path)
                lines.unlink()
            return session.commit()
    finally:
        db.close()


def _convert(session: ImportSession, table: SourceTable, item: dict, columns: list[str], lines: Path,
             dumped: int, db_path: Path) -> None:
    prefix = f"{db_path.name} {item['legacy']} "
    # quote() and %Q render text as 'it''s' and NULL as an unquoted NULL
    raw = session.read_csv_sql(lines, columns, location_prefix=prefix, quote="'", nullstr="NULL")
    where = f"{sql_str(prefix + 'row ')} || raw._row_number"
    source = f"{db_path} table {item['legacy']}"
    if table.name == MAPPING_TABLE:
        staged = f"typed_{table.name}"
        session.con.execute(read_sql("legacy_country_mapping.sql").format(
            staged=staged, raw=raw, location=where, record=record_sql(LEGACY_MAPPING_COLUMNS, "raw")))
        session.store(table, f"select * from {staged}", source=source, rows_in=dumped)
    elif INVALID_EVENT_JSON in columns:
        session.convert(
            table, raw, location_sql=where, source=source, rows_in=dumped,
            reject_first_sql=f"case when raw.{INVALID_EVENT_JSON} is not null then 'invalid_event_json' end",
            record=(record_sql(table.column_names, "raw")
                    + f" || coalesce('; event_json=' || raw.{INVALID_EVENT_JSON}, '')"))
    else:
        session.convert(table, raw, location_sql=where, source=source, rows_in=dumped)
