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
