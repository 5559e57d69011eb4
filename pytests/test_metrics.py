"""The metrics of the hand-checked data set, computed by both implementations.

One data set (pytests/tiny_dataset.py: TABLES, and TABLES with EDGES), one list
of cells worked out by hand from docs/metrics.md (the arithmetic is in the
comments; no value comes from the code under test), and every cell checked
against each implementation:

* ``dbt``: the marts of a `dbt build` (entity_daily_metrics, entity_country_breakdown);
* ``on_demand`` / ``on_demand_materialized``: python_hooks/on_demand.py, the
  independent request-time path (views over the Parquet files, or temp tables).

Values are compared at the marts' stored precision: an expected Decimal gives the
scale (money to the cent, rates and ratios to 1e-4), and the on-demand path's
unrounded float must round half-up to it. ``data_quality_score`` exists only in
the marts. Window: 2025-01-01 .. 2025-01-10, trial_days 7 -> cohorts up to
2025-01-03 are post-trial.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

import tiny_dataset
from conftest import fetch_dicts, run_dbt
from python_hooks.on_demand import METRIC_COLUMNS, OnDemandMetrics

D = Decimal
START, AS_OF = dt.date.fromisoformat(tiny_dataset.START_DATE), dt.date.fromisoformat(tiny_dataset.AS_OF_DATE)
JAN_2, JAN_3, JAN_4 = dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 4)
IMPLEMENTATIONS = ("dbt", "on_demand", "on_demand_materialized")
EMPTY_ROW = {c: None if c.endswith("_user_ids") else 0 for c in METRIC_COLUMNS[3:]} | {"data_quality_score": D("1.00")}

# name: (data set, level, entity, day, country or None for the overall row, expected values)
CELLS = {
    "ad 000777 on 01-02": ("tiny", "ad", "000777", JAN_2, None, {
        # Meta: the exact duplicate daily row counts once: 10.00 / 1000 / 50 / 4 / 1.
        # Users of ad 000777: u1 (own), u2 (own ad id). Both trial on 01-02 (u1's duplicate
        # delivery counts once) and are post-trial (01-02 <= 01-03).
        # u1 converts prod_w on 01-09 (>= start) and refunds -9.99 after: converted + refund.
        # u2's conversion is on prod_m, not its trial product prod_w: not converted.
        "meta_spend": D("10.00"), "meta_impressions": 1000, "meta_clicks": 50,
        "meta_trial_count": 4, "meta_purchase_count": 1,
        "mixpanel_trial_count": 2, "mixpanel_purchase_count": 0,
        "trial_user_ids": "u1,u2", "post_trial_user_ids": "u1,u2", "converted_user_ids": "u1",
        "trial_refund_user_ids": "u1", "purchase_user_ids": None, "purchase_refund_user_ids": None,
        "trial_conversion_rate_estimated": D("0.4000"),   # mean(0.5, 0.3)
        "trial_conversion_rate_actual": D("0.5000"),      # 1 / 2
        "trial_refund_rate_estimated": D("0.2000"),       # u1's 0.2
        "trial_refund_rate_actual": D("1.0000"),          # 1 / 1
        "purchase_refund_rate_estimated": D("0.0000"), "purchase_refund_rate_actual": D("0.0000"),
        "trial_conversion_estimate_pair_count": 2, "trial_refund_estimate_pair_count": 1,
        "purchase_refund_estimate_pair_count": 0,
        "actual_revenue_usd": D("9.99"), "actual_refunds_usd": D("9.99"), "net_actual_revenue_usd": D("0.00"),
        "estimated_revenue_usd": D("30.00"),              # 20 + 10
        "trial_accuracy_ratio": D("50.0000"),             # 2 / 4 * 100
        "purchase_accuracy_ratio": D("0.0000"),           # 0 / 1 * 100
        "adjusted_estimated_revenue_usd": D("60.00"),     # 30 / 0.5
        "profit_usd": D("50.00"),                         # 60 - 10
        "estimated_roas": D("6.0000"),                    # 60 / 10
        "mixpanel_cost_per_trial": D("5.00"), "mixpanel_cost_per_purchase": D("0.00"),
        "meta_cost_per_trial": D("2.50"), "meta_cost_per_purchase": D("10.00"),
        "click_to_trial_rate": D("4.0000"),               # 2 / 50 * 100
        # 1 - 0.2 (Atlantis label, u2 without country) - 0.1 (Meta 1 purchase, Mixpanel 0)
        "data_quality_score": D("0.70"),
    }),
    "adset as1 counts filled users": ("tiny", "adset", "as1", JAN_2, None, {
        # as1 users: u1 (own), u2 (filled from ad 000777), u5 (filled from ad 777).
        # u5 converts prod_w on 01-06 after its 01-02 23:59:59 start; its -9.99 cancellation
        # on 01-04 is before the conversion and the 01-07 one has zero revenue: no refund.
        # Meta: 000777 + 777 = 15.50 / 1500 / 70 / 4 / 1.
        "meta_spend": D("15.50"), "meta_clicks": 70,
        "trial_user_ids": "u1,u2,u5", "post_trial_user_ids": "u1,u2,u5",
        "converted_user_ids": "u1,u5", "trial_refund_user_ids": "u1",
        "trial_conversion_rate_estimated": D("0.4000"),   # u5 has no metrics row: mean(0.5, 0.3)
        "trial_conversion_rate_actual": D("0.6667"),      # 2 / 3
        "trial_refund_rate_estimated": D("0.2000"),       # converted pairs with metrics: u1 only
        "trial_refund_rate_actual": D("0.5000"),          # 1 / 2
        "actual_revenue_usd": D("19.98"), "actual_refunds_usd": D("9.99"), "net_actual_revenue_usd": D("9.99"),
        "estimated_revenue_usd": D("30.00"),
        "trial_accuracy_ratio": D("75.0000"),             # 3 / 4 * 100
        "adjusted_estimated_revenue_usd": D("40.00"),     # 30 / 0.75
        "profit_usd": D("24.50"), "estimated_roas": D("2.5806"),
        "mixpanel_cost_per_trial": D("5.17"),             # 15.50 / 3
        # 1 - 0.4 * 1/3 (u5 pair without metrics) - 0.2 (unmapped country) - 0.1 (purchases)
        "data_quality_score": D("0.57"),
    }),
    "campaign c1 mixes trials and purchases": ("tiny", "campaign", "c1", JAN_2, None, {
        # c1 users: u1 (own), u2 (via ad mapping), u6 (via adset as2 -> c1); u5 is c2 (own wins).
        # a2's Meta row is negative and rejected: Meta = 000777 + 777.
        "meta_spend": D("15.50"), "meta_trial_count": 4, "meta_purchase_count": 1,
        "trial_user_ids": "u1,u2", "purchase_user_ids": "u6", "purchase_refund_user_ids": None,
        "mixpanel_trial_count": 2, "mixpanel_purchase_count": 1,
        "purchase_refund_rate_estimated": D("0.1500"),    # u6 prod_y
        "actual_revenue_usd": D("39.98"),                 # 9.99 (u1 conversion) + 29.99 (u6 purchase)
        "actual_refunds_usd": D("9.99"),
        "estimated_revenue_usd": D("60.00"),              # 20 + 10 + 30
        "trial_accuracy_ratio": D("50.0000"), "purchase_accuracy_ratio": D("100.0000"),
        "adjusted_estimated_revenue_usd": D("120.00"),    # purchases 1 < trials 2 -> trial ratio: 60 / 0.5
        "profit_usd": D("104.50"),
        "data_quality_score": D("0.80"),                  # 1 - 0.2 (Atlantis)
    }),
    "campaign c2 exists only through a user's own id": ("tiny", "campaign", "c2", JAN_2, None, {
        # u5 carries c2, which the mapping does not know; no Meta data.
        "meta_spend": D("0.00"), "trial_user_ids": "u5", "converted_user_ids": "u5",
        "trial_refund_user_ids": None,
        "trial_conversion_rate_estimated": D("0.0000"),   # no pair with a metrics row
        "trial_accuracy_ratio": D("100.0000"),            # Meta 0 trials, Mixpanel 1
        "adjusted_estimated_revenue_usd": D("0.00"), "estimated_roas": D("0.0000"),
        "actual_revenue_usd": D("9.99"),
        # 1 - 0.4 (1 of 1 pairs without metrics) - 0.2 (not in mapping) - 0.1 (trials)
        "data_quality_score": D("0.30"),
    }),
    "campaign c9 purchase refund matched case-insensitively": ("tiny", "campaign", "c9", JAN_2, None, {
        # u3 buys prod_y 49.99 on 01-02 and has 'RC CANCELLATION' -49.99 on 01-03.
        "purchase_user_ids": "u3", "purchase_refund_user_ids": "u3",
        "purchase_refund_rate_actual": D("1.0000"), "purchase_refund_rate_estimated": D("0.2500"),
        "actual_revenue_usd": D("49.99"), "actual_refunds_usd": D("49.99"), "net_actual_revenue_usd": D("0.00"),
        "purchase_accuracy_ratio": D("0.0000"),           # Meta 0 purchases: 0, no 100 case
        # purchases 1 > trials 0 -> purchase ratio, which is 0 -> estimated revenue unchanged
        "adjusted_estimated_revenue_usd": D("50.00"), "profit_usd": D("50.00"),
    }),
    "an ad missing from the mapping has ad-level rows only": ("tiny", "ad", "orphan", JAN_3, None, {
        "meta_spend": D("3.00"), "meta_trial_count": 1, "mixpanel_trial_count": 0,
        "trial_accuracy_ratio": D("0.0000"),              # 0 / 1
        "meta_cost_per_trial": D("3.00"),
        "data_quality_score": D("0.70"),                  # 1 - 0.2 (not in mapping) - 0.1 (trials)
    }),
    "its spend reaches no campaign": ("tiny", "campaign", "c1", JAN_3, None, {"meta_spend": D("0.00")}),
    "a negative Meta row is rejected": ("tiny", "ad", "a2", JAN_2, None, {
        "meta_spend": D("0.00"), "meta_impressions": 0, "meta_clicks": 0}),
    "recent trials are not post-trial": ("tiny", "adset", "as2", dt.date(2025, 1, 9), None, {
        # u6's prod_w trial on 01-09 > 01-03: in the trial list only.
        "trial_user_ids": "u6", "post_trial_user_ids": None, "converted_user_ids": None,
        "trial_conversion_rate_actual": D("0.0000"), "trial_conversion_rate_estimated": D("0.4000"),
        "estimated_revenue_usd": D("12.00"),
    }),
    "an empty day is zeros and NULL lists": ("tiny", "ad", "a2", dt.date(2025, 1, 5), None, EMPTY_ROW),
    "breakdown US of ad 000777": ("tiny", "ad", "000777", JAN_2, "US", {
        # US = 'United States' (6.00/600/30/3/1) + 'US' (1.00/100/5/0/0); user u1
        "meta_spend": D("7.00"), "meta_impressions": 700, "meta_clicks": 35,
        "meta_trial_count": 3, "meta_purchase_count": 1,
        "trial_user_ids": "u1", "converted_user_ids": "u1", "trial_refund_user_ids": "u1",
        "trial_accuracy_ratio": D("33.3333"),             # 1 / 3 * 100
        "adjusted_estimated_revenue_usd": D("60.00"),     # 20 / (1/3), from the unrounded ratio
        "profit_usd": D("53.00"), "estimated_roas": D("8.5714"),
        "meta_cost_per_trial": D("2.33"), "click_to_trial_rate": D("2.8571"),
        "data_quality_score": D("0.90"),                  # 1 - 0.1 (Meta 1 purchase, Mixpanel 0)
    }),
    "breakdown ZZ of ad 000777": ("tiny", "ad", "000777", JAN_2, "ZZ", {
        # ZZ = 'Atlantis' (unmapped) 3.00/300/15/1/0; user u2 (NULL country)
        "meta_spend": D("3.00"), "trial_user_ids": "u2", "converted_user_ids": None,
        "trial_conversion_rate_actual": D("0.0000"), "trial_accuracy_ratio": D("100.0000"),
        "estimated_revenue_usd": D("10.00"), "adjusted_estimated_revenue_usd": D("10.00"),
        "profit_usd": D("7.00"), "data_quality_score": D("0.80"),   # 1 - 0.2 (ZZ)
    }),
    # --- the edge cases (tiny_dataset.EDGES) ---------------------------------------------
    "a bad copy does not hide the good delivery": ("edges", "campaign", "c9", JAN_2, None, {
        # u3's purchase e30 (49.99 on 01-02) still counts; its NaN copy is rejected
        "purchase_user_ids": "u3", "actual_revenue_usd": D("49.99")}),
    "TIMESTAMPTZ events keep their UTC day": ("edges", "ad", "777", JAN_2, None, {
        # u5's trial at 01-02 23:59:59 UTC (01-03 in Tokyo) is in the 01-02 cohort
        "trial_user_ids": "u5"}),
    "NULL Meta measures are kept and count as zero": ("edges", "ad", "nullm", JAN_4, None, {
        # spend and clicks NULL, impressions 100; users tz_user (23:30 UTC) and blank_country
        "meta_spend": D("0.00"), "meta_impressions": 100, "meta_clicks": 0,
        "trial_user_ids": "blank_country,tz_user",
        # tz_user's metrics row has NULL rates, blank_country has none: no pair enters the mean
        "trial_conversion_estimate_pair_count": 0, "trial_conversion_rate_estimated": D("0.0000"),
    }),
    **{f"huge accuracy and ROAS fit their types ({name})": ("edges", "ad", "acc", JAN_4, country, {
        # ad acc on 01-04: Meta 1 trial, 0.01 spend, 10 clicks; 100 Mixpanel trials (acc_000..acc_099,
        # country ' us' -> US). Metrics rows: acc_001..acc_099 (current_value 150, rate 0.5);
        # acc_000's is rejected (rate 1.5).
        "meta_spend": D("0.01"), "meta_trial_count": 1, "mixpanel_trial_count": 100,
        "trial_accuracy_ratio": D("10000.0000"),             # 100 / 1 * 100
        "estimated_revenue_usd": D("14850.00"),              # 99 x 150
        "adjusted_estimated_revenue_usd": D("148.50"),       # 14850 / (10000 / 100)
        "estimated_roas": D("14850.0000"),                   # 148.50 / 0.01
        "profit_usd": D("148.49"),
        "click_to_trial_rate": D("1000.0000"),               # 100 / 10 * 100
        "trial_conversion_estimate_pair_count": 99,          # acc_000's pair has no metrics row
        "trial_conversion_rate_estimated": D("0.5000"),
    }) for name, country in (("overall", None), ("breakdown US", "US"))},
    "a refund of a trial and a purchase pair counts once": ("edges", "ad", "refund_once", JAN_2, None, {
        # d12 on 01-02: trial prod_d 08:00, purchase 09:00 (6.00), conversion 10:00 (7.00),
        # refund -7.00 11:00: after the conversion and after the purchase, so both pairs are
        # refunded, but the money counts the one refund once.
        "trial_user_ids": "d12", "post_trial_user_ids": "d12", "converted_user_ids": "d12",
        "trial_refund_user_ids": "d12", "purchase_user_ids": "d12", "purchase_refund_user_ids": "d12",
        "actual_revenue_usd": D("13.00"),                    # 7 + 6
        "actual_refunds_usd": D("7.00"), "net_actual_revenue_usd": D("6.00"),
        "estimated_revenue_usd": D("50.00"),                 # one distinct (user, product) pair
        "trial_conversion_rate_estimated": D("0.8000"), "trial_refund_rate_estimated": D("0.5000"),
        "purchase_refund_rate_estimated": D("0.4000"),
        "trial_conversion_estimate_pair_count": 1, "trial_refund_estimate_pair_count": 1,
        "purchase_refund_estimate_pair_count": 1,
        "trial_conversion_rate_actual": D("1.0000"), "trial_refund_rate_actual": D("1.0000"),
        "purchase_refund_rate_actual": D("1.0000"),
        # no Meta data: trial ratio 100, purchase ratio 0; purchases 1 > trials 1? no -> trial ratio
        "trial_accuracy_ratio": D("100.0000"), "purchase_accuracy_ratio": D("0.0000"),
        "adjusted_estimated_revenue_usd": D("50.00"), "profit_usd": D("50.00"), "estimated_roas": D("0.0000"),
        # 1 - 0.2 (refund_once is not in the mapping) - 0.1 (trials) - 0.1 (purchases)
        "data_quality_score": D("0.60"),
    }),
    "an ad only in the per-country Meta table is an entity": ("edges", "ad", "country_only", JAN_4, None, {
        "meta_spend": D("0.00"), "data_quality_score": D("0.80")}),   # 1 - 0.2 (not in mapping)
    "Namibia's code is 'NA', not NULL": ("edges", "ad", "country_only", JAN_4, "NA", {
        "meta_spend": D("2.00"), "meta_impressions": 20, "meta_clicks": 1, "data_quality_score": D("0.80")}),
    **{f"empty abi ids read as NULL ({name})": ("edges", "adset", "as2", JAN_3, country, {
        # blank_ids: abi campaign and adset '' -> NULL, ad a2 -> adset as2 and campaign c1 from the
        # mapping; a prod_w trial on 01-03 (post-trial), no metrics row, country FR
        "trial_user_ids": "blank_ids", "post_trial_user_ids": "blank_ids", "converted_user_ids": None,
        "mixpanel_trial_count": 1, "trial_accuracy_ratio": D("100.0000"),
        "trial_conversion_estimate_pair_count": 0,
        "data_quality_score": D("0.50"),                     # 1 - 0.4 (1 of 1 pairs) - 0.1 (trials)
    }) for name, country in (("overall", None), ("breakdown FR", "FR"))},
}


@pytest.fixture(scope="session")
def builds(tiny_build, edges_build) -> dict:
    return {"tiny": tiny_build, "edges": edges_build}


@pytest.fixture(scope="session")
def on_demand(builds):
    instances = {(name, materialize): OnDemandMetrics(build["raw_dir"], start_date=START, as_of_date=AS_OF,
                                                      trial_days=7, materialize=materialize)
                 for name, build in builds.items() for materialize in (False, True)}
    yield instances
    for od in instances.values():
        od.close()


def metrics_row(implementation: str, builds: dict, on_demand: dict, data_set: str, level: str, entity: str,
                day: dt.date, country: str | None) -> dict | None:
    """The row of one cell as an implementation computes it (None: no breakdown row)."""
    if implementation == "dbt":
        con = duckdb.connect(str(builds[data_set]["warehouse"]), read_only=True)
        try:
            table = "entity_daily_metrics" if country is None else "entity_country_breakdown"
            rows = fetch_dicts(con, f"select * from {table} where entity_type = ? and entity_id = ? and date = ?"
                               + ("" if country is None else " and country_code = ?"),
                               [level, entity, day] + ([] if country is None else [country]))
        finally:
            con.close()
        assert len(rows) <= 1
        return rows[0] if rows else None
    [row] = on_demand[(data_set, implementation == "on_demand_materialized")].daily_metrics(
        level, entity, day, day, country)
    return row


def _matches(actual, expected) -> bool:
    if isinstance(expected, Decimal):
        if actual is None:
            return False
        value = Decimal(repr(actual)) if isinstance(actual, float) else Decimal(actual)
        return value.quantize(expected, rounding=ROUND_HALF_UP) == expected
    return actual == expected


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_cell(cell, implementation, builds, on_demand):
    data_set, level, entity, day, country, expected = CELLS[cell]
    row = metrics_row(implementation, builds, on_demand, data_set, level, entity, day, country)
    assert row is not None, f"{cell}: no row"
    checked = {k: v for k, v in expected.items() if implementation == "dbt" or k in METRIC_COLUMNS}
    mismatches = {k: (row[k], v) for k, v in checked.items() if not _matches(row[k], v)}
    assert not mismatches, f"(actual, expected) by column: {mismatches}"


# --- which rows exist ------------------------------------------------------------------

TINY_ENTITIES = {
    # ads 000777, 777, a2 (mapping), orphan (Meta only), ghost (user u3); adsets as1, as2
    # (mapping); campaigns c1 (mapping), c2 (u5's own), c9 (u3's own)
    "ad": ["000777", "777", "a2", "ghost", "orphan"], "adset": ["as1", "as2"], "campaign": ["c1", "c2", "c9"],
}
TINY_BREAKDOWN_KEYS = [
    # Meta (after mapping): 000777 US (United States + US), ZZ (Atlantis); 777 DE.
    # Users: u1 US, u2 ZZ (NULL country), u3 DE, u5 US, u6 ZZ ('' country).
    ("ad", "000777", "02", "US"), ("ad", "000777", "02", "ZZ"),   # Meta + u1 / Meta + u2
    ("ad", "777", "02", "DE"), ("ad", "777", "02", "US"),         # Meta / u5
    ("ad", "ghost", "02", "DE"),                                  # u3 purchase
    ("adset", "as1", "02", "DE"), ("adset", "as1", "02", "US"), ("adset", "as1", "02", "ZZ"),
    ("adset", "as2", "02", "ZZ"), ("adset", "as2", "09", "ZZ"),   # u6 purchase / u6 trial
    ("campaign", "c1", "02", "DE"), ("campaign", "c1", "02", "US"), ("campaign", "c1", "02", "ZZ"),
    ("campaign", "c1", "09", "ZZ"),
    ("campaign", "c2", "02", "US"),                               # u5: own campaign wins
    ("campaign", "c9", "02", "DE"),                               # u3: own campaign
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_entities_and_breakdown_rows(implementation, builds, on_demand, tiny_con):
    if implementation == "dbt":
        entities = {t: [r[0] for r in tiny_con.execute(
            "select entity_id from int_entities_unioned where entity_type = ? order by entity_id", [t]).fetchall()]
            for t in TINY_ENTITIES}
        keys = tiny_con.execute("""
            select entity_type, entity_id, strftime(date, '%d'), country_code
            from entity_country_breakdown order by all""").fetchall()
    else:
        od = on_demand[("tiny", implementation == "on_demand_materialized")]
        entities = od.entities()
        keys = []
        for level, ids in entities.items():
            requests = [(entity, START, AS_OF, country) for entity in ids for country in ("DE", "US", "ZZ")]
            for (entity, _, _, country), rows in zip(requests, od.daily_metrics_many(level, requests)):
                keys += [(level, entity, f"{r['date'].day:02d}", country) for r in rows if r is not None]
        keys.sort()
    assert entities == TINY_ENTITIES
    assert keys == TINY_BREAKDOWN_KEYS


@pytest.mark.parametrize("implementation", ["dbt", "on_demand"])
def test_window_defaults_to_the_dates_of_the_kept_source_rows(implementation, tiny_build, tmp_path):
    # earliest: u1's trial on 2024-12-31; latest: the 2025-01-12 Meta row
    if implementation == "dbt":
        warehouse = tmp_path / "defaults.duckdb"
        run_dbt(["run", "--select", "+int_reporting_window_resolved",
                 "--vars", f"{{raw_data_dir: '{tiny_build['raw_dir']}'}}"],
                duckdb_path=warehouse, target_path=tmp_path / "target")
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            window = fetch_dicts(con, "select * from int_reporting_window_resolved")[0]
        finally:
            con.close()
        assert window["last_post_trial_cohort_date"] == dt.date(2025, 1, 5)
        start, as_of = window["start_date"], window["as_of_date"]
    else:
        with OnDemandMetrics(tiny_build["raw_dir"]) as od:
            start, as_of = od.start_date, od.as_of_date
    assert (start, as_of) == (dt.date(2024, 12, 31), dt.date(2025, 1, 12))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS[1:])
def test_the_edge_entity_sets_are_the_marts(implementation, on_demand, edges_con):
    built = {t: sorted(r[0] for r in edges_con.execute(
        "select entity_id from int_entities_unioned where entity_type = ?", [t]).fetchall()) for t in TINY_ENTITIES}
    assert on_demand[("edges", implementation == "on_demand_materialized")].entities() == built


# --- the on-demand path's own interface -------------------------------------------------


def test_on_demand_rows_shape_types_and_clipping(on_demand):
    od = on_demand[("tiny", False)]
    rows = od.daily_metrics("ad", "000777", START, AS_OF)
    assert [r["date"] for r in rows] == [START + dt.timedelta(days=i) for i in range(10)]
    assert list(rows[1]) == list(METRIC_COLUMNS)
    assert isinstance(rows[1]["meta_impressions"], int) and isinstance(rows[1]["meta_spend"], float)
    assert len(od.daily_metrics("ad", "000777", dt.date(2024, 12, 1), dt.date(2025, 2, 1))) == 10  # clipped
    assert od.daily_metrics("ad", "000777", dt.date(2025, 2, 1), dt.date(2025, 2, 3)) == []
    assert od.daily_metrics("ad", "000777", START, JAN_3, "US")[0] is None  # no breakdown row on 01-01
    with pytest.raises(ValueError):
        od.daily_metrics("campaign", "c404", START, AS_OF)   # not an entity
    with pytest.raises(ValueError):
        od.daily_metrics("region", "c1", START, AS_OF)


@pytest.mark.parametrize("materialize", [False, True])
def test_on_demand_batches_give_what_single_calls_give(on_demand, materialize):
    od = on_demand[("edges", materialize)]
    requests = [("000777", START, AS_OF, None), ("acc", JAN_4, JAN_4, "US"), ("000777", JAN_2, JAN_2, "ZZ"),
                ("refund_once", START, JAN_3, None), ("a2", START, JAN_3, "FR"), ("a404", START, START, None)]
    got = od.daily_metrics_many("ad", requests, errors="return")
    for request, result in zip(requests[:-1], got[:-1]):
        assert result == od.daily_metrics("ad", *request)
    assert isinstance(got[-1], ValueError)
    with pytest.raises(ValueError):
        od.daily_metrics_many("ad", requests)


def test_on_demand_range_totals_follow_section_8(on_demand):
    # c1: 01-02 (see "campaign c1 mixes trials and purchases": spend 15.50, clicks 70, Meta
    # trials 4 / purchases 1, trials u1, u2 (post-trial; u1 converted and refunded; estimated
    # rate 0.4 over 2 pairs), purchase u6, adjusted 120) and 01-09 (u6's trial of prod_w, not
    # post-trial, rate 0.4 over 1 pair, value 12: trial ratio 100 -> adjusted 12).
    t = on_demand[("tiny", True)].range_totals("campaign", "c1", START, AS_OF)
    assert (t["meta_spend"], t["meta_clicks"], t["mixpanel_trial_count"], t["mixpanel_purchase_count"]) == (
        pytest.approx(15.5), 70, 3, 1)
    assert t["post_trial_user_count"] == 2 and t["converted_user_count"] == 1
    assert t["trial_conversion_rate_actual"] == pytest.approx(0.5)      # 1 / 2: 01-09 is not post-trial
    assert t["trial_conversion_rate_estimated"] == pytest.approx(0.4)   # (0.4 x 2 + 0.4 x 1) / 3
    assert t["trial_accuracy_ratio"] == pytest.approx(75.0)             # 3 / 4 * 100
    assert t["adjusted_estimated_revenue_usd"] == pytest.approx(132.0)  # 120 + 12
    assert t["profit_usd"] == pytest.approx(116.5)                      # 132 - 15.50
    assert t["estimated_roas"] == pytest.approx(132 / 15.5)             # not the mean of 7.74 and 0
    assert t["mixpanel_cost_per_trial"] == pytest.approx(15.5 / 3)
    assert t["click_to_trial_rate"] == pytest.approx(300 / 70)
    us = on_demand[("tiny", False)].range_totals("campaign", "c1", START, AS_OF, country="US")
    assert us["rows"] == 1 and us["trial_accuracy_ratio"] == pytest.approx(100 / 3)   # u1 of 3 Meta trials


@pytest.mark.parametrize("session_zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_on_demand_takes_timestamptz_in_utc_in_any_session_zone(edges_build, session_zone):
    # EDGES writes event_time as TIMESTAMPTZ; tz_user's trial is at 2025-01-04 23:30 UTC
    # (01-05 in Tokyo) and u5's at 01-02 23:59:59 UTC
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{session_zone}'")
    with OnDemandMetrics(edges_build["raw_dir"], start_date=START, as_of_date=AS_OF, con=con) as od:
        assert od.daily_metrics("ad", "nullm", JAN_4, JAN_4)[0]["trial_user_ids"] == "blank_country,tz_user"
        assert od.daily_metrics("ad", "777", JAN_2, JAN_2)[0]["trial_user_ids"] == "u5"
    con.close()


def test_on_demand_names_a_missing_file_or_column(tiny_build, tmp_path):
    shutil.copytree(tiny_build["raw_dir"], tmp_path / "raw")
    raw = tmp_path / "raw"
    with duckdb.connect() as con:
        con.execute(f"copy (select * exclude (event_uuid) from '{tiny_build['raw_dir']}/mixpanel_event.parquet') "
                    f"to '{raw}/mixpanel_event.parquet' (format parquet)")
    with pytest.raises(ValueError, match="mixpanel_event.*event_uuid"):
        OnDemandMetrics(raw)
    shutil.copy(tiny_build["raw_dir"] / "mixpanel_event.parquet", raw / "mixpanel_event.parquet")
    (raw / "user_product_metrics.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="user_product_metrics"):
        OnDemandMetrics(raw)
