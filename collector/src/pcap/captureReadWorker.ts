// The capture-reading thread: reads capture files (file I/O, gzip, the pcap and pcapng parsers), decodes their
// packets, runs the IDS's packet detectors on them and posts them, packed (decodedBatch.ts), to the thread that keeps
// the flow table (captureReadThread.ts declares the messages). The packet detectors live here, one set for every
// capture this thread reads, as they did on the main thread; their alerts go to the main thread's alert manager.
import { parentPort, workerData } from 'node:worker_threads';
import { createPacketDetectorsFromConfig } from '../ids/createIds.ts';
import { IdsEngine } from '../ids/idsEngine.ts';
import { CaptureError, CaptureReader } from './captureReader.ts';
import { MAX_IN_FLIGHT, type CaptureReadWorkerData, type FromReadWorker, type ToReadWorker } from './captureReadThread.ts';
import { BatchRing, packDecoded, SLOT_PACKETS } from './decodedBatch.ts';
import { decodePacketAt, type DecodeResult } from './packetDecoder.ts';

/** Atomics.waitAsync (ES2024; in Node since 16), which this project's TypeScript library does not declare yet. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

const port = parentPort;
if (!port) throw new Error('captureReadWorker.ts runs as a worker thread (see captureReadThread.ts)');
const post = (m: FromReadWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const log = {
  error: (obj: object, msg: string) => post({ t: 'log', id: 0, level: 'error', obj, msg }),
};
const { ids } = workerData as CaptureReadWorkerData;
// The main thread built the same detectors first and logged what the rule files held: not again here.
const engine: Promise<IdsEngine | null> = ids
  ? createPacketDetectorsFromConfig(ids).then(({ packetDetectors }) => packetDetectors.length > 0
    ? new IdsEngine([], packetDetectors, { offer: (c, capture = '') => post({ t: 'alert', id: 0, capture, c }) }, log)
    : null)
  : Promise.resolve(null);
// (A rule file that fails to load here fails each capture with its message: the main thread loaded it first, so the
// file changed since.)
engine.then(() => post({ t: 'ready', id: 0 }), () => post({ t: 'ready', id: 0 }));
let packetsReported = 0;

/** Captures being read, and those of them the flow table's thread stopped taking. */
const active = new Set<number>();
const stopped = new Set<number>();

async function read(m: Extract<ToReadWorker, { t: 'read' }>): Promise<void> {
  const { id, taken } = m;
  let sent = 0;
  let error: { code: string; offset: number; message: string } | null = null;
  let ids: IdsEngine | null = null;
  // Recycled read buffers (every batch is decoded and packed before the next is read), read when needed: this thread
  // has nothing else to do while a read blocks.
  const reader = new CaptureReader(m.path, { ...m.reader, reuseBuffers: true, blockingReads: true });
  const counters = () => ({
    bytesRead: reader.bytesRead, sourceSize: reader.sourceSize, bytesParsed: reader.bytesParsed, format: reader.format, compressed: reader.compressed,
  });
  const decoded: DecodeResult[] = [];
  // Batch k goes to slot k % MAX_IN_FLIGHT, free again once batch k - MAX_IN_FLIGHT was taken (the wait below).
  const ring = new BatchRing(MAX_IN_FLIGHT, m.ring);
  active.add(id);
  try {
    ids = await engine;
    const hook = ids?.packetHook(m.capture) ?? null;
    read: for await (const packets of reader.batches()) {
      const n = packets.length;
      for (let i = 0; i < n; i++) {
        const p = packets[i];
        const d = decodePacketAt(p.buf, p.start, p.caplen, p.linkType, p.origLen);
        if (hook) hook(p, d);
        decoded[i] = d;
      }
      decoded.length = n;
      for (let from = 0; from < n; from += SLOT_PACKETS) {
        if (stopped.has(id)) break read;
        const slot = sent % MAX_IN_FLIGHT;
        const to = Math.min(n, from + SLOT_PACKETS);
        const b = packDecoded(packets, decoded, ring.arrays(slot, to - from), from, to);
        ring.publish(slot, b.n);
        post({ t: 'batch', id, slot, n: b.n, raw: b.raw, ...counters() },
          b.raw ? [b.raw.bytes.buffer as ArrayBuffer, b.raw.i32.buffer as ArrayBuffer] : undefined);
        sent++;
        for (let t = Atomics.load(taken, 0); sent - t >= MAX_IN_FLIGHT && !stopped.has(id); t = Atomics.load(taken, 0)) {
          const w = waitAsync(taken, 0, t);
          if (w.async) await w.value;
        }
      }
      decoded.length = 0;
    }
  } catch (e) {
    if (e instanceof CaptureError) error = { code: e.code, offset: e.offset, message: e.message };
    else {
      active.delete(id);
      stopped.delete(id);
      post({ t: 'failed', id, message: (e as Error).message, code: (e as NodeJS.ErrnoException).code, stack: (e as Error).stack });
      return;
    }
  }
  active.delete(id);
  stopped.delete(id);
  ids?.finishCapture(m.capture);
  const packets = ids ? ids.stats.packets - packetsReported : 0;
  packetsReported += packets;
  post({ t: 'end', id, error, idsPackets: packets, detectorErrors: ids ? { ...ids.stats.detectorErrors } : {}, ...counters() });
}

port.on('message', (m: ToReadWorker) => {
  if (m.t === 'read') void read(m);
  else if (active.has(m.id)) stopped.add(m.id);
});
