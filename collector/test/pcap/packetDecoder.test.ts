// The decoder against tshark, frame by frame: inner addresses, ports, protocol, TCP flags, ICMP, TTL, ToS, IP length,
// fragments, VLANs, MPLS labels, GRE key, ERSPAN type/session/index, VNI. Expectations come from tshark at test
// time. Then random bytes and mutated real frames: the decoder must never throw.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCapture } from '../../src/pcap/captureReader.ts';
import { decodePacket, formatIp, type DecodeResult } from '../../src/pcap/packetDecoder.ts';
import * as B from './packetBuilder.ts';
import { DECODE_FIELDS, TESTDATA, have, innermost, tmpDir, tshark, type TsharkInner } from './tools.ts';

const HAVE_TSHARK = have('tshark');

interface Case {
  file: string;
  /** tshark options, e.g. decode-as for pseudowires tshark's heuristic gets wrong. */
  tsharkArgs?: string[];
  /** Frames we call malformed, with the reason (tshark flags each of them too). */
  malformed?: Record<number, string>;
}

const CASES: Case[] = [
  ...['gre-v4-key', 'gre-v4-plain', 'gre-v6-plain', 'ipv4-ipv4', 'ipv4-ipv6', 'mpls-explicit-null-ipv4', 'mpls-explicit-null-ipv6',
    'mpls-invalid-nibble', 'mpls-ipv4', 'mpls-ipv6', 'srv6-end-dt6', 'vlan-ipv6'].map((n) => ({ file: `encap/akvorado/${n}.pcap` })),
  // tshark's pseudowire heuristic misses the control word; tell it (the frames do carry one: first nibble 0).
  { file: 'encap/akvorado/mpls-eompls-cw.pcap', tsharkArgs: ['-d', 'mpls.label==17,pwethcw'] },
  { file: 'encap/akvorado/mpls-eompls-invalid-cw.pcap', tsharkArgs: ['-d', 'mpls.label==100,pwethcw'] },
  ...['erspanI', 'erspanII', 'erspanIII', 'erspan-multi', 'tunnels_gre-erspan3-dot1q', 'http-qinq-0', 'icmp_dot1q', 'tunnels_vxlan',
    'tunnels_gre-sample', 'ipv4_fragmented-1', 'ipv4_fragmented-syn', 'tcp_truncated-header', 'nmap-vsn', 'ssh_sshguess']
    .map((n) => ({ file: `ids/zeek/${n}.pcap` })),
  { file: 'ids/zeek/pcapng-multi-interface.pcapng' },
  { file: 'ids/zeek/trunc_ip4-trunc.pcap', malformed: { 1: 'ipv4-truncated' } },
  { file: 'ids/zeek/trunc_trunc-hdr.pcap', malformed: { 1: 'link-truncated' } },
  ...['decode-erspan-typeII-01_input', 'geneve-decoder_input', 'vxlan-decoder-03_vxlan', 'exception-policy-defrag-01_ipv4frags']
    .map((n) => ({ file: `ids/suricata-verify/${n}.pcap` })),
  // IPv4 total length 65028 in a 1530-byte frame.
  { file: 'ids/suricata-verify/ipv4-truncated_truncated.pcap', malformed: { 1: 'ipv4-length-exceeds-frame' } },
  // IP headers announcing transport or GRE headers the frame does not hold (IPv6 payload length 0 counts the frame).
  { file: 'ids/suricata-verify/decode-too-small_test.pcap', malformed: {
    1: 'tcp-truncated', 2: 'udp-truncated', 3: 'udp-truncated', 4: 'gre-truncated', 5: 'tcp-truncated', 6: 'udp-truncated',
    7: 'udp-truncated', 8: 'gre-truncated' } },
  ...['lo-http-nano.pcap', 'lo-http.pcapng', 'lo-http-trunc.pcap', 'dumpcap-lo.pcapng', 'be.pcap', 'hping-land-synfin-frag.pcap']
    .map((n) => ({ file: `ids/generated/${n}` })),
  // Bogus IP header length 16; bogus TCP data offset 12.
  { file: 'ids/generated/synthetic-encap-anomalies.pcap', malformed: { 17: 'ipv4-bad-ihl', 18: 'tcp-bad-offset' } },
  // The plain captures of the IDS corpus (scans, floods, reflection, sessions), frame by frame as well.
  ...['wikipedia.pcap', 'rfb_vnc-scanner.pcap'].map((n) => ({ file: `ids/zeek/${n}` })),
  ...['bruteforce-22.pcap', 'hping-icmp-flood.pcap', 'hping-syn-flood.pcap', 'hping-udp-flood.pcap', 'lo-http.pcap',
    'nmap-null-fin-xmas.pcap', 'nmap-syn-scan.pcap'].map((n) => ({ file: `ids/generated/${n}` })),
  ...['amp.TCP.reflection.SYNACK.pcap', 'amp.TCP.syn.optionallyACK.optionallysamePort.pcapng', 'amp.UDP.isakmp.pcap',
    'amp.dns.RRSIG.fragmented.pcap', 'pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng', 'pkt.TCP.synflood.spoofed.pcap'].map((n) => ({ file: `ids/real-ddos/${n}` })),
  ...['detection_filter-distinct-dstport_input.pcap', 'firewall_tcp-session-syn-flood-drop-precedence_input.pcap']
    .map((n) => ({ file: `ids/suricata-verify/${n}` })),
];

