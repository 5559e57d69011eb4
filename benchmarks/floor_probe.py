"""The floor probe: what plain DuckDB needs for the build's unavoidable work.

    .venv/bin/python benchmarks/floor_probe.py <raw_data_dir> <built warehouse> <scratch.duckdb>

Prints one JSON object. ``benchmarks/build.py`` runs it as a child process after every build,
on that build's warehouse, and reports ``dbt build`` wall time / probe time as *the ratio*.

The probe has two parts, both with DuckDB's default settings (one thread per core, 80 % of RAM):

1. **Write the marts.** The two finished marts of the build (``entity_daily_metrics`` and
   ``entity_country_breakdown``), read from the built warehouse (attached read-only) and written
   sorted by their keys into a fresh file, then ``CHECKPOINT``: the cost of writing the output.
2. **Cohort lists, naively.** From the raw Parquet files: deduplicate the events (Mixpanel's rule:
   one event per ``event_uuid, event_name, distinct_id, event_time``), keep the trial starts and
   initial purchases of attributed users, give each user their own entity at the three levels
   (campaign, adset, ad: the user's ``abi_*`` ids, no fill from the mapping), and write the sorted
   distinct trial and purchase user lists at the two grains (entity-day and entity-day-country)
   into the same fresh file.

It is a floor, not a second implementation: no rejects, no conversions or refunds, no money, no
date spine, no tests. A build within 2x of it spends at most as much again on everything else.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench_common import MARTS, file_size, quiet_connect, rm_db

# the sort keys of the marts (their stored order, models/marts/*.sql)
MART_KEYS = {
    "entity_daily_metrics": "entity_type, entity_id, date",
    "entity_country_breakdown": "entity_type, entity_id, date, country_code",
}

LEVELS = (("campaign", "abi_campaign_id"), ("adset", "abi_ad_set_id"), ("ad", "abi_ad_id"))

GRAINS = {
    "probe_daily_lists": "entity_type, entity_id, event_date",
    "probe_country_lists": "entity_type, entity_id, event_date, country_code",
}


def cohort_list_sql(data_dir: str) -> list[tuple[str, str]]:
    """The naive cohort-list statements, as (label, sql)."""
    events = os.path.join(data_dir, "mixpanel_event.parquet")
    users = os.path.join(data_dir, "mixpanel_user.parquet")
    user_levels = "\n    union all\n    ".join(
        f"select distinct_id, '{level}' as entity_type, {column} as entity_id, country_code "
        f"from attributed where {column} is not null"
        for level, column in LEVELS
    )
    statements = [
        ("dedup_events", f"""
create temp table cohort_events as
select event_uuid, event_name, distinct_id, event_time, cast(event_time as date) as event_date
from read_parquet('{events}')
where event_name in ('RC Trial started', 'RC Initial purchase')
group by event_uuid, event_name, distinct_id, event_time"""),
        ("user_levels", f"""
create temp table user_levels as
with attributed as (
    select distinct_id, abi_campaign_id, abi_ad_set_id, abi_ad_id,
           coalesce(nullif(upper(trim(country)), ''), 'ZZ') as country_code
    from read_parquet('{users}')
    where has_abi_attribution
)
select distinct * from (
    {user_levels}
)"""),
    ]
    for table, grain in GRAINS.items():
        statements.append((table, f"""
create table probe.{table} as
select
    {grain},
    string_agg(distinct case when event_name = 'RC Trial started' then distinct_id end, ','
               order by case when event_name = 'RC Trial started' then distinct_id end) as trial_user_ids,
    string_agg(distinct case when event_name = 'RC Initial purchase' then distinct_id end, ','
               order by case when event_name = 'RC Initial purchase' then distinct_id end) as purchase_user_ids
from cohort_events
inner join user_levels using (distinct_id)
group by {grain}"""))
    return statements


def probe(data_dir: str, warehouse: str, scratch: str) -> dict:
    """Run both parts on a fresh scratch file; return the timings (seconds) and the sizes."""
    rm_db(Path(scratch))
    out: dict = {"marts": {}, "lists": {}}
    t0 = time.perf_counter()
    con = quiet_connect()
    out["threads"] = con.execute("select current_setting('threads')").fetchone()[0]
    out["memory_limit"] = con.execute("select current_setting('memory_limit')").fetchone()[0]
    con.execute(f"attach '{warehouse}' as built (read_only)")
    con.execute(f"attach '{scratch}' as probe")
    for mart in MARTS:
        t1 = time.perf_counter()
        con.execute(f"create table probe.{mart} as select * from built.main.{mart} order by {MART_KEYS[mart]}")
        out["marts"][mart] = time.perf_counter() - t1
    t1 = time.perf_counter()
    con.execute("checkpoint probe")
    out["marts"]["checkpoint"] = time.perf_counter() - t1
    for label, sql in cohort_list_sql(data_dir):
        t1 = time.perf_counter()
        con.execute(sql)
        out["lists"][label] = time.perf_counter() - t1
    t1 = time.perf_counter()
    con.execute("checkpoint probe")
    out["lists"]["checkpoint"] = time.perf_counter() - t1
    out["list_rows"] = {t: con.execute(f"select count(*) from probe.{t}").fetchone()[0] for t in GRAINS}
    con.close()
    out["total_s"] = time.perf_counter() - t0
    out["marts_s"] = sum(out["marts"].values())
    out["lists_s"] = sum(out["lists"].values())
    out["bytes"] = file_size(Path(scratch))
    rm_db(Path(scratch))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.split("\n\n")[1])
    print(json.dumps(probe(*sys.argv[1:])))
