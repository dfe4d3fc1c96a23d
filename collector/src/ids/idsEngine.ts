// Runs the detectors: every batch of enriched flows (NetFlow and captures alike) and, for captures, every packet.
// A detector that throws is counted and logged and the others go on: a bug in one detection must never stop ingest
// or lose flows. Windows run on event time. Each source keeps its own clock (live NetFlow, each capture being read),
// and detectors drop state older than the slowest clock's window: a capture of last year's traffic read while live
// flows arrive keeps its windows until it ends, instead of losing them to the live clock.
import type { EnrichedFlow } from '../storage/flowRows.ts';
import type { CapturePacket } from '../pcap/captureReader.ts';
import type { DecodeResult } from '../pcap/packetDecoder.ts';
import type { AlertCandidate, FlowDetector, PacketDetector } from './idsTypes.ts';

export interface IdsEngineStats {
  flows: number;
  packets: number;
  detectorErrors: Record<string, number>;
}

/** Where the engine's alert candidates go: the alert manager, or (in the capture-reading thread) a relay to it. */
export interface AlertSink {
  offer(c: AlertCandidate, capture?: string): unknown;
}

/** Where detector failures are logged: pino's logger, or (in the capture-reading thread) a relay to it. */
export interface ErrorLog {
  error(obj: object, msg: string): void;
}

/** How often (event time) detectors drop old state. */
const EXPIRE_EVERY_MS = 60_000;

export class IdsEngine {
  readonly stats: IdsEngineStats = { flows: 0, packets: 0, detectorErrors: {} };
  /** Newest event time per source: 'netflow', or 'pcap:<capture>' while that capture is read. */
  private readonly clocks = new Map<string, number>();
  private lastExpire = 0;

  constructor(
    readonly flowDetectors: readonly FlowDetector[],
    readonly packetDetectors: readonly PacketDetector[],
    readonly alerts: AlertSink,
    private readonly log?: ErrorLog,
  ) {}

  /** Run the flow detectors on a batch (after enrichment, so VIPs and portgroups are known). */
  onFlows(flows: readonly EnrichedFlow[]): void {
    if (flows.length === 0 || this.flowDetectors.length === 0) return;
    this.stats.flows += flows.length;
    const capture = flows[0]!.source === 'pcap' ? flows[0]!.capture : '';
    const emit = (c: AlertCandidate) => this.alerts.offer(c, capture);
    for (const d of this.flowDetectors) {
      try {
        d.onFlows(flows, emit);
      } catch (e) {
        this.failed(d.id, e);
      }
    }
    const source = capture ? `pcap:${capture}` : 'netflow';
    let newest = this.clocks.get(source) ?? 0;
    for (let i = 0; i < flows.length; i++) if (flows[i]!.last > newest) newest = flows[i]!.last;
    this.advance(source, newest);
  }

  /** A packet hook for one capture (give it to the capture ingest), or null when no packet detector runs. */
  packetHook(capture: string): ((packet: CapturePacket, decoded: DecodeResult) => void) | null {
    if (this.packetDetectors.length === 0) return null;
    const emit = (c: AlertCandidate) => this.alerts.offer(c, capture);
    const ev = { packet: null as unknown as CapturePacket, decoded: null as unknown as DecodeResult, capture };
    const source = `pcap:${capture}`;
    let clock = 0;
    return (packet, decoded) => {
      this.stats.packets++;
      // One event object per capture, refilled: this runs for every packet.
      ev.packet = packet;
      ev.decoded = decoded;
      for (const d of this.packetDetectors) {
        try {
          d.onPacket(ev, emit);
        } catch (e) {
          this.failed(d.id, e);
        }
      }
      if (packet.ts > clock + 1000) {
        clock = packet.ts;
        this.advance(source, clock);
      }
    };
  }

  /** The capture ended: detectors report what only the end tells; its clock no longer holds expiry back. */
  finishCapture(capture: string): void {
    this.captureEnded(capture);
    const emit = (c: AlertCandidate) => this.alerts.offer(c, capture);
    for (const d of this.packetDetectors) {
      try {
        d.finish?.(emit);
      } catch (e) {
        this.failed(d.id, e);
      }
    }
  }

  /** The capture ended (its packets were seen by the capture-reading thread's detectors): its clock no longer holds expiry back. */
  captureEnded(capture: string): void {
    this.clocks.delete(`pcap:${capture}`);
  }

  /** Counts from the capture-reading thread's packet detectors: packets seen since its last report, errors per detector so far. */
  addPacketStats(packets: number, detectorErrors: Readonly<Record<string, number>>): void {
    this.stats.packets += packets;
    Object.assign(this.stats.detectorErrors, detectorErrors);
  }

  private advance(source: string, newest: number): void {
    if (newest > (this.clocks.get(source) ?? 0)) this.clocks.set(source, newest);
    let now = Infinity;
    for (const t of this.clocks.values()) if (t < now) now = t;
    if (now === Infinity || now - this.lastExpire < EXPIRE_EVERY_MS) return;
    this.lastExpire = now;
    for (const d of [...this.flowDetectors, ...this.packetDetectors]) {
      try {
        d.expire?.(now);
      } catch (e) {
        this.failed(d.id, e);
      }
    }
  }

  private failed(id: string, e: unknown): void {
    const n = (this.stats.detectorErrors[id] ?? 0) + 1;
    this.stats.detectorErrors[id] = n;
    // Log the first and then every 1000th, so a detector failing on every flow does not flood the log.
    if (n === 1 || n % 1000 === 0) this.log?.error({ detector: id, errors: n, err: (e as Error).message }, 'IDS detector failed');
  }
}