async function decodeAll(file: string): Promise<DecodeResult[]> {
  const out: DecodeResult[] = [];
  try {
    for await (const p of readCapture(file)) out.push(decodePacket(p.data, p.linkType, p.origLen));
  } catch (err) {
    // A cut file: compare the frames before the cut.
    if ((err as { code?: string }).code !== 'truncated') throw err;
  }
  return out;
}

/** Compares one decoded frame with tshark's reading of it; returns the mismatches. */
function compare(r: DecodeResult, t: TsharkInner, expectMalformed: string | undefined): string[] {
  const bad: string[] = [];
  const eq = (what: string, ours: unknown, theirs: unknown) => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) bad.push(`${what}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`);
  };
  if (expectMalformed) {
    eq('result', r.kind === 'malformed' ? r.reason : r.kind, expectMalformed);
    return bad;
  }
  const encap = r.encap;
  if (r.kind === 'skipped') {
    // Not IP: tshark must not find a transport header inside the last tunnel either.
    const tail = t.chain.slice(Math.max(0, ...['gre', 'vxlan', 'geneve', 'erspan', 'mpls'].map((x) => t.chain.lastIndexOf(x))));
    if (tail.some((x) => x === 'tcp' || x === 'udp' || x === 'icmp' || x === 'icmpv6')) bad.push(`skipped (${r.reason}) but tshark: ${t.chain.join(':')}`);
    if (r.reason === 'arp' && !t.chain.includes('arp')) bad.push(`arp? tshark: ${t.chain.join(':')}`);
    if (r.reason === 'llc' && !t.chain.includes('llc')) bad.push(`llc? tshark: ${t.chain.join(':')}`);
    return bad;
  }
  if (r.kind === 'malformed') return [`malformed ${r.reason} at ${r.offset}; tshark: ${t.chain.join(':')}`];
  eq('ip version', r.ipVersion, t.ipVersion);
  eq('src', formatIp(r.src), t.src);
  eq('dst', formatIp(r.dst), t.dst);
  eq('ttl', r.ttl, t.ttl);
  eq('tos', r.tos, t.tos);
  if (t.ipLength !== null && t.ipLength !== 40) eq('ip length', r.ipLength, t.ipLength);
  const protoOf = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const;
  const v6Ext = t.chain.slice(t.chain.lastIndexOf('ipv6')).some((x) => x.startsWith('ipv6.'));
  if (t.transport) eq('proto', r.proto, protoOf[t.transport]);
  else if (!v6Ext) eq('proto', r.proto, t.proto);
  const nonFirst = r.fragment !== null && r.fragment.offset > 0;
  if (r.fragment) {
    eq('fragment offset', r.fragment.offset, t.ipVersion === 6 ? t.fragmentOffset : t.fragmentOffset);
    eq('more fragments', r.fragment.more, t.more);
  } else if (t.ipVersion === 4) {
    eq('not a fragment', [t.fragmentOffset, t.more], [0, false]);
  }
  if (t.transport && !nonFirst) {
    if (t.transport === 'tcp' || t.transport === 'udp') {
      eq('src port', r.srcPort, t.srcPort);
      eq('dst port', r.dstPort, t.dstPort);
      if (t.transport === 'tcp') eq('tcp flags', r.tcpFlags, (t.tcpFlags ?? 0) & 0xff);
    } else {
      eq('icmp', [r.icmpType, r.icmpCode, r.dstPort], [t.icmpType, t.icmpCode, (t.icmpType ?? 0) * 256 + (t.icmpCode ?? 0)]);
    }
  }
  eq('vlans', encap?.vlans ?? [], t.vlans);
  eq('mpls', encap?.mplsLabels ?? [], t.mplsLabels);
  if (encap?.kinds.includes('pptp')) eq('pptp call id', encap.greKey, t.pptpCallId);
  else eq('gre key', encap?.greKey ?? null, t.greKey);
  const sp = encap?.erspan ?? null;
  eq('erspan type', sp?.version ?? null, t.erspanType);
  if (sp && sp.version > 1) eq('erspan session', sp.session, t.erspanSession);
  if (sp?.version === 2) eq('erspan index', sp.index, t.erspanIndex);
  if (sp?.version === 3) eq('erspan hw id', sp.index, t.erspanHw);
  eq('vni', encap?.vni ?? null, t.vni);
  return bad;
}

