"""``precompute run --incremental``: recompute only the entity-days that changed since the last release.

The published release keeps a snapshot of the source files it was built from
(``<release dir>/inputs/<table>.parquet``, written by ``ReleaseStore.export``). An
incremental run compares the current source files with that snapshot, row by
row, and turns the rows that differ (added, removed or changed, on either side)
into *scope files* that the dbt models read through the var
``incremental_scope_dir`` (``macros/incremental/``; docs/decisions.md D76-D85):

* ``touched_users``: users with a changed event, user row or metrics row, and,
  when as_of_date moves, users with events on the newly included days;
* ``touched_keys``: entity-days of the *previous* state: the old cohorts of the
  touched users (read from the previous release's user lists) and the changed
  Meta rows rolled up through the previous mapping;
* ``touched_ad_days``: (ad, day) of every changed Meta row (overall or country),
  and of the country rows whose label's mapping changed; the models roll them up
  through the new mapping;
* ``touched_entity_ids``: every id of a changed ``id_hierarchy_mapping`` row
  (old and new), whose every day is recomputed;
* ``touched_dates``: the days recomputed for every entity: the new days of the
  window and the cohort days that became post-trial when as_of_date moved;
* ``previous_entities``: the previous release's entity list; an entity that
  appears or disappears is recomputed (or deleted) on every day.

The new-state side (new cohorts, new parents, new entities) is resolved inside
dbt by ``int_incremental_keys_touched``, from the same models a full build uses.
The run then copies the previous release into its private build file and runs
``dbt build`` there: the marts are refreshed by delete+insert of the touched
entity-days, every other model is rebuilt, and every gate runs, as in a full run.

This module only plans: it returns a :class:`Plan`, or a :class:`FullBuild`
with the reason why the run must build in full (``precompute run`` then says so
and builds everything).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from python_hooks.release import INPUTS_DIR

__all__ = [
    "INPUTS_DIR",
    "MAX_TOUCHED_SHARE",
    "FullBuild",
    "Plan",
    "plan_incremental",
    "project_fingerprint",
    "snapshot_files",
]

# Above this share of users, Meta ad-days or window days touched, recomputing the
# touched entity-days costs about as much as a full build: build in full (D80).
MAX_TOUCHED_SHARE = 0.25
# What a full build depends on besides the sources and the vars: a change here
# invalidates every row (a formula, a test, the country seed), or the read
# queries that an incremental run copies from the previous release (analyses).
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds", "tests", "analyses")
# Vars that may differ from the previous release's without forcing a full build.
MOVING_VARS = ("as_of_date", "raw_data_dir", "incremental_scope_dir")
COHORT_START_EVENTS = ("RC Trial started", "RC Initial purchase")
# Tables whose changes touch no mart row: they feed only tables rebuilt in full
# (entity_names, int_source_rows_rejected).
TABLES_WITHOUT_KEYS = ("id_name_mapping", "import_rejects")


class FullBuild(Exception):
    """The run cannot be incremental; the message says why (shown to the user)."""


@dataclass
class Plan:
    """An incremental run's scope: where its files are and what it found."""

    previous_run_id: str
    scope_dir: Path
    window: dict[str, Any]  # the window the plan assumes: start_date, as_of_date, trial_days
    changed_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> added / removed
    touched: dict[str, int] = field(default_factory=dict)  # scope file -> rows

    def summary(self) -> dict[str, Any]:
        return {"previous_run_id": self.previous_run_id, "window": self.window,
                "changed_rows": self.changed_rows, "touched": self.touched}


