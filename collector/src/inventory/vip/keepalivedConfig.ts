// keepalived.conf → dvflow VIPs. keepalived drives LVS: each `virtual_server` (address and port, `fwmark N`, or
// `group NAME` of a `virtual_server_group`) is a Vip whose one pool holds its `real_server`s and `sorry_server`,
// with lb_kind NAT/DR/TUN as lbKind. The addresses VRRP floats (`vrrp_instance { virtual_ipaddress { } }`) that
// no virtual_server uses become Vips too: port null (every port), proto any, no pools, mode 'vrrp', lbKind
// 'proxy', because such an address is usually where a proxy on the LB itself (HAProxy, nginx) listens, and it
// answers from that address. Hand-written because no maintained npm package parses keepalived.conf; its syntax
// is small: words, `{ }` blocks, `#`/`!` comments.
//
// Vip names: `ADDR:PORT` (IPv6 in brackets) for TCP, `ADDR:PORT/udp` for UDP, `fwmark:N` for firewall marks; a
// group's members are named the same way, one Vip per address (ranges expanded), their pool named after the
// group. VRRP-only addresses are named after their vrrp_instance (`VI_1`, then `VI_1#2` ...). Clashes get `#2`.
// A fwmark Vip has address 0.0.0.0 (:: for ip_family inet6): the marked traffic is chosen by firewall rules
// outside this file, so only its real servers can be recognised.
//
// Warnings: unknown keywords (top level, virtual_server, real_server, groups), `include`, `$PARAM` definitions
// and `@host` conditionals (not expanded), unresolvable groups. ImportError: a `{` never closed, a stray `}`, an
// unterminated quote, a virtual_server/real_server without an address, an address or port that does not parse.

import { ImportError, type LbKind, type Pool, type RealServer, type Vip } from '../inventoryModel.ts';
import {
  canonicalIp, hostPort, ipv4Range, lvsKind, lvsVipName, NameAllocator, parsePort, parseUint, WarningList, type VipImportResult,
} from './vipCommon.ts';

/** Most addresses one range of a virtual_server_group expands to. */
const MAX_RANGE = 256;

interface KNode {
  key: string;
  args: string[];
  line: number;
  /** null: a plain statement; an array: it opened a `{ }` block. */
  children: KNode[] | null;
}

interface Token {
  text: string;
  line: number;
  kind: 'word' | '{' | '}' | 'nl';
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      out.push({ text: '', line, kind: 'nl' });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || c === '!') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}') {
      out.push({ text: c, line, kind: c });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (end < 0 || (nl >= 0 && nl < end)) throw new ImportError(file, line, 'unterminated quote');
      out.push({ text: text.slice(i + 1, end), line, kind: 'word' });
      i = end + 1;
    } else {
      let w = '';
      while (i < n) {
        const d = text[i];
        if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === '}' || d === '"') break;
        if (d === '{') {
          // `${NAME}` stays in the word; any other brace ends it.
          if (text[i - 1] !== '$') break;
          const close = text.indexOf('}', i);
          if (close < 0) break;
          w += text.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        w += d;
        i++;
      }
      out.push({ text: w, line, kind: 'word' });
    }
  }
  return out;
}

/** Statements and their blocks; `{` may close the line of its statement or open the next line. */
function buildTree(tokens: Token[], file: string): KNode[] {
  const root: KNode[] = [];
  const stack: Array<{ nodes: KNode[]; line: number }> = [];
  let nodes = root;
  let cur: KNode | null = null;
  let last: KNode | null = null;
  for (const t of tokens) {
    switch (t.kind) {
      case 'nl':
        cur = null;
        break;
      case 'word':
        if (cur === null) {
          cur = { key: t.text, args: [], line: t.line, children: null };
          nodes.push(cur);
          last = cur;
        } else cur.args.push(t.text);
        break;
      case '{': {
        const target = cur ?? last;
        if (target === null || target.children !== null) throw new ImportError(file, t.line, "'{' without a keyword before it");
        target.children = [];
        stack.push({ nodes, line: t.line });
        nodes = target.children;
        cur = null;
        last = null;
        break;
      }
      case '}': {
        const up = stack.pop();
        if (up === undefined) throw new ImportError(file, t.line, "'}' without a matching '{'");
        nodes = up.nodes;
        cur = null;
        last = null;
        break;
      }
    }
  }
  const open = stack.pop();
  if (open !== undefined) {
    // Report the innermost block that is still open.
    throw new ImportError(file, open.line, "'{' is never closed");
  }
  return root;
}

