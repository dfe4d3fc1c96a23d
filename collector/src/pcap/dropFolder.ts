// The pcap drop folder (`pcap.watch`): captures copied into a directory are ingested once each, one at a time.
//
// - Finding files: fs.watch for promptness plus a rescan every few seconds, because fs.watch misses events on some
//   file systems (NFS, SMB, overlay, bind mounts) and is not recursive.
// - A file is taken once it has stopped growing: the same size and mtime seen at least `stableMs` apart, so a copy
//   in progress is never read half-way. Hidden files and names ending .part/.tmp/.crdownload/.filepart are left
//   alone (what copy tools write before renaming), as are the done/ and failed/ sub-directories.
// - Memory across restarts: <data>/pcap-done.json records every file handled (path, size, mtime, result summary);
//   a file with the same path, size and mtime is never ingested again, also after it was moved away (a sync job
//   that copies it back in does not store it twice). The newest MAX_REMEMBERED entries are kept.
// - afterIngest 'move': the file goes to <watch>/done/ (or <watch>/failed/ when it could not be read to the end,
//   its good flows still stored); 'mark': it stays and is only remembered.
// - A daemon stopped mid-file ingests that file again at the next start (at least once, never silently skipped).
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile, access, constants } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Logger } from 'pino';
import type { PcapSummary } from './pcapService.ts';

export interface DropFolderOptions {
  dir: string;
  /** The JSON file remembering handled files (<data>/pcap-done.json). */
  stateFile: string;
  afterIngest: 'move' | 'mark';
  /** Ingests one file; the signal aborts it at shutdown. */
  ingest: (path: string, signal: AbortSignal) => Promise<PcapSummary>;
  log: Logger;
  /** Rescan period. Default 5 s. */
  scanMs?: number;
  /** How long a file must keep the same size and mtime before it is taken. Default 2 s. */
  stableMs?: number;
}

/** What pcap-done.json keeps per file. */
export interface DoneEntry {
  size: number;
  mtimeMs: number;
  finishedAt: string;
  /** Where the file went ('move'), or null. */
  movedTo: string | null;
  result: {
    complete: boolean;
    packets: number;
    bytes: number;
    flows: number;
    malformed: number;
    errors: { code: string; offset: number; message: string }[];
  };
}

interface Candidate {
  size: number;
  mtimeMs: number;
  since: number;
}

const MAX_REMEMBERED = 20_000;

const PARTIAL = new Set(['.part', '.tmp', '.crdownload', '.filepart', '.partial', '.download']);

export class DropFolder {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private done = new Map<string, DoneEntry>();
  private readonly candidates = new Map<string, Candidate>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private working: Promise<void> | null = null;
  private scanning: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private closed = false;
  private readonly scanMs: number;
  private readonly stableMs: number;
  /** Files ingested since start (tests, logs). */
  ingested = 0;

