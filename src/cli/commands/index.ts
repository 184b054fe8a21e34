// The list of CLI commands; each module adds one command (or a group) to the program.

import type { Command } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerApply } from './apply.js';
import { registerCerts } from './certs.js';
import { registerControlPlane } from './controlplane.js';
import { registerDashboard } from './dashboard.js';
import { registerDelete } from './delete.js';
import { registerDemo } from './demo.js';
import { registerDown } from './down.js';
import { registerExec } from './exec.js';
import { registerGet } from './get.js';
import { registerLogs } from './logs.js';
import { registerProxy } from './proxy.js';
import { registerProxyConfig } from './proxy-config.js';
import { registerProxyStatus } from './proxy-status.js';
import { registerRatelimit } from './ratelimit.js';
import { registerStatus } from './status.js';
import { registerUp } from './up.js';
import { registerValidate } from './validate.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerDemo,
  registerUp,
  registerDown,
  registerStatus,
  registerDashboard,
  registerLogs,
  registerExec,
  registerApply,
  registerGet,
  registerDelete,
  registerValidate,
  registerAnalyze,
  registerProxyStatus,
  registerControlPlane,
  registerProxy,
  registerProxyConfig,
  registerCerts,
  registerRatelimit,
];
