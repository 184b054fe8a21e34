// A /24 of loopback addresses per running mesh (127.1.<slot>.0 and 127.2.<slot>.0), so meshes never share ports.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../shared/errors.js';
import { isProcessAlive } from './state-dir.js';

const SLOTS_DIR = '/tmp/trellis-loopback-slots';

/** Claims the lowest slot no live process holds; the claim names this process, so a crash frees it. */
export function claimLoopbackSlot(owner = process.pid): number {
  if (!existsSync(SLOTS_DIR)) {
    mkdirSync(SLOTS_DIR, { recursive: true });
    // Shared by every user's meshes, like /tmp itself (mkdir's mode is cut by the umask).
    chmodSync(SLOTS_DIR, 0o1777);
  }
  for (let slot = 0; slot < 256; slot++) {
    const file = join(SLOTS_DIR, String(slot));
    try {
      writeFileSync(file, String(owner), { flag: 'wx' });
      return slot;
    } catch {
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(file, 'utf8'));
      } catch {
        // Vanished meanwhile: try it again below.
      }
      if (holder === owner) return slot;
      if (!Number.isInteger(holder) || !isProcessAlive(holder)) {
        rmSync(file, { force: true });
        try {
          writeFileSync(file, String(owner), { flag: 'wx' });
          return slot;
        } catch {
          // Another mesh took it first.
        }
      }
    }
  }
  throw new TrellisError('NO_LOOPBACK_SLOT', `256 meshes already hold loopback slots in ${SLOTS_DIR}`);
}

export function releaseLoopbackSlot(slot: number, owner = process.pid): void {
  const file = join(SLOTS_DIR, String(slot));
  try {
    if (Number(readFileSync(file, 'utf8')) === owner) rmSync(file, { force: true });
  } catch {
    // Not held.
  }
}
