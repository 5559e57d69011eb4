"""The inputs of one replayed day, for the incremental refresh (pytests/test_incremental_replay.py,
benchmarks/incremental.py).

A generated data set is the *truth*: everything that will ever be known. The
inputs of day D are what the pipeline would see on D:

* the Meta rows and the events dated up to D (so conversions and refunds of old
  cohorts arrive on later days), except that one event in LATE_EVERY is
  delivered LATE_DAYS days late;
* every user and metrics row; the value-estimation step rewrites the
  ``current_value`` of a fixed share of the metrics rows every day
  (``metrics_rewrite_share``);
* the scripted changes of the days up to D (``Change``): a Meta restatement
  (spend changed and a row deleted), a rewritten metrics row, a user whose
  country changes, a user whose ad changes, an ad moved to another adset, a new
  country-mapping row.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

LATE_EVERY = 20  # one event in 20 arrives late
LATE_DAYS = 3
META_TABLES = ("ad_performance_daily", "ad_performance_daily_country")


@dataclass(frozen=True)
class Changes:
    """The day (index from the start of the truth) each scripted change appears on."""

    meta_restatement: int
    metrics_rewrite: int
    user_country: int
    user_ad: int
    ad_moved: int
    country_mapping_row: int


def pick_subjects(truth: Path) -> dict:
    """The rows the scripted changes apply to, chosen from the truth (deterministic)."""
    con = duckdb.connect()
    try:
        ads = [r[0] for r in con.execute(
            f"select ad_id from read_parquet('{truth}/id_hierarchy_mapping.parquet') "
            "where adset_id is not null and campaign_id is not null order by ad_id").fetchall()]
        other = con.execute(
            f"select adset_id, campaign_id from read_parquet('{truth}/id_hierarchy_mapping.parquet') "
            "where campaign_id != (select campaign_id from read_parquet("
            f"'{truth}/id_hierarchy_mapping.parquet') where ad_id = ?) and adset_id is not null "
            "order by adset_id limit 1", [ads[1]]).fetchone()
        trial_users = [r[0] for r in con.execute(f"""
            select distinct events.distinct_id
            from read_parquet('{truth}/mixpanel_event.parquet') as events
            inner join read_parquet('{truth}/mixpanel_user.parquet') as users
                on events.distinct_id = users.distinct_id
            inner join read_parquet('{truth}/user_product_metrics.parquet') as metrics
                on events.distinct_id = metrics.distinct_id and events.product_id = metrics.product_id
            where events.event_name = 'RC Trial started' and users.has_abi_attribution
                and users.abi_ad_id is not null
            order by events.distinct_id limit 3""").fetchall()]
        label = con.execute(
            f"select min(country) from read_parquet('{truth}/ad_performance_daily_country.parquet') "
            "where country in ('Unknown', 'Atlantis')").fetchone()[0]
    finally:
        con.close()
    return {"restated_ad": ads[0], "moved_ad": ads[1], "moved_to": other, "metrics_user": trial_users[0],
            "country_user": trial_users[1], "ad_user": trial_users[2], "new_ad_for_user": ads[-1],
            "country_label": label}


def write_day(truth: Path, out: Path, start: _dt.date, day: int, changes: Changes, subjects: dict,
              metrics_rewrite_share: float = 0.0) -> _dt.date:
    """Write the inputs of day ``start + day`` into ``out``; return that date (the as_of_date)."""
    as_of = start + _dt.timedelta(days=day)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")

        def copy(sql: str, table: str, params: list | None = None) -> None:
            tmp = out / f".{table}.parquet.tmp"
            con.execute(f"copy ({sql}) to '{tmp}' (format parquet)", params or [])
            tmp.rename(out / f"{table}.parquet")

        restated = day >= changes.meta_restatement
        restate_from = start + _dt.timedelta(days=changes.meta_restatement - 3)
        deleted_day = start + _dt.timedelta(days=changes.meta_restatement - 2)
        for table in META_TABLES:
            copy(f"""
                select * replace (
                    case when ? and ad_id = ? and "date" between ? and ? then spend * 1.1 else spend end as spend)
                from read_parquet('{truth}/{table}.parquet')
                where "date" <= ?
                    and not (? and ad_id = ? and "date" = ?)""", table,
                 [restated, subjects["restated_ad"], restate_from, deleted_day, as_of,
                  restated, subjects["restated_ad"], deleted_day])
        copy(f"""
            select * from read_parquet('{truth}/mixpanel_event.parquet')
            where cast(event_time as date) + case when hash(event_uuid) % {LATE_EVERY} = 0
                then {LATE_DAYS} else 0 end <= ?""", "mixpanel_event", [as_of])
        copy(f"""
            select * replace (
                case when ? and distinct_id = ? then
                    case when coalesce(upper(trim(country)), '') = 'FR' then 'DE' else 'FR' end
                else country end as country,
                case when ? and distinct_id = ? then ? else abi_ad_id end as abi_ad_id)
            from read_parquet('{truth}/mixpanel_user.parquet')""", "mixpanel_user",
             [day >= changes.user_country, subjects["country_user"],
              day >= changes.user_ad, subjects["ad_user"], subjects["new_ad_for_user"]])
        copy(f"""
            select * replace (
                case when ? and distinct_id = ? then 1 - trial_conversion_rate
                    else trial_conversion_rate end as trial_conversion_rate,
                case when ? and distinct_id = ? then current_value + 5 else current_value end
                + case when hash(distinct_id, product_id) % 10000 < ? then 0.01 * ? else 0 end
                as current_value)
            from read_parquet('{truth}/user_product_metrics.parquet')""", "user_product_metrics",
             [day >= changes.metrics_rewrite, subjects["metrics_user"]] * 2
             + [round(metrics_rewrite_share * 10000), day])
        adset, campaign = subjects["moved_to"]
        copy(f"""
            select * replace (
                case when ? and ad_id = ? then ? else adset_id end as adset_id,
                case when ? and ad_id = ? then ? else campaign_id end as campaign_id)
            from read_parquet('{truth}/id_hierarchy_mapping.parquet')""", "id_hierarchy_mapping",
             [day >= changes.ad_moved, subjects["moved_ad"], adset] + [day >= changes.ad_moved,
                                                                      subjects["moved_ad"], campaign])
        mapping = out / "breakdown_mapping_country.parquet"
        if day >= changes.country_mapping_row and subjects["country_label"]:
            copy("select ? as meta_country, 'US' as country_code", "breakdown_mapping_country",
                 [subjects["country_label"]])
        else:
            mapping.unlink(missing_ok=True)
    finally:
        con.close()
    return as_of
