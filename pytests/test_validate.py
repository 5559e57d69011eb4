"""Tests of python_hooks.validate: the comparison rules and the in-process gate.

The rule tests use hand-picked values (the arithmetic is in the comments). The gate
tests run on a *fake warehouse*: the two marts written from the on-demand rows of
the hand-written data set (tiny_dataset.py with EDGES), stored in the marts' DECIMAL /
INTEGER types, so that they test validate's machinery (drawing, reading back,
comparing, reporting) independently of the dbt models. One test runs the gate on
the real dbt build of the tiny data set.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import tiny_dataset
from python_hooks import validate
from python_hooks.on_demand import METRIC_COLUMNS, OnDemandMetrics
from python_hooks.validate import compare_value, run_gate

START, AS_OF = dt.date.fromisoformat(tiny_dataset.START_DATE), dt.date.fromisoformat(tiny_dataset.AS_OF_DATE)

PAIR_COUNTS = ("trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
               "purchase_refund_estimate_pair_count")
SIX_RATES = tuple(c for c in METRIC_COLUMNS if c.endswith(("_rate_estimated", "_rate_actual")))


# ------------------------------------------------------------------ comparison rules
def test_money_half_cent_at_large_magnitude():
    # 123456789.125 is exact in binary; half-up gives .13. A side whose float sum
    # landed one ulp lower (123456789.12499999, spacing 1.5e-8 here) must still
    # accept .13: in float, x + 1e-9 == x at this magnitude, so the slack has to be
    # added in decimal and scaled with |x|.
    assert compare_value("meta_spend", Decimal("123456789.13"), 123456789.12499999) == (True, False)
    assert compare_value("meta_spend", Decimal("123456789.12"), 123456789.12499999) == (True, False)
    assert compare_value("meta_spend", Decimal("123456789.14"), 123456789.12499999)[0] is False
    # 12,345.675: either cent at the tie; 12,345.66 is wrong
    assert compare_value("profit_usd", Decimal("12345.68"), 12345.675)[0] is True
    assert compare_value("profit_usd", Decimal("12345.67"), 12345.675)[0] is True
    assert compare_value("profit_usd", Decimal("12345.66"), 12345.675)[0] is False
    # negative money (profit, net revenue)
    assert compare_value("net_actual_revenue_usd", Decimal("-10500.10"), -10500.1)[0] is True


def test_ratios_of_ten_thousand_and_more():
    # 150 Mixpanel trials against 1 Meta trial = 15,000 %, stored DECIMAL(18,4)
    assert compare_value("trial_accuracy_ratio", Decimal("15000.0000"), 15000.0) == (True, False)
    # 15000.00005 rounds half-up to 15000.0001: a match without a rounding note
    assert compare_value("trial_accuracy_ratio", Decimal("15000.0001"), 15000.00005) == (True, False)
    # 15000.00007 rounds to 15000.0001; 15000.0000 is within 1e-4 (7e-5 off) but not
    # the rounding: a match with a rounding note
    assert compare_value("trial_accuracy_ratio", Decimal("15000.0000"), 15000.00007) == (True, True)
    # 2e-4 off: a mismatch
    assert compare_value("trial_accuracy_ratio", Decimal("15000.0002"), 15000.0)[0] is False
    # ROAS of a one-cent spend: 1234.56 / 0.01 = 123456
    assert compare_value("estimated_roas", Decimal("123456.0000"), 1234.56 / 0.01)[0] is True
    assert compare_value("click_to_trial_rate", Decimal("10000.0000"), 10000.0)[0] is True


def test_pair_counts_compared_exactly():
    for col in PAIR_COUNTS:
        assert compare_value(col, 3, 3) == (True, False)
        assert compare_value(col, 3, 4)[0] is False
        # a count is not a rate: no 1e-4 tolerance
        assert compare_value(col, 2, 2.00005)[0] is False


def test_values_that_cannot_be_compared_are_mismatches_not_errors():
    for x in (float("nan"), float("inf"), float("-inf"), 1e300):
        assert compare_value("meta_spend", Decimal("1.00"), x) == (False, False)
        assert compare_value("estimated_roas", Decimal("1.0000"), x) == (False, False)
    assert compare_value("meta_clicks", 1, float("nan")) == (False, False)
    assert compare_value("meta_spend", None, 0.0) == (False, False)
    assert compare_value("meta_spend", None, None) == (True, False)


# ------------------------------------------------------------------ a fake warehouse
def _sql_type(col: str) -> str:
    if col in validate.COUNT_COLUMNS:
        return "INTEGER"
    if col in validate.LIST_COLUMNS:
        return "VARCHAR"
    if col in validate.MONEY_COLUMNS:
        return "DECIMAL(18,2)"
    if col in SIX_RATES:
        return "DECIMAL(5,4)"
    return "DECIMAL(18,4)"


def build_fake_warehouse(path: Path, raw_dir: Path, *, pair_counts: bool = True) -> Path:
    """The marts as the on-demand side computes them, in the marts' types."""
    od = OnDemandMetrics(raw_dir, start_date=START, as_of_date=AS_OF, trial_days=7)
    metrics = [c for c in METRIC_COLUMNS[3:] if pair_counts or c not in PAIR_COUNTS]
    countries = sorted({"US", "ZZ", "DE", "FR", "NA", "GB"})
    overall, breakdown = [], []
    entities = od.entities()
    for level, ids in entities.items():
        for eid in ids:
            overall += od.daily_metrics(level, eid, START, AS_OF)
            for cc in countries:
                breakdown += [r for r in od.daily_metrics(level, eid, START, AS_OF, cc) if r is not None]
    con = duckdb.connect(str(path))
    con.execute("""create table int_reporting_window_resolved as select
        ?::date as start_date, ?::date as as_of_date, 7 as trial_days""", [START, AS_OF])
    con.execute("create table int_entities_unioned (entity_type varchar, entity_id varchar)")
    con.executemany("insert into int_entities_unioned values (?, ?)",
                    [(lvl, e) for lvl, ids in entities.items() for e in ids])
    for table, rows, keys in (("entity_daily_metrics", overall, ["entity_type", "entity_id", "date"]),
                              ("entity_country_breakdown", breakdown,
                               ["entity_type", "entity_id", "date", "country_code"])):
        cols = keys + metrics
        defs = ", ".join(f"{c} {'DATE' if c == 'date' else 'VARCHAR' if c in keys else _sql_type(c)}"
                         for c in cols)
        con.execute(f"create table {table} ({defs}, computed_at timestamp, data_quality_score decimal(3,2))")
        con.executemany(f"insert into {table} values ({', '.join('?' for _ in cols)}, now(), 1.00)",
                        [[r[c] for c in cols] for r in rows])
    con.close()
    od.close()
    return path


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    return tiny_dataset.write(tmp_path_factory.mktemp("validate_raw"), overrides=tiny_dataset.EDGES)


