// Parses Snort / Suricata rule files into the subset dvflow matches on single packets (ruleMatcher.ts). No npm
// package parses and matches Snort rules well enough to build on, so this is our own, written from the Snort 2 manual
// and the Suricata rule documentation.
//
// The subset:
// - header `action proto src sport -> | <> dst dport`: actions alert, drop, reject* (all three alert: an IDS does not
//   drop) and pass (a matching pass rule silences the packet); protocols tcp, udp, icmp (ICMPv4 and ICMPv6), ip, and
//   Suricata's tcp-pkt (tcp matched on packets, which is all we do anyway). Addresses: any, IPv4/IPv6 with or without
//   a CIDR prefix, [lists], !negation, $VARIABLES, nested. Ports: any, N, N:M, N:, :M, lists, negation, variables.
// - options: msg, sid, rev, gid, classtype, priority; reference, metadata and target (allowed, ignored); content
//   (|hex|, \" \; \\ \: \| escapes, ! negation) with nocase, offset, depth, distance, within, and fast_pattern /
//   rawbytes (allowed, no effect on what matches); flags (Snort syntax: + * !, the ignore mask after a comma, 1/2 or
//   C/E for CWR/ECE, 0 for none); dsize (N, !N, <N, >N, <=N, >=N, N<>M exclusive); flow; threshold (type limit |
//   threshold | both, track by_src | by_dst | by_both | by_rule, count, seconds); detection_filter (track, count,
//   seconds, and Suricata's `unique_on src_port|dst_port`, counting distinct ports).
// - flow, on stateless packets: to_server / from_client / to_client / from_server and stateless / no_stream are
//   accepted and trust the rule header for the direction (no handshake is tracked to tell client from server);
//   `established` on TCP is approximated per packet as "ACK set, SYN clear" (a packet only an established session
//   carries; a forged ACK with that payload matches too) and `not_established` as its opposite; no_frag / only_frag are
//   honoured. established on udp/icmp/ip (needs flow state), only_stream and anything else skip the rule.
// - any other option (pcre, byte_test, flowbits, isdataat, itype, http.uri / http_* ...), another protocol (http,
//   dns, tls ...) or action (log, sdrop ...) skips the rule with the reason ("unsupported option pcre").
//
// Variables: the caller's map (names without `$`) over these defaults. HOME_NET is `any`. EXTERNAL_NET follows Snort's
// snort.conf (`any`) while HOME_NET is `any` — `!$HOME_NET` would then match nothing and half of a ruleset would never
// fire — and becomes Suricata's `!$HOME_NET` as soon as the caller sets HOME_NET; the caller may set it too. Server
// groups default to $HOME_NET and ports to Suricata's suricata.yaml values. `var` / `ipvar` / `portvar` lines in a rule
// file define variables for the rules after them.
//
// Lines: `#` comments (a commented-out rule counts as disabled), blank lines, a trailing backslash continues a rule on
// the next line. A malformed rule is an error with its line number, never an exception.
import { classtypePriority } from './classifications.ts';
import { ipv4Into, ipv6Into } from '../../filter/ipAddress.ts';

export type RuleAction = 'alert' | 'pass';
export type RuleProto = 'tcp' | 'udp' | 'icmp' | 'ip';

/** An address expression: evaluated per packet (negated lists cannot be flattened for IPv6 cheaply). */
export type AddrNode =
  | { kind: 'any' }
  | { kind: 'net'; version: 4 | 6; bytes: Uint8Array; prefix: number }
  | { kind: 'list'; items: AddrNode[] }
  | { kind: 'not'; node: AddrNode };

/** Inclusive port ranges, sorted and merged; null: any port. */
export type PortSet = readonly (readonly [number, number])[] | null;

export interface ContentMatch {
  /** The bytes to find, lower-cased when `nocase`. */
  pattern: Uint8Array;
  /** As written in the rule (between the quotes). */
  source: string;
  negated: boolean;
  nocase: boolean;
  offset: number | null;
  depth: number | null;
  distance: number | null;
  within: number | null;
}

export type FlagsMode = 'exact' | 'all' | 'any' | 'not';
export interface FlagsMatch {
  /** TCP flag bits (FIN 0x01 ... CWR 0x80). */
  flags: number;
  /** Bits ignored before comparing. */
  mask: number;
  /** exact: these and no others; all (+): at least these; any (*): one of these; not (!): none of these. */
  mode: FlagsMode;
}

