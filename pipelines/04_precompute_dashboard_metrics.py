#!/usr/bin/env python3
"""Master-pipeline step: pre-compute all dashboard metrics (``precompute run``).

Usage::

    python pipelines/04_precompute_dashboard_metrics.py [precompute run options]

Runs ``precompute run`` with the arguments given here (``--raw-dir`` or ``--source
sqlite:PATH``, ``--start``,
``--as-of``, ``--vars``, ``--warehouse``, ``--gate-cases``, ``--progress``) and the
current environment (``PRECOMPUTE_WAREHOUSE``, ``RAW_DATA_DIR``, ``DBT_TARGET_PATH``,
...), and exits with its exit code.

The run's "today": an explicit ``--as-of``
-----------------------------------------
Unless ``--as-of`` is given (or ``$PRECOMPUTE_AS_OF``), the step passes
``--as-of`` = **yesterday, UTC** (the day before the step starts). Yesterday is
the last complete UTC day: today's events are still arriving, and a trial
cohort must not look post-trial, nor a day look empty, only because the day is
not over. It is explicit rather than dbt's default (the latest date found in
the sources) so that a late or missing export cannot silently move the window
back, and a stray future-dated event cannot move it forward; when the sources
stop before yesterday, ``precompute run`` warns and names both dates.

Exit code
---------
0 means a new release was published; anything else means the dashboard still
reads the previous release: 1 a model, test or the validation gate failed,
2 bad arguments, 3 a broken source (missing, mistyped or empty), 4 the gates
passed but publishing did not happen (another run holds the lock, disk full).

The command is found in this order: ``$PRECOMPUTE_BIN``; the project's own
``.venv/bin/precompute``; ``precompute`` on PATH; else ``python -m python_hooks.cli``
with the project on PYTHONPATH (same interpreter as this script).
"""

from __future__ import annotations

import datetime as _dt
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


def default_as_of(today: _dt.date | None = None) -> str:
    """Yesterday in UTC: the last complete day (see the module docstring)."""
    today = today or _dt.datetime.now(_dt.timezone.utc).date()
    return (today - _dt.timedelta(days=1)).isoformat()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--as-of" or a.startswith("--as-of=") for a in args):
        args += ["--as-of", os.environ.get("PRECOMPUTE_AS_OF") or default_as_of()]
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
