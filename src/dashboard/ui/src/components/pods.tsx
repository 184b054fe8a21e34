// The pods behind a service or workload: readiness, IPs, containers, sidecar sync, and CPU/memory over time.

import type { ProxyStatus } from '../../../../controlplane/api/types.js';
import { formatAgo, formatBytes, formatCores } from '../../../logic/format.js';
import { api } from '../api.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { Chart, type ChartSeries } from './chart.js';
import { lastRejection, XdsBadges } from './config-bits.js';
import { Badge, Card, Empty, Loaded } from './ui.js';

const PALETTE = ['#3b5bdb', '#12b886', '#f08c00', '#ae3ec9', '#1098ad', '#e8590c', '#5c940d', '#c2255c'];

function Usage(props: { pods: string[] }) {
  const range = useRange();
  const res = useLive(
    () => api.processes(props.pods, range),
    ['telemetry'],
    [props.pods.join(','), range.start],
  );
  return (
    <Loaded resource={res}>
      {(d) => {
        if (!d.processes.length) return <Empty>No CPU or memory samples for these pods.</Empty>;
        const cpu: ChartSeries[] = [];
        const mem: ChartSeries[] = [];
        d.processes.forEach((p, i) => {
          const color = PALETTE[Math.floor(i / 2) % PALETTE.length]!;
          const proxy = p.labels.role === 'proxy' || p.container === 'istio-proxy';
          const label = `${p.pod} ${proxy ? 'sidecar' : p.container}`;
          const dash = proxy ? [4, 3] : undefined;
          cpu.push({ label, values: p.cpuSeries, color, ...(dash ? { dash } : {}) });
          mem.push({ label, values: p.rssSeries, color, ...(dash ? { dash } : {}) });
        });
        return (
          <div class="charts">
            <Chart
              id="cpu"
              title="CPU (cores; sidecars dashed)"
              timestamps={d.timestamps}
              series={cpu}
              format={formatCores}
            />
            <Chart
              id="memory"
              title="Memory (RSS)"
              timestamps={d.timestamps}
              series={mem}
              format={formatBytes}
            />
          </div>
        );
      }}
    </Loaded>
  );
}

/** `match` picks this page's proxies; pods come from the runtime when it is there, else from the proxies. */
export function PodsPanel(props: { match: (p: ProxyStatus) => boolean; title?: string }) {
  const proxies = useLive(api.proxies, ['proxies'], []);
  const status = useLive(api.status, ['status'], []);
  const mine = (proxies.data?.proxies ?? []).filter(props.match);
  const podNames = mine.map((p) => p.pod).sort();
  const runtimePods = new Map((status.data?.mesh?.pods ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
  const now = status.data?.controlPlane.now ?? 0;
  return (
    <Card title={props.title ?? 'Pods and sidecars'} class="span-2" testid="pods">
      <Loaded resource={proxies}>
        {() =>
          mine.length === 0 ? (
            <Empty>No connected sidecar belongs here.</Empty>
          ) : (
            <>
              <table class="table">
                <thead>
                  <tr>
                    <th>Pod</th>
                    <th>Ready</th>
                    <th>IP</th>
                    <th>Containers</th>
                    <th>Sidecar config</th>
                    <th>Connected</th>
                  </tr>
                </thead>
                <tbody>
                  {mine.map((p) => {
                    const pod = runtimePods.get(`${p.namespace}/${p.pod}`);
                    const nack = lastRejection(p);
                    return (
                      <tr key={p.id} data-pod={p.pod}>
                        <td>
                          <code class="nowrap">{p.pod}</code>
                        </td>
                        <td>
                          {pod ? (
                            <Badge tone={pod.ready ? 'ok' : 'bad'}>{pod.ready ? 'ready' : 'not ready'}</Badge>
                          ) : (
                            '–'
                          )}
                        </td>
                        <td>
                          <code>{pod?.ips.join(', ') ?? p.id.split('~')[1]}</code>
                        </td>
                        <td>
                          {pod?.containers.map((c) => (
                            <span key={c.name} class="container" title={c.state}>
                              <Badge tone={c.ready ? 'ok' : 'bad'}>{c.name}</Badge>
                              {(c.restarts ?? 0) > 0 && <span class="hint"> ↻{c.restarts}</span>}
                            </span>
                          )) ?? '–'}
                        </td>
                        <td>
                          <XdsBadges proxy={p} />
                          {nack && (
                            <div class="nack" title={nack.message}>
                              {nack.type} {nack.version} rejected: {nack.message}
                            </div>
                          )}
                        </td>
                        <td class="hint">{now ? formatAgo(p.connectedSince, now) : ''}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <Usage pods={podNames} />
            </>
          )
        }
      </Loaded>
    </Card>
  );
}
