"""Hand-checked tests of python_hooks.on_demand (the request-time dashboard path).

The dataset below is tiny and written by hand; every expected value is worked
out from metric-contract.md, with the arithmetic in the comments.

Window used by most tests: start 2024-01-01, as_of 2024-01-10, trial_days 7
=> post-trial days are D <= 2024-01-03; events at or after 2024-01-11 00:00 are ignored.

Hierarchy mapping:  A1 -> S1 -> C1,  A2 -> S1 -> C1,  A3 -> S2 -> C2.
A9 is only in ad_performance_daily (not mapped): ad-level Meta numbers only.

Users (has_abi_attribution TRUE unless said):
  u1   C1 / S1 / A1            country US
  u2   -  / -  / A1            country NULL -> ZZ   (fill: S1, C1 from A1's mapping)
  u3   -  / S2 / -             country ''   -> ZZ   (campaign C2 via adset S2's campaign)
  u4   '' / '' / A2            country DE           ('' is NULL -> S1, C1 from A2)
  u7   C9 / S1 / A1            country US           (own campaign C9 wins over mapping's C1)
  u8   -  / -  / A1            country ''   -> ZZ
  u9   -  / -  / A3            country FR
  u6   C6 / -  / A1            has_abi_attribution FALSE -> not attributed
  'u,5'  -  / - / A1  (comma id: rejected), also '' and NULL distinct_ids (rejected)

user_product_metrics (tcr, tcrr, iprr, current_value):
  u1 P1 (.5, .2, .1, 40)   u2 P1 (.3, .4, 0, 20)   u8 P1 (.1, .6, .3, 10)
  u2 P3 (0, 0, .25, 30)    u8 P3 (0, 0, .15, 25)   u1 P4 (0, 0, 0, 16)
  u3 P3 (0, 0, .5, 12)     u9 P3 (0, 0, .1, 8)     u4 P5 (.8, .5, .4, 50)
  u2 P2 (0, 0, 0, 99)  (never a pair: unused)      u7 P1: no row

Contract v2 rejects and country normalisation: a separate hierarchy A5 -> S5 -> C5
whose users w1..w10 (abi ids C5 / S5 / A5) all start a trial of P1 on 01-02:
  country:  w1 ' us' -> US, w2 'Fr' -> FR, w3 '  ' -> ZZ, w4 'US', w7 'de' -> DE,
            w8 'US', w9 'US', w10 'us' -> US  (w5, w6: 'US', their trial is rejected)
  events rejected: w5's trial (NULL event_uuid), w6's trial ('' event_uuid),
            w4's conversion (revenue NaN), w10's first conversion (revenue +Infinity;
            its second, 8 USD, counts), w2's cancellation (revenue -Infinity); rows
            with NULL / '' event_name and
            NULL event_time (no metric could use them anyway)
  user_product_metrics (tcr, tcrr, iprr, current_value):
            w1 P1 (.5, .2, .1, 40)     kept
            w2 P1 (1.5, .4, .1, 30)    rejected: rate > 1
            w3 P1 (.9, -.1, .1, 30)    rejected: rate < 0
            w4 P1 (NULL, .6, .1, 20)   kept: the NULL rate is not in the mean / count
            w7 P1 (.2, .2, NaN, 10)    rejected: non-finite rate
            w8 P1 (.1, .2, .1, +Inf)   rejected: non-finite current_value
            w9 P1 (.7, .2, .1, -1)     rejected: negative current_value
            w10 P1 (.4, NULL, .1, NULL) kept: NULL current_value is not summed
            w1 P3 (0, 0, .3, 5)        kept (purchase pair)
            w4 P3 (0, 0, NULL, 7)      kept: NULL rate (purchase pair)
  Meta A5: 01-02 one good row (40 / 400 / 20 / 10 / 2) plus a NaN-spend and a
            +Inf-spend row (rejected); 01-03 a row with NULL spend and NULL trials
            (kept, NULL = 0); 01-04 a -Inf-spend row (rejected). Country table 01-02:
            'United States' 25 / 250 / 12 / 6 / 1, plus a NaN-spend US row and an
            +Inf-spend 'Germany' row (rejected).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from python_hooks.on_demand import METRIC_COLUMNS, OnDemandMetrics  # noqa: E402

D = dt.date
START, AS_OF = D(2024, 1, 1), D(2024, 1, 10)
D1, D2, D3, D4, D5 = (D(2024, 1, i) for i in range(1, 6))

# ----------------------------------------------------------------- dataset
APD = """
    (DATE '2024-01-01', 'A2',   0.0,    0,  0, 0, 0),
    (DATE '2024-01-02', 'A1',  50.0, 1000, 40, 8, 1),
    (DATE '2024-01-02', 'A1',  50.0, 1000, 40, 8, 1),  -- exact duplicate delivery: one row
    (DATE '2024-01-02', 'A2',  25.0,  500, 10, 2, 0),
    (DATE '2024-01-02', 'A9', 100.0, 1000,  1, 1, 0),  -- ad not in the mapping
    (DATE '2024-01-03', 'A1',  20.0,   -5,  1, 0, 0),  -- negative impressions: whole row rejected
    (DATE '2024-01-04', 'A3',  30.0,  300,  0, 0, 4),
    (DATE '2024-01-05', 'A1',  10.0,  100,  5, 0, 0),
    (DATE '2024-01-02', 'A5',  40.0,  400, 20, 10, 2),
    (DATE '2024-01-02', 'A5', 'NaN'::DOUBLE,       100,  1,  1, 1),  -- non-finite spend: rejected
    (DATE '2024-01-02', 'A5', 'Infinity'::DOUBLE,  100,  1,  1, 1),  -- non-finite spend: rejected
    (DATE '2024-01-03', 'A5', NULL,                 50,  5, NULL, 0),  -- NULL measures: kept as 0
    (DATE '2024-01-04', 'A5', '-Infinity'::DOUBLE,  10,  1,  0, 0)   -- -Inf spend: rejected
"""

APDC = """
    (DATE '2024-01-02', 'A1', 'United States', 30.0, 600, 25, 5, 1),
    (DATE '2024-01-02', 'A1', 'United States', 30.0, 600, 25, 5, 1),  -- exact duplicate
    (DATE '2024-01-02', 'A1', 'Narnia',        15.0, 300, 10, 2, 0),  -- unmapped -> ZZ
    (DATE '2024-01-02', 'A1', 'Atlantis',       5.0, 100,  5, 1, 0),  -- unmapped -> ZZ (summed)
    (DATE '2024-01-02', 'A1', 'Namibia',        1.0,  10,  0, 0, 0),  -- -> 'NA' (not NULL!)
    (DATE '2024-01-02', 'A1', 'Germany',       -3.0,  10,  1, 0, 0),  -- negative spend: rejected
    (DATE '2024-01-02', 'A1', 'France',         2.0,  20,  1, 0, 0),  -- FR (see test of DE/FR)
    (DATE '2024-01-02', 'A5', 'United States', 25.0, 250, 12, 6, 1),
    (DATE '2024-01-02', 'A5', 'United States', 'NaN'::DOUBLE, 5, 1, 1, 0),       -- rejected
    (DATE '2024-01-02', 'A5', 'Germany',       'Infinity'::DOUBLE, 5, 1, 1, 0)   -- rejected
"""

MAPPING = """
    ('A1', 'S1', 'C1'),
    ('A2', 'S1', 'C1'),
    ('A3', 'S2', 'C2'),
    ('A5', 'S5', 'C5')
