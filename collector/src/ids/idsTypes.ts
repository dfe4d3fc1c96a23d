// The contract between detectors and the rest of dvflow. Detectors are small modules, pure except for their own
// windowed state: flows (or packets) in, alert candidates out through `emit`. They run on event time (flow and
// packet timestamps), never on the wall clock, so a replayed capture raises the same alerts as live traffic.
// The alert manager (alertManager.ts) merges repeated candidates for one subject, stores and sends them.
import type { EnrichedFlow } from '../storage/flowRows.ts';
import type { CapturePacket } from '../pcap/captureReader.ts';
import type { DecodeResult } from '../pcap/packetDecoder.ts';

export { SEVERITIES, type AlertSample, type Severity } from './alertShapes.ts';
import type { AlertRow, AlertSample } from './alertShapes.ts';

/**
 * A detection: the fields of the alert it becomes (documented on AlertRow; `time` is the event time of the evidence
 * that crossed the threshold), plus how the manager merges it with others.
 */
export interface AlertCandidate extends Pick<AlertRow,
  'time' | 'detector' | 'severity' | 'summary' | 'src' | 'dst' | 'dstPort' | 'proto' | 'vip' | 'portgroup' | 'counts' | 'samples'> {
  /**
   * What makes two candidates "the same thing" for suppression, without the detector name (added by the manager):
   * e.g. `${src}>${dst}` for a port scan. Candidates with the same key within the suppression window are merged.
   */
  key: string;
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
