// `trellis proxy-config listeners|routes|clusters|endpoints|secret|all <admin>`: a proxy's config, as istioctl prints it.

import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import type { Command } from 'commander';
import { MeshClient } from '../../runtime/client.js';
import type { MeshStatus } from '../../runtime/mesh.js';
import { TrellisError } from '../../shared/errors.js';

type Json = Record<string, unknown>;

/** `unix:/path/admin.sock`, `http://host:port` or `host:port`. */
export interface AdminTarget {
  socketPath?: string;
  base?: string;
}

export function parseAdminTarget(text: string): AdminTarget {
  if (text.startsWith('unix:')) return { socketPath: text.slice(5) };
  if (text.startsWith('/')) return { socketPath: text };
  if (/^https?:\/\//.test(text)) return { base: text.replace(/\/$/, '') };
  if (/^[^/\s]+:\d+$/.test(text)) return { base: `http://${text}` };
  throw new TrellisError(
    'PROXY_CONFIG_TARGET',
    `"${text}" is not an admin address (use unix:/path/admin.sock or http://host:port, or a pod of a running mesh)`,
  );
}

/** Whether `text` is an admin address rather than a pod name. */
export function isAdminAddress(text: string): boolean {
  return (
    text.startsWith('unix:') ||
    text.startsWith('/') ||
    /^https?:\/\//.test(text) ||
    /^[^/\s]+:\d+$/.test(text)
  );
}

/**
 * A pod of a running mesh (`productpage-v1-abc-0`, `deploy/productpage-v1`, or `istio-ingressgateway`) to its
 * sidecar's admin address, from `trellis status`.
 */
export function adminOfPod(status: MeshStatus, pod: string): string {
  if (pod === 'istio-ingressgateway' || pod === 'deploy/istio-ingressgateway') {
    if (status.ingress?.admin) return status.ingress.admin;
    throw new TrellisError('NO_SUCH_POD', `mesh "${status.mesh}" runs no ingress gateway`);
  }
  const deployment = pod.startsWith('deploy/') ? pod.slice('deploy/'.length) : undefined;
  const candidates = status.pods.filter((p) =>
    deployment === undefined ? p.name === pod : p.deployment === deployment,
  );
  const chosen = candidates.find((p) => p.ready) ?? candidates[0];
  if (chosen === undefined) {
    const names = status.pods.map((p) => p.name).join(', ');
    throw new TrellisError(
      'NO_SUCH_POD',
      `mesh "${status.mesh}" has no pod "${pod}" (pods: ${names || 'none'})`,
    );
  }
  if (chosen.sidecar === undefined)
    throw new TrellisError(
      'NO_SIDECAR',
      `pod "${chosen.name}" has no sidecar (sidecar.istio.io/inject: "false")`,
    );
  return chosen.sidecar.admin;
}

/** GET on the admin API over TCP or the unix socket. */
export function adminGet(target: AdminTarget, path: string, timeoutMs = 5000): Promise<string> {
  const where = target.socketPath ? `unix:${target.socketPath}` : target.base!;
  return new Promise((resolve, reject) => {
    const options = target.base
      ? { ...urlOptions(new URL(path, target.base)), method: 'GET', timeout: timeoutMs }
      : { socketPath: target.socketPath, path, method: 'GET', timeout: timeoutMs };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`${where}${path} answered ${res.statusCode}: ${body}`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${where} within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`cannot reach the proxy admin at ${where}: ${e.message}`)));
    req.end();
  });
}

function urlOptions(u: URL): { host: string; port: string; path: string } {
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || '80', path: `${u.pathname}${u.search}` };
}

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function section(dump: Json, type: string): Json | undefined {
  const configs = (dump.configs ?? []) as Json[];
  return configs.find((c) => String(c['@type']).endsWith(`.${type}`));
}

