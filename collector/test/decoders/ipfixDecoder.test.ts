// IPFIX decoding against RFC 7011/7012 layouts built byte by byte: every expected value below follows from
// the specification and the bytes the test writes, not from running the decoder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import {
  be, dataSet, ip4, ip6, ipfixMessage, ipfixOptionsTemplateSet, ipfixTemplateSet, ipfixWithdrawalSet, mac, newContext,
  ntp, u16, u32, u64, u8, varLen,
} from './datagramBuilder.ts';

const EXPORT = 1_700_000_000; // header export time, seconds
const H = { exportTime: EXPORT, sequence: 100, domain: 7 };
const VMWARE = 6876;

describe('IPFIX: templates and data', () => {
  it('decodes a data set with its template from the same message, with header identity', () => {
    const ctx = newContext();
    const msg = ipfixMessage(H, [
      ipfixTemplateSet([{ id: 256, fields: [{ id: 8, length: 4 }, { id: 12, length: 4 }, { id: 7, length: 2 }, { id: 11, length: 2 }, { id: 4, length: 1 }, { id: 1, length: 8 }, { id: 2, length: 4 }] }]),
      dataSet(256, [
        Buffer.concat([ip4('10.1.2.3'), ip4('192.168.7.9'), u16(51515), u16(443), u8(6), u64(123456789012), u32(99)]),
        Buffer.concat([ip4('10.1.2.4'), ip4('192.168.7.10'), u16(53), u16(5353), u8(17), u64(64), u32(1)]),
      ]),
    ]);
    const res = decodeDatagram(msg, ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.version, 10);
    assert.equal(res.domain, 7);
    assert.equal(res.sequence, 100);
    assert.equal(res.recordCountForSequence, 2);
    assert.equal(res.templatesChanged, true);
    assert.equal(res.records.length, 2);
    const [a, b] = res.records;
    assert.deepEqual([a.srcAddr, a.dstAddr, a.srcPort, a.dstPort, a.proto, a.bytes, a.packets], ['10.1.2.3', '192.168.7.9', 51515, 443, 6, 123456789012, 99]);
    assert.deepEqual([b.srcAddr, b.dstAddr, b.srcPort, b.dstPort, b.proto, b.bytes, b.packets], ['10.1.2.4', '192.168.7.10', 53, 5353, 17, 64, 1]);
    for (const r of res.records) {
      assert.equal(r.version, 10); assert.equal(r.domain, 7); assert.equal(r.exporter, '192.0.2.10'); assert.equal(r.exporterPort, 2055);
      assert.equal(r.timeReceived, ctx.receivedMs); assert.equal(r.source, 'netflow'); assert.equal(r.samplingRate, 1);
      // No time elements: the flow is placed at the export time.
      assert.equal(r.first, EXPORT * 1000); assert.equal(r.last, EXPORT * 1000);
    }
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 1);
  });

  it('keeps templates per exporter key and observation domain', () => {
    const ctx = newContext();
    const tpl = (d: number, len: number) => ipfixMessage({ ...H, domain: d }, [ipfixTemplateSet([{ id: 300, fields: [{ id: 7, length: len }] }])]);
    decodeDatagram(tpl(1, 2), ctx);
    decodeDatagram(tpl(2, 4), ctx);
    const other = { ...ctx, exporterKey: '192.0.2.10:2056' };
    assert.equal(decodeDatagram(ipfixMessage({ ...H, domain: 1 }, [dataSet(300, [u16(80)])]), ctx).records[0].srcPort, 80);
    assert.equal(decodeDatagram(ipfixMessage({ ...H, domain: 2 }, [dataSet(300, [u32(70000)])]), ctx).records[0].srcPort, 70000);
    const none = decodeDatagram(ipfixMessage({ ...H, domain: 1 }, [dataSet(300, [u16(80)])]), other);
    assert.equal(none.records.length, 0);
    assert.equal(none.pendingHeld, 1);
    assert.equal(ctx.templates.templateCount('192.0.2.10:2055'), 2);
    assert.equal(ctx.templates.templateCount('192.0.2.10:2056'), 0);
  });

  it('honours reduced-size encoding: counters in 1, 2, 3, 4, 8 bytes; clamps above 2^53', () => {
    const ctx = newContext();
    const lens = [1, 2, 3, 4, 8];
    for (const [i, len] of lens.entries()) {
      decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([{ id: 400 + i, fields: [{ id: 1, length: len }, { id: 2, length: len }] }])]), ctx);
    }
    const values = [200, 60000, 0xabcdef, 0xfedcba98, 2 ** 40 + 5];
    for (const [i, len] of lens.entries()) {
      const r = decodeDatagram(ipfixMessage(H, [dataSet(400 + i, [Buffer.concat([be(values[i], len), be(1, len)])])]), ctx).records[0];
      assert.equal(r.bytes, values[i], `octetDeltaCount in ${len} bytes`);
      assert.equal(r.packets, 1);
    }
    const big = decodeDatagram(ipfixMessage(H, [dataSet(404, [Buffer.concat([u64(2n ** 60n), u64(3)])])]), ctx).records[0];
    assert.equal(big.bytes, Number.MAX_SAFE_INTEGER, 'counters above 2^53 clamp');
  });

  it('prefers octetDeltaCount, falls back to octetTotalCount then postOctetDeltaCount', () => {
    const ctx = newContext();
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([
      { id: 500, fields: [{ id: 85, length: 4 }, { id: 1, length: 4 }, { id: 86, length: 4 }, { id: 2, length: 4 }] },
      { id: 501, fields: [{ id: 23, length: 4 }, { id: 85, length: 4 }, { id: 24, length: 4 }, { id: 86, length: 4 }] },
      { id: 502, fields: [{ id: 23, length: 4 }, { id: 24, length: 4 }] },
    ])]), ctx);
    const r = (id: number, ...v: number[]) => decodeDatagram(ipfixMessage(H, [dataSet(id, [Buffer.concat(v.map(u32))])]), ctx).records[0];
    assert.deepEqual([r(500, 1000, 10, 100, 1).bytes, r(500, 1000, 10, 100, 1).packets], [10, 1]);
    assert.deepEqual([r(501, 7, 2000, 3, 20).bytes, r(501, 7, 2000, 3, 20).packets], [2000, 20]);
    assert.deepEqual([r(502, 7, 3).bytes, r(502, 7, 3).packets], [7, 3]);
  });

  it('maps the record fields of the information element table', () => {
    const ctx = newContext();
    const fields = [
      { id: 27, length: 16 }, { id: 28, length: 16 }, { id: 29, length: 1 }, { id: 30, length: 1 }, { id: 62, length: 16 },
      { id: 63, length: 16 }, { id: 5, length: 1 }, { id: 55, length: 1 }, { id: 6, length: 2 }, { id: 10, length: 4 },
      { id: 14, length: 2 }, { id: 16, length: 4 }, { id: 17, length: 2 }, { id: 128, length: 4 }, { id: 129, length: 4 },
      { id: 139, length: 2 }, { id: 52, length: 1 }, { id: 53, length: 1 }, { id: 56, length: 6 }, { id: 80, length: 6 },
      { id: 81, length: 6 }, { id: 57, length: 6 }, { id: 58, length: 2 }, { id: 59, length: 2 }, { id: 61, length: 1 },
      { id: 136, length: 1 }, { id: 89, length: 4 }, { id: 351, length: 8 }, { id: 210, length: 3 },
    ];
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([{ id: 600, fields }])]), ctx);
    const rec = Buffer.concat([
      ip6('2001:db8::1'), ip6('fe80::5187:5cd8:d750:cdc9'), u8(64), u8(48), ip6('2001:db8:0:1::'), ip6('::ffff:10.0.0.1'),
      u8(0xb8), u8(0x20), u16(0x0112), u32(5), u16(6), u32(65001), u16(64512), u32(3356), u32(174),
      u16((128 << 8) | 0), u8(2), u8(250), mac('00:50:56:aa:bb:cc'), mac('00:50:56:dd:ee:ff'), mac('02:00:00:00:00:01'),
      mac('ff:ff:ff:ff:ff:ff'), u16(100), u16(200), u8(1), u8(3), u32(0x40), be(0x0100000000bc614en, 8), Buffer.alloc(3),
    ]);
    const res = decodeDatagram(ipfixMessage(H, [dataSet(600, [rec])]), ctx);
    assert.deepEqual(res.errors, []);
    const r = res.records[0];
    assert.equal(r.srcAddr, '2001:db8::1');
    assert.equal(r.dstAddr, 'fe80::5187:5cd8:d750:cdc9');
    assert.equal(r.srcMask, 64); assert.equal(r.dstMask, 48);
    assert.equal(r.nextHop, '2001:db8:0:1::');
    assert.equal(r.bgpNextHop, '::ffff:10.0.0.1');
    assert.equal(r.srcTos, 0xb8); assert.equal(r.dstTos, 0x20);
    assert.equal(r.tcpFlags, 0x12, '2-byte tcpControlBits keep the low 8 bits');
    assert.equal(r.inIf, 5); assert.equal(r.outIf, 6);
    assert.equal(r.srcAs, 65001); assert.equal(r.dstAs, 64512); assert.equal(r.nextAs, 3356); assert.equal(r.prevAs, 174);
    assert.equal(r.icmpType, 128); assert.equal(r.icmpCode, 0);
    assert.equal(r.minTtl, 2); assert.equal(r.maxTtl, 250);
    assert.equal(r.inSrcMac, 0x005056aabbcc); assert.equal(r.inDstMac, 0x005056ddeeff);
    assert.equal(r.outSrcMac, 0x020000000001); assert.equal(r.outDstMac, 0xffffffffffff);
    assert.equal(r.srcVlan, 100); assert.equal(r.dstVlan, 200);
    assert.equal(r.direction, 1); assert.equal(r.endReason, 3); assert.equal(r.fwdStatus, 0x40);
    assert.equal(r.vni, 12345678, 'layer2SegmentId: segment type 0x01 in the top byte, VXLAN VNI in the low 24 bits');
    assert.equal(res.unknownFields.size, 0, 'padding is not an unknown field');
  });

  it('reads ICMP type/code from 32 and 176/177, VLANs from dot1q elements when 58/59 are absent', () => {
    const ctx = newContext();
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([
      { id: 610, fields: [{ id: 32, length: 2 }, { id: 243, length: 2 }, { id: 254, length: 2 }] },
      { id: 611, fields: [{ id: 176, length: 1 }, { id: 177, length: 1 }, { id: 58, length: 2 }, { id: 243, length: 2 }] },
    ])]), ctx);
    const a = decodeDatagram(ipfixMessage(H, [dataSet(610, [Buffer.concat([u16((3 << 8) | 13), u16(42), u16(43)])])]), ctx).records[0];
    assert.deepEqual([a.icmpType, a.icmpCode, a.srcVlan, a.dstVlan], [3, 13, 42, 43]);
    const b = decodeDatagram(ipfixMessage(H, [dataSet(611, [Buffer.concat([u8(11), u8(0), u16(7), u16(42)])])]), ctx).records[0];
    assert.deepEqual([b.icmpType, b.icmpCode, b.srcVlan], [11, 0, 7], 'vlanId (58) wins over dot1qVlanId (243)');
  });

  it('skips unknown elements, enterprise or not, and counts them per (pen, ie)', () => {
    const ctx = newContext();
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([{ id: 620, fields: [
      { id: 7, length: 2 }, { id: 95, length: 4 }, { id: 100, length: 2, pen: 9999 }, { id: 11, length: 2 },
      { id: 8, length: 2 }, // sourceIPv4Address at a length that cannot be an address: skipped, counted
    ] }])]), ctx);
    const res = decodeDatagram(ipfixMessage(H, [dataSet(620, [
      Buffer.concat([u16(1), u32(0xdeadbeef), u16(7), u16(2), u16(0)]),
      Buffer.concat([u16(3), u32(0xdeadbeef), u16(7), u16(4), u16(0)]),
    ])]), ctx);
    assert.deepEqual(res.records.map((r) => [r.srcPort, r.dstPort, r.srcAddr]), [[1, 2, ''], [3, 4, '']]);
    assert.deepEqual(Object.fromEntries(res.unknownFields), { '0:95': 2, '9999:100': 2, '0:8': 2 });
  });
});

