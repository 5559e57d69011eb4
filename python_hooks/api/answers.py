"""The answers: one function per endpoint, the JSON body of an answer built from SQL.

Each function takes arguments its endpoint has already validated, runs the
release's compiled queries (the dbt analyses ``analyses/api_*.sql`` and
``analyses/dashboard_*.sql``, which take every range formula from the
``range_totals`` macros), and shapes the rows into a response model. No metric
formula is written here. A query runs on the release's serving copy (SQLite)
when the release holds its version ``serving_<name>`` (``Release.query``);
``@serving_reads`` names the queries of an answer that may then be built on the
event loop. ``Release.answer`` keeps each body under (function, arguments), so an
endpoint and the warm-up (``default_view``) share one key for one answer.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterator

from python_hooks.api.reader import Release, serving_reads
from python_hooks.api.schemas import (
    CATALOGUE,
    COHORT_COLUMNS,
    COUNTRY_LIST,
    CURVE_METRICS,
    RANGE_METRICS,
    Curve,
    EntityDetail,
    EntityPage,
    EntityRow,
    LevelSparklines,
    LevelTotals,
    QualityChecks,
    Sparkline,
    UserList,
)

PARENT_LEVEL: dict[str, str | None] = {"campaign": None, "adset": "campaign", "ad": "adset"}
# The page's first view (python_hooks/api/static/app.js reads it from /api/catalogue):
# the last 14 days, tables of 50 rows in the catalogue's default sort, 14-day row
# sparklines and 28-day overviews of the catalogue's overview metrics.
DEFAULT_SORT, DEFAULT_ORDER = CATALOGUE.default_sort
DEFAULT_SPARK_METRICS = tuple(m["metric"] for m in CATALOGUE.overview_metrics)
PAGE_VIEW = {"range_days": 14, "overview_days": 28, "row_spark_days": 14, "page_size": 50,
             "sort": DEFAULT_SORT, "order": DEFAULT_ORDER}
# The page shows a rate's denominator beside it ("39 % of 64") when it is below this.
FEW = 100
PROVISIONAL_SUFFIX = "_provisional"  # the 0/1 column of each provisional rate (macro range_total_denominators)
# read once from the catalogue: a range answer names them on every row
DENOMINATORS = CATALOGUE.denominators
PROVISIONAL = tuple((name, name + PROVISIONAL_SUFFIX) for name in CATALOGUE.provisional_metrics)


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in RANGE_METRICS}


def _denominators(row: dict[str, Any]) -> dict[str, Any]:
    """The denominators and provisional flags of one range row, as the response models name them."""
    return {"denominators": {name: row[name] for name in DENOMINATORS},
            "provisional": {name: bool(row[flag]) for name, flag in PROVISIONAL}}


def _sparkline(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    return {"dates": [row["date"] for row in rows],
            "series": {name: [float(row[name]) for row in rows] for name in metrics}}


@serving_reads("api_entity_table")
def entity_table(rel: Release, level: str, first: _dt.date, last: _dt.date, parent_id: str | None, sort: str,
                 order: str, limit: int, offset: int) -> bytes:
    rows = rel.query("api_entity_table", entity_type=level, start_day=first, end_day=last, parent_id=parent_id,
                     sort=sort, sort_order=order, page_limit=limit, page_offset=offset)
    return EntityPage(
        level=level, start=first, end=last, parent_id=parent_id, sort=sort, order=order, limit=limit,
        offset=offset, total=rows[0]["total_rows"] if rows else 0,
        rows=[EntityRow(entity_type=row["entity_type"], entity_id=row["entity_id"], name=row["entity_name"],
                        parent_id=row["parent_id"], totals=_totals(row), **_denominators(row),
                        cohort={name: row[name] for name in COHORT_COLUMNS})
              for row in rows if row["entity_id"] is not None]).model_dump_json().encode()


@serving_reads("api_entity_range_totals", "api_entity_daily_rows")
def entity_detail(rel: Release, level: str, entity_id: str, first: _dt.date, last: _dt.date) -> bytes:
    found = rel.entities[(level, entity_id)]
    params = {"entity_type": level, "entity_id": entity_id, "start_day": first, "end_day": last}
    (totals,) = rel.query("api_entity_range_totals", **params)
    daily = rel.query("api_entity_daily_rows", **params)
    return EntityDetail(entity_type=level, entity_id=entity_id, name=found["entity_name"],
                        parent_id=found["parent_id"], start=first, end=last, totals=_totals(totals),
                        **_denominators(totals), daily=daily).model_dump_json().encode()


@serving_reads("api_entity_curve")
def entity_curve(rel: Release, level: str, entity_id: str, first: _dt.date, last: _dt.date) -> bytes:
    rows = rel.query("api_entity_curve", entity_type=level, entity_id=entity_id, start_day=first, end_day=last)
    horizons = [{"days_since_cohort": row["days_since_cohort"], **{name: row[name] for name in CURVE_METRICS},
                 "complete_cohort_days": row["complete_cohort_days"], "cohort_days": row["cohort_days"]}
                for row in rows]
    return Curve(entity_type=level, entity_id=entity_id, start=first, end=last, horizons=horizons,
                 payback_days=rows[0]["payback_days"] if rows else None).model_dump_json().encode()


@serving_reads("dashboard_overall_and_country_14_days")
def country_totals(rel: Release, level: str, entity_id: str, first: _dt.date, last: _dt.date) -> bytes:
    rows = rel.query("dashboard_overall_and_country_14_days", entity_type=level, entity_id=entity_id,
                     start_day=first, end_day=last)
    return COUNTRY_LIST.dump_json(COUNTRY_LIST.validate_python([{**row, **_denominators(row)} for row in rows]))


@serving_reads("api_level_range_totals")
def level_totals(rel: Release, level: str, first: _dt.date, last: _dt.date) -> bytes:
    """A level's totals over first..last and over the as many days before it (the previous
    period, kept only when it lies in the window), and the change of each metric."""
    previous_last = first - _dt.timedelta(days=1)
    previous_first = previous_last - (last - first)
    rows = {row["period"]: row for row in rel.query(
        "api_level_range_totals", entity_type=level, start_day=first, end_day=last,
        previous_start=previous_first, previous_end=previous_last)}
    has_previous = previous_first >= rel.window[0]

    def period(row: dict[str, Any], start: _dt.date, end: _dt.date) -> dict[str, Any]:
        return {"start": start, "end": end, "totals": _totals(row), **_denominators(row)}

    return LevelTotals(
        level=level, **period(rows["current"], first, last),
        previous=period(rows["previous"], previous_first, previous_last) if has_previous else None,
        change=_totals(rows["change"]) if has_previous else None,
    ).model_dump_json().encode()


@serving_reads("api_entity_sparkline")
def entity_sparkline(rel: Release, level: str, entity_id: str, last: _dt.date, days: int,
                     names: tuple[str, ...], country: str | None) -> bytes:
    rows = rel.query("api_entity_sparkline", columns=("date", *names), entity_type=level, entity_id=entity_id,
                     end_day=last, days=days, country=country)
    return Sparkline(entity_type=level, entity_id=entity_id, country=country, start=rows[0]["date"], end=last,
                     days=days, metrics=list(names), **_sparkline(rows, names)).model_dump_json().encode()


@serving_reads("api_level_sparklines")
def level_sparklines(rel: Release, level: str, parent_id: str | None, last: _dt.date, days: int,
                     names: tuple[str, ...]) -> bytes:
    rows = rel.query("api_level_sparklines", columns=("entity_id", "date", *names), entity_type=level,
                     parent_id=parent_id, end_day=last, days=days)
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_entity.setdefault(row["entity_id"], []).append(row)
    start = last - _dt.timedelta(days=days - 1)
    return LevelSparklines(
        entity_type=level, parent_id=parent_id, start=start, end=last, days=days, metrics=list(names),
        dates=[start + _dt.timedelta(days=i) for i in range(days)],
        series={entity_id: _sparkline(entity_rows, names)["series"] for entity_id, entity_rows in by_entity.items()},
    ).model_dump_json().encode()


@serving_reads("api_overview_sparkline")
def overview_sparkline(rel: Release, level: str, last: _dt.date, days: int, names: tuple[str, ...]) -> bytes:
    rows = rel.query("api_overview_sparkline", columns=("date", *names), entity_type=level, end_day=last,
                     days=days)
    return Sparkline(entity_type=level, entity_id=None, country=None, start=rows[0]["date"], end=last, days=days,
                     metrics=list(names), **_sparkline(rows, names)).model_dump_json().encode()


@serving_reads("api_entity_user_list")
def user_list(rel: Release, level: str, entity_id: str, day: _dt.date, list_name: str, limit: int,
              offset: int) -> bytes:
    """One overall user list (the serving copy holds them)."""
    return _user_list(rel, level, entity_id, day, list_name, None, limit, offset)


def country_user_list(rel: Release, level: str, entity_id: str, day: _dt.date, list_name: str, country: str,
                      limit: int, offset: int) -> bytes:
    """One country's user list, read from the release file (the serving copy has no country lists)."""
    return _user_list(rel, level, entity_id, day, list_name, country, limit, offset)


