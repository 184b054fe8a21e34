// The two ways pods get a network: netns (bridge, namespace and capture per pod) and host (loopback addresses).

import { TrellisError } from '../shared/errors.js';
import { type Cidr, cidrSize, nthAddress, overlappingRoutes, overlaps, parseCidr } from './cidr.js';
import { run } from './network/exec.js';
import { ISTIO_CAPTURE_DEFAULTS } from './network/iptables.js';
import {
  bridgeName,
  cleanupMeshNetwork,
  createBridge,
  type HostsEntry,
  type MeshNetwork,
  PodNetwork,
} from './network/netns.js';

export type NetworkMode = 'netns' | 'host';

export interface PodAddresses {
  /** The workload address in the registry: pod IP (netns) or the sidecar's loopback address (host). */
  ip: string;
  /** Where the app listens, as the daemon reaches it (probes). */
  appAddress: string;
  /** Where the sidecar's readiness port answers. */
  sidecarAddress: string;
}

export interface PodNet {
  /** Prefix that runs a command in the pod's network (empty in host mode). */
  readonly execPrefix: string[];
  updateHosts(hosts: HostsEntry[]): void;
  destroy(): Promise<void>;
}

export interface CreatePodNet {
  podKey: string;
  addresses: PodAddresses;
  hosts: HostsEntry[];
  searchDomains: string[];
  capture: boolean;
}

export interface MeshNetworking {
  readonly mode: NetworkMode;
  /** Addresses the control plane listens on. */
  readonly controlPlaneHosts: string[];
  /** The host pods reach the control plane at. */
  readonly controlPlaneHostForPods: string;
  /** Source address of probes (exempt from inbound capture); undefined in host mode. */
  readonly proberAddress: string | undefined;
  /** The ingress gateway's own address (admin, stats, readiness). */
  readonly gatewayAddress: string;
  setup(): Promise<void>;
  allocate(): { index: number; addresses: PodAddresses };
  release(index: number): void;
  createPod(o: CreatePodNet): Promise<PodNet>;
  /** Removes everything setup() and createPod() made; returns what it removed. */
  teardown(): Promise<string[]>;
  describe(): Record<string, string>;
}

class IndexPool {
  readonly #free: number[] = [];
  #next: number;
  readonly #max: number;

  constructor(first: number, max: number) {
    this.#next = first;
    this.#max = max;
  }

  take(what: string): number {
    const reused = this.#free.shift();
    if (reused !== undefined) return reused;
    if (this.#next > this.#max)
      throw new TrellisError('ADDRESSES_EXHAUSTED', `no address left for another pod in ${what}`);
    return this.#next++;
  }

  give(i: number): void {
    this.#free.push(i);
    this.#free.sort((a, b) => a - b);
  }
}

export interface HostNetworkingOptions {
  slot: number;
}

/** Pod n gets sidecar 127.1.<slot>.n and app 127.2.<slot>.n (n from 1 to 253; .254 is the ingress gateway). */
export class HostNetworking implements MeshNetworking {
  readonly mode = 'host' as const;
  readonly controlPlaneHosts = ['127.0.0.1'];
  readonly controlPlaneHostForPods = '127.0.0.1';
  readonly proberAddress = undefined;
  readonly gatewayAddress: string;
  readonly #slot: number;
  readonly #pool = new IndexPool(1, 253);

  constructor(o: HostNetworkingOptions) {
    this.#slot = o.slot;
    this.gatewayAddress = `127.1.${o.slot}.254`;
  }

  async setup(): Promise<void> {}

  allocate(): { index: number; addresses: PodAddresses } {
    const index = this.#pool.take(`127.1.${this.#slot}.0/24`);
    const sidecar = `127.1.${this.#slot}.${index}`;
    return {
      index,
      addresses: { ip: sidecar, sidecarAddress: sidecar, appAddress: `127.2.${this.#slot}.${index}` },
    };
  }

  release(index: number): void {
    this.#pool.give(index);
  }

  async createPod(): Promise<PodNet> {
    return { execPrefix: [], updateHosts() {}, async destroy() {} };
  }

  async teardown(): Promise<string[]> {
    return [];
  }

  describe(): Record<string, string> {
    return { sidecars: `127.1.${this.#slot}.0/24`, apps: `127.2.${this.#slot}.0/24` };
  }
}

export interface NetnsNetworkingOptions {
  mesh: string;
  podCidr: string;
  serviceCidr: string;
  slot: number;
}

function forwardChain(bridge: string): string {
  return `TRELLIS-${bridge}`;
}

/**
 * Pods live in 10.213.0.0/16 by default: .0.1 is the bridge (the host, the control plane), .0.2 the prober, pods
 * from .0.10. Traffic from the bridge may reach the host and other pods, never be forwarded elsewhere.
 */
export class NetnsNetworking implements MeshNetworking {
  readonly mode = 'netns' as const;
  readonly controlPlaneHosts: string[];
  readonly controlPlaneHostForPods: string;
  readonly proberAddress: string;
  readonly gatewayAddress: string;
  readonly #net: MeshNetwork;
  readonly #cidr: Cidr;
  readonly #serviceCidr: Cidr;
  readonly #pool: IndexPool;

