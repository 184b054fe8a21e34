// Every service that received traffic in the window: rate, 4xx and 5xx apart, latency quantiles, health.

import { healthOf } from '../../../../controlplane/api/health.js';
import { formatMs, formatPercent, formatRate } from '../../../logic/format.js';
import { api } from '../api.js';
import { Card, HealthDot, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { href } from '../route.js';

export function ServicesPage() {
  const range = useRange();
  const res = useLive(() => api.services(range.window), ['telemetry'], [range.window]);
  return (
    <Card title="Services" testid="services">
      <Loaded resource={res}>
        {(d) => (
          <table class="table">
            <thead>
              <tr>
                <th />
                <th>Service</th>
                <th>Namespace</th>
                <th class="num">Requests</th>
                <th class="num">4xx</th>
                <th class="num">5xx</th>
                <th class="num">Errors</th>
                <th class="num">p50</th>
                <th class="num">p90</th>
                <th class="num">p99</th>
              </tr>
            </thead>
            <tbody>
              {d.services.map((s) => (
                <tr key={s.service} data-service={s.service}>
                  <td>
                    <HealthDot health={healthOf(s)} />
                  </td>
                  <td>
                    <a href={href(['services', s.service])}>{s.name}</a>
                    {s.reporter === 'source' && (
                      <span class="hint" title="No sidecar at the destination: numbers come from the callers">
                        {' '}
                        · from callers
                      </span>
                    )}
                  </td>
                  <td>{s.namespace}</td>
                  <td class="num" data-testid="rate">
                    {formatRate(s.requestRate)}
                  </td>
                  <td class="num">{formatRate(s.rate4xx)}</td>
                  <td class="num">{formatRate(s.rate5xx)}</td>
                  <td class="num">{formatPercent(s.errorRate)}</td>
                  <td class="num">{formatMs(s.p50)}</td>
                  <td class="num">{formatMs(s.p90)}</td>
                  <td class="num">{formatMs(s.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Card>
  );
}
