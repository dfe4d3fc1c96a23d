// Matches decoded packets against parsed rules (ruleParser.ts); our own matcher, as no npm package matches Snort
// rules. Rules are indexed by protocol and destination port (a rule with a few destination ports sits under each of
// them; one with a wide range, a negation or `<>` is checked for every port), and the candidate list of each port is
// merged once, on first use. Per candidate the cheap checks come first — TCP flags, payload size, flow, ports,
// addresses — and the content search last.
//
// Content semantics (Snort 2 / Suricata): offset and depth bound an absolute match to [offset, offset + depth) of the
// payload; distance and within bound a relative match to [end + distance, end + distance + within) where `end` is
// where the previous positive content match ended (the payload's start for the first); a negated content must not
// occur in its window and moves nothing. When a relative content fails after one occurrence of the content before it,
// the next occurrence is tried (bounded, as Suricata bounds its inspection recursion).
import type { DecodedPacket } from '../../pcap/packetDecoder.ts';
import type { AddrNode, ContentMatch, FlagsMatch, NumberMatch, PortSet, Rule } from './ruleParser.ts';

type AddrTest = (d: Uint8Array, off: number, v4: number, version: 4 | 6) => boolean;

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;
const ACK = 0x10;
const SYN = 0x02;

/** Content-search steps per rule and packet before giving up (Suricata's default inspection recursion limit). */
const SEARCH_BUDGET = 3000;

/** The largest destination port set indexed port by port; wider ones are checked for every port. */
const MAX_INDEXED_PORTS = 64;

interface CompiledContent {
  pattern: Uint8Array;
  nocase: boolean;
  negated: boolean;
  relative: boolean;
  /** Absolute: offset / depth; relative: distance / within. -1: none. */
  start: number;
  span: number;
  /** A later content's window depends on where this one matched: try its other occurrences on failure. */
  backtrack: boolean;
}

export interface CompiledRule {
  readonly rule: Rule;
  /** Load order, for a stable result order. */
  readonly index: number;
  readonly src: AddrTest | null;
  readonly dst: AddrTest | null;
  readonly srcPorts: PortSet;
  readonly dstPorts: PortSet;
  /** Listed under each of its destination ports: no need to check the port again. */
  readonly portIndexed: boolean;
  readonly contents: readonly CompiledContent[];
}

export interface MatcherStats {
  packets: number;
  /** Candidate rules examined (after the protocol/port index). */
  candidates: number;
  /** Candidates that reached the content search. */
  contentSearches: number;
  matches: number;
}

/** Reads a big-endian IPv4 address. */
function u32(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}

function compileAddr(n: AddrNode): AddrTest | null {
  switch (n.kind) {
    case 'any':
      return null;
    case 'net': {
      if (n.version === 4) {
        const mask = n.prefix === 0 ? 0 : (0xffffffff << (32 - n.prefix)) >>> 0;
        const net = (u32(n.bytes, 0) & mask) >>> 0;
        return (_d, _o, v4, version) => version === 4 && ((v4 & mask) >>> 0) === net;
      }
      const bytes = n.bytes;
      const full = n.prefix >> 3;
      const rest = n.prefix & 7;
      const lastMask = rest === 0 ? 0 : (0xff << (8 - rest)) & 0xff;
      return (d, o, _v4, version) => {
        if (version !== 6) return false;
        for (let i = 0; i < full; i++) if (d[o + i] !== bytes[i]) return false;
        return rest === 0 || (d[o + full] & lastMask) === (bytes[full] & lastMask);
      };
    }
    case 'not': {
      const inner = compileAddr(n.node);
      if (inner === null) return () => false;
      return (d, o, v4, version) => !inner(d, o, v4, version);
    }
    case 'list': {
      // Snort's list semantics: one of the plain items matches (or there are none) and none of the negated ones.
      const pos: (AddrTest | null)[] = [];
      const neg: AddrTest[] = [];
      for (const item of n.items) {
        if (item.kind === 'not') {
          const t = compileAddr(item.node);
          if (t === null) return () => false;
          neg.push(t);
        } else pos.push(compileAddr(item));
      }
      const anyPos = pos.length === 0 || pos.includes(null);
      const posTests = pos.filter((t): t is AddrTest => t !== null);
      if (anyPos && neg.length === 0) return null;
      return (d, o, v4, version) => {
        if (!anyPos) {
          let ok = false;
          for (let i = 0; i < posTests.length && !ok; i++) ok = posTests[i](d, o, v4, version);
          if (!ok) return false;
        }
        for (let i = 0; i < neg.length; i++) if (neg[i](d, o, v4, version)) return false;
        return true;
      };
    }
  }
}

export function inPorts(set: PortSet, port: number): boolean {
  if (set === null) return true;
  for (let i = 0; i < set.length; i++) {
    const r = set[i];
    if (port < r[0]) return false;
    if (port <= r[1]) return true;
  }
  return false;
}

function portCount(set: PortSet): number {
  if (set === null) return 65536;
  let n = 0;
  for (const [lo, hi] of set) n += hi - lo + 1;
  return n;
}

