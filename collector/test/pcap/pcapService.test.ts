// Captures into a real embedded store through the flow sink: every stored flow's capture facts (schema/005: encap,
// outer tunnel endpoints, VLANs, ERSPAN session and index, GRE key) checked against tshark's reading of the same
// packets (erspan.spanid, erspan.index / erspan.hw, gre.key, vlan.id, the outer ip.src/ip.dst), and the rest of
// the record path: source, capture name, ingest time, timeouts, a damaged file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createCollectorMetrics } from '../../src/collector/collectorMetrics.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { createFlowSink, type FlowSink } from '../../src/ingest/flowSink.ts';
import { captureFacts, ingestCaptureInto, PcapService } from '../../src/pcap/pcapService.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';
import { openTempStore } from '../helpers/tempStore.ts';
import { DECODE_FIELDS, TESTDATA, have, innermost, tmpDir, tshark } from './tools.ts';
import { ether, ipv4, pcapFile, udp } from './packetBuilder.ts';

const HAVE_TSHARK = have('tshark');

interface Facts {
  erspan: number | null;
  session: number;
  index: number;
  greKey: number;
  outerSrc: string;
  outerDst: string;
  outerVlan: number;
  innerVlan: number;
}

/** What tshark says each inner (src, dst, proto) was carried in; keys whose frames disagree are left out. */
function tsharkFacts(file: string): Map<string, Facts> {
  const rows = tshark(file, DECODE_FIELDS);
  const out = new Map<string, Facts | null>();
  for (const row of rows) {
    const t = innermost(row);
    if (t.ipVersion === null) continue;
    const chain = t.chain;
    const firstIp = chain.findIndex((x) => x === 'ip' || x === 'ipv6');
    const tunnelled = chain.slice(firstIp + 1).some((x) => x === 'ip' || x === 'ipv6');
    const outerField = chain[firstIp] === 'ip' ? 'ip' : 'ipv6';
    const f: Facts = {
      erspan: t.erspanType,
      session: t.erspanType !== null && t.erspanType > 1 ? t.erspanSession ?? 0 : 0,
      index: t.erspanType === 2 ? t.erspanIndex ?? 0 : t.erspanType === 3 ? t.erspanHw ?? 0 : 0,
      greKey: t.greKey ?? 0,
      outerSrc: tunnelled ? row[`${outerField}.src`].split(',')[0] : '',
      outerDst: tunnelled ? row[`${outerField}.dst`].split(',')[0] : '',
      outerVlan: t.vlans[0] ?? 0,
      innerVlan: t.vlans.length > 1 ? t.vlans[t.vlans.length - 1] : 0,
    };
    const key = `${t.src}|${t.dst}|${t.transport === 'icmpv6' ? 58 : t.transport === 'icmp' ? 1 : t.transport === 'udp' ? 17 : t.transport === 'tcp' ? 6 : t.proto}`;
    const prev = out.get(key);
    if (prev === undefined) out.set(key, f);
    else if (prev !== null && JSON.stringify(prev) !== JSON.stringify(f)) out.set(key, null);
  }
  return new Map([...out].filter((e): e is [string, Facts] => e[1] !== null));
}

