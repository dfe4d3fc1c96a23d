// The template cache: persistence (toJSON/fromJSON), per-exporter counts, expiry, and the bounded buffer of
// data sets that arrive before their template.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeDatagram } from '../../src/decoders/decodeDatagram.ts';
import { TemplateCache, compileTemplate } from '../../src/decoders/templateCache.ts';
import { SamplingTable } from '../../src/decoders/samplingTable.ts';
import { dataSet, ipfixMessage, ipfixTemplateSet, newContext, u16, u32 } from './datagramBuilder.ts';

const LOGSTASH = fileURLToPath(new URL('../../../../shared/testdata/netflow/logstash-codec-netflow/', import.meta.url));
const dat = (f: string) => readFileSync(LOGSTASH + f);
const H = { exportTime: 1_700_000_000, sequence: 1, domain: 0 };

/** The sets of a v9 (header 20) or IPFIX (header 16) datagram. */
function splitSets(b: Buffer): { header: Buffer; sets: Array<{ id: number; bytes: Buffer }> } {
  const headerLen = b.readUInt16BE(0) === 9 ? 20 : 16;
  const sets: Array<{ id: number; bytes: Buffer }> = [];
  for (let o = headerLen; o + 4 <= b.length;) {
    const len = b.readUInt16BE(o + 2);
    if (len < 4) break;
    sets.push({ id: b.readUInt16BE(o), bytes: b.subarray(o, o + len) });
    o += len;
  }
  return { header: b.subarray(0, headerLen), sets };
}
function rebuild(header: Buffer, sets: Buffer[]): Buffer {
  const out = Buffer.concat([header, ...sets]);
  if (out.readUInt16BE(0) === 10) out.writeUInt16BE(out.length, 2);
  return out;
}

