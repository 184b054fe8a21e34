// Runs system commands (ip, iptables) for the runtime, with errors that quote the command and its stderr.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TrellisError } from '../../shared/errors.js';

const execFileAsync = promisify(execFile);

export async function run(
  cmd: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    if (opts.allowFail) return '';
    const err = e as { stderr?: string; code?: number | string; message: string };
    const detail = (err.stderr ?? '').trim() || err.message;
    throw new TrellisError('COMMAND_FAILED', `\`${cmd} ${args.join(' ')}\` failed: ${detail}`);
  }
}

export async function commandExists(cmd: string): Promise<boolean> {
  try {
    await execFileAsync('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}
