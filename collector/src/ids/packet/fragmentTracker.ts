// The byte ranges each fragmented datagram has shown so far, to tell overlapping fragments (teardrop, and the
// overlap tricks that make an IDS and the target reassemble different data, Ptacek & Newsham 1998) from plain
// fragmentation. A datagram is keyed as a reassembler keys it (source, destination, identification, protocol) and
// forgotten once its ranges cover it from 0 to the end its last fragment set, or after the reassembly timeout.
//
// An identical copy of a fragment (same range, same bytes) is not an overlap: a port mirror that copies both
// directions of a switch port, or a retransmitting tunnel, delivers those; tshark does not call them overlaps
// either. The same range with other bytes is the worst kind of overlap.
//
// Memory: at most `maxDatagrams` (the oldest goes first) of at most `maxFragments` ranges each; a datagram with more
// fragments than that stops being checked (a 64 KiB datagram on a 1500-byte MTU has 45).

export interface FragmentRange {
  start: number;
  end: number;
  /** Hash of the fragment's captured bytes, to tell an identical copy from different data. */
  hash: number;
}

interface Datagram {
  /** Event time of its newest fragment. */
  last: number;
  /** Ranges seen, sorted by start. */
  ranges: FragmentRange[];
  /** End of the datagram's data as its last fragment (MF clear) says; -1 until seen. */
  end: number;
  saturated: boolean;
}

export interface FragmentCheck {
  /** An earlier fragment of the datagram this one overlaps (identical copies excepted), or null. */
  overlapped: FragmentRange | null;
  /** The overlap covers exactly the same range, with different bytes. */
  sameRange: boolean;
  /** The datagram end this fragment contradicts (data past it, or another last fragment with another end); -1 if none. */
  endConflict: number;
  /** An identical copy of a fragment already seen. */
  duplicate: boolean;
}

export class FragmentTracker {
  private readonly datagrams = new Map<string, Datagram>();
  /** Datagrams dropped because `maxDatagrams` were tracked. */
  evicted = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxDatagrams: number,
    private readonly maxFragments: number,
  ) {}

  get size(): number {
    return this.datagrams.size;
  }

  /** Records the fragment [start, end) of datagram `key` at event time `t` and says what it contradicts. */
  add(key: string, t: number, start: number, end: number, more: boolean, hash: number): FragmentCheck {
    const check: FragmentCheck = { overlapped: null, sameRange: false, endConflict: -1, duplicate: false };
    const d = this.datagramFor(key, t);
    if (d.saturated) return check;
    if (d.ranges.length >= this.maxFragments) {
      d.saturated = true;
      return check;
    }
    for (const r of d.ranges) {
      if (start >= r.end || r.start >= end) continue;
      if (r.start === start && r.end === end && r.hash === hash) {
        check.duplicate = true;
        return check;
      }
      if (check.overlapped === null) {
        check.overlapped = r;
        check.sameRange = r.start === start && r.end === end;
      }
    }
    check.endConflict = endConflict(d, end, more);
    if (!more && d.end < 0) d.end = end;
    insertSorted(d.ranges, { start, end, hash });
    if (isComplete(d)) this.datagrams.delete(key);
    return check;
  }

  /** Forgets datagrams without a fragment since `now - timeout` (their reassembly would have timed out). */
  expire(now: number): void {
    const cutoff = now - this.timeoutMs;
    for (const [key, d] of this.datagrams) if (d.last < cutoff) this.datagrams.delete(key);
  }

  private datagramFor(key: string, t: number): Datagram {
    let d = this.datagrams.get(key);
    // An identification is reused after a while: a fragment past the timeout starts a new datagram. A fragment from
    // far before the newest one (an older capture replayed) does too.
    if (d && (t - d.last > this.timeoutMs || d.last - t > this.timeoutMs)) {
      this.datagrams.delete(key);
      d = undefined;
    }
    if (!d) {
      if (this.datagrams.size >= this.maxDatagrams) {
        const oldest = this.datagrams.keys().next().value;
        if (oldest !== undefined) this.datagrams.delete(oldest);
        this.evicted++;
      }
      d = { last: t, ranges: [], end: -1, saturated: false };
      this.datagrams.set(key, d);
    }
    d.last = Math.max(d.last, t);
    return d;
  }
}

/** The known end a fragment [.., end) contradicts, or -1. */
function endConflict(d: Datagram, end: number, more: boolean): number {
  if (d.end >= 0) {
    if (more ? end > d.end : end !== d.end) return d.end;
    return -1;
  }
  if (!more) {
    // The first last fragment: earlier fragments must not reach past the end it sets.
    for (const r of d.ranges) if (r.end > end) return end;
  }
  return -1;
}

function insertSorted(ranges: FragmentRange[], r: FragmentRange): void {
  let i = ranges.length;
  while (i > 0 && ranges[i - 1].start > r.start) i--;
  ranges.splice(i, 0, r);
}

/** Its ranges cover [0, end) without a hole: a reassembler would have handed it up and forgotten it. */
function isComplete(d: Datagram): boolean {
  if (d.end < 0) return false;
  let covered = 0;
  for (const r of d.ranges) {
    if (r.start > covered) return false;
    if (r.end > covered) covered = r.end;
  }
  return covered >= d.end;
}

/** FNV-1a over [start, end) of `b`, seeded with the length so a cut copy differs from the whole. */
export function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = (0x811c9dc5 ^ (end - start)) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h;
}