describe('IPFIX: VMware vSphere Distributed Switch elements (PEN 6876)', () => {
  const vmwareFields = [
    { id: 8, length: 4 }, { id: 12, length: 4 }, { id: 351, length: 8 },
    { id: 880, length: 1, pen: VMWARE }, { id: 881, length: 4, pen: VMWARE }, { id: 882, length: 4, pen: VMWARE },
    { id: 886, length: 2, pen: VMWARE }, { id: 887, length: 2, pen: VMWARE }, { id: 888, length: 2, pen: VMWARE },
    { id: 889, length: 1, pen: VMWARE }, { id: 890, length: 2, pen: VMWARE }, { id: 898, length: 65535, pen: VMWARE },
  ];

  it('decodes tenant (inner VXLAN) addresses, ports, protocol, interface attributes, role and virtualObsID', () => {
    const ctx = newContext();
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([
      { id: 700, fields: vmwareFields },
      { id: 701, fields: [{ id: 883, length: 16, pen: VMWARE }, { id: 884, length: 16, pen: VMWARE }] },
    ])]), ctx);
    const rec = (obs: string) => Buffer.concat([
      ip4('172.16.0.11'), ip4('172.16.0.12'), be(0x01000000001389n, 8), u8(17), ip4('192.168.10.5'), ip4('192.168.20.6'),
      u16(40000), u16(8080), u16(2), u8(1), u16(1), varLen(Buffer.from(obs)),
    ]);
    const long = 'dvportgroup-'.padEnd(300, 'x');
    const res = decodeDatagram(ipfixMessage(H, [
      dataSet(700, [rec('vm-42.vnic-0'), rec(long), rec('')], 1),
      dataSet(701, [Buffer.concat([ip6('2001:db8:a::5'), ip6('2001:db8:b::6')])]),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.equal(res.records.length, 4);
    const [a, b, c, d] = res.records;
    assert.equal(a.vni, 5001);
    assert.equal(a.vmwTenantProto, 17);
    assert.equal(a.vmwTenantSrcAddr, '192.168.10.5'); assert.equal(a.vmwTenantDstAddr, '192.168.20.6');
    assert.equal(a.vmwTenantSrcPort, 40000); assert.equal(a.vmwTenantDstPort, 8080);
    assert.equal(a.vmwEgressAttr, 2); assert.equal(a.vmwVxlanRole, 1); assert.equal(a.vmwIngressAttr, 1);
    assert.equal(a.vmwVirtualObsId, 'vm-42.vnic-0');
    assert.equal(b.vmwVirtualObsId, long, 'a 300-byte value uses the 255 + 2-byte length form');
    assert.equal(c.vmwVirtualObsId, '');
    assert.equal(c.srcAddr, '172.16.0.11', 'records after a long variable-length field stay aligned');
    assert.equal(d.vmwTenantSrcAddr, '2001:db8:a::5'); assert.equal(d.vmwTenantDstAddr, '2001:db8:b::6');
    assert.equal(res.unknownFields.size, 0);
  });

  it('reports a variable-length field that overruns its set and keeps the records before it', () => {
    const ctx = newContext();
    decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([{ id: 702, fields: [{ id: 7, length: 2 }, { id: 898, length: 65535, pen: VMWARE }] }])]), ctx);
    const good = Buffer.concat([u16(1), varLen(Buffer.from('ok'))]);
    const bad = Buffer.concat([u16(2), u8(200), Buffer.from('short')]);
    const res = decodeDatagram(ipfixMessage(H, [dataSet(702, [good, bad]), ipfixTemplateSet([{ id: 703, fields: [{ id: 7, length: 2 }] }]), dataSet(703, [u16(9)])]), ctx);
    assert.deepEqual(res.records.map((r) => r.srcPort), [1, 9]);
    assert.deepEqual(res.errors.map((e) => e.kind), ['bad-record']);
    assert.match(res.errors[0].message, /offset \d+/);
  });
});

