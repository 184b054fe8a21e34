// `trellis analyze -f DIR`: validates, then runs cross-resource checks in the spirit of `istioctl analyze`.

import type { Command } from 'commander';
import { analyze, formatAnalysisMessage } from '../../api/analyze/analyze.js';
import { loadInputs } from '../../api/load/load.js';
import type { LoadedResource } from '../../api/load/loaded-resource.js';
import { type ConfigMessage, formatMessage, hasErrors, sortMessages } from '../../api/messages.js';
import { validateResource } from '../../api/validate/validate.js';
import { parseOutput, plural } from './validate.js';

export interface AnalyzeOptions {
  inputs: string[];
  output: 'text' | 'json';
  stdin?: NodeJS.ReadableStream;
  write?: (text: string) => void;
}

function count(messages: readonly ConfigMessage[], severity: ConfigMessage['severity']): number {
  return messages.filter((m) => m.severity === severity).length;
}

/** Runs the command; returns the exit code (0 when nothing is an error; warnings do not fail). */
export async function runAnalyze(opts: AnalyzeOptions): Promise<number> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const loaded = await loadInputs(opts.inputs, opts.stdin ? { stdin: opts.stdin } : {});
  const validation: ConfigMessage[] = [...loaded.messages];
  // Invalid resources are reported, and left out of the analysis (their shape cannot be trusted).
  const valid: LoadedResource[] = [];
  for (const r of loaded.resources) {
    const problems = validateResource(r);
    validation.push(...problems);
    if (!hasErrors(problems)) valid.push(r);
  }
  const analysis = sortMessages(analyze(valid));
  const all = [...validation, ...analysis];
  const ok = !hasErrors(all) && loaded.files.length > 0;
  if (opts.output === 'json') {
    write(
      `${JSON.stringify({ ok, resources: loaded.resources.length, files: new Set(loaded.files).size, validation: sortMessages(validation), analysis }, null, 2)}\n`,
    );
  } else {
    for (const m of sortMessages(validation)) write(`${formatMessage(m)}\n`);
    for (const m of analysis) write(`${formatAnalysisMessage(m)}\n`);
    const parts = (['error', 'warning', 'info'] as const).map((sev) => plural(count(all, sev), sev));
    const head = all.length === 0 ? 'No validation issues found' : parts.join(', ');
    const scope = `${plural(loaded.resources.length, 'resource')} in ${plural(new Set(loaded.files).size, 'file')}`;
    write(`${head} when analyzing ${scope}\n`);
  }
  return ok ? 0 : 1;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      'Validate configuration and check it across resources (missing subsets, shadowed routes, unknown hosts...), like istioctl analyze',
    )
    .requiredOption('-f, --filename <paths...>', 'files, folders (read recursively) or - for stdin')
    .option('-o, --output <format>', 'text or json', parseOutput, 'text' as 'text' | 'json')
    .action(async (opts: { filename: string[]; output: 'text' | 'json' }) => {
      process.exitCode = await runAnalyze({ inputs: opts.filename, output: opts.output });
    });
}
