// Which transport socket an upstream endpoint gets: the first transport_socket_match its metadata satisfies.

import type { JsonObject } from '@bufbuild/protobuf';
import type { ClusterConfig, TransportSocketChoice } from '../model.js';

/** The endpoint metadata key Envoy matches `transport_socket_matches` against. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

/**
 * `endpointMetadata` is the endpoint's `filter_metadata` (HostInit.metadata); Istio labels mesh endpoints
 * `{tlsMode: "istio"}`. The cluster's list always ends with its own socket (match-all), so this never fails.
 */
export function transportSocketFor(
  cluster: ClusterConfig,
  endpointMetadata: Readonly<Record<string, unknown>> | undefined,
): TransportSocketChoice {
  const labels = endpointMetadata?.[TRANSPORT_SOCKET_MATCH_KEY] as JsonObject | undefined;
  for (const choice of cluster.transportSockets) {
    let ok = true;
    for (const key in choice.match) {
      if (labels?.[key] !== choice.match[key]) {
        ok = false;
        break;
      }
    }
    if (ok) return choice;
  }
  return cluster.transportSockets[cluster.transportSockets.length - 1]!;
}
