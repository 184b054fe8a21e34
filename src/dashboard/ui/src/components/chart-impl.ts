// uPlot behind the Chart component; in its own chunk with its CSS, loaded only by pages that draw charts.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

export interface ChartSpec {
  timestamps: number[];
  series: ChartSeries[];
  format: (v: number) => string;
  height: number;
  width: number;
}

function data(spec: ChartSpec): uPlot.AlignedData {
  return [spec.timestamps.map((t) => t / 1000), ...spec.series.map((s) => s.values)];
}

export function createChart(
  el: HTMLElement,
  spec: ChartSpec,
): { update(s: ChartSpec): void; resize(w: number): void; destroy(): void } {
  const opts: uPlot.Options = {
    width: spec.width,
    height: spec.height,
    // The server's clock is UTC; so are the axes.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      {
        stroke: '#6b7280',
        grid: { stroke: '#eef0f3' },
        ticks: { stroke: '#e3e6ea' },
        // 24-hour UTC, like every other time on the dashboard.
        values: (_u, splits) => splits.map((s) => new Date(s * 1000).toISOString().slice(11, 16)),
      },
      {
        stroke: '#6b7280',
        grid: { stroke: '#eef0f3' },
        ticks: { stroke: '#e3e6ea' },
        size: 78,
        values: (_u, splits) => splits.map((v) => spec.format(v)),
      },
    ],
    series: [
      { label: 'time', value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toISOString().slice(11, 19)) },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.75,
        ...(s.dash ? { dash: s.dash } : {}),
        spanGaps: false,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v == null ? '–' : spec.format(v)),
      })),
    ],
  };
  let plot = new uPlot(opts, data(spec), el);
  return {
    update(next) {
      if (next.series.length !== spec.series.length) {
        plot.destroy();
        plot = new uPlot({ ...opts, series: opts.series }, data(next), el);
      } else {
        plot.setData(data(next));
      }
      spec = next;
    },
    resize(w) {
      plot.setSize({ width: w, height: spec.height });
    },
    destroy() {
      plot.destroy();
    },
  };
}
