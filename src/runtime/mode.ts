// Chooses netns or host mode: netns needs root, ip, iptables, setpriv and the SO_ORIGINAL_DST addon.

import { TrellisError } from '../shared/errors.js';
import { originalDstUnavailable } from '../sidecar/listener/original-dst.js';
import { commandExists } from './network/exec.js';
import type { NetworkMode } from './networking.js';

export type RequestedMode = NetworkMode | 'auto';

/** Why netns mode cannot run here, or undefined when it can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces and iptables need root)';
  for (const cmd of ['ip', 'iptables', 'iptables-restore', 'setpriv']) {
    if (!(await commandExists(cmd))) return `\`${cmd}\` is not installed`;
  }
  return originalDstUnavailable();
}

export async function chooseMode(requested: RequestedMode): Promise<{ mode: NetworkMode; reason: string }> {
  if (requested === 'host') return { mode: 'host', reason: 'host mode requested' };
  const why = await netnsUnavailable();
  if (requested === 'netns') {
    if (why)
      throw new TrellisError('NETNS_UNAVAILABLE', `netns mode is unavailable: ${why}; use --mode host`);
    return { mode: 'netns', reason: 'netns mode requested' };
  }
  return why
    ? { mode: 'host', reason: `host mode, because netns mode is unavailable: ${why}` }
    : { mode: 'netns', reason: 'netns mode (root, iptables and SO_ORIGINAL_DST are available)' };
}
