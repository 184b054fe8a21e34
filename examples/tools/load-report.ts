// Summarises a load run the way fortio prints it (`Code 200 : 11 (36.7 %)`, `# target 50% 0.0052`) and as JSON.

import type { LoadArgs } from './load-args.js';
import type { LoadResult } from './load-runner.js';

export interface Stats {
  count: number;
  min: number;
  max: number;
  sum: number;
  avg: number;
  stdDev: number;
}

export function stats(values: readonly number[]): Stats {
  const count = values.length;
  if (count === 0) return { count: 0, min: 0, max: 0, sum: 0, avg: 0, stdDev: 0 };
  const sum = values.reduce((a, b) => a + b, 0);
  const avg = sum / count;
  const variance = values.reduce((a, v) => a + (v - avg) ** 2, 0) / count;
  return { count, min: Math.min(...values), max: Math.max(...values), sum, avg, stdDev: Math.sqrt(variance) };
}

/** The p-th percentile by linear interpolation between the closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Calls per status code, codes in ascending order (-1 = no response). */
export function codeCounts(result: LoadResult): [number, number][] {
  const counts = new Map<number, number>();
  for (const c of result.calls) counts.set(c.code, (counts.get(c.code) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
}

/** fortio's `Code %3d : %d (%.1f %%)`. */
export function formatCodeLine(code: number, count: number, total: number): string {
  return `Code ${String(code).padStart(3, ' ')} : ${count} (${((100 * count) / total).toFixed(1)} %)`;
}

const g = (n: number) => String(Number(n.toPrecision(6)));

function statsLine(label: string, s: Stats): string {
  return `${label} : count ${s.count} avg ${g(s.avg)} +/- ${g(s.stdDev)} min ${g(s.min)} max ${g(s.max)} sum ${g(s.sum)}`;
}

export function formatTextReport(args: LoadArgs, result: LoadResult): string {
  const total = result.calls.length;
  const seconds = result.calls.map((c) => c.durationMs / 1000);
  const sorted = [...seconds].sort((a, b) => a - b);
  const qps = result.elapsedMs > 0 ? (1000 * total) / result.elapsedMs : 0;
  const errors = result.calls.filter((c) => c.code === -1).map((c) => c.durationMs / 1000);
  const sockets = result.socketsPerConnection.reduce((a, b) => a + b, 0);
  const qpsText = args.qps > 0 ? String(args.qps) : '0';
  const what = args.calls !== undefined ? `${args.calls} calls` : `${args.durationMs / 1000}s`;
  const perThread =
    args.calls !== undefined
      ? `for exactly ${args.calls} calls (${Math.floor(args.calls / args.concurrency)} per thread + ${args.calls % args.concurrency})`
      : `for ${args.durationMs / 1000}s`;
  const lines = [
    `Trellis load (fortio-compatible) running at ${qpsText} queries per second, ${args.concurrency} connections, for ${what}: ${args.url}`,
    `Starting at ${args.qps > 0 ? `${args.qps} qps` : 'max qps'} with ${args.concurrency} thread(s) ${perThread}`,
    `Ended after ${g(result.elapsedMs)}ms : ${total} calls. qps=${g(qps)}`,
    statsLine('Aggregated Function Time', stats(seconds)),
    ...args.percentiles.map((p) => `# target ${p}% ${g(percentile(sorted, p))}`),
    statsLine('Error cases', stats(errors)),
    `Sockets used: ${sockets} (for perfect keepalive, would be ${args.concurrency})`,
    ...codeCounts(result).map(([code, count]) => formatCodeLine(code, count, total)),
    statsLine('Response Header Sizes', stats(result.calls.map((c) => c.headerBytes))),
    statsLine('Response Body/Total Sizes', stats(result.calls.map((c) => c.headerBytes + c.bodyBytes))),
    `All done ${total} calls (plus 0 warmup) ${g(total > 0 ? (1000 * seconds.reduce((a, b) => a + b, 0)) / total : 0)} ms avg, ${qps.toFixed(1)} qps`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The subset of fortio's JSON result that dashboards and tests read. */
export function jsonReport(args: LoadArgs, result: LoadResult): Record<string, unknown> {
  const seconds = result.calls.map((c) => c.durationMs / 1000);
  const sorted = [...seconds].sort((a, b) => a - b);
  const s = stats(seconds);
  const histogram = (st: Stats) => ({
    Count: st.count,
    Min: st.min,
    Max: st.max,
    Sum: st.sum,
    Avg: st.avg,
    StdDev: st.stdDev,
  });
  return {
    RunType: 'HTTP',
    Version: 'trellis-load/1.0',
    StartTime: result.startedAt.toISOString(),
    URL: args.url,
    RequestedQPS: args.qps > 0 ? String(args.qps) : 'max',
    RequestedDuration:
      args.calls !== undefined ? `exactly ${args.calls} calls` : `${args.durationMs / 1000}s`,
    ActualQPS: result.elapsedMs > 0 ? (1000 * result.calls.length) / result.elapsedMs : 0,
    ActualDuration: Math.round(result.elapsedMs * 1e6),
    NumThreads: args.concurrency,
    Exactly: args.calls ?? 0,
    DurationHistogram: {
      ...histogram(s),
      Percentiles: args.percentiles.map((p) => ({ Percentile: p, Value: percentile(sorted, p) })),
    },
    RetCodes: Object.fromEntries(codeCounts(result).map(([code, n]) => [String(code), n])),
    Sockets: result.socketsPerConnection,
    SocketCount: result.socketsPerConnection.reduce((a, b) => a + b, 0),
    HeaderSizes: histogram(stats(result.calls.map((c) => c.headerBytes))),
    Sizes: histogram(stats(result.calls.map((c) => c.headerBytes + c.bodyBytes))),
    Errors: result.calls.filter((c) => c.error).map((c) => c.error),
  };
}
