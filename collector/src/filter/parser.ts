// Recursive-descent parser for nfdump's filter language: the union of the 1.7.1 dialect (Debian 12) and the
// 1.7.8 one, plus dvflow's own terms. Precedence as in nfdump's grammar.y: not > and > or, all
// left-associative; an empty filter (or one of only comments) matches everything.

import type { AddrRange } from './ipAddress.ts';
import { hostRange, netRange, parseAddress, parseIPv4, parseMac, parseShortIPv4, IPV4_MAPPED_BASE } from './ipAddress.ts';
import type { Comparator, FilterNode, MacSelector, NumericField, Qualifier, Side, Term, TermNode } from './ast.ts';
import { ENCAP_NAMES, encapName } from './encapNames.ts';
import { FilterError } from './filterError.ts';
import { comparatorOf, tokenize, type Token } from './lexer.ts';
import { protocolNumber } from './protocolNames.ts';

/** Words that can start a term (after any qualifier). */
export const TERM_KEYWORDS = [
  'any', 'ipv4', 'inet', 'ipv6', 'inet6', 'proto', 'ip', 'host', 'net', 'port', 'icmp-type', 'icmp-code', 'icmp',
  'engine-type', 'engine-id', 'engine', 'exporter', 'sysid', 'as', 'if', 'vlan', 'mask', 'mac', 'flags', 'tos',
  'packets', 'bytes', 'flows', 'pps', 'bps', 'bpp', 'duration', 'flowdir', 'dir', 'bgpnext', 'router',
  'first', 'last', 'ttl', 'ident', 'nfversion', 'fwdstat', 'observation',
  'tun', 'tunip',
  'portgroup', 'vip', 'source', 'vni', 'backend', 'leg', 'vm', 'duplicate', 'tenant',
  'encap', 'mirror', 'gre', 'outer', 'inner', 'fragments',
] as const;

/** dvflow keywords that are also nfdump protocol names (`proto gre`, `proto encap` = 98): not reserved after `proto`. */
const PROTOCOL_NAME_KEYWORDS: ReadonlySet<string> = new Set(['icmp', 'ipv6', 'gre', 'encap']);

/** VIP legs the enricher writes (collector/src/inventory/enricher.ts). */
const LEGS = ['client-vip', 'vip-client', 'lb-server', 'server-lb', 'server-client'];

/** Words that qualify the term after them: `src port`, `in if`, `next ip`, `min ttl` ... */
export const QUALIFIER_KEYWORDS = ['src', 'dst', 'in', 'out', 'next', 'prev', 'previous', 'bgp', 'min', 'max'] as const;

/** nfdump terms dvflow parses but has no data for, with the reason given to the user. */
export const UNSUPPORTED_KEYWORDS: Readonly<Record<string, string>> = {
  geo: 'geo location lookups need a geoDB dvflow does not have',
  tz: 'time zone lookups need a geoDB dvflow does not have',
  mpls: 'MPLS labels are not stored',
  latency: 'nprobe latency fields are not stored',
  client: 'nprobe latency fields are not stored',
  server: 'nprobe latency fields are not stored',
  app: 'nprobe latency fields are not stored',
  asa: 'Cisco ASA/NSEL event fields are not stored',
  xevent: 'Cisco ASA/NSEL event fields are not stored',
  xip: 'NSEL translated addresses are not stored',
  xnet: 'NSEL translated addresses are not stored',
  xport: 'NSEL translated ports are not stored',
  acl: 'NSEL ACL fields are not stored',
  ace: 'NSEL ACL fields are not stored',
  xace: 'NSEL ACL fields are not stored',
  ingress: 'NSEL/NEL ingress ACL and VRF fields are not stored',
  egress: 'NSEL/NEL egress ACL and VRF fields are not stored',
  nat: 'NAT event (NEL) fields are not stored',
  xlate: 'NAT event (NEL) fields are not stored',
  nip: 'NAT addresses are not stored',
  nport: 'NAT ports are not stored',
  pblock: 'NAT port blocks are not stored',
  vrf: 'VRF ids are not stored',
  payload: 'payload data is not stored',
  pf: 'OpenBSD pflog fields are not stored',
  ethertype: 'the EtherType is not stored',
  count: 'the record counter is nfdump\'s read order, which a database has not',
  cnt: 'the record counter is nfdump\'s read order, which a database has not',
  flowlabel: 'flow labels are not supported',
};

/** nfdump's forwarding status names (fwdstat NAME), case-insensitive. */
const FWD_STATUS: Readonly<Record<string, number>> = {
  ukwn: 0, forw: 1, frag: 2, drop: 16, dacld: 17, daclp: 18, noroute: 19, dadj: 20, dfrag: 21, dbadh: 22,
  dbadtlen: 23, dbadhlen: 24, dbadttl: 25, dpolicy: 26, dwred: 27, drpf: 28, dforus: 29, dbadof: 30, dhw: 31,
  term: 128, tadj: 129, tincadj: 130, tforus: 131,
};

const COMPARATORS = ['=', '==', '>', '<', '>=', '<=', 'eq', 'gt', 'lt', 'ge', 'le'];
const U32 = 0xffffffff;

/** What a numeric term accepts: its name in messages, its range, whether a comparator may precede it. */
interface NumberSpec {
  what: string;
  /** Name in range errors, when `what` does not read as one. */
  noun?: string;
  max: number;
  comparator: boolean;
}

