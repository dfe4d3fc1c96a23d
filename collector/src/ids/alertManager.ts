// Between the detectors and the `alerts` table: repeated detections of one thing (same detector, same subject)
// within the suppression window become one alert whose counts and occurrences grow, instead of a flood of rows.
// New alerts go to the outputs (webhook, syslog, the dashboard's event stream) at once; merged updates are
// written in the background, at most every `flushMs`, as a newer version of the same row (ReplacingMergeTree).
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { TsvBuffer } from '../storage/tsvBuffer.ts';
import { SEVERITIES, type AlertCandidate, type Severity } from './idsTypes.ts';
import type { AlertRow } from './alertShapes.ts';

/** An alert as the manager keeps it: the stored row and its version (ReplacingMergeTree keeps the highest). */
export interface StoredAlert extends AlertRow {
  version: number;
}

export const alertColumns = [
  'id', 'time', 'last', 'raised', 'updated', 'detector', 'severity', 'summary', 'subject', 'src_addr', 'dst_addr', 'dst_port',
  'proto', 'vip', 'portgroup', 'origin', 'capture', 'sid', 'classtype', 'occurrences', 'counts', 'samples', 'version',
] as const;

export interface AlertManagerOptions {
  /** Detections of one subject closer than this (event time) are merged into one alert. Default 10 min. */
  suppressionMs?: number;
  /** Alerts kept open for merging at most; the least recently updated are closed first. Default 10,000. */
  maxOpen?: number;
  /** Write new and updated alerts (as rows of `alerts`). */
  write: (rows: StoredAlert[]) => Promise<void>;
  /** A new alert (not a merge), or one whose severity rose: for the outputs. */
  onRaised?: (a: StoredAlert) => void;
  /** Called when a write fails (the rows are kept and retried with the next flush). */
  onWriteError?: (e: Error, rows: number) => void;
  /** Background writes at most this often, ms. Default 2000. 0 = only on flush(). */
  flushMs?: number;
  /** Wall clock, for tests. */
  now?: () => number;
}

export interface AlertManagerStats {
  candidates: number;
  raised: number;
  merged: number;
  written: number;
  writeErrors: number;
  byDetector: Record<string, number>;
}

