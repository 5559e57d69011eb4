"""Compare the two marts of two builds, cell by cell (Spark against DuckDB, `make test-spark`).

Usage::

    python -m devtools.compare_marts --reference REF.duckdb --candidate CAND [--report FILE]

``REF.duckdb`` is a DuckDB build of the project (``dbt build``); ``CAND`` is another
DuckDB file, or a directory holding one Parquet directory per table
(``<CAND>/<table>/*.parquet``), as a Spark build writes them under
``spark.sql.warehouse.dir/<schema>.db/``. Both are read through DuckDB, read-only.

For ``entity_daily_metrics``, ``entity_country_breakdown`` and ``entity_cohort_curves``
(``report.MART_TABLES``):

* **rows**: the two sides must hold the same keys (a full outer join on the table's
  key); a key on one side only is a failed row;
* **columns**: the same names, and each compared column of the same type;
* **cells**, every column but the keys and ``computed_at`` (the time of the run):
  lists, counts and flags exactly (NULL = NULL); money (DECIMAL(18,2)) and
  ``data_quality_score`` (DECIMAL(3,2)) to the cent, ``|a - b| <= 0.01``; rates and
  ratios (DECIMAL(5,4), DECIMAL(18,4)) to ``1e-4``. The column classes are those of
  ``precompute validate`` (``python_hooks.validate``). Money is rounded to cents once,
  when stored, from a float sum whose order each engine picks, so a value within a
  float's error of a half cent may round either way: that is the cent allowed.

Prints one line per table and column that differs (with up to 5 example keys),
the number of cells that are not bit-identical but within their tolerance, and a
closing ``cells: N passed, M failed``. Exit code 0 when every cell matches, 1
when any differs, 2 when a table or file is missing.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from python_hooks.report import MART_TABLES, jsonable, write_json
from python_hooks.validate import COUNT_COLUMNS, EXACT_COLUMNS, LIST_COLUMNS, MONEY_COLUMNS, RATIO_COLUMNS

TABLE_KEYS = {
    "entity_daily_metrics": ("entity_type", "entity_id", "date"),
    "entity_country_breakdown": ("entity_type", "entity_id", "date", "country_code"),
    "entity_cohort_curves": ("entity_type", "entity_id", "cohort_date", "days_since_cohort"),
}
NOT_COMPARED = frozenset({"computed_at"})
CENT_COLUMNS = MONEY_COLUMNS | {"data_quality_score"}
TOLERANCE = {"exact": None, "cent": "0.01", "basis point": "0.0001"}
EXAMPLES = 5


class SetupError(Exception):
    """A missing file or table (exit code 2)."""


def rule_of(column: str) -> str:
    """The comparison rule of a column: 'exact', 'cent' or 'basis point' (1e-4)."""
    if column in LIST_COLUMNS or column in COUNT_COLUMNS or column in EXACT_COLUMNS:
        return "exact"
    if column in CENT_COLUMNS:
        return "cent"
    if column in RATIO_COLUMNS:
        return "basis point"
    raise SetupError(f"column {column!r} has no comparison rule (devtools/compare_marts.py)")


@dataclass
class TableResult:
    table: str
    reference_rows: int = 0
    candidate_rows: int = 0
    only_in_reference: int = 0
    only_in_candidate: int = 0
    cells: int = 0
    failed_cells: int = 0
    schema_problems: list[str] = field(default_factory=list)
    # column -> {rule, failed, within_tolerance, examples}
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    row_examples: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.schema_problems or self.only_in_reference or self.only_in_candidate
                    or self.failed_cells)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _relation(con: duckdb.DuckDBPyConnection, side: str, source: Path, table: str) -> str:
    """A relation for `table` of one side: a table of an attached DuckDB file, or
    the Parquet files of `<source>/<table>/`."""
    if source.is_dir():
        files = source / table
        if not any(files.glob("*.parquet")):
            raise SetupError(f"{side}: no Parquet files in {files}")
        return f"read_parquet({_literal(str(files / '*.parquet'))})"
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and table_name = ?", [side, table]
    ).fetchall()[0][0]
    if not found:
        raise SetupError(f"{side}: {source} has no table {table}")
    return f"{side}.main.{_quote(table)}"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"describe select * from {relation}").fetchall()}


def _match(column: str, left: str, right: str) -> str:
    """SQL: TRUE when the two values of `column` match under its rule."""
    tolerance = TOLERANCE[rule_of(column)]
    if tolerance is None:
        return f"({left} is not distinct from {right})"
    return (f"(({left} is null and {right} is null) "
            f"or coalesce(abs({left} - {right}) <= {tolerance}, false))")


def compare_table(con: duckdb.DuckDBPyConnection, table: str, reference: str, candidate: str) -> TableResult:
    result = TableResult(table)
    keys = TABLE_KEYS[table]
    ref_columns, cand_columns = _columns(con, reference), _columns(con, candidate)
    for name in ref_columns.keys() - cand_columns.keys():
        result.schema_problems.append(f"column {name} is missing from the candidate")
    for name in cand_columns.keys() - ref_columns.keys():
        result.schema_problems.append(f"column {name} is only in the candidate")
    compared = [c for c in ref_columns if c in cand_columns and c not in keys and c not in NOT_COMPARED]
    for name in compared:
        if ref_columns[name] != cand_columns[name]:
            result.schema_problems.append(
                f"column {name} has type {cand_columns[name]}, expected {ref_columns[name]}")

    key_select = ", ".join(f"coalesce(ref.{_quote(k)}, cand.{_quote(k)}) as {_quote(k)}" for k in keys)
    on = " and ".join(f"ref.{_quote(k)} = cand.{_quote(k)}" for k in keys)
    values = ", ".join(f"ref.{_quote(c)} as {_quote('ref__' + c)}, cand.{_quote(c)} as {_quote('cand__' + c)}"
                       for c in compared)
    con.execute(f"""
        create or replace temp table compared as
        select {key_select},
            ref.{_quote(keys[0])} is not null as in_reference,
            cand.{_quote(keys[0])} is not null as in_candidate
            {', ' + values if values else ''}
        from {reference} as ref
        full outer join {candidate} as cand on {on}
    """)
    both = "in_reference and in_candidate"
    counted = [
        "count(*) filter (where in_reference)",
        "count(*) filter (where in_candidate)",
        "count(*) filter (where not in_candidate)",
        "count(*) filter (where not in_reference)",
    ]
    for c in compared:
        ref_c, cand_c = _quote("ref__" + c), _quote("cand__" + c)
        counted.append(f"count(*) filter (where {both} and not {_match(c, ref_c, cand_c)})")
        counted.append(f"count(*) filter (where {both} and {ref_c} is distinct from {cand_c})")
    row = con.execute(f"select {', '.join(counted)} from compared").fetchall()[0]
    (result.reference_rows, result.candidate_rows,
     result.only_in_reference, result.only_in_candidate) = row[:4]
    key_list = ", ".join(_quote(k) for k in keys)
    if result.only_in_reference or result.only_in_candidate:
        result.row_examples = _examples(con, f"select {key_list}, in_reference, in_candidate from compared "
                                             f"where not ({both}) order by {key_list} limit {EXAMPLES}")
    rows_in_both = result.reference_rows - result.only_in_reference
    for i, c in enumerate(compared):
        failed, not_identical = row[4 + 2 * i], row[5 + 2 * i]
        result.cells += rows_in_both
        result.failed_cells += failed
        entry = {"rule": rule_of(c), "failed": failed, "within_tolerance": not_identical - failed}
        if failed:
            ref_c, cand_c = _quote("ref__" + c), _quote("cand__" + c)
            entry["examples"] = _examples(
                con, f"select {key_list}, {ref_c} as reference, {cand_c} as candidate from compared "
                     f"where {both} and not {_match(c, ref_c, cand_c)} order by {key_list} limit {EXAMPLES}")
        if failed or not_identical:
            result.columns[c] = entry
    return result


def _examples(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [jsonable(dict(zip(names, r))) for r in cur.fetchall()]


def compare(reference: Path, candidate: Path, tables: tuple[str, ...] = MART_TABLES) -> list[TableResult]:
    """Compare `tables` of two builds; raises SetupError when one is missing."""
    for side, path in (("reference", reference), ("candidate", candidate)):
        if not path.exists():
            raise SetupError(f"{side}: {path} does not exist")
    if reference.is_dir():
        raise SetupError(f"reference: {reference} is a directory; expected a DuckDB file")
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(str(reference))} as reference (read_only)")
        if not candidate.is_dir():
            con.execute(f"attach {_literal(str(candidate))} as candidate (read_only)")
        return [compare_table(con, t, _relation(con, "reference", reference, t),
                              _relation(con, "candidate", candidate, t)) for t in tables]
    finally:
        con.close()


def print_results(results: list[TableResult], out=sys.stdout) -> None:
    for r in results:
        status = "OK" if r.passed else "DIFFERS"
        print(f"{r.table}: {status}: {r.reference_rows} reference rows, {r.candidate_rows} candidate rows, "
              f"{r.cells} cells compared, {r.failed_cells} differ", file=out)
        for problem in r.schema_problems:
            print(f"  schema: {problem}", file=out)
        if r.only_in_reference or r.only_in_candidate:
            print(f"  rows: {r.only_in_reference} only in the reference, {r.only_in_candidate} only in the "
                  f"candidate, e.g. {r.row_examples}", file=out)
        for column, entry in r.columns.items():
            if entry["failed"]:
                print(f"  {column} ({entry['rule']}): {entry['failed']} cells differ, e.g. {entry['examples']}",
                      file=out)
        within = {c: e["within_tolerance"] for c, e in r.columns.items() if e["within_tolerance"]}
        if within:
            print(f"  not bit-identical but within tolerance: {within}", file=out)
    cells = sum(r.cells for r in results)
    failed = sum(r.failed_cells for r in results)
    failed_rows = sum(r.only_in_reference + r.only_in_candidate for r in results)
    schema = sum(len(r.schema_problems) for r in results)
    if failed_rows or schema:
        print(f"rows on one side only: {failed_rows}; schema problems: {schema}", file=out)
    print(f"cells: {cells - failed} passed, {failed + failed_rows + schema} failed", file=out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.compare_marts",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", type=Path, required=True, help="DuckDB file of the reference build")
    p.add_argument("--candidate", type=Path, required=True,
                   help="DuckDB file, or a directory of <table>/*.parquet (a Spark warehouse schema)")
    p.add_argument("--report", type=Path, help="also write the results as JSON")
    args = p.parse_args(argv)
    started = time.monotonic()
    try:
        results = compare(args.reference, args.candidate)
    except (SetupError, duckdb.Error) as exc:
        print(f"compare_marts: {exc}", file=sys.stderr)
        return 2
    print_results(results)
    if args.report:
        write_json(args.report, {
            "reference": str(args.reference), "candidate": str(args.candidate),
            "seconds": round(time.monotonic() - started, 3),
            "passed": all(r.passed for r in results),
            "tables": [jsonable(vars(r)) for r in results],
        })
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
