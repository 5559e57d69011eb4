"""The cohort curves of the read API where a range is only partly complete for D30.

The tiny data set (pytests/tiny_dataset.py) published with as_of_date 2025-02-10
(window 01-01 .. 02-10): D30 is complete for the cohort days up to 01-11. A file of
its own, so that pytest-xdist runs its release beside test_api.py's. Values worked
out by hand, as in test_api.py (its comment "cohort curves" lists the cohort pairs).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_dataset  # noqa: E402
from test_api import _horizon, _precompute, approx, ok  # noqa: E402  (test_api skips without fastapi)

from fastapi.testclient import TestClient  # noqa: E402

from python_hooks.api import create_app  # noqa: E402


@pytest.fixture(scope="module")
def later_client(tmp_path_factory):
    """The tiny data set published with as_of_date 2025-02-10 (window 01-01 .. 02-10), where D30 is
    complete for the cohort days up to 01-11."""
    work = tmp_path_factory.mktemp("api_later")
    tiny_dataset.write(work / "raw")
    proc = _precompute(work, "run", "--raw-dir", "raw", "--warehouse", "wh/tiny.duckdb", "--progress", "plain",
                       "--start", tiny_dataset.START_DATE, "--as-of", "2025-02-10", "--gate-cases", "50")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with TestClient(create_app(work / "wh" / "tiny.duckdb")) as test_client:
        yield test_client


def test_curve_where_only_some_cohort_days_are_complete_for_d30(later_client):
    # as_of 02-10 adds u1's prod_y purchase of 49.99 on 01-11 (c1 via ad 000777: a pair of that day,
    # earned on D0) and 000777's 8.00 spend on 01-12. Over the cohort days 01-01 .. 01-31 (31):
    #   D0, D7: every day complete: net 29.99 + 49.99 = 79.98 (D0), 28.99 + 49.99 = 78.98 (D7);
    #           spend 15.50 + 8.00 = 23.50
    #   D14: complete up to 01-27 (27 of 31): 78.98 / 23.50
    #   D30: complete up to 01-11 (11 of 31): 01-12's 8.00 is left out: 78.98 / 15.50
    #   D60, D90: none
    body = ok(later_client, "/api/entities/campaign/c1/curve", start="2025-01-01", end="2025-01-31")
    assert body["horizons"] == [
        _horizon(0, 79.98, 23.5, approx(79.98 / 23.5), 31, 31),
        _horizon(7, 78.98, 23.5, approx(78.98 / 23.5), 31, 31),
        _horizon(14, 78.98, 23.5, approx(78.98 / 23.5), 27, 31),
        _horizon(30, 78.98, 15.5, approx(78.98 / 15.5), 11, 31),
        _horizon(60, 0.0, 0.0, None, 0, 31),
        _horizon(90, 0.0, 0.0, None, 0, 31),
    ]
    assert body["payback_days"] == 0
    # the entity table's columns are the curve's at 7 and 30
    rows = ok(later_client, "/api/entities", level="campaign", start="2025-01-01", end="2025-01-31",
              sort="d30_cohort_roas")["rows"]
    assert (rows[0]["entity_id"], rows[0]["cohort"]) == (
        "c1", {"d7_cohort_roas": approx(78.98 / 23.5), "d30_cohort_roas": approx(78.98 / 15.5), "payback_days": 0})
