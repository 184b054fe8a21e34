// Reads Kubernetes and Istio manifests from files, folders or stdin, keeping each resource's file:line:col.
// Parsing, List handling and positions are the config room's loader (src/api).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { loadText } from '../api/load/load.js';
import type { LoadedResource } from '../api/load/loaded-resource.js';
import { type ConfigMessage, formatMessage } from '../api/messages.js';
import type { Resource, SourcePosition } from '../api/types/meta.js';

export interface ManifestMessage {
  severity: 'error' | 'warning';
  message: string;
  position?: SourcePosition;
}

export interface LoadedManifest {
  resource: Resource;
  position: SourcePosition;
  /** The loader's view, with the position of every field (for validation messages). */
  loaded?: LoadedResource;
  /** The folder relative `workingDir`s are resolved against (the manifest's folder; the CLI's cwd for stdin). */
  baseDir: string;
}

export interface ManifestLoad {
  manifests: LoadedManifest[];
  messages: ManifestMessage[];
  files: string[];
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function formatPosition(p: SourcePosition | undefined): string {
  return p ? `${p.file}:${p.line}:${p.col}` : '';
}

export function formatManifestMessage(m: ManifestMessage): string {
  const where = formatPosition(m.position);
  return `${where ? `${where}: ` : ''}${m.severity === 'warning' ? 'warning: ' : ''}${m.message}`;
}

export function hasManifestErrors(messages: readonly ManifestMessage[]): boolean {
  return messages.some((m) => m.severity === 'error');
}

function listFiles(path: string, out: string[]): void {
  const st = statSync(path);
  if (!st.isDirectory()) {
    out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    const child = join(path, name);
    if (statSync(child).isDirectory()) listFiles(child, out);
    else if (EXTENSIONS.has(extname(name))) out.push(child);
  }
}

/** Parses one YAML (or JSON) text that may hold several documents or a Kubernetes `List`. Never throws. */
export function loadManifestText(text: string, file: string, baseDir = dirname(resolve(file))): ManifestLoad {
  const loaded = loadText(text, file);
  return {
    manifests: loaded.resources.map((l) => ({
      resource: l.resource,
      position: l.source,
      baseDir,
      loaded: l,
    })),
    messages: loaded.messages.map(toManifestMessage),
    files: [file],
  };
}

/** The config room's messages as the runtime prints them (file:line:col: Kind ns/name: path: message). */
export function toManifestMessage(m: ConfigMessage): ManifestMessage {
  return {
    severity: m.severity === 'error' ? 'error' : 'warning',
    message: formatMessage({ ...m, position: undefined }),
    ...(m.position ? { position: m.position } : {}),
  };
}

/**
 * Loads every `.yaml`, `.yml` and `.json` file of the given files and folders (folders recursively, in name
 * order). Unreadable paths become messages, never exceptions.
 */
export function loadManifests(dirOrFiles: string | readonly string[]): ManifestLoad {
  const out: ManifestLoad = { manifests: [], messages: [], files: [] };
  const files: string[] = [];
  for (const p of typeof dirOrFiles === 'string' ? [dirOrFiles] : dirOrFiles) {
    try {
      listFiles(resolve(p), files);
    } catch (e) {
      out.messages.push({
        severity: 'error',
        message: `cannot read ${p}: ${(e as Error).message}`,
        position: { file: p, line: 0, col: 0 },
      });
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      out.messages.push({
        severity: 'error',
        message: `cannot read ${file}: ${(e as Error).message}`,
        position: { file, line: 0, col: 0 },
      });
      continue;
    }
    const one = loadManifestText(text, file);
    out.manifests.push(...one.manifests);
    out.messages.push(...one.messages);
    out.files.push(file);
  }
  return out;
}
