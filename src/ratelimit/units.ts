// Rate limit units: envoyproxy/ratelimit's names, the RLS proto enum, and the window length of each.

import { RateLimitResponse_RateLimit_Unit as Unit } from '../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';

export type RateLimitUnit = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'year';

export const UNIT_SECONDS: Readonly<Record<RateLimitUnit, number>> = Object.freeze({
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  // As envoyproxy/ratelimit counts them: 30-day months, 365-day years.
  month: 86_400 * 30,
  year: 86_400 * 365,
});

const TO_PROTO: Readonly<Record<RateLimitUnit, Unit>> = {
  second: Unit.SECOND,
  minute: Unit.MINUTE,
  hour: Unit.HOUR,
  day: Unit.DAY,
  month: Unit.MONTH,
  year: Unit.YEAR,
};

export function unitToProto(unit: RateLimitUnit): Unit {
  return TO_PROTO[unit];
}

export function unitFromProto(unit: Unit | number): RateLimitUnit | undefined {
  for (const [name, value] of Object.entries(TO_PROTO)) if (value === unit) return name as RateLimitUnit;
  return undefined;
}

export function isUnit(text: string): text is RateLimitUnit {
  return Object.hasOwn(UNIT_SECONDS, text);
}
