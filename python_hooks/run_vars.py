"""The dbt vars of a run, checked before dbt starts.

``precompute run`` takes the window as ``--start`` / ``--as-of`` and any other
var as ``--vars '{...}'`` (YAML, as dbt takes it). A wrong var is an argument
error (exit 2) found here, in milliseconds, instead of a compilation error
after dbt has parsed the project and started its nodes. The defaults come
from ``dbt_project.yml`` (the one home of every var and its default); the dbt
macros keep the same checks for plain ``dbt build`` (macros/window/).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

__all__ = ["VarError", "project_var_defaults", "parse_vars", "check_vars"]

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
WINDOW_DATE_VARS = ("start_date", "as_of_date")
QUALITY_VAR_PREFIX = "quality_"  # the thresholds of the data-quality checks (dbt_project.yml)


class VarError(ValueError):
    """A var that dbt would reject; the message names the var."""


class _VarsLoader(yaml.SafeLoader):
    """YAML as dbt reads --vars, except that dates stay text, so that a
    malformed one (2025-13-01) is reported by name instead of crashing the parser."""


_VarsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def project_var_defaults(project_dir: Path) -> dict[str, Any]:
    """The ``vars:`` block of dbt_project.yml."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars") or {})


def parse_vars(text: str | None) -> dict[str, Any]:
    """``--vars`` text (YAML or JSON mapping) -> dict."""
    if not text:
        return {}
    try:
        value = yaml.load(text, Loader=_VarsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise VarError(f"--vars is not valid YAML: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VarError(f"--vars must be a mapping such as '{{as_of_date: 2025-01-31}}', got {text!r}")
    return {str(k): v for k, v in value.items()}


def _date_var(name: str, value: Any) -> _dt.date | None:
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value).strip()
    if not _DATE.match(text):
        raise VarError(f"var {name} must be a date YYYY-MM-DD, got '{text}'")
    try:
        return _dt.date.fromisoformat(text)
    except ValueError as exc:
        raise VarError(f"var {name} must be a date YYYY-MM-DD, got '{text}' ({exc})") from None


def _count_var(name: str, value: Any, minimum: int) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text) or int(text) < minimum:
        kind = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise VarError(f"var {name} must be {kind}, got '{text}'")
    return int(text)


def _horizons_var(value: Any) -> list[int]:
    """The var cohort_horizons (docs/metrics.md §9): a list of non-negative integers, or
    the same as text ('[0, 7, 30]', '0,7,30'), as the macro cohort_horizons reads it."""
    items = value.strip("[] ").split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or any(
            isinstance(item, bool) or not re.fullmatch(r"[0-9]+", str(item).strip()) for item in items):
        raise VarError(f"var cohort_horizons must be a list of non-negative integers, got {value!r}")
    return sorted({int(str(item).strip()) for item in items})


def _threshold_var(name: str, value: Any, integer: bool) -> None:
    """A data-quality threshold: a non-negative number (an integer for a number of days)."""
    if integer:
        _count_var(name, value, 0)
        return
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        raise VarError(f"var {name} must be a non-negative number, got '{text}'")


def check_vars(run_vars: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Check the vars of a run against the rules of the window macros.

    Returns the vars to pass to dbt, with dates as ISO strings. Raises VarError.
    """
    merged = {**defaults, **run_vars}
    out = dict(run_vars)
    dates = {}
    for name in WINDOW_DATE_VARS:
        dates[name] = _date_var(name, merged.get(name))
        if name in out and dates[name] is not None:
            out[name] = dates[name].isoformat()
    _count_var("trial_days", merged.get("trial_days", 7), 0)
    _count_var("refund_maturity_days", merged.get("refund_maturity_days", 14), 0)
    max_days = _count_var("max_window_days", merged.get("max_window_days", 7320), 1)
    start, as_of = dates["start_date"], dates["as_of_date"]
    if start and as_of:
        if start > as_of:
            raise VarError(f"var start_date ({start}) is after as_of_date ({as_of})")
        days = (as_of - start).days + 1
        if days > max_days:
            raise VarError(
                f"the window start_date {start} .. as_of_date {as_of} is {days} days, longer than "
                f"var max_window_days ({max_days}); raise max_window_days or shorten the window")
    if "cohort_horizons" in merged:
        _horizons_var(merged["cohort_horizons"])
    for name in sorted(n for n in merged if n.startswith(QUALITY_VAR_PREFIX)):  # macros/vars/quality_vars.sql
        _threshold_var(name, merged[name], integer=name.endswith("_days"))
    allow_empty = merged.get("allow_empty_sources")
    if allow_empty is not None and (
            not isinstance(allow_empty, list) or not all(isinstance(t, str) for t in allow_empty)):
        raise VarError(f"var allow_empty_sources must be a list of table names, got {allow_empty!r}")
    return out
