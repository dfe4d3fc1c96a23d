// `brute-force`: many short connections from one source to a login service of one host (password guessing).
// A connection is a TCP flow with a SYN from the source to the service port, of at most `maxPacketsPerAttempt`
// packets: a failed login is a short exchange (ssh_sshguess.pcap: 21–25 packets from the guesser per connection),
// an interactive session or a file copy soon passes 100 packets. From a NetFlow exporter that sends no TCP flags
// (FlagVisibility), every short TCP flow to the port counts: each connection has its own source port, so its own
// flow (idle sessions cut by an active timeout into small records may then count too).
//
// Anchors (Emerging Threats Open emerging-scan.rules, `threshold: type both, track by_src` unless noted; Zeek):
//  - ssh 22: ET sid 2001219 "Potential SSH Scan": 5 SYNs in 120 s; Zeek SSH::password_guesses_limit = 30 failed
//    logins in SSH::guessing_timeout = 30 min.
//  - rdp 3389: ET sid 2001972 "Unusually fast Terminal Server Traffic": 20 SYNs in 360 s.
//  - vnc 5900: ET sid 2002911 "Potential VNC Scan 5900-5920": 5 SYNs in 60 s.
//  - smb 445: ET sid 2001569 "Unusual Port 445 traffic": 70 SYNs in 60 s.
//  - databases 1433, 3306, 5432: ET sid 2001583 "Unusual Port 1433 traffic": 40 SYNs in 60 s (the 3306/5432 rules,
//    sids 2010937/2010939, are `type limit`, i.e. rate limits on logging, not thresholds).
//  - ftp 21, telnet 23: ET sid 2010642 "Multiple FTP Root Login Attempts": 5 in 60 s (`type threshold`).
// Defaults: ET's windows, and ET's counts but at least 10. ET tracks a source across all destinations; we count per
// (source, destination, port), where a person's parallel terminals, an scp loop or CI jobs fetching over ssh reach 5
// more easily than 10. Database ports: application servers that connect without a pool open many short
// connections to their database; raise `attempts` for them or drop the rule where that is the norm.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtDuration, SampleRing, seconds } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { BucketWindow, episodeOver, NOT_ALERTED } from './eventWindows.ts';
import { FlagVisibility, flowWeight, isCountable, PROTO_TCP, startOf, SYN } from './flowTraits.ts';

export interface BruteForceRule {
  /** Name in the summary: 'ssh', 'rdp' ... */
  service: string;
  ports: number[];
  /** Connections from one source to one host's port ... */
  attempts: number;
  /** ... within this many seconds. */
  windowSec: number;
}

export interface BruteForceConfig {
  enabled: boolean;
  /** Replaced as a whole when given. A port in two rules takes the first. */
  rules: BruteForceRule[];
  /** Longer flows are sessions, not login attempts. */
  maxPacketsPerAttempt: number;
  /** (source, destination, port) keys tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const BRUTE_FORCE_DEFAULTS: Readonly<BruteForceConfig> = {
  enabled: true,
  rules: [
    { service: 'ssh', ports: [22], attempts: 10, windowSec: 120 },
    { service: 'telnet', ports: [23], attempts: 10, windowSec: 60 },
    { service: 'ftp', ports: [21], attempts: 10, windowSec: 60 },
    { service: 'rdp', ports: [3389], attempts: 20, windowSec: 360 },
    { service: 'vnc', ports: [5900], attempts: 10, windowSec: 60 },
    { service: 'smb', ports: [445], attempts: 70, windowSec: 60 },
    { service: 'database', ports: [1433, 3306, 5432], attempts: 40, windowSec: 60 },
  ],
  maxPacketsPerAttempt: 100,
  maxKeys: 100_000,
};

/** Buckets per window: the window slides by a twelfth of itself. */
const BUCKETS = 12;

interface AttemptState extends TimedState {
  since: number;
  alertedAt: number;
  attempts: BucketWindow;
  samples: SampleRing;
}

export class BruteForceDetector implements FlowDetector {
  readonly id = 'brute-force';
  readonly states: BoundedStates<AttemptState>;
  private readonly ruleByPort = new Map<number, BruteForceRule>();
  private readonly flags = new FlagVisibility();

  constructor(private readonly cfg: BruteForceConfig) {
    this.states = new BoundedStates(cfg.maxKeys);
    for (const r of cfg.rules) for (const p of r.ports) if (!this.ruleByPort.has(p)) this.ruleByPort.set(p, r);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (f.proto !== PROTO_TCP) continue;
      const flagsTrusted = this.flags.observe(f);
      if ((f.tcpFlags & SYN) === 0 && flagsTrusted) continue;
      const rule = this.ruleByPort.get(f.dstPort);
      if (rule === undefined || !isCountable(f) || f.dstAddr === '') continue;
      if (f.packets > this.cfg.maxPacketsPerAttempt * flowWeight(f)) continue;
      this.count(f, rule, emit);
    }
  }

  expire(now: number): void {
    let longest = 0;
    for (const r of this.cfg.rules) longest = Math.max(longest, r.windowSec);
    this.states.expireBefore(now - longest * 1000);
  }

  private count(f: EnrichedFlow, rule: BruteForceRule, emit: Emit): void {
    const t = startOf(f);
    const windowMs = rule.windowSec * 1000;
    const key = `${f.srcAddr}>${f.dstAddr}|${f.dstPort}`;
    let s = this.states.get(key);
    if (s === undefined) {
      s = this.states.add(key, { last: t, since: t, alertedAt: NOT_ALERTED, attempts: new BucketWindow(windowMs, BUCKETS), samples: new SampleRing() });
    } else if (episodeOver(s.last, s.alertedAt, t, windowMs)) {
      s.since = t;
      s.alertedAt = NOT_ALERTED;
      s.attempts.clear();
      s.samples.clear();
    }
    if (!s.attempts.add(t, flowWeight(f))) return;
    if (t > s.last) s.last = t;
    if (s.alertedAt !== NOT_ALERTED) return;
    const n = s.attempts.total;
    if (n * 2 >= rule.attempts) s.samples.push(f);
    if (n < rule.attempts) return;
    s.alertedAt = t;
    const spanMs = Math.min(windowMs, t - s.since);
    emit(candidateFromFlow(f, 'source', {
      detector: this.id, severity: 'medium', time: t,
      summary: `${f.srcAddr} opened ${Math.round(n)} short ${rule.service} connections to ${f.dstAddr} port ${f.dstPort}`
        + ` in ${fmtDuration(spanMs)}`,
      src: f.srcAddr, dst: f.dstAddr, dstPort: f.dstPort, proto: f.proto, key,
      counts: { attempts: Math.round(n), spanSec: seconds(spanMs), windowSec: rule.windowSec, threshold: rule.attempts },
      samples: s.samples.list(),
    }));
  }
}