describe('template cache', () => {
  it('round-trips through JSON: a restored cache decodes data exactly like the original', () => {
    const a = newContext();
    decodeDatagram(dat('ipfix_test_vmware_vds_tpl.dat'), a);
    const restored = TemplateCache.fromJSON(JSON.parse(JSON.stringify(a.templates)));
    assert.equal(restored.templateCount(a.exporterKey), a.templates.templateCount(a.exporterKey));
    const b = newContext({ templates: restored, sampling: new SamplingTable() });
    for (const f of ['ipfix_test_vmware_vds_data264.dat', 'ipfix_test_vmware_vds_data266.dat', 'ipfix_test_vmware_vds_data266_267.dat']) {
      const ra = decodeDatagram(dat(f), a), rb = decodeDatagram(dat(f), b);
      assert.ok(ra.records.length > 0, f);
      assert.deepEqual(rb.records, ra.records, f);
      assert.deepEqual(rb.errors, []);
    }
  });

  it('persists options templates and the systemInitTime learned from options data', () => {
    // ipfix.dat: data templates, an options template whose data carries systemInitTimeMilliseconds, and data
    // sets with sysUpTime-relative times.
    const stream = dat('ipfix.dat');
    const full = stream.subarray(0, stream.readUInt16BE(2)); // its first message
    const a = newContext();
    const ra = decodeDatagram(full, a);
    const { header, sets } = splitSets(full);
    const dataOnly = rebuild(header, sets.filter((s) => s.id >= 1024).map((s) => s.bytes));
    const b = newContext({ templates: TemplateCache.fromJSON(JSON.parse(JSON.stringify(a.templates.toJSON()))) });
    const rb = decodeDatagram(dataOnly, b);
    assert.ok(rb.records.length > 0);
    assert.deepEqual(rb.records.map((r) => [r.srcAddr, r.first, r.last]), ra.records.map((r) => [r.srcAddr, r.first, r.last]));
  });

  it('restores nothing from garbage and skips templates that do not compile', () => {
    assert.equal(TemplateCache.fromJSON(null).stats().templates, 0);
    assert.equal(TemplateCache.fromJSON({ domains: 'x' }).stats().templates, 0);
    const c = TemplateCache.fromJSON({
      format: 'dvflow-templates/1',
      domains: [
        { exporterKey: 'e', version: 10, domain: 1, sysInitMs: -1, templates: [
          { id: 256, options: false, scopeCount: 0, receivedMs: 0, fields: [[7, 2, 0]] },
          { id: 257, options: false, scopeCount: 0, receivedMs: 0, fields: [] },
          { id: 12, options: false, scopeCount: 0, receivedMs: 0, fields: [[7, 2, 0]] },
          { id: 258, options: false, scopeCount: 0, receivedMs: 0, fields: [[7, 70000, 0]] },
        ] },
        { exporterKey: 'e', version: 4, domain: 1, templates: [] },
      ],
    });
    assert.equal(c.templateCount('e'), 1);
    assert.ok(c.get('e', 10, 1, 256));
  });

  it('counts templates per exporter key across versions and domains', () => {
    const c = new TemplateCache();
    const def = (id: number) => ({ id, options: false, scopeCount: 0, fields: [{ id: 7, pen: 0, length: 2 }] });
    c.define('a', 9, 0, def(256), 0); c.define('a', 9, 0, def(257), 0); c.define('a', 10, 5, def(256), 0); c.define('b', 9, 0, def(256), 0);
    assert.equal(c.templateCount('a'), 3);
    assert.equal(c.templateCount('b'), 1);
    assert.equal(c.templateCount('c'), 0);
    c.forget('a');
    assert.equal(c.templateCount('a'), 0);
    assert.equal(typeof c.define('a', 9, 0, { ...def(258), fields: [] }, 0), 'string', 'a template without fields is refused');
  });

  it('expires templates not refreshed within the given age (time is passed in)', () => {
    const c = new TemplateCache();
    const def = (id: number) => ({ id, options: false, scopeCount: 0, fields: [{ id: 7, pen: 0, length: 2 }] });
    c.define('a', 10, 0, def(256), 1000);
    c.define('a', 10, 0, def(257), 5000);
    assert.deepEqual(c.expire(6000, 2000), { templates: 1, pending: 0 });
    assert.equal(c.get('a', 10, 0, 256), undefined);
    assert.ok(c.get('a', 10, 0, 257));
    assert.deepEqual(c.expire(6000), { templates: 0, pending: 0 }, 'without an age, templates stay');
  });

  it('refuses templates beyond maxTemplatesPerDomain with an error', () => {
    const ctx = newContext({ templates: new TemplateCache({ maxTemplatesPerDomain: 2 }) });
    const res = decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([256, 257, 258].map((id) => ({ id, fields: [{ id: 7, length: 2 }] })))]), ctx);
    assert.deepEqual(res.errors.map((e) => e.kind), ['bad-template']);
    assert.equal(ctx.templates.templateCount(ctx.exporterKey), 2);
  });

  it('does not grow with datagrams from ever new domains that store nothing', () => {
    const templates = new TemplateCache({ maxPendingSets: 10 });
    const ctx = newContext({ templates });
    for (let i = 0; i < 1000; i++) {
      decodeDatagram(ipfixMessage({ ...H, domain: i }, []), ctx);
      decodeDatagram(ipfixMessage({ ...H, domain: 5000 + i }, [dataSet(256, [u16(i)])]), ctx);
    }
    assert.equal(templates.stats().domains, 10, 'only the domains of the 10 held sets remain');
    templates.expire(ctx.receivedMs + 10 * 60_000);
    assert.deepEqual([templates.stats().domains, templates.stats().pendingSets], [0, 0]);
    assert.deepEqual(templates.exporterKeys(), []);
  });

  it('compiles fixed-length templates to the active fields with their offsets', () => {
    const t = compileTemplate({ id: 300, options: false, scopeCount: 0, fields: [
      { id: 8, pen: 0, length: 4 }, { id: 95, pen: 0, length: 4 }, { id: 7, pen: 0, length: 2 }, { id: 210, pen: 0, length: 2 },
    ] }, 10, 0);
    assert.ok(typeof t !== 'string');
    assert.equal(t.fixedLength, 12);
    assert.deepEqual([...t.activeOffsets], [0, 8], 'unknown (95) and padding (210) fields are not visited');
    assert.deepEqual(t.unknown, ['0:95']);
  });
});

