"""Run report of ``precompute run``: JSON file plus a short human summary.

The warehouse is read only after dbt has returned and released its DuckDB
instance (see ``python_hooks.dbt_runner``), through a read-only connection.
A table is read only when its model was built successfully in this run, so a
failed build never reports the stale tables of an earlier run as its own.
Everything here uses plain values (no dbt import).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from pathlib import Path
from typing import Any, Iterable

import duckdb

from python_hooks.project import LEVELS

MART_TABLES = ("entity_daily_metrics", "entity_country_breakdown", "entity_cohort_curves")
# the marts with a data_quality_score (the curves have none)
SCORED_TABLES = MART_TABLES[:2]
REJECTS_TABLE = "int_source_rows_rejected"
WINDOW_TABLE = "int_reporting_window_resolved"
ENTITIES_TABLE = "int_entities_unioned"
QUALITY_TABLE = "data_quality_checks"  # the data-quality checks (models/marts/quality/)
FRESHNESS_TABLE = "int_source_freshness_measured"  # each source table's rows and dates
# The warn-severity test over QUALITY_TABLE (tests/generic/), for a plain `dbt build`; `precompute
# run` leaves it out and lists the checks from the table (read_quality_checks).
QUALITY_TEST = "quality_checks_pass"
SCORE_BUCKETS = [f"{i / 10:.1f}" for i in range(11)]  # "0.0" = [0.0, 0.1) ... "0.9" = [0.9, 1.0), "1.0" = 1.00


def jsonable(value: Any) -> Any:
    """Plain JSON value: Decimal -> float, dates -> ISO strings, containers recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike[str], payload: dict) -> Path:
    """Write payload as indented JSON (atomically: temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- warehouse facts


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?",
        [table],
    ).fetchone()[0] > 0


def _score_distribution(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    row = con.execute(f"""
        select count(*), min(data_quality_score), median(data_quality_score),
               max(data_quality_score), avg(data_quality_score)
        from main.{table}""").fetchone()
    buckets = dict.fromkeys(SCORE_BUCKETS, 0)
    for bucket, n in con.execute(f"""
            select least(floor(data_quality_score * 10), 10)::integer as b, count(*)
            from main.{table} where data_quality_score is not null
            group by b order by b""").fetchall():
        buckets[SCORE_BUCKETS[int(bucket)]] = n
    null_count = con.execute(
        f"select count(*) from main.{table} where data_quality_score is null").fetchone()[0]
    return {
        "rows": row[0],
        "min": row[1], "median": row[2], "max": row[3],
        "mean": round(float(row[4]), 4) if row[4] is not None else None,
        "null": null_count,
        "buckets": buckets,
    }


def read_warehouse_facts(db_path: str | os.PathLike[str], built: Iterable[str]) -> dict:
    """Facts for the report, read from the warehouse (read-only).

    ``built``: the model names built successfully in this run; other tables are
    reported as not built (None) rather than read (they may be stale).
    """
    built = set(built)
    facts: dict[str, Any] = {
        "window": None, "entities": None, "rows": {}, "rejects": None,
        "data_quality_score": {}, "not_built": [], "read_error": None,
        "data_quality_checks": None, "sources": None,
    }
    wanted = (WINDOW_TABLE, ENTITIES_TABLE, *MART_TABLES, REJECTS_TABLE)
    facts["not_built"] = [t for t in wanted if t not in built]
    facts["rows"] = {t: None for t in (*MART_TABLES, REJECTS_TABLE)}
    if not any(t in built for t in (*wanted, QUALITY_TABLE, FRESHNESS_TABLE)):
        return facts
    if not Path(db_path).is_file():
        facts["read_error"] = f"warehouse file not found: {db_path}"
        return facts
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        facts["read_error"] = f"cannot open {db_path} read-only: {exc}"
        return facts
    try:
        def usable(table: str) -> bool:
            return table in built and _table_exists(con, table)

        if usable(WINDOW_TABLE):
            cur = con.execute(f"select * from main.{WINDOW_TABLE}")
            cols = [d[0] for d in cur.description]
            row = cur.fetchone()
            facts["window"] = dict(zip(cols, row)) if row else None
        if usable(ENTITIES_TABLE):
            ent = {lvl: {"entities": 0, "in_hierarchy_mapping": 0} for lvl in LEVELS}
            for lvl, n, mapped in con.execute(f"""
                    select entity_type, count(*), count(*) filter (where is_in_hierarchy_mapping)
                    from main.{ENTITIES_TABLE} group by entity_type""").fetchall():
                ent[lvl] = {"entities": n, "in_hierarchy_mapping": mapped}
            facts["entities"] = ent
        for table in (*MART_TABLES, REJECTS_TABLE):
            facts["rows"][table] = (
                con.execute(f"select count(*) from main.{table}").fetchone()[0] if usable(table) else None
            )
        if usable(REJECTS_TABLE):
            facts["rejects"] = [
                {"source_table": s, "reject_reason": r, "rows": n}
                for s, r, n in con.execute(f"""
                    select source_table, reject_reason, count(*) from main.{REJECTS_TABLE}
                    group by all order by source_table, reject_reason""").fetchall()
            ]
        for table in SCORED_TABLES:
            if usable(table):
                facts["data_quality_score"][table] = _score_distribution(con, table)
        if usable(FRESHNESS_TABLE):
            facts["sources"] = read_sources(con)
        if usable(QUALITY_TABLE):
            facts["data_quality_checks"] = read_quality_checks(con)
    except duckdb.Error as exc:
        facts["read_error"] = f"reading {db_path}: {exc}"
    finally:
        con.close()
    return facts


def read_sources(con: duckdb.DuckDBPyConnection, schema: str = "main") -> dict[str, dict[str, Any]]:
    """Each source table's rows, first and last date (``int_source_freshness_measured``), by name."""
    return {table: {"rows": rows, "first_date": first, "last_date": last}
            for table, rows, first, last in con.execute(
                f"select source_table, row_count, first_date, last_date from {schema}.{FRESHNESS_TABLE} "
                "order by source_table").fetchall()}