describe('IPFIX: times', () => {
  const ctx = newContext();
  decodeDatagram(ipfixMessage(H, [
    ipfixTemplateSet([
      { id: 800, fields: [{ id: 150, length: 4 }, { id: 151, length: 4 }] },
      { id: 801, fields: [{ id: 152, length: 8 }, { id: 153, length: 8 }] },
      { id: 802, fields: [{ id: 154, length: 8 }, { id: 155, length: 8 }] },
      { id: 803, fields: [{ id: 156, length: 8 }, { id: 157, length: 8 }] },
      { id: 804, fields: [{ id: 158, length: 4 }, { id: 159, length: 4 }] },
      { id: 805, fields: [{ id: 160, length: 8 }, { id: 22, length: 4 }, { id: 21, length: 4 }] },
      { id: 806, fields: [{ id: 22, length: 4 }, { id: 21, length: 4 }] },
      { id: 807, fields: [{ id: 153, length: 8 }, { id: 161, length: 4 }] },
    ]),
  ]), ctx);
  const one = (id: number, ...parts: Buffer[]) => {
    const res = decodeDatagram(ipfixMessage(H, [dataSet(id, [Buffer.concat(parts)])]), ctx);
    assert.deepEqual(res.errors, []);
    return [res.records[0].first, res.records[0].last];
  };

  it('flowStart/EndSeconds (150/151) and Milliseconds (152/153)', () => {
    assert.deepEqual(one(800, u32(1_699_999_990), u32(1_699_999_995)), [1_699_999_990_000, 1_699_999_995_000]);
    assert.deepEqual(one(801, u64(1_699_999_990_123), u64(1_699_999_995_456)), [1_699_999_990_123, 1_699_999_995_456]);
  });

  it('Micro/Nanoseconds (154-157) are NTP timestamps: seconds since 1900 + 2^-32 fraction', () => {
    // fraction 0x80000000 = 0.5 s; 0x40000000 = 0.25 s
    assert.deepEqual(one(802, ntp(1_699_999_990, 0x80000000), ntp(1_699_999_995, 0x40000000)), [1_699_999_990_500, 1_699_999_995_250]);
    assert.deepEqual(one(803, ntp(1_699_999_990, 0), ntp(1_699_999_991, 0xffffffff)), [1_699_999_990_000, 1_699_999_991_999]);
  });

  it('flowStart/EndDeltaMicroseconds (158/159) count back from the export time', () => {
    assert.deepEqual(one(804, u32(5_000_000), u32(250_000)), [EXPORT * 1000 - 5000, EXPORT * 1000 - 250]);
  });

  it('sysUpTime-relative (22/21) with systemInitTimeMilliseconds (160) in the record', () => {
    const init = EXPORT * 1000 - 3_600_000; // up for an hour
    assert.deepEqual(one(805, u64(init), u32(60_000), u32(61_500)), [init + 60_000, init + 61_500]);
  });

  it('sysUpTime-relative times are 32-bit: taken modulo 2^32 around the export time', () => {
    const TWO_32 = 2 ** 32;
    // Up for 60 days: the uptime wrapped once; a flow from 30 s to 10 s before the export.
    const init = EXPORT * 1000 - 60 * 86_400_000;
    const up = (msAgo: number) => u32((EXPORT * 1000 - msAgo - init) % TWO_32);
    assert.deepEqual(one(805, u64(init), up(30_000), up(10_000)), [EXPORT * 1000 - 30_000, EXPORT * 1000 - 10_000]);
    // softflowd -r on a capture a day older than its start: init 0.888 s after the export second, uptimes negative.
    const sfInit = EXPORT * 1000 + 888;
    const neg = (msBefore: number) => u32(TWO_32 - msBefore - 888);
    assert.deepEqual(one(805, u64(sfInit), neg(86_400_000), neg(86_399_500)), [EXPORT * 1000 - 86_400_000, EXPORT * 1000 - 86_399_500]);
  });

  it('sysUpTime-relative (22/21) with systemInitTimeMilliseconds learned from options data', () => {
    const c = newContext();
    const res = decodeDatagram(ipfixMessage(H, [
      ipfixTemplateSet([{ id: 806, fields: [{ id: 22, length: 4 }, { id: 21, length: 4 }] }]),
      ipfixOptionsTemplateSet([{ id: 900, scopeCount: 1, fields: [{ id: 144, length: 4 }, { id: 160, length: 8 }] }]),
      dataSet(900, [Buffer.concat([u32(1), u64(EXPORT * 1000 - 10_000)])]),
      dataSet(806, [Buffer.concat([u32(1000), u32(2000)])]),
    ]), c);
    assert.deepEqual([res.records[0].first, res.records[0].last], [EXPORT * 1000 - 9_000, EXPORT * 1000 - 8_000]);
    assert.equal(res.optionsRecords, 1);
    assert.equal(res.recordCountForSequence, 2, 'options data records count in the IPFIX sequence too');
  });

  it('a duration (161) gives the missing end of the flow', () => {
    assert.deepEqual(one(807, u64(1_699_999_995_000), u32(2500)), [1_699_999_992_500, 1_699_999_995_000]);
  });
});

