"""Tests of the deterministic sample-data generator (devtools/generate.py)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from devtools import generate as gen
from python_hooks.project import SAMPLE_DIR, source_tables

TABLES = gen.TABLES
START = date(2025, 1, 1)
DAYS = gen.SCALES["small"]["days"]
D0 = START + timedelta(days=2)
LAST = START + timedelta(days=DAYS - 1)

MEASURES = ["impressions", "clicks", "meta_trials", "meta_purchases"]


def _connect(directory: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{directory / (t + '.parquet')}')")
    return con


def _rows(directory: Path, table: str) -> list:
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet('{directory / (table + '.parquet')}')").fetchall()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_a")
    t0 = time.perf_counter()
    counts = gen.generate(out, seed=42, scale="small")
    elapsed = time.perf_counter() - t0
    return out, counts, elapsed


@pytest.fixture(scope="module")
def con(small):
    c = _connect(small[0])
    yield c
    c.close()


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()[0]


# --------------------------------------------------------------------------- basics


def test_small_is_fast_and_counts_match(small):
    out, counts, elapsed = small
    assert elapsed < 3.0
    assert set(counts) == set(TABLES)
    for t in TABLES:
        assert (out / f"{t}.parquet").is_file()
        assert counts[t] == len(_rows(out, t)) > 0


def test_schema_is_the_source_contract(small):
    # the columns and types of the sources YAML, in its order
    out = small[0]
    with duckdb.connect() as c:
        for t, columns in source_tables().items():
            got = [(r[0], r[1]) for r in c.execute(f"DESCRIBE SELECT * FROM read_parquet('{out / (t + '.parquet')}')").fetchall()]
            assert got == [(name, kind.upper()) for name, kind in columns.items()], t


def test_same_seed_same_rows_in_same_order(small, tmp_path):
    gen.generate(tmp_path, seed=42, scale="small")
    for t in TABLES:
        assert _rows(small[0], t) == _rows(tmp_path, t), t


def test_different_seed_differs(small, tmp_path):
    gen.generate(tmp_path, seed=7, scale="small")
    for t in ["ad_performance_daily", "ad_performance_daily_country", "mixpanel_user", "mixpanel_event",
              "user_product_metrics"]:
        assert _rows(small[0], t) != _rows(tmp_path, t), t


def test_overrides_and_cli(tmp_path, capsys):
    assert gen.main([str(tmp_path), "--seed", "3", "--ads", "5", "--days", "12", "--users-per-day", "8",
                     "--start-date", "2024-02-27"]) == 0
    printed = capsys.readouterr().out
    c = _connect(tmp_path)
    assert "mixpanel_event" in printed
    assert c.execute("SELECT min(date), max(date) FROM ad_performance_daily").fetchone() == (
        date(2024, 2, 27), date(2024, 3, 9))
    # 5 background ads + the edge ads 000777, 777 and 0055500
    assert one(c, "SELECT count(*) FROM id_hierarchy_mapping") == 8
    assert one(c, "SELECT count(DISTINCT ad_id) FROM ad_performance_daily WHERE ad_id NOT IN ('000777', '777', '0099001')") == 5


@pytest.mark.skipif(not (SAMPLE_DIR / "mixpanel_event.parquet").exists(), reason="bundled sample not generated")
def test_bundled_sample_is_current(small):
    for t in TABLES:
        assert _rows(SAMPLE_DIR, t) == _rows(small[0], t), f"data/sample/{t}.parquet is stale: regenerate it"


# --------------------------------------------------------------------------- keys and sums


def test_no_conflicting_rows_for_a_key(con):
    for table, key in [
        ("ad_performance_daily", "ad_id, date"),
        ("ad_performance_daily_country", "ad_id, date, country"),
        ("mixpanel_user", "distinct_id"),
        ("user_product_metrics", "distinct_id, product_id"),
        ("id_hierarchy_mapping", "ad_id"),
    ]:
        n = one(con, f"SELECT count(*) FROM (SELECT {key} FROM (SELECT DISTINCT * FROM {table}) "
                     f"GROUP BY ALL HAVING count(*) > 1)")
        assert n == 0, table
    # the same event delivered twice is identical in every column
    assert one(con, "SELECT count(*) FROM (SELECT event_uuid, event_name, distinct_id, event_time "
                    "FROM (SELECT DISTINCT * FROM mixpanel_event) GROUP BY ALL HAVING count(*) > 1)") == 0


def test_country_rows_add_up_exactly_to_daily_rows(con):
    sums = ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
    rows = con.execute(f"""
        WITH d AS (SELECT DISTINCT * FROM ad_performance_daily),
             c AS (SELECT DISTINCT * FROM ad_performance_daily_country),
             cs AS (SELECT ad_id, date, sum(round(spend * 100)::BIGINT) AS spend_c, {sums}
                    FROM c GROUP BY ad_id, date)
        SELECT d.ad_id, d.date, cs.ad_id, round(d.spend * 100)::BIGINT, cs.spend_c,
               d.impressions, cs.impressions, d.clicks, cs.clicks,
               d.meta_trials, cs.meta_trials, d.meta_purchases, cs.meta_purchases
        FROM d FULL JOIN cs ON d.ad_id = cs.ad_id AND d.date = cs.date
    """).fetchall()
    assert len(rows) == one(con, "SELECT count(*) FROM (SELECT DISTINCT * FROM ad_performance_daily)")
    for r in rows:
        assert r[0] is not None and r[2] is not None, f"ad-day without a match: {r}"
        assert r[3] == r[4] and r[5] == r[6] and r[7] == r[8] and r[9] == r[10] and r[11] == r[12], r
    # spend has cents only
    assert one(con, "SELECT count(*) FROM ad_performance_daily_country WHERE abs(spend * 100 - round(spend * 100)) > 1e-6") == 0
    # the check covers the negative-measure ad-days too
    assert one(con, "SELECT count(*) FROM ad_performance_daily_country WHERE clicks < 0") >= 1


def test_value_ranges_and_storage_limits(con):
    assert one(con, """SELECT count(*) FROM user_product_metrics WHERE NOT (
        trial_conversion_rate BETWEEN 0 AND 1 AND trial_converted_to_refund_rate BETWEEN 0 AND 1
        AND initial_purchase_to_refund_rate BETWEEN 0 AND 1 AND current_value >= 0)""") == 0
    # spend per campaign-day (the largest entity) well under 1,000,000
    assert one(con, """SELECT max(s) FROM (SELECT m.campaign_id, a.date, sum(a.spend) s
                       FROM (SELECT DISTINCT * FROM ad_performance_daily) a JOIN id_hierarchy_mapping m USING (ad_id)
                       GROUP BY ALL)""") < 1_000_000
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_name = 'RC Trial started' AND coalesce(revenue_usd, 0) <> 0") == 0
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_name IN ('RC Trial converted', 'RC Initial purchase', 'RC Renewal') AND NOT revenue_usd > 0") == 0


def test_accuracy_ratios_stay_storable(con):
    """Attributed trial/purchase users per ad x day x country stay < 100 x the Meta count (DECIMAL(8,4))."""
    con.execute("CREATE OR REPLACE TEMP TABLE label_code (label VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO label_code VALUES (?, ?)",
                    [(p[0], p[1]) for p in gen.COUNTRY_NAMES + gen.CODE_LABELS])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE chk AS
        WITH meta AS (
            SELECT c.ad_id, c.date, coalesce(l.code, 'ZZ') AS cc,
                   sum(c.meta_trials) AS mt, sum(c.meta_purchases) AS mp
            FROM (SELECT DISTINCT * FROM ad_performance_daily_country) c
            LEFT JOIN label_code l ON l.label = c.country GROUP BY ALL),
        users AS (
            SELECT DISTINCT distinct_id, abi_ad_id, coalesce(nullif(country, ''), 'ZZ') AS cc
            FROM mixpanel_user
            WHERE has_abi_attribution AND abi_ad_id IS NOT NULL AND distinct_id <> '' AND distinct_id NOT LIKE '%,%'),
        mx AS (
            SELECT u.abi_ad_id AS ad_id, e.event_time::DATE AS date, u.cc,
                   count(DISTINCT u.distinct_id) FILTER (WHERE e.event_name = 'RC Trial started') AS nt,
                   count(DISTINCT u.distinct_id) FILTER (WHERE e.event_name = 'RC Initial purchase') AS np
            FROM users u JOIN mixpanel_event e USING (distinct_id)
            WHERE e.event_name IN ('RC Trial started', 'RC Initial purchase') GROUP BY ALL)
        SELECT ad_id, date, cc, coalesce(nt, 0) AS nt, coalesce(np, 0) AS np, coalesce(mt, 0) AS mt,
               coalesce(mp, 0) AS mp
        FROM meta FULL JOIN mx USING (ad_id, date, cc)
    """)
    assert one(con, "SELECT count(*) FROM chk WHERE (mt > 0 AND nt * 100.0 / mt >= 9999) "
                    "OR (mp > 0 AND np * 100.0 / mp >= 9999)") == 0
    # Mixpanel is roughly comparable to (usually below) Meta; both "Meta only" and "Mixpanel only" cells exist
    nt, mt = con.execute("SELECT sum(nt), sum(mt) FROM chk").fetchone()
    assert 0.4 * mt < nt < 1.2 * mt
    assert one(con, "SELECT count(*) FROM chk WHERE mt = 0 AND nt > 0") >= 1
    assert one(con, "SELECT count(*) FROM chk WHERE mt > 0 AND nt = 0") >= 1


