// The capture-fact filter terms end to end: real mirror and tunnel captures ingested into a real embedded store,
// then `encap NAME`, `mirror session N`, `gre key N`, `[src|dst] tun ip|net`, `outer vlan N` select exactly the
// flows tshark says were carried that way (its gre.key, erspan.spanid, erspan.version, vlan.id and outer
// ip.src/ip.dst of the same packets); the in-process matcher agrees with the SQL on the stored rows; the query
// engine answers them (and the `-s encap`, `-s mirrorsession`, `-s grekey` statistics) from the raw table; and
// nfdump 1.7.1's `tunip` selects the same IPv6-in-IPv4 flows from nfpcapd's reading of the capture.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createCollectorMetrics } from '../../src/collector/collectorMetrics.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { compileMatcher, compileSql, type FilterableFlow } from '../../src/filter/index.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { createFlowSink, type FlowSink } from '../../src/ingest/flowSink.ts';
import { ingestCaptureInto } from '../../src/pcap/pcapService.ts';
import { compileFilter } from '../../src/query/filterSql.ts';
import { FlowQuery } from '../../src/query/flowQuery.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';
import { openTempStore } from '../helpers/tempStore.ts';
import { DECODE_FIELDS, TESTDATA, have, innermost, tmpDir, tshark } from './tools.ts';

const HAVE_TSHARK = have('tshark');
const HAVE_NFPCAPD = have('nfpcapd') && have('nfdump');

/** How many flows nfpcapd makes of a capture that nfdump's filter selects (nfdump 1.7.1 spells `tun ip` `tunip`). */
function nfdumpCount(file: string, filter: string): number {
  const { dir, cleanup } = tmpDir('dvflow-nfpcapd-');
  try {
    spawnSync('nfpcapd', ['-r', file, '-w', dir], { encoding: 'utf8' });
    const r = spawnSync('nfdump', ['-R', dir, '-q', '-N', '-o', 'fmt:%pkt', filter], { encoding: 'utf8' });
    assert.equal(r.status, 0, `nfdump ${filter}: ${r.stderr}`);
    // nfdump 1.7.1 prints a tunnel's outer header as an extra line with no packets: not a flow.
    return r.stdout.split('\n').filter((l) => Number(l.trim()) > 0).length;
  } finally {
    cleanup();
  }
}

const FILES = [
  'ids/zeek/erspanI.pcap', // ERSPAN type I (no header, no session)
  'ids/zeek/erspanII.pcap', // ERSPAN II, session 100, 2.2.2.2 -> 1.1.1.1
  'ids/zeek/erspanIII.pcap', // ERSPAN III, session 0, hardware id 3
  'ids/zeek/tunnels_gre-erspan3-dot1q.pcap', // ERSPAN III carrying a frame tagged 10
  'ids/zeek/erspan-multi.pcap', // GRE (Ethernet bridging) keyed 0 one way, 0x02000000 the other; fragmented
  'encap/akvorado/gre-v4-key.pcap', // GRE key 1, both directions
  'encap/akvorado/ipv4-ipv6.pcap', // IPv6 in IPv4 (6in4)
  'ids/zeek/tunnels_vxlan.pcap', // VXLAN 123
  'ids/generated/lo-http.pcap', // nothing to peel off
];

/** What tshark says carried a packet, in the terms the filter tests. */
interface TsharkFacts {
  /** Encapsulations outermost first, named as the decoder names them. */
  kinds: string[];
  /** ERSPAN II/III session id; null for other packets (type I has none). */
  session: number | null;
  greKey: number | null;
  outerSrc: string;
  outerDst: string;
  outerVlan: number;
}

