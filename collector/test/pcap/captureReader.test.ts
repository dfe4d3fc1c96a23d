// The capture reader against tshark: packet counts, exact timestamps, interface ids and lengths for classic pcap
// (µs/ns, both byte orders, both engines), pcapng (the conformance suite in both byte orders, plus hand-made files
// with odd resolutions, offsets, sections and block types) and gzip. Then cut and corrupted files: a typed error
// naming the offset, after the packets before the damage. And memory that does not grow with the file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CaptureError, readCapture, type CapturePacket, type CaptureReaderOptions, tsFromUnits } from '../../src/pcap/captureReader.ts';
import * as B from './packetBuilder.ts';
import { TESTDATA, feedFifo, have, tmpDir, tshark } from './tools.ts';

const HAVE_TSHARK = have('tshark');

async function readAll(source: string | AsyncIterable<Uint8Array>, opts?: CaptureReaderOptions): Promise<{ packets: CapturePacket[]; error: CaptureError | null }> {
  const packets: CapturePacket[] = [];
  try {
    for await (const p of readCapture(source, opts)) packets.push(p);
    return { packets, error: null };
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    return { packets, error: err };
  }
}

const epoch = (p: CapturePacket) => (p.tsKnown ? `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}` : '');

/** tshark's packets (custom pcapng blocks show up as frames without an interface: not packets). */
function tsharkPackets(file: string) {
  return tshark(file, ['frame.time_epoch', 'frame.interface_id', 'frame.encap_type', 'frame.cap_len', 'frame.len'])
    .filter((r) => r['frame.encap_type'] !== '')
    .map((r) => ({ ts: r['frame.time_epoch'], ifId: Number(r['frame.interface_id'] || 0), caplen: Number(r['frame.cap_len']),
      len: Number(r['frame.len']) }));
}

async function checkFile(file: string, opts?: CaptureReaderOptions): Promise<void> {
  const { packets, error } = await readAll(file, opts);
  const expected = tsharkPackets(file);
  assert.equal(packets.length, expected.length, `${file}: packet count`);
  const ours = packets.map((p) => ({ ts: epoch(p), ifId: p.interfaceId, caplen: p.caplen, len: p.origLen }));
  assert.deepEqual(ours, expected, file);
  for (const p of packets) assert.equal(p.data.length, p.caplen);
  if (error) assert.equal(error.code, 'truncated', `${file}: ${error.message}`);
}

const CLASSIC = [
  ...readdirSync(join(TESTDATA, 'ids/generated')).map((f) => `ids/generated/${f}`),
  ...readdirSync(join(TESTDATA, 'ids/real-ddos')).filter((f) => /\.pcap/.test(f)).map((f) => `ids/real-ddos/${f}`),
  'ids/zeek/pcapng-multi-interface.pcapng', 'ids/zeek/erspanII.pcap', 'ids/zeek/http-qinq-0.pcap',
  'ids/suricata-verify/geneve-decoder_input.pcap', 'encap/akvorado/vlan-ipv6.pcap',
];
const CONFORMANCE = readdirSync(join(TESTDATA, 'ids/pcapng-conformance')).map((f) => `ids/pcapng-conformance/${f}`);