export type NumberOp = '=' | '!=' | '<' | '>' | '<=' | '>=' | '<>';
export interface NumberMatch {
  op: NumberOp;
  value: number;
  /** Upper bound for '<>' (exclusive, as value). */
  max: number;
}

export interface FlowMatch {
  /** Accepted, not checked: the header's direction is trusted. */
  direction: 'to-server' | 'to-client' | null;
  established: boolean;
  notEstablished: boolean;
  fragment: 'no' | 'only' | null;
}

export type Track = 'by_src' | 'by_dst' | 'by_both' | 'by_rule';

export interface ThresholdSpec {
  type: 'limit' | 'threshold' | 'both';
  track: Track;
  count: number;
  seconds: number;
}

export interface DetectionFilterSpec {
  track: Track;
  count: number;
  seconds: number;
  /** Count distinct values of this port instead of matches (Suricata 9). */
  uniqueOn: 'src_port' | 'dst_port' | null;
}

export interface Rule {
  file: string;
  /** First line of the rule in its file (1-based). */
  line: number;
  text: string;
  action: RuleAction;
  proto: RuleProto;
  src: AddrNode;
  srcPorts: PortSet;
  /** `<>`: either direction matches. */
  bidirectional: boolean;
  dst: AddrNode;
  dstPorts: PortSet;
  msg: string;
  gid: number;
  sid: number;
  rev: number;
  classtype: string;
  /** From `priority`, else from the classtype. */
  priority: number;
  contents: ContentMatch[];
  flags: FlagsMatch | null;
  dsize: NumberMatch | null;
  flow: FlowMatch | null;
  threshold: ThresholdSpec | null;
  detectionFilter: DetectionFilterSpec | null;
}

export interface SkippedRule {
  file: string;
  line: number;
  /** 0 when the rule has none. */
  sid: number;
  reason: string;
}

export interface RuleError {
  file: string;
  line: number;
  message: string;
}

export interface ParseResult {
  rules: Rule[];
  skipped: SkippedRule[];
  errors: RuleError[];
  /** Commented-out rules. */
  disabled: number;
}

export type RuleVariables = Readonly<Record<string, string>>;

export interface ParseOptions {
  vars?: RuleVariables;
  /** Named in results; default ''. */
  file?: string;
}

/** Variables a rule set may use, before the caller's. EXTERNAL_NET is derived: see the file comment. */
export const DEFAULT_VARIABLES: RuleVariables = {
  HOME_NET: 'any',
  HTTP_SERVERS: '$HOME_NET',
  SMTP_SERVERS: '$HOME_NET',
  SQL_SERVERS: '$HOME_NET',
  DNS_SERVERS: '$HOME_NET',
  TELNET_SERVERS: '$HOME_NET',
  AIM_SERVERS: '$EXTERNAL_NET',
  DC_SERVERS: '$HOME_NET',
  DNP3_SERVER: '$HOME_NET',
  DNP3_CLIENT: '$HOME_NET',
  MODBUS_CLIENT: '$HOME_NET',
  MODBUS_SERVER: '$HOME_NET',
  ENIP_CLIENT: '$HOME_NET',
  ENIP_SERVER: '$HOME_NET',
  HTTP_PORTS: '80',
  SHELLCODE_PORTS: '!80',
  ORACLE_PORTS: '1521',
  SSH_PORTS: '22',
  DNP3_PORTS: '20000',
  MODBUS_PORTS: '502',
  FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
  FTP_PORTS: '21',
  GENEVE_PORTS: '6081',
  VXLAN_PORTS: '4789',
  TEREDO_PORTS: '3544',
};

/** The variables in force: defaults, then the caller's (names with or without `$`), EXTERNAL_NET derived. */
export function resolveVariables(vars: RuleVariables = {}): Record<string, string> {
  const out: Record<string, string> = { ...DEFAULT_VARIABLES };
  for (const [k, v] of Object.entries(vars)) out[k.startsWith('$') ? k.slice(1) : k] = v;
  if (!Object.hasOwn(out, 'EXTERNAL_NET')) out.EXTERNAL_NET = out.HOME_NET.trim() === 'any' ? 'any' : '!$HOME_NET';
  return out;
}

/** A problem that makes the rule an error. */
class RuleSyntaxError extends Error {}

const ACTIONS: Readonly<Record<string, RuleAction | null>> = {
  alert: 'alert', drop: 'alert', reject: 'alert', rejectsrc: 'alert', rejectdst: 'alert', rejectboth: 'alert', pass: 'pass',
  log: null, sdrop: null, activate: null, dynamic: null,
};