const SPECS: Record<NumericField, NumberSpec> = {
  proto: { what: 'a protocol name or number', max: 255, comparator: false },
  port: { what: 'a port number', max: 65535, comparator: true },
  as: { what: 'an AS number', max: U32, comparator: true },
  icmpType: { what: 'an ICMP type', max: 255, comparator: true },
  icmpCode: { what: 'an ICMP code', max: 255, comparator: true },
  engineType: { what: 'an engine type', max: 255, comparator: true },
  engineId: { what: 'an engine id', max: 255, comparator: true },
  sysid: { what: 'an exporter id', max: 65535, comparator: true },
  if: { what: 'an interface number', max: U32, comparator: false },
  vlan: { what: 'a VLAN id', max: U32, comparator: false },
  mask: { what: 'a mask length', max: 255, comparator: false },
  tos: { what: 'a ToS value', max: 255, comparator: true },
  flags: { what: 'TCP flags', max: 255, comparator: true },
  packets: { what: 'a packet count', max: Number.MAX_SAFE_INTEGER, comparator: true },
  bytes: { what: 'a byte count', max: Number.MAX_SAFE_INTEGER, comparator: true },
  flows: { what: 'a flow count', max: Number.MAX_SAFE_INTEGER, comparator: true },
  pps: { what: 'a packets-per-second value', max: Number.MAX_SAFE_INTEGER, comparator: true },
  bps: { what: 'a bits-per-second value', max: Number.MAX_SAFE_INTEGER, comparator: true },
  bpp: { what: 'a bytes-per-packet value', max: Number.MAX_SAFE_INTEGER, comparator: true },
  duration: { what: 'a duration in milliseconds', max: Number.MAX_SAFE_INTEGER, comparator: true },
  // 1.7.1 accepts 0..2 (1.7.8 only 0 and 1).
  flowdir: { what: "'ingress', 'egress' or a direction number", noun: 'flow direction', max: 2, comparator: false },
  ttl: { what: 'a TTL value', max: 255, comparator: true },
  nfversion: { what: 'a NetFlow version', max: 10, comparator: true },
  fwdstat: { what: 'a forwarding status', max: 255, comparator: true },
  domain: { what: 'an observation domain id', max: U32, comparator: true },
  vni: { what: 'a VXLAN VNI', max: 0xffffff, comparator: true },
  outerVlan: { what: 'a VLAN id', max: 4095, comparator: true },
  innerVlan: { what: 'a VLAN id', max: 4095, comparator: true },
  // ERSPAN II/III: a 10-bit session id; a 20-bit type II index (type III's 6-bit hardware id fits).
  mirrorSession: { what: 'an ERSPAN session id', max: 1023, comparator: true },
  mirrorIndex: { what: 'an ERSPAN index', max: 0xfffff, comparator: true },
  greKey: { what: 'a GRE key', max: U32, comparator: true },
  fragments: { what: 'a fragment count', max: U32, comparator: true },
  first: { what: 'an ISO 8601 time', max: Number.MAX_SAFE_INTEGER, comparator: true },
  last: { what: 'an ISO 8601 time', max: Number.MAX_SAFE_INTEGER, comparator: true },
};

/** A qualifier read before a term keyword. */
interface Qual {
  kind: 'none' | Side | 'in' | 'out' | 'inSrc' | 'inDst' | 'outSrc' | 'outDst' | 'next' | 'prev' | 'bgpNext' | 'router' | 'min' | 'max';
  /** First qualifier token, for positions; undefined for 'none'. */
  tok?: Token;
  /** As written, for messages. */
  text: string;
}

const NO_QUAL: Qual = { kind: 'none', text: '' };

/** dvflow's two-word capture-fact terms: `mirror session N`, `gre key N`, `outer vlan N` ... */
const CAPTURE_FACT_TERMS: Readonly<Record<string, Readonly<Record<string, NumericField>>>> = {
  mirror: { session: 'mirrorSession', index: 'mirrorIndex' },
  gre: { key: 'greKey' },
  outer: { vlan: 'outerVlan' },
  inner: { vlan: 'innerVlan' },
};

/** Terms each qualifier can precede, for messages and completion. */
export const QUALIFIED_TERMS: Readonly<Record<string, readonly string[]>> = {
  src: ['ip', 'host', 'net', 'port', 'as', 'mask', 'vlan', 'tos', 'mac', 'tun', 'tunip'],
  dst: ['ip', 'host', 'net', 'port', 'as', 'mask', 'vlan', 'tos', 'mac', 'tun', 'tunip'],
  either: ['ip', 'host', 'net', 'port', 'as', 'mask', 'vlan', 'tos', 'tun', 'tunip'],
  both: ['ip', 'host', 'net', 'port', 'as', 'mask', 'vlan', 'tos', 'tun', 'tunip'],
  in: ['src', 'dst', 'if', 'packets', 'bytes', 'mac', 'portgroup', 'vm'],
  out: ['src', 'dst', 'if', 'packets', 'bytes', 'mac', 'portgroup', 'vm'],
  inSrc: ['mac'], inDst: ['mac'], outSrc: ['mac'], outDst: ['mac'],
  next: ['ip', 'host', 'net', 'as'],
  prev: ['as'],
  bgpNext: ['ip', 'host', 'net'],
  router: ['ip', 'host', 'net'],
  min: ['ttl'],
  max: ['ttl'],
};

/** ISO 8601 (and nfdump's legacy separators) as nfdump's ParseTime8601 reads it, in local time. */
function parseTime(text: string): number | undefined {
  const m = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:[^0-9]([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{3}))?)?)?)?)?)?$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, min, sec, ms] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  if (year! < 1970 || year! > 2038) return undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > 31)) return undefined;
  if (hour !== undefined && hour > 23) return undefined;
  if (min !== undefined && min > 59) return undefined;
  if (sec !== undefined && sec > 59) return undefined;
  return new Date(year!, (month ?? 1) - 1, day ?? 1, hour ?? 0, min ?? 0, sec ?? 0, ms ?? 0).getTime();
}

class Parser {
  private i = 0;

  constructor(private readonly toks: Token[]) {}

  private peek(n = 0): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private prev(): Token {
    return this.toks[Math.max(this.i - 1, 0)];
  }

  private isWord(t: Token, ...words: string[]): boolean {
    return t.kind === 'word' && words.includes(t.lower);
  }

  private fail(t: Token, detail: string, expected: string[] = [], kind: 'syntax' | 'value' | 'unsupported' = 'syntax'): never {
    throw new FilterError(t.pos, detail, kind, expected);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'the end of the filter';
    if (t.kind === 'string') return `"${t.text}"`;
    return `'${t.text}'`;
  }

