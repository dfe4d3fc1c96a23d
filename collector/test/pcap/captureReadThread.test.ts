// The capture-reading thread (a real worker thread): every test capture gives the same flows, flow facts and summary
// read there as read on the calling thread; damage, aborts, a stopped worker, missing files and malformed batches are
// reported as on the calling thread; the packet detectors run in the worker and their alerts come back.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/config.ts';
import { createPacketDetectorsFromConfig } from '../../src/ids/createIds.ts';
import { IdsEngine } from '../../src/ids/idsEngine.ts';
import type { AlertCandidate } from '../../src/ids/idsTypes.ts';
import { CaptureReadThread, RemoteCapture } from '../../src/pcap/captureReadThread.ts';
import { ingestCapture, readsOnThread, type IngestOptions } from '../../src/pcap/ingestCapture.ts';
import { makeCapture } from '../../../bench/makeCapture.ts';
import { tempDir } from '../helpers/peers.ts';
import { TESTDATA } from './tools.ts';
import { ether, ipv4, pcapFile, tcp, TCP, udp } from './packetBuilder.ts';

function captures(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap|gz)$/.test(e)) out.push(p);
    }
  };
  walk(join(TESTDATA, 'encap'));
  walk(join(TESTDATA, 'ids'));
  return out;
}

/** Flows (records with their flow facts) and the summary of one ingest; `thread` null: on this thread. */
async function ingest(file: string, thread: CaptureReadThread | null, o: Partial<IngestOptions> = {}) {
  const flows: unknown[] = [];
  const summary = await ingestCapture(file, {
    batchSize: 500, ...o, readThread: thread,
    onRecords: (records, infos) => {
      for (let i = 0; i < records.length; i++) flows.push({ ...records[i], info: infos[i] });
    },
  });
  return { flows, summary };
}

