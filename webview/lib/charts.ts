// Chart.js with only the pieces the panels use, coloured from the workbench theme.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, CategoryScale, Legend, Tooltip);

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
    cb();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

export interface LineSeries {
  label: string;
  color: string;
  data: { x: number; y: number }[];
  dashed?: boolean;
}

export function lineChart(canvas: HTMLCanvasElement, series: LineSeries[], opts: { xTitle: string; yTitle: string; yMin?: number; yMax?: number; stepped?: boolean }): Chart<'line', { x: number; y: number }[]> {
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
        x: { type: 'linear', title: { display: true, text: opts.xTitle } },
        y: { type: 'linear', title: { display: true, text: opts.yTitle }, min: opts.yMin, max: opts.yMax },
      },
      plugins: { legend: { display: series.length > 1, labels: { boxWidth: 12 } } },
    },
  };
  return new Chart(canvas, config);
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