const PROTOS: Readonly<Record<string, RuleProto>> = { tcp: 'tcp', 'tcp-pkt': 'tcp', udp: 'udp', icmp: 'icmp', ip: 'ip' };

/** Options that change nothing about what matches, accepted as they are. */
const IGNORED = new Set(['reference', 'metadata', 'target', 'fast_pattern', 'rawbytes']);

/** Parses the text of a rule file. */
export function parseRules(text: string, opts: ParseOptions = {}): ParseResult {
  const file = opts.file ?? '';
  const vars = resolveVariables(opts.vars);
  // EXTERNAL_NET follows HOME_NET until someone sets it.
  let externalSet = Object.keys(opts.vars ?? {}).some((k) => k === 'EXTERNAL_NET' || k === '$EXTERNAL_NET');
  const out: ParseResult = { rules: [], skipped: [], errors: [], disabled: 0 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = stripCr(lines[i]);
    // Continuations: a trailing backslash joins the next line.
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, '') + stripCr(lines[++i]);
    }
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      if (isDisabledRule(t)) out.disabled++;
      continue;
    }
    const word = /^(\w+)\s/.exec(t)?.[1] ?? '';
    if (word === 'var' || word === 'ipvar' || word === 'portvar') {
      const m = /^\w+\s+\$?([A-Za-z_][A-Za-z0-9_]*)\s+(\S.*)$/.exec(t);
      if (!m) out.errors.push({ file, line: first, message: `malformed ${word} line` });
      else {
        vars[m[1]] = m[2].trim();
        if (m[1] === 'EXTERNAL_NET') externalSet = true;
        if (m[1] === 'HOME_NET' && !externalSet) vars.EXTERNAL_NET = vars.HOME_NET === 'any' ? 'any' : '!$HOME_NET';
      }
      continue;
    }
    const r = parseRule(t, vars, first, file);
    if ('rule' in r) out.rules.push(r.rule);
    else if ('skipped' in r) out.skipped.push(r.skipped);
    else out.errors.push(r.error);
  }
  out.rules = dedupeRules(out.rules, out.errors);
  return out;
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function isDisabledRule(comment: string): boolean {
  const m = /^#+\s*(\w+)\s+(\S+)\s/.exec(comment);
  return m !== null && Object.hasOwn(ACTIONS, m[1]) && comment.includes('(') && /\bsid\s*:/.test(comment);
}

/**
 * Keeps one rule per gid:sid, the highest revision (the first of equal ones), as Suricata does; each duplicate is an
 * error.
 */
export function dedupeRules(rules: readonly Rule[], errors: RuleError[]): Rule[] {
  const bySid = new Map<string, number>();
  const out: Rule[] = [];
  for (const r of rules) {
    const k = `${r.gid}:${r.sid}`;
    const at = bySid.get(k);
    if (at === undefined) {
      bySid.set(k, out.length);
      out.push(r);
      continue;
    }
    const prev = out[at];
    const keep = r.rev > prev.rev ? r : prev;
    errors.push({ file: r.file, line: r.line,
      message: `duplicate sid ${r.sid} (rev ${r.rev}; first at ${prev.file ? `${prev.file}:` : 'line '}${prev.line}, rev ${prev.rev}): kept rev ${keep.rev}` });
    out[at] = keep;
  }
  return out;
}

export type ParsedRule = { rule: Rule } | { skipped: SkippedRule } | { error: RuleError };

