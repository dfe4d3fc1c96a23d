// Every real capture in shared/testdata/netflow decoded by dvflow and by tshark, compared field by field:
// record counts, addresses, ports, protocol, counters (times the sampling rate the exporter announced in its
// options data, as tshark decodes them), times, VNI, VMware enterprise fields, header sequence and domain.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDatagram, type DecodeResult } from '../../src/decoders/decodeDatagram.ts';
import { TemplateCache } from '../../src/decoders/templateCache.ts';
import { SamplingTable } from '../../src/decoders/samplingTable.ts';
import { SequenceTracker } from '../../src/decoders/sequenceTracker.ts';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';
import {
  flattenFields, moveEarlyDataSetsLast, parseTsharkTime, readPcapDatagrams, secondsToMs, tempDir, tsharkAvailable, tsharkCflow, writeUdpPcap,
  type TsharkTree,
} from './tsharkOracle.ts';

const NETFLOW = fileURLToPath(new URL('../../../../shared/testdata/netflow/', import.meta.url));
const LOGSTASH = join(NETFLOW, 'logstash-codec-netflow');
const AKVORADO = join(NETFLOW, 'akvorado');
const PMACCT = join(NETFLOW, 'pmacct-test-automation');

interface Datagram { file: string; payload: Buffer; origin: string; srcPort: number }
interface Scenario { name: string; datagrams: Datagram[] }

/** Device of a logstash .dat file: its name without the _tpl/_data/... suffix. */
function logstashDevice(file: string): string {
  return file.replace(/\.dat$/, '').replace(/_(tpl|opttpl|tplopt|tpldata|tpls|data)(\d|_|-|$).*$/, '');
}