const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export function listenerRows(dump: Json): string[][] {
  const rows = [['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION']];
  const listeners = arr(section(dump, 'ListenersConfigDump')?.dynamic_listeners);
  for (const dl of listeners) {
    const l = obj(obj(dl.active_state ?? dl.warming_state).listener);
    const sa = obj(obj(l.address).socket_address);
    const chains = [
      ...arr(l.filter_chains),
      ...(l.default_filter_chain ? [obj(l.default_filter_chain)] : []),
    ];
    for (const fc of chains) {
      const m = obj(fc.filter_chain_match);
      const match: string[] = [];
      if (m.destination_port !== undefined) match.push(`Port: ${str(m.destination_port)}`);
      const ranges = arr(m.prefix_ranges).map((r) => `${str(r.address_prefix)}/${str(r.prefix_len ?? 32)}`);
      if (ranges.length > 0) match.push(`Addr: ${ranges.join(',')}`);
      if (m.server_names) match.push(`SNI: ${(m.server_names as string[]).join(',')}`);
      if (m.transport_protocol) match.push(`Trans: ${str(m.transport_protocol)}`);
      if (m.application_protocols) match.push(`App: ${(m.application_protocols as string[]).join(',')}`);
      rows.push([
        str(sa.address),
        str(sa.port_value),
        match.length > 0 ? match.join('; ') : 'ALL',
        arr(fc.filters).map(destinationOf).filter(Boolean).join(', ') || '-',
      ]);
    }
  }
  return rows;
}

function destinationOf(f: Json): string {
  const tc = obj(f.typed_config);
  const type = str(tc['@type']);
  if (type.endsWith('HttpConnectionManager')) {
    if (tc.rds) return `Route: ${str(obj(tc.rds).route_config_name)}`;
    return `Inline Route: ${str(obj(tc.route_config).name)}`;
  }
  if (type.endsWith('TcpProxy')) {
    if (tc.cluster) return `Cluster: ${str(tc.cluster)}`;
    const wc = arr(obj(tc.weighted_clusters).clusters).map((c) => `${str(c.name)}(${str(c.weight)})`);
    return `Clusters: ${wc.join(',')}`;
  }
  return '';
}

export function routeRows(dump: Json): string[][] {
  const rows = [['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']];
  const configs = arr(section(dump, 'RoutesConfigDump')?.dynamic_route_configs).map((r) =>
    obj(r.route_config),
  );
  for (const rc of configs) {
    for (const vh of arr(rc.virtual_hosts)) {
      const domains = (vh.domains as string[] | undefined) ?? [];
      const shown =
        domains.length > 3
          ? `${domains.slice(0, 1).join(',')} + ${domains.length - 1} more...`
          : domains.join(',');
      for (const r of arr(vh.routes)) {
        const m = obj(r.match);
        const match =
          m.prefix !== undefined
            ? `${str(m.prefix)}*`
            : m.path !== undefined
              ? str(m.path)
              : m.safe_regex
                ? str(obj(m.safe_regex).regex)
                : '/*';
        const config = str(obj(obj(obj(r.metadata).filter_metadata).istio).config);
        const vs = /\/namespaces\/([^/]+)\/virtual-service\/([^/]+)/.exec(config);
        rows.push([str(rc.name), str(vh.name), shown, match, vs ? `${vs[2]}.${vs[1]}` : '']);
      }
    }
  }
  return rows;
}

export function clusterRows(dump: Json): string[][] {
  const rows = [['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']];
  const clusters = arr(section(dump, 'ClustersConfigDump')?.dynamic_active_clusters).map((c) =>
    obj(c.cluster),
  );
  for (const c of clusters) {
    const name = str(c.name);
    const parts = name.split('|');
    const type = str(c.type || (c.eds_cluster_config ? 'EDS' : 'STATIC'));
    const dr = /\/namespaces\/([^/]+)\/destination-rule\/([^/]+)/.exec(
      str(obj(obj(obj(c.metadata).filter_metadata).istio).config),
    );
    if (parts.length === 4)
      rows.push([parts[3] || '', parts[1]!, parts[2] || '-', parts[0]!, type, dr ? `${dr[2]}.${dr[1]}` : '']);
    else rows.push([name, '-', '-', '-', type, '']);
  }
  return rows;
}

export function endpointRows(clusters: Json): string[][] {
  const rows = [['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER']];
  for (const c of arr(clusters.cluster_statuses)) {
    for (const h of arr(c.host_statuses)) {
      const sa = obj(obj(h.address).socket_address);
      const health = obj(h.health_status);
      rows.push([
        `${str(sa.address)}:${str(sa.port_value)}`,
        str(health.eds_health_status || 'HEALTHY'),
        health.failed_outlier_check ? 'FAILED' : 'OK',
        str(c.name),
      ]);
    }
  }
  return rows;
}

