// A time-series chart; uPlot arrives in its own chunk the first time a chart is drawn.

import { useEffect, useRef } from 'preact/hooks';
import type { ChartSeries, ChartSpec } from './chart-impl.js';

export type { ChartSeries };

type Impl = typeof import('./chart-impl.js');
let implPromise: Promise<Impl> | undefined;
const loadImpl = () => {
  implPromise ??= import('./chart-impl.js');
  return implPromise;
};

/**
 * `data-points` counts the non-empty values drawn, so tests (and curious people) can tell a chart with data
 * from an empty frame without reading pixels.
 */
export function Chart(props: {
  id: string;
  title: string;
  timestamps: number[];
  series: ChartSeries[];
  format: (v: number) => string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<Impl['createChart']> | undefined>(undefined);
  const height = props.height ?? 180;
  const points = props.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);

  useEffect(() => {
    let gone = false;
    const el = box.current;
    if (!el) return;
    const spec = (): ChartSpec => ({
      timestamps: props.timestamps,
      series: props.series,
      format: props.format,
      height,
      width: Math.max(200, el.clientWidth),
    });
    if (chart.current) {
      chart.current.update(spec());
      return;
    }
    void loadImpl().then((m) => {
      if (gone || chart.current) return;
      chart.current = m.createChart(el, spec());
    });
    return () => {
      gone = true;
    };
  }, [props.timestamps, props.series]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => chart.current?.resize(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.current?.destroy();
      chart.current = undefined;
    };
  }, []);

  return (
    <figure class="chart" data-testid={`chart-${props.id}`} data-points={points}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-plot" style={{ minHeight: `${height + 32}px` }} />
    </figure>
  );
}
