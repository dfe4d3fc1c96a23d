// The flow detectors on real captures (through the pcap ingest, and re-aggregated the way softflowd would export the
// same packets over NetFlow) and on made-up flows for what captures cannot show: windows sliding, memory caps,
// the VIP baseline, exporters that send no TCP flags.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { BruteForceDetector } from '../../src/ids/flow/bruteForce.ts';
import { DistinctEstimate, DISTINCT_ESTIMATE_MAX } from '../../src/ids/flow/distinctEstimate.ts';
import { createSynFloodDetector } from '../../src/ids/flow/synFlood.ts';
import {
  createFlowDetectors, DEFAULTS, resolveFlowDetectorsConfig, type FlowDetectorsOverrides,
} from '../../src/ids/flow/index.ts';
import { LandDetector } from '../../src/ids/flow/landAttack.ts';
import { PortScanDetector } from '../../src/ids/flow/portScan.ts';
import { flagAnomalyOf, TcpFlagsDetector } from '../../src/ids/flow/tcpFlags.ts';
import { TrwScanDetector } from '../../src/ids/flow/trwScan.ts';
import { VipDdosDetector } from '../../src/ids/flow/vipDdos.ts';
import type { AlertCandidate, FlowDetector } from '../../src/ids/idsTypes.ts';
import { ingestCapture } from '../../src/pcap/ingestCapture.ts';
import type { EnrichedFlow } from '../../src/storage/flowRows.ts';

const TESTDATA = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata');
const IDS = join(TESTDATA, 'ids');

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const captured = new Map<string, EnrichedFlow[]>();

/** The flows of a capture from the pure ingest pipeline, in the order and batches the daemon would see them. */
async function flowsOf(relPath: string): Promise<EnrichedFlow[]> {
  const hit = captured.get(relPath);
  if (hit) return hit;
  const flows: EnrichedFlow[] = [];
  await ingestCapture(join(IDS, relPath), { onRecords: (records) => { flows.push(...records); } });
  captured.set(relPath, flows);
  return flows;
}

/** Runs fresh detectors over flows in batches of 1000 and returns every candidate they emitted. */
function detect(flows: readonly EnrichedFlow[], config: FlowDetectorsOverrides = {}): AlertCandidate[] {
  return runOn(createFlowDetectors(config), flows);
}

function runOn(detectors: readonly FlowDetector[], flows: readonly EnrichedFlow[]): AlertCandidate[] {
  const out: AlertCandidate[] = [];
  for (let i = 0; i < flows.length; i += 1000) {
    const batch = flows.slice(i, i + 1000);
    for (const d of detectors) d.onFlows(batch, (a) => out.push(a));
  }
  return out;
}

function detectorsIn(alerts: readonly AlertCandidate[]): string[] {
  return [...new Set(alerts.map((a) => a.detector))].sort();
}

function only(alerts: readonly AlertCandidate[], detector: string): AlertCandidate {
  const hits = alerts.filter((a) => a.detector === detector);
  assert.equal(hits.length, 1, `one ${detector} candidate expected, got ${hits.length}: ${hits.map((h) => h.summary).join(' | ')}`);
  return hits[0];
}

/**
 * The flows softflowd would export for the same packets, near enough: one record per 5-tuple and direction while
 * packets keep coming (softflowd does not end a flow at FIN or RST; its idle timeouts are minutes), flags OR-ed,
 * none of the capture-only fields, exported when they end, from a NetFlow v9 exporter.
 */
function asSoftflowdExport(flows: readonly EnrichedFlow[]): EnrichedFlow[] {
  const open = new Map<string, EnrichedFlow>();
  const out: EnrichedFlow[] = [];
  for (const f of [...flows].sort((a, b) => a.first - b.first)) {
    const k = `${f.srcAddr}|${f.srcPort}|${f.dstAddr}|${f.dstPort}|${f.proto}`;
    const prev = open.get(k);
    if (prev && f.first - prev.last <= 300_000) {
      prev.last = Math.max(prev.last, f.last);
      prev.timeReceived = prev.last;
      prev.packets += f.packets;
      prev.bytes += f.bytes;
      prev.tcpFlags |= f.tcpFlags;
      continue;
    }
    const r: EnrichedFlow = {
      ...emptyFlowRecord(), first: f.first, last: f.last, timeReceived: f.last, srcAddr: f.srcAddr, dstAddr: f.dstAddr,
      srcPort: f.srcPort, dstPort: f.dstPort, proto: f.proto, tcpFlags: f.tcpFlags, packets: f.packets, bytes: f.bytes,
      exporter: '192.0.2.250', exporterPort: 9995, version: 9, source: 'netflow',
    };
    open.set(k, r);
    out.push(r);
  }
  return out.sort((a, b) => a.last - b.last);
}

