// The reader following a file that is still being written (an upload spooled to disk): the same packets as reading
// the finished file, whatever the write sizes; a writer that fails stops the reader with an error after the packets
// written; formats the stream path reads (gzip) wait for the whole file.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CaptureError, readCapture, type GrowingFile } from '../../src/pcap/captureReader.ts';
import { TESTDATA, tmpDir } from './tools.ts';

class Writer implements GrowingFile {
  state: 'writing' | 'done' | Error = 'writing';
  written = 0;
  private waiters: Array<() => void> = [];
  constructor(readonly expectedSize: number | null) {}
  wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  set(state: GrowingFile['state']): void {
    this.state = state;
    for (const w of this.waiters.splice(0)) w();
  }
}

async function packets(file: string, follow?: GrowingFile): Promise<{ ts: number[]; error: CaptureError | null }> {
  const ts: number[] = [];
  try {
    for await (const p of readCapture(file, { follow, chunkBytes: 4096 })) ts.push(p.ts);
    return { ts, error: null };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { ts, error: e };
  }
}

/** Writes `data` to `file` in pieces of odd sizes, a few ms apart, telling `w` after each; then `end`. */
async function trickle(file: string, data: Uint8Array, w: Writer, end: GrowingFile['state'], upTo = data.length): Promise<void> {
  let off = 0;
  for (let i = 0; off < upTo; i++) {
    const n = Math.min(upTo - off, [1, 3, 700, 5000, 13, 20000][i % 6]);
    appendFileSync(file, data.subarray(off, off + n));
    off += n;
    w.written = off;
    w.set('writing');
    if (i % 3 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  w.set(end);
}

describe('reading a capture as it is written', () => {
  for (const f of ['ids/zeek/ssh_sshguess.pcap', 'ids/generated/lo-http.pcapng']) {
    it(`${f}: the same packets as the finished file`, async () => {
      const { dir, cleanup } = tmpDir();
      try {
        const data = readFileSync(join(TESTDATA, f));
        const file = join(dir, 'spool');
        writeFileSync(file, new Uint8Array(0)); // the spool exists (empty) before anyone reads it
        const w = new Writer(data.length);
        const [got] = await Promise.all([packets(file, w), trickle(file, data, w, 'done')]);
        const want = await packets(join(TESTDATA, f));
        assert.equal(got.error, null);
        assert.deepEqual(got.ts, want.ts);
      } finally {
        cleanup();
      }
    });
  }

  it('a writer that fails: the packets written, then the error with the offset', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const data = readFileSync(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'));
      const file = join(dir, 'spool');
      writeFileSync(file, new Uint8Array(0)); // the spool exists (empty) before anyone reads it
      const w = new Writer(data.length);
      const [got] = await Promise.all([packets(file, w), trickle(file, data, w, new Error('the upload was interrupted'), 30_000)]);
      assert.equal(got.error?.code, 'io');
      assert.match(got.error!.message, /the upload was interrupted \(after 30000 bytes\)/);
      assert.ok(got.ts.length > 50);
    } finally {
      cleanup();
    }
  });

  it('gzip: waits for the whole file, then reads it', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const plain = readFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap'));
      const file = join(dir, 'spool');
      writeFileSync(file, new Uint8Array(0)); // the spool exists (empty) before anyone reads it
      const w = new Writer(null);
      const [got] = await Promise.all([packets(file, w), trickle(file, gzipSync(plain), w, 'done')]);
      assert.equal(got.error, null);
      assert.equal(got.ts.length, 136);
    } finally {
      cleanup();
    }
  });
});
