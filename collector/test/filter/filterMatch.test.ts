import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileMatcher, compileSql, type FilterableFlow } from '../../src/filter/index.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { filterCorpus } from './filterCorpus.ts';
import { BASE_TIME, sampleExporterIds, sampleFlows } from './sampleFlows.ts';

const options = { exporterIds: sampleExporterIds };

function expectedOf(filter: string): string[] {
  return [...filterCorpus.find((c) => c.filter === filter)!.matches].sort();
}

test('matchFlow gives, on the sample flows, the matches written from nfdump\'s semantics', () => {
  for (const c of filterCorpus) {
    const m = compileMatcher(c.filter, options);
    const got = Object.entries(sampleFlows).filter(([, f]) => m(f)).map(([id]) => id).sort();
    assert.deepEqual(got, [...c.matches].sort(), JSON.stringify(c.filter));
  }
});

test('a record without enrichment matches no enrichment term', () => {
  const bare = { ...emptyFlowRecord(), srcAddr: '10.0.0.1', dstAddr: '10.0.0.2' };
  for (const f of ['portgroup x', 'vip x', 'vip 10.0.0.2', 'exporter x', 'ident x']) assert.equal(compileMatcher(f)(bare), false, f);
  assert.equal(compileMatcher('not vip x')(bare), true);
  assert.equal(compileMatcher('vip 0.0.0.0')(bare), false);
});

// ---- The same corpus through ClickHouse (embedded chDB), when it loads on this machine.

type Session = { query(q: string, f?: string): string; queryBind(q: string, p: object, f?: string): string; close(): void };

async function openChdb(): Promise<Session | null> {
  try {
    const mod = (await import('chdb')) as unknown as { Session: new () => Session };
    const s = new mod.Session();
    const ddl = readFileSync(new URL('../../../schema/001_flows.sql', import.meta.url), 'utf8')
      .replace(/--.*$/gm, '')
      .replace('{{on_cluster}}', '')
      .replace(/ENGINE[\s\S]*$/, 'ENGINE = Memory');
    s.query(ddl);
    // Later migrations' columns (schema/004, schema/005's capture facts).
    s.query('ALTER TABLE flows ADD COLUMN duplicate UInt8');
    s.query(readFileSync(new URL('../../../schema/005_capture_columns.sql', import.meta.url), 'utf8')
      .replace(/--.*$/gm, '')
      .replace('{{on_cluster}}', ''));
    return s;
  } catch {
    return null;
  }
}

const COLUMNS = [
  'first', 'last', 'exporter', 'version', 'domain', 'engine_type', 'engine_id', 'src_addr', 'dst_addr', 'src_port', 'dst_port',
  'proto', 'tcp_flags', 'src_tos', 'dst_tos', 'bytes', 'packets', 'in_if', 'out_if', 'src_vlan', 'dst_vlan', 'in_src_mac',
  'in_dst_mac', 'out_src_mac', 'out_dst_mac', 'icmp_type', 'icmp_code', 'next_hop', 'bgp_next_hop', 'src_as', 'dst_as',
  'next_as', 'prev_as', 'src_mask', 'dst_mask', 'direction', 'min_ttl', 'max_ttl', 'fwd_status', 'vni', 'source', 'capture',
  'exporter_name', 'in_portgroup', 'out_portgroup', 'vip', 'vip_addr', 'vip_port',
  'in_vm', 'out_vm', 'vip_leg', 'backend', 'duplicate', 'vmw_tenant_proto', 'vmw_tenant_src', 'vmw_tenant_dst', 'vmw_tenant_src_port', 'vmw_tenant_dst_port',
  'encap', 'outer_src', 'outer_dst', 'outer_vlan', 'inner_vlan', 'mirror_session', 'mirror_index', 'gre_key', 'fragments',
];

