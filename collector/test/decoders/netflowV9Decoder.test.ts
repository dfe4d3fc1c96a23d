// NetFlow v9 (RFC 3954) decoding from byte-built packets: flowsets in any order, options templates with
// v9 scope fields, padding, sysUptime-relative and absolute times, zero-length and bad templates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import {
  dataSet, ip4, newContext, u16, u32, u64, u8, v9OptionsTemplateFlowset, v9Packet, v9TemplateFlowset,
} from './datagramBuilder.ts';

const UNIX = 1_700_000_000;
const UPTIME = 3_600_000; // the exporter booted an hour before the export
const H = { sysUptime: UPTIME, unixSecs: UNIX, sequence: 42, sourceId: 513 };
const T256 = { id: 256, fields: [{ id: 8, length: 4 }, { id: 12, length: 4 }, { id: 22, length: 4 }, { id: 21, length: 4 }, { id: 1, length: 4 }, { id: 2, length: 4 }, { id: 4, length: 1 }] };
const rec = (src: string, first: number, last: number, bytes: number) =>
  Buffer.concat([ip4(src), ip4('10.9.9.9'), u32(first), u32(last), u32(bytes), u32(1), u8(6)]);

describe('NetFlow v9', () => {
  it('decodes data flowsets before and after their template flowset in one packet, in flowset order', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(H, [
      dataSet(256, [rec('10.0.0.1', UPTIME - 5000, UPTIME - 1000, 100)], 1),
      v9TemplateFlowset([T256]),
      dataSet(256, [rec('10.0.0.2', UPTIME - 2000, UPTIME, 200)], 1),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.version, 9); assert.equal(res.domain, 513); assert.equal(res.sequence, 42);
    assert.equal(res.recordCountForSequence, 1, 'v9 sequence numbers count packets');
    // The set that came before its template is held and decoded after the packet's own sets.
    assert.deepEqual(res.records.map((r) => r.srcAddr), ['10.0.0.2', '10.0.0.1']);
    assert.equal(res.pendingHeld, 1); assert.equal(res.pendingDecoded, 1);
    const [b, a] = res.records;
    // RFC 3954: FIRST/LAST_SWITCHED are sysUptime (ms) of the first/last packet; unix_secs is the export time.
    assert.deepEqual([a.first, a.last], [UNIX * 1000 - 5000, UNIX * 1000 - 1000]);
    assert.deepEqual([b.first, b.last], [UNIX * 1000 - 2000, UNIX * 1000]);
    assert.deepEqual([a.bytes, b.bytes, a.proto, a.domain, a.version], [100, 200, 6, 513, 9]);
  });

  it('handles sysUptime wrapping at 2^32 ms between the flow start and the export', () => {
    const ctx = newContext();
    const h = { ...H, sysUptime: 1000 };
    const res = decodeDatagram(v9Packet(h, [v9TemplateFlowset([T256]), dataSet(256, [rec('10.0.0.1', 0xffffffff - 999, 500, 1)], 1)]), ctx);
    assert.deepEqual([res.records[0].first, res.records[0].last], [UNIX * 1000 - 2000, UNIX * 1000 - 500]);
  });

  it('prefers absolute times (152/153, as Cisco ASA sends) over sysUptime-relative ones', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(H, [
      v9TemplateFlowset([{ id: 260, fields: [{ id: 22, length: 4 }, { id: 152, length: 8 }, { id: 153, length: 8 }, { id: 21, length: 4 }] }]),
      dataSet(260, [Buffer.concat([u32(1), u64(1_699_999_000_000), u64(1_699_999_001_000), u32(2)])]),
    ]), ctx);
    assert.deepEqual([res.records[0].first, res.records[0].last], [1_699_999_000_000, 1_699_999_001_000]);
  });

  it('reads options templates with v9 scope types without mistaking scope 1 (System) for octetDeltaCount', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(H, [
      v9OptionsTemplateFlowset([{ id: 300, scope: [{ id: 1, length: 4 }, { id: 2, length: 2 }], options: [{ id: 34, length: 4 }] }], 2),
      dataSet(300, [Buffer.concat([u32(1), u16(3), u32(20)])], 2),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.records.length, 0);
    assert.equal(res.optionsRecords, 1);
    assert.equal(ctx.sampling.rateFor(ctx.exporterKey, 513), 20);
  });

  it('skips zero-length fields and padding, including zero-filled bytes after the last flowset', () => {
    const ctx = newContext();
    const res = decodeDatagram(Buffer.concat([v9Packet(H, [
      v9TemplateFlowset([{ id: 270, fields: [{ id: 7, length: 2 }, { id: 95, length: 0 }, { id: 8, length: 0 }, { id: 11, length: 2 }] }], 2),
      dataSet(270, [Buffer.concat([u16(80), u16(8080)]), Buffer.concat([u16(443), u16(4443)])], 3),
    ]), Buffer.alloc(600)]), ctx);
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.records.map((r) => [r.srcPort, r.dstPort, r.srcAddr]), [[80, 8080, ''], [443, 4443, '']]);
    assert.equal(res.unknownFields.size, 0, 'a zero-length field carries nothing to count');
  });

  it('rejects templates with zero fields, too many fields, fields beyond the flowset, or empty records', () => {
    const ctx = newContext();
    const good = v9TemplateFlowset([{ id: 280, fields: [{ id: 7, length: 2 }] }]);
    const zero = Buffer.concat([u16(0), u16(8), u16(281), u16(0)]);
    const huge = Buffer.concat([u16(0), u16(12), u16(282), u16(65535), u16(7), u16(2)]);
    const beyond = Buffer.concat([u16(0), u16(12), u16(283), u16(3), u16(7), u16(2)]);
    const empty = v9TemplateFlowset([{ id: 284, fields: [{ id: 7, length: 0 }] }]);
    const lowId = v9TemplateFlowset([{ id: 12, fields: [{ id: 7, length: 2 }] }]);
    const res = decodeDatagram(v9Packet(H, [zero, huge, beyond, empty, lowId, good, dataSet(280, [u16(9)])]), ctx);
    assert.deepEqual(res.errors.map((e) => e.kind), ['bad-template', 'bad-template', 'bad-template', 'bad-template', 'bad-template']);
    for (const e of res.errors) assert.match(e.message, /offset \d+/);
    assert.deepEqual(res.records.map((r) => r.srcPort), [9], 'the good flowsets after the bad ones still decode');
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 1);
  });

  it('reports flowset lengths below 4 or beyond the packet and keeps the flowsets before them', () => {
    const ctx = newContext();
    const tpl = v9TemplateFlowset([{ id: 290, fields: [{ id: 7, length: 2 }] }]);
    const short = decodeDatagram(v9Packet(H, [tpl, dataSet(290, [u16(1)]), Buffer.from([1, 34, 0, 2, 9, 9])]), ctx);
    assert.deepEqual(short.records.map((r) => r.srcPort), [1]);
    assert.deepEqual(short.errors.map((e) => e.kind), ['bad-set-length']);
    const long = decodeDatagram(v9Packet(H, [dataSet(290, [u16(2)]), Buffer.from([1, 34, 0, 200, 9, 9])]), ctx);
    assert.deepEqual(long.records.map((r) => r.srcPort), [2]);
    assert.deepEqual(long.errors.map((e) => e.kind), ['truncated']);
  });

  it('does not flag a resent identical template as a change, but does a redefinition', () => {
    const ctx = newContext();
    const t = (len: number) => v9Packet(H, [v9TemplateFlowset([{ id: 300, fields: [{ id: 7, length: len }] }])]);
    assert.equal(decodeDatagram(t(2), ctx).templatesChanged, true);
    assert.equal(decodeDatagram(t(2), ctx).templatesChanged, false);
    assert.equal(decodeDatagram(t(4), ctx).templatesChanged, true);
    assert.equal(decodeDatagram(v9Packet(H, [dataSet(300, [u32(70000)])]), ctx).records[0].srcPort, 70000);
  });

  it('reads variable-length fields (65535) as some v9 exporters (H3C) send them', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(H, [
      v9TemplateFlowset([{ id: 310, fields: [{ id: 7, length: 2 }, { id: 82, length: 65535 }, { id: 11, length: 2 }] }]),
      dataSet(310, [Buffer.concat([u16(1), u8(4), Buffer.from('eth0'), u16(2)])], 3),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.records.map((r) => [r.srcPort, r.dstPort]), [[1, 2]]);
  });
});
