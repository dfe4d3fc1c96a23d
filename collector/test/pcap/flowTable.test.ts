// Flow table rules, one behaviour per test: aggregation, timeouts, TCP end, ICMP ports, keys with VLAN and tunnel
// context, a full table, fragments, and the records it writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';
import { decodePacket } from '../../src/pcap/packetDecoder.ts';
import { END_ACTIVE, END_FORCED, END_IDLE, END_RESOURCES, END_TCP, FlowTable, type FlowInfo, type FlowTableOptions } from '../../src/pcap/flowTable.ts';
import * as B from './packetBuilder.ts';

const T0 = 1_700_000_000_000;

function run(frames: { ts: number; data: Uint8Array; linkType?: number }[], opts: Partial<FlowTableOptions> = {}) {
  const records: FlowRecord[] = [];
  const infos: FlowInfo[] = [];
  const table = new FlowTable({ capture: 'test.pcap', ...opts, onFlow: (r, i) => { records.push(r); infos.push(i); } });
  for (const f of frames) table.add(decodePacket(f.data, f.linkType ?? 1), f.ts);
  table.flush();
  return { records, infos, stats: table.stats };
}

const tcpAt = (ts: number, flags: number, o: { sport?: number; ttl?: number; vlans?: { vid: number }[]; payload?: number } = {}) => ({
  ts, data: B.tcp4Frame('10.0.0.1', '10.0.0.2', o.sport ?? 1000, 80, flags, { ttl: o.ttl, vlans: o.vlans, payload: new Uint8Array(o.payload ?? 0) }),
});

