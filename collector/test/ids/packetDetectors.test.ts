// Packet detectors (invalid-packet, arp-conflict, vrrp-flap) on real captures and on crafted ones. What a capture
// holds comes from tshark at test time (and, for decode-too-small, from Suricata's own expectations), never from our
// decoder. Crafted frames are written as pcap files and checked with tshark first, so they are real protocol, not
// just bytes our parser agrees with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AlertCandidate, PacketDetector } from '../../src/ids/idsTypes.ts';
import {
  ArpConflictDetector, createPacketDetectors, DEFAULTS, InvalidPacketDetector, resolvePacketDetectorsConfig, VrrpFlapDetector,
  type PacketDetectorsOverrides,
} from '../../src/ids/packet/index.ts';
import { CapturePacket } from '../../src/pcap/captureReader.ts';
import { ingestCapture } from '../../src/pcap/ingestCapture.ts';
import { decodePacketAt } from '../../src/pcap/packetDecoder.ts';
import {
  concat, erspan2, ether, gre, icmp, ipv4, ipv4Bytes, ipv6, ipv6Bytes, ipv6Frag, pcapFile, tcp, TCP, udp, type FrameRecord,
} from '../pcap/packetBuilder.ts';
import { have, TESTDATA, tmpDir } from '../pcap/tools.ts';

const IDS = join(TESTDATA, 'ids');
const T0 = Date.UTC(2024, 0, 15, 10, 0, 0);
const HAVE_TSHARK = have('tshark');
const NEEDS_TSHARK = { skip: HAVE_TSHARK ? false : 'tshark is not installed' };

// ---------------------------------------------------------------------------------------------------------------
// Running detectors

/** Ingests a capture with the packet detectors on it and returns every alert they raised, the capture's end included. */
async function detect(file: string, config: PacketDetectorsOverrides = {}): Promise<AlertCandidate[]> {
  const detectors = createPacketDetectors(config);
  const alerts: AlertCandidate[] = [];
  const emit = (a: AlertCandidate) => alerts.push(a);
  const capture = basename(file);
  await ingestCapture(file, {
    onRecords: () => {},
    onPacket: (packet, decoded) => {
      for (const d of detectors) d.onPacket({ packet, decoded, capture }, emit);
    },
  });
  for (const d of detectors) d.finish?.(emit);
  return alerts;
}

/** Feeds frames straight to one detector (no file), e.g. to look at its state. */
function feed(detector: PacketDetector, frames: FrameRecord[], finish = true): AlertCandidate[] {
  const alerts: AlertCandidate[] = [];
  const emit = (a: AlertCandidate) => alerts.push(a);
  for (const f of frames) {
    const ts = f.ts ?? 0;
    const packet = new CapturePacket(ts, Math.floor(ts / 1000), 0, 1, f.data.length, f.origLen ?? f.data.length, f.data, 0, 0, 0, 0);
    detector.onPacket({ packet, decoded: decodePacketAt(f.data, 0, f.data.length, 1, packet.origLen), capture: 'crafted' }, emit);
  }
  if (finish) detector.finish?.(emit);
  return alerts;
}

/** The reason of an invalid-packet alert leads its key. */
function reasonOf(a: AlertCandidate): string {
  return a.key.split('|')[0];
}