const COUNT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** What every candidate must be, whatever the detector (the alert manager and the alerts table rely on it). */
function assertWellFormed(a: AlertCandidate, flows: readonly EnrichedFlow[]): void {
  assert.ok(a.summary.length > 10 && !a.summary.includes('\n'), `summary: ${a.summary}`);
  assert.ok(a.key.length > 0, 'key');
  assert.ok(a.samples.length >= 1 && a.samples.length <= 5, `${a.detector}: ${a.samples.length} samples`);
  for (const [k, v] of Object.entries(a.counts)) {
    assert.match(k, COUNT_KEY);
    assert.ok(Number.isFinite(v), `${a.detector} count ${k} = ${v}`);
  }
  assert.ok(a.src === '' || isIP(a.src) !== 0, `src ${a.src}`);
  assert.ok(a.dst === '' || isIP(a.dst) !== 0, `dst ${a.dst}`);
  assert.equal(a.origin, flows[0].source);
  // Event time, not the wall clock: inside the span of the flows (replayed captures are years old).
  let first = Infinity;
  let last = -Infinity;
  for (const f of flows) {
    first = Math.min(first, f.first);
    last = Math.max(last, f.last);
  }
  assert.ok(a.time >= first && a.time <= last, `${a.detector} time ${new Date(a.time).toISOString()} outside the flows`);
  for (const s of a.samples) assert.ok(s.time >= first && s.time <= last);
}

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;

/** A made-up flow: pcap-derived TCP from 10.0.0.5 to 10.0.0.9 unless told otherwise. */
function flow(over: Partial<EnrichedFlow>): EnrichedFlow {
  const f: EnrichedFlow = {
    ...emptyFlowRecord(), source: 'pcap', srcAddr: '10.0.0.5', dstAddr: '10.0.0.9', srcPort: 40000, proto: 6,
    packets: 1, bytes: 40, ...over,
  };
  if (over.first !== undefined && over.last === undefined) f.last = f.first;
  return f;
}

function synProbe(t: number, dstPort: number, over: Partial<EnrichedFlow> = {}): EnrichedFlow {
  return flow({ first: t, dstPort, tcpFlags: 0x02, ...over });
}

function collect(d: FlowDetector, flows: readonly EnrichedFlow[]): AlertCandidate[] {
  return runOn([d], flows);
}

// ---------------------------------------------------------------------------------------------------------------
// Real captures

/** Attack captures and the detectors they must raise with DEFAULTS, nothing more. */
const ATTACKS: Array<[string, string[], string]> = [
  ['generated/nmap-syn-scan.pcap', ['port-scan', 'trw-scan'], 'nmap -sS of 1000 ports on loopback'],
  ['generated/nmap-null-fin-xmas.pcap', ['port-scan', 'tcp-flags'], 'nmap -sN, -sF, -sX of 100 ports'],
  ['generated/hping-syn-flood.pcap', ['syn-flood'], '3000 SYNs to port 80 in 0.8 s, source port incrementing'],
  ['generated/hping-icmp-flood.pcap', ['icmp-flood'], '2000 echo requests in 0.5 s'],
  // 2000 UDP packets are far below the UDP floor; their 2000 port-unreachable replies go to 127.0.0.1 as well.
  ['generated/hping-udp-flood.pcap', ['icmp-flood'], '2000 UDP packets to port 53, ICMP backscatter on loopback'],
  ['generated/hping-land-synfin-frag.pcap', ['land', 'tcp-flags'], 'hping3 land (80→80), SYN+FIN, ICMP fragments'],
  ['generated/bruteforce-22.pcap', ['brute-force'], '60 short connections to port 22 in 1.3 s'],
  ['zeek/ssh_sshguess.pcap', ['brute-force'], '11 SSH password-guessing connections in 70 s'],
  ['zeek/nmap-vsn.pcap', ['trw-scan'], 'nmap -sV against several hosts: failed first contacts'],
  ['real-ddos/pkt.TCP.synflood.spoofed.pcap', ['syn-flood'], '37,841 SYNs from 37,623 spoofed sources to port 25565'],
  ['real-ddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng', ['syn-flood'], 'SYN+ECE+CWR flood to port 30120'],
];

/** Captures of ordinary traffic: no flow detector may raise anything. */
const BENIGN = [
  'generated/lo-http.pcap', 'generated/lo-http.pcapng', 'generated/dumpcap-lo.pcapng', 'zeek/wikipedia.pcap',
  'zeek/http-qinq-0.pcap', 'zeek/erspan-multi.pcap', 'zeek/icmp_dot1q.pcap', 'zeek/tunnels_vxlan.pcap',
  'suricata-verify/vxlan-decoder-03_vxlan.pcap', 'suricata-verify/geneve-decoder_input.pcap',
  // One VNC session (Zeek's RFB analyzer test of a scanner's handshake): nothing a flow detector should call a scan.
  'zeek/rfb_vnc-scanner.pcap',
  ...['gre-v4-key', 'gre-v4-plain', 'gre-v6-plain', 'ipv4-ipv4', 'ipv4-ipv6', 'mpls-ipv4', 'mpls-ipv6', 'srv6-end-dt6', 'vlan-ipv6']
    .map((n) => join('..', 'encap', 'akvorado', `${n}.pcap`)),
];

