// Captures into storage: one capture (a file or a stream of its bytes) through the reader, decoder and flow table,
// then the same enrichment + writer path NetFlow takes (`sink.ingestPaced`: a file waits for room in the write
// queue instead of losing records). Records carry source = 'pcap', the capture's name and the capture facts of
// schema/005 (encapsulation, outer tunnel endpoints, VLANs, ERSPAN session and index, GRE key, fragments).
// Used by `dvflow pcap` (directly, with --clickhouse-url), POST /api/v1/pcap and the drop folder.
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { DeferredFlows, type FlowSink } from '../ingest/flowSink.ts';
import type { CaptureFacts, EnrichedFlow } from '../storage/flowRows.ts';
import type { CapturePacket, GrowingFile } from './captureReader.ts';
import type { CaptureReadThread } from './captureReadThread.ts';
import { ingestCapture, readsOnThread, type IngestSummary } from './ingestCapture.ts';
import type { FlowInfo } from './flowTable.ts';
import type { IdsEngine } from '../ids/idsEngine.ts';
import type { DecodeResult } from './packetDecoder.ts';

/** nfpcapd's `-e active,inactive` defaults, seconds. */
export const DEFAULT_ACTIVE_TIMEOUT = 300;
export const DEFAULT_IDLE_TIMEOUT = 60;

export interface PcapProgress {
  /** Bytes read from the source (compressed bytes for .gz) and its size when known. */
  bytesRead: number;
  totalBytes: number | null;
  packets: number;
  flows: number;
  elapsedMs: number;
}

export interface PcapIngestOptions {
  sink: Pick<FlowSink, 'ingestPaced' | 'observeDeferred' | 'writer'>;
  /** Mirror session name: written into every record's `capture` instead of the file name. */
  session?: string;
  /** The capture's name (default: the file's base name; required for streams, else 'capture'). */
  name?: string;
  /** Flow timeouts, seconds (default nfpcapd's 300 and 60). */
  active?: number;
  idle?: number;
  /** Make flows exactly as nfpcapd 1.7.1 does (see flowTable.ts), for comparisons. */
  nfpcapdCompat?: boolean;
  /** The file is still being written (an upload being spooled): read it as it grows. */
  follow?: GrowingFile;
  signal?: AbortSignal;
  onProgress?: (p: PcapProgress) => void;
  /** Least time between two onProgress calls (one more comes at the end). Default 250 ms. */
  progressIntervalMs?: number;
  /**
   * Sees every packet with its decoding, in capture order, on the thread that reads the capture (this one): the
   * packet-level detectors of the IDS. Synchronous; `packet.buf` is valid during the call only (read buffers are
   * recycled): copy what must be kept.
   */
  onPacket?: (packet: CapturePacket, decoded: DecodeResult) => void;
  /** Read capture files (not streams or files still being written) on this thread: see ingestCapture. */
  readThread?: CaptureReadThread | null;
}

export interface PcapSummary extends IngestSummary {
  /** The file's name (what `capture` is when no session was given). */
  name: string;
  session: string | null;
  activeTimeout: number;
  idleTimeout: number;
  elapsedMs: number;
}

/** Schema/005 columns of one flow, from what the flow table knows about its first packet. */
export function captureFacts(info: FlowInfo): CaptureFacts {
  const e = info.encap;
  if (!e) {
    return { encap: '', outerSrc: '', outerDst: '', outerVlan: 0, innerVlan: 0, mirrorSession: 0, mirrorIndex: 0, greKey: 0,
      fragments: info.fragments };
  }
  let outerSrc = '';
  let outerDst = '';
  if (e.tunnels.length > 0) {
    const t = e.tunnels[0];
    const gt = t.indexOf('>');
    outerSrc = t.slice(0, gt);
    outerDst = t.slice(gt + 1);
  }
  const v = e.vlans;
  return {
    encap: e.kinds.join(','), outerSrc, outerDst, outerVlan: v.length > 0 ? v[0] : 0, innerVlan: v.length > 1 ? v[v.length - 1] : 0,
    mirrorSession: e.erspan?.session ?? 0, mirrorIndex: e.erspan?.index ?? 0, greKey: e.greKey ?? 0, fragments: info.fragments,
  };
}

