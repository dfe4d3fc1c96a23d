// haproxy.cfg → dvflow VIPs. Reads the proxy sections (`defaults`, `frontend`, `listen`, `backend`): every `bind`
// address and port of a frontend or listen becomes a Vip (lbKind 'proxy'), its pools being the
// `default_backend` (or the listen's own servers) and then the `use_backend` targets, with their servers,
// `balance`, stickiness and `source` addresses. Hand-written because no maintained npm package parses
// haproxy.cfg into sections with line numbers, and dvflow needs only this slice of the grammar.
//
// Vip names: the first bind address of a frontend/listen is named after the section (`www`); each further one
// is `www:PORT` when no other bind of the section uses that port, else `www:ADDR:PORT` (IPv6 in brackets).
// A name already taken in the file (say a frontend literally called `www:443`) gets `#2`, `#3` ...
//
// `defaults` pass on mode, balance and source (the last defaults section, or the one named by `from`); `global`
// and the other non-proxy sections are skipped whole. `bind *:80` gives address 0.0.0.0, `bind :::80` gives ::;
// a bind port range gives one Vip per port, or, past 256 ports, one Vip with port null and a warning.
//
// Not understood, so warned about and skipped: unknown directives, `.if` blocks (every branch is read), unix
// sockets, `${ENV}` addresses, `server-template`, disabled proxies and those without a bind. ImportError:
// unterminated quote, `bind`/`server` without an address, an address or port that does not parse, two proxies
// of one kind (or a listen and another proxy) with the same name.

import { ImportError, type Pool, type RealServer, type Vip } from '../inventoryModel.ts';
import { canonicalIp, hostPort, NameAllocator, parseHost, parseUint, WarningList, type VipImportResult } from './vipCommon.ts';

/** Bind port ranges up to this many ports become one Vip per port; wider ones one Vip with port null. */
const MAX_PORT_RANGE = 256;

const PROXY_SECTIONS = new Set(['defaults', 'frontend', 'listen', 'backend']);
/** Sections whose content says nothing about VIPs: skipped whole, without warnings. */
const OTHER_SECTIONS = new Set([
  'global', 'peers', 'resolvers', 'userlist', 'mailers', 'program', 'http-errors', 'ring', 'cache', 'log-forward',
  'crt-store', 'traces', 'acme', 'fcgi-app', 'namespace_list', 'dynamic-update', 'crt-list',
]);

/** Proxy keywords dvflow has no use for (HAProxy configuration manual, section 4.1, plus 1.x leftovers). */
const IGNORED = new Set([
  'acl', 'backlog', 'bind-process', 'capture', 'clitcpka-cnt', 'clitcpka-idle', 'clitcpka-intvl', 'compression',
  'cookie', 'declare', 'default-server', 'description', 'dynamic-cookie-key', 'email-alert', 'error-log-format',
  'errorfile', 'errorfiles', 'errorloc', 'errorloc302', 'errorloc303', 'external-check', 'filter', 'force-persist',
  'fullconn', 'guid', 'hash-balance-factor', 'hash-key', 'hash-type', 'http-after-response', 'http-check',
  'http-error', 'http-request', 'http-response', 'http-reuse', 'http-send-name-header', 'id', 'ignore-persist',
  'load-server-state-from-file', 'log', 'log-format', 'log-format-sd', 'log-steps', 'log-tag',
  'max-keep-alive-queue', 'max-session-srv-conns', 'maxconn', 'monitor', 'monitor-net', 'monitor-uri', 'option',
  'no', 'persist', 'quic-initial', 'rate-limit', 'redirect', 'retries', 'retry-on', 'server-state-file-name',
  'srvtcpka-cnt', 'srvtcpka-idle', 'srvtcpka-intvl', 'stats', 'tcp-check', 'tcp-request', 'tcp-response',
  'timeout', 'transparent', 'unique-id-format', 'unique-id-header', 'use-fcgi-app', 'use-server', 'redispatch',
  'appsession', 'contimeout', 'clitimeout', 'srvtimeout', 'grace', 'block', 'reqadd', 'reqdel', 'reqidel',
  'reqrep', 'reqirep', 'reqallow', 'reqiallow', 'reqdeny', 'reqideny', 'reqpass', 'reqipass', 'reqtarpit',
  'reqitarpit', 'rspadd', 'rspdel', 'rspidel', 'rsprep', 'rspirep', 'rspdeny', 'rspideny', 'enabled',
]);