describe('IPFIX: template withdrawal', () => {
  it('withdraws one template (field count 0), all data templates (id 2) or all options templates (id 3)', () => {
    const ctx = newContext();
    const t = (id: number) => ({ id, fields: [{ id: 7, length: 2 }] });
    decodeDatagram(ipfixMessage(H, [
      ipfixTemplateSet([t(256), t(257), t(258)]),
      ipfixOptionsTemplateSet([{ id: 259, scopeCount: 1, fields: [{ id: 302, length: 4 }, { id: 34, length: 4 }] }]),
    ]), ctx);
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 4);
    let res = decodeDatagram(ipfixMessage(H, [ipfixWithdrawalSet(2, [257]), dataSet(257, [u16(1)]), dataSet(256, [u16(2)])]), ctx);
    assert.equal(res.templatesChanged, true);
    assert.deepEqual(res.records.map((r) => r.srcPort), [2]);
    assert.equal(res.pendingHeld, 1, 'data for a withdrawn template waits for a new definition');
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 3);
    res = decodeDatagram(ipfixMessage(H, [ipfixWithdrawalSet(2, [2])]), ctx);
    assert.equal(res.templatesChanged, true);
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 1, 'withdraw-all (id 2) keeps options templates');
    res = decodeDatagram(ipfixMessage(H, [ipfixWithdrawalSet(3, [3])]), ctx);
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 0);
    assert.deepEqual(res.errors, []);
  });
});

