// Bad input never crashes the decoders and never costs the good records around it: truncation at every
// length, broken set lengths, bad templates, unknown versions, and seeded random bytes and mutations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../helpers/prng.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeDatagram, type DecodeResult } from '../../src/decoders/decodeDatagram.ts';
import type { DecodeContext } from '../../src/decoders/decodeResult.ts';
import { TemplateCache } from '../../src/decoders/templateCache.ts';
import { SamplingTable } from '../../src/decoders/samplingTable.ts';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';
import { ipfixMessage, newContext, u16, u32 } from './datagramBuilder.ts';

const LOGSTASH = fileURLToPath(new URL('../../../../shared/testdata/netflow/logstash-codec-netflow/', import.meta.url));
/** A capture file; ipfix.dat holds three IPFIX messages back to back: its first one stands for it here. */
const dat = (f: string) => {
  const b = readFileSync(LOGSTASH + f);
  return b.readUInt16BE(0) === 10 ? b.subarray(0, b.readUInt16BE(2)) : b;
};

const KINDS = new Set(['truncated', 'bad-version', 'bad-length', 'bad-record-count', 'bad-set-length', 'bad-template', 'template-missing', 'bad-record']);

/** Real datagrams, each with the template datagrams it needs first. */
const CASES: Array<{ name: string; templates: string[]; datagram: string }> = [
  { name: 'v5 Juniper MX80', templates: [], datagram: 'netflow5_test_juniper_mx80.dat' },
  { name: 'v9 softflowd (templates + data)', templates: [], datagram: 'netflow9_test_softflowd_tpl_data.dat' },
  { name: 'v9 ASR9k sampled data', templates: ['netflow9_test_cisco_asr9k_opttpl257.dat', 'netflow9_test_cisco_asr9k_tpl260.dat'], datagram: 'netflow9_test_cisco_asr9k_data260.dat' },
  { name: 'v9 H3C variable-length strings', templates: ['netflow9_test_h3c_netstream_varstring_tpl3281.dat'], datagram: 'netflow9_test_h3c_netstream_varstring_data3281.dat' },
  { name: 'IPFIX VMware VDS', templates: ['ipfix_test_vmware_vds_tpl.dat'], datagram: 'ipfix_test_vmware_vds_data266_267.dat' },
  { name: 'IPFIX with options and sysUpTime times', templates: [], datagram: 'ipfix.dat' },
];

/** A context whose caches start from a snapshot, so each decode sees the same state. */
function contextFrom(snapshot: unknown): DecodeContext {
  return newContext({ templates: TemplateCache.fromJSON(snapshot), sampling: new SamplingTable() });
}

function primed(c: typeof CASES[number]): { snapshot: unknown; sampling: unknown } {
  const ctx = newContext();
  for (const t of c.templates) decodeDatagram(dat(t), ctx);
  return { snapshot: JSON.parse(JSON.stringify(ctx.templates)), sampling: JSON.parse(JSON.stringify(ctx.sampling)) };
}

function decodeWith(c: typeof CASES[number], state: ReturnType<typeof primed>, buf: Uint8Array): DecodeResult {
  const ctx = contextFrom(state.snapshot);
  ctx.sampling = SamplingTable.fromJSON(state.sampling);
  return decodeDatagram(buf, ctx);
}

/** Every value sane: a read past the end of the buffer would show as NaN or "undefined". */
function assertSane(res: DecodeResult, len: number, where: string): void {
  for (const e of res.errors) {
    assert.ok(KINDS.has(e.kind), `${where}: error kind ${e.kind}`);
    assert.ok(e.message.length > 0 && e.offset <= len, `${where}: error says where (${e.message})`);
    assert.doesNotMatch(e.message, /internal decoder error/, where);
  }
  for (const r of res.records) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'number') assert.ok(Number.isFinite(v), `${where}: ${k} is ${v}`);
      else assert.equal(typeof v, 'string', `${where}: ${k}`);
      if (typeof v === 'string') assert.doesNotMatch(v, /undefined|NaN/, `${where}: ${k} = ${v}`);
    }
  }
}

