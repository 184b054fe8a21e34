// Outlier detection settings with Envoy's defaults, decoded from a cluster's `outlier_detection`.

import { fromProtoDuration } from '../../../shared/duration.js';
import { TrellisError } from '../../../shared/errors.js';
import type { OutlierDetection } from '../../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';

export interface OutlierDetectionConfig {
  /** Consecutive 5xx (including gateway errors and, unsplit, local failures) before ejection. */
  consecutive5xx: number;
  /** Consecutive 502/503/504 before ejection. */
  consecutiveGatewayFailure: number;
  /** Consecutive local-origin failures, counted only with `splitExternalLocalOriginErrors`. */
  consecutiveLocalOriginFailure: number;
  /** Percent chance an ejection of that kind is enforced (0 = detect and count only). */
  enforcingConsecutive5xx: number;
  enforcingConsecutiveGatewayFailure: number;
  enforcingConsecutiveLocalOriginFailure: number;
  /** Sweep period: brings ejected hosts back. */
  intervalMs: number;
  /** Ejection time = base × ejection count (backing off), capped by maxEjectionTimeMs. */
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionTimeJitterMs: number;
  /** At most this percent of the cluster's hosts may be ejected at once. */
  maxEjectionPercent: number;
  /** Eject one host even when maxEjectionPercent would allow none (small clusters). */
  alwaysEjectOneHost: boolean;
  splitExternalLocalOriginErrors: boolean;
}

/** Envoy's defaults (outlier_detection.proto). */
export const ENVOY_OUTLIER_DEFAULTS: Readonly<OutlierDetectionConfig> = Object.freeze({
  consecutive5xx: 5,
  consecutiveGatewayFailure: 5,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  enforcingConsecutiveLocalOriginFailure: 100,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionTimeJitterMs: 0,
  maxEjectionPercent: 10,
  alwaysEjectOneHost: false,
  splitExternalLocalOriginErrors: false,
});

/** Fills in Envoy's defaults and checks the one rule Envoy enforces between fields. */
export function outlierConfig(
  partial: Partial<OutlierDetectionConfig>,
  cluster = '',
): OutlierDetectionConfig {
  const base = partial.baseEjectionTimeMs ?? ENVOY_OUTLIER_DEFAULTS.baseEjectionTimeMs;
  const config: OutlierDetectionConfig = {
    ...ENVOY_OUTLIER_DEFAULTS,
    ...dropUndefined(partial),
    // Unset, the cap is 300 s or the base time, whichever is larger.
    maxEjectionTimeMs: partial.maxEjectionTimeMs ?? Math.max(ENVOY_OUTLIER_DEFAULTS.maxEjectionTimeMs, base),
  };
  if (config.maxEjectionTimeMs < config.baseEjectionTimeMs) {
    throw new TrellisError(
      'OUTLIER_CONFIG',
      `outlier_detection of cluster "${cluster}": max_ejection_time ${config.maxEjectionTimeMs}ms is smaller than base_ejection_time ${config.baseEjectionTimeMs}ms`,
    );
  }
  if (config.intervalMs <= 0) {
    throw new TrellisError(
      'OUTLIER_CONFIG',
      `outlier_detection of cluster "${cluster}": interval must be > 0`,
    );
  }
  return config;
}

/** Decodes `Cluster.outlier_detection`; absent means the cluster has no outlier detection. */
export function outlierConfigFromProto(
  od: OutlierDetection | undefined,
  cluster = '',
): OutlierDetectionConfig | undefined {
  if (!od) return undefined;
  return outlierConfig(
    {
      consecutive5xx: od.consecutive5xx,
      consecutiveGatewayFailure: od.consecutiveGatewayFailure,
      consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailure,
      enforcingConsecutive5xx: od.enforcingConsecutive5xx,
      enforcingConsecutiveGatewayFailure: od.enforcingConsecutiveGatewayFailure,
      enforcingConsecutiveLocalOriginFailure: od.enforcingConsecutiveLocalOriginFailure,
      intervalMs: fromProtoDuration(od.interval),
      baseEjectionTimeMs: fromProtoDuration(od.baseEjectionTime),
      maxEjectionTimeMs: fromProtoDuration(od.maxEjectionTime),
      maxEjectionTimeJitterMs: fromProtoDuration(od.maxEjectionTimeJitter),
      maxEjectionPercent: od.maxEjectionPercent,
      alwaysEjectOneHost: od.alwaysEjectOneHost,
      splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors,
    },
    cluster,
  );
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
