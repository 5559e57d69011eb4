"""The read API: FastAPI over the published release, read-only (``precompute serve``).

A thin layer (conventions, item 9). Every endpoint validates its parameters
(pydantic / FastAPI), binds them into one SQL query, and shapes the rows into a
pydantic response model. No metric formula is written here:

* The queries are the project's dbt analyses (``analyses/api_*.sql`` and
  ``analyses/dashboard_*.sql``), which take every range formula from the
  ``range_totals`` macro (metric-contract §8). ``precompute run`` compiles them
  against the build and stores the compiled SQL in the release it publishes
  (table ``precompute_queries``), so the server runs exactly the SQL compiled
  with the tables it reads (docs/decisions.md, "Read API").
* Parameters are bound positionally, in the order each query declares in its
  ``-- Parameters (prepared statement): $1 name, $2 name, ...`` header; never
  pasted into SQL. The sort column is chosen inside the SQL from a whitelist.

Releases: the published path is a symlink that ``precompute run`` swaps
atomically. On each request the server reads the link (one ``readlink``); when it
points to a new release, it opens that release file read-only and serves new
requests from it. Requests in flight keep the connection they started with; the
old connection is closed when its last request ends. Each request uses its own
cursor (DuckDB connections are not thread-safe; cursors are).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Literal

import duckdb
from fastapi import Depends, FastAPI, HTTPException, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, TypeAdapter, create_model

from python_hooks.release import METADATA_TABLE, QUERIES_TABLE

__all__ = ["create_app", "RANGE_METRICS", "ReleaseReader"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
SQL_DIR = Path(__file__).resolve().parent / "sql"

Level = Literal["campaign", "adset", "ad"]
ListName = Literal["trial", "post_trial", "converted", "trial_refund", "purchase", "purchase_refund"]
PARENT_LEVEL: dict[str, str | None] = {"campaign": None, "adset": "campaign", "ad": "adset"}

# The metrics of a range total, in the order of the macro range_total_metric_names()
# (macros/metrics/range_totals.sql), which defines them; pytests/test_api.py checks
# that the two lists agree. Here only to declare the response models.
COUNT_METRICS = (
    "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
    "purchase_refund_estimate_pair_count",
)
RANGE_METRICS = (
    "meta_spend", "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "trial_conversion_rate_estimated", "trial_conversion_rate_actual",
    "trial_refund_rate_estimated", "trial_refund_rate_actual",
    "purchase_refund_rate_estimated", "purchase_refund_rate_actual",
    "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
    "purchase_refund_estimate_pair_count",
    "actual_revenue_usd", "actual_refunds_usd", "net_actual_revenue_usd",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd",
    "profit_usd", "estimated_roas", "trial_accuracy_ratio", "purchase_accuracy_ratio",
    "mixpanel_cost_per_trial", "mixpanel_cost_per_purchase",
    "meta_cost_per_trial", "meta_cost_per_purchase", "click_to_trial_rate",
)
SORT_KEYS = ("name", "entity_id", *RANGE_METRICS)
DEFAULT_SPARK_METRICS = ("meta_spend", "mixpanel_trial_count", "adjusted_estimated_revenue_usd", "estimated_roas")
MAX_PAGE = 500
MAX_USER_PAGE = 1000
MAX_SPARK_DAYS = 366
CACHE_ENTRIES = 4096  # answers kept per release (a user list page is the largest: <= 1000 ids)
JSON = "application/json"
# DuckDB's projection_placement optimiser spends 25-35 ms on the entity table's
# query (its profiler), more than the rest of the query; without it the query
# plans 3x faster, with the same rows (docs/decisions.md D49).
READ_CONFIG = {"disabled_optimizers": "projection_placement"}

# --------------------------------------------------------------------------- response models


def _metric_fields() -> dict[str, Any]:
    return {name: (int if name in COUNT_METRICS else float,
                   Field(description=f"`{name}` over the range (metric-contract §8)"))
            for name in RANGE_METRICS}


Totals = create_model("Totals", __doc__="Every metric's total over a date range (contract §8), "
                                        "under the marts' column names.", **_metric_fields())
CountryTotals = create_model(
    "CountryTotals",
    __doc__="Overall (breakdown_type 'all', country 'ALL') or one country's totals over the range, in the "
            "spec's JSON shape, plus every metric's §8 total.",
    breakdown_type=(Literal["all", "country"], ...),
    country=(str, Field(description="'ALL', or an ISO-3166 alpha-2 code ('ZZ' = unknown)")),
    total_spend=(float, Field(description="= meta_spend")),
    total_trials=(int, Field(description="= mixpanel_trial_count")),
    total_purchases=(int, Field(description="= mixpanel_purchase_count")),
    total_revenue=(float, Field(description="= adjusted_estimated_revenue_usd")),
    **_metric_fields(),
)
DayRow = create_model(
    "DayRow",
    __doc__="One stored row of entity_daily_metrics (without the user lists).",
    date=(_dt.date, ...),
    **{name: (int if name in COUNT_METRICS else float, ...) for name in RANGE_METRICS},
    data_quality_score=(float, ...),
    computed_at=(_dt.datetime, ...),
)


COUNTRY_LIST = TypeAdapter(list[CountryTotals])  # type: ignore[valid-type]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    run_id: str = Field(description="the published release")
    computed_at: _dt.datetime | None
    released_at: _dt.datetime
    start_date: _dt.date = Field(description="first day of the release's window")
    as_of_date: _dt.date = Field(description="last day of the release's window")
    trial_days: int | None
    age_seconds: float | None = Field(description="seconds since computed_at")
    warm_up_answers: int | None = Field(
        None, description="answers of the page's first view built in the background when this server opened "
                          "the release (None: still running or off; -1: failed)")
    warm_up_seconds: float | None = Field(None, description="how long that warm-up took")
    warehouse: str = Field(description="the published path this server reads")


class EntityRow(BaseModel):
    entity_type: Level
    entity_id: str
    name: str = Field(description="display name (id_name_mapping), otherwise the id")
    parent_id: str | None = Field(description="the adset of an ad, the campaign of an adset")
    totals: Totals  # type: ignore[valid-type]


class EntityPage(BaseModel):
    level: Level
    start: _dt.date
    end: _dt.date
    parent_id: str | None
    sort: str
    order: Literal["asc", "desc"]
    limit: int
    offset: int
    total: int = Field(description="entities that match, before pagination")
    rows: list[EntityRow]


class EntityDetail(BaseModel):
    entity_type: Level
    entity_id: str
    name: str
    parent_id: str | None
    start: _dt.date
    end: _dt.date
    totals: Totals  # type: ignore[valid-type]
    daily: list[DayRow]  # type: ignore[valid-type]


class Sparkline(BaseModel):
    entity_type: Level
    entity_id: str | None = Field(description="None for a level overview")
    country: str | None
    start: _dt.date
    end: _dt.date
    days: int
    metrics: list[str]
    dates: list[_dt.date] = Field(description="every day from start to end, zero-filled")
    series: dict[str, list[float]] = Field(description="metric -> one value per date")


class LevelSparklines(BaseModel):
    entity_type: Level
    parent_id: str | None
    start: _dt.date
    end: _dt.date
    days: int
    metrics: list[str]
    dates: list[_dt.date] = Field(description="every day from start to end, zero-filled")
    series: dict[str, dict[str, list[float]]] = Field(
        description="entity_id -> metric -> one value per date, for every entity of the level (or child "
                    "of parent_id); the same values as each entity's /sparkline")


class UserList(BaseModel):
    entity_type: Level
    entity_id: str
    date: _dt.date
    country: str | None
    list: ListName
    total: int = Field(description="length of the whole list")
    limit: int
    offset: int
    user_ids: list[str]


# --------------------------------------------------------------------------- releases

_PARAMETERS = re.compile(r"^--\s*Parameters \(prepared statement\):(.*)$", re.MULTILINE)
_PARAMETER = re.compile(r"\$(\d+) (\w+)")


def parameter_order(sql: str) -> list[str]:
    """The parameter names of a query, by position, from its ``-- Parameters`` header."""
    match = _PARAMETERS.search(sql)
    if not match:
        return []
    pairs = [(int(pos), name) for pos, name in _PARAMETER.findall(match.group(1))]
    if [pos for pos, _ in pairs] != list(range(1, len(pairs) + 1)):
        raise ValueError(f"parameters not numbered $1..$n: {match.group(0)}")
    return [name for _, name in pairs]


class ReleaseUnavailable(RuntimeError):
    pass


@dataclass
class Release:
    """One opened release file: its read-only connection, queries, metadata and kept answers."""

    target: str
    con: duckdb.DuckDBPyConnection
    queries: dict[str, tuple[str, list[str]]]
    info: dict[str, Any]
    # (entity_type, entity_id) -> the entity's row of entity_names, read once per
    # release (query api_entity_names): every request checks its entity here.
    entities: dict[tuple[str, str], dict[str, Any]]
    in_flight: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A release never changes, so an answer (the response body, keyed by the
    # answer's function and its validated arguments) can be kept for as long as
    # the release is served (bounded, least recently used first out; D42, D50).
    cache: "OrderedDict[tuple[Any, ...], bytes]" = field(default_factory=OrderedDict)

    def _kept(self, key: tuple[Any, ...]) -> bytes | None:
        with self.lock:
            body = self.cache.get(key)
            if body is not None:
                self.cache.move_to_end(key)
            return body

    def _build(self, key: tuple[Any, ...], body: Callable[..., bytes], args: tuple[Any, ...]) -> bytes:
        data = body(self, *args)
        with self.lock:
            self.cache[key] = data
            if len(self.cache) > CACHE_ENTRIES:
                self.cache.popitem(last=False)
        return data

    async def answer(self, body: Callable[..., bytes], *args: Any) -> Response:
        """``body(self, *args)``, the JSON of one answer: kept, or built and kept (errors are not kept).

        A kept answer is returned on the event loop, without a thread hop; a new
        one is built in the thread pool (its queries block), so the loop keeps
        answering kept ones meanwhile (docs/decisions.md D50).
        """
        key = (body.__name__, *args)
        data = self._kept(key)
        if data is None:
            data = await run_in_threadpool(self._build, key, body, args)
        return Response(content=data, media_type=JSON)

    def warm(self, asks: Iterable[tuple[Callable[..., bytes], tuple[Any, ...]]], limit: int) -> int:
        """Build and keep up to ``limit`` answers not kept yet; stops when the release is retired."""
        built = 0
        for body, args in asks:
            if self.retired or built >= limit:
                break
            key = (body.__name__, *args)
            if self._kept(key) is None:
                self._build(key, body, args)
                built += 1
        return built

    def enter(self) -> None:
        """Count one more user of the connection (under the reader's lock, before it can retire)."""
        with self.lock:
            self.in_flight += 1

    def leave(self) -> None:
        """One user fewer; the last user of a retired release closes its connection."""
        with self.lock:
            self.in_flight -= 1
            if self.retired and self.in_flight == 0:
                self.con.close()

    def retire(self) -> None:
        with self.lock:
            self.retired = True
            if self.in_flight == 0:
                self.con.close()

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        if name not in self.queries:
            raise ReleaseUnavailable(f"the published release has no query {name!r}; publish a new release "
                                     "with `precompute run`")
        sql, order = self.queries[name]
        missing = [p for p in order if p not in params]
        if missing:
            raise KeyError(f"query {name} needs parameters {missing}")
        cursor = self.con.cursor()
        try:
            result = cursor.execute(sql, [params[p] for p in order])
            names = [column[0] for column in result.description]
            return [dict(zip(names, row)) for row in result.fetchall()]
        finally:
            cursor.close()


def _read_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


class ReleaseReader:
    """Serves requests from the release the published path points to, switching without a restart.

    ``warm``: after opening a release, answer its default view (``default_view``)
    in a background thread, so that the page's first load finds its answers kept.
    """

    def __init__(self, warehouse: Path, warm: bool = True):
        self.warehouse = Path(warehouse)
        self.warm = warm
        self._lock = threading.Lock()
        self._current: Release | None = None
        # release target -> (answers its warm-up built, seconds it took; -1 answers: it failed)
        self.warmed: dict[str, tuple[int, float]] = {}

    def _target(self) -> str:
        """The file the published path resolves to now (a release; or a plain file)."""
        try:
            if self.warehouse.is_symlink():
                target = os.readlink(self.warehouse)
                return os.path.normpath(os.path.join(self.warehouse.parent, target))
        except OSError as exc:
            raise ReleaseUnavailable(f"cannot read the published path {self.warehouse}: {exc}") from None
        if self.warehouse.is_file():
            stat = self.warehouse.stat()
            return f"{self.warehouse}@{stat.st_ino}:{stat.st_mtime_ns}"
        raise ReleaseUnavailable(f"nothing is published at {self.warehouse}; run `precompute run`")

    def _open(self, target: str) -> Release:
        path = target.split("@", 1)[0]
        try:
            con = duckdb.connect(path, read_only=True, config=READ_CONFIG)
        except duckdb.Error as exc:
            raise ReleaseUnavailable(f"cannot open the release {path}: {exc}") from None
        try:
            tables = {name for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
            if QUERIES_TABLE not in tables or METADATA_TABLE not in tables:
                raise ReleaseUnavailable(
                    f"the release {path} has no {QUERIES_TABLE} table (published before the read API); "
                    "publish a new release with `precompute run`")
            queries = {name: (sql, parameter_order(sql))
                       for name, sql in con.execute(_read_sql("release_queries")).fetchall()}
            cursor = con.execute(_read_sql("release_info"))
            names = [column[0] for column in cursor.description]
            row = cursor.fetchone()
            if row is None:
                raise ReleaseUnavailable(f"the release {path} has no {METADATA_TABLE} row")
            info = dict(zip(names, row))
            release = Release(target=target, con=con, queries=queries, info=info, entities={})
            release.entities = {(row["entity_type"], row["entity_id"]): row
                                for row in release.query("api_entity_names")}
        except BaseException:
            con.close()
            raise
        return release

    def _warm_up(self, release: Release) -> None:
        """The background warm-up of one release, at the lowest CPU priority (Linux: per thread)."""
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        began = time.perf_counter()
        try:
            built = release.warm(default_view(release), limit=CACHE_ENTRIES // 2)
            self.warmed[release.target] = (built, time.perf_counter() - began)
        except Exception as exc:  # a failed warm-up only costs speed: requests build their answers
            self.warmed[release.target] = (-1, time.perf_counter() - began)
            print(f"precompute serve: warming {release.target} failed: {exc}", file=sys.stderr)
        finally:
            release.leave()

    @contextmanager
    def acquire(self) -> Iterator[Release]:
        """The current release for one request; reopened when the published path moved."""
        target = self._target()
        with self._lock:
            current = self._current
            if current is None or current.target != target:
                fresh = self._open(target)
                if current is not None:
                    current.retire()
                self._current = current = fresh
                if self.warm:
                    fresh.enter()  # the warm-up's use, left when it ends
                    threading.Thread(target=self._warm_up, args=(fresh,), name="warm-up", daemon=True).start()
            current.enter()
        try:
            yield current
        finally:
            current.leave()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retire()
                self._current = None


# --------------------------------------------------------------------------- parameter checks


def _bad(parameter: str, message: str, status: int = 422) -> HTTPException:
    return HTTPException(status_code=status, detail=f"{parameter}: {message}")


def _window(release: Release) -> tuple[_dt.date, _dt.date]:
    return release.info["start_date"], release.info["as_of_date"]


def _check_day(release: Release, parameter: str, day: _dt.date) -> None:
    first, last = _window(release)
    if not first <= day <= last:
        raise _bad(parameter, f"{day} is outside the release's window {first} .. {last}")


def _check_range(release: Release, start: _dt.date | None, end: _dt.date | None) -> tuple[_dt.date, _dt.date]:
    first, last = _window(release)
    start = start or first
    end = end or last
    if start > end:
        raise _bad("start", f"{start} is after end {end}")
    _check_day(release, "start", start)
    _check_day(release, "end", end)
    return start, end


def _entity(release: Release, level: str, entity_id: str) -> dict[str, Any]:
    found = release.entities.get((level, entity_id))
    if found is None:
        raise _bad("entity_id", f"unknown {level} {entity_id!r}", status=404)
    return found


def _metrics(parameter: str, value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None or not value.strip():
        return default
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in RANGE_METRICS]
    if unknown:
        raise _bad(parameter, f"unknown metric {', '.join(unknown)}; one of {', '.join(RANGE_METRICS)}")
    return names


def _sparkline_args(release: Release, end: _dt.date | None, metrics: str | None) -> tuple[_dt.date, tuple[str, ...]]:
    """A sparkline's last day (default: the window's last) and its metrics (default: DEFAULT_SPARK_METRICS)."""
    last = end or _window(release)[1]
    _check_day(release, "end", last)
    return last, _metrics("metrics", metrics, DEFAULT_SPARK_METRICS)


def _check_parent(release: Release, level: str, parent_id: str | None) -> None:
    if parent_id is not None:
        parent_level = PARENT_LEVEL[level]
        if parent_level is None:
            raise _bad("parent_id", "a campaign has no parent")
        _entity(release, parent_level, parent_id)


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in RANGE_METRICS}


def _sparkline(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    return {"dates": [row["date"] for row in rows],
            "series": {name: [float(row[name]) for row in rows] for name in metrics}}


COUNTRY_PATTERN = r"^[A-Z]{2}$"


# --------------------------------------------------------------------------- answers
# One function per endpoint: the JSON body of an answer, from arguments the
# endpoint has already validated. Release.answer keeps each body under
# (function, arguments), so the endpoint and the warm-up (default_view) share
# one key for one answer.


def entity_table(rel: Release, level: str, first: _dt.date, last: _dt.date, parent_id: str | None, sort: str,
                 order: str, limit: int, offset: int) -> bytes:
    rows = rel.query("api_entity_table", entity_type=level, start_day=first, end_day=last, parent_id=parent_id,
                     sort=sort, sort_order=order, page_limit=limit, page_offset=offset)
    return EntityPage(
        level=level, start=first, end=last, parent_id=parent_id, sort=sort, order=order, limit=limit,
        offset=offset, total=rows[0]["total_rows"] if rows else 0,
        rows=[EntityRow(entity_type=row["entity_type"], entity_id=row["entity_id"], name=row["entity_name"],
                        parent_id=row["parent_id"], totals=_totals(row))
              for row in rows if row["entity_id"] is not None]).model_dump_json().encode()


def entity_detail(rel: Release, level: str, entity_id: str, first: _dt.date, last: _dt.date) -> bytes:
    found = _entity(rel, level, entity_id)
    params = {"entity_type": level, "entity_id": entity_id, "start_day": first, "end_day": last}
    (totals,) = rel.query("dashboard_date_range_totals", **params)
    daily = rel.query("api_entity_daily_rows", **params)
    return EntityDetail(entity_type=level, entity_id=entity_id, name=found["entity_name"],
                        parent_id=found["parent_id"], start=first, end=last, totals=_totals(totals),
                        daily=daily).model_dump_json().encode()


def country_totals(rel: Release, level: str, entity_id: str, first: _dt.date, last: _dt.date) -> bytes:
    rows = rel.query("dashboard_overall_and_country_14_days", entity_type=level, entity_id=entity_id,
                     start_day=first, end_day=last)
    return COUNTRY_LIST.dump_json(COUNTRY_LIST.validate_python(rows))


def entity_sparkline(rel: Release, level: str, entity_id: str, last: _dt.date, days: int,
                     names: tuple[str, ...], country: str | None) -> bytes:
    rows = rel.query("api_entity_sparkline", entity_type=level, entity_id=entity_id, end_day=last, days=days,
                     country=country)
    return Sparkline(entity_type=level, entity_id=entity_id, country=country, start=rows[0]["date"], end=last,
                     days=days, metrics=list(names), **_sparkline(rows, names)).model_dump_json().encode()


def level_sparklines(rel: Release, level: str, parent_id: str | None, last: _dt.date, days: int,
                     names: tuple[str, ...]) -> bytes:
    rows = rel.query("api_level_sparklines", entity_type=level, parent_id=parent_id, end_day=last, days=days)
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_entity.setdefault(row["entity_id"], []).append(row)
    start = last - _dt.timedelta(days=days - 1)
    return LevelSparklines(
        entity_type=level, parent_id=parent_id, start=start, end=last, days=days, metrics=list(names),
        dates=[start + _dt.timedelta(days=i) for i in range(days)],
        series={entity_id: _sparkline(entity_rows, names)["series"] for entity_id, entity_rows in by_entity.items()},
    ).model_dump_json().encode()


def overview_sparkline(rel: Release, level: str, last: _dt.date, days: int, names: tuple[str, ...]) -> bytes:
    rows = rel.query("api_overview_sparkline", entity_type=level, end_day=last, days=days)
    return Sparkline(entity_type=level, entity_id=None, country=None, start=rows[0]["date"], end=last, days=days,
                     metrics=list(names), **_sparkline(rows, names)).model_dump_json().encode()


def user_list(rel: Release, level: str, entity_id: str, day: _dt.date, list_name: str, country: str | None,
              limit: int, offset: int) -> bytes:
    rows = rel.query("api_entity_user_list", entity_type=level, entity_id=entity_id, day=day, list=list_name,
                     country=country, page_limit=limit, page_offset=offset)
    return UserList(entity_type=level, entity_id=entity_id, date=day, country=country, list=list_name,
                    total=rows[0]["total_rows"] if rows else 0, limit=limit, offset=offset,
                    user_ids=[row["distinct_id"] for row in rows
                              if row["distinct_id"] is not None]).model_dump_json().encode()


# The page's first view (python_hooks/static/app.js; pytests/test_api.py checks
# that the page's constants agree): the last 14 days, tables of 50 rows by spend,
# 14-day row sparklines and 28-day overviews of DEFAULT_SPARK_METRICS.
PAGE_VIEW = {"range_days": 14, "overview_days": 28, "row_spark_days": 14, "page_size": 50,
             "sort": "meta_spend", "order": "desc"}


def default_view(rel: Release) -> Iterator[tuple[Callable[..., bytes], tuple[Any, ...]]]:
    """The answers of the page's first view, most needed first (what the warm-up builds, D50).

    The overviews; each table (the campaigns, then each campaign's adsets and
    each adset's ads) with its row sparklines; then every entity's country
    breakdown (a row click), detail and sparkline over the same range.
    """
    window_first, last = _window(rel)
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


# --------------------------------------------------------------------------- app


def _date_query() -> Any:
    """A fresh Query per parameter (FastAPI binds a shared one to the first parameter's name)."""
    return Query(None, description="YYYY-MM-DD, inside the release's window (default: the window's bounds)")


def _end_query() -> Any:
    return Query(None, description="last day (default: the window's last day)")


def _metrics_query() -> Any:
    return Query(None, description=f"comma-separated metric columns (default: {','.join(DEFAULT_SPARK_METRICS)})")


def _parent_query() -> Any:
    return Query(None, description="only the children of this campaign (level adset) or adset (level ad)")


def create_app(warehouse: Path, warm: bool = True) -> FastAPI:
    """The read API over the release published at ``warehouse`` (a symlink swapped by ``precompute run``).

    ``warm``: build each new release's default view in the background (D50).
    """
    reader = ReleaseReader(Path(warehouse), warm=warm)
    app = FastAPI(
        title="ad-precompute read API",
        description="Pre-computed ad dashboard metrics of the published release (metric-contract §5, §8). "
                    "Metric fields carry the marts' column names; range totals follow contract §8.",
        version="1",
    )
    app.state.reader = reader

    async def release() -> AsyncIterator[Release]:
        # On the event loop: acquiring is a readlink and a lock (opening a new
        # release, once per release, is the only slow step).
        try:
            with reader.acquire() as current:
                yield current
        except ReleaseUnavailable as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None

    @app.get("/api/health", response_model=Health, summary="The published release, its computed_at, "
             "window and age")
    async def health(rel: Release = Depends(release)) -> Health:
        info = rel.info
        computed = info.get("computed_at")
        age = None
        if computed is not None:
            aware = computed if computed.tzinfo else computed.replace(tzinfo=_dt.timezone.utc)
            age = (_dt.datetime.now(_dt.timezone.utc) - aware).total_seconds()
        answers, seconds = reader.warmed.get(rel.target, (None, None))
        return Health(run_id=info["run_id"], computed_at=computed, released_at=info["released_at"],
                      start_date=info["start_date"], as_of_date=info["as_of_date"],
                      trial_days=info.get("trial_days"), age_seconds=age, warehouse=str(reader.warehouse),
                      warm_up_answers=answers, warm_up_seconds=seconds)

    @app.get("/api/entities", response_model=EntityPage,
             summary="The entity table: one row per entity of a level with its range totals")
    async def entities(
        level: Level = Query(..., description="campaign, adset or ad"),
        start: _dt.date | None = _date_query(),
        end: _dt.date | None = _date_query(),
        parent_id: str | None = _parent_query(),
        sort: str = Query("meta_spend", description="name, entity_id or a metric column"),
        order: Literal["asc", "desc"] = Query("desc"),
        limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"page size, 1..{MAX_PAGE}"),
        offset: int = Query(0, ge=0),
        rel: Release = Depends(release),
    ) -> Response:
        first, last = _check_range(rel, start, end)
        if sort not in SORT_KEYS:
            raise _bad("sort", f"unknown sort key {sort!r}; one of {', '.join(SORT_KEYS)}")
        _check_parent(rel, level, parent_id)
        return await rel.answer(entity_table, level, first, last, parent_id, sort, order, limit, offset)

    @app.get("/api/entities/{level}/{entity_id}", response_model=EntityDetail,
             summary="One entity: its range totals and its day rows")
    async def entity(
        level: Level = PathParam(...),
        entity_id: str = PathParam(...),
        start: _dt.date | None = _date_query(),
        end: _dt.date | None = _date_query(),
        rel: Release = Depends(release),
    ) -> Response:
        first, last = _check_range(rel, start, end)
        _entity(rel, level, entity_id)
        return await rel.answer(entity_detail, level, entity_id, first, last)

    @app.get("/api/entities/{level}/{entity_id}/countries", response_model=list[CountryTotals],
             summary="Overall ('ALL') then per-country totals over a range (start/end) or one day (date)")
    async def countries(
        level: Level = PathParam(...),
        entity_id: str = PathParam(...),
        start: _dt.date | None = _date_query(),
        end: _dt.date | None = _date_query(),
        date: _dt.date | None = Query(None, description="one day (instead of start/end)"),
        rel: Release = Depends(release),
    ) -> Response:
        first, last = start, end
        if date is not None:
            if start is not None or end is not None:
                raise _bad("date", "give either date or start/end, not both")
            _check_day(rel, "date", date)
            first = last = date
        first, last = _check_range(rel, first, last)
        _entity(rel, level, entity_id)
        return await rel.answer(country_totals, level, entity_id, first, last)

    @app.get("/api/entities/{level}/{entity_id}/sparkline", response_model=Sparkline,
             summary="One entity's last N days ending on `end`, zero-filled (optionally one country)")
    async def one_sparkline(
        level: Level = PathParam(...),
        entity_id: str = PathParam(...),
        end: _dt.date | None = _end_query(),
        days: int = Query(14, ge=1, le=MAX_SPARK_DAYS),
        metrics: str | None = _metrics_query(),
        country: str | None = Query(None, pattern=COUNTRY_PATTERN, description="ISO alpha-2 code, or ZZ"),
        rel: Release = Depends(release),
    ) -> Response:
        last, names = _sparkline_args(rel, end, metrics)
        _entity(rel, level, entity_id)
        return await rel.answer(entity_sparkline, level, entity_id, last, days, names, country)

    @app.get("/api/sparklines", response_model=LevelSparklines,
             summary="The row sparklines of the entity table in one request: every entity of a level "
                     "(or child of parent_id), last N days, zero-filled")
    async def table_sparklines(
        level: Level = Query(..., description="campaign, adset or ad"),
        parent_id: str | None = _parent_query(),
        end: _dt.date | None = _end_query(),
        days: int = Query(14, ge=1, le=MAX_SPARK_DAYS),
        metrics: str | None = _metrics_query(),
        rel: Release = Depends(release),
    ) -> Response:
        last, names = _sparkline_args(rel, end, metrics)
        _check_parent(rel, level, parent_id)
        return await rel.answer(level_sparklines, level, parent_id, last, days, names)

    @app.get("/api/overview/{level}/sparkline", response_model=Sparkline,
             summary="Every entity of a level summed per day (§8 totals per day), last N days, zero-filled")
    async def overview(
        level: Level = PathParam(...),
        end: _dt.date | None = _end_query(),
        days: int = Query(28, ge=1, le=MAX_SPARK_DAYS),
        metrics: str | None = _metrics_query(),
        rel: Release = Depends(release),
    ) -> Response:
        last, names = _sparkline_args(rel, end, metrics)
        return await rel.answer(overview_sparkline, level, last, days, names)

    @app.get("/api/entities/{level}/{entity_id}/users", response_model=UserList,
             summary="One user list of one entity-day (optionally one country), paginated")
    async def users(
        level: Level = PathParam(...),
        entity_id: str = PathParam(...),
        date: _dt.date = Query(..., description="the cohort day"),
        list_name: ListName = Query(..., alias="list", description="which list"),
        country: str | None = Query(None, pattern=COUNTRY_PATTERN, description="ISO alpha-2 code, or ZZ"),
        limit: int = Query(100, ge=1, le=MAX_USER_PAGE, description=f"page size, 1..{MAX_USER_PAGE}"),
        offset: int = Query(0, ge=0),
        rel: Release = Depends(release),
    ) -> Response:
        _check_day(rel, "date", date)
        _entity(rel, level, entity_id)
        return await rel.answer(user_list, level, entity_id, date, list_name, country, limit, offset)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.router.on_shutdown.append(reader.close)
    return app


def serve(warehouse: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API under uvicorn (``precompute serve``); httptools and uvloop when installed (D50)."""
    import uvicorn

    uvicorn.run(create_app(warehouse), host=host, port=port, log_level="info")
