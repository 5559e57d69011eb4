"""``precompute import mixpanel``: Mixpanel's raw event export -> ``mixpanel_event.parquet``.

Reads JSON lines, as Mixpanel's export API returns them (``.gz`` too)::

    {"event": "RC Trial started", "properties": {"time": 1735812000, "distinct_id": "u1",
     "$insert_id": "a1b2", "product_id": "prod_w", ...}}

and the flat shape some pipelines store, with ``event_name``, ``insert_id`` and
``time`` at the top level (a field is looked up in ``properties`` first, then at
the top level). ``time`` is Unix seconds (milliseconds above 1e11; ISO text is
read too). The product and revenue property names are options: the product is
``--product-property`` (default ``product_id``); the revenue is the first
``--revenue-property`` found (default ``revenue_usd``, then ``revenue``).

Every non-blank line is a row: one that is not JSON (``invalid_json``) or not an
object (``not_a_json_object``), or whose time or revenue cannot be read
(``unreadable_event_time``, ``unreadable_revenue_usd``), is rejected with its
line number. Lines are read by DuckDB (in parallel, never all in memory) and
parsed with its JSON functions (``sql/mixpanel_export.sql``).

Only ``mixpanel_event`` comes from the export: the users (with their ad
attribution) and the value estimates come from elsewhere, so the other tables
of the directory are left as they are.
"""

from __future__ import annotations

from pathlib import Path

from python_hooks.importers.common import (
    DEFAULT_MEMORY_LIMIT, ImportReport, ImportSession, SourceUnreadable, importable_tables, read_sql, sql_str,
)

KIND = "mixpanel"
TABLE = "mixpanel_event"
DEFAULT_PRODUCT_PROPERTY = "product_id"
DEFAULT_REVENUE_PROPERTIES = ("revenue_usd", "revenue")
LINE_DELIMITER = chr(31)  # never in a JSON line (raw control characters are invalid JSON): one field per line


def _paths(prop: str, *top_level: str) -> list[str]:
    """Where a field is: ``properties.<prop>``, then the given top-level keys."""
    return [f'$.properties."{prop}"'] + [f'$."{key}"' for key in top_level]


def field_paths(product_property: str, revenue_properties: tuple[str, ...]) -> dict[str, list[str]]:
    """Contract column -> the JSON paths tried, first found wins."""
    revenue = [p for name in revenue_properties for p in _paths(name, name)]
    return {
        "event_uuid": _paths("$insert_id", "insert_id", "$insert_id"),
        "distinct_id": _paths("distinct_id", "distinct_id"),
        "event_name": ["$.event", "$.event_name"],
        "event_time": _paths("time", "time"),
        "product_id": _paths(product_property, product_property),
        "revenue_usd": revenue,
    }


def import_mixpanel(paths: list[Path], out_dir: Path, *, product_property: str = DEFAULT_PRODUCT_PROPERTY,
                    revenue_properties: tuple[str, ...] = DEFAULT_REVENUE_PROPERTIES, time_zone: str = "UTC",
                    memory_limit: str = DEFAULT_MEMORY_LIMIT) -> ImportReport:
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SourceUnreadable("Mixpanel export not found: " + ", ".join(missing))
    for name in (product_property, *revenue_properties):
        if '"' in name or not name:
            raise ValueError(f"a property name must be non-empty, without a double quote: {name!r}")
    table = importable_tables()[TABLE]
    fields = field_paths(product_property, tuple(revenue_properties))
    if set(fields) != set(table.column_names):  # the YAML gained a column this importer does not fill
        raise ValueError(f"{TABLE}: the export fills {sorted(fields)}, the contract has {table.column_names}")

    source = ", ".join(str(p) for p in paths)
    with ImportSession(KIND, source, out_dir, memory_limit=memory_limit) as session:
        con = session.con
        if not con.execute("select count(*) from pg_timezone_names() where name = ?", [time_zone]).fetchall()[0][0]:
            raise ValueError(f"unknown time zone {time_zone!r} (an IANA name such as UTC or Europe/Berlin)")
        # every file in one scan, in order: _row_number counts the lines of all of them
        lines = session.read_csv_sql(paths, ["line"], delim=LINE_DELIMITER, quote="", filename=True)
        counted = con.execute(f"select filename, count(*), count(*) filter (where trim(line) <> '') "
                              f"from ({lines}) group by filename").fetchall()
        per_file = {name: lines_of_file for name, lines_of_file, _ in counted}
        non_blank = sum(rows for _, _, rows in counted)
        malformed = session.add_malformed_records(TABLE)
        # a line's number in its own file: the scan's row number less the lines of the files before it
        offsets, before = [], 0
        for path in paths:
            offsets.append(f"when {sql_str(str(path))} then {before}")
            before += per_file.get(str(path), 0)
        numbered = (f"select regexp_extract(filename, '[^/]*$') as file, "
                    f"_row_number - case filename {' '.join(offsets)} end as line_number, line from ({lines})")

        all_paths = [p for column in table.column_names for p in fields[column]]
        selects, offset = [], 1
        for column in table.column_names:
            found = [f"found[{offset + i}]" for i in range(len(fields[column]))]
            offset += len(fields[column])
            selects.append(f"coalesce({', '.join(found)}) as {column}")
        con.execute(read_sql("mixpanel_export.sql").format(
            lines=f"({numbered})", paths="[" + ", ".join(sql_str(p) for p in all_paths) + "]",
            fields=",\n    ".join(selects)))
        session.convert(
            table, "select * from export_fields", source=source, rows_in=non_blank + malformed,
            location_sql="raw._source_location", record="raw._source_record",
            reject_first_sql="raw._reject_first",
            typed_overrides={"event_time": f"import_export_time(raw.event_time, {sql_str(time_zone)})"})
        return session.commit()