/** Parses one rule (already joined into one line). `vars` as resolveVariables returns them. */
export function parseRule(text: string, vars: RuleVariables = resolveVariables(), line = 1, file = ''): ParsedRule {
  let sid = 0;
  try {
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    if (open < 0 || close < open) throw new RuleSyntaxError('no option list in parentheses');
    if (text.slice(close + 1).trim() !== '') throw new RuleSyntaxError(`text after the closing parenthesis: '${text.slice(close + 1).trim()}'`);
    const head = splitHeader(text.slice(0, open));
    if (head.length !== 7) throw new RuleSyntaxError(`header needs 7 fields (action proto src port -> dst port), got ${head.length}`);
    const [actionWord, protoWord, srcText, sportText, dir, dstText, dportText] = head;
    if (dir !== '->' && dir !== '<>') throw new RuleSyntaxError(`direction must be -> or <>, got '${dir}'`);
    const options = splitOptions(text.slice(open + 1, close));
    // The sid first, so that skips and errors name it.
    for (const o of options) {
      if (o.name === 'sid') sid = parseInteger(o.value, 'sid', 1);
    }
    const src = parseAddress(srcText, vars);
    const dst = parseAddress(dstText, vars);
    const srcPorts = parsePorts(sportText, vars);
    const dstPorts = parsePorts(dportText, vars);
    let skip: string | null = null;
    if (!Object.hasOwn(ACTIONS, actionWord)) throw new RuleSyntaxError(`unknown action '${actionWord}'`);
    const action = ACTIONS[actionWord];
    if (action === null) skip = `unsupported action ${actionWord}`;
    const proto = Object.hasOwn(PROTOS, protoWord) ? PROTOS[protoWord] : null;
    if (proto === null && skip === null) skip = `unsupported protocol ${protoWord}`;
    const b = new OptionsBuilder();
    const optionErrors: string[] = [];
    for (const o of options) {
      try {
        const unsupported = b.apply(o.name, o.value, proto ?? 'ip');
        if (unsupported !== null && skip === null) skip = unsupported;
      } catch (e) {
        if (!(e instanceof RuleSyntaxError)) throw e;
        optionErrors.push(e.message);
      }
    }
    if (!options.some((o) => o.name === 'sid')) throw new RuleSyntaxError('no sid');
    if (skip !== null) return { skipped: { file, line, sid, reason: skip } };
    if (optionErrors.length > 0) throw new RuleSyntaxError(optionErrors[0]);
    const rule: Rule = {
      file, line, text, action: action!, proto: proto!, src, srcPorts, bidirectional: dir === '<>', dst, dstPorts,
      msg: b.msg, gid: b.gid, sid, rev: b.rev, classtype: b.classtype, priority: b.priority ?? classtypePriority(b.classtype),
      contents: b.contents, flags: b.flags, dsize: b.dsize, flow: b.flow, threshold: b.threshold, detectionFilter: b.detectionFilter,
    };
    return { rule };
  } catch (e) {
    if (e instanceof RuleSyntaxError) {
      return { error: { file, line, message: sid ? `sid ${sid}: ${e.message}` : e.message } };
    }
    throw e;
  }
}

/** Splits the header on blanks outside brackets. */
function splitHeader(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (depth < 0) throw new RuleSyntaxError('unbalanced ] in header');
    if (depth === 0 && (ch === ' ' || ch === '\t')) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else if (depth > 0 && (ch === ' ' || ch === '\t')) {
      // Blanks inside a list are allowed and dropped.
    } else cur += ch;
  }
  if (depth !== 0) throw new RuleSyntaxError('unbalanced [ in header');
  if (cur !== '') out.push(cur);
  return out;
}

interface RawOption {
  name: string;
  /** null: the option has no ':'. */
  value: string | null;
}

/** Splits `a:b; c; d:"x\;y";` on unescaped semicolons outside quotes. */
function splitOptions(body: string): RawOption[] {
  const parts: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && i + 1 < body.length) {
      cur += ch + body[++i];
      continue;
    }
    if (ch === '"') inQuote = !inQuote;
    if (ch === ';' && !inQuote) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (inQuote) throw new RuleSyntaxError('unterminated quoted string in options');
  if (cur.trim() !== '') parts.push(cur);
  const out: RawOption[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (t === '') continue;
    const c = t.indexOf(':');
    const name = (c < 0 ? t : t.slice(0, c)).trim().toLowerCase();
    if (!/^[a-z0-9_.\-]+$/.test(name)) throw new RuleSyntaxError(`bad option name '${name}'`);
    out.push({ name, value: c < 0 ? null : t.slice(c + 1).trim() });
  }
  return out;
}

// ---- addresses and ports --------------------------------------------------------------------------------------

const MAX_VAR_DEPTH = 16;

function lookupVar(name: string, vars: RuleVariables): string {
  if (!Object.hasOwn(vars, name)) throw new RuleSyntaxError(`undefined variable $${name}`);
  return vars[name];
}

/** Splits a bracketed list's inside on top-level commas. */
function splitList(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  if (out.some((x) => x === '')) throw new RuleSyntaxError(`empty element in list [${s}]`);
  return out;
}

