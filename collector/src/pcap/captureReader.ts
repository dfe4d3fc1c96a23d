// Reads capture files as a stream of packets: classic pcap (µs, ns and "modified", our own loop; µs also through
// the `pcap-parser` package on request), pcapng, any of them gzip-compressed. Memory stays bounded by a few read
// chunks plus the largest block, whatever the file size. Damage gives a CaptureError naming the byte offset,
// after every packet before the damage has been yielded.
//
// An uncompressed file is read with positioned reads into fresh buffers, the next one requested while the current
// one is parsed, and the record cut by a chunk's end copied in front of the next chunk (not the whole chunk).
//
// The format is sniffed from the magic number, never from the file name: many `.pcapng` files are classic pcap.
// pcapng has its own small reader because no pcapng reader on npm works: `pcap-ng-parser` miscomputes option
// lengths and crashes on real files.
//
// Time: `ts` is milliseconds since the epoch as a float (what the flow table uses; digits below ~0.25 µs are
// rounded away); `tsSec` + `tsNsec` keep the exact value (nanoseconds need 64 bits, more than a double holds).
import { createReadStream, readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import pcapParser, { type PcapGlobalHeader, type PcapPacket, type PcapPacketHeader } from 'pcap-parser';

/**
 * One captured packet. Its bytes stay in the read buffer (`buf` from `start`, `caplen` long): `data` makes a view on
 * demand, as typed-array views are costly to create for every packet (the ingest decodes from buf/start directly).
 */
export class CapturePacket {
  /** False for pcapng Simple Packet Blocks, which carry no time: ts is then the previous packet's. */
  tsKnown = true;

  constructor(
    /** Milliseconds since the epoch (float). */
    readonly ts: number,
    /** Exact time: whole seconds since the epoch and nanoseconds within that second. */
    readonly tsSec: number,
    readonly tsNsec: number,
    /** LINKTYPE_* value (1 Ethernet, 113 SLL, ...). */
    readonly linkType: number,
    readonly caplen: number,
    readonly origLen: number,
    /** The buffer holding the packet (never reused by the reader: valid as long as the caller keeps it). */
    readonly buf: Uint8Array,
    readonly start: number,
    /** pcapng: interface index within its section (as tshark's frame.interface_id); pcap: 0. */
    readonly interfaceId: number,
    /** pcapng: section number, from 0; pcap: 0. */
    readonly section: number,
    /** Byte offset of the packet's record or block in the (decompressed) capture. */
    readonly offset: number,
  ) {}

  /** The captured bytes. */
  get data(): Uint8Array {
    return this.buf.subarray(this.start, this.start + this.caplen);
  }
}

export type CaptureFormat = 'pcap' | 'pcap-nsec' | 'pcap-modified' | 'pcapng';
export type CaptureErrorCode = 'unknown-format' | 'truncated' | 'corrupt' | 'unsupported' | 'io';

/** A capture that cannot be read further. `offset` is in the decompressed byte stream. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CaptureReaderOptions {
  /** Classic microsecond pcap: our own loop (the default, several times faster) or the `pcap-parser` package. */
  classicEngine?: 'pcap-parser' | 'builtin';
  /** A record announcing more captured bytes is corrupt. Default 262144, the largest snaplen libpcap writes. */
  maxPacketBytes?: number;
  /** A pcapng block longer than this is corrupt. Default 16 MiB. */
  maxBlockBytes?: number;
  /** Read size. Default 1 MiB. */
  chunkBytes?: number;
  /**
   * Recycle the read buffers of an uncompressed file (the default makes a fresh one per read, so packets stay valid
   * as long as they are referenced). With it, a batch's packets (their `buf`) are valid only until the next batch is
   * asked for: for a consumer that is done with a batch before it asks for the next, as the ingest is. Fresh memory
   * for every chunk makes the kernel map and zero a new 1 MiB each time: on bench/pcap's 1.1 GB capture, 0.25 s of
   * the reading threads' CPU against 0.08 s when recycled, CPU the two cores of a busy daemon do not have spare.
   */
  reuseBuffers?: boolean;
  /**
   * Read an uncompressed file with blocking reads, each when the parser needs it, instead of asynchronous reads
   * ahead on libuv's thread pool: for a thread that has nothing else to do meanwhile (the capture-reading thread).
   * The kernel then copies each chunk on the core that parses it next, where it is still in the cache, rather than
   * on the other core, which a busy daemon needs. Ignored when following a file being written.
   */
  blockingReads?: boolean;
  /**
   * The file is still being written (an upload spooled to disk): read it as it grows, until the writer is done.
   * Only the uncompressed formats our own loops read are followed; anything else waits for the whole file.
   */
  follow?: GrowingFile;
}

