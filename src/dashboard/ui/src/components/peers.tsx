// A table of traffic to or from the peers of a service or workload, each linking to its own page.

import { healthOf } from '../../../../controlplane/api/health.js';
import type { PeerRow } from '../../../logic/edges.js';
import { formatMs, formatPercent, formatRate } from '../../../logic/format.js';
import { href } from '../route.js';
import { Empty, HealthDot } from './ui.js';

function link(key: string): string | undefined {
  if (key.startsWith('service:')) return href(['services', key.slice('service:'.length)]);
  const m = /^workload:([^/]+)\/(.+)$/.exec(key);
  if (!m || m[2] === 'unknown') return undefined;
  return href(['workloads', m[1]!, m[2]!]);
}

export function PeerTable(props: { rows: PeerRow[]; peer: string; empty: string; testid?: string }) {
  if (!props.rows.length) return <Empty>{props.empty}</Empty>;
  return (
    <table class="table" data-testid={props.testid}>
      <thead>
        <tr>
          <th />
          <th>{props.peer}</th>
          <th class="num">Requests</th>
          <th class="num">4xx</th>
          <th class="num">5xx</th>
          <th class="num">Errors</th>
          <th class="num">p99</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => {
          const to = link(r.key);
          return (
            <tr key={r.key}>
              <td>
                <HealthDot health={healthOf(r)} />
              </td>
              <td>{to ? <a href={to}>{r.label}</a> : r.label}</td>
              <td class="num">{formatRate(r.requestRate)}</td>
              <td class="num">{formatRate(r.rate4xx)}</td>
              <td class="num">{formatRate(r.rate5xx)}</td>
              <td class="num">{formatPercent(r.errorRate)}</td>
              <td class="num">{formatMs(r.p99)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
