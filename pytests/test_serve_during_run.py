"""Serving during a run: `precompute serve` answers every request while `precompute run` publishes.

A server reads the published release of the bundled sample. A client thread
requests the health and entity-table endpoints in a loop while a second
`precompute run` builds and publishes a new release. Every response must be a
200, and the responses must switch from the first release's `computed_at` to
the second's without a restart. The client also requests an entity's day rows,
which come from the release's SQLite serving copy: their `computed_at` must
switch once too, to the same release as the DuckDB file's.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import SAMPLE_DIR, precompute_command, precompute_env, serving


def _get(url: str) -> tuple[int, dict | list | None]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


@pytest.mark.slow
def test_requests_never_fail_and_switch_to_the_new_release(tmp_path):
    warehouse = tmp_path / "dash.duckdb"
    run = [*precompute_command(), "run", "--warehouse", str(warehouse), "--raw-dir", str(SAMPLE_DIR), "--progress", "plain"]
    first = subprocess.run(run, cwd=tmp_path, env=precompute_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    with serving(warehouse, tmp_path) as (base, health):
        computed_0 = health["computed_at"]
        window = f"start={health['start_date']}&end={health['as_of_date']}"
        _, table = _get(f"{base}/api/entities?level=campaign&{window}")
        detail = f"/api/entities/campaign/{table['rows'][0]['entity_id']}?{window}"

        stop = threading.Event()
        outcomes: list[tuple[str, int, str | None]] = []

        def client() -> None:
            while not stop.is_set():
                for path in ("/api/health", f"/api/entities?level=campaign&{window}", detail):
                    try:
                        status, body = _get(base + path)
                        stamp = body.get("computed_at") if isinstance(body, dict) else None
                        if path == detail and isinstance(body, dict):  # the serving copy's rows
                            stamp = max(row["computed_at"] for row in body["daily"])
                        outcomes.append((path, status, stamp))
                    except Exception as exc:  # noqa: BLE001 - every failure is counted
                        outcomes.append((path, -1, repr(exc)))

        thread = threading.Thread(target=client)
        thread.start()
        try:
            second = subprocess.run(run, cwd=tmp_path, env=precompute_env(tmp_path), capture_output=True, text=True,
                                    timeout=600)
            assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
            time.sleep(1.0)  # let the client see the new release
        finally:
            stop.set()
            thread.join(timeout=30)

    failures = [o for o in outcomes if o[1] != 200]
    assert not failures, failures[:5]
    assert len(outcomes) > 50, len(outcomes)
    stamps = [stamp for path, _, stamp in outcomes if path == "/api/health"]
    assert stamps[0] == computed_0 and stamps[-1] != computed_0, (stamps[0], stamps[-1])
    # the switch happens once: no response goes back to the old release
    switched = stamps.index(stamps[-1])
    assert set(stamps[switched:]) == {stamps[-1]}
    # the serving copy switched once as well, to the release the DuckDB file's health reports
    served = [stamp for path, _, stamp in outcomes if path == detail]
    assert served[0] == computed_0 and served[-1] == stamps[-1], (served[0], served[-1], stamps[-1])
    assert set(served[served.index(served[-1]):]) == {served[-1]}
    print(f"serving during a run: {len(outcomes)} requests, 0 failed; "
          f"{switched} health responses before the switch, {len(stamps) - switched} after")