/** A file someone is writing: what a reader following it needs to know. */
export interface GrowingFile {
  /** 'writing' while bytes may still come; 'done' once complete; an Error when the writer failed (the reader stops there). */
  readonly state: 'writing' | 'done' | Error;
  /** Size the file will have, when known (progress). */
  readonly expectedSize: number | null;
  /** Bytes written so far. */
  readonly written: number;
  /** Resolves at the next write or when the state changes. */
  wait(): Promise<void>;
}

export interface CaptureInterface {
  section: number;
  interfaceId: number;
  linkType: number;
  snaplen: number;
  name: string;
  /** Time units per second (10^6 unless if_tsresol says otherwise). */
  unitsPerSecond: number;
  /** if_tsoffset, seconds added to every timestamp. */
  offsetSeconds: number;
}

const MAGIC_GZIP = 0x1f8b;
const PCAP_USEC = 0xa1b2c3d4;
const PCAP_NSEC = 0xa1b23c4d;
const PCAP_MODIFIED = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/** What a capture's first bytes say it is, or null. `le`: the file is little-endian. */
export function sniffCaptureFormat(head: Uint8Array): { format: CaptureFormat; le: boolean } | { format: 'gzip' } | null {
  if (head.length >= 2 && ((head[0] << 8) | head[1]) === MAGIC_GZIP) return { format: 'gzip' };
  if (head.length < 4) return null;
  const be = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  const le = ((head[3] << 24) | (head[2] << 16) | (head[1] << 8) | head[0]) >>> 0;
  if (be === PCAPNG_SHB) return { format: 'pcapng', le: true };
  for (const [magic, format] of [[PCAP_USEC, 'pcap'], [PCAP_NSEC, 'pcap-nsec'], [PCAP_MODIFIED, 'pcap-modified']] as const) {
    if (be === magic) return { format, le: false };
    if (le === magic) return { format, le: true };
  }
  return null;
}

function u32(dv: DataView, off: number, le: boolean): number {
  return dv.getUint32(off, le);
}

/** Incremental reader over a stream of chunks: parsers work synchronously on `buf` and await only to refill. */
class ByteCursor {
  buf: Uint8Array = new Uint8Array(0);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  /** Absolute offset of buf[0]. */
  base = 0;
  eof = false;
  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  get avail(): number {
    return this.buf.length - this.pos;
  }
  get offset(): number {
    return this.base + this.pos;
  }

  /** Waits until n bytes are available from pos; false when the stream ends first. */
  async need(n: number): Promise<boolean> {
    while (this.avail < n && !this.eof) {
      const r = await this.chunks.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      this.append(r.value);
    }
    return this.avail >= n;
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const rest = this.avail;
    this.base += this.pos;
    if (rest === 0) {
      this.buf = chunk;
    } else {
      // A record spans two chunks: copy the tail and the new chunk into a fresh buffer (views already handed
      // out keep pointing at the old one).
      const joined = new Uint8Array(rest + chunk.length);
      joined.set(this.buf.subarray(this.pos), 0);
      joined.set(chunk, rest);
      this.buf = joined;
    }
    this.pos = 0;
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
}

/** Room kept in front of each read buffer for the record a chunk boundary cut (a classic pcap record at most). */
const CARRY = 262144 + 64;

/**
 * A ByteCursor over a file: positioned reads into buffers with CARRY bytes of room in front, three reads ahead of
 * the parser (one when following a file being written; none with blocking reads, which read when the parser needs). The bytes left unparsed at a chunk's end are copied into
 * that room in front of the next chunk, so a record cut by the boundary becomes contiguous without copying the whole
 * chunk (a longer remainder, say a big pcapng block, is joined by copying). Handed-out views stay valid (fresh
 * buffers) unless `reuse` is set: then a buffer the parser has moved past is read into again (see reuseBuffers).
 */
class FileCursor extends ByteCursor {
  /** Reads in flight, in file order (several for a finished file, so the disk works while we parse). */
  private readonly ahead: Promise<Chunk>[] = [];
  /** Where the next read to be issued starts. */
  private nextAt = 0;
  private readonly depth: number;
  private readonly blocking: boolean;
  private finalRead = false;
  /** Read buffers the parser is done with (reuse), and the one `buf` lies in (null when buf is a joined copy). */
  private readonly spare: Uint8Array[] = [];
  private inUse: Uint8Array | null = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly chunk: number,
    private readonly counted: (n: number) => void,
    private readonly follow: GrowingFile | null = null,
    private readonly reuse = false,
    blocking = false,
  ) {
    super({ next: async () => ({ done: true, value: undefined }) });
    this.blocking = blocking && !follow;
    this.depth = follow ? 1 : this.blocking ? 0 : 3;
    this.issue();
  }

  private issue(): void {
    while (this.ahead.length < this.depth) {
      this.ahead.push(this.read(this.nextAt));
      this.nextAt += this.chunk;
    }
  }

