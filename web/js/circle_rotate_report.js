// Circle Rotate: metric tables and plots on the report and A/B nodes.
//
// The report node (CircleRotateReport) sends {circle_rotate_report: [payload]} in its executed message (see
// nodes/report.py): a table of the metric families, errors, per-frame series and the saved files. This
// extension draws it in a DOM widget: a table, and SVG plots of the subject's centroid track over the frame, the
// per-frame drift from the first centroid, the similarity curves, the orbit's yaw track and the colour drift
// (CIEDE2000 of each analysed frame against the first: of the mean colour and per pixel). The A/B node
// (CircleRotateABCompare) sends {circle_rotate_ab: [payload]}: a side-by-side table with the relative changes.
// Everything is drawn locally (no network resources besides this ComfyUI server's own report route).

import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";

const REPORT_NODE = "CircleRotateReport";
const AB_NODE = "CircleRotateABCompare";
const SVG_NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#4aa3ff", "#f2b233", "#6fcf97", "#eb5757", "#bb6bd9", "#56ccf2"];
const MAIN_FAMILIES = ["subject_drift", "orbit", "clip_i", "fidelity", "subject_consistency", "motion", "colour"];

// Panel texts in the frontend's language (Comfy.Locale): English, or Chinese for the original project's audience.
const TEXTS = {
  en: {
    waiting: "Run the workflow to see the metrics here.", report: "Circle Rotate report", metric: "metric", value: "value",
    frames: (h) => `${h.frames ?? "?"} of ${h.total_frames ?? "?"} frames, ${h.width ?? "?"}x${h.height ?? "?"}, ${formatValue(h.fps)} fps, ${h.repeated_frames ?? 0} repeated`,
    centroids: (w, h) => `centroid track over the ${w}x${h} frame (green start, red end)`, noMasks: "no masks",
    drift: "drift from the first centroid (px) per analysed frame", similarity: "per-frame similarity",
    yaw: "orbit yaw track and look-at offset (degrees)", noData: "no data (see errors)", change: "change",
    colour: "colour drift vs the first frame (CIEDE2000)", colourMean: "mean colour", colourPixels: "per pixel",
  },
  zh: {
    waiting: "运行工作流后在此显示指标。", report: "Circle Rotate 报告", metric: "指标", value: "数值",
    frames: (h) => `分析 ${h.frames ?? "?"} / ${h.total_frames ?? "?"} 帧，${h.width ?? "?"}x${h.height ?? "?"}，${formatValue(h.fps)} fps，重复帧 ${h.repeated_frames ?? 0}`,
    centroids: (w, h) => `主体中心在 ${w}x${h} 画面中的轨迹（绿色起点，红色终点）`, noMasks: "无遮罩",
    drift: "相对首帧中心的漂移（像素），逐分析帧", similarity: "逐帧相似度",
    yaw: "环绕偏航轨迹与注视偏移（度）", noData: "无数据（见错误）", change: "变化",
    colour: "相对首帧的色彩漂移（CIEDE2000）", colourMean: "平均颜色", colourPixels: "逐像素",
  },
};

function texts() {
  // The frontend's settings API (app.extensionManager.setting), documented for extensions.
  const locale = String(app.extensionManager?.setting?.get("Comfy.Locale") ?? "en");
  return locale.startsWith("zh") ? TEXTS.zh : TEXTS.en;
}

const STYLE = `
.cr-panel { font: 12px sans-serif; color: var(--input-text, #ddd); overflow: auto; padding: 4px; box-sizing: border-box; }
.cr-panel h3 { margin: 2px 0 4px; font-size: 13px; }
.cr-panel .cr-meta { opacity: 0.75; margin-bottom: 4px; }
.cr-panel table { border-collapse: collapse; width: 100%; margin-bottom: 6px; }
.cr-panel th, .cr-panel td { border-bottom: 1px solid rgba(128,128,128,0.3); padding: 1px 4px; text-align: left; }
.cr-panel td.cr-num { text-align: right; font-variant-numeric: tabular-nums; }
.cr-panel .cr-family { font-weight: bold; background: rgba(128,128,128,0.15); }
.cr-panel .cr-errors { color: #eb5757; margin: 4px 0; }
.cr-panel .cr-plots { display: flex; flex-wrap: wrap; gap: 6px; }
.cr-panel figure { margin: 0; width: 240px; }
.cr-panel figcaption { font-size: 11px; opacity: 0.8; }
.cr-panel svg { background: rgba(0,0,0,0.25); border: 1px solid rgba(128,128,128,0.4); }
.cr-panel .cr-better { color: #6fcf97; } .cr-panel .cr-worse { color: #eb5757; }
.cr-panel a { color: #4aa3ff; margin-right: 8px; }
`;

