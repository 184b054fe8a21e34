// Micro-benchmark of the HTTP pipeline against the bare transport and HAProxy (wrk -t1 -c50, CPU per request).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = process.env.DURATION ?? '10s';
const CONNECTIONS = process.env.CONNECTIONS ?? '50';
const WARMUP = process.env.WARMUP ?? '2s';
/** PROFILE=dir writes a V8 CPU profile of the pipeline process there. */
const PROFILE = process.env.PROFILE;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function which(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1' }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function wrk(port: number, duration: string): { rps: number; requests: number; errors: string; p99: string } {
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${CONNECTIONS}`, `-d${duration}`, '--latency', `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  );
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:.*|Non-2xx.*/.exec(out)?.[0] ?? '',
    p99: /99%\s+(\S+)/.exec(out)?.[1] ?? '?',
  };
}

const children: ChildProcess[] = [];
function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

const body = 'x'.repeat(1024);
const dir = mkdtempSync(join(os.tmpdir(), 'trellis-bench-pipeline-'));

async function startBackend(): Promise<{ port: number; kind: string }> {
  const port = await freePort();
  if (which('nginx')) {
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location / { default_type text/plain; return 200 "${body}"; } } }
`,
    );
    start('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
    await waitForPort(port);
    return { port, kind: 'nginx 1 worker, 1 KiB body' };
  }
  const server = net.createServer((s) => {
    s.on('data', () => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, kind: 'in-process canned responder (nginx missing)' };
}

async function startHaproxy(backend: number): Promise<{ port: number; pid: number } | undefined> {
  if (!which('haproxy')) return undefined;
  const port = await freePort();
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server s1 127.0.0.1:${backend}
`,
  );
  const child = start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
  await waitForPort(port);
  return { port, pid: child.pid! };
}

async function startNode(
  script: string,
  args: string[],
  nodeArgs: string[] = [],
): Promise<{ port: number; pid: number }> {
  const child = start(process.execPath, [...nodeArgs, new URL(script, import.meta.url).pathname, ...args]);
  const port = await new Promise<number>((resolve) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  await waitForPort(port);
  return { port, pid: child.pid! };
}

async function main(): Promise<void> {
  if (!which('wrk')) {
    console.error('bench:pipeline needs wrk (apt-get install wrk)');
    process.exit(1);
  }
  const backend = await startBackend();
  const targets: { name: string; port: number; pid: number | undefined }[] = [
    { name: 'direct', port: backend.port, pid: undefined },
  ];
  const haproxy = await startHaproxy(backend.port);
  if (haproxy) targets.push({ name: 'haproxy', ...haproxy });
  else console.warn('haproxy not installed: skipping it');
  targets.push({
    name: 'transport',
    ...(await startNode('../transport/proxy.js', [String(backend.port), 'signal'])),
  });
  const profileArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [];
  targets.push({ name: 'pipeline', ...(await startNode('./proxy.js', [String(backend.port)], profileArgs)) });

  console.log(`# pipeline benchmark, ${new Date().toISOString()}`);
  console.log(
    `# ${os.cpus().length} x ${os.cpus()[0]?.model}, ${os.type()} ${os.release()}, Node ${process.version}`,
  );
  console.log(
    `# backend: ${backend.kind}; load: wrk -t1 -c${CONNECTIONS} -d${DURATION} after a ${WARMUP} warm-up`,
  );
  console.log(
    '# pipeline: routing (3 vhosts x 3 routes), fault+cors+router, Istio metrics, 1% tracing, no access log',
  );
  const rows: Record<string, { rps: number[]; us: number[]; rss: number[] }> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      wrk(t.port, WARMUP);
      const before = t.pid === undefined ? 0 : cpuMicros(t.pid);
      const r = wrk(t.port, DURATION);
      const us = t.pid === undefined ? Number.NaN : (cpuMicros(t.pid) - before) / r.requests;
      const rss = t.pid === undefined ? Number.NaN : rssMb(t.pid);
      rows[t.name] ??= { rps: [], us: [], rss: [] };
      rows[t.name]!.rps.push(r.rps);
      rows[t.name]!.us.push(us);
      rows[t.name]!.rss.push(rss);
      console.log(
        `round ${round} ${t.name.padEnd(10)} ${r.rps.toFixed(0).padStart(7)} rps  ${Number.isNaN(us) ? '   -' : us.toFixed(1).padStart(5)} µs/req  p99 ${r.p99}  ${Number.isNaN(rss) ? '' : `RSS ${rss.toFixed(0)} MB`} ${r.errors}`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const hap = rows.haproxy ? median(rows.haproxy.us) : Number.NaN;
  const bare = rows.transport ? median(rows.transport.us) : Number.NaN;
  console.log('\n| target | rps (median) | CPU µs/req (median) | × HAProxy CPU | − transport µs | RSS MB |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(rows)) {
    const us = median(r.us);
    const fmt = (v: number, d = 1) => (Number.isNaN(v) ? '-' : v.toFixed(d));
    console.log(
      `| ${name} | ${median(r.rps).toFixed(0)} | ${fmt(us)} | ${fmt(us / hap, 2)} | ${name === 'pipeline' ? fmt(us - bare) : '-'} | ${fmt(median(r.rss), 0)} |`,
    );
  }
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