/**
 * captureFacts written straight into the record, always in the same order (one hidden class for every record): no
 * object per flow to build and copy, on the path every flow takes.
 */
function applyCaptureFacts(r: EnrichedFlow, info: FlowInfo): void {
  const e = info.encap;
  let outerSrc = '';
  let outerDst = '';
  if (e && e.tunnels.length > 0) {
    const t = e.tunnels[0];
    const gt = t.indexOf('>');
    outerSrc = t.slice(0, gt);
    outerDst = t.slice(gt + 1);
  }
  const v = e ? e.vlans : null;
  r.encap = e ? e.kinds.join(',') : '';
  r.outerSrc = outerSrc;
  r.outerDst = outerDst;
  r.outerVlan = v && v.length > 0 ? v[0] : 0;
  r.innerVlan = v && v.length > 1 ? v[v.length - 1] : 0;
  r.mirrorSession = e?.erspan?.session ?? 0;
  r.mirrorIndex = e?.erspan?.index ?? 0;
  r.greKey = e?.greKey ?? 0;
  r.fragments = info.fragments;
}

function timeout(v: number | undefined, def: number, what: string): number {
  if (v === undefined) return def;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${what} timeout must be a positive number of seconds, got ${v}`);
  return v;
}

/**
 * Reads one capture into the sink. A damaged capture is not an exception: the flows before the damage are stored
 * and `errors` names the damage and its byte offset (`complete` false). Throws only for bad options or when the
 * sink fails.
 */
export async function ingestCaptureInto(source: string | AsyncIterable<Uint8Array>, o: PcapIngestOptions): Promise<PcapSummary> {
  const active = timeout(o.active, DEFAULT_ACTIVE_TIMEOUT, 'active');
  const idle = timeout(o.idle, DEFAULT_IDLE_TIMEOUT, 'idle');
  const name = o.name || (typeof source === 'string' ? basename(source) : 'capture');
  const session = o.session || null;
  const t0 = performance.now();
  const every = o.progressIntervalMs ?? 250;
  let lastProgress = -Infinity;
  // The flows the capture's end hands over are queued for writing before the detectors see them (below).
  const deferred = new DeferredFlows();
  const summary = await ingestCapture(source, {
    capture: session ?? name,
    flowTable: { activeTimeoutMs: active * 1000, idleTimeoutMs: idle * 1000, nfpcapdCompat: o.nfpcapdCompat ?? false },
    // Recycled read buffers: the ingest is done with a batch before it reads the next, and the packet hook (the IDS)
    // keeps no view of a packet past its call.
    reader: { follow: o.follow, reuseBuffers: true },
    batchSize: 2000,
    progressEveryPackets: 20_000,
    signal: o.signal,
    onPacket: o.onPacket,
    readThread: o.readThread,
    onRecords: (records, infos, atEnd) => {
      // Received = stored now: retention (the TTL on time_received) counts from the ingest, so an old capture is
      // kept like fresh NetFlow instead of expiring on insert. first/last keep the packet times.
      const now = Date.now();
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as EnrichedFlow;
        r.timeReceived = now;
        applyCaptureFacts(r, infos[i]);
      }
      return o.sink.ingestPaced(records, atEnd ? deferred : undefined);
    },
    onProgress: o.onProgress && ((p) => {
      const now = performance.now();
      const last = p.bytesRead === p.totalBytes;
      if (!last && now - lastProgress < every) return;
      lastProgress = now;
      o.onProgress!({ ...p, elapsedMs: Math.round(now - t0) });
    }),
  });
  if (deferred.rows > 0) {
    // The last inserts start now: ClickHouse's threads write the capture's last flows while this one runs the
    // detectors over them, instead of one after the other.
    const written = o.sink.writer.flush();
    await o.sink.observeDeferred(deferred);
    await written;
  }
  return { ...summary, name, session, activeTimeout: active, idleTimeout: idle, elapsedMs: Math.round(performance.now() - t0) };
}

export interface PcapServiceOptions {
  sink: FlowSink;
  /** The `pcap` config section: timeouts and the upload limit. */
  config: { activeTimeout: number; idleTimeout: number; maxUploadBytes: number };
  /** Where uploads are spooled (on the data disk: captures can be large). */
  uploadDir: string;
  log: Logger;
  /** Captures ingested at once; more wait their turn. Default 2. */
  concurrency?: number;
  /** Packet-level detections (the IDS): a per-capture packet hook, and the capture's end. */
  packets?: PacketDetection | null;
  /**
   * Read capture files on this thread (see ingestCapture); its packet detectors must be the IDS's (the thread is then
   * used only when it runs them, or when there is no IDS).
   */
  readThread?: CaptureReadThread | null;
}

/** The IDS's packet side as a capture ingest uses it (the IdsEngine). */
export type PacketDetection = Pick<IdsEngine, 'packetHook' | 'finishCapture' | 'captureEnded'>;

/**
 * One capture into the sink with the IDS's packet detectors, its flows written when it returns: read on the
 * capture-reading thread when that can read the source (its own packet detectors see the packets there), else here
 * through `packets`' hook. PcapService's ingest and `dvflow pcap --clickhouse-url` both take this path.
 */
export async function ingestDetected(source: string | AsyncIterable<Uint8Array>, o: PcapIngestOptions, packets: PacketDetection | null,
  readThread: CaptureReadThread | null): Promise<PcapSummary> {
  const capture = o.session || o.name || (typeof source === 'string' ? basename(source) : 'capture');
  const thread = readThread && (readThread.detects || !packets) && readsOnThread(source, o) ? readThread : null;
  const ids = thread ? null : (packets?.packetHook(capture) ?? null);
  const own = o.onPacket;
  const onPacket = ids && own ? (p: CapturePacket, d: DecodeResult) => { own(p, d); ids(p, d); } : (ids ?? own);
  const summary = await ingestCaptureInto(source, { ...o, onPacket, readThread: thread });
  if (thread) packets?.captureEnded(capture);
  else packets?.finishCapture(capture);
  // Queued rows are written before the caller hears "done": a query right after sees every flow.
  const t0 = performance.now();
  await o.sink.writer.flush();
  summary.elapsedMs += Math.round(performance.now() - t0);
  return summary;
}

/**
 * The daemon's capture ingest, shared by the upload route and the drop folder: configured timeouts by default,
 * a bound on concurrent ingests, and every flow of a capture in ClickHouse when its summary is returned.
 */
export class PcapService {
  readonly uploadDir: string;
  readonly maxUploadBytes: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly concurrency: number;

  constructor(private readonly o: PcapServiceOptions) {
    this.uploadDir = o.uploadDir;
    this.maxUploadBytes = o.config.maxUploadBytes;
    this.concurrency = Math.max(1, o.concurrency ?? 2);
  }

  /** Ingests one capture; resolves once its flows are written. */
  async ingest(source: string | AsyncIterable<Uint8Array>, opts: Omit<PcapIngestOptions, 'sink'> = {}): Promise<PcapSummary> {
    if (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      const summary = await ingestDetected(source, {
        ...opts, sink: this.o.sink, active: opts.active ?? this.o.config.activeTimeout, idle: opts.idle ?? this.o.config.idleTimeout,
      }, this.o.packets ?? null, this.o.readThread ?? null);
      const damaged = summary.errors.length > 0;
      this.o.log[damaged ? 'warn' : 'info']({ capture: summary.capture, packets: summary.packets, flows: summary.flows, bytes: summary.bytes,
        errors: damaged ? summary.errors : undefined, ms: summary.elapsedMs },
      damaged ? 'capture ingested up to an error; the flows before it are stored' : 'capture ingested');
      return summary;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