def _user_list(rel: Release, level: str, entity_id: str, day: _dt.date, list_name: str, country: str | None,
               limit: int, offset: int) -> bytes:
    rows = rel.query("api_entity_user_list", serving=country is None, entity_type=level, entity_id=entity_id,
                     day=day, list=list_name, country=country, page_limit=limit, page_offset=offset)
    return UserList(entity_type=level, entity_id=entity_id, date=day, country=country, list=list_name,
                    total=rows[0]["total_rows"] if rows else 0, limit=limit, offset=offset,
                    user_ids=[row["distinct_id"] for row in rows
                              if row["distinct_id"] is not None]).model_dump_json().encode()


def quality_checks(rel: Release) -> bytes:
    rows = rel.query("api_quality_checks")
    return QualityChecks(checks=[{"name": row["check_name"], "subject": row["subject"], "severity": row["severity"],
                                  "status": row["status"], "count": row["offending_count"], "detail": row["detail"]}
                                 for row in rows]).model_dump_json().encode()


def default_view(rel: Release) -> Iterator[tuple[Callable[..., bytes], tuple[Any, ...]]]:
    """The answers of the page's first view, most needed first (what the warm-up builds).

    The overviews; each table (the campaigns, then each campaign's adsets and
    each adset's ads) with its row sparklines; then every entity's country
    breakdown (a row click), detail and sparkline over the same range.
    """
    window_first, last = rel.window
    first = max(window_first, last - _dt.timedelta(days=PAGE_VIEW["range_days"] - 1))
    names = DEFAULT_SPARK_METRICS
    for level in PARENT_LEVEL:
        yield overview_sparkline, (level, last, PAGE_VIEW["overview_days"], names)
    tables: list[tuple[str, str | None]] = [("campaign", None)]
    tables += [(child, entity_id) for (level, entity_id) in sorted(rel.entities)
               for child in [c for c, parent in PARENT_LEVEL.items() if parent == level]]
    for level, parent_id in tables:
        yield entity_table, (level, first, last, parent_id, PAGE_VIEW["sort"], PAGE_VIEW["order"],
                             PAGE_VIEW["page_size"], 0)
        yield level_sparklines, (level, parent_id, last, PAGE_VIEW["row_spark_days"], names)
    for level, entity_id in rel.entities:
        yield country_totals, (level, entity_id, first, last)
    for level, entity_id in rel.entities:
        yield entity_detail, (level, entity_id, first, last)
        yield entity_sparkline, (level, entity_id, last, PAGE_VIEW["row_spark_days"], names, None)
