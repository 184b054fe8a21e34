// Delegate VirtualServices: a root route hands a match to another VirtualService, whose routes are merged in.

import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService } from '../../api/types/index.js';
import { namespaceOf } from '../index/config-index.js';
import type { VirtualServiceIndex } from '../index/virtual-service-index.js';

export interface ExpandedRoute {
  route: HTTPRoute;
  /** The VirtualService the route came from (the delegate's, for delegated routes). */
  vs: VirtualService;
}

function uriNarrows(parent: StringMatch, child: StringMatch): boolean {
  if (!('prefix' in parent)) return JSON.stringify(parent) === JSON.stringify(child);
  if ('prefix' in child) return child.prefix.startsWith(parent.prefix);
  if ('exact' in child) return child.exact.startsWith(parent.prefix);
  return true; // a child regex is taken as written, as Istio does
}

function sameMatch(a: StringMatch | undefined, b: StringMatch | undefined): boolean {
  return !a || !b || JSON.stringify(a) === JSON.stringify(b);
}

function mergeMaps<T>(
  a: Record<string, T> | undefined,
  b: Record<string, T> | undefined,
): Record<string, T> | undefined | null {
  if (!a) return b;
  if (!b) return a;
  for (const [k, v] of Object.entries(b))
    if (k in a && JSON.stringify(a[k]) !== JSON.stringify(v)) return null;
  return { ...a, ...b };
}

/** Istio's mergeHTTPMatchRequest: the child's conditions must narrow the parent's; a conflict drops the pair. */
export function mergeMatch(parent: HTTPMatchRequest, child: HTTPMatchRequest): HTTPMatchRequest | undefined {
  if (parent.uri && child.uri && !uriNarrows(parent.uri, child.uri)) return undefined;
  if (
    !sameMatch(parent.scheme, child.scheme) ||
    !sameMatch(parent.method, child.method) ||
    !sameMatch(parent.authority, child.authority)
  ) {
    return undefined;
  }
  const headers = mergeMaps(parent.headers, child.headers);
  const queryParams = mergeMaps(parent.queryParams, child.queryParams);
  const withoutHeaders = mergeMaps(parent.withoutHeaders, child.withoutHeaders);
  if (headers === null || queryParams === null || withoutHeaders === null) return undefined;
  return {
    ...parent,
    ...child,
    uri: child.uri ?? parent.uri,
    scheme: child.scheme ?? parent.scheme,
    method: child.method ?? parent.method,
    authority: child.authority ?? parent.authority,
    headers,
    queryParams,
    withoutHeaders,
    port: parent.port ?? child.port,
    sourceLabels: parent.sourceLabels ?? child.sourceLabels,
    sourceNamespace: parent.sourceNamespace ?? child.sourceNamespace,
    gateways: parent.gateways ?? child.gateways,
  };
}

/** Replaces each delegating route by the delegate's routes with merged matches (one level, as Istio allows). */
export function expandDelegates(vs: VirtualService, index: VirtualServiceIndex): ExpandedRoute[] {
  const out: ExpandedRoute[] = [];
  for (const route of vs.spec.http ?? []) {
    if (!route.delegate) {
      out.push({ route, vs });
      continue;
    }
    const child = index.delegate(route.delegate.name, route.delegate.namespace ?? namespaceOf(vs));
    if (!child) continue;
    for (const cr of child.spec.http ?? []) {
      if (cr.delegate) continue;
      const parents = route.match && route.match.length > 0 ? route.match : [{}];
      const children = cr.match && cr.match.length > 0 ? cr.match : [{}];
      const merged: HTTPMatchRequest[] = [];
      for (const p of parents)
        for (const c of children) {
          const m = mergeMatch(p, c);
          if (m) merged.push(m);
        }
      if (merged.length === 0) continue;
      out.push({ route: { ...cr, match: merged }, vs: child });
    }
  }
  return out;
}
