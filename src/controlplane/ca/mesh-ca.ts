// The mesh CA: the root of trust kept in a state directory (or plugged in), signing workload and serving certs.

import { join } from 'node:path';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { type WorkloadIdentity, workloadId } from '../../shared/spiffe.js';
import { issueWorkloadCertificate } from './certificates.js';
import { createRoot, loadOrCreateSelfSigned, loadPending, type Pending } from './self-signed-root.js';
import { DEFAULT_SERVING_TTL_MS, issueServing, type ServingCertificate } from './serving-certificate.js';
import { buildSigningMaterial, loadPluginCa, type SigningMaterial } from './signing-material.js';
import { ensureStateDir, readOptional, removeStateFile, STATE_FILES, writeStateFile } from './state-files.js';
import { loadOrCreateTokenKey, type TokenKey } from './token-key.js';
import { JwtTokenVerifier, type TokenVerifier } from './token-verifier.js';
import { TrustBundle, type TrustedRoot, trustedRootFromPem } from './trust-bundle.js';
import { WorkloadTokenIssuer } from './workload-token.js';
import type { x509 } from './x509.js';

const DAY = 86_400_000;

export { DEFAULT_ROOT_TTL_MS } from './self-signed-root.js';
export { DEFAULT_SERVING_TTL_MS, SERVING_DNS_NAMES, type ServingCertificate } from './serving-certificate.js';
export const DEFAULT_WORKLOAD_TTL_MS = DAY;
/** Istio's cap on workload certificate lifetime. */
export const DEFAULT_MAX_WORKLOAD_TTL_MS = 90 * DAY;

export interface MeshCaOptions {
  /** Directory holding the CA's keys and trust bundle; created (0700) if missing. */
  stateDir: string;
  /** Default `cluster.local`. */
  trustDomain?: string;
  /** A directory with Istio's cacerts files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem). */
  pluginCertsDir?: string;
  /** Lifetime of a self-signed root created here; default 10 years. */
  rootTtlMs?: number;
  /** Lifetime of a workload certificate when the request asks for none; default 24 h. */
  defaultWorkloadTtlMs?: number;
  /** Longer requests are shortened to this; default 90 days. */
  maxWorkloadTtlMs?: number;
  /** Extra addresses (IPs or DNS names) sidecars use to reach the control plane. */
  servingAddresses?: readonly string[];
  servingTtlMs?: number;
  /** `iss` of workload tokens; default https://trellis.local/ca. */
  tokenIssuer?: string;
  clock?: Clock;
  logger?: Logger;
}

/** A signed workload certificate, ready for Istio's CreateCertificate response. */
export interface IssuedCertificate {
  spiffeId: string;
  /** The leaf, then intermediates, then the trust bundle (every root) as the last element. */
  certChain: string[];
  leafPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Fingerprint of the root the chain ends at. */
  anchor: string;
}

export type CaMode = 'self-signed' | 'plugin';

