// `trw-scan`: Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan, "Fast Portscan Detection Using Sequential
// Hypothesis Testing", IEEE S&P 2004). Each first contact of a source either fails or succeeds; a benign host's first
// contacts mostly succeed (θ0 = 0.8), a scanner's mostly fail (θ1 = 0.2). The likelihood ratio Λ of "scanner"
// against "benign" is multiplied by (1-θ1)/(1-θ0) = 4 per failure and by θ1/θ0 = 0.25 per success; the source is a
// scanner when Λ ≥ η1 = PD/PF = 0.99/0.01 = 99, benign when Λ ≤ η0 = (1-PD)/(1-PF) ≈ 0.0101. So four failed first
// contacts in a row flag a scanner (4^4 = 256 ≥ 99 > 4^3), and four successes in a row clear it.
//
// From flows: a first contact is a TCP flow carrying a SYN to a contact the source has not tried before; it failed
// when the source never sent an ACK (SYN only: no answer or refused; SYN+RST: a half-open scan), it succeeded when
// the source's flow has the ACK of a completed handshake. Flows without a SYN (replies, mid-connection records) are
// not contacts.
// Differences from the paper, for a collector that runs for months on a data centre's east-west traffic:
//  - a contact is a service (host and port) by default, not a host: a scan of many ports of one VIP is as telling as
//    a scan of many hosts, and the paper's host contacts stay available (`contactBy: 'host'`);
//  - a walk that reaches η0 starts again at Λ = 1 instead of closing the case, so a host that turns bad is seen;
//  - the state of a source is forgotten after `stateTtlSec` without first contacts (memory), and it keeps at most
//    `maxContactsPerSource` recent contacts (older ones may count again as first contacts).
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtCount, SampleRing } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { NOT_ALERTED } from './eventWindows.ts';
import { ACK, isConnectionAttempt, isCountable, startOf } from './flowTraits.ts';

export interface TrwScanConfig {
  enabled: boolean;
  /** Probability that a benign source's first contact succeeds. */
  theta0: number;
  /** Probability that a scanner's first contact succeeds. */
  theta1: number;
  /** Wanted detection probability (PD) and false positive probability (PF); η1 = PD/PF, η0 = (1-PD)/(1-PF). */
  detectionProbability: number;
  falsePositiveProbability: number;
  /** What a contact is: a host and port (default), or a host as in the paper. */
  contactBy: 'service' | 'host';
  /** A source's walk is forgotten after this many seconds without a first contact, and re-armed after an alert. */
  stateTtlSec: number;
  maxContactsPerSource: number;
  /** Sources tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const TRW_SCAN_DEFAULTS: Readonly<TrwScanConfig> = {
  enabled: true, theta0: 0.8, theta1: 0.2, detectionProbability: 0.99, falsePositiveProbability: 0.01,
  contactBy: 'service', stateTtlSec: 1800, maxContactsPerSource: 256, maxKeys: 100_000,
};

/** Contacts a source made, most recent kept: the first inline (most sources here made one), a Set from the second. */
class RecentContacts {
  private only: string | undefined = undefined;
  private many: Set<string> | null = null;

  constructor(private readonly max: number) {}

  /** Adds `c`; false when it was known already. */
  addNew(c: string): boolean {
    const many = this.many;
    if (many) {
      if (many.has(c)) return false;
      if (many.size >= this.max) many.delete(many.values().next().value as string);
      many.add(c);
      return true;
    }
    if (this.only === undefined) {
      this.only = c;
      return true;
    }
    if (this.only === c) return false;
    this.many = new Set([this.only, c]);
    this.only = undefined;
    return true;
  }
}

interface WalkState extends TimedState {
  logRatio: number;
  contacts: RecentContacts;
  failures: number;
  successes: number;
  alertedAt: number;
  /** The host of the failures, or '' once they went to more than one. */
  target: string;
  samples: SampleRing;
}

export class TrwScanDetector implements FlowDetector {
  readonly id = 'trw-scan';
  readonly states: BoundedStates<WalkState>;
  private readonly logFailure: number;
  private readonly logSuccess: number;
  private readonly logEta1: number;
  private readonly logEta0: number;
  private readonly ttlMs: number;

