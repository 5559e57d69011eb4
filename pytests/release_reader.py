"""A dashboard-like reader of a published warehouse, run as a subprocess by test_releases.py.

    python release_reader.py PATH OUT_JSON STOP_FILE reconnect|hold

``reconnect`` opens PATH read-only for every read (a new connection every few
milliseconds); ``hold`` opens it once and keeps that connection for its whole
life. Each read checks that both marts come from the release it is reading:
every ``computed_at`` of entity_daily_metrics and entity_country_breakdown equals
the release's own ``computed_at`` (precompute_release). A read that raises, or
sees two runs at once, is a failure. When STOP_FILE appears, the counts go to
OUT_JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb

READ_SQL = """
    select
        release.run_id,
        release.computed_at,
        (select min(computed_at) from entity_daily_metrics) as daily_min,
        (select max(computed_at) from entity_daily_metrics) as daily_max,
        (select min(computed_at) from entity_country_breakdown) as breakdown_min,
        (select max(computed_at) from entity_country_breakdown) as breakdown_max,
        (select count(*) from entity_daily_metrics) as daily_rows
    from precompute_release as release
"""


def read_once(con: duckdb.DuckDBPyConnection) -> tuple[str, str | None]:
    """(run id, problem or None)."""
    run_id, computed_at, *stamps, daily_rows = con.execute(READ_SQL).fetchone()
    if daily_rows == 0 or any(stamp != computed_at for stamp in stamps):
        return run_id, f"mixed runs in {run_id}: release {computed_at}, tables {stamps}, rows {daily_rows}"
    return run_id, None


def main(path: str, out_json: str, stop_file: str, mode: str) -> None:
    # Reading in a loop would take a core from the runs it watches (and from the other
    # tests running beside it): the reader takes what CPU they leave.
    os.nice(10)
    reads, failures = 0, 0
    errors: Counter[str] = Counter()
    runs_seen: Counter[str] = Counter()
    held = duckdb.connect(path, read_only=True) if mode == "hold" else None
    Path(out_json + ".ready").touch()
    while not Path(stop_file).exists():
        try:
            con = held or duckdb.connect(path, read_only=True)
            try:
                run_id, problem = read_once(con)
            finally:
                if held is None:
                    con.close()
            runs_seen[run_id] += 1
            if problem:
                failures += 1
                errors[problem] += 1
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            failures += 1
            errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"] += 1
        reads += 1
        time.sleep(0.005)
    Path(out_json).write_text(json.dumps({
        "mode": mode, "reads": reads, "failures": failures,
        "errors": dict(errors.most_common(10)), "runs_seen": dict(runs_seen),
    }), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:5])