  parse(): FilterNode {
    if (this.peek().kind === 'eof') return { type: 'any', pos: 1, end: 1 };
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === ')') this.fail(t, "unexpected ')' without a matching '('", ['and', 'or', '<end>']);
      this.fail(t, `expected 'and', 'or' or the end of the filter, found ${this.describe(t)}`, ['and', 'or', '<end>']);
    }
    return node;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.peek().kind === 'or') {
      this.next();
      const right = this.parseAnd();
      left = { type: 'or', left, right, pos: left.pos, end: right.end };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.peek().kind === 'and') {
      this.next();
      const right = this.parseUnary();
      left = { type: 'and', left, right, pos: left.pos, end: right.end };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const t = this.peek();
    if (t.kind === 'not') {
      this.next();
      const operand = this.parseUnary();
      return { type: 'not', operand, pos: t.pos, end: operand.end };
    }
    if (t.kind === '(') {
      this.next();
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== ')') {
        if (close.kind === 'eof') this.fail(close, `missing ')' to close the '(' at ${t.pos}`, [')', 'and', 'or']);
        this.fail(close, `expected 'and', 'or' or ')', found ${this.describe(close)}`, [')', 'and', 'or']);
      }
      this.next();
      // Parentheses only group: the node keeps the span of its content.
      return inner;
    }
    return this.parseTerm();
  }

  private term(start: Token, term: Term): TermNode {
    return { ...term, pos: start.pos, end: this.prev().end } as TermNode;
  }

  private parseTerm(): FilterNode {
    const t = this.peek();
    const termStart = [...TERM_KEYWORDS, ...QUALIFIER_KEYWORDS, 'not', '('];
    if (t.kind === 'eof') this.fail(t, 'unexpected end of the filter: expected a filter term', termStart);
    if (t.kind === ')') this.fail(t, "unexpected ')': expected a filter term", termStart);
    if (t.kind === 'and' || t.kind === 'or') this.fail(t, `expected a filter term before '${t.text}'`, termStart);
    if (t.kind !== 'word') {
      const hint = t.kind === 'number' ? ` (did you mean 'port ${t.text}' or 'proto ${t.text}'?)` : '';
      this.fail(t, `expected a filter term, found ${this.describe(t)}${hint}`, termStart);
    }
    switch (t.lower) {
      case 'src':
      case 'dst':
        return this.parseSideQualified();
      case 'tenant': {
        this.next();
        const inner = this.parseTerm();
        const ok = (inner.type === 'address' && inner.target === 'flow') || inner.type === 'numberList' && inner.field === 'port'
          || (inner.type === 'compare' && (inner.field === 'port' || inner.field === 'proto'));
        if (!ok) this.fail(t, "'tenant' takes [src|dst] ip, host, net, port or proto (the VXLAN tenant 5-tuple)", ['src', 'dst', 'ip', 'host', 'net', 'port', 'proto'], 'syntax');
        return { type: 'tenant', inner: inner as TermNode, pos: t.pos, end: inner.end };
      }
      case 'in':
      case 'out':
        return this.parseInOut();
      case 'next': {
        this.next();
        return this.parseQualified(t, { kind: 'next', tok: t, text: 'next' });
      }
      case 'prev':
      case 'previous': {
        this.next();
        return this.parseQualified(t, { kind: 'prev', tok: t, text: t.text });
      }
      case 'bgp': {
        this.next();
        const n = this.peek();
        if (!this.isWord(n, 'next')) this.fail(n, `expected 'next' after 'bgp', found ${this.describe(n)}`, ['next']);
        this.next();
        return this.parseQualified(t, { kind: 'bgpNext', tok: t, text: 'bgp next' });
      }
      case 'bgpnext': {
        this.next();
        return this.parseQualified(t, { kind: 'bgpNext', tok: t, text: 'bgpnext' });
      }
      case 'router': {
        this.next();
        return this.parseQualified(t, { kind: 'router', tok: t, text: 'router' });
      }
      case 'min':
      case 'max': {
        this.next();
        return this.parseQualified(t, { kind: t.lower, tok: t, text: t.lower });
      }
      default:
        return this.parseQualified(t, NO_QUAL);
    }
  }

  /** `src ...`, `dst ...`, and 1.7.1's `src or dst ...` / `src and dst ...`. */
  private parseSideQualified(): FilterNode {
    const first = this.next();
    let kind: Qual['kind'] = first.lower as 'src' | 'dst';
    let text = first.lower;
    const op = this.peek();
    const other = this.peek(1);
    if ((op.kind === 'and' || op.kind === 'or') && this.isWord(other, first.lower === 'src' ? 'dst' : 'src')) {
      this.next();
      this.next();
      kind = op.kind === 'and' ? 'both' : 'either';
      text = `${first.lower} ${op.text} ${other.lower}`;
    }
    return this.parseQualified(first, { kind, tok: first, text });
  }

  /** `in if`, `out bytes`, `in src mac`, `out portgroup` ... */
  private parseInOut(): FilterNode {
    const first = this.next();
    const dir = first.lower as 'in' | 'out';
    const n = this.peek();
    if (this.isWord(n, 'src', 'dst')) {
      this.next();
      const kind = `${dir}${n.lower === 'src' ? 'Src' : 'Dst'}` as Qual['kind'];
      return this.parseQualified(first, { kind, tok: first, text: `${dir} ${n.lower}` });
    }
    return this.parseQualified(first, { kind: dir, tok: first, text: dir });
  }

  /** Every term accepts no qualifier; `allowed` lists the ones it accepts besides. */
  private requireQual(q: Qual, keyword: Token, allowed: Qual['kind'][]): void {
    if (q.kind === 'none' || allowed.includes(q.kind)) return;
    this.fail(q.tok!, `'${q.text}' cannot qualify '${keyword.lower}'`, [...(QUALIFIED_TERMS[q.kind] ?? [])]);
  }

  private parseQualified(start: Token, q: Qual): FilterNode {
    const kw = this.peek();
    if (kw.kind !== 'word') {
      if (q.kind !== 'none') this.fail(kw, `expected a filter term after '${q.text}', found ${this.describe(kw)}`, [...(QUALIFIED_TERMS[q.kind] ?? TERM_KEYWORDS)]);
      this.fail(kw, `expected a filter term, found ${this.describe(kw)}`, [...TERM_KEYWORDS]);
    }
    const word = kw.lower;
    const unsupported = UNSUPPORTED_KEYWORDS[word];
    if (unsupported) this.fail(kw, `not supported: '${kw.text}' (${unsupported})`, [], 'unsupported');
    const sides: Qual['kind'][] = ['none', 'src', 'dst', 'either', 'both'];
    switch (word) {
      case 'any':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.term(start, { type: 'any' });
      case 'ipv4':
      case 'inet':
      case 'ipv6':
      case 'inet6':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.term(start, { type: 'family', family: word === 'ipv4' || word === 'inet' ? 4 : 6 });
      case 'proto':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.term(start, this.parseProto(kw));
      case 'ip':
      case 'host':
        this.requireQual(q, kw, [...sides, 'next', 'bgpNext', 'router']);
        this.next();
        return this.parseAddressTerm(start, kw, q);
      case 'net':
        this.requireQual(q, kw, [...sides, 'next', 'bgpNext', 'router']);
        this.next();
        return this.term(start, { type: 'address', target: addrTarget(q), side: addrSide(q), form: 'net', ranges: [this.parseNet(kw)] });
      case 'port':
        this.requireQual(q, kw, sides);
        this.next();
        if (this.isWord(this.peek(), 'in')) {
          const inTok = this.next();
          if (this.isWord(this.peek(), 'pblock')) this.fail(this.peek(), "not supported: 'port in pblock' (NAT port blocks are not stored)", [], 'unsupported');
          return this.term(start, { type: 'numberList', field: 'port', qualifier: side(q), values: this.parseNumberList(inTok, SPECS.port) });
        }
        return this.compare(start, kw, 'port', side(q));
      case 'as':
        this.requireQual(q, kw, [...sides, 'next', 'prev']);
        this.next();
        if (this.isWord(this.peek(), 'in')) {
          const inTok = this.next();
          const qualifier: Qualifier = q.kind === 'next' || q.kind === 'prev' ? q.kind : side(q);
          return this.term(start, { type: 'numberList', field: 'as', qualifier, values: this.parseNumberList(inTok, SPECS.as) });
        }
        return this.compare(start, kw, 'as', q.kind === 'next' || q.kind === 'prev' ? q.kind : side(q));
      case 'icmp-type':
      case 'icmp-code':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.compare(start, kw, word === 'icmp-type' ? 'icmpType' : 'icmpCode', 'none');
      case 'icmp': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const which = this.peek();
        if (!this.isWord(which, 'type', 'code')) this.fail(which, `expected 'type' or 'code' after 'icmp', found ${this.describe(which)}`, ['type', 'code']);
        this.next();
        return this.compare(start, which, which.lower === 'type' ? 'icmpType' : 'icmpCode', 'none');
      }
      case 'engine-type':
      case 'engine-id':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.compare(start, kw, word === 'engine-type' ? 'engineType' : 'engineId', 'none');
      case 'engine': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const which = this.peek();
        if (!this.isWord(which, 'type', 'id')) this.fail(which, `expected 'type' or 'id' after 'engine', found ${this.describe(which)}`, ['type', 'id']);
        this.next();
        return this.compare(start, which, which.lower === 'type' ? 'engineType' : 'engineId', 'none');
      }
      case 'sysid':
        // 1.7.1's form: no comparator, ids up to 255.
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.compare(start, kw, 'sysid', 'none', { what: 'an exporter id', max: 255, comparator: false });
      case 'exporter':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseExporter(start, kw);
      case 'if':
        this.requireQual(q, kw, ['none', 'in', 'out']);
        this.next();
        return this.compare(start, kw, 'if', q.kind === 'in' || q.kind === 'out' ? q.kind : 'either');
      case 'vlan':
        this.requireQual(q, kw, sides);
        this.next();
        return this.compare(start, kw, 'vlan', side(q));
      case 'mask':
        this.requireQual(q, kw, sides);
        this.next();
        return this.compare(start, kw, 'mask', side(q));
      case 'mac':
        this.requireQual(q, kw, ['none', 'src', 'dst', 'in', 'out', 'inSrc', 'inDst', 'outSrc', 'outDst']);
        this.next();
        return this.parseMacTerm(start, kw, q);
      case 'flags':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseFlags(start, kw);
      case 'tos':
        // nfdump: a bare `tos` is the source ToS.
        this.requireQual(q, kw, sides);
        this.next();
        return this.compare(start, kw, 'tos', q.kind === 'none' ? 'src' : side(q));
      case 'packets':
      case 'bytes':
        this.requireQual(q, kw, ['none', 'in', 'out']);
        this.next();
        return this.compare(start, kw, word as NumericField, q.kind === 'out' ? 'out' : 'in');
      case 'flows':
      case 'pps':
      case 'bps':
      case 'bpp':
      case 'duration':
      case 'nfversion':
      case 'vni':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.compare(start, kw, word as NumericField, 'none');
      case 'flowdir':
      case 'dir': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const v = this.peek();
        if (this.isWord(v, 'ingress', 'egress')) {
          this.next();
          return this.term(start, { type: 'compare', field: 'flowdir', qualifier: 'none', cmp: '=', value: v.lower === 'ingress' ? 0 : 1 });
        }
        return this.compare(start, kw, 'flowdir', 'none');
      }
      case 'first':
      case 'last':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseSeen(start, kw);
      case 'ttl': {
        this.requireQual(q, kw, ['none', 'min', 'max']);
        this.next();
        if (this.isWord(this.peek(), 'equal')) {
          this.next();
          return this.term(start, { type: 'ttlEqual' });
        }
        return this.compare(start, kw, 'ttl', q.kind === 'min' || q.kind === 'max' ? q.kind : 'either');
      }
      case 'ident':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseIdent(start, kw);
      case 'fwdstat': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const v = this.peek();
        if (v.kind === 'word') {
          const status = FWD_STATUS[v.lower];
          if (status === undefined) this.fail(v, `unknown forwarding status '${v.text}'`, Object.keys(FWD_STATUS), 'value');
          this.next();
          return this.term(start, { type: 'compare', field: 'fwdstat', qualifier: 'none', cmp: '=', value: status });
        }
        return this.compare(start, kw, 'fwdstat', 'none');
      }
      case 'observation': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const which = this.peek();
        if (this.isWord(which, 'point')) this.fail(which, "not supported: 'observation point id' (not stored)", [], 'unsupported');
        if (!this.isWord(which, 'domain')) this.fail(which, `expected 'domain' after 'observation', found ${this.describe(which)}`, ['domain', 'point']);
        this.next();
        const id = this.peek();
        if (!this.isWord(id, 'id')) this.fail(id, `expected 'id' after 'observation domain', found ${this.describe(id)}`, ['id']);
        this.next();
        return this.compare(start, id, 'domain', 'none');
      }
      case 'portgroup':
        this.requireQual(q, kw, ['none', 'in', 'out']);
        this.next();
        return this.term(start, { type: 'portgroup', side: q.kind === 'in' || q.kind === 'out' ? q.kind : 'either', name: this.parseName(kw, 'a portgroup name') });
      case 'vip':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseVip(start, kw);
      case 'vm':
        this.requireQual(q, kw, ['none', 'in', 'out']);
        this.next();
        return this.term(start, { type: 'named', what: 'vm', side: q.kind === 'in' || q.kind === 'out' ? q.kind : 'either', name: this.parseName(kw, 'a VM name') });
      case 'backend':
      case 'leg': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const what = kw.lower as 'backend' | 'leg';
        const name = this.parseName(kw, what === 'leg' ? 'a leg (client-vip, vip-client, lb-server, server-lb, server-client)' : 'a real server name');
        if (what === 'leg' && !LEGS.includes(name)) this.fail(this.prev(), `unknown leg '${name}': expected one of ${LEGS.join(', ')}`, [...LEGS], 'value');
        return this.term(start, { type: 'named', what, side: 'either', name });
      }
      case 'duplicate':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.term(start, { type: 'duplicate' });
      case 'source': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const v = this.peek();
        if (!this.isWord(v, 'netflow', 'pcap')) this.fail(v, `expected 'netflow' or 'pcap' after 'source', found ${this.describe(v)}`, ['netflow', 'pcap']);
        this.next();
        return this.term(start, { type: 'source', source: v.lower as 'netflow' | 'pcap' });
      }
      case 'tun':
        this.requireQual(q, kw, sides);
        this.next();
        return this.parseTunnel(start, kw, q);
      case 'tunip': {
        // nfdump 1.7.1's spelling of 1.7.8's `[src|dst] tun ip ADDR`: one address, no list.
        this.requireQual(q, kw, sides);
        this.next();
        const v = this.peek();
        if (this.isWord(v, 'in')) this.fail(v, "'tunip' takes one address: use 'tun ip in [ ... ]' for a list", ['<address>']);
        return this.term(start, { type: 'address', target: 'tunnel', side: side(q), form: 'host', ranges: [this.parseHost(kw)] });
      }
      case 'encap':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.parseEncap(start, kw);
      case 'mirror':
      case 'gre':
      case 'outer':
      case 'inner': {
        this.requireQual(q, kw, ['none']);
        this.next();
        const second = CAPTURE_FACT_TERMS[word];
        const which = this.peek();
        const names = Object.keys(second);
        if (!this.isWord(which, ...names)) {
          this.fail(which, `expected ${names.map((n) => `'${n}'`).join(' or ')} after '${kw.text}', found ${this.describe(which)}`, names);
        }
        this.next();
        return this.compare(start, which, second[which.lower], 'none');
      }
      case 'fragments':
        this.requireQual(q, kw, ['none']);
        this.next();
        return this.compare(start, kw, 'fragments', 'none');
      default: {
        if (parseAddress(kw.text)) {
          this.fail(kw, `expected a filter term, found the address '${kw.text}' (did you mean 'ip ${kw.text}'?)`, [...TERM_KEYWORDS]);
        }
        if (q.kind !== 'none') this.fail(kw, `'${kw.text}' cannot follow '${q.text}'`, [...(QUALIFIED_TERMS[q.kind] ?? TERM_KEYWORDS)]);
        this.fail(kw, `unknown filter term '${kw.text}'`, [...TERM_KEYWORDS, ...QUALIFIER_KEYWORDS]);
      }
    }
  }

  /**
   * After `[src|dst] tun`: nfdump 1.7.8's `ip|host ADDR`, `ip in [ LIST ]`, `net NET`, with the endpoints of the
   * capture's outermost tunnel; `tun proto` and `tun geo` have no data in dvflow.
   */
  private parseTunnel(start: Token, kw: Token, q: Qual): TermNode {
    const what = this.peek();
    const s = side(q);
    if (this.isWord(what, 'ip', 'host')) {
      this.next();
      if (this.isWord(this.peek(), 'in')) {
        const inTok = this.next();
        return this.term(start, { type: 'address', target: 'tunnel', side: s, form: 'list', ranges: this.parseAddressList(inTok) });
      }
      return this.term(start, { type: 'address', target: 'tunnel', side: s, form: 'host', ranges: [this.parseHost(what)] });
    }
    if (this.isWord(what, 'net')) {
      this.next();
      return this.term(start, { type: 'address', target: 'tunnel', side: s, form: 'net', ranges: [this.parseNet(what)] });
    }
    if (this.isWord(what, 'proto')) {
      // nfdump has `tun proto` without a side only.
      if (q.kind !== 'none') this.fail(q.tok!, `'${q.text}' cannot qualify 'tun proto'`, ['tun']);
      this.fail(kw, "not supported: 'tun proto' (the tunnel's IP protocol is not stored; the encapsulation is: use encap gre, encap ip-in-ip, encap ipv6-in-ip ...)", [], 'unsupported');
    }
    const unsupported = what.kind === 'word' ? UNSUPPORTED_KEYWORDS[what.lower] : undefined;
    if (unsupported) this.fail(what, `not supported: '${what.text}' (${unsupported})`, [], 'unsupported');
    if (q.kind !== 'none') this.fail(what, `expected 'ip' or 'net' after '${q.text} ${kw.text}', found ${this.describe(what)}`, ['ip', 'host', 'net']);
    this.fail(what, `expected 'ip', 'net' or 'proto' after '${kw.text}', found ${this.describe(what)}`, ['ip', 'host', 'net', 'proto']);
  }

  /** `encap NAME` (a kind the capture decoder records) or `encap none`. */
  private parseEncap(start: Token, kw: Token): TermNode {
    const v = this.peek();
    const expected = [...ENCAP_NAMES, 'none'];
    if (v.kind !== 'word' && v.kind !== 'string') {
      this.fail(v, `expected an encapsulation after '${kw.text}'${v.kind === 'eof' ? '' : `, found ${this.describe(v)}`}`, expected);
    }
    if (v.lower === 'none') {
      this.next();
      return this.term(start, { type: 'encap', kind: null });
    }
    const kind = encapName(v.lower);
    if (kind === undefined) this.fail(v, `unknown encapsulation '${v.text}': expected one of ${expected.join(', ')}`, expected, 'value');
    this.next();
    return this.term(start, { type: 'encap', kind });
  }

  /** `[comp] NUMBER` after a keyword. */
  private compare(start: Token, kw: Token, field: NumericField, qualifier: Qualifier, spec: NumberSpec = SPECS[field]): TermNode {
    let cmp: Comparator = '=';
    const c = this.peek();
    const cOp = comparatorOf(c);
    if (cOp) {
      if (!spec.comparator) this.fail(c, `'${kw.lower}' takes no comparator: expected ${spec.what}`, ['<number>'], 'syntax');
      cmp = cOp;
      this.next();
    }
    const n = this.peek();
    if (n.kind !== 'number') {
      const expected = spec.comparator && !cOp ? ['<number>', ...COMPARATORS] : ['<number>'];
      if (field === 'port' && !cOp) expected.push('in');
      this.fail(n, `expected ${spec.what} after '${this.prev().text}'${n.kind === 'eof' ? '' : `, found ${this.describe(n)}`}`, expected);
    }
    this.next();
    if (n.value! > spec.max) this.fail(n, `${spec.noun ?? spec.what.replace(/^an? /, '')} ${n.text} is out of range (0..${spec.max})`, [], 'value');
    return this.term(start, { type: 'compare', field, qualifier, cmp, value: n.value! });
  }

  private parseProto(kw: Token): Term {
    const v = this.peek();
    if (v.kind === 'number') {
      this.next();
      if (v.value! > 255) this.fail(v, `protocol ${v.text} is out of range (0..255)`, [], 'value');
      return { type: 'compare', field: 'proto', qualifier: 'none', cmp: '=', value: v.value! };
    }
    if (v.kind === 'word') {
      const reserved = (TERM_KEYWORDS as readonly string[]).includes(v.lower) || (QUALIFIER_KEYWORDS as readonly string[]).includes(v.lower);
      if (!reserved || PROTOCOL_NAME_KEYWORDS.has(v.lower)) {
        const num = protocolNumber(v.text);
        if (num === undefined) this.fail(v, `unknown protocol '${v.text}'`, ['tcp', 'udp', 'icmp', 'icmp6', 'gre', 'esp', 'ah', '<number>'], 'value');
        this.next();
        return { type: 'compare', field: 'proto', qualifier: 'none', cmp: '=', value: num };
      }
    }
    if (comparatorOf(v)) this.fail(v, `'proto' takes no comparator: expected a protocol name or number`, ['<number>', '<name>']);
    this.fail(v, `expected a protocol name or number after '${kw.text}'${v.kind === 'eof' ? '' : `, found ${this.describe(v)}`}`, ['tcp', 'udp', 'icmp', 'icmp6', 'gre', 'esp', 'ah', '<number>']);
  }

  /** An IP address argument. dvflow resolves no host names, unlike nfdump. */
  private parseHost(after: Token): AddrRange {
    const v = this.peek();
    if (v.kind === 'word') {
      if (v.lower === 'tor') this.fail(v, "not supported: 'tor' (Tor exit-node lookups need nfdump's torDB)", [], 'unsupported');
      const a = parseAddress(v.text);
      if (a) {
        this.next();
        return hostRange(a.value, a.family);
      }
      if (/^[0-9.]+$/.test(v.text)) this.fail(v, `incomplete IP address '${v.text}'`, ['<address>'], 'value');
      if (/^[A-Za-z0-9_.-]+$/.test(v.text) && /[A-Za-z]/.test(v.text)) {
        this.fail(v, `'${v.text}' is not an IP address: dvflow does not resolve host names`, ['<address>'], 'value');
      }
      this.fail(v, `invalid IP address '${v.text}'`, ['<address>'], 'value');
    }
    this.fail(v, `expected an IP address after '${after.text}'${v.kind === 'eof' ? '' : `, found ${this.describe(v)}`}`, ['<address>']);
  }

  private parseAddressTerm(start: Token, kw: Token, q: Qual): TermNode {
    const target = addrTarget(q);
    const s = addrSide(q);
    if (this.isWord(this.peek(), 'in')) {
      if (target === 'bgpNextHop' || target === 'router') this.fail(this.peek(), `'${q.text} ${kw.lower} in [ ]' is not a filter term: use an or-chain`, ['<address>']);
      const inTok = this.next();
      return this.term(start, { type: 'address', target, side: s, form: 'list', ranges: this.parseAddressList(inTok) });
    }
    return this.term(start, { type: 'address', target, side: s, form: 'host', ranges: [this.parseHost(kw)] });
  }

  private parseAddressList(inTok: Token): AddrRange[] {
    const open = this.peek();
    if (open.kind !== '[') this.fail(open, `expected '[' after '${inTok.text}'`, ['[']);
    this.next();
    const out: AddrRange[] = [];
    for (;;) {
      const item = this.peek();
      if (item.kind === ']') this.fail(item, out.length === 0 ? 'empty address list' : "expected an address after ','", ['<address>']);
      if (item.kind === 'eof') this.fail(item, `missing ']' to close the list at ${open.pos}`, [']', '<address>']);
      const host = this.parseHost(this.prev());
      if (this.peek().kind === '/') {
        this.next();
        out.push(this.prefixFor(item, host, 4));
      } else {
        out.push(host);
      }
      const sep = this.peek();
      if (sep.kind === ']') {
        this.next();
        return out;
      }
      if (sep.kind === ',') this.next();
    }
  }

  /** `/bits` after an address whose value is `host`; `octets` bounds the prefix (nfdump's short IPv4 form). */
  private prefixFor(addrTok: Token, host: AddrRange, octets: number): AddrRange {
    const bitsTok = this.peek();
    if (bitsTok.kind !== 'number') this.fail(bitsTok, `expected a prefix length after '/'`, ['<number>']);
    this.next();
    const bits = bitsTok.value!;
    const max = host.family === 4 ? 32 : 128;
    if (bits > max) this.fail(bitsTok, `prefix length ${bits} is out of range for an IPv${host.family} address (0..${max})`, [], 'value');
    if (host.family === 4 && bits > octets * 8) {
      this.fail(bitsTok, `prefix length ${bits} is longer than the ${octets * 8} bits written in '${addrTok.text}'`, [], 'value');
    }
    return netRange(host.lo, host.family, bits);
  }

  /** `net A.B.C.D/N`, `net A.B.C.D MASK`, `net 172.16/16` (1.7.1), `net 2001:db8::/32`. */
  private parseNet(kw: Token): AddrRange {
    const a = this.peek();
    if (a.kind !== 'word') this.fail(a, `expected a network after '${kw.text}'${a.kind === 'eof' ? '' : `, found ${this.describe(a)}`}`, ['<network>']);
    let host: AddrRange;
    let octets = 4;
    const full = parseAddress(a.text);
    if (full) {
      host = hostRange(full.value, full.family);
    } else {
      const short = parseShortIPv4(a.text);
      if (!short) {
        if (/[A-Za-z]/.test(a.text) && !a.text.includes(':')) this.fail(a, `'${a.text}' is not a network address: dvflow does not resolve host names`, ['<network>'], 'value');
        this.fail(a, `invalid network address '${a.text}'`, ['<network>'], 'value');
      }
      host = hostRange(IPV4_MAPPED_BASE | BigInt(short.value), 4);
      octets = short.octets;
    }
    this.next();
    const sep = this.peek();
    if (sep.kind === '/') {
      this.next();
      return this.prefixFor(a, host, octets);
    }
    if (sep.kind === 'word') {
      const mask = parseIPv4(sep.text);
      if (mask !== null && host.family === 4) {
        if (octets !== 4) this.fail(sep, `a netmask needs a complete IPv4 address, not '${a.text}'`, [], 'value');
        this.next();
        const bits = 32 - Math.log2(2 ** 32 - mask);
        if (!Number.isInteger(bits)) this.fail(sep, `not supported: non-contiguous netmask '${sep.text}'`, [], 'unsupported');
        return netRange(host.lo, 4, bits);
      }
      if (mask !== null) this.fail(sep, 'a netmask is only valid for an IPv4 network: use /bits', ['/'], 'value');
    }
    this.fail(sep, `expected '/bits' or a netmask after '${a.text}'`, ['/', '<netmask>']);
  }

  private parseNumberList(inTok: Token, spec: NumberSpec): number[] {
    const open = this.peek();
    if (open.kind !== '[') this.fail(open, `expected '[' after '${inTok.text}'`, ['[']);
    this.next();
    const out: number[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'number') {
        if (t.kind === ']') this.fail(t, out.length === 0 ? 'empty list' : "expected a number after ','", ['<number>']);
        if (t.kind === 'eof') this.fail(t, `missing ']' to close the list at ${open.pos}`, [']', '<number>']);
        this.fail(t, `expected ${spec.what} in the list, found ${this.describe(t)}`, ['<number>', ']']);
      }
      if (t.value! > spec.max) this.fail(t, `${spec.what.replace(/^an? /, '')} ${t.text} is out of range (0..${spec.max})`, [], 'value');
      this.next();
      out.push(t.value!);
      const sep = this.peek();
      if (sep.kind === ']') {
        this.next();
        return out;
      }
      if (sep.kind === ',') this.next();
    }
  }

  private parseMacTerm(start: Token, kw: Token, q: Qual): TermNode {
    const v = this.peek();
    if (v.kind !== 'word' && v.kind !== 'number') this.fail(v, `expected a MAC address after '${kw.text}'`, ['<mac>']);
    const mac = parseMac(v.text);
    if (mac === null) this.fail(v, `invalid MAC address '${v.text}' (six hex bytes such as 00:50:56:aa:bb:cc, not all zero)`, ['<mac>'], 'value');
    this.next();
    const selector: MacSelector = q.kind === 'none' ? 'any' : (q.kind as MacSelector);
    return this.term(start, { type: 'mac', selector, value: mac, text: v.text.toLowerCase() });
  }

  private parseFlags(start: Token, kw: Token): TermNode {
    const v = this.peek();
    let mode: 'all' | 'exact' = 'all';
    let letters: Token = v;
    if (v.kind === '=' && this.peek(1).kind === 'word' && !this.peek(1).spaced) {
      // 1.7.8: `flags =SA` is an exact match of the listed flags.
      this.next();
      mode = 'exact';
      letters = this.peek();
    } else if (v.kind !== 'word') {
      return this.compare(start, kw, 'flags', 'none');
    }
    const text = letters.text;
    let value = 0;
    let count = 0;
    const bits: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128 };
    for (const [letter, bit] of Object.entries(bits)) {
      if (text.includes(letter)) { value |= bit; count++; }
    }
    // As nfdump: X is all six classic flags, whatever else is listed.
    if (text.includes('X')) { value = 63; count++; }
    if (count !== text.length || text.length > 10) {
      this.fail(letters, `invalid TCP flags '${text}': use each of A S F R P U E C at most once, in upper case (X = all of AFRPSU)`, ['A', 'S', 'F', 'R', 'P', 'U', 'E', 'C', 'X'], 'value');
    }
    this.next();
    return this.term(start, { type: 'flags', mode, value, text });
  }

  private parseSeen(start: Token, kw: Token): TermNode {
    const seen = this.peek();
    if (!this.isWord(seen, 'seen')) this.fail(seen, `expected 'seen' after '${kw.text}'`, ['seen']);
    this.next();
    let cmp: Comparator = '=';
    const c = comparatorOf(this.peek());
    if (c) { cmp = c; this.next(); }
    const v = this.peek();
    if (v.kind !== 'word' && v.kind !== 'number') {
      this.fail(v, `expected an ISO 8601 time after '${this.prev().text}'`, c ? ['<time>'] : ['<time>', ...COMPARATORS]);
    }
    const ms = parseTime(v.text);
    if (ms === undefined) this.fail(v, `invalid time '${v.text}' (ISO 8601: 2024-07-11T09:15:10.020, years 1970..2038)`, ['<time>'], 'value');
    this.next();
    return this.term(start, { type: 'compare', field: kw.lower as 'first' | 'last', qualifier: 'none', cmp, value: ms });
  }

  private parseIdent(start: Token, kw: Token): TermNode {
    const v = this.peek();
    if (v.kind === 'string' || (v.kind === 'word' && /^[A-Za-z0-9_-]+$/.test(v.text)) || v.kind === 'number') {
      if (v.text.length === 0 || v.text.length > 255) this.fail(v, 'an ident is 1 to 255 characters', [], 'value');
      this.next();
      return this.term(start, { type: 'ident', name: v.text });
    }
    if (v.kind === 'word') this.fail(v, `invalid ident '${v.text}' (letters, digits, '_' and '-'; quote other names)`, ['<name>'], 'value');
    this.fail(v, `expected an ident after '${kw.text}'`, ['<name>']);
  }

  /** A name: a bare word or a quoted string. */
  private parseName(kw: Token, what: string): string {
    const v = this.peek();
    if (v.kind === 'string' || v.kind === 'word' || v.kind === 'number') {
      if (v.text.length === 0) this.fail(v, `${what} cannot be empty`, ['<name>'], 'value');
      this.next();
      return v.text;
    }
    this.fail(v, `expected ${what} after '${kw.text}'${v.kind === 'eof' ? '' : `, found ${this.describe(v)}`}`, ['<name>']);
  }

  /** `vip NAME`, `vip "NAME"`, `vip ADDR`, `vip A.B.C.D:PORT`, `vip [IPV6]:PORT`. */
  private parseVip(start: Token, kw: Token): TermNode {
    const v = this.peek();
    const portOf = (t: Token, text: string): number => {
      const port = Number(text);
      if (!/^[0-9]{1,5}$/.test(text) || port > 65535) this.fail(t, `invalid VIP port '${text}' (0..65535)`, ['<port>'], 'value');
      return port;
    };
    if (v.kind === '[') {
      this.next();
      const address = this.parseHost(v);
      const close = this.peek();
      if (close.kind !== ']') this.fail(close, "expected ']' after the VIP address", [']']);
      this.next();
      const p = this.peek();
      if (p.kind === 'word' && !p.spaced && p.text.startsWith(':')) {
        this.next();
        return this.term(start, { type: 'vip', address, port: portOf(p, p.text.slice(1)) });
      }
      return this.term(start, { type: 'vip', address });
    }
    if (v.kind === 'word') {
      const a = parseAddress(v.text);
      if (a) {
        this.next();
        return this.term(start, { type: 'vip', address: hostRange(a.value, a.family) });
      }
      const m = /^([0-9.]+):([^:]*)$/.exec(v.text);
      if (m && parseIPv4(m[1]) !== null) {
        this.next();
        return this.term(start, { type: 'vip', address: hostRange(IPV4_MAPPED_BASE | BigInt(parseIPv4(m[1])!), 4), port: portOf(v, m[2]) });
      }
    }
    return this.term(start, { type: 'vip', name: this.parseName(kw, 'a VIP name or address') });
  }

  /**
   * `exporter id|sysid [comp] N` (nfdump 1.7.8), `exporter ip|net ADDR` (= router), and dvflow's
   * `exporter NAME|ADDR`; a bare number is the exporter id, as in nfdump 1.7.1's grammar.
   */
  private parseExporter(start: Token, kw: Token): TermNode {
    const v = this.peek();
    if (this.isWord(v, 'id', 'sysid')) {
      this.next();
      return this.compare(start, v, 'sysid', 'none');
    }
    if (this.isWord(v, 'ip', 'host')) {
      this.next();
      return this.term(start, { type: 'address', target: 'router', side: 'either', form: 'host', ranges: [this.parseHost(v)] });
    }
    if (this.isWord(v, 'net')) {
      this.next();
      return this.term(start, { type: 'address', target: 'router', side: 'either', form: 'net', ranges: [this.parseNet(v)] });
    }
    if (v.kind === 'number' || comparatorOf(v)) return this.compare(start, kw, 'sysid', 'none');
    if (v.kind === 'word') {
      const a = parseAddress(v.text);
      if (a) {
        this.next();
        return this.term(start, { type: 'exporter', address: hostRange(a.value, a.family) });
      }
    }
    return this.term(start, { type: 'exporter', name: this.parseName(kw, "an exporter name, address, 'id N' or 'ip ADDR'") });
  }
}

function side(q: Qual): Side {
  return q.kind === 'src' || q.kind === 'dst' || q.kind === 'both' ? q.kind : 'either';
}

function addrTarget(q: Qual): 'flow' | 'nextHop' | 'bgpNextHop' | 'router' {
  switch (q.kind) {
    case 'next': return 'nextHop';
    case 'bgpNext': return 'bgpNextHop';
    case 'router': return 'router';
    default: return 'flow';
  }
}

function addrSide(q: Qual): Side {
  return addrTarget(q) === 'flow' ? side(q) : 'either';
}

/** Parses filter text into its syntax tree; throws FilterError. */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parse();
}