@pytest.fixture(scope="module")
def fake_wh(tmp_path_factory, raw_dir) -> Path:
    return build_fake_warehouse(tmp_path_factory.mktemp("wh") / "fake.duckdb", raw_dir)


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    return dst


def _gate(wh: Path, raw_dir: Path, **kw) -> dict:
    return run_gate(wh, kw.pop("cases", 80), kw.pop("seed", 3), raw_dir=raw_dir, **kw)


# ------------------------------------------------------------------ the gate
def test_gate_passes_silently_with_the_documented_shape(fake_wh, raw_dir, capsys):
    g = _gate(fake_wh, raw_dir)
    assert capsys.readouterr() == ("", "")          # prints nothing
    assert g["passed"] is True and g["error"] is None
    assert g["cells"] == 80 and g["matched"] == 80 and g["share_percent"] == 100.0
    assert g["mismatches"] == [] and g["mismatch_count"] == 0
    assert g["skipped_columns"] == {} and g["entity_sets_equal"] is True
    assert g["raw_data_dir"] == str(raw_dir)
    assert isinstance(g["elapsed_seconds"], float) and g["elapsed_seconds"] > 0
    # deterministic for a seed
    assert _gate(fake_wh, raw_dir)["cells"] == 80


def test_gate_skips_columns_the_warehouse_lacks(tmp_path, raw_dir):
    wh = build_fake_warehouse(tmp_path / "old.duckdb", raw_dir, pair_counts=False)
    g = _gate(wh, raw_dir)
    assert g["passed"] is True and g["mismatches"] == []
    assert g["skipped_columns"] == {"entity_daily_metrics": list(PAIR_COUNTS),
                                    "entity_country_breakdown": list(PAIR_COUNTS)}
    # the CLI names them too
    out = io.StringIO()
    rc = validate.main_validate(
        warehouse=wh, raw_dir=raw_dir, start=None, as_of=None, cases=30, seed=0,
        report_path=tmp_path / "report.json", country_mapping_csv=validate.COUNTRY_MAPPING_CSV, out=out)
    assert rc == 0
    assert ("SKIPPED (not in the warehouse's entity_daily_metrics): " + ", ".join(PAIR_COUNTS)
            in out.getvalue())


