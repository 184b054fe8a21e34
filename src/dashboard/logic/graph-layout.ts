// A left-to-right layered layout for the service graph: callers on the left, what they call to the right.

export interface LayoutEdge {
  source: string;
  target: string;
}

export interface LayoutOptions {
  columnGap?: number;
  rowGap?: number;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Each node's column is the longest call chain leading to it (edges that close a cycle are ignored);
 * rows within a column are ordered by the average row of their neighbours, a few sweeps each way, which
 * keeps edges short and crossings few on graphs the size of a mesh. Deterministic: same input, same picture.
 */
export function layeredLayout(
  nodeIds: readonly string[],
  edges: readonly LayoutEdge[],
  opts: LayoutOptions = {},
): Map<string, Point> {
  const columnGap = opts.columnGap ?? 210;
  const rowGap = opts.rowGap ?? 90;
  const ids = [...nodeIds].sort();
  const known = new Set(ids);
  const out = new Map<string, string[]>();
  const inc = new Map<string, string[]>();
  for (const id of ids) {
    out.set(id, []);
    inc.set(id, []);
  }
  for (const e of edges) {
    if (!known.has(e.source) || !known.has(e.target) || e.source === e.target) continue;
    out.get(e.source)!.push(e.target);
    inc.get(e.target)!.push(e.source);
  }
  // Drop back edges found by DFS from nodes without callers (then from anything left), so ranks terminate.
  const forward = new Map<string, string[]>(ids.map((id) => [id, []]));
  const state = new Map<string, 'open' | 'done'>();
  const dfs = (id: string) => {
    state.set(id, 'open');
    for (const t of out.get(id)!) {
      const s = state.get(t);
      if (s === 'open') continue;
      forward.get(id)!.push(t);
      if (s === undefined) dfs(t);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (inc.get(id)!.length === 0 && !state.has(id)) dfs(id);
  for (const id of ids) if (!state.has(id)) dfs(id);
  const rank = new Map<string, number>();
  const order: string[] = [];
  const seen = new Set<string>();
  const topo = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const t of forward.get(id)!) topo(t);
    order.push(id);
  };
  for (const id of ids) topo(id);
  order.reverse();
  for (const id of order) rank.set(id, 0);
  for (const id of order) {
    for (const t of forward.get(id)!) rank.set(t, Math.max(rank.get(t)!, rank.get(id)! + 1));
  }
  const columns: string[][] = [];
  for (const id of ids) {
    const r = rank.get(id)!;
    columns[r] ??= [];
    columns[r].push(id);
  }
  const row = new Map<string, number>();
  const place = (col: string[]) => {
    for (const [i, id] of col.entries()) row.set(id, i - (col.length - 1) / 2);
  };
  for (const col of columns) place(col);
  const neighbours = (id: string, side: Map<string, string[]>) => side.get(id)!.filter((n) => row.has(n));
  const sweep = (cols: string[][], side: Map<string, string[]>) => {
    for (const col of cols) {
      const key = new Map(
        col.map((id, i) => {
          const ns = neighbours(id, side);
          return [
            id,
            ns.length ? ns.reduce((s, n) => s + row.get(n)!, 0) / ns.length : i - (col.length - 1) / 2,
          ];
        }),
      );
      col.sort((a, b) => key.get(a)! - key.get(b)! || (a < b ? -1 : 1));
      place(col);
    }
  };
  for (let i = 0; i < 4; i++) {
    sweep(columns.slice(1), inc);
    sweep(columns.slice(0, -1).reverse(), out);
  }
  const positions = new Map<string, Point>();
  for (const [c, col] of columns.entries()) {
    for (const id of col) positions.set(id, { x: c * columnGap, y: row.get(id)! * rowGap });
  }
  return positions;
}