function compileContents(cs: readonly ContentMatch[]): CompiledContent[] {
  const out: CompiledContent[] = cs.map((c) => {
    const relative = c.distance !== null || c.within !== null;
    return {
      pattern: c.pattern, nocase: c.nocase, negated: c.negated, relative,
      start: relative ? c.distance ?? 0 : c.offset ?? 0,
      span: relative ? c.within ?? -1 : c.depth ?? -1,
      backtrack: false,
    };
  });
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (out[j].relative) {
        out[i].backtrack = !out[i].negated;
        break;
      }
      if (!out[j].negated) break; // an absolute positive match sets a new cursor
    }
  }
  return out;
}

export function flagsMatch(f: FlagsMatch, tcpFlags: number): boolean {
  const v = tcpFlags & ~f.mask & 0xff;
  switch (f.mode) {
    case 'exact':
      return v === f.flags;
    case 'all':
      return (v & f.flags) === f.flags;
    case 'any':
      return (v & f.flags) !== 0;
    case 'not':
      return (v & f.flags) === 0;
  }
}

export function numberMatch(m: NumberMatch, n: number): boolean {
  switch (m.op) {
    case '=':
      return n === m.value;
    case '!=':
      return n !== m.value;
    case '<':
      return n < m.value;
    case '>':
      return n > m.value;
    case '<=':
      return n <= m.value;
    case '>=':
      return n >= m.value;
    case '<>':
      return n > m.value && n < m.max;
  }
}

const LOWER = Uint8Array.from({ length: 256 }, (_, b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b));

/** First occurrence of `pat` lying wholly inside [from, to) of `buf`, or -1. */
export function findPattern(buf: Uint8Array, from: number, to: number, pat: Uint8Array, nocase: boolean): number {
  const n = pat.length;
  const last = to - n;
  if (from < 0) from = 0;
  if (last < from) return -1;
  const p0 = pat[0];
  if (!nocase) {
    for (let i = from; i <= last; i++) {
      if (buf[i] !== p0) continue;
      let k = 1;
      while (k < n && buf[i + k] === pat[k]) k++;
      if (k === n) return i;
    }
    return -1;
  }
  for (let i = from; i <= last; i++) {
    if (LOWER[buf[i]] !== p0) continue;
    let k = 1;
    while (k < n && LOWER[buf[i + k]] === pat[k]) k++;
    if (k === n) return i;
  }
  return -1;
}

/** Per-packet state of the content search. */
interface Search {
  buf: Uint8Array;
  base: number;
  len: number;
  budget: number;
}

function matchContents(cs: readonly CompiledContent[], i: number, cursor: number, s: Search): boolean {
  if (i === cs.length) return true;
  const c = cs[i];
  let lo: number;
  let hi: number;
  if (c.relative) {
    lo = cursor + c.start;
    hi = c.span < 0 ? s.len : lo + c.span;
  } else {
    lo = c.start;
    hi = c.span < 0 ? s.len : lo + c.span;
  }
  if (lo < 0) lo = 0;
  if (hi > s.len) hi = s.len;
  if (c.negated) {
    if (--s.budget < 0) return false;
    if (findPattern(s.buf, s.base + lo, s.base + hi, c.pattern, c.nocase) >= 0) return false;
    return matchContents(cs, i + 1, cursor, s);
  }
  let from = lo;
  for (;;) {
    if (--s.budget < 0) return false;
    const at = findPattern(s.buf, s.base + from, s.base + hi, c.pattern, c.nocase);
    if (at < 0) return false;
    const end = at - s.base + c.pattern.length;
    if (matchContents(cs, i + 1, end, s)) return true;
    if (!c.backtrack) return false;
    from = at - s.base + 1;
  }
}

interface PortIndex {
  byPort: Map<number, CompiledRule[]>;
  generic: CompiledRule[];
  cache: (CompiledRule[] | undefined)[];
}

function newPortIndex(): PortIndex {
  return { byPort: new Map(), generic: [], cache: new Array<CompiledRule[] | undefined>(65536) };
}

const NONE: readonly CompiledRule[] = [];

export class RuleMatcher {
  readonly stats: MatcherStats = { packets: 0, candidates: 0, contentSearches: 0, matches: 0 };
  readonly rules: readonly CompiledRule[];
  private readonly tcp = newPortIndex();
  private readonly udp = newPortIndex();
  /** ICMP (v4 and v6) rules and ip rules. */
  private readonly icmp: CompiledRule[];
  /** ip rules: every other protocol, and non-first fragments. */
  private readonly ip: CompiledRule[];
  private readonly out: CompiledRule[] = [];
  private readonly search: Search = { buf: new Uint8Array(0), base: 0, len: 0, budget: 0 };

