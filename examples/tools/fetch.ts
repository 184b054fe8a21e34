// Entry point of `fetch` (examples/tools/bin/fetch): `node dist/examples/tools/fetch.js URL [curl options]`.

import { runFetch } from './fetch-command.js';

runFetch(process.argv.slice(2), {
  stdout: (d) => process.stdout.write(d),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fetch: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
