// Recent requests as the servers' sidecars saw them (from traces), with a JSON export.

import { formatDateTime, formatMs } from '../../../logic/format.js';
import { api } from '../api.js';
import { Badge, Card, Empty, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { href } from '../route.js';

export function RequestsPage() {
  const res = useLive(() => api.requests(200), ['telemetry'], []);
  return (
    <Card
      title="Recent requests"
      testid="requests"
      actions={
        <a class="button" href="/api/v1/requests?limit=10000" download="trellis-requests.json">
          Export JSON
        </a>
      }
    >
      <Loaded resource={res}>
        {(d) =>
          d.requests.length === 0 ? (
            <Empty>No requests recorded yet: the history is built from sampled traces.</Empty>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>Time (UTC)</th>
                  <th>From</th>
                  <th>To</th>
                  <th>Request</th>
                  <th class="num">Status</th>
                  <th>Flags</th>
                  <th class="num">Duration</th>
                </tr>
              </thead>
              <tbody>
                {d.requests.map((r, i) => (
                  <tr key={`${r.traceId}${i}`} class={r.status >= 500 || r.status === 0 ? 'row-bad' : ''}>
                    <td>
                      <a href={href(['traces', r.traceId])}>{formatDateTime(r.timeMs)}</a>
                    </td>
                    <td>{r.source}</td>
                    <td>{r.destination}</td>
                    <td>
                      <code>
                        {r.method} {r.path}
                      </code>
                    </td>
                    <td class="num">
                      <Badge
                        tone={r.status >= 500 || r.status === 0 ? 'bad' : r.status >= 400 ? 'warn' : 'muted'}
                      >
                        {r.status}
                      </Badge>
                    </td>
                    <td>
                      {r.flags !== '-' ? <Badge tone="bad">{r.flags}</Badge> : <span class="hint">–</span>}
                    </td>
                    <td class="num">{formatMs(r.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}