  constructor(rules: readonly Rule[]) {
    const compiled: CompiledRule[] = [];
    const ip: CompiledRule[] = [];
    const icmp: CompiledRule[] = [];
    rules.forEach((rule, index) => {
      const indexable = !rule.bidirectional && (rule.proto === 'tcp' || rule.proto === 'udp')
        && portCount(rule.dstPorts) <= MAX_INDEXED_PORTS;
      const c: CompiledRule = {
        rule, index, src: compileAddr(rule.src), dst: compileAddr(rule.dst), srcPorts: rule.srcPorts, dstPorts: rule.dstPorts,
        portIndexed: indexable, contents: compileContents(rule.contents),
      };
      compiled.push(c);
      if (rule.proto === 'ip') ip.push(c);
      else if (rule.proto === 'icmp') icmp.push(c);
      else {
        const idx = rule.proto === 'tcp' ? this.tcp : this.udp;
        if (!indexable) idx.generic.push(c);
        else {
          for (const [lo, hi] of rule.dstPorts!) {
            for (let p = lo; p <= hi; p++) {
              const l = idx.byPort.get(p);
              if (l) l.push(c);
              else idx.byPort.set(p, [c]);
            }
          }
        }
      }
    });
    this.rules = compiled;
    this.ip = ip;
    this.icmp = [...icmp, ...ip].sort((a, b) => a.index - b.index);
  }

  /** The candidates for a TCP/UDP destination port: its own rules, the port-less ones and the ip rules, in load order. */
  private candidates(idx: PortIndex, port: number): readonly CompiledRule[] {
    const hit = idx.cache[port];
    if (hit) return hit;
    const own = idx.byPort.get(port);
    const all = [...(own ?? NONE), ...idx.generic, ...this.ip].sort((a, b) => a.index - b.index);
    idx.cache[port] = all;
    return all;
  }

  /** The rules the packet matches, in load order: a reused array, valid until the next call. */
  match(d: DecodedPacket): readonly CompiledRule[] {
    this.stats.packets++;
    const out = this.out;
    out.length = 0;
    let cands: readonly CompiledRule[];
    const frag = d.fragment;
    const headerless = frag !== null && frag.offset > 0;
    if (headerless) cands = this.ip;
    else if (d.proto === TCP) cands = this.candidates(this.tcp, d.dstPort);
    else if (d.proto === UDP) cands = this.candidates(this.udp, d.dstPort);
    else if (d.proto === ICMP || d.proto === ICMPV6) cands = this.icmp;
    else cands = this.ip;
    if (cands.length === 0) return out;
    const data = d.data;
    const v4 = d.ipVersion === 4;
    const src4 = v4 ? u32(data, d.srcOff) : 0;
    const dst4 = v4 ? u32(data, d.dstOff) : 0;
    const hasPorts = !headerless && (d.proto === TCP || d.proto === UDP);
    const isTcp = !headerless && d.proto === TCP;
    this.stats.candidates += cands.length;
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i];
      const r = c.rule;
      if (r.flags !== null && !(isTcp && flagsMatch(r.flags, d.tcpFlags))) continue;
      if (r.dsize !== null && !numberMatch(r.dsize, d.payloadLength)) continue;
      const f = r.flow;
      if (f !== null) {
        if (f.fragment !== null && (f.fragment === 'no') !== (frag === null)) continue;
        if (f.established || f.notEstablished) {
          if (!isTcp) continue;
          const est = (d.tcpFlags & ACK) !== 0 && (d.tcpFlags & SYN) === 0;
          if (est !== f.established) continue;
        }
      }
      let dirOk = this.direction(c, d, src4, dst4, hasPorts, false);
      if (!dirOk && r.bidirectional) dirOk = this.direction(c, d, src4, dst4, hasPorts, true);
      if (!dirOk) continue;
      if (c.contents.length > 0) {
        if (d.payloadLength === 0) {
          // Only negated contents can hold on an empty payload.
          if (c.contents.some((x) => !x.negated)) continue;
        }
        this.stats.contentSearches++;
        const s = this.search;
        s.buf = data;
        s.base = d.payloadOffset;
        s.len = d.payloadLength;
        s.budget = SEARCH_BUDGET;
        if (!matchContents(c.contents, 0, 0, s)) continue;
      }
      out.push(c);
    }
    this.stats.matches += out.length;
    return out;
  }

  /** Header addresses and ports, forward or (for `<>`) swapped. */
  private direction(c: CompiledRule, d: DecodedPacket, src4: number, dst4: number, hasPorts: boolean, swap: boolean): boolean {
    const sp = swap ? d.dstPort : d.srcPort;
    const dp = swap ? d.srcPort : d.dstPort;
    if (hasPorts) {
      if (!inPorts(c.srcPorts, sp)) return false;
      if ((swap || !c.portIndexed) && !inPorts(c.dstPorts, dp)) return false;
    } else if (c.rule.proto === 'ip' && (c.srcPorts !== null || c.dstPorts !== null)) {
      return false; // ports asked of a packet without any (ICMP and icmp rules ignore ports, as Snort)
    }
    const data = d.data;
    const ver = d.ipVersion;
    if (c.src !== null && !c.src(data, swap ? d.dstOff : d.srcOff, swap ? dst4 : src4, ver)) return false;
    if (c.dst !== null && !c.dst(data, swap ? d.srcOff : d.dstOff, swap ? src4 : dst4, ver)) return false;
    return true;
  }
}