function invalidByReasonAndSource(alerts: AlertCandidate[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts.filter((x) => x.detector === 'invalid-packet')) out[`${reasonOf(a)} ${a.src}`] = a.counts.packets;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// tshark

/** One row per frame matching `filter`, the fields tab-separated (all occurrences, comma-joined). */
function tsharkRows(file: string, filter: string, fields: string[], prefs: string[] = []): string[][] {
  const args = ['-r', file, '-n', ...prefs.flatMap((p) => ['-o', p]), '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

function tsharkCount(file: string, filter: string, prefs: string[] = []): number {
  return tsharkRows(file, filter, ['frame.number'], prefs).length;
}

const CHECK_IP = ['ip.check_checksum:TRUE'];

// ---------------------------------------------------------------------------------------------------------------
// Crafting frames

function internetChecksum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function wordsOf(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  return sum;
}

/** An IPv4 packet from packetBuilder with its header checksum filled in (packetBuilder leaves 0). */
function withIpChecksum(packet: Uint8Array): Uint8Array {
  const ihl = (packet[0] & 0x0f) * 4;
  packet[10] = 0;
  packet[11] = 0;
  const c = internetChecksum(packet.subarray(0, ihl));
  packet[10] = c >> 8;
  packet[11] = c & 0xff;
  return packet;
}

function v4(o: Parameters<typeof ipv4>[0]): Uint8Array {
  return withIpChecksum(ipv4(o));
}

function eth4(payload: Uint8Array, vlan?: number): Uint8Array {
  return ether({ type: 0x0800, vlans: vlan ? [{ vid: vlan }] : undefined, payload });
}

function eth6(payload: Uint8Array): Uint8Array {
  return ether({ type: 0x86dd, payload });
}

function macOf(n: number): number[] {
  return [0x02, 0, 0, 0, (n >> 8) & 0xff, n & 0xff];
}

interface Advert {
  /** Seconds after T0. */
  at: number;
  src: string;
  priority: number;
  vrid?: number;
  version?: 2 | 3;
  vlan?: number;
  ttl?: number;
}

/** A VRRP advertisement frame: v2 (RFC 3768) or v3 (RFC 5798, checksum with the pseudo-header), interval 1 s. */
function advert(a: Advert): FrameRecord {
  const six = a.src.includes(':');
  const dst = six ? 'ff02::12' : '224.0.0.18';
  const vip = six ? ipv6Bytes('2001:db8::100') : ipv4Bytes('10.0.0.100');
  const version = six ? 3 : a.version ?? 2;
  const vrid = a.vrid ?? 51;
  const msg = version === 2
    ? Uint8Array.from([0x21, vrid, a.priority, 1, 0, 1, 0, 0, ...vip, 0, 0, 0, 0, 0, 0, 0, 0])
    : Uint8Array.from([0x31, vrid, a.priority, 1, 0, 100, 0, 0, ...vip]);
  const addr = six ? ipv6Bytes : ipv4Bytes;
  const pseudo = version === 3 ? wordsOf([...addr(a.src), ...addr(dst), 0, 112, 0, msg.length]) : 0;
  const c = internetChecksum(msg, pseudo);
  msg[6] = c >> 8;
  msg[7] = c & 0xff;
  const last = six ? parseInt(a.src.split(':').at(-1)!, 16) : Number(a.src.split('.')[3]);
  const ip = six
    ? ipv6({ src: a.src, dst, next: 112, hopLimit: a.ttl ?? 255, payload: msg })
    : v4({ src: a.src, dst, proto: 112, ttl: a.ttl ?? 255, payload: msg });
  const data = ether({
    dst: six ? [0x33, 0x33, 0, 0, 0, 0x12] : [0x01, 0x00, 0x5e, 0, 0, 0x12], src: macOf(last), type: six ? 0x86dd : 0x0800,
    vlans: a.vlan ? [{ vid: a.vlan }] : undefined, payload: ip,
  });
  return { ts: T0 + a.at * 1000, data };
}

/** Adverts from `src` every second over [from, to). */
function advertsEverySecond(src: string, priority: number, from: number, to: number, extra: Partial<Advert> = {}): FrameRecord[] {
  const out: FrameRecord[] = [];
  for (let t = from; t < to - 1e-9; t += 1) out.push(advert({ ...extra, at: t, src, priority }));
  return out;
}

interface ArpOpts {
  at: number;
  op: 1 | 2;
  senderMac: number[];
  senderIp: string;
  targetMac?: number[];
  targetIp: string;
  vlan?: number;
}

/** The ARP message (RFC 826, Ethernet/IPv4), padded to the Ethernet minimum. */
function arpMessage(o: ArpOpts): Uint8Array {
  const m = Uint8Array.from([0, 1, 8, 0, 6, 4, 0, o.op, ...o.senderMac, ...ipv4Bytes(o.senderIp), ...(o.targetMac ?? [0, 0, 0, 0, 0, 0]),
    ...ipv4Bytes(o.targetIp)]);
  return concat(m, new Uint8Array(18));
}

function arp(o: ArpOpts): FrameRecord {
  const dst = o.op === 1 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : o.targetMac ?? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  return {
    ts: T0 + o.at * 1000,
    data: ether({ dst, src: o.senderMac, vlans: o.vlan ? [{ vid: o.vlan }] : undefined, type: 0x0806, payload: arpMessage(o) }),
  };
}

/** The frame mirrored by a switch into ERSPAN type II (GRE 0x88BE with a sequence number). */
function inErspan(f: FrameRecord, session: number, seq: number): FrameRecord {
  const outer = v4({ src: '192.168.50.1', dst: '192.168.50.9', proto: 47, payload: gre({ proto: 0x88be, seq, payload: erspan2({ session, index: 1, payload: f.data }) }) });
  return { ts: f.ts, data: eth4(outer) };
}

const ROUTER = { mac: macOf(1), ip: '10.0.0.1' };
const LB = macOf(0x10);
const REAL_SERVER = macOf(0x11);
const BACKUP_LB = macOf(0x12);
const VIP = '10.0.0.100';

let tmp: { dir: string; cleanup: () => void };
before(() => {
  tmp = tmpDir('dvflow-packet-ids-');
});
after(() => tmp.cleanup());

function writeCapture(name: string, frames: FrameRecord[]): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, pcapFile([...frames].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0))));
  return file;
}

// ---------------------------------------------------------------------------------------------------------------