/** tshark's protocol chain to the decoder's encapsulation names. */
function kindsOf(chain: string[], erspanType: number | null, pptp: boolean): string[] {
  const kinds: string[] = [];
  const lastIp = chain.reduce((at, t, i) => (t === 'ip' || t === 'ipv6' ? i : at), -1);
  chain.forEach((t, i) => {
    if (t === 'vlan') kinds.push('vlan');
    else if (t === 'ieee8021ad') kinds.push('qinq');
    else if (t === 'gre') kinds.push(pptp ? 'pptp' : 'gre');
    else if (t === 'erspan') kinds.push(`erspan${erspanType}`);
    else if (t === 'vxlan' || t === 'geneve' || t === 'mpls') kinds.push(t);
    else if ((t === 'ip' || t === 'ipv6') && i < lastIp && (chain[i + 1] === 'ip' || chain[i + 1] === 'ipv6')) {
      kinds.push(chain[i + 1] === 'ip' ? 'ip-in-ip' : 'ipv6-in-ip');
    }
  });
  return kinds;
}

/** Per file, per inner (src, dst, proto): what carried it, as tshark reads the packets; keys whose packets disagree are left out. */
function tsharkFacts(file: string): Map<string, TsharkFacts> {
  const out = new Map<string, TsharkFacts | null>();
  for (const row of tshark(file, DECODE_FIELDS)) {
    const t = innermost(row);
    if (t.ipVersion === null) continue;
    const firstIp = t.chain.findIndex((x) => x === 'ip' || x === 'ipv6');
    const tunnelled = t.chain.slice(firstIp + 1).some((x) => x === 'ip' || x === 'ipv6');
    const outer = t.chain[firstIp] === 'ip' ? 'ip' : 'ipv6';
    const f: TsharkFacts = {
      kinds: kindsOf(t.chain, t.erspanType, t.pptpCallId !== null),
      session: t.erspanType !== null && t.erspanType > 1 ? t.erspanSession : null,
      greKey: t.greKey,
      outerSrc: tunnelled ? row[`${outer}.src`].split(',')[0] : '',
      outerDst: tunnelled ? row[`${outer}.dst`].split(',')[0] : '',
      outerVlan: t.vlans[0] ?? 0,
    };
    const proto = t.transport === 'icmpv6' ? 58 : t.transport === 'icmp' ? 1 : t.transport === 'udp' ? 17 : t.transport === 'tcp' ? 6 : t.proto;
    const key = `${t.src}|${t.dst}|${proto}`;
    const prev = out.get(key);
    if (prev === undefined) out.set(key, f);
    else if (prev !== null && JSON.stringify(prev) !== JSON.stringify(f)) out.set(key, null);
  }
  return new Map([...out].filter((e): e is [string, TsharkFacts] => e[1] !== null));
}

/** Filters and, for each, which flows should match according to tshark. */
const CASES: Array<[string, (f: TsharkFacts) => boolean]> = [
  ['encap gre', (f) => f.kinds.includes('gre')],
  ['encap erspan1', (f) => f.kinds.includes('erspan1')],
  ['encap erspan2', (f) => f.kinds.includes('erspan2')],
  ['encap erspan3', (f) => f.kinds.includes('erspan3')],
  ['encap vxlan', (f) => f.kinds.includes('vxlan')],
  ['encap ipv6-in-ip', (f) => f.kinds.includes('ipv6-in-ip')],
  ['encap vlan', (f) => f.kinds.includes('vlan')],
  ['encap none', (f) => f.kinds.length === 0],
  ['not encap none and not encap gre', (f) => f.kinds.length > 0 && !f.kinds.includes('gre')],
  ['mirror session 100', (f) => f.session === 100],
  ['mirror session 0 and encap erspan3', (f) => f.session === 0 && f.kinds.includes('erspan3')],
  ['gre key 1', (f) => f.greKey === 1],
  ['gre key 33554432', (f) => f.greKey === 0x02000000],
  ['gre key 0 and encap gre', (f) => (f.greKey ?? 0) === 0 && f.kinds.includes('gre')],
  ['tun ip 1.1.1.1', (f) => f.outerSrc === '1.1.1.1' || f.outerDst === '1.1.1.1'],
  ['src tun ip 192.168.12.1', (f) => f.outerSrc === '192.168.12.1'],
  ['dst tun net 192.168.0.0/16', (f) => f.outerDst.startsWith('192.168.')],
  ['tunip 216.66.80.30', (f) => f.outerSrc === '216.66.80.30' || f.outerDst === '216.66.80.30'],
  ['outer vlan 10', (f) => f.outerVlan === 10],
];

