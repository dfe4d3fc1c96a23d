// Sliding windows on event time for the flow detectors: distinct values seen in the last W ms (ports, hosts) and a
// sum over the last W ms kept in a ring of buckets (packets, connections). Neither allocates per flow once a key's
// state exists, and both bound their size.

/** Marks a state that has not alerted in its current episode. */
export const NOT_ALERTED = -1;

/**
 * Whether a key's evidence should start over before counting a flow at `t`: the key was idle for a whole window,
 * or a window has passed since it alerted. So a detector emits at most once per key and window, and an attack that
 * goes on emits again in the next window (the alert manager merges those into one alert).
 */
export function episodeOver(last: number, alertedAt: number, t: number, windowMs: number): boolean {
  return t - last > windowMs || (alertedAt !== NOT_ALERTED && t - alertedAt > windowMs);
}

/**
 * Distinct values, each with the newest event time it was seen at. Most keys only ever see one value (one port
 * probed, one spoofed source), so the first value is kept inline and a Map is made for the second.
 * The caller bounds the size: it stops adding once its threshold is reached.
 */
export class DistinctInWindow<V extends string | number> {
  private only: V | undefined = undefined;
  private onlyTime = 0;
  private many: Map<V, number> | null = null;

  get size(): number {
    return this.many ? this.many.size : this.only === undefined ? 0 : 1;
  }

  add(value: V, t: number): void {
    const many = this.many;
    if (many) {
      const prev = many.get(value);
      if (prev === undefined || t > prev) many.set(value, t);
      return;
    }
    const only = this.only;
    if (only === undefined) {
      this.only = value;
      this.onlyTime = t;
    } else if (only === value) {
      if (t > this.onlyTime) this.onlyTime = t;
    } else {
      this.many = new Map<V, number>([[only, this.onlyTime], [value, t]]);
      this.only = undefined;
    }
  }

  /** Forget values last seen before `cutoff`; returns how many remain. */
  pruneBefore(cutoff: number): number {
    const many = this.many;
    if (many) {
      for (const [v, t] of many) if (t < cutoff) many.delete(v);
      return many.size;
    }
    if (this.only !== undefined && this.onlyTime < cutoff) this.only = undefined;
    return this.size;
  }

  clear(): void {
    this.only = undefined;
    this.many = null;
  }
}

/** A sum over the last `windowMs` of event time, in `bucketCount` buckets (the window slides one bucket at a time). */
export class BucketWindow {
  /** A plain array: allocating a typed array per key costs more than its faster access saves. */
  private readonly buckets: number[];
  private readonly bucketMs: number;
  /** Bucket number (event time / bucketMs) of the newest bucket; -1 when empty. */
  private head = -1;
  private sum = 0;

  constructor(readonly windowMs: number, bucketCount: number) {
    this.buckets = new Array<number>(bucketCount).fill(0);
    this.bucketMs = windowMs / bucketCount;
  }

  get total(): number {
    return this.sum;
  }

  /** Add `amount` at event time `t`; false (and nothing added) when `t` is older than the window. */
  add(t: number, amount: number): boolean {
    const n = this.buckets.length;
    const b = Math.floor(t / this.bucketMs);
    if (b > this.head) this.slideTo(b);
    else if (b <= this.head - n) return false;
    this.buckets[b % n] += amount;
    this.sum += amount;
    return true;
  }

  clear(): void {
    this.buckets.fill(0);
    this.sum = 0;
    this.head = -1;
  }

  private slideTo(b: number): void {
    const n = this.buckets.length;
    if (this.head < 0 || b - this.head >= n) {
      this.buckets.fill(0);
      this.sum = 0;
    } else {
      for (let x = this.head + 1; x <= b; x++) {
        const i = x % n;
        this.sum -= this.buckets[i];
        this.buckets[i] = 0;
      }
      // Subtracting floats leaves dust; a window that emptied must read 0.
      if (this.sum < 1e-9) this.sum = 0;
    }
    this.head = b;
  }
}
