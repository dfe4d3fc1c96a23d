// The drop folder on its own (a recording ingest instead of the daemon): a file is taken once it stops growing,
// ingested once, moved to done/ or failed/ (or left and remembered), not again after a restart, and hidden or
// partial files are left alone.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DropFolder } from '../../src/pcap/dropFolder.ts';
import type { PcapSummary } from '../../src/pcap/pcapService.ts';
import { TESTDATA, tmpDir } from './tools.ts';

const log = pino({ level: 'silent' });

function summary(path: string, complete = true): PcapSummary {
  return {
    capture: path, name: path, session: null, format: 'pcap', compressed: false, fileBytes: 1, packets: 1, bytes: 1, flows: 1,
    malformed: {}, skipped: {}, byEncap: {}, fragments: { total: 0, first: 0, nonFirst: 0, attributed: 0, orphaned: 0, dropped: 0 },
    evicted: 0, errors: complete ? [] : [{ code: 'truncated', offset: 24, message: 'truncated pcap at offset 24' }], complete,
    activeTimeout: 300, idleTimeout: 60, elapsedMs: 1,
  };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function folder(dir: string, state: string, afterIngest: 'move' | 'mark', seen: string[], sizes: number[] = []) {
  return new DropFolder({
    dir, stateFile: state, afterIngest, log, scanMs: 100, stableMs: 150,
    ingest: async (p) => {
      seen.push(p);
      const data = readFileSync(p);
      sizes.push(data.length);
      return summary(p, data.readUInt32LE(0) === 0xa1b2c3d4 && data.length > 24);
    },
  });
}

describe('drop folder', () => {
  it('move: ingests a copied file once, to done/; a damaged one to failed/; not again after a restart', async () => {
    const { dir, cleanup } = tmpDir();
    const watch = join(dir, 'watch');
    const state = join(dir, 'pcap-done.json');
    try {
      const seen: string[] = [];
      let f = folder(watch, state, 'move', seen);
      await f.start();
      copyFileSync(join(TESTDATA, 'ids/zeek/erspanII.pcap'), join(watch, 'a.pcap'));
      writeFileSync(join(watch, 'bad.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]));
      writeFileSync(join(watch, '.hidden.pcap'), 'x');
      writeFileSync(join(watch, 'copying.pcap.part'), 'x');
      await until(() => seen.length === 2);
      await f.idle();
      await until(() => existsSync(join(watch, 'done', 'a.pcap')) && existsSync(join(watch, 'failed', 'bad.pcap')));
      assert.deepEqual(seen.map((p) => p.split('/').pop()).sort(), ['a.pcap', 'bad.pcap']);
      assert.deepEqual(readdirSync(watch).sort(), ['.hidden.pcap', 'copying.pcap.part', 'done', 'failed']);
      const mem = JSON.parse(readFileSync(state, 'utf8')).files;
      assert.equal(mem[join(watch, 'a.pcap')].result.complete, true);
      assert.equal(mem[join(watch, 'a.pcap')].movedTo, join(watch, 'done', 'a.pcap'));
      assert.equal(mem[join(watch, 'bad.pcap')].result.errors[0].offset, 24);
      await f.close();

      // Restart; a sync job puts the same file back (same size and mtime): remembered, not ingested again.
      f = folder(watch, state, 'move', seen);
      await f.start();
      copyFileSync(join(watch, 'done', 'a.pcap'), join(watch, 'a.pcap'));
      const m = mem[join(watch, 'a.pcap')].mtimeMs / 1000;
      utimesSync(join(watch, 'a.pcap'), m, m);
      await new Promise((r) => setTimeout(r, 600));
      await f.idle();
      assert.equal(seen.length, 2);
      // A different capture under a used name is new: ingested, and moved beside the first one.
      copyFileSync(join(TESTDATA, 'ids/zeek/erspanIII.pcap'), join(watch, 'a.pcap'));
      await until(() => seen.length === 3);
      await until(() => existsSync(join(watch, 'done', 'a-1.pcap')));
      await f.close();
    } finally {
      cleanup();
    }
  });

  it('waits until a file stops growing', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const seen: string[] = [];
      const sizes: number[] = [];
      const f = folder(dir, join(dir, '..', `${dir.split('/').pop()}-state.json`), 'mark', seen, sizes);
      await f.start();
      const full = readFileSync(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'));
      const p = join(dir, 'growing.pcap');
      writeFileSync(p, full.subarray(0, 1000));
      for (let off = 1000; off < full.length; off += 4000) {
        await new Promise((r) => setTimeout(r, 60));
        appendFileSync(p, full.subarray(off, Math.min(full.length, off + 4000)));
      }
      await until(() => seen.length === 1);
      assert.deepEqual(sizes, [full.length], 'read once, whole');
      await f.close();
    } finally {
      cleanup();
    }
  });

  it('mark: the file stays, is remembered, and a restart does not read it again', async () => {
    const { dir, cleanup } = tmpDir();
    const watch = join(dir, 'watch');
    const state = join(dir, 'pcap-done.json');
    try {
      const seen: string[] = [];
      let f = folder(watch, state, 'mark', seen);
      await f.start();
      copyFileSync(join(TESTDATA, 'ids/zeek/erspanII.pcap'), join(watch, 'a.pcap'));
      await until(() => seen.length === 1);
      await f.idle();
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(seen.length, 1, 'once, although it is still there');
      assert.deepEqual(readdirSync(watch), ['a.pcap']);
      await f.close();
      f = folder(watch, state, 'mark', seen);
      await f.start();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(seen.length, 1);
      assert.equal(f.remembered().get(join(watch, 'a.pcap'))?.result.packets, 1);
      await f.close();
    } finally {
      cleanup();
    }
  });
});