  constructor(private readonly cfg: TrwScanConfig) {
    this.states = new BoundedStates(cfg.maxKeys);
    this.logFailure = Math.log((1 - cfg.theta1) / (1 - cfg.theta0));
    this.logSuccess = Math.log(cfg.theta1 / cfg.theta0);
    this.logEta1 = Math.log(cfg.detectionProbability / cfg.falsePositiveProbability);
    this.logEta0 = Math.log((1 - cfg.detectionProbability) / (1 - cfg.falsePositiveProbability));
    this.ttlMs = cfg.stateTtlSec * 1000;
  }

  /** Failed first contacts in a row that flag a source: ⌈ln η1 / ln((1-θ1)/(1-θ0))⌉ (4 with the defaults). */
  get failuresToFlag(): number {
    return Math.ceil(this.logEta1 / this.logFailure - 1e-12);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (isConnectionAttempt(f) && isCountable(f) && f.dstAddr !== '') this.walk(f, emit);
    }
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.ttlMs);
  }

  private walk(f: EnrichedFlow, emit: Emit): void {
    const t = startOf(f);
    const s = this.stateOf(f.srcAddr, t);
    const contact = this.cfg.contactBy === 'host' ? f.dstAddr : `${f.dstAddr}|${f.dstPort}`;
    if (!s.contacts.addNew(contact)) return;
    if (t > s.last) s.last = t;
    const failed = (f.tcpFlags & ACK) === 0;
    if (failed) this.fail(s, f);
    else {
      s.successes++;
      s.logRatio += this.logSuccess;
    }
    // Benign: start the walk again rather than stop watching (see the file comment).
    if (s.logRatio <= this.logEta0) s.logRatio = 0;
    if (s.alertedAt === NOT_ALERTED && s.logRatio >= this.logEta1 - 1e-9) {
      s.alertedAt = t;
      this.report(f, s, t, emit);
    }
  }

  private fail(s: WalkState, f: EnrichedFlow): void {
    s.failures++;
    s.logRatio += this.logFailure;
    if (s.failures === 1) s.target = f.dstAddr;
    else if (s.target !== f.dstAddr) s.target = '';
    if (s.logRatio * 2 >= this.logEta1) s.samples.push(f);
  }

  private stateOf(src: string, t: number): WalkState {
    const s = this.states.get(src);
    if (s === undefined) return this.states.add(src, this.newState(t));
    const stale = t - s.last > this.ttlMs || (s.alertedAt !== NOT_ALERTED && t - s.alertedAt > this.ttlMs);
    if (!stale) return s;
    const fresh = this.newState(t);
    this.states.delete(src);
    return this.states.add(src, fresh);
  }

  private newState(t: number): WalkState {
    return {
      last: t, logRatio: 0, contacts: new RecentContacts(this.cfg.maxContactsPerSource), failures: 0, successes: 0,
      alertedAt: NOT_ALERTED, target: '', samples: new SampleRing(),
    };
  }

  private report(f: EnrichedFlow, s: WalkState, t: number, emit: Emit): void {
    const ratio = Math.exp(s.logRatio);
    const eta1 = Math.exp(this.logEta1);
    const unit = this.cfg.contactBy === 'host' ? 'hosts' : 'services';
    emit(candidateFromFlow(f, 'source', {
      detector: this.id, severity: 'medium', time: t,
      summary: `${f.srcAddr} failed ${s.failures} of ${s.failures + s.successes} first contacts with new ${unit}`
        + ` (TRW likelihood ratio ${fmtCount(ratio)} ≥ ${fmtCount(eta1)})`,
      src: f.srcAddr, dst: s.target, dstPort: 0, proto: f.proto, key: f.srcAddr,
      counts: {
        failures: s.failures, successes: s.successes, firstContacts: s.failures + s.successes,
        likelihoodRatio: Math.round(ratio * 100) / 100, threshold: Math.round(eta1 * 100) / 100,
      },
      samples: s.samples.list(),
    }));
  }
}
