// The pre-NAT destination of a connection that iptables REDIRECTed to the sidecar (SO_ORIGINAL_DST), via our addon.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { TrellisError } from '../../shared/errors.js';

export interface OriginalDestination {
  address: string;
  port: number;
  family: 4 | 6;
}

interface Addon {
  getOriginalDst(fd: number): OriginalDestination;
}

const ADDON_PATH = new URL('../../../../native/original-dst/build/Release/original_dst.node', import.meta.url)
  .pathname;

let addon: Addon | undefined;
let loadError: string | undefined;

function load(): Addon | undefined {
  if (addon || loadError) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadError = `the SO_ORIGINAL_DST addon is not built (${ADDON_PATH}); run npm run build with python3, make and g++ installed`;
    return undefined;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    loadError = `the SO_ORIGINAL_DST addon failed to load: ${(e as Error).message}`;
  }
  return addon;
}

/** Why transparent capture is unavailable, or undefined when it is available. */
export function originalDstUnavailable(): string | undefined {
  load();
  return loadError;
}

/** Reads the original destination of an accepted socket. Throws when the socket was not redirected. */
export function originalDestination(socket: Socket): OriginalDestination {
  const a = load();
  if (!a)
    throw new TrellisError('ORIGINAL_DST_UNAVAILABLE', loadError ?? 'SO_ORIGINAL_DST addon unavailable');
  // The fd is only reachable through the handle; it is stable for the socket's lifetime.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new TrellisError('ORIGINAL_DST_NO_FD', 'socket has no file descriptor');
  return a.getOriginalDst(fd);
}
