// dvflow's flows against nfpcapd 1.7.1's (`nfpcapd -r FILE -w DIR [-e active,inactive]`, read back with nfdump).
//
// In nfpcapd mode (FlowTable nfpcapdCompat) every flow must match: same 5-tuples, packets, bytes and start times.
// In dvflow's own mode packet and byte totals match and flow counts differ only by these documented rules
// (flowTable.ts says why): VLAN and tunnel context in the key, TCP FIN/RST ends a flow, ICMP and DNS aggregated,
// expiry checked per packet, fragments counted at the first fragment.
//
// Where decoding differs, nfpcapd is the one that stops short, each case asserted below:
//  - GRE with a key or sequence number, ERSPAN I/II/III, Ethernet over MPLS, 802.1ad (0x88a8) tags: nfpcapd finds
//    nothing; dvflow finds the inner flows;
//  - VXLAN and Geneve: nfpcapd counts the outer UDP packets, dvflow the inner ones (bytes = inner IP length);
//  - IPv6 extension headers (SRv6) and PPTP: nfpcapd stops at the first header it does not know and counts that
//    packet's length; dvflow decodes to the innermost packet;
//  - an IPv4 total length beyond the frame (65028 in 1530 bytes) and IP packets without their transport header:
//    nfpcapd counts them, dvflow reports them malformed;
//  - a TCP header whose options were cut by the snaplen: nfpcapd drops the packet, dvflow counts it (ports and
//    flags are there).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';
import { ingestCapture, type IngestSummary } from '../../src/pcap/ingestCapture.ts';
import * as B from './packetBuilder.ts';
import { TESTDATA, have, nfpcapdFlows, tmpDir, tshark, type NfFlow } from './tools.ts';

const HAVE = have('nfpcapd') && have('nfdump');

async function ours(file: string, opts: { compat: boolean; active?: number; idle?: number }): Promise<{ records: FlowRecord[]; summary: IngestSummary }> {
  const records: FlowRecord[] = [];
  const summary = await ingestCapture(file, {
    flowTable: { nfpcapdCompat: opts.compat, activeTimeoutMs: (opts.active ?? 300) * 1000, idleTimeoutMs: (opts.idle ?? 60) * 1000 },
    onRecords: (rs) => void records.push(...rs),
  });
  return { records, summary };
}

/** nfdump prints ICMP destination ports as type.code, and times in the local zone (TZ=UTC here). */
function nfKey(f: NfFlow): string {
  const dp = f.dstPort.includes('.') ? f.dstPort.split('.').map(Number).reduce((t, c) => t * 256 + c) : Number(f.dstPort);
  const first = Date.parse(`${f.first.replace(' ', 'T')}Z`);
  return `${first}|${f.proto}|${f.src}|${f.srcPort}|${f.dst}|${dp}|${f.packets}|${f.bytes}`;
}
function ourKey(r: FlowRecord): string {
  return `${r.first}|${r.proto}|${r.srcAddr}|${r.srcPort}|${r.dstAddr}|${r.dstPort}|${r.packets}|${r.bytes}`;
}
const total = (fs: { packets: number; bytes: number }[]) => fs.reduce((t, f) => ({ packets: t.packets + f.packets, bytes: t.bytes + f.bytes }), { packets: 0, bytes: 0 });

