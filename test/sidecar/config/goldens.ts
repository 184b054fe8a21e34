// Loads the control plane's golden outputs (test/golden/translate) and decodes them as the sidecar would.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '@bufbuild/protobuf';
import {
  buildSidecarConfig,
  type ClusterConfig,
  type EndpointSet,
  type ListenerConfig,
  type RouteTable,
  type SidecarConfig,
} from '../../../src/sidecar/config/index.js';
import {
  clusterFromJson,
  endpointsFromJson,
  listenerFromJson,
  routeTableFromJson,
} from '../../../src/sidecar/config/testing/resources.js';

export const GOLDEN_DIR = new URL('../../../../test/golden/translate/', import.meta.url).pathname;

interface GoldenJson {
  listeners?: JsonValue[];
  routes?: JsonValue[];
  clusters?: JsonValue[];
  endpoints?: JsonValue[];
}

/** Every golden file as `case/proxy`. */
export function goldenFiles(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const c of readdirSync(GOLDEN_DIR).sort()) {
    for (const f of readdirSync(join(GOLDEN_DIR, c)).sort()) {
      if (f.endsWith('.golden.json'))
        out.push({ name: `${c}/${f.replace('.golden.json', '')}`, path: join(GOLDEN_DIR, c, f) });
    }
  }
  return out;
}

export interface DecodedGolden {
  listeners: Map<string, ListenerConfig>;
  routes: Map<string, RouteTable>;
  clusters: Map<string, ClusterConfig>;
  endpoints: Map<string, EndpointSet>;
  /** How many resources the file holds. */
  count: number;
}

export function decodeGoldenFile(path: string): DecodedGolden {
  const j = JSON.parse(readFileSync(path, 'utf8')) as GoldenJson;
  const out: DecodedGolden = {
    listeners: new Map(),
    routes: new Map(),
    clusters: new Map(),
    endpoints: new Map(),
    count: 0,
  };
  for (const l of j.listeners ?? []) {
    const v = listenerFromJson(l);
    out.listeners.set(v.name, v);
  }
  for (const r of j.routes ?? []) {
    const v = routeTableFromJson(r);
    out.routes.set(v.name, v);
  }
  for (const c of j.clusters ?? []) {
    const v = clusterFromJson(c);
    out.clusters.set(v.name, v);
  }
  for (const e of j.endpoints ?? []) {
    const v = endpointsFromJson(e);
    out.endpoints.set(v.clusterName, v);
  }
  out.count =
    (j.listeners?.length ?? 0) +
    (j.routes?.length ?? 0) +
    (j.clusters?.length ?? 0) +
    (j.endpoints?.length ?? 0);
  return out;
}

/** The decoded, consistent snapshot of one proxy's golden output (`case/proxy`). */
export function goldenConfig(name: string): SidecarConfig {
  const [c, proxy] = name.split('/');
  return buildSidecarConfig(decodeGoldenFile(join(GOLDEN_DIR, c!, `${proxy}.golden.json`)));
}
