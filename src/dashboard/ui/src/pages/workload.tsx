// One workload (a version of an app): its signals and charts, callers and callees, config, pods and usage.

import { healthOf } from '../../../../controlplane/api/health.js';
import { groupByPeer } from '../../../logic/edges.js';
import { formatMs, formatPercent, formatRate } from '../../../logic/format.js';
import { api } from '../api.js';
import { AppliedConfig } from '../components/applied-config.js';
import { PeerTable } from '../components/peers.js';
import { PodsPanel } from '../components/pods.js';
import { TrafficCharts } from '../components/traffic.js';
import { Card, HealthDot, Loaded, Stat } from '../components/ui.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { href } from '../route.js';

export function WorkloadPage(props: { namespace: string; name: string }) {
  const range = useRange();
  const workloads = useLive(() => api.workloads(range.window), ['telemetry'], [range.window]);
  const edges = useLive(() => api.edges(range.window), ['telemetry'], [range.window]);
  const me = workloads.data?.workloads.find(
    (w) => w.namespace === props.namespace && w.workload === props.name,
  );
  const all = edges.data?.edges ?? [];
  const inbound = all.filter(
    (e) => e.destination.namespace === props.namespace && e.destination.workload === props.name,
  );
  const outbound = all.filter(
    (e) => e.source.namespace === props.namespace && e.source.workload === props.name,
  );
  const services = [...new Set(inbound.map((e) => e.destination.service))].sort();
  return (
    <div class="page">
      <div class="page-title">
        <h1>
          {me && <HealthDot health={healthOf(me)} />} {props.name}
          <span class="subtle"> workload · {props.namespace}</span>
        </h1>
        {me && (
          <span class="subtle">
            app {me.app} · version {me.version}
          </span>
        )}
        {services.map((s) => (
          <a key={s} class="button" href={href(['services', s])}>
            {s.split('.')[0]} service
          </a>
        ))}
      </div>
      <Card testid="workload-stats">
        <Loaded resource={workloads}>
          {() => (
            <div class="stats">
              <Stat label="requests served" value={formatRate(me?.requestRate)} testid="stat-rate" />
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
      <TrafficCharts scope={`workload:${props.namespace}/${props.name}`} />
      <div class="grid-2">
        <Card title="Inbound: who calls it">
          <PeerTable
            rows={groupByPeer(inbound, 'source-workload')}
            peer="Caller"
            empty="No inbound traffic in the window."
            testid="inbound"
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
      <AppliedConfig services={services} workload={`${props.namespace}/${props.name}`} />
      <PodsPanel match={(p) => p.namespace === props.namespace && p.workload === props.name} />
    </div>
  );
}
