// Real peers we did not write, driven from tests: nfcapd (the reference collector, repeating what it
// receives to dvflow with -R so both see identical datagrams), softflowd and nfreplay as exporters,
// nfdump as the reference for totals and statistics.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = promisify(execFile);

/** Temporary directories of this test process: removed when it exits, passed or failed. */
const temps: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (temps.length === 0) process.once('exit', () => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });
  temps.push(dir);
  return dir;
}

/** A UDP port nobody listens on right now (never 23456: tests run beside a live daemon). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Reference daemons still running: a failed test leaves them behind, `stopAllPeers` (in after()) ends them. */
const live = new Set<import('node:child_process').ChildProcess>();

export function stopAllPeers(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export interface Nfcapd {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** nfcapd on 127.0.0.1:port writing to dir, optionally repeating every datagram to 127.0.0.1:repeatTo. */
export async function startNfcapd(opts: { repeatTo?: number; sampling?: number } = {}): Promise<Nfcapd> {
  const port = await freeUdpPort();
  const dir = tempDir('dvflow-nfcapd-');
  const args = ['-p', String(port), '-b', '127.0.0.1', '-w', dir, '-t', '3600', '-B', '8388608'];
  if (opts.repeatTo) args.push('-R', `127.0.0.1/${opts.repeatTo}`);
  if (opts.sampling) args.push('-s', String(opts.sampling));
  const child = spawn('nfcapd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // nfcapd binds within milliseconds; give it a moment and make sure it did not die.
  await new Promise((r) => setTimeout(r, 400));
  if (child.exitCode !== null) throw new Error(`nfcapd exited: ${stderr}`);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return {
    port, dir,
    stop: async () => {
      if (child.exitCode !== null) return;
      // nfcapd repeats a datagram (-R) as soon as its reader thread has it, but decodes and stores it in
      // another thread: stopping it right after the exporter exits can lose the last datagram on its side
      // only. Let it drain first.
      await new Promise((r) => setTimeout(r, 1500));
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/**
 * softflowd reads a pcap and exports every flow to 127.0.0.1:port, then exits. `times: 'uptime'` leaves out -a / -A
 * milli: v9 and IPFIX then carry sysUpTime-relative times (IE 22/21), as `softflowd -r x.pcap -n host:port -v 10` does.
 */
export async function runSoftflowd(pcap: string, port: number, version: 5 | 9 | 10, times: 'capture' | 'uptime' = 'capture'): Promise<void> {
  const ctl = join(tempDir('dvflow-softflowd-'), 'ctl');
  // -c must come before -r: softflowd 1.1.0 hangs otherwise. -a / -A milli keep the capture's times.
  const timeOpts = times === 'uptime' ? [] : version === 5 ? ['-a'] : ['-A', 'milli'];
  await run('softflowd', ['-c', ctl, '-r', pcap, '-n', `127.0.0.1:${port}`, '-v', String(version), ...timeOpts], { timeout: 60_000 });
}

/** nfreplay sends the flows of an nfcapd directory as NetFlow v5 or v9. */
export async function runNfreplay(dir: string, port: number, version: 5 | 9): Promise<void> {
  for (const f of nfcapdFiles(dir)) {
    await run('nfreplay', ['-r', join(dir, f), '-H', '127.0.0.1', '-p', String(port), '-v', String(version), '-d', '100'], { timeout: 60_000 });
  }
}

export function nfcapdFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^nfcapd\.\d+$/.test(f)).sort();
}

export interface Totals {
  flows: number;
  bytes: number;
  packets: number;
}

/** nfdump's summary totals over a directory, optionally filtered. */
export async function nfdumpTotals(dir: string, filter = 'any'): Promise<Totals> {
  const full = await run('nfdump', ['-R', dir, '-o', 'csv', '-N', '-s', 'proto', filter]);
  const lines = full.stdout.trim().split('\n');
  const i = lines.indexOf('Summary');
  if (i < 0) throw new Error(`no summary from nfdump: ${full.stdout.slice(0, 500)}`);
  const [flows, bytes, packets] = lines[i + 2]!.split(',').map(Number);
  return { flows: flows!, bytes: bytes!, packets: packets! };
}

export interface StatLine {
  val: string;
  flows: number;
  packets: number;
  bytes: number;
}

/** nfdump -s ELEMENT as rows (CSV output). */
export async function nfdumpStat(dir: string, stat: string, n = 0, filter = 'any'): Promise<StatLine[]> {
  const { stdout } = await run('nfdump', ['-R', dir, '-o', 'csv', '-N', '-n', String(n), '-s', stat, filter]);
  const rows: StatLine[] = [];
  for (const line of stdout.split('\n')) {
    const c = line.split(',');
    if (c.length < 14 || c[0] === 'ts') continue;
    rows.push({ val: c[4]!, flows: Number(c[5]), packets: Number(c[7]), bytes: Number(c[9]) });
  }
  return rows;
}

/** Resolve once `read()` has returned the same value `stableMs` long (e.g. datagrams received). */
export async function waitStable(read: () => number, stableMs = 400, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  let last = read();
  let since = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 50));
    const v = read();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= stableMs) return v;
  }
  return last;
}

/** pmacctd's nfprobe plugin reads a pcap and exports NetFlow v9 or IPFIX to 127.0.0.1:port, then exits. */
export async function runPmacctd(pcap: string, port: number, version: 9 | 10): Promise<void> {
  const dir = tempDir('dvflow-pmacctd-');
  const conf = join(dir, 'pmacctd.conf');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(conf, [
    'daemonize: false',
    `pcap_savefile: ${pcap}`,
    'plugins: nfprobe',
    `nfprobe_receiver: 127.0.0.1:${port}`,
    `nfprobe_version: ${version}`,
    'aggregate: src_host, dst_host, src_port, dst_port, proto, tos',
    '',
  ].join('\n'));
  try {
    await run('pmacctd', ['-f', conf], { timeout: 60_000 });
  } catch (e) {
    // At the end of a savefile, pmacctd's core sometimes notices its plugin has already exited ("connection
    // lost to 'default_nfprobe-nfprobe'") and exits 1, after the plugin has flushed and shut down normally
    // ("Shutting down on user request"): a shutdown race on a loaded machine, not an export failure. The
    // callers compare what dvflow stored with nfcapd, so lost flows would still fail them.
    const out = String((e as { stderr?: string }).stderr ?? '') + String((e as { stdout?: string }).stdout ?? '') + String((e as Error).message);
    if (!(/Shutting down on user request/.test(out) && /connection lost to 'default_nfprobe/.test(out))) throw e;
  }
}
