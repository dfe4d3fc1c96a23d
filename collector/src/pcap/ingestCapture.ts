// One capture file in, flow records out: reader → packet decoder → flow table → the caller's sink, with progress.
// A damaged capture is not a failure of the ingest: the flows from before the damage are emitted and the summary
// names the error and its offset.
import { basename } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FlowRecord } from '../flow/flowRecord.ts';
import { CaptureError, CaptureReader, type CaptureFormat, type CapturePacket, type CaptureReaderOptions } from './captureReader.ts';
import { decodePacketAt, type DecodeResult } from './packetDecoder.ts';
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
  const reader = new CaptureReader(source, opts.reader);
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
  try {
    for await (const batch of reader.batches()) {
      const onPacket = opts.onPacket;
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
      if (records.length >= batchSize) await drain(false);
      if (table.stats.packets >= nextProgress) {
        nextProgress = table.stats.packets + every;
        progress();
      }
      if (opts.signal?.aborted) {
        complete = false;
        errors.push({ code: 'aborted', offset: reader.bytesParsed, message: `ingest of ${capture} aborted` });
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    complete = false;
    errors.push({ code: err.code, offset: err.offset, message: err.message });
  }
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
