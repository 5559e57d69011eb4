#!/usr/bin/env python3
"""Master-pipeline step: pre-compute all dashboard metrics (``precompute run``).

Usage::

    python pipelines/04_precompute_dashboard_metrics.py [precompute run options]

Runs ``precompute run`` with the arguments given here (``--raw-dir``, ``--start``,
``--as-of``, ``--warehouse``, ``--full-refresh``, ``--progress``) and the current
environment (``DUCKDB_PATH``, ``RAW_DATA_DIR``, ``DBT_TARGET_PATH``, ...), and exits
with its exit code: 0 when the build and every data test passed, non-zero otherwise.

The command is found in this order: ``$PRECOMPUTE_BIN``; the project's own
``.venv/bin/precompute``; ``precompute`` on PATH; else ``python -m python_hooks.cli``
with the project on PYTHONPATH (same interpreter as this script).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def precompute_command() -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if env.get("PRECOMPUTE_BIN"):
        return [env["PRECOMPUTE_BIN"]], env
    for candidate in (PROJECT_DIR / ".venv" / "bin" / "precompute", shutil.which("precompute")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)], env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    return [sys.executable, "-m", "python_hooks.cli"], env


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cmd, env = precompute_command()
    cmd = [*cmd, "run", *args]
    print("pipeline step 04: " + " ".join(cmd), flush=True)
    try:
        rc = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130
    return 128 - rc if rc < 0 else rc  # killed by signal N -> 128 + N, as a shell does


if __name__ == "__main__":
    sys.exit(main())
