// Chart.js with only the pieces the panels use, coloured from the workbench theme.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, CategoryScale, Legend, Tooltip, Decimation);

export { Chart };

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface Theme {
  foreground: string;
  grid: string;
  font: string;
  clean: string;
  noise: string;
  adv: string;
  accent: string;
  green: string;
  purple: string;
  orange: string;
}

export function theme(): Theme {
  return {
    foreground: cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', '#cccccc')),
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
    clean: cssVar('--vscode-charts-blue', '#3794ff'),
    noise: cssVar('--vscode-charts-yellow', '#cca700'),
    adv: cssVar('--vscode-charts-red', '#f14c4c'),
    accent: cssVar('--vscode-charts-purple', '#b180d7'),
    green: cssVar('--vscode-charts-green', '#89d185'),
    purple: cssVar('--vscode-charts-purple', '#b180d7'),
    orange: cssVar('--vscode-charts-orange', '#d18616'),
  };
}

export function applyDefaults(): void {
  const t = theme();
  Chart.defaults.color = t.foreground;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.font;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

/** VS Code swaps body classes (vscode-light / vscode-dark / vscode-high-contrast) on a theme change. */
export function onThemeChange(cb: () => void): void {
  new MutationObserver(() => {
    applyDefaults();
    for (const chart of Object.values(Chart.instances)) retheme(chart);
    cb();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

type Colored = { color?: unknown };
type ScaleColors = { ticks?: Colored; title?: Colored; grid?: Colored };

/**
 * A chart drawn before a theme change keeps the scale-title colour it resolved then (Chart.js caches
 * it; ticks follow the new default, titles do not), which left dark-theme axis titles in the light
 * theme's grey. Setting the colours on the chart's own options makes every text follow the theme.
 */
function retheme(chart: Chart): void {
  const t = theme();
  for (const scale of Object.values((chart.options.scales ?? {}) as Record<string, ScaleColors | undefined>)) {
    if (!scale) continue;
    if (scale.ticks) scale.ticks.color = t.foreground;
    if (scale.title) scale.title.color = t.foreground;
    if (scale.grid) scale.grid.color = t.grid;
  }
  const labels = (chart.options.plugins?.legend as { labels?: Colored } | undefined)?.labels;
  if (labels) labels.color = t.foreground;
  chart.update('none');
  markColors(chart);
}

/** data-title-color: the colour the x-axis title is drawn in, for the UI tests' contrast check. */
function markColors(chart: Chart): void {
  const title = (chart.scales.x?.options as ScaleColors | undefined)?.title?.color;
  if (typeof title === 'string') chart.canvas.dataset.titleColor = title;
}

export interface LineSeries {
  label: string;
  color: string;
  data: { x: number; y: number }[];
  dashed?: boolean;
}

type Point = { x: number; y: number };

/**
 * The full series of each line chart. Once a series has more points than the chart can show (4 per
 * pixel), Chart.js's decimation plugin draws a min-max reduction (spikes survive it) and its
 * `dataset.data` then returns the reduced copy; points must be appended to the full array.
 */
const fullSeries = new WeakMap<Chart, Point[][]>();

export function lineChart(canvas: HTMLCanvasElement, series: LineSeries[], opts: { xTitle: string; yTitle: string; yMin?: number; yMax?: number; stepped?: boolean; xIntegers?: boolean }): Chart<'line', Point[]> {
  const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color, borderWidth: 1.5,
        // A run's first records are single points, which a line of radius-0 points would not draw.
        pointRadius: (ctx: { dataset: { data: unknown[] } }) => (ctx.dataset.data.length <= 30 ? 2.5 : 0), pointHitRadius: 6, borderDash: s.dashed ? [4, 3] : undefined, stepped: opts.stepped, spanGaps: false,
      })),
    },
    options: {
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        x: { type: 'linear', title: { display: true, text: opts.xTitle }, ticks: opts.xIntegers ? { precision: 0 } : undefined },
        y: { type: 'linear', title: { display: true, text: opts.yTitle }, min: opts.yMin, max: opts.yMax },
      },
      plugins: {
        legend: { display: series.length > 1, labels: { boxWidth: 12 } },
        decimation: { enabled: true, algorithm: 'min-max' },
      },
    },
  };
  const chart = new Chart(canvas, config);
  fullSeries.set(chart, series.map((s) => s.data));
  markPoints(chart);
  markColors(chart);
  return chart;
}

/** Appends points to each series (in series order) and redraws. */
export function appendPoints(chart: Chart<'line', Point[]>, parts: Point[][]): void {
  const full = fullSeries.get(chart);
  parts.forEach((pts, i) => {
    const into = full?.[i] ?? chart.data.datasets[i]?.data;
    // A loop, not push(...pts): a message of ~130k records would overflow the call stack.
    if (into) for (const p of pts) into.push(p);
  });
  chart.update('none');
  markPoints(chart);
}

/**
 * data-points (held) and data-drawn (point elements Chart.js laid out, largest series) on the
 * canvas: what a long run costs the panel, visible to the UI tests and to anyone inspecting it.
 */
function markPoints(chart: Chart): void {
  const full = fullSeries.get(chart) ?? [];
  let drawn = 0;
  chart.data.datasets.forEach((_, i) => {
    drawn = Math.max(drawn, chart.getDatasetMeta(i).data.length);
  });
  chart.canvas.dataset.points = String(full.reduce((a, s) => Math.max(a, s.length), 0));
  chart.canvas.dataset.drawn = String(drawn);
}

export function recolor(chart: Chart, colors: string[]): void {
  chart.data.datasets.forEach((d, i) => {
    if (colors[i]) {
      d.borderColor = colors[i];
      d.backgroundColor = colors[i];
    }
  });
  chart.update('none');
}
