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
    (DATE '2024-01-05', 'A1',  10.0,  100,  5, 0, 0)
"""

APDC = """
    (DATE '2024-01-02', 'A1', 'United States', 30.0, 600, 25, 5, 1),
    (DATE '2024-01-02', 'A1', 'United States', 30.0, 600, 25, 5, 1),  -- exact duplicate
    (DATE '2024-01-02', 'A1', 'Narnia',        15.0, 300, 10, 2, 0),  -- unmapped -> ZZ
    (DATE '2024-01-02', 'A1', 'Atlantis',       5.0, 100,  5, 1, 0),  -- unmapped -> ZZ (summed)
    (DATE '2024-01-02', 'A1', 'Namibia',        1.0,  10,  0, 0, 0),  -- -> 'NA' (not NULL!)
    (DATE '2024-01-02', 'A1', 'Germany',       -3.0,  10,  1, 0, 0),  -- negative spend: rejected
    (DATE '2024-01-02', 'A1', 'France',         2.0,  20,  1, 0, 0)   -- FR (see test of DE/FR)
"""

MAPPING = """
    ('A1', 'S1', 'C1'),
    ('A2', 'S1', 'C1'),
    ('A3', 'S2', 'C2')
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
    (NULL,  NULL, NULL, 'A1', TRUE,  'US')
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
    ('e43', NULL,  'RC Trial started',   TIMESTAMP '2024-01-02 10:00:00', 'P1', NULL)
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
    ('u2', 'P2', 0.0, 0.0, 0.0,  99.0)
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


@pytest.fixture(scope="module")
def od(raw_dir) -> OnDemandMetrics:
    return OnDemandMetrics(
        raw_dir, start_date=START, as_of_date=AS_OF, trial_days=7,
        country_mapping_csv=raw_dir / "breakdown_mapping_country.csv",
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
        "campaign": ["C1", "C2", "C9"],   # C6 belongs to an unattributed user
        "adset": ["S1", "S2"],
        "ad": ["A1", "A2", "A3", "A9"],   # A9 from ad_performance_daily only
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
