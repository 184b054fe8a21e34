// One service: golden signals now and over time, who calls it, which versions serve it, what it calls,
// the config that applies, and its pods with their sidecars' sync and resource usage.

import { healthOf } from '../../../../controlplane/api/health.js';
import { groupByPeer } from '../../../logic/edges.js';
import { formatMs, formatPercent, formatRate, shortHost } from '../../../logic/format.js';
import { api } from '../api.js';
import { AppliedConfig } from '../components/applied-config.js';
import { PeerTable } from '../components/peers.js';
import { PodsPanel } from '../components/pods.js';
import { TrafficCharts } from '../components/traffic.js';
import { Card, HealthDot, Loaded, Stat } from '../components/ui.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { href } from '../route.js';

export function ServicePage(props: { host: string }) {
  const range = useRange();
  const services = useLive(() => api.services(range.window), ['telemetry'], [range.window]);
  const edges = useLive(() => api.edges(range.window), ['telemetry'], [range.window]);
  const me = services.data?.services.find((s) => s.service === props.host);
  const inbound = (edges.data?.edges ?? []).filter((e) => e.destination.service === props.host);
  const workloads = new Set(inbound.map((e) => `${e.destination.namespace}/${e.destination.workload}`));
  const outbound = (edges.data?.edges ?? []).filter((e) =>
    workloads.has(`${e.source.namespace}/${e.source.workload}`),
  );
  const name = me?.name ?? shortHost(props.host);
  const namespace = me?.namespace ?? props.host.split('.')[1] ?? '';
  return (
    <div class="page">
      <div class="page-title">
        <h1>
          {me && <HealthDot health={healthOf(me)} />} {name}
          <span class="subtle"> service · {namespace}</span>
        </h1>
        <code class="subtle">{props.host}</code>
        <a class="button" href={href(['traces'], { service: `${name}.${namespace}` })}>
          Traces
        </a>
      </div>
      <Card testid="service-stats">
        <Loaded resource={services}>
          {() => (
            <div class="stats">
              <Stat label="requests" value={formatRate(me?.requestRate)} testid="stat-rate" />
              <Stat label="4xx" value={formatRate(me?.rate4xx)} tone={me?.rate4xx ? 'warn' : undefined} />
              <Stat label="5xx" value={formatRate(me?.rate5xx)} tone={me?.rate5xx ? 'bad' : undefined} />
              <Stat label="error rate" value={formatPercent(me?.errorRate)} />
              <Stat label="p50" value={formatMs(me?.p50)} />
              <Stat label="p90" value={formatMs(me?.p90)} />
              <Stat label="p99" value={formatMs(me?.p99)} />
            </div>
          )}
        </Loaded>
      </Card>
      <TrafficCharts scope={`service:${props.host}`} />
      <div class="grid-3">
        <Card title="Inbound: who calls it">
          <PeerTable
            rows={groupByPeer(inbound, 'source-workload')}
            peer="Caller"
            empty="No inbound traffic in the window."
            testid="inbound"
          />
        </Card>
        <Card title="Served by">
          <PeerTable
            rows={groupByPeer(inbound, 'destination-workload')}
            peer="Workload"
            empty="No workload served it in the window."
          />
        </Card>
        <Card title="Outbound: what it calls">
          <PeerTable
            rows={groupByPeer(outbound, 'destination-service')}
            peer="Service"
            empty="No outbound traffic in the window."
            testid="outbound"
          />
        </Card>
      </div>
      <AppliedConfig services={[props.host]} />
      <PodsPanel
        match={(p) =>
          workloads.size > 0
            ? workloads.has(`${p.namespace}/${p.workload}`)
            : p.namespace === namespace && p.labels?.app === name
        }
      />
    </div>
  );
}