describe('captureReader against tshark', { skip: !HAVE_TSHARK && 'tshark not installed' }, () => {
  for (const f of [...CLASSIC, ...CONFORMANCE]) {
    it(f, async () => checkFile(join(TESTDATA, f)));
  }

  it('sniffs the magic number, not the extension (real-ddos .pcapng files that are classic pcap)', async () => {
    const r = readCapture(join(TESTDATA, 'ids/real-ddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng'));
    for await (const _ of r) break;
    assert.equal(r.format, 'pcap');
    const n = readCapture(join(TESTDATA, 'ids/generated/lo-http-nano.pcap'));
    for await (const _ of n) break;
    assert.equal(n.format, 'pcap-nsec');
  });

  it('our classic loop and pcap-parser agree packet for packet', async () => {
    for (const f of CLASSIC) {
      const file = join(TESTDATA, f);
      const a = await readAll(file, { classicEngine: 'pcap-parser' });
      const b = await readAll(file, { classicEngine: 'builtin' });
      assert.equal(a.packets.length, b.packets.length, f);
      for (let i = 0; i < a.packets.length; i++) {
        // Everything but where the bytes sit (each engine has its own buffers), then the bytes.
        const { buf: _ba, start: _sa, ...pa } = a.packets[i];
        const { buf: _bb, start: _sb, ...pb } = b.packets[i];
        assert.deepEqual(pa, pb, `${f} packet ${i}`);
        assert.deepEqual(Buffer.from(a.packets[i].data), Buffer.from(b.packets[i].data));
      }
      assert.equal(a.error?.message, b.error?.message, f);
    }
  });

  it('hand-made pcapng: resolutions, offsets, byte orders, sections, SPB, PB, custom and unknown blocks', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const frame = (n: number) => B.udp4Frame('10.0.0.1', '10.0.0.2', 1000 + n, 53, new Uint8Array(n));
      const file = join(dir, 'odd.pcapng');
      writeFileSync(file, B.pcapngFile([
        { kind: 'section', bigEndian: true },
        { kind: 'interface', iface: { linkType: 1, tsresol: 9, name: 'ns' } },
        { kind: 'interface', iface: { linkType: 1, tsresol: 0x94, name: 'pow2' } },
        { kind: 'interface', iface: { linkType: 1, tsresol: 3, tsoffset: 1000000000n } },
        { kind: 'epb', ifId: 0, units: 1700000000123456789n, data: frame(1) },
        { kind: 'epb', ifId: 1, units: (1700000000n << 20n) + 777777n, data: frame(2) },
        { kind: 'epb', ifId: 2, units: 700000000123n, data: frame(3) },
        { kind: 'raw', type: 0x00000bad, body: Buffer.from([0, 0, 0x8f, 0x74, 1, 2, 3, 4]) },
        { kind: 'raw', type: 0x1234, body: Buffer.alloc(8) },
        { kind: 'section' },
        { kind: 'interface', iface: { linkType: 1, snaplen: 40 } },
        { kind: 'spb', data: frame(30).subarray(0, 40), origLen: frame(30).length },
        { kind: 'pb', ifId: 0, units: 1700000001000001n, data: frame(4) },
        { kind: 'epb', ifId: 0, units: 1700000002000002n, data: frame(5), origLen: 1000 },
      ]));
      await checkFile(file);
      const { packets } = await readAll(file);
      assert.deepEqual(packets.map((p) => [p.section, p.interfaceId]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 0], [1, 0]]);
    } finally {
      cleanup();
    }
  });

  it('nanosecond and big-endian classic pcap written here', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const frames = [0, 1, 2].map((i) => ({ sec: 1700000000 + i, nsec: 123456789 + i, data: B.tcp4Frame('10.0.0.1', '10.0.0.2', 1, 2, 2) }));
      for (const [name, o] of [['ns-be', { nano: true, bigEndian: true }], ['ns-le', { nano: true }], ['us-be', { bigEndian: true }]] as const) {
        const file = join(dir, `${name}.pcap`);
        writeFileSync(file, B.pcapFile(frames, o));
        await checkFile(file);
        await checkFile(file, { classicEngine: 'builtin' });
      }
    } finally {
      cleanup();
    }
  });

  it('reuseBuffers and blockingReads: every batch holds the same bytes as with fresh buffers read ahead, and the read buffers are recycled', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const rnd = B.prng(5);
      const frames = Array.from({ length: 3000 }, (_, i) => ({ sec: 1700000000 + i, nsec: 0,
        data: B.udp4Frame('10.0.0.1', '10.0.0.2', i & 0xffff, 53, new Uint8Array(Math.floor(rnd() * 1400)).fill(i & 0xff)) }));
      const ngBlocks: B.NgBlock[] = [{ kind: 'section' }, { kind: 'interface', iface: { linkType: 1 } },
        ...frames.map((f) => ({ kind: 'epb' as const, ifId: 0, units: BigInt(f.sec) * 1_000_000n, data: f.data }))];
      for (const [name, bytes] of [['c.pcap', B.pcapFile(frames)], ['c.pcapng', B.pcapngFile(ngBlocks)]] as const) {
        const file = join(dir, name);
        writeFileSync(file, bytes);
        // Small reads, so records and blocks are cut by chunk ends all the time.
        const batches = async (reuseBuffers: boolean, blockingReads = false) => {
          const copies: string[] = [];
          const bufs = new Set<ArrayBufferLike>();
          for await (const batch of readCapture(file, { chunkBytes: 8192, reuseBuffers, blockingReads }).batches()) {
            // Checked when the batch is handed over, as a consumer that finishes a batch before the next one sees it.
            copies.push(batch.map((p) => `${p.tsSec}:${p.caplen}:${Buffer.from(p.data).toString('base64')}`).join(' '));
            for (const p of batch) bufs.add(p.buf.buffer);
          }
          return { copies, buffers: bufs.size };
        };
        const fresh = await batches(false);
        const reused = await batches(true);
        assert.deepEqual(reused.copies, fresh.copies, name);
        assert.equal(reused.copies.join(' ').split(' ').length, 3000);
        assert.ok(fresh.buffers > 200, `${name}: ${fresh.buffers} fresh buffers`);
        assert.ok(reused.buffers <= 8, `${name}: ${reused.buffers} buffers when recycled`);
        // Read when needed (the capture-reading thread's way): the same bytes, in two buffers taking turns.
        const blocking = await batches(true, true);
        assert.deepEqual(blocking.copies, fresh.copies, `${name}, blocking reads`);
        assert.ok(blocking.buffers <= 3, `${name}: ${blocking.buffers} buffers with blocking reads`);
        assert.deepEqual((await batches(false, true)).copies, fresh.copies, `${name}, blocking reads into fresh buffers`);
      }
    } finally {
      cleanup();
    }
  });

  it('gzip-compressed captures read like the plain ones', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      for (const f of ['ids/generated/lo-http.pcap', 'ids/generated/lo-http.pcapng', 'ids/generated/lo-http-nano.pcap']) {
        const gz = join(dir, `${f.split('/').pop()}.gz`);
        writeFileSync(gz, gzipSync(readFileSync(join(TESTDATA, f))));
        const plain = await readAll(join(TESTDATA, f));
        const zipped = await readAll(gz);
        assert.equal(zipped.error, null);
        assert.deepEqual(zipped.packets.map(epoch), plain.packets.map(epoch));
        const r = readCapture(gz);
        for await (const _ of r);
        assert.equal(r.compressed, true);
      }
    } finally {
      cleanup();
    }
  });
});

