"""The metric catalogue: the marts' YAML (``models/marts/_marts__models.yml``) read once.

The marts' YAML is the one list of the metric columns and their types (the dbt
model contracts enforce it on the tables). Each metric column carries its facts
in its column ``meta``::

    unit: usd | count | fraction | percent | multiple   a metric, and how it is shown
    range_total: sum | formula     a range metric (docs/metrics.md §8): its range total is
                                   its sum, or a formula of the sums (macro range_total_metrics)
    user_list: true                a list of user ids
    curve_total: sum | formula     a column of the cohort curves (entity_cohort_curves) over a
                                   range of cohort dates (docs/metrics.md §9): the sum of the
                                   complete rows, or a formula of those sums (cohort_curve_totals)
    fed_by: [table, ...]           the dated source tables a day of the metric rests on (a day
                                   after one's last date is incomplete: the page greys it);
                                   default: both, FED_BY_DEFAULT
    denominator: {empty[, name]}   a count a range rate divides by, exposed in every range answer
                                   under its own name (``name``; default: the column's). On a user
                                   list, its length summed over the range. ``empty``: why a rate
                                   over an empty one has no value (``{trial_days}`` is filled in)
    divided_by: <denominator>      a rate's denominator (docs/metrics.md §8)
    provisional: true              a refund rate flagged provisional while most of its
                                   denominator's users are younger than var refund_maturity_days
    page: {column, label, group, title, overview, sort}
                                   a column of the dashboard page (its position, header, overview
                                   card label; ``sort: desc``: the entity table's default sort)
    page: {label, table_horizons, payback, compare}   (the curves' ratio, cohort_roas) the
                                   entity table's columns d<N>_cohort_roas, headed "D<N> <label>",
                                   its payback day, headed <payback>, and the range metric a
                                   curve is drawn beside

The dbt macros ``range_total_columns`` and ``range_denominators``
(macros/metrics/range_totals.sql) read the same keys from dbt's graph. The read API, the validation, the
on-demand path and the page (through ``GET /api/catalogue``) take their metric
lists from here; none writes a metric name again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from python_hooks.project import PROJECT_DIR

MARTS_YAML = Path("models") / "marts" / "_marts__models.yml"
MARTS = ("entity_daily_metrics", "entity_country_breakdown")
CURVES = "entity_cohort_curves"  # the cohort curves (docs/metrics.md §9)
UNITS = ("usd", "count", "fraction", "percent", "multiple")
RANGE_TOTALS = ("sum", "formula")
# The entity table's payback column (macro cohort_table_columns names it too): a horizon, in days.
PAYBACK = "payback_days"
# The dated source tables (docs/metrics.md §1) a metric without its own `fed_by` rests on:
# Meta's daily performance and Mixpanel's events (a ratio of the two, a profit, ...).
FED_BY_DEFAULT = ("ad_performance_daily", "mixpanel_event")


@dataclass(frozen=True)
class MetricColumn:
    name: str
    data_type: str  # the contract type, lower case: integer, decimal(18,2), varchar, ...
    unit: str | None = None  # None: not a metric (a key, a list, a timestamp)
    range_total: str | None = None  # 'sum' or 'formula'; None: no range total
    user_list: bool = False
    fed_by: tuple[str, ...] = ()  # the dated source tables a day of the metric rests on
    page: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    curve_total: str | None = None  # 'sum' or 'formula': a column of a cohort curve over a range
    denominator: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    divided_by: str | None = None
    provisional: bool = False

    @property
    def denominator_name(self) -> str | None:
        """The name this column is exposed under as a range denominator (None: it is none)."""
        if self.denominator is None:
            return None
        return self.denominator.get("name", self.name)

    @property
    def is_metric(self) -> bool:
        return self.unit is not None

    @property
    def is_integer(self) -> bool:
        return self.is_metric and self.data_type in ("integer", "bigint")


@dataclass(frozen=True)
class Catalogue:
    """The columns of each mart, in table order."""

    columns: dict[str, tuple[MetricColumn, ...]]
    curves: tuple[MetricColumn, ...] = ()  # the columns of entity_cohort_curves

    def mart(self, mart: str = MARTS[0]) -> tuple[MetricColumn, ...]:
        return self.columns[mart]

    def metrics(self, mart: str = MARTS[0]) -> tuple[MetricColumn, ...]:
        """The metric columns of a mart (those with a ``unit``), in table order."""
        return tuple(c for c in self.columns[mart] if c.is_metric)

    @property
    def range_metrics(self) -> tuple[str, ...]:
        """The metrics of a range total, in table order (what the read API returns)."""
        return tuple(c.name for c in self.columns[MARTS[0]] if c.range_total)

    @property
    def summed_metrics(self) -> tuple[str, ...]:
        """The range metrics whose range total is their sum."""
        return tuple(c.name for c in self.columns[MARTS[0]] if c.range_total == "sum")

    @property
    def integer_metrics(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns[MARTS[0]] if c.is_integer)

    @property
    def money_metrics(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns[MARTS[0]] if c.unit == "usd")

    @property
    def list_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns[MARTS[0]] if c.user_list)

    @property
    def denominators(self) -> tuple[str, ...]:
        """The range denominators, under their own names, in table order (``denominators`` of an answer)."""
        return tuple(c.denominator_name for c in self.columns[MARTS[0]] if c.denominator is not None)

    @property
    def provisional_metrics(self) -> tuple[str, ...]:
        """The rates whose range total can be provisional (``provisional`` of an answer)."""
        return tuple(c.name for c in self.columns[MARTS[0]] if c.provisional)

    def empty_denominator_text(self, name: str) -> str:
        [text] = [c.denominator["empty"] for c in self.columns[MARTS[0]] if c.denominator_name == name]
        return text

    def unit(self, name: str) -> str:
        return {c.name: c.unit for c in self.columns[MARTS[0]]}[name]

    @property
    def page_columns(self) -> list[dict[str, Any]]:
        """The columns of the page's tables, in page order: metric, unit, label, group, title."""
        shown = sorted((c for c in self.columns[MARTS[0]] if "column" in c.page), key=lambda c: c.page["column"])
        return [{"metric": c.name, "unit": c.unit, "label": c.page["label"], "group": c.page.get("group"),
                 "title": c.page.get("title"), "denominator": c.divided_by,
                 "empty": self.empty_denominator_text(c.divided_by) if c.divided_by else None,
                 "provisional": c.provisional} for c in shown]

    @property
    def default_sort(self) -> tuple[str, str]:
        """(metric, 'asc' or 'desc'): the page column whose ``page`` meta has ``sort``."""
        [(name, order)] = [(c.name, c.page["sort"]) for c in self.columns[MARTS[0]] if "sort" in c.page]
        return name, order

    @property
    def overview_metrics(self) -> list[dict[str, Any]]:
        """The page's overview cards (and row sparkline choices), in table order: metric, unit, label."""
        return [{"metric": c.name, "unit": c.unit, "label": c.page["overview"]}
                for c in self.columns[MARTS[0]] if "overview" in c.page]

    @property
    def curve_metrics(self) -> list[dict[str, Any]]:
        """The columns of a cohort curve over a range (``curve_total``), in table order: name, unit, data_type."""
        return [{"name": c.name, "unit": c.unit, "data_type": c.data_type, "label": c.page.get("label", c.name)}
                for c in self.curves if c.curve_total]

    @property
    def curve_view(self) -> dict[str, Any]:
        """How the page draws a curve: its ratio column, and the range metric shown beside it."""
        [ratio] = [c for c in self.curves if c.curve_total == "formula"]
        return {"ratio": ratio.name, "compare": ratio.page.get("compare")}

    @property
    def cohort_columns(self) -> list[dict[str, Any]]:
        """The entity table's cohort columns: d<N>_cohort_roas for each table horizon N of the
        curves' ratio, then the payback day (name, horizon, unit, label)."""
        [ratio] = [c for c in self.curves if c.curve_total == "formula"]
        page = ratio.page
        columns = [{"name": f"d{int(n)}_{ratio.name}", "horizon": int(n), "unit": ratio.unit,
                    "label": f"D{int(n)} {page.get('label', ratio.name)}"} for n in page.get("table_horizons", [])]
        return columns + [{"name": PAYBACK, "horizon": None, "unit": "days", "label": page.get("payback", PAYBACK)}]