export function parseAddress(text: string, vars: RuleVariables, depth = 0): AddrNode {
  if (depth > MAX_VAR_DEPTH) throw new RuleSyntaxError('variables nested too deep (a loop?)');
  const s = text.trim();
  if (s === '') throw new RuleSyntaxError('empty address');
  if (s.startsWith('!')) {
    const inner = parseAddress(s.slice(1), vars, depth);
    if (inner.kind === 'any') throw new RuleSyntaxError('!any matches no address');
    return { kind: 'not', node: inner };
  }
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new RuleSyntaxError(`unterminated address list '${s}'`);
    const items = splitList(s.slice(1, -1)).map((x) => parseAddress(x, vars, depth));
    return { kind: 'list', items };
  }
  if (s.startsWith('$')) return parseAddress(lookupVar(s.slice(1), vars), vars, depth + 1);
  if (s.toLowerCase() === 'any') return { kind: 'any' };
  const slash = s.indexOf('/');
  const ipText = slash < 0 ? s : s.slice(0, slash);
  const bytes = parseIp(ipText);
  if (!bytes) throw new RuleSyntaxError(`bad address '${s}'`);
  const bits = bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) throw new RuleSyntaxError(`bad prefix length in '${s}'`);
    prefix = Number(p);
  }
  return { kind: 'net', version: bytes.length === 4 ? 4 : 6, bytes, prefix };
}

/** IPv4 dotted quad (4 bytes) or IPv6 text (16 bytes, with ::, with a trailing dotted quad). */
export function parseIp(s: string): Uint8Array | null {
  if (!s.includes(':')) {
    const b = new Uint8Array(4);
    return ipv4Into(s, 0, b, 0) ? b : null;
  }
  const b = new Uint8Array(16);
  return ipv6Into(s, b, 0) ? b : null;
}

type Ranges = [number, number][];

function normalize(r: Ranges): Ranges {
  const s = r.slice().sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of s) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function subtract(a: Ranges, b: Ranges): Ranges {
  let cur = a;
  for (const [blo, bhi] of b) {
    const next: Ranges = [];
    for (const [lo, hi] of cur) {
      if (bhi < lo || blo > hi) next.push([lo, hi]);
      else {
        if (lo < blo) next.push([lo, blo - 1]);
        if (hi > bhi) next.push([bhi + 1, hi]);
      }
    }
    cur = next;
  }
  return cur;
}

const ALL_PORTS: Ranges = [[0, 65535]];

function portRanges(text: string, vars: RuleVariables, depth: number): Ranges {
  if (depth > MAX_VAR_DEPTH) throw new RuleSyntaxError('variables nested too deep (a loop?)');
  const s = text.trim();
  if (s === '') throw new RuleSyntaxError('empty port');
  if (s.startsWith('!')) return subtract(ALL_PORTS, portRanges(s.slice(1), vars, depth));
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new RuleSyntaxError(`unterminated port list '${s}'`);
    const pos: Ranges = [];
    const neg: Ranges = [];
    for (const item of splitList(s.slice(1, -1))) {
      if (item.startsWith('!')) neg.push(...portRanges(item.slice(1), vars, depth));
      else pos.push(...portRanges(item, vars, depth));
    }
    return normalize(subtract(pos.length > 0 ? normalize(pos) : ALL_PORTS, normalize(neg)));
  }
  if (s.startsWith('$')) return portRanges(lookupVar(s.slice(1), vars), vars, depth + 1);
  if (s.toLowerCase() === 'any') return ALL_PORTS;
  const m = /^(\d{0,5})(:?)(\d{0,5})$/.exec(s);
  if (!m || (m[1] === '' && m[3] === '') || (m[2] === '' && m[3] !== '')) throw new RuleSyntaxError(`bad port '${s}'`);
  const lo = m[1] === '' ? 0 : Number(m[1]);
  const hi = m[2] === '' ? lo : m[3] === '' ? 65535 : Number(m[3]);
  if (lo > 65535 || hi > 65535 || lo > hi) throw new RuleSyntaxError(`bad port range '${s}'`);
  return [[lo, hi]];
}

export function parsePorts(text: string, vars: RuleVariables): PortSet {
  const r = normalize(portRanges(text, vars, 0));
  if (r.length === 0) throw new RuleSyntaxError(`port expression '${text}' matches no port`);
  if (r.length === 1 && r[0][0] === 0 && r[0][1] === 65535) return null;
  return r;
}

// ---- options ----------------------------------------------------------------------------------------------------

