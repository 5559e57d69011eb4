"""The serving copy (SQLite) of a release equals the release (DuckDB): every row and every answer.

One `precompute run` of the bundled sample publishes a release with its serving
copy. The tests compare (1) every row of every table of the copy with the same
table of the release file, and (2) every query the copy serves with the same
query on the release file, for every entity and several ranges (totals, day
rows, cohort curves, entity tables sorted by a metric or a cohort column) and sparklines,
value for value: a money sum must be the same double as DuckDB's exact decimal
sum, a ratio the same double. They also check that the read API's answers are
byte for byte those of the release file alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import SAMPLE_DIR, precompute_command, precompute_env

from python_hooks.api import answers  # noqa: E402
from python_hooks.api.schemas import RANGE_METRICS  # noqa: E402
from python_hooks.api.reader import SERVING_PREFIX, open_release  # noqa: E402
from python_hooks.release import SERVING_TABLES, published_file, serving_file  # noqa: E402

SERVED = {"dashboard_date_range_totals", "api_entity_daily_rows", "api_entity_sparkline", "api_level_sparklines",
          "api_overview_sparkline", "api_entity_table", "dashboard_overall_and_country_14_days",
          "api_entity_user_list", "api_entity_curve", "api_entity_range_totals", "api_level_range_totals"}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    work = tmp_path_factory.mktemp("serving")
    warehouse = work / "dash.duckdb"
    proc = subprocess.run([*precompute_command(), "run", "--warehouse", str(warehouse), "--raw-dir",
                           str(SAMPLE_DIR), "--progress", "plain"], cwd=work, env=precompute_env(work),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    published = published_file(warehouse)
    rel = open_release(published.file, published.key)
    yield rel
    rel.retire()


def _value(value):
    """A release value as the serving copy stores it: decimals as doubles, dates as ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _same(served: list[dict], released: list[dict]) -> None:
    assert len(served) == len(released)
    for lite, duck in zip(served, released):
        assert lite.keys() == duck.keys()
        for name, value in duck.items():
            expected = _value(value)
            got = lite[name]
            if isinstance(value, dt.datetime):
                got = str(dt.datetime.fromisoformat(got))
            # exact: the same double (0 and 0.0 are the same number, and the same JSON once validated)
            assert got == expected and type(got) in (type(expected), int, float), (name, got, expected, lite)


def test_the_copy_sits_beside_the_release_file_and_serves_the_keyed_queries(release):
    assert release.serving == serving_file(Path(release.target))
    assert release.serving.parent == Path(release.target).parent  # published, and switched, together
    assert {name for name in release.queries if name.startswith(SERVING_PREFIX)} == \
        {SERVING_PREFIX + name for name in SERVED}
    assert all(release.serves(name) for name in SERVED)


# the copy's delivery parts: the catalogue's columns fed by Meta's ad data alone
DELIVERY_PARTS = ["meta_spend", "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count"]


def _copy_only(table: str, names: list[str]) -> str:
    """The rows of the copy's table ``table`` that the release file does not hold, computed
    here from the release's tables: the running sums, and the country parts split in two."""
    if table == "entity_country_delivery_range_parts":
        assert names[4:] == DELIVERY_PARTS, names
        return "select * from entity_country_range_parts"
    if table == "entity_country_event_range_parts":  # the rows with any event part not 0
        assert not set(names[4:]) & set(DELIVERY_PARTS), names
        return f"select * from entity_country_range_parts where {' or '.join(f'{n} != 0' for n in names[4:])}"
    if table == "entity_daily_running_parts":  # every range part, summed over the entity's days
        sums = ", ".join(f"sum({name}) over days as {name}" for name in names[3:])
        return (f"select entity_type, entity_id, date, {sums} from entity_daily_range_parts "
                "window days as (partition by entity_type, entity_id order by date)")
    assert table == "entity_curve_running_parts", table  # per horizon: the complete dates' sums, and the counts
    columns = []
    for name in names[3:]:
        part, horizon = name.rsplit("_d", 1)
        this = f"days_since_cohort = {int(horizon)}"
        value = {"complete_cohort_days": f"case when {this} and is_complete then 1 else 0 end",
                 "cohort_days": f"case when {this} then 1 else 0 end"}.get(
                     part, f"case when {this} and is_complete then {part} else 0 end")
        columns.append(f"sum(sum({value})) over days as {name}")
    return (f"select entity_type, entity_id, cohort_date, {', '.join(columns)} from entity_cohort_curves "
            "group by entity_type, entity_id, cohort_date "
            "window days as (partition by entity_type, entity_id order by cohort_date)")


