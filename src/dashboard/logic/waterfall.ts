// A trace as waterfall rows: span tree order, depth, bar geometry, and which failing span caused the rest.

export interface WaterfallSpan {
  spanId: string;
  parentSpanId?: string;
  startMs: number;
  durationMs: number;
  error: boolean;
}

export interface WaterfallRow<S extends WaterfallSpan> {
  span: S;
  depth: number;
  /** Bar start and width as percentages of the trace's duration. */
  offsetPct: number;
  widthPct: number;
  /** An error span none of whose descendants failed: where the failure started. */
  failing: boolean;
}

/**
 * Depth-first from the roots (spans whose parent is not in the trace), children by start time. A span is
 * "failing" when it is an error and none of its descendants is: errors propagate up (a client span turns
 * 500 because its server span did), so the deepest error is the one to look at first.
 */
export function waterfallRows<S extends WaterfallSpan>(spans: readonly S[]): WaterfallRow<S>[] {
  if (spans.length === 0) return [];
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, S[]>();
  const roots: S[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else {
      roots.push(s);
    }
  }
  const byStart = (a: S, b: S) => a.startMs - b.startMs;
  roots.sort(byStart);
  for (const list of children.values()) list.sort(byStart);
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 1e-6);
  const failedBelow = new Map<string, boolean>();
  const errorBelow = (s: S, seen: Set<string>): boolean => {
    const known = failedBelow.get(s.spanId);
    if (known !== undefined) return known;
    let any = false;
    for (const c of children.get(s.spanId) ?? []) {
      if (seen.has(c.spanId)) continue;
      seen.add(c.spanId);
      if (c.error || errorBelow(c, seen)) any = true;
    }
    failedBelow.set(s.spanId, any);
    return any;
  };
  const rows: WaterfallRow<S>[] = [];
  const visited = new Set<string>();
  const walk = (s: S, depth: number) => {
    if (visited.has(s.spanId)) return;
    visited.add(s.spanId);
    rows.push({
      span: s,
      depth,
      offsetPct: ((s.startMs - start) / total) * 100,
      widthPct: Math.max((s.durationMs / total) * 100, 0.2),
      failing: s.error && !errorBelow(s, new Set([s.spanId])),
    });
    for (const c of children.get(s.spanId) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  // Spans in a parent cycle are reachable from no root; list them last rather than lose them.
  for (const s of [...spans].sort(byStart)) walk(s, 0);
  return rows;
}