describe('flow detectors on real captures (defaults)', () => {
  for (const [path, expected, what] of ATTACKS) {
    test(`${path} (${what}) raises ${expected.join(' + ')}, as pcap flows and as a softflowd export`, async () => {
      const flows = await flowsOf(path);
      const alerts = detect(flows);
      assert.deepEqual(detectorsIn(alerts), expected);
      for (const a of alerts) assertWellFormed(a, flows);
      const exported = asSoftflowdExport(flows);
      const viaNetflow = detect(exported);
      assert.deepEqual(detectorsIn(viaNetflow), expected, 'NetFlow view');
      for (const a of viaNetflow) assertWellFormed(a, exported);
    });
  }

  for (const path of BENIGN) {
    test(`${path} raises nothing`, async () => {
      const flows = await flowsOf(path);
      assert.ok(flows.length > 0, 'the capture has flows');
      assert.deepEqual(detect(flows).map((a) => a.summary), []);
      assert.deepEqual(detect(asSoftflowdExport(flows)).map((a) => a.summary), []);
    });
  }

  test('nmap SYN scan: the port scan names scanner, victim and 15 probed ports, with SYN-only samples', async () => {
    const alerts = detect(await flowsOf('generated/nmap-syn-scan.pcap'));
    const scan = only(alerts, 'port-scan');
    assert.equal(scan.src, '127.0.0.1');
    assert.equal(scan.dst, '127.0.0.1');
    assert.equal(scan.key, '127.0.0.1>127.0.0.1');
    assert.equal(scan.counts.distinctPorts, 15);
    assert.equal(scan.counts.threshold, 15);
    assert.equal(scan.counts.windowSec, 300);
    assert.equal(scan.samples.length, 5);
    assert.equal(new Set(scan.samples.map((s) => s.dstPort)).size, 5, 'samples are five different ports');
    for (const s of scan.samples) assert.equal(s.tcpFlags & 0x12, 0x02, 'a SYN without ACK');
    assert.equal(scan.origin, 'pcap');
    assert.equal(alerts.filter((a) => a.detector === 'syn-flood').length, 0, 'a scan touches each port once: no flood');
  });

  test('nmap SYN scan: TRW flags the source after 4 failed first contacts (Λ = 4^4 = 256 ≥ 99)', async () => {
    const trw = only(detect(await flowsOf('generated/nmap-syn-scan.pcap')), 'trw-scan');
    assert.equal(trw.key, '127.0.0.1');
    assert.deepEqual(
      [trw.counts.failures, trw.counts.successes, trw.counts.likelihoodRatio, trw.counts.threshold], [4, 0, 256, 99]);
  });

  test('nmap null/FIN/Xmas scans: one tcp-flags alert per kind, and the flows count as port-scan probes', async () => {
    const alerts = detect(await flowsOf('generated/nmap-null-fin-xmas.pcap'));
    const kinds = alerts.filter((a) => a.detector === 'tcp-flags').map((a) => a.key).sort();
    assert.deepEqual(kinds, ['127.0.0.1|fin', '127.0.0.1|null', '127.0.0.1|xmas']);
    const xmas = alerts.find((a) => a.key === '127.0.0.1|xmas');
    assert.equal(xmas?.counts.tcpFlags, 0x29);
    assert.equal(only(alerts, 'port-scan').counts.distinctPorts, 15);
  });

  test('hping3 land: same address and same port alerts once; loopback flows between different ports do not', async () => {
    const flows = await flowsOf('generated/hping-land-synfin-frag.pcap');
    const alerts = detect(flows);
    const land = only(alerts, 'land');
    assert.equal(land.key, '127.0.0.1|6/80');
    assert.equal(land.dstPort, 80);
    assert.equal(only(alerts, 'tcp-flags').key, '127.0.0.1|syn-fin');
    // Every flow of the capture is 127.0.0.1 → 127.0.0.1: an address-only rule would have fired on all of them.
    assert.ok(flows.every((f) => f.srcAddr === '127.0.0.1' && f.dstAddr === '127.0.0.1'));
    assert.equal(detect(await flowsOf('generated/lo-http.pcap')).length, 0);
  });

  test('hping3 SYN flood: packets to one host and port, from one source address', async () => {
    const flood = only(detect(await flowsOf('generated/hping-syn-flood.pcap')), 'syn-flood');
    assert.equal(flood.dst, '127.0.0.1');
    assert.equal(flood.dstPort, 80);
    assert.equal(flood.src, '127.0.0.1', 'one source: named');
    assert.equal(flood.counts.sources, 1);
    assert.ok(flood.counts.packets >= 1000);
    assert.ok(flood.counts.pps >= 1000, `pps ${flood.counts.pps}`);
  });

  test('spoofed SYN flood: the victim service, and hundreds of sources estimated at the crossing', async () => {
    const flows = await flowsOf('real-ddos/pkt.TCP.synflood.spoofed.pcap');
    const flood = only(detect(flows), 'syn-flood');
    assert.equal(flood.key, '10.10.10.10|25565');
    assert.equal(flood.src, '', 'many sources: none named');
    assert.ok(flood.counts.sources > 500, `sources ${flood.counts.sources}`);
    // The flood is bursty (23,500 SYNs in its first second, then a trickle): one candidate per 10 s window at most.
    assert.ok(flood.counts.pps > 5000, `pps ${flood.counts.pps}`);
  });

  test('UDP floods in the corpus are below the default floor and found when the floor fits them', async () => {
    const hping = await flowsOf('generated/hping-udp-flood.pcap');
    assert.equal(detect(hping).filter((a) => a.detector === 'udp-flood').length, 0);
    const tuned = only(detect(hping, { udpFlood: { minPackets: 1000 } }), 'udp-flood');
    assert.equal(tuned.dst, '127.0.0.1');
    assert.ok(tuned.counts.packets >= 1000);
    const isakmp = await flowsOf('real-ddos/amp.UDP.isakmp.pcap');
    assert.deepEqual(detect(isakmp), []);
    const amp = only(detect(isakmp, { udpFlood: { minPackets: 2000 } }), 'udp-flood');
    assert.equal(amp.dst, '10.10.10.10');
    assert.ok(amp.counts.sources > 1000, `≈2,700 reflectors, estimated ${amp.counts.sources}`);
  });

  test('suricata-verify SYN flood (200 SYNs): below the default, a syn-flood with a lower threshold', async () => {
    const flows = await flowsOf('suricata-verify/firewall_tcp-session-syn-flood-drop-precedence_input.pcap');
    assert.deepEqual(detect(flows), []);
    const flood = only(detect(flows, { synFlood: { minPackets: 100 } }), 'syn-flood');
    assert.equal(flood.key, '198.51.100.5|443');
    assert.equal(flood.src, '192.0.2.10');
  });

  test('SSH password guessing (2015 capture): alert at the 10th connection, at that connection\'s event time', async () => {
    const flows = await flowsOf('zeek/ssh_sshguess.pcap');
    const bf = only(detect(flows), 'brute-force');
    assert.equal(bf.key, '192.168.56.1>192.168.56.103|22');
    assert.equal(bf.counts.attempts, 10);
    assert.equal(bf.counts.threshold, 10);
    const attempts = flows.filter((f) => f.srcAddr === '192.168.56.1' && f.dstPort === 22 && (f.tcpFlags & 0x02) !== 0);
    assert.equal(bf.time, attempts[9].first);
    assert.equal(new Date(bf.time).getUTCFullYear(), 2015);
  });

  test('the alert copies VIP and portgroup from the flow that crossed the threshold', async () => {
    const flows = (await flowsOf('generated/nmap-syn-scan.pcap')).map((f) => ({
      ...f, vip: 'web-prod', vipAddr: '127.0.0.1', vipPort: 443, vipLeg: 'client-vip', inPortgroup: 'pg-dmz', outPortgroup: 'pg-web',
    }));
    const scan = only(detect(flows), 'port-scan');
    assert.equal(scan.vip, 'web-prod');
    assert.equal(scan.portgroup, 'pg-dmz', 'a scan is about its source: the source portgroup');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Windows, episodes, memory

describe('port-scan windows and memory', () => {
  const cfg = { ...DEFAULTS.portScan };

  test('15 distinct ports within 300 s alert; 14 do not; the 15th at 299 s still does', () => {
    const d = new PortScanDetector(cfg);
    const first = Array.from({ length: 14 }, (_, i) => synProbe(T0 + i * SEC, 1000 + i));
    assert.deepEqual(collect(d, first), []);
    const alerts = collect(d, [synProbe(T0 + 299 * SEC, 2000)]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].counts.distinctPorts, 15);
    assert.equal(alerts[0].time, T0 + 299 * SEC);
  });

  test('the window slides: ports probed more than 300 s before the newest probe no longer count', () => {
    const d = new PortScanDetector(cfg);
    const flows = [
      ...Array.from({ length: 10 }, (_, i) => synProbe(T0, 1000 + i)),
      ...Array.from({ length: 4 }, (_, i) => synProbe(T0 + 200 * SEC, 2000 + i)),
      ...Array.from({ length: 5 }, (_, i) => synProbe(T0 + 350 * SEC, 3000 + i)),
    ];
    assert.deepEqual(collect(d, flows), [], '19 ports, but at most 9 within any 300 s');
  });

  test('completed connections, RST-only replies and a repeated port are not probes', () => {
    const d = new PortScanDetector(cfg);
    const flows = [
      ...Array.from({ length: 40 }, (_, i) => flow({ first: T0 + i, dstPort: 2000 + i, tcpFlags: 0x1b, packets: 12 })),
      ...Array.from({ length: 40 }, (_, i) => flow({ first: T0 + i, dstPort: 3000 + i, tcpFlags: 0x04 })),
      ...Array.from({ length: 40 }, (_, i) => synProbe(T0 + i * SEC, 22)),
      // A DNS server answering: one-packet UDP flows from port 53 to many client ports.
      ...Array.from({ length: 40 }, (_, i) => flow({ first: T0 + i, proto: 17, srcPort: 53, dstPort: 40000 + i })),
      // traceroute: UDP to 33434 and up.
      ...Array.from({ length: 40 }, (_, i) => flow({ first: T0 + i, proto: 17, dstPort: 33434 + i })),
    ];
    assert.deepEqual(collect(d, flows), []);
  });

  test('one candidate per window: a scan that goes on alerts again only a window after its alert', () => {
    const d = new PortScanDetector(cfg);
    const burst = (t: number, base: number) => Array.from({ length: 30 }, (_, i) => synProbe(t + i * 10, base + i));
    assert.equal(collect(d, burst(T0, 1000)).length, 1);
    assert.equal(collect(d, burst(T0 + 100 * SEC, 2000)).length, 0, 'same window');
    assert.equal(collect(d, burst(T0 + 301 * SEC, 3000)).length, 1, 'next window');
  });

  test('tracked keys stay within maxKeys (oldest evicted), and expire() drops idle ones', () => {
    const d = new PortScanDetector({ ...cfg, maxKeys: 64 });
    const flows = Array.from({ length: 1000 }, (_, i) => synProbe(T0 + i, 80, { srcAddr: `10.1.${i >> 8}.${i & 255}` }));
    collect(d, flows);
    assert.ok(d.tracker.states.size <= 64, `size ${d.tracker.states.size}`);
    assert.ok(d.tracker.states.evicted >= 936);
    assert.ok(d.tracker.states.get('10.1.3.231>10.0.0.9') !== undefined, 'the newest key is kept');
    assert.equal(d.tracker.states.get('10.1.0.0>10.0.0.9'), undefined, 'the oldest key went');
    d.expire(T0 + 999 + 300 * SEC);
    assert.ok(d.tracker.states.size > 0, 'keys seen within the window stay');
    d.expire(T0 + 1000 + 301 * SEC);
    assert.equal(d.tracker.states.size, 0);
  });

  test('a scan split over UDP and TCP counts both protocols, tcp/53 and udp/53 apart', () => {
    const d = new PortScanDetector(cfg);
    const flows = [
      ...Array.from({ length: 8 }, (_, i) => synProbe(T0 + i, 50 + i)),
      ...Array.from({ length: 7 }, (_, i) => flow({ first: T0 + 10 + i, proto: 17, dstPort: 50 + i })),
    ];
    const [a] = collect(d, flows);
    assert.equal(a?.counts.distinctPorts, 15);
  });
});

describe('host-sweep', () => {
  test('25 hosts on one port within 300 s alert, 24 do not; UDP and ICMP only when switched on', () => {
    const sweep = (n: number, over: Partial<EnrichedFlow>) =>
      Array.from({ length: n }, (_, i) => flow({ first: T0 + i * SEC, dstAddr: `10.2.0.${i + 1}`, dstPort: 445, tcpFlags: 0x02, ...over }));
    const sweeps = (alerts: AlertCandidate[]) => alerts.filter((x) => x.detector === 'host-sweep');
    // (TRW flags both: 24 failed first contacts in a row.)
    assert.deepEqual(sweeps(detect(sweep(24, {}))), []);
    const alerts = detect(sweep(25, {}));
    const a = only(alerts, 'host-sweep');
    assert.equal(a.key, '10.0.0.5|6/445');
    assert.equal(a.dstPort, 445);
    assert.equal(a.counts.distinctHosts, 25);
    const udp = sweep(30, { proto: 17, dstPort: 53, tcpFlags: 0 });
    assert.equal(sweeps(detect(udp)).length, 0, 'a resolver is not a sweep');
    assert.equal(sweeps(detect(udp, { hostSweep: { udp: true } })).length, 1);
    const ping = sweep(30, { proto: 1, dstPort: 8 << 8, tcpFlags: 0 });
    assert.equal(detect(ping).length, 0, 'monitoring pings are not a sweep by default');
    assert.equal(sweeps(detect(ping, { hostSweep: { icmpEcho: true } })).length, 1);
  });
});

describe('trw-scan', () => {
  const cfg = { ...DEFAULTS.trwScan };
  const attempt = (t: number, dst: string, ok: boolean, port = 80) =>
    flow({ first: t, dstAddr: dst, dstPort: port, tcpFlags: ok ? 0x1b : 0x02, packets: ok ? 10 : 1 });

  test('4 failures in a row flag a scanner, 3 do not (defaults: η1 = 99, factor 4 per failure)', () => {
    const d = new TrwScanDetector(cfg);
    assert.equal(d.failuresToFlag, 4);
    assert.deepEqual(collect(d, [1, 2, 3].map((i) => attempt(T0 + i, `10.3.0.${i}`, false))), []);
    const [a] = collect(d, [attempt(T0 + 4, '10.3.0.4', false)]);
    assert.equal(a?.counts.likelihoodRatio, 256);
    assert.equal(a?.dst, '', 'failures went to four hosts');
  });

  test('a success in between divides the ratio by 4: F F S F F is 64, one more failure makes 256', () => {
    const d = new TrwScanDetector(cfg);
    const seq = [false, false, true, false, false].map((ok, i) => attempt(T0 + i, `10.3.1.${i}`, ok));
    assert.deepEqual(collect(d, seq), []);
    assert.equal(collect(d, [attempt(T0 + 10, '10.3.1.99', false)]).length, 1);
  });

  test('only first contacts count: retrying one dead service is one failure', () => {
    const d = new TrwScanDetector(cfg);
    const retries = Array.from({ length: 20 }, (_, i) => attempt(T0 + i * SEC, '10.3.2.1', false));
    assert.deepEqual(collect(d, retries), []);
  });

  test('a benign walk (4 successes) starts over, so a host that turns to scanning is still flagged', () => {
    const d = new TrwScanDetector(cfg);
    const good = Array.from({ length: 12 }, (_, i) => attempt(T0 + i, `10.3.3.${i}`, true));
    const bad = Array.from({ length: 4 }, (_, i) => attempt(T0 + 100 + i, `10.3.4.${i}`, false));
    assert.equal(collect(d, [...good, ...bad]).length, 1);
  });

  test('contacts are services by default (a vertical scan of one host flags); the paper\'s hosts on request', () => {
    const ports = Array.from({ length: 10 }, (_, i) => attempt(T0 + i, '10.3.5.1', false, 1000 + i));
    assert.equal(collect(new TrwScanDetector(cfg), ports).length, 1);
    assert.equal(collect(new TrwScanDetector({ ...cfg, contactBy: 'host' }), ports).length, 0);
  });

  test('state older than stateTtlSec is forgotten', () => {
    const d = new TrwScanDetector(cfg);
    collect(d, [1, 2, 3].map((i) => attempt(T0 + i, `10.3.6.${i}`, false)));
    d.expire(T0 + 3 + cfg.stateTtlSec * SEC + 1);
    assert.equal(d.states.size, 0);
    assert.deepEqual(collect(d, [attempt(T0 + cfg.stateTtlSec * SEC + 10, '10.3.6.9', false)]), [], 'the walk starts over');
  });
});

describe('floods with NetFlow semantics', () => {
  test('one aggregated record of 5,000 SYN packets (one source port) is a SYN flood: packets count, not flows', () => {
    const rec = flow({ first: T0, last: T0 + 4 * SEC, dstPort: 443, tcpFlags: 0x02, packets: 5000, bytes: 200_000, source: 'netflow' });
    const a = only(detect([rec]), 'syn-flood');
    assert.equal(a.counts.flows, 1);
    assert.equal(a.counts.packets, 5000);
    assert.equal(a.origin, 'netflow');
  });

  test('a 5-minute record brings only its share of packets into the 10 s window', () => {
    const rec = flow({ first: T0, last: T0 + 300 * SEC, dstPort: 443, tcpFlags: 0x02, packets: 6000 });
    assert.deepEqual(detect([rec]), [], '6,000 over 300 s is 200 per 10 s');
  });

  test('SYNs of completed handshakes are not a flood, however many', () => {
    const busy = Array.from({ length: 3000 }, (_, i) =>
      flow({ first: T0 + i, srcAddr: `10.4.${i >> 8}.${i & 255}`, dstPort: 443, tcpFlags: 0x1b, packets: 12 }));
    assert.deepEqual(detectorsIn(detect(busy)), []);
  });

  test('the window slides: 900 SYNs, 11 s later 900 more is no flood; 1,000 within 10 s is', () => {
    const burst = (t: number, n: number) =>
      Array.from({ length: n }, (_, i) => flow({ first: t + i, srcPort: 1024 + i, dstPort: 80, tcpFlags: 0x02 }));
    const d = createSynFloodDetector({ ...DEFAULTS.synFlood });
    assert.deepEqual(collect(d, [...burst(T0, 900), ...burst(T0 + 11 * SEC, 900)]), []);
    assert.equal(collect(d, burst(T0 + 15 * SEC, 200)).length, 1, '900 + 200 within 10 s');
  });

  test('flood state is capped and expires', () => {
    const d = createSynFloodDetector({ ...DEFAULTS.synFlood, maxKeys: 100 });
    collect(d, Array.from({ length: 500 }, (_, i) => flow({ first: T0 + i, dstAddr: `10.5.${i >> 8}.${i & 255}`, dstPort: 80, tcpFlags: 0x02 })));
    assert.ok(d.states.size <= 100);
    d.expire(T0 + 500 + 11 * SEC);
    assert.equal(d.states.size, 0);
  });
});

describe('vip-ddos baseline', () => {
  const VIP = { vip: 'web-prod', vipAddr: '10.0.100.10', vipPort: 443, vipLeg: 'client-vip', dstAddr: '10.0.100.10', dstPort: 443 };

  /** One minute of traffic to the VIP: `flows` connections of 100 packets from `sources` addresses. */
  function minuteOf(m: number, flows: number, sources: number, over: Partial<EnrichedFlow> = {}): EnrichedFlow[] {
    return Array.from({ length: flows }, (_, i) => {
      const t = T0 + m * MIN + Math.floor((i * MIN) / (flows + 1));
      return flow({ ...VIP, first: t, last: t + 500, srcAddr: `198.18.${(i % sources) >> 8}.${(i % sources) & 255}`, srcPort: 1024 + i, tcpFlags: 0x1b, packets: 100, bytes: 50_000, ...over });
    });
  }

  function steady(minutes: number): EnrichedFlow[] {
    const out: EnrichedFlow[] = [];
    for (let m = 0; m < minutes; m++) out.push(...minuteOf(m, 20, 10));
    return out;
  }

  test('after the warm-up, a minute 100× the baseline from hundreds of sources alerts, with the baseline in counts', () => {
    const d = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(d, steady(20)), []);
    const base = d.baselineOf('web-prod');
    assert.ok(base && Math.abs(base.packets - 2000) < 1, `baseline ${base?.packets} packets/min`);
    const alerts = collect(d, minuteOf(20, 2000, 600));
    assert.equal(alerts.length, 1);
    const a = alerts[0];
    assert.equal(a.detector, 'vip-ddos');
    assert.equal(a.key, 'web-prod');
    assert.equal(a.vip, 'web-prod');
    assert.equal(a.dst, '10.0.100.10');
    assert.equal(a.dstPort, 443);
    assert.equal(a.counts.baselinePackets, 2000);
    assert.ok(a.counts.packets >= 60_000 && a.counts.packets >= 10 * 2000);
    assert.ok(a.counts.sources >= 20);
    assert.ok(a.samples.length >= 1 && a.samples.length <= 5);
  });

  test('no alert during the warm-up, nor from few sources, nor below the absolute floor', () => {
    const warm = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(warm, [...steady(10), ...minuteOf(10, 2000, 600)]), [], 'minute 10 of a 15-minute warm-up');
    const few = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(few, [...steady(20), ...minuteOf(20, 2000, 5)]), [], '5 sources');
    const small = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(small, [...steady(20), ...minuteOf(20, 500, 100)]), [], '50,000 packets: 25× but under 60,000/min');
  });

  test('10× is relative to the VIP\'s own traffic: a busy VIP at 8× does not alert, at 12× it does', () => {
    const busy = () => {
      const out: EnrichedFlow[] = [];
      for (let m = 0; m < 20; m++) out.push(...minuteOf(m, 200, 100));
      return out;
    };
    const at8 = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(at8, [...busy(), ...minuteOf(20, 1600, 400)]), []);
    const at12 = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.equal(collect(at12, [...busy(), ...minuteOf(20, 2400, 400)]).length, 1);
  });

  test('an attack does not become the baseline, and only the client→VIP leg counts', () => {
    const d = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    collect(d, steady(20));
    const alerts = collect(d, [...minuteOf(20, 2000, 600), ...minuteOf(21, 2000, 600), ...minuteOf(22, 2000, 600), ...minuteOf(23, 20, 10)]);
    assert.equal(alerts.length, 3, 'one candidate per attack minute');
    // Folded in at face value, three minutes of 200,000 packets would lift the baseline to ≈37,000.
    const base = d.baselineOf('web-prod');
    assert.ok(base && base.packets < 3000, `baseline after the attack ${base?.packets}`);
    const legs = new VipDdosDetector({ ...DEFAULTS.vipDdos });
    assert.deepEqual(collect(legs, [...steady(20), ...minuteOf(20, 2000, 600, { vipLeg: 'lb-server' })]), []);
  });
});

