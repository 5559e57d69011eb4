"""Tests of devtools.compare_marts, the cell-by-cell check of `make test-spark`.

The reference is the dbt build of the tiny data set (conftest.tiny_build). The
candidate is its two marts written as Parquet directories, `<dir>/<table>/*.parquet`,
the layout of a Spark warehouse, with one cell, row or type changed on purpose:
each change beyond its tolerance must fail, each change within it must pass.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pytest

from devtools import compare_marts
from python_hooks.report import MART_TABLES

DAILY = "entity_daily_metrics"


def _candidate(tiny_build, tmp_path: Path, changes: dict[str, str] | None = None,
               where: str = "true", table: str = DAILY, keep_types: bool = True) -> Path:
    """The tiny build's marts as Parquet directories; `changes` (column -> SQL
    expression) replace columns of `table` on the rows where `where` holds, cast
    back to the column's type unless `keep_types` is false."""
    out = tmp_path / "candidate"
    con = duckdb.connect()
    con.execute(f"attach '{tiny_build['warehouse']}' as ref (read_only)")
    for name in MART_TABLES:
        (out / name).mkdir(parents=True)
        types = dict(con.execute(f"select column_name, column_type from (describe ref.main.{name})").fetchall())
        select = "*"
        if name == table and changes:
            select = "* replace (" + ", ".join(
                f"cast(case when {where} then {expression} else {column} end as "
                f"{types[column] if keep_types else 'double'}) as {column}"
                for column, expression in changes.items()) + ")"
        con.execute(f"copy (select {select} from ref.main.{name}) "
                    f"to '{out / name / 'part-00000.parquet'}' (format parquet)")
    con.close()
    return out


def _first_key_with(tiny_build, predicate: str) -> str:
    con = duckdb.connect(str(tiny_build["warehouse"]), read_only=True)
    row = con.execute(f"select entity_type, entity_id, date from {DAILY} where {predicate} "
                      "order by entity_type, entity_id, date limit 1").fetchall()[0]
    con.close()
    return f"entity_type = '{row[0]}' and entity_id = '{row[1]}' and date = DATE '{row[2]}'"


def _run(reference: Path, candidate: Path) -> tuple[int, str]:
    out = io.StringIO()
    results = compare_marts.compare(reference, candidate)
    compare_marts.print_results(results, out=out)
    return (0 if all(r.passed for r in results) else 1), out.getvalue()


def test_identical_builds_pass(tiny_build, tmp_path):
    code, text = _run(tiny_build["warehouse"], _candidate(tiny_build, tmp_path))
    assert code == 0, text
    assert text.splitlines()[-1].endswith(" passed, 0 failed")
    # and the command line says so too
    assert compare_marts.main(["--reference", str(tiny_build["warehouse"]),
                               "--candidate", str(tmp_path / "candidate")]) == 0


def test_a_list_in_another_order_fails(tiny_build, tmp_path):
    # what dbt-spark's listagg gives: the same ids, not sorted
    key = _first_key_with(tiny_build, "trial_user_ids like '%,%'")
    candidate = _candidate(tiny_build, tmp_path, {
        "trial_user_ids": "array_to_string(list_reverse(string_split(trial_user_ids, ',')), ',')"}, key)
    code, text = _run(tiny_build["warehouse"], candidate)
    assert code == 1
    assert "trial_user_ids (exact): 1 cells differ" in text
    assert text.splitlines()[-1].endswith(" passed, 1 failed")


@pytest.mark.parametrize("column, delta, passes", [
    ("meta_spend", "0.01", True),
    ("meta_spend", "0.02", False),
    ("data_quality_score", "-0.01", True),
    ("data_quality_score", "-0.02", False),
    ("trial_accuracy_ratio", "0.0001", True),
    ("trial_accuracy_ratio", "0.0002", False),
    ("meta_clicks", "1", False),
])
def test_tolerances(tiny_build, tmp_path, column, delta, passes):
    key = _first_key_with(tiny_build, f"{column} > 0.5")
    candidate = _candidate(tiny_build, tmp_path, {column: f"{column} + {delta}"}, key)
    code, text = _run(tiny_build["warehouse"], candidate)
    assert (code == 0) == passes, text
    if passes:
        assert f"'{column}': 1" in text  # reported as not bit-identical
    else:
        assert f"{column} (" in text and "1 cells differ" in text


def test_a_null_against_a_value_fails(tiny_build, tmp_path):
    key = _first_key_with(tiny_build, "trial_user_ids is not null")
    candidate = _candidate(tiny_build, tmp_path, {"trial_user_ids": "null"}, key)
    code, text = _run(tiny_build["warehouse"], candidate)
    assert code == 1 and "trial_user_ids (exact): 1 cells differ" in text


def test_a_missing_row_fails(tiny_build, tmp_path):
    candidate = _candidate(tiny_build, tmp_path)
    con = duckdb.connect()
    path = candidate / DAILY / "part-00000.parquet"
    con.execute(f"create table kept as select * from '{path}' order by entity_type, entity_id, date offset 1")
    con.execute(f"copy kept to '{path}' (format parquet)")
    con.close()
    code, text = _run(tiny_build["warehouse"], candidate)
    assert code == 1 and "1 only in the reference" in text


def test_another_type_fails(tiny_build, tmp_path):
    candidate = _candidate(tiny_build, tmp_path, {"meta_spend": "meta_spend"}, keep_types=False)
    code, text = _run(tiny_build["warehouse"], candidate)
    assert code == 1 and "schema: column meta_spend has type DOUBLE, expected DECIMAL(18,2)" in text


def test_a_missing_table_is_a_setup_error(tiny_build, tmp_path):
    (tmp_path / "empty").mkdir()
    assert compare_marts.main(["--reference", str(tiny_build["warehouse"]),
                               "--candidate", str(tmp_path / "empty")]) == 2
