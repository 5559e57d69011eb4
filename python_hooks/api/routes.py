"""The endpoints: each validates its parameters and asks the release for one answer (answers.py).

Parameters are bound positionally into the release's compiled queries, in the
order each query declares in its ``-- Parameters (prepared statement): $1 name,
...`` header; never pasted into SQL. The sort column is chosen inside the SQL
from a whitelist (the catalogue's range metrics).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, AsyncIterator, Literal

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Query, Request
from fastapi.responses import FileResponse, Response

from python_hooks.api import answers
from python_hooks.api.csv_answers import csv_response, file_name, model_columns
from python_hooks.api.answers import DEFAULT_SORT, DEFAULT_SPARK_METRICS, FEW, PAGE_VIEW, PARENT_LEVEL
from python_hooks.api.reader import Release, ReleaseUnavailable
from python_hooks.api.schemas import (
    CATALOGUE,
    COHORT_COLUMNS,
    RANGE_METRICS,
    Catalogue,
    CountryTotals,
    Curve,
    EntityDetail,
    EntityPage,
    EntityRow,
    Health,
    Level,
    LevelSparklines,
    LevelTotals,
    ListName,
    QualityChecks,
    Sparkline,
    UserList,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SORT_KEYS = ("name", "entity_id", *RANGE_METRICS, *COHORT_COLUMNS)
MAX_PAGE = 500
MAX_USER_PAGE = 1000
MAX_CSV_ROWS = 100_000  # page size of a CSV download (format=csv), which is one file, not a page
MAX_SPARK_DAYS = 366
COUNTRY_PATTERN = r"^[A-Z]{2}$"

api = APIRouter(prefix="/api")
page = APIRouter(include_in_schema=False)


async def current_release(request: Request) -> AsyncIterator[Release]:
    """The release of one request. On the event loop: acquiring is a readlink and a lock
    (opening a new release, once per release, is the only slow step)."""
    try:
        with request.app.state.reader.acquire() as release:
            yield release
    except ReleaseUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


# --------------------------------------------------------------------------- parameter checks


def _bad(parameter: str, message: str, status: int = 422) -> HTTPException:
    return HTTPException(status_code=status, detail=f"{parameter}: {message}")


def _check_day(release: Release, parameter: str, day: _dt.date) -> None:
    first, last = release.window
    if not first <= day <= last:
        raise _bad(parameter, f"{day} is outside the release's window {first} .. {last}")


def _check_range(release: Release, start: _dt.date | None, end: _dt.date | None) -> tuple[_dt.date, _dt.date]:
    first, last = release.window
    start = start or first
    end = end or last
    if start > end:
        raise _bad("start", f"{start} is after end {end}")
    _check_day(release, "start", start)
    _check_day(release, "end", end)
    return start, end


def _check_entity(release: Release, level: str, entity_id: str) -> None:
    if (level, entity_id) not in release.entities:
        raise _bad("entity_id", f"unknown {level} {entity_id!r}", status=404)


def _metrics(parameter: str, value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None or not value.strip():
        return default
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in RANGE_METRICS]
    if unknown:
        raise _bad(parameter, f"unknown metric {', '.join(unknown)}; one of {', '.join(RANGE_METRICS)}")
    return names


def _sparkline_args(release: Release, end: _dt.date | None, metrics: str | None) -> tuple[_dt.date, tuple[str, ...]]:
    """A sparkline's last day (default: the window's last) and its metrics (default: the overview's)."""
    last = end or release.window[1]
    _check_day(release, "end", last)
    return last, _metrics("metrics", metrics, DEFAULT_SPARK_METRICS)


def _check_parent(release: Release, level: str, parent_id: str | None) -> None:
    if parent_id is not None:
        parent_level = PARENT_LEVEL[level]
        if parent_level is None:
            raise _bad("parent_id", "a campaign has no parent")
        _check_entity(release, parent_level, parent_id)


def _date_query() -> Any:
    """A fresh Query per parameter (FastAPI binds a shared one to the first parameter's name)."""
    return Query(None, description="YYYY-MM-DD, inside the release's window (default: the window's bounds)")


def _end_query() -> Any:
    return Query(None, description="last day (default: the window's last day)")


def _format_query() -> Any:
    return Query("json", alias="format", description="json, or csv: the answer's rows as a CSV file, with the same rows and "
                                     "columns (nested objects as <object>.<field>)")


def _check_limit(limit: int, answer_format: str, most: int) -> None:
    if answer_format == "json" and limit > most:
        raise _bad("limit", f"{limit} is more than {most} (format=csv takes up to {MAX_CSV_ROWS})")


def _metrics_query() -> Any:
    return Query(None, description=f"comma-separated metric columns (default: {','.join(DEFAULT_SPARK_METRICS)})")


def _parent_query() -> Any:
    return Query(None, description="only the children of this campaign (level adset) or adset (level ad)")


# --------------------------------------------------------------------------- endpoints


@api.get("/health", response_model=Health, summary="The published release, its computed_at, window and age")
async def health(request: Request, rel: Release = Depends(current_release)) -> Health:
    info = rel.info
    computed = info.get("computed_at")
    age = None
    if computed is not None:
        aware = computed if computed.tzinfo else computed.replace(tzinfo=_dt.timezone.utc)
        age = (_dt.datetime.now(_dt.timezone.utc) - aware).total_seconds()
    reader = request.app.state.reader
    warmed, seconds = reader.warmed.get(rel.target, (None, None))
    return Health(run_id=info["run_id"], computed_at=computed, released_at=info["released_at"],
                  start_date=info["start_date"], as_of_date=info["as_of_date"],
                  trial_days=info.get("trial_days"), refund_maturity_days=info.get("refund_maturity_days"),
                  age_seconds=age, warehouse=str(reader.warehouse),
                  warm_up_answers=warmed, warm_up_seconds=seconds, sources=rel.sources)


@api.get("/quality", response_model=QualityChecks,
         summary="The data-quality checks of the published release: name, subject, severity, status, count, detail")
async def quality(rel: Release = Depends(current_release)) -> Response:
    return await rel.answer(answers.quality_checks)


@api.get("/catalogue", response_model=Catalogue,
         summary="The metric catalogue (the marts' YAML): every metric with its type and unit, and the page's view")
async def metric_catalogue() -> Catalogue:
    return Catalogue(
        metrics=[{"name": c.name, "data_type": c.data_type, "unit": c.unit, "integer": c.is_integer,
                  "range_total": c.range_total, "fed_by": list(c.fed_by)} for c in CATALOGUE.metrics()],
        range_metrics=list(RANGE_METRICS),
        curve_metrics=CATALOGUE.curve_metrics,
        page={**PAGE_VIEW, "columns": CATALOGUE.page_columns, "cohort_columns": CATALOGUE.cohort_columns,
              "curve": CATALOGUE.curve_view, "overview": CATALOGUE.overview_metrics,
              "few": FEW, "csv_rows": MAX_CSV_ROWS},
    )


@api.get("/entities", response_model=EntityPage,
         summary="The entity table: one row per entity of a level with its range totals")
async def entities(
    level: Level = Query(..., description="campaign, adset or ad"),
    start: _dt.date | None = _date_query(),
    end: _dt.date | None = _date_query(),
    parent_id: str | None = _parent_query(),
    sort: str = Query(DEFAULT_SORT, description="name, entity_id, a metric column or a cohort column "
                                                f"({', '.join(COHORT_COLUMNS)})"),
    order: Literal["asc", "desc"] = Query("desc"),
    limit: int = Query(100, ge=1, le=MAX_CSV_ROWS, description=f"page size, 1..{MAX_PAGE} (csv: ..{MAX_CSV_ROWS})"),
    offset: int = Query(0, ge=0),
    answer_format: Literal["json", "csv"] = _format_query(),
    rel: Release = Depends(current_release),
) -> Response:
    first, last = _check_range(rel, start, end)
    if sort not in SORT_KEYS:
        raise _bad("sort", f"unknown sort key {sort!r}; one of {', '.join(SORT_KEYS)}")
    _check_parent(rel, level, parent_id)
    _check_limit(limit, answer_format, MAX_PAGE)
    answer = await rel.answer(answers.entity_table, level, first, last, parent_id, sort, order, limit, offset)
    if answer_format == "csv":
        return csv_response(answer.body, lambda body: body["rows"], model_columns(EntityRow),
                            file_name(level, parent_id, first, last))
    return answer


@api.get("/entities/{level}/{entity_id}", response_model=EntityDetail,
         summary="One entity: its range totals and its day rows")
async def entity(
    level: Level = PathParam(...),
    entity_id: str = PathParam(...),
    start: _dt.date | None = _date_query(),
    end: _dt.date | None = _date_query(),
    rel: Release = Depends(current_release),
) -> Response:
    first, last = _check_range(rel, start, end)
    _check_entity(rel, level, entity_id)
    return await rel.answer(answers.entity_detail, level, entity_id, first, last)


@api.get("/entities/{level}/{entity_id}/curve", response_model=Curve,
         summary="One entity's cohort curve over the cohort dates start .. end: per horizon, the sums and the "
                 "ratio of the complete cohort dates; the payback day (docs/metrics.md §9)")
async def curve(
    level: Level = PathParam(...),
    entity_id: str = PathParam(...),
    start: _dt.date | None = _date_query(),
    end: _dt.date | None = _date_query(),
    rel: Release = Depends(current_release),
) -> Response:
    first, last = _check_range(rel, start, end)
    _check_entity(rel, level, entity_id)
    return await rel.answer(answers.entity_curve, level, entity_id, first, last)


@api.get("/entities/{level}/{entity_id}/countries", response_model=list[CountryTotals],
         summary="Overall ('ALL') then per-country totals over a range (start/end) or one day (date)")
async def countries(
    level: Level = PathParam(...),
    entity_id: str = PathParam(...),
    start: _dt.date | None = _date_query(),
    end: _dt.date | None = _date_query(),
    date: _dt.date | None = Query(None, description="one day (instead of start/end)"),
    answer_format: Literal["json", "csv"] = _format_query(),
    rel: Release = Depends(current_release),
) -> Response:
    first, last = start, end
    if date is not None:
        if start is not None or end is not None:
            raise _bad("date", "give either date or start/end, not both")
        _check_day(rel, "date", date)
        first = last = date
    first, last = _check_range(rel, first, last)
    _check_entity(rel, level, entity_id)
    answer = await rel.answer(answers.country_totals, level, entity_id, first, last)
    if answer_format == "csv":
        return csv_response(answer.body, lambda body: body, model_columns(CountryTotals),
                            file_name(level, entity_id, "countries", first, last))
    return answer


@api.get("/entities/{level}/{entity_id}/sparkline", response_model=Sparkline,
         summary="One entity's last N days ending on `end`, zero-filled (optionally one country)")
async def one_sparkline(
    level: Level = PathParam(...),
    entity_id: str = PathParam(...),
    end: _dt.date | None = _end_query(),
    days: int = Query(14, ge=1, le=MAX_SPARK_DAYS),
    metrics: str | None = _metrics_query(),
    country: str | None = Query(None, pattern=COUNTRY_PATTERN, description="ISO alpha-2 code, or ZZ"),
    rel: Release = Depends(current_release),
) -> Response:
    last, names = _sparkline_args(rel, end, metrics)
    _check_entity(rel, level, entity_id)
    return await rel.answer(answers.entity_sparkline, level, entity_id, last, days, names, country)


@api.get("/sparklines", response_model=LevelSparklines,
         summary="The row sparklines of the entity table in one request: every entity of a level "
                 "(or child of parent_id), last N days, zero-filled")
async def table_sparklines(
    level: Level = Query(..., description="campaign, adset or ad"),
    parent_id: str | None = _parent_query(),
    end: _dt.date | None = _end_query(),
    days: int = Query(14, ge=1, le=MAX_SPARK_DAYS),
    metrics: str | None = _metrics_query(),
    rel: Release = Depends(current_release),
) -> Response:
    last, names = _sparkline_args(rel, end, metrics)
    _check_parent(rel, level, parent_id)
    return await rel.answer(answers.level_sparklines, level, parent_id, last, days, names)


@api.get("/overview/{level}/sparkline", response_model=Sparkline,
         summary="Every entity of a level summed per day (§8 totals per day), last N days, zero-filled")
async def overview(
    level: Level = PathParam(...),
    end: _dt.date | None = _end_query(),
    days: int = Query(28, ge=1, le=MAX_SPARK_DAYS),
    metrics: str | None = _metrics_query(),
    rel: Release = Depends(current_release),
) -> Response:
    last, names = _sparkline_args(rel, end, metrics)
    return await rel.answer(answers.overview_sparkline, level, last, days, names)


@api.get("/overview/{level}/totals", response_model=LevelTotals,
         summary="Every entity of a level summed over a range (§8 totals), with the previous period of the "
                 "same length and each metric's change")
async def overview_totals(
    level: Level = PathParam(...),
    start: _dt.date | None = _date_query(),
    end: _dt.date | None = _date_query(),
    rel: Release = Depends(current_release),
) -> Response:
    first, last = _check_range(rel, start, end)
    return await rel.answer(answers.level_totals, level, first, last)


@api.get("/entities/{level}/{entity_id}/users", response_model=UserList,
         summary="One user list of one entity-day (optionally one country), paginated")
async def users(
    level: Level = PathParam(...),
    entity_id: str = PathParam(...),
    date: _dt.date = Query(..., description="the cohort day"),
    list_name: ListName = Query(..., alias="list", description="which list"),
    country: str | None = Query(None, pattern=COUNTRY_PATTERN, description="ISO alpha-2 code, or ZZ"),
    limit: int = Query(100, ge=1, le=MAX_CSV_ROWS,
                       description=f"page size, 1..{MAX_USER_PAGE} (csv: ..{MAX_CSV_ROWS})"),
    offset: int = Query(0, ge=0),
    answer_format: Literal["json", "csv"] = _format_query(),
    rel: Release = Depends(current_release),
) -> Response:
    _check_day(rel, "date", date)
    _check_entity(rel, level, entity_id)
    _check_limit(limit, answer_format, MAX_USER_PAGE)
    if country is None:
        answer = await rel.answer(answers.user_list, level, entity_id, date, list_name, limit, offset)
    else:
        answer = await rel.answer(answers.country_user_list, level, entity_id, date, list_name, country, limit,
                                  offset)
    if answer_format == "csv":
        return csv_response(answer.body, lambda body: [{"user_id": user} for user in body["user_ids"]],
                            ["user_id"], file_name(level, entity_id, list_name, country, date))
    return answer


@page.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")