# --------------------------------------------------------------------------- edge cases


def test_edge_ids(con):
    ads = {r[0] for r in con.execute("SELECT ad_id FROM id_hierarchy_mapping").fetchall()}
    assert {"000777", "777", "0055500"} <= ads
    assert "0099001" not in ads
    assert any(a.startswith("00") and a.isdigit() and a not in ("000777", "0055500") for a in ads)
    assert any(a.startswith("ad_") for a in ads)
    assert {r[0] for r in con.execute("SELECT DISTINCT campaign_id FROM id_hierarchy_mapping").fetchall()} >= {"cmp_001"}
    # 000777 and 777 are different ads with different Meta rows on D0
    d0 = {r[0]: r[1:] for r in con.execute(
        "SELECT DISTINCT ad_id, spend, clicks FROM ad_performance_daily WHERE date = ? AND ad_id IN ('000777', '777')",
        [D0]).fetchall()}
    assert d0 == {"000777": (179.01, 217), "777": (80.0, 46)}
    # Meta ad not in mapping, mapping ad without Meta, users on an ad in neither
    assert one(con, "SELECT count(*) FROM ad_performance_daily WHERE ad_id = '0099001'") == 2
    assert one(con, "SELECT count(*) FROM ad_performance_daily WHERE ad_id = '0055500'") == 0
    assert one(con, "SELECT count(*) FROM mixpanel_user WHERE abi_ad_id = 'ad_ghost_01'") == 1
    assert one(con, "SELECT count(*) FROM mixpanel_user u WHERE has_abi_attribution AND abi_ad_id IS NOT NULL "
                    "AND abi_ad_id NOT IN (SELECT ad_id FROM id_hierarchy_mapping)") >= 3


