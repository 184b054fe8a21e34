// IST0101 for references by name: delegate VirtualServices, and extension providers named by CUSTOM
// AuthorizationPolicies and Telemetry (checked when the input has the mesh config).

import type { ConfigMessage } from '../../messages.js';
import type { AuthorizationPolicy, Telemetry, VirtualService } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message } from '../input-index.js';

/** Providers Istio defines without an extensionProviders entry. */
const BUILTIN = ['prometheus', 'envoy'];

export function delegateAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  const all = index.ofKind<VirtualService>('VirtualService');
  for (const vs of all) {
    for (const [i, r] of (vs.resource.spec.http ?? []).entries()) {
      if (!r.delegate) continue;
      const namespace = r.delegate.namespace ?? vs.resource.metadata.namespace ?? 'default';
      const target = all.find(
        (v) => v.resource.metadata.name === r.delegate!.name && v.resource.metadata.namespace === namespace,
      );
      const path = ['spec', 'http', i, 'delegate'];
      if (!target) {
        out.push(
          message(
            vs,
            CODES.ReferencedResourceNotFound,
            path,
            `Referenced VirtualService not found: "${namespace}/${r.delegate.name}"`,
            'define the delegate VirtualService (without hosts), or correct the name',
          ),
        );
      } else if (target.resource.spec.hosts?.length) {
        out.push(
          message(
            vs,
            CODES.ReferencedResourceNotFound,
            path,
            `Referenced delegate VirtualService "${namespace}/${r.delegate.name}" has hosts, so it is not a delegate and is ignored`,
            'remove the hosts of the delegate VirtualService',
          ),
        );
      }
    }
  }
  return out;
}

export function providerAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const mesh = index.meshConfig;
  if (!mesh) return [];
  const known = new Set([...BUILTIN, ...(mesh.extensionProviders ?? []).map((p) => p.name)]);
  const fix = `define it in extensionProviders of the mesh config (known: ${[...known].join(', ')})`;
  const out: ConfigMessage[] = [];
  for (const ap of index.ofKind<AuthorizationPolicy>('AuthorizationPolicy')) {
    const name = ap.resource.spec.provider?.name;
    if (ap.resource.spec.action === 'CUSTOM' && name && !known.has(name)) {
      out.push(
        message(
          ap,
          CODES.ReferencedResourceNotFound,
          ['spec', 'provider', 'name'],
          `Referenced extension provider not found: "${name}"`,
          fix,
        ),
      );
    }
  }
  for (const t of index.ofKind<Telemetry>('Telemetry')) {
    for (const kind of ['tracing', 'metrics', 'accessLogging'] as const) {
      for (const [i, c] of (t.resource.spec[kind] ?? []).entries()) {
        for (const [j, p] of (c.providers ?? []).entries()) {
          if (!known.has(p.name)) {
            out.push(
              message(
                t,
                CODES.ReferencedResourceNotFound,
                ['spec', kind, i, 'providers', j, 'name'],
                `Referenced extension provider not found: "${p.name}"`,
                fix,
              ),
            );
          }
        }
      }
    }
  }
  return out;
}
