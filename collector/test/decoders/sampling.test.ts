// Sampling: rates exporters announce in options data (per sampler, or for the whole domain), rates stated in
// the records themselves, the v5 header, and the caller's configured default and override. Counters are
// multiplied by the rate that applies (RFC 7012 / RFC 5476 element semantics; NetFlow v9 field types).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import { SamplingTable, resolveSamplingRate } from '../../src/decoders/samplingTable.ts';
import {
  dataSet, ip4, ipfixMessage, ipfixOptionsTemplateSet, ipfixTemplateSet, newContext, u16, u32, u8, v5Packet, v5Record,
  v9OptionsTemplateFlowset, v9Packet, v9TemplateFlowset,
} from './datagramBuilder.ts';

const H = { exportTime: 1_700_000_000, sequence: 1, domain: 3 };
const V9 = { sysUptime: 100_000, unixSecs: 1_700_000_000, sequence: 1, sourceId: 3 };

describe('sampling', () => {
  it('IPFIX: selectorId (302) options with samplingPacketInterval/Space (305/306) and samplingSize/Population (309/310)', () => {
    const ctx = newContext();
    const res = decodeDatagram(ipfixMessage(H, [
      ipfixOptionsTemplateSet([
        { id: 300, scopeCount: 1, fields: [{ id: 302, length: 4 }, { id: 305, length: 4 }, { id: 306, length: 4 }] },
        { id: 301, scopeCount: 1, fields: [{ id: 302, length: 2 }, { id: 309, length: 4 }, { id: 310, length: 4 }] },
      ]),
      // selector 1: 1 packet selected, 99 skipped -> 1 in 100; selector 2: 10 of 5000 -> 1 in 500
      dataSet(300, [Buffer.concat([u32(1), u32(1), u32(99)])]),
      dataSet(301, [Buffer.concat([u16(2), u32(10), u32(5000)])]),
      ipfixTemplateSet([{ id: 256, fields: [{ id: 302, length: 4 }, { id: 1, length: 4 }, { id: 2, length: 4 }] }]),
      dataSet(256, [Buffer.concat([u32(1), u32(1500), u32(1)]), Buffer.concat([u32(2), u32(40), u32(2)])]),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.optionsRecords, 2);
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes, r.packets]), [[100, 150000, 100], [500, 20000, 1000]]);
    assert.equal(res.samplingSource, 'announced');
    assert.equal(ctx.sampling.rateFor(ctx.exporterKey, 3, 1), 100);
  });

  it('v9: sampler options (48 id, 49 mode, 50 random interval) apply to records naming the sampler', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(V9, [
      v9OptionsTemplateFlowset([{ id: 257, scope: [{ id: 1, length: 4 }], options: [{ id: 48, length: 1 }, { id: 49, length: 1 }, { id: 50, length: 4 }] }]),
      dataSet(257, [Buffer.concat([u32(0), u8(1), u8(2), u32(1000)]), Buffer.concat([u32(0), u8(2), u8(2), u32(64)])], 2),
      v9TemplateFlowset([{ id: 260, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }, { id: 48, length: 1 }] }]),
      dataSet(260, [Buffer.concat([u32(40), u32(1), u8(1)]), Buffer.concat([u32(80), u32(2), u8(2)]), Buffer.concat([u32(1), u32(1), u8(9)])], 3),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    // Sampler 9 was never announced and there is no domain-wide rate: unsampled.
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes, r.packets]), [[1000, 40000, 1000], [64, 5120, 128], [1, 1, 1]]);
  });

  it('v9: a domain-wide samplingInterval (34) applies to every record; a rate in the record itself wins', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(V9, [
      v9OptionsTemplateFlowset([{ id: 256, scope: [{ id: 1, length: 4 }], options: [{ id: 34, length: 4 }, { id: 35, length: 1 }] }]),
      dataSet(256, [Buffer.concat([u32(0), u32(10), u8(1)])], 3),
      v9TemplateFlowset([
        { id: 260, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }] },
        { id: 261, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }, { id: 34, length: 4 }] },
      ]),
      dataSet(260, [Buffer.concat([u32(100), u32(1)])]),
      dataSet(261, [Buffer.concat([u32(100), u32(1), u32(4)])]),
    ]), ctx);
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes]), [[10, 1000], [4, 400]]);
  });

  it('an exporter that announces one sampler but omits its id from records gets that sampler', () => {
    const ctx = newContext();
    const res = decodeDatagram(v9Packet(V9, [
      v9OptionsTemplateFlowset([{ id: 257, scope: [{ id: 1, length: 4 }], options: [{ id: 48, length: 2 }, { id: 50, length: 4 }] }]),
      dataSet(257, [Buffer.concat([u32(0), u16(5), u32(256)])], 2),
      v9TemplateFlowset([{ id: 260, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }] }]),
      dataSet(260, [Buffer.concat([u32(3), u32(1)])]),
    ]), ctx);
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes, r.packets]), [[256, 768, 256]]);
  });

  it('override beats announced, announced beats default, default beats nothing', () => {
    const opts = v9OptionsTemplateFlowset([{ id: 256, scope: [{ id: 1, length: 4 }], options: [{ id: 34, length: 4 }] }]);
    const tpl = v9TemplateFlowset([{ id: 260, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }] }]);
    const announce = dataSet(256, [Buffer.concat([u32(0), u32(10)])]);
    const data = dataSet(260, [Buffer.concat([u32(100), u32(1)])]);
    const run = (flowsets: Buffer[], samplingDefault?: number, samplingOverride?: number) => {
      const res = decodeDatagram(v9Packet(V9, flowsets), newContext({ samplingDefault, samplingOverride }));
      return [res.records[0].samplingRate, res.records[0].bytes, res.samplingSource];
    };
    assert.deepEqual(run([opts, announce, tpl, data], 50, 2000), [2000, 200000, 'override']);
    assert.deepEqual(run([opts, announce, tpl, data], 50), [10, 1000, 'announced']);
    assert.deepEqual(run([tpl, data], 50), [50, 5000, 'default']);
    assert.deepEqual(run([tpl, data]), [1, 100, 'none']);
    assert.deepEqual(resolveSamplingRate(0, undefined, undefined), { rate: 1, source: 'none' });
  });

  it('v5: the header interval (low 14 bits; the top 2 bits are the mode) is the announced rate', () => {
    const rec = v5Record({ src: '10.0.0.1', dst: '10.0.0.2', packets: 3, bytes: 300, first: 0, last: 0, srcPort: 1, dstPort: 2, proto: 6 });
    const hdr = { sysUptime: 0, unixSecs: 1_700_000_000, unixNsecs: 0, sequence: 0 };
    const a = decodeDatagram(v5Packet({ ...hdr, samplingInterval: (1 << 14) | 100 }, [rec]), newContext());
    assert.deepEqual([a.records[0].samplingRate, a.records[0].bytes, a.records[0].packets, a.samplingSource], [100, 30000, 300, 'announced']);
    const b = decodeDatagram(v5Packet(hdr, [rec]), newContext({ samplingDefault: 8 }));
    assert.deepEqual([b.records[0].samplingRate, b.records[0].bytes, b.samplingSource], [8, 2400, 'default']);
    const c = decodeDatagram(v5Packet({ ...hdr, samplingInterval: 100 }, [rec]), newContext({ samplingOverride: 3 }));
    assert.deepEqual([c.records[0].samplingRate, c.samplingSource], [3, 'override']);
  });

  it('keeps learned rates per exporter key and domain, and persists them', () => {
    const t = new SamplingTable();
    t.learn('a', 1, -1, 100);
    t.learn('a', 1, 7, 32);
    t.learn('a', 2, 7, 64);
    assert.equal(t.rateFor('a', 1, 7), 32);
    assert.equal(t.rateFor('a', 1, 8), 100, 'unknown sampler: the domain-wide rate');
    assert.equal(t.rateFor('a', 2), 64, 'no sampler id, one sampler announced: that one');
    assert.equal(t.rateFor('b', 1, 7), 0);
    assert.equal(t.learn('a', 1, 7, 32), false, 'relearning the same rate changes nothing');
    assert.equal(t.learn('a', 1, 7, 0), false, 'a rate below 1 is ignored');
    const back = SamplingTable.fromJSON(JSON.parse(JSON.stringify(t)));
    assert.equal(back.rateFor('a', 1, 7), 32);
    assert.equal(back.rateFor('a', 1, -1), 100);
    assert.equal(back.rateFor('a', 2, 7), 64);
    assert.equal(SamplingTable.fromJSON({ domains: [null, { exporterKey: 5 }] }).rateFor('a', 1), 0);
  });

  it('IPFIX: sampling in the data record itself and records without any', () => {
    const ctx = newContext();
    const res = decodeDatagram(ipfixMessage(H, [
      ipfixTemplateSet([{ id: 256, fields: [{ id: 8, length: 4 }, { id: 1, length: 4 }, { id: 305, length: 4 }, { id: 306, length: 4 }] }]),
      dataSet(256, [Buffer.concat([ip4('10.0.0.1'), u32(10), u32(1), u32(1)]), Buffer.concat([ip4('10.0.0.2'), u32(10), u32(0), u32(0)])]),
    ]), ctx);
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes]), [[2, 20], [1, 10]]);
  });
});