  /** Drops the reads in flight (their results are ignored) and goes on from `at`. */
  private restartAt(at: number): void {
    this.ahead.length = 0;
    this.nextAt = at;
    this.issue();
  }

  private read(at: number): Promise<Chunk> {
    // A plain Uint8Array, not a Buffer: the parsers take a view per packet, and Buffer views cost far more.
    let buf = this.spare.pop();
    if (buf === undefined) {
      const raw = Buffer.allocUnsafeSlow(CARRY + this.chunk); // not zero-filled: every byte used is read first
      buf = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    }
    if (this.blocking) {
      try {
        return Promise.resolve({ buf, n: readSync(this.fh.fd, buf, CARRY, this.chunk, at), at });
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const p = this.fh.read(buf, CARRY, this.chunk, at).then((r) => ({ buf, n: r.bytesRead, at }));
    // Marked handled now: a read failing while queued is reported when its turn comes (or never, if dropped).
    p.catch(() => undefined);
    return p;
  }

  /** The next chunk: the oldest read in flight, or (blocking reads) one read now. */
  private nextChunk(): Promise<Chunk> {
    if (!this.blocking) return this.ahead.shift()!;
    const at = this.nextAt;
    this.nextAt += this.chunk;
    return this.read(at);
  }

  override async need(n: number): Promise<boolean> {
    while (this.avail < n && !this.eof) {
      let next: Chunk;
      try {
        next = await this.nextChunk();
      } catch (err) {
        throw new CaptureError('io', this.offset, `reading ${this.path}: ${(err as Error).message}`);
      }
      if (next.n === 0) {
        const f = this.follow;
        if (f && f.state !== 'done') {
          if (f.state instanceof Error) {
            throw new CaptureError('io', this.offset + this.avail, `${f.state.message} (after ${this.offset + this.avail} bytes)`);
          }
          // The writer is behind us: wait for a chunk's worth (or the end), then read the same place again.
          do await f.wait();
          while (f.state === 'writing' && f.written < next.at + this.chunk);
          this.restartAt(next.at);
          continue;
        }
        if (f && !this.finalRead) {
          // Done: one more read, for what was written between the last read and the end.
          this.finalRead = true;
          this.restartAt(next.at);
          continue;
        }
        this.eof = true;
        this.ahead.length = 0;
        break;
      }
      this.counted(next.n);
      // The buffer the parser leaves (its last bytes are copied below, before the read that may reuse it is issued).
      const done = this.reuse ? this.inUse : null;
      // A short read: the reads issued past it start at the wrong place. Read on from where it ended, until a read
      // returns nothing (a short read is not the end of every file system's file, nor of a file being written).
      const rest = this.avail;
      let buf: Uint8Array;
      if (rest <= CARRY) {
        next.buf.set(this.buf.subarray(this.pos), CARRY - rest);
        buf = next.buf.subarray(CARRY - rest, CARRY + next.n);
        this.inUse = next.buf;
      } else {
        const joined = new Uint8Array(rest + next.n);
        joined.set(this.buf.subarray(this.pos), 0);
        joined.set(next.buf.subarray(CARRY, CARRY + next.n), rest);
        buf = joined;
        this.inUse = null;
        if (this.reuse) this.spare.push(next.buf);
      }
      if (done !== null) this.spare.push(done);
      if (next.n < this.chunk) this.restartAt(next.at + next.n);
      else this.issue();
      this.base += this.pos;
      this.buf = buf;
      this.pos = 0;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.avail >= n;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.ahead.splice(0));
    await this.fh.close();
  }
}

interface Chunk {
  buf: Uint8Array;
  n: number;
  at: number;
}

/**
 * One capture, read once. Iterate it for packets, or `batches()` for arrays of packets (cheaper per packet).
 * Counters (`bytesRead`, `bytesParsed`, `packets`, `skippedBlocks`) are live while reading.
 */
export class CaptureReader implements AsyncIterable<CapturePacket> {
  format: CaptureFormat | null = null;
  compressed = false;
  littleEndian = true;
  /** Bytes read from the source (compressed bytes for gzip). */
  bytesRead = 0;
  /** Size of the source file, when it is a file. */
  sourceSize: number | null = null;
  /** Decompressed bytes the parser has consumed. */
  bytesParsed = 0;
  packets = 0;
  /** pcapng blocks skipped: unknown types, packets naming an unknown interface. */
  skippedBlocks = 0;
  /** Classic pcap: header link type and snaplen. */
  linkType = -1;
  snaplen = 0;
  /** pcapng: every interface seen, all sections. */
  readonly interfaces: CaptureInterface[] = [];

  private readonly classicEngine: 'pcap-parser' | 'builtin';
  private readonly maxPacketBytes: number;
  private readonly maxBlockBytes: number;
  private readonly chunkBytes: number;
  private readonly follow: GrowingFile | null;
  private readonly reuseBuffers: boolean;
  private readonly blockingReads: boolean;
  private started = false;

  constructor(
    private readonly source: string | AsyncIterable<Uint8Array>,
    opts: CaptureReaderOptions = {},
  ) {
    this.classicEngine = opts.classicEngine ?? 'builtin';
    this.maxPacketBytes = opts.maxPacketBytes ?? 262144;
    this.maxBlockBytes = opts.maxBlockBytes ?? 16 * 1024 * 1024;
    this.chunkBytes = opts.chunkBytes ?? 1024 * 1024;
    this.follow = opts.follow ?? null;
    this.reuseBuffers = opts.reuseBuffers ?? false;
    this.blockingReads = opts.blockingReads ?? false;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CapturePacket> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Packets in arrays of up to a few thousand, in file order. Throws CaptureError after the last good packet. */
  async *batches(): AsyncGenerator<CapturePacket[]> {
    if (this.started) throw new Error('CaptureReader: a capture can be read once');
    this.started = true;
    let pipe: FileHandle | null = null;
    if (typeof this.source === 'string') {
      const direct = await this.openDirect(this.source);
      if (direct && 'pipe' in direct) pipe = direct.pipe;
      else if (direct) {
        try {
          const { cur, sniffed } = direct;
          this.format = sniffed.format;
          this.littleEndian = sniffed.le;
          if (sniffed.format === 'pcapng') yield* this.readPcapng(cur);
          else yield* this.readClassic(cur, sniffed.format, sniffed.le);
        } finally {
          await direct.cur.close();
        }
        return;
      }
    }
    const raw = await this.rawChunks(pipe);
    let chunks: AsyncIterator<Uint8Array> = raw;
    try {
      let head = await readHead(raw, 4);
      chunks = prepend(head.head, raw);
      let sniffed = sniffCaptureFormat(head.head);
      if (sniffed?.format === 'gzip') {
        this.compressed = true;
        chunks = gunzipChunks(chunks, () => this.bytesParsed);
        head = await readHead(chunks, 4);
        chunks = prepend(head.head, chunks);
        sniffed = sniffCaptureFormat(head.head);
      }
      if (!sniffed || sniffed.format === 'gzip') {
        const magic = Buffer.from(head.head.subarray(0, 4)).toString('hex');
        throw new CaptureError(head.head.length < 4 ? 'truncated' : 'unknown-format', 0,
          head.head.length < 4 ? `capture too short for a magic number (${head.head.length} bytes)`
            : `not a pcap or pcapng capture (magic 0x${magic})`);
      }
      this.format = sniffed.format;
      this.littleEndian = sniffed.le;
      if (sniffed.format === 'pcapng') yield* this.readPcapng(new ByteCursor(chunks));
      else if (sniffed.format === 'pcap' && this.classicEngine === 'pcap-parser') yield* this.readViaPcapParser(chunks);
      else yield* this.readClassic(new ByteCursor(chunks), sniffed.format, sniffed.le);
    } finally {
      // Close the file whatever happened, also when the caller stops early.
      await chunks.return?.();
      await raw.return?.();
    }
  }

  /**
   * An uncompressed capture file our own loops read: a FileCursor over it. Null when the file is for the stream
   * path (gzip, an unknown magic for its error, a µs pcap for pcap-parser when asked); `pipe`, the opened handle, when
   * the path is a pipe or a device.
   */
  private async openDirect(path: string): Promise<{ cur: FileCursor; sniffed: { format: CaptureFormat; le: boolean } } | { pipe: FileHandle } | null> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (!st.isFile()) {
        // A pipe or a device (`dvflow pcap <(zcat x.pcap)`, /dev/stdin): no positioned reads, and opening it again
        // could lose what the writer sent meanwhile. The stream path reads this handle from where it stands.
        return { pipe: fh };
      }
      this.sourceSize = st.size;
    } catch (err) {
      throw new CaptureError('io', 0, `cannot open capture ${path}: ${(err as Error).message}`);
    }
    let keep = false;
    const follow = this.follow;
    try {
      const head = new Uint8Array(4);
      let { bytesRead } = await fh.read(head, 0, 4, 0);
      while (bytesRead < 4 && follow?.state === 'writing') {
        await follow.wait();
        ({ bytesRead } = await fh.read(head, 0, 4, 0));
      }
      const sniffed = sniffCaptureFormat(head.subarray(0, bytesRead));
      if (!sniffed || sniffed.format === 'gzip' || (sniffed.format === 'pcap' && this.classicEngine === 'pcap-parser')) {
        // The stream path reads to the end of the file as it is: wait for the writer first.
        while (follow?.state === 'writing') await follow.wait();
        if (follow) this.sourceSize = (await fh.stat()).size;
        return null;
      }
      if (follow) this.sourceSize = follow.expectedSize;
      keep = true;
      return { cur: new FileCursor(fh, path, this.chunkBytes, (n) => (this.bytesRead += n), follow, this.reuseBuffers,
        this.blockingReads), sniffed };
    } catch (err) {
      throw new CaptureError('io', 0, `reading ${path}: ${(err as Error).message}`);
    } finally {
      if (!keep) await fh.close();
    }
  }

  /** `opened`: a capture path that is a pipe or a device, as openDirect opened it. */
  private async rawChunks(opened: FileHandle | null): Promise<AsyncIterator<Uint8Array>> {
    const counted = async function* (this: CaptureReader, it: AsyncIterable<Uint8Array>) {
      for await (const c of it) {
        this.bytesRead += c.length;
        yield c;
      }
    };
    if (typeof this.source === 'string') {
      const path = this.source;
      if (opened) {
        this.sourceSize = null;
        // Reads the pipe from its start (no position) and closes the handle at its end or when the reader stops.
        const stream = createReadStream('', { fd: opened, highWaterMark: this.chunkBytes });
        return ioErrors(counted.call(this, stream as AsyncIterable<Buffer>), path)[Symbol.asyncIterator]();
      }
      try {
        this.sourceSize = (await stat(path)).size;
      } catch (err) {
        throw new CaptureError('io', 0, `cannot open capture ${path}: ${(err as Error).message}`);
      }
      const stream = createReadStream(path, { highWaterMark: this.chunkBytes });
      return ioErrors(counted.call(this, stream as AsyncIterable<Buffer>), path)[Symbol.asyncIterator]();
    }
    return counted.call(this, this.source)[Symbol.asyncIterator]();
  }

  // ---- classic pcap through pcap-parser ------------------------------------------------------------------------

  /**
   * pcap-parser is event-based with no back-pressure and ends silently on a cut file. We feed it through a
   * Readable we pause when enough packets wait, count the bytes we feed against the bytes its records account
   * for (24 + Σ(16 + caplen)), and refuse a record header announcing more than maxPacketBytes before it starts
   * buffering (it would otherwise accumulate the rest of the file in memory).
   */
  private async *readViaPcapParser(chunks: AsyncIterator<Uint8Array>): AsyncGenerator<CapturePacket[]> {
    let fed = 0;
    let consumed = 0;
    let headerSeen = false;
    let lastHeader: PcapPacketHeader | null = null;
    let queue: CapturePacket[] = [];
    let done = false;
    let failure: CaptureError | null = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const highWater = 4096;
    const feed = async function* () {
      for (;;) {
        const r = await chunks.next();
        if (r.done) return;
        fed += r.value.length;
        yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      }
    };
    const input = Readable.from(feed());
    const parser = pcapParser.parse(input);
    const stop = (err: CaptureError) => {
      if (done) return;
      failure = err;
      done = true;
      parser.errored = true;
      input.pause();
      notify();
    };
    parser.on('globalHeader', (h: PcapGlobalHeader) => {
      headerSeen = true;
      consumed = 24;
      this.linkType = h.linkLayerType & 0xffff;
      this.snaplen = h.snapshotLength;
      this.bytesParsed = consumed;
    });
    parser.on('packetHeader', (h: PcapPacketHeader) => {
      lastHeader = h;
      if (h.capturedLength > this.maxPacketBytes) {
        stop(new CaptureError('corrupt', consumed,
          `corrupt pcap record at offset ${consumed}: captured length ${h.capturedLength} exceeds ${this.maxPacketBytes}`));
      }
    });
    parser.on('packet', (p: PcapPacket) => {
      if (done) return;
      const h = p.header;
      const offset = consumed;
      consumed += 16 + h.capturedLength;
      lastHeader = null;
      this.bytesParsed = consumed;
      queue.push(makePacket(h.timestampSeconds, h.timestampMicroseconds * 1000, this.linkType, h.capturedLength,
        h.originalLength, p.data, 0, 0, 0, offset));
      if (queue.length >= highWater) input.pause();
      notify();
    });
    parser.on('error', (err: Error) => {
      stop(err instanceof CaptureError ? err : new CaptureError(
        (err as { code?: string }).code === 'io' ? 'io' : 'unsupported', consumed, `pcap: ${err.message}`));
    });
    parser.on('end', () => {
      if (done) return;
      const rest = fed - consumed;
      if (!headerSeen) {
        stop(new CaptureError('truncated', 0, `truncated pcap: file header needs 24 bytes, ${fed} present`));
      } else if (rest > 0) {
        const h = lastHeader as PcapPacketHeader | null;
        stop(new CaptureError('truncated', consumed, rest < 16 || !h
          ? `truncated pcap at offset ${consumed}: record header cut after ${rest} of 16 bytes`
          : `truncated pcap at offset ${consumed}: record announces ${h.capturedLength} captured bytes, ${rest - 16} present`));
      } else {
        done = true;
        notify();
      }
    });
    try {
      for (;;) {
        if (queue.length > 0) {
          const batch = queue;
          queue = [];
          this.packets += batch.length;
          if (!done && input.isPaused()) input.resume();
          yield batch;
          continue;
        }
        if (done) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      parser.errored = true;
      input.destroy();
    }
  }

  // ---- classic pcap, our loop (nanosecond, modified, or µs when asked) ------------------------------------------

  private async *readClassic(cur: ByteCursor, format: CaptureFormat, le: boolean): AsyncGenerator<CapturePacket[]> {
    if (!(await cur.need(24))) {
      throw new CaptureError('truncated', 0, `truncated pcap: file header needs 24 bytes, ${cur.avail} present`);
    }
    const major = cur.dv.getUint16(cur.pos + 4, le);
    if (major !== 2) throw new CaptureError('unsupported', 0, `unsupported pcap version ${major}`);
    this.snaplen = u32(cur.dv, cur.pos + 16, le);
    this.linkType = u32(cur.dv, cur.pos + 20, le) & 0xffff;
    cur.pos += 24;
    const hdrLen = format === 'pcap-modified' ? 24 : 16;
    const fracScale = format === 'pcap-nsec' ? 1 : 1000;
    const linkType = this.linkType;
    const max = this.maxPacketBytes;
    const tooLong = (caplen: number) => new CaptureError('corrupt', cur.offset,
      `corrupt pcap record at offset ${cur.offset}: captured length ${caplen} exceeds ${max}`);
    let batch: CapturePacket[] = [];
    try {
      for (;;) {
        // Parse everything already buffered without awaiting.
        while (cur.avail >= hdrLen && batch.length < 1024) {
          const p = cur.pos;
          const caplen = u32(cur.dv, p + 8, le);
          if (caplen > max) throw tooLong(caplen);
          if (cur.avail < hdrLen + caplen) break;
          const start = p + hdrLen;
          batch.push(makePacket(u32(cur.dv, p, le), u32(cur.dv, p + 4, le) * fracScale, linkType, caplen,
            u32(cur.dv, p + 12, le), cur.buf, start, 0, 0, cur.offset));
          cur.pos = start + caplen;
        }
        this.bytesParsed = cur.offset;
        if (batch.length > 0) {
          const b = batch;
          batch = [];
          this.packets += b.length;
          yield b;
          continue;
        }
        // Nothing complete is buffered: refill enough for the next header, then for its body.
        if (!(await cur.need(hdrLen))) {
          if (cur.avail === 0) return;
          throw new CaptureError('truncated', cur.offset,
            `truncated pcap at offset ${cur.offset}: record header cut after ${cur.avail} of ${hdrLen} bytes`);
        }
        const caplen = u32(cur.dv, cur.pos + 8, le);
        if (caplen > max) throw tooLong(caplen);
        if (!(await cur.need(hdrLen + caplen))) {
          throw new CaptureError('truncated', cur.offset,
            `truncated pcap at offset ${cur.offset}: record announces ${caplen} captured bytes, ${cur.avail - hdrLen} present`);
        }
      }
    } catch (err) {
      if (batch.length > 0) {
        this.packets += batch.length;
        yield batch;
      }
      throw err;
    }
  }

  // ---- pcapng -------------------------------------------------------------------------------------------------

  private async *readPcapng(cur: ByteCursor): AsyncGenerator<CapturePacket[]> {
    let le = true;
    let section = -1;
    let ifaces: CaptureInterface[] = [];
    let lastSec = 0;
    let lastNsec = 0;
    const maxBlock = this.maxBlockBytes;
    const corrupt = (off: number, what: string) =>
      new CaptureError('corrupt', off, `corrupt pcapng block at offset ${off}: ${what}`);
    let batch: CapturePacket[] = [];
    const emitBatch = () => {
      const b = batch;
      batch = [];
      this.packets += b.length;
      return b;
    };
    try {
      for (;;) {
        // Parse all complete blocks already buffered, synchronously.
        while (cur.avail >= 12 && batch.length < 1024) {
          const p = cur.pos;
          const dv = cur.dv;
          const blockOff = cur.offset;
          let type = dv.getUint32(p, le);
          if (type === PCAPNG_SHB) {
            const bom = dv.getUint32(p + 8, true);
            if (bom === PCAPNG_BOM) le = true;
            else if (bom === 0x4d3c2b1a) le = false;
            else throw corrupt(blockOff, `section header byte-order magic 0x${bom.toString(16)}`);
          } else if (section < 0) {
            throw new CaptureError('corrupt', blockOff, `pcapng capture does not start with a section header block`);
          }
          type = dv.getUint32(p, le);
          const len = dv.getUint32(p + 4, le);
          if (len < 12 || len % 4 !== 0) throw corrupt(blockOff, `block length ${len} (type 0x${type.toString(16)})`);
          if (len > maxBlock) throw corrupt(blockOff, `block length ${len} exceeds ${maxBlock}`);
          if (cur.avail < len) break;
          const trailer = dv.getUint32(p + len - 4, le);
          if (trailer !== len) {
            throw corrupt(blockOff, `block length ${len} does not match its trailing length ${trailer}`);
          }
          const body = p + 8;
          const bodyLen = len - 12;
          switch (type) {
            case PCAPNG_SHB: {
              if (bodyLen < 16) throw corrupt(blockOff, `section header body of ${bodyLen} bytes`);
              const major = dv.getUint16(body + 4, le);
              if (major !== 1) throw new CaptureError('unsupported', blockOff, `unsupported pcapng version ${major}`);
              section++;
              ifaces = [];
              break;
            }
            case 1: {
              // Interface Description Block
              if (bodyLen < 8) throw corrupt(blockOff, `interface description body of ${bodyLen} bytes`);
              const iface: CaptureInterface = {
                section, interfaceId: ifaces.length, linkType: dv.getUint16(body, le), snaplen: dv.getUint32(body + 4, le),
                name: '', unitsPerSecond: 1e6, offsetSeconds: 0,
              };
              readOptions(dv, body + 8, body + bodyLen, le, (code, vo, vl) => {
                if (code === 9 && vl >= 1) {
                  const r = cur.buf[vo];
                  iface.unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
                } else if (code === 14 && vl >= 8) {
                  iface.offsetSeconds = Number(dv.getBigInt64(vo, le));
                } else if (code === 2) {
                  iface.name = Buffer.from(cur.buf.buffer, cur.buf.byteOffset + vo, vl).toString('utf8').replace(/\0+$/, '');
                }
              });
              ifaces.push(iface);
              this.interfaces.push(iface);
              break;
            }
            case 6: // Enhanced Packet Block
            case 2: {
              // obsolete Packet Block: 16-bit interface id and drop count instead of the 32-bit interface id
              if (bodyLen < 20) throw corrupt(blockOff, `packet block body of ${bodyLen} bytes`);
              const ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
              const caplen = dv.getUint32(body + 12, le);
              const origLen = dv.getUint32(body + 16, le);
              if (caplen > bodyLen - 20) {
                throw corrupt(blockOff, `captured length ${caplen} exceeds the block body (${bodyLen - 20} bytes)`);
              }
              const iface = ifaces[ifId];
              if (!iface) {
                this.skippedBlocks++;
                break;
              }
              const t = tsFromUnits(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le), iface);
              lastSec = t.sec;
              lastNsec = t.nsec;
              batch.push(makePacket(t.sec, t.nsec, iface.linkType, caplen, origLen, cur.buf, body + 20, ifId, section, blockOff));
              break;
            }
            case 3: {
              // Simple Packet Block: interface 0, no timestamp; captured length from the block and the snaplen.
              if (bodyLen < 4) throw corrupt(blockOff, `simple packet block body of ${bodyLen} bytes`);
              const iface = ifaces[0];
              if (!iface) {
                this.skippedBlocks++;
                break;
              }
              const origLen = dv.getUint32(body, le);
              let caplen = Math.min(origLen, bodyLen - 4);
              if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
              const pkt = makePacket(lastSec, lastNsec, iface.linkType, caplen, origLen, cur.buf, body + 4, 0, section, blockOff);
              pkt.tsKnown = false;
              batch.push(pkt);
              break;
            }
            default:
              // Name resolution, statistics, decryption secrets, custom and unknown blocks carry no packets.
              if (type !== 4 && type !== 5) this.skippedBlocks++;
          }
          cur.pos = p + len;
        }
        this.bytesParsed = cur.offset;
        if (batch.length > 0) {
          yield emitBatch();
          continue;
        }
        if (!(await cur.need(12))) {
          if (cur.avail === 0) {
            if (section < 0) throw new CaptureError('truncated', 0, 'truncated pcapng: no complete section header');
            return;
          }
          throw new CaptureError('truncated', cur.offset,
            `truncated pcapng at offset ${cur.offset}: block header cut after ${cur.avail} of 12 bytes`);
        }
        // Header is complete; is the block?
        const type = cur.dv.getUint32(cur.pos, le);
        let blockLe = le;
        if (type === PCAPNG_SHB) blockLe = cur.dv.getUint32(cur.pos + 8, true) === PCAPNG_BOM;
        const len = cur.dv.getUint32(cur.pos + 4, blockLe);
        if (len >= 12 && len % 4 === 0 && len <= maxBlock && !(await cur.need(len))) {
          throw new CaptureError('truncated', cur.offset,
            `truncated pcapng at offset ${cur.offset}: block of ${len} bytes, ${cur.avail} present`);
        }
      }
    } catch (err) {
      // Packets parsed in this round before the damage are yielded first.
      if (batch.length > 0) yield emitBatch();
      throw err;
    }
  }
}

/** Opens a capture for reading; see CaptureReader. */
export function readCapture(source: string | AsyncIterable<Uint8Array>, opts?: CaptureReaderOptions): CaptureReader {
  return new CaptureReader(source, opts);
}

function makePacket(sec: number, nsec: number, linkType: number, caplen: number, origLen: number, buf: Uint8Array, start: number,
  interfaceId: number, section: number, offset: number): CapturePacket {
  if (nsec >= 1e9) {
    // µs/ns field out of range (seen in hand-made files): carry into seconds, as Wireshark does.
    sec += Math.floor(nsec / 1e9);
    nsec %= 1e9;
  }
  return new CapturePacket(sec * 1000 + nsec / 1e6, sec, nsec, linkType, caplen, origLen, buf, start, interfaceId, section, offset);
}

/**
 * pcapng timestamps are 64-bit counts of 1/unitsPerSecond. Divides hi:lo exactly with doubles (long division in
 * 16-bit steps; every intermediate stays below 2^53) for unitsPerSecond up to 2^30, BigInt beyond.
 */
export function tsFromUnits(hi: number, lo: number, iface: { unitsPerSecond: number; offsetSeconds: number }): { sec: number; nsec: number } {
  const u = iface.unitsPerSecond;
  let sec: number;
  let rem: number;
  if (u <= 2 ** 30) {
    const a = Math.floor(hi / u);
    let r = hi - a * u;
    r = r * 65536 + (lo >>> 16);
    const q1 = Math.floor(r / u);
    r -= q1 * u;
    r = r * 65536 + (lo & 0xffff);
    const q2 = Math.floor(r / u);
    rem = r - q2 * u;
    sec = a * 4294967296 + q1 * 65536 + q2;
  } else {
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const ub = BigInt(u);
    sec = Number(v / ub);
    rem = Number(v % ub);
  }
  // rem * 1e9 / u, truncated like Wireshark; exact for 10^n and 2^n units (1e9 / 2^n is an exact binary fraction).
  let nsec: number;
  if (u === 1e9) nsec = rem;
  else if (u < 1e9 && 1e9 % u === 0) nsec = rem * (1e9 / u);
  else if (u > 1e9 && u % 1e9 === 0) nsec = Math.floor(rem / (u / 1e9));
  else nsec = Math.floor(rem * (1e9 / u));
  return { sec: sec + iface.offsetSeconds, nsec };
}

/** Walks pcapng options (code, length, value padded to 4 bytes) between off and end; stops at opt_endofopt or damage. */
function readOptions(dv: DataView, off: number, end: number, le: boolean,
  fn: (code: number, valueOff: number, valueLen: number) => void): void {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === 0) return;
    const valueOff = off + 4;
    if (valueOff + len > end) return;
    fn(code, valueOff, len);
    off = valueOff + ((len + 3) & ~3);
  }
}

