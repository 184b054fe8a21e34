import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { DEFAULT_RETRY_BUDGET } from '../../src/shared/retry-budget.js';
import { RetryBudget } from '../../src/sidecar/upstream/budget/retry-budget.js';

test('a backend that fails every request sees about 1.2× the offered load, though routes ask for 3 retries', async (t) => {
  let hits = 0;
  const backend = createServer((_req, res) => {
    hits++;
    res.writeHead(503).end();
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const url = `http://127.0.0.1:${(backend.address() as { port: number }).port}/`;
  const budget = new RetryBudget(DEFAULT_RETRY_BUDGET);
  const requests = 1500;
  let sent = 0;
  // A client with `retries: {attempts: 3, retryOn: 5xx}` and the default budget (20%, 10/s).
  const worker = async () => {
    while (sent < requests) {
      sent++;
      budget.recordRequest();
      for (let attempt = 0; attempt <= 3; attempt++) {
        if (attempt > 0 && !budget.tryRetry()) break;
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status < 500) break;
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: 10 }, worker));
  } finally {
    backend.closeAllConnections();
    backend.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const ratio = hits / requests;
  t.diagnostic(
    `${requests} requests in ${seconds.toFixed(1)} s → ${hits} backend hits (${ratio.toFixed(3)}×); without a budget: 4×`,
  );
  // 20% of the requests plus 10 retries/s; the 10 s reserve can be spent at once by a short run.
  const floor = 10 * Math.max(10, Math.ceil(seconds));
  assert.ok(hits <= requests * 1.2 + floor, `the backend saw ${hits} attempts in ${seconds.toFixed(1)} s`);
  assert.ok(hits >= requests * 1.2, 'the budget lets its 20% through');
  assert.equal(budget.counters.upstream_rq_retry_overflow > 0, true);
});
