// The dashboard page: a thin layer over the read API (`precompute serve`).
//
// Every number on the page is a value the API computed from the published
// release; this file only fetches, formats and draws. It computes no metric:
// no sums, no ratios, no averages (conventions item 9). The only arithmetic is
// unit display (a 0-1 rate shown as a percent) and placing points in an SVG.
"use strict";

// ------------------------------------------------------------------ columns

// What the page shows comes from the API's metric catalogue (GET /api/catalogue,
// read once in main()): the table columns in order, with their group, label and
// unit; the overview metrics; and the first view's defaults. This file names no
// metric. unit: usd (money), count, fraction (a 0-1 rate, shown as a percent),
// percent (the API's value is already a percent), multiple (a ratio such as ROAS,
// shown as a percent: 1.5 -> 150%).
let COLUMNS = [];           // { metric, group, label, unit, title }
let OVERVIEW_METRICS = [];  // { metric, label, unit }: the 28-day overview, and the row sparklines' choices
let SPARK_METRICS = [];
let UNIT_OF = {};
let VIEW = null;            // range_days, overview_days, row_spark_days, page_size, sort, order

function applyCatalogue(catalogue) {
  COLUMNS = catalogue.page.columns;
  OVERVIEW_METRICS = catalogue.page.overview;
  SPARK_METRICS = OVERVIEW_METRICS.map((m) => m.metric);
  UNIT_OF = Object.fromEntries(catalogue.metrics.map((m) => [m.name, m.unit]));
  VIEW = catalogue.page;
  state.rowMetric = SPARK_METRICS[0];
  state.sort = { key: VIEW.sort, order: VIEW.order };
}
const CHILD_LEVEL = { campaign: "adset", adset: "ad", ad: null };
const HEALTH_POLL_MS = 60000;

// ------------------------------------------------------------------ formatting

const FORMATS = {
  usd: new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  count: new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }),
  percent: new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
};
const NULL_TEXT = "—";

function formatValue(value, unit) {
  if (value === null || value === undefined) return NULL_TEXT;
  switch (unit) {
    case "usd": return FORMATS.usd.format(value);
    case "count": return FORMATS.count.format(value);
    case "fraction":
    case "multiple": return FORMATS.percent.format(value * 100) + "%";
    case "percent": return FORMATS.percent.format(value) + "%";
    default: return String(value);
  }
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// A metric cell: the formatted text, the API's raw value in data-value.
function metricCell(totals, column) {
  const value = totals ? totals[column.metric] : null;
  const isNull = value === null || value === undefined;
  return el("td", {
    class: "num" + (isNull ? " null" : value === 0 ? " zero" : "") + (typeof value === "number" && value < 0 ? " negative" : ""),
    title: isNull ? "no value (NULL)" : null,
    dataset: { metric: column.metric, value: isNull ? "null" : String(value) },
  }, formatValue(value, column.unit));
}

// ------------------------------------------------------------------ API

function setPending(delta) {
  const body = document.body;
  body.dataset.pending = String(Number(body.dataset.pending || 0) + delta);
}

async function api(path, params) {
  const url = new URL("api/" + path, document.baseURI);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  setPending(1);
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    if (!response.ok) {
      const detail = body && body.detail !== undefined ? body.detail : response.statusText;
      const message = typeof detail === "string" ? detail
        : Array.isArray(detail) ? detail.map((d) => [].concat(d.loc || []).join(".") + ": " + d.msg).join("; ")
        : JSON.stringify(detail);
      throw new Error(`${url.pathname}: ${response.status} ${message}`);
    }
    return body;
  } finally {
    setPending(-1);
  }
}

function entityPath(level, id, tail) {
  return `entities/${encodeURIComponent(level)}/${encodeURIComponent(id)}/${tail}`;
}

function showError(error) {
  const box = document.getElementById("error");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  console.error(error);
  box.hidden = false;
  box.textContent = "Could not load: " + (error.message || error);
}

