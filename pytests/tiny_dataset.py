"""A tiny hand-written source data set whose metrics are worked out by hand.

Window: start_date 2025-01-01, as_of_date 2025-01-10, trial_days 7, so trial
cohorts of 2025-01-01 .. 2025-01-03 are post-trial.

Hierarchy: ads `000777` and `777` → adset `as1` → campaign `c1`;
ad `a2` → adset `as2` → campaign `c1`. Ad `orphan` is not in the mapping.

Users:
  u1  full attribution c1/as1/000777, US
  u2  only abi_ad_id 000777 (adset as1, campaign c1 filled), country NULL → ZZ
  u3  abi_ad_id `ghost` (not in mapping), own campaign c9, no adset, DE
  u4  has_abi_attribution FALSE → never counted
  u5  abi_ad_id 777, no adset (filled as1), own campaign c2 that disagrees
      with the mapping (c1): the user's id wins, and a gap is listed; US
  u6  only abi_ad_set_id as2 (campaign c1 filled from the adset), country '' → ZZ
  `bad,id` and NULL distinct_id are rejected.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

START_DATE = "2025-01-01"
AS_OF_DATE = "2025-01-10"

TABLES: dict[str, str] = {
    "id_hierarchy_mapping": """
        select * from (values
            ('000777', 'as1', 'c1'),
            ('777',    'as1', 'c1'),
            ('a2',     'as2', 'c1'),
            ('a2',     'as2', 'c1')          -- exact duplicate: counted once
        ) as t(ad_id, adset_id, campaign_id)
    """,
    "ad_performance_daily": """
        select ad_id, cast(date as date) as date, cast(spend as double) as spend,
               cast(impressions as bigint) as impressions, cast(clicks as bigint) as clicks,
               cast(meta_trials as bigint) as meta_trials, cast(meta_purchases as bigint) as meta_purchases
        from (values
            ('000777', '2025-01-02', 10.00, 1000, 50, 4, 1),
            ('000777', '2025-01-02', 10.00, 1000, 50, 4, 1),   -- exact duplicate
            ('777',    '2025-01-02',  5.50,  500, 20, 0, 0),
            ('a2',     '2025-01-02', -1.00,  100, 10, 0, 0),   -- negative: rejected
            ('orphan', '2025-01-03',  3.00,  100,  0, 1, 0),   -- not in the mapping
            ('000777', '2025-01-12',  8.00,  800, 40, 2, 0)    -- after as_of_date
        ) as t(ad_id, date, spend, impressions, clicks, meta_trials, meta_purchases)
    """,
    "ad_performance_daily_country": """
        select ad_id, cast(date as date) as date, country, cast(spend as double) as spend,
               cast(impressions as bigint) as impressions, cast(clicks as bigint) as clicks,
               cast(meta_trials as bigint) as meta_trials, cast(meta_purchases as bigint) as meta_purchases
        from (values
            ('000777', '2025-01-02', 'United States', 6.00, 600, 30, 3, 1),
            ('000777', '2025-01-02', 'US',            1.00, 100,  5, 0, 0),  -- code label, also US
            ('000777', '2025-01-02', 'Atlantis',      3.00, 300, 15, 1, 0),  -- unmapped → ZZ
            ('777',    '2025-01-02', 'Germany',       5.50, 500, 20, 0, 0),
            ('777',    '2025-01-02', 'Germany',       5.50, 500, 20, 0, 0)   -- exact duplicate
        ) as t(ad_id, date, country, spend, impressions, clicks, meta_trials, meta_purchases)
    """,
    "mixpanel_user": """
        select distinct_id, abi_campaign_id, abi_ad_set_id, abi_ad_id,
               cast(has_abi_attribution as boolean) as has_abi_attribution, country
        from (values
            ('u1',     'c1', 'as1', '000777', true,  'US'),
            ('u2',     null, null,  '000777', true,  null),
            ('u3',     'c9', null,  'ghost',  true,  'DE'),
            ('u4',     'c1', 'as1', '000777', false, 'US'),
            ('u5',     'c2', null,  '777',    true,  'US'),
            ('u6',     null, 'as2', null,     true,  ''),
            ('bad,id', 'c1', 'as1', '000777', true,  'US'),
            (null,     'c1', 'as1', '000777', true,  'US')
        ) as t(distinct_id, abi_campaign_id, abi_ad_set_id, abi_ad_id, has_abi_attribution, country)
    """,
    "mixpanel_event": """
        select event_uuid, distinct_id, event_name, cast(event_time as timestamp) as event_time,
               product_id, cast(revenue_usd as double) as revenue_usd
        from (values
            ('e01', 'u1', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),
            ('e01', 'u1', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),  -- duplicate delivery
            ('e02', 'u1', 'RC Trial converted',   '2025-01-09 10:00:00', 'prod_w', 9.99),
            ('e03', 'u1', 'RC Cancellation',      '2025-01-09 12:00:00', 'prod_w', -9.99), -- refund
            ('e04', 'u1', 'RC Trial started',     '2024-12-31 09:00:00', 'prod_m', null),  -- before start_date
            ('e05', 'u1', 'RC Initial purchase',  '2025-01-11 09:00:00', 'prod_y', 49.99), -- after as_of_date
            ('e10', 'u2', 'RC Trial started',     '2025-01-02 00:00:00', 'prod_w', null),  -- midnight
            ('e11', 'u2', 'RC Trial converted',   '2025-01-08 10:00:00', 'prod_m', 4.99),  -- other product
            ('e12', 'u2', 'RC Cancellation',      '2025-01-05 10:00:00', 'prod_w', -1.00),
            ('e30', 'u3', 'RC Initial purchase',  '2025-01-02 08:00:00', 'prod_y', 49.99),
            ('e31', 'u3', 'RC CANCELLATION',      '2025-01-03 08:00:00', 'prod_y', -49.99),-- refund, any case
            ('e40', 'u4', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),  -- not attributed
            ('e50', 'u5', 'RC Trial started',     '2025-01-02 23:59:59', 'prod_w', null),
            ('e51', 'u5', 'RC Cancellation',      '2025-01-04 10:00:00', 'prod_w', -9.99), -- before conversion
            ('e52', 'u5', 'RC Trial converted',   '2025-01-06 10:00:00', 'prod_w', 9.99),
            ('e53', 'u5', 'RC Cancellation',      '2025-01-07 10:00:00', 'prod_w', 0.0),   -- zero: not a refund
            ('e60', 'u6', 'RC Initial purchase',  '2025-01-02 12:00:00', 'prod_y', 29.99),
            ('e61', 'u6', 'RC Trial started',     '2025-01-09 12:00:00', 'prod_w', null),  -- not post-trial
            ('e70', 'bad,id', 'RC Trial started', '2025-01-02 10:00:00', 'prod_w', null),  -- rejected
            ('e71', null, 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null)   -- rejected
        ) as t(event_uuid, distinct_id, event_name, event_time, product_id, revenue_usd)
    """,
    "user_product_metrics": """
        select distinct_id, product_id,
               cast(trial_conversion_rate as double) as trial_conversion_rate,
               cast(trial_converted_to_refund_rate as double) as trial_converted_to_refund_rate,
               cast(initial_purchase_to_refund_rate as double) as initial_purchase_to_refund_rate,
               cast(current_value as double) as current_value
        from (values
            ('u1', 'prod_w', 0.5, 0.2, 0.1,  20.0),
            ('u2', 'prod_w', 0.3, 0.1, 0.1,  10.0),
            ('u3', 'prod_y', 0.0, 0.0, 0.25, 50.0),
            ('u6', 'prod_y', 0.0, 0.0, 0.15, 30.0),
            ('u6', 'prod_w', 0.4, 0.0, 0.0,  12.0)
            -- (u5, prod_w) is deliberately missing
        ) as t(distinct_id, product_id, trial_conversion_rate, trial_converted_to_refund_rate,
               initial_purchase_to_refund_rate, current_value)
    """,
}


def write(out_dir: Path, overrides: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> Path:
    """Write the six Parquet files into out_dir; `overrides` replaces a table's SQL."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {**TABLES, **(overrides or {})}
    con = duckdb.connect()
    try:
        for name, sql in tables.items():
            if name in skip:
                continue
            target = (out_dir / f"{name}.parquet").as_posix()
            con.execute(f"copy ({sql}) to '{target}' (format parquet)")
    finally:
        con.close()
    return out_dir
