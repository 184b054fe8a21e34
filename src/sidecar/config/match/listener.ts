// Original-destination lookup: which listener a connection captured on virtualOutbound belongs to.

import type { ListenerConfig, SidecarConfig } from '../model.js';
import { addressKey, parseIp } from './ip.js';

/**
 * Envoy's lookup for `use_original_dst`: the listener bound to exactly ip:port, else the wildcard listener
 * (0.0.0.0 or [::], same IP family) on that port, else undefined — the capturing listener's own chains apply.
 */
export function listenerForOriginalDestination(
  config: Pick<SidecarConfig, 'listenersByAddress'>,
  ip: string,
  port: number,
): ListenerConfig | undefined {
  const parsed = parseIp(ip);
  if (!parsed) return undefined;
  const exact = config.listenersByAddress.get(addressKey(parsed, port));
  if (exact) return exact;
  const any = parsed.family === 4 ? { family: 4 as const, value: 0 } : { family: 6 as const, value: 0n };
  return config.listenersByAddress.get(addressKey(any, port));
}