def test_edge_meta_rows(con):
    labels = {r[0] for r in con.execute("SELECT DISTINCT country FROM ad_performance_daily_country").fetchall()}
    assert {"United States", "US", "Unknown", "Atlantis", "Germany", "Canada", "CA"} <= labels
    assert 10 <= len(labels) <= 20
    for table in ("ad_performance_daily", "ad_performance_daily_country"):
        assert one(con, f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM {table})) FROM {table}") >= 1, table
        assert one(con, f"SELECT count(*) FROM {table} WHERE spend < 0 OR impressions < 0 OR clicks < 0 "
                        f"OR meta_trials < 0 OR meta_purchases < 0") >= 1, table
    assert one(con, "SELECT spend FROM ad_performance_daily WHERE ad_id = '777' AND date = ?", D0 + timedelta(days=1)) == -12.5


def test_edge_distinct_ids(con):
    for table in ("mixpanel_user", "mixpanel_event"):
        assert one(con, f"SELECT count(*) FROM {table} WHERE distinct_id IS NULL") >= 1, table
        assert one(con, f"SELECT count(*) FROM {table} WHERE distinct_id = ''") >= 1, table
        assert one(con, f"SELECT count(*) FROM {table} WHERE distinct_id LIKE '%,%'") >= 1, table
    assert one(con, "SELECT count(*) FROM mixpanel_user WHERE distinct_id IN ('00042', '42')") == 2
    # exact duplicate user / metrics rows
    assert one(con, "SELECT count(*) FROM mixpanel_user WHERE distinct_id = 'edge_full_us'") == 2
    assert one(con, "SELECT count(*) FROM user_product_metrics WHERE distinct_id = 'edge_full_us'") == 2


