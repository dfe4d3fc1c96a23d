// IP and MAC address arithmetic for the filter: every address is a 128-bit bigint in the IPv6 space the
// `flows` table uses, IPv4 being mapped to ::ffff:a.b.c.d, so a prefix is simply an inclusive range.

export const IPV4_MAPPED_BASE = 0xffff00000000n;
const MAX128 = (1n << 128n) - 1n;

/** An address or network, as a range in the IPv6 space (IPv4 mapped). */
export interface AddrRange {
  /** First and last address, inclusive. */
  lo: bigint;
  hi: bigint;
  /** Prefix length in the IPv6 space (an IPv4 /24 is 120). */
  bits: number;
  /** Family of the address as written. */
  family: 4 | 6;
  /** Canonical text: 10.0.0.0/8, 2001:db8::/32, 1.2.3.4. */
  text: string;
}

/** Parses a full dotted quad; null when it is not one. Leading zeros are read as decimal. */
export function parseIPv4(s: string): number | null {
  const short = parseShortIPv4(s);
  return short && short.octets === 4 ? short.value : null;
}

/**
 * nfdump 1.7.1's short network form (`net 172.16/16`): one to four octets, the missing ones zero.
 * Returns the value and how many octets were written (nfdump's "bytes", which bounds the prefix).
 */
export function parseShortIPv4(s: string): { value: number; octets: number } | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  for (let i = parts.length; i < 4; i++) v *= 256;
  return { value: v, octets: parts.length };
}

/**
 * Dotted quad (from `from` to the end of `s`) into b[o..o+4]; false when it is not one (b may be partly written).
 * Leading zeros are read as decimal. A scan, not split and regular expressions: ingest calls it for every address
 * it stores (storage/nativeBlock.ts).
 */
export function ipv4Into(s: string, from: number, b: Uint8Array, o: number): boolean {
  let part = 0, digits = 0, n = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else if (c === 46 && digits > 0 && n < 3) {
      b[o + n++] = part;
      part = 0;
      digits = 0;
    } else return false;
  }
  if (digits === 0 || n !== 3) return false;
  b[o + 3] = part;
  return true;
}

/** IPv6 text (with ::, with an embedded dotted quad last) into b[o..o+16]; false when it is not one (b may be partly written). */
export function ipv6Into(s: string, b: Uint8Array, o: number): boolean {
  const groups: number[] = [];
  let gap = -1, value = 0, digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c === 58) {
      if (i < s.length && s.charCodeAt(i + 1) === 58) {
        if (gap >= 0) return false;
        if (digits > 0) groups.push(value);
        else if (i !== 0) return false;
        gap = groups.length;
        i++;
        value = 0;
        digits = 0;
        if (i === s.length - 1) break;
        continue;
      }
      if (digits === 0) return false;
      groups.push(value);
      value = 0;
      digits = 0;
    } else if (c === 46) {
      // An embedded dotted quad (::ffff:10.0.0.1) stands for the last two groups: the rest of the text from this group's start.
      let start = i;
      while (start > 0 && s.charCodeAt(start - 1) !== 58) start--;
      const tail = new Uint8Array(4);
      if (!ipv4Into(s, start, tail, 0)) return false;
      groups.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      break;
    } else {
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0 || ++digits > 4) return false;
      value = value * 16 + h;
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const fill = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    const v = gap >= 0 && k >= gap && k < gap + fill ? 0 : groups[g++]!;
    b[o + 2 * k] = v >> 8;
    b[o + 2 * k + 1] = v & 0xff;
  }
  return true;
}

/** Parses IPv6 text (with an optional embedded dotted quad); null when it is not an IPv6 address. */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45 || !s.includes(':')) return null;
  const b = new Uint8Array(16);
  if (!ipv6Into(s, b, 0)) return null;
  let v = 0n;
  for (let k = 0; k < 16; k += 2) v = (v << 16n) | BigInt((b[k]! << 8) | b[k + 1]!);
  return v;
}

/** Parses an IPv4 or IPv6 host address into the mapped IPv6 space. */
export function parseAddress(s: string): { value: bigint; family: 4 | 6 } | null {
  const v4 = parseIPv4(s);
  if (v4 !== null) return { value: IPV4_MAPPED_BASE | BigInt(v4), family: 4 };
  const v6 = parseIPv6(s);
  if (v6 !== null) return { value: v6, family: 6 };
  return null;
}

/** Range of a prefix in the IPv6 space: the host bits of `value` are cleared, as nfdump masks them. */
export function prefixRange(value: bigint, bits: number): { lo: bigint; hi: bigint } {
  const hostBits = BigInt(128 - bits);
  const hostMask = (1n << hostBits) - 1n;
  const lo = value & (MAX128 ^ hostMask);
  return { lo, hi: lo | hostMask };
}

export function hostRange(value: bigint, family: 4 | 6): AddrRange {
  return { lo: value, hi: value, bits: 128, family, text: formatAddress(value) };
}

export function netRange(value: bigint, family: 4 | 6, prefix: number): AddrRange {
  const bits = family === 4 ? 96 + prefix : prefix;
  const { lo, hi } = prefixRange(value, bits);
  return { lo, hi, bits, family, text: `${formatAddress(lo)}/${prefix}` };
}

/** The range of all IPv4-mapped addresses: what `ipv4` tests. */
export const IPV4_RANGE: AddrRange = { lo: IPV4_MAPPED_BASE, hi: IPV4_MAPPED_BASE | 0xffffffffn, bits: 96, family: 4, text: '0.0.0.0/0' };

/** Text of an address: dotted quad for mapped IPv4, RFC 5952 compressed IPv6 otherwise. */
export function formatAddress(v: bigint): string {
  if (v >> 32n === 0xffffn) {
    const n = Number(v & 0xffffffffn);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text the table's IPv6 columns accept for an address: mapped IPv4 as ::ffff:a.b.c.d. */
export function addressParam(v: bigint): string {
  const text = formatAddress(v);
  return v >> 32n === 0xffffn ? `::ffff:${text}` : text;
}

const addrCache = new Map<string, bigint>();

/**
 * Value of an address as a FlowRecord holds it (dotted IPv4, IPv6 text, '' when not exported, which the
 * table stores as '::'). Memoised: alert rules evaluate the same few addresses over and over.
 */
export function flowAddressValue(s: string | undefined): bigint {
  if (!s) return 0n;
  let v = addrCache.get(s);
  if (v === undefined) {
    v = parseAddress(s)?.value ?? 0n;
    if (addrCache.size > 65536) addrCache.clear();
    addrCache.set(s, v);
  }
  return v;
}

/**
 * nfdump's MAC check (VerifyMac): six ':'-separated hex groups, each at most 0xff, 17 characters at most,
 * and not all zero. Returns the 48-bit value, or null.
 */
export function parseMac(s: string): number | null {
  if (s.length > 17 || !/^[0-9a-fA-F:]+$/.test(s)) return null;
  const groups = s.split(':');
  if (groups.length !== 6) return null;
  let v = 0;
  for (const g of groups) {
    if (g === '') return null;
    const n = parseInt(g, 16);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v === 0 ? null : v;
}

export function formatMac(v: number): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push((Math.floor(v / 2 ** (8 * i)) % 256).toString(16).padStart(2, '0'));
  return out.join(':');
}