export function secretRows(dump: Json): string[][] {
  const rows = [
    ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
  ];
  for (const s of arr(section(dump, 'SecretsConfigDump')?.dynamic_active_secrets)) {
    const secret = obj(s.secret);
    const pem = Buffer.from(
      str(
        obj(obj(secret.tls_certificate).certificate_chain).inline_bytes ||
          obj(obj(secret.validation_context).trusted_ca).inline_bytes,
      ),
      'base64',
    ).toString('utf8');
    let serial = '';
    let notAfter = '';
    let notBefore = '';
    let valid = 'false';
    try {
      const cert = new X509Certificate(pem);
      serial = cert.serialNumber.toLowerCase();
      notAfter = new Date(cert.validTo).toISOString();
      notBefore = new Date(cert.validFrom).toISOString();
      const now = Date.now();
      valid = String(Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo));
    } catch {
      // Not a certificate we can read: leave the columns empty.
    }
    rows.push([
      str(s.name),
      secret.tls_certificate ? 'Cert Chain' : 'CA',
      'ACTIVE',
      valid,
      serial,
      notAfter,
      notBefore,
    ]);
  }
  return rows;
}

const KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secret', 'all'] as const;
type Kind = (typeof KINDS)[number];

export async function proxyConfig(
  kind: Kind,
  target: AdminTarget,
  output: 'table' | 'json',
): Promise<string> {
  const needsDump = kind !== 'endpoints';
  const needsClusters = kind === 'endpoints' || kind === 'all';
  const dump = needsDump ? (JSON.parse(await adminGet(target, '/config_dump')) as Json) : {};
  const clusters = needsClusters ? (JSON.parse(await adminGet(target, '/clusters?format=json')) as Json) : {};
  if (output === 'json') {
    const pick: Record<Kind, unknown> = {
      listeners: section(dump, 'ListenersConfigDump'),
      routes: section(dump, 'RoutesConfigDump'),
      clusters: section(dump, 'ClustersConfigDump'),
      endpoints: clusters,
      secret: section(dump, 'SecretsConfigDump'),
      all: { ...dump, clusters },
    };
    return `${JSON.stringify(pick[kind] ?? {}, null, 2)}\n`;
  }
  const parts: string[] = [];
  if (kind === 'clusters' || kind === 'all') parts.push(table(clusterRows(dump)));
  if (kind === 'listeners' || kind === 'all') parts.push(table(listenerRows(dump)));
  if (kind === 'routes' || kind === 'all') parts.push(table(routeRows(dump)));
  if (kind === 'endpoints' || kind === 'all') parts.push(table(endpointRows(clusters)));
  if (kind === 'secret' || kind === 'all') parts.push(table(secretRows(dump)));
  return parts.join('\n');
}

export function registerProxyConfig(program: Command): void {
  program
    .command('proxy-config')
    .alias('pc')
    .description("Print a proxy's listeners, routes, clusters, endpoints or secrets from its admin API")
    .argument('<kind>', KINDS.join('|'))
    .argument(
      '[target]',
      'a pod of the running mesh (name, deploy/<name>, istio-ingressgateway) or an admin address: unix:/path/admin.sock, http://host:port',
    )
    .option('--admin <address>', 'admin address (same forms as the target)')
    .option('--name <mesh>', 'the running mesh a pod name refers to', 'default')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(
      async (
        kind: string,
        positional: string | undefined,
        opts: { admin?: string; name: string; output: string },
      ) => {
        if (!KINDS.includes(kind as Kind))
          throw new Error(`unknown kind "${kind}"; use one of ${KINDS.join(', ')}`);
        let where = opts.admin ?? positional;
        if (!where) throw new Error('give a pod or the proxy admin address (argument or --admin)');
        if (!isAdminAddress(where)) where = adminOfPod(await MeshClient.connect(opts.name).status(), where);
        if (opts.output !== 'table' && opts.output !== 'json') throw new Error('-o must be table or json');
        process.stdout.write(await proxyConfig(kind as Kind, parseAdminTarget(where), opts.output));
      },
    );
}
