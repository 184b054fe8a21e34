// Entry point of `load` / `fortio` (examples/tools/bin): `node dist/examples/tools/load.js -c 3 -qps 0 -n 30 URL`.

import { runLoadCommand } from './load-command.js';

runLoadCommand(process.argv.slice(2), {
  stdout: (d) => process.stdout.write(d),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`load: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
