// Pieces of config display shared by the config page and the service/workload pages.

import type { ConfigItem, ConfigMessage, ProxyStatus } from '../../../../controlplane/api/types.js';
import { Badge, LEVEL_TONE, SyncBadge } from './ui.js';

/** "applied to 5/6 proxies", with the rejections called out. */
export function AppliedTo(props: { item: ConfigItem }) {
  const { total, acked, nacked } = props.item.appliedTo;
  const tone = nacked > 0 ? 'bad' : acked < total ? 'warn' : 'ok';
  return (
    <span class={`applied applied-${tone}`} data-testid="applied-to">
      applied to {acked}/{total} {total === 1 ? 'proxy' : 'proxies'}
      {nacked > 0 && <span class="applied-nack"> · {nacked} rejected</span>}
    </span>
  );
}

export function Messages(props: { messages: ConfigMessage[] }) {
  if (!props.messages.length) return <span class="hint">–</span>;
  return (
    <ul class="messages">
      {props.messages.map((m) => (
        <li key={`${m.code}:${m.message}`} data-level={m.level}>
          <Badge tone={LEVEL_TONE[m.level]}>{m.level}</Badge> <code>{m.code}</code> {m.message}
        </li>
      ))}
    </ul>
  );
}

const XDS_ORDER = ['CDS', 'LDS', 'EDS', 'RDS', 'SDS', 'ECDS'];

export function XdsBadges(props: { proxy: ProxyStatus }) {
  const types = Object.keys(props.proxy.xds).sort(
    (a, b) => (XDS_ORDER.indexOf(a) + 1 || 99) - (XDS_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1),
  );
  return (
    <span class="badges">
      {types.map((t) => {
        const s = props.proxy.xds[t]!;
        return <SyncBadge key={t} type={t} state={s.state} nacked={!!s.lastNack && s.state !== 'SYNCED'} />;
      })}
    </span>
  );
}

/** The newest rejection that is still current (the proxy has not acknowledged anything newer). */
export function lastRejection(
  p: ProxyStatus,
): { type: string; version: string; message: string; at: number } | undefined {
  let best: { type: string; version: string; message: string; at: number } | undefined;
  for (const [type, s] of Object.entries(p.xds)) {
    if (!s.lastNack || s.state === 'SYNCED') continue;
    if (!best || s.lastNack.at > best.at) best = { type, ...s.lastNack };
  }
  return best;
}