def test_edge_attribution_variants(con):
    kinds = con.execute("""
        SELECT has_abi_attribution, abi_campaign_id IS NOT NULL, abi_ad_set_id IS NOT NULL, abi_ad_id IS NOT NULL
        FROM mixpanel_user GROUP BY ALL""").fetchall()
    kinds = set(kinds)
    assert (True, True, True, True) in kinds
    assert (True, False, False, True) in kinds  # ad only
    assert (True, True, True, False) in kinds  # adset + campaign
    assert (True, True, False, False) in kinds  # campaign only
    assert (True, False, False, False) in kinds  # attributed, no ids
    assert (False, False, False, False) in kinds
    assert (False, True, True, True) in kinds  # ids without attribution
    assert one(con, """SELECT count(*) FROM mixpanel_user u JOIN id_hierarchy_mapping m ON m.ad_id = u.abi_ad_id
                       WHERE u.abi_campaign_id <> m.campaign_id""") >= 1
    assert one(con, "SELECT abi_campaign_id FROM mixpanel_user WHERE distinct_id = 'edge_mismatch_campaign'") == "cmp_002"
    countries = {r[0] for r in con.execute("SELECT DISTINCT country FROM mixpanel_user").fetchall()}
    assert None in countries and "" in countries and {"US", "DE", "GB"} <= countries


def _events(con, did):
    return con.execute("SELECT event_name, event_time, product_id, revenue_usd FROM mixpanel_event "
                       "WHERE distinct_id = ? ORDER BY event_time, event_name", [did]).fetchall()


def test_edge_events(con):
    names = {r[0] for r in con.execute("SELECT DISTINCT event_name FROM mixpanel_event").fetchall()}
    assert {"RC Trial started", "RC Trial converted", "RC Cancellation", "RC Initial purchase", "RC Renewal",
            "App Open", "Paywall Viewed"} <= names
    products = {r[0] for r in con.execute("SELECT DISTINCT product_id FROM mixpanel_event WHERE product_id IS NOT NULL").fetchall()}
    assert {"prod_weekly", "prod_monthly", "prod_annual"} <= products
    # duplicate deliveries (identical rows)
    assert one(con, "SELECT count(*) FROM (SELECT * FROM mixpanel_event GROUP BY ALL HAVING count(*) > 1)") >= 2
    # events after the last Meta date
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_time >= ?", datetime.combine(LAST + timedelta(days=1), datetime.min.time())) >= 3
    # midnight boundaries
    d0 = datetime.combine(D0, datetime.min.time())
    times = {r[0] for r in con.execute("SELECT event_time FROM mixpanel_event WHERE event_name = 'RC Trial started'").fetchall()}
    assert d0 in times and d0 + timedelta(days=1, microseconds=-1) in times
    # cancellations: refund (negative), zero and NULL revenue
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_name = 'RC Cancellation' AND revenue_usd < 0") >= 3
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_name = 'RC Cancellation' AND revenue_usd = 0") >= 1
    assert one(con, "SELECT count(*) FROM mixpanel_event WHERE event_name = 'RC Cancellation' AND revenue_usd IS NULL") >= 1
    # refund before its conversion
    ev = _events(con, "edge_refund_before")
    refund = next(e for e in ev if e[0] == "RC Cancellation")
    conv = next(e for e in ev if e[0] == "RC Trial converted")
    assert refund[3] < 0 and refund[1] < conv[1] and refund[2] == conv[2]
    # conversion on another product than the trial's
    ev = _events(con, "edge_xprod")
    assert [e[2] for e in ev if e[0] == "RC Trial started"] == ["prod_weekly"]
    assert [e[2] for e in ev if e[0] == "RC Trial converted"] == ["prod_annual"]
    # refund before a purchase
    ev = _events(con, "edge_purchase_refund_before")
    assert [e[0] for e in ev] == ["RC Cancellation", "RC Initial purchase"]
    # a trial after the last Meta date
    assert _events(con, "edge_after_asof")[0][1] == datetime.combine(LAST + timedelta(days=1), datetime.min.time())


def test_edge_metrics_missing_pairs(con):
    # some (user, product) cohort pairs have no metrics row
    missing = one(con, """
        SELECT count(*) FROM (SELECT DISTINCT distinct_id, product_id FROM mixpanel_event
                              WHERE event_name IN ('RC Trial started', 'RC Initial purchase')
                                AND distinct_id IS NOT NULL AND distinct_id <> '') p
        ANTI JOIN user_product_metrics m USING (distinct_id, product_id)""")
    total = one(con, """SELECT count(*) FROM (SELECT DISTINCT distinct_id, product_id FROM mixpanel_event
                        WHERE event_name IN ('RC Trial started', 'RC Initial purchase'))""")
    assert 1 <= missing < 0.15 * total
    assert one(con, "SELECT count(*) FROM user_product_metrics WHERE distinct_id = 'edge_no_metrics'") == 0
