#!/usr/bin/env node
// The `trellis` command: runs the compiled CLI (npm run build produces dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('trellis: not built yet; run `npm run build` in the Trellis checkout first\n');
  process.exit(2);
}
await import(main.href);