def test_gate_reports_mismatches_without_raising(fake_wh, raw_dir, tmp_path):
    wh = _copy(fake_wh, tmp_path)
    con = duckdb.connect(str(wh))
    # one more Mixpanel trial on every overall row that has trials; one pair count off
    con.execute("update entity_daily_metrics set mixpanel_trial_count = mixpanel_trial_count + 1 "
                "where mixpanel_trial_count > 0")
    con.execute("update entity_country_breakdown set trial_conversion_estimate_pair_count = 99")
    con.close()
    g = _gate(wh, raw_dir, max_mismatches=3)
    assert g["passed"] is False and g["error"] is None
    assert g["matched"] < g["cells"] and g["mismatch_count"] > 3 and len(g["mismatches"]) == 3
    assert set(g["mismatches_per_column"]) == {"mixpanel_trial_count", "trial_conversion_estimate_pair_count"}
    m = g["mismatches"][0]
    assert set(m) >= {"table", "entity_type", "entity_id", "date", "country_code", "column", "stored",
                      "on_demand"}
    if m["column"] == "mixpanel_trial_count":
        assert m["stored"] == m["on_demand"] + 1
    else:
        assert m["stored"] == 99


def test_gate_entity_set_difference_fails(fake_wh, raw_dir, tmp_path):
    wh = _copy(fake_wh, tmp_path)
    con = duckdb.connect(str(wh))
    con.execute("insert into int_entities_unioned values ('ad', 'a404')")
    con.close()
    g = _gate(wh, raw_dir, cases=20)
    assert g["passed"] is False and g["matched"] == g["cells"] == 20
    assert g["entity_sets_equal"] is False
    assert g["entity_set_differences"] == {"ad": {"only_in_warehouse": ["a404"], "only_on_demand": []}}


def test_gate_setup_problems_do_not_raise(tmp_path, raw_dir, fake_wh):
    g = _gate(tmp_path / "nowhere.duckdb", raw_dir)
    assert g["passed"] is False and "warehouse not found" in g["error"]
    # a file that is not a built warehouse
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    g = _gate(tmp_path / "empty.duckdb", raw_dir)
    assert g["passed"] is False and "int_reporting_window_resolved" in g["error"]
    # raw files gone
    g = run_gate(fake_wh, 10, 0, raw_dir=tmp_path)
    assert g["passed"] is False and "on-demand side" in g["error"]


def test_gate_while_the_process_holds_the_warehouse_open(fake_wh, raw_dir, tmp_path):
    wh = _copy(fake_wh, tmp_path)
    held = duckdb.connect(str(wh))          # read-write, as a build in this process would
    try:
        assert _gate(wh, raw_dir, cases=20)["passed"] is True
        assert _gate(wh, raw_dir, cases=20, con=held)["passed"] is True
        held.execute("select 1").fetchall()  # still usable: the gate did not close it
    finally:
        held.close()


def test_gate_on_the_real_tiny_build(tiny_build):
    g = run_gate(tiny_build["warehouse"], 100, 0, raw_dir=tiny_build["raw_dir"])
    assert g["error"] is None
    assert g["passed"] is True, g["mismatches"]