describe('captures into the store, with their capture facts', () => {
  let store: ClickHouseStore;
  let sink: FlowSink;
  let cleanup: () => Promise<void>;
  before(async () => {
    const t = await openTempStore();
    store = t.store;
    cleanup = t.cleanup;
    sink = createFlowSink({ store, config: defaultConfig, log: pino({ level: 'silent' }), metrics: createCollectorMetrics() });
  });
  after(async () => {
    await sink.close();
    await cleanup();
  });

  const FILES = ['ids/zeek/erspanI.pcap', 'ids/zeek/erspanII.pcap', 'ids/zeek/erspanIII.pcap', 'ids/zeek/tunnels_gre-erspan3-dot1q.pcap',
    'ids/zeek/erspan-multi.pcap', 'ids/suricata-verify/decode-erspan-typeII-01_input.pcap', 'encap/akvorado/gre-v4-key.pcap',
    'encap/akvorado/gre-v6-plain.pcap', 'ids/zeek/http-qinq-0.pcap', 'ids/zeek/icmp_dot1q.pcap', 'ids/zeek/tunnels_vxlan.pcap',
    'encap/akvorado/ipv4-ipv6.pcap'];
  for (const f of FILES) {
    it(`${f}: stored facts equal tshark's`, { skip: !HAVE_TSHARK && 'tshark not installed' }, async () => {
      const file = join(TESTDATA, f);
      const s = await ingestCaptureInto(file, { sink, session: f });
      await sink.writer.flush();
      assert.equal(s.complete, true);
      const rows = await store.queryRows<Record<string, string | number>>(
        `SELECT replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, replaceRegexpOne(toString(dst_addr), '^::ffff:', '') AS dst,
                proto, encap, replaceRegexpOne(toString(outer_src), '^::ffff:', '') AS outer_src,
                replaceRegexpOne(toString(outer_dst), '^::ffff:', '') AS outer_dst, outer_vlan, inner_vlan, mirror_session,
                mirror_index, gre_key, packets, source, time_received
         FROM flows WHERE capture = {c:String}`, { c: f });
      assert.equal(rows.length, s.flows);
      const expected = tsharkFacts(file);
      let checked = 0;
      for (const r of rows) {
        const e = expected.get(`${r.src}|${r.dst}|${r.proto}`);
        if (!e) continue;
        checked++;
        const where = `${f} ${r.src} > ${r.dst} proto ${r.proto}`;
        assert.equal(r.source, 'pcap');
        assert.equal(Number(r.mirror_session), e.session, `${where}: mirror_session vs erspan.spanid`);
        assert.equal(Number(r.mirror_index), e.index, `${where}: mirror_index vs erspan.index/hw`);
        assert.equal(Number(r.gre_key), e.greKey, `${where}: gre_key`);
        assert.equal(r.outer_src === '::' ? '' : r.outer_src, e.outerSrc, `${where}: outer_src`);
        assert.equal(r.outer_dst === '::' ? '' : r.outer_dst, e.outerDst, `${where}: outer_dst`);
        assert.equal(Number(r.outer_vlan), e.outerVlan, `${where}: outer_vlan`);
        assert.equal(Number(r.inner_vlan), e.innerVlan, `${where}: inner_vlan`);
        const kinds = String(r.encap).split(',');
        if (e.erspan !== null) assert.ok(kinds.includes(`erspan${e.erspan}`), `${where}: encap ${r.encap}`);
        else assert.ok(!kinds.some((k) => k.startsWith('erspan')), `${where}: encap ${r.encap}`);
        if (e.outerSrc) assert.ok(kinds.length > 0 && r.encap !== '', `${where}: tunnelled, encap '${r.encap}'`);
      }
      assert.ok(checked > 0 && checked >= rows.length / 2, `${f}: ${checked} of ${rows.length} flows checked`);
    });
  }

  it('records: source pcap, the session as capture, received = ingest time (old captures are not expired on insert)', async () => {
    const t0 = Date.now();
    const s = await ingestCaptureInto(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'), { sink, session: 'sess-1', active: 30, idle: 5 });
    await sink.writer.flush();
    assert.deepEqual([s.name, s.session, s.capture, s.activeTimeout, s.idleTimeout], ['ssh_sshguess.pcap', 'sess-1', 'sess-1', 30, 5]);
    const [r] = await store.queryRows<Record<string, number>>(
      `SELECT count() AS n, sum(packets) AS p, min(toUnixTimestamp64Milli(time_received)) AS tr, max(toUnixTimestamp64Milli(last)) AS last
       FROM flows WHERE capture = 'sess-1'`);
    assert.equal(Number(r.n), s.flows);
    assert.equal(Number(r.p), 431);
    assert.ok(Number(r.tr) >= t0 - 1000, 'time_received is the ingest time');
    assert.ok(Number(r.last) < Date.parse('2016-01-01'), 'first/last keep the packet times');
  });

  it('the detectors see every flow once, the capture\'s last ones after they are queued for writing', async () => {
    const batches: number[] = [];
    const base = sink.writer.stats.rowsQueued;
    let queuedAtEachLook: number[] = [];
    sink.setObserver((records) => {
      batches.push(records.length);
      queuedAtEachLook.push(sink.writer.stats.rowsQueued - base);
    });
    try {
      const s = await ingestCaptureInto(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'), { sink, session: 'observed', active: 30, idle: 5 });
      assert.equal(batches.reduce((a, b) => a + b, 0), s.flows, 'each flow seen once');
      assert.equal(sink.writer.stats.rowsQueued - base, s.flows);
      // The last batch was shown to the detectors after every flow had been queued (its insert already started).
      assert.equal(queuedAtEachLook.at(-1), s.flows);
    } finally {
      sink.setObserver(null);
      queuedAtEachLook = [];
    }
  });

  it('a capture\'s end holds back at most two writer blocks of flows from the detectors', async () => {
    // 9,000 one-packet UDP flows, all still open when the capture ends: five batches handed over at its end.
    const frames = Array.from({ length: 9000 }, (_, i) => ({
      ts: 1_700_000_000_000 + i,
      data: ether({ type: 0x0800, payload: ipv4({ src: `10.7.${i >> 8}.${i & 255}`, dst: '10.9.9.9', proto: 17, payload: udp(1024 + (i % 50000), 5000) }) }),
    }));
    const { dir, cleanup: rm } = tmpDir();
    const file = join(dir, 'many-open-flows.pcap');
    writeFileSync(file, pcapFile(frames));
    const block = 3000;
    const limit = 2 * block;
    const small = createFlowSink({ store, config: { ...defaultConfig, writer: { ...defaultConfig.writer, batchRows: block } },
      log: pino({ level: 'silent' }), metrics: createCollectorMetrics() });
    let seen = 0;
    const heldAtLook: number[] = [];
    small.setObserver((records) => {
      heldAtLook.push(small.writer.stats.rowsQueued - seen); // queued, not yet shown to the detectors (this batch too)
      seen += records.length;
    });
    try {
      const s = await ingestCaptureInto(file, { sink: small, session: 'many-open' });
      assert.equal(s.flows, 9000);
      assert.equal(seen, 9000, 'each flow seen once');
      assert.ok(Math.max(...heldAtLook) <= limit, `held back ${Math.max(...heldAtLook)} rows (limit ${limit})`);
      assert.ok(heldAtLook.at(-1)! > 0, 'the last batch was queued before the detectors saw it');
    } finally {
      await small.close();
      rm();
    }
  });

  it('a damaged stream: the flows before the damage, the error with its offset', async () => {
    const cut = readFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap')).subarray(0, 10_000);
    const s = await ingestCaptureInto((async function* () { yield cut; })(), { sink, name: 'cut-stream.pcap' });
    await sink.writer.flush();
    assert.equal(s.complete, false);
    assert.equal(s.errors[0].code, 'truncated');
    assert.ok(s.errors[0].offset > 0 && s.errors[0].offset < 10_000);
    const [r] = await store.queryRows<Record<string, number>>("SELECT count() AS n FROM flows WHERE capture = 'cut-stream.pcap'");
    assert.equal(Number(r.n), s.flows);
    assert.ok(s.packets > 10 && s.flows > 5);
  });

  it('PcapService.ingest hands every packet and its decoding to onPacket, in capture order (the IDS packet detectors)', async () => {
    const ps = new PcapService({ sink, config: { ...defaultConfig.pcap }, uploadDir: '/nonexistent', log: pino({ level: 'silent' }) });
    const seen: Array<{ offset: number; kind: string; caplen: number }> = [];
    const s = await ps.ingest(join(TESTDATA, 'ids/zeek/erspanII.pcap'), {
      session: 'on-packet',
      onPacket: (p, d) => seen.push({ offset: p.offset, kind: d.kind, caplen: p.data.length }),
    });
    assert.equal(seen.length, s.packets);
    assert.ok(seen.every((x, i) => x.kind === 'ip' && x.caplen > 0 && (i === 0 || x.offset > seen[i - 1].offset)));
    const [r] = await store.queryRows<{ n: number }>("SELECT count() AS n FROM flows WHERE capture = 'on-packet'");
    assert.equal(Number(r.n), s.flows, 'flows stored as without the hook');
  });

  it('captureFacts: nothing peeled off gives empty facts', async () => {
    assert.deepEqual(captureFacts({ encap: null, fragments: 2, interfaceId: 0 }), {
      encap: '', outerSrc: '', outerDst: '', outerVlan: 0, innerVlan: 0, mirrorSession: 0, mirrorIndex: 0, greKey: 0, fragments: 2,
    });
    await assert.rejects(ingestCaptureInto('x', { sink, active: 0 }), /active timeout must be a positive/);
  });
});
