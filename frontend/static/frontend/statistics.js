// Draws each dashboard chart from the JSON block beside its table (CSP: no inline script, no CDN). The table
// stays the source a reader can check; the chart is a picture of the same numbers.
const PALETTE = ["#b42318", "#3730a3", "#067647", "#b54708", "#616e7c"];

function read(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function option(kind, data) {
  const rows = data.rows.filter((row) => !row.total || data.rows.length === 1);
  const categories = rows.map((row) => row.label);
  const percent = (col) => col.unit === "percent";
  const series = data.columns.map((col, index) => ({
    name: col.label,
    type: kind === "trend" && percent(col) ? "line" : "bar",
    yAxisIndex: percent(col) ? 1 : 0,
    data: rows.map((row) => row.values[index]),
    itemStyle: { color: PALETTE[index % PALETTE.length] },
    connectNulls: true,
  }));
  return {
    tooltip: { trigger: "axis", confine: true },
    legend: { top: 0, type: "scroll" },
    grid: { left: 48, right: 48, top: 40, bottom: 72 },
    // Court and organisation names are long: slant them when several share the axis, and cut the rest short
    // (the table below has them in full).
    xAxis: {
      type: "category", data: categories,
      axisLabel: { interval: 0, rotate: categories.length > 3 ? 30 : 0, width: 110, overflow: "truncate" },
    },
    yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
    series,
  };
}

function draw() {
  if (!window.echarts) return; // the tables below stay readable without the charts
  const charts = [];
  document.querySelectorAll("[data-chart]").forEach((node) => {
    const data = read(node.dataset.chart);
    if (!data) return;
    const chart = window.echarts.init(node, null, { renderer: "canvas" });
    chart.setOption(option(node.dataset.kind, data));
    charts.push(chart);
  });
  // Tablets rotate: redraw at the new width.
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
}

draw();
