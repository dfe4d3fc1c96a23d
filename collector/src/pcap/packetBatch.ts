// Captured frames packed to cross between threads: their bytes in one buffer (moved, not copied, by postMessage)
// and what decoding them takes in a typed array. The capture-reading thread (captureReadWorker.ts) sends the frames it
// does not pack as decoded packets (decodedBatch.ts) this way, and the flow table's thread decodes them. Pure functions.
import type { CapturePacket } from './captureReader.ts';

export interface PacketBatch {
  n: number;
  /** The packets' captured bytes, back to back (with whatever lay between them in the file). */
  bytes: Uint8Array;
  /** Per packet: start in `bytes`, caplen, origLen, linkType (decodePacketAt's arguments). */
  i32: Int32Array;
}

export const PACKET_I32 = 4;
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
  const i32 = new Int32Array(n * PACKET_I32);
  for (let i = 0; i < n; i++) {
    const p = packets[i];
    const k = i * PACKET_I32;
    i32[k] = base[runOf[i]] + p.start;
    i32[k + 1] = p.caplen;
    i32[k + 2] = p.origLen;
    i32[k + 3] = p.linkType;
  }
  return { n, bytes, i32 };
}

/** Checks a batch that came from another thread before anything reads it. */
export function checkPacketBatch(b: PacketBatch): void {
  const { n, bytes, i32 } = b;
  if (!(Number.isInteger(n) && n >= 0 && i32.length === n * PACKET_I32)) {
    throw new RangeError(`packet batch of ${n} packets has ${i32.length} fields`);
  }
  for (let i = 0, k = 0; i < n; i++, k += PACKET_I32) {
    if (i32[k] < 0 || i32[k + 1] < 0 || i32[k] + i32[k + 1] > bytes.length) {
      throw new RangeError(`packet ${i} of a batch lies outside its ${bytes.length} bytes`);
    }
  }
}