"""

USERS = """
    ('u1',  'C1', 'S1', 'A1', TRUE,  'US'),
    ('u2',  NULL, NULL, 'A1', TRUE,  NULL),
    ('u3',  NULL, 'S2', NULL, TRUE,  ''),
    ('u4',  '',   '',   'A2', TRUE,  'DE'),
    ('u7',  'C9', 'S1', 'A1', TRUE,  'US'),
    ('u8',  NULL, NULL, 'A1', TRUE,  ''),
    ('u9',  NULL, NULL, 'A3', TRUE,  'FR'),
    ('u6',  'C6', NULL, 'A1', FALSE, 'US'),
    ('u,5', NULL, NULL, 'A1', TRUE,  'US'),
    ('',    NULL, NULL, 'A1', TRUE,  'US'),
    (NULL,  NULL, NULL, 'A1', TRUE,  'US'),
    ('w1',  'C5', 'S5', 'A5', TRUE,  ' us'),
    ('w2',  'C5', 'S5', 'A5', TRUE,  'Fr'),
    ('w3',  'C5', 'S5', 'A5', TRUE,  '  '),
    ('w4',  'C5', 'S5', 'A5', TRUE,  'US'),
    ('w5',  'C5', 'S5', 'A5', TRUE,  'US'),
    ('w6',  'C5', 'S5', 'A5', TRUE,  'US'),
    ('w7',  'C5', 'S5', 'A5', TRUE,  'de'),
    ('w8',  'C5', 'S5', 'A5', TRUE,  'US'),
    ('w9',  'C5', 'S5', 'A5', TRUE,  'US'),
    ('w10', 'C5', 'S5', 'A5', TRUE,  'us')
