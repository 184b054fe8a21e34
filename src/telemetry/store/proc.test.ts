import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import { LocalMetricsSource } from './local-source.js';
import { ProcessSampler, parseProcStat, readProcessSample } from './proc.js';
import { TelemetryQueries } from './queries.js';
import { TimeSeriesStore } from './tsdb.js';

const linux = process.platform === 'linux';

test('parses /proc/PID/stat even when the command name has spaces and parens', () => {
  const stat = '4242 (node (worker) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 123 456 789';
  assert.deepEqual(parseProcStat(stat), { utimeTicks: 250, stimeTicks: 50, threads: 11 });
});

test('reads CPU and RSS of a live process and reports a gone one', {
  skip: linux ? false : 'needs Linux /proc',
}, async () => {
  const s = await readProcessSample(process.pid);
  assert.ok(s.rssBytes > 10_000_000, `rss ${s.rssBytes}`);
  assert.ok(s.cpuSeconds > 0);
  assert.ok(s.threads >= 1);
  await assert.rejects(readProcessSample(2 ** 22 + 12345), (e) => isTrellisError(e, 'PROC_GONE'));
});

test('tracked processes become CPU (cores) and memory per process in the queries', async () => {
  const store = new TimeSeriesStore({ resolutionMs: 1000 });
  const sampler = new ProcessSampler({ store });
  const labels = { pod: 'reviews-v1', role: 'proxy' };
  // Pushed samples: 1.5 CPU-seconds per 5 s = 0.3 cores, RSS growing to 50 MB.
  for (let i = 0; i <= 12; i++) {
    sampler.record(
      labels,
      { pid: 77, cpuSeconds: i * 1.5, rssBytes: 40e6 + i * 1e6 - 2e6, threads: 5 },
      i * 5000,
    );
  }
  const usage = await new TelemetryQueries(new LocalMetricsSource(store)).processUsage({ atMs: 60_000 });
  assert.equal(usage.length, 1);
  assert.deepEqual(usage[0]!.labels, { pod: 'reviews-v1', role: 'proxy', pid: '77' });
  assert.ok(Math.abs(usage[0]!.cpuCores - 0.3) < 1e-9, String(usage[0]!.cpuCores));
  assert.equal(usage[0]!.rssBytes, 50e6);
  if (linux) {
    sampler.track(process.pid, { pod: 'self' });
    sampler.track(2 ** 22 + 12345, { pod: 'gone' });
    await sampler.sampleOnce();
    assert.equal(
      store.select('process_resident_memory_bytes', []).filter((s) => s.labels.pod === 'self').length,
      1,
    );
    assert.equal(
      store.select('process_resident_memory_bytes', []).filter((s) => s.labels.pod === 'gone').length,
      0,
    );
  }
});
