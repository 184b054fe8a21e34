// Reads configuration from files, folders and stdin: YAML streams and JSON, with a position for every field.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isScalar, Scalar } from 'yaml';
import { type ConfigMessage, ValidationCode } from '../messages.js';
import type { LoadedResource } from './loaded-resource.js';
import { normalizeDocument } from './normalize.js';
import { parseYamlText } from './yaml-source.js';

export interface LoadResult {
  resources: LoadedResource[];
  /** Problems found while reading: unreadable files, YAML syntax, unknown kinds, unserved versions. */
  messages: ConfigMessage[];
  /** Every file read, in order. */
  files: string[];
}

const CONFIG_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function readError(file: string, message: string): ConfigMessage {
  return { severity: 'error', code: ValidationCode.ReadError, message, position: { file, line: 0, col: 0 } };
}

/** Parses one file's text. Never throws: every problem becomes a message. */
export function loadText(text: string, file: string): LoadResult {
  const out: LoadResult = { resources: [], messages: [], files: [file] };
  const parsed = parseYamlText(text);
  const lines = text.split('\n');
  for (const doc of parsed.documents) {
    for (const p of doc.problems) {
      out.messages.push({
        severity: p.severity,
        code: ValidationCode.YamlSyntax,
        message: `YAML: ${p.message}`,
        position: { file, line: p.line, col: p.col },
      });
    }
    if (doc.problems.some((p) => p.severity === 'error')) continue;
    const result = normalizeDocument({
      value: doc.value,
      file,
      start: { file, ...doc.start },
      positionOf(path, opts = {}) {
        const pos = doc.positionOf(path, { atKey: opts.atKey ?? false });
        if (!opts.inner) return { file, ...pos };
        // The path runs on inside a string; find the string, and if it is a block scalar (`mesh: |`), its text
        // starts on the line after the header, at the block's indentation.
        for (let n = path.length; n >= 0; n--) {
          const node = doc.nodeAt(path.slice(0, n));
          if (!node) continue;
          if (
            isScalar(node) &&
            (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) &&
            node.range
          ) {
            const header = doc.positionOf(path.slice(0, n)).line;
            let first = header; // 0-based index of the line after the header
            while (first < lines.length && lines[first]!.trim() === '') first++;
            const indent = (lines[first] ?? '').length - (lines[first] ?? '').trimStart().length;
            return { file, line: header + opts.inner.line, col: indent + opts.inner.col };
          }
          break;
        }
        return { file, ...pos };
      },
    });
    out.resources.push(...result.resources);
    out.messages.push(...result.messages);
  }
  return out;
}

function decode(bytes: Buffer, file: string): string | ConfigMessage {
  if (bytes.subarray(0, 8192).includes(0))
    return readError(file, `${file} is a binary file, not YAML or JSON`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return readError(file, `${file} is not UTF-8 text`);
  }
}

/** Every *.yaml, *.yml and *.json file under `dir` (recursively, skipping dot-files), sorted; and the folders seen. */
export async function listConfigFiles(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  await listFiles(dir, new Set(), files, dirs);
  return { files, dirs };
}

async function listFiles(dir: string, seen: Set<string>, out: string[], dirs: string[] = []): Promise<void> {
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  dirs.push(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const s = await stat(path).catch(() => undefined);
      isDir = s?.isDirectory() ?? false;
      isFile = s?.isFile() ?? false;
    }
    if (isDir) await listFiles(path, seen, out, dirs);
    else if (isFile && CONFIG_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(path);
  }
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err.message ?? String(e);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export interface LoadOptions {
  /** Where `-` reads from; process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
}

/** Loads files, folders (recursively: *.yaml, *.yml, *.json) and `-` (stdin). Never throws. */
export async function loadInputs(inputs: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const out: LoadResult = { resources: [], messages: [], files: [] };
  const add = (r: LoadResult) => {
    out.resources.push(...r.resources);
    out.messages.push(...r.messages);
    out.files.push(...r.files);
  };
  for (const input of inputs) {
    if (input === '-') {
      const bytes = await readStream(opts.stdin ?? process.stdin);
      const text = decode(bytes, '<stdin>');
      if (typeof text === 'string') add(loadText(text, '<stdin>'));
      else out.messages.push(text);
      continue;
    }
    let files: string[];
    try {
      const s = await stat(input);
      if (s.isDirectory()) {
        files = [];
        await listFiles(input, new Set(), files);
        if (files.length === 0) {
          out.messages.push(readError(input, `no *.yaml, *.yml or *.json files in ${input}`));
          continue;
        }
      } else files = [input];
    } catch (e) {
      out.messages.push(readError(input, `cannot read ${input}: ${describeFsError(e)}`));
      continue;
    }
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (e) {
        out.messages.push(readError(file, `cannot read ${file}: ${describeFsError(e)}`));
        continue;
      }
      const text = decode(bytes, file);
      if (typeof text === 'string') add(loadText(text, file));
      else {
        out.files.push(file);
        out.messages.push(text);
      }
    }
  }
  return out;
}
