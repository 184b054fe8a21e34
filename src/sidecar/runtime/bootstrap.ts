// The bootstrap file (docs/runtime-contract.md §2): who the proxy is and where the control plane is, validated.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { JsonObject } from '@bufbuild/protobuf';
import { TrellisError } from '../../shared/errors.js';

export interface BootstrapNode {
  id: string;
  cluster: string;
  locality: { region: string; zone: string; subZone: string };
  /** Istio's node metadata keys (docs/xds-contract.md §1); `LABELS` is an object, the rest strings. */
  metadata: JsonObject;
}

export interface Bootstrap {
  node: BootstrapNode;
  /** `host:port` of the control plane's xDS port; `tls` dials its mTLS port with the workload certificate. */
  xds: { address: string; tls: boolean; caCertificateFile?: string };
  /** The mesh CA (Istio's CreateCertificate); absent means no identity (no mTLS anywhere). */
  ca?: { address: string; tokenFile?: string; caCertificateFile?: string };
  admin: { address: string; port: number; socketPath?: string };
  ports: { stats: number; mergedMetrics: number; readiness: number };
  bindAddress?: string;
  /** The app's own Prometheus endpoint, merged into 15020's output as Istio's merged metrics do. */
  appMetrics?: { port: number; path: string; address?: string };
  drainTimeoutMs: number;
}

/** Istio's ports, used when the bootstrap leaves them out. */
export const DEFAULT_PORTS = { admin: 15000, stats: 15090, mergedMetrics: 15020, readiness: 15021 } as const;

const TOP_LEVEL = new Set([
  'node',
  'xds',
  'ca',
  'admin',
  'ports',
  'bindAddress',
  'appMetrics',
  'drainTimeoutMs',
]);

class Checker {
  readonly problems: string[] = [];

  fail(field: string, message: string): void {
    this.problems.push(`${field}: ${message}`);
  }