type SectionType = 'defaults' | 'frontend' | 'listen' | 'backend';

interface Inherited {
  mode?: string;
  balance?: string;
  sources: string[];
}

interface Endpoint {
  address: string;
  port: number | null;
  proto: 'tcp' | 'udp';
  line: number;
}

interface Section extends Inherited {
  type: SectionType;
  name: string;
  line: number;
  binds: Endpoint[];
  defaultBackend?: { name: string; line: number };
  useBackends: Array<{ name: string; line: number }>;
  servers: RealServer[];
  stick: string[];
  stickExpire?: number;
  stickRule: boolean;
  disabled: boolean;
}

/** Splits a line into words: `#` comments, "double" (with \ escapes) and 'single' quotes, \ escapes outside. */
function tokenize(text: string, file: string, line: number): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (c === '#') {
      break;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new ImportError(file, line, `unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) out.push(cur);
  return out;
}

/** HAProxy time (`30m`, `10s`, `5000` = ms) in whole seconds, or undefined. */
function haproxySeconds(s: string): number | undefined {
  const m = /^([0-9]+)(us|ms|s|m|h|d)?$/.exec(s);
  if (!m) return undefined;
  const mult: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };
  return Math.round(Number(m[1]) * mult[m[2] ?? 'ms']);
}

/** `host:port` as HAProxy reads it: brackets, else the port after the last colon when the rest is an address. */
function splitHostPort(s: string): { host: string; port: string | null } | null {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    const rest = s.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    return { host: s.slice(1, close), port: rest === '' ? null : rest.slice(1) };
  }
  const idx = s.lastIndexOf(':');
  if (idx < 0) return { host: s, port: null };
  const host = s.slice(0, idx);
  if (host === '' || host === '*' || parseHost(host) !== null) return { host, port: s.slice(idx + 1) };
  // An IPv6 address without a port (`2001:db8::1`).
  if (canonicalIp(s) !== null) return { host: s, port: null };
  return { host, port: s.slice(idx + 1) };
}

const NON_NETWORK_PREFIXES = new Set(['unix', 'abns', 'abnsz', 'fd', 'sockpair', 'rhttp', 'uxst', 'uxdg', 'mptcp']);
const PREFIX_FAMILY: Record<string, { family?: 4 | 6; proto: 'tcp' | 'udp' }> = {
  ipv4: { family: 4, proto: 'tcp' }, ipv6: { family: 6, proto: 'tcp' }, tcp: { proto: 'tcp' },
  tcp4: { family: 4, proto: 'tcp' }, tcp6: { family: 6, proto: 'tcp' }, udp: { proto: 'udp' },
  udp4: { family: 4, proto: 'udp' }, udp6: { family: 6, proto: 'udp' }, quic4: { family: 4, proto: 'udp' },
  quic6: { family: 6, proto: 'udp' }, quic: { proto: 'udp' }, mptcp4: { family: 4, proto: 'tcp' },
  mptcp6: { family: 6, proto: 'tcp' },
};

interface ParsedAddress {
  address: string;
  /** As written after the colon; null when there was none. */
  port: string | null;
  proto: 'tcp' | 'udp';
}

class HaproxyParser {
  private readonly warnings: WarningList;
  private readonly sections: Section[] = [];
  private readonly byName = new Map<string, Section[]>();
  private readonly defaults = new Map<string, Inherited>();
  private lastDefaults: Inherited = { sources: [] };
  private current: Section | null = null;
  /** Inside a section dvflow does not read (global, peers ...). */
  private skipping = false;

  constructor(private readonly text: string, private readonly file: string) {
    this.warnings = new WarningList(file);
  }

  parse(): VipImportResult {
    const lines = this.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const words = tokenize(lines[i], this.file, i + 1);
      if (words.length > 0) this.statement(words, i + 1);
    }
    return { inventory: { vips: this.buildVips() }, warnings: this.warnings.sorted() };
  }

  private fail(line: number, message: string): never {
    throw new ImportError(this.file, line, message);
  }

  private statement(w: string[], line: number): void {
    const kw = w[0];
    if (PROXY_SECTIONS.has(kw)) return this.openSection(kw as SectionType, w, line);
    if (OTHER_SECTIONS.has(kw)) {
      this.current = null;
      this.skipping = true;
      return;
    }
    if (kw.startsWith('.')) {
      if (kw === '.if') this.warnings.add(line, 'conditional block (.if) not evaluated: every branch is read');
      return;
    }
    if (this.skipping) return;
    const s = this.current;
    if (s === null) return this.warnings.add(line, `unknown directive '${kw}' outside any section`);
    this.proxyDirective(s, w, line);
  }

  private openSection(type: SectionType, w: string[], line: number): void {
    this.skipping = false;
    let name = w[1] ?? '';
    let rest = w.slice(2);
    if (name === 'from') {
      // `defaults from X` / `frontend from X`: an anonymous section.
      name = '';
      rest = w.slice(1);
    }
    let parent = this.lastDefaults;
    if (rest[0] === 'from') {
      const p = this.defaults.get(rest[1] ?? '');
      if (p) parent = p;
      else this.warnings.add(line, `defaults section '${rest[1] ?? ''}' not found; using the previous defaults`);
      rest = rest.slice(2);
    }
    if (type === 'defaults') {
      // A defaults section starts afresh unless it names its parent; the proxies after it inherit from it.
      const d = this.blankSection('defaults', name, line);
      if (w.includes('from')) Object.assign(d, { mode: parent.mode, balance: parent.balance, sources: [...parent.sources] });
      this.lastDefaults = d;
      if (name !== '') this.defaults.set(name, d);
      this.current = d;
      return;
    }
    if (name === '') this.fail(line, `${type} section without a name`);
    // HAProxy refuses two proxies of one kind with one name; a listen is both kinds. frontend X + backend X is usual.
    const same = this.byName.get(name) ?? [];
    const clash = same.find((s) => s.type === type || s.type === 'listen' || type === 'listen');
    if (clash) this.fail(line, `${type} '${name}' has the same name as the ${clash.type} at line ${clash.line}`);
    const s: Section = { ...this.blankSection(type, name, line), mode: parent.mode, balance: parent.balance, sources: [...parent.sources] };
    this.sections.push(s);
    this.byName.set(name, [...same, s]);
    this.current = s;
    // HAProxy 1.x: `listen NAME ADDR:PORT[,...]` and `frontend NAME ADDR:PORT`.
    if (rest.length > 0 && (type === 'listen' || type === 'frontend')) this.bind(s, rest[0], line);
    else if (rest.length > 0) this.warnings.add(line, `unexpected words after ${type} '${name}': ${rest.join(' ')}`);
  }

  private blankSection(type: SectionType, name: string, line: number): Section {
    return { type, name, line, binds: [], useBackends: [], servers: [], stick: [], stickRule: false, disabled: false, sources: [] };
  }

  private proxyDirective(s: Section, w: string[], line: number): void {
    const kw = w[0];
    const where = s.type === 'defaults' ? 'defaults' : `${s.type} '${s.name}'`;
    const notIn = (...types: SectionType[]) => {
      if (!types.includes(s.type)) return false;
      this.warnings.add(line, `'${kw}' is not allowed in ${s.type === 'defaults' ? 'a defaults' : `a ${s.type}`} section; ignored`);
      return true;
    };
    switch (kw) {
      case 'bind':
        if (notIn('backend', 'defaults')) return;
        if (w.length < 2) this.fail(line, "'bind' without an address");
        return this.bind(s, w[1], line);
      case 'mode':
        if (w[1] === undefined) return this.warnings.add(line, "'mode' without a value; ignored");
        s.mode = w[1];
        return;
      case 'balance':
        if (notIn('frontend')) return;
        if (w[1] === undefined) return this.warnings.add(line, "'balance' without an algorithm; ignored");
        s.balance = w.slice(1).join(' ');
        return;
      case 'default_backend':
        if (notIn('backend')) return;
        if (w[1] === undefined) return this.warnings.add(line, "'default_backend' without a backend name; ignored");
        s.defaultBackend = { name: w[1], line };
        return;
      case 'use_backend':
        if (notIn('backend', 'defaults')) return;
        if (w[1] === undefined) return this.warnings.add(line, "'use_backend' without a backend name; ignored");
        if (w[1].includes('%[')) return this.warnings.add(line, `dynamic use_backend '${w[1]}' cannot be resolved; ignored`);
        s.useBackends.push({ name: w[1], line });
        return;
      case 'server':
        if (notIn('frontend', 'defaults')) return;
        return this.server(s, w, line);
      case 'dispatch':
        if (notIn('frontend', 'defaults')) return;
        return this.server(s, ['server', 'dispatch', ...w.slice(1)], line);
      case 'server-template':
        return this.warnings.add(line, `server-template '${w[1] ?? ''}' in ${where} is resolved through DNS at run time; not imported`);
      case 'stick-table': {
        s.stick.push(w.join(' '));
        const e = w.indexOf('expire');
        if (e > 0 && w[e + 1] !== undefined) s.stickExpire = haproxySeconds(w[e + 1]);
        return;
      }
      case 'stick':
        s.stick.push(w.join(' '));
        if (w[1] === 'on' || w[1] === 'match') s.stickRule = true;
        return;
      case 'source':
        if (notIn('frontend')) return;
        return this.source(s, w, line);
      case 'disabled':
        s.disabled = true;
        return;
      default:
        if (IGNORED.has(kw)) return;
        this.warnings.add(line, `unknown directive '${kw}' in ${where}; ignored`);
    }
  }

  /** An address with an optional `proto@` prefix; null (and a warning) for what is not an IP socket. */
  private address(raw: string, line: number, what: string, portless = false): ParsedAddress | null {
    let s = raw;
    let family: 4 | 6 | undefined;
    let proto: 'tcp' | 'udp' = 'tcp';
    if (s.includes('${')) {
      this.warnings.add(line, `${what} '${raw}' uses an environment variable; not imported`);
      return null;
    }
    const at = /^([a-z0-9]+)@(.*)$/.exec(s);
    if (at) {
      if (NON_NETWORK_PREFIXES.has(at[1])) {
        this.warnings.add(line, `${what} '${raw}' is not an IP socket; not imported`);
        return null;
      }
      const p = PREFIX_FAMILY[at[1]];
      if (!p) this.fail(line, `unknown address prefix '${at[1]}@' in '${raw}'`);
      family = p.family;
      proto = p.proto;
      s = at[2];
    }
    if (s.startsWith('/')) {
      this.warnings.add(line, `${what} '${raw}' is a unix socket; not imported`);
      return null;
    }
    const hp = portless ? { host: s, port: null } : splitHostPort(s);
    if (hp === null) this.fail(line, `cannot parse ${what} '${raw}'`);
    let address: string;
    if (hp.host === '' || hp.host === '*') {
      address = family === 6 ? '::' : '0.0.0.0';
    } else {
      const h = parseHost(hp.host);
      if (h === null) this.fail(line, `cannot parse ${what} '${raw}': '${hp.host}' is not an IP address or host name`);
      if (h.isName) this.warnings.add(line, `${what} '${raw}' is a host name; dvflow matches IP addresses only`);
      address = h.address;
    }
    return { address, port: hp.port, proto };
  }

  private bind(s: Section, list: string, line: number): void {
    for (const part of list.split(',')) {
      if (part === '') continue;
      const a = this.address(part, line, 'bind address');
      if (a === null) continue;
      if (a.port === null || a.port === '') this.fail(line, `bind address '${part}' has no port`);
      const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(a.port);
      if (!m) this.fail(line, `cannot parse port '${a.port}' of bind address '${part}'`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (lo > 65535 || hi > 65535 || hi < lo) this.fail(line, `invalid port '${a.port}' of bind address '${part}'`);
      if (hi - lo + 1 > MAX_PORT_RANGE) {
        this.warnings.add(line, `port range ${lo}-${hi} of '${part}' (${hi - lo + 1} ports) recorded as every port`);
        s.binds.push({ address: a.address, port: null, proto: a.proto, line });
        continue;
      }
      for (let p = lo; p <= hi; p++) s.binds.push({ address: a.address, port: p === 0 ? null : p, proto: a.proto, line });
    }
  }

  private server(s: Section, w: string[], line: number): void {
    const name = w[1];
    if (name === undefined || w[2] === undefined) this.fail(line, `'${w[0]}' line has no address`);
    const a = this.address(w[2], line, `server '${name}' address`);
    if (a === null) return;
    let port: number | null = null;
    if (a.port !== null && a.port !== '') {
      if (/^[+-][0-9]+$/.test(a.port)) {
        this.warnings.add(line, `server '${name}' uses a port offset (${a.port}); its port is recorded as unknown`);
      } else {
        const n = parseUint(a.port, 65535);
        if (n === null) this.fail(line, `invalid port '${a.port}' of server '${name}'`);
        port = n === 0 ? null : n;
      }
    }
    const srv: RealServer = { name, address: a.address, port };
    for (let i = 3; i < w.length; i++) {
      switch (w[i]) {
        case 'weight': {
          const n = parseUint(w[i + 1], 256);
          if (n === null) this.warnings.add(line, `invalid weight '${w[i + 1] ?? ''}' of server '${name}'; ignored`);
          else srv.weight = n;
          i++;
          break;
        }
        case 'cookie':
          if (w[i + 1] !== undefined) srv.cookie = w[i + 1];
          i++;
          break;
        case 'backup':
          srv.backup = true;
          break;
        case 'disabled':
          srv.disabled = true;
          break;
        case 'source': {
          const src = w[i + 1] === undefined ? null : this.address(w[i + 1], line, `source of server '${name}'`);
          if (src) this.addSource(s, src.address);
          i++;
          break;
        }
        default:
      }
    }
    s.servers.push(srv);
  }

  private source(s: Section, w: string[], line: number): void {
    if (w[1] === undefined) return this.warnings.add(line, "'source' without an address; ignored");
    const a = this.address(w[1], line, 'source address');
    if (a === null) return;
    s.sources = [];
    this.addSource(s, a.address);
  }

  private addSource(s: Section, address: string): void {
    // 0.0.0.0 / :: is "let the kernel choose": no information.
    if (address !== '0.0.0.0' && address !== '::' && !s.sources.includes(address)) s.sources.push(address);
  }

  private poolOf(s: Section): Pool {
    const pool: Pool = { name: s.name, servers: s.servers.map((x) => ({ ...x })) };
    if (s.balance !== undefined) pool.balance = s.balance;
    if (s.stick.length > 0) pool.stick = s.stick.join('; ');
    if (s.stickRule && s.stickExpire !== undefined) pool.persistenceTimeout = s.stickExpire;
    return pool;
  }

  private buildVips(): Vip[] {
    const names = new NameAllocator();
    const vips: Vip[] = [];
    const backends = new Map<string, Section>();
    for (const s of this.sections) if (s.type === 'backend' || s.type === 'listen') backends.set(s.name, s);
    for (const s of this.sections) {
      if (s.type !== 'frontend' && s.type !== 'listen') continue;
      if (s.disabled) {
        this.warnings.add(s.line, `${s.type} '${s.name}' is disabled; not imported`);
        continue;
      }
      if (s.binds.length === 0) {
        this.warnings.add(s.line, `${s.type} '${s.name}' has no bind address; not imported`);
        continue;
      }
      const poolSections: Section[] = [];
      const addPool = (ref: { name: string; line: number }) => {
        const b = backends.get(ref.name);
        if (!b) this.warnings.add(ref.line, `backend '${ref.name}' used by ${s.type} '${s.name}' is not defined`);
        else if (!poolSections.includes(b)) poolSections.push(b);
      };
      // A listen's own servers are its default pool, unless it names a default_backend (then they come last).
      const own = s.type === 'listen' && s.servers.length > 0;
      if (s.defaultBackend) addPool(s.defaultBackend);
      else if (own) poolSections.push(s);
      for (const u of s.useBackends) addPool(u);
      if (own && !poolSections.includes(s)) poolSections.push(s);
      const pools = poolSections.map((p) => this.poolOf(p));
      const lbAddresses = [...new Set(poolSections.flatMap((p) => p.sources))];
      const perPort = new Map<number | null, number>();
      for (const b of s.binds) perPort.set(b.port, (perPort.get(b.port) ?? 0) + 1);
      s.binds.forEach((b, i) => {
        let base = s.name;
        if (i > 0) {
          const samePort = perPort.get(b.port)! > 1;
          base = b.port !== null && !samePort ? `${s.name}:${b.port}` : `${s.name}:${hostPort(b.address, b.port)}`;
        }
        vips.push({
          name: names.take(base), address: b.address, port: b.port, proto: b.proto, mode: s.mode ?? 'tcp',
          lbKind: 'proxy', pools: pools.map((p) => ({ ...p, servers: p.servers.map((x) => ({ ...x })) })),
          lbAddresses: [...lbAddresses], origin: { kind: 'haproxy', name: this.file, line: b.line },
        });
      });
    }
    return vips;
  }
}

/** Parses haproxy.cfg text; `file` names it in warnings, errors and origins. */
export function parseHaproxyConfig(text: string, file: string): VipImportResult {
  return new HaproxyParser(text, file).parse();
}
