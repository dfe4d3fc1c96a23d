// `land`: a packet whose source and destination are the same address and the same port (the 1997 "land" attack:
// a SYN that makes a stack answer itself; hping3 --land / -a <target> -s <port> -p <port>).
//
// Same address alone is not enough: on a loopback capture every flow is 127.0.0.1 → 127.0.0.1, and a host talking
// to itself through its own address is normal. Same address and same port is what no connection can have (the
// local and remote ends of a socket would be one). TCP and UDP; ICMP has no ports (its "ports" are type and code).
// The reply of the victim to itself shares the 5-tuple, so a flow of a SYN and its RST+ACK shows SYN|RST|ACK:
// flags are not looked at.
// Anchor: CERT Advisory CA-1997-28 (teardrop and land); Snort's `sameip` rule option checks the address only,
// narrowed here to address and port. Default: one flow; once per victim address, protocol and port per 5 minutes.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, SampleRing } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { episodeOver, NOT_ALERTED } from './eventWindows.ts';
import { isCountable, PROTO_TCP, PROTO_UDP, protoName, startOf } from './flowTraits.ts';

export interface LandConfig {
  enabled: boolean;
  /** Time before the same victim, protocol and port can alert again. */
  windowSec: number;
  maxKeys: number;
}

export const LAND_DEFAULTS: Readonly<LandConfig> = { enabled: true, windowSec: 300, maxKeys: 10_000 };

/** Same address and same port at both ends, TCP or UDP. */
export function isLand(f: EnrichedFlow): boolean {
  return (f.proto === PROTO_TCP || f.proto === PROTO_UDP) && f.srcPort === f.dstPort && f.srcAddr === f.dstAddr && f.srcAddr !== '';
}

interface LandState extends TimedState {
  alertedAt: number;
  flows: number;
  samples: SampleRing;
}

export class LandDetector implements FlowDetector {
  readonly id = 'land';
  readonly states: BoundedStates<LandState>;
  private readonly windowMs: number;

  constructor(private readonly cfg: LandConfig) {
    this.states = new BoundedStates(cfg.maxKeys);
    this.windowMs = cfg.windowSec * 1000;
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (isLand(f) && isCountable(f)) this.count(f, emit);
    }
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.windowMs);
  }

  private count(f: EnrichedFlow, emit: Emit): void {
    const t = startOf(f);
    const key = `${f.dstAddr}|${f.proto}/${f.dstPort}`;
    let s = this.states.get(key);
    if (s === undefined) s = this.states.add(key, { last: t, alertedAt: NOT_ALERTED, flows: 0, samples: new SampleRing() });
    else if (episodeOver(s.last, s.alertedAt, t, this.windowMs)) {
      s.alertedAt = NOT_ALERTED;
      s.flows = 0;
      s.samples.clear();
    }
    if (t > s.last) s.last = t;
    s.flows++;
    if (s.alertedAt !== NOT_ALERTED) return;
    s.samples.push(f);
    s.alertedAt = t;
    emit(candidateFromFlow(f, 'victim', {
      detector: this.id, severity: 'medium', time: t,
      summary: `land attack on ${f.dstAddr}: ${protoName(f.proto)} from itself, port ${f.dstPort} to port ${f.dstPort}`,
      src: f.srcAddr, dst: f.dstAddr, dstPort: f.dstPort, proto: f.proto, key,
      counts: { flows: s.flows, packets: f.packets, windowSec: this.cfg.windowSec },
      samples: s.samples.list(),
    }));
  }
}