def _column(mart: str, raw: dict[str, Any]) -> MetricColumn:
    meta = raw.get("meta") or (raw.get("config") or {}).get("meta") or {}
    where = f"{MARTS_YAML}: {mart}.{raw['name']}"
    if meta.get("unit") is not None and meta["unit"] not in UNITS:
        raise ValueError(f"{where}: meta unit {meta['unit']!r} is not one of {UNITS}")
    if meta.get("range_total") is not None:
        if meta["range_total"] not in RANGE_TOTALS:
            raise ValueError(f"{where}: meta range_total {meta['range_total']!r} is not one of {RANGE_TOTALS}")
        if meta.get("unit") is None:
            raise ValueError(f"{where}: a range metric needs a meta unit")
    if meta.get("curve_total") is not None:
        if meta["curve_total"] not in RANGE_TOTALS:
            raise ValueError(f"{where}: meta curve_total {meta['curve_total']!r} is not one of {RANGE_TOTALS}")
        if meta.get("unit") is None:
            raise ValueError(f"{where}: a curve column needs a meta unit")
    denominator = meta.get("denominator")
    if denominator is not None:
        if not isinstance(denominator, dict) or not denominator.get("empty"):
            raise ValueError(f"{where}: meta denominator needs an `empty` text")
        if not (meta.get("range_total") == "sum" or (meta.get("user_list") and denominator.get("name"))):
            raise ValueError(f"{where}: a denominator is a summed metric, or a user list with a `name`")
    if meta.get("provisional") and not meta.get("divided_by"):
        raise ValueError(f"{where}: a provisional rate needs `divided_by`")
    return MetricColumn(name=raw["name"], data_type=str(raw["data_type"]).strip().lower(), unit=meta.get("unit"),
                        range_total=meta.get("range_total"), user_list=bool(meta.get("user_list", False)),
                        fed_by=tuple(meta.get("fed_by") or FED_BY_DEFAULT) if meta.get("unit") else (),
                        page=dict(meta.get("page") or {}), curve_total=meta.get("curve_total"),
                        denominator=denominator, divided_by=meta.get("divided_by"),
                        provisional=bool(meta.get("provisional", False)))


