// The upstream room's decoders (balancer settings, circuit breakers, outlier detection), their errors reported in place.

import { errorMessage } from '../../../shared/errors.js';
import type { CircuitBreakers } from '../../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import type { Cluster } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { OutlierDetection } from '../../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { type ThresholdsByPriority, thresholdsFromProto } from '../../upstream/breaker/thresholds.js';
import { DEFAULT_PANIC_THRESHOLD } from '../../upstream/lb/priority-load.js';
import { type ClusterLbSettings, lbSettingsFromCluster } from '../../upstream/lb/xds.js';
import { type OutlierDetectionConfig, outlierConfigFromProto } from '../../upstream/outlier/config.js';
import type { DecodeContext } from './problems.js';

/** Their messages name the cluster already; the rejection names it once, so the prefix goes. */
function withoutClusterPrefix(message: string): string {
  return message.replace(/^(outlier_detection of )?cluster "[^"]*": /, '');
}

export function lbSettingsFromProto(ctx: DecodeContext, c: Cluster): ClusterLbSettings {
  try {
    return lbSettingsFromCluster(c);
  } catch (e) {
    ctx.report('lb_policy', withoutClusterPrefix(errorMessage(e)));
    return {
      policy: { type: 'ROUND_ROBIN' },
      healthyPanicThreshold: DEFAULT_PANIC_THRESHOLD,
      localityWeighted: false,
    };
  }
}

export function breakerThresholdsFromProto(cb: CircuitBreakers | undefined): ThresholdsByPriority {
  return thresholdsFromProto(cb);
}

export function outlierFromProto(
  ctx: DecodeContext,
  od: OutlierDetection,
  cluster: string,
): OutlierDetectionConfig | undefined {
  try {
    return outlierConfigFromProto(od, cluster);
  } catch (e) {
    ctx.report('outlier_detection', withoutClusterPrefix(errorMessage(e)));
    return undefined;
  }
}
