import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { DEFAULT_ASSETS_DIR } from '../../src/controlplane/api/server.js';
import { CONFIG_ERROR_MESSAGE, type DashboardFixture, RDS_NACK, startDashboardFixture } from './fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`
  : !existsSync(join(DEFAULT_ASSETS_DIR, 'index.html'))
    ? `the dashboard is not built (no ${DEFAULT_ASSETS_DIR}index.html): run npm run build`
    : false;

/** Inspected by hand while developing: every test leaves a picture here, replaced by the next run. */
const shots = join(tmpdir(), 'trellis-dashboard-screenshots');
mkdirSync(shots, { recursive: true });

interface GraphModel {
  by: string;
  nodes: { id: string; kind: string; label: string; health: string }[];
  edges: { id: string; source: string; target: string; label: string; mtls: boolean; health: string }[];
  locks: number;
}

// The page's globals as the evaluate() callbacks see them; the root build has no DOM types.
declare const window: {
  __trellisGraph?: GraphModel;
  __trellisCy?: { getElementById(id: string): { renderedPosition(): { x: number; y: number } } };
  marker?: number;
};
declare const location: { hash: string };
interface Canvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

function visibleText(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the text as rendered, cells apart.
  return l.innerText();
}

describe('dashboard in Chromium', { skip }, () => {
  let fx: DashboardFixture;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    fx = await startDashboardFixture();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // The flags that keep Chromium off the (closed) network and quiet on a fresh profile.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // Chromium aborts requests in flight with ERR_NETWORK_CHANGED when interfaces come and go, which other
    // test files do (network namespaces); the page retries those, and the assertions check that it recovered.
    const networkChanged = (text: string) => text.includes('ERR_NETWORK_CHANGED');
    page.on('console', (m) => {
      if (m.type() === 'error' && !networkChanged(m.text())) problems.push(`console error: ${m.text()}`);
    });
    page.on('requestfailed', (r) => {
      // The event stream is cut when the page navigates or closes; that is not a failure.
      if (r.url().endsWith('/api/v1/events') || networkChanged(r.failure()?.errorText ?? '')) return;
      problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
  });

  after(async () => {
    await browser?.close();
    await fx?.close();
  });

  const shoot = (t: { diagnostic(s: string): void }, name: string) => {
    const path = join(shots, `${name}.png`);
    t.diagnostic(`screenshot: ${path}`);
    return page.screenshot({ path, fullPage: true });
  };

  const noProblems = () =>
    assert.deepEqual(problems.splice(0), [], 'no script errors, CSP violations or failed loads');

  const graphModel = async (by: string): Promise<GraphModel> => {
    await page.waitForFunction(
      (b) => window.__trellisGraph?.by === b && window.__trellisGraph.edges.length > 0,
      by,
    );
    return (await page.evaluate(() => window.__trellisGraph)) as GraphModel;
  };

  test('the graph shows the Bookinfo edges with rates, p99, health and a lock on every mTLS edge', async (t) => {
    await page.goto(`${fx.url}/#/graph`);
    const g = await graphModel('workload');
    const edge = (s: string, d: string) => g.edges.find((e) => e.source === s && e.target === d);
    const svc = (n: string) => `service:${n}.default.svc.cluster.local`;
    const wl = (n: string) => `workload:default/${n}`;
    for (const [s, d] of [
      [wl('productpage-v1'), svc('details')],
      [svc('details'), wl('details-v1')],
      [wl('productpage-v1'), svc('reviews')],
      [svc('reviews'), wl('reviews-v1')],
      [svc('reviews'), wl('reviews-v2')],
      [svc('reviews'), wl('reviews-v3')],
      [wl('reviews-v2'), svc('ratings')],
      [wl('reviews-v3'), svc('ratings')],
      [svc('ratings'), wl('ratings-v1')],
    ] as const) {
      assert.ok(edge(s, d), `edge ${s} -> ${d}`);
    }
    assert.equal(edge(wl('reviews-v3'), svc('ratings'))?.label, '4.00/s · 10.0% err · p99 475ms');
    assert.equal(edge(wl('reviews-v3'), svc('ratings'))?.health, 'degraded');
    assert.equal(edge(wl('reviews-v2'), svc('ratings'))?.health, 'healthy');
    assert.equal(edge(wl('productpage-v1'), svc('details'))?.mtls, false);
    assert.equal(g.nodes.find((n) => n.id === wl('reviews-v2'))?.label, 'reviews\nv2');
    const mtls = g.edges.filter((e) => e.mtls).length;
    assert.equal(mtls, 7, 'reviews and ratings traffic is mTLS; details and httpbin are not');
    assert.equal(await page.locator('.locks .lock').count(), mtls, 'one lock drawn per mTLS edge');
    await shoot(t, 'graph-workloads');

    // Drill down: click the ratings service node, then its page link.
    const canvas = await page.locator('[data-testid="graph"] .cy').boundingBox();
    const pos = await page.evaluate(
      (id) => window.__trellisCy!.getElementById(id).renderedPosition(),
      svc('ratings'),
    );
    await page.mouse.click(canvas!.x + pos.x, canvas!.y + pos.y);
    const side = page.locator('[data-testid="graph-side"]');
    await side.locator('h4', { hasText: 'Inbound' }).waitFor();
    assert.match(await visibleText(side), /from\s+reviews-v3/);
    await shoot(t, 'graph-node-selected');
    await side.locator('[data-testid="drilldown"]').click();
    await page.waitForFunction(() => location.hash === '#/services/ratings.default.svc.cluster.local');
    await page.locator('[data-testid="service-stats"]').getByText('8.00/s').waitFor();

    await page.goto(`${fx.url}/#/graph?by=service`);
    const s = await graphModel('service');
    assert.ok(s.edges.some((e) => e.source === svc('reviews') && e.target === svc('ratings')));
    assert.ok(!s.nodes.some((n) => n.kind === 'workload'), 'every workload folded into a service or app');
    await shoot(t, 'graph-services');
    noProblems();
  });

  test('a failing trace opens as a waterfall with every span and the failing span highlighted', async (t) => {
    await page.goto(`${fx.url}/#/traces?errorsOnly=1`);
    const rows = page.locator('[data-testid="trace-results"] tr[data-trace]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 6);
    await shoot(t, 'traces');
    await rows.first().locator('a').click();
    const spans = page.locator('[data-testid="span"]');
    await spans.first().waitFor();
    assert.equal(await spans.count(), 7);
    const failing = page.locator('[data-testid="span"][data-failing="true"]');
    assert.equal(await failing.count(), 1);
    assert.match(
      await visibleText(failing),
      /ratings\.default[\s\S]*GET \/ratings\/0[\s\S]*500[\s\S]*failing/,
    );
    assert.equal(await page.locator('[data-testid="span"][data-error="true"]').count(), 4);
    assert.match(
      await visibleText(page.locator('[data-testid="failing-summary"]')),
      /Failed at ratings\.default/,
    );
    await failing.locator('button').click();
    const tags = failing.locator('table.tags');
    assert.match(await visibleText(tags), /http\.status_code\s+500/);
    assert.match(await visibleText(tags), /response_flags\s+-/);
    const exportHref = await page.getByText('Export JSON').getAttribute('href');
    const exported = await page.evaluate((h) => fetch(h!).then((r) => r.json()), exportHref);
    assert.equal((exported as { spans: unknown[] }).spans.length, 7, 'the export holds the whole trace');
    await shoot(t, 'trace-waterfall');
    noProblems();
  });

  test('service and workload charts have data points, and their canvases are drawn', async (t) => {
    await page.goto(`${fx.url}/#/services/ratings.default.svc.cluster.local`);
    for (const id of ['requests', 'latency', 'cpu', 'memory']) {
      const chart = page.locator(`[data-testid="chart-${id}"]`);
      await chart.locator('canvas').waitFor();
      const points = Number(await chart.getAttribute('data-points'));
      assert.ok(points > 50, `${id} chart has ${points} points`);
      const inked = await chart.locator('canvas').evaluate((c: Canvas) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
      assert.ok(inked > 500, `${id} chart drew ${inked} pixels`);
    }
    const pods = page.locator('[data-testid="pods"]');
    assert.match(await visibleText(pods), /ratings-v1-7a8b/);
    assert.match(
      await visibleText(page.locator('[data-testid="applied-config"]')),
      /VirtualService\s+default\/ratings/,
    );
    assert.match(await visibleText(page.locator('[data-testid="inbound"]')), /reviews-v3[\s\S]*10\.0%/);
    await shoot(t, 'service-ratings');
    await page.goto(`${fx.url}/#/workloads/default/reviews-v3`);
    await page.locator('[data-testid="chart-requests"] canvas').waitFor();
    assert.match(
      await visibleText(page.locator('[data-testid="pods"]')),
      new RegExp(RDS_NACK.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
    await shoot(t, 'workload-reviews-v3');
    noProblems();
  });

  test('the config page shows validation messages, convergence and the last NACK', async (t) => {
    await page.goto(`${fx.url}/#/config`);
    const ratings = page.locator('tr[data-resource="VirtualService/default/ratings"]');
    await ratings.waitFor();
    assert.match(
      await visibleText(ratings),
      new RegExp(CONFIG_ERROR_MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
    assert.match(await visibleText(ratings), /applied to 5\/6 proxies · 1 rejected/);
    assert.equal(await page.locator('[data-testid="nack"]').count(), 1);
    assert.match(
      await visibleText(page.locator('[data-testid="nack"]')),
      /retry_policy\.num_retries: -1 is not a uint32/,
    );
    await shoot(t, 'config');
    noProblems();
  });

  test('changes arrive over the event stream and update the numbers on screen without a reload', async (t) => {
    await page.goto(`${fx.url}/#/config`);
    const ratings = page.locator(
      'tr[data-resource="VirtualService/default/ratings"] [data-testid="applied-to"]',
    );
    await ratings.getByText('applied to 5/6 proxies').waitFor();
    await page.locator('[data-testid="live-state"]').getByText('Live').waitFor();
    await page.evaluate(() => {
      window.marker = 42;
    });
    fx.config.setAppliedTo(
      { kind: 'VirtualService', namespace: 'default', name: 'ratings' },
      { total: 6, acked: 6, nacked: 0 },
    );
    await ratings.getByText('applied to 6/6 proxies').waitFor();
    fx.proxies.update((ps) =>
      ps.map((p) => ({
        ...p,
        xds: Object.fromEntries(
          Object.entries(p.xds).map(([k, s]) => [
            k,
            { sent: s.sent, acked: s.sent, state: 'SYNCED' as const },
          ]),
        ),
      })),
    );
    await page.locator('[data-testid="proxies-synced"]').getByText('6/6 proxies synced').waitFor();
    assert.equal(await page.locator('[data-testid="nack"]').count(), 0);

    // Telemetry: a scrape's worth of new samples makes the open page ask for fresh numbers.
    await page.goto(`${fx.url}/#/services`);
    await page.locator('tr[data-service="ratings.default.svc.cluster.local"]').waitFor();
    await page.evaluate(() => {
      window.marker = 43;
    });
    const refetched = page.waitForRequest((r) => r.url().includes('/api/v1/telemetry/services'));
    fx.advance(5);
    await refetched;
    assert.equal(await page.evaluate(() => window.marker), 43, 'no reload');
    assert.equal(await page.evaluate('performance.getEntriesByType("navigation").length'), 1);
    await shoot(t, 'after-live-updates');
    noProblems();
  });
});
