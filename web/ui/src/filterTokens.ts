// Splits one line of an nfdump filter into highlighting tokens. This only colours text: the server's parser
// (POST /filter/validate) decides what is valid, so the rules here are loose on purpose: a word is a keyword
// when nfdump or dvflow knows it, an address when it looks like one, a name otherwise. Plain TypeScript (no
// CodeMirror), so node can test it.

export type FilterTokenKind =
  | 'comment' | 'string' | 'keyword' | 'logic' | 'compare' | 'number' | 'address' | 'name' | 'bracket' | 'punct' | 'invalid';

export interface FilterToken {
  kind: FilterTokenKind;
  /** 0-based offsets in the line. */
  start: number;
  end: number;
}

/** Words the filter language treats as keywords (terms, qualifiers, dvflow's terms and fixed values). */
export const FILTER_KEYWORDS: ReadonlySet<string> = new Set([
  // terms and qualifiers (nfdump 1.7.1 / 1.7.8)
  'any', 'ipv4', 'ipv6', 'inet', 'inet6', 'proto', 'ip', 'host', 'net', 'port', 'icmp-type', 'icmp-code', 'icmp',
  'type', 'code', 'engine-type', 'engine-id', 'engine', 'id', 'exporter', 'sysid', 'as', 'if', 'vlan', 'mask',
  'mac', 'flags', 'tos', 'packets', 'bytes', 'flows', 'pps', 'bps', 'bpp', 'duration', 'flowdir', 'dir', 'first',
  'last', 'seen', 'ttl', 'ident', 'nfversion', 'fwdstat', 'observation', 'domain', 'src', 'dst', 'in', 'out', 'next',
  'prev', 'previous', 'bgp', 'bgpnext', 'router', 'min', 'max', 'equal', 'ingress', 'egress', 'address', 'tun', 'tunip',
  // dvflow's own terms
  'portgroup', 'vip', 'source', 'vm', 'backend', 'leg', 'tenant', 'duplicate', 'vni', 'netflow', 'pcap',
  'client-vip', 'vip-client', 'lb-server', 'server-lb', 'server-client',
  'encap', 'mirror', 'session', 'index', 'gre', 'key', 'outer', 'inner', 'fragments', 'none',
  'qinq', 'mpls', 'eompls', 'pppoe', 'pptp', 'erspan1', 'erspan2', 'erspan3', 'vxlan', 'geneve', 'ip-in-ip', 'ipv6-in-ip',
]);

const LOGIC = new Set(['and', 'or', 'not']);
const COMPARE_WORDS = new Set(['eq', 'gt', 'lt', 'ge', 'le']);
const WORD_CHAR = /[A-Za-z0-9_:.\-]/;

/** nfdump's number: digits with one k/m/g/t factor, or 0x-hex. */
export function isFilterNumber(word: string): boolean {
  return /^[0-9]+[kmgtKMGT]?$/.test(word) || /^0[xX][0-9A-Fa-f]+$/.test(word);
}

/** IPv4 (with an optional :port, as `vip 10.0.0.10:443` takes), IPv6, or a MAC address. */
export function isAddressLike(word: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){1,3}(:\d{1,5})?$/.test(word)) return true; // 10.0.0.1, nfdump's short 10.1
  if (/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(word)) return true; // MAC
  return word.includes(':') && /^[0-9A-Fa-f:.]+$/.test(word) && /[0-9A-Fa-f]/.test(word) && (word.match(/:/g)?.length ?? 0) >= 2;
}

function classifyWord(word: string): FilterTokenKind {
  const lower = word.toLowerCase();
  if (LOGIC.has(lower)) return 'logic';
  if (COMPARE_WORDS.has(lower)) return 'compare';
  if (isFilterNumber(word)) return 'number';
  if (isAddressLike(word)) return 'address';
  if (FILTER_KEYWORDS.has(lower)) return 'keyword';
  return 'name';
}

/**
 * The token starting at `pos` in `line` (which must not be whitespace), or undefined at the end. Used by the
 * CodeMirror stream parser one token at a time and by tokenizeFilterLine for a whole line.
 */
export function nextFilterToken(line: string, pos: number): FilterToken | undefined {
  if (pos >= line.length) return undefined;
  const c = line[pos]!;
  if (c === '#') return { kind: 'comment', start: pos, end: line.length };
  if (c === '"' || c === "'") {
    const close = line.indexOf(c, pos + 1);
    // An unterminated string runs to the end of the line; the validator says what is wrong with it.
    return close < 0 ? { kind: 'invalid', start: pos, end: line.length } : { kind: 'string', start: pos, end: close + 1 };
  }
  if (WORD_CHAR.test(c)) {
    let end = pos;
    while (end < line.length && WORD_CHAR.test(line[end]!)) end++;
    const word = line.slice(pos, end);
    // A CIDR (10.0.0.0/24, fe80::/10) is one address token, though the lexer sees word '/' number.
    if (isAddressLike(word)) {
      const m = /^\/\d{1,3}/.exec(line.slice(end));
      if (m) return { kind: 'address', start: pos, end: end + m[0].length };
    }
    return { kind: classifyWord(word), start: pos, end };
  }
  const two = line.slice(pos, pos + 2);
  if (two === '&&' || two === '||') return { kind: 'logic', start: pos, end: pos + 2 };
  if (two === '==' || two === '>=' || two === '<=') return { kind: 'compare', start: pos, end: pos + 2 };
  if (c === '!') return { kind: 'logic', start: pos, end: pos + 1 };
  if (c === '=' || c === '<' || c === '>') return { kind: 'compare', start: pos, end: pos + 1 };
  if (c === '(' || c === ')' || c === '[' || c === ']') return { kind: 'bracket', start: pos, end: pos + 1 };
  if (c === ',' || c === '/') return { kind: 'punct', start: pos, end: pos + 1 };
  return { kind: 'invalid', start: pos, end: pos + 1 };
}

/** Every token of a line, whitespace skipped. */
export function tokenizeFilterLine(line: string): FilterToken[] {
  const out: FilterToken[] = [];
  let pos = 0;
  while (pos < line.length) {
    if (/\s/.test(line[pos]!)) {
      pos++;
      continue;
    }
    const t = nextFilterToken(line, pos)!;
    out.push(t);
    pos = t.end;
  }
  return out;
}

/**
 * The span a server error position points at, for underlining: `position` is 1-based (text length + 1 for
 * "unexpected end"); the span covers the word there, or is empty at the end of the text.
 */
export function errorSpan(text: string, position: number): { from: number; to: number } {
  const from = Math.max(0, Math.min(text.length, position - 1));
  let to = from;
  while (to < text.length && !/[\s()[\],]/.test(text[to]!)) to++;
  if (to === from && from < text.length) to = from + 1;
  return { from, to };
}
