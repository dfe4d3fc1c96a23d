// A growing byte buffer that TabSeparated rows are written into directly. Hand-written because building
// rows as JS strings costs ~15 µs a row in garbage collection (each interpolation makes a rope node that
// must be flattened), which capped ingest far below what ClickHouse takes; writing digits and ASCII into
// one Buffer costs well under 1 µs a row.

const TAB = 9, NL = 10, BACKSLASH = 92, ZERO = 48;

export class TsvBuffer {
  buf: Buffer;
  len = 0;
  private readonly digits = new Uint8Array(24);

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** A non-negative integer (anything else is written as 0: a decoder bug must not break the batch). */
  u(v: number): void {
    if (this.len + 21 > this.buf.length) this.ensure(21);
    const b = this.buf;
    if (v < 10) {
      b[this.len++] = v >= 1 ? ZERO + Math.floor(v) : ZERO;
      return;
    }
    if (!(v < 2 ** 64)) {
      b[this.len++] = ZERO;
      return;
    }
    let x = Math.floor(v), n = 0;
    const d = this.digits;
    while (x > 0) {
      const q = Math.floor(x / 10);
      d[n++] = ZERO + (x - q * 10);
      x = q;
    }
    let p = this.len;
    while (n > 0) b[p++] = d[--n]!;
    this.len = p;
  }

  /**
   * A DateTime64(3) as ms since the epoch, zero-padded to 13 digits. ClickHouse's text parser reads a bare
   * number by its length: up to 8 digits as a date (YYYYMMDD), 10 as seconds, 12 not at all; only 13 digits
   * are milliseconds. Unpadded, a flow stamped before 2001 (a replayed old capture, an exporter whose clock
   * starts at 1970) was misread or failed the whole batch. Negative or absurd values are written as 0.
   */
  ms(v: number): void {
    if (this.len + 14 > this.buf.length) this.ensure(14);
    const b = this.buf;
    let x = v >= 0 && v < 1e13 ? Math.floor(v) : 0;
    for (let i = 12; i >= 0; i--) {
      const q = Math.floor(x / 10);
      b[this.len + i] = ZERO + (x - q * 10);
      x = q;
    }
    this.len += 13;
  }

  tab(): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = TAB;
  }

  nl(): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = NL;
  }

  /** Text known to be ASCII without tabs or newlines (addresses, enum names). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  /** Any text: TSV-escaped, UTF-8. Exporter- and capture-supplied strings go through here. */
  str(s: string): void {
    if (s.length === 0) return;
    this.ensure(s.length * 6);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === TAB || c === NL || c === 13 || c === 0 || c === BACKSLASH) {
        this.buf[this.len++] = BACKSLASH;
        this.buf[this.len++] = c === TAB ? 116 : c === NL ? 110 : c === 13 ? 114 : c === 0 ? ZERO : BACKSLASH;
      } else if (c < 128) {
        this.buf[this.len++] = c;
      } else {
        this.len += this.buf.write(s.slice(i, i + 1 + (c >= 0xd800 && c < 0xdc00 ? 1 : 0)), this.len, 'utf8');
        if (c >= 0xd800 && c < 0xdc00) i++;
      }
    }
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