async function checkAgainstTshark(file: string, tsharkArgs: string[] = [], malformed: Record<number, string> = {}): Promise<number> {
  const ours = await decodeAll(file);
  const rows = tshark(file, DECODE_FIELDS, tsharkArgs).map(innermost);
  assert.equal(ours.length, rows.length, `${file}: frame count`);
  const problems: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    for (const p of compare(ours[i], rows[i], malformed[i + 1])) problems.push(`frame ${i + 1}: ${p}`);
  }
  assert.deepEqual(problems.slice(0, 20), [], `${file}: ${problems.length} mismatches`);
  return ours.filter((r) => r.kind === 'ip').length;
}

describe('packetDecoder against tshark, real captures', { skip: !HAVE_TSHARK && 'tshark not installed' }, () => {
  for (const c of CASES) {
    it(c.file, async () => {
      await checkAgainstTshark(join(TESTDATA, c.file), c.tsharkArgs, c.malformed);
    });
  }
});

// ---- synthetic frames: every encapsulation and link type, one pcapng interface per link type ---------------------

const inner = (sport = 40000, dport = 443, flags: number = B.TCP.SYN) => B.tcp4Frame('198.51.100.10', '203.0.113.80', sport, dport, flags, { ttl: 57 });
const outer4 = (proto: number, payload: Uint8Array, vlans?: { vid: number; tpid?: number }[]) =>
  B.ether({ type: 0x0800, vlans, payload: B.ipv4({ src: '192.0.2.9', dst: '192.0.2.10', proto, payload, ttl: 250 }) });
const ip4 = (proto: number, payload: Uint8Array, o: Partial<B.Ipv4Opts> = {}) =>
  B.ipv4({ src: '10.1.2.3', dst: '10.4.5.6', proto, payload, ...o });
const ip6 = (next: number, payload: Uint8Array, o: Partial<B.Ipv6Opts> = {}) =>
  B.ipv6({ src: '2001:db8::1', dst: '2001:db8:0:1::2', next, payload, ...o });

