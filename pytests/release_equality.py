"""Cell-for-cell equality of two releases' published tables (the incremental refresh's tests).

Every published table (``python_hooks.release.PUBLISHED_TABLES``) must hold the
same rows in both files; ``computed_at`` (when a row was computed) is the only
column left out. The tables keyed on (entity_type, entity_id, date[, country_code])
are joined on that key and compared column by column: text, integers, dates,
booleans and lists exactly; a DECIMAL may differ by one unit of its last stored
digit (one cent, 0.0001), a DOUBLE by 1e-9 relative. Two *full* builds of the
same inputs already differ that much: DuckDB sums doubles (spend, revenue) in a
thread-dependent order, so a sum such as 270.35 lands on 270.3499999… in one
build and 270.3500000…1 in the other, and half a cent rounds either way (measured
on the sample: 13 of about 1,000 breakdown rows, docs/decisions.md D84); a range
part ``<rate>_weighted`` (the stored rate times its pair count) may differ by
that many units. Every
other published table is compared exactly, as a multiset of rows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from python_hooks.release import PUBLISHED_TABLES

IGNORED_COLUMNS = ("computed_at",)
ENTITY_DAY_KEY = ("entity_type", "entity_id", "date")


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? "
        "and schema_name = 'main' and table_name = ? order by column_index", [database, table]).fetchall()


def _cell_differs(column: str, data_type: str, columns: list[str]) -> str:
    left, right = f'expected."{column}"', f'actual."{column}"'
    if data_type.startswith("DECIMAL"):
        scale = int(data_type.rstrip(")").split(",")[1])
        unit = f"{10 ** -scale}"
        # a range part `<rate>_weighted` is the stored (rounded) daily rate times its pair
        # count, so one unit of the rate is `count` units of the part (range_parts models)
        count = column.replace("_rate_estimated_weighted", "_estimate_pair_count")
        if column.endswith("_weighted") and count in columns:
            unit = f'{unit} * greatest(1, expected."{count}")'
        return f"coalesce(abs({left} - {right}) > {unit}, {left} is distinct from {right})"
    if data_type in ("DOUBLE", "FLOAT"):
        return (f"coalesce(abs({left} - {right}) > 1e-9 * greatest(1, abs({left})), "
                f"{left} is distinct from {right})")
    return f"{left} is distinct from {right}"


def release_differences(expected: Path, actual: Path, sample: int = 3) -> dict[str, dict]:
    """Per table that differs: what differs, with a sample. ``"__cells__"``: cells compared."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as expected_db (read_only)", [str(expected)])
        con.execute("attach ? as actual_db (read_only)", [str(actual)])
        out: dict[str, dict] = {}
        cells = 0
        for table in PUBLISHED_TABLES:
            columns = _columns(con, "expected_db", table)
            if columns != _columns(con, "actual_db", table):
                out[table] = {"columns": (columns, _columns(con, "actual_db", table))}
                continue
            if not columns:
                continue
            kept = [(c, t) for c, t in columns if c not in IGNORED_COLUMNS]
            rows = con.execute(f"select count(*) from expected_db.main.{table}").fetchone()[0]
            cells += rows * len(kept)
            names = [c for c, _ in kept]
            key = [c for c in (*ENTITY_DAY_KEY, "country_code") if c in names]
            if len(key) < len(ENTITY_DAY_KEY):  # no entity-day key: the rows as a multiset
                listed = ", ".join(f'"{c}"' for c in names)
                diff = {}
                for side, left, right in (("only_expected", "expected_db", "actual_db"),
                                          ("only_actual", "actual_db", "expected_db")):
                    query = (f"select {listed} from {left}.main.{table} except all "
                             f"select {listed} from {right}.main.{table}")
                    found = con.execute(f"{query} limit {sample}").fetchall()
                    if found:
                        diff[side] = found
                if diff:
                    out[table] = diff
                continue
            on = " and ".join(f'expected."{k}" = actual."{k}"' for k in key)
            differs = " or ".join(f"({_cell_differs(c, t, names)})" for c, t in kept if c not in key)
            listed_key = ", ".join(f'coalesce(expected."{k}", actual."{k}") as "{k}"' for k in key)
            query = f"""
                select {listed_key},
                    expected."{key[0]}" is null as only_actual,
                    actual."{key[0]}" is null as only_expected
                from expected_db.main.{table} as expected
                full outer join actual_db.main.{table} as actual on {on}
                where expected."{key[0]}" is null or actual."{key[0]}" is null or {differs}"""
            count = con.execute(f"select count(*) from ({query})").fetchone()[0]
            if count:
                detail = []
                for row in con.execute(f"{query} limit {sample}").fetchall():
                    where = " and ".join(f'"{k}" = ?' for k in key)
                    values = list(row[:len(key)])
                    pair = [con.execute(f"select {', '.join(chr(34) + c + chr(34) for c in names)} from {db}.main.{table} where {where}",
                                        values).fetchall() for db in ("expected_db", "actual_db")]
                    detail.append({"key": values, "expected": pair[0], "actual": pair[1]})
                out[table] = {"rows_differing": count, "sample": detail}
        out["__cells__"] = cells
        return out
    finally:
        con.close()
