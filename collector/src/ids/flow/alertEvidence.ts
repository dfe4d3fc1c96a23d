// How the flow detectors present what they found: an AlertCandidate with the VIP, portgroup and origin of the flow
// that crossed the threshold, the last few flows as samples, and numbers formatted the same way in every summary.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import { sampleOfFlow, type AlertCandidate, type AlertSample, type Severity } from '../idsTypes.ts';

export const MAX_SAMPLES = 5;

/**
 * The last MAX_SAMPLES flows that counted toward a key. Detectors push only when a key gets near its threshold,
 * so a sample object is made for few flows, and the ring ends up holding the flows that crossed it.
 */
export class SampleRing {
  private items: AlertSample[] | null = null;
  private next = 0;

  push(f: EnrichedFlow, note?: string): void {
    const s = sampleOfFlow(f, note);
    if (this.items === null) this.items = [];
    if (this.items.length < MAX_SAMPLES) this.items.push(s);
    else this.items[this.next] = s;
    this.next = (this.next + 1) % MAX_SAMPLES;
  }

  /** Oldest first. */
  list(): AlertSample[] {
    const items = this.items;
    if (items === null) return [];
    if (items.length < MAX_SAMPLES) return items.slice();
    return [...items.slice(this.next), ...items.slice(0, this.next)];
  }

  clear(): void {
    this.items = null;
    this.next = 0;
  }
}

/** What a detector decides; the flow supplies VIP, portgroup and origin. */
export interface Finding {
  detector: string;
  severity: Severity;
  time: number;
  summary: string;
  src: string;
  dst: string;
  dstPort: number;
  proto: number;
  key: string;
  counts: Record<string, number>;
  samples: AlertSample[];
}

/**
 * Whose portgroup the alert carries: the source's for what a source does (scans, brute force, crafted flags),
 * the destination's for what a victim suffers (floods, land).
 */
export type Subject = 'source' | 'victim';

export function candidateFromFlow(f: EnrichedFlow, subject: Subject, x: Finding): AlertCandidate {
  const pg = subject === 'source' ? f.inPortgroup || f.outPortgroup : f.outPortgroup || f.inPortgroup;
  return {
    time: x.time, detector: x.detector, severity: x.severity, summary: x.summary, src: x.src, dst: x.dst,
    dstPort: x.dstPort, proto: x.proto, vip: f.vip ?? '', portgroup: pg ?? '', key: x.key, counts: x.counts,
    samples: x.samples, origin: f.source,
  };
}

/** 12345.6 → "12,346". */
export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 42000 → "42 s", 150000 → "2.5 min", 300 → "0.3 s". */
export function fmtDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(ms, 0) / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${(ms / 60_000).toFixed(1).replace(/\.0$/, '')} min`;
}

/** Seconds with at most one decimal, for counts (Float64 in `alerts.counts`). */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
