// "Did you mean" suggestions for misspelt field names and enum values.

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const normalize = (s: string) => s.toLowerCase().replace(/[-_]/g, '');

/** The candidate closest to `input`, if it is close enough to be a likely typo (or a snake_case spelling). */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const norm = normalize(input);
  for (const c of candidates) {
    // `http_status` for `httpStatus`, `HOSTS` for `hosts`: same word, different spelling.
    if (normalize(c) === norm) return c;
    const d = distance(input.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 3)));
  return bestScore <= limit ? best : undefined;
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const s = suggest(input, candidates);
  return s ? `; did you mean "${s}"?` : '';
}