function syntheticFrames(): { linkType: number; data: Uint8Array }[] {
  const eth = (data: Uint8Array) => ({ linkType: 1, data });
  const frames = [
    eth(inner()),
    // 802.1ad outer + 802.1Q inner, and the old 0x9100 QinQ
    eth(B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, B.TCP.ACK, { vlans: [{ vid: 100, tpid: 0x88a8 }, { vid: 200 }] })),
    eth(B.tcp4Frame('10.0.0.1', '10.0.0.2', 1000, 80, B.TCP.ACK, { vlans: [{ vid: 300, tpid: 0x9100 }, { vid: 301 }] })),
    // GRE with checksum, key and sequence; GRE transparent Ethernet bridging with a key
    eth(outer4(47, B.gre({ proto: 0x0800, checksum: true, key: 0xdeadbeef, seq: 7, payload: ip4(17, B.udp(53000, 53)) }))),
    eth(outer4(47, B.gre({ proto: 0x6558, key: 42, payload: inner(1234, 8080, B.TCP.ACK | B.TCP.PSH) }))),
    // ERSPAN I (no sequence), II (truncated bit, index), III without and with the platform sub-header
    eth(outer4(47, B.gre({ proto: 0x88be, payload: inner() }))),
    eth(outer4(47, B.gre({ proto: 0x88be, seq: 9, payload: B.erspan2({ session: 1023, index: 0xabcde, vlan: 42, truncated: true, payload: inner() }) }))),
    eth(outer4(47, B.gre({ proto: 0x22eb, seq: 10, payload: B.erspan3({ session: 77, vlan: 12, timestamp: 123456, hwId: 5, direction: 1, payload: inner() }) }))),
    eth(outer4(47, B.gre({ proto: 0x22eb, seq: 11, payload: B.erspan3({ session: 78, hwId: 6, platform: true, payload: inner(1, 2) }) }), [{ vid: 7 }])),
    // VXLAN and Geneve (with 8 bytes of options), over a tagged underlay
    eth(outer4(17, B.udp(51000, 4789, B.vxlan(0x123456, inner(5, 6, B.TCP.FIN | B.TCP.ACK))), [{ vid: 99 }])),
    eth(outer4(17, B.udp(51000, 6081, B.geneve(0xabcdef, 0x6558, inner(7, 8), new Uint8Array([0x01, 0x02, 0x03, 0x01, 0, 0, 0, 1]))))),
    // IP-in-IP, IPv6-in-IPv4 (6in4), IPv4-in-IPv6
    eth(outer4(4, ip4(1, B.icmp(8, 0)))),
    eth(outer4(41, ip6(17, B.udp(5353, 5353, new Uint8Array(10))))),
    eth(B.ether({ type: 0x86dd, payload: ip6(4, ip4(6, B.tcp(22, 50000, B.TCP.RST))) })),
    // MPLS two labels to IPv4; PPPoE session to IPv6
    eth(B.ether({ type: 0x8847, payload: B.mpls([1000, 2000], ip4(17, B.udp(1, 2))) })),
    eth(B.ether({ type: 0x8864, payload: B.concat(Uint8Array.from([0x11, 0, 0, 1, 0, 50, 0, 0x57]), ip6(58, B.icmp(128, 0))) })),
    // IPv6 extension headers: hop-by-hop + destination options, then a fragment pair
    eth(B.ether({ type: 0x86dd, payload: ip6(0, B.ipv6Ext(60, B.ipv6Ext(6, B.tcp(443, 51000, B.TCP.SYN | B.TCP.ACK)))) })),
    eth(B.ether({ type: 0x86dd, payload: ip6(44, B.ipv6Frag(17, 0, true, 0x11223344, B.udp(4000, 4001, new Uint8Array(64)))) })),
    eth(B.ether({ type: 0x86dd, payload: ip6(44, B.ipv6Frag(17, 72, false, 0x11223344, new Uint8Array(40))) })),
    // IPv4 fragments: first carries the UDP header, the second does not
    eth(B.ether({ type: 0x0800, payload: ip4(17, B.udp(5000, 5001, new Uint8Array(16)), { id: 77, mf: true }) })),
    eth(B.ether({ type: 0x0800, payload: ip4(17, new Uint8Array(24), { id: 77, fragOffset: 24 }) })),
    // ARP is not IP; 802.3 frames (length field) neither
    eth(B.ether({ type: 0x0806, payload: new Uint8Array(28) })),
    eth(B.ether({ type: 0x0026, payload: new Uint8Array(38) })),
    // Other link types
    { linkType: 113, data: B.concat(Uint8Array.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]), ip4(6, B.tcp(1, 2, B.TCP.SYN))) },
    { linkType: 276, data: B.concat(Uint8Array.from([0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]), ip6(17, B.udp(3, 4))) },
    { linkType: 101, data: ip4(17, B.udp(5, 6)) },
    { linkType: 228, data: ip4(1, B.icmp(3, 3)) },
    { linkType: 229, data: ip6(58, B.icmp(135, 0)) },
    { linkType: 0, data: B.concat(Uint8Array.from([2, 0, 0, 0]), ip4(6, B.tcp(7, 8, B.TCP.ACK))) },
    { linkType: 0, data: B.concat(Uint8Array.from([0, 0, 0, 30]), ip6(6, B.tcp(9, 10, B.TCP.ACK))) },
    { linkType: 108, data: B.concat(Uint8Array.from([0, 0, 0, 2]), ip4(17, B.udp(11, 12))) },
  ];
  return frames;
}

