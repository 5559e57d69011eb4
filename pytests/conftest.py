"""Shared fixtures: run the real dbt project on the tiny hand-written data set.

`make pytest` runs the tests on two pytest-xdist workers (one per core). The
warehouses many test files read (tiny_build, edges_build) are built once per
test session, whichever worker asks first, and read by both (`shared_build`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pytest
from filelock import FileLock

import tiny_dataset

from python_hooks.project import PROJECT_DIR, SAMPLE_DIR  # noqa: F401 - SAMPLE_DIR for the tests

DBT = Path(sys.executable).with_name("dbt")


def run_dbt(args: list[str], *, duckdb_path: Path, target_path: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the project's dbt with an isolated warehouse file and target dir."""
    env = {**os.environ, "DUCKDB_PATH": str(duckdb_path), "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    env.pop("RAW_DATA_DIR", None)
    command = [
        str(DBT), *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
    ]
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def tiny_vars(raw_dir: Path, **extra: str) -> str:
    values = {"raw_data_dir": str(raw_dir), "start_date": tiny_dataset.START_DATE,
              "as_of_date": tiny_dataset.AS_OF_DATE, **extra}
    return json.dumps(values)


def _build(root: Path, overrides: dict[str, str] | None = None) -> dict:
    raw_dir = tiny_dataset.write(root / "raw", overrides=overrides)
    warehouse = root / "warehouse.duckdb"
    run_dbt(["build", "--vars", tiny_vars(raw_dir)], duckdb_path=warehouse, target_path=root / "target")
    return {"root": root, "raw_dir": raw_dir, "warehouse": warehouse}


def shared_build(tmp_path_factory, worker_id: str, name: str, build) -> dict:
    """``build(root)`` run once per test session, its paths returned to every worker.

    Without xdist (worker_id "master") it is an ordinary session fixture. Under xdist the
    first worker to ask builds into the directory all workers share, holding a lock;
    the others wait for the lock and read what it wrote. A failed build leaves no
    result, so the next worker that asks builds again (and fails as loudly)."""
    if worker_id == "master":
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    root, result = shared / name, shared / f"{name}.json"
    with FileLock(str(shared / f"{name}.lock")):
        if not result.exists():
            if root.exists():
                shutil.rmtree(root)
            root.mkdir()
            built = build(root)
            result.write_text(json.dumps({key: str(value) for key, value in built.items()}))
    return {key: Path(value) for key, value in json.loads(result.read_text()).items()}


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory, worker_id) -> dict:
    """The tiny data set built once with `dbt build` (models and every test)."""
    return shared_build(tmp_path_factory, worker_id, "tiny_build", _build)


def _build_edges(root: Path) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Tokyo")
        return _build(root, tiny_dataset.EDGES)


@pytest.fixture(scope="session")
def edges_build(tmp_path_factory, worker_id) -> dict:
    """The tiny data set with every edge case (tiny_dataset.EDGES), built once. The
    machine's zone is Asia/Tokyo (UTC+9): a TIMESTAMPTZ read in the session's local
    zone would move late-evening events to the next day."""
    return shared_build(tmp_path_factory, worker_id, "edges_build", _build_edges)


def _read_only(build: dict):
    con = duckdb.connect(str(build["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def tiny_con(tiny_build):
    yield from _read_only(tiny_build)


@pytest.fixture(scope="session")
def edges_con(edges_build):
    yield from _read_only(edges_build)


def fetch_dicts(con, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --------------------------------------------------------------------------- the precompute CLI

CONSOLE_SCRIPT = PROJECT_DIR / ".venv" / "bin" / "precompute"


def precompute_command() -> list[str]:
    """The installed console script, else ``python -m python_hooks.cli``."""
    if CONSOLE_SCRIPT.is_file():
        return [str(CONSOLE_SCRIPT)]
    return [sys.executable, "-m", "python_hooks.cli"]


def precompute_env(work: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: dbt's target and logs under ``work``, no path overrides."""
    env = {**os.environ, "DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs")}
    for name in ("RAW_DATA_DIR", "DUCKDB_PATH", "PRECOMPUTE_WAREHOUSE", "PRECOMPUTE_AS_OF"):
        env.pop(name, None)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(warehouse: Path, work: Path) -> Iterator[tuple[str, dict]]:
    """`precompute serve` over ``warehouse`` (its log in work/serve.log), once its health
    answers 200: yields (base URL, the health answer); stops the server on exit."""
    port = free_port()
    log = (work / "serve.log").open("w")  # a file, not a pipe: an unread pipe would block the server
    server = subprocess.Popen([*precompute_command(), "serve", "--warehouse", str(warehouse), "--port", str(port)],
                              cwd=work, env=precompute_env(work), stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, health = time.monotonic() + 60, None
        while health is None:
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=10) as response:
                    health = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (work / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield base, health
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


# --------------------------------------------------------------------------- pytest-xdist scheduling

def pytest_collection_modifyitems(items) -> None:
    """Tests marked ``slow`` (a minute or more each) first, the rest in file order.

    `make pytest` hands whole files to its workers (``--dist loadfile``), so that a
    module-scoped fixture is built once, in the order collected here: a file with a
    slow test starts first, so that the workers end together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable sort