  constructor(o: NetnsNetworkingOptions) {
    this.#cidr = parseCidr(o.podCidr);
    this.#serviceCidr = parseCidr(o.serviceCidr);
    if (overlaps(this.#cidr, this.#serviceCidr)) {
      throw new TrellisError(
        'CIDR_OVERLAP',
        `the pod CIDR ${this.#cidr.text} overlaps the service CIDR ${this.#serviceCidr.text}`,
      );
    }
    const gateway = nthAddress(this.#cidr, 1);
    this.#net = { mesh: o.mesh, bridge: bridgeName(o.mesh), gateway, prefixLen: this.#cidr.prefixLen };
    this.controlPlaneHosts = ['127.0.0.1', gateway];
    this.controlPlaneHostForPods = gateway;
    this.proberAddress = nthAddress(this.#cidr, 2);
    this.gatewayAddress = `127.1.${o.slot}.254`;
    this.#pool = new IndexPool(10, cidrSize(this.#cidr));
  }

  get bridge(): string {
    return this.#net.bridge;
  }

  async setup(): Promise<void> {
    const routes = await run('ip', ['-o', '-4', 'route', 'show', 'table', 'all']);
    for (const c of [this.#cidr, this.#serviceCidr]) {
      const clash = overlappingRoutes(c, routes);
      if (clash.length > 0) {
        throw new TrellisError(
          'CIDR_OVERLAP',
          `${c.text} overlaps an existing route (${clash.join('; ')}); pick another range with --pod-cidr/--service-cidr`,
        );
      }
    }
    await createBridge(this.#net);
    try {
      await run('ip', ['addr', 'add', `${this.proberAddress}/32`, 'dev', this.#net.bridge]);
      const chain = forwardChain(this.#net.bridge);
      await run('iptables', ['-w', '-N', chain]);
      await run('iptables', ['-w', '-A', chain, '-o', this.#net.bridge, '-j', 'ACCEPT']);
      await run('iptables', ['-w', '-A', chain, '-j', 'DROP']);
      await run('iptables', ['-w', '-I', 'FORWARD', '-i', this.#net.bridge, '-j', chain]);
    } catch (e) {
      await this.teardown();
      throw e;
    }
  }

  allocate(): { index: number; addresses: PodAddresses } {
    const index = this.#pool.take(this.#cidr.text);
    const ip = nthAddress(this.#cidr, index);
    return { index, addresses: { ip, appAddress: ip, sidecarAddress: ip } };
  }

  release(index: number): void {
    this.#pool.give(index);
  }

  async createPod(o: CreatePodNet): Promise<PodNet> {
    const pod = new PodNetwork({
      network: this.#net,
      podKey: o.podKey,
      ip: o.addresses.ip,
      hosts: o.hosts,
      searchDomains: o.searchDomains,
      ...(o.capture
        ? { capture: { ...ISTIO_CAPTURE_DEFAULTS, excludeInboundSources: [`${this.proberAddress}/32`] } }
        : {}),
    });
    await pod.create();
    return { execPrefix: pod.exec, updateHosts: (h) => pod.updateHosts(h), destroy: () => pod.destroy() };
  }

  async teardown(): Promise<string[]> {
    return [...(await removeForwardRules(this.#net.bridge)), ...(await cleanupMeshNetwork(this.#net.mesh))];
  }

  describe(): Record<string, string> {
    return {
      podCidr: this.#cidr.text,
      serviceCidr: this.#serviceCidr.text,
      bridge: this.#net.bridge,
      gateway: this.#net.gateway,
      prober: this.proberAddress,
    };
  }
}

/** Removes the FORWARD jump and chain of a mesh's bridge (idempotent). */
export async function removeForwardRules(bridge: string): Promise<string[]> {
  const chain = forwardChain(bridge);
  const removed: string[] = [];
  const jump = ['FORWARD', '-i', bridge, '-j', chain];
  for (let i = 0; i < 16 && (await succeeds('iptables', ['-w', '-C', ...jump])); i++) {
    await run('iptables', ['-w', '-D', ...jump]);
    removed.push(`iptables -A ${jump.join(' ')}`);
  }
  const rules = await run('iptables', ['-w', '-S'], { allowFail: true });
  if (rules.split('\n').some((l) => l === `-N ${chain}`)) {
    await run('iptables', ['-w', '-F', chain]);
    await run('iptables', ['-w', '-X', chain]);
    removed.push(`iptables chain ${chain}`);
  }
  return removed;
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}
