// The contract between detectors and the rest of dvflow. Detectors are small modules, pure except for their own
// windowed state: flows (or packets) in, alert candidates out through `emit`. They run on event time (flow and
// packet timestamps), never on the wall clock, so a replayed capture raises the same alerts as live traffic.
// The alert manager (alertManager.ts) merges repeated candidates for one subject, stores and sends them.
import type { EnrichedFlow } from '../storage/flowRows.ts';
import type { CapturePacket } from '../pcap/captureReader.ts';
import type { DecodeResult } from '../pcap/packetDecoder.ts';

export { SEVERITIES, type AlertSample, type Severity } from './alertShapes.ts';
import type { AlertSample, Severity } from './alertShapes.ts';

export interface AlertCandidate {
  /** Event time (ms since epoch) of the evidence that crossed the threshold. */
  time: number;
  /** Detector id, kebab-case: 'port-scan', 'host-sweep', 'syn-flood', 'snort-rule', ... */
  detector: string;
  severity: Severity;
  /** One line a human reads: "10.0.0.5 probed 87 ports of 10.0.0.9 in 60 s". */
  summary: string;
  /** The attacker / the victim when there is one ('' when many or none). */
  src: string;
  dst: string;
  /** Destination port when the alert is about one ('' ports → 0). */
  dstPort: number;
  proto: number;
  vip: string;
  portgroup: string;
  /**
   * What makes two candidates "the same thing" for suppression, without the detector name (added by the manager):
   * e.g. `${src}>${dst}` for a port scan. Candidates with the same key within the suppression window are merged.
   */
  key: string;
  /** Numbers that prove it (flows, distinct ports, packets/s, baseline, threshold ...). */
  counts: Record<string, number>;
  /** At most 5. */
  samples: AlertSample[];
  /** Where the evidence came from: flows from NetFlow, flows or packets from captures, a user rule. */
  origin: 'netflow' | 'pcap' | 'rule';
  /** Snort/Suricata rule id and the like, else 0 / ''. */
  sid?: number;
  classtype?: string;
}

export type Emit = (a: AlertCandidate) => void;

/** Runs on every batch of enriched flows (NetFlow and pcap-derived alike), in arrival order. */
export interface FlowDetector {
  readonly id: string;
  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void;
  /** Optional: drop state older than `now` (event time) minus the detector's window; called about once a minute. */
  expire?(now: number): void;
}

/** A captured packet with its decoding (both from the pcap path), handed to packet detectors in capture order. */
export interface PacketEvent {
  packet: CapturePacket;
  decoded: DecodeResult;
  /** The capture file's name. */
  capture: string;
}

export interface PacketDetector {
  readonly id: string;
  onPacket(ev: PacketEvent, emit: Emit): void;
  /** The capture ended: report what only the end tells (e.g. a count that never reached its window's end). */
  finish?(emit: Emit): void;
  expire?(now: number): void;
}

/** A sample from a flow record. */
export function sampleOfFlow(f: EnrichedFlow, note?: string): AlertSample {
  const s: AlertSample = {
    time: f.first, srcAddr: f.srcAddr, dstAddr: f.dstAddr, srcPort: f.srcPort, dstPort: f.dstPort, proto: f.proto,
    tcpFlags: f.tcpFlags, packets: f.packets, bytes: f.bytes,
  };
  if (note !== undefined) s.note = note;
  return s;
}
