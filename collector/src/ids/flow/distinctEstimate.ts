// About how many distinct strings (source addresses of a flood) went by, in 128 bytes whatever their number:
// linear counting (Whang, Vander-Zanden, Taylor 1990) over a 1024-bit map. Within a few percent up to about two
// thousand values; from about 7,000 it saturates and reports that lower bound. A flood from 30,000 spoofed
// sources and one from 8,000 both read "≈7,000+", which is all an alert needs.

const BITS = 1024;
const WORDS = BITS / 32;
/** What a full map reads: m·ln(m). */
export const DISTINCT_ESTIMATE_MAX = Math.round(BITS * Math.log(BITS));

export class DistinctEstimate {
  private readonly bits = new Uint32Array(WORDS);
  private zeros = BITS;

  add(s: string): void {
    const h = fnv1a(s) & (BITS - 1);
    const w = h >>> 5;
    const m = 1 << (h & 31);
    if ((this.bits[w] & m) === 0) {
      this.bits[w] |= m;
      this.zeros--;
    }
  }

  /** The estimated number of distinct values added since the last clear. */
  estimate(): number {
    if (this.zeros === 0) return DISTINCT_ESTIMATE_MAX;
    return Math.round(-BITS * Math.log(this.zeros / BITS));
  }

  /** The estimate for the union of this map and `other`. */
  estimateWith(other: DistinctEstimate): number {
    let zeros = 0;
    for (let i = 0; i < WORDS; i++) zeros += 32 - popcount(this.bits[i] | other.bits[i]);
    if (zeros === 0) return DISTINCT_ESTIMATE_MAX;
    return Math.round(-BITS * Math.log(zeros / BITS));
  }

  clear(): void {
    this.bits.fill(0);
    this.zeros = BITS;
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** FNV-1a, 32 bits, over UTF-16 code units (addresses are ASCII). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Addresses differ mostly in their last characters: mix so that low bits depend on all of them.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Distinct strings seen in about the last `windowMs` of event time: two bitmaps that take turns, each covering one
 * window; the estimate is of their union, so it spans between one and two windows.
 */
export class WindowedDistinctEstimate {
  private current = new DistinctEstimate();
  private previous = new DistinctEstimate();
  private periodStart: number;

  constructor(private readonly windowMs: number, t: number) {
    this.periodStart = t;
  }

  add(s: string, t: number): void {
    if (t - this.periodStart >= this.windowMs) this.rotate(t);
    this.current.add(s);
  }

  estimate(): number {
    return this.current.estimateWith(this.previous);
  }

  private rotate(t: number): void {
    const spare = this.previous;
    spare.clear();
    // More than two windows since the last rotation: the current map is too old to keep as the previous one.
    if (t - this.periodStart >= 2 * this.windowMs) this.current.clear();
    this.previous = this.current;
    this.current = spare;
    this.periodStart = t;
  }
}
