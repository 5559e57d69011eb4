"""The "current dashboard" path: metrics of ONE entity computed at request time.

``OnDemandMetrics`` computes the dashboard metrics of one entity (campaign, adset
or ad) for one date range, overall or for one country, directly from the six raw
Parquet source tables with DuckDB SQL, the way a dashboard without
pre-computation would. It reads no dbt model and shares no SQL with the dbt
project: it is an independent second implementation of docs/metrics.md and
docs/decisions.md, which validates the pre-computed tables (``precompute
validate``, the release gate) and is the baseline of the performance benchmarks.
Where the dbt path fails a gate (two different rows for one key), this path
has no gate and uses every kept row.

Usage::

    od = OnDemandMetrics("data/sample", as_of_date="2024-06-30")
    rows = od.daily_metrics("campaign", "120200000001", "2024-06-01", "2024-06-14")
    us = od.daily_metrics("campaign", "120200000001", "2024-06-01", "2024-06-14", country="US")
    totals = od.range_totals("campaign", "120200000001", "2024-06-01", "2024-06-14")
    od.entities()  # {"campaign": [...], "adset": [...], "ad": [...]}
    # many (entity_id, start, end, country) requests of one level, one query per kind:
    od.daily_metrics_many("ad", [("A1", "2024-06-01", "2024-06-01", None),
                                 ("A2", "2024-06-03", "2024-06-03", "US")])

The SQL is in ``python_hooks/on_demand_sql/`` (Jinja templates rendered here with
jinja2, linted by sqlfluff): ``sources.sql`` cleans the six sources (§2),
``source_window.sql`` finds the default window, ``daily_metrics.sql``
answers a batch of requests of one level, ``cohort_curves.sql`` the cohort
curves of a batch of cohort days (§9), ``entities.sql`` lists the entity set
(§3). By default the cleaned sources are views over the Parquet files, so every
query reads the files (the "current dashboard" baseline); ``materialize=True``
loads them once into temp tables of the connection, and many queries then run
much faster, with the same results.

``daily_metrics`` clips [start, end] to [start_date, as_of_date] (an empty range
gives ``[]``); values are not rounded (money and rates are Python floats).
``range_totals`` follows docs/metrics.md §8 from the unrounded daily rows.
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from python_hooks.catalogue import catalogue
from python_hooks.project import COUNTRY_MAPPING_CSV, LEVELS, source_tables

__all__ = ["OnDemandMetrics", "METRIC_COLUMNS", "LEVELS"]

DEFAULT_COUNTRY_MAPPING_CSV = COUNTRY_MAPPING_CSV
SQL = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("on_demand_sql")),
                         undefined=jinja2.StrictUndefined)

# The columns this path computes: the keys of entity_daily_metrics, then its range
# metrics and user lists in table order (the metric catalogue, the marts' YAML);
# not computed_at and data_quality_score.
_CATALOGUE = catalogue()
METRIC_COLUMNS: tuple[str, ...] = ("entity_type", "entity_id", "date", *(
    c.name for c in _CATALOGUE.mart("entity_daily_metrics") if c.range_total or c.user_list))
# Contract §8: a range total sums the counts, the Meta measures and the money other
# than the costs (the catalogue's `range_total: sum`); everything else is a ratio of these sums.
_SUM_KEYS = _CATALOGUE.summed_metrics
_INT_KEYS = _CATALOGUE.integer_metrics
# Range totals of list lengths (§8 "list lengths"), by the list they count.
_LIST_COUNT_KEYS = {
    "post_trial_user_count": "post_trial_user_ids",
    "converted_user_count": "converted_user_ids",
    "trial_refund_user_count": "trial_refund_user_ids",
    "purchase_refund_user_count": "purchase_refund_user_ids",
}
# Estimated rate -> the pair count that weights it in a range total (§5, §8).
_ESTIMATE_WEIGHTS = {
    "trial_conversion_rate_estimated": "trial_conversion_estimate_pair_count",
    "trial_refund_rate_estimated": "trial_refund_estimate_pair_count",
    "purchase_refund_rate_estimated": "purchase_refund_estimate_pair_count",
}

_INSTANCE_COUNTER = itertools.count(1)


def _as_date(value: Any, name: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{name}: not an ISO date: {value!r}") from exc
    raise TypeError(f"{name}: expected a date or 'YYYY-MM-DD' string, got {value!r}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class OnDemandMetrics:
    """Request-time metrics of one entity, straight from the raw Parquet sources."""

    def __init__(
        self,
        raw_dir: str | os.PathLike[str],
        *,
        start_date: Any = None,
        as_of_date: Any = None,
        trial_days: int = 7,
        country_mapping_csv: str | os.PathLike[str] = DEFAULT_COUNTRY_MAPPING_CSV,
        con: duckdb.DuckDBPyConnection | None = None,
        materialize: bool = False,
    ) -> None:
        self.raw_dir = Path(raw_dir)
        self.materialize = bool(materialize)
        if isinstance(trial_days, bool) or not isinstance(trial_days, int) or trial_days < 0:
            raise ValueError(f"trial_days must be a non-negative int, got {trial_days!r}")
        self.trial_days = trial_days
        self.country_mapping_csv = Path(country_mapping_csv)
        self._own_con = con is None
        self.con = con if con is not None else duckdb.connect()
        # Temp views get a per-instance prefix so instances can share a connection.
        self._v = f"_ondemand{next(_INSTANCE_COUNTER)}_"
        self._country_map_loaded = False
        self._sql_cache: dict[tuple[str, bool], str] = {}

        self._create_views()

        if start_date is None or as_of_date is None:
            [(lo, hi)] = self.con.execute(self._render("source_window.sql")).fetchall()
        self.start_date = _as_date(start_date, "start_date") if start_date is not None else lo
        self.as_of_date = _as_date(as_of_date, "as_of_date") if as_of_date is not None else hi
        if self.start_date is None or self.as_of_date is None:
            raise ValueError(f"{self.raw_dir}: the sources hold no date to default the window to")

    def close(self) -> None:
        """Free what this instance created: its own connection, or (on a shared
        connection) its temp views and tables."""
        if self._own_con:
            self.con.close()
            return
        for kind in ("view", "table"):
            names = [r[0] for r in self.con.execute(
                f"select {kind}_name from duckdb_{kind}s() where temporary and starts_with({kind}_name, ?)",
                [self._v]).fetchall()]
            for name in names:
                self.con.execute(f"drop {kind} if exists {name}")

    def __enter__(self) -> "OnDemandMetrics":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ setup
    def _render(self, template: str, **context: Any) -> str:
        return SQL.get_template(template).render(v=self._v, **context)

    def _create_views(self) -> None:
        """A view over each source file, then the cleaned relations (sources.sql).

        A missing file or a missing contract column (the sources YAML) is a clear
        error that names it; extra columns are ignored.
        """
        event_time_type = None
        for table, columns in source_tables().items():
            path = self.raw_dir / f"{table}.parquet"
            if not path.is_file():
                raise FileNotFoundError(f"source table {table!r}: missing file {path}")
            relation = f"read_parquet({_sql_str(str(path))})"
            found = {r[0].lower(): r[1] for r in self.con.execute(f"describe select * from {relation}").fetchall()}
            for column in columns:
                if column not in found:
                    raise ValueError(f"source table {table!r}: file {path} has no column {column!r}")
            event_time_type = found.get("event_time", event_time_type)
            self.con.execute(f"create temp view {self._v}src_{table} as select * from {relation}")
        self.con.execute(self._render(
            "sources.sql", kind="table" if self.materialize else "view", materialized=self.materialize,
            event_time_is_tz=event_time_type.upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")))

    def _load_country_mapping(self) -> None:
        """Load the seed CSV as text (no NULL conversion: Namibia is 'NA'), then the
        run's optional ``breakdown_mapping_country.parquet`` over it."""
        if self._country_map_loaded:
            return
        path = self.country_mapping_csv
        if not path.is_file():
            raise FileNotFoundError(f"country mapping CSV not found: {path}")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            for col in ("meta_country", "country_code"):
                if col not in header:
                    raise ValueError(f"country mapping CSV {path} has no column {col!r}")
            reader.fieldnames = header
            pairs = [(row["meta_country"], row["country_code"]) for row in reader]
        best: dict[str, str] = {}
        for label, code in pairs:
            if label is None or code is None or code == "":
                continue
            if label not in best or code < best[label]:
                best[label] = code
        # The run's own mapping file, when present, wins label by label.
        run_mapping = self.raw_dir / "breakdown_mapping_country.parquet"
        if run_mapping.is_file():
            best.update(self.con.execute(
                "select cast(meta_country as varchar), min(cast(country_code as varchar)) "
                f"from read_parquet({_sql_str(str(run_mapping))}) "
                "where meta_country is not null and country_code is not null group by 1").fetchall())
        self.con.execute(f"create or replace temp table {self._v}country_mapping (meta_country varchar, country_code varchar)")
        if best:
            self.con.executemany(f"insert into {self._v}country_mapping values (?, ?)", sorted(best.items()))
        self._country_map_loaded = True

    # ---------------------------------------------------------------- queries
    def _daily_sql(self, entity_type: str, by_country: bool) -> str:
        key = (entity_type, by_country)
        if key not in self._sql_cache:
            self._sql_cache[key] = self._render("daily_metrics.sql", level=entity_type, by_country=by_country,
                                                materialized=self.materialize)
        return self._sql_cache[key]

    def _clip(self, start: Any, end: Any) -> tuple[_dt.date, _dt.date]:
        d0 = max(_as_date(start, "start"), self.start_date)
        d1 = min(_as_date(end, "end"), self.as_of_date)
        return d0, d1

    @staticmethod
    def _check_level(entity_type: str) -> None:
        if entity_type not in LEVELS:
            raise ValueError(f"entity_type must be one of {LEVELS}, got {entity_type!r}")

    def daily_metrics(self, entity_type: str, entity_id: str, start: Any, end: Any,
                      country: str | None = None) -> list[dict[str, Any] | None]:
        """One dict per day of [start, end] clipped to [start_date, as_of_date].

        Overall (``country=None``): every day has a row. For a country: the
        breakdown row of that day, or ``None`` when it does not exist (no Meta
        country data and no trial/purchase users for that country).
        """
        [result] = self.daily_metrics_many(entity_type, [(entity_id, start, end, country)])
        return result

    def daily_metrics_many(
        self,
        entity_type: str,
        requests: Iterable[tuple[str, Any, Any, str | None]],
        *,
        errors: str = "raise",
    ) -> list[Any]:
        """``daily_metrics`` for many ``(entity_id, start, end, country)`` requests of
        one level, in at most two queries (overall / by country). Same results as one
        ``daily_metrics`` call per request, in the order of ``requests``.

        ``errors="raise"`` raises the first error (an id outside the entity set);
        ``errors="return"`` puts the exception in that request's place instead.
        """
        self._check_level(entity_type)
        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
        requests = list(requests)
        results: list[Any] = [None] * len(requests)
        batches: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for i, (entity_id, start, end, country) in enumerate(requests):
            if not isinstance(entity_id, str):
                raise TypeError(f"entity_id must be a str (ids are text), got {entity_id!r}")
            if country is not None and not isinstance(country, str):
                raise TypeError(f"country must be a str country code, got {country!r}")
            d0, d1 = self._clip(start, end)
            if d0 > d1:
                results[i] = []
                continue
            batches[country is not None].append(
                {"req": i, "eid": entity_id, "cc": country, "d0": d0, "d1": d1})

        for by_country, batch in batches.items():
            if not batch:
                continue
            if by_country:
                self._load_country_mapping()
            params = [batch, self.as_of_date, self.trial_days,
                      min(r["d0"] for r in batch), max(r["d1"] for r in batch)]
            rows_by_req: dict[int, list[dict]] = {r["req"]: [] for r in batch}
            cursor = self.con.execute(self._daily_sql(entity_type, by_country), params)
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values))
                rows_by_req[row["req"]].append(row)
            for r in batch:
                results[r["req"]] = self._records(entity_type, r["eid"], r["cc"], rows_by_req[r["req"]])

        for i, res in enumerate(results):
            if isinstance(res, Exception) and errors == "raise":
                raise res
        return results

    @staticmethod
    def _records(entity_type: str, entity_id: str, country: str | None,
                 rows: list[dict]) -> list[dict[str, Any] | None] | ValueError:
        if rows and not rows[0]["is_entity"]:
            return ValueError(f"{entity_type} {entity_id!r} is not in the entity set (docs/metrics.md §3)")
        out: list[dict[str, Any] | None] = []
        for row in rows:
            rec: dict[str, Any] = {"entity_type": entity_type, "entity_id": entity_id, "date": row["report_date"]}
            rec.update((column, row[column]) for column in METRIC_COLUMNS[3:])
            if country is not None:
                exists = row["has_meta"] or rec["mixpanel_trial_count"] > 0 or rec["mixpanel_purchase_count"] > 0
                if not exists:
                    out.append(None)
                    continue
                rec["country_code"] = country
            for k in METRIC_COLUMNS[3:]:
                v = rec[k]
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    rec[k] = int(v) if k in _INT_KEYS else float(v)
            out.append(rec)
        return out

    def range_totals(self, entity_type: str, entity_id: str, start: Any, end: Any,
                     country: str | None = None) -> dict[str, Any]:
        """Dashboard totals over [start, end] (docs/metrics.md §8), from the daily rows only.

        Counts, Meta measures, pair counts and money (not the costs) are sums of the
        daily rows; every ratio is recomputed from those sums, never averaged. The
        extra ``*_user_count`` keys are the summed lengths of the other lists.
        """
        daily = [r for r in self.daily_metrics(entity_type, entity_id, start, end, country)
                 if r is not None]
        d0, d1 = self._clip(start, end)
        t: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "start": d0,
            "end": d1,
            "days": max((d1 - d0).days + 1, 0),
            "rows": len(daily),
        }
        if country is not None:
            t["country_code"] = country
        for k in _SUM_KEYS:
            t[k] = sum((r[k] for r in daily), 0 if k in _INT_KEYS else 0.0)
        for k, ids in _LIST_COUNT_KEYS.items():
            t[k] = sum(_list_length(r[ids]) for r in daily)

        # Rates: actual = ratio of summed list lengths; estimated = daily values
        # weighted by their pair counts (= the mean over all the range's pairs).
        t["trial_conversion_rate_actual"] = _div(t["converted_user_count"], t["post_trial_user_count"])
        t["trial_refund_rate_actual"] = _div(t["trial_refund_user_count"], t["converted_user_count"])
        t["purchase_refund_rate_actual"] = _div(t["purchase_refund_user_count"],
                                                t["mixpanel_purchase_count"])
        for rate, weight in _ESTIMATE_WEIGHTS.items():
            t[rate] = _div(sum(r[rate] * r[weight] for r in daily), t[weight])

        # Accuracy ratios from the sums, with the §5 special cases.
        mp_trials, meta_trials = t["mixpanel_trial_count"], t["meta_trial_count"]
        if meta_trials == 0:
            t["trial_accuracy_ratio"] = 100.0 if mp_trials > 0 else 0.0
        else:
            t["trial_accuracy_ratio"] = mp_trials / meta_trials * 100
        t["purchase_accuracy_ratio"] = _div(t["mixpanel_purchase_count"], t["meta_purchase_count"]) * 100

        spend, adjusted = t["meta_spend"], t["adjusted_estimated_revenue_usd"]
        t["profit_usd"] = adjusted - spend
        t["estimated_roas"] = _div(adjusted, spend)
        t["mixpanel_cost_per_trial"] = _div(spend, mp_trials)
        t["mixpanel_cost_per_purchase"] = _div(spend, t["mixpanel_purchase_count"])
        t["meta_cost_per_trial"] = _div(spend, meta_trials)
        t["meta_cost_per_purchase"] = _div(spend, t["meta_purchase_count"])
        t["click_to_trial_rate"] = _div(mp_trials, t["meta_clicks"]) * 100
        return t

    def cohort_curves_many(self, entity_type: str, requests: Iterable[tuple[str, Any]],
                           horizons: Iterable[int]) -> list[list[dict[str, Any]] | Exception]:
        """The cohort curve rows (docs/metrics.md §9) of many ``(entity_id, cohort_date)``
        requests of one level, in one query (plus ``daily_metrics_many`` for the spend).

        Per request, in the order of ``requests``: one dict per horizon N (ascending) with
        the keys of entity_cohort_curves, unrounded; ``[]`` for a day outside
        [start_date, as_of_date]; or the exception (an id outside the entity set)."""
        self._check_level(entity_type)
        horizons = sorted({int(h) for h in horizons})
        if not horizons or horizons[0] < 0:
            raise ValueError(f"horizons must be non-negative integers, got {horizons!r}")
        requests = [(entity_id, _as_date(day, "cohort_date")) for entity_id, day in requests]
        results: list[Any] = [[] for _ in requests]
        inside = [i for i, (_, day) in enumerate(requests) if self.start_date <= day <= self.as_of_date]
        if not inside:
            return results
        daily = self.daily_metrics_many(entity_type, [(requests[i][0], requests[i][1], requests[i][1], None)
                                                      for i in inside], errors="return")
        batch = [{"req": i, "eid": requests[i][0], "d": requests[i][1]} for i in inside]
        rows_by_req: dict[int, list[dict]] = defaultdict(list)
        cursor = self.con.execute(self._render("cohort_curves.sql", level=entity_type),
                                  [batch, self.as_of_date, horizons])
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values))
            rows_by_req[row["req"]].append(row)
        for i, spend_rows in zip(inside, daily):
            if isinstance(spend_rows, Exception):
                results[i] = spend_rows
                continue
            entity_id, day = requests[i]
            spend = float(spend_rows[0]["meta_spend"])
            results[i] = [{
                "entity_type": entity_type, "entity_id": entity_id, "cohort_date": day,
                "days_since_cohort": row["days_since_cohort"],
                "cohort_pair_count": int(row["cohort_pair_count"]),
                "meta_spend": spend,
                "gross_revenue_usd": float(row["gross_revenue_usd"]),
                "refunds_usd": float(row["refunds_usd"]),
                "net_revenue_usd": float(row["gross_revenue_usd"]) - float(row["refunds_usd"]),
                "cohort_roas": _div(float(row["gross_revenue_usd"]) - float(row["refunds_usd"]), spend),
                "is_complete": day + _dt.timedelta(days=row["days_since_cohort"]) <= self.as_of_date,
            } for row in rows_by_req[i]]
        return results

    def entities(self) -> dict[str, list[str]]:
        """The docs/metrics.md §3 entity set of each level, sorted."""
        result: dict[str, list[str]] = {level: [] for level in LEVELS}
        for entity_type, entity_id in self.con.execute(self._render("entities.sql")).fetchall():
            result[entity_type].append(entity_id)
        return result


def _list_length(ids: str | None) -> int:
    return len(ids.split(",")) if ids else 0


def _div(numerator: float, denominator: float) -> float:
    """numerator / denominator; 0 when the denominator is 0 (§5 safe division)."""
    return numerator / denominator if denominator else 0.0