async function readHead(it: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array }> {
  const parts: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
    have += r.value.length;
  }
  return { head: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
}

function prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncIterator<Uint8Array> {
  let first = head.length > 0;
  return {
    next: async () => {
      if (first) {
        first = false;
        return { done: false, value: head };
      }
      return rest.next();
    },
    return: async () => {
      await rest.return?.();
      return { done: true, value: undefined };
    },
  };
}

function gunzipChunks(raw: AsyncIterator<Uint8Array>, parsedSoFar: () => number): AsyncIterator<Uint8Array> {
  const src = Readable.from((async function* () {
    try {
      for (;;) {
        const r = await raw.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await raw.return?.();
    }
  })());
  const gunzip = createGunzip();
  src.on('error', (err) => gunzip.destroy(err));
  src.pipe(gunzip);
  let out = 0;
  const it = (async function* () {
    try {
      for await (const c of gunzip as AsyncIterable<Buffer>) {
        out += c.length;
        yield c as Uint8Array;
      }
    } catch (err) {
      if (err instanceof CaptureError) throw err;
      const code = (err as { code?: string }).code;
      const at = Math.max(out, parsedSoFar());
      if (code === 'Z_BUF_ERROR') {
        throw new CaptureError('truncated', out, `truncated gzip stream after ${at} decompressed bytes`);
      }
      throw new CaptureError('corrupt', out, `corrupt gzip stream after ${out} decompressed bytes: ${(err as Error).message}`);
    } finally {
      src.destroy();
      gunzip.destroy();
    }
  })();
  return it;
}

async function* ioErrors(it: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
  try {
    yield* it;
  } catch (err) {
    if (err instanceof CaptureError) throw err;
    throw new CaptureError('io', 0, `reading ${path}: ${(err as Error).message}`);
  }
}
