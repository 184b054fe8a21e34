// Number and time formatting for the dashboard: short, fixed-width-friendly, honest about missing data.

const DASH = '–';

/** Requests per second: `12.3/s`, `0.40/s`, `1.2k/s`. */
export function formatRate(rps: number | undefined | null): string {
  if (rps === undefined || rps === null || !Number.isFinite(rps)) return DASH;
  if (rps === 0) return '0/s';
  if (rps >= 1000) return `${(rps / 1000).toFixed(1)}k/s`;
  if (rps >= 10) return `${rps.toFixed(1)}/s`;
  return `${rps.toFixed(2)}/s`;
}

/** A ratio 0..1 as a percentage: `5.0%`, `0.12%`, `0%`. */
export function formatPercent(ratio: number | undefined | null): string {
  if (ratio === undefined || ratio === null || !Number.isFinite(ratio)) return DASH;
  if (ratio === 0) return '0%';
  const p = ratio * 100;
  if (p < 1) return `${p.toFixed(2)}%`;
  return `${p.toFixed(1)}%`;
}

/** Milliseconds: `850µs`, `12.5ms`, `475ms`, `1.20s`, `2m 5s`. */
export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return DASH;
  if (ms === 0) return '0ms';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 100) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Bytes in binary units: `512 B`, `55.0 MiB`. */
export function formatBytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** CPU cores as millicores, as Kubernetes writes them: `20m`, `1.25` cores above one. */
export function formatCores(cores: number | undefined | null): string {
  if (cores === undefined || cores === null || !Number.isFinite(cores)) return DASH;
  if (cores >= 1) return `${cores.toFixed(2)} cores`;
  return `${Math.round(cores * 1000)}m`;
}

/** How long ago, relative to the server's clock: `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAgo(atMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Wall-clock time of day in UTC (`23:04:05`): the server's clock, whatever the browser's zone. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Date and time in UTC (`2023-11-14 23:04:05`). */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `reviews.default.svc.cluster.local` -> `reviews`; other hosts stay whole. */
export function shortHost(host: string): string {
  const m = /^([^.]+)\.([^.]+)\.svc\./.exec(host);
  return m ? m[1]! : host;
}
