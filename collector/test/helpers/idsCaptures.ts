// Real attack and benign captures for the IDS tests, recorded on lo by collector/test/fixtures/ids/record-captures.sh
// (nmap, hping3, ssh against a throwaway sshd, python3 HTTP and DNS servers; all to 127.0.0.1).
//
// `recordedIdsCaptures()` records them once into test-output/ids-captures/ and reuses that directory while its
// manifest.json is newer than the script (so across test files and runs); DVFLOW_RERECORD_IDS_CAPTURES=1 records
// anew. It answers { skip } when this machine cannot record (not root, a tool missing): tests skip with that reason.
// A recording that fails otherwise throws: where the tools are there it must work.
//
// Test processes in one checkout share the directory through a lock file (test-output/ids-captures.lock); the script
// itself also takes a machine-wide lock, since two recordings at once would capture each other's packets on lo.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const RECORD_SCRIPT = fileURLToPath(new URL('../fixtures/ids/record-captures.sh', import.meta.url));
export const IDS_CAPTURES_DIR = join(repoRoot, 'test-output', 'ids-captures');
const LOCK = join(repoRoot, 'test-output', 'ids-captures.lock');

/** The detector ids a capture's manifest entry may name. */
export const IDS_DETECTORS = ['port-scan', 'host-sweep', 'trw-scan', 'syn-flood', 'udp-flood', 'icmp-flood', 'brute-force',
  'tcp-flags', 'land', 'invalid-packet'] as const;
export type IdsDetectorId = (typeof IDS_DETECTORS)[number];

/** One capture in manifest.json. */
export interface IdsCapture {
  /** File name inside the captures directory, e.g. "nmap-syn.pcap". */
  file: string;
  /** The tool that made the traffic: nmap, hping3, ssh, python3. */
  tool: string;
  /** The command as run (placeholders like KEY/USER where it was a loop or a temp path). */
  command: string;
  /** Detectors that must fire on this capture ([] for benign traffic). */
  expect: IdsDetectorId[];
  /** Detectors that may fire too; any detector in neither list is a false positive. */
  allow: IdsDetectorId[];
  description: string;
  /** The target port of single-port scenarios ({ target: 2222 }); {} for scans. */
  ports: { target?: number };
  /** What tcpdump said it captured and the kernel dropped (0 in every good recording). */
  packets: number;
  dropped: number;
  /** How long the tool ran. */
  seconds: number;
}

export interface IdsCaptureManifest {
  version: 1;
  created: string;
  interface: 'lo';
  /** Both ends of every packet. */
  address: '127.0.0.1';
  /** The whole recording's duration. */
  seconds: number;
  tools: Record<string, string>;
  detectors: IdsDetectorId[];
  note: string;
  captures: IdsCapture[];
}

export type RecordedIdsCaptures = { dir: string; manifest: IdsCaptureManifest } | { skip: string };

const TOOLS = ['tcpdump', 'nmap', 'hping3', 'sshd', 'ssh', 'ssh-keygen', 'python3', 'timeout', 'flock'];
const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
/** The script takes about 45 s; this bounds a stuck one. */
const RECORD_TIMEOUT_MS = 240_000;

/** Why captures cannot be recorded here, or null. */
export function idsCapturesSkipReason(): string | null {
  if (process.platform !== 'linux') return 'IDS captures are recorded on Linux (lo, tcpdump, raw sockets)';
  if (process.getuid?.() !== 0) return 'recording IDS captures needs root (raw-socket scans, capture on lo, sshd)';
  const missing = TOOLS.filter((t) => spawnSync('/bin/sh', ['-c', `command -v ${t}`], { env: { ...process.env, PATH } }).status !== 0);
  if (missing.length > 0) return `recording IDS captures needs ${missing.join(', ')} (scripts/install-test-deps.sh installs them)`;
  return null;
}

/** The path of one capture of a recording. */
export function idsCapturePath(rec: { dir: string }, file: string): string {
  return join(rec.dir, file);
}

let pending: Promise<RecordedIdsCaptures> | undefined;

/** Records the captures once per process (and reuses an up-to-date recording on disk). */
export function recordedIdsCaptures(): Promise<RecordedIdsCaptures> {
  pending ??= load();
  return pending;
}

async function load(): Promise<RecordedIdsCaptures> {
  const skip = idsCapturesSkipReason();
  if (skip) return { skip };
  const force = process.env.DVFLOW_RERECORD_IDS_CAPTURES === '1';
  if (!force) {
    const ready = readFresh();
    if (ready) return { dir: IDS_CAPTURES_DIR, manifest: ready };
  }
  mkdirSync(join(repoRoot, 'test-output'), { recursive: true });
  const release = await lock();
  try {
    // Another process may have recorded while this one waited for the lock.
    if (!force) {
      const ready = readFresh();
      if (ready) return { dir: IDS_CAPTURES_DIR, manifest: ready };
    }
    const tmp = `${IDS_CAPTURES_DIR}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const r = await runScript(tmp);
    if (r.code === 2 || r.code === 3) {
      rmSync(tmp, { recursive: true, force: true });
      return { skip: lastLines(r.stderr, 1) || `record-captures.sh exited ${r.code}` };
    }
    if (r.code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`record-captures.sh failed (${r.signal ?? `exit ${r.code}`}):\n${lastLines(r.stderr, 40)}`);
    }
    const manifest = readManifest(tmp);
    if (!manifest) throw new Error(`record-captures.sh wrote no complete manifest in ${tmp}`);
    rmSync(IDS_CAPTURES_DIR, { recursive: true, force: true });
    renameSync(tmp, IDS_CAPTURES_DIR);
    return { dir: IDS_CAPTURES_DIR, manifest };
  } finally {
    release();
  }
}

/** The recording on disk when it is complete and newer than the script. */
function readFresh(): IdsCaptureManifest | null {
  const file = join(IDS_CAPTURES_DIR, 'manifest.json');
  try {
    if (statSync(file).mtimeMs <= statSync(RECORD_SCRIPT).mtimeMs) return null;
  } catch {
    return null;
  }
  return readManifest(IDS_CAPTURES_DIR);
}

function readManifest(dir: string): IdsCaptureManifest | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as IdsCaptureManifest;
    if (m.version !== 1 || !Array.isArray(m.captures) || m.captures.length === 0) return null;
    if (!m.captures.every((c) => existsSync(join(dir, c.file)))) return null;
    return m;
  } catch {
    return null;
  }
}

function runScript(outDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [RECORD_SCRIPT, outDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The script cleans up after itself on SIGTERM (its processes, sshd, tcpdump); SIGKILL only if that hangs.
    const onExit = () => child.kill('SIGTERM');
    process.once('exit', onExit);
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${RECORD_TIMEOUT_MS / 1000} s)`;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    }, RECORD_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      process.removeListener('exit', onExit);
      resolve({ code, signal, stderr });
    });
  });
}

/** A lock file holding the owner's pid; a lock whose owner is gone is taken over. */
async function lock(): Promise<() => void> {
  const deadline = Date.now() + RECORD_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(LOCK, 'utf8') === String(process.pid)) unlinkSync(LOCK);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(LOCK, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a lock being written: stale only when old.
    if (!owner && ageMs(LOCK) < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    if (!owner || !alive(owner)) {
      try {
        unlinkSync(LOCK);
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is held by process ${owner} for too long`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