function logstashScenarios(): Scenario[] {
  const groups = new Map<string, string[]>();
  for (const f of readdirSync(LOGSTASH).filter((f) => f.endsWith('.dat')).sort()) {
    const g = logstashDevice(f);
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const templatesFirst = (f: string) => (/_(tpl|opttpl|tplopt|tpls)/.test(f) ? 0 : 1);
  return [...groups].map(([name, files]) => ({
    name: `logstash ${name}`,
    datagrams: files.sort((a, b) => templatesFirst(a) - templatesFirst(b) || a.localeCompare(b)).flatMap((f) =>
      ipfixMessages(readDat(f)).map((payload) => ({ file: f, payload, origin: '192.0.2.1', srcPort: 2055 }))),
  }));
}

function readDat(f: string): Buffer { return readFileSync(join(LOGSTASH, f)); }

/**
 * ipfix.dat holds three IPFIX messages back to back (a stream, not a datagram); tshark reads only the first.
 * Replay them as the three datagrams an exporter would send (decoding them back to back is tested apart).
 */
function ipfixMessages(b: Buffer): Buffer[] {
  if (b.readUInt16BE(0) !== 10) return [b];
  const out: Buffer[] = [];
  for (let o = 0; o + 16 <= b.length && b.readUInt16BE(o) === 10;) {
    const len = b.readUInt16BE(o + 2);
    if (len < 16) break;
    out.push(b.subarray(o, o + len));
    o += len;
  }
  return out;
}

/** akvorado's captures, in the order its own tests replay them (templates before the data they describe). */
const AKVORADO_SCENARIOS: Array<[string, string[]]> = [
  ['nfv5', ['nfv5.pcap']],
  ['template+data', ['template.pcap', 'data.pcap']],
  ['options sampling', ['template.pcap', 'options-template.pcap', 'options-data.pcap', 'data.pcap']],
  ['data+templates', ['data+templates.pcap']],
  ['samplingrate', ['samplingrate-template.pcap', 'samplingrate-data.pcap']],
  ['multiplesamplingrates', ['multiplesamplingrates-template.pcap', 'multiplesamplingrates-options-template.pcap',
    'multiplesamplingrates-options-data.pcap', 'multiplesamplingrates-data.pcap']],
  ['icmp', ['icmp-template.pcap', 'icmp-data.pcap']],
  ['datalink', ['datalink-template.pcap', 'datalink-data.pcap']],
  ['ethernet-over-mpls', ['ethernet-over-mpls-with-control-word-template.pcap', 'ethernet-over-mpls-with-control-word-data.pcap']],
  ['ipfix-srv6', ['ipfix-srv6-template.pcap', 'ipfix-srv6-data.pcap']],
  ['ipfixprobe', ['ipfixprobe-templates.pcap', 'ipfixprobe-data.pcap']],
  ['juniper-cpid', ['juniper-cpid-template.pcap', 'juniper-cpid-data.pcap']],
  ['mpls', ['mpls.pcap']],
  ['nat', ['nat.pcap']],
  ['physicalinterfaces', ['physicalinterfaces.pcap']],
];

function pcapScenario(name: string, dir: string, files: string[]): Scenario {
  const datagrams: Datagram[] = [];
  for (const f of files) {
    for (const d of readPcapDatagrams(join(dir, f))) datagrams.push({ file: f, payload: d.payload, origin: d.srcAddr, srcPort: d.srcPort });
  }
  return { name, datagrams };
}

/** Logstash .dat files whose breakage is the point of the file, with the error kinds dvflow must report. */
const EXPECTED_ERRORS: Record<string, string[]> = {
  // Header says 55582 / 163 records in a 30-record datagram: nfdump and logstash reject the datagram.
  'netflow5_test_invalid01.dat': ['bad-record-count'],
  'netflow5_test_invalid02.dat': ['bad-record-count'],
};

/**
 * Captures tshark cannot read as they are, and the smallest change that lets it (applied to tshark's copy only).
 * netflow9_test_invalid01: its header counts 2 records but it carries 6 (2 templates, an options template, 3
 * data records); tshark stops after `count` records, dvflow (like nfdump) walks the flowsets' lengths.
 */
const TSHARK_FIXUPS: Record<string, (b: Buffer) => Buffer> = {
  'netflow9_test_invalid01.dat': (b) => { const c = Buffer.from(b); c.writeUInt16BE(6, 2); return c; },
  // H3C sends IPV4_ROUTER_SC (43) in 2 bytes; tshark insists on an IPv4 address and stops at the first record.
  // dvflow does not map element 43, so for tshark's copy it becomes element 0 (unknown to both).
  'netflow9_test_h3c_tpl3281.dat': (b) => renameV9TemplateField(b, 43, 0),
  'netflow9_test_h3c_netstream_varstring_tpl3281.dat': (b) => renameV9TemplateField(b, 43, 0),
};

/** Copy of a v9 datagram with field type `from` renamed `to` in its template flowsets. */
function renameV9TemplateField(b: Buffer, from: number, to: number): Buffer {
  const c = Buffer.from(b);
  for (let off = 20; off + 4 <= c.length;) {
    const id = c.readUInt16BE(off), len = c.readUInt16BE(off + 2);
    if (len < 4) break;
    if (id === 0) {
      for (let q = off + 4; q + 4 <= off + len;) {
        const count = c.readUInt16BE(q + 2);
        for (let i = 0; i < count; i++) if (c.readUInt16BE(q + 4 + 4 * i) === from) c.writeUInt16BE(to, q + 4 + 4 * i);
        q += 4 + 4 * count;
      }
    }
    off += len;
  }
  return c;
}

/** tshark threw part-way through the packet (not merely a data set without template). */
function tsharkGaveUpOn(tree: TsharkTree): boolean {
  for (const [k, v] of Object.entries(tree)) {
    if (k === '_ws.malformed') return true;
    if (k.includes('no template found')) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && tsharkGaveUpOn(v)) return true;
  }
  return false;
}

// --- tshark-side model: templates and announced sampling, as tshark decodes them ----------------------------

interface OracleTemplate { options: boolean; uptimeTimes: boolean; absoluteTimes: boolean; penFields: Array<{ pen: number; id: number; length: number }> }
interface OracleSampling { domainRate: number; samplers: Map<number, number> }

