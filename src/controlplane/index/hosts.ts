// Host names as Istio reads them: short names resolve in the rule's namespace; wildcards match suffixes.

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; names with a dot and `*` stay as they are. */
export function resolveHost(host: string, namespace: string, domainSuffix = 'cluster.local'): string {
  if (host === '*' || host.includes('.')) return host.toLowerCase();
  return `${host}.${namespace}.svc.${domainSuffix}`.toLowerCase();
}

/** Does pattern (possibly `*` or `*.suffix`) match the concrete host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Do two host patterns overlap (either may be a wildcard)? */
export function hostsIntersect(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** Specificity for "most specific match wins": exact hosts beat wildcards, longer suffixes beat shorter. */
export function hostSpecificity(pattern: string): number {
  if (pattern === '*') return 0;
  if (pattern.startsWith('*')) return pattern.length;
  return 10_000 + pattern.length;
}

/** Strips `ns/` from a `namespace/host` reference (Sidecar egress, Gateway hosts). */
export function splitNamespacedHost(ref: string): { namespace: string; host: string } {
  const slash = ref.indexOf('/');
  if (slash < 0) return { namespace: '*', host: ref };
  return { namespace: ref.slice(0, slash), host: ref.slice(slash + 1) };
}