describe('brute-force', () => {
  const ssh = (t: number, i: number, over: Partial<EnrichedFlow> = {}) =>
    flow({ first: t, last: t + 3 * SEC, srcPort: 50000 + i, dstPort: 22, tcpFlags: 0x1b, packets: 22, bytes: 3800, ...over });

  test('ssh: 10 short connections within 120 s alert, 9 do not; 10 spread over 126 s do not', () => {
    const d = new BruteForceDetector({ ...DEFAULTS.bruteForce });
    assert.deepEqual(collect(d, Array.from({ length: 9 }, (_, i) => ssh(T0 + i * 13 * SEC, i))), []);
    const [a] = collect(d, [ssh(T0 + 9 * 13 * SEC, 9)]);
    assert.equal(a?.counts.attempts, 10);
    assert.equal(a?.dstPort, 22);
    const spread = new BruteForceDetector({ ...DEFAULTS.bruteForce });
    assert.deepEqual(collect(spread, Array.from({ length: 10 }, (_, i) => ssh(T0 + i * 14 * SEC, i))), []);
  });

  test('long sessions, other ports, dvSwitch duplicates do not count; a sampled flow counts for its rate', () => {
    const d = new BruteForceDetector({ ...DEFAULTS.bruteForce });
    const noise = [
      ...Array.from({ length: 20 }, (_, i) => ssh(T0 + i * SEC, i, { packets: 5000 })),
      ...Array.from({ length: 20 }, (_, i) => ssh(T0 + i * SEC, 100 + i, { dstPort: 8022 })),
      ...Array.from({ length: 20 }, (_, i) => ssh(T0 + i * SEC, 200 + i, { duplicate: 1 })),
    ];
    assert.deepEqual(collect(d, noise), []);
    const rdp = (i: number) => flow({ first: T0 + i * SEC, srcPort: 60000 + i, dstPort: 3389, tcpFlags: 0x1b, packets: 300, samplingRate: 10, source: 'netflow' });
    const [a] = collect(d, [rdp(0), rdp(1)]);
    assert.equal(a?.counts.attempts, 20, 'two 1:10 sampled flows stand for 20 connections (rdp: 20 in 360 s)');
  });

  test('from an exporter without TCP flags each short flow is a connection; with flags, only flows with a SYN', () => {
    const d = new BruteForceDetector({ ...DEFAULTS.bruteForce });
    const noFlags = Array.from({ length: 10 }, (_, i) => ssh(T0 + i * SEC, i, { source: 'netflow', exporter: '192.0.2.1', tcpFlags: 0 }));
    assert.equal(collect(d, noFlags).length, 1);
    const flagged = [
      ssh(T0, 0, { source: 'netflow', exporter: '192.0.2.2', srcAddr: '10.0.0.6' }),
      ...Array.from({ length: 20 }, (_, i) => ssh(T0 + i * SEC, 1 + i, { source: 'netflow', exporter: '192.0.2.2', srcAddr: '10.0.0.6', tcpFlags: 0x18 })),
    ];
    assert.deepEqual(collect(d, flagged), [], 'mid-session records (no SYN) of a flag-exporting device are not connections');
  });
});

