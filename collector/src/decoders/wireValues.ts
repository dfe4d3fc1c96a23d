// Reads values off the wire for the decoders: big-endian unsigned integers of any length (IPFIX reduced-size
// encoding), IPv4/IPv6 addresses as text and MAC addresses as 48-bit numbers, without allocating more than the
// resulting string.

/** Counters and identifiers above 2^53 do not fit a JS number exactly; they are clamped to this value. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** Big-endian unsigned integer of 1..8 bytes (longer fields keep their low 8 bytes). Values above 2^53 clamp. */
export function readUint(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1: return b[o];
    case 2: return (b[o] << 8) | b[o + 1];
    case 4: return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
    case 8: {
      const hi = b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
      if (hi > 0x1fffff) return MAX_COUNTER;
      return hi * 0x100000000 + b[o + 4] * 0x1000000 + ((b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]);
    }
    default: {
      // Any other length (3, 5, 6, 7, or more): accumulate, keeping the low 8 bytes of a longer field.
      let start = o;
      if (len > 8) start = o + len - 8;
      let v = 0;
      const end = o + len;
      for (let i = start; i < end; i++) v = v * 256 + b[i];
      return v > MAX_COUNTER ? MAX_COUNTER : v;
    }
  }
}

const DECIMAL: string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted-quad text of the 4 bytes at o. */
export function formatIPv4(b: Uint8Array, o: number): string {
  return DECIMAL[b[o]] + '.' + DECIMAL[b[o + 1]] + '.' + DECIMAL[b[o + 2]] + '.' + DECIMAL[b[o + 3]];
}

/** IPv4 text of a 32-bit number (v5/v7 records). */
export function formatIPv4Number(v: number): string {
  return (v >>> 24) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255);
}

/**
 * RFC 5952 text of the 16 bytes at o: lower-case hex, leading zeros dropped, the longest run (first if tied) of
 * two or more zero groups as "::", and ::ffff:a.b.c.d for IPv4-mapped addresses.
 */
export function formatIPv6(b: Uint8Array, o: number): string {
  let bestStart = -1, bestLen = 0, runStart = -1, runLen = 0;
  for (let i = 0; i < 8; i++) {
    if (b[o + 2 * i] === 0 && b[o + 2 * i + 1] === 0) {
      if (runStart < 0) { runStart = i; runLen = 1; } else runLen++;
      if (runLen > bestLen) { bestLen = runLen; bestStart = runStart; }
    } else runStart = -1;
  }
  if (bestStart === 0 && bestLen === 5 && b[o + 10] === 0xff && b[o + 11] === 0xff) {
    return '::ffff:' + formatIPv4(b, o + 12);
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += ((b[o + 2 * i] << 8) | b[o + 2 * i + 1]).toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

/** A 6-byte MAC address as a 48-bit number. */
export function readMac(b: Uint8Array, o: number): number {
  return ((b[o] << 8) | b[o + 1]) * 0x100000000 + b[o + 2] * 0x1000000 + ((b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A string field: UTF-8, cut at the first NUL (fixed-length string fields are NUL padded). */
export function readString(b: Uint8Array, o: number, len: number): string {
  let end = o;
  const max = o + len;
  let ascii = true;
  while (end < max && b[end] !== 0) { if (b[end] > 0x7f) ascii = false; end++; }
  if (ascii && end - o < 64) {
    let s = '';
    for (let i = o; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  return utf8.decode(b.subarray(o, end));
}

/** Whether b[from, to) is all zero bytes (padding, as opposed to a broken structure). */
export function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}
