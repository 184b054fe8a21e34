// DestinationRules: hosts that no Service or ServiceEntry defines (IST0101), subsets whose labels select no
// workload (IST0127), and TLS origination without a CA to verify the server (IST0128, IST0129).

import type { ConfigMessage } from '../../messages.js';
import type { DestinationRule, KubeService, VirtualService } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message, resolveHost } from '../input-index.js';

export function destinationRuleHostAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  return index
    .ofKind<DestinationRule>('DestinationRule')
    .filter((dr) => !dr.resource.spec.host.includes('*'))
    .filter((dr) => {
      const fqdn = resolveHost(dr.resource.spec.host, dr.resource.metadata.namespace ?? 'default');
      return !index.findService(fqdn) && index.canCheckHost(fqdn);
    })
    .map((dr) =>
      message(
        dr,
        CODES.ReferencedResourceNotFound,
        ['spec', 'host'],
        `Referenced host not found: "${dr.resource.spec.host}"`,
        'define a Service or ServiceEntry for the host, or correct it',
      ),
    );
}

/** `host|subset` pairs that some VirtualService routes to (hosts resolved to FQDNs). */
function routedSubsets(index: AnalysisIndex): Set<string> {
  const used = new Set<string>();
  for (const vs of index.ofKind<VirtualService>('VirtualService')) {
    const ns = vs.resource.metadata.namespace ?? 'default';
    const spec = vs.resource.spec;
    const dests = [
      ...(spec.http ?? []).flatMap((r) => [
        ...(r.route ?? []).map((d) => d.destination),
        ...(r.mirror ? [r.mirror] : []),
        ...(r.mirrors ?? []).map((m) => m.destination),
      ]),
      ...(spec.tcp ?? []).flatMap((r) => (r.route ?? []).map((d) => d.destination)),
      ...(spec.tls ?? []).flatMap((r) => (r.route ?? []).map((d) => d.destination)),
    ];
    for (const d of dests) if (d.subset) used.add(`${resolveHost(d.host, ns)}|${d.subset}`);
  }
  return used;
}

export function subsetWorkloadAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  const used = routedSubsets(index);
  for (const dr of index.ofKind<DestinationRule>('DestinationRule')) {
    const known = index.findService(
      resolveHost(dr.resource.spec.host, dr.resource.metadata.namespace ?? 'default'),
    );
    const svc = known?.service?.resource as KubeService | undefined;
    // Only Kubernetes Services whose namespace has Deployments in the input can be checked.
    if (!svc?.spec.selector || !index.workloads.some((w) => w.namespace === known!.namespace)) continue;
    const serving = index.selectWorkloads(svc.spec.selector, known!.namespace);
    dr.resource.spec.subsets?.forEach((subset, i) => {
      if (!subset.labels || Object.keys(subset.labels).length === 0) return;
      if (serving.some((w) => Object.entries(subset.labels!).every(([k, v]) => w.labels[k] === v))) return;
      const text = Object.entries(subset.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const seen = [
        ...new Set(
          serving.flatMap((w) => Object.keys(subset.labels!).map((k) => `${k}=${w.labels[k] ?? '(none)'}`)),
        ),
      ];
      const routed = used.has(`${known!.host}|${subset.name}`);
      const m = message(
        dr,
        CODES.NoMatchingWorkloadsFound,
        ['spec', 'subsets', i, 'labels'],
        `No matching workloads for this resource with the following labels: ${text} (subset ${subset.name} of ${svc.metadata.name}; its workloads have ${seen.join(', ') || 'no such labels'})${routed ? '' : '; no route uses it yet'}`,
        `deploy a workload with ${text}, or fix the subset's labels; traffic to subset ${subset.name} fails with 503 (no healthy upstream)`,
      );
      // A subset nobody routes to is harmless until a route uses it.
      out.push(routed ? m : { ...m, severity: 'info' });
    });
  }
  return out;
}

export function tlsVerificationAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  const origination = (
    tls:
      | { mode?: string; caCertificates?: string; credentialName?: string; insecureSkipVerify?: boolean }
      | undefined,
  ) =>
    (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') &&
    !tls.caCertificates &&
    !tls.credentialName &&
    !tls.insecureSkipVerify;
  for (const dr of index.ofKind<DestinationRule>('DestinationRule')) {
    const { host, trafficPolicy } = dr.resource.spec;
    const ns = dr.resource.metadata.namespace ?? 'default';
    const name = dr.resource.metadata.name;
    const fix =
      'set caCertificates (or credentialName) so the server certificate is checked against that CA; otherwise the system trust store is used';
    if (origination(trafficPolicy?.tls)) {
      out.push(
        message(
          dr,
          CODES.NoServerCertificateVerificationDestinationLevel,
          ['spec', 'trafficPolicy', 'tls'],
          `DestinationRule ${name} in namespace ${ns} has TLS mode set to ${trafficPolicy!.tls!.mode} but no caCertificates are set to validate server identity for host: ${host}`,
          fix,
        ),
      );
    }
    trafficPolicy?.portLevelSettings?.forEach((p, i) => {
      if (!origination(p.tls)) return;
      out.push(
        message(
          dr,
          CODES.NoServerCertificateVerificationPortLevel,
          ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls'],
          `DestinationRule ${name} in namespace ${ns} has TLS mode set to ${p.tls!.mode} but no caCertificates are set to validate server identity for host: ${host} at port ${p.port?.number}`,
          fix,
        ),
      );
    });
  }
  return out;
}