describe('tcp-flags and land', () => {
  test('the flag rules, on flags OR-ed over a flow', () => {
    assert.equal(flagAnomalyOf(0x00, true), 'null');
    assert.equal(flagAnomalyOf(0x00, false), null, 'exporter without flags');
    assert.equal(flagAnomalyOf(0x03, true), 'syn-fin');
    assert.equal(flagAnomalyOf(0x29, true), 'xmas');
    assert.equal(flagAnomalyOf(0x01, true), 'fin');
    assert.equal(flagAnomalyOf(0x09, true), 'fin', 'FIN+PSH without ACK');
    for (const normal of [0x02, 0x12, 0x1b, 0x13, 0x14, 0x04, 0x16, 0x06, 0x10, 0x18, 0x11, 0x3b, 0xc2]) {
      assert.equal(flagAnomalyOf(normal, true), null, `0x${normal.toString(16)}`);
    }
  });

  test('flags 0 from a NetFlow exporter that never exported flags is not a null scan; from one that does, it is', () => {
    const d = new TcpFlagsDetector({ ...DEFAULTS.tcpFlags });
    const zero = (exporter: string, t: number) => flow({ source: 'netflow', exporter, first: t, tcpFlags: 0, packets: 40, bytes: 30_000 });
    assert.deepEqual(collect(d, Array.from({ length: 20 }, (_, i) => zero('192.0.2.1', T0 + i))), []);
    const withFlags = flow({ source: 'netflow', exporter: '192.0.2.2', first: T0, tcpFlags: 0x1b, packets: 10 });
    const alerts = collect(d, [withFlags, zero('192.0.2.2', T0 + 1)]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].key, '10.0.0.5|null');
  });

  test('a null scan of many hosts is one alert per source and kind and window', () => {
    const d = new TcpFlagsDetector({ ...DEFAULTS.tcpFlags });
    const scan = (t: number) => Array.from({ length: 50 }, (_, i) => flow({ first: t + i, dstAddr: `10.6.0.${i}`, dstPort: 80, tcpFlags: 0 }));
    const alerts = collect(d, scan(T0));
    assert.deepEqual(alerts.map((a) => [a.key, a.dst, a.counts.flows]), [['10.0.0.5|null', '10.6.0.0', 1]]);
    assert.equal(collect(d, scan(T0 + 200 * SEC)).length, 0, 'same window');
    assert.equal(collect(d, scan(T0 + 301 * SEC)).length, 1, 'next window');
  });

  test('land needs the same address and the same port, TCP or UDP', () => {
    const d = new LandDetector({ ...DEFAULTS.land });
    const lo = { srcAddr: '127.0.0.1', dstAddr: '127.0.0.1' };
    assert.deepEqual(collect(d, [
      flow({ ...lo, first: T0, srcPort: 44321, dstPort: 80, tcpFlags: 0x02 }),
      flow({ ...lo, first: T0, proto: 1, srcPort: 0, dstPort: 0 }),
      flow({ srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', first: T0, srcPort: 80, dstPort: 80, tcpFlags: 0x02 }),
    ]), []);
    const alerts = collect(d, [
      flow({ ...lo, first: T0, srcPort: 139, dstPort: 139, tcpFlags: 0x02 }),
      flow({ ...lo, first: T0 + 1, srcPort: 139, dstPort: 139, tcpFlags: 0x02 }),
      flow({ srcAddr: '10.0.0.7', dstAddr: '10.0.0.7', first: T0, proto: 17, srcPort: 53, dstPort: 53 }),
    ]);
    assert.deepEqual(alerts.map((a) => a.key).sort(), ['10.0.0.7|17/53', '127.0.0.1|6/139']);
  });
});

describe('createFlowDetectors', () => {
  test('makes the enabled detectors with DEFAULTS for what the config leaves out, without changing DEFAULTS', () => {
    const all = createFlowDetectors();
    assert.deepEqual(all.map((d) => d.id), [
      'port-scan', 'host-sweep', 'trw-scan', 'syn-flood', 'udp-flood', 'icmp-flood', 'vip-ddos', 'brute-force', 'tcp-flags', 'land',
    ]);
    const some = createFlowDetectors({ udpFlood: { enabled: false }, land: { enabled: false }, portScan: { distinctPorts: 5 } });
    assert.deepEqual(some.map((d) => d.id).filter((id) => id === 'udp-flood' || id === 'land'), []);
    const resolved = resolveFlowDetectorsConfig({ portScan: { distinctPorts: 5 }, bruteForce: { maxPacketsPerAttempt: 50 } });
    assert.equal(resolved.portScan.distinctPorts, 5);
    assert.equal(resolved.portScan.windowSec, 300);
    assert.equal(resolved.bruteForce.rules.length, DEFAULTS.bruteForce.rules.length);
    resolved.bruteForce.rules[0].ports.push(2222);
    assert.deepEqual(DEFAULTS.bruteForce.rules[0].ports, [22]);
    assert.equal(DEFAULTS.portScan.distinctPorts, 15);
  });

  test('a lowered threshold takes effect (5 ports, as Snort 3 low sensitivity)', () => {
    const flows = Array.from({ length: 5 }, (_, i) => synProbe(T0 + i, 100 + i));
    const scans = (alerts: AlertCandidate[]) => alerts.filter((a) => a.detector === 'port-scan');
    assert.deepEqual(scans(detect(flows)), []);
    assert.equal(scans(detect(flows, { portScan: { distinctPorts: 5 } })).length, 1);
  });

  test('settings that cannot work are refused', () => {
    assert.throws(() => createFlowDetectors({ synFlood: { minPackets: 0 } }), RangeError);
    assert.throws(() => createFlowDetectors({ portScan: { windowSec: Number.NaN } }), RangeError);
    assert.throws(() => createFlowDetectors({ trwScan: { theta0: 0.1, theta1: 0.2 } }), RangeError);
    assert.throws(() => createFlowDetectors({ hostSweep: { maxKeys: 0 } }), RangeError);
  });
});

describe('distinct source estimate', () => {
  test('within a few percent up to 2,000 values, and a lower bound when full', () => {
    for (const n of [1, 20, 500, 2000]) {
      const e = new DistinctEstimate();
      for (let i = 0; i < n; i++) e.add(`203.0.${i >> 8}.${i & 255}`);
      for (let i = 0; i < n; i++) e.add(`203.0.${i >> 8}.${i & 255}`);
      assert.ok(Math.abs(e.estimate() - n) <= Math.max(1, n * 0.08), `${n} → ${e.estimate()}`);
    }
    const full = new DistinctEstimate();
    for (let i = 0; i < 50_000; i++) full.add(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    assert.equal(full.estimate(), DISTINCT_ESTIMATE_MAX);
  });
});