// ------------------------------------------------------------------ sparklines

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

// An inline SVG line of one series; null values leave a gap; every day has a
// hover title with its date and formatted value.
function sparkline(dates, values, unit, { width = 96, height = 26, label = "" } = {}) {
  const pad = 2;
  const numbers = values.filter((v) => v !== null && v !== undefined);
  const low = Math.min(0, ...numbers);
  const high = Math.max(0, ...numbers);
  const span = high - low || 1;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const x = (i) => pad + i * step;
  const y = (v) => height - pad - ((v - low) / span) * (height - 2 * pad);

  const root = svg("svg", {
    class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${label} ${dates[0] || ""} to ${dates[dates.length - 1] || ""}`.trim(),
  });
  if (low < 0) root.append(svg("line", { class: "spark-zero", x1: 0, x2: width, y1: y(0), y2: y(0) }));
  let segment = [];
  const flush = () => {
    if (segment.length > 1) root.append(svg("polyline", { class: "spark-line", points: segment.join(" ") }));
    else if (segment.length === 1) {
      const [px, py] = segment[0].split(",");
      root.append(svg("circle", { class: "spark-dot", cx: px, cy: py, r: 1.5 }));
    }
    segment = [];
  };
  values.forEach((v, i) => {
    if (v === null || v === undefined) flush();
    else segment.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  flush();
  const last = values.length - 1;
  if (last >= 0 && values[last] !== null && values[last] !== undefined) {
    root.append(svg("circle", { class: "spark-last", cx: x(last).toFixed(1), cy: y(values[last]).toFixed(1), r: 2 }));
  }
  // One transparent band per day, for the hover title.
  const band = values.length ? width / values.length : width;
  values.forEach((v, i) => {
    const title = svg("title");
    title.textContent = `${dates[i]}: ${formatValue(v, unit)}`;
    root.append(svg("rect", { class: "spark-hit", x: (i * band).toFixed(1), y: 0, width: band.toFixed(1), height }, title));
  });
  return root;
}

// ------------------------------------------------------------------ state

const state = {
  health: null,
  start: null,
  end: null,
  rowMetric: null,       // the metric of the row sparklines (set from the catalogue)
  sort: null,            // { key, order }: the API's sort and order of the entity table
  expanded: new Set(),   // "level/id" of expanded rows, kept across range changes
  selected: null,        // { level, id, name } of the row whose countries are shown
  generation: 0,         // bumps on every reload; late answers of an old one are dropped
};

const key = (level, id) => `${level}/${id}`;

// ------------------------------------------------------------------ dates

function isoDay(date) { return date.toISOString().slice(0, 10); }
function addDays(iso, days) {
  const date = new Date(iso + "T00:00:00Z");
  date.setUTCDate(date.getUTCDate() + days);
  return isoDay(date);
}
function lastDays(days) {
  const { start_date: first, as_of_date: last } = state.health;
  const start = days === "all" ? first : addDays(last, -(Number(days) - 1));
  return { start: start < first ? first : start, end: last };
}

// ------------------------------------------------------------------ release badge

function renderBadge() {
  const health = state.health;
  const badge = document.getElementById("release");
  badge.textContent = health.computed_at
    ? `Computed ${String(health.computed_at).replace("T", " ").slice(0, 19)} UTC`
    : "Computed: unknown";
  badge.dataset.computedAt = health.computed_at;
  badge.dataset.runId = health.run_id;
  badge.title = `Release ${health.run_id}; window ${health.start_date} to ${health.as_of_date}` +
    (health.trial_days != null ? `; trial ${health.trial_days} days` : "") +
    (health.age_seconds != null ? `; ${ageText(health.age_seconds)} old` : "");
}

function ageText(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

// ------------------------------------------------------------------ overview

async function loadOverview(generation) {
  const level = document.getElementById("overview-level").value;
  document.getElementById("overview-end").textContent = state.end;
  const cards = document.getElementById("overview-cards");
  cards.replaceChildren(...OVERVIEW_METRICS.map((m) => el("div", { class: "card loading", dataset: { metric: m.metric } },
    el("div", { class: "card-label" }, m.label))));
  const [data, range] = await Promise.all([
    api(`overview/${encodeURIComponent(level)}/sparkline`, {
      end: state.end, days: VIEW.overview_days, metrics: SPARK_METRICS.join(","),
    }),
    api(`overview/${encodeURIComponent(level)}/totals`, { start: state.start, end: state.end }),
  ]);
  if (generation !== state.generation) return;
  cards.replaceChildren(...OVERVIEW_METRICS.map((m) => {
    const values = data.series[m.metric] || [];
    const unit = UNIT_OF[m.metric];
    const lastValue = values.length ? values[values.length - 1] : null;
    return el("div", { class: "card", dataset: { metric: m.metric } },
      el("div", { class: "card-label" }, m.label),
      ...headline(m, range),
      el("div", { class: "card-value", dataset: { value: lastValue === null ? "null" : String(lastValue) } },
        formatValue(lastValue, unit)),
      el("div", { class: "card-sub" }, `last day, ${data.dates[data.dates.length - 1] || state.end}`),
      sparkline(data.dates, values, unit, { width: 260, height: 56, label: m.label }),
      el("div", { class: "card-axis" }, el("span", {}, data.dates[0] || ""), el("span", {}, data.dates[data.dates.length - 1] || "")));
  }));
}

// ------------------------------------------------------------------ entity table

// A column header; in the entity table (sortable) a button that asks the API to sort by it.
function headCell(sortKey, label, attrs, sortable) {
  if (!sortable) return el("th", attrs, label);
  const active = state.sort.key === sortKey;
  const arrow = active ? (state.sort.order === "desc" ? " ▼" : " ▲") : "";
  return el("th", { ...attrs, "aria-sort": active ? (state.sort.order === "desc" ? "descending" : "ascending") : null,
    class: ((attrs.class || "") + " sortable" + (active ? " sorted" : "")).trim() },
  el("button", { type: "button", class: "sort", dataset: { sort: sortKey }, onclick: () => sortBy(sortKey) }, label + arrow));
}

function renderHead(table, firstLabel, sortable) {
  const top = el("tr");
  const bottom = el("tr");
  top.append(headCell("name", firstLabel, { rowspan: 2, class: "name", scope: "col" }, sortable));
  if (sortable) top.append(el("th", { rowspan: 2, class: "spark-col", scope: "col" }, "14 days"));
  let i = 0;
  while (i < COLUMNS.length) {
    const column = COLUMNS[i];
    if (!column.group) {
      top.append(headCell(column.metric, column.label,
        { rowspan: 2, scope: "col", title: column.title, dataset: { metric: column.metric } }, sortable));
      i += 1;
      continue;
    }
    let span = 0;
    while (i + span < COLUMNS.length && COLUMNS[i + span].group === column.group) {
      const member = COLUMNS[i + span];
      bottom.append(headCell(member.metric, member.label,
        { scope: "col", title: member.title, dataset: { metric: member.metric } }, sortable));
      span += 1;
    }
    top.append(el("th", { colspan: span, scope: "colgroup", class: "group" }, column.group));
    i += span;
  }
  table.tHead.replaceChildren(top, bottom);
}

function entityRow(row, depth, parentKey) {
  const level = row.entity_type;
  const childLevel = CHILD_LEVEL[level];
  const rowKey = key(level, row.entity_id);
  const toggle = childLevel
    ? el("button", { type: "button", class: "toggle", "aria-expanded": "false",
        "aria-label": `Show ${childLevel}s of ${row.name}`, onclick: (event) => { event.stopPropagation(); toggleRow(tr); } }, "▸")
    : el("span", { class: "toggle-spacer" });
  const sparkCell = el("td", { class: "spark-cell" }, el("span", { class: "spark-loading" }, "…"));
  const tr = el("tr", {
    class: `entity level-${level}` + (state.selected && state.selected.key === rowKey ? " selected" : ""),
    tabindex: 0,
    dataset: { level, id: row.entity_id, key: rowKey, depth: String(depth), parent: parentKey || "" },
    onclick: () => selectRow(tr, row),
    onkeydown: (event) => { if (event.key === "Enter") selectRow(tr, row); },
  },
  el("td", { class: "name", style: `--depth:${depth}` },
    toggle,
    el("span", { class: "level-tag" }, level),
    el("span", { class: "entity-name", title: row.name === row.entity_id ? row.entity_id : `${row.name} (${row.entity_id})` }, row.name)),
  sparkCell,
  ...COLUMNS.map((column) => rateCell(row, row.totals, column)));
  tr._row = row;
  tr._sparkCell = sparkCell;
  return tr;
}

// The 14-day sparklines of a set of rows of one level (one parent): one request.
async function loadRowSparklines(rows, level, parentId, generation) {
  if (!rows.length) return;
  try {
    const data = await api("sparklines", {
      level, parent_id: parentId, end: state.end, days: VIEW.row_spark_days, metrics: SPARK_METRICS.join(","),
    });
    if (generation !== state.generation) return;
    for (const tr of rows) {
      const series = data.series[tr.dataset.id];
      tr._spark = series ? { dates: data.dates, series } : null;
      if (tr._spark) drawRowSparkline(tr);
      else tr._sparkCell.replaceChildren(el("span", { class: "spark-error", title: "no sparkline" }, "!"));
    }
  } catch (error) {
    if (generation !== state.generation) return;
    for (const tr of rows) tr._sparkCell.replaceChildren(el("span", { class: "spark-error", title: error.message }, "!"));
  }
}

function drawRowSparkline(tr) {
  if (!tr._spark) return;
  const values = tr._spark.series[state.rowMetric] || [];
  tr._sparkCell.replaceChildren(sparkline(tr._spark.dates, values, UNIT_OF[state.rowMetric], { label: state.rowMetric }));
}

// Rows of one level (top level, or the children of one parent), VIEW.page_size at a time.
async function fetchRows(level, parentId, offset) {
  return api("entities", {
    level, parent_id: parentId, start: state.start, end: state.end,
    sort: state.sort.key, order: state.sort.order, limit: VIEW.page_size, offset,
  });
}

// Inserts rows after `anchor` (or at the end of tbody); returns the last inserted row.
function insertRows(tbody, anchor, rows) {
  let last = anchor;
  for (const tr of rows) {
    if (last) last.after(tr); else tbody.append(tr);
    last = tr;
  }
  return last;
}

function moreRow(level, parentId, depth, parentKey, loaded, total, generation) {
  const tr = el("tr", { class: "more", dataset: { depth: String(depth), parent: parentKey || "" } },
    el("td", { colspan: 2 + COLUMNS.length, style: `--depth:${depth}` },
      el("button", { type: "button", onclick: async (event) => {
        event.stopPropagation();
        event.target.disabled = true;
        try {
          const page = await fetchRows(level, parentId, loaded);
          if (generation !== state.generation) return;
          const rows = page.rows.map((row) => entityRow(row, depth, parentKey));
          const last = insertRows(tr.parentNode, tr.previousElementSibling, rows);
          tr.remove();
          loadRowSparklines(rows, level, parentId, generation);
          if (loaded + page.rows.length < page.total) {
            last.after(moreRow(level, parentId, depth, parentKey, loaded + page.rows.length, page.total, generation));
          }
        } catch (error) { showError(error); event.target.disabled = false; }
      } }, `Show more (${loaded} of ${total} shown)`)));
  return tr;
}

async function showLevel(tbody, anchor, level, parentId, depth, parentKey, generation) {
  const page = await fetchRows(level, parentId, 0);
  if (generation !== state.generation) return [];
  const rows = page.rows.map((row) => entityRow(row, depth, parentKey));
  if (!rows.length && depth > 0) {
    const empty = el("tr", { class: "empty", dataset: { depth: String(depth), parent: parentKey } },
      el("td", { colspan: 2 + COLUMNS.length, style: `--depth:${depth}` }, `No ${level}s in this range.`));
    insertRows(tbody, anchor, [empty]);
    return [];
  }
  const last = insertRows(tbody, anchor, rows);
  if (page.rows.length < page.total) last.after(moreRow(level, parentId, depth, parentKey, page.rows.length, page.total, generation));
  loadRowSparklines(rows, level, parentId, generation);
  // Re-open what was open before a reload.
  await Promise.all(rows.filter((tr) => state.expanded.has(tr.dataset.key)).map((tr) => expandRow(tr, generation)));
  return rows;
}

function descendants(tr) {
  const out = [];
  const keys = new Set([tr.dataset.key]);
  let next = tr.nextElementSibling;
  while (next && keys.has(next.dataset.parent)) {
    out.push(next);
    if (next.dataset.key) keys.add(next.dataset.key);
    next = next.nextElementSibling;
  }
  return out;
}

async function expandRow(tr, generation) {
  const button = tr.querySelector(".toggle");
  button.setAttribute("aria-expanded", "true");
  button.textContent = "▾";
  tr.classList.add("expanded");
  state.expanded.add(tr.dataset.key);
  // Children sit right after the row, before any sibling.
  const childLevel = CHILD_LEVEL[tr.dataset.level];
  await showLevel(tr.parentNode, tr, childLevel, tr.dataset.id, Number(tr.dataset.depth) + 1, tr.dataset.key, generation);
}

function collapseRow(tr) {
  const button = tr.querySelector(".toggle");
  button.setAttribute("aria-expanded", "false");
  button.textContent = "▸";
  tr.classList.remove("expanded");
  for (const child of descendants(tr)) {
    if (child.dataset.key) state.expanded.delete(child.dataset.key);
    child.remove();
  }
  state.expanded.delete(tr.dataset.key);
}

async function toggleRow(tr) {
  if (tr.classList.contains("expanded")) { collapseRow(tr); saveView(); return; }
  const expanding = expandRow(tr, state.generation);
  saveView();
  try { await expanding; } catch (error) { showError(error); }
}

async function loadTable(generation) {
  const table = document.getElementById("entity-table");
  renderHead(table, "Campaign / adset / ad", true);
  const tbody = table.tBodies[0];
  tbody.replaceChildren(el("tr", { class: "loading" }, el("td", { colspan: 2 + COLUMNS.length }, "Loading…")));
  const placeholder = tbody.firstChild;
  const rows = await showLevel(tbody, placeholder, "campaign", null, 0, "", generation);
  if (generation !== state.generation) return;
  placeholder.remove();
  if (!rows.length && !tbody.children.length) {
    tbody.append(el("tr", { class: "empty" }, el("td", { colspan: 2 + COLUMNS.length }, "No campaigns in this range.")));
  }
}

// Sorts every level of the table (the API sorts; a second click reverses).
async function sortBy(sortKey) {
  const same = state.sort.key === sortKey;
  state.sort = { key: sortKey, order: same ? (state.sort.order === "desc" ? "asc" : "desc") : sortKey === "name" ? "asc" : "desc" };
  await reload();
}

// ------------------------------------------------------------------ country breakdown

function selectRow(tr, row) {
  document.querySelectorAll("#entity-table tr.selected").forEach((other) => other.classList.remove("selected"));
  tr.classList.add("selected");
  state.selected = { level: row.entity_type, id: row.entity_id, name: row.name, key: tr.dataset.key };
  saveView();
  loadCountries(state.generation).catch(showError);
}

async function loadCountries(generation) {
  const section = document.getElementById("countries");
  const selected = state.selected;
  if (!selected) { section.hidden = true; return; }
  section.hidden = false;
  section.dataset.level = selected.level;
  section.dataset.id = selected.id;
  document.getElementById("countries-title").textContent =
    `Countries: ${selected.name} (${selected.level}), ${state.start} to ${state.end}`;
  const table = document.getElementById("country-table");
  renderHead(table, "Country", false);
  const tbody = table.tBodies[0];
  tbody.replaceChildren(el("tr", { class: "loading" }, el("td", { colspan: 1 + COLUMNS.length }, "Loading…")));
  setCountriesCsvLink(selected);
  const breakdown = await api(entityPath(selected.level, selected.id, "countries"), { start: state.start, end: state.end });
  if (generation !== state.generation || state.selected !== selected) return;
  const rows = Array.isArray(breakdown) ? breakdown : breakdown.rows || [];
  tbody.replaceChildren(...rows.map((item) => {
    const overall = item.breakdown_type === "all";
    const totals = item.totals || item;
    return el("tr", { class: overall ? "overall" : "country", dataset: { country: item.country } },
      el("td", { class: "name" }, overall ? "All countries" : item.country),
      ...COLUMNS.map((column) => rateCell(item, totals, column)));
  }));
  if (rows.length <= 1) {
    tbody.append(el("tr", { class: "empty" }, el("td", { colspan: 1 + COLUMNS.length }, "No country rows in this range.")));
  }
  section.scrollIntoView({ block: "nearest" });
}

// ------------------------------------------------------------------ rates and their denominators

// A rate's cell, from the API's denominators and provisional flags of the same
// row: "—" when the rate's denominator is 0 (nothing to divide by yet; the title
// says why), the denominator beside the rate when it is small ("39.0% of 64"),
// and a mark when the API flags the rate provisional (young cohorts, refunds to come).
function rateCell(source, totals, column) {
  const td = metricCell(totals, column);
  const denominators = source && source.denominators;
  if (!column.denominator || !denominators) return td;
  const count = denominators[column.denominator];
  td.dataset.denominator = String(count);
  if (count === 0) {
    td.classList.add("no-denominator");
    td.title = (column.empty || "nothing to divide by").replace("{trial_days}", state.health.trial_days);
    td.replaceChildren(el("span", { class: "value" }, NULL_TEXT));
    return td;
  }
  td.replaceChildren(el("span", { class: "value" }, td.textContent));
  if (count < VIEW.few) td.append(el("span", { class: "of", title: `out of ${count}` }, ` of ${FORMATS.count.format(count)}`));
  if (column.provisional && source.provisional && source.provisional[column.metric]) {
    td.classList.add("provisional");
    td.dataset.provisional = "true";
    const maturity = state.health.refund_maturity_days;
    td.title = `Provisional: most of these ${FORMATS.count.format(count)} cohort entries are younger than ` +
      (maturity != null ? `${maturity} days` : "the refund maturity period") + ", and refunds may still come";
    td.append(el("span", { class: "provisional-mark", "aria-label": "provisional" }, "prov."));
  }
  return td;
}

// ------------------------------------------------------------------ headline cards

// A card's total over the chosen range and its change against the previous period
// of the same length, both from GET /api/overview/{level}/totals.
function headline(m, range) {
  const unit = UNIT_OF[m.metric];
  const total = range.totals[m.metric];
  const days = Math.round((Date.parse(range.end) - Date.parse(range.start)) / 86400000) + 1;
  const before = `vs the ${days} day${days === 1 ? "" : "s"} before`;
  const change = range.change ? range.change[m.metric] : null;
  let text = `${NULL_TEXT} ${before}`;
  let title = range.previous ? `the ${days} days before have no ${m.label.toLowerCase()}` :
    `the ${days} days before ${range.start} are not all in the release's window`;
  if (change !== null && change !== undefined) {
    text = `${change > 0 ? "+" : ""}${FORMATS.percent.format(change * 100)} % ${before}`;
    title = `${range.previous.start} to ${range.previous.end}: ${formatValue(range.previous.totals[m.metric], unit)}`;
  }
  return [
    el("div", { class: "card-total", dataset: { value: String(total) } }, formatValue(total, unit)),
    el("div", { class: "card-range" }, `${range.start} to ${range.end}`),
    el("div", { class: "card-change" + (change > 0 ? " up" : change < 0 ? " down" : ""), title,
      dataset: { value: change === null || change === undefined ? "null" : String(change) } }, text),
  ];
}

// ------------------------------------------------------------------ CSV downloads

// Links to the API's CSV answers (format=csv: the same rows and columns as its JSON).
function csvUrl(path, params) {
  const url = new URL("api/" + path, document.baseURI);
  for (const [name, value] of Object.entries(params)) if (value !== null && value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set("format", "csv");
  return url.pathname + url.search;
}

function updateEntityCsvLinks() {
  document.querySelectorAll("#entities-csv a[data-level]").forEach((link) => {
    link.href = csvUrl("entities", { level: link.dataset.level, start: state.start, end: state.end,
      sort: state.sort.key, order: state.sort.order, limit: VIEW.csv_rows });
  });
}

function setCountriesCsvLink(selected) {
  document.getElementById("countries-csv").href =
    csvUrl(entityPath(selected.level, selected.id, "countries"), { start: state.start, end: state.end });
}

// ------------------------------------------------------------------ the view in the URL

// The page's state is in its URL (range, overview level, sort, row metric, open
// rows, open breakdown): a copied link opens the same view, and every change is a
// history entry, so that the back button returns to the view before it.
let restoring = false;

function viewQuery() {
  const params = new URLSearchParams();
  params.set("start", state.start);
  params.set("end", state.end);
  params.set("level", document.getElementById("overview-level").value);
  params.set("sort", state.sort.key);
  params.set("order", state.sort.order);
  params.set("metric", state.rowMetric);
  for (const rowKey of state.expanded) params.append("open", rowKey);
  if (state.selected) params.set("breakdown", state.selected.key);
  return "?" + params.toString();
}

function saveView() {
  if (restoring || !state.health || !state.start) return;
  const query = viewQuery();
  if (query !== window.location.search) history.pushState(null, "", query);
}

// Reads the URL's view into the state and the controls; a missing or invalid part takes its default.
function readView() {
  const params = new URLSearchParams(window.location.search);
  const { start_date: first, as_of_date: last } = state.health;
  const inWindow = (day) => /^\d{4}-\d{2}-\d{2}$/.test(day || "") && day >= first && day <= last;
  const start = params.get("start");
  const end = params.get("end");
  const range = inWindow(start) && inWindow(end) && start <= end ? { start, end } : lastDays(VIEW.range_days);
  setRange(range.start, range.end);
  const level = params.get("level");
  document.getElementById("overview-level").value = level in CHILD_LEVEL ? level : "campaign";
  const sortKey = params.get("sort");
  state.sort = ["name", ...COLUMNS.map((c) => c.metric)].includes(sortKey)
    ? { key: sortKey, order: params.get("order") === "asc" ? "asc" : "desc" }
    : { key: VIEW.sort, order: VIEW.order };
  const metric = params.get("metric");
  state.rowMetric = SPARK_METRICS.includes(metric) ? metric : SPARK_METRICS[0];
  document.getElementById("row-metric").value = state.rowMetric;
  state.expanded = new Set(params.getAll("open").filter((rowKey) => /^(campaign|adset)\/./.test(rowKey)));
  const breakdown = /^(campaign|adset|ad)\/(.+)$/.exec(params.get("breakdown") || "");
  state.selected = breakdown ? { level: breakdown[1], id: breakdown[2], name: breakdown[2], key: breakdown[0] } : null;
  if (!state.selected) document.getElementById("countries").hidden = true;
}

// Shows the URL's view: on first load ("replace": the URL then names every part of
// the view) and on the back and forward buttons ("pop").
async function restoreView(how) {
  restoring = true;
  readView();
  if (how === "replace") history.replaceState(null, "", viewQuery());
  const loading = reload();
  restoring = false;
  await loading;
  const selected = state.selected;
  const tr = selected && document.querySelector(`#entity-table tr.entity[data-key="${CSS.escape(selected.key)}"]`);
  if (tr && tr._row.name !== selected.name) {
    selected.name = tr._row.name;
    document.getElementById("countries-title").textContent =
      `Countries: ${selected.name} (${selected.level}), ${state.start} to ${state.end}`;
  }
}

// ------------------------------------------------------------------ wiring

function rangeLabel() {
  document.getElementById("range-label").textContent = `${state.start} to ${state.end}`;
}

async function reload() {
  saveView();
  updateEntityCsvLinks();
  const generation = ++state.generation;
  showError(null);
  rangeLabel();
  const jobs = [loadOverview(generation), loadTable(generation)];
  if (state.selected) jobs.push(loadCountries(generation));
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r) => r.status === "rejected");
  if (failed && generation === state.generation) showError(failed.reason);
}

function setRange(start, end) {
  state.start = start;
  state.end = end;
  document.getElementById("start").value = start;
  document.getElementById("end").value = end;
}

function applyWindow(health) {
  for (const id of ["start", "end"]) {
    const input = document.getElementById(id);
    input.min = health.start_date;
    input.max = health.as_of_date;
  }
}

async function pollHealth() {
  try {
    const health = await api("health");
    if (health.run_id !== state.health.run_id) {
      // A new release was published: read it, keeping the range when it still fits.
      state.health = health;
      applyWindow(health);
      if (state.start < health.start_date || state.end > health.as_of_date) {
        const range = lastDays(VIEW.range_days);
        setRange(range.start, range.end);
      }
      await reload();
    }
    state.health = health;
    renderBadge();
  } catch (error) {
    document.getElementById("release").classList.add("stale");
  }
}

async function main() {
  try {
    applyCatalogue(await api("catalogue"));
  } catch (error) {
    showError(error);
    return;
  }
  const rowMetric = document.getElementById("row-metric");
  rowMetric.replaceChildren(...OVERVIEW_METRICS.map((m) => el("option", { value: m.metric }, m.label)));
  rowMetric.addEventListener("change", () => {
    state.rowMetric = rowMetric.value;
    saveView();
    document.querySelectorAll("#entity-table tr.entity").forEach(drawRowSparkline);
  });
  document.getElementById("overview-level").addEventListener("change", () => {
    saveView();
    loadOverview(state.generation).catch(showError);
  });
  document.getElementById("countries-close").addEventListener("click", () => {
    state.selected = null;
    document.getElementById("countries").hidden = true;
    document.querySelectorAll("#entity-table tr.selected").forEach((tr) => tr.classList.remove("selected"));
    saveView();
  });
  const form = document.getElementById("range");
  form.addEventListener("change", () => {
    const start = document.getElementById("start").value;
    const end = document.getElementById("end").value;
    if (!start || !end) return;
    state.start = start;
    state.end = end;
    reload();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.querySelectorAll(".presets button").forEach((button) => button.addEventListener("click", () => {
    const range = lastDays(button.dataset.days);
    setRange(range.start, range.end);
    reload();
  }));

  try {
    state.health = await api("health");
  } catch (error) {
    document.getElementById("release").textContent = "No release";
    showError(error);
    return;
  }
  renderBadge();
  applyWindow(state.health);
  await restoreView("replace");
  window.addEventListener("popstate", () => restoreView("pop"));
  document.body.dataset.ready = "true";
  setInterval(pollHealth, HEALTH_POLL_MS);
}

document.addEventListener("DOMContentLoaded", main);