def read_catalogue(path: Path) -> Catalogue:
    """The catalogue of a marts YAML file (anchors and aliases resolved by PyYAML)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    models = {model["name"]: model for model in document["models"]}
    found = Catalogue({mart: tuple(_column(mart, column) for column in models[mart]["columns"]) for mart in MARTS},
                      curves=tuple(_column(CURVES, column) for column in models[CURVES]["columns"]))
    unknown = [c.name for c in found.mart() if c.divided_by and c.divided_by not in found.denominators]
    if unknown:
        raise ValueError(f"{MARTS_YAML}: meta divided_by of {', '.join(unknown)} names no denominator")
    return found


@functools.cache
def contract_types(model: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The contract of any model of the marts' YAML: column -> data type (lower case), in
    table order. For the models that are not in the metric catalogue (the cohort curves,
    docs/metrics.md §9), whose comparison rules follow from their types."""
    document = yaml.safe_load((project_dir / MARTS_YAML).read_text(encoding="utf-8"))
    [columns] = [model_yaml["columns"] for model_yaml in document["models"] if model_yaml["name"] == model]
    return {column["name"]: str(column["data_type"]).strip().lower() for column in columns}


@functools.cache
def catalogue(project_dir: Path = PROJECT_DIR) -> Catalogue:
    """The project's metric catalogue (read once per process)."""
    return read_catalogue(project_dir / MARTS_YAML)
