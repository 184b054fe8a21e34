// A /24 of loopback addresses per running mesh (127.1.<slot>.0 and 127.2.<slot>.0), so meshes never share ports.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../shared/errors.js';
import { taggedProcesses } from './leftovers.js';
import { isProcessAlive } from './state-dir.js';

const SLOTS_DIR = '/tmp/trellis-loopback-slots';

export interface SlotOwner {
  pid: number;
  /** The mesh's process tag: processes a crashed daemon left still hold the slot's addresses. */
  tag: string;
}

function readOwner(file: string): SlotOwner | undefined {
  try {
    const [pid, tag = ''] = readFileSync(file, 'utf8').trim().split(' ');
    return Number.isInteger(Number(pid)) ? { pid: Number(pid), tag } : undefined;
  } catch {
    return undefined;
  }
}

/** A slot is free when its daemon is gone and none of the processes that daemon started is left. */
function abandoned(o: SlotOwner | undefined): boolean {
  return !o || (!isProcessAlive(o.pid) && (o.tag === '' || taggedProcesses(o.tag).length === 0));
}

/** Claims the lowest free slot; the claim names this process and its mesh, so a crash frees it once cleaned. */
export function claimLoopbackSlot(owner: SlotOwner): number {
  if (!existsSync(SLOTS_DIR)) {
    mkdirSync(SLOTS_DIR, { recursive: true });
    // Shared by every user's meshes, like /tmp itself (mkdir's mode is cut by the umask).
    chmodSync(SLOTS_DIR, 0o1777);
  }
  const text = `${owner.pid} ${owner.tag}`;
  for (let slot = 0; slot < 256; slot++) {
    const file = join(SLOTS_DIR, String(slot));
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return slot;
    } catch {
      const holder = readOwner(file);
      if (holder?.pid === owner.pid) return slot;
      if (!abandoned(holder)) continue;
      rmSync(file, { force: true });
      try {
        writeFileSync(file, text, { flag: 'wx' });
        return slot;
      } catch {
        // Another mesh took it first.
      }
    }
  }
  throw new TrellisError('NO_LOOPBACK_SLOT', `256 meshes already hold loopback slots in ${SLOTS_DIR}`);
}

export function releaseLoopbackSlot(slot: number, owner = process.pid): void {
  const file = join(SLOTS_DIR, String(slot));
  if (readOwner(file)?.pid === owner) rmSync(file, { force: true });
}
