"""The other way round: a contract directory written out as each kind of input.

For the import tests and benchmarks (and to try ``precompute import`` on
generated data): the same rows as a legacy SQLite database
(``sql/legacy_schema.sql``: text dates, the product inside ``event_json``), as
a Mixpanel export (JSON lines, nested or flat), or as CSV files.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import duckdb

from python_hooks.importers.common import importable_tables, read_sql, sql_str

SEED_MAPPING_CSV = Path(__file__).resolve().parents[2] / "seeds" / "breakdown_mapping_country.csv"


def _parquet(contract_dir: Path, table: str) -> str:
    return f"read_parquet({sql_str(str(Path(contract_dir) / f'{table}.parquet'))})"


def _legacy_queries(contract_dir: Path) -> dict[str, str]:
    """Legacy table -> a DuckDB query of its rows, in the legacy column order."""
    d = Path(contract_dir)
    hierarchy = (f"(select distinct on (ad_id) ad_id, adset_id, campaign_id from {_parquet(d, 'id_hierarchy_mapping')} "
                 "order by ad_id, adset_id, campaign_id)")
    measures = "meta.spend, meta.impressions, meta.clicks, meta.meta_trials, meta.meta_purchases"
    queries = {
        "ad_performance_daily": f"""
            select meta.ad_id, cast(meta.date as varchar), parents.adset_id, parents.campaign_id,
                   null, null, null, {measures}
            from {_parquet(d, 'ad_performance_daily')} as meta left join {hierarchy} as parents using (ad_id)""",
        "ad_performance_daily_country": f"""
            select meta.ad_id, cast(meta.date as varchar), parents.adset_id, parents.campaign_id,
                   null, null, null, meta.country, {measures}
            from {_parquet(d, 'ad_performance_daily_country')} as meta left join {hierarchy} as parents using (ad_id)""",
        "id_hierarchy_mapping": f"select ad_id, adset_id, campaign_id, cast(1 as double), null from {_parquet(d, 'id_hierarchy_mapping')}",
        "mixpanel_user": f"""
            select distinct_id, abi_ad_id, abi_campaign_id, abi_ad_set_id, country,
                   cast(has_abi_attribution as integer), null
            from {_parquet(d, 'mixpanel_user')}""",
        "mixpanel_event": f"""
            select event_uuid, event_name, distinct_id, cast(event_time as varchar), revenue_usd,
                   cast(to_json({{'event': event_name, 'properties': {{
                       'time': epoch(event_time), 'distinct_id': distinct_id, '$insert_id': event_uuid,
                       'product_id': product_id}}}}) as varchar)
            from {_parquet(d, 'mixpanel_event')}""",
        "user_product_metrics": f"""
            select distinct_id, product_id, trial_conversion_rate, trial_converted_to_refund_rate,
                   initial_purchase_to_refund_rate, current_value, null
            from {_parquet(d, 'user_product_metrics')}""",
    }
    if (d / "id_name_mapping.parquet").is_file():
        queries["id_name_mapping"] = (f"select entity_type, entity_id, canonical_name, null "
                                      f"from {_parquet(d, 'id_name_mapping')}")
    return queries


def write_legacy_sqlite(contract_dir: Path, db_path: Path, *, country_mapping: list[tuple] | None = None,
                        batch_rows: int = 50_000) -> dict[str, int]:
    """The contract directory as the legacy dashboard's database; rows stored per table.

    ``country_mapping``: rows (meta_country_name, mixpanel_country_code, is_active);
    default: the directory's breakdown_mapping_country.parquet, else the seed, all active.
    Events are inserted with ``insert or ignore``: the legacy table keys them by
    ``event_uuid``, so a delivery repeated with the same id is stored once.
    """
    db_path = Path(db_path)
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    con = duckdb.connect()
    stored = {}
    try:
        db.executescript(read_sql("legacy_schema.sql"))
        for table, query in _legacy_queries(Path(contract_dir)).items():
            cursor = con.execute(query)
            width = len(cursor.description)
            verb = "insert or ignore" if table == "mixpanel_event" else "insert"
            statement = f"{verb} into {table} values ({', '.join('?' * width)})"
            while batch := cursor.fetchmany(batch_rows):
                db.executemany(statement, batch)
            stored[table] = db.execute(f"select count(*) from {table}").fetchone()[0]
        if country_mapping is None:
            own = Path(contract_dir) / "breakdown_mapping_country.parquet"
            if own.is_file():
                country_mapping = con.execute(f"select meta_country, country_code, 1 from {_parquet(Path(contract_dir), 'breakdown_mapping_country')}").fetchall()
            else:
                with SEED_MAPPING_CSV.open(newline="", encoding="utf-8") as fh:
                    country_mapping = [(row["meta_country"], row["country_code"], 1) for row in csv.DictReader(fh)]
        db.executemany("insert into meta_country_mapping values (?, ?, ?)", country_mapping)
        stored["meta_country_mapping"] = len(country_mapping)
        db.commit()
    finally:
        con.close()
        db.close()
    return stored


def write_mixpanel_export(contract_dir: Path, path: Path, *, flat_every: int = 0) -> int:
    """``mixpanel_event`` as Mixpanel's raw export (JSON lines); every ``flat_every``-th line in
    the flat shape (event_name, insert_id, time at the top level). Returns the lines written."""
    flat = (f"row_number() over () % {int(flat_every)} = 0" if flat_every else "false")
    con = duckdb.connect()
    try:
        con.execute(f"""
            copy (
                select case when {flat}
                    then to_json({{'event_name': event_name, 'insert_id': event_uuid, 'time': epoch(event_time),
                                  'distinct_id': distinct_id, 'product_id': product_id, 'revenue_usd': revenue_usd}})
                    else to_json({{'event': event_name, 'properties': {{
                                  'time': epoch(event_time), 'distinct_id': distinct_id, '$insert_id': event_uuid,
                                  'product_id': product_id, 'revenue_usd': revenue_usd, 'mp_lib': 'revenuecat'}}}})
                end as line
                from {_parquet(Path(contract_dir), 'mixpanel_event')}
            ) to {sql_str(str(path))} (format csv, header false, quote '', escape '', delim {sql_str(chr(31))})""")
        return con.execute(f"select count(*) from {_parquet(Path(contract_dir), 'mixpanel_event')}").fetchall()[0][0]
    finally:
        con.close()


def write_csv_dir(contract_dir: Path, out_dir: Path) -> list[Path]:
    """Each contract table of the directory as ``<table>.csv`` (header; NULL empty, '' quoted)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect()
    try:
        for table in importable_tables():
            if (Path(contract_dir) / f"{table}.parquet").is_file():
                target = out_dir / f"{table}.csv"
                con.execute(f"copy (select * from {_parquet(Path(contract_dir), table)}) "
                            f"to {sql_str(str(target))} (header)")
                written.append(target)
    finally:
        con.close()
    return written
