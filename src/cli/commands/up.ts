// `trellis up [DIR]`: runs a local mesh from a folder of manifests, in the foreground or detached (-d).

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runDaemon } from '../../runtime/daemon.js';
import { startDetached } from '../../runtime/detach.js';
import { DEFAULT_INGRESS_PORT, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from '../../runtime/mesh.js';
import type { RequestedMode } from '../../runtime/mode.js';
import { checkMeshName } from '../../runtime/state-dir.js';
import { TrellisError } from '../../shared/errors.js';

export interface UpOptions {
  name: string;
  mode: string;
  podCidr: string;
  serviceCidr: string;
  ingressPort: string;
  detach?: boolean;
  timeout: string;
}

export function checkMode(mode: string): RequestedMode {
  if (mode === 'auto' || mode === 'netns' || mode === 'host') return mode;
  throw new TrellisError('BAD_MODE', `--mode must be auto, netns or host, not "${mode}"`);
}

function checkPort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new TrellisError(
      'BAD_PORT',
      `--ingress-port must be a port number (0 picks a free one), not "${text}"`,
    );
  return n;
}

/** Runs `up` with parsed options; shared with `trellis demo`. Returns the exit code. */
export async function up(dirs: string[], opts: UpOptions): Promise<number> {
  checkMeshName(opts.name);
  const mode = checkMode(opts.mode);
  const ingressPort = checkPort(opts.ingressPort);
  const manifests = dirs.map((d) => resolve(d));
  const timeoutS = Number(opts.timeout);
  if (opts.detach) {
    await startDetached({
      name: opts.name,
      args: [
        ...manifests,
        '--name',
        opts.name,
        '--mode',
        mode,
        '--pod-cidr',
        opts.podCidr,
        '--service-cidr',
        opts.serviceCidr,
        '--ingress-port',
        String(ingressPort),
        '--timeout',
        String(timeoutS),
      ],
      env: process.env,
    });
    return 0;
  }
  return runDaemon({
    name: opts.name,
    manifests,
    mode,
    podCidr: opts.podCidr,
    serviceCidr: opts.serviceCidr,
    ingressPort,
    readyTimeoutMs: timeoutS * 1000,
    env: process.env,
  });
}

export function addMeshOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'mesh name; each mesh has its own state folder', 'default')
    .option(
      '--mode <mode>',
      'auto, netns (root: a network namespace per pod, transparent capture) or host',
      'auto',
    )
    .option('--pod-cidr <cidr>', 'pod addresses in netns mode', DEFAULT_POD_CIDR)
    .option(
      '--service-cidr <cidr>',
      'service VIPs (never routed; only sidecars see them)',
      DEFAULT_SERVICE_CIDR,
    )
    .option(
      '--ingress-port <port>',
      'host port of the ingress gateway on 127.0.0.1 (0: a free port)',
      String(DEFAULT_INGRESS_PORT),
    )
    .option('--timeout <seconds>', 'with -d: how long to wait for every pod to be ready', '180');
}

export function registerUp(program: Command): void {
  addMeshOptions(
    program
      .command('up')
      .argument('[dirs...]', 'folders or files of Kubernetes and Istio manifests')
      .description(
        'run a local mesh: control plane, a sidecar per pod, the ingress gateway; Ctrl-C stops it',
      ),
  )
    .option('-d, --detach', 'run in the background and return once every pod is ready')
    .addHelpText(
      'after',
      '\nState lives in $TRELLIS_STATE_DIR/<name> or ~/.trellis/meshes/<name>. See docs/runtime.md for the modes.',
    )
    .action(async (dirs: string[], opts: UpOptions) => {
      process.exitCode = await up(dirs, opts);
    });
}
