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

function options(spec: ChartSpec): uPlot.Options {
  const axis = { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e3e6ea' } };
  return {
    width: spec.width,
    height: spec.height,
    // The server's clock is UTC; so are the axes.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      // 24-hour UTC, like every other time on the dashboard.
      { ...axis, values: (_u, splits) => splits.map((s) => new Date(s * 1000).toISOString().slice(11, 16)) },
      { ...axis, size: 78, values: (_u, splits) => splits.map((v) => spec.format(v)) },
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
}

const shape = (spec: ChartSpec) => spec.series.map((s) => `${s.label}\u0000${s.color}`).join('\u0001');

/** New data for the same series is a cheap setData; a different set of series builds a new plot. */
export function createChart(
  el: HTMLElement,
  first: ChartSpec,
): { update(s: ChartSpec): void; resize(w: number): void; destroy(): void } {
  let spec = first;
  let plot = new uPlot(options(spec), data(spec), el);
  return {
    update(next) {
      if (shape(next) !== shape(spec)) {
        plot.destroy();
        plot = new uPlot(options(next), data(next), el);
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
