// `trellis x certs`: lists roots and workload certificates from a CA directory, PEM files and sidecar admins.

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
// Direct module imports (not the rooms' index files) keep grpc-js and the x509 library out of CLI startup.
import { readCaStateCertificates } from '../../controlplane/ca/state-listing.js';
import { MeshClient } from '../../runtime/client.js';
import { TrellisError } from '../../shared/errors.js';
import type { EnvoyCertificateDetails, EnvoyCertificates } from '../../sidecar/identity/admin-certs.js';
import { describeCertificates } from '../../sidecar/identity/cert-info.js';
import { adminGet, adminOfPod, parseAdminTarget } from './proxy-config.js';

export type CertKind = 'root' | 'signing root' | 'pending root' | 'intermediate' | 'workload' | 'serving';
export type CertStatus = 'ok' | 'warning' | 'expired' | 'not yet valid';

export interface CertRow {
  source: string;
  kind: CertKind;
  subject: string;
  spiffeId: string | undefined;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface AssessedCert extends CertRow {
  timeLeftMs: number;
  status: CertStatus;
  /** Why the status is not ok, in words. */
  note: string | undefined;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Roots and intermediates: warn this long before expiry (rotating a root takes a full workload TTL). */
export const CA_WARNING_MS = 30 * DAY;
/** Workload and serving certs: warn under this fraction of the lifetime, or under an hour. */
export const LEAF_WARNING_FRACTION = 0.2;
export const LEAF_WARNING_MS = HOUR;

/** `3650d`, `2d 4h`, `5h 12m`, `12m 3s`, `42s`: precise enough to act on, short enough for a table. */
export function formatTimeLeft(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d >= 10) return `${d}d`;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function isCaKind(kind: CertKind): boolean {
  return kind === 'root' || kind === 'signing root' || kind === 'pending root' || kind === 'intermediate';
}

/** Status and note for one certificate at `now`. */
export function assessCertificate(row: CertRow, now: number): AssessedCert {
  const timeLeftMs = row.notAfter.getTime() - now;
  const lifetime = row.notAfter.getTime() - row.notBefore.getTime();
  let status: CertStatus = 'ok';
  let note: string | undefined;
  if (row.notBefore.getTime() > now) {
    status = 'not yet valid';
    note = `valid from ${row.notBefore.toISOString()}`;
  } else if (timeLeftMs <= 0) {
    status = 'expired';
    note = `expired ${formatTimeLeft(-timeLeftMs)} ago`;
  } else if (isCaKind(row.kind)) {
    if (timeLeftMs < CA_WARNING_MS) {
      status = 'warning';
      note = `${row.kind} expires in ${formatTimeLeft(timeLeftMs)} (under 30 days): rotate it now`;
    }
  } else if (timeLeftMs < LEAF_WARNING_MS || timeLeftMs < lifetime * LEAF_WARNING_FRACTION) {
    status = 'warning';
    const why =
      timeLeftMs < LEAF_WARNING_MS
        ? 'under 1h'
        : `${Math.round((timeLeftMs / lifetime) * 100)}% of its lifetime left`;
    note = `expires in ${formatTimeLeft(timeLeftMs)} (${why}); renewal should have happened at half-life`;
  }
  return { ...row, timeLeftMs, status, note };
}

function rowsFromPem(text: string, source: string, role?: CertKind): CertRow[] {
  return describeCertificates(text).map((c) => {
    const selfSigned = (() => {
      const x = new X509Certificate(c.pem);
      return x.checkIssued(x) && x.verify(x.publicKey);
    })();
    const kind: CertKind =
      role ?? (c.isCa ? (selfSigned ? 'root' : 'intermediate') : c.spiffeId ? 'workload' : 'serving');
    return {
      source,
      kind,
      subject: c.subject,
      spiffeId: c.spiffeId,
      serial: c.serial,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
    };
  });
}

/** Roots, the signing root, a pending root and the serving chain of a CA state directory. */
export async function rowsFromCaDir(dir: string): Promise<CertRow[]> {
  const certs = await readCaStateCertificates(dir);
  if (certs.length === 0) {
    throw new TrellisError(
      'CERTS_SOURCE',
      `CA directory ${dir} holds no certificates (is it a Trellis CA state directory?)`,
    );
  }
  return certs.flatMap((c) => rowsFromPem(c.pem, c.file, c.role));
}

export async function rowsFromFile(path: string): Promise<CertRow[]> {
  const rows = rowsFromPem(await readFile(path, 'utf8'), path);
  if (rows.length === 0) throw new TrellisError('CERTS_SOURCE', `${path} holds no PEM certificate`);
  return rows;
}

function rowFromEnvoy(d: EnvoyCertificateDetails, source: string, kind: CertKind): CertRow {
  const uris = d.subject_alt_names.flatMap((n) => ('uri' in n ? [n.uri] : []));
  return {
    source,
    kind,
    subject: '',
    spiffeId: uris.length === 1 && uris[0]!.startsWith('spiffe://') ? uris[0] : undefined,
    serial: d.serial_number.toLowerCase(),
    notBefore: new Date(d.valid_from),
    notAfter: new Date(d.expiration_time),
  };
}

/** Reads a sidecar admin's Envoy `/certs` JSON (`http://host:port`, `host:port` or `unix:/path/admin.sock`). */
export async function rowsFromAdmin(address: string, timeoutMs = 5000): Promise<CertRow[]> {
  const target = address.replace(/\/certs$/, '').replace(/\/$/, '');
  let body: EnvoyCertificates;
  try {
    body = JSON.parse(await adminGet(parseAdminTarget(target), '/certs', timeoutMs)) as EnvoyCertificates;
  } catch (e) {
    throw new TrellisError('CERTS_SOURCE', `sidecar admin ${target}: ${(e as Error).message}`);
  }
  if (!Array.isArray(body?.certificates)) {
    throw new TrellisError('CERTS_SOURCE', `sidecar admin ${target} did not answer Envoy /certs JSON`);
  }
  return body.certificates.flatMap((c) => [
    ...(c.ca_cert ?? []).map((d) => rowFromEnvoy(d, target, 'root')),
    ...(c.cert_chain ?? []).map((d, i) => rowFromEnvoy(d, target, i === 0 ? 'workload' : 'intermediate')),
  ]);
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function renderTable(certs: readonly AssessedCert[]): string {
  const header = [
    'KIND',
    'SPIFFE ID',
    'SUBJECT',
    'SERIAL',
    'NOT BEFORE',
    'NOT AFTER',
    'TIME LEFT',
    'STATUS',
    'SOURCE',
  ];
  const rows = certs.map((c) => [
    c.kind,
    c.spiffeId ?? '-',
    c.subject || '-',
    c.serial,
    date(c.notBefore),
    date(c.notAfter),
    c.timeLeftMs > 0 ? formatTimeLeft(c.timeLeftMs) : 'expired',
    c.status.toUpperCase(),
    c.source,
  ]);
  const notes = certs
    .filter((c) => c.note)
    .map((c) => `${c.status.toUpperCase()}: ${c.kind} ${c.serial}: ${c.note}`);
  return `${pad([header, ...rows])}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}

interface CertsOptions {
  caDir?: string[];
  file?: string[];
  admin?: string[];
  pod?: string[];
  name: string;
  output: string;
}

/** A running mesh's CA folder and its sidecars (every pod with one, and the ingress gateway). */
async function meshSources(opts: CertsOptions): Promise<{ caDir: string; admins: string[] }> {
  const status = await MeshClient.connect(opts.name).status();
  const pods = opts.pod ?? [
    ...status.pods.filter((p) => p.sidecar !== undefined).map((p) => p.name),
    ...(status.ingress?.admin ? ['istio-ingressgateway'] : []),
  ];
  return {
    caDir: join(status.stateDir, 'controlplane', 'ca'),
    admins: pods.map((p) => adminOfPod(status, p)),
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function run(opts: CertsOptions): Promise<void> {
  if (opts.output !== 'table' && opts.output !== 'json') {
    throw new TrellisError('CLI_USAGE', `unknown output format "${opts.output}": use table or json`);
  }
  const explicit = Boolean(opts.caDir?.length || opts.file?.length || opts.admin?.length);
  const mesh = !explicit || opts.pod?.length ? await meshSources(opts) : undefined;
  const caDirs = [...(opts.caDir ?? []), ...(mesh && !explicit ? [mesh.caDir] : [])];
  const sources = [
    ...caDirs.map((d) => () => rowsFromCaDir(d)),
    ...(opts.file ?? []).map((f) => () => rowsFromFile(f)),
    ...[...(opts.admin ?? []), ...(mesh?.admins ?? [])].map((u) => () => rowsFromAdmin(u)),
  ];
  const rows = (await Promise.all(sources.map((s) => s()))).flat();
  const now = Date.now();
  const certs = rows.map((r) => assessCertificate(r, now));
  if (opts.output === 'json') {
    const json = certs.map((c) => ({
      ...c,
      spiffeId: c.spiffeId ?? null,
      note: c.note ?? null,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
    }));
    process.stdout.write(`${JSON.stringify({ certificates: json }, null, 2)}\n`);
  } else {
    process.stdout.write(renderTable(certs));
  }
}

/** Registers `x certs` under the (shared) experimental `x` group. */
export function registerCerts(program: Command): void {
  const x =
    program.commands.find((c) => c.name() === 'x') ??
    program.command('x').description('experimental and diagnostic commands');
  x.command('certs')
    .description(
      'list roots and workload certificates (subject, SPIFFE ID, serial, validity, time left) and warn before expiry',
    )
    .option('--ca-dir <dir>', 'a CA state directory (repeatable)', collect)
    .option('--file <pem>', 'a PEM file with one or more certificates (repeatable)', collect)
    .option(
      '--admin <address>',
      'a sidecar admin address: http://127.0.0.1:15000 or unix:/path/admin.sock (repeatable)',
      collect,
    )
    .option(
      '--pod <pod>',
      'a pod of the running mesh: name, deploy/<name> or istio-ingressgateway (repeatable)',
      collect,
    )
    .option(
      '--name <mesh>',
      'the running mesh (used when no --ca-dir, --file or --admin is given)',
      'default',
    )
    .option('-o, --output <format>', 'table or json', 'table')
    .action(run);
}
