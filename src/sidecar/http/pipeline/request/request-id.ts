// x-request-id values: random UUIDv4 (Envoy's default request ID extension), injectable for tests.

import { randomUUID } from 'node:crypto';

/** A UUIDv4; node's generator batches its entropy, so this is cheap per request. */
export const uuidV4 = (): string => randomUUID();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID-shaped value. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
