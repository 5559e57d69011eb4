"""The dashboard page in a real browser: headless Chromium on `precompute serve`.

A release of the bundled sample is built with `precompute run`, served by
`precompute serve` on a free port, and opened in Debian's Chromium through
Playwright (`playwright install` cannot download its own browser here). The
test reads what the page shows and compares it with the API's JSON, cell by
cell: the release badge, the default date range, the overview sparklines, the
campaign rows, a campaign expanded to its adsets and an adset to its ads, and a
campaign's country breakdown and cohort curve, and the cohort columns (D7 and D30
ROAS, payback). It saves a screenshot at target/dashboard.png.

Each cell carries the API's raw value (data-value) and shows it formatted; the
test checks both: the raw value equals the API's, and the text, read back as a
number, equals it to the precision shown (money to the cent, percents to 0.1).

Without /usr/bin/chromium the test is skipped (`.ci/run` installs it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import SAMPLE_DIR, free_port, precompute_command, precompute_env

from python_hooks.api.answers import FEW
from python_hooks.catalogue import catalogue

PROJECT_DIR = Path(__file__).resolve().parents[1]
SCREENSHOT = PROJECT_DIR / "target" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does it)",
)

# How each metric is shown (the catalogue's unit; test_api.py checks the units
# follow the issue: money in USD; rates 0-1 and ROAS shown as percents; accuracy
# ratios are percents already).
UNITS = {column.name: column.unit for column in catalogue().metrics()}
# The columns; the page may show more, never fewer.
REQUIRED_COLUMNS = {
    "meta_spend", "meta_trial_count", "mixpanel_trial_count", "meta_purchase_count", "mixpanel_purchase_count",
    "trial_accuracy_ratio", "purchase_accuracy_ratio", "trial_conversion_rate_actual",
    "trial_conversion_rate_estimated", "trial_refund_rate_actual", "purchase_refund_rate_actual",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd", "profit_usd", "estimated_roas",
}
NULL_TEXT = "—"
# Each rate column's denominator (a key of an answer's `denominators`), from the catalogue.
DENOMINATOR = {column["metric"]: column["denominator"] for column in catalogue().page_columns if column["denominator"]}


# --------------------------------------------------------------------------- server


def get_json(base: str, path: str, **params):
    url = f"{base}{path}"
    if params:
        url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`precompute serve` on a release of the bundled sample; yields its base URL."""
    work = tmp_path_factory.mktemp("browser")
    warehouse = work / "dash.duckdb"
    run = subprocess.run(
        [*precompute_command(), "run", "--warehouse", str(warehouse), "--raw-dir", str(SAMPLE_DIR), "--progress", "plain"],
        cwd=work, env=precompute_env(work), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    port = free_port()
    log = (work / "serve.log").open("w")
    process = subprocess.Popen([*precompute_command(), "serve", "--warehouse", str(warehouse), "--port", str(port)],
                               cwd=work, env=precompute_env(work), stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(base, "/api/health")
                break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert process.poll() is None, (work / "serve.log").read_text()
            assert time.monotonic() < deadline, "precompute serve did not answer within 60 s"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# --------------------------------------------------------------------------- reading the page


def shown_number(text: str, unit: str) -> float | None:
    """The number a cell's text shows, in the API's unit; None for the NULL mark."""
    text = text.strip()
    if text == NULL_TEXT:
        return None
    patterns = {
        "usd": r"-?\$\d{1,3}(,\d{3})*\.\d\d",
        "count": r"-?\d{1,3}(,\d{3})*",
        "fraction": r"-?\d{1,3}(,\d{3})*\.\d%",
        "percent": r"-?\d{1,3}(,\d{3})*\.\d%",
        "multiple": r"-?\d{1,3}(,\d{3})*\.\d%",
    }
    assert re.fullmatch(patterns[unit], text), f"{text!r} is not shown as {unit}"
    number = float(text.replace("$", "").replace(",", "").replace("%", ""))
    return number / 100 if unit in ("fraction", "multiple") else number


def assert_shows(text: str, raw: str, api_value, unit: str, where: str) -> None:
    """A cell shows the API's value: its raw value is the API's, its text that value formatted."""
    if api_value is None:
        assert raw == "null" and text.strip() == NULL_TEXT, f"{where}: NULL shown as {text!r} ({raw})"
        return
    assert float(raw) == pytest.approx(api_value, rel=1e-12, abs=1e-12), f"{where}: data-value {raw} != API {api_value}"
    tolerance = {"usd": 0.005, "count": 0, "percent": 0.05, "fraction": 0.0005, "multiple": 0.0005}[unit]
    number = shown_number(text, unit)
    assert number is not None and math.isclose(number, api_value, abs_tol=tolerance + 1e-9), \
        f"{where}: shows {text!r}, API says {api_value}"


def metric_cells(row) -> dict[str, tuple[str, str]]:
    """metric -> (the value's text, data-value); a rate's text without its " of N" and provisional mark."""
    return {cell["metric"]: (cell["text"], cell["value"]) for cell in rate_cells(row)}


def rate_cells(row) -> list[dict]:
    return row.locator("td[data-metric]").evaluate_all(
        "cells => cells.map(c => ({metric: c.dataset.metric, value: c.dataset.value,"
        " text: (c.querySelector('.value') || c).textContent, of: (c.querySelector('.of') || {}).textContent,"
        " denominator: c.dataset.denominator, provisional: c.dataset.provisional === 'true', title: c.title}))")


def assert_rates_match(row, item: dict, where: str) -> None:
    """Each rate cell shows the API's denominator: "—" with a reason when it is 0, " of N" when it is
    small, and the provisional mark when the API flags the rate."""
    for cell in rate_cells(row):
        metric = cell["metric"]
        if metric not in DENOMINATOR:
            continue
        count = item["denominators"][DENOMINATOR[metric]]
        assert cell["denominator"] == str(count), f"{where} {metric}: denominator {cell['denominator']} != {count}"
        if count == 0:
            assert cell["text"] == NULL_TEXT and cell["title"], f"{where} {metric}: an empty denominator shows {cell}"
        else:
            assert (cell["of"] == f" of {count:,}") == (count < FEW), f"{where} {metric}: {cell}"
        assert cell["provisional"] == (count > 0 and item["provisional"].get(metric, False)), f"{where} {metric}"


def totals_of(item: dict) -> dict:
    return item.get("totals", item)


def assert_row_matches(row, api_totals: dict, where: str, item: dict | None = None) -> None:
    cells = metric_cells(row)
    missing = REQUIRED_COLUMNS - set(cells)
    assert not missing, f"{where}: columns missing from the page: {sorted(missing)}"
    # a rate over an empty denominator shows "—" (assert_rates_match), its data-value still the API's
    empty = {metric for metric, name in DENOMINATOR.items() if item and item["denominators"][name] == 0}
    for metric, (text, raw) in cells.items():
        assert metric in api_totals, f"{where}: the page shows {metric}, the API has no such total"
        if metric in empty:
            assert float(raw) == api_totals[metric], f"{where} {metric}: data-value {raw} != API"
            continue
        assert_shows(text, raw, api_totals[metric], UNITS[metric], f"{where} {metric}")
    if item is not None:
        assert_rates_match(row, item, where)


# The entity table's cohort columns (docs/metrics.md §9): D7 and D30 cohort ROAS, the payback day.
COHORT_COLUMNS = {column["name"]: column for column in catalogue().cohort_columns}


def assert_cohort_cells(row, api_cohort: dict, where: str) -> None:
    """A row's cohort cells show the API's row["cohort"]: every column, raw value and text."""
    cells = {cell["name"]: (cell["text"], cell["value"]) for cell in row.locator("td[data-cohort]").evaluate_all(
        "cells => cells.map(c => ({name: c.dataset.cohort, value: c.dataset.value, text: c.textContent}))")}
    assert set(cells) == set(COHORT_COLUMNS) == set(api_cohort), f"{where}: cohort columns {sorted(cells)}"
    for name, (text, raw) in cells.items():
        if COHORT_COLUMNS[name]["unit"] == "days":
            value = api_cohort[name]
            assert (raw, text) == (("null", NULL_TEXT) if value is None else (str(value), f"D{value}")), where
        else:
            assert_shows(text, raw, api_cohort[name], COHORT_COLUMNS[name]["unit"], f"{where} {name}")


def table_rows(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "rows => rows.map(r => ({level: r.dataset.level, id: r.dataset.id, depth: r.dataset.depth,"
        " parent: r.dataset.parent, name: r.querySelector('.entity-name').textContent}))")


def wait_idle(page) -> None:
    page.wait_for_function("document.body.dataset.pending === '0'")


def assert_entity_rows(page, base: str, level: str, start: str, end: str, parent=None, **sort) -> list[dict]:
    """The page's rows of one level (under one parent) equal the API's, in order, cell by cell."""
    api = get_json(base, "/api/entities", level=level, start=start, end=end,
                   parent_id=parent["id"] if parent else None, **sort)
    parent_key = f"{parent['level']}/{parent['id']}" if parent else ""
    selector = f"#entity-table tr.entity[data-level='{level}'][data-parent='{parent_key}']"
    shown = table_rows(page, selector)
    assert [(r["id"], r["name"]) for r in shown] == [(r["entity_id"], r["name"]) for r in api["rows"]]
    assert len(shown) == min(api["total"], len(api["rows"])) and shown, f"no {level} rows shown"
    rows = page.locator(selector)
    for index, item in enumerate(api["rows"]):
        assert_row_matches(rows.nth(index), totals_of(item), f"{level} {item['entity_id']}", item)
        assert_cohort_cells(rows.nth(index), item["cohort"], f"{level} {item['entity_id']}")
    return api["rows"]


# --------------------------------------------------------------------------- the test


def test_the_page_shows_what_the_api_computed(server, browser):
    health = get_json(server, "/api/health")
    as_of = dt.date.fromisoformat(health["as_of_date"])
    window_start = dt.date.fromisoformat(health["start_date"])
    start = max(window_start, as_of - dt.timedelta(days=13)).isoformat()
    end = as_of.isoformat()

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda response: response.status >= 400 and problems.append(
        f"HTTP {response.status}: {response.url}"))
    outside: list[str] = []
    page.on("request", lambda request: request.url.startswith(server) or request.url.startswith("data:")
            or outside.append(request.url))

    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='true']", timeout=30000)
    wait_idle(page)

    # The release badge shows the release's computed_at; the range defaults to the last 14 days.
    badge = page.locator("#release")
    assert badge.get_attribute("data-computed-at") == health["computed_at"]
    assert str(health["computed_at"]).replace("T", " ")[:19] in badge.inner_text()
    assert page.input_value("#start") == start and page.input_value("#end") == end

    # The overview: four 28-day sparklines ending on the end date, each card's value the API's last day.
    overview_metrics = [m["metric"] for m in get_json(server, "/api/catalogue")["page"]["overview"]]
    assert len(overview_metrics) == 4
    overview = get_json(server, "/api/overview/campaign/sparkline", end=end, days=28,
                        metrics=",".join(overview_metrics))
    for metric in overview_metrics:
        card = page.locator(f"#overview-cards .card[data-metric='{metric}']")
        values = overview["series"][metric]
        value = card.locator(".card-value")
        assert_shows(value.inner_text(), value.get_attribute("data-value"), values[-1], UNITS[metric],
                     f"overview {metric}")
        assert card.locator("svg.spark rect.spark-hit").count() == len(overview["dates"]) == 28
        assert card.locator("svg.spark polyline, svg.spark circle").count() > 0
    assert_headline_cards(page, server, overview_metrics, start, end)

    # Data quality: each source's last date in words; the days after Meta's last date (the sample's
    # last day) drawn as incomplete (hollow, not a point of the line) in the sparklines of a metric Meta
    # feeds, and not in those of a Mixpanel-only one; the quality badge opens the API's checks.
    meta_last = health["sources"]["ad_performance_daily"]["last_date"]
    mixpanel_last = health["sources"]["mixpanel_event"]["last_date"]
    assert page.inner_text("#freshness") == f"Meta through {meta_last} · Mixpanel through {mixpanel_last}"
    incomplete = [day for day in overview["dates"] if day > meta_last]
    assert incomplete and mixpanel_last == end, "the sample's Meta data should end before its last day"
    spend_spark = page.locator("#overview-cards .card[data-metric='meta_spend'] svg.spark")
    assert spend_spark.locator("circle.spark-incomplete").count() == len(incomplete)
    assert [t.split(": ")[0] for t in spend_spark.locator("rect.spark-hit.incomplete title").all_text_contents()] \
        == incomplete
    trials_spark = page.locator("#overview-cards .card[data-metric='mixpanel_trial_count'] svg.spark")
    assert trials_spark.locator("circle.spark-incomplete").count() == 0
    assert page.locator("#entity-table tr.entity svg.spark circle.spark-incomplete").count() \
        == page.locator("#entity-table tr.entity").count() * len(incomplete)   # the row sparklines show spend
    checks = get_json(server, "/api/quality")["checks"]
    warnings = [c for c in checks if c["status"] == "warn"]
    assert warnings, "the sample's last day of events is cut short: event_volume_drop should warn"
    assert page.inner_text("#quality") == f"{len(warnings)} warning{'' if len(warnings) == 1 else 's'}"
    assert page.locator("#quality-panel").is_hidden()
    page.click("#quality")
    assert page.locator("#quality-panel").is_visible()
    shown = page.locator("#quality-table tbody tr.check")
    assert shown.evaluate_all("rows => rows.map(r => [r.dataset.check, r.dataset.status])") == [
        [c["name"], c["status"]] for c in checks]
    assert warnings[0]["detail"] in shown.nth(0).inner_text()
    page.click("#quality-close")
    assert page.locator("#quality-panel").is_hidden()

    # The campaign rows, in the API's order, every cell equal to the API's totals.
    campaigns = assert_entity_rows(page, server, "campaign", start, end)

    # Each row's 14-day sparkline: one point per day, each titled with the API's value.
    first = campaigns[0]
    first_row = page.locator(f"#entity-table tr.entity[data-key='campaign/{first['entity_id']}']")
    spark = get_json(server, f"/api/entities/campaign/{urllib.parse.quote(first['entity_id'])}/sparkline",
                     end=end, days=14, metrics="meta_spend")
    titles = first_row.locator("svg.spark rect.spark-hit title").all_text_contents()
    assert len(titles) == len(spark["dates"]) == 14
    for title, day, value in zip(titles, spark["dates"], spark["series"]["meta_spend"]):
        shown_day, _, text = title.partition(": ")
        assert shown_day == day
        assert_shows(text, str(value) if value is not None else "null", value, "usd", f"sparkline {day}")
    assert page.locator("#entity-table tr.entity[data-level='campaign'] svg.spark").count() == len(campaigns)

    # Expand the first campaign: its adsets appear right under it; then an adset's ads.
    first_row.locator("button.toggle").click()
    wait_idle(page)
    parent = {"level": "campaign", "id": first["entity_id"]}
    adsets = assert_entity_rows(page, server, "adset", start, end, parent)
    order = table_rows(page, "#entity-table tr.entity")
    position = [r["id"] for r in order].index(first["entity_id"])
    assert [r["id"] for r in order[position + 1: position + 1 + len(adsets)]] == [a["entity_id"] for a in adsets]
    adset_row = page.locator(f"#entity-table tr.entity[data-key='adset/{adsets[0]['entity_id']}']")
    adset_row.locator("button.toggle").click()
    wait_idle(page)
    assert_entity_rows(page, server, "ad", start, end, {"level": "adset", "id": adsets[0]["entity_id"]})

    # Click the campaign: its country breakdown, ALL first, then one row per country, as the API says.
    first_row.locator("td.name").click()
    wait_idle(page)
    page.wait_for_selector("#countries:not([hidden]) #country-table tbody tr.overall")
    breakdown = get_json(server, f"/api/entities/campaign/{urllib.parse.quote(first['entity_id'])}/countries",
                         start=start, end=end)
    items = breakdown if isinstance(breakdown, list) else breakdown["rows"]
    assert items[0]["breakdown_type"] == "all" and items[0]["country"] == "ALL"
    assert len(items) > 2, "the sample's first campaign should have several countries"
    rows = page.locator("#country-table tbody tr.overall, #country-table tbody tr.country")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.country)") == [item["country"] for item in items]
    for index, item in enumerate(items):
        assert_row_matches(rows.nth(index), totals_of(item), f"country {item['country']}", item)
    # the sample's small countries have rates with nothing to divide by: "—", and a title that says why
    empty = page.locator("#country-table td.no-denominator")
    assert empty.count() > 0 and empty.first.inner_text() == NULL_TEXT and empty.first.get_attribute("title")

    # The click also shows the campaign's cohort curve over the range: one point per horizon the API has
    # a ratio for; every horizon in the table below it, with the API's values and its complete days.
    page.wait_for_selector("#curve:not([hidden]) svg.curve-chart")
    curve = get_json(server, f"/api/entities/campaign/{urllib.parse.quote(first['entity_id'])}/curve",
                     start=start, end=end)
    horizons = page.locator("#curve tr.horizon")
    assert horizons.evaluate_all("rows => rows.map(r => [Number(r.dataset.horizon), Number(r.dataset.complete),"
                                 " Number(r.dataset.days)])") == [
        [h["days_since_cohort"], h["complete_cohort_days"], h["cohort_days"]] for h in curve["horizons"]]
    curve_units = {m["name"]: m["unit"] for m in catalogue().curve_metrics}
    for index, horizon in enumerate(curve["horizons"]):
        cells = horizons.nth(index).locator("td[data-curve]").evaluate_all(
            "cells => cells.map(c => [c.dataset.curve, c.dataset.value, c.textContent])")
        assert [name for name, _, _ in cells] == list(curve_units)
        for name, raw, text in cells:
            assert_shows(text, raw, horizon[name], curve_units[name], f"curve D{horizon['days_since_cohort']} {name}")
    ratio = catalogue().curve_view["ratio"]
    drawn = [h for h in curve["horizons"] if h[ratio] is not None]
    assert page.locator("#curve svg circle.curve-point").count() == len(drawn)
    # complete horizons joined solid, a segment reaching a partly complete one dashed
    partial = [h["complete_cohort_days"] < h["cohort_days"] for h in drawn]
    dashed = sum(1 for a, b in zip(partial, partial[1:]) if a or b)
    assert page.locator("#curve svg line.curve-line.incomplete").count() == dashed
    assert page.locator("#curve svg line.curve-line:not(.incomplete)").count() == len(drawn) - 1 - dashed
    assert page.locator("#curve svg circle.curve-point.horizon-partial").count() == sum(partial)
    assert any(partial), "the sample's last 14 days should have horizons only partly complete"
    compare = page.locator("#curve .curve-compare-value")
    assert float(compare.get_attribute("data-value")) == pytest.approx(totals_of(campaigns[0])["estimated_roas"])
    payback = page.locator("#curve [data-payback]").get_attribute("data-payback")
    assert payback == ("null" if curve["payback_days"] is None else str(curve["payback_days"]))

    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Collapsing the campaign removes its adsets and ads.
    first_row.locator("button.toggle").click()
    assert page.locator("#entity-table tr.entity[data-level='adset']").count() == 0
    assert page.locator("#entity-table tr.entity[data-level='ad']").count() == 0

    # Another range (the 7-day preset): the table follows the API again.
    page.click(".presets button[data-days='7']")
    wait_idle(page)
    start_7 = max(window_start, as_of - dt.timedelta(days=6)).isoformat()
    assert page.input_value("#start") == start_7
    assert_entity_rows(page, server, "campaign", start_7, end)
    assert_headline_cards(page, server, overview_metrics, start_7, end)

    # Sorting is the API's: a click on Spend reverses its default (spend, descending); a click on the name sorts by name.
    page.click("#entity-table th[data-metric='meta_spend'] button.sort")
    wait_idle(page)
    assert page.get_attribute("#entity-table th[data-metric='meta_spend']", "aria-sort") == "ascending"
    assert_entity_rows(page, server, "campaign", start_7, end, sort="meta_spend", order="asc")
    page.click("#entity-table th.name button.sort")
    wait_idle(page)
    assert_entity_rows(page, server, "campaign", start_7, end, sort="name", order="asc")

    # Every metric the page rendered (cells, headers, cards, sparkline choices) is in the catalogue.
    rendered = set(page.locator("[data-metric]").evaluate_all("nodes => nodes.map(n => n.dataset.metric)"))
    rendered |= set(page.locator("#row-metric option").evaluate_all("nodes => nodes.map(n => n.value)"))
    assert rendered and rendered <= set(UNITS), f"the page shows metrics the catalogue lacks: {rendered - set(UNITS)}"
    cohort = set(page.locator("[data-cohort]").evaluate_all("nodes => nodes.map(n => n.dataset.cohort)"))
    assert cohort == set(COHORT_COLUMNS), cohort

    # CSV: the campaign table of the page's range and sort, as the API's JSON has it
    with page.expect_download() as download:
        page.click("#entities-csv a[data-level='campaign']")
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    api_rows = get_json(server, "/api/entities", level="campaign", start=start_7, end=end, sort="name",
                        order="asc")["rows"]
    assert download.value.suggested_filename.endswith(".csv")
    assert [(r["entity_id"], float(r["totals.meta_spend"]), int(r["denominators.post_trial_user_count"]))
            for r in table] == [(r["entity_id"], r["totals"]["meta_spend"], r["denominators"]["post_trial_user_count"])
                                for r in api_rows]

    # Links: a copied URL opens the same view (range, sort, open rows, open breakdown); back undoes a step
    first_row.locator("button.toggle").click()
    wait_idle(page)
    copied = page.url
    other = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        other.goto(copied)
        other.wait_for_selector("body[data-ready='true']", timeout=30000)
        wait_idle(other)
        assert (other.input_value("#start"), other.input_value("#end")) == (start_7, end)
        assert other.get_attribute("#entity-table th.name", "aria-sort") == "ascending"
        assert_entity_rows(other, server, "adset", start_7, end, parent, sort="name", order="asc")
        assert other.get_attribute("#countries", "data-id") == first["entity_id"]
        assert other.locator("#countries").is_visible() and other.url == copied
    finally:
        other.close()
    page.go_back()
    wait_idle(page)
    assert page.locator(f"#entity-table tr.entity[data-parent='campaign/{first['entity_id']}']").count() == 0
    page.go_back()
    wait_idle(page)
    assert page.get_attribute("#entity-table th[data-metric='meta_spend']", "aria-sort") == "ascending"

    # The cohort columns sort like the others (the API sorts): D7 ROAS, descending first.
    d7 = next(name for name, column in COHORT_COLUMNS.items() if column["horizon"] == 7)
    page.click(f"#entity-table th[data-cohort='{d7}'] button.sort")
    wait_idle(page)
    assert page.get_attribute(f"#entity-table th[data-cohort='{d7}']", "aria-sort") == "descending"
    assert_entity_rows(page, server, "campaign", start_7, end, sort=d7, order="desc")

    assert not problems, "\n".join(problems)
    assert not outside, f"the page fetched something not served locally: {outside}"
    page.close()


def assert_headline_cards(page, server: str, metrics: list[str], start: str, end: str) -> None:
    """Each headline card shows the API's total over the range and its change against the previous period
    of the same length ("—" when the previous period is not in the window)."""
    body = get_json(server, "/api/overview/campaign/totals", start=start, end=end)
    days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
    for metric in metrics:
        card = page.locator(f"#overview-cards .card[data-metric='{metric}']")
        total = card.locator(".card-total")
        assert_shows(total.inner_text(), total.get_attribute("data-value"), body["totals"][metric], UNITS[metric],
                     f"headline {metric}")
        change = card.locator(".card-change")
        assert change.inner_text().endswith(f"vs the {days} days before")
        expected = body["change"][metric] if body["change"] else None
        if expected is None:
            assert change.get_attribute("data-value") == "null" and change.inner_text().startswith(NULL_TEXT)
        else:
            assert float(change.get_attribute("data-value")) == expected
            shown = float(change.inner_text().split(" %")[0].replace(",", ""))
            assert math.isclose(shown, expected * 100, abs_tol=0.05 + 1e-9), change.inner_text()