const EXACT = [
  ...['bruteforce-22.pcap', 'hping-icmp-flood.pcap', 'hping-land-synfin-frag.pcap', 'hping-syn-flood.pcap', 'hping-udp-flood.pcap',
    'lo-http-nano.pcap', 'lo-http.pcap', 'lo-http.pcapng', 'dumpcap-lo.pcapng', 'nmap-null-fin-xmas.pcap', 'nmap-syn-scan.pcap', 'be.pcap']
    .map((f) => `ids/generated/${f}`),
  ...['ssh_sshguess.pcap', 'nmap-vsn.pcap', 'rfb_vnc-scanner.pcap', 'wikipedia.pcap', 'http-qinq-0.pcap', 'icmp_dot1q.pcap',
    'tunnels_gre-sample.pcap', 'ipv4_fragmented-1.pcap', 'ipv4_fragmented-syn.pcap', 'pcapng-multi-interface.pcapng'].map((f) => `ids/zeek/${f}`),
  ...['detection_filter-distinct-dstport_input.pcap', 'exception-policy-defrag-01_ipv4frags.pcap',
    'firewall_tcp-session-syn-flood-drop-precedence_input.pcap'].map((f) => `ids/suricata-verify/${f}`),
  ...['amp.TCP.reflection.SYNACK.pcap', 'amp.TCP.syn.optionallyACK.optionallysamePort.pcapng', 'amp.UDP.isakmp.pcap',
    'amp.dns.RRSIG.fragmented.pcap', 'pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng', 'pkt.TCP.synflood.spoofed.pcap'].map((f) => `ids/real-ddos/${f}`),
  ...['gre-v4-plain.pcap', 'gre-v6-plain.pcap', 'ipv4-ipv4.pcap', 'ipv4-ipv6.pcap', 'mpls-ipv4.pcap', 'mpls-ipv6.pcap',
    'mpls-explicit-null-ipv4.pcap', 'mpls-explicit-null-ipv6.pcap'].map((f) => `encap/akvorado/${f}`),
];