describe('IPFIX: framing', () => {
  it('skips padding after records and templates, and reserved set ids', () => {
    const ctx = newContext();
    const res = decodeDatagram(ipfixMessage(H, [
      ipfixTemplateSet([{ id: 256, fields: [{ id: 7, length: 2 }, { id: 4, length: 1 }] }], 3),
      Buffer.concat([u16(10), u16(8), u32(0)]),
      dataSet(256, [Buffer.concat([u16(1), u8(6)]), Buffer.concat([u16(2), u8(17)])], 2),
    ]), ctx);
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.records.map((r) => [r.srcPort, r.proto]), [[1, 6], [2, 17]]);
    assert.equal(res.reservedSets, 1);
  });

  it('uses the message length: bytes after it are not sets; a length beyond the datagram is reported', () => {
    const ctx = newContext();
    const msg = ipfixMessage(H, [ipfixTemplateSet([{ id: 256, fields: [{ id: 7, length: 2 }] }]), dataSet(256, [u16(5)])]);
    const trailing = Buffer.concat([msg, dataSet(256, [u16(6)])]);
    assert.deepEqual(decodeDatagram(trailing, ctx).records.map((r) => r.srcPort), [5]);
    const longer = Buffer.from(msg);
    longer.writeUInt16BE(msg.length + 10, 2);
    const res = decodeDatagram(longer, ctx);
    assert.deepEqual(res.records.map((r) => r.srcPort), [5]);
    assert.deepEqual(res.errors.map((e) => e.kind), ['truncated']);
  });
});

