// Request rate (4xx and 5xx apart) and p50/p90/p99 latency over time for one scope.

import { formatMs } from '../../../logic/format.js';
import { api } from '../api.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { Chart } from './chart.js';
import { Card, Loaded } from './ui.js';

const rateFormat = (v: number) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

export function TrafficCharts(props: { scope: string }) {
  const range = useRange();
  const res = useLive(() => api.series(props.scope, range), ['telemetry'], [props.scope, range.start]);
  return (
    <Card title="Traffic" class="span-2" testid="traffic">
      <Loaded resource={res}>
        {(s) => (
          <div class="charts">
            <Chart
              id="requests"
              title={`Requests per second (window ${s.windowMs / 1000}s)`}
              timestamps={s.timestamps}
              format={rateFormat}
              series={[
                { label: 'all', values: s.requestRate, color: '#3b5bdb' },
                { label: '4xx', values: s.rate4xx, color: '#f59f00' },
                { label: '5xx', values: s.rate5xx, color: '#e03131' },
              ]}
            />
            <Chart
              id="latency"
              title="Latency"
              timestamps={s.timestamps}
              format={formatMs}
              series={[
                { label: 'p50', values: s.p50, color: '#12b886' },
                { label: 'p90', values: s.p90, color: '#3b5bdb' },
                { label: 'p99', values: s.p99, color: '#ae3ec9' },
              ]}
            />
          </div>
        )}
      </Loaded>
    </Card>
  );
}