describe('invalid-packet on real captures', NEEDS_TSHARK, () => {
  it('decode-too-small: every empty TCP, UDP and GRE packet, grouped by source and reason as Suricata expects', async () => {
    const file = join(IDS, 'suricata-verify/decode-too-small_test.pcap');
    // Expected from tshark's view of each frame: the transport bytes the IP header announces are fewer than the
    // transport's header (TCP 20, UDP 8, GRE 4). Suricata's test.yaml for this capture expects the same events:
    // per source, 1 TCP, 2 UDP and 1 GRE "too small".
    const expected: Record<string, number> = {};
    const rows = tsharkRows(file, 'ip or ipv6', ['ip.src', 'ipv6.src', 'ip.proto', 'ipv6.nxt', 'ip.len', 'ip.hdr_len', 'ipv6.plen']);
    assert.equal(rows.length, 8);
    for (const [src4, src6, proto4, proto6, len, hdr, plen] of rows) {
      const proto = Number(proto4 || proto6);
      const bytes = src4 ? Number(len) - Number(hdr) : Number(plen);
      const need = { 6: 20, 17: 8, 47: 4 }[proto]!;
      assert.ok(bytes < need, `frame from ${src4 || src6} carries ${bytes} transport bytes`);
      const reason = { 6: 'tcp-truncated', 17: 'udp-truncated', 47: 'gre-truncated' }[proto]!;
      const key = `${reason} ${src4 || src6.replace('fd01:0000:0000:0000:0000:0000:0101:0101', 'fd01::101:101')}`;
      expected[key] = (expected[key] ?? 0) + 1;
    }
    assert.deepEqual(expected, {
      'tcp-truncated 1.1.1.1': 1, 'udp-truncated 1.1.1.1': 2, 'gre-truncated 1.1.1.1': 1,
      'tcp-truncated fd01::101:101': 1, 'udp-truncated fd01::101:101': 2, 'gre-truncated fd01::101:101': 1,
    });
    // tshark itself calls frames 3–8 malformed; 1 and 2 (20-byte IPv4 packets naming TCP/UDP) it does not dissect.
    assert.deepEqual(tsharkRows(file, '_ws.malformed', ['frame.number']).map((r) => Number(r[0])), [3, 4, 5, 6, 7, 8]);
    const alerts = await detect(file);
    assert.deepEqual(invalidByReasonAndSource(alerts), expected);
    assert.equal(alerts.length, 6, 'one alert per (source, reason), not one per packet');
    assert.ok(alerts.every((a) => a.severity === 'low' && a.origin === 'pcap' && a.samples.length === a.counts.packets));
    const udp4 = alerts.find((a) => a.key === 'udp-truncated|1.1.1.1|decode-too-small_test.pcap')!;
    assert.equal(udp4.dst, '2.2.2.2');
    assert.match(udp4.samples[0].note!, /udp-truncated at byte 14/);
  });

  it('ipv4-truncated: an IPv4 total length far past the frame, as tshark says', async () => {
    const file = join(IDS, 'suricata-verify/ipv4-truncated_truncated.pcap');
    const [[ipLen, frameLen, src]] = tsharkRows(file, 'ip', ['ip.len', 'frame.len', 'ip.src']);
    assert.ok(Number(ipLen) > Number(frameLen) - 14, 'tshark: "IPv4 total length exceeds packet length"');
    const alerts = await detect(file);
    assert.deepEqual(invalidByReasonAndSource(alerts), { [`ipv4-length-exceeds-frame ${src}`]: 1 });
    assert.equal(alerts[0].severity, 'medium');
  });

  it('synthetic-encap-anomalies: the bogus IP and TCP header lengths; its land and flag tricks are for the flow detectors', async () => {
    const file = join(IDS, 'generated/synthetic-encap-anomalies.pcap');
    assert.equal(tsharkCount(file, 'ip.hdr_len < 20'), 1);
    const [[tcpSrc]] = tsharkRows(file, 'tcp.hdr_len < 20', ['ip.src']);
    // It also holds a land SYN, SYN+FIN, null and Xmas segments: the `land` and `tcp-flags` flow detectors report them.
    assert.equal(tsharkCount(file, 'tcp.flags.syn == 1 && tcp.flags.fin == 1'), 1);
    const alerts = await detect(file);
    // tshark shows no addresses for the packet with a 16-byte IP header ("Bogus IP header length"): neither do we.
    assert.deepEqual(invalidByReasonAndSource(alerts), { 'ipv4-bad-ihl ': 1, [`tcp-bad-offset ${tcpSrc}`]: 1 });
    assert.match(alerts.find((a) => reasonOf(a) === 'ipv4-bad-ihl')!.summary, /unknown source/);
  });

  it('ipv4_fragmented-1: overlapping fragments with conflicting data, data past the end, a misaligned fragment', async () => {
    const file = join(IDS, 'zeek/ipv4_fragmented-1.pcap');
    // With reassembly on (tshark's default), tshark marks the overlap, the conflict and the too-long fragment.
    assert.equal(tsharkCount(file, 'ip.fragment.overlap.conflict'), 1);
    assert.equal(tsharkCount(file, 'ip.fragment.toolongfragment'), 1);
    const misaligned = tsharkRows(file, 'ip.flags.mf == 1', ['ip.len', 'ip.hdr_len']).filter(([l, h]) => (Number(l) - Number(h)) % 8 !== 0);
    assert.equal(misaligned.length, 1);
    const alerts = await detect(file);
    assert.deepEqual(invalidByReasonAndSource(alerts), {
      'fragment-not-8-aligned 164.1.123.163': 1, 'fragment-overlap 164.1.123.163': 1, 'fragment-past-end 164.1.123.163': 1,
    });
    const overlap = alerts.find((a) => reasonOf(a) === 'fragment-overlap')!;
    assert.equal(overlap.severity, 'high');
    assert.match(overlap.samples[0].note!, /\[0, 304\) overlaps \[0, 18\)/);
    assert.match(alerts.find((a) => reasonOf(a) === 'fragment-past-end')!.samples[0].note!, /datagram end of 164/);
  });

  it('ipv4_fragmented-syn: the first fragment splits the TCP header (tiny fragment, RFC 1858)', async () => {
    const file = join(IDS, 'zeek/ipv4_fragmented-syn.pcap');
    const [[len, hdr]] = tsharkRows(file, 'ip.flags.mf == 1 && ip.frag_offset == 0', ['ip.len', 'ip.hdr_len'], ['ip.defragment:FALSE']);
    const [[tcpHeader]] = tsharkRows(file, 'tcp', ['tcp.hdr_len']);
    const carried = Number(len) - Number(hdr);
    assert.ok(carried < Number(tcpHeader), `tshark: the first fragment carries ${carried} bytes, the TCP header is ${tcpHeader}`);
    const alerts = await detect(file);
    assert.deepEqual(invalidByReasonAndSource(alerts), { 'tiny-fragment 192.168.1.100': 1 });
    assert.match(alerts[0].samples[0].note!, new RegExp(`carries ${carried} of the ${tcpHeader}-byte TCP header`));
  });

  it('fragmented but well-formed: defrag-01, hping3 fragments (one IP id reused) and a DNS amplification with 1,209 fragments', async () => {
    for (const name of ['suricata-verify/exception-policy-defrag-01_ipv4frags.pcap', 'generated/hping-land-synfin-frag.pcap',
      'real-ddos/amp.dns.RRSIG.fragmented.pcap']) {
      const file = join(IDS, name);
      assert.ok(tsharkCount(file, 'ip.flags.mf == 1 || ip.frag_offset > 0', ['ip.defragment:FALSE']) >= 2, name);
      assert.equal(tsharkCount(file, 'ip.fragment.overlap || ip.fragment.toolongfragment || ip.fragment.error'), 0, name);
      assert.equal(tsharkCount(file, 'ip.checksum.status == 0', CHECK_IP), 0, name);
      const alerts = await detect(file);
      assert.deepEqual(alerts.map((a) => a.summary), [], name);
    }
    // amp.dns.RRSIG: many fragments, one-way and mostly first fragments only: many, not overlapping.
    const amp = join(IDS, 'real-ddos/amp.dns.RRSIG.fragmented.pcap');
    assert.equal(tsharkCount(amp, 'ip.flags.mf == 1 || ip.frag_offset > 0', ['ip.defragment:FALSE']), 1209);
    // hping3 sent three datagrams with the same IP id 0x003a: each is complete before the next starts.
    const hping = join(IDS, 'generated/hping-land-synfin-frag.pcap');
    assert.equal(tsharkCount(hping, 'ip.id == 0x003a', ['ip.defragment:FALSE']), 39);
  });

  it('packets cut by the snap length are the capture\'s doing: reported only on request', async () => {
    for (const name of ['zeek/trunc_ip4-trunc.pcap', 'zeek/trunc_trunc-hdr.pcap', 'zeek/tcp_truncated-header.pcap']) {
      const file = join(IDS, name);
      assert.ok(tsharkCount(file, 'frame.cap_len < frame.len') >= 1, `${name}: tshark "Packet size limited during capture"`);
      assert.equal(tsharkCount(file, '_ws.malformed'), 0, name);
      assert.deepEqual(await detect(file), [], name);
    }
    const onRequest = { invalidPacket: { snaplenTruncation: true } };
    assert.deepEqual(invalidByReasonAndSource(await detect(join(IDS, 'zeek/trunc_ip4-trunc.pcap'), onRequest)), { 'ipv4-truncated ': 1 });
    assert.deepEqual(invalidByReasonAndSource(await detect(join(IDS, 'zeek/trunc_trunc-hdr.pcap'), onRequest)), { 'link-truncated ': 1 });
    // tcp_truncated-header: the TCP options are cut by the snap length, the header itself is consistent.
    assert.deepEqual(await detect(join(IDS, 'zeek/tcp_truncated-header.pcap'), onRequest), []);
  });

  it('a wrong IPv4 header checksum, with the value tshark computes', async () => {
    const file = join(TESTDATA, 'netflow/akvorado/datalink-data.pcap');
    const [[src, field, calculated]] = tsharkRows(file, 'ip.checksum.status == 0', ['ip.src', 'ip.checksum', 'ip.checksum_calculated'], CHECK_IP);
    const alerts = await detect(file);
    assert.deepEqual(invalidByReasonAndSource(alerts), { [`ipv4-bad-checksum ${src}`]: 1 });
    assert.equal(alerts[0].samples[0].note, `ip checksum ${field}, expected ${calculated}`);
  });

  it('a zero IPv4 checksum is "not filled in" (offload, frame generators), not wrong', async () => {
    const file = join(TESTDATA, 'encap/akvorado/mpls-explicit-null-ipv4.pcap');
    assert.deepEqual(tsharkRows(file, 'ip.checksum.status == 0', ['ip.checksum'], CHECK_IP), [['0x0000']]);
    assert.deepEqual(await detect(file), []);
  });

  it('TCP checksums: off by default; when on, the pseudo-header sums of a loopback capture are offload, not errors', async () => {
    const file = join(IDS, 'generated/lo-http.pcap');
    const rows = tsharkRows(file, 'tcp.checksum.status == 0', ['ip.src', 'ip.dst', 'ip.len', 'ip.hdr_len', 'tcp.checksum'], ['tcp.check_checksum:TRUE']);
    assert.equal(rows.length, 30, 'tshark with tcp.check_checksum calls every segment of lo-http bad');
    for (const [src, dst, len, hdr, field] of rows) {
      // What Linux leaves for the NIC (CHECKSUM_PARTIAL): the folded pseudo-header sum.
      let pseudo = wordsOf([...ipv4Bytes(src), ...ipv4Bytes(dst)]) + 6 + Number(len) - Number(hdr);
      while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
      assert.equal(Number(field), pseudo);
    }
    assert.deepEqual(await detect(file, { invalidPacket: { transportChecksums: true } }), []);
  });

  it('a real wrong TCP checksum is reported when asked, with tshark\'s expected value', async () => {
    const good = v4({ src: '192.0.2.30', dst: '192.0.2.31', proto: 6, payload: tcp(40000, 80, TCP.SYN) });
    const seg = good.subarray(20);
    const pseudo = wordsOf([...ipv4Bytes('192.0.2.30'), ...ipv4Bytes('192.0.2.31'), 0, 6, 0, seg.length]);
    const c = internetChecksum(seg, pseudo);
    seg[16] = (c >> 8) ^ 0x12;
    seg[17] = c & 0xff;
    const file = writeCapture('packet-bad-tcp-checksum.pcap', [{ ts: T0, data: eth4(good) }]);
    const [[field, calculated]] = tsharkRows(file, 'tcp.checksum.status == 0', ['tcp.checksum', 'tcp.checksum_calculated'], ['tcp.check_checksum:TRUE']);
    assert.deepEqual(await detect(file), [], 'not by default');
    const alerts = await detect(file, { invalidPacket: { transportChecksums: true } });
    assert.deepEqual(invalidByReasonAndSource(alerts), { 'tcp-bad-checksum 192.0.2.30': 1 });
    assert.equal(alerts[0].samples[0].note, `tcp checksum ${field}, expected ${calculated}`);
  });

  it('benign captures raise nothing: loopback HTTP, wikipedia, every encapsulation sample, mirrored tunnels', async () => {
    const files = [
      join(IDS, 'generated/lo-http.pcap'), join(IDS, 'generated/lo-http.pcapng'), join(IDS, 'zeek/wikipedia.pcap'),
      join(IDS, 'zeek/erspan-multi.pcap'), join(IDS, 'zeek/tunnels_vxlan.pcap'), join(IDS, 'zeek/http-qinq-0.pcap'),
      ...readdirSync(join(TESTDATA, 'encap/akvorado')).map((f) => join(TESTDATA, 'encap/akvorado', f)),
    ];
    for (const file of files) {
      assert.equal(tsharkCount(file, '_ws.malformed || ip.fragment.overlap || ip.flags.rb == 1 || ip.ttl == 0'), 0, file);
      assert.deepEqual((await detect(file)).map((a) => a.summary), [], file);
    }
  });
});

