// `trellis dashboard`: print the running mesh's dashboard address and open it in a browser when there is a display.

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { MeshClient } from '../../runtime/client.js';
import { TrellisError } from '../../shared/errors.js';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('print the web dashboard address of a running mesh, and open it when a display is available')
    .option('--name <name>', 'mesh name', 'default')
    .option('--no-open', 'only print the address')
    .action(async (opts: { name: string; open: boolean }) => {
      const status = await MeshClient.connect(opts.name).status();
      if (!status.dashboardUrl)
        throw new TrellisError(
          'NO_DASHBOARD',
          `mesh "${opts.name}" has no control plane running, so no dashboard`,
        );
      process.stdout.write(`${status.dashboardUrl}\n`);
      if (opts.open && hasDisplay()) openInBrowser(status.dashboardUrl);
    });
}

function hasDisplay(): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

function openInBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  // A missing opener is not an error: the address is already printed.
  child.on('error', () => {});
  child.unref();
}
