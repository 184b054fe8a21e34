// Every workload (app and version) that served traffic in the window, with its golden signals.

import { healthOf } from '../../../../controlplane/api/health.js';
import { formatMs, formatRate } from '../../../logic/format.js';
import { api } from '../api.js';
import { Card, HealthDot, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { href } from '../route.js';

export function WorkloadsPage() {
  const range = useRange();
  const res = useLive(() => api.workloads(range.window), ['telemetry'], [range.window]);
  return (
    <Card title="Workloads" testid="workloads">
      <Loaded resource={res}>
        {(d) => (
          <table class="table">
            <thead>
              <tr>
                <th />
                <th>Workload</th>
                <th>App</th>
                <th>Version</th>
                <th>Namespace</th>
                <th class="num">Requests</th>
                <th class="num">4xx</th>
                <th class="num">5xx</th>
                <th class="num">p50</th>
                <th class="num">p99</th>
              </tr>
            </thead>
            <tbody>
              {d.workloads.map((w) => (
                <tr key={`${w.namespace}/${w.workload}`}>
                  <td>
                    <HealthDot health={healthOf(w)} />
                  </td>
                  <td>
                    <a href={href(['workloads', w.namespace, w.workload])}>{w.workload}</a>
                  </td>
                  <td>{w.app}</td>
                  <td>{w.version}</td>
                  <td>{w.namespace}</td>
                  <td class="num">{formatRate(w.requestRate)}</td>
                  <td class="num">{formatRate(w.rate4xx)}</td>
                  <td class="num">{formatRate(w.rate5xx)}</td>
                  <td class="num">{formatMs(w.p50)}</td>
                  <td class="num">{formatMs(w.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Card>
  );
}