describe('invalid-packet on crafted packets', () => {
  const src = '192.0.2.7';
  const dst = '192.0.2.8';
  const ping = icmp(8, 0, new Uint8Array(8));
  const evil = v4({ src, dst, proto: 6, payload: tcp(1025, 80, TCP.ACK) });
  evil[6] |= 0x80;
  withIpChecksum(evil);
  const badSum = v4({ src, dst, proto: 6, payload: tcp(1026, 80, TCP.SYN) });
  badSum[11] ^= 0x55;
  const v6a = '2001:db8::7';
  const v6b = '2001:db8::8';
  const frames: FrameRecord[] = [
    { ts: T0, data: eth4(evil) },
    { ts: T0 + 1, data: eth4(v4({ src, dst, proto: 1, ttl: 0, payload: ping })) },
    { ts: T0 + 2, data: eth4(v4({ src, dst, proto: 1, id: 10, df: true, mf: true, payload: concat(ping, new Uint8Array(8)) })) },
    { ts: T0 + 3, data: eth4(v4({ src, dst, proto: 1, id: 11, fragOffset: 65528, payload: new Uint8Array(64) })) },
    { ts: T0 + 4, data: eth4(badSum) },
    { ts: T0 + 5, data: eth4(v4({ src, dst, proto: 6, payload: tcp(1027, 80, TCP.SYN | TCP.RST) })) },
    // IPv6: [16, 48) rewrites bytes 16–31 of the first fragment with other data.
    { ts: T0 + 6, data: eth6(ipv6({ src: v6a, dst: v6b, next: 44, payload: ipv6Frag(17, 0, true, 77, udp(5000, 6000, new Uint8Array(24).fill(1), 48)) })) },
    { ts: T0 + 7, data: eth6(ipv6({ src: v6a, dst: v6b, next: 44, payload: ipv6Frag(17, 16, false, 77, new Uint8Array(32).fill(2)) })) },
    // A mirror's identical copy of a fragment is no overlap.
    { ts: T0 + 8, data: eth6(ipv6({ src: v6a, dst: v6b, next: 44, payload: ipv6Frag(17, 0, true, 78, udp(5000, 6000, new Uint8Array(8), 24)) })) },
    { ts: T0 + 9, data: eth6(ipv6({ src: v6a, dst: v6b, next: 44, payload: ipv6Frag(17, 0, true, 78, udp(5000, 6000, new Uint8Array(8), 24)) })) },
    { ts: T0 + 10, data: eth6(ipv6({ src: v6a, dst: v6b, next: 44, payload: ipv6Frag(17, 16, false, 78, new Uint8Array(8)) })) },
    // RFC 1858 tiny fragment: 8 bytes of TCP header (ports and sequence number), the flags in the next fragment.
    { ts: T0 + 11, data: eth4(v4({ src: '192.0.2.9', dst, proto: 6, id: 12, mf: true, payload: tcp(1028, 22, TCP.SYN).subarray(0, 8) })) },
    { ts: T0 + 12, data: eth4(v4({ src: '192.0.2.9', dst, proto: 6, id: 12, fragOffset: 8, payload: tcp(1028, 22, TCP.SYN).subarray(8) })) },
    // A non-last fragment of 20 bytes.
    { ts: T0 + 13, data: eth4(v4({ src: '192.0.2.10', dst, proto: 1, id: 13, mf: true, payload: concat(ping, new Uint8Array(4)) })) },
  ];

  it('tshark sees what each frame was made to be', NEEDS_TSHARK, () => {
    const file = writeCapture('packet-invalid.pcap', frames);
    assert.deepEqual(tsharkRows(file, 'ip.flags.rb == 1', ['frame.number']), [['1']]);
    assert.deepEqual(tsharkRows(file, 'ip.ttl == 0', ['frame.number']), [['2']]);
    assert.deepEqual(tsharkRows(file, 'ip.flags.df == 1 && ip.flags.mf == 1', ['frame.number']), [['3']]);
    const [[offset, len, hdr]] = tsharkRows(file, 'frame.number == 4', ['ip.frag_offset', 'ip.len', 'ip.hdr_len'], ['ip.defragment:FALSE']);
    assert.ok(Number(offset) * 8 + Number(len) > 65535, 'the fragment reaches past 65,535 bytes');
    assert.deepEqual(tsharkRows(file, 'ip.checksum.status == 0', ['frame.number'], CHECK_IP), [['5']]);
    assert.deepEqual(tsharkRows(file, 'tcp.flags.syn == 1 && tcp.flags.reset == 1', ['frame.number']), [['6']]);
    assert.deepEqual(tsharkRows(file, 'ipv6.fragment.overlap.conflict', ['frame.number']), [['8']]);
    // tshark calls the identical copy an overlap too, but not a conflicting one.
    assert.deepEqual(tsharkRows(file, 'ipv6.fragment.overlap', ['frame.number']), [['8'], ['11']]);
    assert.equal(tsharkCount(file, 'frame.number == 11 && ipv6.fragment.overlap.conflict'), 0);
    assert.deepEqual(tsharkRows(file, 'frame.number == 12', ['ip.len', 'ip.hdr_len', 'ip.flags.mf'], ['ip.defragment:FALSE']), [['28', '20', '1']]);
    assert.deepEqual(tsharkRows(file, 'frame.number == 14', ['ip.len', 'ip.flags.mf'], ['ip.defragment:FALSE']), [['40', '1']]);
  });

  it('reports each kind once per source, with the packet as evidence', async () => {
    const alerts = await detect(writeCapture('packet-invalid-2.pcap', frames));
    assert.deepEqual(invalidByReasonAndSource(alerts), {
      'ip-reserved-flag 192.0.2.7': 1, 'ttl-zero 192.0.2.7': 1, 'fragment-with-df 192.0.2.7': 1, 'fragment-too-large 192.0.2.7': 1,
      'ipv4-bad-checksum 192.0.2.7': 1, 'tcp-syn-rst 192.0.2.7': 1, 'fragment-overlap 2001:db8::7': 1, 'tiny-fragment 192.0.2.9': 1,
      'fragment-not-8-aligned 192.0.2.10': 1,
    });
    const by = (r: string) => alerts.find((a) => reasonOf(a) === r)!;
    assert.equal(by('fragment-too-large').severity, 'high');
    assert.match(by('fragment-too-large').samples[0].note!, /reassembles to 65612 bytes/);
    assert.match(by('fragment-overlap').samples[0].note!, /\[16, 48\) overlaps \[0, 32\)/);
    assert.match(by('tiny-fragment').samples[0].note!, /carries 8 of the 20-byte TCP header/);
    assert.equal(by('tcp-syn-rst').samples[0].dstPort, 80);
    assert.equal(by('ip-reserved-flag').severity, 'low');
  });

  it('`ignore` silences a reason', () => {
    const d = new InvalidPacketDetector({ ...DEFAULTS.invalidPacket, ignore: ['tcp-syn-rst', 'ttl-zero'] });
    const reasons = feed(d, frames).map(reasonOf);
    assert.ok(!reasons.includes('tcp-syn-rst') && !reasons.includes('ttl-zero'));
    assert.ok(reasons.includes('fragment-overlap'));
  });

  it('one alert per (capture, source, reason) and report window: a steady stream gives one per window', () => {
    const d = new InvalidPacketDetector({ ...DEFAULTS.invalidPacket, reportWindowSec: 60 });
    const stream: FrameRecord[] = [];
    for (let s = 0; s < 150; s++) stream.push({ ts: T0 + s * 1000, data: eth4(v4({ src, dst, proto: 6, payload: tcp(2000 + s, 80, TCP.SYN | TCP.RST) })) });
    const alerts = feed(d, stream);
    assert.deepEqual(alerts.map((a) => a.counts.packets), [60, 60, 30]);
    assert.deepEqual(alerts.map((a) => a.time - T0), [0, 60_000, 120_000]);
    assert.ok(alerts.every((a) => a.key === `tcp-syn-rst|${src}|crafted` && a.samples.length === 5));
  });

  it('stays bounded: fragment datagrams and open reports have caps', () => {
    const d = new InvalidPacketDetector({ ...DEFAULTS.invalidPacket, maxDatagrams: 100, maxReports: 50 });
    const flood: FrameRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const from = `198.51.${i >> 8}.${i & 0xff}`;
      // A first fragment that never completes, and a SYN+RST, from 1,000 sources.
      flood.push({ ts: T0 + i, data: eth4(v4({ src: from, dst, proto: 17, id: i, mf: true, payload: udp(53, 53, new Uint8Array(8), 400) })) });
      flood.push({ ts: T0 + i, data: eth4(v4({ src: from, dst, proto: 6, payload: tcp(1, 2, TCP.SYN | TCP.RST) })) });
    }
    const alerts = feed(d, flood, false);
    assert.ok(d.fragments.size <= 100);
    assert.ok(d.reports.size <= 50);
    assert.equal(alerts.length, 1000 - 50, 'closed early, not lost');
    d.finish((a) => alerts.push(a));
    assert.equal(alerts.length, 1000);
  });
});

