// NetFlow v5 and v7 from byte-built packets (Cisco's v5/v7 export formats).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import { newContext, v5Packet, v5Record, v7Record, type V5Record } from './datagramBuilder.ts';

const R: V5Record = {
  src: '10.1.1.1', dst: '10.2.2.2', nextHop: '10.3.3.3', input: 4, output: 5, packets: 10, bytes: 1500,
  first: 9_000, last: 9_800, srcPort: 1234, dstPort: 80, tcpFlags: 0x1b, proto: 6, tos: 0x10, srcAs: 65000,
  dstAs: 65001, srcMask: 24, dstMask: 16,
};
const HDR = { sysUptime: 10_000, unixSecs: 1_700_000_000, unixNsecs: 250_000_000, sequence: 777, engineType: 1, engineId: 2 };

describe('NetFlow v5/v7', () => {
  it('decodes the header and every record field; times are unix time minus (sysUptime - first/last)', () => {
    const ctx = newContext();
    const res = decodeDatagram(v5Packet(HDR, [v5Record(R), v5Record({ ...R, src: '10.1.1.9', first: 0, last: 10_000 })]), ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.version, 5);
    assert.equal(res.sequence, 777);
    assert.equal(res.domain, (1 << 8) | 2);
    assert.equal(res.recordCountForSequence, 2, 'v5 sequence numbers count flows');
    const [a, b] = res.records;
    const exportMs = 1_700_000_000_250;
    assert.deepEqual(
      [a.srcAddr, a.dstAddr, a.nextHop, a.inIf, a.outIf, a.packets, a.bytes, a.srcPort, a.dstPort, a.tcpFlags, a.proto, a.srcTos, a.srcAs, a.dstAs, a.srcMask, a.dstMask],
      ['10.1.1.1', '10.2.2.2', '10.3.3.3', 4, 5, 10, 1500, 1234, 80, 0x1b, 6, 0x10, 65000, 65001, 24, 16],
    );
    assert.deepEqual([a.first, a.last], [exportMs - 1000, exportMs - 200]);
    assert.deepEqual([b.first, b.last], [exportMs - 10_000, exportMs]);
    assert.deepEqual([a.engineType, a.engineId, a.version, a.domain, a.samplingRate], [1, 2, 5, 258, 1]);
  });

  it('decodes v7 (52-byte records, no engine or sampling fields)', () => {
    const res = decodeDatagram(v5Packet({ ...HDR, version: 7 }, [v7Record(R)]), newContext());
    assert.deepEqual(res.errors, []);
    assert.equal(res.version, 7);
    assert.equal(res.records[0].srcAddr, '10.1.1.1');
    assert.equal(res.records[0].dstAs, 65001);
    assert.equal(res.records[0].domain, 0);
  });

  it('rejects a header record count of 0 or above 30 (v7: 28) without decoding garbage', () => {
    for (const count of [0, 31, 55582]) {
      const res = decodeDatagram(v5Packet({ ...HDR, count }, [v5Record(R)]), newContext());
      assert.deepEqual(res.errors.map((e) => e.kind), ['bad-record-count']);
      assert.equal(res.records.length, 0);
    }
    const v7 = decodeDatagram(v5Packet({ ...HDR, version: 7, count: 29 }, [v7Record(R)]), newContext());
    assert.deepEqual(v7.errors.map((e) => e.kind), ['bad-record-count']);
  });

  it('keeps the whole records of a truncated datagram and reports the truncation', () => {
    const full = v5Packet({ ...HDR, count: 3 }, [v5Record(R), v5Record({ ...R, srcPort: 2 }), v5Record({ ...R, srcPort: 3 })]);
    const res = decodeDatagram(full.subarray(0, full.length - 10), newContext());
    assert.deepEqual(res.records.map((r) => r.srcPort), [1234, 2]);
    assert.deepEqual(res.errors.map((e) => e.kind), ['truncated']);
    assert.equal(res.recordCountForSequence, 3, 'the exporter counted 3 flows in its sequence');
  });
});