def test_every_row_of_the_copy_equals_the_release(release):
    lite = sqlite3.connect(f"{release.serving.absolute().as_uri()}?mode=ro", uri=True)
    duck = release.con.cursor()
    country_parts: list[str] = []  # the parts of the two country tables, together
    try:
        for table, (key, _) in SERVING_TABLES.items():
            names = [row[1] for row in lite.execute(f'pragma table_info("{table}")')]
            copy_only = "running" in table or table.startswith("entity_country_")
            source = f"({_copy_only(table, names)})" if copy_only else f'"{table}"'
            release_names = [row[0] for row in duck.execute(f"describe {source}").fetchall()]
            if table.startswith("entity_country_"):  # a part of the columns: the two hold each part once
                assert names[:4] == release_names[:4], table
                country_parts += names[4:]
            else:
                assert names == release_names, table
            order = ", ".join(key)
            served = lite.execute(f'select * from "{table}" order by {order}').fetchall()
            released = duck.execute(f'select {", ".join(names)} from {source} order by {order}').fetchall()
            assert served, table
            _same([dict(zip(names, row)) for row in served], [dict(zip(names, row)) for row in released])
        every_part = [row[0] for row in duck.execute("describe entity_country_range_parts").fetchall()][4:]
        assert sorted(country_parts) == sorted(every_part)
    finally:
        lite.close()
        duck.close()


