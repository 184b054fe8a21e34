// Gateways that configure a gateway proxy: those whose selector matches the proxy's labels.

import type { Gateway } from '../../api/types/index.js';
import { namespaceOf } from './config-index.js';
import { selectorMatches } from './labels.js';

export interface GatewayIndex {
  forProxy(labels: Record<string, string>): readonly Gateway[];
}

export function gatewayRef(gw: Gateway): string {
  return `${namespaceOf(gw)}/${gw.metadata.name}`;
}

export function buildGatewayIndex(list: readonly Gateway[]): GatewayIndex {
  return {
    // A Gateway without a selector selects nothing (Istio requires one to bind to workloads).
    forProxy: (labels) => list.filter((g) => g.spec.selector && selectorMatches(g.spec.selector, labels)),
  };
}