function parseInteger(v: string | null, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === null || !/^\s*-?\d+\s*$/.test(v)) throw new RuleSyntaxError(`${what} needs an integer, got '${v ?? ''}'`);
  const n = Number(v);
  if (n < min || n > max) throw new RuleSyntaxError(`${what} out of range: ${n}`);
  return n;
}

/** Unquotes "..." with backslash escapes (msg). */
function parseQuoted(v: string | null, what: string): string {
  if (v === null || v.length < 2 || !v.startsWith('"') || !v.endsWith('"')) throw new RuleSyntaxError(`${what} needs a quoted string`);
  let out = '';
  const s = v.slice(1, -1);
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) out += s[++i];
    else if (s[i] === '"') throw new RuleSyntaxError(`unescaped quote in ${what}`);
    else out += s[i];
  }
  return out;
}

const encoder = new TextEncoder();

/** The bytes of a content string: text, |hex bytes|, escapes \" \; \\ \: \|. */
export function contentBytes(s: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '|') {
      const end = s.indexOf('|', i + 1);
      if (end < 0) throw new RuleSyntaxError('unterminated |hex| in content');
      const hex = s.slice(i + 1, end).replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new RuleSyntaxError(`bad hex in content: |${s.slice(i + 1, end)}|`);
      for (let k = 0; k < hex.length; k += 2) out.push(parseInt(hex.slice(k, k + 2), 16));
      i = end + 1;
    } else if (ch === '\\') {
      const n = s[i + 1];
      if (n === undefined || !'";\\:|'.includes(n)) throw new RuleSyntaxError(`bad escape \\${n ?? ''} in content`);
      out.push(n.charCodeAt(0));
      i += 2;
    } else if (ch === '"') {
      throw new RuleSyntaxError('unescaped quote in content');
    } else {
      const cp = s.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if (cp < 0x80) out.push(cp);
      else out.push(...encoder.encode(s.slice(i, i + len)));
      i += len;
    }
  }
  return Uint8Array.from(out);
}

const FLAG_BITS: Readonly<Record<string, number>> = {
  F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, '2': 0x40, C: 0x80, '1': 0x80,
};

export function parseFlags(v: string | null): FlagsMatch {
  if (v === null || v.trim() === '') throw new RuleSyntaxError('flags needs a value');
  const [fpart, mpart, extra] = v.split(',').map((x) => x.trim().toUpperCase());
  if (extra !== undefined) throw new RuleSyntaxError(`bad flags '${v}'`);
  let mode: FlagsMode = 'exact';
  let flags = 0;
  let zero = false;
  for (const ch of fpart) {
    if (ch === '+' || ch === '*' || ch === '!') {
      if (mode !== 'exact') throw new RuleSyntaxError(`two flag modifiers in '${v}'`);
      mode = ch === '+' ? 'all' : ch === '*' ? 'any' : 'not';
    } else if (ch === '0') zero = true;
    else if (Object.hasOwn(FLAG_BITS, ch)) flags |= FLAG_BITS[ch];
    else throw new RuleSyntaxError(`bad flag '${ch}' in '${v}'`);
  }
  if (zero && flags !== 0) throw new RuleSyntaxError(`flag 0 (no flags) combined with others in '${v}'`);
  if (!zero && flags === 0) throw new RuleSyntaxError(`no flags in '${v}'`);
  if (zero && mode !== 'exact') throw new RuleSyntaxError(`modifier with flag 0 in '${v}'`);
  let mask = 0;
  if (mpart !== undefined) {
    if (mpart === '') throw new RuleSyntaxError(`empty flags mask in '${v}'`);
    for (const ch of mpart) {
      if (!Object.hasOwn(FLAG_BITS, ch)) throw new RuleSyntaxError(`bad flag '${ch}' in mask of '${v}'`);
      mask |= FLAG_BITS[ch];
    }
  }
  return { flags, mask, mode };
}

export function parseDsize(v: string | null): NumberMatch {
  const s = (v ?? '').trim();
  let m = /^(\d+)\s*<>\s*(\d+)$/.exec(s);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (lo >= hi) throw new RuleSyntaxError(`dsize range ${lo}<>${hi} is empty`);
    return { op: '<>', value: lo, max: hi };
  }
  m = /^(!|<=|>=|<|>|=)?\s*(\d+)$/.exec(s);
  if (!m) throw new RuleSyntaxError(`bad dsize '${s}'`);
  const op: NumberOp = m[1] === undefined ? '=' : m[1] === '!' ? '!=' : (m[1] as NumberOp);
  const n = Number(m[2]);
  if (n > 65535) throw new RuleSyntaxError(`dsize ${n} out of range`);
  return { op, value: n, max: 0 };
}