describe('flowTable', () => {
  it('aggregates a 5-tuple: packets, IP bytes, OR-ed flags, first/last, min/max TTL, first ToS', () => {
    const { records } = run([tcpAt(T0, B.TCP.SYN, { ttl: 64 }), tcpAt(T0 + 1500, B.TCP.ACK | B.TCP.PSH, { ttl: 60, payload: 100 }),
      tcpAt(T0 + 2500.7, B.TCP.ACK, { ttl: 62 })], { tcpEndOnFinRst: false });
    assert.equal(records.length, 1);
    const r = records[0];
    assert.deepEqual([r.srcAddr, r.dstAddr, r.srcPort, r.dstPort, r.proto], ['10.0.0.1', '10.0.0.2', 1000, 80, 6]);
    assert.equal(r.packets, 3);
    assert.equal(r.bytes, 40 + 140 + 40);
    assert.equal(r.tcpFlags, B.TCP.SYN | B.TCP.ACK | B.TCP.PSH);
    assert.deepEqual([r.first, r.last, r.timeReceived], [T0, T0 + 2500, T0 + 2500]);
    assert.deepEqual([r.minTtl, r.maxTtl], [60, 64]);
    assert.deepEqual([r.source, r.capture, r.version, r.exporter, r.samplingRate, r.endReason], ['pcap', 'test.pcap', 0, '', 1, END_FORCED]);
  });

  it('ends the open flows in slices at the end of a capture (flushSome), oldest first, as one flush would', () => {
    const frames = Array.from({ length: 25 }, (_, i) => tcpAt(T0 + i, B.TCP.ACK, { sport: 2000 + i }));
    const orphan = { ts: T0 + 30, data: B.ether({ type: 0x800, payload: B.ipv4({ src: '10.9.9.9', dst: '10.1.1.2', proto: 17, id: 5, mf: false, fragOffset: 1480, payload: new Uint8Array(100) }) }) };
    const whole = run([...frames, orphan]).records;
    const sliced: FlowRecord[] = [];
    const slices: number[] = [];
    const table = new FlowTable({ capture: 'test.pcap', onFlow: (r) => sliced.push(r) });
    for (const f of [...frames, orphan]) table.add(decodePacket(f.data, 1), f.ts);
    let more = true;
    while (more) {
      const before = sliced.length;
      more = table.flushSome(10);
      slices.push(sliced.length - before);
    }
    // The waiting fragment becomes a flow of its own first (26 in all), then at most 10 flows a call.
    assert.deepEqual(slices, [10, 10, 6]);
    assert.equal(table.flushSome(10), false);
    assert.deepEqual(sliced.map((r) => [r.srcAddr, r.srcPort, r.packets, r.bytes, r.endReason]), whole.map((r) => [r.srcAddr, r.srcPort, r.packets, r.bytes, r.endReason]));
    assert.deepEqual(sliced.slice(0, 3).map((r) => r.srcPort), [2000, 2001, 2002]);
    assert.equal(table.stats.fragments.orphaned, 1);
  });

  it('ends a TCP flow on FIN or RST; the next packet starts a new flow', () => {
    const frames = [tcpAt(T0, B.TCP.SYN), tcpAt(T0 + 1, B.TCP.FIN | B.TCP.ACK), tcpAt(T0 + 2, B.TCP.ACK), tcpAt(T0 + 3, B.TCP.RST),
      tcpAt(T0 + 4, B.TCP.SYN)];
    const { records } = run(frames);
    assert.deepEqual(records.map((r) => [r.packets, r.endReason]), [[2, END_TCP], [2, END_TCP], [1, END_FORCED]]);
    assert.equal(run(frames, { tcpEndOnFinRst: false }).records.length, 1);
  });

  it('ends a flow idle for longer than the idle timeout, at the next packet or when time passes', () => {
    const other = (ts: number) => ({ ts, data: B.udp4Frame('10.9.9.9', '10.9.9.8', 1, 2) });
    const { records } = run([tcpAt(T0, B.TCP.ACK), tcpAt(T0 + 60_000, B.TCP.ACK), tcpAt(T0 + 120_001, B.TCP.ACK), other(T0 + 180_002),
      other(T0 + 181_000)]);
    const tcp = records.filter((r) => r.proto === 6);
    assert.deepEqual(tcp.map((r) => [r.packets, r.endReason]), [[2, END_IDLE], [1, END_IDLE]]);
    // The second TCP flow ended by a sweep at 181 s, before the end of the capture.
    assert.ok(records.indexOf(tcp[1]) < records.findIndex((r) => r.proto === 17));
    const short = run([tcpAt(T0, B.TCP.ACK), tcpAt(T0 + 11_000, B.TCP.ACK)], { idleTimeoutMs: 10_000 });
    assert.equal(short.records.length, 2);
  });

  it('ends idle flows by sweeps while flows active since they were queued stay open, whatever their order', () => {
    // A (queued first) stays active until 50 s; B (queued second) is silent after 1 s; C keeps time moving.
    const a = (ts: number) => tcpAt(ts, B.TCP.ACK, { sport: 1 });
    const b = (ts: number) => tcpAt(ts, B.TCP.ACK, { sport: 2 });
    const c = (ts: number) => ({ ts, data: B.udp4Frame('10.9.9.9', '10.9.9.8', 1, 2) });
    const frames = [a(T0), b(T0 + 1000), a(T0 + 50_000), c(T0 + 61_500), c(T0 + 100_000), c(T0 + 111_000), a(T0 + 112_000)];
    const { records } = run(frames);
    const tcp = (sport: number) => records.filter((r) => r.proto === 6 && r.srcPort === sport).map((r) => [r.packets, r.endReason]);
    // B ended by the sweep at 61.5 s, the first one past its idle time, although A was ahead of it in the queue; A was
    // not idle then (queued again, not ended), it was at 111 s, so the packet at 112 s starts a new flow.
    assert.deepEqual(tcp(2), [[1, END_IDLE]]);
    assert.deepEqual(tcp(1), [[2, END_IDLE], [1, END_FORCED]]);
    assert.deepEqual(records.map((r) => [r.proto, r.srcPort, r.endReason]), [[6, 2, END_IDLE], [6, 1, END_IDLE], [17, 1, END_FORCED], [6, 1, END_FORCED]]);
  });

  it('when the table is full, gives flows active since they were queued a second chance', () => {
    // Flows 1, 2, 3 queued in that order; 1 and 3 active again later: room for flow 4 is made by ending 2.
    const frames = [1, 2, 3, 1, 3, 4].map((p, i) => tcpAt(T0 + i, B.TCP.ACK, { sport: p }));
    const { records, stats } = run(frames, { maxFlows: 3 });
    assert.equal(stats.evicted, 1);
    assert.deepEqual(records.filter((r) => r.endReason === END_RESOURCES).map((r) => r.srcPort), [2]);
    assert.deepEqual(records.map((r) => [r.srcPort, r.packets]), [[2, 1], [1, 2], [3, 2], [4, 1]]);
  });

  it('splits a long flow at the active timeout', () => {
    const frames = Array.from({ length: 701 }, (_, i) => ({ ts: T0 + i * 1000, data: B.udp4Frame('10.0.0.1', '10.0.0.2', 5, 6) }));
    const { records } = run(frames);
    assert.deepEqual(records.map((r) => [r.packets, r.endReason]), [[301, END_ACTIVE], [301, END_ACTIVE], [99, END_FORCED]]);
    assert.equal(records[1].first, T0 + 301_000);
  });

  it('keeps ICMP type and code, with the nfdump destination port type*256+code', () => {
    const icmp = (type: number, code: number) => B.ether({ type: 0x800, payload: B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 1, payload: B.icmp(type, code) }) });
    const { records } = run([{ ts: T0, data: icmp(8, 0) }, { ts: T0 + 1, data: icmp(8, 0) }, { ts: T0 + 2, data: icmp(3, 13) }]);
    assert.deepEqual(records.map((r) => [r.packets, r.srcPort, r.dstPort, r.icmpType, r.icmpCode]), [[2, 0, 2048, 8, 0], [1, 0, 781, 3, 13]]);
  });

  it('keys flows by VLAN and tunnel context too (nfpcapd mode: bare 5-tuple)', () => {
    const frames = [tcpAt(T0, B.TCP.ACK, { vlans: [{ vid: 10 }] }), tcpAt(T0 + 1, B.TCP.ACK, { vlans: [{ vid: 20 }] }),
      tcpAt(T0 + 2, B.TCP.ACK, { vlans: [{ vid: 10 }] })];
    const erspan = (session: number, ts: number) => ({ ts, data: B.ether({ type: 0x800, payload: B.ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47,
      payload: B.gre({ proto: 0x88be, seq: 1, payload: B.erspan2({ session, index: 0, vlan: 33, payload: B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, B.TCP.ACK) }) }) }) }) });
    const { records, infos } = run([...frames, erspan(1, T0 + 3), erspan(2, T0 + 4), erspan(1, T0 + 5)]);
    assert.deepEqual(records.map((r) => [r.srcVlan, r.packets]), [[10, 2], [20, 1], [33, 2], [33, 1]]);
    assert.deepEqual(infos[2].encap, { kinds: ['gre', 'erspan2'], vlans: [], mplsLabels: [], tunnels: ['192.0.2.1>192.0.2.2'], greKey: null,
      vni: null, erspan: { version: 2, session: 1, index: 0, vlan: 33 } });
    assert.equal(run(frames, { nfpcapdCompat: true }).records.length, 1);
  });

  it('records the VXLAN VNI', () => {
    const vx = B.ether({ type: 0x800, payload: B.ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 17,
      payload: B.udp(40000, 4789, B.vxlan(5001, B.udp4Frame('10.0.0.1', '10.0.0.2', 7, 8))) }) });
    const { records, stats } = run([{ ts: T0, data: vx }]);
    assert.equal(records[0].vni, 5001);
    assert.deepEqual(stats.byEncap, { vxlan: 1 });
  });

  it('ends the least recently active flow when the table is full, and counts it', () => {
    // Flow 1 was active after flow 2: flow 2 goes when flow 3 needs room.
    const frames = [1, 2, 1, 3].map((p, i) => tcpAt(T0 + i, B.TCP.ACK, { sport: p }));
    const { records, stats } = run(frames, { maxFlows: 2 });
    assert.equal(stats.evicted, 1);
    assert.deepEqual(records.filter((r) => r.endReason === END_RESOURCES).map((r) => r.srcPort), [2]);
    assert.equal(records.reduce((n, r) => n + r.packets, 0), 4);
  });

  it('addBatch gives the same flows and counts as add() one packet at a time, in both modes', () => {
    const rnd = B.prng(11);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.9'];
    const frame = (i: number): Uint8Array => {
      const src = pick(hosts), dst = pick(hosts), sport = 1000 + Math.floor(rnd() * 4), kind = Math.floor(rnd() * 8);
      const inner = B.tcp4Frame(src, dst, sport, 80, pick([B.TCP.ACK, B.TCP.ACK, B.TCP.SYN, B.TCP.FIN | B.TCP.ACK]));
      if (kind === 0) return B.tcp4Frame(src, dst, sport, 80, B.TCP.ACK, { vlans: [{ vid: 10 + (i % 3) }] });
      if (kind === 1) return B.tcp4Frame(src, dst, sport, 80, B.TCP.ACK, { vlans: [{ vid: 1 }, { vid: 2 }, { vid: 3 + (i % 2) }] });
      if (kind === 2) return B.ether({ type: 0x800, payload: B.ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: B.gre({ proto: 0x6558, key: i % 2, payload: inner }) }) });
      if (kind === 3) return B.ether({ type: 0x800, payload: B.ipv4({ src, dst, proto: 17, id: 7 + (i % 5), mf: rnd() < 0.5, fragOffset: pick([0, 1480]), payload: B.udp(53, 53, new Uint8Array(40)) }) });
      if (kind === 4) return B.ether({ type: 0x86dd, payload: B.ipv6({ src: '2001:db8::1', dst: pick(['2001:db8::2', '2001:db8::3']), next: 17, payload: B.udp(sport, 53) }) });
      if (kind === 5) return B.ether({ type: 0x800, payload: B.ipv4({ src, dst, proto: 1, payload: B.icmp(8, 0) }) });
      if (kind === 6) return new Uint8Array(9);
      return inner;
    };
    const frames = Array.from({ length: 3000 }, (_, i) => ({ ts: T0 + i * 700, data: frame(i) }));
    for (const nfpcapdCompat of [false, true]) {
      const opts = { nfpcapdCompat, idleTimeoutMs: 20_000, activeTimeoutMs: 90_000 };
      const one = run(frames, opts);
      const records: FlowRecord[] = [];
      const table = new FlowTable({ capture: 'test.pcap', ...opts, onFlow: (r) => records.push(r) });
      for (let i = 0, size = 1; i < frames.length; i += size, size = 1 + Math.floor(rnd() * 300)) {
        const part = frames.slice(i, i + size);
        table.addBatch(part.map((f) => decodePacket(f.data, 1)), Float64Array.from(part, (f) => f.ts), new Int32Array(part.length), part.length);
      }
      table.flush();
      assert.ok(one.records.length > 100 && one.stats.fragments.total > 100);
      assert.deepEqual(records, one.records);
      assert.deepEqual(table.stats, one.stats);
    }
  });

  it('gives the same flows for the same capture (time comes from packets only)', () => {
    const rnd = B.prng(7);
    const frames = Array.from({ length: 3000 }, (_, i) => tcpAt(T0 + i * 97, rnd() < 0.05 ? B.TCP.FIN : B.TCP.ACK, { sport: 1 + Math.floor(rnd() * 50) }));
    assert.deepEqual(run(frames).records, run(frames).records);
  });

  it('counts malformed and skipped packets by reason, and fragments', () => {
    const { stats } = run([{ ts: T0, data: new Uint8Array(5) }, { ts: T0, data: B.ether({ type: 0x0806, payload: new Uint8Array(28) }) },
      tcpAt(T0, B.TCP.ACK)]);
    assert.deepEqual([stats.packets, stats.flowPackets, stats.malformed, stats.skipped], [3, 1, { 'link-truncated': 1 }, { arp: 1 }]);
  });

  describe('fragments', () => {
    const datagram = B.udp(4000, 4001, new Uint8Array(3000)); // 3008 bytes of UDP
    const frag = (ts: number, off: number, id = 9, src = '10.1.1.1') => ({
      ts, data: B.ether({ type: 0x800, payload: B.ipv4({ src, dst: '10.1.1.2', proto: 17, id, mf: off + 1480 < datagram.length, fragOffset: off,
        payload: datagram.subarray(off, Math.min(datagram.length, off + 1480)) }) }),
    });

    it('count a datagram once, with ports from its first fragment and every fragment\'s bytes', () => {
      for (const order of [[0, 1480, 2960], [2960, 1480, 0], [1480, 0, 2960]]) {
        const { records, infos, stats } = run(order.map((o, i) => frag(T0 + i, o)));
        assert.equal(records.length, 1, `order ${order}`);
        assert.deepEqual([records[0].srcPort, records[0].dstPort, records[0].packets, records[0].bytes], [4000, 4001, 1, 3028]);
        assert.equal(infos[0].fragments, 2);
        assert.deepEqual(stats.fragments, { total: 3, first: 1, nonFirst: 2, attributed: 2, orphaned: 0, dropped: 0 });
      }
    });

    it('put fragments whose first never came in a port-less flow', () => {
      const { records, stats } = run([frag(T0, 1480), frag(T0 + 1, 2960)]);
      assert.deepEqual(records.map((r) => [r.srcPort, r.dstPort, r.proto, r.packets, r.bytes]), [[0, 0, 17, 1, 20 + 1480 + 48]]);
      assert.equal(stats.fragments.orphaned, 2);
    });

    it('attribute the later fragments of a tunnel\'s outer packet to the inner flow without counting their bytes again', () => {
      const innerPkt = B.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: B.tcp(1, 2, B.TCP.ACK, new Uint8Array(2000)) });
      const gre = B.gre({ proto: 0x0800, payload: innerPkt });
      const part = (off: number, len: number, mf: boolean) => B.ether({ type: 0x800, payload: B.ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, id: 3,
        mf, fragOffset: off, payload: gre.subarray(off, off + len) }) });
      const { records, infos } = run([{ ts: T0, data: part(0, 1480, true) }, { ts: T0 + 1, data: part(1480, gre.length - 1480, false) }]);
      assert.equal(records.length, 1);
      assert.deepEqual([records[0].srcAddr, records[0].srcPort, records[0].packets, records[0].bytes], ['10.0.0.1', 1, 1, 2040]);
      assert.equal(infos[0].fragments, 1);
    });

    it('nfpcapd mode: count a datagram when its last fragment follows its first, as nfpcapd reassembles', () => {
      const { records, stats } = run([frag(T0, 2960, 1), frag(T0 + 1, 0, 1), frag(T0 + 2, 1480, 1), frag(T0 + 3, 0, 2),
        frag(T0 + 4, 2960, 2)], { nfpcapdCompat: true });
      assert.deepEqual(records.map((r) => [r.packets, r.bytes, r.first]), [[1, 3028, T0 + 3]]);
      assert.equal(stats.fragments.dropped, 2);
    });
  });
});
