// Spec types of telemetry.istio.io/v1 Telemetry: tracing, metrics and access logging per workload.

import type { LabelSelector, PolicyTargetReference } from './security.js';

export interface ProviderRef {
  name: string;
}

export type WorkloadMode = 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER';

export interface TracingConfig {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<
    string,
    {
      literal?: { value: string };
      environment?: { name: string; defaultValue?: string };
      header?: { name: string; defaultValue?: string };
    }
  >;
  useRequestIdForTraceSampling?: boolean;
}

export interface MetricsOverrides {
  match?: {
    metric?:
      | 'ALL_METRICS'
      | 'REQUEST_COUNT'
      | 'REQUEST_DURATION'
      | 'REQUEST_SIZE'
      | 'RESPONSE_SIZE'
      | 'TCP_OPENED_CONNECTIONS'
      | 'TCP_CLOSED_CONNECTIONS'
      | 'TCP_SENT_BYTES'
      | 'TCP_RECEIVED_BYTES'
      | 'GRPC_REQUEST_MESSAGES'
      | 'GRPC_RESPONSE_MESSAGES';
    customMetric?: string;
    mode?: WorkloadMode;
  };
  disabled?: boolean;
  tagOverrides?: Record<string, { operation?: 'UPSERT' | 'REMOVE'; value?: string }>;
}

export interface MetricsConfig {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  reportingInterval?: string;
}

export interface AccessLoggingConfig {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  disabled?: boolean;
  filter?: { expression: string };
}

export interface TelemetrySpec {
  selector?: LabelSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: TracingConfig[];
  metrics?: MetricsConfig[];
  accessLogging?: AccessLoggingConfig[];
}
