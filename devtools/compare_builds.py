"""Check that a change keeps the published tables bit for bit.

Builds two versions of this dbt project on the same raw data and compares every
published table (``python_hooks.release.PUBLISHED_TABLES``): the same columns
with the same types, and the same rows (``EXCEPT ALL`` both ways, so duplicates
count). ``computed_at`` is the run's start time and differs by design: it is
left out of the row comparison. A table that only the head has (a model the
change adds) is listed as new, with its row count, and not compared.

    .venv/bin/python -m devtools.compare_builds --base main --raw-dir data/sample
    .venv/bin/python -m devtools.compare_builds --base /tmp/other_checkout --raw-dir /data/year \
        --work /tmp/compare --vars '{as_of_date: 2025-12-31}'

``--base`` is a git revision (exported with ``git archive`` into the work folder)
or a project directory. Both builds are a plain ``dbt build`` without tests into
``<work>/<base|head>.duckdb``, with DuckDB on one thread: a parallel float sum
or mean is added up in a different order from run to run, which can move a
value that lies on a rounding boundary by one cent (or one 1e-4) even between
two builds of the same code. Exit code 0 when every table is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import yaml

from python_hooks.project import PROJECT_DIR
from python_hooks.release import PUBLISHED_TABLES

RUN_DEPENDENT_COLUMNS = {"computed_at"}


def checkout(base: str, work: Path) -> Path:
    if Path(base).is_dir():
        return Path(base).resolve()
    folder = work / "base_project"
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", base], cwd=PROJECT_DIR, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def single_thread_profiles(project: Path, work: Path) -> Path:
    """The project's profiles.yml with DuckDB on one thread (deterministic float sums)."""
    profiles = yaml.safe_load((project / "profiles.yml").read_text(encoding="utf-8"))
    for output in profiles["ad_precompute"]["outputs"].values():
        output["threads"] = 1
        output.setdefault("settings", {})["threads"] = 1
    folder = work / f"profiles_{project.name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return folder


def build(project: Path, duckdb_file: Path, raw_dir: Path, dbt_vars: dict) -> None:
    duckdb_file.unlink(missing_ok=True)
    profiles = single_thread_profiles(project, duckdb_file.parent)
    logs = duckdb_file.with_suffix("")
    env = {**os.environ, "DUCKDB_PATH": str(duckdb_file), "DBT_TARGET_PATH": str(logs / "target"),
           "DBT_LOG_PATH": str(logs / "logs")}
    command = [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(project),
               "--profiles-dir", str(profiles), "--exclude", "resource_type:test", "resource_type:unit_test",
               "--vars", json.dumps({**dbt_vars, "raw_data_dir": str(raw_dir)})]
    print(f"building {project} -> {duckdb_file}", flush=True)
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"dbt build failed in {project}:\n{done.stdout[-4000:]}")


def columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> dict[str, str]:
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_catalog = ? and table_schema = 'main' and table_name = ? order by ordinal_position",
        [catalog, table]).fetchall())


def compare(base_file: Path, head_file: Path, dropped: set[str]) -> bool:
    con = duckdb.connect()
    con.execute(f"attach '{base_file}' as base (read_only)")
    con.execute(f"attach '{head_file}' as head (read_only)")
    same = True
    for table in PUBLISHED_TABLES:
        base_columns, head_columns = columns(con, "base", table), columns(con, "head", table)
        if not base_columns and head_columns:  # a table the change adds: nothing to compare it with
            rows = con.execute(f"select count(*) from head.main.{table}").fetchall()[0][0]
            print(f"new       {table}: {rows} rows, only in head")
            continue
        expected = {c: t for c, t in base_columns.items() if f"{table}.{c}" not in dropped}
        if expected != head_columns:
            print(f"DIFFERENT COLUMNS {table}: base {base_columns} head {head_columns}")
            same = False
        for column in base_columns.keys() - expected.keys():
            print(f"dropped   {table}.{column} (--dropped)")
        shared = [f'"{c}"' for c in base_columns if c in head_columns and c not in RUN_DEPENDENT_COLUMNS]
        listed = ", ".join(shared)
        counts = [con.execute(f"select count(*) from {db}.main.{table}").fetchall()[0][0] for db in ("base", "head")]
        only = [con.execute(f"select count(*) from (select {listed} from {a}.main.{table} except all "
                            f"select {listed} from {b}.main.{table})").fetchall()[0][0]
                for a, b in (("base", "head"), ("head", "base"))]
        verdict = "same" if counts[0] == counts[1] and only == [0, 0] else "DIFFERENT"
        same = same and verdict == "same"
        print(f"{verdict:9s} {table}: {counts[0]} / {counts[1]} rows, {len(shared)} columns compared, "
              f"only in base {only[0]}, only in head {only[1]}")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.compare_builds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git revision or project directory (default: main)")
    parser.add_argument("--head", type=Path, default=PROJECT_DIR, help="project directory (default: this one)")
    parser.add_argument("--raw-dir", type=Path, default=PROJECT_DIR / "data" / "sample")
    parser.add_argument("--vars", default="{}", help="extra dbt vars, JSON")
    parser.add_argument("--work", type=Path, help="folder for the two builds (default: a temporary one)")
    parser.add_argument("--dropped", action="append", default=[], metavar="TABLE.COLUMN",
                        help="a column the change removes on purpose (repeatable)")
    parser.add_argument("--reuse-base", action="store_true", help="compare with an existing <work>/base.duckdb")
    args = parser.parse_args(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="compare_builds_"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    dbt_vars = json.loads(args.vars)
    raw_dir = args.raw_dir.resolve()
    if not (args.reuse_base and (work / "base.duckdb").is_file()):
        build(checkout(args.base, work), work / "base.duckdb", raw_dir, dbt_vars)
    build(args.head.resolve(), work / "head.duckdb", raw_dir, dbt_vars)
    same = compare(work / "base.duckdb", work / "head.duckdb", set(args.dropped))
    print("every published table is the same" if same else "the builds DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
