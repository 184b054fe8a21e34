// The control plane's debug endpoints (Istio's names): /debug/syncz, /debug/configz, /debug/config_dump.

import type { JsonValue } from '@bufbuild/protobuf';
import type { ConfigStore } from '../config/store.js';
import { anyToJson } from '../xds/any.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  SHORT_TYPE,
  type XdsTypeUrl,
} from '../xds/type-urls.js';
import type { AdsServer, ProxySyncStatus, SnapshotCache } from './server/index.js';

/** `/debug/syncz`: per connected proxy, the sent/ACKed version and last NACK of each type, as istioctl reads it. */
export function syncz(ads: AdsServer): JsonValue {
  return ads.proxyStatus().map((p: ProxySyncStatus) => ({
    proxy: p.proxyId,
    stream: p.streamId,
    protocol: p.protocol,
    group: p.group ?? null,
    cluster: p.cluster,
    peer: p.peerAddress,
    connectedSince: new Date(p.connectedAt).toISOString(),
    types: Object.fromEntries(
      p.types.map((t) => [
        SHORT_TYPE[t.typeUrl as XdsTypeUrl] ?? t.typeUrl,
        {
          state: t.state,
          sent: t.sent?.version ?? null,
          acked: t.acked?.version ?? null,
          current: t.currentVersion ?? null,
          lastNack: t.lastNack
            ? {
                version: t.lastNack.version,
                message: t.lastNack.message,
                at: new Date(t.lastNack.at).toISOString(),
              }
            : null,
        },
      ]),
    ),
  })) as JsonValue;
}

/** `/debug/configz`: every config resource the control plane holds. */
export function configz(config: ConfigStore): JsonValue {
  return config.list() as unknown as JsonValue;
}

const DUMP_TYPES: [XdsTypeUrl, string][] = [
  [CLUSTER_TYPE, 'clusters'],
  [ENDPOINT_TYPE, 'endpoints'],
  [LISTENER_TYPE, 'listeners'],
  [ROUTE_TYPE, 'routes'],
];

/** `/debug/config_dump?proxyID=…`: the snapshot the proxy's group gets, as Envoy JSON with versions. */
export function configDump(ads: AdsServer, cache: SnapshotCache, proxyId: string): JsonValue | undefined {
  const status = ads.proxyStatus().find((p) => p.proxyId === proxyId || p.proxyId.includes(proxyId));
  if (!status?.group) return undefined;
  const snapshot = cache.getSnapshot(status.group);
  if (!snapshot) return undefined;
  const out: Record<string, JsonValue> = { proxy: status.proxyId, group: status.group };
  for (const [type, key] of DUMP_TYPES) {
    const set = snapshot.get(type);
    out[key] = {
      version: set.version,
      resources: [...set.resources.values()].map((r) => anyToJson(r.any)),
    };
  }
  return out;
}
