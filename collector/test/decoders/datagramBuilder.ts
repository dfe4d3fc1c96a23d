// Test helper: builds NetFlow v5/v7, v9 and IPFIX datagrams byte by byte from the RFC layouts, so tests can
// state inputs and expected values from the specifications (RFC 3954, RFC 7011) rather than from a capture.
import type { DecodeContext } from '../../src/decoders/decodeResult.ts';
import { SamplingTable } from '../../src/decoders/samplingTable.ts';
import { TemplateCache } from '../../src/decoders/templateCache.ts';

/** Unsigned big-endian of `len` bytes (bigint for values beyond 2^53). */
export function be(v: number | bigint, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = BigInt(v);
  for (let i = len - 1; i >= 0; i--) { b[i] = Number(x & 0xffn); x >>= 8n; }
  return b;
}
export const u8 = (v: number) => be(v, 1);
export const u16 = (v: number) => be(v, 2);
export const u32 = (v: number) => be(v, 4);
export const u64 = (v: number | bigint) => be(v, 8);
export const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
/** IPv6 text, full or with "::", optionally ending in a dotted IPv4 ("::ffff:10.0.0.1"). */
export function ip6(s: string): Buffer {
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = ip4(dotted[2]);
    s = `${dotted[1]}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}
export const mac = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');
/** NTP timestamp (RFC 7011 dateTimeMicroseconds/Nanoseconds): seconds since 1900 and a 2^-32 fraction. */
export function ntp(unixSeconds: number, fraction: number): Buffer {
  return Buffer.concat([u32(unixSeconds + 2208988800), u32(fraction)]);
}
/** IPFIX variable-length encoding: 1-byte length, or 255 then a 2-byte length. */
export function varLen(value: Buffer): Buffer {
  return value.length < 255 ? Buffer.concat([u8(value.length), value]) : Buffer.concat([u8(255), u16(value.length), value]);
}

export interface Field { id: number; length: number; pen?: number }

function fieldSpec(f: Field, ipfix: boolean): Buffer {
  if (ipfix && f.pen) return Buffer.concat([u16(f.id | 0x8000), u16(f.length), u32(f.pen)]);
  return Buffer.concat([u16(f.id), u16(f.length)]);
}

function set(id: number, body: Buffer, padding = 0): Buffer {
  return Buffer.concat([u16(id), u16(4 + body.length + padding), body, Buffer.alloc(padding)]);
}

/** A data set / data flowset (same layout in v9 and IPFIX). */
export function dataSet(templateId: number, records: Buffer[], padding = 0): Buffer {
  return set(templateId, Buffer.concat(records), padding);
}

export function ipfixTemplateSet(templates: Array<{ id: number; fields: Field[] }>, padding = 0): Buffer {
  return set(2, Buffer.concat(templates.map((t) => Buffer.concat([u16(t.id), u16(t.fields.length), ...t.fields.map((f) => fieldSpec(f, true))]))), padding);
}

export function ipfixOptionsTemplateSet(templates: Array<{ id: number; scopeCount: number; fields: Field[] }>, padding = 0): Buffer {
  return set(3, Buffer.concat(templates.map((t) => Buffer.concat([u16(t.id), u16(t.fields.length), u16(t.scopeCount), ...t.fields.map((f) => fieldSpec(f, true))]))), padding);
}

/** Template withdrawal records (field count 0) in a template (2) or options template (3) set. */
export function ipfixWithdrawalSet(setId: 2 | 3, templateIds: number[]): Buffer {
  return set(setId, Buffer.concat(templateIds.map((id) => Buffer.concat([u16(id), u16(0)]))));
}

export function ipfixMessage(h: { exportTime: number; sequence: number; domain: number }, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([u16(10), u16(16 + body.length), u32(h.exportTime), u32(h.sequence), u32(h.domain), body]);
}

export function v9TemplateFlowset(templates: Array<{ id: number; fields: Field[] }>, padding = 0): Buffer {
  return set(0, Buffer.concat(templates.map((t) => Buffer.concat([u16(t.id), u16(t.fields.length), ...t.fields.map((f) => fieldSpec(f, false))]))), padding);
}

/** v9 options template: scope fields use RFC 3954's scope types (1 System, 2 Interface, ...). */
export function v9OptionsTemplateFlowset(templates: Array<{ id: number; scope: Field[]; options: Field[] }>, padding = 0): Buffer {
  return set(1, Buffer.concat(templates.map((t) => Buffer.concat([
    u16(t.id), u16(t.scope.length * 4), u16(t.options.length * 4),
    ...t.scope.map((f) => fieldSpec(f, false)), ...t.options.map((f) => fieldSpec(f, false)),
  ]))), padding);
}

export function v9Packet(h: { sysUptime: number; unixSecs: number; sequence: number; sourceId: number; count?: number }, flowsets: Buffer[]): Buffer {
  return Buffer.concat([u16(9), u16(h.count ?? flowsets.length), u32(h.sysUptime), u32(h.unixSecs), u32(h.sequence), u32(h.sourceId), ...flowsets]);
}

export interface V5Record {
  src: string; dst: string; nextHop?: string; input?: number; output?: number; packets: number; bytes: number;
  first: number; last: number; srcPort: number; dstPort: number; tcpFlags?: number; proto: number; tos?: number;
  srcAs?: number; dstAs?: number; srcMask?: number; dstMask?: number;
}

export function v5Record(r: V5Record): Buffer {
  return Buffer.concat([
    ip4(r.src), ip4(r.dst), ip4(r.nextHop ?? '0.0.0.0'), u16(r.input ?? 0), u16(r.output ?? 0), u32(r.packets), u32(r.bytes),
    u32(r.first), u32(r.last), u16(r.srcPort), u16(r.dstPort), u8(0), u8(r.tcpFlags ?? 0), u8(r.proto), u8(r.tos ?? 0),
    u16(r.srcAs ?? 0), u16(r.dstAs ?? 0), u8(r.srcMask ?? 0), u8(r.dstMask ?? 0), u16(0),
  ]);
}

/** v7 record: v5's first 36 bytes, then flags, tcp flags, proto, tos, AS, masks, flags2, router_sc. */
export function v7Record(r: V5Record): Buffer {
  return Buffer.concat([v5Record(r).subarray(0, 46), u16(0), ip4('0.0.0.0')]);
}

export function v5Packet(h: { count?: number; sysUptime: number; unixSecs: number; unixNsecs: number; sequence: number; engineType?: number; engineId?: number; samplingInterval?: number; version?: number }, records: Buffer[]): Buffer {
  return Buffer.concat([
    u16(h.version ?? 5), u16(h.count ?? records.length), u32(h.sysUptime), u32(h.unixSecs), u32(h.unixNsecs), u32(h.sequence),
    u8(h.engineType ?? 0), u8(h.engineId ?? 0), u16(h.samplingInterval ?? 0), ...records,
  ]);
}

/** A decode context with fresh state (or the given caches) for exporter 192.0.2.10:2055. */
export function newContext(over: Partial<DecodeContext> = {}): DecodeContext {
  return {
    exporterKey: '192.0.2.10:2055', exporterAddr: '192.0.2.10', exporterPort: 2055, receivedMs: 1_700_000_000_000,
    templates: new TemplateCache(), sampling: new SamplingTable(), ...over,
  };
}