function parseTrack(v: string | undefined, what: string): Track | string {
  if (v === 'by_src' || v === 'by_dst' || v === 'by_both' || v === 'by_rule') return v;
  if (v === 'by_flow') return `unsupported ${what} track by_flow`;
  throw new RuleSyntaxError(`${what}: bad track '${v ?? ''}'`);
}

/** `key value, key value ...` */
function keyValues(v: string | null, what: string): Map<string, string> {
  if (v === null) throw new RuleSyntaxError(`${what} needs a value`);
  const out = new Map<string, string>();
  for (const part of v.split(',')) {
    const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(part);
    if (!m) throw new RuleSyntaxError(`${what}: bad part '${part.trim()}'`);
    const k = m[1].toLowerCase();
    if (out.has(k)) throw new RuleSyntaxError(`${what}: ${k} given twice`);
    out.set(k, m[2]);
  }
  return out;
}

class OptionsBuilder {
  msg = '';
  gid = 1;
  rev = 0;
  classtype = '';
  priority: number | null = null;
  contents: ContentMatch[] = [];
  flags: FlagsMatch | null = null;
  dsize: NumberMatch | null = null;
  flow: FlowMatch | null = null;
  threshold: ThresholdSpec | null = null;
  detectionFilter: DetectionFilterSpec | null = null;

  private lastContent(name: string): ContentMatch {
    const c = this.contents[this.contents.length - 1];
    if (!c) throw new RuleSyntaxError(`${name} without a content before it`);
    return c;
  }