// The first value of a field: a second one is the RFC 5103 reverse direction (PEN 29305, same element id).
function num(f: Map<string, string[]>, key: string): number | undefined {
  const v = f.get(key);
  if (!v || v.length === 0) return undefined;
  const s = v[0];
  return s.startsWith('0x') ? parseInt(s, 16) : Number(s);
}
function str(f: Map<string, string[]>, key: string): string | undefined {
  const v = f.get(key);
  return v && v.length ? v[0] : undefined;
}
function firstNum(f: Map<string, string[]>, keys: string[]): number | undefined {
  for (const k of keys) { const v = num(f, k); if (v !== undefined) return v; }
  return undefined;
}

/** Rate a record or options record states itself (RFC 7012 / NetFlow v9 sampling elements), 0 if none. */
function statedRate(f: Map<string, string[]>): number {
  const interval = firstNum(f, ['cflow.sampling_interval', 'cflow.sampler_random_interval']);
  if (interval !== undefined && interval > 0) return interval;
  const pi = num(f, 'cflow.sampling_packet_interval');
  if (pi !== undefined && pi > 0) return Math.round((pi + (num(f, 'cflow.sampling_packet_space') ?? 0)) / pi);
  const size = num(f, 'cflow.sampling_size'), pop = num(f, 'cflow.sampling_population');
  if (size && pop) return Math.round(pop / size);
  return 0;
}
function samplerIdOf(f: Map<string, string[]>): number {
  return firstNum(f, ['cflow.sampler_id', 'cflow.selector_id']) ?? -1;
}

function macToNumber(s: string): number {
  return parseInt(s.replace(/:/g, ''), 16);
}
function hexBytes(s: string): Buffer { return Buffer.from(s.replace(/:/g, ''), 'hex'); }
function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

interface Expected {
  header: { version: number; sequence: number; domain: number };
  flows: Array<Map<string, string[]>>;
  pen: Array<Array<{ pen: number; id: number; value: Buffer }>>;
  uptimeTimes: boolean[];
  /** tshark gave up part-way ("Malformed Packet"): only the records before that point are comparable. */
  malformed: boolean;
}

class TsharkModel {
  readonly templates = new Map<string, OracleTemplate>();
  readonly sampling = new Map<string, OracleSampling>();
  readonly sysInit = new Map<string, number>();