  object(v: unknown, field: string, required: boolean): Record<string, unknown> | undefined {
    if (v === undefined) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.fail(field, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  string(v: unknown, field: string, required: boolean): string | undefined {
    if (v === undefined) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || (required && v === '')) {
      this.fail(field, `must be a non-empty string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  port(v: unknown, field: string, fallback: number): number {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
      this.fail(field, `must be a port number (0-65535; 0 picks a free port), got ${describe(v)}`);
      return fallback;
    }
    return v;
  }

  address(v: unknown, field: string, required: boolean): string | undefined {
    const s = this.string(v, field, required);
    if (s === undefined) return undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s);
    if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) {
      this.fail(field, `must be host:port, got ${JSON.stringify(s)}`);
      return undefined;
    }
    return s;
  }

  ip(v: unknown, field: string): string | undefined {
    const s = this.string(v, field, false);
    if (s !== undefined && isIP(s) === 0) this.fail(field, `must be an IP address, got ${JSON.stringify(s)}`);
    return s;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${JSON.stringify(v)}`;
}

/** Validates a parsed bootstrap; throws TrellisError BOOTSTRAP_INVALID listing every problem by field. */
export function validateBootstrap(raw: unknown, source = 'bootstrap'): Bootstrap {
  const c = new Checker();
  const root = c.object(raw, '(root)', true) ?? {};
  for (const key of Object.keys(root)) if (!TOP_LEVEL.has(key)) c.fail(key, 'is not a bootstrap field');
  const node = c.object(root.node, 'node', true) ?? {};
  const id = c.string(node.id, 'node.id', true) ?? '';
  if (id && !/^(sidecar|router)~[^~]*~[^~]+~[^~]+$/.test(id))
    c.fail(
      'node.id',
      `must look like sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local, got ${JSON.stringify(id)}`,
    );
  const cluster = c.string(node.cluster, 'node.cluster', false) ?? '';
  const loc = c.object(node.locality, 'node.locality', false) ?? {};
  const locality = {
    region: c.string(loc.region, 'node.locality.region', false) ?? '',
    zone: c.string(loc.zone, 'node.locality.zone', false) ?? '',
    subZone: c.string(loc.subZone ?? loc.sub_zone, 'node.locality.subZone', false) ?? '',
  };
  const metadata = (c.object(node.metadata, 'node.metadata', true) ?? {}) as JsonObject;
  for (const key of ['NAMESPACE', 'NAME'] as const) c.string(metadata[key], `node.metadata.${key}`, true);
  // The workload identity is spiffe://<MESH_ID>/ns/<NAMESPACE>/sa/<SERVICE_ACCOUNT>.
  c.string(metadata.SERVICE_ACCOUNT, 'node.metadata.SERVICE_ACCOUNT', root.ca !== undefined);
  if (metadata.LABELS !== undefined) c.object(metadata.LABELS, 'node.metadata.LABELS', false);

  const xdsRaw = c.object(root.xds, 'xds', true) ?? {};
  const xds: Bootstrap['xds'] = {
    address: c.address(xdsRaw.address, 'xds.address', true) ?? '',
    tls: false,
  };
  if (xdsRaw.tls !== undefined && typeof xdsRaw.tls !== 'boolean')
    c.fail('xds.tls', `must be true or false, got ${describe(xdsRaw.tls)}`);
  xds.tls = xdsRaw.tls === true;
  const xdsCa = c.string(xdsRaw.caCertificateFile, 'xds.caCertificateFile', false);
  if (xdsCa) xds.caCertificateFile = xdsCa;

  let ca: Bootstrap['ca'];
  const caRaw = c.object(root.ca, 'ca', false);
  if (caRaw) {
    ca = { address: c.address(caRaw.address, 'ca.address', true) ?? '' };
    const token = c.string(caRaw.tokenFile, 'ca.tokenFile', false);
    if (token) ca.tokenFile = token;
    const caFile = c.string(caRaw.caCertificateFile, 'ca.caCertificateFile', false);
    if (caFile) ca.caCertificateFile = caFile;
    if (!caFile && !xdsCa)
      c.fail('ca.caCertificateFile', 'is required (or xds.caCertificateFile): the roots that verify the CA');
  }
  if (xds.tls && !ca)
    c.fail('xds.tls', 'needs `ca`: the xDS mTLS connection presents the workload certificate');
  if (xds.tls && !xdsCa && !ca?.caCertificateFile)
    c.fail('xds.caCertificateFile', 'is required with xds.tls: the roots that verify the control plane');

  const adminRaw = c.object(root.admin, 'admin', false) ?? {};
  const admin: Bootstrap['admin'] = {
    address: c.ip(adminRaw.address, 'admin.address') ?? '127.0.0.1',
    port: c.port(adminRaw.port, 'admin.port', DEFAULT_PORTS.admin),
  };
  const socketPath = c.string(adminRaw.socketPath, 'admin.socketPath', false);
  if (socketPath) admin.socketPath = socketPath;

  const portsRaw = c.object(root.ports, 'ports', false) ?? {};
  const ports = {
    stats: c.port(portsRaw.stats, 'ports.stats', DEFAULT_PORTS.stats),
    mergedMetrics: c.port(portsRaw.mergedMetrics, 'ports.mergedMetrics', DEFAULT_PORTS.mergedMetrics),
    readiness: c.port(portsRaw.readiness, 'ports.readiness', DEFAULT_PORTS.readiness),
  };
  const out: Bootstrap = {
    node: { id, cluster, locality, metadata },
    xds,
    admin,
    ports,
    drainTimeoutMs: 5000,
  };
  if (ca) out.ca = ca;
  const bind = c.ip(root.bindAddress, 'bindAddress');
  if (bind) out.bindAddress = bind;
  const am = c.object(root.appMetrics, 'appMetrics', false);
  if (am) {
    out.appMetrics = {
      port: c.port(am.port, 'appMetrics.port', 0),
      path: c.string(am.path, 'appMetrics.path', false) ?? '/metrics',
    };
    if (out.appMetrics.port === 0) c.fail('appMetrics.port', 'is required');
    const addr = c.ip(am.address, 'appMetrics.address');
    if (addr) out.appMetrics.address = addr;
  }
  if (root.drainTimeoutMs !== undefined) {
    const d = root.drainTimeoutMs;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0)
      c.fail('drainTimeoutMs', `must be a non-negative number of milliseconds, got ${describe(d)}`);
    else out.drainTimeoutMs = d;
  }
  if (c.problems.length > 0) {
    throw new TrellisError(
      'BOOTSTRAP_INVALID',
      `${source} is not a valid bootstrap:\n  ${c.problems.join('\n  ')}`,
      { problems: c.problems },
    );
  }
  return out;
}

/** Reads and validates a bootstrap file; every error names the file and the field. */
export async function loadBootstrap(path: string): Promise<Bootstrap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrellisError('BOOTSTRAP_UNREADABLE', `cannot read bootstrap ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TrellisError('BOOTSTRAP_INVALID', `${path} is not JSON: ${(e as Error).message}`);
  }
  return validateBootstrap(raw, path);
}
