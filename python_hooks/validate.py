"""``precompute validate``: compare pre-computed cells with the on-demand path.

The warehouse is opened read-only. Its resolved window (``int_reporting_window_resolved``:
start_date, as_of_date, trial_days) is handed to ``OnDemandMetrics``, so both sides use
the same window; ``--start`` / ``--as-of``, when given, must equal it (exit 2 otherwise:
rebuild with ``precompute run --start ... --as-of ...``).

The raw directory of the on-demand side is ``--raw-dir``, else the directory the
warehouse was built from (read from the ``read_parquet('...')`` path in the view
``base_meta_ads__ad_performance_daily``), else ``$RAW_DATA_DIR`` / the bundled sample.

Cells
-----
``--cases N`` cells are drawn with ``random.Random(--seed)`` (default 0); the pools are
read in key order, so a seed always gives the same cells. Levels alternate
campaign / adset / ad inside each category:

* 35% ``overall``          rows of entity_daily_metrics where something happened
* 15% ``overall_empty``    rows of entity_daily_metrics with nothing (zeros, NULL lists)
* 35% ``breakdown``        rows of entity_country_breakdown
* 15% ``breakdown_absent`` (entity, date, country) with NO breakdown row; drawn near
  existing rows (same entity and date, other country; same entity and country, other
  day) or at random. The on-demand side must return no row either.

A category whose pool is too small passes its share on to the next ones, so fewer than
N cells are drawn only when the warehouse holds fewer distinct candidates.

Comparison rules (every metric column of the on-demand side; computed_at and
data_quality_score are skipped, keys are not compared)
---------------------------------------------------------------------
* counts (INTEGER columns) and the six ``*_user_ids`` lists: exact equality (NULL = NULL).
* money (``*_usd``, ``meta_spend``, ``*_cost_per_*``): the stored DECIMAL(10,2) must equal
  the on-demand float rounded half-up to cents. Exactly: with ``q(v)`` = ``Decimal(repr(v))``
  quantized to 0.01 ROUND_HALF_UP, match iff ``stored in {q(x - 1e-9), q(x + 1e-9)}``.
  Outside 1e-9 of a half cent both are ``q(x)``; within it, float summation order on
  either side may legitimately tip the cent, and either is accepted.
* rates and ratios (the six rates, the two accuracy ratios, click_to_trial_rate,
  estimated_roas): ``abs(stored - x) <= 1e-4 + 1e-9``. A stored value that is not
  ``x`` rounded half-up to 4 decimals (same 1e-9 rule) is listed as a rounding note,
  without failing the cell.
* row presence (breakdown): both sides must agree that the row exists.

A cell matches when every column matches. The share of matching cells is printed with
every mismatch (cell, column, both values); the exit code is 1 when the share is below
the threshold (99.9%) or when the two entity sets (``int_entities_unioned`` vs
``OnDemandMetrics.entities()``) differ, 2 on a usage / setup error, else 0.
The report is written to ``<target>/precompute_validate_report.json``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from python_hooks.on_demand import METRIC_COLUMNS, OnDemandMetrics
from python_hooks.report import jsonable, write_json

LEVELS = ("campaign", "adset", "ad")
OVERALL, BREAKDOWN = "entity_daily_metrics", "entity_country_breakdown"
CATEGORIES = (  # (name, table, share of --cases)
    ("overall", OVERALL, 0.35),
    ("overall_empty", OVERALL, 0.15),
    ("breakdown", BREAKDOWN, 0.35),
    ("breakdown_absent", BREAKDOWN, 0.15),
)
SKIPPED_COLUMNS = ("computed_at", "data_quality_score")
KEY_COLUMNS = ("entity_type", "entity_id", "date", "country_code")
COMPARED = tuple(c for c in METRIC_COLUMNS if c not in KEY_COLUMNS)
COUNT_COLUMNS = frozenset({
    "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
})
LIST_COLUMNS = frozenset(c for c in COMPARED if c.endswith("_user_ids"))
MONEY_COLUMNS = frozenset(c for c in COMPARED if c.endswith("_usd") or c == "meta_spend" or "_cost_per_" in c)
RATIO_COLUMNS = frozenset(c for c in COMPARED if c not in COUNT_COLUMNS | LIST_COLUMNS | MONEY_COLUMNS)

EMPTY_PREDICATE = """(
    meta_spend = 0 and meta_impressions = 0 and meta_clicks = 0 and meta_trial_count = 0
    and meta_purchase_count = 0 and mixpanel_trial_count = 0 and mixpanel_purchase_count = 0
    and trial_user_ids is null and purchase_user_ids is null)"""
POOL_PREDICATE = {
    "overall": f"not {EMPTY_PREDICATE}",
    "overall_empty": EMPTY_PREDICATE,
    "breakdown": "true",
}
RATE_TOLERANCE = 1e-4 + 1e-9
BOUNDARY_SLACK = 1e-9
CENT = decimal.Decimal("0.01")
BASIS = decimal.Decimal("0.0001")


class SetupError(Exception):
    """A problem with the inputs (exit code 2)."""


@dataclass(frozen=True)
class Cell:
    category: str
    table: str
    entity_type: str
    entity_id: str
    date: _dt.date
    country_code: str | None = None

    def key(self) -> dict:
        d = {"table": self.table, "entity_type": self.entity_type, "entity_id": self.entity_id,
             "date": self.date.isoformat()}
        if self.country_code is not None:
            d["country_code"] = self.country_code
        return d

    def label(self) -> str:
        c = f" {self.country_code}" if self.country_code is not None else ""
        return f"{self.table} {self.entity_type} {self.entity_id!r} {self.date}{c}"


# --------------------------------------------------------------------------- comparison rules


def _round_half_up(x: float, step: decimal.Decimal) -> set[decimal.Decimal]:
    return {decimal.Decimal(repr(v)).quantize(step, rounding=decimal.ROUND_HALF_UP)
            for v in (x - BOUNDARY_SLACK, x + BOUNDARY_SLACK)}


def compare_value(column: str, stored: Any, on_demand: Any) -> tuple[bool, bool]:
    """(matches, rounding_note) for one column, by the rules of the module docstring."""
    if column in LIST_COLUMNS:
        return stored == on_demand, False
    if stored is None or on_demand is None:
        return stored is None and on_demand is None, False
    if column in COUNT_COLUMNS:
        return int(stored) == int(on_demand) and float(on_demand) == int(on_demand), False
    x = float(on_demand)
    if column in MONEY_COLUMNS:
        return decimal.Decimal(stored) in _round_half_up(x, CENT), False
    ok = abs(float(stored) - x) <= RATE_TOLERANCE
    note = ok and decimal.Decimal(stored).quantize(BASIS) not in _round_half_up(x, BASIS)
    return ok, note


def rule_of(column: str) -> str:
    if column in LIST_COLUMNS:
        return "list: exact"
    if column in COUNT_COLUMNS:
        return "count: exact"
    if column in MONEY_COLUMNS:
        return "money: stored == round_half_up(on_demand, 2)"
    return "rate/ratio: |stored - on_demand| <= 1e-4"


# --------------------------------------------------------------------------- warehouse access


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def read_window(con: duckdb.DuckDBPyConnection) -> dict:
    try:
        rows = _rows(con, "select * from main.int_reporting_window_resolved")
    except duckdb.CatalogException:
        raise SetupError("the warehouse has no main.int_reporting_window_resolved: "
                         "build it first with `precompute run`") from None
    if len(rows) != 1:
        raise SetupError(f"int_reporting_window_resolved holds {len(rows)} rows, expected 1")
    return rows[0]


def built_raw_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The raw directory the warehouse was built from, if recorded: the
    ``raw_data_dir`` column of int_reporting_window_resolved, else the path in a
    staging view (warehouses whose base_ models are views)."""
    try:
        row = con.execute("select raw_data_dir from main.int_reporting_window_resolved").fetchone()
        if row and row[0]:
            return Path(row[0])
    except duckdb.Error:
        pass
    try:
        row = con.execute(
            "select sql from duckdb_views() where view_name = 'base_meta_ads__ad_performance_daily'"
        ).fetchone()
    except duckdb.Error:
        return None
    if not row or not row[0]:
        return None
    m = re.search(r"read_parquet\('((?:[^']|'')+)/ad_performance_daily\.parquet'\)", row[0])
    return Path(m.group(1).replace("''", "'")) if m else None


