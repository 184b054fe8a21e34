// The list of CLI commands; each module adds one command (or a group) to the program.

import type { Command } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerCerts } from './certs.js';
import { registerControlPlane } from './controlplane.js';
import { registerProxy } from './proxy.js';
import { registerProxyConfig } from './proxy-config.js';
import { registerProxyStatus } from './proxy-status.js';
import { registerRatelimit } from './ratelimit.js';
import { registerValidate } from './validate.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerValidate,
  registerAnalyze,
  registerControlPlane,
  registerProxyStatus,
  registerProxy,
  registerProxyConfig,
  registerCerts,
  registerRatelimit,
];