interface StoredFlow {
  capture: string;
  src: string;
  dst: string;
  proto: number;
  encap: string;
  tun_src: string;
  tun_dst: string;
  outer_vlan: number;
  inner_vlan: number;
  mirror_session: number;
  mirror_index: number;
  gre_key: number;
  fragments: number;
}

// Aliases must not reuse a column name: ClickHouse would read the alias in the WHERE the filter adds.
const SELECT = `SELECT capture, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src,
  replaceRegexpOne(toString(dst_addr), '^::ffff:', '') AS dst, proto, encap,
  replaceRegexpOne(toString(outer_src), '^::ffff:', '') AS tun_src, replaceRegexpOne(toString(outer_dst), '^::ffff:', '') AS tun_dst,
  outer_vlan, inner_vlan, mirror_session, mirror_index, gre_key, fragments FROM flows`;

const idOf = (r: StoredFlow) => `${r.capture}|${r.src}|${r.dst}|${r.proto}`;

/** A stored row as the in-process matcher sees a record. */
function asRecord(r: StoredFlow): FilterableFlow {
  const addr = (a: string) => (a === '::' ? '' : a);
  return {
    ...emptyFlowRecord(), srcAddr: r.src, dstAddr: r.dst, proto: Number(r.proto), source: 'pcap', capture: r.capture,
    encap: r.encap, outerSrc: addr(r.tun_src), outerDst: addr(r.tun_dst), outerVlan: Number(r.outer_vlan),
    innerVlan: Number(r.inner_vlan), mirrorSession: Number(r.mirror_session), mirrorIndex: Number(r.mirror_index),
    greKey: Number(r.gre_key), fragments: Number(r.fragments),
  };
}

