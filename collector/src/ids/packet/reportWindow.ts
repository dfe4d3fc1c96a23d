// One alert per subject and report window instead of one per packet: a detector adds evidence (counts, samples) to
// the open report of its subject, and the report becomes an AlertCandidate when its window of event time has passed,
// when the capture ends (closeAll), or early when too many reports are open (the oldest goes first). Memory stays
// bounded by `maxOpen` and no evidence is dropped: an early close only splits a subject's report in two, which the
// alert manager merges again (same key).
import type { AlertCandidate, AlertSample, Emit } from '../idsTypes.ts';

/** The alert contract keeps at most 5 samples. */
export const MAX_SAMPLES = 5;

/** Evidence about one subject gathered during one report window. */
export interface Report {
  /** Event time (ms) of the first evidence: the window runs from here. */
  readonly opened: number;
  /** Event time of the newest evidence. */
  last: number;
  samples: AlertSample[];
}

/** Turns a closed report into the alert it stands for; null when it turned out to prove nothing. */
export type RenderReport<R extends Report> = (key: string, report: R) => AlertCandidate | null;

export class ReportWindow<R extends Report> {
  private readonly open = new Map<string, R>();
  /** Event time at which the oldest open report is due; Infinity when none is open. */
  private nextDue = Infinity;
  /** Reports closed before their window ended because `maxOpen` were open. */
  closedEarly = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxOpen: number,
    private readonly render: RenderReport<R>,
  ) {}

  get size(): number {
    return this.open.size;
  }

  get(key: string): R | undefined {
    return this.open.get(key);
  }

  /** Opens a report for `key` (which must have none open), closing the oldest first when the cap is reached. */
  add(key: string, report: R, emit: Emit): R {
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) {
        this.closedEarly++;
        this.close(oldest, emit);
      }
    }
    this.open.set(key, report);
    this.nextDue = Math.min(this.nextDue, report.opened + this.windowMs);
    return report;
  }

  /**
   * Emits the reports whose window has ended by `now`. Cheap when none has: a detector calls it for every packet.
   * Reports are kept in the order they opened, which is event-time order while time moves forward; after a jump
   * back (an older capture) a report may close a little late, never early.
   */
  closeDue(now: number, emit: Emit): void {
    if (now < this.nextDue) return;
    for (const [key, r] of this.open) {
      if (r.opened + this.windowMs > now) break;
      this.close(key, emit);
    }
    this.recomputeDue();
  }

  /** Emits every open report (the capture ended). */
  closeAll(emit: Emit): void {
    for (const key of [...this.open.keys()]) this.close(key, emit);
    this.nextDue = Infinity;
  }

  private close(key: string, emit: Emit): void {
    const r = this.open.get(key);
    if (r === undefined) return;
    this.open.delete(key);
    const alert = this.render(key, r);
    if (alert) emit(alert);
  }

  private recomputeDue(): void {
    const first = this.open.values().next().value;
    this.nextDue = first === undefined ? Infinity : first.opened + this.windowMs;
  }
}

/** Keeps the first MAX_SAMPLES samples: they show how it started, and cost nothing once the list is full. */
export function keepSample(samples: AlertSample[], make: () => AlertSample): void {
  if (samples.length < MAX_SAMPLES) samples.push(make());
}

/** 42000 → "42 s", 150000 → "2.5 min". */
export function fmtSeconds(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}
