// One capture file in, flow records out: reader → packet decoder → flow table → the caller's sink, with progress.
// Given a readThread (captureReadThread.ts), a file's reading and decoding run on that thread and the flow table here.
// A damaged capture is not a failure of the ingest: the flows from before the damage are emitted and the summary
// names the error and its offset.
import { basename } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FlowRecord } from '../flow/flowRecord.ts';
import { CaptureError, CaptureReader, type CaptureFormat, type CapturePacket, type CaptureReaderOptions } from './captureReader.ts';
import { decodePacketAt, type DecodeResult } from './packetDecoder.ts';
import type { CaptureReadThread, RemoteCapture } from './captureReadThread.ts';
import { PACKET_I32 } from './packetBatch.ts';
import { FlowTable, type FlowInfo, type FlowTableOptions, type FlowTableStats } from './flowTable.ts';

export interface IngestProgress {
  /** Bytes read from the file (compressed bytes for .gz) and its size. */
  bytesRead: number;
  totalBytes: number | null;
  packets: number;
  flows: number;
}

export interface IngestOptions {
  reader?: CaptureReaderOptions;
  flowTable?: Omit<FlowTableOptions, 'onFlow' | 'capture'>;
  /** Name written into records' `capture`; default the file's base name. */
  capture?: string;
  /** Exporter written into records; default ''. */
  exporter?: string;
  /** Records per onRecords call. Default 1000. */
  batchSize?: number;
  /**
   * Receives records in batches; a returned promise is awaited before reading on (back-pressure). `atEnd`: handed over
   * after the last packet, mostly the flows the capture's end closes (for a short capture, most of its flows).
   */
  onRecords: (records: FlowRecord[], infos: FlowInfo[], atEnd: boolean) => void | Promise<void>;
  onProgress?: (p: IngestProgress) => void;
  /**
   * Sees every packet with its decoding, in capture order (the packet detectors of the IDS). With
   * `reader.reuseBuffers`, `packet.buf` (and the decoding's views) are valid during the call only.
   */
  onPacket?: (packet: CapturePacket, decoded: DecodeResult) => void;
  /**
   * Read and decode a capture file on this thread (see readsOnThread for which), with its packet detectors: this thread
   * then keeps the flow table and does whatever onRecords does while the next packets are read and decoded.
   */
  readThread?: CaptureReadThread | null;
  /** Call onProgress every this many packets (and once at the end). Default 100000. */
  progressEveryPackets?: number;
  signal?: AbortSignal;
}

export interface IngestError {
  code: string;
  offset: number;
  message: string;
}

export interface IngestSummary {
  capture: string;
  format: CaptureFormat | null;
  compressed: boolean;
  /** Bytes read from the source (compressed bytes for gzip). */
  fileBytes: number;
  packets: number;
  /** IP bytes counted into flows. */
  bytes: number;
  flows: number;
  malformed: Record<string, number>;
  skipped: Record<string, number>;
  byEncap: Record<string, number>;
  fragments: FlowTableStats['fragments'];
  evicted: number;
  errors: IngestError[];
  /** False when the capture ended in damage or the ingest was aborted. */
  complete: boolean;
}

/**
 * Whether ingestCapture, given a readThread, reads this source there: a file, not one still being written (uploads), not
 * with nfpcapd's flows (their own path in the flow table), and with no packet hook of the caller's (the hook runs on
 * this thread; the thread's own packet detectors see the packets instead).
 */
export function readsOnThread(source: string | AsyncIterable<Uint8Array>, o: { follow?: unknown; nfpcapdCompat?: boolean; onPacket?: unknown }): boolean {
  return typeof source === 'string' && !o.follow && !o.nfpcapdCompat && !o.onPacket;
}

/** Longest a flow that ended waits for its batch to fill (ms of wall time). */
const DRAIN_AFTER_MS = 1000;

