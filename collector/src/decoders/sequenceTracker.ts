// Exporter sequence accounting as nfcapd does it: per (exporter key, version, domain) the next sequence
// number expected; a mismatch is a sequence failure and a gap estimates flows lost upstream. What the
// sequence counts depends on the version: v5/v7 flows, v9 export packets, IPFIX data records. Pure state.

export interface SequenceOutcome {
  /** 'first': first datagram of this exporter domain; 'ok': as expected; 'gap': datagrams missing;
   * 'late': an older sequence (reordered or duplicated datagram); 'reset': the exporter restarted. */
  status: 'first' | 'ok' | 'gap' | 'late' | 'reset';
  /** Counted as a sequence failure (gap, late, reset), as nfcapd counts any unexpected sequence. */
  failure: boolean;
  /** Flows estimated lost in this gap: v5/IPFIX the gap itself; v9 missing packets x average flows per packet. */
  lostFlows: number;
  /** The sequence number that was expected (-1 for the first datagram), for messages. */
  expected: number;
}

export interface SequenceTrackerOptions {
  /**
   * A backward jump of more than this many (sequence units) is an exporter restart, not a reordered
   * datagram; a forward jump of more than `maxGap` is a restart too (a random new starting point), not
   * billions of lost flows. Defaults: reorderWindow 1000, maxGap 10 000 000 (v9 packets: 100 000).
   * reorderWindow 0 resynchronises on every backward jump, as nfcapd and tshark do.
   */
  reorderWindow?: number;
  maxGap?: number;
  maxGapV9?: number;
}

interface DomainSequence {
  expected: number;
  packets: number;
  flows: number;
  failures: number;
  lostFlows: number;
}

export interface SequenceStats {
  key: string; version: number; domain: number;
  expected: number; packets: number; flows: number; failures: number; lostFlows: number;
}

const TWO_32 = 0x100000000;

export class SequenceTracker {
  private readonly byKey = new Map<string, DomainSequence>();
  private readonly reorderWindow: number;
  private readonly maxGap: number;
  private readonly maxGapV9: number;

  constructor(opts: SequenceTrackerOptions = {}) {
    this.reorderWindow = opts.reorderWindow ?? 1000;
    this.maxGap = opts.maxGap ?? 10_000_000;
    this.maxGapV9 = opts.maxGapV9 ?? 100_000;
  }

  /**
   * Account for one datagram. `increment` is what the sequence advances by for it (DecodeResult
   * .recordCountForSequence: v5 flows, v9 1, IPFIX data records); `flows` the flow records it carried (v9 uses
   * it to turn lost packets into lost flows).
   */
  update(exporterKey: string, version: number, domain: number, sequence: number, increment: number, flows: number): SequenceOutcome {
    const key = `${exporterKey}\u0000${version}\u0000${domain}`;
    const seq = sequence >>> 0;
    let s = this.byKey.get(key);
    if (!s) {
      s = { expected: (seq + increment) % TWO_32, packets: 1, flows, failures: 0, lostFlows: 0 };
      this.byKey.set(key, s);
      return { status: 'first', failure: false, lostFlows: 0, expected: -1 };
    }
    const expected = s.expected;
    const ahead = (seq - expected + TWO_32) % TWO_32; // distance forward from expected, modulo 2^32
    let out: SequenceOutcome;
    if (ahead === 0) {
      out = { status: 'ok', failure: false, lostFlows: 0, expected };
      s.expected = (seq + increment) % TWO_32;
    } else if (ahead < TWO_32 / 2 && ahead <= (version === 9 ? this.maxGapV9 : this.maxGap)) {
      const lost = version === 9 ? Math.round(ahead * (s.packets > 0 ? s.flows / s.packets : 0)) : ahead;
      out = { status: 'gap', failure: true, lostFlows: lost, expected };
      s.expected = (seq + increment) % TWO_32;
    } else if (ahead >= TWO_32 / 2 && TWO_32 - ahead <= this.reorderWindow) {
      // Older than expected but close: a reordered or duplicated datagram. Keep expecting what we expected.
      out = { status: 'late', failure: true, lostFlows: 0, expected };
    } else {
      out = { status: 'reset', failure: true, lostFlows: 0, expected };
      s.expected = (seq + increment) % TWO_32;
    }
    s.packets++;
    s.flows += flows;
    if (out.failure) { s.failures++; s.lostFlows += out.lostFlows; }
    return out;
  }

  /** Forget an exporter domain (e.g. after it was idle long enough that a restart is likely). */
  forget(exporterKey: string, version: number, domain: number): void {
    this.byKey.delete(`${exporterKey}\u0000${version}\u0000${domain}`);
  }

  stats(): SequenceStats[] {
    const out: SequenceStats[] = [];
    for (const [k, s] of this.byKey) {
      const [key, version, domain] = k.split('\u0000');
      out.push({ key, version: Number(version), domain: Number(domain), expected: s.expected, packets: s.packets, flows: s.flows, failures: s.failures, lostFlows: s.lostFlows });
    }
    return out;
  }
}
