// Public API of outlier detection and of the one upstream outcome classification it shares.

export {
  ENVOY_OUTLIER_DEFAULTS,
  type OutlierDetectionConfig,
  outlierConfig,
  outlierConfigFromProto,
} from './config.js';
export {
  type EjectionType,
  type HostOutlierView,
  OutlierDetector,
  type OutlierDetectorOptions,
  type OutlierEvent,
  type OutlierStats,
  outlierEventJson,
} from './detector.js';
export { healthFlags } from './health-flags.js';
export {
  CONNECT_FAILURE,
  equivalentStatus,
  isGatewayError,
  isLocalOrigin,
  RESET,
  responseOutcome,
  TIMEOUT,
  type UpstreamOutcome,
} from './outcome.js';
