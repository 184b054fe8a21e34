// Linux network plumbing for netns mode: a bridge per mesh, a network namespace + veth per pod, hosts files, capture.

import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';
import { type CaptureOptions, captureRules } from './iptables.js';

const NETNS_ETC = '/etc/netns';

export interface MeshNetwork {
  mesh: string;
  bridge: string;
  /** The bridge's address: the pods' default gateway and where the host (control plane, gateway) is reached. */
  gateway: string;
  prefixLen: number;
}

export interface HostsEntry {
  ip: string;
  names: string[];
}

export interface PodNetworkSpec {
  network: MeshNetwork;
  /** Unique within the mesh, e.g. `default.productpage-v1-0`. */
  podKey: string;
  ip: string;
  hosts: HostsEntry[];
  searchDomains: string[];
  /** Transparent capture like Istio's init container; undefined for pods without a sidecar. */
  capture?: CaptureOptions;
}

function shortHash(text: string, length: number): string {
  return createHash('sha1').update(text).digest('hex').slice(0, length);
}

export function netnsName(mesh: string, podKey: string): string {
  return `trellis.${mesh}.${podKey}`;
}

export function bridgeName(mesh: string): string {
  return `trb${shortHash(mesh, 8)}`;
}

function vethName(netns: string): string {
  return `trv${shortHash(netns, 11)}`;
}

/** The command prefix that runs a program inside a pod's namespace (with its hosts and resolv.conf). */
export function netnsExec(netns: string): string[] {
  return ['ip', 'netns', 'exec', netns];
}

function hostsFile(entries: HostsEntry[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const e of entries) lines.push(`${e.ip}\t${e.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Rewrites a file in place: `ip netns exec` bind-mounts it, so a new inode would not be seen by running pods. */
function writeInPlace(path: string, content: string): void {
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w');
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, content, 0);
  } finally {
    closeSync(fd);
  }
}

export async function createBridge(n: MeshNetwork): Promise<void> {
  await run('ip', ['link', 'add', n.bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${n.gateway}/${n.prefixLen}`, 'dev', n.bridge]);
  await run('ip', ['link', 'set', n.bridge, 'up']);
}

export async function deleteBridge(bridge: string): Promise<void> {
  await run('ip', ['link', 'del', bridge], { allowFail: true });
}

export class PodNetwork {
  readonly netns: string;
  readonly #spec: PodNetworkSpec;

  constructor(spec: PodNetworkSpec) {
    this.#spec = spec;
    this.netns = netnsName(spec.network.mesh, spec.podKey);
  }

  get exec(): string[] {
    return netnsExec(this.netns);
  }

  async create(): Promise<void> {
    const { network, ip } = this.#spec;
    const veth = vethName(this.netns);
    const etc = join(NETNS_ETC, this.netns);
    mkdirSync(etc, { recursive: true });
    writeInPlace(join(etc, 'hosts'), hostsFile(this.#spec.hosts));
    // No DNS server exists inside the mesh network; the bridge address answers port-unreachable at once.
    writeInPlace(
      join(etc, 'resolv.conf'),
      `search ${this.#spec.searchDomains.join(' ')}\nnameserver ${network.gateway}\noptions timeout:1 attempts:1\n`,
    );
    await run('ip', ['netns', 'add', this.netns]);
    try {
      await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.netns]);
      await run('ip', ['link', 'set', veth, 'master', network.bridge, 'up']);
      const inNs = (...args: string[]) => run('ip', ['-n', this.netns, ...args]);
      await inNs('link', 'set', 'lo', 'up');
      await inNs('addr', 'add', `${ip}/${network.prefixLen}`, 'dev', 'eth0');
      await inNs('link', 'set', 'eth0', 'up');
      await inNs('route', 'add', 'default', 'via', network.gateway);
      if (this.#spec.capture) await this.installCapture(this.#spec.capture);
    } catch (e) {
      await this.destroy();
      throw e;
    }
  }

  async installCapture(capture: CaptureOptions): Promise<void> {
    const rules = captureRules(capture);
    const { spawn } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.netns, 'iptables-restore'], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`iptables-restore in ${this.netns} failed (${code}): ${stderr.trim()}`)),
      );
      child.stdin.end(rules);
    });
  }

  updateHosts(hosts: HostsEntry[]): void {
    writeInPlace(join(NETNS_ETC, this.netns, 'hosts'), hostsFile(hosts));
  }

  async destroy(): Promise<void> {
    await run('ip', ['netns', 'del', this.netns], { allowFail: true });
    rmSync(join(NETNS_ETC, this.netns), { recursive: true, force: true });
  }
}

/** Removes every namespace, hosts folder and bridge a mesh left behind (after a crash, or on `down`). */
export async function cleanupMeshNetwork(mesh: string): Promise<string[]> {
  const removed: string[] = [];
  const prefix = `trellis.${mesh}.`;
  const list = await run('ip', ['netns', 'list'], { allowFail: true });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0]?.trim();
    if (name?.startsWith(prefix)) {
      await run('ip', ['netns', 'del', name], { allowFail: true });
      removed.push(`netns ${name}`);
    }
  }
  if (existsSync(NETNS_ETC)) {
    for (const d of readdirSync(NETNS_ETC)) {
      if (d.startsWith(prefix)) {
        rmSync(join(NETNS_ETC, d), { recursive: true, force: true });
        removed.push(`${NETNS_ETC}/${d}`);
      }
    }
  }
  const bridge = bridgeName(mesh);
  const links = await run('ip', ['-o', 'link', 'show', 'dev', bridge], { allowFail: true });
  if (links.trim()) {
    await deleteBridge(bridge);
    removed.push(`bridge ${bridge}`);
  }
  return removed;
}
