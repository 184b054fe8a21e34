// Envoy's `::health_flags::` text for a host in `/clusters`.

import type { Host } from '../lb/host.js';

/** `healthy`, or the failing flags joined: `/failed_outlier_check/failed_eds_health`. */
export function healthFlags(host: Host): string {
  let flags = '';
  if (host.live.outlierEjected) flags += '/failed_outlier_check';
  if (host.health === 'UNHEALTHY' || host.health === 'TIMEOUT') flags += '/failed_eds_health';
  if (host.health === 'DRAINING') flags += '/eds_status_draining';
  if (host.health === 'DEGRADED') flags += '/degraded_eds_health';
  return flags || 'healthy';
}