const TOP_IGNORED = new Set([
  'global_defs', 'vrrp_sync_group', 'vrrp_script', 'vrrp_track_process', 'track_file', 'vrrp_track_file',
  'static_ipaddress', 'static_routes', 'static_rules', 'linkbeat_interfaces', 'bfd_instance', 'net_namespace',
  'net_namespace_ipvs', 'instance', 'use_pid_dir', 'garp_group', 'track_process', 'notification_email',
  'notification_email_from', 'smtp_server', 'smtp_connect_timeout', 'router_id', 'lvs_sync_daemon',
]);

const VS_IGNORED = new Set([
  'delay_loop', 'persistence_granularity', 'virtualhost', 'alpha', 'omega', 'quorum', 'quorum_up', 'quorum_down',
  'hysteresis', 'ha_suspend', 'ops', 'one_packet_scheduler', 'retry', 'delay_before_retry', 'warmup',
  'connect_timeout', 'smtp_alert', 'ip_family', 'persistence_engine', 'net_mask', 'lvs_flags', 'flag-1', 'flag-2',
  'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'sorry_server_inhibit', 'inhibit_on_failure',
  'notify_up', 'notify_down', 'lb_flags', 'syncid', 'lvs_timeouts', 'nat_mask', 'dh-port',
]);

const RS_IGNORED = new Set([
  'inhibit_on_failure', 'notify_up', 'notify_down', 'uthreshold', 'lthreshold', 'delay_loop', 'alpha', 'retry',
  'delay_before_retry', 'warmup', 'smtp_alert', 'connect_timeout', 'virtualhost', 'rise', 'fall', 'HTTP_GET',
  'SSL_GET', 'TCP_CHECK', 'SMTP_CHECK', 'MISC_CHECK', 'DNS_CHECK', 'BFD_CHECK', 'UDP_CHECK', 'PING_CHECK',
  'FILE_CHECK', 'tunnel_encap', 'tunnel_port', 'tunnel_nocsum', 'tunnel_csum', 'tunnel_remcsum',
]);

/** One address (and port) a virtual_server serves: itself, or each member of its group. */
interface VsTarget {
  address: string;
  port: number | null;
  fwmark?: number;
  line: number;
}

class KeepalivedParser {
  private readonly warnings: WarningList;
  private readonly names = new NameAllocator();
  private readonly vips: Vip[] = [];
  private readonly groups = new Map<string, KNode>();
  private readonly vrrp: Array<{ instance: string; address: string; line: number }> = [];

  constructor(private readonly text: string, private readonly file: string) {
    this.warnings = new WarningList(file);
  }

  private fail(line: number, message: string): never {
    throw new ImportError(this.file, line, message);
  }

  parse(): VipImportResult {
    const tree = buildTree(tokenize(this.text, this.file), this.file);
    const servers: KNode[] = [];
    for (const node of tree) {
      const k = node.key;
      if (k.startsWith('$')) {
        this.warnings.add(node.line, `parameter definition '${k.split('=')[0]}' is not expanded`);
      } else if (k.startsWith('@')) {
        this.warnings.add(node.line, `host-conditional line '${k}' skipped`);
      } else if (k === 'include') {
        this.warnings.add(node.line, `include '${node.args.join(' ')}' not followed: import that file on its own`);
      } else if (k === 'vrrp_instance') {
        this.vrrpInstance(node);
      } else if (k === 'virtual_server_group') {
        const name = node.args[0];
        if (name === undefined || node.children === null) this.warnings.add(node.line, 'virtual_server_group without a name or a block; ignored');
        else this.groups.set(name, node);
      } else if (k === 'virtual_server') {
        servers.push(node);
      } else if (!TOP_IGNORED.has(k)) {
        this.warnings.add(node.line, `unknown keyword '${k}'; ignored`);
      }
    }
    for (const vs of servers) this.virtualServer(vs);
    const covered = new Set(this.vips.map((v) => v.address));
    for (const r of this.vrrp) {
      if (covered.has(r.address)) continue;
      covered.add(r.address);
      this.vips.push({
        name: this.names.take(r.instance), address: r.address, port: null, proto: 'any', mode: 'vrrp', lbKind: 'proxy',
        pools: [], lbAddresses: [], origin: { kind: 'keepalived', name: this.file, line: r.line },
      });
    }
    return { inventory: { vips: this.vips }, warnings: this.warnings.sorted() };
  }

