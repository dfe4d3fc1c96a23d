// ldirectord.cf → dvflow VIPs (ldirectord drives LVS; Loadbalancer.org appliances use this file for their layer-4
// services). Each `virtual=ADDR:PORT` (or `virtual=N`, a firewall mark; `virtual6=[ADDR]:PORT`) starts a block of
// indented `key=value` lines; its `real=ADDR[->ADDR][:PORT] gate|masq|ipip [weight]` servers make its one pool,
// with `scheduler` as balance, `persistent` as persistence timeout and `fallback` as a backup server. gate → 'dr',
// masq → 'nat', ipip → 'tun', per server; the Vip's lbKind is the method most of its real servers use (the first
// one on a tie), and a server keeps its own lbKind only when it differs. Hand-written because no maintained npm
// package parses ldirectord.cf.
//
// Vip names: the block's `label=` when there is one (Loadbalancer.org writes it), else `ADDR:PORT` (IPv6 in
// brackets) for TCP, `ADDR:PORT/udp` for UDP, `fwmark:N` for firewall marks; clashes get `#2`, `#3` ... Protocol
// defaults as ldirectord's: udp for port 53, tcp otherwise, any for a firewall mark. A fwmark Vip has address
// 0.0.0.0 (:: for virtual6): the marked traffic is chosen by firewall rules, so only its real servers can be
// recognised. Weights are recorded only where written (ldirectord's default is 1).
//
// Lenient where ldirectord is strict and nothing is lost: any indentation (not only 4 spaces or a tab) continues
// a block, and blank lines do not end it. Warnings: unknown keys, indented lines outside a block, host names,
// real-server ranges of host names. ImportError: a virtual or real without an address, an address or port that
// does not parse, a real without a gate/masq/ipip method.

import { ImportError, type LbKind, type Pool, type RealServer, type Vip } from '../inventoryModel.ts';
import {
  hostPort, ipv4Range, lvsKind, lvsVipName, NameAllocator, parseHost, parsePort, parseUint, WarningList, type VipImportResult,
} from './vipCommon.ts';

/** Most real servers one `real=A->B` range expands to. */
const MAX_RANGE = 1024;

const GLOBAL_KEYS = new Set([
  'checktimeout', 'negotiatetimeout', 'connecttimeout', 'checkinterval', 'checkcount', 'failurecount', 'fallbackcommand',
  'autoreload', 'callback', 'logfile', 'execute', 'fork', 'supervised', 'quiescent', 'readdquiescent', 'emailalert',
  'emailalertfreq', 'emailalertstatus', 'emailalertfrom', 'cleanstop', 'smtp', 'maintenancedir',
]);

const VIRTUAL_IGNORED = new Set([
  'request', 'receive', 'checktype', 'checkcommand', 'checktimeout', 'connecttimeout', 'negotiatetimeout', 'checkcount',
  'failurecount', 'checkinterval', 'checkport', 'login', 'passwd', 'database', 'secret', 'load', 'ops', 'service',
  'httpmethod', 'virtualhost', 'fallbackcommand', 'quiescent', 'emailalert', 'emailalertfreq', 'emailalertstatus',
  'monitorfile', 'cleanstop', 'smtp', 'netmask',
]);

interface Fallback {
  address: string;
  port: number | null;
  kind: LbKind;
}

interface Block {
  line: number;
  v6: boolean;
  address: string;
  port: number | null;
  fwmark?: number;
  label?: string;
  protocol?: 'tcp' | 'udp' | 'fwm';
  scheduler?: string;
  persistent?: number;
  reals: Array<RealServer & { kind: LbKind }>;
  fallback?: Fallback;
}

/** Removes a `#` comment outside double quotes. */
function stripComment(s: string): string {
  let q = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') q = !q;
    else if (s[i] === '#' && !q) return s.slice(0, i);
  }
  return s;
}

class LdirectordParser {
  private readonly warnings: WarningList;
  private readonly names = new NameAllocator();
  private readonly vips: Vip[] = [];
  private readonly globalFallback: { v4?: Fallback; v6?: Fallback } = {};
  private readonly blocks: Block[] = [];

  constructor(private readonly text: string, private readonly file: string) {
    this.warnings = new WarningList(file);
  }

  private fail(line: number, message: string): never {
    throw new ImportError(this.file, line, message);
  }