describe('capture-fact filters on real captures in the embedded store', { skip: !HAVE_TSHARK && 'tshark not installed' }, () => {
  let store: ClickHouseStore;
  let sink: FlowSink;
  let cleanup: () => Promise<void>;
  let rows: StoredFlow[] = [];
  /** Stored flow id -> tshark's facts, for the flows tshark reads one way. */
  const facts = new Map<string, TsharkFacts>();

  before(async () => {
    const t = await openTempStore();
    store = t.store;
    cleanup = t.cleanup;
    sink = createFlowSink({ store, config: defaultConfig, log: pino({ level: 'silent' }), metrics: createCollectorMetrics() });
    for (const f of FILES) {
      const s = await ingestCaptureInto(join(TESTDATA, f), { sink, session: f });
      assert.equal(s.complete, true, f);
    }
    await sink.writer.flush();
    rows = await store.queryRows<StoredFlow>(SELECT);
    for (const f of FILES) {
      const expected = tsharkFacts(join(TESTDATA, f));
      for (const r of rows.filter((x) => x.capture === f)) {
        const e = expected.get(`${r.src}|${r.dst}|${r.proto}`);
        if (e) facts.set(idOf(r), e);
      }
    }
  });
  after(async () => {
    await sink?.close();
    await cleanup?.();
  });

  it('tshark reads most stored flows one way, from every capture', () => {
    assert.ok(facts.size >= rows.length / 2, `${facts.size} of ${rows.length} flows have tshark's facts`);
    for (const f of FILES) assert.ok(rows.some((r) => r.capture === f && facts.has(idOf(r))), `${f}: no flow checked`);
    // The captures hold what the cases are about.
    assert.ok([...facts.values()].some((x) => x.session === 100) && [...facts.values()].some((x) => x.greKey === 1));
    assert.ok([...facts.values()].some((x) => x.greKey === 0x02000000) && [...facts.values()].some((x) => x.kinds.length === 0));
  });

  for (const [filter, expected] of CASES) {
    it(`${filter}: the flows tshark says, and the matcher agrees with the SQL`, async () => {
      const c = compileSql(filter, { paramPrefix: 'f' });
      const selected = await store.queryRows<StoredFlow>(`${SELECT} WHERE ${c.sql}`, c.params);
      // Ids name a (capture, src, dst, proto): several flows (ports, timeouts) may share one.
      const got = selected.map(idOf).sort();
      const want = [...facts].filter(([, f]) => expected(f)).map(([id]) => id).sort();
      assert.ok(want.length > 0, `${filter}: the captures hold no such flow`);
      assert.deepEqual([...new Set(got)].filter((id) => facts.has(id)), want, filter);
      const m = compileMatcher(filter);
      assert.deepEqual(rows.filter((r) => m(asRecord(r))).map(idOf).sort(), got, `${filter}: matcher vs SQL`);
    });
  }

  it('the query engine answers the terms and the -s encap / mirrorsession / grekey statistics from the raw table', async () => {
    const q = new FlowQuery(store, compileFilter);
    const mirrored = await q.run({ filter: 'mirror session 100', statistics: ['mirrorsession', 'encap'] });
    const n = [...facts.values()].filter((f) => f.session === 100).length;
    assert.equal(mirrored.summary.flows, n);
    assert.deepEqual(mirrored.answeredFrom, ['flows']);
    assert.deepEqual(mirrored.statistics![0]!.rows.map((r) => [r.key, r.flows]), [[100, n]]);
    assert.deepEqual(mirrored.statistics![1]!.rows.map((r) => [r.key, r.flows]), [['gre,erspan2', n]]);

    const all = await q.run({ statistics: ['encap'], topN: 0 });
    const byEncap = new Map<string, number>();
    for (const r of rows) byEncap.set(r.encap || 'none', (byEncap.get(r.encap || 'none') ?? 0) + 1);
    assert.deepEqual(new Map(all.statistics![0]!.rows.map((r) => [String(r.key), r.flows])), byEncap);
    assert.ok(byEncap.has('none') && byEncap.has('gre,erspan2'));

    const keyed = await q.run({ filter: 'encap gre and gre key > 0', statistics: ['grekey'] });
    const keys = new Map<number, number>();
    for (const r of rows) if (r.encap.split(',').includes('gre') && Number(r.gre_key) > 0) keys.set(Number(r.gre_key), (keys.get(Number(r.gre_key)) ?? 0) + 1);
    assert.deepEqual(new Map(keyed.statistics![0]!.rows.map((r) => [Number(r.key), r.flows])), keys);
    assert.ok(keys.has(1) && keys.has(0x02000000));
  });

  it('nfdump reads the same tunnel endpoints as `tunip`: IPv6 in IPv4 through nfpcapd', { skip: !HAVE_NFPCAPD && 'nfpcapd/nfdump not installed' }, async () => {
    const f = 'encap/akvorado/ipv4-ipv6.pcap';
    for (const [nfdumpFilter, ours] of [
      ['tunip 216.66.80.30', 'tun ip 216.66.80.30'], ['src tunip 216.66.80.30', 'src tun ip 216.66.80.30'],
      ['dst tunip 216.66.80.30', 'dst tun ip 216.66.80.30'], ['dst tunip 192.168.2.2', 'dst tunip 192.168.2.2'],
      ['not tunip 192.168.2.2', 'not tun ip 192.168.2.2'],
    ]) {
      const c = compileSql(ours, { paramPrefix: 'f' });
      const [r] = await store.queryRows<{ n: number }>(`SELECT count() AS n FROM flows WHERE capture = {c:String} AND ${c.sql}`, { ...c.params, c: f });
      assert.equal(Number(r!.n), nfdumpCount(join(TESTDATA, f), nfdumpFilter), `${ours} vs nfdump ${nfdumpFilter}`);
    }
    assert.equal(nfdumpCount(join(TESTDATA, f), 'tunip 216.66.80.30'), 1, 'the capture has one tunnelled flow');
  });

  it('a bad term is a positioned error, not a query', async () => {
    const q = new FlowQuery(store, compileFilter);
    for (const [filter, position] of [['encap erspan', 7], ['mirror session 1024', 16], ['gre key', 8], ['tun proto 47', 1]] as const) {
      await assert.rejects(q.run({ filter }), (e: Error & { position?: number }) => e.name === 'FilterError' && e.position === position, filter);
    }
  });
});
