// The `trellis` command line: parses arguments and hands each command to its module in ./commands.

import { Command, CommanderError } from 'commander';
import { errorMessage, isTrellisError } from '../shared/errors.js';
import { commands } from './commands/index.js';
import { version } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('trellis')
    .description('Trellis: a service mesh that speaks Istio. Run `trellis demo` to see it carry Bookinfo.')
    .version(version(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    process.stderr.write(`trellis: ${isTrellisError(e) ? `${e.message}` : errorMessage(e)}\n`);
    if (process.env.TRELLIS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

const code = await main(process.argv);
process.exitCode = code;