  expected(cf: TsharkTree, exporter: string): Expected {
    const version = Number(cf['cflow.version']);
    const domain = version === 5
      ? (Number(cf['cflow.engine_type']) << 8) | Number(cf['cflow.engine_id'])
      : Number(cf['cflow.source_id'] ?? cf['cflow.od_id'] ?? 0);
    const out: Expected = { header: { version, sequence: Number(cf['cflow.sequence']), domain }, flows: [], pen: [], uptimeTimes: [], malformed: tsharkGaveUpOn(cf) };
    const dkey = `${exporter}|${version}|${domain}`;
    const skey = `${exporter}|${domain}`;
    for (const [k, v] of Object.entries(cf)) {
      if (k.startsWith('pdu ')) { out.flows.push(flattenFields(v)); out.pen.push([]); out.uptimeTimes.push(true); continue; }
      if (!/^(Set|FlowSet) \d+ \[id=/.test(k)) continue;
      const setId = Number(v['cflow.flowset_id']);
      if (setId <= 3) {
        for (const [tk, tv] of Object.entries(v as TsharkTree)) {
          if (!/^(Options )?Template \(/.test(tk)) continue;
          const penFields: OracleTemplate['penFields'] = [];
          let uptimeTimes = false, absoluteTimes = false;
          for (const fv of Object.values(tv as TsharkTree)) {
            const type = fv?.['cflow.template_ipfix_field_type'] ?? fv?.['cflow.template_field_type'];
            if (type === '21' || type === '22') uptimeTimes = true;
            if (Number(type) >= 150 && Number(type) <= 157) absoluteTimes = true;
            if (fv && typeof fv === 'object' && fv['cflow.template_ipfix_pen_provided'] === '1') {
              penFields.push({ pen: Number(fv['cflow.template_ipfix_field_pen']), id: Number(fv['cflow.template_ipfix_field_type_enterprise']), length: Number(fv['cflow.template_field_length']) });
            }
          }
          this.templates.set(`${dkey}|${tv['cflow.template_id']}`, { options: setId === 1 || setId === 3, uptimeTimes, absoluteTimes, penFields });
        }
        continue;
      }
      const t = this.templates.get(`${dkey}|${setId}`);
      if (!t) continue;
      for (const [fk, fv] of Object.entries(v as TsharkTree)) {
        if (!fk.startsWith('Flow ')) continue;
        const f = flattenFields(fv);
        if (t.options) {
          const rate = statedRate(f);
          if (rate >= 1) {
            let s = this.sampling.get(skey);
            if (!s) { s = { domainRate: 0, samplers: new Map() }; this.sampling.set(skey, s); }
            const id = samplerIdOf(f);
            if (id >= 0) s.samplers.set(id, rate); else s.domainRate = rate;
          }
          const init = str(f, 'cflow.sys_init_time');
          if (init) this.sysInit.set(dkey, parseTsharkTime(init));
          continue;
        }
        out.flows.push(f);
        out.uptimeTimes.push(t.uptimeTimes && !t.absoluteTimes);
        const entries = f.get('cflow.enterprise_private_entry') ?? [];
        out.pen.push(t.penFields.length === entries.length
          ? t.penFields.map((p, i) => ({ pen: p.pen, id: p.id, value: hexBytes(entries[i]) }))
          : []);
      }
    }
    return out;
  }

  /** The rate the exporter announced for this record: its own, its sampler's, the domain's, the only sampler's. */
  rateFor(f: Map<string, string[]>, exporter: string, domain: number, version: number, cf: TsharkTree): number {
    if (version === 5) return Number(cf['cflow.samplerate'] ?? 0) || 1;
    const own = statedRate(f);
    if (own >= 1) return own;
    const s = this.sampling.get(`${exporter}|${domain}`);
    if (!s) return 1;
    const id = samplerIdOf(f);
    if (id >= 0 && s.samplers.has(id)) return s.samplers.get(id)!;
    if (s.domainRate) return s.domainRate;
    if (s.samplers.size === 1) return [...s.samplers.values()][0];
    return 1;
  }
}

/** How many values of each record field were compared (reported, so a silently skipped field shows). */
const fieldTally = new Map<string, number>();

// --- the comparison --------------------------------------------------------------------------------------------

function compareFlow(r: FlowRecord, f: Map<string, string[]>, pen: Expected['pen'][number], ctx: {
  where: string; version: number; cf: TsharkTree; rate: number; sysInit: number | undefined; uptimeTimes: boolean;
}): number {
  let checked = 0;
  const eq = (actual: unknown, expected: unknown, what: string) => {
    assert.equal(actual, expected, `${ctx.where}: ${what}`);
    checked++;
    const key = what.split(' ')[0] + (what === 'samplingRate' && expected !== 1 ? '>1' : '');
    fieldTally.set(key, (fieldTally.get(key) ?? 0) + 1);
  };
  const n = (k: string) => num(f, k);
  const s = (k: string) => str(f, k);

  // A template with IPv4 and IPv6 fields exports zeros in the family it does not use: the other one counts
  // (when both are zero, either zero address will do).
  const addr = (actual: string, what: string, ...keys: string[]) => {
    const all = keys.flatMap((k) => f.get(k) ?? []);
    if (all.length === 0) return;
    const real = all.find((a) => a !== '0.0.0.0' && a !== '::');
    eq(real === undefined && all.includes(actual) ? all[0] : actual, real ?? all[0], what);
  };
  addr(r.srcAddr, 'srcAddr', 'cflow.srcaddr', 'cflow.srcaddrv6');
  addr(r.dstAddr, 'dstAddr', 'cflow.dstaddr', 'cflow.dstaddrv6');
  for (const [k, field] of [
    ['cflow.srcport', 'srcPort'], ['cflow.dstport', 'dstPort'], ['cflow.protocol', 'proto'],
    ['cflow.inputint', 'inIf'], ['cflow.outputint', 'outIf'], ['cflow.srcas', 'srcAs'], ['cflow.dstas', 'dstAs'],
    ['cflow.srcmask', 'srcMask'], ['cflow.dstmask', 'dstMask'], ['cflow.srcmaskv6', 'srcMask'], ['cflow.dstmaskv6', 'dstMask'],
    ['cflow.direction', 'direction'], ['cflow.flow_end_reason', 'endReason'], ['cflow.ttl_max', 'maxTtl'],
    ['cflow.ttl_min', 'minTtl'], ['cflow.peer_srcas', 'prevAs'], ['cflow.peer_dstas', 'nextAs'],
    ['cflow.vlanid', 'srcVlan'], ['cflow.post_vlanid', 'dstVlan'],
  ] as Array<[string, keyof FlowRecord]>) {
    const v = n(k);
    if (v !== undefined) eq(r[field], v, field);
  }
  if (n('cflow.vlanid') === undefined && n('cflow.dot1q_vlan_id') !== undefined) eq(r.srcVlan, n('cflow.dot1q_vlan_id'), 'srcVlan (dot1q)');
  if (n('cflow.post_vlanid') === undefined && n('cflow.post_dot1q_vlan_id') !== undefined) eq(r.dstVlan, n('cflow.post_dot1q_vlan_id'), 'dstVlan (dot1q)');
  const tos = n('cflow.tos');
  if (tos !== undefined) eq(r.srcTos, tos, 'srcTos');
  const ptos = n('cflow.post_tos');
  if (ptos !== undefined) eq(r.dstTos, ptos, 'dstTos');
  const flags = n('cflow.tcpflags');
  if (flags !== undefined) eq(r.tcpFlags, flags & 0xff, 'tcpFlags');
  addr(r.nextHop, 'nextHop', 'cflow.nexthop', 'cflow.nexthopv6');
  addr(r.bgpNextHop, 'bgpNextHop', 'cflow.bgpnexthop', 'cflow.bgpnexthopv6');
  for (const [k, field] of [['cflow.srcmac', 'inSrcMac'], ['cflow.dstmac', 'inDstMac'], ['cflow.post_srcmac', 'outSrcMac'], ['cflow.post_dstmac', 'outDstMac']] as Array<[string, keyof FlowRecord]>) {
    const v = s(k);
    if (v !== undefined) eq(r[field], macToNumber(v), field);
  }
  const l2 = n('cflow.layer2_segment_id');
  if (l2 !== undefined) eq(r.vni, l2 % 0x1000000, 'vni (layer2SegmentId low 24 bits)');
  const icmp = n('cflow.icmp_type_code_ipv4');
  if (icmp !== undefined) { eq(r.icmpType, icmp >> 8, 'icmpType'); eq(r.icmpCode, icmp & 255, 'icmpCode'); }
  const icmp6t = n('cflow.icmp_ipv6_type') ?? n('cflow.icmp_ipv4_type');
  if (icmp6t !== undefined) eq(r.icmpType, icmp6t, 'icmpType');
  const icmp6c = n('cflow.icmp_ipv6_code') ?? n('cflow.icmp_ipv4_code');
  if (icmp6c !== undefined) eq(r.icmpCode, icmp6c, 'icmpCode');

  // Counters: the first of the elements dvflow falls back through, times the announced rate.
  eq(r.samplingRate, ctx.rate, 'samplingRate');
  const octets = firstNum(f, ['cflow.octets', 'cflow.permanent_octets', 'cflow.post_octets', 'cflow.initiator_octets']);
  if (octets !== undefined) eq(r.bytes, Math.min(octets * ctx.rate, Number.MAX_SAFE_INTEGER), 'bytes');
  const packets = firstNum(f, ['cflow.packets', 'cflow.permanent_packets', 'cflow.post_packets', 'cflow.initiator_packets']);
  if (packets !== undefined) eq(r.packets, Math.min(packets * ctx.rate, Number.MAX_SAFE_INTEGER), 'packets');

  // Times. Absolute ones as tshark prints them. sysUptime-relative ones (tshark prints the raw uptime, as
  // seconds or, depending on field order, as a 1970 date): v5/v9 by RFC 3954's rule from tshark's header
  // values, IPFIX from the systemInitTimeMilliseconds the exporter announced.
  const cf = ctx.cf;
  const absStart = s('cflow.abstimestart'), absEnd = s('cflow.abstimeend');
  const relStart = s('cflow.timestart'), relEnd = s('cflow.timeend');
  if (ctx.uptimeTimes) {
    const raw = (abs: string | undefined, rel: string | undefined) => (abs !== undefined ? parseTsharkTime(abs) : rel !== undefined ? secondsToMs(rel) : undefined);
    const rs = raw(absStart, relStart), re = raw(absEnd, relEnd);
    let toMs: ((t: number) => number) | undefined;
    if (ctx.version === 5 || ctx.version === 9) {
      const exportMs = Number(cf['cflow.timestamp_tree']['cflow.unix_secs']) * 1000
        + Math.floor(Number(cf['cflow.timestamp_tree']['cflow.unix_nsecs'] ?? 0) / 1e6);
      const up = secondsToMs(cf['cflow.sysuptime']);
      // Uptimes are 32-bit milliseconds: their difference is taken modulo 2^32 (a flow may predate a wrap).
      toMs = (t) => exportMs - ((up - t) | 0);
    } else if (ctx.sysInit !== undefined) {
      // init + uptime, the uptime being 32-bit: of init + t + k·2^32, the one nearest the export time.
      const init = ctx.sysInit;
      const exportMs = Number(cf['cflow.timestamp_tree']['cflow.exporttime']) * 1000;
      toMs = (t) => exportMs - ((exportMs - init - t) | 0);
    }
    if (toMs && rs !== undefined) eq(r.first, toMs(rs), 'first (sysUptime-relative)');
    if (toMs && re !== undefined) eq(r.last, toMs(re), 'last (sysUptime-relative)');
  } else {
    if (absStart !== undefined) eq(r.first, parseTsharkTime(absStart), 'first (absolute)');
    if (absEnd !== undefined) eq(r.last, parseTsharkTime(absEnd), 'last (absolute)');
  }

  // VMware enterprise elements, matched to the template's enterprise fields in order.
  for (const p of pen) {
    if (p.pen !== 6876) continue;
    const v = p.value;
    switch (p.id) {
      case 880: eq(r.vmwTenantProto, v[v.length - 1], 'vmwTenantProto'); break;
      case 881: eq(r.vmwTenantSrcAddr, [...v].join('.'), 'vmwTenantSrcAddr'); break;
      case 882: eq(r.vmwTenantDstAddr, [...v].join('.'), 'vmwTenantDstAddr'); break;
      case 883: eq(r.vmwTenantSrcAddr, ipv6Text(v), 'vmwTenantSrcAddr (v6)'); break;
      case 884: eq(r.vmwTenantDstAddr, ipv6Text(v), 'vmwTenantDstAddr (v6)'); break;
      case 886: eq(r.vmwTenantSrcPort, v.readUIntBE(0, v.length), 'vmwTenantSrcPort'); break;
      case 887: eq(r.vmwTenantDstPort, v.readUIntBE(0, v.length), 'vmwTenantDstPort'); break;
      case 888: eq(r.vmwEgressAttr, v.readUIntBE(0, v.length), 'vmwEgressAttr'); break;
      case 889: eq(r.vmwVxlanRole, v.readUIntBE(0, v.length), 'vmwVxlanRole'); break;
      case 890: eq(r.vmwIngressAttr, v.readUIntBE(0, v.length), 'vmwIngressAttr'); break;
      case 898: eq(r.vmwVirtualObsId, v.toString('utf8').replace(/\0.*$/s, ''), 'vmwVirtualObsId'); break;
    }
  }
  return checked;
}

interface Replayed { scenario: Scenario; index: number; d: Datagram; exporter: string; receivedMs: number; res: DecodeResult; cf: TsharkTree | undefined }

// tshark is the oracle: without it these tests fail, unless skipping is asked for explicitly.
const HAVE_TSHARK = tsharkAvailable();
const SKIP = !HAVE_TSHARK && process.env.DVFLOW_TESTS_WITHOUT_TSHARK === '1' && 'tshark not installed (DVFLOW_TESTS_WITHOUT_TSHARK=1)';

describe('decoders agree with tshark on every capture in shared/testdata/netflow', { skip: SKIP }, () => {
  const scenarios: Scenario[] = [];
  const replayed: Replayed[] = [];
  const templates = new TemplateCache();

  before(() => {
    assert.ok(HAVE_TSHARK, 'tshark (Debian package "tshark") is needed to cross-check the decoders; set DVFLOW_TESTS_WITHOUT_TSHARK=1 to skip');
    scenarios.push(...logstashScenarios());
    for (const [name, files] of AKVORADO_SCENARIOS) scenarios.push(pcapScenario(`akvorado ${name}`, AKVORADO, files));
    for (const f of readdirSync(PMACCT).filter((f) => f.endsWith('.pcap')).sort()) scenarios.push(pcapScenario(`pmacct ${f}`, PMACCT, [f]));

    // One synthetic pcap for everything: each (scenario, original exporter) gets its own source address so
    // tshark keeps their templates apart exactly as dvflow's exporter keys do.
    const packets: Array<{ src: string; srcPort: number; payload: Uint8Array; timeMs: number }> = [];
    const sampling = new SamplingTable();
    let t = 1_700_000_000_000;
    scenarios.forEach((sc, si) => {
      const origins = new Map<string, number>();
      sc.datagrams.forEach((d, index) => {
        if (!origins.has(d.origin)) origins.set(d.origin, origins.size);
        const src = `10.${si}.${origins.get(d.origin)}.1`;
        const exporter = `${src}:${d.srcPort}`;
        t += 10;
        packets.push({ src, srcPort: d.srcPort, payload: moveEarlyDataSetsLast(TSHARK_FIXUPS[d.file]?.(d.payload) ?? d.payload), timeMs: t });
        const res = decodeDatagram(d.payload, { exporterKey: exporter, exporterAddr: src, exporterPort: d.srcPort, receivedMs: t, templates, sampling });
        replayed.push({ scenario: sc, index, d, exporter, receivedMs: t, res, cf: undefined });
      });
    });
    const pcap = join(tempDir(), 'all-netflow-testdata.pcap');
    writeUdpPcap(pcap, packets);
    const decoded = tsharkCflow(pcap);
    assert.equal(decoded.length, replayed.length, 'tshark decoded every packet');
    decoded.forEach((cf, i) => { replayed[i].cf = cf; });
  });

  it('accounts sequence numbers as tshark does: same expected number for every datagram', () => {
    // reorderWindow 0: every backward jump resynchronises, as tshark (and nfcapd) do; the window's own
    // behaviour is tested in sequenceTracker.test.ts.
    const tracker = new SequenceTracker({ reorderWindow: 0 });
    let compared = 0;
    for (const rp of replayed) {
      const res = rp.res;
      if (res.version !== 5 && res.version !== 9 && res.version !== 10) continue;
      const out = tracker.update(rp.exporter, res.version, res.domain, res.sequence, res.recordCountForSequence, res.records.length);
      const expectedByTshark = rp.cf?.['cflow.sequence_analysis.expected_sn'];
      // tshark cannot count the records of data sets it has no template for, nor of datagrams it gave up on;
      // the header-count fixup changes nothing here.
      if (expectedByTshark === undefined || EXPECTED_ERRORS[rp.d.file]) continue;
      const where = `${rp.scenario.name}, ${rp.d.file} datagram ${rp.index + 1}`;
      assert.equal(out.expected, Number(expectedByTshark), `${where}: expected sequence number`);
      const tsharkSaysUnexpected = JSON.stringify(rp.cf).includes('cflow.unexpected_sequence_number');
      assert.equal(out.failure, tsharkSaysUnexpected, `${where}: sequence failure`);
      compared++;
    }
    assert.ok(compared > 60, `compared ${compared} sequence numbers`);
  });

  it('covers every capture file', () => {
    const used = new Set(replayed.map((r) => r.d.file));
    for (const dir of [LOGSTASH, AKVORADO, PMACCT]) {
      for (const f of readdirSync(dir).filter((f) => /\.(dat|pcap)$/.test(f))) assert.ok(used.has(f), `${f} is replayed`);
    }
  });

  it('decodes the same records, field by field, as tshark', () => {
    const model = new TsharkModel();
    let records = 0, fields = 0;
    const tsharkGaveUp: string[] = [];
    for (const rp of replayed) {
      const where = `${rp.scenario.name}, ${rp.d.file} datagram ${rp.index + 1}`;
      assert.ok(rp.cf, `${where}: tshark decoded it`);
      const exp = model.expected(rp.cf, rp.exporter);
      const res = rp.res;
      assert.equal(res.version, exp.header.version, `${where}: version`);
      assert.equal(res.sequence, exp.header.sequence, `${where}: sequence`);
      assert.equal(res.domain, exp.header.domain, `${where}: domain`);
      const expectedKinds = EXPECTED_ERRORS[rp.d.file];
      if (expectedKinds) {
        assert.deepEqual(res.errors.map((e) => e.kind), expectedKinds, `${where}: errors`);
        assert.equal(res.records.length, 0, `${where}: a datagram whose header lies yields nothing`);
        continue;
      }
      assert.deepEqual(res.errors.map((e) => `${e.kind}: ${e.message}`), [], `${where}: no errors`);
      // Records decoded now from sets held by earlier datagrams carry the earlier datagram's time; sets held
      // earlier in this one come last, as in tshark's copy (moveEarlyDataSetsLast).
      const own = res.records.filter((r) => r.timeReceived === rp.receivedMs);
      if (exp.malformed) {
        assert.ok(own.length >= exp.flows.length, `${where}: at least the records tshark decoded before giving up`);
        tsharkGaveUp.push(`${rp.d.file} #${rp.index + 1}: tshark ${exp.flows.length}, dvflow ${own.length}`);
      } else assert.equal(own.length, exp.flows.length, `${where}: record count`);
      exp.flows.forEach((_, i) => {
        const r = own[i];
        const rate = model.rateFor(exp.flows[i], rp.exporter, exp.header.domain, exp.header.version, rp.cf!);
        fields += compareFlow(r, exp.flows[i], exp.pen[i], {
          where: `${where} record ${i + 1}`, version: exp.header.version, cf: rp.cf!, rate, uptimeTimes: exp.uptimeTimes[i],
          sysInit: model.sysInit.get(`${rp.exporter}|${exp.header.version}|${exp.header.domain}`),
        });
        assert.equal(r.exporter, rp.exporter.split(':')[0]);
        assert.equal(r.exporterPort, rp.d.srcPort);
        assert.equal(r.version, exp.header.version);
        assert.equal(r.domain, exp.header.domain);
        assert.equal(r.source, 'netflow');
      });
      records += exp.flows.length;
    }
    assert.ok(records > 600, `compared ${records} records`);
    process.stdout.write(`# compared ${records} records, ${fields} field values with tshark\n`);
    // Every template tshark saw is known, with nothing extra (none of these captures withdraws templates).
    const mine = templates.toJSON().domains.flatMap((d) => d.templates.map((t) => `${d.exporterKey}|${d.version}|${d.domain}|${t.id}`)).sort();
    assert.deepEqual(mine, [...model.templates.keys()].sort(), 'templates per exporter, version, domain');
    process.stdout.write(`# fields compared: ${[...fieldTally].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    for (const g of tsharkGaveUp) process.stdout.write(`# tshark stopped on a malformed field: ${g}\n`);
  });
});
