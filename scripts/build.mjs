#!/usr/bin/env node
// Builds everything: TypeScript to dist/, the SO_ORIGINAL_DST addon, and the dashboard bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
if (!run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])) {
  process.exit(1);
}

// The addon is optional: without it, transparent capture (netns mode) is unavailable and says why.
const addon = join(root, 'native/original-dst');
const built = join(addon, 'build/Release/original_dst.node');
const sources = ['original_dst.c', 'binding.gyp'].map((f) => statSync(join(addon, f)).mtimeMs);
if (!existsSync(built) || statSync(built).mtimeMs < Math.max(...sources)) {
  let gyp;
  try {
    gyp = join(
      dirname(
        require.resolve('npm/package.json', {
          paths: [dirname(process.execPath), '/usr/lib/node_modules', '/usr/local/lib/node_modules'],
        }),
      ),
      'node_modules/node-gyp/bin/node-gyp.js',
    );
  } catch {
    gyp = undefined;
  }
  const ok =
    gyp && existsSync(gyp) && run(process.execPath, [gyp, 'rebuild', '--loglevel=warn'], { cwd: addon });
  if (!ok) console.warn('build: the SO_ORIGINAL_DST addon did not build; netns mode will be unavailable');
}

const ui = join(root, 'src/dashboard/ui');
if (existsSync(join(ui, 'vite.config.ts'))) {
  const outDir = join(root, 'dist/dashboard');
  if (
    !run(
      process.execPath,
      [
        join(root, 'node_modules/vite/bin/vite.js'),
        'build',
        '--logLevel',
        'warn',
        '--outDir',
        outDir,
        '--emptyOutDir',
      ],
      { cwd: ui },
    )
  ) {
    process.exit(1);
  }
}
