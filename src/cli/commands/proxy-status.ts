// `trellis proxy-status`: every connected proxy with SYNCED / STALE / NOT SENT per xDS type, like istioctl.

import type { Command } from 'commander';

interface SyncEntry {
  proxy: string;
  cluster: string;
  protocol: string;
  connectedSince: string;
  types: Record<string, { state: string; acked: string | null; lastNack: { message: string } | null }>;
}

/** The control plane's API address: --api, then $TRELLIS_API, then the default port on loopback. */
export function apiAddress(flag: string | undefined): string {
  const raw = flag ?? process.env.TRELLIS_API ?? '127.0.0.1:15014';
  return raw.startsWith('http') ? raw.replace(/\/$/, '') : `http://${raw}`;
}

export async function fetchJson<T>(url: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(
      `cannot reach the control plane at ${url}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`,
    );
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function registerProxyStatus(program: Command): void {
  program
    .command('proxy-status')
    .description(
      'List connected proxies and whether each has the latest config (SYNCED, STALE, NOT SENT) per xDS type',
    )
    .option('--api <address>', 'control plane API address (default $TRELLIS_API or 127.0.0.1:15014)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { api?: string; output: string }) => {
      const entries = await fetchJson<SyncEntry[]>(`${apiAddress(opts.api)}/debug/syncz`);
      if (opts.output === 'json') {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      const rows = [['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'PROTOCOL', 'CONNECTED SINCE']];
      for (const e of entries.sort((a, b) => (a.proxy < b.proxy ? -1 : 1))) {
        const s = (t: string) => e.types[t]?.state ?? 'NOT SENT';
        rows.push([
          e.proxy,
          e.cluster || '-',
          s('CDS'),
          s('LDS'),
          s('EDS'),
          s('RDS'),
          e.protocol,
          e.connectedSince,
        ]);
      }
      process.stdout.write(`${table(rows)}\n`);
      const nacks = entries.flatMap((e) =>
        Object.entries(e.types)
          .filter(([, t]) => t.lastNack)
          .map(([type, t]) => `  ${e.proxy} ${type}: ${t.lastNack!.message}`),
      );
      if (nacks.length > 0) process.stdout.write(`\nLast rejections:\n${nacks.join('\n')}\n`);
    });
}
