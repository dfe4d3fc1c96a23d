// NetFlow v5 and v7: fixed 24-byte header and fixed records (48 bytes v5, 52 bytes v7). Times are
// sysUptime-relative; v5 announces its sampling rate in the header (2 bits mode, 14 bits interval).
import { emptyFlowRecord } from '../flow/flowRecord.ts';
import { DecodeError, type DecodeContext, type DecodeResult } from './decodeResult.ts';
import { resolveSamplingRate } from './samplingTable.ts';
import { formatIPv4, readUint } from './wireValues.ts';

export const V5_HEADER_LENGTH = 24;
export const V5_RECORD_LENGTH = 48;
export const V5_MAX_RECORDS = 30;
export const V7_RECORD_LENGTH = 52;
export const V7_MAX_RECORDS = 28;

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }

/** Absolute ms of a sysUptime-relative time, allowing for the 32-bit uptime wrapping in between. */
function uptimeToMs(exportMs: number, sysUptimeMs: number, t: number): number {
  let ago = sysUptimeMs - t;
  if (ago < -0x80000000) ago += 0x100000000;
  return exportMs - ago;
}

export function decodeNetflowV5(b: Uint8Array, ctx: DecodeContext, res: DecodeResult): void {
  const version = u16(b, 0);
  const v7 = version === 7;
  const recLen = v7 ? V7_RECORD_LENGTH : V5_RECORD_LENGTH;
  const maxRecords = v7 ? V7_MAX_RECORDS : V5_MAX_RECORDS;
  res.version = version;
  if (b.length < V5_HEADER_LENGTH) {
    res.errors.push(new DecodeError('truncated', `NetFlow v${version} header needs ${V5_HEADER_LENGTH} bytes, datagram has ${b.length}`, 0));
    return;
  }
  const count = u16(b, 2);
  const sysUptimeMs = readUint(b, 4, 4);
  const exportMs = readUint(b, 8, 4) * 1000 + Math.floor(readUint(b, 12, 4) / 1e6);
  res.sequence = readUint(b, 16, 4);
  const engineType = v7 ? 0 : b[20];
  const engineId = v7 ? 0 : b[21];
  res.domain = (engineType << 8) | engineId;
  if (count === 0 || count > maxRecords) {
    res.errors.push(new DecodeError('bad-record-count', `NetFlow v${version} header announces ${count} records (1..${maxRecords} allowed); datagram dropped`, 2));
    return;
  }
  res.recordCountForSequence = count;
  let n = count;
  if (V5_HEADER_LENGTH + count * recLen > b.length) {
    n = Math.floor((b.length - V5_HEADER_LENGTH) / recLen);
    res.errors.push(new DecodeError('truncated',
      `NetFlow v${version} header announces ${count} records (${V5_HEADER_LENGTH + count * recLen} bytes), datagram has ${b.length}: ${n} decoded`,
      V5_HEADER_LENGTH + n * recLen));
  }
  const announced = v7 ? 0 : u16(b, 22) & 0x3fff;
  const { rate, source } = resolveSamplingRate(announced, ctx.samplingDefault, ctx.samplingOverride);

  const out = res.records;
  for (let i = 0, o = V5_HEADER_LENGTH; i < n; i++, o += recLen) {
    const r = emptyFlowRecord();
    r.timeReceived = ctx.receivedMs;
    r.exporter = ctx.exporterAddr;
    r.exporterPort = ctx.exporterPort;
    r.version = version;
    r.domain = res.domain;
    r.engineType = engineType;
    r.engineId = engineId;
    r.srcAddr = formatIPv4(b, o);
    r.dstAddr = formatIPv4(b, o + 4);
    r.nextHop = formatIPv4(b, o + 8);
    r.inIf = u16(b, o + 12);
    r.outIf = u16(b, o + 14);
    r.packets = readUint(b, o + 16, 4);
    r.bytes = readUint(b, o + 20, 4);
    r.first = uptimeToMs(exportMs, sysUptimeMs, readUint(b, o + 24, 4));
    r.last = uptimeToMs(exportMs, sysUptimeMs, readUint(b, o + 28, 4));
    r.srcPort = u16(b, o + 32);
    r.dstPort = u16(b, o + 34);
    r.tcpFlags = b[o + 37];
    r.proto = b[o + 38];
    r.srcTos = b[o + 39];
    r.srcAs = u16(b, o + 40);
    r.dstAs = u16(b, o + 42);
    r.srcMask = b[o + 44];
    r.dstMask = b[o + 45];
    if (rate !== 1) {
      r.samplingRate = rate;
      r.bytes *= rate;
      r.packets *= rate;
    }
    out.push(r);
  }
  if (n > 0) { res.samplingRate = rate; res.samplingSource = source; }
}
