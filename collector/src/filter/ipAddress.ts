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

/** Parses IPv6 text (with an optional embedded dotted quad); null when it is not an IPv6 address. */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45 || !s.includes(':')) return null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    // An embedded dotted quad stands for the last two groups.
    const v4 = parseIPv4(lastPart);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (h: string): bigint[] | null => {
    if (h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(BigInt(parseInt(g, 16)));
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  if (head === null) return null;
  let groups: bigint[];
  if (halves.length === 2) {
    const rest = parseGroups(halves[1]);
    if (rest === null || head.length + rest.length > 7) return null;
    groups = [...head, ...new Array<bigint>(8 - head.length - rest.length).fill(0n), ...rest];
  } else {
    if (head.length !== 8) return null;
    groups = head;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
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
