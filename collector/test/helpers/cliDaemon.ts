// The real `dvflow` binary as a user runs it, in its own process.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { freeUdpPort } from './peers.ts';

const run = promisify(execFile);
export const dvflowBin = join(import.meta.dirname, '..', '..', 'bin', 'dvflow.js');

export interface CliDaemon {
  child: ChildProcess;
  udpPort: number;
  api: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

export async function freeTcpPort(): Promise<number> {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function startCliDaemon(data: string, extra: string[] = []): Promise<CliDaemon> {
  const udpPort = await freeUdpPort();
  const httpPort = await freeTcpPort();
  const child = spawn(process.execPath, [dvflowBin, 'start', '--data', data, '--netflow-port', String(udpPort), '--bind', '127.0.0.1', '--http-port', String(httpPort), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.on('data', (d) => (err += d));
  const api = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`dvflow start exited ${child.exitCode}: ${err}`);
    try {
      if ((await fetch(`${api}/api/v1/health`)).ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child, udpPort, api, stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      return done;
    },
  };
}

/** `dvflow ARGS`; with `input`, that is written to its standard input (a pipe), as `cat input | dvflow ARGS` does. */
export async function dvflow(args: string[], input?: Buffer | string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const running = run(process.execPath, [dvflowBin, ...args], { timeout: 120_000 });
    if (input !== undefined) {
      running.child.stdin!.on('error', () => { /* it may exit before reading all (an error) */ });
      running.child.stdin!.end(input);
    }
    const { stdout, stderr } = await running;
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
  }
}