const MAX_SAMPLES = 5;
/** Counts keys become Map keys in SQL text (TSV): keep them to identifier characters. */
const COUNT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export class AlertManager {
  readonly stats: AlertManagerStats = { candidates: 0, raised: 0, merged: 0, written: 0, writeErrors: 0, byDetector: {} };
  /** Open alerts by detector|subject, in least-recently-updated order (Map keeps insertion order; touched = re-inserted). */
  private readonly open = new Map<string, StoredAlert>();
  private readonly dirty = new Map<string, StoredAlert>();
  private readonly suppressionMs: number;
  private readonly maxOpen: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private versionSeq = 0;

  constructor(private readonly o: AlertManagerOptions) {
    this.suppressionMs = o.suppressionMs ?? 600_000;
    this.maxOpen = o.maxOpen ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Take one detection. `capture` names the capture file it came from, if any. */
  offer(c: AlertCandidate, capture = ''): StoredAlert {
    this.stats.candidates++;
    const subject = `${c.detector}|${c.key}`;
    const prev = this.open.get(subject);
    const wall = this.now();
    if (prev && c.time <= prev.last + this.suppressionMs && c.time >= prev.time - this.suppressionMs) {
      this.merge(prev, c, wall);
      this.open.delete(subject);
      this.open.set(subject, prev);
      this.markDirty(prev);
      return prev;
    }
    const a = this.create(c, capture, wall);
    if (prev) this.open.delete(subject);
    this.open.set(subject, a);
    while (this.open.size > this.maxOpen) {
      const oldest = this.open.keys().next().value as string;
      this.open.delete(oldest);
    }
    this.stats.raised++;
    this.stats.byDetector[a.detector] = (this.stats.byDetector[a.detector] ?? 0) + 1;
    this.markDirty(a);
    this.o.onRaised?.(a);
    return a;
  }

  /** Alerts raised or updated and not yet written. */
  get pending(): number {
    return this.dirty.size;
  }

  /** Write what changed; resolves when it is stored (failures are reported and retried on the next flush). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeDirty());
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  private create(c: AlertCandidate, capture: string, wall: number): StoredAlert {
    return {
      id: randomUUID(), time: c.time, last: c.time, raised: wall, updated: wall, detector: c.detector, severity: c.severity,
      summary: c.summary, subject: c.key, src: c.src, dst: c.dst, dstPort: c.dstPort, proto: c.proto, vip: c.vip,
      portgroup: c.portgroup, origin: c.origin, capture, sid: c.sid ?? 0, classtype: c.classtype ?? '', occurrences: 1,
      counts: cleanCounts(c.counts), samples: c.samples.slice(0, MAX_SAMPLES), version: this.nextVersion(wall),
    };
  }

  private merge(a: StoredAlert, c: AlertCandidate, wall: number): void {
    this.stats.merged++;
    a.occurrences++;
    a.last = Math.max(a.last, c.time);
    a.updated = wall;
    a.summary = c.summary;
    // Counts are evidence sizes (distinct ports, packets/s ...): the largest seen is what proves the alert.
    for (const [k, v] of Object.entries(cleanCounts(c.counts))) a.counts[k] = Math.max(a.counts[k] ?? v, v);
    for (const s of c.samples) {
      if (a.samples.length >= MAX_SAMPLES) break;
      a.samples.push(s);
    }
    a.version = this.nextVersion(wall);
    if (severityRank(c.severity) > severityRank(a.severity)) {
      a.severity = c.severity;
      this.o.onRaised?.(a);
    }
  }

  /** Versions grow with the wall clock and never repeat within a process (two updates in one ms). */
  private nextVersion(wall: number): number {
    this.versionSeq = Math.max(this.versionSeq + 1, wall * 1000);
    return this.versionSeq;
  }

  private markDirty(a: StoredAlert): void {
    this.dirty.set(a.id, a);
    const every = this.o.flushMs ?? 2000;
    if (every > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, every);
      this.timer.unref();
    }
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const rows = [...this.dirty.values()].map((a) => ({ ...a, counts: { ...a.counts }, samples: [...a.samples] }));
    this.dirty.clear();
    try {
      await this.o.write(rows);
      this.stats.written += rows.length;
    } catch (e) {
      this.stats.writeErrors++;
      // Keep them for the next flush unless a newer version is waiting already.
      for (const r of rows) if (!this.dirty.has(r.id)) this.dirty.set(r.id, r);
      this.o.onWriteError?.(e as Error, rows.length);
    }
  }
}

function cleanCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) {
    if (COUNT_KEY.test(k) && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** TabSeparated rows of `alerts`, columns in `alertColumns` order. */
export function alertsToTsv(rows: readonly StoredAlert[]): Buffer {
  const t = new TsvBuffer(4096);
  for (const a of rows) {
    t.ascii(a.id); t.tab(); t.ms(a.time); t.tab(); t.ms(a.last); t.tab(); t.ms(a.raised); t.tab(); t.ms(a.updated); t.tab();
    t.str(a.detector); t.tab(); t.ascii(a.severity); t.tab(); t.str(a.summary); t.tab(); t.str(a.subject); t.tab();
    t.ascii(isIP(a.src) ? a.src : '::'); t.tab(); t.ascii(isIP(a.dst) ? a.dst : '::'); t.tab(); t.u(a.dstPort); t.tab(); t.u(a.proto); t.tab();
    t.str(a.vip); t.tab(); t.str(a.portgroup); t.tab(); t.str(a.origin); t.tab(); t.str(a.capture); t.tab();
    t.u(a.sid); t.tab(); t.str(a.classtype); t.tab(); t.u(a.occurrences); t.tab();
    // Map in text form: {'key':value,...}; keys are identifier-safe (cleanCounts).
    t.ascii(`{${Object.entries(a.counts).map(([k, v]) => `'${k}':${v}`).join(',')}}`); t.tab();
    t.str(JSON.stringify(a.samples)); t.tab(); t.u(a.version); t.nl();
  }
  return Buffer.from(t.bytes());
}