describe('IPFIX: messages back to back', () => {
  it('decodes every message of a buffer holding several (ipfix.dat is such a stream) like separate datagrams', async () => {
    const { readFileSync } = await import('node:fs');
    const stream = readFileSync(new URL('../../../../shared/testdata/netflow/logstash-codec-netflow/ipfix.dat', import.meta.url));
    const messages: Buffer[] = [];
    for (let o = 0; o < stream.length; o += stream.readUInt16BE(o + 2)) messages.push(stream.subarray(o, o + stream.readUInt16BE(o + 2)));
    assert.equal(messages.length, 3);
    const apart = newContext();
    const separate = messages.map((m) => decodeDatagram(m, apart));
    const together = decodeDatagram(stream, newContext());
    assert.deepEqual(together.errors, []);
    assert.deepEqual(together.records, separate.flatMap((r) => r.records));
    assert.equal(together.sequence, separate[0].sequence);
    assert.equal(together.recordCountForSequence, separate.reduce((n, r) => n + r.recordCountForSequence, 0));
    const junk = decodeDatagram(Buffer.concat([messages[0], Buffer.from([1, 2, 3])]), newContext());
    assert.deepEqual(junk.errors.map((e) => e.kind), ['truncated'], 'bytes after a message that are no message are reported');
  });
});
