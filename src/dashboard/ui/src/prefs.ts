// The time range every chart shows and the window rates are computed over, chosen once in the header.

import { useEffect, useState } from 'preact/hooks';
import type { Range } from './api.js';

export const RANGES = [
  { label: '5 min', start: '-5m' },
  { label: '15 min', start: '-15m' },
  { label: '1 hour', start: '-1h' },
] as const;

const listeners = new Set<(r: Range) => void>();
let current: Range = { start: '-15m', window: '1m' };

export function setRange(r: Range): void {
  current = r;
  for (const l of listeners) l(r);
}

export function useRange(): Range {
  const [r, setR] = useState(current);
  useEffect(() => {
    listeners.add(setR);
    return () => listeners.delete(setR);
  }, []);
  return r;
}
