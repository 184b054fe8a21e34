// Small builders for Envoy messages that every translation file uses: names, durations, addresses, Any.

import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { type Any, type Duration, durationFromMs } from '@bufbuild/protobuf/wkt';
import { parseDuration } from '../../shared/duration.js';
import { pack } from '../../xds/any.js';
import { ApiVersion } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { FractionalPercent_DenominatorType } from '../../xds/gen/envoy/type/v3/percent_pb.js';

export { pack };

export const MAX_UINT32 = 4294967295;

/** The plain-object init form of a message (without the already-built message alternative). */
export type Init<D extends DescMessage> = Exclude<MessageInitShape<D>, MessageShape<D>>;

export function outboundClusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster';

/** Istio's SNI for mTLS to a cluster: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
export function istioSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

export function ms(n: number): Duration {
  return durationFromMs(Math.round(n));
}

/** A YAML duration as a protobuf Duration; undefined for unset (validated config never holds bad text). */
export function duration(text: string | undefined): Duration | undefined {
  if (text === undefined) return undefined;
  const v = parseDuration(text);
  return v === undefined ? undefined : durationFromMs(Math.round(v));
}

export function adsConfigSource() {
  return { configSourceSpecifier: { case: 'ads' as const, value: {} }, resourceApiVersion: ApiVersion.V3 };
}

export function socketAddress(address: string, port: number) {
  return {
    address: {
      case: 'socketAddress' as const,
      value: { address, portSpecifier: { case: 'portValue' as const, value: port } },
    },
  };
}

/** A percentage (0–100, fractional) as Envoy's FractionalPercent per million, the precision Istio uses. */
export function fractionalPercent(percent: number) {
  return {
    numerator: Math.max(0, Math.min(1_000_000, Math.round(percent * 10_000))),
    denominator: FractionalPercent_DenominatorType.MILLION,
  };
}

export function typed<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Any {
  return pack(schema, init);
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
