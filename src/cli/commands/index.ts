// The list of CLI commands; each module adds one command (or a group) to the program.

import type { Command } from 'commander';
import { registerApply } from './apply.js';
import { registerCerts } from './certs.js';
import { registerDelete } from './delete.js';
import { registerDemo } from './demo.js';
import { registerDown } from './down.js';
import { registerExec } from './exec.js';
import { registerGet } from './get.js';
import { registerLogs } from './logs.js';
import { registerRatelimit } from './ratelimit.js';
import { registerStatus } from './status.js';
import { registerUp } from './up.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerCerts,
  registerRatelimit,
  registerUp,
  registerDown,
  registerStatus,
  registerLogs,
  registerExec,
  registerApply,
  registerGet,
  registerDelete,
  registerDemo,
];