/** Ingests a capture file, or a stream of its bytes (then name it with `capture`). */
export async function ingestCapture(source: string | AsyncIterable<Uint8Array>, opts: IngestOptions): Promise<IngestSummary> {
  const capture = opts.capture ?? (typeof source === 'string' ? basename(source) : 'capture');
  const batchSize = opts.batchSize ?? 1000;
  const every = opts.progressEveryPackets ?? 100_000;
  let records: FlowRecord[] = [];
  let infos: FlowInfo[] = [];
  const exporter = opts.exporter ?? '';
  const table = new FlowTable({
    ...opts.flowTable,
    capture,
    onFlow: (r, info) => {
      r.exporter = exporter;
      records.push(r);
      infos.push(info);
    },
  });
  const { follow, reuseBuffers: _reuse, ...readerOptions } = opts.reader ?? {};
  const remote: RemoteCapture | null = opts.readThread && readsOnThread(source, { follow, nfpcapdCompat: opts.flowTable?.nfpcapdCompat, onPacket: opts.onPacket })
    ? opts.readThread.open(source as string, capture, readerOptions) : null;
  const reader = remote ?? new CaptureReader(source, opts.reader);
  const errors: IngestError[] = [];
  let complete = true;
  let nextProgress = every;
  const progress = () => opts.onProgress?.({
    bytesRead: reader.bytesRead, totalBytes: reader.sourceSize, packets: table.stats.packets, flows: table.stats.flowsEmitted,
  });
  let atEnd = false;
  const drain = async (force: boolean) => {
    if (records.length < batchSize && !(force && records.length > 0)) return;
    const all = records;
    const allInfos = infos;
    records = [];
    infos = [];
    let i = 0;
    for (; i + batchSize <= all.length; i += batchSize) {
      await opts.onRecords(all.slice(i, i + batchSize), allInfos.slice(i, i + batchSize), atEnd);
      // A capture's end hands over most of its flows at once (every flow still open): a turn of the event loop
      // between batches lets the daemon's other work (NetFlow sockets, HTTP, the writer starting the next insert
      // as one finishes) run instead of waiting for all of them.
      if (i + batchSize < all.length) await nextTurn();
    }
    if (i === all.length) return;
    if (force) await opts.onRecords(all.slice(i), allInfos.slice(i), atEnd);
    else {
      records = all.slice(i);
      infos = allInfos.slice(i);
    }
  };
  // One batch's decodings and packet times, for the flow table's addBatch.
  const decoded: DecodeResult[] = [];
  let times = new Float64Array(0);
  let ifaces = new Int32Array(0);
  // Drains run one after another. A batch of records goes out when full, and a timer sends what ended at least every
  // DRAIN_AFTER_MS: a live stream (tcpdump -w - | dvflow pcap -) trickles, or pauses with its reader waiting for
  // bytes, and its ended flows are to be stored as they end, not once a thousand have.
  let draining: Promise<void> = Promise.resolve();
  let lastDrain = performance.now();
  const drainInTurn = (force: boolean): Promise<void> => {
    draining = draining.then(() => drain(force)).then(() => {
      lastDrain = performance.now();
    });
    return draining;
  };
  const trickle = setInterval(() => {
    if (records.length > 0 && performance.now() - lastDrain >= DRAIN_AFTER_MS) {
      // A failure is seen by the next drain the ingest awaits.
      drainInTurn(true).catch(() => {});
    }
  }, DRAIN_AFTER_MS);
  trickle.unref();
  // After each batch: records out, progress, abort. True: stop reading.
  const afterBatch = async (): Promise<boolean> => {
    if (records.length >= batchSize) await drainInTurn(false);
    if (table.stats.packets >= nextProgress) {
      nextProgress = table.stats.packets + every;
      progress();
    }
    if (!opts.signal?.aborted) return false;
    complete = false;
    errors.push({ code: 'aborted', offset: reader.bytesParsed, message: `ingest of ${capture} aborted` });
    return true;
  };
  const onPacket = opts.onPacket;
  try {
    if (remote) {
      // Decoded on the reading thread: the flow table takes the packed packets; raw ones are decoded here.
      const rawDecoded: DecodeResult[] = [];
      for await (const b of remote.batches()) {
        const r = b.raw;
        if (r) {
          for (let j = 0, k = 0; j < r.n; j++, k += PACKET_I32) rawDecoded[j] = decodePacketAt(r.bytes, r.i32[k], r.i32[k + 1], r.i32[k + 3], r.i32[k + 2]);
          rawDecoded.length = r.n;
        }
        table.addPacked(b, rawDecoded);
        rawDecoded.length = 0;
        if (await afterBatch()) break;
      }
    } else {
      for await (const batch of (reader as CaptureReader).batches()) {
        const n = batch.length;
        if (times.length < n) {
          times = new Float64Array(n);
          ifaces = new Int32Array(n);
        }
        for (let i = 0; i < n; i++) {
          const p = batch[i];
          const d = decodePacketAt(p.buf, p.start, p.caplen, p.linkType, p.origLen);
          // (The packet detectors see every packet of the batch before the flow table does: neither reads the other.)
          if (onPacket) onPacket(p, d);
          decoded[i] = d;
          times[i] = p.ts;
          ifaces[i] = p.interfaceId;
        }
        table.addBatch(decoded, times, ifaces, n);
        decoded.length = 0;
        if (await afterBatch()) break;
      }
    }
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    complete = false;
    errors.push({ code: err.code, offset: err.offset, message: err.message });
  } finally {
    clearInterval(trickle);
  }
  await draining;
  atEnd = true;
  while (table.flushSome(batchSize)) await drain(false);
  await drain(true);
  progress();
  const st = table.stats;
  return {
    capture, format: reader.format, compressed: reader.compressed, fileBytes: reader.bytesRead, packets: st.packets, bytes: st.bytes,
    flows: st.flowsEmitted, malformed: st.malformed, skipped: st.skipped, byEncap: st.byEncap, fragments: st.fragments,
    evicted: st.evicted, errors, complete,
  };
}