function injectStyle() {
  if (document.getElementById("circle-rotate-style")) return;
  const style = document.createElement("style");
  style.id = "circle-rotate-style";
  style.textContent = STYLE;
  document.head.appendChild(style);
}

function el(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function svgEl(tag, attributes = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1000 || (Math.abs(value) < 0.001 && value !== 0) ? value.toExponential(3) : value.toPrecision(4);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function fileLinks(files, route) {
  const links = el("div");
  for (const file of files || []) {
    const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder || "" });
    const link = el("a", { href: api.apiURL(`${route}?${query}`), target: "_blank", download: file.filename },
      file.filename.endsWith(".csv") ? "CSV" : "JSON");
    links.appendChild(link);
  }
  return links;
}

// A line chart of one or more series (arrays with nulls for gaps) against the frame position.
function lineChart(name, caption, series, width = 240, height = 120) {
  const figure = el("figure");
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "data-plot": name });
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && Number.isFinite(v));
  const pad = 14;
  if (values.length) {
    let low = Math.min(...values), high = Math.max(...values);
    if (high - low < 1e-9) { low -= 1; high += 1; }
    const count = Math.max(...series.map((s) => s.values.length));
    const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(count - 1, 1);
    const y = (v) => height - pad - ((v - low) * (height - 2 * pad)) / (high - low);
    series.forEach((s, index) => {
      let path = "";
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        path += `${path && s.values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      });
      svg.appendChild(svgEl("path", { d: path, fill: "none", stroke: COLOURS[index % COLOURS.length], "stroke-width": 1.5 }));
    });
    const label = svgEl("text", { x: 2, y: 10, fill: "#aaa", "font-size": 9 });
    label.textContent = `${formatValue(low)} … ${formatValue(high)}`;
    svg.appendChild(label);
  } else {
    const empty = svgEl("text", { x: width / 2, y: height / 2, fill: "#888", "font-size": 11, "text-anchor": "middle" });
    empty.textContent = texts().noData;
    svg.appendChild(empty);
  }
  figure.appendChild(svg);
  figure.appendChild(el("figcaption", {}, series.length > 1 ? `${caption}: ${series.map((s, i) => `${s.name} (${COLOURS[i % COLOURS.length]})`).join(", ")}` : caption));
  return figure;
}

// The subject's centroid track drawn over the frame's rectangle (image coordinates, y down), fitted in a box.
function centroidPlot(series, boxWidth = 240, boxHeight = 140) {
  const frameWidth = series.width || 1, frameHeight = series.height || 1;
  const fit = Math.min(boxWidth / frameWidth, boxHeight / frameHeight);
  const width = Math.round(frameWidth * fit), height = Math.round(frameHeight * fit);
  const figure = el("figure");
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${frameWidth} ${frameHeight}`, "data-plot": "centroids" });
  const points = (series.centroids || []).filter((c) => c !== null);
  if (points.length) {
    svg.appendChild(svgEl("polyline", {
      points: points.map((c) => `${c[0]},${c[1]}`).join(" "), fill: "none", stroke: COLOURS[0],
      "stroke-width": 1.5, "vector-effect": "non-scaling-stroke",
    }));
    const radius = Math.max(frameWidth, frameHeight) / 60;
    svg.appendChild(svgEl("circle", { cx: points[0][0], cy: points[0][1], r: radius, fill: COLOURS[2] }));
    svg.appendChild(svgEl("circle", { cx: points.at(-1)[0], cy: points.at(-1)[1], r: radius, fill: COLOURS[3] }));
  } else {
    const empty = svgEl("text", { x: frameWidth / 2, y: frameHeight / 2, fill: "#888", "font-size": frameHeight / 12, "text-anchor": "middle" });
    empty.textContent = texts().noMasks;
    svg.appendChild(empty);
  }
  figure.appendChild(svg);
  figure.appendChild(el("figcaption", {}, texts().centroids(frameWidth, frameHeight)));
  return figure;
}

function metricsTable(rows) {
  const table = el("table", { class: "cr-table" });
  const header = el("tr");
  header.append(el("th", {}, texts().metric), el("th", {}, texts().value));
  table.appendChild(header);
  const families = [...MAIN_FAMILIES, ...new Set(rows.map((r) => r.family))].filter((f, i, all) => all.indexOf(f) === i);
  for (const family of families) {
    const familyRows = rows.filter((r) => r.family === family && !r.metric.startsWith("thresholds."));
    if (!familyRows.length) continue;
    const title = el("tr", { class: "cr-family" });
    title.appendChild(el("td", { colspan: 2 }, family));
    table.appendChild(title);
    for (const row of familyRows) {
      const line = el("tr");
      line.append(el("td", {}, row.metric), el("td", { class: "cr-num" }, formatValue(row.value)));
      table.appendChild(line);
    }
  }
  return table;
}

