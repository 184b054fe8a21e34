// EnvoyFilter operations Envoy config generation ignores or refuses: REPLACE outside filters (IST0152), ADD or
// REMOVE on route configurations and routes (IST0153, IST0154).

import type { ConfigMessage } from '../../messages.js';
import type { EnvoyFilter } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message } from '../input-index.js';

export function envoyFilterOperationAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  for (const ef of index.ofKind<EnvoyFilter>('EnvoyFilter')) {
    for (const [i, p] of ef.resource.spec.configPatches.entries()) {
      const path = ['spec', 'configPatches', i, 'patch', 'operation'];
      const op = p.patch.operation;
      const routeLevel = p.applyTo === 'ROUTE_CONFIGURATION' || p.applyTo === 'HTTP_ROUTE';
      if (op === 'REPLACE' && p.applyTo !== 'HTTP_FILTER' && p.applyTo !== 'NETWORK_FILTER') {
        out.push(
          message(
            ef,
            CODES.EnvoyFilterUsesReplaceOperationIncorrectly,
            path,
            `The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER, not ${p.applyTo}.`,
            'use MERGE to change the object',
          ),
        );
      }
      if (op === 'ADD' && routeLevel) {
        out.push(
          message(
            ef,
            CODES.EnvoyFilterUsesAddOperationIncorrectly,
            path,
            `The ADD operation will be ignored when applyTo is set to ${p.applyTo}.`,
            'use MERGE, or applyTo VIRTUAL_HOST to add a virtual host',
          ),
        );
      }
      if (op === 'REMOVE' && routeLevel) {
        out.push(
          message(
            ef,
            CODES.EnvoyFilterUsesRemoveOperationIncorrectly,
            path,
            `The REMOVE operation will be ignored when applyTo is set to ${p.applyTo}.`,
            'remove the route in the VirtualService instead',
          ),
        );
      }
    }
  }
  return out;
}