  parse(): VipImportResult {
    let block: Block | null = null;
    const lines = this.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = i + 1;
      const raw = stripComment(lines[i]).replace(/\s+$/, '');
      if (raw.trim() === '') continue;
      const indented = /^[ \t]/.test(raw);
      const m = /^\s*([A-Za-z0-9_]+)\s*(?:=\s*(.*))?$/.exec(raw);
      if (!m) {
        this.warnings.add(line, `cannot read '${raw.trim()}' (expected key=value); ignored`);
        continue;
      }
      const key = m[1];
      const value = (m[2] ?? '').trim();
      if (key === 'virtual' || key === 'virtual6') {
        block = this.virtual(value, key === 'virtual6', line);
        this.blocks.push(block);
      } else if (indented && block !== null) {
        this.virtualKey(block, key, value, line);
      } else if (indented && !GLOBAL_KEYS.has(key) && key !== 'fallback' && key !== 'fallback6') {
        this.warnings.add(line, `indented '${key}' outside a virtual block; ignored`);
      } else {
        block = null;
        this.globalKey(key, value, line);
      }
    }
    for (const b of this.blocks) this.vips.push(this.vipOf(b));
    return { inventory: { vips: this.vips }, warnings: this.warnings.sorted() };
  }

  private globalKey(key: string, value: string, line: number): void {
    if (key === 'fallback' || key === 'fallback6') {
      const f = this.fallback(value, line);
      if (f) this.globalFallback[key === 'fallback6' ? 'v6' : 'v4'] = f;
    } else if (!GLOBAL_KEYS.has(key)) {
      this.warnings.add(line, `unknown global directive '${key}'; ignored`);
    }
  }

  /** `host[->host][:port]` as ldirectord writes it; IPv6 in brackets. */
  private hostSpec(s: string, line: number, what: string): { first: string; last?: string; port: string | null } {
    const br = /^\[([^\]]*)\](?:->\[([^\]]*)\])?(?::([^:]*))?$/.exec(s);
    if (br) return { first: br[1], last: br[2], port: br[3] ?? null };
    let hosts = s;
    let port: string | null = null;
    const colon = s.lastIndexOf(':');
    if (colon >= 0) {
      hosts = s.slice(0, colon);
      port = s.slice(colon + 1);
    }
    if (hosts.includes(':')) this.fail(line, `cannot parse ${what} '${s}' (IPv6 addresses go in brackets)`);
    const arrow = hosts.indexOf('->');
    if (arrow >= 0) return { first: hosts.slice(0, arrow), last: hosts.slice(arrow + 2), port };
    return { first: hosts, port };
  }

  private host(text: string, line: number, what: string): string {
    const h = parseHost(text);
    if (h === null) this.fail(line, `cannot parse ${what} address '${text}'`);
    if (h.isName) this.warnings.add(line, `${what} '${text}' is a host name; dvflow matches IP addresses only`);
    return h.address;
  }

  private port(text: string | null, line: number, what: string): number | null {
    if (text === null || text === '') return null;
    const p = parsePort(text);
    if (p === undefined) this.fail(line, `cannot parse ${what} port '${text}'`);
    return p;
  }

  private virtual(value: string, v6: boolean, line: number): Block {
    if (value === '') this.fail(line, 'virtual without an address');
    if (/^[0-9]+$/.test(value)) {
      const mark = parseUint(value);
      if (mark === null || mark === 0) this.fail(line, `invalid firewall mark '${value}'`);
      return { line, v6, address: v6 ? '::' : '0.0.0.0', port: null, fwmark: mark, reals: [] };
    }
    const spec = this.hostSpec(value.split(/\s+/)[0], line, 'virtual');
    if (spec.last !== undefined) this.fail(line, `virtual '${value}' cannot be a range`);
    if (spec.port === null) this.fail(line, `virtual '${value}' has no port`);
    return { line, v6, address: this.host(spec.first, line, 'virtual'), port: this.port(spec.port, line, 'virtual'), reals: [] };
  }

  private virtualKey(b: Block, key: string, value: string, line: number): void {
    switch (key) {
      case 'real':
      case 'real6':
        return this.real(b, value, line);
      case 'fallback':
      case 'fallback6': {
        const f = this.fallback(value, line);
        if (f) b.fallback = f;
        return;
      }
      case 'label':
        if (value !== '') b.label = value.replace(/^"(.*)"$/, '$1');
        return;
      case 'scheduler':
        if (value !== '') b.scheduler = value;
        return;
      case 'persistent': {
        const n = parseUint(value);
        if (n === null) this.warnings.add(line, `invalid persistent '${value}'; ignored`);
        else b.persistent = n;
        return;
      }
      case 'protocol':
        if (value === 'tcp' || value === 'udp' || value === 'fwm') {
          if ((value === 'fwm') !== (b.fwmark !== undefined)) {
            this.warnings.add(line, `protocol=${value} does not fit virtual at line ${b.line}; ${b.fwmark !== undefined ? 'fwm' : 'tcp/udp'} assumed`);
          } else b.protocol = value;
        } else this.warnings.add(line, `unknown protocol '${value}'; ignored`);
        return;
      default:
        if (!VIRTUAL_IGNORED.has(key)) this.warnings.add(line, `unknown directive '${key}' in virtual block; ignored`);
    }
  }

  private real(b: Block, value: string, line: number): void {
    const words = value.split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) this.fail(line, 'real without an address');
    const spec = this.hostSpec(words[0], line, 'real');
    const port = this.port(spec.port, line, 'real server');
    const method = words[1];
    const kind = method === undefined ? null : lvsKind(method);
    if (kind === null || !['gate', 'masq', 'ipip'].includes(method!)) {
      this.fail(line, `real ${words[0]}: forwarding method must be gate, masq or ipip${method === undefined ? '' : `, not '${method}'`}`);
    }
    let weight: number | undefined;
    let rest = words.slice(2);
    if (rest.length > 0 && /^[0-9]+$/.test(rest[0])) {
      weight = parseUint(rest[0]) ?? undefined;
      rest = rest.slice(1);
    }
    // What may follow is a quoted "request", "receive" pair for the checks.
    if (rest.length > 0 && !rest[0].startsWith('"')) this.warnings.add(line, `unexpected '${rest.join(' ')}' after real ${words[0]}; ignored`);
    let addresses: string[];
    if (spec.last === undefined) {
      addresses = [this.host(spec.first, line, 'real server')];
    } else {
      const r = ipv4Range(spec.first, spec.last, MAX_RANGE);
      if (r === null) {
        const a = parseHost(spec.first);
        const z = parseHost(spec.last);
        if (a !== null && z !== null && (a.isName || z.isName)) {
          this.warnings.add(line, `real server range ${spec.first}->${spec.last} is not an IPv4 range; skipped`);
          return;
        }
        this.fail(line, `cannot parse real server range '${words[0]}'`);
      }
      if (r.truncated) this.warnings.add(line, `real server range ${spec.first}->${spec.last} cut to its first ${MAX_RANGE} addresses`);
      addresses = r.addresses;
    }
    for (const address of addresses) {
      const s: RealServer & { kind: LbKind } = { name: hostPort(address, port), address, port, kind };
      if (weight !== undefined) s.weight = weight;
      b.reals.push(s);
    }
  }

  /** `host[:port] [gate|masq|ipip]` (gate when omitted, as ldirectord). */
  private fallback(value: string, line: number): Fallback | null {
    const words = value.split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) {
      this.warnings.add(line, 'fallback without an address; ignored');
      return null;
    }
    const spec = this.hostSpec(words[0], line, 'fallback');
    const kind = words[1] === undefined ? 'dr' : lvsKind(words[1]);
    if (kind === null) this.fail(line, `fallback ${words[0]}: forwarding method must be gate, masq or ipip, not '${words[1]}'`);
    return { address: this.host(spec.first, line, 'fallback'), port: this.port(spec.port, line, 'fallback'), kind };
  }

  private vipOf(b: Block): Vip {
    const counts = new Map<LbKind, number>();
    for (const r of b.reals) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    let kind: LbKind = b.reals[0]?.kind ?? b.fallback?.kind ?? 'dr';
    for (const [k, n] of counts) if (n > (counts.get(kind) ?? 0)) kind = k;
    const fallback = b.fallback ?? (b.v6 ? this.globalFallback.v6 : this.globalFallback.v4);
    const proto: 'tcp' | 'udp' | 'any' = b.fwmark !== undefined ? 'any' : b.protocol === 'udp' || (b.protocol === undefined && b.port === 53) ? 'udp' : 'tcp';
    let name: string;
    if (b.label !== undefined) name = this.names.take(b.label);
    else if (b.fwmark !== undefined) name = this.names.take(`fwmark:${b.fwmark}`);
    else name = this.names.take(lvsVipName(b.address, b.port, proto));
    if (b.fwmark !== undefined) {
      this.warnings.add(b.line, `fwmark ${b.fwmark}: the marked addresses are chosen by firewall rules, not in this file; only its real servers can be recognised`);
    }
    const servers: RealServer[] = b.reals.map(({ kind: k, ...s }) => (k === kind ? s : { ...s, lbKind: k }));
    if (fallback) {
      const f: RealServer = { name: 'fallback', address: fallback.address, port: fallback.port, backup: true };
      if (fallback.kind !== kind) f.lbKind = fallback.kind;
      servers.push(f);
    }
    const pool: Pool = { name, servers };
    if (b.scheduler !== undefined) pool.balance = b.scheduler;
    if (b.persistent !== undefined) pool.persistenceTimeout = b.persistent;
    return {
      name, address: b.address, port: b.port, proto, mode: kind, lbKind: kind, pools: [pool], lbAddresses: [],
      origin: { kind: 'ldirectord', name: this.file, line: b.line },
    };
  }
}

/** Parses ldirectord.cf text; `file` names it in warnings, errors and origins. */
export function parseLdirectordConfig(text: string, file: string): VipImportResult {
  return new LdirectordParser(text, file).parse();
}