  private vrrpInstance(node: KNode): void {
    const instance = node.args[0] ?? 'vrrp_instance';
    for (const c of node.children ?? []) {
      if (c.key !== 'virtual_ipaddress' && c.key !== 'virtual_ipaddress_excluded') continue;
      for (const a of c.children ?? []) {
        const text = a.key.split('/')[0];
        const ip = canonicalIp(text);
        if (ip === null) {
          if (a.key.includes('$')) this.warnings.add(a.line, `virtual_ipaddress '${a.key}' uses a parameter; not imported`);
          else this.fail(a.line, `cannot parse virtual_ipaddress '${a.key}'`);
        } else this.vrrp.push({ instance, address: ip, line: a.line });
      }
    }
  }

  /** `ADDR` and `PORT` words of virtual_server/real_server/sorry_server lines. */
  private addrPort(words: string[], line: number, what: string, allowNoPort: boolean): { address: string; port: number | null } | null {
    if (words.length === 0) this.fail(line, `${what} without an address`);
    if (words.some((w) => w.includes('$'))) {
      this.warnings.add(line, `${what} '${words.join(' ')}' uses a parameter; not imported`);
      return null;
    }
    let addrText = words[0];
    let portText = words[1];
    const br = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(addrText);
    if (br) {
      addrText = br[1];
      portText = br[2] ?? portText;
    }
    const address = canonicalIp(addrText);
    if (address === null) this.fail(line, `cannot parse ${what} address '${words[0]}'`);
    if (portText === undefined) {
      if (!allowNoPort) this.warnings.add(line, `${what} ${words[0]} has no port; recorded as every port`);
      return { address, port: null };
    }
    const port = parsePort(portText);
    if (port === undefined) this.fail(line, `cannot parse ${what} port '${portText}'`);
    return { address, port };
  }

  private virtualServer(node: KNode): void {
    const a = node.args;
    let targets: VsTarget[] = [];
    let poolName: string | undefined;
    if (a[0] === 'fwmark') {
      const mark = parseUint(a[1]);
      if (mark === null) this.fail(node.line, `cannot parse firewall mark '${a[1] ?? ''}'`);
      targets = [{ address: '', port: null, fwmark: mark, line: node.line }];
    } else if (a[0] === 'group') {
      const g = a[1] === undefined ? undefined : this.groups.get(a[1]);
      if (g === undefined) {
        this.warnings.add(node.line, `virtual_server_group '${a[1] ?? ''}' is not defined; virtual_server skipped`);
        return;
      }
      poolName = a[1];
      targets = this.groupTargets(g);
    } else {
      const ap = this.addrPort(a, node.line, 'virtual_server', false);
      if (ap === null) return;
      targets = [{ ...ap, line: node.line }];
    }
    let kind: LbKind = 'nat';
    let proto: 'tcp' | 'udp' | 'any' = 'tcp';
    let v6 = false;
    const pool: Pool = { name: '', servers: [] };
    let sorry: RealServer | undefined;
    let sorryKind: LbKind | undefined;
    for (const c of node.children ?? []) {
      switch (c.key) {
        case 'lb_algo':
        case 'lvs_sched':
          if (c.args[0] !== undefined) pool.balance = c.args[0];
          break;
        case 'lb_kind':
        case 'lvs_method': {
          const k = lvsKind(c.args[0] ?? '');
          if (k === null) this.warnings.add(c.line, `unknown ${c.key} '${c.args[0] ?? ''}'; NAT assumed`);
          else kind = k;
          break;
        }
        case 'persistence_timeout': {
          // Without a value keepalived uses 6 minutes.
          const t = c.args[0] === undefined ? 360 : parseUint(c.args[0]);
          if (t === null) this.warnings.add(c.line, `invalid persistence_timeout '${c.args[0]}'; ignored`);
          else pool.persistenceTimeout = t;
          break;
        }
        case 'protocol': {
          const p = (c.args[0] ?? '').toUpperCase();
          if (p === 'TCP') proto = 'tcp';
          else if (p === 'UDP') proto = 'udp';
          else {
            proto = 'any';
            this.warnings.add(c.line, `protocol '${c.args[0] ?? ''}' recorded as any`);
          }
          break;
        }
        case 'ip_family':
          v6 = c.args[0] === 'inet6';
          break;
        case 'real_server': {
          const s = this.realServer(c);
          if (s) pool.servers.push(s);
          break;
        }
        case 'sorry_server': {
          const ap = this.addrPort(c.args, c.line, 'sorry_server', true);
          if (ap) sorry = { name: 'sorry_server', address: ap.address, port: ap.port, backup: true };
          break;
        }
        case 'sorry_server_lvs_method': {
          const k = lvsKind(c.args[0] ?? '');
          if (k === null) this.warnings.add(c.line, `unknown sorry_server_lvs_method '${c.args[0] ?? ''}'; ignored`);
          else sorryKind = k;
          break;
        }
        default:
          if (!VS_IGNORED.has(c.key)) this.warnings.add(c.line, `unknown keyword '${c.key}' in virtual_server; ignored`);
      }
    }
    // The sorry server goes last, as a backup; per-server methods are kept only where they differ from the
    // virtual server's.
    if (sorry) {
      if (sorryKind !== undefined) sorry.lbKind = sorryKind;
      pool.servers.push(sorry);
    }
    for (const s of pool.servers) if (s.lbKind === kind) delete s.lbKind;
    for (const t of targets) {
      let vip: Vip;
      if (t.fwmark !== undefined) {
        this.warnings.add(t.line, `fwmark ${t.fwmark}: the marked addresses are chosen by firewall rules, not in this file; only its real servers can be recognised`);
        const name = this.names.take(`fwmark:${t.fwmark}`);
        vip = this.vip(name, v6 ? '::' : '0.0.0.0', null, 'any', kind, t.line);
      } else {
        const name = this.names.take(lvsVipName(t.address, t.port, proto));
        vip = this.vip(name, t.address, t.port, proto, kind, t.line);
      }
      const p: Pool = { ...pool, name: poolName ?? vip.name, servers: pool.servers.map((s) => ({ ...s })) };
      vip.pools.push(p);
      this.vips.push(vip);
    }
  }