function writeSynthetic(path: string): void {
  const frames = syntheticFrames();
  const linkTypes = [...new Set(frames.map((f) => f.linkType))];
  const blocks: B.NgBlock[] = [{ kind: 'section' }, ...linkTypes.map((l) => ({ kind: 'interface' as const, iface: { linkType: l } }))];
  frames.forEach((f, i) => blocks.push({ kind: 'epb', ifId: linkTypes.indexOf(f.linkType), units: 1700000000000000n + BigInt(i), data: f.data }));
  writeFileSync(path, B.pcapngFile(blocks));
}

describe('packetDecoder against tshark, synthetic encapsulations and link types', { skip: !HAVE_TSHARK && 'tshark not installed' }, () => {
  it('decodes every frame as tshark does', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = join(dir, 'synthetic.pcapng');
      writeSynthetic(file);
      const decoded = await checkAgainstTshark(file);
      assert.equal(decoded, syntheticFrames().length - 2, 'all but ARP and 802.3 decode to IP');
    } finally {
      cleanup();
    }
  });

  it('records encapsulation kinds in order, tunnel endpoints, ERSPAN fields and the outer fragment', () => {
    const f = syntheticFrames();
    const enc = (i: number) => {
      const r = decodePacket(f[i].data, f[i].linkType);
      assert.equal(r.kind, 'ip');
      return r.encap!;
    };
    assert.deepEqual(enc(1).kinds, ['qinq', 'vlan']);
    assert.deepEqual(enc(1).vlans, [100, 200]);
    assert.deepEqual(enc(3).kinds, ['gre']);
    assert.equal(enc(3).greKey, 0xdeadbeef);
    assert.equal(enc(3).greSeq, 7);
    assert.deepEqual(enc(6).erspan, { version: 2, session: 1023, index: 0xabcde, vlan: 42, cos: 0, truncated: true, timestamp: 0,
      direction: 0, frameType: 0 });
    assert.deepEqual(enc(7).erspan, { version: 3, session: 77, index: 5, vlan: 12, cos: 0, truncated: false, timestamp: 123456,
      direction: 1, frameType: 0 });
    assert.deepEqual(enc(8).kinds, ['vlan', 'gre', 'erspan3']);
    assert.deepEqual(enc(9).kinds, ['vlan', 'vxlan']);
    assert.deepEqual(enc(9).tunnels.map((t) => `${formatIp(t.src)}>${formatIp(t.dst)}`), ['192.0.2.9>192.0.2.10']);
    assert.equal(enc(10).geneveOptionsLength, 8);
    assert.deepEqual(enc(11).kinds, ['ip-in-ip']);
    assert.deepEqual(enc(12).kinds, ['ipv6-in-ip']);
    assert.deepEqual(enc(14).mplsLabels, [1000, 2000]);
    assert.deepEqual(enc(15).kinds, ['pppoe']);
    // A tunnel in the first fragment of its outer packet is decapsulated and remembers the outer identity.
    const gre = B.gre({ proto: 0x0800, payload: ip4(6, B.tcp(1, 2, B.TCP.ACK, new Uint8Array(100))) });
    const frag = B.ether({ type: 0x0800, payload: B.ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, id: 5, mf: true, payload: gre.subarray(0, 64) }) });
    const r = decodePacket(frag, 1);
    assert.equal(r.kind, 'ip');
    assert.equal(r.ipLength, 140);
    assert.deepEqual(r.encap?.outerFragment && { ...r.encap.outerFragment, src: formatIp(r.encap.outerFragment.src) },
      { src: '192.0.2.1', dst: r.encap!.outerFragment!.dst, proto: 47, id: 5 });
  });

  it('treats UDP to the VXLAN or Geneve port without a valid tunnel header as plain UDP', () => {
    const notVxlan = outer4(17, B.udp(1, 4789, new Uint8Array(30)));
    const notGeneve = outer4(17, B.udp(1, 6081, B.concat(Uint8Array.from([0, 0, 0x12, 0x34]), new Uint8Array(30))));
    for (const fr of [notVxlan, notGeneve]) {
      const r = decodePacket(fr, 1);
      assert.equal(r.kind, 'ip');
      assert.equal(r.proto, 17);
      assert.equal(formatIp(r.src), '192.0.2.9');
      assert.equal(r.encap, null);
    }
  });
});

