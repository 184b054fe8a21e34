// `trellis analyze`: cross-resource checks as a list of small pure analyzers over an index of the input.

import type { LoadedResource } from '../load/loaded-resource.js';
import { type ConfigMessage, describeRef, formatPosition } from '../messages.js';
import {
  destinationRuleHostAnalyzer,
  subsetWorkloadAnalyzer,
  tlsVerificationAnalyzer,
} from './analyzers/destination-rules.js';
import { destinationAnalyzer } from './analyzers/destinations.js';
import { envoyFilterOperationAnalyzer } from './analyzers/envoy-filters.js';
import {
  conflictingGatewayAnalyzer,
  gatewayReferenceAnalyzer,
  gatewayWorkloadAnalyzer,
} from './analyzers/gateways.js';
import { meshHostConflictAnalyzer } from './analyzers/mesh-hosts.js';
import { peerAuthenticationPortAnalyzer, selectorlessAnalyzer } from './analyzers/policies.js';
import { delegateAnalyzer, providerAnalyzer } from './analyzers/references.js';
import { unreachableRuleAnalyzer } from './analyzers/unreachable-rules.js';
import { CODES } from './codes.js';
import { type AnalysisIndex, buildIndex } from './input-index.js';

export type Analyzer = (index: AnalysisIndex) => ConfigMessage[];

export const ANALYZERS: readonly { name: string; run: Analyzer }[] = [
  { name: 'destinations', run: destinationAnalyzer },
  { name: 'gateway-references', run: gatewayReferenceAnalyzer },
  { name: 'gateway-workloads', run: gatewayWorkloadAnalyzer },
  { name: 'conflicting-gateways', run: conflictingGatewayAnalyzer },
  { name: 'envoy-filter-operations', run: envoyFilterOperationAnalyzer },
  { name: 'mesh-host-conflicts', run: meshHostConflictAnalyzer },
  { name: 'unreachable-rules', run: unreachableRuleAnalyzer },
  { name: 'destination-rule-hosts', run: destinationRuleHostAnalyzer },
  { name: 'subset-workloads', run: subsetWorkloadAnalyzer },
  { name: 'tls-verification', run: tlsVerificationAnalyzer },
  { name: 'peer-authentication-ports', run: peerAuthenticationPortAnalyzer },
  { name: 'selectorless-scopes', run: selectorlessAnalyzer },
  { name: 'delegates', run: delegateAnalyzer },
  { name: 'extension-providers', run: providerAnalyzer },
];

/** Runs every analyzer over valid resources; a later definition of the same resource replaces an earlier one. */
export function analyze(resources: readonly LoadedResource[]): ConfigMessage[] {
  const index = buildIndex(resources);
  const out = [...index.notes];
  if (
    !index.hasServices &&
    index.resources.some((r) => r.resource.kind === 'VirtualService' || r.resource.kind === 'DestinationRule')
  ) {
    out.push({
      severity: 'info',
      code: CODES.RegistryNotInInput.code,
      message:
        'the input has no Kubernetes Services, so references to cluster hosts were not checked (add the Kubernetes manifests to check them)',
    });
  }
  for (const a of ANALYZERS) {
    try {
      out.push(...a.run(index));
    } catch (e) {
      out.push({
        severity: 'error',
        code: 'IST0001',
        message: `Internal error: analyzer ${a.name} failed: ${(e as Error).message}`,
      });
    }
  }
  return out;
}

const LEVEL = { error: 'Error', warning: 'Warning', info: 'Info' } as const;

/** istioctl's layout: `Error [IST0101] (VirtualService default/reviews vs.yaml:14) message. Fix: ...` */
export function formatAnalysisMessage(m: ConfigMessage): string {
  const where = [
    m.resource ? describeRef(m.resource) : '',
    m.position ? formatPosition({ ...m.position, col: 0 }).replace(/:0$/, '') : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${LEVEL[m.severity]} [${m.code}]${where ? ` (${where})` : ''} ${m.message}${m.fix ? ` Fix: ${m.fix}.` : ''}`;
}
