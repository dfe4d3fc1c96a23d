// File in, records out: batches, progress, the summary, and a damaged file that still yields its good flows.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { FlowRecord } from '../../src/flow/flowRecord.ts';
import { ingestCapture, type IngestProgress } from '../../src/pcap/ingestCapture.ts';
import { TESTDATA, tmpDir } from './tools.ts';

describe('ingestCapture', () => {
  it('sends records in batches, reports progress and sums up the capture', async () => {
    const batches: number[] = [];
    const records: FlowRecord[] = [];
    const progress: IngestProgress[] = [];
    const summary = await ingestCapture(join(TESTDATA, 'ids/zeek/erspan-multi.pcap'), {
      batchSize: 25, exporter: 'mirror-1', progressEveryPackets: 100,
      onRecords: async (rs) => {
        batches.push(rs.length);
        records.push(...rs);
        await new Promise((r) => setImmediate(r));
      },
      onProgress: (p) => progress.push(p),
    });
    assert.equal(summary.capture, 'erspan-multi.pcap');
    assert.equal(summary.format, 'pcap');
    assert.equal(summary.complete, true);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.packets, 287);
    assert.equal(summary.flows, records.length);
    assert.equal(summary.bytes, records.reduce((n, r) => n + r.bytes, 0));
    assert.deepEqual(summary.skipped, { arp: 10 });
    assert.equal(summary.byEncap.gre, 238);
    assert.deepEqual(summary.fragments, { total: 55, first: 16, nonFirst: 39, attributed: 39, orphaned: 0, dropped: 0 });
    assert.ok(batches.slice(0, -1).every((n) => n === 25) && batches.at(-1)! <= 25);
    assert.ok(records.every((r) => r.exporter === 'mirror-1' && r.capture === 'erspan-multi.pcap' && r.source === 'pcap'));
    assert.ok(progress.length >= 2);
    assert.equal(progress.at(-1)!.packets, 287);
    assert.equal(progress.at(-1)!.bytesRead, progress.at(-1)!.totalBytes);
  });

  it('a cut capture: the flows before the cut, and the error with its offset in the summary', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const full = readFileSync(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'));
      const file = join(dir, 'cut.pcap.gz');
      writeFileSync(file, gzipSync(full.subarray(0, Math.floor(full.length * 0.6))));
      const records: FlowRecord[] = [];
      const summary = await ingestCapture(file, { onRecords: (rs) => void records.push(...rs) });
      assert.equal(summary.complete, false);
      assert.equal(summary.compressed, true);
      assert.equal(summary.errors.length, 1);
      assert.equal(summary.errors[0].code, 'truncated');
      assert.match(summary.errors[0].message, new RegExp(`offset ${summary.errors[0].offset}`));
      assert.ok(summary.packets > 200 && summary.packets < 431);
      assert.equal(records.reduce((n, r) => n + r.packets, 0), summary.packets);
    } finally {
      cleanup();
    }
  });

  it('stops when aborted, still emitting what it had', async () => {
    const ac = new AbortController();
    ac.abort();
    let n = 0;
    const summary = await ingestCapture(join(TESTDATA, 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap'), {
      signal: ac.signal, onRecords: (rs) => void (n += rs.length),
    });
    assert.equal(summary.complete, false);
    assert.equal(summary.errors[0].code, 'aborted');
    assert.ok(summary.packets > 0 && summary.packets < 37841);
    assert.equal(n, summary.flows);
  });

  it('a stream that pauses: flows that ended are handed over within a second, not when the batch fills', async () => {
    const bytes = readFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap'));
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    async function* live(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 20_000); // 92 packets, then the reader waits
      await paused;
      yield bytes.subarray(20_000);
    }
    const handed: Array<{ n: number; atEnd: boolean; whilePaused: boolean }> = [];
    let isPaused = true;
    const t0 = performance.now();
    const ingest = ingestCapture(live(), {
      capture: 'live', flowTable: { idleTimeoutMs: 1000, activeTimeoutMs: 300_000 },
      onRecords: (rs, _infos, atEnd) => void handed.push({ n: rs.length, atEnd, whilePaused: isPaused }),
    });
    while (handed.length === 0 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const waited = performance.now() - t0;
    isPaused = false;
    resume();
    const summary = await ingest;
    assert.ok(handed[0]?.whilePaused, `records handed over while the stream paused: ${JSON.stringify(handed)}`);
    assert.ok(waited < 2500, `after ${waited.toFixed(0)} ms`);
    assert.equal(handed[0].atEnd, false);
    assert.equal(handed.reduce((t, h) => t + h.n, 0), summary.flows);
    assert.equal(summary.flows, 57);
  });
});