describe('data sets that arrive before their template', () => {
  it('are held and decoded, with their own header times, when the template arrives (real capture)', () => {
    // The capture carries 2 options templates, templates 266 and 292, and a data set of each.
    const file = dat('netflow9_test_unknown_tpl266_292_data.dat');
    const { header, sets } = splitSets(file);
    assert.deepEqual(sets.map((s) => s.id), [1, 1, 0, 0, 266, 292]);
    const reference = decodeDatagram(file, newContext());
    assert.equal(reference.records.length, 2);

    const ctx = newContext();
    const dataOnly = rebuild(header, sets.filter((s) => s.id >= 256).map((s) => s.bytes));
    const held = decodeDatagram(dataOnly, ctx);
    assert.deepEqual([held.records.length, held.pendingHeld, held.errors.length], [0, 2, 0]);
    // The templates come a minute later: the held sets must keep their own datagram's sysUptime/unix secs.
    const later = Buffer.from(header);
    later.writeUInt32BE(header.readUInt32BE(4) + 60_000, 4);
    later.writeUInt32BE(header.readUInt32BE(8) + 60, 8);
    const released = decodeDatagram(rebuild(later, sets.filter((s) => s.id < 256).map((s) => s.bytes)), { ...ctx, receivedMs: ctx.receivedMs + 60_000 });
    assert.equal(released.pendingDecoded, 2);
    assert.deepEqual(released.records, reference.records, 'same records as when the templates came first');
    assert.equal(ctx.templates.stats().pendingSets, 0);
  });

  it('expire when their template never comes, and are counted', () => {
    const file = dat('netflow9_test_unknown_tpl266_292_data.dat');
    const { header, sets } = splitSets(file);
    const templates = new TemplateCache({ pendingMaxAgeMs: 30_000 });
    const ctx = newContext({ templates });
    decodeDatagram(rebuild(header, sets.filter((s) => s.id >= 256).map((s) => s.bytes)), ctx);
    assert.equal(templates.stats().pendingSets, 2);
    assert.deepEqual(templates.expire(ctx.receivedMs + 29_000), { templates: 0, pending: 0 });
    assert.deepEqual(templates.expire(ctx.receivedMs + 31_000), { templates: 0, pending: 2 });
    assert.equal(templates.stats().pendingExpired, 2);
    const late = decodeDatagram(rebuild(header, sets.filter((s) => s.id < 256).map((s) => s.bytes)), ctx);
    assert.equal(late.records.length, 0);
  });

  it('are bounded by count and bytes: the oldest are dropped and counted', () => {
    const templates = new TemplateCache({ maxPendingSets: 3, maxPendingBytes: 1000 });
    const ctx = newContext({ templates });
    let dropped = 0;
    for (let i = 1; i <= 5; i++) dropped += decodeDatagram(ipfixMessage(H, [dataSet(256, [u16(i)])]), { ...ctx, receivedMs: ctx.receivedMs + i }).pendingDropped;
    assert.equal(dropped, 2);
    assert.equal(templates.stats().pendingDropped, 2);
    const res = decodeDatagram(ipfixMessage(H, [ipfixTemplateSet([{ id: 256, fields: [{ id: 7, length: 2 }] }])]), ctx);
    assert.deepEqual(res.records.map((r) => r.srcPort), [3, 4, 5], 'the three newest survive, oldest first');
    assert.deepEqual(res.records.map((r) => r.timeReceived - ctx.receivedMs), [3, 4, 5]);

    const big = decodeDatagram(ipfixMessage(H, [dataSet(300, [Buffer.alloc(600)])]), ctx);
    assert.equal(big.pendingHeld, 1);
    const bigger = decodeDatagram(ipfixMessage(H, [dataSet(301, [Buffer.alloc(600)])]), ctx);
    assert.equal(bigger.pendingDropped, 1, 'the byte bound drops the older 600-byte set');
    const huge = decodeDatagram(ipfixMessage(H, [dataSet(302, [Buffer.alloc(1200)])]), ctx);
    assert.deepEqual(huge.errors.map((e) => e.kind), ['template-missing'], 'a set larger than the buffer cannot be held');
  });

  it('held options data teaches its sampling rate before held flows are decoded', () => {
    const ctx = newContext();
    const opts = { id: 400, scopeCount: 1, fields: [{ id: 302, length: 4 }, { id: 305, length: 4 }, { id: 306, length: 4 }] };
    decodeDatagram(ipfixMessage(H, [dataSet(256, [Buffer.concat([u32(5), u32(100)])]), dataSet(400, [Buffer.concat([u32(5), u32(1), u32(9)])])]), ctx);
    const res = decodeDatagram(ipfixMessage(H, [
      ipfixTemplateSet([{ id: 256, fields: [{ id: 302, length: 4 }, { id: 1, length: 4 }] }]),
      Buffer.concat([u16(3), u16(4 + 6 + 12), u16(opts.id), u16(3), u16(1), u16(302), u16(4), u16(305), u16(4), u16(306), u16(4)]),
    ]), ctx);
    assert.deepEqual(res.records.map((r) => [r.samplingRate, r.bytes]), [[10, 1000]]);
  });
});