  /** Applies one option. Returns a skip reason for what we do not support, else null. */
  apply(name: string, value: string | null, proto: RuleProto): string | null {
    switch (name) {
      case 'msg':
        this.msg = parseQuoted(value, 'msg');
        return null;
      case 'sid':
        return null; // read before
      case 'rev':
        this.rev = parseInteger(value, 'rev', 0);
        return null;
      case 'gid':
        this.gid = parseInteger(value, 'gid', 0);
        return null;
      case 'classtype':
        if (value === null || !/^[\w\-]+$/.test(value)) throw new RuleSyntaxError(`bad classtype '${value ?? ''}'`);
        this.classtype = value;
        return null;
      case 'priority':
        this.priority = parseInteger(value, 'priority', 1, 255);
        return null;
      case 'content': {
        const v = value ?? '';
        const negated = v.startsWith('!');
        const q = (negated ? v.slice(1) : v).trim();
        if (q.length < 2 || !q.startsWith('"') || !q.endsWith('"')) throw new RuleSyntaxError('content needs a quoted string');
        const source = q.slice(1, -1);
        const pattern = contentBytes(source);
        if (pattern.length === 0) throw new RuleSyntaxError('empty content');
        this.contents.push({ pattern, source, negated, nocase: false, offset: null, depth: null, distance: null, within: null });
        return null;
      }
      case 'nocase': {
        const c = this.lastContent(name);
        if (value !== null) throw new RuleSyntaxError('nocase takes no value');
        c.nocase = true;
        c.pattern = c.pattern.map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b));
        return null;
      }
      case 'offset':
      case 'depth':
      case 'distance':
      case 'within': {
        const c = this.lastContent(name);
        if (value !== null && !/^\s*-?\d+\s*$/.test(value)) return `unsupported ${name} with a variable`;
        const n = parseInteger(value, name, name === 'distance' ? -65535 : name === 'offset' ? 0 : 1, 65535);
        if (c[name] !== null) throw new RuleSyntaxError(`${name} given twice for content "${c.source}"`);
        c[name] = n;
        const relative = c.distance !== null || c.within !== null;
        const absolute = c.offset !== null || c.depth !== null;
        if (relative && absolute) throw new RuleSyntaxError(`content "${c.source}" mixes offset/depth with distance/within`);
        if ((name === 'depth' || name === 'within') && n < c.pattern.length) {
          throw new RuleSyntaxError(`${name} ${n} is shorter than content "${c.source}" (${c.pattern.length} bytes)`);
        }
        return null;
      }
      case 'flags':
        if (this.flags) throw new RuleSyntaxError('flags given twice');
        if (proto !== 'tcp' && proto !== 'ip') throw new RuleSyntaxError(`flags on a ${proto} rule`);
        this.flags = parseFlags(value);
        return null;
      case 'dsize':
        if (this.dsize) throw new RuleSyntaxError('dsize given twice');
        this.dsize = parseDsize(value);
        return null;
      case 'flow':
        return this.parseFlow(value, proto);
      case 'threshold':
        return this.parseThreshold(value);
      case 'detection_filter':
        return this.parseDetectionFilter(value);
      default:
        if (IGNORED.has(name)) {
          if ((name === 'fast_pattern' || name === 'rawbytes') && this.contents.length === 0) {
            throw new RuleSyntaxError(`${name} without a content before it`);
          }
          return null;
        }
        return `unsupported option ${name}`;
    }
  }

  private parseFlow(value: string | null, proto: RuleProto): string | null {
    if (this.flow) throw new RuleSyntaxError('flow given twice');
    if (value === null || value.trim() === '') throw new RuleSyntaxError('flow needs a value');
    const f: FlowMatch = { direction: null, established: false, notEstablished: false, fragment: null };
    for (const raw of value.split(',')) {
      const k = raw.trim().toLowerCase();
      switch (k) {
        case 'to_server':
        case 'from_client':
        case 'to_client':
        case 'from_server': {
          const d = k === 'to_server' || k === 'from_client' ? 'to-server' : 'to-client';
          if (f.direction !== null && f.direction !== d) throw new RuleSyntaxError(`flow: conflicting directions in '${value}'`);
          f.direction = d;
          break;
        }
        case 'established':
        case 'not_established':
          if (proto !== 'tcp') return `unsupported flow ${k} on ${proto}`;
          if (k === 'established') f.established = true;
          else f.notEstablished = true;
          if (f.established && f.notEstablished) throw new RuleSyntaxError('flow: established and not_established');
          break;
        case 'stateless':
        case 'no_stream':
          break;
        case 'no_frag':
        case 'only_frag':
          f.fragment = k === 'no_frag' ? 'no' : 'only';
          break;
        case '':
          throw new RuleSyntaxError(`flow: empty keyword in '${value}'`);
        default:
          return `unsupported flow ${k}`;
      }
    }
    this.flow = f;
    return null;
  }

  private parseThreshold(value: string | null): string | null {
    if (this.threshold) throw new RuleSyntaxError('threshold given twice');
    if (this.detectionFilter) throw new RuleSyntaxError('threshold and detection_filter in one rule');
    const kv = keyValues(value, 'threshold');
    for (const k of kv.keys()) {
      if (k === 'multiplier') return 'unsupported threshold multiplier';
      if (!['type', 'track', 'count', 'seconds'].includes(k)) throw new RuleSyntaxError(`threshold: unknown key '${k}'`);
    }
    const type = kv.get('type');
    if (type === 'backoff') return 'unsupported threshold type backoff';
    if (type !== 'limit' && type !== 'threshold' && type !== 'both') throw new RuleSyntaxError(`threshold: bad type '${type ?? ''}'`);
    const track = parseTrack(kv.get('track'), 'threshold');
    if (!isTrack(track)) return track;
    this.threshold = {
      type, track,
      count: parseInteger(kv.get('count') ?? null, 'threshold count', 1),
      seconds: parseInteger(kv.get('seconds') ?? null, 'threshold seconds', 1),
    };
    return null;
  }

  private parseDetectionFilter(value: string | null): string | null {
    if (this.detectionFilter) throw new RuleSyntaxError('detection_filter given twice');
    if (this.threshold) throw new RuleSyntaxError('threshold and detection_filter in one rule');
    const kv = keyValues(value, 'detection_filter');
    for (const k of kv.keys()) {
      if (!['track', 'count', 'seconds', 'unique_on'].includes(k)) throw new RuleSyntaxError(`detection_filter: unknown key '${k}'`);
    }
    const track = parseTrack(kv.get('track'), 'detection_filter');
    if (!isTrack(track)) return track;
    const u = kv.get('unique_on');
    if (u !== undefined && u !== 'src_port' && u !== 'dst_port') throw new RuleSyntaxError(`detection_filter: bad unique_on '${u}'`);
    this.detectionFilter = {
      track,
      count: parseInteger(kv.get('count') ?? null, 'detection_filter count', 1),
      seconds: parseInteger(kv.get('seconds') ?? null, 'detection_filter seconds', 1),
      uniqueOn: u ?? null,
    };
    return null;
  }
}

function isTrack(t: string): t is Track {
  return t === 'by_src' || t === 'by_dst' || t === 'by_both' || t === 'by_rule';
}