/** The CA. Create with `MeshCa.open`; call `close()` to stop its timers. */
export class MeshCa {
  readonly trustDomain: string;
  readonly mode: CaMode;
  readonly tokenIssuer: WorkloadTokenIssuer;
  readonly tokenVerifier: TokenVerifier;
  readonly #tokenKey: TokenKey;
  readonly #opts: MeshCaOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #material: SigningMaterial;
  #bundle: TrustBundle;
  #pending: Pending | undefined;
  #serving!: ServingCertificate;
  #servingTimer: Timer | undefined;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  private constructor(init: {
    opts: MeshCaOptions;
    mode: CaMode;
    material: SigningMaterial;
    bundle: TrustBundle;
    pending: Pending | undefined;
    tokenKey: TokenKey;
  }) {
    this.#opts = init.opts;
    this.trustDomain = init.opts.trustDomain ?? 'cluster.local';
    this.mode = init.mode;
    this.#clock = init.opts.clock ?? systemClock;
    this.#log = init.opts.logger ?? silentLogger;
    this.#material = init.material;
    this.#bundle = init.bundle;
    this.#pending = init.pending;
    this.#tokenKey = init.tokenKey;
    this.tokenIssuer = new WorkloadTokenIssuer({
      key: init.tokenKey.privateKey,
      kid: init.tokenKey.kid,
      clock: this.#clock,
      ...(init.opts.tokenIssuer ? { issuer: init.opts.tokenIssuer } : {}),
    });
    this.tokenVerifier = new JwtTokenVerifier({
      jwks: init.tokenKey.jwks,
      issuer: this.tokenIssuer.issuer,
      clock: this.#clock,
    });
  }

  /** Opens the CA in `stateDir`: loads what is there, creates a root (and token key) on first start. */
  static async open(opts: MeshCaOptions): Promise<MeshCa> {
    const clock = opts.clock ?? systemClock;
    const log = opts.logger ?? silentLogger;
    const dir = opts.stateDir;
    const trustDomain = opts.trustDomain ?? 'cluster.local';
    workloadId({ trustDomain, namespace: 'ns', serviceAccount: 'sa' });
    await ensureStateDir(dir);
    const tokenKey = await loadOrCreateTokenKey(dir);
    const persistedPem = await readOptional(join(dir, STATE_FILES.rootCert));
    const persisted = persistedPem
      ? TrustBundle.fromPem(persistedPem, `CA state file ${join(dir, STATE_FILES.rootCert)}`)
      : TrustBundle.of([]);
    const now = new Date(clock.now());
    let material: SigningMaterial;
    let pending: Pending | undefined;
    let mode: CaMode;
    if (opts.pluginCertsDir) {
      mode = 'plugin';
      material = await loadPluginCa(opts.pluginCertsDir, now);
      log.info('using plug-in CA', { dir: opts.pluginCertsDir, root: material.anchor.fingerprint });
    } else {
      mode = 'self-signed';
      material = await loadOrCreateSelfSigned({ dir, trustDomain, now, ttlMs: opts.rootTtlMs, log });
      pending = await loadPending(dir);
    }
    const bundle = TrustBundle.of([
      material.anchor,
      ...material.roots.roots,
      ...persisted.roots,
      ...(pending ? [pending.root] : []),
    ]);
    const ca = new MeshCa({ opts, mode, material, bundle, pending, tokenKey });
    if (bundle.pem !== persistedPem) await ca.#persistBundle();
    await ca.#renewServing();
    return ca;
  }

  /** Every trusted root (the signing root first): the `ROOTCA` sidecars receive. */
  get trustBundle(): TrustBundle {
    return this.#bundle;
  }

  /** The root the current signing chain ends at. */
  get signingRoot(): TrustedRoot {
    return this.#material.anchor;
  }

  /** Certificates between a workload cert and the root (PEM, signing cert first); empty when a root signs. */
  get intermediates(): readonly string[] {
    return this.#material.intermediates;
  }

  /** A root added by addRoot() that does not sign yet. */
  get pendingRoot(): TrustedRoot | undefined {
    return this.#pending?.root;
  }

  /** The public keys workload tokens are signed with (token-jwks.json). */
  get tokenJwks(): TokenKey['jwks'] {
    return this.#tokenKey.jwks;
  }

  get servingCertificate(): ServingCertificate {
    return this.#serving;
  }

  /** Called after the trust bundle or the serving certificate changed. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Signs a workload certificate for `identity` (in this CA's trust domain). The caller has already
   * authenticated the workload and checked its CSR. `ttlMs` 0/undefined means the default; longer
   * than the maximum is shortened; nothing outlives the signing chain.
   */
  async issueWorkloadCertificate(opts: {
    publicKey: x509.PublicKey;
    identity: Omit<WorkloadIdentity, 'trustDomain'>;
    ttlMs?: number;
  }): Promise<IssuedCertificate> {
    const spiffeId = workloadId({ ...opts.identity, trustDomain: this.trustDomain });
    const validity = this.#validity(opts.ttlMs);
    const cert = await issueWorkloadCertificate(this.#material.signer, {
      publicKey: opts.publicKey,
      spiffeId,
      validity,
    });
    const leafPem = `${cert.toString('pem').trim()}\n`;
    return {
      spiffeId,
      certChain: [leafPem, ...this.#material.intermediates, this.#bundle.pem],
      leafPem,
      serial: cert.serialNumber.toLowerCase(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      anchor: this.#material.anchor.fingerprint,
    };
  }

  /**
   * Root rotation, step 1 (self-signed mode): creates a new root that is trusted but does not sign
   * yet. Sidecars pick up the two-root bundle at their next renewal.
   */
  async addRoot(): Promise<TrustedRoot> {
    this.#requireSelfSigned('addRoot');
    if (this.#pending) {
      throw new TrellisError(
        'CA_ROTATION_STATE',
        `root ${this.#pending.root.fingerprint.slice(0, 16)} is already pending; activate or remove it first`,
      );
    }
    const created = await createRoot({
      trustDomain: this.trustDomain,
      now: new Date(this.#clock.now()),
      ttlMs: this.#opts.rootTtlMs,
    });
    const dir = this.#opts.stateDir;
    await writeStateFile(dir, STATE_FILES.pendingCaKey, created.keyPem, { secret: true });
    await writeStateFile(dir, STATE_FILES.pendingCaCert, created.certPem, { secret: false });
    const root = trustedRootFromPem(created.certPem, 'new root');
    this.#pending = { root, keyPem: created.keyPem };
    this.#bundle = this.#bundle.with(root);
    await this.#persistBundle();
    this.#log.info('added a pending root', { fingerprint: root.fingerprint });
    this.#emit();
    return root;
  }

  /**
   * Root rotation, step 2: the pending root starts signing. The previous root stays trusted until
   * removeRoot(); the serving certificate is reissued from the new root.
   */
  async activateRoot(ref: string): Promise<void> {
    this.#requireSelfSigned('activateRoot');
    const pending = this.#pending;
    const target = this.#bundle.find(ref);
    if (!pending || !target || target.fingerprint !== pending.root.fingerprint) {
      throw new TrellisError(
        'CA_ROTATION_STATE',
        `root "${ref}" is not the pending root${pending ? ` (pending: ${pending.root.fingerprint.slice(0, 16)})` : ' (none is pending; call addRoot first)'}`,
      );
    }
    const dir = this.#opts.stateDir;
    const material = await buildSigningMaterial({
      caCertPem: pending.root.pem,
      caKeyPem: pending.keyPem,
      roots: TrustBundle.of([pending.root]),
      now: new Date(this.#clock.now()),
      where: (f) => `pending root (${f})`,
    });
    await writeStateFile(dir, STATE_FILES.caKey, pending.keyPem, { secret: true });
    await writeStateFile(dir, STATE_FILES.caCert, pending.root.pem, { secret: false });
    await removeStateFile(dir, STATE_FILES.pendingCaKey);
    await removeStateFile(dir, STATE_FILES.pendingCaCert);
    this.#material = material;
    this.#pending = undefined;
    this.#bundle = this.#bundle.withFirst(material.anchor);
    await this.#persistBundle();
    this.#log.info('activated root', { fingerprint: material.anchor.fingerprint });
    await this.#renewServing();
  }

  /** Root rotation, step 3: stops trusting a root. The root that signs cannot be removed. */
  async removeRoot(ref: string): Promise<TrustedRoot> {
    const target = this.#bundle.find(ref);
    if (!target) {
      throw new TrellisError(
        'CA_ROOT_UNKNOWN',
        `no trusted root matches "${ref}" (use a fingerprint or a unique prefix of 8+ hex digits)`,
      );
    }
    if (target.fingerprint === this.#material.anchor.fingerprint) {
      throw new TrellisError(
        'CA_ROTATION_STATE',
        `root ${target.fingerprint.slice(0, 16)} anchors the signing chain and cannot be removed`,
      );
    }
    if (this.#pending?.root.fingerprint === target.fingerprint) {
      await removeStateFile(this.#opts.stateDir, STATE_FILES.pendingCaKey);
      await removeStateFile(this.#opts.stateDir, STATE_FILES.pendingCaCert);
      this.#pending = undefined;
    }
    this.#bundle = this.#bundle.without(target.fingerprint);
    await this.#persistBundle();
    this.#log.info('removed root', { fingerprint: target.fingerprint });
    this.#emit();
    return target;
  }

  /** Trusts an outside root too (e.g. a plug-in root before switching to it). */
  async addTrustedRoot(pem: string): Promise<TrustedRoot> {
    const root = trustedRootFromPem(pem, 'added root');
    this.#bundle = this.#bundle.with(root);
    await this.#persistBundle();
    this.#emit();
    return root;
  }

  close(): void {
    this.#closed = true;
    if (this.#servingTimer) this.#clock.clearTimeout(this.#servingTimer);
    this.#listeners.clear();
  }

  #validity(ttlMs: number | undefined): { notBefore: Date; notAfter: Date } {
    const max = this.#opts.maxWorkloadTtlMs ?? DEFAULT_MAX_WORKLOAD_TTL_MS;
    const requested =
      ttlMs && ttlMs > 0 ? ttlMs : (this.#opts.defaultWorkloadTtlMs ?? DEFAULT_WORKLOAD_TTL_MS);
    const ttl = Math.max(1000, Math.min(requested, max));
    const now = this.#clock.now();
    // Backdating absorbs small clock skew between peers, without eating much of a short lifetime.
    const backdate = Math.min(60_000, ttl * 0.05);
    const notBefore = Math.max(now - backdate, this.#material.notBefore.getTime());
    const notAfter = Math.min(now + ttl, this.#material.notAfter.getTime());
    if (notAfter <= now + 1000) {
      throw new TrellisError(
        'CA_CANNOT_SIGN',
        `the signing chain (root ${this.#material.anchor.fingerprint.slice(0, 16)}) expires at ${this.#material.notAfter.toISOString()}; replace the CA certificate`,
      );
    }
    return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
  }

  #requireSelfSigned(what: string): void {
    if (this.mode !== 'self-signed') {
      throw new TrellisError(
        'CA_ROTATION_STATE',
        `${what} needs the self-signed CA; with a plug-in CA, replace the files in ${this.#opts.pluginCertsDir} and restart`,
      );
    }
  }

  async #persistBundle(): Promise<void> {
    await writeStateFile(this.#opts.stateDir, STATE_FILES.rootCert, this.#bundle.pem, { secret: false });
  }

  async #renewServing(): Promise<void> {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#serving = await issueServing({
      material: this.#material,
      trustDomain: this.trustDomain,
      addresses: this.#opts.servingAddresses ?? [],
      ttlMs: this.#opts.servingTtlMs ?? DEFAULT_SERVING_TTL_MS,
      now,
    });
    await writeStateFile(this.#opts.stateDir, STATE_FILES.servingCert, this.#serving.certChainPem, {
      secret: false,
    });
    if (this.#servingTimer) this.#clock.clearTimeout(this.#servingTimer);
    const delay = Math.max(1000, (this.#serving.notAfter.getTime() - now) / 2);
    this.#servingTimer = this.#clock.setTimeout(() => {
      this.#renewServing().catch((e) =>
        this.#log.error('serving certificate renewal failed', { error: String(e) }),
      );
    }, delay);
    this.#servingTimer.unref?.();
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (e) {
        this.#log.error('CA change listener threw', { error: String(e) });
      }
    }
  }
}
