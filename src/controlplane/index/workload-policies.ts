// Which policies apply to a workload: Istio's mesh (root namespace) / namespace / workload-selector scopes.

import type {
  AuthorizationPolicy,
  EnvoyFilter,
  MtlsMode,
  PeerAuthentication,
  RequestAuthentication,
  Resource,
  Sidecar,
  Telemetry,
} from '../../api/types/index.js';
import type { ConfigIndex } from './config-index.js';
import { namespaceOf } from './config-index.js';
import { isEmptySelector, selectorMatches } from './labels.js';

export interface WorkloadRef {
  namespace: string;
  labels: Record<string, string>;
}

function selectorOf(r: Resource): Record<string, string> | undefined {
  const spec = r.spec as {
    selector?: { matchLabels?: Record<string, string> };
    workloadSelector?: { labels?: Record<string, string>; matchLabels?: Record<string, string> };
  };
  return spec.selector?.matchLabels ?? spec.workloadSelector?.labels ?? spec.workloadSelector?.matchLabels;
}

function hasSelector(r: Resource): boolean {
  return !isEmptySelector(selectorOf(r));
}

/** Policies that apply to the workload: root-namespace ones (mesh-wide, or selected in any namespace when
 *  `rootSelectorsApply`), its namespace's selector-less ones, and its namespace's selecting ones. */
function applicable<T extends Resource>(
  list: readonly T[],
  w: WorkloadRef,
  root: string,
  rootSelectorsApply: boolean,
): T[] {
  return list.filter((r) => {
    const ns = namespaceOf(r);
    if (ns === root)
      return hasSelector(r) ? rootSelectorsApply && selectorMatches(selectorOf(r), w.labels) : true;
    if (ns !== w.namespace) return false;
    return selectorMatches(selectorOf(r), w.labels);
  });
}

export function authorizationPoliciesFor(
  cfg: ConfigIndex,
  w: WorkloadRef,
  root: string,
): AuthorizationPolicy[] {
  return applicable(cfg.authorizationPolicies, w, root, true);
}

export function requestAuthenticationsFor(
  cfg: ConfigIndex,
  w: WorkloadRef,
  root: string,
): RequestAuthentication[] {
  return applicable(cfg.requestAuthentications, w, root, false);
}

export function envoyFiltersFor(cfg: ConfigIndex, w: WorkloadRef, root: string): EnvoyFilter[] {
  return applicable(cfg.envoyFilters, w, root, true).sort(
    (a, b) =>
      (a.spec.priority ?? 0) - (b.spec.priority ?? 0) ||
      (namespaceOf(a) === root ? -1 : 0) - (namespaceOf(b) === root ? -1 : 0),
  );
}

/** Telemetry: the workload-selecting one wins over the namespace one, which wins over the mesh one; the result
 *  is the list from broadest to narrowest so that callers can apply overrides in order. */
export function telemetriesFor(cfg: ConfigIndex, w: WorkloadRef, root: string): Telemetry[] {
  const mesh = cfg.telemetries.find((t) => namespaceOf(t) === root && !hasSelector(t));
  const ns = cfg.telemetries.find(
    (t) => namespaceOf(t) === w.namespace && w.namespace !== root && !hasSelector(t),
  );
  const workload = cfg.telemetries.find(
    (t) => namespaceOf(t) === w.namespace && hasSelector(t) && selectorMatches(selectorOf(t), w.labels),
  );
  return [mesh, ns, workload].filter((t): t is Telemetry => t !== undefined);
}

/** The Sidecar resource scoping this workload: a selecting one in its namespace, else the namespace's
 *  selector-less one, else the root namespace's selector-less one. */
export function sidecarFor(cfg: ConfigIndex, w: WorkloadRef, root: string): Sidecar | undefined {
  return (
    cfg.sidecars.find(
      (s) => namespaceOf(s) === w.namespace && hasSelector(s) && selectorMatches(selectorOf(s), w.labels),
    ) ??
    cfg.sidecars.find((s) => namespaceOf(s) === w.namespace && !hasSelector(s)) ??
    cfg.sidecars.find((s) => namespaceOf(s) === root && !hasSelector(s))
  );
}

export interface EffectiveMtls {
  /** Mode for ports without a port-level setting. */
  mode: Exclude<MtlsMode, 'UNSET'>;
  /** Workload port → mode. */
  ports: Map<number, Exclude<MtlsMode, 'UNSET'>>;
  /** The policies that decided, narrowest first, for messages. */
  sources: PeerAuthentication[];
}

/**
 * PeerAuthentication precedence: the oldest matching workload policy, then the namespace-wide one, then the
 * mesh-wide one (root namespace, no selector); UNSET inherits from the next broader level; PERMISSIVE when none.
 * Selector policies in the root namespace are ignored, and portLevelMtls only counts with a selector.
 */
export function effectiveMtls(cfg: ConfigIndex, w: WorkloadRef, root: string): EffectiveMtls {
  const mesh = cfg.peerAuthentications.find((p) => namespaceOf(p) === root && !hasSelector(p));
  const ns =
    w.namespace === root
      ? undefined
      : cfg.peerAuthentications.find((p) => namespaceOf(p) === w.namespace && !hasSelector(p));
  const workload =
    w.namespace === root
      ? undefined
      : cfg.peerAuthentications.find(
          (p) => namespaceOf(p) === w.namespace && hasSelector(p) && selectorMatches(selectorOf(p), w.labels),
        );
  const chain = [workload, ns, mesh].filter((p): p is PeerAuthentication => p !== undefined);
  let mode: Exclude<MtlsMode, 'UNSET'> = 'PERMISSIVE';
  for (const p of chain) {
    const m = p.spec.mtls?.mode;
    if (m && m !== 'UNSET') {
      mode = m;
      break;
    }
  }
  const ports = new Map<number, Exclude<MtlsMode, 'UNSET'>>();
  if (workload) {
    for (const [port, setting] of Object.entries(workload.spec.portLevelMtls ?? {})) {
      const m = setting.mode;
      ports.set(Number(port), m && m !== 'UNSET' ? m : mode);
    }
  }
  return { mode, ports, sources: chain };
}
