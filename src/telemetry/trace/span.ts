// Spans as the sidecar produces them (server on inbound, client on outbound), tagged the way Istio/Envoy tag them.

export type SpanKind = 'SERVER' | 'CLIENT';

/** A finished span in one format-neutral shape; encoders turn it into OTLP or Zipkin JSON. */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  /** Epoch milliseconds (fractional allowed). */
  startMs: number;
  durationMs: number;
  /** OTLP resource `service.name` / Zipkin `localEndpoint.serviceName`. */
  serviceName: string;
  /** Local IP for Zipkin's localEndpoint, when known. */
  localIp?: string;
  tags: Record<string, string>;
  error: boolean;
}