/** One TSV row; `capture` carries the record id (no filter term reads it). */
function row(id: string, f: FilterableFlow): string {
  const a = (s: string | undefined) => s || '::';
  return [
    f.first, f.last, a(f.exporter), f.version, f.domain, f.engineType, f.engineId, a(f.srcAddr), a(f.dstAddr), f.srcPort, f.dstPort,
    f.proto, f.tcpFlags, f.srcTos, f.dstTos, f.bytes, f.packets, f.inIf, f.outIf, f.srcVlan, f.dstVlan, f.inSrcMac,
    f.inDstMac, f.outSrcMac, f.outDstMac, f.icmpType, f.icmpCode, a(f.nextHop), a(f.bgpNextHop), f.srcAs, f.dstAs,
    f.nextAs, f.prevAs, f.srcMask, f.dstMask, f.direction, f.minTtl, f.maxTtl, f.fwdStatus, f.vni, f.source, id,
    f.exporterName ?? '', f.inPortgroup ?? '', f.outPortgroup ?? '', f.vip ?? '', a(f.vipAddr), f.vipPort ?? 0,
    f.inVm ?? '', f.outVm ?? '', f.vipLeg ?? '', f.backend ?? '', f.duplicate ?? 0, f.vmwTenantProto, a(f.vmwTenantSrcAddr), a(f.vmwTenantDstAddr), f.vmwTenantSrcPort, f.vmwTenantDstPort,
    f.encap ?? '', a(f.outerSrc), a(f.outerDst), f.outerVlan ?? 0, f.innerVlan ?? 0, f.mirrorSession ?? 0, f.mirrorIndex ?? 0, f.greKey ?? 0, f.fragments ?? 0,
  ].join('\t');
}

function load(s: Session, table: string, flows: Record<string, FilterableFlow>): void {
  s.query(`TRUNCATE TABLE ${table}`);
  const body = Object.entries(flows).map(([id, f]) => row(id, f)).join('\n');
  s.query(`INSERT INTO ${table} (${COLUMNS.join(', ')}) FORMAT TSV\n${body}\n`);
}

function sqlIds(s: Session, filter: string): string[] {
  const c = compileSql(filter, options);
  const out = s.queryBind(`SELECT capture FROM flows WHERE ${c.sql} ORDER BY capture`, c.params, 'TSV');
  return out.split('\n').filter((l) => l !== '').sort();
}

/** Deterministic pseudo-random flows drawn from the values the corpus tests, so filters hit and miss. */
function randomFlows(n: number): Record<string, FilterableFlow> {
  let seed = 0x2545f491;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const samples = Object.values(sampleFlows);
  const out: Record<string, FilterableFlow> = {};
  for (let i = 0; i < n; i++) {
    // Start from a sample flow and reshuffle each field from the values any sample has for it.
    const f: FilterableFlow = { ...pick(samples) };
    for (const key of Object.keys(f) as Array<keyof FilterableFlow>) {
      if (rnd() < 0.5) (f as unknown as Record<string, unknown>)[key] = pick(samples)[key];
    }
    if (rnd() < 0.3) f.last = f.first + Math.floor(rnd() * 5000);
    if (rnd() < 0.2) f.tcpFlags = Math.floor(rnd() * 256);
    out[`r${String(i).padStart(3, '0')}`] = f;
  }
  return out;
}

/** Port-mirror flows with and without capture facts (schema/005), and a NetFlow flow that has none. */
const captureFlows: Record<string, FilterableFlow> = Object.fromEntries(Object.entries({
  netflow: { source: 'netflow' },
  plain: {},
  dot1q: { encap: 'vlan', outerVlan: 100 },
  qinq: { encap: 'qinq,vlan', outerVlan: 200, innerVlan: 300 },
  gre: { encap: 'gre', outerSrc: '192.0.2.1', outerDst: '192.0.2.2', greKey: 42 },
  erspan1: { encap: 'gre,erspan1', outerSrc: '192.0.2.3', outerDst: '192.0.2.4' },
  erspan2: { encap: 'vlan,gre,erspan2', outerVlan: 10, mirrorSession: 5, mirrorIndex: 77, outerSrc: '192.0.2.3', outerDst: '192.0.2.4' },
  erspan3: { encap: 'gre,erspan3,vlan', outerVlan: 20, mirrorSession: 1023, mirrorIndex: 3, outerSrc: '2001:db8::1', outerDst: '2001:db8::2' },
  vxlan: { encap: 'vxlan', outerSrc: '198.51.100.1', outerDst: '198.51.100.2' },
  sixin4: { encap: 'ipv6-in-ip', outerSrc: '203.0.113.1', outerDst: '203.0.113.2' },
  ipip: { encap: 'ip-in-ip', outerSrc: '203.0.113.2', outerDst: '203.0.113.1' },
  pptp: { encap: 'pptp', greKey: 7, outerSrc: '192.0.2.2', outerDst: '192.0.2.1' },
  eompls: { encap: 'mpls,eompls' },
  frag: { encap: 'gre', greKey: 4294967295, fragments: 3, outerSrc: '192.0.2.1', outerDst: '192.0.2.9' },
}).map(([id, over]) => {
  const f: FilterableFlow = { ...emptyFlowRecord(), srcAddr: '10.9.9.1', dstAddr: '10.9.9.2', proto: 17, first: BASE_TIME, last: BASE_TIME, source: 'pcap' };
  return [id, { ...f, ...over } as FilterableFlow];
}));