describe('packetDecoder on short and lying headers', () => {
  const cases: [string, Uint8Array, number, string][] = [
    ['empty frame', new Uint8Array(0), 1, 'link-truncated'],
    ['VLAN tag cut', B.ether({ type: 0x8100, payload: new Uint8Array(2) }), 1, 'vlan-truncated'],
    ['IPv4 header cut', B.ether({ type: 0x0800, payload: new Uint8Array([0x45, 0, 0, 40]) }), 1, 'ipv4-truncated'],
    ['IPv4 IHL 3', B.ether({ type: 0x0800, payload: ip4(6, B.tcp(1, 2, 2), { ihl: 3 }) }), 1, 'ipv4-bad-ihl'],
    ['IPv4 total length below header', B.ether({ type: 0x0800, payload: ip4(6, B.tcp(1, 2, 2), { totalLength: 12 }) }), 1, 'ipv4-bad-length'],
    ['IPv4 total length beyond frame', B.ether({ type: 0x0800, payload: ip4(6, B.tcp(1, 2, 2), { totalLength: 1500 }) }), 1, 'ipv4-length-exceeds-frame'],
    ['IPv6 payload length beyond frame', B.ether({ type: 0x86dd, payload: ip6(17, B.udp(1, 2), { payloadLength: 900 }) }), 1, 'ipv6-length-exceeds-frame'],
    ['IPv6 extension header cut', B.ether({ type: 0x86dd, payload: ip6(0, new Uint8Array(4)) }), 1, 'ipv6-ext-truncated'],
    ['version nibble 5 on raw IP', Uint8Array.from([0x50, ...new Uint8Array(30)]), 101, 'ip-version'],
    ['TCP data offset 4', B.ether({ type: 0x0800, payload: ip4(6, B.tcp(1, 2, 2, undefined, 4)) }), 1, 'tcp-bad-offset'],
    ['UDP length 4', B.ether({ type: 0x0800, payload: ip4(17, B.udp(1, 2, new Uint8Array(4), 4)) }), 1, 'udp-bad-length'],
    ['ICMP cut', B.ether({ type: 0x0800, payload: ip4(1, new Uint8Array(4)) }), 1, 'icmp-truncated'],
    ['GRE version 3', outer4(47, Uint8Array.from([0, 3, 8, 0, ...ip4(1, B.icmp(8, 0))])), 1, 'gre-version'],
    ['GRE key cut', outer4(47, Uint8Array.from([0x20, 0, 8, 0, 0, 0])), 1, 'gre-truncated'],
    ['ERSPAN II header cut', outer4(47, B.gre({ proto: 0x88be, seq: 1, payload: new Uint8Array(4) })), 1, 'erspan-truncated'],
    ['ERSPAN version 7', outer4(47, B.gre({ proto: 0x22eb, seq: 1, payload: Uint8Array.from([0x70, 0, 0, 0, 0, 0, 0, 0, ...new Uint8Array(20)]) })), 1, 'erspan-version'],
    ['MPLS without bottom of stack', B.ether({ type: 0x8847, payload: Uint8Array.from([0, 1, 0, 64, 0, 2, 0]) }), 1, 'mpls-truncated'],
    ['SLL header cut', new Uint8Array(10), 113, 'link-truncated'],
  ];
  for (const [name, frame, linkType, reason] of cases) {
    it(`${name} → malformed ${reason}`, () => {
      const r = decodePacket(frame, linkType);
      assert.equal(r.kind, 'malformed');
      assert.equal(r.kind === 'malformed' && r.reason, reason);
    });
  }

  it('counts a capture cut by its snaplen by the IP length, not a lie', () => {
    const full = B.ether({ type: 0x0800, payload: ip4(6, B.tcp(1, 2, B.TCP.ACK, new Uint8Array(1400))) });
    const r = decodePacket(full.subarray(0, 54), 1, full.length);
    assert.equal(r.kind, 'ip');
    assert.equal(r.ipLength, 1440);
  });
});

