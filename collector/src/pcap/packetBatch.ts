// Captured packets packed to cross between threads: every packet's bytes in one buffer (moved, not copied, by
// postMessage) and their facts in typed arrays. The capture-reading thread (captureReadWorker.ts) sends the frames it
// does not pack as decoded packets (decodedBatch.ts) this way, and the flow table's thread decodes them. Pure functions.
import type { CapturePacket } from './captureReader.ts';

export interface PacketBatch {
  n: number;
  /** The packets' captured bytes, back to back (with whatever lay between them in the file). */
  bytes: Uint8Array;
  /** Per packet: ts (ms), tsSec, offset in the capture. */
  f64: Float64Array;
  /** Per packet: start in `bytes`, caplen, origLen, linkType, interfaceId, section, tsNsec, tsKnown (1/0). */
  i32: Int32Array;
}

export const PACKET_F64 = 3;
export const PACKET_I32 = 8;
/** Bytes between two packets (a record's or block's header) still copied to keep them in one range. */
const MAX_GAP = 64;

/**
 * Packs `packets` (valid only now: the reader recycles its buffers). Packets lying one after the other in the same
 * read buffer are copied as one range, records' headers between them included: a copy per packet would cost more
 * than the bytes it saves.
 */
export function packPackets(packets: readonly CapturePacket[]): PacketBatch {
  const n = packets.length;
  // The ranges to copy: runs of packets in one buffer, in increasing order; runOf[i] is packet i's.
  let total = 0;
  const runStart: number[] = [];
  const runEnd: number[] = [];
  const runBuf: Uint8Array[] = [];
  const runOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = packets[i];
    const end = p.start + p.caplen;
    let r = runBuf.length - 1;
    if (r >= 0 && runBuf[r] === p.buf && p.start >= runEnd[r] && p.start - runEnd[r] <= MAX_GAP) {
      total += end - runEnd[r];
      runEnd[r] = end;
    } else {
      r++;
      runBuf.push(p.buf);
      runStart.push(p.start);
      runEnd.push(end);
      total += p.caplen;
    }
    runOf[i] = r;
  }
  const bytes = new Uint8Array(total);
  // Where each run's first byte goes, minus its start in its buffer.
  const base = new Array<number>(runBuf.length);
  for (let r = 0, out = 0; r < runBuf.length; r++) {
    bytes.set(runBuf[r].subarray(runStart[r], runEnd[r]), out);
    base[r] = out - runStart[r];
    out += runEnd[r] - runStart[r];
  }
  const f64 = new Float64Array(n * PACKET_F64);
  const i32 = new Int32Array(n * PACKET_I32);
  for (let i = 0; i < n; i++) {
    const p = packets[i];
    const d = i * PACKET_F64;
    f64[d] = p.ts;
    f64[d + 1] = p.tsSec;
    f64[d + 2] = p.offset;
    const k = i * PACKET_I32;
    i32[k] = base[runOf[i]] + p.start;
    i32[k + 1] = p.caplen;
    i32[k + 2] = p.origLen;
    i32[k + 3] = p.linkType;
    i32[k + 4] = p.interfaceId;
    i32[k + 5] = p.section;
    i32[k + 6] = p.tsNsec;
    i32[k + 7] = p.tsKnown ? 1 : 0;
  }
  return { n, bytes, f64, i32 };
}

/** Checks a batch that came from another thread before anything reads it. */
export function checkPacketBatch(b: PacketBatch): void {
  const { n, bytes, f64, i32 } = b;
  if (!(Number.isInteger(n) && n >= 0 && f64.length === n * PACKET_F64 && i32.length === n * PACKET_I32)) {
    throw new RangeError(`packet batch of ${n} packets has ${f64.length} times and ${i32.length} fields`);
  }
  for (let i = 0, k = 0; i < n; i++, k += PACKET_I32) {
    if (i32[k] < 0 || i32[k + 1] < 0 || i32[k] + i32[k + 1] > bytes.length) {
      throw new RangeError(`packet ${i} of a batch lies outside its ${bytes.length} bytes`);
    }
  }
}
