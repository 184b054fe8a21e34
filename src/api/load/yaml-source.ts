// YAML (and JSON) text parsed into documents that remember where every field is written.

import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { FieldPath } from '../messages.js';

export interface TextPosition {
  line: number;
  col: number;
}

export interface YamlProblem extends TextPosition {
  message: string;
  severity: 'error' | 'warning';
}

/** One document of a YAML stream: its value as plain data, and a way back from field paths to positions. */
export interface YamlDocument {
  value: unknown;
  /** Position of the document's first token. */
  start: TextPosition;
  problems: YamlProblem[];
  /** Position of the value at `path` (or of its key, with `atKey`); falls back to the deepest existing parent. */
  positionOf(path: FieldPath, opts?: { atKey?: boolean }): TextPosition;
  /** Source range offsets of the node at `path`, if it exists. */
  nodeAt(path: FieldPath): Node | undefined;
}

export interface YamlText {
  documents: YamlDocument[];
  lines: LineCounter;
}

function child(node: unknown, key: string | number): { key?: Node; value?: Node } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(k) === String(key))
        return { key: pair.key as Node, value: (pair.value ?? undefined) as Node | undefined };
    }
    return undefined;
  }
  if (isSeq(node) && typeof key === 'number') {
    const item = node.items[key];
    return item === undefined ? undefined : { value: item as Node };
  }
  return undefined;
}

function toPosition(lines: LineCounter, offset: number): TextPosition {
  const p = lines.linePos(offset);
  return { line: p.line, col: p.col };
}

/** Parses a YAML stream; never throws: syntax problems are returned with their positions. */
export function parseYamlText(text: string): YamlText {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
  });
  const list = Array.isArray(docs) ? docs : [];
  const documents: YamlDocument[] = [];
  for (const doc of list) {
    const problems: YamlProblem[] = [];
    for (const e of doc.errors)
      problems.push({
        ...toPosition(lines, e.pos[0]),
        message: e.message.split('\n')[0]!,
        severity: 'error',
      });
    for (const w of doc.warnings)
      problems.push({
        ...toPosition(lines, w.pos[0]),
        message: w.message.split('\n')[0]!,
        severity: 'warning',
      });
    let value: unknown;
    if (doc.errors.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch (e) {
        problems.push({
          ...toPosition(lines, doc.range[0]),
          message: (e as Error).message,
          severity: 'error',
        });
      }
    }
    const contents = doc.contents as Node | null;
    const start = toPosition(lines, contents?.range?.[0] ?? doc.range[0]);
    const nodeAt = (path: FieldPath): Node | undefined => {
      let node: unknown = contents;
      for (const key of path) {
        const next = child(node, key);
        if (!next?.value) return undefined;
        node = next.value;
      }
      return node as Node;
    };
    documents.push({
      value,
      start,
      problems,
      nodeAt,
      positionOf(path, opts = {}) {
        let node: unknown = contents;
        let best = start;
        for (let i = 0; i < path.length; i++) {
          const next = child(node, path[i]!);
          if (!next) break;
          const last = i === path.length - 1;
          const target = last && opts.atKey && next.key ? next.key : (next.value ?? next.key);
          if (target?.range) best = toPosition(lines, target.range[0]);
          if (!next.value) break;
          node = next.value;
        }
        return best;
      },
    });
  }
  return { documents, lines };
}
