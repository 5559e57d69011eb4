"""The source contract (metric-contract §1) as Python reads it: from the sources YAML.

Each source table's columns and their contract types live once, in
``models/staging/<source>/_<source>__sources.yml`` (``data_type``; D21). Python
code that needs them (the importers) reads them here instead of keeping a list
of its own, so that a column added to the YAML reaches it without an edit.

    >>> tables = contract_tables()
    >>> tables["mixpanel_event"].columns[0]
    Column(name='event_uuid', data_type='varchar')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SOURCES_GLOB = "models/staging/**/_*__sources.yml"


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


def contract_tables(project_dir: Path = PROJECT_DIR) -> dict[str, SourceTable]:
    """Every source table declared in the project's sources YAML, by table name, in file order."""
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
