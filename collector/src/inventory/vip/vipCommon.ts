// What the load-balancer config importers (haproxy.cfg, keepalived.conf, ldirectord.cf, dvflow's VIP YAML)
// share: address and port parsing into canonical text, the warning list, unique Vip names. Addresses go
// through the filter's own parser so that a VIP written here compares equal to one written in a filter.

import { formatAddress, parseAddress, parseIPv4 } from '../../filter/ipAddress.ts';
import type { ImportWarning, LbKind, VipInventory } from '../inventoryModel.ts';

/** What every importer returns. */
export interface VipImportResult {
  inventory: VipInventory;
  warnings: ImportWarning[];
}

/** Collects warnings for one file. */
export class WarningList {
  readonly list: ImportWarning[] = [];
  constructor(readonly file: string) {}
  add(line: number, message: string): void {
    this.list.push({ file: this.file, line, message });
  }
  /** The warnings in line order (importers that resolve references in a second pass add some late). */
  sorted(): ImportWarning[] {
    return this.list.map((w, i) => ({ w, i })).sort((a, b) => a.w.line - b.w.line || a.i - b.i).map((x) => x.w);
  }
}

/** Canonical text of an IPv4 or IPv6 address (dotted quad, RFC 5952 IPv6), or null when it is not one. */
export function canonicalIp(s: string): string | null {
  const a = parseAddress(s);
  return a ? formatAddress(a.value) : null;
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

/**
 * A DNS name the LB would resolve at start-up (`server www www.example.com:80`). Digits-and-dots only is never
 * a host name: that is a malformed IPv4 address.
 */
export function isHostName(s: string): boolean {
  return s.length <= 253 && HOSTNAME.test(s) && !/^[0-9.]+$/.test(s);
}

/** Parsed host: an IP in canonical text, or a host name kept as written. */
export interface Host {
  address: string;
  isName: boolean;
}

/** An IP (canonical) or a host name; null when it is neither. Brackets around IPv6 are removed. */
export function parseHost(s: string): Host | null {
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const ip = canonicalIp(bare);
  if (ip !== null) return { address: ip, isName: false };
  if (bare === s && isHostName(s)) return { address: s, isName: true };
  return null;
}

/** Well-known service names the configs may use instead of a port number (a subset of /etc/services). */
const SERVICES: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, dns: 53, http: 80, www: 80, pop3: 110, pop: 110,
  nntp: 119, ntp: 123, imap: 143, imap2: 143, snmp: 161, ldap: 389, https: 443, submission: 587, ldaps: 636,
  imaps: 993, pop3s: 995, pops: 995, 'ms-sql-s': 1433, oracle: 1521, radius: 1812, nfs: 2049,
  http_proxy: 3128, 'http-alt': 8080, mysql: 3306, rdp: 3389, 'ms-wbt-server': 3389, sip: 5060, pgsql: 5432,
  postgresql: 5432,
};

/**
 * A port number 0..65535 or a known service name; undefined when it is neither. 0 means "any port" to LVS and
 * is returned as null, like an absent port.
 */
export function parsePort(s: string): number | null | undefined {
  if (/^[0-9]{1,5}$/.test(s)) {
    const n = Number(s);
    if (n > 65535) return undefined;
    return n === 0 ? null : n;
  }
  const named = SERVICES[s.toLowerCase()];
  return named === undefined ? undefined : named;
}

/** A non-negative integer written in decimal, or null. */
export function parseUint(s: string | undefined, max = 0x7fffffff): number | null {
  if (s === undefined || !/^[0-9]{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

/** `addr:port` with IPv6 in brackets; just the address when the port is null. */
export function hostPort(address: string, port: number | null): string {
  const a = address.includes(':') ? `[${address}]` : address;
  return port === null ? a : `${a}:${port}`;
}

/**
 * LVS naming shared by keepalived and ldirectord: `ADDR:PORT` for TCP, with `/udp` appended for UDP (TCP and UDP
 * services often share an address and port, DNS for one), `fwmark:N` for firewall-mark services.
 */
export function lvsVipName(address: string, port: number | null, proto: 'tcp' | 'udp' | 'any'): string {
  return hostPort(address, port) + (proto === 'udp' ? '/udp' : '');
}

/**
 * Hands out unique names: the first request for a name gets it, later ones `name#2`, `name#3` ... so that a Vip
 * name stays unique in an inventory whatever the config says.
 */
export class NameAllocator {
  private readonly used = new Set<string>();
  /** Next suffix to try per base name, so that many clashes stay linear. */
  private readonly next = new Map<string, number>();
  take(base: string): string {
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    for (let i = this.next.get(base) ?? 2; ; i++) {
      const n = `${base}#${i}`;
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next.set(base, i + 1);
        return n;
      }
    }
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
}

/** LVS forwarding method names (keepalived lb_kind, ldirectord method, YAML kind) to dvflow's LbKind. */
export function lvsKind(s: string): LbKind | null {
  switch (s.toLowerCase()) {
    case 'nat':
    case 'masq':
      return 'nat';
    case 'dr':
    case 'gate':
      return 'dr';
    case 'tun':
    case 'ipip':
      return 'tun';
    default:
      return null;
  }
}

/**
 * Addresses of an inclusive IPv4 range (`10.0.0.5->10.0.0.9`, keepalived `10.0.0.5-9`), at most `limit` of them;
 * null when the ends are not IPv4 or are out of order.
 */
export function ipv4Range(first: string, last: string, limit: number): { addresses: string[]; truncated: boolean } | null {
  const a = parseIPv4(first);
  const b = parseIPv4(last);
  if (a === null || b === null || b < a) return null;
  const addresses: string[] = [];
  for (let v = a; v <= b && addresses.length < limit; v++) {
    addresses.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`);
  }
  return { addresses, truncated: b - a + 1 > limit };
}
