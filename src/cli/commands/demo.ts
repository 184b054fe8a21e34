// `trellis demo`: Bookinfo behind the ingress gateway with light steady traffic, until Ctrl-C.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDaemon, TRELLIS_HOME } from '../../runtime/daemon.js';
import { DemoTraffic } from '../../runtime/demo-traffic.js';
import type { MeshStatus } from '../../runtime/mesh.js';
import { checkMeshName } from '../../runtime/state-dir.js';
import { TrellisError } from '../../shared/errors.js';
import { addMeshOptions, checkMode, type UpOptions } from './up.js';

export const DEMO_MANIFESTS = [
  'examples/bookinfo/platform/bookinfo.yaml',
  'examples/bookinfo/networking/bookinfo-gateway.yaml',
  'examples/bookinfo/networking/destination-rule-all.yaml',
];

export function demoManifests(home = TRELLIS_HOME): string[] {
  const files = DEMO_MANIFESTS.map((f) => join(home, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new TrellisError('DEMO_MISSING', `the demo needs ${missing.join(', ')}, which this checkout lacks`);
  return files;
}

export function whereToLook(s: MeshStatus): string {
  const name = s.mesh === 'default' ? '' : ` --name ${s.mesh}`;
  const productpage = s.pods.find((p) => p.deployment === 'productpage-v1');
  return [
    '',
    'Bookinfo is up. Where to look:',
    `  the app:     ${s.ingressUrl}/productpage   (sign in as "jason" to see reviews v2 with black stars)`,
    `  dashboard:   ${s.dashboardUrl}`,
    `  API:         ${s.apiUrl}`,
    `  metrics:     curl http://${productpage?.sidecar?.stats ?? '<pod stats address>'}/stats/prometheus | grep istio_requests_total`,
    `               (every sidecar's stats address is in \`trellis status${name}\`)`,
    `  traces:      the dashboard's traces view; trace headers flow through productpage, reviews and ratings`,
    `  pods:        trellis status${name}; trellis logs${name} deploy/productpage-v1 -c proxy`,
    `  try:         trellis apply${name} -f examples/bookinfo/networking/virtual-service-reviews-jason-v2-v3.yaml`,
    '',
    'Sending about 3 requests per second to /productpage (one in four as jason). Ctrl-C stops the demo and cleans up.',
    '',
  ].join('\n');
}

export function registerDemo(program: Command): void {
  addMeshOptions(
    program
      .command('demo')
      .description('run Bookinfo with the ingress gateway and steady traffic until Ctrl-C'),
  ).action(async (opts: UpOptions) => {
    const name = opts.name === 'default' ? 'demo' : opts.name;
    checkMeshName(name);
    process.exitCode = await runDaemon({
      name,
      manifests: demoManifests(),
      mode: checkMode(opts.mode),
      podCidr: opts.podCidr,
      serviceCidr: opts.serviceCidr,
      ingressPort: Number(opts.ingressPort),
      readyTimeoutMs: Number(opts.timeout) * 1000,
      env: process.env,
      onReady: (status) => {
        if (!status.ingressUrl) {
          process.stderr.write('no ingress gateway came up; the demo cannot send traffic\n');
          return undefined;
        }
        process.stderr.write(whereToLook(status));
        const traffic = new DemoTraffic({
          ingressUrl: status.ingressUrl,
          onSummary: (l) => process.stderr.write(`${l}\n`),
        });
        traffic.start();
        return () => traffic.stop();
      },
    });
  });
}
