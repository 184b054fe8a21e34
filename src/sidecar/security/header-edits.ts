// Header changes a security engine asks the HTTP layer to make to the request before it goes on.

import type { RequestHeaders } from './context.js';

export interface HeaderValue {
  /** Lower-case. */
  name: string;
  value: string;
}

/** Applied in this order: remove, then set (replace every value), then append. */
export interface HeaderEdits {
  remove: string[];
  set: HeaderValue[];
  append: HeaderValue[];
}

export function emptyEdits(): HeaderEdits {
  return { remove: [], set: [], append: [] };
}

/** Applies edits to a plain header record (lower-case names), as tests and simple callers hold headers. */
export function applyEdits(
  headers: Record<string, string | string[]>,
  edits: HeaderEdits,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...headers };
  for (const name of edits.remove) delete out[name];
  for (const { name, value } of edits.set) out[name] = value;
  for (const { name, value } of edits.append) {
    const existing = out[name];
    out[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}

/** Combines edits made one after the other into one set, in order. */
export function mergeEdits(into: HeaderEdits, next: HeaderEdits): HeaderEdits {
  into.remove.push(...next.remove);
  // A later removal cancels earlier sets and appends of the same header.
  const removed = new Set(next.remove);
  into.set = into.set.filter((h) => !removed.has(h.name));
  into.append = into.append.filter((h) => !removed.has(h.name));
  const replaced = new Set(next.set.map((h) => h.name));
  into.set = into.set.filter((h) => !replaced.has(h.name));
  into.append = into.append.filter((h) => !replaced.has(h.name));
  into.set.push(...next.set);
  into.append.push(...next.append);
  return into;
}

/** The headers as the next filter sees them once `edits` are applied (names lower-case). */
export function editedHeaders(base: RequestHeaders, edits: HeaderEdits): RequestHeaders {
  if (edits.remove.length === 0 && edits.set.length === 0 && edits.append.length === 0) return base;
  const changed = new Map<string, string[]>();
  const touched = (name: string) => {
    let list = changed.get(name);
    if (!list) {
      list = [...(base.values(name) ?? [])];
      changed.set(name, list);
    }
    return list;
  };
  for (const name of edits.remove) touched(name).length = 0;
  for (const { name, value } of edits.set) {
    const list = touched(name);
    list.length = 0;
    list.push(value);
  }
  for (const { name, value } of edits.append) touched(name).push(value);
  return {
    values(name: string) {
      const lower = name.toLowerCase();
      const list = changed.get(lower);
      if (list === undefined) return base.values(lower);
      return list.length > 0 ? list : undefined;
    },
    names() {
      const out = new Set<string>();
      for (const n of base.names()) if (!changed.has(n)) out.add(n);
      for (const [n, list] of changed) if (list.length > 0) out.add(n);
      return out;
    },
  };
}