"""

EVENTS = """
    -- u1: trial P1 on 01-02 (delivered twice), a later start the same day, conversion (delivered twice),
    --     refund after conversion, a refund after as_of, a purchase P4 on 01-05
    ('e1',  'u1', 'RC Trial started',    TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('e1',  'u1', 'RC Trial started',    TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('e1b', 'u1', 'RC Trial started',    TIMESTAMP '2024-01-02 12:00:00', 'P1', NULL),
    ('e2',  'u1', 'RC Trial converted',  TIMESTAMP '2024-01-09 10:00:00', 'P1', 10.0),
    ('e2',  'u1', 'RC Trial converted',  TIMESTAMP '2024-01-09 10:00:00', 'P1', 10.0),
    ('e3',  'u1', 'RC Cancellation',     TIMESTAMP '2024-01-09 12:00:00', 'P1', -10.0),
    ('e3x', 'u1', 'RC Cancellation',     TIMESTAMP '2024-01-11 00:00:00', 'P1', -4.0),
    ('e14', 'u1', 'RC Initial purchase', TIMESTAMP '2024-01-05 09:00:00', 'P4', 8.0),
    -- u2: trial P1, conversion on ANOTHER product P2, a refund of P1 before any P1 conversion,
    --     purchase P3 with a cancellation BEFORE the purchase, a P1 conversion after as_of
    ('e4',  'u2', 'RC Trial started',    TIMESTAMP '2024-01-02 09:00:00', 'P1', NULL),
    ('e5',  'u2', 'RC Trial converted',  TIMESTAMP '2024-01-05 00:00:00', 'P2', 20.0),
    ('e6',  'u2', 'RC Cancellation',     TIMESTAMP '2024-01-03 00:00:00', 'P1', -5.0),
    ('e13', 'u2', 'RC Initial purchase', TIMESTAMP '2024-01-02 15:00:00', 'P3', 30.0),
    ('e13c','u2', 'RC Cancellation',     TIMESTAMP '2024-01-02 14:00:00', 'P3', -30.0),
    ('e5x', 'u2', 'RC Trial converted',  TIMESTAMP '2024-01-11 01:00:00', 'P1', 11.0),
    -- u8: trial P1, a refund BEFORE its conversion, conversion, then zero / NULL revenue
    --     cancellations (not refunds), purchase P3 refunded at the very end of as_of
    ('e7',  'u8', 'RC Trial started',    TIMESTAMP '2024-01-02 08:00:00', 'P1', NULL),
    ('e8',  'u8', 'RC Cancellation',     TIMESTAMP '2024-01-04 00:00:00', 'P1', -7.0),
    ('e9',  'u8', 'RC Trial converted',  TIMESTAMP '2024-01-06 00:00:00', 'P1', 12.0),
    ('e10', 'u8', 'RC Cancellation',     TIMESTAMP '2024-01-07 00:00:00', 'P1', 0.0),
    ('e10n','u8', 'RC Cancellation',     TIMESTAMP '2024-01-08 00:00:00', 'P1', NULL),
    ('e15', 'u8', 'RC Initial purchase', TIMESTAMP '2024-01-02 13:00:00', 'P3', 25.0),
    ('e16', 'u8', 'rc cancellation',     TIMESTAMP '2024-01-10 23:59:59', 'P3', -25.0),
    -- u7: trial P1 at 11:00, a conversion at 10:00 (before the start: does not count)
    ('e11', 'u7', 'RC Trial started',    TIMESTAMP '2024-01-02 11:00:00', 'P1', NULL),
    ('e12', 'u7', 'RC Trial converted',  TIMESTAMP '2024-01-02 10:00:00', 'P1', 9.0),
    -- u4 (A2): on 01-01 a trial, a purchase, a conversion and one refund of the same product P5;
    --          on 01-02 a trial P1
    ('e20', 'u4', 'RC Trial started',    TIMESTAMP '2024-01-01 08:00:00', 'P5', NULL),
    ('e21', 'u4', 'RC Initial purchase', TIMESTAMP '2024-01-01 09:00:00', 'P5', 6.0),
    ('e22', 'u4', 'RC Trial converted',  TIMESTAMP '2024-01-01 10:00:00', 'P5', 7.0),
    ('e23', 'u4', 'RC Cancellation',     TIMESTAMP '2024-01-01 11:00:00', 'P5', -7.0),
    ('e24', 'u4', 'RC Trial started',    TIMESTAMP '2024-01-02 12:00:00', 'P1', NULL),
    -- S2 / C2 on 01-04 (not post-trial): u9 trial P1 + conversion, u3 and u9 purchases P3
    ('e30', 'u9', 'RC Trial started',    TIMESTAMP '2024-01-04 09:00:00', 'P1', NULL),
    ('e31', 'u9', 'RC Trial converted',  TIMESTAMP '2024-01-06 09:00:00', 'P1', 5.0),
    ('e32', 'u3', 'RC Initial purchase', TIMESTAMP '2024-01-04 10:00:00', 'P3', 15.0),
    ('e33', 'u9', 'RC Initial purchase', TIMESTAMP '2024-01-04 11:00:00', 'P3', 15.0),
    -- not counted anywhere: unattributed user, rejected ids
    ('e40', 'u6',  'RC Trial started',   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('e41', 'u,5', 'RC Trial started',   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('e42', '',    'RC Trial started',   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('e43', NULL,  'RC Trial started',   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    -- A5 (contract v2 rejects): trials of P1 on 01-02
    ('f1',  'w1',  'RC Trial started',   TIMESTAMP '2024-01-02 08:00:00', 'P1', NULL),
    ('f2',  'w2',  'RC Trial started',   TIMESTAMP '2024-01-02 08:10:00', 'P1', NULL),
    ('f3',  'w3',  'RC Trial started',   TIMESTAMP '2024-01-02 08:20:00', 'P1', NULL),
    ('f4',  'w4',  'RC Trial started',   TIMESTAMP '2024-01-02 08:30:00', 'P1', NULL),
    (NULL,  'w5',  'RC Trial started',   TIMESTAMP '2024-01-02 08:40:00', 'P1', NULL),  -- NULL uuid
    ('',    'w6',  'RC Trial started',   TIMESTAMP '2024-01-02 08:50:00', 'P1', NULL),  -- '' uuid
    ('f7',  'w7',  'RC Trial started',   TIMESTAMP '2024-01-02 09:00:00', 'P1', NULL),
    ('f8',  'w8',  'RC Trial started',   TIMESTAMP '2024-01-02 09:10:00', 'P1', NULL),
    ('f9',  'w9',  'RC Trial started',   TIMESTAMP '2024-01-02 09:20:00', 'P1', NULL),
    ('f10', 'w10', 'RC Trial started',   TIMESTAMP '2024-01-02 09:30:00', 'P1', NULL),
    -- purchases of P3 on 01-02
    ('f11', 'w1',  'RC Initial purchase', TIMESTAMP '2024-01-02 12:00:00', 'P3', 9.0),
    ('f12', 'w4',  'RC Initial purchase', TIMESTAMP '2024-01-02 12:00:00', 'P3', 11.0),
    -- conversions on 01-05: w1 and w2 count; w4 (NaN) and w10 (+Inf) are rejected
    ('f13', 'w1',  'RC Trial converted', TIMESTAMP '2024-01-05 10:00:00', 'P1', 12.0),
    ('f14', 'w2',  'RC Trial converted', TIMESTAMP '2024-01-05 10:00:00', 'P1', 10.0),
    ('f15', 'w4',  'RC Trial converted', TIMESTAMP '2024-01-05 10:00:00', 'P1', 'NaN'::DOUBLE),
    ('f16', 'w10', 'RC Trial converted', TIMESTAMP '2024-01-05 10:00:00', 'P1', 'Infinity'::DOUBLE),
    ('f16b','w10', 'RC Trial converted', TIMESTAMP '2024-01-05 11:00:00', 'P1', 8.0),
    -- w2's -Inf cancellation: rejected, so no refund
    ('f17', 'w2',  'RC Cancellation',    TIMESTAMP '2024-01-06 10:00:00', 'P1', '-Infinity'::DOUBLE),
    -- rows no metric can use, rejected all the same
    ('f18', 'w3',  NULL,                 TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('f19', 'w3',  '',                   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL),
    ('f20', 'w3',  'RC Trial started',   NULL,                            'P1', NULL)
"""

UPM = """
    ('u1', 'P1', 0.5, 0.2, 0.1,  40.0),
    ('u2', 'P1', 0.3, 0.4, 0.0,  20.0),
    ('u8', 'P1', 0.1, 0.6, 0.3,  10.0),
    ('u2', 'P3', 0.0, 0.0, 0.25, 30.0),
    ('u8', 'P3', 0.0, 0.0, 0.15, 25.0),
    ('u1', 'P4', 0.0, 0.0, 0.0,  16.0),
    ('u3', 'P3', 0.0, 0.0, 0.5,  12.0),
    ('u9', 'P3', 0.0, 0.0, 0.1,   8.0),
    ('u4', 'P5', 0.8, 0.5, 0.4,  50.0),
    ('u2', 'P2', 0.0, 0.0, 0.0,  99.0),
    ('w1',  'P1', 0.5,  0.2,  0.1,  40.0),
    ('w2',  'P1', 1.5,  0.4,  0.1,  30.0),           -- rate > 1: rejected
    ('w3',  'P1', 0.9, -0.1,  0.1,  30.0),           -- rate < 0: rejected
    ('w4',  'P1', NULL, 0.6,  0.1,  20.0),           -- NULL rate: kept
    ('w7',  'P1', 0.2,  0.2,  'NaN'::DOUBLE, 10.0),  -- non-finite rate: rejected
    ('w8',  'P1', 0.1,  0.2,  0.1,  'Infinity'::DOUBLE),  -- non-finite value: rejected
    ('w9',  'P1', 0.7,  0.2,  0.1,  -1.0),           -- negative value: rejected
    ('w10', 'P1', 0.4,  NULL, 0.1,  NULL),           -- NULL value and NULL rate: kept
    ('w1',  'P3', 0.0,  0.0,  0.3,   5.0),
    ('w4',  'P3', 0.0,  0.0,  NULL,  7.0)
"""

MAPPING_CSV = (
    "meta_country,country_code\n"
    "United States,US\n"
    "Germany,DE\n"
    "France,FR\n"
    "Namibia,NA\n"
    "US,US\n"
)

TABLES = {
    "ad_performance_daily": (
        "date DATE, ad_id VARCHAR, spend DOUBLE, impressions BIGINT, clicks BIGINT, "
        "meta_trials BIGINT, meta_purchases BIGINT",
        APD,
    ),
    "ad_performance_daily_country": (
        "date DATE, ad_id VARCHAR, country VARCHAR, spend DOUBLE, impressions BIGINT, "
        "clicks BIGINT, meta_trials BIGINT, meta_purchases BIGINT",
        APDC,
    ),
    "id_hierarchy_mapping": ("ad_id VARCHAR, adset_id VARCHAR, campaign_id VARCHAR", MAPPING),
    "mixpanel_user": (
        "distinct_id VARCHAR, abi_campaign_id VARCHAR, abi_ad_set_id VARCHAR, abi_ad_id VARCHAR, "
        "has_abi_attribution BOOLEAN, country VARCHAR",
        USERS,
    ),
    "mixpanel_event": (
        "event_uuid VARCHAR, distinct_id VARCHAR, event_name VARCHAR, event_time TIMESTAMP, "
        "product_id VARCHAR, revenue_usd DOUBLE",
        EVENTS,
    ),
    "user_product_metrics": (
        "distinct_id VARCHAR, product_id VARCHAR, trial_conversion_rate DOUBLE, "
        "trial_converted_to_refund_rate DOUBLE, initial_purchase_to_refund_rate DOUBLE, "
        "current_value DOUBLE",
        UPM,
    ),
}


def _write_parquet(con, path: Path, schema: str, values: str) -> None:
    cols = [c.strip().split(" ")[0] for c in schema.split(",")]
    types = [c.strip().split(" ", 1)[1] for c in schema.split(",")]
    select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in zip(cols, types))
    # strip SQL comments so that the VALUES list parses
    body = "\n".join(line.split("--")[0] for line in values.strip().splitlines())
    con.execute(
        f"COPY (SELECT {select} FROM (VALUES {body}) AS t({', '.join(cols)})) "
        f"TO '{path}' (FORMAT parquet)"
    )


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("raw")
    con = duckdb.connect()
    for table, (schema, values) in TABLES.items():
        _write_parquet(con, d / f"{table}.parquet", schema, values)
    con.close()
    (d / "breakdown_mapping_country.csv").write_text(MAPPING_CSV)
    return d


@pytest.fixture(scope="module", params=[False, True], ids=["parquet-views", "materialized"])
def od(raw_dir, request) -> OnDemandMetrics:
    # every test runs on both forms of the sources: views over the Parquet files and
    # temp tables loaded once (the form `precompute validate` uses)
    return OnDemandMetrics(
        raw_dir, start_date=START, as_of_date=AS_OF, trial_days=7,
        country_mapping_csv=raw_dir / "breakdown_mapping_country.csv",
        materialize=request.param,
    )


def one(od, entity_type, entity_id, day, country=None):
    rows = od.daily_metrics(entity_type, entity_id, day, day, country)
    assert len(rows) == 1
    return rows[0]


# ------------------------------------------------------------------ tests
def test_row_shape_and_types(od):
    rows = od.daily_metrics("ad", "A1", START, AS_OF)
    assert [r["date"] for r in rows] == [D(2024, 1, i) for i in range(1, 11)]
    r = rows[1]
    assert list(r) == list(METRIC_COLUMNS)
    assert isinstance(r["meta_impressions"], int) and isinstance(r["meta_spend"], float)
    assert isinstance(r["trial_accuracy_ratio"], float)
    # range is clipped to the window
    assert len(od.daily_metrics("ad", "A1", D(2023, 12, 1), D(2024, 2, 1))) == 10
    assert od.daily_metrics("ad", "A1", D(2024, 2, 1), D(2024, 2, 3)) == []


def test_ad_a1_day2_overall(od):
    r = one(od, "ad", "A1", D2)
    # Meta: the duplicated row counts once -> 50 / 1000 / 40 / 8 / 1
    assert (r["meta_spend"], r["meta_impressions"], r["meta_clicks"],
            r["meta_trial_count"], r["meta_purchase_count"]) == (50.0, 1000, 40, 8, 1)
    # Trials: u1, u2, u7, u8 (u6 unattributed, 'u,5' / '' / NULL rejected)
    assert r["trial_user_ids"] == "u1,u2,u7,u8"
    assert r["mixpanel_trial_count"] == 4
    # 01-02 <= 01-10 - 7 = 01-03 -> all post-trial
    assert r["post_trial_user_ids"] == "u1,u2,u7,u8"
    # converted: u1 (P1 conv 01-09 >= 10:00), u8 (01-06). u2 converted P2 only (and its P1
    # conversion is on 01-11, after as_of); u7's conversion (10:00) is before its start (11:00)
    assert r["converted_user_ids"] == "u1,u8"
    # trial refund: u1 (-10 at 01-09 12:00 >= conv 10:00). u8: -7 at 01-04 is before its
    # conversion, 0 and NULL revenue cancellations are not refunds
    assert r["trial_refund_user_ids"] == "u1"
    # purchases: u2 P3, u8 P3; refund: u8 (-25 at 01-10 23:59:59, inside as_of);
    # u2's -30 cancellation is at 14:00, before its purchase at 15:00
    assert r["purchase_user_ids"] == "u2,u8"
    assert r["purchase_refund_user_ids"] == "u8"
    # estimated conversion: trial pairs with a metrics row u1 .5, u2 .3, u8 .1 (u7 none) -> .9/3
    assert r["trial_conversion_rate_estimated"] == pytest.approx(0.3)
    assert r["trial_conversion_rate_actual"] == pytest.approx(2 / 4)
    # converted pairs u1 .2, u8 .6 -> .4 ; actual 1/2
    assert r["trial_refund_rate_estimated"] == pytest.approx(0.4)
    assert r["trial_refund_rate_actual"] == pytest.approx(0.5)
    # purchase pairs u2 .25, u8 .15 -> .2 ; actual 1/2
    assert r["purchase_refund_rate_estimated"] == pytest.approx(0.2)
    assert r["purchase_refund_rate_actual"] == pytest.approx(0.5)
    # revenue: conversions u1 10 (duplicate delivery once) + u8 12; purchases 30 + 25 -> 77
    assert r["actual_revenue_usd"] == pytest.approx(77.0)
    # refunds: u1 10 (trial) + u8 25 (purchase); u1's -4 on 01-11 is after as_of -> 35
    assert r["actual_refunds_usd"] == pytest.approx(35.0)
    assert r["net_actual_revenue_usd"] == pytest.approx(42.0)
    # estimated: (u1,P1) 40 + (u2,P1) 20 + (u8,P1) 10 + (u2,P3) 30 + (u8,P3) 25 = 125
    assert r["estimated_revenue_usd"] == pytest.approx(125.0)
    # accuracy: trial 4/8*100 = 50 ; purchase 2/1*100 = 200
    assert r["trial_accuracy_ratio"] == pytest.approx(50.0)
    assert r["purchase_accuracy_ratio"] == pytest.approx(200.0)
    # purchases (2) > trials (4)? no -> trial ratio 50 -> 125 / 0.5 = 250
    assert r["adjusted_estimated_revenue_usd"] == pytest.approx(250.0)
    assert r["profit_usd"] == pytest.approx(200.0)       # 250 - 50
    assert r["estimated_roas"] == pytest.approx(5.0)     # 250 / 50
    assert r["mixpanel_cost_per_trial"] == pytest.approx(12.5)     # 50 / 4
    assert r["mixpanel_cost_per_purchase"] == pytest.approx(25.0)  # 50 / 2
    assert r["meta_cost_per_trial"] == pytest.approx(6.25)         # 50 / 8
    assert r["meta_cost_per_purchase"] == pytest.approx(50.0)      # 50 / 1
    assert r["click_to_trial_rate"] == pytest.approx(10.0)         # 4 / 40 * 100


def test_negative_meta_row_rejected_and_zero_row(od):
    r = one(od, "ad", "A1", D3)   # the only A1 row of 01-03 has impressions -5: rejected
    assert r["meta_spend"] == 0.0 and r["meta_impressions"] == 0 and r["meta_clicks"] == 0
    assert r["mixpanel_trial_count"] == 0 and r["trial_user_ids"] is None
    for k in ("post_trial_user_ids", "converted_user_ids", "trial_refund_user_ids",
              "purchase_user_ids", "purchase_refund_user_ids"):
        assert r[k] is None
    assert r["trial_accuracy_ratio"] == 0.0 and r["estimated_roas"] == 0.0


def test_events_after_as_of_ignored_and_default_window(raw_dir):
    od = OnDemandMetrics(raw_dir, country_mapping_csv=raw_dir / "breakdown_mapping_country.csv")
    # defaults: min/max of Meta dates (01-01 .. 01-05) and event dates (01-01 .. 01-11)
    assert (od.start_date, od.as_of_date) == (D(2024, 1, 1), D(2024, 1, 11))
    r = one(od, "ad", "A1", D2)
    # as_of 01-11: now u2's P1 conversion at 01-11 01:00 counts (its -5 refund of 01-03 is
    # before that conversion: still not a refund) and u1's -4 refund of 01-11 counts
    assert r["converted_user_ids"] == "u1,u2,u8"
    assert r["trial_refund_user_ids"] == "u1"
    # revenue 10 + 11 + 12 + 30 + 25 = 88 ; refunds 10 + 4 + 25 = 39
    assert r["actual_revenue_usd"] == pytest.approx(88.0)
    assert r["actual_refunds_usd"] == pytest.approx(39.0)


def test_post_trial_cutoff_and_purchase_ratio_choice(od):
    # adset S2 on 01-04: u3 (own adset S2) and u9 (A3 -> S2)
    r = one(od, "adset", "S2", D4)
    assert r["trial_user_ids"] == "u9"
    # 01-04 > 01-10 - 7 = 01-03: not post-trial, so u9's conversion on 01-06 does not count
    assert r["post_trial_user_ids"] is None and r["converted_user_ids"] is None
    assert r["trial_conversion_rate_actual"] == 0.0
    assert r["purchase_user_ids"] == "u3,u9"
    # revenue: purchases only 15 + 15 = 30 (u9's conversion 5 is not counted)
    assert r["actual_revenue_usd"] == pytest.approx(30.0)
    # Meta S2 = A3: spend 30, clicks 0, trials 0, purchases 4
    # trial ratio: meta 0, mixpanel 1 > 0 -> 100 ; purchase ratio 2/4*100 = 50
    assert r["trial_accuracy_ratio"] == pytest.approx(100.0)
    assert r["purchase_accuracy_ratio"] == pytest.approx(50.0)
    # estimated: (u9,P1) no row, (u3,P3) 12, (u9,P3) 8 -> 20
    assert r["estimated_revenue_usd"] == pytest.approx(20.0)
    assert r["trial_conversion_rate_estimated"] == 0.0  # the only trial pair has no metrics row
    assert r["purchase_refund_rate_estimated"] == pytest.approx(0.3)  # (.5 + .1) / 2
    # purchases 2 > trials 1 -> purchase ratio 50 -> 20 / 0.5 = 40
    assert r["adjusted_estimated_revenue_usd"] == pytest.approx(40.0)
    assert r["profit_usd"] == pytest.approx(10.0)           # 40 - 30
    assert r["estimated_roas"] == pytest.approx(40 / 30)
    assert r["click_to_trial_rate"] == 0.0                   # clicks 0
    assert r["meta_cost_per_trial"] == 0.0                   # meta trials 0
    assert r["meta_cost_per_purchase"] == pytest.approx(7.5)  # 30 / 4
    # campaign C2 gets u3 through the adset's campaign in the mapping
    c = one(od, "campaign", "C2", D4)
    assert c["purchase_user_ids"] == "u3,u9" and c["trial_user_ids"] == "u9"
    assert c["adjusted_estimated_revenue_usd"] == pytest.approx(40.0)


def test_purchase_ratio_has_no_100_special_case(od):
    # A1 on 01-05: u1 purchase P4 (8 USD); Meta spend 10, clicks 5, trials 0, purchases 0
    r = one(od, "ad", "A1", D5)
    assert r["purchase_user_ids"] == "u1" and r["mixpanel_trial_count"] == 0
    assert r["trial_accuracy_ratio"] == 0.0      # both 0
    assert r["purchase_accuracy_ratio"] == 0.0   # meta 0 -> 0, not 100
    # purchases 1 > trials 0 -> purchase ratio, which is 0 -> adjusted = estimated = 16
    assert r["estimated_revenue_usd"] == pytest.approx(16.0)
    assert r["adjusted_estimated_revenue_usd"] == pytest.approx(16.0)
    assert r["profit_usd"] == pytest.approx(6.0)      # 16 - 10
    assert r["estimated_roas"] == pytest.approx(1.6)  # 16 / 10
    assert r["actual_revenue_usd"] == pytest.approx(8.0)
    assert r["mixpanel_cost_per_purchase"] == pytest.approx(10.0)
    assert r["click_to_trial_rate"] == 0.0            # 0 / 5 * 100


def test_trial_and_purchase_of_same_product_same_day(od):
    # A2 on 01-01: u4 trial P5 08:00, purchase P5 09:00, conversion P5 10:00 (7), refund -7 11:00
    r = one(od, "ad", "A2", D1)
    assert r["trial_user_ids"] == r["post_trial_user_ids"] == r["converted_user_ids"] == "u4"
    assert r["trial_refund_user_ids"] == "u4"          # refund 11:00 >= conversion 10:00
    assert r["purchase_user_ids"] == r["purchase_refund_user_ids"] == "u4"  # 11:00 >= 09:00
    assert r["actual_revenue_usd"] == pytest.approx(13.0)  # conversion 7 + purchase 6
    # reading: the one refund event is counted once although it refunds both pairs
    assert r["actual_refunds_usd"] == pytest.approx(7.0)
    assert r["net_actual_revenue_usd"] == pytest.approx(6.0)
    # estimated: (u4,P5) is in trial pairs and purchase pairs: one distinct pair -> 50
    assert r["estimated_revenue_usd"] == pytest.approx(50.0)
    assert (r["trial_conversion_rate_estimated"], r["trial_refund_rate_estimated"],
            r["purchase_refund_rate_estimated"]) == pytest.approx((0.8, 0.5, 0.4))
    assert (r["trial_conversion_rate_actual"], r["trial_refund_rate_actual"],
            r["purchase_refund_rate_actual"]) == pytest.approx((1.0, 1.0, 1.0))
    # Meta row all zeros: trial ratio 100 (meta 0, mixpanel 1), purchase ratio 0;
    # purchases 1 > trials 1? no -> trial ratio 100 -> adjusted 50
    assert r["trial_accuracy_ratio"] == 100.0 and r["purchase_accuracy_ratio"] == 0.0
    assert r["adjusted_estimated_revenue_usd"] == pytest.approx(50.0)
    assert r["profit_usd"] == pytest.approx(50.0)     # 50 - 0
    assert r["estimated_roas"] == 0.0                  # spend 0
    assert r["mixpanel_cost_per_trial"] == 0.0         # 0 / 1


def test_fill_rule_and_rollup(od):
    # S1 on 01-02: u1 (own), u2 (A1 -> S1), u4 ('' -> A2 -> S1), u7 (own), u8 (A1 -> S1)
    assert one(od, "adset", "S1", D2)["trial_user_ids"] == "u1,u2,u4,u7,u8"
    c1 = one(od, "campaign", "C1", D2)
    # C1: u7's own campaign is C9, so not here
    assert c1["trial_user_ids"] == "u1,u2,u4,u8"
    # Meta C1 = A1 (50/1000/40/8/1) + A2 (25/500/10/2/0); A9 is not mapped
    assert (c1["meta_spend"], c1["meta_impressions"], c1["meta_clicks"],
            c1["meta_trial_count"], c1["meta_purchase_count"]) == (75.0, 1500, 50, 10, 1)
    c9 = one(od, "campaign", "C9", D2)
    assert c9["trial_user_ids"] == "u7" and c9["meta_spend"] == 0.0
    assert c9["trial_accuracy_ratio"] == 100.0          # meta 0, mixpanel 1
    a9 = one(od, "ad", "A9", D2)
    assert a9["meta_spend"] == 100.0 and a9["trial_user_ids"] is None
    # A2 on 01-02: only u4 (own ad A2)
    assert one(od, "ad", "A2", D2)["trial_user_ids"] == "u4"


def test_entities(od):
    assert od.entities() == {
        "campaign": ["C1", "C2", "C5", "C9"],   # C6 belongs to an unattributed user
        "adset": ["S1", "S2", "S5"],
        "ad": ["A1", "A2", "A3", "A5", "A9"],   # A9 from ad_performance_daily only
    }
    with pytest.raises(ValueError):
        od.daily_metrics("campaign", "C6", START, AS_OF)
    with pytest.raises(ValueError):
        od.daily_metrics("region", "C1", START, AS_OF)
    # an entity with nothing in the window still has every overall row
    rows = od.daily_metrics("campaign", "C9", START, AS_OF)
    assert len(rows) == 10 and all(r is not None for r in rows)


def test_country_breakdown_a1_day2(od):
    us = one(od, "ad", "A1", D2, "US")
    # US users u1, u7; Meta 'United States' (duplicate once): 30 / 600 / 25 / 5 / 1
    assert us["country_code"] == "US"
    assert (us["meta_spend"], us["meta_impressions"], us["meta_clicks"],
            us["meta_trial_count"], us["meta_purchase_count"]) == (30.0, 600, 25, 5, 1)
    assert us["trial_user_ids"] == "u1,u7" and us["converted_user_ids"] == "u1"
    assert us["trial_refund_user_ids"] == "u1" and us["purchase_user_ids"] is None
    assert us["trial_conversion_rate_estimated"] == pytest.approx(0.5)  # u1 only has a row
    assert us["trial_conversion_rate_actual"] == pytest.approx(0.5)     # 1 / 2
    assert us["trial_refund_rate_actual"] == pytest.approx(1.0)         # 1 / 1
    assert us["actual_revenue_usd"] == pytest.approx(10.0)
    assert us["actual_refunds_usd"] == pytest.approx(10.0)
    # trial ratio 2/5*100 = 40 ; purchase ratio 0/1 = 0 ; trial chosen -> 40 / 0.4 = 100
    assert us["trial_accuracy_ratio"] == pytest.approx(40.0)
    assert us["purchase_accuracy_ratio"] == 0.0
    assert us["estimated_revenue_usd"] == pytest.approx(40.0)
    assert us["adjusted_estimated_revenue_usd"] == pytest.approx(100.0)
    assert us["profit_usd"] == pytest.approx(70.0)
    assert us["click_to_trial_rate"] == pytest.approx(8.0)  # 2 / 25 * 100

    zz = one(od, "ad", "A1", D2, "ZZ")
    # ZZ users: u2 (NULL country), u8 ('' country); Meta Narnia + Atlantis = 20/400/15/3/0
    assert (zz["meta_spend"], zz["meta_impressions"], zz["meta_clicks"],
            zz["meta_trial_count"], zz["meta_purchase_count"]) == (20.0, 400, 15, 3, 0)
    assert zz["trial_user_ids"] == "u2,u8" and zz["purchase_user_ids"] == "u2,u8"
    assert zz["converted_user_ids"] == "u8" and zz["trial_refund_user_ids"] is None
    assert zz["purchase_refund_user_ids"] == "u8"
    assert zz["trial_conversion_rate_estimated"] == pytest.approx(0.2)  # (.3 + .1) / 2
    assert zz["trial_refund_rate_estimated"] == pytest.approx(0.6)
    assert zz["actual_revenue_usd"] == pytest.approx(67.0)   # 12 + 30 + 25
    assert zz["actual_refunds_usd"] == pytest.approx(25.0)
    assert zz["estimated_revenue_usd"] == pytest.approx(85.0)  # 20 + 10 + 30 + 25
    # trial ratio 2/3*100 ; purchase ratio 0 (meta 0) ; purchases 2 > trials 2? no -> trial
    assert zz["trial_accuracy_ratio"] == pytest.approx(200 / 3)
    assert zz["adjusted_estimated_revenue_usd"] == pytest.approx(127.5)  # 85 / (2/3)
    assert zz["estimated_roas"] == pytest.approx(127.5 / 20)
    assert zz["meta_cost_per_trial"] == pytest.approx(20 / 3)

    # breakdown counts add up to the overall ones
    overall = one(od, "ad", "A1", D2)
    assert us["mixpanel_trial_count"] + zz["mixpanel_trial_count"] == overall["mixpanel_trial_count"]
    assert us["actual_revenue_usd"] + zz["actual_revenue_usd"] == pytest.approx(77.0)


def test_breakdown_row_existence(od):
    # 'Namibia' maps to the string 'NA': a Meta-only row with no Mixpanel users
    na = one(od, "ad", "A1", D2, "NA")
    assert na is not None and na["meta_spend"] == 1.0 and na["mixpanel_trial_count"] == 0
    # FR: Meta country data only (2.0 spend); no FR users on A1
    assert one(od, "ad", "A1", D2, "FR")["meta_spend"] == 2.0
    # DE: its only Meta row has negative spend (rejected) and no DE user on A1 -> no row
    assert one(od, "ad", "A1", D2, "DE") is None
    # nothing at all on A1 / US on 01-01 -> no row
    assert one(od, "ad", "A1", D1, "US") is None
    # A2 / DE: no Meta country data, but u4 (DE) has a trial -> the row exists
    de = one(od, "ad", "A2", D2, "DE")
    assert de is not None and de["trial_user_ids"] == "u4" and de["meta_spend"] == 0.0
    assert one(od, "ad", "A2", D2, "US") is None
    # S2 on 01-04: u3 ('' country -> ZZ) and u9 (FR)
    assert one(od, "adset", "S2", D4, "ZZ")["purchase_user_ids"] == "u3"
    assert one(od, "adset", "S2", D4, "FR")["trial_user_ids"] == "u9"
    # daily list keeps None in place
    rows = od.daily_metrics("ad", "A1", D1, D3, "US")
    assert rows[0] is None and rows[1] is not None and rows[2] is None


def test_range_totals(od):
    t = od.range_totals("ad", "A1", START, AS_OF)
    # Meta spend: 01-02 50 + 01-05 10 (01-03 rejected) = 60
    assert t["meta_spend"] == pytest.approx(60.0)
    assert t["meta_clicks"] == 45 and t["meta_trial_count"] == 8 and t["meta_purchase_count"] == 1
    # Mixpanel: trials 4 (01-02); purchases 2 (01-02) + 1 (01-05) = 3
    assert t["mixpanel_trial_count"] == 4 and t["mixpanel_purchase_count"] == 3
    # money: 77 + 8 ; refunds 35 ; adjusted 250 + 16
    assert t["actual_revenue_usd"] == pytest.approx(85.0)
    assert t["actual_refunds_usd"] == pytest.approx(35.0)
    assert t["adjusted_estimated_revenue_usd"] == pytest.approx(266.0)
    assert t["profit_usd"] == pytest.approx(206.0)
    assert t["days"] == 10
    tu = od.range_totals("ad", "A1", START, AS_OF, country="US")
    # US rows: 01-02 (Meta + u1, u7) and 01-05 (u1's purchase, no Meta country data)
    assert tu["rows"] == 2 and tu["meta_spend"] == pytest.approx(30.0)
    assert tu["mixpanel_trial_count"] == 2 and tu["mixpanel_purchase_count"] == 1
    # adjusted: 100 (01-02) + 16 (01-05: ratios 0 -> estimated 16)
    assert tu["adjusted_estimated_revenue_usd"] == pytest.approx(116.0)


def test_missing_column_is_a_clear_error(raw_dir, tmp_path):
    import shutil
    for f in raw_dir.glob("*.parquet"):
        shutil.copy(f, tmp_path / f.name)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * EXCLUDE (event_uuid) FROM read_parquet('{raw_dir}/mixpanel_event.parquet')) "
        f"TO '{tmp_path}/mixpanel_event.parquet' (FORMAT parquet)"
    )
    with pytest.raises(ValueError, match="mixpanel_event.*event_uuid"):
        OnDemandMetrics(tmp_path)
    shutil.copy(raw_dir / "mixpanel_event.parquet", tmp_path / "mixpanel_event.parquet")
    (tmp_path / "user_product_metrics.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="user_product_metrics"):
        OnDemandMetrics(tmp_path)


# ------------------------------------------------------------ contract v2
def test_v2_meta_rows_non_finite_rejected_null_kept(od):
    r = one(od, "ad", "A5", D2)
    # the NaN-spend and +Inf-spend rows of 01-02 are rejected: the good row only
    assert (r["meta_spend"], r["meta_impressions"], r["meta_clicks"],
            r["meta_trial_count"], r["meta_purchase_count"]) == (40.0, 400, 20, 10, 2)
    # 01-03: NULL spend and NULL meta_trials count as 0, the row is kept (impressions 50)
    r3 = one(od, "ad", "A5", D3)
    assert (r3["meta_spend"], r3["meta_impressions"], r3["meta_clicks"],
            r3["meta_trial_count"], r3["meta_purchase_count"]) == (0.0, 50, 5, 0, 0)
    assert r3["meta_cost_per_trial"] == 0.0 and r3["estimated_roas"] == 0.0
    # 01-04: -Inf spend -> the whole row is rejected
    r4 = one(od, "ad", "A5", D4)
    assert (r4["meta_spend"], r4["meta_impressions"], r4["meta_clicks"]) == (0.0, 0, 0)
    # roll-up: S5 and C5 have the same Meta numbers as A5
    assert one(od, "campaign", "C5", D2)["meta_impressions"] == 400
    # country table: US 25 / 250 / 12 / 6 / 1 (its NaN-spend twin is rejected)
    us = one(od, "ad", "A5", D2, "US")
    assert (us["meta_spend"], us["meta_impressions"], us["meta_clicks"],
            us["meta_trial_count"], us["meta_purchase_count"]) == (25.0, 250, 12, 6, 1)
    # 'Germany' +Inf spend is rejected: the DE row exists only through w7's trial
    de = one(od, "ad", "A5", D2, "DE")
    assert de["meta_spend"] == 0.0 and de["meta_impressions"] == 0 and de["trial_user_ids"] == "w7"


def test_v2_event_rejects(od):
    r = one(od, "ad", "A5", D2)
    # w5 (NULL event_uuid) and w6 ('' event_uuid) have no trial; binary order of ids
    assert r["trial_user_ids"] == "w1,w10,w2,w3,w4,w7,w8,w9"
    assert r["mixpanel_trial_count"] == 8
    # 01-02 <= 01-03: post-trial. Converted: w1 (12), w2 (10) and w10 (8: its +Inf
    # conversion is rejected); w4's only conversion (revenue NaN) is rejected
    assert r["converted_user_ids"] == "w1,w10,w2"
    assert r["trial_conversion_rate_actual"] == pytest.approx(3 / 8)
    # w2's cancellation with revenue -Inf is rejected: no refund at all
    assert r["trial_refund_user_ids"] is None
    assert r["actual_refunds_usd"] == 0.0 and r["trial_refund_rate_actual"] == 0.0
    # revenue: conversions 12 + 10 + 8, purchases w1 9 + w4 11 -> 50
    assert r["actual_revenue_usd"] == pytest.approx(50.0)
    assert r["net_actual_revenue_usd"] == pytest.approx(50.0)


def test_v2_event_with_null_time_is_not_used(od):
    # f20 (a trial start with NULL event_time) can reach no metric: a metric only
    # reads events at a time. Checked on the cleaned events (white box): w3 keeps
    # only its good trial f3. (Rows with NULL / '' event_name, f18 / f19, cannot
    # reach any metric either and are dropped by the event-name filter as well.)
    got = od.con.execute(
        f"SELECT event_uuid FROM {od._v}event WHERE distinct_id = 'w3' ORDER BY 1").fetchall()
    assert got == [("f3",)]


def test_v2_user_product_metrics_rejects_and_pair_counts(od):
    r = one(od, "ad", "A5", D2)
    # trial pairs (P1) with a kept row and a non-NULL rate: w1 .5, w10 .4 -> .45 over 2
    # (rows of w2 rate 1.5, w3 rate -.1, w7 NaN rate, w8 +Inf value, w9 value -1 are
    #  rejected; w4's trial_conversion_rate is NULL)
    assert r["trial_conversion_rate_estimated"] == pytest.approx(0.45)
    assert r["trial_conversion_estimate_pair_count"] == 2
    # converted pairs w1 (.2), w2 (row rejected), w10 (rate NULL) -> .2 over 1
    assert r["trial_refund_rate_estimated"] == pytest.approx(0.2)
    assert r["trial_refund_estimate_pair_count"] == 1
    # purchase pairs (P3) w1 .3 and w4 (NULL rate) -> .3 over 1
    assert r["purchase_refund_rate_estimated"] == pytest.approx(0.3)
    assert r["purchase_refund_estimate_pair_count"] == 1
    # estimated revenue: (w1,P1) 40 + (w4,P1) 20 + (w10,P1) NULL + (w1,P3) 5 + (w4,P3) 7 = 72
    assert r["estimated_revenue_usd"] == pytest.approx(72.0)
    # trial ratio 8 / 10 * 100 = 80 (purchases 2 <= trials 8) -> adjusted 72 / 0.8 = 90
    assert r["trial_accuracy_ratio"] == pytest.approx(80.0)
    assert r["adjusted_estimated_revenue_usd"] == pytest.approx(90.0)
    assert r["profit_usd"] == pytest.approx(50.0)             # 90 - 40
    assert r["estimated_roas"] == pytest.approx(2.25)         # 90 / 40
    assert r["click_to_trial_rate"] == pytest.approx(40.0)    # 8 / 20 * 100


def test_v2_country_trimmed_and_upper_cased(od):
    # ' us' (w1), 'US' (w4, w8, w9), 'us' (w10) are all US
    us = one(od, "ad", "A5", D2, "US")
    assert us["trial_user_ids"] == "w1,w10,w4,w8,w9" and us["mixpanel_trial_count"] == 5
    assert us["trial_accuracy_ratio"] == pytest.approx(5 / 6 * 100)
    assert one(od, "ad", "A5", D2, "FR")["trial_user_ids"] == "w2"   # 'Fr'
    assert one(od, "ad", "A5", D2, "DE")["trial_user_ids"] == "w7"   # 'de'
    assert one(od, "ad", "A5", D2, "ZZ")["trial_user_ids"] == "w3"   # '  ': blank -> ZZ
    # nothing is left under a raw spelling
    assert one(od, "ad", "A5", D2, " us") is None
    assert one(od, "ad", "A5", D2, "us") is None


def test_pair_counts_a1_and_a2(od):
    r = one(od, "ad", "A1", D2)
    # trial pairs with a metrics row: u1, u2, u8 (u7 has none); converted u1, u8;
    # purchase pairs u2 P3, u8 P3
    assert (r["trial_conversion_estimate_pair_count"], r["trial_refund_estimate_pair_count"],
            r["purchase_refund_estimate_pair_count"]) == (3, 2, 2)
    # A2 on 01-01: (u4, P5) is a trial, a converted and a purchase pair with a row
    r = one(od, "ad", "A2", D1)
    assert (r["trial_conversion_estimate_pair_count"], r["trial_refund_estimate_pair_count"],
            r["purchase_refund_estimate_pair_count"]) == (1, 1, 1)
    # S2 on 01-04: u9's trial pair has no row; purchase pairs u3, u9 both have one
    r = one(od, "adset", "S2", D4)
    assert (r["trial_conversion_estimate_pair_count"], r["trial_refund_estimate_pair_count"],
            r["purchase_refund_estimate_pair_count"]) == (0, 0, 2)


def test_range_totals_follow_section_8(od):
    t = od.range_totals("ad", "A1", START, AS_OF)
    # A1 has rows on 01-02 (see test_ad_a1_day2_overall) and 01-05 (u1's P4 purchase;
    # Meta 10 / 100 / 5 / 0 / 0); 01-03's Meta row is rejected.
    assert t["meta_impressions"] == 1100
    # summed list lengths: post-trial 4, converted 2, trial refund 1, purchase refund 1
    assert (t["post_trial_user_count"], t["converted_user_count"], t["trial_refund_user_count"],
            t["purchase_refund_user_count"]) == (4, 2, 1, 1)
    assert t["trial_conversion_rate_actual"] == pytest.approx(0.5)     # 2 / 4
    assert t["trial_refund_rate_actual"] == pytest.approx(0.5)         # 1 / 2
    assert t["purchase_refund_rate_actual"] == pytest.approx(1 / 3)    # 1 / 3, not mean(.5, 0)
    # estimated rates weighted by the pair counts: 01-02 (.3 x 3, .4 x 2, .2 x 2), 01-05
    # (purchase .0 x 1) -> .3, .4 and (.4 + 0) / 3 (the mean of the daily values is .1)
    assert (t["trial_conversion_estimate_pair_count"], t["trial_refund_estimate_pair_count"],
            t["purchase_refund_estimate_pair_count"]) == (3, 2, 3)
    assert t["trial_conversion_rate_estimated"] == pytest.approx(0.3)
    assert t["trial_refund_rate_estimated"] == pytest.approx(0.4)
    assert t["purchase_refund_rate_estimated"] == pytest.approx(0.4 / 3)
    # accuracy from the sums: trials 4 / 8 * 100 = 50; purchases 3 / 1 * 100 = 300
    assert t["trial_accuracy_ratio"] == pytest.approx(50.0)
    assert t["purchase_accuracy_ratio"] == pytest.approx(300.0)
    # adjusted = 250 + 16; profit = 266 - 60; ROAS = 266 / 60
    assert t["adjusted_estimated_revenue_usd"] == pytest.approx(266.0)
    assert t["profit_usd"] == pytest.approx(206.0)
    assert t["estimated_roas"] == pytest.approx(266 / 60)
    # costs and click-to-trial from the sums: 60 / 4, 60 / 3, 60 / 8, 60 / 1, 4 / 45 * 100
    assert t["mixpanel_cost_per_trial"] == pytest.approx(15.0)
    assert t["mixpanel_cost_per_purchase"] == pytest.approx(20.0)
    assert t["meta_cost_per_trial"] == pytest.approx(7.5)
    assert t["meta_cost_per_purchase"] == pytest.approx(60.0)
    assert t["click_to_trial_rate"] == pytest.approx(400 / 45)

    # §5 special cases on the sums: C9 has u7's trial and no Meta data -> 100 / 0;
    # u7's pair has no metrics row -> the weights sum to 0 -> 0
    # A1 on 01-04..01-05: u1's purchase, no Meta purchase -> 0 (no 100 case for purchases)
    t45 = od.range_totals("ad", "A1", D4, D5)
    assert t45["mixpanel_purchase_count"] == 1 and t45["meta_purchase_count"] == 0
    assert t45["purchase_accuracy_ratio"] == 0.0 and t45["trial_accuracy_ratio"] == 0.0
    assert t45["adjusted_estimated_revenue_usd"] == pytest.approx(16.0)
    c9 = od.range_totals("campaign", "C9", START, AS_OF)
    assert c9["trial_accuracy_ratio"] == 100.0 and c9["purchase_accuracy_ratio"] == 0.0
    assert c9["trial_conversion_rate_estimated"] == 0.0 and c9["estimated_roas"] == 0.0
    assert c9["mixpanel_cost_per_trial"] == 0.0 and c9["click_to_trial_rate"] == 0.0

    # breakdown: US rows of A1 on 01-02 (u1, u7; Meta 30 / 600 / 25 / 5 / 1) and 01-05
    tu = od.range_totals("ad", "A1", START, AS_OF, country="US")
    assert tu["trial_accuracy_ratio"] == pytest.approx(40.0)            # 2 / 5 * 100
    assert tu["purchase_accuracy_ratio"] == pytest.approx(100.0)        # 1 / 1 * 100
    assert tu["trial_conversion_rate_actual"] == pytest.approx(0.5)     # u1 of u1, u7
    assert tu["click_to_trial_rate"] == pytest.approx(8.0)              # 2 / 25 * 100
    assert tu["estimated_roas"] == pytest.approx(116 / 30)


def test_daily_metrics_many_is_the_same_as_one_call_each(od):
    # consistency of the batched form (validate's) with single calls; the values
    # themselves are checked by hand above
    requests = [("A1", D1, D5, None), ("A5", D2, D2, "US"), ("A1", D2, D2, "ZZ"),
                ("A1", D2, D3, None), ("A2", D1, D2, "DE"), ("A6", D1, D1, None)]
    got = od.daily_metrics_many("ad", requests, errors="return")
    for req, res in zip(requests[:-1], got[:-1]):
        assert res == od.daily_metrics("ad", *req)
    assert isinstance(got[-1], ValueError)          # A6 is not an entity
    with pytest.raises(ValueError):
        od.daily_metrics_many("ad", requests)


@pytest.fixture(scope="module")
def raw_dir_tz(tmp_path_factory) -> Path:
    """The same data set with mixpanel_event.event_time as TIMESTAMPTZ (written in UTC)."""
    d = tmp_path_factory.mktemp("raw_tz")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, (schema, values) in TABLES.items():
        if table == "mixpanel_event":
            schema = schema.replace("event_time TIMESTAMP", "event_time TIMESTAMPTZ")
        _write_parquet(con, d / f"{table}.parquet", schema, values)
    con.close()
    (d / "breakdown_mapping_country.csv").write_text(MAPPING_CSV)
    return d


@pytest.mark.parametrize("session_tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_timestamptz_event_time_taken_in_utc(raw_dir_tz, session_tz):
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{session_tz}'")
    kind = con.execute(
        f"SELECT typeof(event_time) FROM read_parquet('{raw_dir_tz}/mixpanel_event.parquet') LIMIT 1"
    ).fetchone()[0]
    assert kind == "TIMESTAMP WITH TIME ZONE"
    od = OnDemandMetrics(raw_dir_tz, start_date=START, as_of_date=AS_OF, con=con,
                         country_mapping_csv=raw_dir_tz / "breakdown_mapping_country.csv")
    r = one(od, "ad", "A1", D2)
    # the UTC values of test_ad_a1_day2_overall. Read in Tokyo time (UTC+9), u8's refund
    # at 01-10 23:59:59 UTC would fall after as_of; in Los Angeles time (UTC-8), u1's
    # -4 refund at 01-11 00:00 UTC would fall inside it (refunds 39, not 35)
    assert r["trial_user_ids"] == "u1,u2,u7,u8"
    assert r["purchase_refund_user_ids"] == "u8"
    assert r["actual_refunds_usd"] == pytest.approx(35.0)
    assert r["actual_revenue_usd"] == pytest.approx(77.0)
