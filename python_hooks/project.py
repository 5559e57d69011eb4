"""What the package's modules share: where the project is, its levels, its paths
and its source tables.

The source tables, their columns and their contract types are read from the
dbt sources YAML (``models/staging/*/_*__sources.yml``), the one place they are
written. The paths follow one rule each; the raw data directory, for example, is
``--raw-dir`` (or dbt var ``raw_data_dir``), else ``$RAW_DATA_DIR``, else the
bundled sample: the rule of ``dbt_project.yml`` (``sources: +external_location``),
which ``precompute run`` always feeds an absolute directory.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
LEVELS = ("campaign", "adset", "ad")
SAMPLE_DIR = PROJECT_DIR / "data" / "sample"
SOURCES_GLOB = "models/staging/**/_*__sources.yml"
COUNTRY_MAPPING_CSV = PROJECT_DIR / "seeds" / "breakdown_mapping_country.csv"
DEFAULT_WAREHOUSE = Path("warehouse") / "ad_precompute.duckdb"


def absolute(path: str | os.PathLike[str]) -> Path:
    """Absolute path, relative ones resolved against the current directory (symlinks kept)."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def resolve_raw_dir(arg: str | os.PathLike[str] | None = None, project_dir: Path = PROJECT_DIR) -> Path:
    """The directory of the source Parquet files: ``arg`` > ``$RAW_DATA_DIR`` > the bundled sample."""
    if arg:
        return absolute(arg)
    if os.environ.get("RAW_DATA_DIR"):
        return absolute(os.environ["RAW_DATA_DIR"])
    return project_dir / "data" / "sample"


def resolve_warehouse(arg: str | os.PathLike[str] | None = None, project_dir: Path = PROJECT_DIR) -> Path:
    """The published path: ``arg`` > ``$PRECOMPUTE_WAREHOUSE`` > the project's default.

    Deliberately not ``$DUCKDB_PATH``: that is the file a plain ``dbt build`` writes,
    and dbt must never write into a published release.
    """
    if arg:
        return absolute(arg)
    if os.environ.get("PRECOMPUTE_WAREHOUSE"):
        return absolute(os.environ["PRECOMPUTE_WAREHOUSE"])
    return project_dir / DEFAULT_WAREHOUSE


def resolve_target_dir(project_dir: Path = PROJECT_DIR) -> Path:
    """dbt's target path: $DBT_TARGET_PATH (relative = to the project dir) or <project>/target."""
    env = os.environ.get("DBT_TARGET_PATH")
    if env:
        path = Path(os.path.expanduser(env))
        return path if path.is_absolute() else project_dir / path
    return project_dir / "target"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # the contract type, lower case: varchar, bigint, double, date, timestamp, boolean


@dataclass(frozen=True)
class SourceTable:
    source_name: str  # the dbt source (meta_ads, mixpanel, ...)
    name: str  # the table, also the file name <name>.parquet
    columns: tuple[Column, ...]
    optional: bool  # `config: meta: {optional: true}`: an absent file reads as no rows

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@functools.cache
def contract_tables(project_dir: Path = PROJECT_DIR) -> dict[str, SourceTable]:
    """Every source table declared in the project's sources YAML (the one list of the source
    contract), by table name, in file order; optional tables included."""
    tables: dict[str, SourceTable] = {}
    files = sorted(project_dir.glob(SOURCES_GLOB))
    if not files:
        raise FileNotFoundError(f"no sources YAML ({SOURCES_GLOB}) under {project_dir}")
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in document.get("sources") or []:
            for table in source.get("tables") or []:
                meta = ((table.get("config") or {}).get("meta") or table.get("meta") or {})
                columns = []
                for column in table.get("columns") or []:
                    if not column.get("data_type"):
                        raise ValueError(f"{path}: column {table['name']}.{column['name']} has no data_type")
                    columns.append(Column(column["name"], str(column["data_type"]).strip().lower()))
                if table["name"] in tables:
                    raise ValueError(f"{path}: source table {table['name']!r} is declared twice")
                tables[table["name"]] = SourceTable(source["name"], table["name"], tuple(columns),
                                                    bool(meta.get("optional", False)))
    return tables


def source_tables(project_dir: Path = PROJECT_DIR) -> dict[str, dict[str, str]]:
    """The required source tables: {table: {column: contract type}}, in YAML order.

    Optional tables (``config: meta: {optional: true}``: ``id_name_mapping``, the run's own
    country mapping, the importer's rejects) are left out: no metric reads them.
    """
    return {name: {c.name: c.data_type for c in table.columns}
            for name, table in contract_tables(project_dir).items() if not table.optional}
