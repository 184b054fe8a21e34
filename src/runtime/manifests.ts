// Reads Kubernetes and Istio manifests from files, folders or stdin, keeping each resource's file:line:col.
// The one seam where the config room's loader (src/api) replaces this YAML reader once it lands.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Resource, SourcePosition } from '../api/types/meta.js';

export interface ManifestMessage {
  severity: 'error' | 'warning';
  message: string;
  position?: SourcePosition;
}

export interface LoadedManifest {
  resource: Resource;
  position: SourcePosition;
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Moves a ConfigMap's `data` under `spec`, as the rest of Trellis keeps it (src/api/types/index.ts). */
function normalize(doc: Record<string, unknown>): Resource {
  const { apiVersion, kind, metadata, spec, ...rest } = doc;
  const out: Resource = {
    apiVersion: String(apiVersion),
    kind: String(kind),
    metadata: { ...(metadata as Resource['metadata']) },
    spec: spec ?? {},
  };
  if (out.kind === 'ConfigMap' && 'data' in rest) out.spec = { data: rest.data };
  return out;
}

/** Parses one YAML (or JSON) text that may hold several documents or a Kubernetes `List`. Never throws. */
export function loadManifestText(text: string, file: string, baseDir = dirname(resolve(file))): ManifestLoad {
  const out: ManifestLoad = { manifests: [], messages: [], files: [file] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors)
        out.messages.push({
          severity: 'error',
          message: `YAML: ${e.message.split('\n')[0]}`,
          position: at(e.pos[0]),
        });
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const start = at(doc.contents?.range?.[0] ?? 0);
    const items: { value: unknown; position: SourcePosition }[] = [];
    if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) {
      const seq = doc.get('items', true) as { items?: { range?: [number, number, number] }[] } | undefined;
      value.items.forEach((item, i) => {
        const range = seq?.items?.[i]?.range;
        items.push({ value: item, position: range ? at(range[0]) : start });
      });
    } else {
      items.push({ value, position: start });
    }
    for (const item of items) {
      if (!isRecord(item.value)) {
        out.messages.push({
          severity: 'error',
          message: 'a document must be a mapping with apiVersion, kind and metadata',
          position: item.position,
        });
        continue;
      }
      const missing = ['apiVersion', 'kind'].filter(
        (k) => typeof (item.value as Record<string, unknown>)[k] !== 'string',
      );
      const meta = item.value.metadata;
      if (!isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') missing.push('metadata.name');
      if (missing.length > 0) {
        out.messages.push({
          severity: 'error',
          message: `missing ${missing.join(', ')}`,
          position: item.position,
        });
        continue;
      }
      out.manifests.push({ resource: normalize(item.value), position: item.position, baseDir });
    }
  }
  return out;
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
