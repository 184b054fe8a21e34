// Trace search (service, minimum duration, errors only, time range) and the matching traces, newest first.

import { formatDateTime, formatMs } from '../../../logic/format.js';
import { api } from '../api.js';
import { Badge, Card, Empty, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { href, type Route, setQuery } from '../route.js';

const RANGES = [
  { value: '-15m', label: 'last 15 min' },
  { value: '-1h', label: 'last hour' },
  { value: '', label: 'everything stored' },
];

export function TracesPage(props: { route: Route }) {
  const q = props.route.query;
  const service = q.get('service') ?? '';
  const minDuration = q.get('minDuration') ?? '';
  const errorsOnly = q.get('errorsOnly') === '1';
  const start = q.get('start') ?? '-1h';
  const limit = q.get('limit') ?? '50';
  const res = useLive(
    () => api.traces({ service, minDuration, errorsOnly, start, limit }),
    ['telemetry'],
    [service, minDuration, errorsOnly, start, limit],
  );
  const set = (changes: Record<string, string | undefined>) => setQuery(props.route, changes);
  const longest = Math.max(1, ...(res.data?.traces ?? []).map((t) => t.durationMs));
  return (
    <div class="page">
      <Card title="Find traces" testid="trace-search">
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Service
            <select
              value={service}
              onChange={(e) => set({ service: (e.target as HTMLSelectElement).value })}
              name="service"
            >
              <option value="">any</option>
              {(res.data?.services ?? (service ? [service] : [])).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Min duration
            <input
              name="minDuration"
              placeholder="e.g. 100ms"
              value={minDuration}
              size={9}
              onChange={(e) => set({ minDuration: (e.target as HTMLInputElement).value.trim() })}
            />
          </label>
          <label>
            Time
            <select
              value={start}
              onChange={(e) => set({ start: (e.target as HTMLSelectElement).value || 'all' })}
              name="start"
            >
              {RANGES.map((r) => (
                <option key={r.value} value={r.value || 'all'}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="errorsOnly"
              checked={errorsOnly}
              onChange={(e) => set({ errorsOnly: (e.target as HTMLInputElement).checked ? '1' : undefined })}
            />
            Errors only
          </label>
        </form>
      </Card>
      <Card
        title="Traces"
        testid="trace-results"
        actions={res.data && <span class="hint">{res.data.traces.length} shown, newest first</span>}
      >
        <Loaded resource={res}>
          {(d) =>
            d.traces.length === 0 ? (
              <Empty>
                No trace matches. Traces come from sidecars with tracing enabled (Telemetry resource).
              </Empty>
            ) : (
              <table class="table traces">
                <thead>
                  <tr>
                    <th>Started (UTC)</th>
                    <th>Root</th>
                    <th>Services</th>
                    <th class="num">Spans</th>
                    <th>Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {d.traces.map((t) => (
                    <tr key={t.traceId} data-trace={t.traceId} class={t.errorCount ? 'row-bad' : ''}>
                      <td>
                        <a href={href(['traces', t.traceId])}>{formatDateTime(t.startMs)}</a>
                      </td>
                      <td>
                        <strong>{t.rootService}</strong> <span class="subtle">{t.rootOperation}</span>
                      </td>
                      <td class="hint">{t.services.length}</td>
                      <td class="num">
                        {t.spanCount}
                        {t.errorCount > 0 && (
                          <>
                            {' '}
                            <Badge tone="bad">{t.errorCount} errors</Badge>
                          </>
                        )}
                      </td>
                      <td class="duration">
                        <span
                          class="duration-bar"
                          style={{ width: `${Math.max(2, (t.durationMs / longest) * 100)}%` }}
                        />
                        <span>{formatMs(t.durationMs)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Loaded>
      </Card>
    </div>
  );
}
