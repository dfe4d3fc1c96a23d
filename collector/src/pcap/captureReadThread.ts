// Capture files read on a thread of their own (captureReadWorker.ts): the file reads, gzip, the pcap/pcapng parsers,
// the packet decoder and the IDS's packet detectors run there, and this thread takes the decoded packets in packed
// batches (decodedBatch.ts) into the flow table, then enriches, detects and stores the flows. On bench/pcap's capture
// the read and the flow table then overlap (see the README's bench/pcap figures). One worker serves every capture of
// the process; it starts with the daemon and is restarted after a crash, which fails the captures it was reading.
// Streams, files still being written (uploads) and nfpcapd-mode flows are read on the calling thread: see ingestCapture.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DvflowConfig } from '../config/config.ts';
import type { AlertCandidate } from '../ids/idsTypes.ts';
import type { IdsEngine } from '../ids/idsEngine.ts';
import { CaptureError, type CaptureErrorCode, type CaptureFormat, type CaptureReaderOptions } from './captureReader.ts';
import { BatchRing, checkDecodedBatch, type DecodedBatch } from './decodedBatch.ts';
import type { PacketBatch } from './packetBatch.ts';

/** What the worker is started with. */
export interface CaptureReadWorkerData {
  /** The IDS section when its packet detectors run on captures; null: none run. */
  ids: DvflowConfig['ids'] | null;
}

export interface CaptureReadThreadOptions {
  /** The IDS section: its packet detectors run in the thread. Null (default): no packet detection. */
  ids?: DvflowConfig['ids'] | null;
  /** The packet detectors' alerts, with the capture's name. */
  onAlert?: (c: AlertCandidate, capture: string) => void;
  /** At each capture's end: packets the detectors saw since the last report, and their errors per detector so far. */
  onIdsStats?: (packets: number, detectorErrors: Record<string, number>) => void;
  log?: Pick<Logger, 'error' | 'warn' | 'info'>;
}

interface Counters {
  bytesRead: number;
  sourceSize: number | null;
  bytesParsed: number;
  format: CaptureFormat | null;
  compressed: boolean;
}

export type ToReadWorker =
  /**
   * `taken[0]`: batches the reading side has taken so far (it adds and notifies; the worker waits on it). A counter in
   * shared memory rather than a message per batch: posting to the worker cost the reading thread ~0.15 ms a message.
   */
  | {
    t: 'read'; id: number; path: string; reader: Omit<CaptureReaderOptions, 'follow' | 'reuseBuffers'>; taken: Int32Array;
    /** The BatchRing's memory (MAX_IN_FLIGHT slots) the worker packs the capture's batches into. */
    ring: SharedArrayBuffer;
    /** The capture's name (the packet detectors' alerts carry it). */
    capture: string;
  }
  | { t: 'stop'; id: number };

export type FromReadWorker =
  /** Batch packed into slot `slot` of the capture's ring, with the frames of its raw packets. */
  | ({ t: 'batch'; id: number; slot: number; n: number; raw: PacketBatch | null } & Counters)
  /** The capture ended: at its end (error null) or at damage the reader reports (a CaptureError's fields). */
  | ({
    t: 'end'; id: number; error: { code: string; offset: number; message: string } | null;
    /** The packet detectors' packets since the last report and errors per detector so far. */
    idsPackets: number; detectorErrors: Record<string, number>;
  } & Counters)
  | { t: 'failed'; id: number; message: string; code?: string; stack?: string }
  /** The worker loaded its modules and packet detectors. */
  | { t: 'ready'; id: 0 }
  | { t: 'alert'; id: 0; capture: string; c: AlertCandidate }
  | { t: 'log'; id: 0; level: 'error' | 'warn' | 'info'; obj: object; msg: string };

/** The reading side wakes a worker waiting for room after this many batches (see MAX_IN_FLIGHT). */
export const WAKE_EVERY = 4;

/**
 * Batches posted and not yet taken by the flow table's thread, per capture (the slots of its BatchRing): back-pressure
 * reaches the file reads. Once full, the worker waits until WAKE_EVERY of them were taken (this side wakes it then,
 * not at every batch).
 */
export const MAX_IN_FLIGHT = 2 * WAKE_EVERY;

type Received = Extract<FromReadWorker, { t: 'batch' | 'end' | 'failed' }>;

/** One capture being read by the thread: its packets in batches, and the reader's counters as of the last batch. */
export class RemoteCapture implements Counters {
  bytesRead = 0;
  sourceSize: number | null = null;
  bytesParsed = 0;
  format: CaptureFormat | null = null;
  compressed = false;
  private readonly queue: Received[] = [];
  private wake: (() => void) | null = null;
  private done = false;
  /** Shared with the worker: batches taken (see ToReadWorker). */
  readonly taken = new Int32Array(new SharedArrayBuffer(4));
  /** Shared with the worker: where it packs the batches. */
  readonly ring = new BatchRing(MAX_IN_FLIGHT);

  constructor(
    private readonly id: number,
    private readonly send: (m: ToReadWorker) => void,
    private readonly finished: (id: number) => void,
  ) {}

  private take(): void {
    // Every few batches only: waking the worker hands it a core the reading thread was using (the wake-up cost this
    // thread ~0.13 ms each time); the worker waits for that much room anyway (captureReadWorker.ts).
    if (Atomics.add(this.taken, 0, 1) % WAKE_EVERY === WAKE_EVERY - 1) Atomics.notify(this.taken, 0);
  }