/** Offsets of each record (classic pcap) or block (pcapng), walked independently of the reader. */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  if (buf.readUInt32BE(0) === 0x0a0d0d0a) {
    const le = buf.readUInt32LE(8) === 0x1a2b3c4d;
    for (let o = 0; o + 8 <= buf.length;) {
      const type = le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      if (type === 6 || type === 3 || type === 2) out.push(o);
      o += le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4);
    }
    return out;
  }
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  for (let o = 24; o + 16 <= buf.length;) {
    out.push(o);
    o += 16 + (le ? buf.readUInt32LE(o + 8) : buf.readUInt32BE(o + 8));
  }
  return out;
}

describe('captureReader on damaged captures', () => {
  const sources = ['ids/generated/lo-http.pcap', 'ids/generated/lo-http-nano.pcap', 'ids/generated/lo-http.pcapng', 'ids/generated/be.pcap'];
  for (const f of sources) {
    const readers: [string, CaptureReaderOptions][] = [['pcap-parser', { classicEngine: 'pcap-parser' }], ['builtin', {}],
      ['blocking reads, small chunks', { blockingReads: true, chunkBytes: 4096 }]];
    for (const [engine, opts] of readers) {
      it(`${f} cut in the middle of a packet (${engine}): truncated at that packet's offset, earlier packets yielded`, async () => {
        const { dir, cleanup } = tmpDir();
        try {
          const full = readFileSync(join(TESTDATA, f));
          const offsets = recordOffsets(full);
          const k = Math.floor(offsets.length / 2);
          const cut = join(dir, 'cut.pcap');
          writeFileSync(cut, full.subarray(0, offsets[k] + 20));
          const { packets, error } = await readAll(cut, opts);
          assert.ok(error, 'an error');
          assert.equal(error.code, 'truncated');
          assert.equal(error.offset, offsets[k]);
          assert.match(error.message, new RegExp(`offset ${offsets[k]}\\b`));
          assert.equal(packets.length, k);
          if (HAVE_TSHARK) assert.equal(packets.length, tsharkPackets(cut).length, 'tshark reads as many before the cut');
          // Cut inside a record header too.
          writeFileSync(cut, full.subarray(0, offsets[k] + 5));
          const h = await readAll(cut, opts);
          assert.equal(h.error?.code, 'truncated');
          assert.equal(h.error?.offset, offsets[k]);
          assert.equal(h.packets.length, k);
        } finally {
          cleanup();
        }
      });
    }
  }

  it('the truncated capture in the corpus (lo-http-trunc.pcap) names its offset after 18 packets', async () => {
    const file = join(TESTDATA, 'ids/generated/lo-http-trunc.pcap');
    const last = recordOffsets(readFileSync(file)).at(-1)!;
    for (const engine of ['pcap-parser', 'builtin'] as const) {
      const { packets, error } = await readAll(file, { classicEngine: engine });
      assert.equal(packets.length, 18);
      assert.equal(error?.code, 'truncated');
      assert.equal(error?.offset, last);
    }
  });

  it('a pcapng block whose trailing length disagrees is corrupt at its offset', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const full = Buffer.from(readFileSync(join(TESTDATA, 'ids/generated/lo-http.pcapng')));
      const offsets = recordOffsets(full);
      const k = 7;
      const len = full.readUInt32LE(offsets[k] + 4);
      full.writeUInt32LE(len + 4, offsets[k] + len - 4);
      const file = join(dir, 'corrupt.pcapng');
      writeFileSync(file, full);
      const { packets, error } = await readAll(file);
      assert.equal(error?.code, 'corrupt');
      assert.equal(error?.offset, offsets[k]);
      assert.match(error!.message, /trailing length/);
      assert.equal(packets.length, k);
      // A block length that is not a multiple of 4.
      const bad = Buffer.from(readFileSync(join(TESTDATA, 'ids/generated/lo-http.pcapng')));
      bad.writeUInt32LE(len + 1, offsets[k] + 4);
      writeFileSync(file, bad);
      const r2 = await readAll(file);
      assert.equal(r2.error?.code, 'corrupt');
      assert.equal(r2.error?.offset, offsets[k]);
      assert.equal(r2.packets.length, k);
    } finally {
      cleanup();
    }
  });

  for (const engine of ['pcap-parser', 'builtin'] as const) {
    it(`a classic pcap record announcing 2 GB is corrupt at its offset, without buffering the rest (${engine})`, async () => {
      const { dir, cleanup } = tmpDir();
      try {
        const full = Buffer.from(readFileSync(join(TESTDATA, 'ids/generated/lo-http.pcap')));
        const offsets = recordOffsets(full);
        full.writeUInt32LE(0x7fffffff, offsets[4] + 8);
        const file = join(dir, 'corrupt.pcap');
        writeFileSync(file, full);
        const { packets, error } = await readAll(file, { classicEngine: engine });
        assert.equal(error?.code, 'corrupt');
        assert.equal(error?.offset, offsets[4]);
        assert.equal(packets.length, 4);
      } finally {
        cleanup();
      }
    });
  }

  it('a cut gzip stream is reported truncated after the packets it held', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const gz = gzipSync(readFileSync(join(TESTDATA, 'ids/real-ddos/amp.UDP.isakmp.pcap')));
      const file = join(dir, 'cut.pcap.gz');
      writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
      const { packets, error } = await readAll(file);
      assert.equal(error?.code, 'truncated');
      assert.ok(packets.length > 100 && packets.length < 3984, String(packets.length));
    } finally {
      cleanup();
    }
  });

  it('refuses what is not a capture, and an empty file', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      writeFileSync(join(dir, 'x.pcap'), Buffer.from('this is not a capture at all'));
      writeFileSync(join(dir, 'empty.pcap'), Buffer.alloc(0));
      assert.equal((await readAll(join(dir, 'x.pcap'))).error?.code, 'unknown-format');
      assert.equal((await readAll(join(dir, 'empty.pcap'))).error?.code, 'truncated');
      assert.equal((await readAll(join(dir, 'missing.pcap'))).error?.code, 'io');
    } finally {
      cleanup();
    }
  });

  it('a named pipe (what `<(zcat x.pcap)` gives) is read as a stream: the same packets, its damage reported', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      let n = 0;
      for (const [f, opts] of [['ids/generated/lo-http.pcapng', {}], ['ids/generated/lo-http-trunc.pcap', {}],
        ['ids/generated/lo-http-trunc.pcap', { blockingReads: true, reuseBuffers: true }]] as const) {
        const fifo = join(dir, `pipe-${n++}.pcap`);
        const fed = feedFifo(fifo, readFileSync(join(TESTDATA, f)));
        const piped = await readAll(fifo, opts);
        await fed;
        const plain = await readAll(join(TESTDATA, f));
        assert.deepEqual(piped.packets.map(epoch), plain.packets.map(epoch), f);
        assert.ok(piped.packets.length > 10);
        assert.equal(piped.error?.code, plain.error?.code);
        assert.equal(piped.error?.offset, plain.error?.offset);
      }
    } finally {
      cleanup();
    }
  });
});