def _ranges(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    span = (last - first).days
    return sorted({(first, last), (last, last), (first, first), (last - dt.timedelta(days=min(13, span)), last),
                   (first + dt.timedelta(days=span // 3), last - dt.timedelta(days=span // 3))})


def test_every_range_answer_of_the_copy_equals_the_release(release):
    first, last = release.window
    compared = 0
    countries: dict[tuple[str, str], list[str]] = {}  # each entity's countries, most spend first
    for level, entity_id, country in release.con.cursor().execute(
            "select entity_type, entity_id, country_code from entity_country_range_parts "
            "group by all order by sum(meta_spend) desc, country_code").fetchall():
        countries.setdefault((level, entity_id), []).append(country)
    for level, entity_id in sorted(release.entities):
        for start, end in _ranges(first, last):
            params = {"entity_type": level, "entity_id": entity_id, "start_day": start, "end_day": end}
            for name in ("dashboard_date_range_totals", "api_entity_daily_rows",
                         "dashboard_overall_and_country_14_days", "api_entity_curve", "api_entity_range_totals"):
                _same(release.query(name, **params), release.query(name, serving=False, **params))
                compared += 1
        for day in (first, last, last - dt.timedelta(days=3)):
            for list_name in ("trial", "post_trial", "converted", "trial_refund", "purchase", "purchase_refund"):
                for limit, offset in ((100, 0), (2, 1), (5, 1000)):
                    params = {"entity_type": level, "entity_id": entity_id, "day": day, "list": list_name,
                              "country": None, "page_limit": limit, "page_offset": offset}
                    _same(release.query("api_entity_user_list", **params),
                          release.query("api_entity_user_list", serving=False, **params))
                    compared += 1
        for end, days in ((last, 14), (last, 1), (first, 7), (last, (last - first).days + 3)):
            for country in (None, *countries.get((level, entity_id), [])[:2], "XX"):
                params = {"entity_type": level, "entity_id": entity_id, "end_day": end, "days": days,
                          "country": country}
                _same(release.query("api_entity_sparkline", **params),
                      release.query("api_entity_sparkline", serving=False, **params))
                compared += 1
    parents = [None, *sorted({entity_id for _, entity_id in release.entities})]
    for level in answers.PARENT_LEVEL:
        for end, days in ((last, 14), (last, 28), (first + dt.timedelta(days=3), 5)):
            params = {"entity_type": level, "end_day": end, "days": days}
            _same(release.query("api_overview_sparkline", **params),
                  release.query("api_overview_sparkline", serving=False, **params))
            for parent_id in parents:
                params = {"entity_type": level, "parent_id": parent_id, "end_day": end, "days": days}
                _same(release.query("api_level_sparklines", **params),
                      release.query("api_level_sparklines", serving=False, **params))
                compared += 1
    for level in answers.PARENT_LEVEL:
        for start, end in _ranges(first, last):
            # the level's totals, its previous period (in the window or not) and the changes
            days = end - start + dt.timedelta(days=1)
            params = {"entity_type": level, "start_day": start, "end_day": end,
                      "previous_start": start - days, "previous_end": start - dt.timedelta(days=1)}
            _same(release.query("api_level_range_totals", **params),
                  release.query("api_level_range_totals", serving=False, **params))
            compared += 1
            for parent_id in parents[:4]:
                for sort, order in (("meta_spend", "desc"), ("estimated_roas", "asc"), ("name", "asc"),
                                    ("entity_id", "desc"), ("trial_conversion_rate_actual", "desc"),
                                    ("d7_cohort_roas", "desc"), ("payback_days", "asc")):
                    # a cohort column: one page, of the whole level and of one parent
                    pages = ((50, 0), (2, 1), (10, 1000)) if sort in RANGE_METRICS or sort in ("name", "entity_id") \
                        else ((2, 1),) if parent_id in parents[:2] else ()
                    for limit, offset in pages:
                        params = {"entity_type": level, "start_day": start, "end_day": end, "parent_id": parent_id,
                                  "sort": sort, "sort_order": order, "page_limit": limit, "page_offset": offset}
                        _same(release.query("api_entity_table", **params),
                              release.query("api_entity_table", serving=False, **params))
                        compared += 1
    assert compared > 100, compared
    # the curves: not every answer is trivial (a complete horizon with spend, one partly complete)
    curves = [release.query("api_entity_curve", entity_type=level, entity_id=entity_id, start_day=first,
                            end_day=last) for level, entity_id in sorted(release.entities)]
    horizons = [h for curve in curves for h in curve]
    assert any(h["cohort_roas"] and h["complete_cohort_days"] == h["cohort_days"] for h in horizons)
    assert any(0 < h["complete_cohort_days"] < h["cohort_days"] for h in horizons)


def test_the_api_answers_from_the_copy_are_those_of_the_release_file(release, monkeypatch):
    first, last = release.window
    view = list(answers.default_view(release))
    served = [body(release, *args) for body, args in view]
    monkeypatch.setattr(release, "serving", None)  # every query on the release file
    assert not release.serves("dashboard_date_range_totals")
    released = [body(release, *args) for body, args in view]
    assert served == released
    assert len(served) > 20


def test_a_new_answer_is_built_on_the_event_loop_and_a_slow_one_in_the_thread_pool(release, monkeypatch):
    from python_hooks.api import reader

    pooled = []

    async def counting_pool(function, *args):
        pooled.append(function)
        return function(*args)

    monkeypatch.setattr(reader, "run_in_threadpool", counting_pool)
    first, last = release.window
    level, entity_id = sorted(release.entities)[0]
    args = (level, entity_id, first, last)

    def answer() -> bytes:
        release.cache.clear()
        return asyncio.run(release.answer(answers.country_totals, *args)).body

    quick = answer()
    assert pooled == []  # every query on the serving copy: built on the loop
    monkeypatch.setattr(reader, "INLINE_SECONDS", 0.0)  # every query over budget: interrupted, then pooled
    assert answer() == quick and len(pooled) == 1
    pooled.clear()
    asyncio.run(release.answer(answers.country_user_list, level, entity_id, last, "trial", "US", 10, 0))
    assert len(pooled) == 1  # a country's user list reads the release file: never on the loop