def read_quality_checks(con: duckdb.DuckDBPyConnection, schema: str = "main") -> list[dict[str, Any]]:
    """The rows of ``data_quality_checks``, as the table has them: warnings first, then by name and subject."""
    cursor = con.execute(f"select * from {schema}.{QUALITY_TABLE} "
                         "order by status = 'warn' desc, check_name, subject nulls first")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def quality_warnings(checks: list[dict[str, Any]] | None) -> list[str]:
    """One line per check that warns: ``check_name (subject): detail``."""
    return [f"{c['check_name']}{' (' + c['subject'] + ')' if c.get('subject') else ''}: {c['detail']}"
            for c in checks or [] if c["status"] == "warn"]


def failing_rows_sample(db_path: str | os.PathLike[str], compiled_sql: str, limit: int = 5) -> list[dict] | None:
    """The first failing rows of a test (its compiled SQL), read-only; None when it cannot be read."""
    if not compiled_sql or not Path(db_path).is_file():
        return None
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error:
        return None
    try:
        cur = con.execute(f"select * from ({compiled_sql}) as failing_rows limit {int(limit)}")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    except duckdb.Error:
        return None
    finally:
        con.close()


# --------------------------------------------------------------------------- test results


def summarize_tests(nodes: list[dict]) -> dict:
    """pass / fail / error / warn / skipped counts of data and unit tests, and each failing one."""
    counts = {"pass": 0, "fail": 0, "error": 0, "warn": 0, "skipped": 0}
    failing = []
    for n in nodes:
        if n["resource_type"] not in ("test", "unit_test"):
            continue
        status = n["status"]
        counts[status if status in counts else "error"] += 1
        if status in ("fail", "error", "warn"):
            failing.append({
                "name": n["name"], "unique_id": n["unique_id"], "resource_type": n["resource_type"],
                "status": status, "failures": n.get("failures"), "message": n.get("message"),
                "attached_node": n.get("attached_node"), "failing_rows_sample": n.get("failing_rows_sample"),
            })
    counts["total"] = sum(counts.values())
    return {"counts": counts, "failing": failing}


# --------------------------------------------------------------------------- human summary


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v:,d}"
    return str(v)


def database_message(message: str, indent: str = "        ", max_lines: int = 12) -> list[str]:
    """The database's own words from a dbt error message, indented.

    dbt's first line ("Runtime Error in model X (path)") only names the node;
    the lines after it are the engine's message (the cast that failed and the
    value, ``No space left on device``, ...), which is what the user needs.
    """
    text = message.strip().splitlines()
    if len(text) > 1 and text[0].rstrip().endswith(")") and " in " in text[0]:
        text = text[1:]  # the node is already named on the line above
    body = [line.strip() for line in text if line.strip()][:max_lines]
    return [indent + line[:400] for line in body]


