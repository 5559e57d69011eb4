"""The read API's response models (pydantic). Metric fields come from the metric catalogue."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, create_model

from python_hooks.catalogue import catalogue

Level = Literal["campaign", "adset", "ad"]
ListName = Literal["trial", "post_trial", "converted", "trial_refund", "purchase", "purchase_refund"]

CATALOGUE = catalogue()
RANGE_METRICS = CATALOGUE.range_metrics
CURVE_METRICS = tuple(m["name"] for m in CATALOGUE.curve_metrics)
COHORT_COLUMNS = tuple(c["name"] for c in CATALOGUE.cohort_columns)


def _number(name: str) -> type:
    return int if name in CATALOGUE.integer_metrics else float


def _sums() -> set[str]:
    """The curve columns whose range total is their sum."""
    return {c.name for c in CATALOGUE.curves if c.curve_total == "sum"}


def _range_fields() -> dict[str, Any]:
    return {name: (_number(name), Field(description=f"`{name}` over the range (docs/metrics.md §8)"))
            for name in RANGE_METRICS}


Denominators = create_model(
    "Denominators",
    __doc__="The counts the range's rates divide by (docs/metrics.md §8), each under its own name: "
            "post-trial and converted users, purchases, the estimate pair counts, Meta trials and purchases. "
            "A rate whose denominator is 0 has no value yet (it is stored as 0).",
    **{name: (int, Field(description=f"`{name}` over the range")) for name in CATALOGUE.denominators},
)
Provisional = create_model(
    "Provisional",
    __doc__="Per refund rate: true when more than half of its denominator's users have a cohort day "
            "later than as_of_date - refund_maturity_days (docs/metrics.md §8): refunds may still come.",
    **{name: (bool, Field(description=f"`{name}` is provisional")) for name in CATALOGUE.provisional_metrics},
)
Changes = create_model(
    "Changes",
    __doc__="Per range metric: (current - previous) / |previous|; None when the previous total is 0.",
    **{name: (float | None, Field(description=f"relative change of `{name}`")) for name in RANGE_METRICS},
)
Totals = create_model("Totals", __doc__="Every metric's total over a date range (docs/metrics.md §8), "
                                        "under the marts' column names.", **_range_fields())
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
    **_range_fields(),
    denominators=(Denominators, ...),
    provisional=(Provisional, ...),
)
DayRow = create_model(
    "DayRow",
    __doc__="One stored row of entity_daily_metrics (without the user lists).",
    date=(_dt.date, ...),
    **{column.name: (_number(column.name), ...) for column in CATALOGUE.metrics()},
    computed_at=(_dt.datetime, ...),
)
COUNTRY_LIST = TypeAdapter(list[CountryTotals])  # type: ignore[valid-type]
CohortTotals = create_model(
    "CohortTotals",
    __doc__="The row's cohort curve over the range's cohort dates (docs/metrics.md §9): the ratio at the "
            "table's horizons (NULL when no cohort date of the range is complete for N, or N is not a "
            "horizon of the run) and the payback day (NULL: none).",
    **{c["name"]: ((int if c["horizon"] is None else float) | None,
                   Field(description=f"{c['label']}: " + ("the smallest horizon whose range ratio is at least 1"
                                                          if c["horizon"] is None else
                                                          f"the range's ratio at horizon {c['horizon']}")))
       for c in CATALOGUE.cohort_columns},
)
CurveHorizon = create_model(
    "CurveHorizon",
    __doc__="One horizon N of a cohort curve over a range of cohort dates (docs/metrics.md §9): the sums "
            "over the cohort dates complete for N, and their ratio.",
    days_since_cohort=(int, Field(description="the horizon N, in days")),
    **{m["name"]: (float | None if m["name"] not in _sums() else float,
                   Field(description=f"`{m['name']}` over the cohort dates complete for N"
                                     + ("" if m["name"] in _sums() else
                                        " (NULL when none is complete; 0 when their spend is 0)")))
       for m in CATALOGUE.curve_metrics},
    complete_cohort_days=(int, Field(description="cohort dates of the range complete for N (D + N <= as_of_date)")),
    cohort_days=(int, Field(description="cohort dates of the range")),
)


class SourceFreshness(BaseModel):
    system: Literal["meta", "mixpanel"] = Field(description="the system the table comes from")
    rows: int = Field(description="rows the source table delivered, rejected ones included")
    first_date: _dt.date | None = Field(description="its first day (`date` of a Meta table, UTC date of an "
                                                    "event's event_time); None for a table without a date")
    last_date: _dt.date | None = Field(description="its last day: the days after it are incomplete for the "
                                                   "metrics the table feeds")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    run_id: str = Field(description="the published release")
    computed_at: _dt.datetime | None
    released_at: _dt.datetime
    start_date: _dt.date = Field(description="first day of the release's window")
    as_of_date: _dt.date = Field(description="last day of the release's window")
    trial_days: int | None
    refund_maturity_days: int | None = Field(
        None, description="a refund rate is provisional while most of its users' cohorts are younger")
    age_seconds: float | None = Field(description="seconds since computed_at")
    warm_up_answers: int | None = Field(
        None, description="answers of the page's first view built in the background when this server opened "
                          "the release (None: still running or off; -1: failed)")
    warm_up_seconds: float | None = Field(None, description="how long that warm-up took")
    warehouse: str = Field(description="the published path this server reads")
    sources: dict[str, SourceFreshness] = Field(
        default_factory=dict, description="each source table of the release: its rows, first and last date "
                                          "(empty for a release made before they were recorded)")


class QualityCheck(BaseModel):
    name: str = Field(description="the check: source_freshness, rejected_rows, pairs_without_metrics, "
                                  "unmapped_country_spend, spend_without_mixpanel_users, event_volume_drop")
    subject: str | None = Field(description="what the row is about (rejected_rows: `<source_table>: <reason>`); "
                                            "None: the release as a whole")
    severity: Literal["warn"] = Field(description="a check never blocks a release")
    status: Literal["pass", "warn"]
    count: int = Field(description="the offending keys (rows, pairs, labels, ads, sources or days)")
    detail: str = Field(description="the numbers and the threshold, in words")


class QualityChecks(BaseModel):
    """The data-quality checks of the published release (docs/operations.md, "Data-quality checks")."""

    checks: list[QualityCheck] = Field(description="warnings first, then by name and subject")


class EntityRow(BaseModel):
    entity_type: Level
    entity_id: str
    name: str = Field(description="display name (id_name_mapping), otherwise the id")
    parent_id: str | None = Field(description="the adset of an ad, the campaign of an adset")
    totals: Totals  # type: ignore[valid-type]
    denominators: Denominators  # type: ignore[valid-type]
    provisional: Provisional  # type: ignore[valid-type]
    cohort: CohortTotals  # type: ignore[valid-type]


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
    denominators: Denominators  # type: ignore[valid-type]
    provisional: Provisional  # type: ignore[valid-type]
    daily: list[DayRow]  # type: ignore[valid-type]


class PeriodTotals(BaseModel):
    start: _dt.date
    end: _dt.date
    totals: Totals  # type: ignore[valid-type]
    denominators: Denominators  # type: ignore[valid-type]
    provisional: Provisional  # type: ignore[valid-type]


class LevelTotals(PeriodTotals):
    """Every entity of a level summed over the range (the §8 totals of the level's rows), the previous
    period of the same length, and each metric's change."""

    level: Level
    previous: PeriodTotals | None = Field(
        description="the same number of days right before `start`; None when they are not all in the window")
    change: Changes | None = Field(description="None when there is no previous period")  # type: ignore[valid-type]


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


class Curve(BaseModel):
    """An entity's cohort curve over the cohort dates start .. end (docs/metrics.md §9)."""

    entity_type: Level
    entity_id: str
    start: _dt.date
    end: _dt.date
    horizons: list[CurveHorizon] = Field(description="one per horizon N of the run, N ascending")  # type: ignore[valid-type]
    payback_days: int | None = Field(description="the smallest N whose range ratio is at least 1; NULL: none")


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


class CatalogueMetric(BaseModel):
    name: str = Field(description="the marts' column")
    data_type: str = Field(description="its contract type")
    unit: Literal["usd", "count", "fraction", "percent", "multiple"] = Field(
        description="usd: money; count; fraction: a 0-1 rate; percent: already a percent; multiple: a ratio "
                    "such as ROAS")
    integer: bool
    range_total: Literal["sum", "formula"] | None = Field(
        description="sum: its range total is its sum; formula: recomputed from the sums; None: no range total")
    fed_by: list[str] = Field(
        default_factory=list, description="the dated source tables a day of the metric rests on: a day after "
                                          "one's last_date (GET /api/health `sources`) is incomplete")


class PageColumn(BaseModel):
    metric: str
    unit: str
    label: str
    group: str | None = Field(description="the header spanning consecutive columns of one group")
    title: str | None
    denominator: str | None = Field(None, description="the rate's denominator (a key of `denominators`)")
    empty: str | None = Field(None, description="why the rate has no value when its denominator is 0")
    provisional: bool = Field(False, description="the rate can be provisional (a key of `provisional`)")


class OverviewMetric(BaseModel):
    metric: str
    unit: str
    label: str


class CurveMetric(BaseModel):
    name: str = Field(description="the column of entity_cohort_curves, a field of each curve horizon")
    unit: str
    data_type: str
    label: str


class CurveView(BaseModel):
    ratio: str = Field(description="the curve's ratio (a curve metric), drawn against the horizon")
    compare: str | None = Field(description="the range metric drawn beside it")


class CohortColumn(BaseModel):
    name: str = Field(description="the field of an entity row's `cohort`, also a sort key")
    horizon: int | None = Field(description="its horizon N; None: the payback day")
    unit: str = Field(description="as a metric's unit; days: a horizon")
    label: str


class PageView(BaseModel):
    columns: list[PageColumn] = Field(description="the table columns, in order")
    cohort_columns: list[CohortColumn] = Field(description="the table's cohort columns, after `columns`")
    curve: CurveView
    overview: list[OverviewMetric] = Field(description="the overview cards, also the row sparklines' choices")
    range_days: int = Field(description="the default range: the window's last N days")
    overview_days: int
    row_spark_days: int
    page_size: int
    sort: str = Field(description="the entity table's default sort")
    order: Literal["asc", "desc"]
    csv_rows: int = Field(description="the most rows a CSV download (format=csv) takes")
    few: int = Field(description="a rate whose denominator is below this shows it (\"39 % of 64\")")


class Catalogue(BaseModel):
    """The metric catalogue (the marts' YAML) and how the page shows it."""

    metrics: list[CatalogueMetric] = Field(description="the metric columns of entity_daily_metrics, in order")
    range_metrics: list[str] = Field(description="the metrics of a range total, in the order of `totals`")
    curve_metrics: list[CurveMetric] = Field(description="the fields of a cohort curve's horizon (/curve)")
    page: PageView
