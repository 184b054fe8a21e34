// The Trellis version, read once from package.json.

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  cached = pkg.version;
  return cached;
}