def format_summary(report: dict) -> str:
    """A short human summary of the run report."""
    lines: list[str] = []
    add = lines.append
    status = report["status"].upper()
    add("")
    add(f"=== precompute run {report.get('run_id', '')}: {status} in {report['elapsed_seconds']:.1f}s ===")
    add(f"warehouse   {report['warehouse']}")
    if report.get("build_file"):
        add(f"build       {report['build_file']}")
    add(f"raw data    {report['raw_data_dir']}")
    w = report.get("window")
    if w:
        add(f"window      {w['start_date']} .. {w['as_of_date']} ({w['window_days']} days), "
            f"trial_days {w['trial_days']}, post-trial cohorts up to {w['last_post_trial_cohort_date']}")
    else:
        add("window      - (not built)")
    ent = report.get("entities")
    if ent:
        add("entities    " + ", ".join(
            f"{lvl} {_fmt(ent[lvl]['entities'])} ({_fmt(ent[lvl]['in_hierarchy_mapping'])} mapped)"
            for lvl in LEVELS))
    rows = report.get("rows") or {}
    if rows:
        add("rows        " + ", ".join(
            f"{t} {_fmt(n) if n is not None else '- (not built)'}" for t, n in rows.items()))
    rejects = report.get("rejects")
    if rejects:
        add("rejected rows")
        for r in rejects:
            add(f"  {r['source_table']:<30s} {r['reject_reason']:<26s} {r['rows']:>8,d}")
    elif rejects is not None:
        add("rejected rows: none")
    for table, d in (report.get("data_quality_score") or {}).items():
        add(f"data_quality_score {table}: min {d['min']}  median {d['median']}  max {d['max']}  "
            f"mean {d['mean']}")
        nonzero = [f"{b}:{n:,d}" for b, n in d["buckets"].items() if n]
        add("  per 0.1 bucket  " + ("  ".join(nonzero) if nonzero else "(no rows)"))
    sources = report.get("sources")
    if sources:
        add("sources     " + ", ".join(
            f"{t} {_fmt(d['rows'])} rows" + (f" {d['first_date']} .. {d['last_date']}" if d.get("last_date") else "")
            for t, d in sources.items()))
    checks = report.get("data_quality_checks")
    if checks is not None:
        warned = quality_warnings(checks)
        add(f"data quality {len(warned)} warning{'' if len(warned) == 1 else 's'} "
            f"({len(checks)} checks; never blocks a release)")
        for line in warned:
            add("  WARN  " + line[:400])
    t = report["tests"]["counts"]
    add(f"tests       pass {t['pass']}, fail {t['fail']}, error {t['error']}, warn {t['warn']}, "
        f"skipped {t['skipped']} (of {t['total']})")
    for f in report["tests"]["failing"]:
        n = f["failures"]
        what = (f"{n} failing row{'' if n == 1 else 's'}" if f["status"] in ("fail", "warn") else "error")
        add(f"  {f['status'].upper():<5s} {f['name']}: {what}")
        if f["status"] == "error" and f.get("message"):
            lines.extend(database_message(f["message"]))
        for row in f.get("failing_rows_sample") or []:
            add("        " + ", ".join(f"{k}={v}" for k, v in row.items())[:300])
    nodes = report.get("nodes") or []
    other_failures = [n for n in nodes
                      if n["resource_type"] not in ("test", "unit_test") and n["status"] in ("error", "fail")]
    for n in other_failures:
        add(f"  ERROR {n['resource_type']} {n['name']}:")
        lines.extend(database_message(n.get("message") or ""))
    if nodes:
        slowest = sorted(nodes, key=lambda n: n["execution_time"], reverse=True)[:5]
        add(f"nodes       {len(nodes)} run, slowest: " + ", ".join(
            f"{n['name']} {n['execution_time']:.2f}s" for n in slowest))
    validation = (report.get("gates") or {}).get("validate")
    if validation:
        add(f"validate    {validation['matched']}/{validation['cells']} cells match the on-demand path "
            f"({'pass' if validation['passed'] else 'FAIL'}, {validation['elapsed_seconds']:.1f}s)")
        if validation.get("error"):
            add("  ERROR " + str(validation["error"])[:400])
        for m in (validation.get("mismatches") or [])[:5]:
            add("  MISMATCH " + ", ".join(f"{k}={v}" for k, v in m.items())[:300])
    timings = report.get("timings") or {}
    if timings:
        add("timings     " + ", ".join(f"{k.removesuffix('_seconds')} {v:.1f}s" for k, v in timings.items()))
    for err in report.get("errors") or []:
        add("error       " + err.strip().replace("\n", "\n            "))
    if report.get("warehouse_read_error"):
        add("note        " + report["warehouse_read_error"])
    add(f"report      {report['report_path']}")
    return "\n".join(lines)
