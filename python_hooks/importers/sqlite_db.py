"""``precompute import sqlite``: the legacy dashboard's SQLite database -> the contract's directory.

The legacy tables carry the contract's column names (plus columns of their
own, which are ignored), with two exceptions:

- ``mixpanel_event`` has no ``product_id`` column: the product is in
  ``event_json`` at ``$.properties.<product property>`` (``product_id`` by
  default). An ``event_json`` that is not JSON rejects the event
  (``invalid_event_json``): its product is unknown.
- ``meta_country_mapping`` (``meta_country_name``, ``mixpanel_country_code``,
  ``is_active``) becomes ``breakdown_mapping_country``: its active rows, which
  override the seed label by label (D46). The other rows are rejected with
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
from pathlib import Path

from python_hooks.importers.common import (
    DEFAULT_MEMORY_LIMIT, ImportReport, ImportSession, SourceUnreadable, ident, importable_tables,
    read_sql, record_sql, sql_str,
)

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
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
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


def _line_sql(legacy: str, select: dict[str, str | None], event_json: str | None,
              product_property: str) -> tuple[str, list[str]]:
    """A SQLite query giving each row as one CSV line (``quote()``d fields, NULL
    unquoted), and the names of its fields."""
    fields, names = [], []
    for column, source in select.items():
        if source is None:  # the product, from event_json; NULL when event_json is not JSON
            doc = ident(event_json)
            path = sql_str(_json_path(product_property))
            fields.append(f"quote(case when json_valid({doc}) then cast(json_extract({doc}, {path}) as text) end)")
            names.append(column)
            # the text of an event_json that is not JSON, so that the reject shows it
            fields.append(f"quote(case when {doc} is not null and not json_valid({doc}) "
                          f"then cast({doc} as text) end)")
            names.append(INVALID_EVENT_JSON)
        else:
            fields.append(f"quote({ident(source)})")
            names.append(column)
    line = " || ',' || ".join(fields)
    return f"select {line} || char(10) from {ident(legacy)}", names


def _dump(db: sqlite3.Connection, query: str, target: Path, batch_rows: int) -> None:
    """Stream the query's lines into ``target``, ``batch_rows`` at a time."""
    cursor = db.execute(query)
    with open(target, "w", encoding="utf-8", newline="") as out:
        while True:
            batch = cursor.fetchmany(batch_rows)
            if not batch:
                break
            out.write("".join([row[0] for row in batch]))


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
        with ImportSession(KIND, str(db_path), out_dir, memory_limit=memory_limit) as session:
            for name, item in plan.items():
                query, columns = _line_sql(item["legacy"], item["select"], item["event_json"], product_property)
                lines = session.scratch_file(f"{name}.csv")
                try:
                    _dump(db, query, lines, batch_rows)
                except sqlite3.DatabaseError as exc:
                    raise SourceUnreadable(f"{db_path}: reading table '{item['legacy']}' failed: {exc}") from None
                prefix = f"{db_path.name} {item['legacy']} "
                # quote() renders text as 'it''s' and NULL as an unquoted NULL
                raw = session.read_csv_sql(lines, columns, location_prefix=prefix, quote="'", nullstr="NULL")
                where = f"{sql_str(prefix + 'row ')} || raw._row_number"
                source = f"{db_path} table {item['legacy']}"
                if name == MAPPING_TABLE:
                    staged = f"typed_{name}"
                    session.con.execute(read_sql("legacy_country_mapping.sql").format(
                        staged=staged, raw=raw, location=where, record=record_sql(LEGACY_MAPPING_COLUMNS, "raw")))
                    session.store(tables[name], staged, source=source)
                elif INVALID_EVENT_JSON in columns:
                    session.convert(
                        tables[name], raw, location_sql=where, source=source,
                        reject_first_sql=f"case when raw.{INVALID_EVENT_JSON} is not null then 'invalid_event_json' end",
                        record=(record_sql(tables[name].column_names, "raw")
                                + f" || coalesce('; event_json=' || raw.{INVALID_EVENT_JSON}, '')"))
                else:
                    session.convert(tables[name], raw, location_sql=where, source=source)
                lines.unlink()
            return session.commit()
    finally:
        db.close()