  private vip(name: string, address: string, port: number | null, proto: 'tcp' | 'udp' | 'any', kind: LbKind, line: number): Vip {
    return { name, address, port, proto, mode: kind, lbKind: kind, pools: [], lbAddresses: [], origin: { kind: 'keepalived', name: this.file, line } };
  }

  private realServer(node: KNode): RealServer | null {
    const ap = this.addrPort(node.args, node.line, 'real_server', true);
    if (ap === null) return null;
    const s: RealServer = { name: hostPort(ap.address, ap.port), address: ap.address, port: ap.port };
    for (const c of node.children ?? []) {
      if (c.key === 'weight') {
        const w = parseUint(c.args[0]);
        if (w === null) this.warnings.add(c.line, `invalid weight '${c.args[0] ?? ''}'; ignored`);
        else s.weight = w;
      } else if (c.key === 'lvs_method' || c.key === 'lb_kind') {
        const k = lvsKind(c.args[0] ?? '');
        if (k === null) this.warnings.add(c.line, `unknown ${c.key} '${c.args[0] ?? ''}'; ignored`);
        else s.lbKind = k;
      } else if (!RS_IGNORED.has(c.key)) {
        this.warnings.add(c.line, `unknown keyword '${c.key}' in real_server; ignored`);
      }
    }
    return s;
  }

  /** Members of a virtual_server_group: `ADDR PORT`, `A.B.C.D-E PORT` ranges, `fwmark N`. */
  private groupTargets(g: KNode): VsTarget[] {
    const out: VsTarget[] = [];
    for (const e of g.children ?? []) {
      if (e.key === 'fwmark') {
        const mark = parseUint(e.args[0]);
        if (mark === null) this.fail(e.line, `cannot parse firewall mark '${e.args[0] ?? ''}'`);
        out.push({ address: '', port: null, fwmark: mark, line: e.line });
        continue;
      }
      const range = /^([0-9.]+)-([0-9]{1,3})$/.exec(e.key);
      if (range) {
        const first = range[1];
        const last = first.replace(/[0-9]+$/, range[2]);
        const r = ipv4Range(first, last, MAX_RANGE);
        if (r === null) this.fail(e.line, `cannot parse address range '${e.key}'`);
        const port = this.addrPort([first, ...e.args], e.line, 'virtual_server_group entry', false);
        if (port === null) continue;
        for (const address of r.addresses) out.push({ address, port: port.port, line: e.line });
        continue;
      }
      if (e.key.includes('-') && e.key.includes(':')) {
        this.warnings.add(e.line, `IPv6 address range '${e.key}' not expanded; skipped`);
        continue;
      }
      const ap = this.addrPort([e.key, ...e.args], e.line, 'virtual_server_group entry', false);
      if (ap) out.push({ ...ap, line: e.line });
    }
    return out;
  }
}

/** Parses keepalived.conf text; `file` names it in warnings, errors and origins. */
export function parseKeepalivedConfig(text: string, file: string): VipImportResult {
  return new KeepalivedParser(text, file).parse();
}
