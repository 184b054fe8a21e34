// The list of CLI commands; each module adds one command (or a group) to the program.

import type { Command } from 'commander';
import { registerCerts } from './certs.js';
import { registerRatelimit } from './ratelimit.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerCerts, registerRatelimit];
