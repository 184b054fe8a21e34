// Writes resources into YAML files: replaces or removes one document of a multi-document file, keeping the rest.

import { rename, unlink, writeFile } from 'node:fs/promises';
import { type Document, isMap, isSeq, parseAllDocuments, stringify } from 'yaml';
import { isPlainObject } from '../api/schema/schema.js';
import { DEFAULT_NAMESPACE, type Resource, type ResourceRef } from '../api/types/meta.js';
import { withoutServerFields } from './resource-table.js';

/** A resource as it is written in a file: ConfigMap data at the top level, no empty spec, no server fields. */
export function toFileForm(r: Resource): Record<string, unknown> {
  const clean = withoutServerFields(r);
  const out: Record<string, unknown> = {
    apiVersion: clean.apiVersion,
    kind: clean.kind,
    metadata: clean.metadata,
  };
  if (r.kind === 'ConfigMap') {
    const data = (clean.spec as { data?: unknown } | undefined)?.data;
    if (data !== undefined) out.data = data;
  } else if (
    !(
      isPlainObject(clean.spec) &&
      Object.keys(clean.spec).length === 0 &&
      (r.kind === 'Namespace' || r.kind === 'ServiceAccount')
    )
  ) {
    out.spec = clean.spec;
  }
  return out;
}

function matches(value: unknown, ref: ResourceRef): boolean {
  if (!isPlainObject(value) || value.kind !== ref.kind || !isPlainObject(value.metadata)) return false;
  const ns = typeof value.metadata.namespace === 'string' ? value.metadata.namespace : DEFAULT_NAMESPACE;
  return value.metadata.name === ref.name && (ns === ref.namespace || ref.kind === 'Namespace');
}

/** Where `ref` is in the parsed documents: a document, and an item index when inside a `kind: List`. */
function locate(docs: Document[], ref: ResourceRef): { doc: number; item?: number } | undefined {
  for (let i = 0; i < docs.length; i++) {
    const value = docs[i]!.toJS();
    if (matches(value, ref)) return { doc: i };
    if (isPlainObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      const item = value.items.findIndex((x) => matches(x, ref));
      if (item >= 0) return { doc: i, item };
    }
  }
  return undefined;
}

function render(docs: Document[]): string {
  const live = docs.filter((d) => d.contents !== null || d.commentBefore);
  return live
    .map((d, i) => {
      const text = d.toString();
      return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
    })
    .join('');
}

/** The file's new text with `resource` replacing its current document (or undefined if it is not in the file). */
export function replaceInText(text: string, resource: Resource, ref: ResourceRef): string | undefined {
  const docs = parseAllDocuments(text) as Document[];
  if (!Array.isArray(docs)) return undefined;
  const at = locate(docs, ref);
  if (!at) return undefined;
  const doc = docs[at.doc]!;
  const node = doc.createNode(toFileForm(resource));
  if (at.item === undefined) doc.contents = node;
  else doc.setIn(['items', at.item], node);
  return render(docs);
}

/** The file's new text without `ref` (empty when nothing is left). */
export function removeFromText(text: string, ref: ResourceRef): string | undefined {
  const docs = parseAllDocuments(text) as Document[];
  if (!Array.isArray(docs)) return undefined;
  const at = locate(docs, ref);
  if (!at) return undefined;
  if (at.item === undefined) docs.splice(at.doc, 1);
  else docs[at.doc]!.deleteIn(['items', at.item]);
  const left = docs.filter((d) => isMap(d.contents) || isSeq(d.contents));
  return left.length ? render(left) : '';
}

export function newFileText(resource: Resource): string {
  return stringify(toFileForm(resource));
}

/** Writes atomically (temp file and rename), so the watcher never reads half a file. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  if (text === '') {
    await unlink(path);
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