  private wakeNow(): void {
    Atomics.add(this.taken, 0, 1);
    Atomics.notify(this.taken, 0);
  }

  /** @internal A message from the worker (or a failure of the worker). */
  receive(m: Received): void {
    this.queue.push(m);
    this.wake?.();
    this.wake = null;
  }

  /**
   * Packed batches in file order; throws CaptureError after the last good packet, as CaptureReader.batches does. A
   * batch lies in shared memory the worker packs a later batch into once this one is taken: use it before asking for
   * the next.
   */
  async *batches(): AsyncGenerator<DecodedBatch> {
    try {
      for (;;) {
        while (this.queue.length === 0) await new Promise<void>((resolve) => { this.wake = resolve; });
        const m = this.queue.shift()!;
        if (m.t === 'failed') throw Object.assign(new Error(m.message), { code: m.code, stack: m.stack ?? m.message });
        this.bytesRead = m.bytesRead;
        this.sourceSize = m.sourceSize;
        this.bytesParsed = m.bytesParsed;
        this.format = m.format;
        this.compressed = m.compressed;
        if (m.t === 'end') {
          this.done = true;
          if (m.error) throw new CaptureError(m.error.code as CaptureErrorCode, m.error.offset, m.error.message);
          return;
        }
        const b = this.ring.batch(m.slot, m.n, m.raw);
        checkDecodedBatch(b);
        yield b;
        this.take();
      }
    } finally {
      // Left early (an abort, a failing consumer): the worker stops reading this capture.
      if (!this.done) {
        this.send({ t: 'stop', id: this.id });
        this.wakeNow(); // a worker waiting for room then sees the stop
      }
      this.finished(this.id);
    }
  }
}

/**
 * The capture-reading thread of a process with this config (null with pcap.readThread false), started now: its packet
 * detectors are the IDS's when `engine` runs (their alerts and counts go to it).
 */
export function startReadThread(config: Pick<DvflowConfig, 'pcap' | 'ids'>, engine: Pick<IdsEngine, 'alerts' | 'addPacketStats'> | null,
  log?: CaptureReadThreadOptions['log']): CaptureReadThread | null {
  if (!config.pcap.readThread) return null;
  const thread = new CaptureReadThread({
    ids: engine ? config.ids : null, log,
    onAlert: (c, capture) => engine?.alerts.offer(c, capture),
    onIdsStats: (packets, errors) => engine?.addPacketStats(packets, errors),
  });
  void thread.warm();
  return thread;
}

function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './captureReadWorker.ts' : './captureReadWorker.js', import.meta.url);
}

export class CaptureReadThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly captures = new Map<number, RemoteCapture>();

  constructor(private readonly o: CaptureReadThreadOptions = {}) {}

  /** Whether the thread's packet detectors see the packets of what it reads. */
  get detects(): boolean {
    return !!this.o.ids;
  }

  private ready: Promise<void> | null = null;
  private readyNow: (() => void) | null = null;

  /** Starts the worker now, so the first capture does not wait for it to load; resolves once it has. */
  warm(): Promise<void> {
    this.start();
    return this.ready!;
  }

  /** Starts reading the capture file at `path`; take its packets with batches(). */
  open(path: string, capture: string, reader: Omit<CaptureReaderOptions, 'follow' | 'reuseBuffers'> = {}): RemoteCapture {
    const w = this.start();
    const id = this.nextId++;
    const c = new RemoteCapture(id, (m) => this.worker?.postMessage(m), (i) => this.forget(i));
    this.captures.set(id, c);
    if (this.captures.size === 1) w.ref();
    w.postMessage({ t: 'read', id, path, reader, taken: c.taken, ring: c.ring.buffer, capture } satisfies ToReadWorker);
    return c;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failAll('the capture-reading thread was stopped');
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // From the TypeScript sources (tests, `DVFLOW_FROM_SOURCE=1`) the worker needs tsx's loader, which a worker does
    // not inherit in Node 20; the bundle (scripts/build-cli.mjs) has captureReadWorker.js beside its chunks.
    const url = workerUrl();
    const workerData: CaptureReadWorkerData = { ids: this.o.ids ?? null };
    const w = url.pathname.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true, name: 'dvflow-capture-read', workerData })
      : new Worker(url, { name: 'dvflow-capture-read', workerData });
    w.unref();
    this.ready = new Promise((resolve) => { this.readyNow = resolve; });
    w.on('message', (m: FromReadWorker) => {
      if (m.t === 'ready') this.readyNow?.();
      else if (m.t === 'alert') this.o.onAlert?.(m.c, m.capture);
      else if (m.t === 'log') this.o.log?.[m.level](m.obj, m.msg);
      else {
        if (m.t === 'end') this.o.onIdsStats?.(m.idsPackets, m.detectorErrors);
        this.captures.get(m.id)?.receive(m);
      }
    });
    w.on('error', (e) => {
      this.o.log?.error({ err: e.message }, 'the capture-reading thread failed; the captures it was reading are stopped');
      this.failAll(`the capture-reading thread failed: ${e.message}`);
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      this.failAll(`the capture-reading thread exited (code ${code})`);
    });
    this.worker = w;
    return w;
  }

  private forget(id: number): void {
    this.captures.delete(id);
    if (this.captures.size === 0) this.worker?.unref();
  }

  private failAll(message: string): void {
    this.readyNow?.(); // (whoever waits for a worker that is gone: it will not get ready)
    for (const [id, c] of [...this.captures]) {
      this.captures.delete(id);
      c.receive({ t: 'failed', id, message });
    }
    this.worker?.unref();
  }
}
