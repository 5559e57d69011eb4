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
let FED_BY = {};            // metric -> the dated source tables a day of it rests on (catalogue `fed_by`)
let VIEW = null;            // range_days, overview_days, row_spark_days, page_size, sort, order

function applyCatalogue(catalogue) {
  COLUMNS = catalogue.page.columns;
  OVERVIEW_METRICS = catalogue.page.overview;
  SPARK_METRICS = OVERVIEW_METRICS.map((m) => m.metric);
  UNIT_OF = Object.fromEntries(catalogue.metrics.map((m) => [m.name, m.unit]));
  FED_BY = Object.fromEntries(catalogue.metrics.map((m) => [m.name, m.fed_by || []]));
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
// hover title with its date and formatted value. Days after `incompleteAfter`
// (a source's last date, see incompleteAfter()) are not part of the line: each is
// a hollow grey dot on a grey band (class spark-incomplete), not a zero.
function sparkline(dates, values, unit, { width = 96, height = 26, label = "", incompleteAfter = null } = {}) {
  const incomplete = (i) => incompleteAfter !== null && dates[i] > incompleteAfter;
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
    if (v === null || v === undefined || incomplete(i)) flush();
    else segment.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  flush();
  drawIncompleteDays(root, values, incomplete, { x, y, width, height });
  const last = values.length - 1;
  if (last >= 0 && values[last] !== null && values[last] !== undefined && !incomplete(last)) {
    root.append(svg("circle", { class: "spark-last", cx: x(last).toFixed(1), cy: y(values[last]).toFixed(1), r: 2 }));
  }
  // One transparent band per day, for the hover title.
  const band = values.length ? width / values.length : width;
  values.forEach((v, i) => {
    const title = svg("title");
    title.textContent = `${dates[i]}: ${formatValue(v, unit)}`;
    root.append(svg("rect", { class: "spark-hit" + (incomplete(i) ? " incomplete" : ""), x: (i * band).toFixed(1), y: 0, width: band.toFixed(1), height }, title));
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

// ------------------------------------------------------------------ data quality: freshness and checks

const SYSTEM_LABELS = { meta: "Meta", mixpanel: "Mixpanel" };

// The last date of the sources a metric's days rest on (the earliest, when several
// do), from /api/health `sources` and the catalogue's `fed_by`; the days after it
// are incomplete. null: nothing known (a release made before sources were recorded).
function incompleteAfter(metric) {
  const sources = (state.health && state.health.sources) || {};
  const dates = (FED_BY[metric] || []).map((table) => sources[table] && sources[table].last_date).filter(Boolean);
  return dates.length ? dates.reduce((a, b) => (a < b ? a : b)) : null;
}

// "Meta through 2025-01-21 · Mixpanel through 2025-01-22": the last date of each
// source table the metrics rest on.
function freshnessText() {
  const sources = (state.health && state.health.sources) || {};
  const tables = [...new Set(Object.values(FED_BY).flat())].filter((table) => sources[table]);
  return tables.map((table) => `${SYSTEM_LABELS[sources[table].system] || table} through ${sources[table].last_date || "—"}`)
    .join(" · ");
}

function renderFreshness() {
  const line = document.getElementById("freshness");
  const sources = (state.health && state.health.sources) || {};
  line.textContent = freshnessText();
  line.hidden = !line.textContent;
  line.title = "Rows and dates of each source table of the release:\n" + Object.entries(sources).map(([table, s]) =>
    `${table}: ${FORMATS.count.format(s.rows)} rows` + (s.last_date ? `, ${s.first_date} to ${s.last_date}` : "")).join("\n") +
    "\nDays after a source's last date are incomplete: sparklines draw them as hollow grey dots.";
}

// The hollow grey dots (and band) of a sparkline's incomplete days.
function drawIncompleteDays(root, values, incomplete, { x, y, width, height }) {
  const band = values.length ? width / values.length : width;
  values.forEach((v, i) => {
    if (!incomplete(i)) return;
    root.append(svg("rect", { class: "spark-incomplete-band", x: (i * band).toFixed(1), y: 0, width: band.toFixed(1), height }));
    root.append(svg("circle", { class: "spark-incomplete", cx: x(i).toFixed(1), cy: y(v || 0).toFixed(1), r: 2 }));
  });
}

// The quality badge ("2 warnings") and the panel of checks it opens (GET /api/quality).
async function loadQuality() {
  const badge = document.getElementById("quality");
  let checks;
  try {
    checks = (await api("quality")).checks;
  } catch (error) {
    badge.hidden = false;
    badge.textContent = "Quality: unknown";
    badge.title = error.message;
    return;
  }
  const warnings = checks.filter((c) => c.status === "warn");
  badge.hidden = false;
  badge.textContent = warnings.length ? `${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : "All checks pass";
  badge.classList.toggle("warn", warnings.length > 0);
  badge.dataset.warnings = String(warnings.length);
  badge.title = "Data-quality checks of this release: click to see them";
  const tbody = document.querySelector("#quality-table tbody");
  tbody.replaceChildren(...checks.map((c) => el("tr", { class: `check ${c.status}`, dataset: { check: c.name, status: c.status } },
    el("td", { class: "status" }, c.status === "warn" ? "⚠ warn" : "✓ pass"),
    el("td", {}, c.name + (c.subject ? ` (${c.subject})` : "")),
    el("td", { class: "num" }, FORMATS.count.format(c.count)),
    el("td", { class: "detail" }, c.detail))));
}

function toggleQualityPanel(open) {
  const panel = document.getElementById("quality-panel");
  panel.hidden = open === undefined ? !panel.hidden : !open;
  document.getElementById("quality").setAttribute("aria-expanded", String(!panel.hidden));
  if (!panel.hidden) panel.scrollIntoView({ block: "nearest" });
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
      sparkline(data.dates, values, unit, { width: 260, height: 56, label: m.label, incompleteAfter: incompleteAfter(m.metric) }),
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
  if (sortable) top.append(...cohortHeadCells());
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
  ...COLUMNS.map((column) => rateCell(row, row.totals, column)),
  ...COHORT_COLUMNS.map((column) => cohortCell(row.cohort, column)));
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
  tr._sparkCell.replaceChildren(sparkline(tr._spark.dates, values, UNIT_OF[state.rowMetric],
    { label: state.rowMetric, incompleteAfter: incompleteAfter(state.rowMetric) }));
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
    el("td", { colspan: 2 + COLUMNS.length + COHORT_COLUMNS.length, style: `--depth:${depth}` },
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
      el("td", { colspan: 2 + COLUMNS.length + COHORT_COLUMNS.length, style: `--depth:${depth}` }, `No ${level}s in this range.`));
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
  tbody.replaceChildren(el("tr", { class: "loading" }, el("td", { colspan: 2 + COLUMNS.length + COHORT_COLUMNS.length }, "Loading…")));
  const placeholder = tbody.firstChild;
  const rows = await showLevel(tbody, placeholder, "campaign", null, 0, "", generation);
  if (generation !== state.generation) return;
  placeholder.remove();
  if (!rows.length && !tbody.children.length) {
    tbody.append(el("tr", { class: "empty" }, el("td", { colspan: 2 + COLUMNS.length + COHORT_COLUMNS.length }, "No campaigns in this range.")));
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
  loadCurve(state.generation).catch(showError);
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

// ------------------------------------------------------------------ cohort curves

// The cohort curves (docs/metrics.md §9), also from the catalogue: the entity
// table's cohort columns (the ratio at a few horizons, the payback day), the
// fields of a curve's horizon, and which range metric a curve is drawn beside.
let COHORT_COLUMNS = [];  // { name, horizon, unit, label }; horizon null: the payback day (unit "days")
let CURVE_METRICS = [];   // { name, unit, label }
let CURVE_VIEW = null;    // { ratio, compare }

function applyCohortCatalogue(catalogue) {
  COHORT_COLUMNS = catalogue.page.cohort_columns;
  CURVE_METRICS = catalogue.curve_metrics;
  CURVE_VIEW = catalogue.page.curve;
}

function formatCohort(value, unit) {
  if (unit !== "days") return formatValue(value, unit);
  return value === null || value === undefined ? NULL_TEXT : `D${value}`;
}

function cohortTitle(column) {
  return column.horizon === null
    ? "The first horizon whose cohort ROAS over the range's complete cohort days reaches 100%"
    : `Actual net revenue within ${column.horizon} days of each cohort day / its spend, over the range's cohort days complete for D${column.horizon}`;
}

function cohortHeadCells() {
  return COHORT_COLUMNS.map((column) => headCell(column.name, column.label,
    { rowspan: 2, scope: "col", class: "cohort", title: cohortTitle(column), dataset: { cohort: column.name } }, true));
}

// A cohort cell: like a metric cell, keyed data-cohort (it is not a total of the day rows).
function cohortCell(cohort, column) {
  const value = cohort ? cohort[column.name] : null;
  const isNull = value === null || value === undefined;
  const why = column.horizon === null ? "no payback within the complete horizons"
    : `no cohort day of the range is complete for D${column.horizon} yet`;
  return el("td", {
    class: "num cohort" + (isNull ? " null" : value === 0 ? " zero" : "") + (typeof value === "number" && value < 0 ? " negative" : ""),
    title: isNull ? why : null,
    dataset: { cohort: column.name, value: isNull ? "null" : String(value) },
  }, formatCohort(value, column.unit));
}

// Which part of a curve a horizon is: every cohort day of the range complete for
// it (drawn solid), some (dashed, labelled), none (not drawn: nothing has arrived).
function horizonState(h) {
  if (h.complete_cohort_days === 0) return "none";
  return h.complete_cohort_days === h.cohort_days ? "complete" : "partial";
}

function horizonNote(h) {
  const state = horizonState(h);
  if (state === "none") return `D${h.days_since_cohort}: incomplete, no cohort day has reached it yet`;
  if (state === "partial") return `D${h.days_since_cohort}: incomplete, over ${h.complete_cohort_days} of ${h.cohort_days} cohort days`;
  return `D${h.days_since_cohort}: complete, over all ${h.cohort_days} cohort days`;
}

// The curve as an inline SVG: one column per horizon; complete horizons joined
// solid, a segment that reaches an incomplete one dashed; horizons without a
// complete cohort day are not drawn (never as a fall to zero), only labelled.
function curveChart(horizons, compareValue, compareLabel, { width = 560, height = 190 } = {}) {
  const ratio = CURVE_VIEW.ratio;
  const unit = (CURVE_METRICS.find((m) => m.name === ratio) || {}).unit;
  const left = 48, right = 14, top = 12, bottom = 34;
  const values = horizons.map((h) => h[ratio]);
  const numbers = values.filter((v) => v !== null && v !== undefined);
  if (compareValue !== null && compareValue !== undefined) numbers.push(compareValue);
  const low = Math.min(0, ...numbers);
  const high = Math.max(1, ...numbers);
  const span = high - low || 1;
  const step = horizons.length > 1 ? (width - left - right) / (horizons.length - 1) : 0;
  const x = (i) => left + i * step;
  const y = (v) => height - bottom - ((v - low) / span) * (height - top - bottom);
  const root = svg("svg", { class: "curve-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Cohort ROAS by days since the cohort day" });
  const guide = (value, cls, text) => {
    root.append(svg("line", { class: cls, x1: left, x2: width - right, y1: y(value).toFixed(1), y2: y(value).toFixed(1) }));
    const label = svg("text", { class: cls + "-label", x: width - right, y: (y(value) - 3).toFixed(1), "text-anchor": "end" });
    label.textContent = text;
    root.append(label);
  };
  guide(low, "curve-axis", "");
  guide(1, "curve-payback", "paid back (100%)");
  if (compareValue !== null && compareValue !== undefined) {
    guide(compareValue, "curve-compare", `${compareLabel} ${formatValue(compareValue, unit)}`);
  }
  for (const [value, anchor] of [[high, "hanging"], [low, "auto"]]) {
    const label = svg("text", { class: "curve-tick", x: left - 4, y: y(value).toFixed(1), "text-anchor": "end", "dominant-baseline": anchor });
    label.textContent = formatValue(value, unit);
    root.append(label);
  }
  let previous = null;
  horizons.forEach((h, i) => {
    const state = horizonState(h);
    const tick = svg("text", { class: `curve-tick horizon-${state}`, x: x(i).toFixed(1), y: height - bottom + 14, "text-anchor": "middle" });
    tick.textContent = `D${h.days_since_cohort}`;
    const note = svg("text", { class: "curve-note", x: x(i).toFixed(1), y: height - bottom + 27, "text-anchor": "middle" });
    note.textContent = state === "complete" ? "" : state === "partial" ? `${h.complete_cohort_days}/${h.cohort_days} days` : "incomplete";
    root.append(tick, note);
    if (state === "none") return;
    const point = [x(i), y(h[ratio])];
    if (previous) {
      const dashed = state !== "complete" || previous.state !== "complete";
      root.append(svg("line", { class: "curve-line" + (dashed ? " incomplete" : ""),
        x1: previous.point[0].toFixed(1), y1: previous.point[1].toFixed(1), x2: point[0].toFixed(1), y2: point[1].toFixed(1) }));
    }
    const title = svg("title");
    title.textContent = `${horizonNote(h)}: ${formatValue(h[ratio], unit)}`;
    root.append(svg("circle", { class: `curve-point horizon-${state}`, cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: 3.5 }, title));
    previous = { point, state };
  });
  return root;
}

function curveTable(horizons) {
  const head = el("tr", {}, el("th", { class: "name", scope: "col" }, "Days since cohort day"),
    ...CURVE_METRICS.map((m) => el("th", { scope: "col", dataset: { curve: m.name } }, m.label)),
    el("th", { scope: "col" }, "Cohort days complete"));
  const rows = horizons.map((h) => el("tr", { class: `horizon horizon-${horizonState(h)}`,
    dataset: { horizon: String(h.days_since_cohort), complete: String(h.complete_cohort_days), days: String(h.cohort_days) } },
  el("td", { class: "name" }, `D${h.days_since_cohort}`),
  ...CURVE_METRICS.map((m) => {
    const value = h[m.name];
    const isNull = value === null || value === undefined;
    return el("td", { class: "num" + (isNull ? " null" : ""), title: isNull ? horizonNote(h) : null,
      dataset: { curve: m.name, value: isNull ? "null" : String(value) } }, formatValue(value, m.unit));
  }),
  el("td", { class: "num", title: horizonNote(h) },
    `${h.complete_cohort_days} of ${h.cohort_days}` + (horizonState(h) === "complete" ? "" : " (incomplete)"))));
  return el("table", { class: "metrics curve-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

// The selected row's cohort curve over the range's cohort dates, beside its range
// value of the compared metric (the entity's totals, from the API).
async function loadCurve(generation) {
  const section = document.getElementById("curve");
  const selected = state.selected;
  if (!selected) { section.hidden = true; return; }
  section.hidden = false;
  section.dataset.level = selected.level;
  section.dataset.id = selected.id;
  document.getElementById("curve-title").textContent =
    `Cohort curve: ${selected.name} (${selected.level}), cohort days ${state.start} to ${state.end}`;
  const body = document.getElementById("curve-body");
  body.replaceChildren(el("p", { class: "hint" }, "Loading…"));
  const entity = `entities/${encodeURIComponent(selected.level)}/${encodeURIComponent(selected.id)}`;
  const range = { start: state.start, end: state.end };
  const [curve, detail] = await Promise.all([api(entity + "/curve", range), api(entity, range)]);
  if (generation !== state.generation || state.selected !== selected) return;
  const compare = CURVE_VIEW.compare;
  const compareValue = compare && detail.totals ? detail.totals[compare] : null;
  const compareColumn = COLUMNS.find((c) => c.metric === compare);
  const compareLabel = compareColumn ? `Estimated ${compareColumn.label}` : compare;
  const payback = COHORT_COLUMNS.find((c) => c.horizon === null);
  body.replaceChildren(
    el("p", { class: "curve-summary" },
      el("span", { dataset: { payback: curve.payback_days === null ? "null" : String(curve.payback_days) } },
        `${payback ? payback.label : "Payback"}: ${curve.payback_days === null ? "not within the complete horizons" : `D${curve.payback_days}`}`),
      el("span", { class: "curve-compare-value", dataset: { metric: compare, value: compareValue === null ? "null" : String(compareValue) } },
        `${compareLabel} over the range: ${formatValue(compareValue, UNIT_OF[compare])}`)),
    el("div", { class: "curve-body" },
      el("div", { class: "curve-figure" },
        curveChart(curve.horizons, compareValue, compareLabel),
        el("p", { class: "legend" }, "Solid: every cohort day of the range has reached the horizon. Dashed: only some ",
          "have (the value is over those days). A horizon no cohort day has reached is not drawn. Actual revenue ",
          "(conversions, purchases, renewals, less refunds), where the estimate is a forecast.")),
      curveTable(curve.horizons)));
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
  state.sort = ["name", ...COLUMNS.map((c) => c.metric), ...COHORT_COLUMNS.map((c) => c.name)].includes(sortKey)
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
  if (state.selected) jobs.push(loadCountries(generation), loadCurve(generation));
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
      renderFreshness();
      loadQuality();
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
    const catalogue = await api("catalogue");
    applyCatalogue(catalogue);
    applyCohortCatalogue(catalogue);
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
  document.getElementById("curve-close").addEventListener("click", () => {
    document.getElementById("curve").hidden = true;
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
  renderFreshness();
  loadQuality();
  document.getElementById("quality").addEventListener("click", () => toggleQualityPanel());
  document.getElementById("quality-close").addEventListener("click", () => toggleQualityPanel(false));
  applyWindow(state.health);
  await restoreView("replace");
  window.addEventListener("popstate", () => restoreView("pop"));
  document.body.dataset.ready = "true";
  setInterval(pollHealth, HEALTH_POLL_MS);
}

document.addEventListener("DOMContentLoaded", main);
