// Every resource with its validation and analysis messages and how many proxies took it; every proxy with
// its xDS versions and last rejection.

import { useState } from 'preact/hooks';
import type { ProxyStatus } from '../../../../controlplane/api/types.js';
import { formatAgo } from '../../../logic/format.js';
import { api } from '../api.js';
import { AppliedTo, lastRejection, Messages, XdsBadges } from '../components/config-bits.js';
import { Card, Empty, Loaded } from '../components/ui.js';
import { useLive } from '../live.js';
import { type Route, setQuery } from '../route.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line when every type is at the same version, else a line per type (sent, and acked when behind). */
function Versions(props: { proxy: ProxyStatus }) {
  const entries = Object.entries(props.proxy.xds);
  const first = entries[0]?.[1];
  if (first && entries.every(([, s]) => s.sent === first.sent && s.acked === first.sent)) {
    return (
      <div>
        <span class="subtle">all</span> <code>{first.sent ?? '–'}</code>
      </div>
    );
  }
  return (
    <>
      {entries.map(([t, s]) => (
        <div key={t}>
          <span class="subtle">{t}</span> <code>{s.sent ?? '–'}</code>
          {s.acked !== s.sent && (
            <>
              {' '}
              <span class="subtle">acked</span> <code>{s.acked ?? '–'}</code>
            </>
          )}
        </div>
      ))}
    </>
  );
}

function Resources(props: { route: Route }) {
  const q = props.route.query;
  const kind = q.get('kind') ?? '';
  const onlyMessages = q.get('messages') === '1';
  const focus = q.get('focus') ?? '';
  const res = useLive(() => api.config(), ['config'], []);
  const [open, setOpen] = useState<string | undefined>(focus || undefined);
  return (
    <Card
      title="Resources"
      testid="resources"
      actions={
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <select
            value={kind}
            onChange={(e) => setQuery(props.route, { kind: (e.target as HTMLSelectElement).value })}
            name="kind"
          >
            <option value="">all kinds</option>
            {[...new Set((res.data?.items ?? []).map((i) => i.kind))].sort().map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
          <label class="check">
            <input
              type="checkbox"
              checked={onlyMessages}
              onChange={(e) =>
                setQuery(props.route, { messages: (e.target as HTMLInputElement).checked ? '1' : undefined })
              }
            />
            With messages only
          </label>
        </form>
      }
    >
      <Loaded resource={res}>
        {(d) => {
          const items = d.items.filter(
            (i) => (!kind || i.kind === kind) && (!onlyMessages || i.messages.length > 0),
          );
          if (!items.length) return <Empty>No resource matches.</Empty>;
          return (
            <>
              <p class="hint summary">
                {plural(d.counts.resources, 'resource')} · {plural(d.counts.errors, 'error')} ·{' '}
                {plural(d.counts.warnings, 'warning')}
              </p>
              <table class="table">
                <thead>
                  <tr>
                    <th>Kind</th>
                    <th>Name</th>
                    <th>Applied</th>
                    <th>Messages</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((i) => {
                    const id = `${i.kind}/${i.namespace}/${i.name}`;
                    return [
                      <tr
                        key={id}
                        data-resource={id}
                        class={`${i.messages.some((m) => m.level === 'Error') ? 'row-bad' : ''} ${focus === id ? 'row-focus' : ''}`}
                      >
                        <td>{i.kind}</td>
                        <td>
                          <button
                            type="button"
                            class="link"
                            onClick={() => setOpen(open === id ? undefined : id)}
                            aria-expanded={open === id}
                          >
                            {i.namespace}/{i.name}
                          </button>
                          {i.source && (
                            <div class="hint">
                              {i.source.file}:{i.source.line}
                            </div>
                          )}
                        </td>
                        <td>
                          <AppliedTo item={i} />
                        </td>
                        <td>
                          <Messages messages={i.messages} />
                        </td>
                      </tr>,
                      open === id && (
                        <tr key={`${id}/spec`} class="row-detail">
                          <td colSpan={4}>
                            <pre>
                              {JSON.stringify(
                                {
                                  apiVersion: i.apiVersion,
                                  resourceVersion: i.resourceVersion,
                                  spec: i.spec,
                                },
                                null,
                                2,
                              )}
                            </pre>
                          </td>
                        </tr>
                      ),
                    ];
                  })}
                </tbody>
              </table>
            </>
          );
        }}
      </Loaded>
    </Card>
  );
}

function Proxies() {
  const res = useLive(api.proxies, ['proxies'], []);
  const status = useLive(api.status, ['status'], []);
  const now = status.data?.controlPlane.now ?? 0;
  return (
    <Card
      title="Proxies"
      testid="proxies"
      actions={
        res.data && (
          <span class="hint" data-testid="proxy-counts">
            {res.data.counts.synced}/{res.data.counts.total} synced
            {res.data.counts.nacked > 0 && ` · ${res.data.counts.nacked} rejecting config`}
          </span>
        )
      }
    >
      <Loaded resource={res}>
        {(d) =>
          d.proxies.length === 0 ? (
            <Empty>No proxy is connected.</Empty>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>Pod</th>
                  <th>Workload</th>
                  <th>Sync</th>
                  <th>Config version</th>
                  <th>Last rejection</th>
                  <th>Connected</th>
                </tr>
              </thead>
              <tbody>
                {d.proxies.map((p) => {
                  const nack = lastRejection(p);
                  return (
                    <tr key={p.id} data-proxy={p.pod} class={nack ? 'row-bad' : ''}>
                      <td>
                        <code class="nowrap" title={p.id}>
                          {p.namespace}/{p.pod}
                        </code>
                        {p.version && <div class="hint">sidecar {p.version}</div>}
                      </td>
                      <td>{p.workload}</td>
                      <td>
                        <XdsBadges proxy={p} />
                      </td>
                      <td class="versions">
                        <Versions proxy={p} />
                      </td>
                      <td class="nack-cell">
                        {nack ? (
                          <div class="nack" data-testid="nack">
                            <strong>{nack.type}</strong> <code>{nack.version}</code>{' '}
                            {now ? formatAgo(nack.at, now) : ''}
                            <div>{nack.message}</div>
                          </div>
                        ) : (
                          <span class="hint">–</span>
                        )}
                      </td>
                      <td class="hint">{now ? formatAgo(p.connectedSince, now) : ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}

export function ConfigPage(props: { route: Route }) {
  return (
    <div class="page">
      <Resources route={props.route} />
      <Proxies />
    </div>
  );
}