def _pool_size(con, table: str, level: str, predicate: str) -> int:
    return con.execute(f"select count(*) from main.{table} where entity_type = ? and {predicate}",
                       [level]).fetchone()[0]


def _rows_at(con, table: str, level: str, predicate: str, positions: list[int]) -> list[dict]:
    """Rows at the given 0-based positions of the pool in key order (positions may repeat)."""
    if not positions:
        return []
    order = "entity_id, date" + (", country_code" if table == BREAKDOWN else "")
    keys = "entity_type, entity_id, date" + (", country_code" if table == BREAKDOWN else "")
    got = _rows(con, f"""
        select * from (
            select {keys}, row_number() over (order by {order}) - 1 as pos
            from main.{table} where entity_type = ? and {predicate}
        ) where pos in (select unnest(?::bigint[]))""", [level, sorted(set(positions))])
    by_pos = {r.pop("pos"): r for r in got}
    return [by_pos[p] for p in positions]


# --------------------------------------------------------------------------- sampling


def _level_cycle(rng: random.Random) -> list[str]:
    offset = rng.randrange(len(LEVELS))
    return [LEVELS[(offset + i) % len(LEVELS)] for i in range(len(LEVELS))]


def _split(k: int, levels: list[str]) -> dict[str, int]:
    return {lvl: k // len(levels) + (1 if i < k % len(levels) else 0) for i, lvl in enumerate(levels)}


def draw_cells(con: duckdb.DuckDBPyConnection, window: dict, cases: int, seed: int) -> tuple[list[Cell], dict]:
    rng = random.Random(seed)
    start, as_of = window["start_date"], window["as_of_date"]
    n_days = (as_of - start).days + 1
    wanted = {name: int(round(cases * share)) for name, _, share in CATEGORIES}
    wanted["breakdown_absent"] = cases - sum(v for k, v in wanted.items() if k != "breakdown_absent")

    cells: list[Cell] = []
    stats: dict[str, Any] = {"requested": cases, "per_category": {}, "short": {}}
    carry = 0
    order = ("overall", "overall_empty", "breakdown", "breakdown_absent")
    tables = {name: table for name, table, _ in CATEGORIES}
    drawn_by_cat: dict[str, list[Cell]] = {}
    for name in order:
        k = wanted[name] + carry
        if name == "breakdown_absent":
            got = _draw_absent(con, rng, k, start, n_days)
        else:
            got = _draw_existing(con, rng, name, tables[name], k)
        carry = k - len(got)
        drawn_by_cat[name] = got
    if carry:  # the absent pool came up short: top up the existing-row categories, in order
        for name in ("overall_empty", "overall", "breakdown"):
            if not carry:
                break
            seen = set(drawn_by_cat[name])
            extra = [c for c in _draw_existing(con, rng, name, tables[name], len(seen) + carry)
                     if c not in seen]
            drawn_by_cat[name] += extra[:carry]
            carry -= len(extra[:carry])
    for name in order:
        cells += drawn_by_cat[name]
        stats["per_category"][name] = dict(Counter(c.entity_type for c in drawn_by_cat[name]),
                                           total=len(drawn_by_cat[name]))
    stats["drawn"] = len(cells)
    if carry:
        stats["short"] = {"missing": carry,
                          "why": "the warehouse holds fewer distinct candidate cells than --cases"}
    return cells, stats


def _draw_existing(con, rng: random.Random, name: str, table: str, k: int) -> list[Cell]:
    predicate = POOL_PREDICATE[name]
    sizes = {lvl: _pool_size(con, table, lvl, predicate) for lvl in LEVELS}
    levels = _level_cycle(rng)
    want = _split(k, levels)
    # pass what a level cannot give on to the others
    take = {lvl: min(want[lvl], sizes[lvl]) for lvl in levels}
    spare = k - sum(take.values())
    for lvl in levels:
        extra = min(spare, sizes[lvl] - take[lvl])
        take[lvl] += extra
        spare -= extra
    cells = []
    for lvl in levels:
        positions = sorted(rng.sample(range(sizes[lvl]), take[lvl]))
        for r in _rows_at(con, table, lvl, predicate, positions):
            cells.append(Cell(name, table, r["entity_type"], r["entity_id"], r["date"], r.get("country_code")))
    return cells


def _draw_absent(con, rng: random.Random, k: int, start: _dt.date, n_days: int) -> list[Cell]:
    if k <= 0:
        return []
    countries = sorted({r[0] for r in con.execute(
        f"select distinct country_code from main.{BREAKDOWN}").fetchall()} | {"ZZ", "US"})
    entities = {lvl: [r[0] for r in con.execute(
        "select entity_id from main.int_entities_unioned where entity_type = ? order by entity_id",
        [lvl]).fetchall()] for lvl in LEVELS}
    present_cache: dict[tuple[str, str], set] = {}

    def present(level: str, eid: str) -> set:
        if (level, eid) not in present_cache:
            present_cache[(level, eid)] = set(con.execute(
                f"select date, country_code from main.{BREAKDOWN} where entity_type = ? and entity_id = ?",
                [level, eid]).fetchall())
        return present_cache[(level, eid)]

    levels = _level_cycle(rng)
    want = _split(k, levels)
    chosen: set[tuple] = set()
    cells: list[Cell] = []
    for lvl in levels:
        if not entities[lvl]:
            continue
        size = _pool_size(con, BREAKDOWN, lvl, "true")
        anchors = (_rows_at(con, BREAKDOWN, lvl, "true", [rng.randrange(size) for _ in range(want[lvl])])
                   if size else [])
        for i in range(want[lvl]):
            strategy = i % 3 if size else 2
            found = None
            for _attempt in range(20):  # near an existing row (strategies 0, 1) or at random (2)
                if strategy == 0:  # same entity and day as a real row, another country
                    a = anchors[i]
                    eid, day, cc = a["entity_id"], a["date"], rng.choice(countries)
                elif strategy == 1:  # same entity and country as a real row, another day
                    a = anchors[i]
                    eid, cc = a["entity_id"], a["country_code"]
                    day = start + _dt.timedelta(days=rng.randrange(n_days))
                else:
                    eid = rng.choice(entities[lvl])
                    day = start + _dt.timedelta(days=rng.randrange(n_days))
                    cc = rng.choice(countries)
                if (lvl, eid, day, cc) not in chosen and (day, cc) not in present(lvl, eid):
                    found = (lvl, eid, day, cc)
                    break
            if found is None:  # dense breakdown: enumerate the free combos of random entities
                for eid in rng.sample(entities[lvl], len(entities[lvl])):
                    free = [(d, c) for d in (start + _dt.timedelta(days=j) for j in range(n_days))
                            for c in countries
                            if (d, c) not in present(lvl, eid) and (lvl, eid, d, c) not in chosen]
                    if free:
                        day, cc = rng.choice(free)
                        found = (lvl, eid, day, cc)
                        break
            if found is not None:
                chosen.add(found)
                cells.append(Cell("breakdown_absent", BREAKDOWN, *found))
    return cells


# --------------------------------------------------------------------------- comparison


def compare_cells(con, od: OnDemandMetrics, cells: list[Cell]) -> dict:
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for c in cells:
        groups[(c.table, c.entity_type, c.entity_id, c.country_code)].append(c)

    mismatches: list[dict] = []
    notes: list[dict] = []
    failed_cells: set[Cell] = set()
    column_mismatches: Counter = Counter()
    columns_checked = 0
    for (table, level, eid, cc), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        d0 = min(c.date for c in group)
        d1 = max(c.date for c in group)
        where = "entity_type = ? and entity_id = ? and date between ? and ?"
        params: list[Any] = [level, eid, d0, d1]
        if table == BREAKDOWN:
            where += " and country_code = ?"
            params.append(cc)
        stored = {r["date"]: r for r in _rows(con, f"select * from main.{table} where {where}", params)}
        try:
            daily = od.daily_metrics(level, eid, d0, d1, country=cc)
            ondemand = {d0 + _dt.timedelta(days=i): rec for i, rec in enumerate(daily)}
            od_error = None
        except (ValueError, TypeError) as exc:
            ondemand, od_error = {}, f"{type(exc).__name__}: {exc}"

        for cell in group:
            s = stored.get(cell.date)
            if od_error is not None:
                mismatches.append({"cell": cell.key(), "category": cell.category, "column": "(row)",
                                   "warehouse": "present" if s else "absent", "on_demand": od_error,
                                   "rule": "on-demand side must answer"})
                column_mismatches["(row)"] += 1
                failed_cells.add(cell)
                continue
            o = ondemand.get(cell.date)
            if s is None or o is None:
                if (s is None) != (o is None):
                    mismatches.append({"cell": cell.key(), "category": cell.category, "column": "(row)",
                                       "warehouse": "present" if s else "absent",
                                       "on_demand": "present" if o else "absent",
                                       "rule": "row presence",
                                       "detail": {k: o[k] for k in ("mixpanel_trial_count",
                                                  "mixpanel_purchase_count", "meta_spend")} if o else None})
                    column_mismatches["(row)"] += 1
                    failed_cells.add(cell)
                continue
            for col in COMPARED:
                if col not in s:
                    continue
                columns_checked += 1
                ok, note = compare_value(col, s[col], o.get(col))
                if not ok:
                    mismatches.append({"cell": cell.key(), "category": cell.category, "column": col,
                                       "warehouse": s[col], "on_demand": o.get(col), "rule": rule_of(col)})
                    column_mismatches[col] += 1
                    failed_cells.add(cell)
                elif note:
                    notes.append({"cell": cell.key(), "column": col, "warehouse": s[col],
                                  "on_demand": o.get(col)})
    per_category = Counter(c.category for c in cells)
    per_category_failed = Counter(c.category for c in failed_cells)
    return {
        "cells": len(cells),
        "matching_cells": len(cells) - len(failed_cells),
        "columns_checked": columns_checked,
        "mismatches": mismatches,
        "mismatches_per_column": dict(column_mismatches.most_common()),
        "per_category": {k: {"cells": n, "mismatched": per_category_failed.get(k, 0)}
                         for k, n in per_category.items()},
        "rounding_notes": notes,
    }


def compare_entity_sets(con, od: OnDemandMetrics) -> dict:
    wh = defaultdict(set)
    for t, e in con.execute("select entity_type, entity_id from main.int_entities_unioned").fetchall():
        wh[t].add(e)
    odset = {t: set(ids) for t, ids in od.entities().items()}
    out = {}
    for lvl in LEVELS:
        out[lvl] = {
            "warehouse": len(wh[lvl]), "on_demand": len(odset.get(lvl, ())),
            "only_in_warehouse": sorted(wh[lvl] - odset.get(lvl, set())),
            "only_on_demand": sorted(odset.get(lvl, set()) - wh[lvl]),
        }
    return out


# --------------------------------------------------------------------------- entry point


def _fmt(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def main_validate(*, warehouse: Path, raw_dir: Path | None, default_raw_dir: Path, start: str | None,
                  as_of: str | None, cases: int, seed: int, report_path: Path,
                  country_mapping_csv: Path, threshold: float = 99.9, out=None) -> int:
    out = out or sys.stdout
    t0 = time.monotonic()
    try:
        if not warehouse.is_file():
            raise SetupError(f"warehouse not found: {warehouse} (build it with `precompute run`)")
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.Error as exc:
            raise SetupError(f"cannot open {warehouse} read-only: {exc}") from None
        try:
            return _validate(con, warehouse=warehouse, raw_dir=raw_dir, default_raw_dir=default_raw_dir,
                             start=start, as_of=as_of, cases=cases, seed=seed, report_path=report_path,
                             country_mapping_csv=country_mapping_csv, threshold=threshold, out=out, t0=t0)
        finally:
            con.close()
    except SetupError as exc:
        print(f"precompute validate: {exc}", file=sys.stderr)
        return 2


def _validate(con, *, warehouse, raw_dir, default_raw_dir, start, as_of, cases, seed, report_path,
              country_mapping_csv, threshold, out, t0) -> int:
    window = read_window(con)
    for name, given in (("start_date", start), ("as_of_date", as_of)):
        if given and _dt.date.fromisoformat(given) != window[name]:
            raise SetupError(
                f"--{'start' if name == 'start_date' else 'as-of'} {given} differs from the warehouse's "
                f"{name} {window[name]}: rebuild with `precompute run --start ... --as-of ...` first")
    recorded = built_raw_dir(con)
    warnings = []
    if raw_dir is None:
        raw_dir = recorded if recorded is not None else default_raw_dir
        if recorded is not None and not recorded.is_absolute():
            raw_dir = (Path(__file__).resolve().parent.parent / recorded)
    elif recorded is not None and recorded.is_absolute() and recorded.resolve() != raw_dir.resolve():
        warnings.append(f"--raw-dir {raw_dir} is not the directory the warehouse was built from "
                        f"({recorded})")
    trial_days = int(window["trial_days"])
    try:
        od = OnDemandMetrics(raw_dir, start_date=window["start_date"], as_of_date=window["as_of_date"],
                             trial_days=trial_days, country_mapping_csv=country_mapping_csv)
    except (FileNotFoundError, ValueError) as exc:
        raise SetupError(f"on-demand side: {exc}") from None

    print(f"precompute validate: warehouse {warehouse}", file=out)
    print(f"  raw data {raw_dir}", file=out)
    print(f"  window {window['start_date']} .. {window['as_of_date']}, trial_days {trial_days}; "
          f"seed {seed}, cases {cases}", file=out)
    for w in warnings:
        print(f"  WARNING {w}", file=out)
    out.flush()

    cells, sampling = draw_cells(con, window, cases, seed)
    result = compare_cells(con, od, cells)
    entity_sets = compare_entity_sets(con, od)
    entity_diff = any(v["only_in_warehouse"] or v["only_on_demand"] for v in entity_sets.values())

    n, ok = result["cells"], result["matching_cells"]
    share = 100.0 * ok / n if n else 0.0
    passed = n > 0 and share >= threshold and not entity_diff

    for m in result["mismatches"]:
        cell = Cell(m["category"], **{k: (_dt.date.fromisoformat(v) if k == "date" else v)
                                       for k, v in m["cell"].items()})
        print(f"MISMATCH {cell.label()} [{m['category']}] {m['column']}: "
              f"warehouse={_fmt(m['warehouse'])} on_demand={_fmt(m['on_demand'])} ({m['rule']})", file=out)
    for lvl, v in entity_sets.items():
        if v["only_in_warehouse"] or v["only_on_demand"]:
            print(f"ENTITY SET {lvl}: only in warehouse {v['only_in_warehouse']}, "
                  f"only on demand {v['only_on_demand']}", file=out)
    print("", file=out)
    print("cells per category: " + ", ".join(
        f"{k} {v['cells']} ({v['mismatched']} mismatched)" for k, v in result["per_category"].items()),
        file=out)
    if sampling.get("short"):
        print(f"note: drew {sampling['drawn']} of {cases} cells: {sampling['short']['why']}", file=out)
    if result["mismatches_per_column"]:
        print("mismatches per column: " + ", ".join(
            f"{k} {v}" for k, v in result["mismatches_per_column"].items()), file=out)
    if result["rounding_notes"]:
        print(f"rounding notes (within 1e-4, not the half-up 4-decimal rounding): "
              f"{len(result['rounding_notes'])}", file=out)
    print(f"entity sets: " + ", ".join(
        f"{lvl} {v['warehouse']}/{v['on_demand']}" for lvl, v in entity_sets.items())
        + (" (DIFFER)" if entity_diff else " (equal)"), file=out)
    print(f"matching cells: {ok}/{n} = {share:.2f}% (threshold {threshold}%) -> "
          f"{'PASS' if passed else 'FAIL'}", file=out)

    report = {
        "status": "pass" if passed else "fail",
        "share_percent": round(share, 4),
        "threshold_percent": threshold,
        "matching_cells": ok,
        "cells": n,
        "seed": seed,
        "cases_requested": cases,
        "warehouse": warehouse,
        "raw_data_dir": raw_dir,
        "raw_data_dir_recorded_in_warehouse": recorded,
        "window": window,
        "warnings": warnings,
        "sampling": sampling,
        "entity_sets": entity_sets,
        "rules": {
            "skipped_columns": list(SKIPPED_COLUMNS),
            "count_columns": sorted(COUNT_COLUMNS),
            "list_columns": sorted(LIST_COLUMNS),
            "money_columns": sorted(MONEY_COLUMNS),
            "ratio_columns": sorted(RATIO_COLUMNS),
            "counts_and_lists": "exact equality (NULL equals NULL)",
            "money": "stored DECIMAL in {round_half_up(x - 1e-9, 2), round_half_up(x + 1e-9, 2)}",
            "rates_and_ratios": "abs(stored - x) <= 1e-4 + 1e-9",
        },
        **{k: v for k, v in result.items() if k not in ("cells", "matching_cells")},
        "cells_compared": [c.key() | {"category": c.category} for c in cells],
        "elapsed_seconds": round(time.monotonic() - t0, 3),
    }
    write_json(report_path, jsonable(report))
    print(f"report {report_path}", file=out)
    return 0 if passed else 1
