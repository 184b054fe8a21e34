// Which workloads hold the current bundle and a cert from the current root: "may I take the next rotation step?".

import { createHash, X509Certificate } from 'node:crypto';
import { splitPemCertificates } from './pem.js';

interface Instance {
  spiffeId: string;
  bundle: string;
  anchor: string;
  issuedAt: number;
  notAfter: number;
}

export interface BundleRollout {
  /** Digest of the set of trusted roots (order does not matter). */
  bundle: string;
  /** Workload instances holding an unexpired certificate from this CA. */
  workloads: number;
  upToDate: number;
  /**
   * Instances whose last certificate came with another set of roots, or was signed under another
   * root than the current signing root: wait for them (or have them renew) before the next step.
   */
  behind: {
    spiffeId: string;
    instance: string;
    reason: 'bundle' | 'signing root';
    lastIssuedAt: Date;
    certExpiresAt: Date;
  }[];
}

/** A digest of the set of roots in a bundle: reordering the same roots is no change. */
export function bundleDigest(pem: string): string {
  const fingerprints = splitPemCertificates(pem)
    .map((b) => new X509Certificate(b).fingerprint256)
    .sort();
  return createHash('sha256').update(fingerprints.join(',')).digest('hex');
}

/**
 * Remembers, per workload instance, which bundle its last certificate carried. An instance is a pod
 * (token pod uid) or, for renewals authenticated by certificate alone, the chain of serials it renewed.
 */
export class BundleRolloutTracker {
  readonly #instances = new Map<string, Instance>();
  readonly #instanceBySerial = new Map<string, string>();

  record(opts: {
    spiffeId: string;
    podUid?: string;
    clientCertSerial?: string;
    serial: string;
    bundlePem: string;
    /** Fingerprint of the root the certificate chains to. */
    anchor: string;
    issuedAt: number;
    notAfter: number;
  }): void {
    const previous = opts.clientCertSerial ? this.#instanceBySerial.get(opts.clientCertSerial) : undefined;
    const instance = opts.podUid ? `pod:${opts.podUid}` : (previous ?? `cert:${opts.serial}`);
    if (opts.clientCertSerial) this.#instanceBySerial.delete(opts.clientCertSerial);
    this.#instanceBySerial.set(opts.serial, instance);
    this.#instances.set(instance, {
      spiffeId: opts.spiffeId,
      bundle: bundleDigest(opts.bundlePem),
      anchor: opts.anchor,
      issuedAt: opts.issuedAt,
      notAfter: opts.notAfter,
    });
  }

  rollout(currentBundlePem: string, currentAnchor: string, now: number): BundleRollout {
    const bundle = bundleDigest(currentBundlePem);
    const behind: BundleRollout['behind'] = [];
    let workloads = 0;
    for (const [instance, i] of this.#instances) {
      if (i.notAfter <= now) {
        // An expired certificate can no longer hold a connection: the instance is gone or re-enrolls.
        this.#instances.delete(instance);
        continue;
      }
      workloads++;
      const reason = i.bundle !== bundle ? 'bundle' : i.anchor !== currentAnchor ? 'signing root' : undefined;
      if (reason) {
        behind.push({
          spiffeId: i.spiffeId,
          instance,
          reason,
          lastIssuedAt: new Date(i.issuedAt),
          certExpiresAt: new Date(i.notAfter),
        });
      }
    }
    for (const [serial, instance] of this.#instanceBySerial) {
      if (!this.#instances.has(instance)) this.#instanceBySerial.delete(serial);
    }
    return { bundle, workloads, upToDate: workloads - behind.length, behind };
  }
}