describe('arp-conflict', () => {
  /** The router asks for the VIP every 5 s; with the LVS-DR "ARP problem" the LB and a real server both answer. */
  function lvsDrArpProblem(vlan: number): FrameRecord[] {
    const frames: FrameRecord[] = [];
    for (let t = 0; t < 30; t += 5) {
      frames.push(arp({ at: t, op: 1, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetIp: VIP, vlan }));
      frames.push(arp({ at: t + 0.001, op: 2, senderMac: LB, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip, vlan }));
      frames.push(arp({ at: t + 0.002, op: 2, senderMac: REAL_SERVER, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip, vlan }));
    }
    return frames;
  }

  it('two MACs answering for a VIP (real servers answering ARP) on an 802.1Q VLAN: a high conflict', async () => {
    const file = writeCapture('packet-arp-lvs-dr.pcap', lvsDrArpProblem(10));
    if (HAVE_TSHARK) {
      assert.equal(tsharkCount(file, 'arp && vlan.id == 10'), 18);
      assert.ok(tsharkCount(file, 'arp.duplicate-address-detected') > 0, 'tshark: "Duplicate IP address configured"');
    }
    const alerts = await detect(file);
    assert.equal(alerts.length, 1);
    const a = alerts[0];
    assert.equal(a.detector, 'arp-conflict');
    assert.equal(a.severity, 'high');
    assert.equal(a.dst, VIP);
    assert.equal(a.key, `vlan 10|${VIP}`);
    assert.match(a.summary, /10\.0\.0\.100 on vlan 10 answered by 2 MACs at once, 02:00:00:00:00:10 \(6\), 02:00:00:00:00:11 \(6\)/);
    assert.equal(a.counts.replies, 12);
    assert.equal(a.counts.replyPairs, 6);
    assert.match(a.samples[0].note!, /reply: 10\.0\.0\.100 is-at 02:00:00:00:00:11; was 02:00:00:00:00:10 \(second answer within 1000 ms\)/);
  });

  it('the same conflict mirrored through ERSPAN is found inside the tunnel', async () => {
    const frames = lvsDrArpProblem(0).map((f, i) => inErspan(f, 7, i));
    const file = writeCapture('packet-arp-erspan.pcap', frames);
    if (HAVE_TSHARK) assert.equal(tsharkCount(file, 'erspan && arp'), 18);
    const alerts = await detect(file);
    assert.deepEqual(alerts.map((a) => [a.severity, a.key]), [['high', `erspan 7|${VIP}`]]);
  });

  it('a keepalived failover (gratuitous ARP from the new MAC, the old one silent) is a low MAC change', async () => {
    const frames: FrameRecord[] = [];
    for (let t = 0; t < 20; t += 5) {
      frames.push(arp({ at: t, op: 1, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetIp: VIP }));
      frames.push(arp({ at: t + 0.001, op: 2, senderMac: LB, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip }));
    }
    // keepalived sends 5 gratuitous ARPs on becoming master (garp_master_repeat 5).
    for (let i = 0; i < 5; i++) frames.push(arp({ at: 22 + i * 0.2, op: 1, senderMac: BACKUP_LB, senderIp: VIP, targetIp: VIP }));
    for (let t = 25; t < 60; t += 5) {
      frames.push(arp({ at: t, op: 1, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetIp: VIP }));
      frames.push(arp({ at: t + 0.001, op: 2, senderMac: BACKUP_LB, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip }));
    }
    const file = writeCapture('packet-arp-failover.pcap', frames);
    if (HAVE_TSHARK) assert.equal(tsharkCount(file, 'arp.isgratuitous'), 5);
    const alerts = await detect(file);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].severity, 'low');
    assert.equal(alerts[0].summary, `ARP: ${VIP} moved from 02:00:00:00:00:10 to 02:00:00:00:00:12 (failover, replaced host or ARP spoofing)`);
    assert.equal(alerts[0].counts.changes, 1);
    assert.equal(alerts[0].counts.gratuitous, 5);
  });

  it('ARP spoofing of the gateway (forged replies every 3 s, the gateway still answering) flips into a conflict', async () => {
    const attacker = macOf(0x66);
    const victim = { mac: macOf(0x20), ip: '10.0.0.20' };
    const frames: FrameRecord[] = [];
    for (let t = 0; t < 60; t += 3) {
      frames.push(arp({ at: t, op: 2, senderMac: attacker, senderIp: ROUTER.ip, targetMac: victim.mac, targetIp: victim.ip }));
    }
    // The victim's cache entry goes stale now and then: it asks, and the real gateway answers (1.5 s after a forgery).
    for (const t of [10.5, 25.5, 40.5]) {
      frames.push(arp({ at: t - 0.001, op: 1, senderMac: victim.mac, senderIp: victim.ip, targetIp: ROUTER.ip }));
      frames.push(arp({ at: t, op: 2, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetMac: victim.mac, targetIp: victim.ip }));
    }
    const file = writeCapture('packet-arp-spoof.pcap', frames);
    const alerts = await detect(file);
    const gw = alerts.filter((a) => a.dst === ROUTER.ip);
    assert.equal(gw.length, 1);
    assert.equal(gw[0].severity, 'high');
    assert.equal(gw[0].counts.replyPairs, 0, 'never two answers within 1 s: found by the flips');
    assert.equal(gw[0].counts.maxChangesInWindow, 6);
    assert.equal(gw[0].counts.changes, 6);
    assert.match(gw[0].summary, /6 changes within 60 s/);
    assert.deepEqual(alerts.filter((a) => a.dst !== ROUTER.ip), []);
  });

  it('one address on two VLANs is two hosts, not a conflict', async () => {
    const frames = [
      arp({ at: 0, op: 2, senderMac: LB, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip, vlan: 10 }),
      arp({ at: 0.001, op: 2, senderMac: REAL_SERVER, senderIp: VIP, targetMac: ROUTER.mac, targetIp: ROUTER.ip, vlan: 20 }),
    ];
    assert.deepEqual(await detect(writeCapture('packet-arp-vlans.pcap', frames)), []);
  });

  it('real captures with ARP (requests, replies, gratuitous, inside VLAN, ERSPAN, VXLAN, Geneve, an nmap ARP sweep) raise nothing', NEEDS_TSHARK, async () => {
    for (const name of ['zeek/wikipedia.pcap', 'zeek/icmp_dot1q.pcap', 'zeek/erspan-multi.pcap', 'zeek/tunnels_vxlan.pcap',
      'zeek/nmap-vsn.pcap', 'suricata-verify/geneve-decoder_input.pcap', 'generated/be.pcap', 'real-ddos/amp.TCP.reflection.SYNACK.pcap']) {
      const file = join(IDS, name);
      assert.ok(tsharkCount(file, 'arp') > 0, name);
      assert.equal(tsharkCount(file, 'arp.duplicate-address-detected'), 0, name);
      assert.deepEqual((await detect(file)).filter((a) => a.detector === 'arp-conflict'), [], name);
    }
  });

  it('follows ARP inside ERSPAN in a real capture (the walk reaches the messages)', () => {
    // erspan-multi.pcap: 10 ARP messages inside GRE/ERSPAN. Two answers from different MACs for 192.168.69.2
    // within a second would be a conflict; with its real traffic there is none, but every message must be read.
    const d = new ArpConflictDetector({ ...DEFAULTS.arpConflict, countRequests: true });
    return ingestCapture(join(IDS, 'zeek/erspan-multi.pcap'), {
      onRecords: () => {},
      onPacket: (packet, decoded) => d.onPacket({ packet, decoded, capture: 'erspan-multi.pcap' }, () => assert.fail('no alert expected')),
    }).then(() => assert.equal(d.trackedAddresses, 2));
  });

  it('stays bounded under a flood of forged senders', () => {
    const d = new ArpConflictDetector({ ...DEFAULTS.arpConflict, maxAddresses: 100 });
    const frames: FrameRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      frames.push(arp({ at: i / 100, op: 2, senderMac: macOf(i), senderIp: `10.1.${i >> 8}.${i & 0xff}`, targetIp: '10.0.0.1' }));
    }
    feed(d, frames);
    assert.equal(d.trackedAddresses, 100);
  });
});