describe('flows against nfpcapd 1.7.1', { skip: !HAVE && 'nfpcapd/nfdump not installed' }, () => {
  let tz: string | undefined;
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tz = process.env.TZ;
    process.env.TZ = 'UTC';
    tmp = tmpDir();
    // Timeouts, TCP end, VLAN keys and fragment order, made to measure (nfpcapd's behaviour was read off these).
    const T0 = 1_700_000_000_000;
    const write = (name: string, frames: B.FrameRecord[]) => writeFileSync(join(tmp.dir, name), B.pcapFile(frames));
    const idle: B.FrameRecord[] = [];
    for (let t = 0; t <= 300; t++) {
      idle.push({ ts: T0 + t * 1000 + 500, data: B.udp4Frame('10.9.9.9', '10.9.9.8', 5000, 5001) });
      if ([0, 61, 125, 200, 262].includes(t)) idle.push({ ts: T0 + t * 1000 + 700, data: B.udp4Frame('10.0.0.1', '10.0.0.2', 1000, 2000) });
    }
    write('idle.pcap', idle);
    write('active.pcap', Array.from({ length: 701 }, (_, t) => ({ ts: T0 + t * 1000, data: B.udp4Frame('10.0.0.1', '10.0.0.2', 1000, 2000) })));
    write('fin.pcap', [B.TCP.SYN, B.TCP.ACK, B.TCP.FIN | B.TCP.ACK, B.TCP.ACK, B.TCP.ACK, B.TCP.RST]
      .map((f, i) => ({ ts: T0 + i * 1000, data: B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, f) })));
    write('vlan.pcap', [0, 1, 2, 3].map((i) => ({ ts: T0 + i * 1000, data: B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, B.TCP.ACK, { vlans: [{ vid: i % 2 ? 20 : 10 }] }) })));
    const u = B.udp(4000, 4001, new Uint8Array(3000));
    const frag = (ts: number, id: number, off: number) => ({ ts, data: B.ether({ type: 0x800, payload: B.ipv4({ src: '10.1.1.1', dst: '10.1.1.2',
      proto: 17, id, mf: off + 1480 < u.length, fragOffset: off, payload: u.subarray(off, Math.min(u.length, off + 1480)) }) }) });
    write('frag.pcap', [frag(T0, 1, 0), frag(T0 + 1, 1, 1480), frag(T0 + 2, 1, 2960), frag(T0 + 3, 2, 2960), frag(T0 + 4, 2, 0),
      frag(T0 + 5, 2, 1480), frag(T0 + 6, 3, 0), frag(T0 + 7, 3, 2960), frag(T0 + 8, 4, 1480)]);
  });
  after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    tmp.cleanup();
  });

  describe('nfpcapd mode gives the very same flows', () => {
    for (const f of EXACT) {
      it(f, async () => {
        const file = join(TESTDATA, f);
        const nf = nfpcapdFlows(file);
        const { records } = await ours(file, { compat: true });
        assert.deepEqual(records.map(ourKey).sort(), nf.map(nfKey).sort());
      });
    }
    for (const [name, e] of [['idle.pcap', [300, 60]], ['active.pcap', [300, 60]], ['fin.pcap', [300, 60]], ['vlan.pcap', [300, 60]],
      ['frag.pcap', [300, 60]], ['idle.pcap', [120, 20]], ['active.pcap', [100, 30]], ['ssh_sshguess', [30, 5]], ['wikipedia', [20, 4]]] as const) {
      it(`${name} with -e ${e.join(',')}`, async () => {
        const file = name.endsWith('.pcap') ? join(tmp.dir, name) : join(TESTDATA, `ids/zeek/${name}.pcap`);
        const nf = nfpcapdFlows(file, ['-e', e.join(',')]);
        const { records } = await ours(file, { compat: true, active: e[0], idle: e[1] });
        assert.deepEqual(records.map(ourKey).sort(), nf.map(nfKey).sort());
      });
    }
  });

  describe('dvflow mode: same packets and bytes, flow counts by the documented rules', () => {
    for (const f of ['ids/zeek/ssh_sshguess.pcap', 'ids/zeek/wikipedia.pcap', 'ids/zeek/nmap-vsn.pcap', 'ids/generated/hping-icmp-flood.pcap',
      'ids/real-ddos/amp.UDP.isakmp.pcap', 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap', 'ids/zeek/http-qinq-0.pcap']) {
      it(f, async () => {
        const file = join(TESTDATA, f);
        const nf = nfpcapdFlows(file);
        const { records } = await ours(file, { compat: false });
        assert.deepEqual(total(records), total(nf));
      });
    }

    it('TCP FIN/RST ends flows: the ACK after a FIN starts a flow of its own (ssh_sshguess: 11 sessions)', async () => {
      const file = join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap');
      const nf = nfpcapdFlows(file);
      const { records } = await ours(file, { compat: false });
      assert.equal(nf.length, 22);
      assert.ok(records.length > nf.length);
      assert.equal(records.filter((r) => r.endReason === 3).length, 22, 'each direction of each session ends on FIN');
    });

    it('ICMP is aggregated: one flow per direction and type instead of one per packet', async () => {
      const file = join(TESTDATA, 'ids/generated/hping-icmp-flood.pcap');
      const nf = nfpcapdFlows(file);
      const { records } = await ours(file, { compat: false });
      assert.equal(nf.length, 4000);
      assert.ok(records.length < 10, String(records.length));
    });

    it('fragments are counted from the first fragment on, and none is lost', async () => {
      const file = join(TESTDATA, 'ids/real-ddos/amp.dns.RRSIG.fragmented.pcap');
      const nf = nfpcapdFlows(file);
      const { records, summary } = await ours(file, { compat: false });
      // nfpcapd loses the datagrams whose first or last fragment is missing; dvflow keeps their bytes.
      assert.ok(total(records).bytes > total(nf).bytes);
      assert.equal(summary.fragments.total, 1209);
      assert.equal(summary.fragments.dropped, 0);
    });
  });

  describe('captures nfpcapd cannot decode', () => {
    const innerIpFrames = (file: string, extra: string[] = []) => tshark(file, ['frame.protocols'], extra).filter((r) => {
      const chain = r['frame.protocols'].split(':');
      const tunnel = Math.max(chain.lastIndexOf('gre'), chain.lastIndexOf('mpls'));
      return tunnel >= 0 && chain.slice(tunnel).some((t) => t === 'ip' || t === 'ipv6');
    }).length;
    for (const [f, extra] of [['encap/akvorado/gre-v4-key.pcap', []], ['ids/zeek/erspanI.pcap', []], ['ids/zeek/erspanII.pcap', []],
      ['ids/zeek/erspanIII.pcap', []], ['ids/zeek/tunnels_gre-erspan3-dot1q.pcap', []], ['ids/zeek/erspan-multi.pcap', []],
      ['ids/suricata-verify/decode-erspan-typeII-01_input.pcap', []], ['encap/akvorado/mpls-eompls-cw.pcap', ['-d', 'mpls.label==17,pwethcw']],
      ['encap/akvorado/mpls-eompls-invalid-cw.pcap', ['-d', 'mpls.label==100,pwethcw']]] as const) {
      it(`${f}: nfpcapd finds no flow, dvflow counts every inner packet tshark sees`, async () => {
        const file = join(TESTDATA, f);
        assert.equal(nfpcapdFlows(file).length, 0);
        const { records } = await ours(file, { compat: false });
        assert.ok(records.length > 0);
        if (have('tshark')) assert.equal(total(records).packets, innerIpFrames(file, [...extra]));
      });
    }

    it('802.1ad (0x88a8) outer tags: nfpcapd skips the frames', async () => {
      const file = join(tmp.dir, 'qinq.pcap');
      writeFileSync(file, B.pcapFile([0, 1].map((i) => ({ ts: 1_700_000_000_000 + i,
        data: B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, B.TCP.ACK, { vlans: [{ vid: 100, tpid: 0x88a8 }, { vid: 200 }] }) }))));
      assert.equal(nfpcapdFlows(file).length, 0);
      const { records } = await ours(file, { compat: false });
      assert.deepEqual(records.map((r) => [r.packets, r.srcVlan]), [[2, 200]]);
    });

    it('VXLAN and Geneve: nfpcapd counts the outer UDP packets, dvflow the inner ones', async () => {
      for (const f of ['ids/zeek/tunnels_vxlan.pcap', 'ids/suricata-verify/geneve-decoder_input.pcap', 'ids/suricata-verify/vxlan-decoder-03_vxlan.pcap']) {
        const file = join(TESTDATA, f);
        const nf = nfpcapdFlows(file);
        assert.ok(nf.every((x) => x.proto === 17 && (x.dstPort === '4789' || x.dstPort === '6081' || x.srcPort === '4789' || x.srcPort === '6081')), f);
        const { records } = await ours(file, { compat: false });
        assert.ok(records.every((r) => r.dstPort !== 4789 && r.dstPort !== 6081), f);
        assert.ok(total(records).bytes < total(nf).bytes, f);
      }
    });

    it('SRv6 and PPTP: nfpcapd stops at the routing header / enhanced GRE, dvflow reaches the inner UDP', async () => {
      for (const [f, nfProto, nfBytes, ourBytes] of [['encap/akvorado/srv6-end-dt6.pcap', 43, 144, 64], ['encap/akvorado/vlan-ipv6.pcap', 47, 139, 99]] as const) {
        const file = join(TESTDATA, f);
        const nf = nfpcapdFlows(file);
        assert.deepEqual(nf.map((x) => [x.proto, x.bytes]), [[nfProto, nfBytes]]);
        const { records } = await ours(file, { compat: false });
        assert.deepEqual(records.map((r) => [r.proto, r.bytes]), [[17, ourBytes]]);
      }
    });

    it('lying or missing headers: nfpcapd counts them, dvflow reports them malformed', async () => {
      for (const [f, nfPackets, reasons] of [['ids/suricata-verify/ipv4-truncated_truncated.pcap', 1, { 'ipv4-length-exceeds-frame': 1 }],
        ['ids/suricata-verify/decode-too-small_test.pcap', 2, { 'tcp-truncated': 2, 'udp-truncated': 4, 'gre-truncated': 2 }]] as const) {
        const file = join(TESTDATA, f);
        assert.equal(total(nfpcapdFlows(file)).packets, nfPackets);
        const { records, summary } = await ours(file, { compat: false });
        assert.equal(records.length, 0);
        assert.deepEqual(summary.malformed, reasons);
      }
    });

    it('a SYN whose TCP options the snaplen cut: nfpcapd drops it, dvflow counts it', async () => {
      const file = join(TESTDATA, 'ids/zeek/tcp_truncated-header.pcap');
      const nf = nfpcapdFlows(file);
      const { records } = await ours(file, { compat: true });
      assert.equal(total(records).packets, total(nf).packets + 1);
      assert.equal(total(records).bytes, total(nf).bytes + 60);
    });
  });
});