/** Capture-fact filters and the captureFlows each matches. */
const captureCases: Array<[string, string[]]> = [
  ['encap gre', ['gre', 'erspan1', 'erspan2', 'erspan3', 'frag']],
  ['encap erspan2', ['erspan2']],
  ['encap vlan', ['dot1q', 'qinq', 'erspan2', 'erspan3']],
  ['encap qinq and encap vlan', ['qinq']],
  ['encap none', ['netflow', 'plain']],
  ['not encap none', ['dot1q', 'qinq', 'gre', 'erspan1', 'erspan2', 'erspan3', 'vxlan', 'sixin4', 'ipip', 'pptp', 'eompls', 'frag']],
  ['encap ip-in-ip or encap ipv6-in-ip', ['sixin4', 'ipip']],
  ['encap mpls and not encap eompls', []],
  ['mirror session 5', ['erspan2']],
  ['mirror session >= 5', ['erspan2', 'erspan3']],
  ['mirror index 3 or mirror index 77', ['erspan2', 'erspan3']],
  ['gre key 42', ['gre']],
  ['gre key > 7', ['gre', 'frag']],
  ['gre key 7', ['pptp']],
  ['outer vlan 200 and inner vlan 300', ['qinq']],
  ['outer vlan > 0 and inner vlan 0', ['dot1q', 'erspan2', 'erspan3']],
  ['fragments > 0', ['frag']],
  ['tun ip 192.0.2.1', ['gre', 'pptp', 'frag']],
  ['src tun ip 192.0.2.1', ['gre', 'frag']],
  ['dst tun ip 192.0.2.1', ['pptp']],
  ['src and dst tun net 203.0.113.0/24', ['sixin4', 'ipip']],
  ['tun net 2001:db8::/32', ['erspan3']],
  ['tun ip in [192.0.2.4 198.51.100.0/24]', ['erspan1', 'erspan2', 'vxlan']],
  ['tunip 192.0.2.9', ['frag']],
  ['not tun net 0.0.0.0/0', ['netflow', 'plain', 'dot1q', 'qinq', 'erspan3', 'eompls']],
  ['tun ip ::', []],
  ['source pcap and encap none', ['plain']],
];

test('capture-fact terms: matchFlow gives the written matches on flows with and without encapsulation', () => {
  for (const [filter, expected] of captureCases) {
    const m = compileMatcher(filter);
    const got = Object.entries(captureFlows).filter(([, f]) => m(f)).map(([id]) => id).sort();
    assert.deepEqual(got, [...expected].sort(), filter);
  }
});

test('capture-fact terms: ClickHouse (chDB) gives the same matches', async (t) => {
  const s = await openChdb();
  if (!s) {
    t.skip('chDB is not available on this machine');
    return;
  }
  try {
    load(s, 'flows', captureFlows);
    for (const [filter, expected] of captureCases) assert.deepEqual(sqlIds(s, filter), [...expected].sort(), `SQL ${filter}`);
  } finally {
    s.close();
  }
});

test('compileSql gives the same matches in ClickHouse (chDB) as the expectations and as matchFlow', async (t) => {
  const s = await openChdb();
  if (!s) {
    t.skip('chDB is not available on this machine');
    return;
  }
  try {
    load(s, 'flows', sampleFlows);
    for (const c of filterCorpus) {
      assert.deepEqual(sqlIds(s, c.filter), expectedOf(c.filter), `SQL ${JSON.stringify(c.filter)}`);
    }
    const flows = randomFlows(300);
    load(s, 'flows', flows);
    for (const c of filterCorpus) {
      const m = compileMatcher(c.filter, options);
      const inMemory = Object.entries(flows).filter(([, f]) => m(f)).map(([id]) => id).sort();
      assert.deepEqual(sqlIds(s, c.filter), inMemory, `SQL vs matchFlow ${JSON.stringify(c.filter)}`);
    }
  } finally {
    s.close();
  }
});
