// One trace as a waterfall: every span's timing, its tags and response flags, the failing span marked.

import { useState } from 'preact/hooks';
import type { SpanView } from '../../../../controlplane/api/types.js';
import { formatDateTime, formatMs } from '../../../logic/format.js';
import { waterfallRows } from '../../../logic/waterfall.js';
import { api } from '../api.js';
import { Badge, Card, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { href } from '../route.js';

/** Tags worth reading first; the rest follow in name order. */
const FIRST = [
  'http.method',
  'http.url',
  'http.status_code',
  'response_flags',
  'upstream_cluster',
  'peer.address',
  'error',
];

function Tags(props: { span: SpanView; traceStart: number }) {
  const keys = Object.keys(props.span.tags).sort(
    (a, b) => (FIRST.indexOf(a) + 1 || 99) - (FIRST.indexOf(b) + 1 || 99) || (a < b ? -1 : 1),
  );
  return (
    <table class="tags">
      <tbody>
        <tr>
          <th>span</th>
          <td>
            <code>{props.span.spanId}</code> {props.span.kind} · starts at +
            {formatMs(props.span.startMs - props.traceStart)} · lasts {formatMs(props.span.durationMs)}
          </td>
        </tr>
        {keys.map((k) => (
          <tr key={k}>
            <th>{k}</th>
            <td>
              <code>{props.span.tags[k]}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `GET /ratings/0` from the span's tags; the operation name (`host:port/*`) when there is no URL. */
function requestLine(s: SpanView): string {
  const url = s.tags['http.url'];
  if (!url) return s.name;
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '') || '/';
  return `${s.tags['http.method'] ?? ''} ${path}`.trim();
}

export function TracePage(props: { id: string }) {
  const res = useLive(() => api.trace(props.id), [], [props.id]);
  const [open, setOpen] = useState<string | undefined>(undefined);
  return (
    <div class="page">
      <Loaded resource={res}>
        {(t) => {
          const rows = waterfallRows(t.spans);
          const start = t.summary.startMs;
          const failing = rows.find((r) => r.failing);
          return (
            <>
              <div class="page-title">
                <h1>
                  {t.summary.rootService} <span class="subtle">{t.summary.rootOperation}</span>
                </h1>
                <span class="subtle">
                  {formatDateTime(t.summary.startMs)} UTC · {formatMs(t.summary.durationMs)} ·{' '}
                  {t.summary.spanCount} spans
                  {t.summary.errorCount > 0 && ` · ${t.summary.errorCount} errors`}
                </span>
                <a
                  class="button"
                  href={`/api/v1/traces/${t.summary.traceId}?download=1`}
                  download={`trace-${t.summary.traceId}.json`}
                >
                  Export JSON
                </a>
                <a class="button button-quiet" href={href(['traces'])}>
                  Back to search
                </a>
              </div>
              {failing && (
                <div class="note note-bad" data-testid="failing-summary">
                  Failed at <strong>{failing.span.serviceName}</strong> ({failing.span.kind.toLowerCase()}{' '}
                  span {failing.span.name}): HTTP {failing.span.tags['http.status_code'] ?? '?'}
                  {failing.span.tags.response_flags && failing.span.tags.response_flags !== '-'
                    ? `, response flags ${failing.span.tags.response_flags}`
                    : ''}
                  .
                </div>
              )}
              <Card title={<code class="subtle">{t.summary.traceId}</code>} testid="waterfall">
                <div class="waterfall">
                  <div class="wf-head">
                    <span>Service and operation</span>
                    <span class="wf-scale">
                      {[0, 0.25, 0.5, 0.75, 1].map((f) => (
                        <span key={f} style={{ left: `${f * 100}%` }}>
                          {formatMs(t.summary.durationMs * f)}
                        </span>
                      ))}
                    </span>
                  </div>
                  {rows.map((r) => {
                    const s = r.span;
                    const flags = s.tags.response_flags;
                    const cls = [
                      'wf-row',
                      s.error ? 'wf-error' : '',
                      r.failing ? 'wf-failing' : '',
                      open === s.spanId ? 'wf-open' : '',
                    ]
                      .filter(Boolean)
                      .join(' ');
                    return (
                      <div
                        key={`${s.spanId}${s.kind}`}
                        class={cls}
                        data-testid="span"
                        data-failing={r.failing ? 'true' : 'false'}
                        data-error={s.error ? 'true' : 'false'}
                      >
                        <button
                          type="button"
                          class="wf-line"
                          onClick={() => setOpen(open === s.spanId ? undefined : s.spanId)}
                          aria-expanded={open === s.spanId}
                        >
                          <span class="wf-name" style={{ paddingLeft: `${r.depth * 16}px` }} title={s.name}>
                            <span class={`kind kind-${s.kind.toLowerCase()}`}>
                              {s.kind === 'SERVER' ? 'in' : 'out'}
                            </span>
                            <span class="wf-text">
                              <strong>{s.serviceName}</strong> <span class="subtle">{requestLine(s)}</span>
                            </span>
                            {s.tags['http.status_code'] && (
                              <Badge
                                tone={
                                  s.error
                                    ? 'bad'
                                    : Number(s.tags['http.status_code']) >= 400
                                      ? 'warn'
                                      : 'muted'
                                }
                              >
                                {s.tags['http.status_code']}
                              </Badge>
                            )}
                            {flags && flags !== '-' && <Badge tone="bad">{flags}</Badge>}
                            {r.failing && <Badge tone="bad">failing</Badge>}
                          </span>
                          <span class="wf-track">
                            <span
                              class="wf-bar"
                              style={{ left: `${r.offsetPct}%`, width: `${r.widthPct}%` }}
                            />
                            <span
                              class={r.offsetPct + r.widthPct > 66 ? 'wf-time wf-time-inside' : 'wf-time'}
                              style={
                                // Past two thirds of the track the label sits inside the bar's end, not past the edge.
                                r.offsetPct + r.widthPct > 66
                                  ? { right: `${100 - r.offsetPct - r.widthPct}%`, textAlign: 'right' }
                                  : { left: `${r.offsetPct + r.widthPct}%` }
                              }
                            >
                              {formatMs(s.durationMs)}{' '}
                              <span class="subtle">at +{formatMs(s.startMs - start)}</span>
                            </span>
                          </span>
                        </button>
                        {open === s.spanId && <Tags span={s} traceStart={start} />}
                      </div>
                    );
                  })}
                </div>
              </Card>
            </>
          );
        }}
      </Loaded>
    </div>
  );
}