function assertPrefix(records: FlowRecord[], full: FlowRecord[], where: string): void {
  assert.ok(records.length <= full.length, `${where}: no records beyond the full decode`);
  records.forEach((r, i) => assert.deepEqual(r, full[i], `${where}: record ${i + 1}`));
}

describe('bad input', () => {
  for (const c of CASES) {
    it(`${c.name}: truncated at every length, keeps the whole sets before the cut and reports it`, () => {
      const state = primed(c);
      const buf = dat(c.datagram);
      const full = decodeWith(c, state, buf);
      assert.deepEqual(full.errors, [], 'the untouched datagram is clean');
      assert.ok(full.records.length > 0);
      // The records of sets that end before the cut, from the datagram's own set boundaries.
      const version = buf.readUInt16BE(0);
      const boundaries: number[] = version === 9 ? [20] : [];
      if (version === 9 || version === 10) {
        for (let o = version === 9 ? 20 : 16; o + 4 <= buf.length;) {
          const l = buf.readUInt16BE(o + 2);
          if (l < 4) break;
          o += l;
          boundaries.push(o);
        }
      }
      for (let len = 0; len < buf.length; len++) {
        const where = `${c.datagram} cut at ${len}`;
        const res = decodeWith(c, state, buf.subarray(0, len));
        assertSane(res, len, where);
        assertPrefix(res.records, full.records, where);
        // v9 has no message length: a cut right after a flowset, or leaving fewer than 4 zero bytes (which
        // exporters use as padding), looks like a whole datagram.
        const lastWhole = Math.max(...boundaries.filter((b) => b <= len), 0);
        const looksWhole = version === 9 && len >= 20 && len - lastWhole < 4 && buf.subarray(lastWhole, len).every((x) => x === 0);
        if (!looksWhole) assert.ok(res.errors.length > 0, `${where}: the cut is reported`);
        if (version === 5 && len >= 24) assert.equal(res.records.length, Math.floor((len - 24) / 48), `${where}: whole records kept`);
        if (version === 9 || version === 10) {
          const whole = boundaries.filter((b) => b <= len).length - (version === 9 ? 1 : 0);
          const expected = decodeWith(c, state, rebuildSets(buf, whole)).records.length;
          assert.equal(res.records.length, expected, `${where}: the records of the ${whole} whole sets`);
        }
      }
    });
  }

  for (const c of CASES.filter((x) => x.datagram !== 'netflow5_test_juniper_mx80.dat')) {
    it(`${c.name}: a broken set length loses only that set and what follows`, () => {
      const state = primed(c);
      const buf = dat(c.datagram);
      const full = decodeWith(c, state, buf);
      const version = buf.readUInt16BE(0);
      let index = 0;
      for (let o = version === 9 ? 20 : 16; o + 4 <= buf.length; index++) {
        const l = buf.readUInt16BE(o + 2);
        if (l < 4) break;
        const before = decodeWith(c, state, rebuildSets(buf, index)).records.length;
        for (const bad of [0, 1, 3, l - 1, l + 1, buf.length - o + 4, 65535]) {
          const m = Buffer.from(buf);
          m.writeUInt16BE(bad & 0xffff, o + 2);
          const where = `${c.datagram} set ${index + 1} length ${l} -> ${bad}`;
          const res = decodeWith(c, state, m);
          assertSane(res, m.length, where);
          assert.ok(res.records.length >= before, `${where}: the ${before} records of earlier sets survive`);
          res.records.slice(0, before).forEach((r, i) => assert.deepEqual(r, full.records[i], where));
          if (bad < 4 || bad > buf.length - o) assert.ok(res.errors.length > 0, `${where}: reported`);
        }
        o += l;
      }
    });
  }

  it('rejects IPFIX templates with huge field counts, scope counts beyond the fields, or a field list past the set', () => {
    const ctx = newContext();
    const H = { exportTime: 1, sequence: 0, domain: 0 };
    const huge = Buffer.concat([u16(2), u16(12), u16(256), u16(65535), u16(7), u16(2)]);
    const longer = Buffer.concat([u16(2), u16(16), u16(257), u16(4), u16(7), u16(2), u16(11), u16(2)]);
    const scope = Buffer.concat([u16(3), u16(14), u16(258), u16(1), u16(2), u16(7), u16(2)]);
    const penCut = Buffer.concat([u16(2), u16(12), u16(259), u16(1), u16(0x8000 | 880), u16(1)]);
    const good = Buffer.concat([u16(2), u16(12), u16(260), u16(1), u16(7), u16(2)]);
    const res = decodeDatagram(ipfixMessage(H, [huge, longer, scope, penCut, good, Buffer.concat([u16(260), u16(6), u16(99)])]), ctx);
    assert.deepEqual(res.errors.map((e) => e.kind), ['bad-template', 'bad-template', 'bad-template', 'bad-template']);
    assert.deepEqual(res.records.map((r) => r.srcPort), [99]);
  });

  it('reports unknown versions and datagrams too short to have one', () => {
    for (const v of [0, 1, 6, 8, 11, 0xffff]) {
      const res = decodeDatagram(Buffer.concat([u16(v), u32(0), u32(0)]), newContext());
      assert.deepEqual(res.errors.map((e) => e.kind), ['bad-version']);
      assert.equal(res.version, v);
    }
    assert.deepEqual(decodeDatagram(Buffer.alloc(1), newContext()).errors.map((e) => e.kind), ['truncated']);
    assert.deepEqual(decodeDatagram(new Uint8Array(0), newContext()).errors.map((e) => e.kind), ['truncated']);
  });

  it('survives seeded random bytes and random mutations of real datagrams, with bounded memory', () => {
    const rand = prng(0x5eed);
    const templates = new TemplateCache({ maxPendingSets: 64, maxPendingBytes: 64 * 1024 });
    const ctx = newContext({ templates });
    const seeds = CASES.flatMap((c) => [...c.templates, c.datagram]).map(dat);
    for (const s of seeds) decodeDatagram(s, ctx);
    let records = 0, errors = 0;
    for (let i = 0; i < 6000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.alloc(Math.floor(rand() * 1600));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
        if (buf.length >= 2 && i % 3 !== 0) buf.writeUInt16BE([5, 7, 9, 10][Math.floor(rand() * 4)], 0);
      } else {
        buf = Buffer.from(seeds[Math.floor(rand() * seeds.length)]);
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      }
      let res: DecodeResult;
      try {
        res = decodeDatagram(buf, { ...ctx, receivedMs: ctx.receivedMs + i });
      } catch (e) {
        assert.fail(`iteration ${i} threw ${(e as Error).stack}`);
      }
      assertSane(res, buf.length, `iteration ${i}`);
      records += res.records.length;
      errors += res.errors.length;
    }
    assert.ok(errors > 1000, `errors were reported (${errors})`);
    assert.ok(records > 0, 'mutated datagrams still yield records');
    const st = templates.stats();
    assert.ok(st.pendingSets <= 64 && st.pendingBytes <= 64 * 1024, `held sets stay bounded (${st.pendingSets}, ${st.pendingBytes} bytes)`);
  });
});

/** The datagram with only its first `n` sets (IPFIX length fixed up). */
function rebuildSets(buf: Buffer, n: number): Buffer {
  const version = buf.readUInt16BE(0);
  let o = version === 9 ? 20 : 16;
  for (let i = 0; i < n; i++) o += buf.readUInt16BE(o + 2);
  const out = Buffer.from(buf.subarray(0, o));
  if (version === 10) out.writeUInt16BE(out.length, 2);
  return out;
}