describe('captureReader memory', () => {
  /** A capture of `n` packets generated on the fly, never held whole. */
  async function* bigCapture(n: number, nano: boolean): AsyncGenerator<Uint8Array> {
    yield B.pcapFile([], { nano });
    const frame = B.tcp4Frame('10.0.0.1', '10.0.0.2', 1, 2, 16, { payload: new Uint8Array(1200) });
    const one = B.pcapFile([{ ts: 1700000000000, data: frame }], { nano }).subarray(24);
    const per = 256;
    const chunk = Buffer.concat(Array(per).fill(one));
    for (let i = 0; i < n; i += per) yield Buffer.from(chunk);
  }

  for (const [engine, nano] of [['pcap-parser', false], ['builtin', true]] as const) {
    it(`reads a 600 MB stream in bounded memory (${engine})`, async () => {
      const n = 2000 * 256;
      const before = process.memoryUsage();
      let peak = 0;
      let count = 0;
      for await (const batch of readCapture(Readable.from(bigCapture(n, nano)), { classicEngine: engine }).batches()) {
        count += batch.length;
        if (count % 50_000 < batch.length) {
          const m = process.memoryUsage();
          peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers);
        }
      }
      assert.equal(count, n);
      assert.ok(peak < 200 * 1024 * 1024, `memory grew by ${Math.round(peak / 1e6)} MB while reading ~${Math.round((n * 1270) / 1e6)} MB`);
    });
  }
});

describe('pcapng timestamp arithmetic', () => {
  it('divides 64-bit unit counts exactly', () => {
    const cases: [bigint, number, bigint][] = [
      [1700000000123456789n, 1e9, 0n], [(1n << 63n) + 12345n, 1e9, 0n], [1700000000123456n, 1e6, -5n],
      [(1700000000n << 30n) + 123n, 2 ** 30, 0n], [1700000000n * 10n ** 12n + 999999999999n, 1e12, 0n],
    ];
    for (const [v, units, off] of cases) {
      const t = tsFromUnits(Number(v >> 32n), Number(v & 0xffffffffn), { unitsPerSecond: units, offsetSeconds: Number(off) });
      const u = BigInt(units);
      assert.equal(t.sec, Number(v / u + off), `${v}/${units}`);
      assert.equal(t.nsec, Number(((v % u) * 1000000000n) / u), `${v}/${units} ns`);
    }
  });
});