def project_fingerprint(project_dir: Path) -> str:
    """SHA-256 over the files a build's results depend on besides its sources and vars."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = project_dir / name
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def snapshot_files(raw_dir: Path, tables: list[str]) -> dict[str, Path]:
    """The source files a release keeps as its input snapshot (the tables present in ``raw_dir``)."""
    return {t: raw_dir / f"{t}.parquet" for t in sorted(tables) if (raw_dir / f"{t}.parquet").is_file()}


# --------------------------------------------------------------------------- planning


def plan_incremental(store: Any, raw_dir: Path, dbt_vars: dict[str, Any], project_dir: Path,
                     tables: list[str], scope_dir: Path,
                     max_touched_share: float = MAX_TOUCHED_SHARE) -> Plan:
    """Compare the sources with the published release's snapshot and write the scope files.

    Raises :class:`FullBuild` when the run must build in full.
    """
    previous = store.published_run_id()
    if previous is None:
        raise FullBuild("no release is published yet")
    meta = store.metadata(previous)
    snapshot = store.release_dir(previous) / INPUTS_DIR
    if not snapshot.is_dir():
        raise FullBuild(f"the published release {previous} keeps no input snapshot "
                        f"({snapshot}; releases keep one since issue 11)")
    if meta.get("project_fingerprint") != project_fingerprint(project_dir):
        raise FullBuild("the project (models, macros, seeds, tests or dbt_project.yml) changed "
                        "since the published release")
    old_vars = {k: v for k, v in (meta.get("vars") or {}).items() if k not in MOVING_VARS}
    new_vars = {k: v for k, v in dbt_vars.items() if k not in MOVING_VARS}
    if old_vars != new_vars:
        raise FullBuild(f"the vars changed since the published release ({old_vars} -> {new_vars})")
    old_window = meta.get("window") or {}
    if not old_window.get("as_of_date") or not old_window.get("start_date"):
        raise FullBuild(f"the published release {previous} records no window")

    scope_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("attach ? as previous (read_only)", [str(store.release_file(previous))])
        return _plan(con, previous, meta, snapshot, raw_dir, dbt_vars, tables, scope_dir,
                     max_touched_share)
    finally:
        con.close()


def _read(path: Path | None, columns: list[str]) -> str:
    """A FROM clause for a source file, or an empty relation with the same (text) columns."""
    if path is not None and path.is_file():
        return f"read_parquet('{path}')"
    cols = ", ".join(f"cast(null as varchar) as {c}" for c in columns)
    return f"(select {cols} where false)"


def _diff_table(con: duckdb.DuckDBPyConnection, table: str, old: Path | None, new: Path | None,
                columns: list[str]) -> dict[str, int]:
    """Create temp table ``changed_<table>``: the rows on one side only (with ``side``)."""
    old_cols = _columns(con, old)
    new_cols = _columns(con, new)
    if old_cols is not None and new_cols is not None and old_cols != new_cols:
        raise FullBuild(f"the columns of {table}.parquet changed since the published release "
                        f"({old_cols} -> {new_cols})")
    cols = new_cols or old_cols or columns
    select = ", ".join(f'"{c}"' for c in cols)
    old_from, new_from = _read(old, cols), _read(new, cols)
    # Rows are compared by a hash of every column, counted per side: a row whose
    # count differs was added, removed or changed (a changed row is both).
    con.execute(f"""
        create or replace temp table changed_{table} as
        with
        old_rows as (select {select}, hash({select}) as row_hash from {old_from}),
        new_rows as (select {select}, hash({select}) as row_hash from {new_from}),
        old_counts as (select row_hash, count(*) as n from old_rows group by row_hash),
        new_counts as (select row_hash, count(*) as n from new_rows group by row_hash),
        differing as (
            select coalesce(old_counts.row_hash, new_counts.row_hash) as row_hash
            from old_counts full outer join new_counts on old_counts.row_hash = new_counts.row_hash
            where old_counts.n is distinct from new_counts.n
        )
        select 'removed' as side, {select} from old_rows where row_hash in (select row_hash from differing)
        union all
        select 'added' as side, {select} from new_rows where row_hash in (select row_hash from differing)
    """)
    rows = dict(con.execute(f"select side, count(*) from changed_{table} group by side").fetchall())
    return {"added": int(rows.get("added", 0)), "removed": int(rows.get("removed", 0))}


def _columns(con: duckdb.DuckDBPyConnection, path: Path | None) -> list[str] | None:
    if path is None or not path.is_file():
        return None
    return [r[0] for r in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]


def _date(value: Any) -> _dt.date:
    return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])


def _plan(con: duckdb.DuckDBPyConnection, previous: str, meta: dict[str, Any], snapshot: Path,
          raw_dir: Path, dbt_vars: dict[str, Any], tables: list[str], scope_dir: Path,
          max_share: float) -> Plan:
    from python_hooks.project import contract_tables

    contract = contract_tables()
    unknown = sorted(set(tables) - set(contract))
    if unknown:
        raise FullBuild(f"source tables without a contract: {', '.join(unknown)}")
    old_files = {t: snapshot / f"{t}.parquet" for t in tables}
    new_files = {t: raw_dir / f"{t}.parquet" for t in tables}
    old_window = meta["window"]
    old_as_of = _date(old_window["as_of_date"])
    trial_days = int(old_window["trial_days"])

    changed: dict[str, dict[str, int]] = {}
    for table in tables:
        old, new = old_files[table], new_files[table]
        if old.is_file() and new.is_file() and old.stat().st_size == new.stat().st_size \
                and _same_bytes(old, new):
            changed[table] = {"added": 0, "removed": 0}
            con.execute(f"create or replace temp table changed_{table} as "
                        f"select 'none' as side, * from {_read(new, [])} where false")
            continue
        changed[table] = _diff_table(con, table, old, new, contract[table].column_names)

    # The new as_of_date: the var, else the latest date of the source rows (the
    # window model's default; it is checked against the build's own window after dbt).
    if dbt_vars.get("as_of_date"):
        new_as_of = _date(dbt_vars["as_of_date"])
    else:
        new_as_of = con.execute(f"""
            select max(d) from (
                select max(cast("date" as date)) as d from {_read(new_files.get('ad_performance_daily'), ['date'])}
                union all
                select max(cast("date" as date)) from {_read(new_files.get('ad_performance_daily_country'), ['date'])}
                union all
                select max(cast(event_time as date)) from {_read(new_files.get('mixpanel_event'), ['event_time'])}
            )""").fetchone()[0]
    if new_as_of is None:
        raise FullBuild("the sources hold no dated rows")
    if new_as_of < old_as_of:
        raise FullBuild(f"as_of_date moved back ({old_as_of} -> {new_as_of})")
    window = {"start_date": _date(old_window["start_date"]).isoformat(), "as_of_date": new_as_of.isoformat(),
              "trial_days": trial_days}

    def side_rows(table: str, columns: str) -> str:
        return f"select {columns} from changed_{table}" if table in changed else \
            f"select {', '.join('null' for _ in columns.split(','))} where false"

    # -- touched users: any changed row of theirs, and events of the days as_of_date newly includes
    con.execute(f"""
        create temp table touched_users as
        select distinct cast(distinct_id as varchar) as distinct_id from (
            {side_rows('mixpanel_event', 'distinct_id')}
            union all {side_rows('mixpanel_user', 'distinct_id')}
            union all {side_rows('user_product_metrics', 'distinct_id')}
            union all
            select distinct_id from {_read(new_files.get('mixpanel_event'), ['distinct_id', 'event_time'])}
            where cast(event_time as date) > ? and cast(event_time as date) <= ?
        ) where distinct_id is not null""", [old_as_of, new_as_of])

    # -- Meta ad-days: changed rows, and country rows whose label's own mapping changed
    con.execute(f"""
        create temp table touched_ad_days as
        select distinct cast(ad_id as varchar) as ad_id, cast(report_date as date) as report_date from (
            {side_rows('ad_performance_daily', 'ad_id, "date" as report_date')}
            union all {side_rows('ad_performance_daily_country', 'ad_id, "date" as report_date')}
            union all
            select country_rows.ad_id, country_rows."date"
            from {_read(new_files.get('ad_performance_daily_country'), ['ad_id', 'date', 'country'])} as country_rows
            where lower(trim(country_rows.country)) in (
                select lower(trim(meta_country)) from ({side_rows('breakdown_mapping_country', 'meta_country')})
                where meta_country is not null)
        ) where ad_id is not null and report_date is not null""")

    # -- ids of changed mapping rows: every day of each
    con.execute(f"""
        create temp table touched_entity_ids as
        select distinct cast(entity_id as varchar) as entity_id from (
            select unnest([ad_id, adset_id, campaign_id]) as entity_id
            from ({side_rows('id_hierarchy_mapping', 'ad_id, adset_id, campaign_id')})
        ) where entity_id is not null""")

    # -- days recomputed for every entity: new days, and cohort days that became post-trial
    con.execute("""
        create temp table touched_dates as
        select cast(d as date) as report_date from range(?::date + 1, ?::date + 1, interval 1 day) as t(d)
        union
        select cast(d as date) from range(?::date - ? + 1, ?::date - ? + 1, interval 1 day) as t(d)
        """, [old_as_of, new_as_of, old_as_of, trial_days, new_as_of, trial_days])

    # -- entity-days of the previous state: the touched users' old cohorts (from the
    #    previous release's lists) and the changed Meta rows under the old mapping
    con.execute(f"""
        create temp table touched_keys as
        with
        old_memberships as (
            select entity_type, entity_id, "date" as report_date,
                unnest(string_split(concat_ws(',', trial_user_ids, purchase_user_ids), ',')) as distinct_id
            from previous.main.entity_daily_metrics
            where trial_user_ids is not null or purchase_user_ids is not null
        ),
        old_mapping as (
            select distinct cast(ad_id as varchar) as ad_id, cast(adset_id as varchar) as adset_id,
                cast(campaign_id as varchar) as campaign_id
            from {_read(old_files.get('id_hierarchy_mapping'), ['ad_id', 'adset_id', 'campaign_id'])}
        )
        select distinct entity_type, entity_id, report_date from old_memberships
        where distinct_id in (select distinct_id from touched_users)
        union
        select unnest(['adset', 'campaign']), unnest([old_mapping.adset_id, old_mapping.campaign_id]),
            touched_ad_days.report_date
        from touched_ad_days inner join old_mapping on touched_ad_days.ad_id = old_mapping.ad_id
        """)
    con.execute("delete from touched_keys where entity_id is null")
    con.execute("""create temp table previous_entities as
        select entity_type, entity_id, is_in_hierarchy_mapping from previous.main.int_entities_unioned""")

    touched = {}
    for name in ("touched_users", "touched_keys", "touched_ad_days", "touched_entity_ids", "touched_dates",
                 "previous_entities"):
        touched[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
        con.execute(f"copy {name} to '{scope_dir / (name + '.parquet')}' (format parquet)")

    # -- too large to win?
    totals = {
        "touched_users": _count(con, new_files.get("mixpanel_user")),
        "touched_ad_days": _count(con, new_files.get("ad_performance_daily")),
        "touched_dates": (new_as_of - _date(old_window["start_date"])).days + 1,
        "touched_entity_ids": touched["previous_entities"],
    }
    for name, total in totals.items():
        if total and touched[name] > max_share * total:
            raise FullBuild(f"the change is too large to win: {touched[name]:,d} {name.replace('touched_', '')} "
                            f"touched of {total:,d} (more than {max_share:.0%})")
    return Plan(previous_run_id=previous, scope_dir=scope_dir, window=window, changed_rows=changed,
                touched=touched)


def _count(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    if path is None or not path.is_file():
        return 0
    return int(con.execute("select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)",
                           [str(path)]).fetchone()[0])


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True