function errorList(errors) {
  const entries = Object.entries(errors || {});
  const box = el("div", { class: "cr-errors" });
  for (const [metric, message] of entries) box.appendChild(el("div", {}, `${metric}: ${message}`));
  return box;
}

export function renderReport(container, payload) {
  container.replaceChildren();
  const t = texts();
  container.appendChild(el("h3", {}, payload.title || t.report));
  container.appendChild(el("div", { class: "cr-meta" }, t.frames(payload.header || {})));
  container.appendChild(fileLinks(payload.files, payload.route));
  const s = payload.series || {};
  const plots = el("div", { class: "cr-plots" });
  plots.appendChild(centroidPlot(s));
  plots.appendChild(lineChart("drift", t.drift, [{ name: "drift", values: s.drift_px || [] }]));
  const similarity = Object.entries(s.similarity || {}).map(([name, values]) => ({ name, values }));
  plots.appendChild(lineChart("similarity", t.similarity, similarity));
  plots.appendChild(lineChart("yaw", t.yaw, [{ name: "yaw", values: s.yaw_deg || [] }, { name: "look-at", values: s.look_at_deg || [] }]));
  const colour = s.colour_delta_e || {};
  plots.appendChild(lineChart("colour", t.colour, [{ name: t.colourMean, values: colour.colour || [] }, { name: t.colourPixels, values: colour.pixels || [] }]));
  container.appendChild(plots);
  container.appendChild(metricsTable(payload.table || []));
  container.appendChild(errorList(payload.errors));
}

export function renderAB(container, payload) {
  container.replaceChildren();
  container.appendChild(el("h3", {}, `A/B: ${payload.label_a} vs ${payload.label_b}`));
  container.appendChild(fileLinks(payload.files, payload.route));
  const highlights = el("div", { class: "cr-meta" });
  highlights.textContent = (payload.highlights || [])
    .map((h) => `${h.label}: ${h.relative_percent === null ? "—" : `${h.relative_percent > 0 ? "+" : ""}${h.relative_percent.toFixed(1)}%`}`)
    .join(" · ");
  container.appendChild(highlights);
  const table = el("table", { class: "cr-table cr-ab" });
  const header = el("tr");
  for (const name of [texts().metric, payload.label_a, payload.label_b, "B − A", texts().change]) header.appendChild(el("th", {}, name));
  table.appendChild(header);
  for (const row of payload.rows || []) {
    if (row.metric.includes(".thresholds.")) continue;
    const line = el("tr");
    const percent = row.relative_percent;
    const change = el("td", { class: `cr-num ${percent === null ? "" : percent < 0 ? "cr-better" : percent > 0 ? "cr-worse" : ""}` },
      percent === null ? "—" : `${percent > 0 ? "+" : ""}${percent.toFixed(1)}%`);
    line.append(el("td", {}, row.metric), el("td", { class: "cr-num" }, formatValue(row.a)),
      el("td", { class: "cr-num" }, formatValue(row.b)), el("td", { class: "cr-num" }, formatValue(row.change)), change);
    table.appendChild(line);
  }
  container.appendChild(table);
}

function attachPanel(nodeType, key, render, minHeight, minWidth) {
  const onNodeCreated = nodeType.prototype.onNodeCreated;
  nodeType.prototype.onNodeCreated = function () {
    const result = onNodeCreated?.apply(this, arguments);
    injectStyle();
    const container = el("div", { class: "cr-panel", "data-circle-rotate": key });
    container.appendChild(el("div", { class: "cr-meta" }, texts().waiting));
    const widget = this.addDOMWidget(key, "circle_rotate_panel", container, { serialize: false, getMinHeight: () => minHeight });
    widget.serialize = false; // a display, not a value: keeps widgets_values as the schema defines them
    this.circleRotatePanel = container;
    this.setSize([Math.max(this.size[0], minWidth), Math.max(this.size[1], minHeight + 160)]);
    return result;
  };
  const onExecuted = nodeType.prototype.onExecuted;
  nodeType.prototype.onExecuted = function (message) {
    onExecuted?.apply(this, arguments);
    const payload = message?.[key]?.[0];
    if (payload && this.circleRotatePanel) {
      render(this.circleRotatePanel, payload);
      this.setSize([Math.max(this.size[0], minWidth), Math.max(this.size[1], minHeight + 160)]);
      this.setDirtyCanvas(true, true);
    }
  };
}

app.registerExtension({
  name: "CircleRotate.Report",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name === REPORT_NODE) attachPanel(nodeType, "circle_rotate_report", renderReport, 640, 780);
    if (nodeData.name === AB_NODE) attachPanel(nodeType, "circle_rotate_ab", renderAB, 480, 640);
  },
});