describe('vrrp-flap', () => {
  const A = '10.0.0.2';
  const B = '10.0.0.3';

  function checkWithTshark(file: string, frames: FrameRecord[]): void {
    if (!HAVE_TSHARK) return;
    const rows = tsharkRows(file, 'vrrp', ['vrrp.version', 'vrrp.virt_rtr_id', 'vrrp.checksum.status']);
    assert.equal(rows.length, frames.length, 'every frame is VRRP to tshark');
    assert.ok(rows.every((r) => r[2] === '1'), 'with a good checksum');
  }

  async function vrrpAlerts(name: string, frames: FrameRecord[]): Promise<AlertCandidate[]> {
    const file = writeCapture(name, frames);
    checkWithTshark(file, frames);
    return (await detect(file)).filter((a) => a.detector === 'vrrp-flap');
  }

  it('a failover (the master goes silent, the backup takes over) is one info alert', async () => {
    const frames = [...advertsEverySecond(A, 150, 0, 10), ...advertsEverySecond(B, 100, 13.7, 25)];
    const alerts = await vrrpAlerts('packet-vrrp-failover.pcap', frames);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].severity, 'info');
    assert.equal(alerts[0].summary, `VRRP VRID 51 (VIP 10.0.0.100): master changed from ${A} to ${B} (failover)`);
    assert.equal(alerts[0].src, B);
    assert.equal(alerts[0].vip, '10.0.0.100');
    assert.equal(alerts[0].proto, 112);
    assert.equal(alerts[0].time, T0 + 13_700);
  });

  it('a master changing 5 times in 32 s is flapping (high)', async () => {
    const frames: FrameRecord[] = [];
    for (let i = 0; i < 6; i++) frames.push(...advertsEverySecond(i % 2 === 0 ? A : B, 100, i * 6, i * 6 + 2));
    const alerts = await vrrpAlerts('packet-vrrp-flap.pcap', frames);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].severity, 'high');
    assert.match(alerts[0].summary, /is flapping: master changed 5 times within 5 min, now 10\.0\.0\.3/);
    assert.equal(alerts[0].counts.changes, 5);
    assert.equal(alerts[0].samples.length, 5);
  });

  it('two routers advertising at once is split brain (high)', async () => {
    const frames = [...advertsEverySecond(A, 150, 0, 10), ...advertsEverySecond(B, 100, 0.5, 10.5)];
    const alerts = await vrrpAlerts('packet-vrrp-split.pcap', frames);
    const split = alerts.filter((a) => a.key.endsWith('|split-brain'));
    assert.equal(split.length, 1);
    assert.equal(split[0].severity, 'high');
    assert.match(split[0].summary, /split brain, 10\.0\.0\.2 and 10\.0\.0\.3 both advertise as master/);
    assert.ok(split[0].counts.alternations >= 18);
    assert.ok(alerts.every((a) => !(a.key.endsWith('|master') && a.severity === 'high')), 'not also flapping');
  });

  it('a backup that now and then misses the master\'s adverts and claims the role is flapping, not split brain', async () => {
    // A advertises throughout; every 10 s B sends one advert (it timed out on A), hears A again and backs off.
    const frames = [...advertsEverySecond(A, 150, 0, 50), ...[5.5, 15.5, 25.5, 35.5, 45.5].map((at) => advert({ at, src: B, priority: 100 }))];
    const alerts = await vrrpAlerts('packet-vrrp-blips.pcap', frames);
    assert.deepEqual(alerts.map((a) => [a.severity, a.key]), [['high', '|v4|51|master']]);
    assert.equal(alerts[0].counts.changes, 5);
  });

  it('a preemption with the old master\'s advert in flight is one change, not split brain', async () => {
    const frames = [...advertsEverySecond(A, 100, 0, 5.1), advert({ at: 5.01, src: A, priority: 100 }), ...advertsEverySecond(B, 200, 5, 15)];
    const alerts = await vrrpAlerts('packet-vrrp-preempt.pcap', frames);
    assert.deepEqual(alerts.map((a) => [a.severity, a.key]), [['info', '|v4|51|master']]);
  });

  it('a priority change (keepalived track script) is low; a resignation (priority 0) hands over cleanly', async () => {
    const frames = [
      ...advertsEverySecond(A, 150, 0, 5), ...advertsEverySecond(A, 100, 5, 8),
      advert({ at: 8, src: A, priority: 0 }), ...advertsEverySecond(B, 90, 8.2, 12),
    ];
    const alerts = await vrrpAlerts('packet-vrrp-priority.pcap', frames);
    const priority = alerts.find((a) => a.key.endsWith(`|priority|${A}`))!;
    assert.equal(priority.severity, 'low');
    assert.equal(priority.summary, `VRRP VRID 51 (VIP 10.0.0.100): ${A} changed its priority from 150 to 100`);
    const master = alerts.find((a) => a.key.endsWith('|master'))!;
    assert.equal(master.severity, 'info');
    assert.match(master.summary, /from 10\.0\.0\.2 to 10\.0\.0\.3/);
    assert.equal(alerts.length, 2);
  });

  it('VRRPv3 over IPv6 is its own router; v2 and v3 over IPv4 are read alike', async () => {
    const frames = [
      ...advertsEverySecond('fe80::2', 150, 0, 4), ...advertsEverySecond('fe80::3', 100, 8, 12),
      ...advertsEverySecond(A, 150, 0, 12, { version: 3 }),
    ];
    const alerts = await vrrpAlerts('packet-vrrp-v3.pcap', frames);
    assert.deepEqual(alerts.map((a) => a.summary), ['VRRP VRID 51 (IPv6) (VIP 2001:db8::100): master changed from fe80::2 to fe80::3 (failover)']);
  });

  it('ignores adverts that came through a router (TTL not 255) and keeps VLANs apart', async () => {
    const frames = [
      ...advertsEverySecond(A, 150, 0, 10, { vlan: 10 }), ...advertsEverySecond(B, 100, 0.5, 10.5, { vlan: 20 }),
      ...advertsEverySecond('10.9.9.9', 200, 3, 6, { vlan: 10, ttl: 254 }),
    ];
    const file = writeCapture('packet-vrrp-vlans.pcap', frames);
    checkWithTshark(file, frames);
    const d = new VrrpFlapDetector();
    const alerts: AlertCandidate[] = [];
    await ingestCapture(file, { onRecords: () => {}, onPacket: (packet, decoded) => d.onPacket({ packet, decoded, capture: 'x' }, (a) => alerts.push(a)) });
    d.finish((a) => alerts.push(a));
    assert.deepEqual(alerts, []);
    assert.equal(d.ignoredTtl, 3);
  });

  it('real captures hold no VRRP and raise nothing', NEEDS_TSHARK, async () => {
    for (const name of ['zeek/wikipedia.pcap', 'zeek/erspan-multi.pcap', 'generated/lo-http.pcap']) {
      const file = join(IDS, name);
      assert.equal(tsharkCount(file, 'vrrp'), 0);
      assert.deepEqual((await detect(file)).filter((a) => a.detector === 'vrrp-flap'), []);
    }
  });
});

