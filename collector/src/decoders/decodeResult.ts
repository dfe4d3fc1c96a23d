// What a decode call takes (the caller's context: exporter identity, template cache, sampling) and hands
// back: flow records, typed errors (never thrown), sequence data for exporter accounting, template changes.
import type { FlowRecord } from '../flow/flowRecord.ts';
import type { RateSource, SamplingTable } from './samplingTable.ts';
import type { TemplateCache } from './templateCache.ts';

export interface DecodeContext {
  /** How the caller tells exporters apart (the daemon: "addr" or "addr:port"); templates are kept per key. */
  exporterKey: string;
  /** Goes into FlowRecord.exporter / exporterPort. */
  exporterAddr: string;
  exporterPort: number;
  /** When the datagram arrived (ms since epoch): FlowRecord.timeReceived. */
  receivedMs: number;
  templates: TemplateCache;
  sampling: SamplingTable;
  /** Rate applied when the exporter announces none (configured). */
  samplingDefault?: number;
  /** Rate applied whatever the exporter announces (configured). */
  samplingOverride?: number;
}

export type DecodeErrorKind =
  /** The datagram or a set ends before its header or declared length says it should. */
  | 'truncated'
  /** The version field is not 5, 7, 9 or 10. */
  | 'bad-version'
  /** A header length or record count that contradicts the datagram. */
  | 'bad-length'
  | 'bad-record-count'
  /** A set/flowset length below its header size or beyond the datagram. */
  | 'bad-set-length'
  /** A template or options template that cannot be used (zero or huge field count, too long, bad id). */
  | 'bad-template'
  /** A data set whose template is unknown and could not be held for later. */
  | 'template-missing'
  /** A data record that overruns its set (variable-length field too long). */
  | 'bad-record';

/**
 * A decode problem: what kind, where (byte offset in the datagram) and a message saying both. Not an Error
 * subclass on purpose: it is returned, never thrown, and capturing a stack per bad datagram would cost more
 * than decoding it.
 */
export class DecodeError {
  readonly name = 'DecodeError';
  constructor(
    readonly kind: DecodeErrorKind,
    readonly message: string,
    /** Byte offset in the datagram where the problem starts (-1: not tied to one place). */
    readonly offset: number,
  ) {}

  toString(): string {
    return `${this.name}[${this.kind}] ${this.message}`;
  }
}

export type SamplingSource = RateSource;

export interface DecodeResult {
  /** 5, 7, 9, 10; 0 when the datagram is too short to say. */
  version: number;
  /** v9 source id / IPFIX observation domain id / v5 engine type<<8|engine id. */
  domain: number;
  records: FlowRecord[];
  errors: DecodeError[];
  /** The header's sequence number. */
  sequence: number;
  /** What the exporter's sequence counts in this datagram: v5/v7 flows, v9 1 (packets), IPFIX data records. */
  recordCountForSequence: number;
  /** A template was added, replaced or withdrawn. */
  templatesChanged: boolean;
  /** Fields skipped because dvflow does not map them: "pen:ie" (pen 0 for IANA) → occurrences. */
  unknownFields: Map<string, number>;
  /** Sets with a reserved id (IPFIX 4..255, v9 2..255), skipped. */
  reservedSets: number;
  /** Options data records read (sampling, system init time, ...). */
  optionsRecords: number;
  /** Data sets held because their template has not arrived yet. */
  pendingHeld: number;
  /**
   * Records at the end of `records` that come from held sets (of earlier datagrams, or earlier in this one)
   * decoded now that their template arrived; they keep the timeReceived of the datagram that carried them.
   */
  pendingDecoded: number;
  /** Held sets dropped (buffer full or expired) during this call. */
  pendingDropped: number;
  /** Sampling applied to the last flow record, and where the rate came from ('none' when no records). */
  samplingRate: number;
  samplingSource: SamplingSource;
}

export function emptyDecodeResult(): DecodeResult {
  return {
    version: 0, domain: 0, records: [], errors: [], sequence: 0, recordCountForSequence: 0,
    templatesChanged: false, unknownFields: new Map(), reservedSets: 0, optionsRecords: 0,
    pendingHeld: 0, pendingDecoded: 0, pendingDropped: 0, samplingRate: 1, samplingSource: 'none',
  };
}