describe('packetDecoder fuzz', () => {
  it('never throws on random bytes, any link type', () => {
    const rnd = B.prng(20261121);
    const linkTypes = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];
    for (let i = 0; i < 20000; i++) {
      const len = Math.floor(rnd() * 200);
      const data = new Uint8Array(len);
      for (let j = 0; j < len; j++) data[j] = Math.floor(rnd() * 256);
      const lt = linkTypes[i % linkTypes.length];
      const r = decodePacket(data, lt, Math.floor(rnd() * 400));
      assert.ok(r.kind === 'ip' || r.kind === 'malformed' || r.kind === 'skipped');
    }
  });

  it('never throws on mutated real frames (bit flips, truncation, byte splices)', async () => {
    const rnd = B.prng(42);
    const seeds: { data: Uint8Array; linkType: number }[] = syntheticFrames();
    for (const f of ['ids/zeek/erspanII.pcap', 'ids/zeek/erspanIII.pcap', 'ids/suricata-verify/geneve-decoder_input.pcap',
      'ids/zeek/tunnels_vxlan.pcap', 'encap/akvorado/vlan-ipv6.pcap', 'encap/akvorado/mpls-eompls-cw.pcap', 'ids/zeek/http-qinq-0.pcap']) {
      for await (const p of readCapture(join(TESTDATA, f))) seeds.push({ data: p.data.slice(), linkType: p.linkType });
    }
    const kinds = { ip: 0, malformed: 0, skipped: 0 };
    for (let i = 0; i < 30000; i++) {
      const s = seeds[i % seeds.length];
      const d = s.data.slice(0, Math.max(0, s.data.length - (rnd() < 0.3 ? Math.floor(rnd() * s.data.length) : 0)));
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips && d.length > 0; k++) {
        const at = Math.floor(rnd() * d.length);
        if (rnd() < 0.5) d[at] ^= 1 << Math.floor(rnd() * 8);
        else d[at] = Math.floor(rnd() * 256);
      }
      const r = decodePacket(d, s.linkType, rnd() < 0.5 ? d.length : Math.floor(rnd() * 3000));
      kinds[r.kind]++;
      if (r.kind === 'ip') {
        assert.ok(r.ipLength >= 0 && Number.isFinite(r.ipLength));
        assert.ok(r.src.length === 4 || r.src.length === 16);
      }
    }
    assert.ok(kinds.ip > 0 && kinds.malformed > 0, JSON.stringify(kinds));
  });
});
