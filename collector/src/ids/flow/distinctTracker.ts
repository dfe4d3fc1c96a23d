// The counting behind the scan detectors: per key (a source and its target), the distinct values (ports, hosts)
// probed within a sliding window of event time, crossing a threshold once per episode.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import { SampleRing } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { DistinctInWindow, episodeOver, NOT_ALERTED } from './eventWindows.ts';
import { flowWeight } from './flowTraits.ts';

export interface DistinctState<V extends string | number> extends TimedState {
  /** Event time the episode began. */
  since: number;
  alertedAt: number;
  values: DistinctInWindow<V>;
  /** Probe flows counted in the episode (scaled by sampling). */
  flows: number;
  samples: SampleRing;
}

/** What a crossing looked like, for the summary and counts. */
export interface Crossing {
  distinct: number;
  flows: number;
  /** From the oldest evidence still in the window to the flow that crossed. */
  spanMs: number;
}

export class DistinctTracker<V extends string | number> {
  readonly states: BoundedStates<DistinctState<V>>;

  constructor(readonly threshold: number, readonly windowMs: number, maxKeys: number) {
    this.states = new BoundedStates(maxKeys);
  }

  /** Count `value` for `key` at event time `t`; returns the crossing when this flow reached the threshold. */
  see(key: string, value: V, f: EnrichedFlow, t: number): Crossing | null {
    let s = this.states.get(key);
    if (s === undefined) s = this.states.add(key, newState<V>(t));
    else if (episodeOver(s.last, s.alertedAt, t, this.windowMs)) restart(s, t);
    else if (t < s.last - this.windowMs) return null;
    if (t > s.last) s.last = t;
    s.flows += flowWeight(f);
    // After the alert the key only needs its times (for the next episode); more values would only cost memory.
    if (s.alertedAt !== NOT_ALERTED) return null;
    s.values.add(value, t);
    const n = s.values.size;
    if (n * 2 >= this.threshold) s.samples.push(f);
    if (n < this.threshold) return null;
    const cutoff = s.last - this.windowMs;
    if (s.values.pruneBefore(cutoff) < this.threshold) return null;
    s.alertedAt = t;
    return { distinct: s.values.size, flows: s.flows, spanMs: s.last - Math.max(s.since, cutoff) };
  }

  samplesOf(key: string): DistinctState<V>['samples'] | undefined {
    return this.states.get(key)?.samples;
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.windowMs);
  }
}

function newState<V extends string | number>(t: number): DistinctState<V> {
  return { last: t, since: t, alertedAt: NOT_ALERTED, values: new DistinctInWindow<V>(), flows: 0, samples: new SampleRing() };
}

function restart<V extends string | number>(s: DistinctState<V>, t: number): void {
  s.last = t;
  s.since = t;
  s.alertedAt = NOT_ALERTED;
  s.values.clear();
  s.flows = 0;
  s.samples.clear();
}
