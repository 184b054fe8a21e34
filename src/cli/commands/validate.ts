// `trellis validate -f FILE|DIR|-`: checks configuration files and explains every problem with its position.

import type { Command } from 'commander';
import { loadInputs } from '../../api/load/load.js';
import { type ConfigMessage, formatMessage, hasErrors, sortMessages } from '../../api/messages.js';
import { validateResources } from '../../api/validate/validate.js';

export interface ValidateOptions {
  inputs: string[];
  output: 'text' | 'json';
  stdin?: NodeJS.ReadableStream;
  write?: (text: string) => void;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summary(messages: readonly ConfigMessage[], resources: number, files: number): string {
  const errors = messages.filter((m) => m.severity === 'error').length;
  const warnings = messages.filter((m) => m.severity === 'warning').length;
  const extra = warnings ? ` (${plural(warnings, 'warning')})` : '';
  if (errors === 0)
    return `${plural(resources, 'resource')} in ${plural(files, 'file')} ${resources === 1 ? 'is' : 'are'} valid${extra}`;
  return `${plural(errors, 'error')} in ${plural(resources, 'resource')} from ${plural(files, 'file')}${extra}`;
}

/** Runs the command; returns the exit code (0 valid, 1 any error). */
export async function runValidate(opts: ValidateOptions): Promise<number> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const loaded = await loadInputs(opts.inputs, opts.stdin ? { stdin: opts.stdin } : {});
  const messages = sortMessages([...loaded.messages, ...validateResources(loaded.resources)]);
  const files = new Set(loaded.files).size;
  const ok = !hasErrors(messages) && (loaded.resources.length > 0 || loaded.files.length > 0);
  if (opts.output === 'json') {
    write(`${JSON.stringify({ valid: ok, resources: loaded.resources.length, files, messages }, null, 2)}\n`);
  } else {
    for (const m of messages) write(`${formatMessage(m)}\n`);
    write(`${summary(messages, loaded.resources.length, files)}\n`);
  }
  return ok ? 0 : 1;
}

export function parseOutput(value: string): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') throw new Error(`--output must be text or json, got "${value}"`);
  return value;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Check Istio and Kubernetes configuration (YAML or JSON) and explain every problem with file:line:col',
    )
    .requiredOption('-f, --filename <paths...>', 'files, folders (read recursively) or - for stdin')
    .option('-o, --output <format>', 'text or json', parseOutput, 'text' as 'text' | 'json')
    .action(async (opts: { filename: string[]; output: 'text' | 'json' }) => {
      process.exitCode = await runValidate({ inputs: opts.filename, output: opts.output });
    });
}
