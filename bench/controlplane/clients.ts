// A child process of the control-plane benchmark: many light ADS clients that subscribe and ACK like Envoy
// (CDS and LDS wildcards, EDS for every cluster received, RDS by name) without decoding whole resources.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import * as grpc from '@grpc/grpc-js';
import { NodeSchema } from '../../src/xds/gen/envoy/config/core/v3/base_pb.js';
import { AggregatedDiscoveryService } from '../../src/xds/gen/envoy/service/discovery/v3/ads_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
} from '../../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { grpcServiceDefinition } from '../../src/xds/grpc.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';

export interface ClientsConfig {
  port: number;
  protocol: 'sotw' | 'delta';
  /** Index of the first client, and how many. */
  from: number;
  count: number;
  groups: number;
  /** Route config names to subscribe to (every port of the mesh). */
  routes: string[];
}

type Method = grpc.MethodDefinition<unknown, unknown>;
const SERVICE = grpcServiceDefinition(AggregatedDiscoveryService) as Record<string, Method>;

/** Field 1 of Cluster is its name; the encoder writes it first, so reading one field is enough. */
function clusterName(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  const [field] = reader.tag();
  return field === 1 ? reader.string() : '';
}

export function nodeId(i: number): string {
  return `sidecar~10.200.${i >> 8}.${i & 255}~pod-${i}.bench~bench.svc.cluster.local`;
}

function startClient(cfg: ClientsConfig, i: number): { close(): void } {
  const channel = new grpc.Client(`127.0.0.1:${cfg.port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    // As Envoy (256 MiB by default) and the Trellis client: pushes are not paced by WINDOW_UPDATEs.
    'grpc-node.flow_control_window': 64 * 1024 * 1024,
  });
  // Simulated Trellis sidecars: they identify as such (Envoy would also get endpoints resent on cluster updates).
  const node = create(NodeSchema, {
    userAgentName: 'trellis',
    id: nodeId(i),
    cluster: 'bench',
    metadata: { NAMESPACE: `ns-${i % cfg.groups}` },
  });
  const method =
    cfg.protocol === 'delta' ? SERVICE.deltaAggregatedResources! : SERVICE.streamAggregatedResources!;
  const call = channel.makeBidiStreamRequest(
    method.path,
    method.requestSerialize as (v: unknown) => Buffer,
    method.responseDeserialize as (b: Buffer) => unknown,
  );
  call.on('error', () => {});
  let edsNames = new Set<string>();

  if (cfg.protocol === 'sotw') {
    const versions = new Map<string, string>();
    const nonces = new Map<string, string>();
    const send = (typeUrl: string, resourceNames: string[], first = false) =>
      call.write(
        create(DiscoveryRequestSchema, {
          node: first ? node : undefined,
          typeUrl,
          resourceNames,
          versionInfo: versions.get(typeUrl) ?? '',
          responseNonce: nonces.get(typeUrl) ?? '',
        }),
      );
    call.on('data', (r: DiscoveryResponse) => {
      versions.set(r.typeUrl, r.versionInfo);
      nonces.set(r.typeUrl, r.nonce);
      if (r.typeUrl === CLUSTER_TYPE) {
        const names = new Set(r.resources.map((a) => clusterName(a.value)));
        send(CLUSTER_TYPE, []);
        const changed = names.size !== edsNames.size || [...names].some((n) => !edsNames.has(n));
        edsNames = names;
        if (changed) send(ENDPOINT_TYPE, [...names]);
      } else if (r.typeUrl === ENDPOINT_TYPE) send(ENDPOINT_TYPE, [...edsNames]);
      else if (r.typeUrl === ROUTE_TYPE) send(ROUTE_TYPE, cfg.routes);
      else send(r.typeUrl, []);
    });
    send(CLUSTER_TYPE, [], true);
    send(LISTENER_TYPE, []);
    send(ROUTE_TYPE, cfg.routes);
  } else {
    const send = (init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>, first = false) =>
      call.write(create(DeltaDiscoveryRequestSchema, { ...init, node: first ? node : undefined }));
    call.on('data', (r: DeltaDiscoveryResponse) => {
      send({ typeUrl: r.typeUrl, responseNonce: r.nonce });
      if (r.typeUrl !== CLUSTER_TYPE) return;
      const added = r.resources.map((x) => x.name).filter((n) => !edsNames.has(n));
      const removed = r.removedResources.filter((n) => edsNames.has(n));
      for (const n of added) edsNames.add(n);
      for (const n of removed) edsNames.delete(n);
      if (added.length + removed.length > 0)
        send({ typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: added, resourceNamesUnsubscribe: removed });
    });
    send({ typeUrl: CLUSTER_TYPE }, true);
    send({ typeUrl: LISTENER_TYPE });
    send({ typeUrl: ROUTE_TYPE, resourceNamesSubscribe: cfg.routes });
  }
  return {
    close() {
      call.cancel();
      channel.close();
    },
  };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as ClientsConfig;
  const clients: { close(): void }[] = [];
  for (let i = cfg.from; i < cfg.from + cfg.count; i++) {
    clients.push(startClient(cfg, i));
    // Open connections in small bursts so the accept queue and the event loop keep up.
    if (clients.length % 50 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  process.send?.({ ready: cfg.count });
  process.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    for (const c of clients) c.close();
    process.exit(0);
  });
}

if (process.argv[1]?.endsWith('clients.js')) void main();