describe('createPacketDetectors', () => {
  it('makes the three detectors with documented defaults', () => {
    assert.deepEqual(createPacketDetectors().map((d) => d.id), ['invalid-packet', 'arp-conflict', 'vrrp-flap']);
    assert.equal(DEFAULTS.invalidPacket.transportChecksums, false);
    assert.equal(DEFAULTS.invalidPacket.ipChecksum, true);
    assert.equal(DEFAULTS.invalidPacket.fragmentTimeoutSec, 30);
    assert.equal(DEFAULTS.arpConflict.replyPairMs, 1000);
    assert.equal(DEFAULTS.arpConflict.memorySec, 4 * 3600);
    assert.equal(DEFAULTS.vrrpFlap.maxChanges, 3);
    assert.equal(DEFAULTS.vrrpFlap.flapWindowSec, 300);
  });

  it('leaves out disabled detectors and copies DEFAULTS', () => {
    assert.deepEqual(createPacketDetectors({ arpConflict: { enabled: false }, vrrpFlap: { enabled: false } }).map((d) => d.id), ['invalid-packet']);
    const c = resolvePacketDetectorsConfig({ invalidPacket: { ignore: ['ttl-zero'] } });
    assert.deepEqual(c.invalidPacket.ignore, ['ttl-zero']);
    assert.deepEqual(DEFAULTS.invalidPacket.ignore, []);
    assert.equal(c.vrrpFlap.maxChanges, 3);
  });

  it('refuses settings that would report everything or keep nothing', () => {
    assert.throws(() => createPacketDetectors({ vrrpFlap: { flapWindowSec: 0 } }), /vrrpFlap\.flapWindowSec must be a positive number/);
    assert.throws(() => createPacketDetectors({ invalidPacket: { maxDatagrams: Number.NaN } }), /invalidPacket\.maxDatagrams/);
  });
});