describe('capture-reading thread', () => {
  const thread = new CaptureReadThread();
  const dir = tempDir('dvflow-readthread-');
  after(() => thread.close());

  it('every capture in the test data: the same flows, flow facts and summary as read on the calling thread', async () => {
    const files = captures();
    assert.ok(files.length >= 50, `test captures found: ${files.length}`);
    let packets = 0;
    for (const f of files) {
      const here = await ingest(f, null);
      const there = await ingest(f, thread);
      assert.deepEqual(there, here, f);
      packets += here.summary.packets;
    }
    assert.ok(packets > 10_000, `packets compared: ${packets}`);
  });

  it('a generated capture with VLAN and GRE frames, short flows and idle timeouts: the same flows', async () => {
    const file = join(dir, 'made.pcap');
    const made = makeCapture(file, { bytes: 12_000_000, concurrentFlows: 3000, seed: 7 });
    assert.ok(made.vlan > 0 && made.gre > 0);
    const o = { flowTable: { activeTimeoutMs: 2000, idleTimeoutMs: 500 } };
    const here = await ingest(file, null, o);
    const there = await ingest(file, thread, o);
    assert.equal(there.summary.packets, made.packets);
    assert.ok(there.flows.length > 3000);
    assert.deepEqual(there, here);
    // pcap-parser hands over up to 4,096 packets at once: the worker sends them in ring-slot pieces.
    const parsed = await ingest(file, thread, { ...o, reader: { classicEngine: 'pcap-parser' } });
    assert.deepEqual(parsed, here);
  });

  it('a capture cut in the middle of a packet: the flows before the damage, the error and its offset', async () => {
    const whole = readFileSync(join(TESTDATA, 'ids', 'zeek', 'wikipedia.pcap'));
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const here = await ingest(file, null);
    const there = await ingest(file, thread);
    assert.deepEqual(there, here);
    assert.equal(there.summary.complete, false);
    assert.equal(there.summary.errors[0]?.code, 'truncated');
    assert.ok(there.summary.errors[0]!.offset > 0 && there.flows.length > 0);
  });

  it('an abort stops the read with the flows so far; the thread reads the next capture', async () => {
    const file = join(dir, 'abort.pcap');
    makeCapture(file, { bytes: 20_000_000, concurrentFlows: 2000, seed: 3 });
    const abort = new AbortController();
    const cut = await ingest(file, thread, { signal: abort.signal, progressEveryPackets: 5000, onProgress: () => abort.abort() });
    assert.equal(cut.summary.complete, false);
    assert.equal(cut.summary.errors[0]?.code, 'aborted');
    const whole = await ingest(file, thread);
    assert.ok(cut.summary.packets < whole.summary.packets);
    assert.equal(whole.summary.complete, true);
  });

  it('a missing file: the same summary, an io error naming ENOENT', async () => {
    const missing = join(dir, 'no-such.pcap');
    const here = await ingest(missing, null);
    const there = await ingest(missing, thread);
    assert.deepEqual(there, here);
    assert.equal(there.summary.errors[0]?.code, 'io');
    assert.match(there.summary.errors[0]!.message, /ENOENT/);
  });

  it('a worker stopped mid-read fails its capture clearly; the next capture starts a new worker', async () => {
    const file = join(dir, 'stop.pcap');
    makeCapture(file, { bytes: 20_000_000, concurrentFlows: 2000, seed: 5 });
    const t = new CaptureReadThread();
    let stopping: Promise<void> | null = null;
    const failed = await ingest(file, t, { progressEveryPackets: 5000, onProgress: () => { stopping ??= t.close(); } })
      .then(() => null, (e: Error) => e);
    await stopping;
    assert.match(failed?.message ?? '', /capture-reading thread was stopped/);
    const again = await ingest(file, t);
    assert.equal(again.summary.complete, true);
    await t.close();
  });

  it('a malformed batch from the worker is refused with a clear error, not read', async () => {
    const counters = { bytesRead: 0, sourceSize: null, bytesParsed: 0, format: 'pcap', compressed: false } as const;
    // More packets than the slot was given.
    const c = new RemoteCapture(1, () => {}, () => {});
    c.ring.publish(2, 3);
    c.receive({ t: 'batch', id: 1, slot: 2, n: 5, raw: null, ...counters });
    await assert.rejects(async () => { for await (const _ of c.batches()); }, /decoded batch of 5 packets announced in slot 2 of 8, which holds 3/);
    // A slot the ring does not have.
    const e = new RemoteCapture(3, () => {}, () => {});
    e.receive({ t: 'batch', id: 3, slot: 8, n: 0, raw: null, ...counters });
    await assert.rejects(async () => { for await (const _ of e.batches()); }, /in slot 8 of 8, which holds nothing/);
    // Raw frames pointing past their bytes.
    const d = new RemoteCapture(2, () => {}, () => {});
    d.receive({ t: 'batch', id: 2, slot: 0, n: 0, raw: { n: 1, bytes: new Uint8Array(4), i32: Int32Array.from([2, 60, 60, 1]) }, ...counters });
    await assert.rejects(async () => { for await (const _ of d.batches()); }, /packet 0 of a batch lies outside its 4 bytes/);
  });

  it('streams, files being written, nfpcapd flows and a caller\'s packet hook stay on the calling thread', () => {
    assert.equal(readsOnThread('/x.pcap', {}), true);
    assert.equal(readsOnThread((async function* () {})(), {}), false);
    assert.equal(readsOnThread('/x.pcap', { follow: {} }), false);
    assert.equal(readsOnThread('/x.pcap', { nfpcapdCompat: true }), false);
    assert.equal(readsOnThread('/x.pcap', { onPacket: () => {} }), false);
  });

  it('the packet detectors run in the worker: the same alerts as on the calling thread, with the capture\'s name', async () => {
    // One TCP segment with SYN and RST among ordinary UDP packets: invalid-packet reports it.
    const frames = [];
    for (let i = 0; i < 20; i++) {
      frames.push({ ts: 1_700_000_000_000 + i * 10, data: ether({ type: 0x0800, payload: ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 17, payload: udp(4000 + i, 53) }) }) });
    }
    frames.push({ ts: 1_700_000_001_000, data: ether({ type: 0x0800, payload: ipv4({ src: '10.1.0.3', dst: '10.1.0.2', proto: 6, payload: tcp(1234, 80, TCP.SYN | TCP.RST) }) }) });
    const file = join(dir, 'invalid.pcap');
    writeFileSync(file, pcapFile(frames));
    const expected: AlertCandidate[] = [];
    const { packetDetectors } = await createPacketDetectorsFromConfig(defaultConfig.ids);
    const engine = new IdsEngine([], packetDetectors, { offer: (c) => expected.push(c) });
    await ingest(file, null, { capture: 'span-a', onPacket: engine.packetHook('span-a')! });
    engine.finishCapture('span-a');

    const got: Array<{ c: AlertCandidate; capture: string }> = [];
    let counted = 0;
    const t = new CaptureReadThread({ ids: defaultConfig.ids, onAlert: (c, capture) => got.push({ c, capture }), onIdsStats: (p) => { counted += p; } });
    try {
      await ingest(file, t, { capture: 'span-a' });
    } finally {
      await t.close();
    }
    assert.equal(expected.length, 1, JSON.stringify(expected.map((a) => a.summary)));
    assert.match(expected[0]!.summary, /SYN and RST from 10\.1\.0\.3/);
    assert.deepEqual(got.map((g) => g.c), expected);
    assert.ok(got.every((g) => g.capture === 'span-a'));
    assert.equal(counted, frames.length);
  });
});