  constructor(private readonly o: DropFolderOptions) {
    this.scanMs = o.scanMs ?? 5000;
    this.stableMs = o.stableMs ?? 2000;
  }

  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true });
    if (this.o.afterIngest === 'move') {
      await mkdir(join(this.o.dir, 'done'), { recursive: true });
      await mkdir(join(this.o.dir, 'failed'), { recursive: true });
    }
    await this.load();
    try {
      this.watcher = watch(this.o.dir, { persistent: false }, () => this.scanSoon(200));
      this.watcher.on('error', (e) => this.o.log.warn({ err: e.message }, 'drop folder watch failed; rescanning periodically only'));
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'cannot watch the drop folder; rescanning periodically only');
    }
    this.timer = setInterval(() => this.scanSoon(0), this.scanMs);
    this.timer.unref();
    this.o.log.info({ dir: this.o.dir, afterIngest: this.o.afterIngest, remembered: this.done.size }, 'pcap drop folder watched');
    this.scanSoon(0);
  }

  /** Stops watching, aborts the file being read (its flows so far are stored) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.abort.abort();
    await this.scanning;
    await this.working;
  }

  /** Handled files, by path. */
  remembered(): ReadonlyMap<string, DoneEntry> {
    return this.done;
  }

  /** Resolves once nothing is queued or being ingested (tests). */
  async idle(): Promise<void> {
    while (this.working || this.scanning) {
      await this.scanning;
      await this.working;
    }
  }

  private scanSoon(ms: number): void {
    if (this.closed || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      if (this.scanning) {
        // A scan is running: look again right after it.
        void this.scanning.then(() => this.scanSoon(0));
        return;
      }
      this.scanning = this.scan().catch((e) => this.o.log.error({ err: (e as Error).message }, 'drop folder scan failed'))
        .finally(() => {
          this.scanning = null;
        });
    }, ms);
    this.soon.unref();
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.o.dir);
    } catch (e) {
      this.o.log.warn({ dir: this.o.dir, err: (e as Error).message }, 'cannot read the drop folder');
      return;
    }
    const now = Date.now();
    const seen = new Set<string>();
    let recheckIn = Infinity;
    for (const name of names) {
      if (name.startsWith('.') || PARTIAL.has(extname(name).toLowerCase())) continue;
      const path = join(this.o.dir, name);
      let st;
      try {
        st = await stat(path);
      } catch {
        continue; // gone meanwhile
      }
      if (!st.isFile()) continue;
      seen.add(path);
      const d = this.done.get(path);
      // mtime to the millisecond: copy tools that keep it (cp -p, rsync -t) do not always keep nanoseconds.
      if (d && d.size === st.size && Math.abs(d.mtimeMs - st.mtimeMs) < 1) continue;
      if (this.queued.has(path)) continue;
      const c = this.candidates.get(path);
      if (!c || c.size !== st.size || c.mtimeMs !== st.mtimeMs) {
        this.candidates.set(path, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        recheckIn = Math.min(recheckIn, this.stableMs);
        continue;
      }
      const waited = now - c.since;
      if (waited < this.stableMs) {
        recheckIn = Math.min(recheckIn, this.stableMs - waited);
        continue;
      }
      this.candidates.delete(path);
      this.queued.add(path);
      this.queue.push(path);
    }
    for (const p of this.candidates.keys()) if (!seen.has(p)) this.candidates.delete(p);
    if (Number.isFinite(recheckIn)) this.scanSoon(recheckIn + 50);
    if (this.queue.length > 0 && !this.working) {
      this.working = this.work().finally(() => {
        this.working = null;
      });
    }
  }

  /** Ingests queued files one at a time. */
  private async work(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const path = this.queue.shift()!;
      try {
        await this.handle(path);
      } catch (e) {
        this.o.log.error({ file: path, err: (e as Error).message }, 'drop folder: ingest failed');
      } finally {
        this.queued.delete(path);
      }
    }
  }

  private async handle(path: string): Promise<void> {
    let st;
    try {
      st = await stat(path);
    } catch {
      return;
    }
    this.o.log.info({ file: path, bytes: st.size }, 'drop folder: ingesting');
    const s = await this.o.ingest(path, this.abort.signal);
    if (this.closed && s.errors.some((e) => e.code === 'aborted')) {
      // Shutdown in the middle: the next start reads it again.
      this.o.log.warn({ file: path }, 'drop folder: ingest interrupted by shutdown; it will be read again at the next start');
      return;
    }
    this.ingested++;
    let movedTo: string | null = null;
    if (this.o.afterIngest === 'move') {
      const target = await freeName(join(this.o.dir, s.complete ? 'done' : 'failed'), basename(path));
      try {
        await rename(path, target);
        movedTo = target;
      } catch (e) {
        this.o.log.error({ file: path, target, err: (e as Error).message }, 'drop folder: cannot move the ingested file; remembering it instead');
      }
    }
    const malformed = Object.values(s.malformed).reduce((a, b) => a + b, 0);
    this.done.delete(path); // re-inserted last: Map order is age order
    this.done.set(path, {
      size: st.size, mtimeMs: st.mtimeMs, finishedAt: new Date().toISOString(), movedTo,
      result: { complete: s.complete, packets: s.packets, bytes: s.bytes, flows: s.flows, malformed, errors: s.errors },
    });
    await this.save();
    const level = s.complete ? 'info' : 'warn';
    this.o.log[level]({ file: path, movedTo, packets: s.packets, flows: s.flows, errors: s.errors.length ? s.errors : undefined },
      s.complete ? 'drop folder: capture ingested' : 'drop folder: capture damaged; flows before the damage stored');
  }

  private async load(): Promise<void> {
    try {
      const raw = JSON.parse(await readFile(this.o.stateFile, 'utf8')) as { files?: Record<string, DoneEntry> };
      this.done = new Map(Object.entries(raw.files ?? {}));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.o.log.warn({ file: this.o.stateFile, err: (e as Error).message }, 'drop folder memory unreadable; starting empty');
      }
      this.done = new Map();
    }
  }

  private async save(): Promise<void> {
    for (const k of this.done.keys()) {
      if (this.done.size <= MAX_REMEMBERED) break;
      this.done.delete(k);
    }
    const tmp = `${this.o.stateFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ version: 1, files: Object.fromEntries(this.done) }, null, 1)}\n`);
    await rename(tmp, this.o.stateFile);
  }
}

/** `dir/name`, or `dir/stem-1.ext`, `-2` ... when taken. */
async function freeName(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 0; ; i++) {
    const p = join(dir, i === 0 ? name : `${stem}-${i}${ext}`);
    try {
      await access(p, constants.F_OK);
    } catch {
      return p;
    }
  }
}
