// Per-key detector state with a hard cap on the number of keys: a spoofed flood makes a new source per packet, and
// the IDS must not grow with it. When full, the oldest keys (first created) go, a sixteenth of the cap at once:
// removing one key at a time from the front of a full Map is slow in V8 (each removal leaves a hole that every
// later "first key" lookup walks over until the table is rebuilt). `expireBefore` drops keys whose newest evidence
// is older than a detector's window.

/** Every state remembers the event time of its newest evidence. */
export interface TimedState {
  last: number;
}

export class BoundedStates<S extends TimedState> {
  private readonly states = new Map<string, S>();
  /** Keys dropped because the cap was reached (not by expiry). */
  evicted = 0;

  constructor(readonly maxKeys: number) {
    if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be at least 1, got ${maxKeys}`);
  }

  get size(): number {
    return this.states.size;
  }

  get(key: string): S | undefined {
    return this.states.get(key);
  }

  /** Store the state of a new key, evicting the oldest keys first when the cap is reached. */
  add(key: string, state: S): S {
    if (this.states.size >= this.maxKeys) this.evictOldest(Math.max(1, this.maxKeys >> 4));
    this.states.set(key, state);
    return state;
  }

  delete(key: string): void {
    this.states.delete(key);
  }

  /** Drop every key whose newest evidence is older than `cutoff`; returns how many went. */
  expireBefore(cutoff: number): number {
    let dropped = 0;
    for (const [key, s] of this.states) {
      if (s.last < cutoff) {
        this.states.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  private evictOldest(n: number): void {
    // A Map iterates in insertion order: its first keys are the oldest.
    for (const key of this.states.keys()) {
      if (n-- <= 0) break;
      this.states.delete(key);
      this.evicted++;
    }
  }

  values(): IterableIterator<S> {
    return this.states.values();
  }
}
