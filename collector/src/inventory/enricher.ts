// Names every flow at ingest from the inventory: in/out portgroup and VM (dvPort key of the exporting dvSwitch,
// then VLAN, then CIDR), the load-balancer VIP, the flow's leg and its real server, the exporter's display name,
// and the VDS duplicate mark. Lookups are prepared once per inventory (maps keyed by the address text records
// already carry), so the per-record cost is a handful of Map lookups.
//
// Rules (README "Portgroups and VIPs" documents them for users):
// - dvPorts: a record's exporter (address, or address/observation domain) picks the dvSwitch; in_if and out_if
//   are that switch's dvPort keys. A VDS record (it carries VMware's interface attributes, IE 888/890) or a
//   record of a known switch whose port is not in the inventory gets portgroup 'unmapped', and the port is
//   listed (exporter, switch, port, flows) so the map can be fixed.
// - Fallbacks when no dvPort matched: the VLAN (src_vlan for in, dst_vlan or src_vlan for out), then the CIDR
//   holding the source address (in) or the destination address (out). Pcap flows use only these.
// - VIP legs: destination = VIP address:port → 'client-vip'; source = VIP → 'vip-client', or 'server-client' for
//   DR/TUN VIPs (the real server answers from the VIP it holds, bypassing the LB: direct server return);
//   destination = a real server → 'lb-server'; source = a real server → 'server-lb'.
// - Duplicates: a dvSwitch records a flow at the egress port (flowDirection 1). A VM-to-VM flow between hosts of
//   one switch is recorded at the sender's host (VM port → uplink) and again at the receiver's (uplink → VM port).
//   The second sighting, uplink in and VM port out, with a source address that belongs to a VM port of the same
//   switch (its `ips`, or a CIDR of one of its portgroups), gets duplicate = 1; `not duplicate` counts once.
import { formatAddress, parseAddress } from '../filter/ipAddress.ts';
import type { EnrichedFlow } from '../storage/flowRows.ts';
import { nameNumbers } from '../storage/nameNumbers.ts';
import type { DvPortKind, PortgroupInventory, Vip, VipInventory, LbKind } from './inventoryModel.ts';

export const UNMAPPED = 'unmapped';
const UNMAPPED_NO = nameNumbers.of(UNMAPPED);

export type VipLeg = 'client-vip' | 'vip-client' | 'lb-server' | 'server-lb' | 'server-client';
const legNo: Record<VipLeg, number> = {
  'client-vip': nameNumbers.of('client-vip'), 'vip-client': nameNumbers.of('vip-client'), 'lb-server': nameNumbers.of('lb-server'),
  'server-lb': nameNumbers.of('server-lb'), 'server-client': nameNumbers.of('server-client'),
};

/** Legs a VIP's forwarding method should never show (README): replies through the LB in DR/TUN, direct returns in proxy/NAT. */
export const unexpectedLegs: Record<LbKind, VipLeg[]> = {
  proxy: ['server-client'],
  nat: ['server-client'],
  dr: ['vip-client', 'server-lb'],
  tun: ['vip-client', 'server-lb'],
};

export interface UnmappedPort {
  exporter: string;
  domain: number;
  switch: string;
  port: number;
  side: 'in' | 'out';
  flows: number;
  lastSeen: number;
}

/** Text form records use for an address: dotted IPv4, RFC 5952 IPv6. null when not an address. */
export function canonicalAddress(s: string): string | null {
  const a = parseAddress(s.trim());
  return a ? formatAddress(a.value) : null;
}

/** A name as records get it: one string object per distinct name and its number (nameNumbers.ts). */
type Name = ReturnType<typeof nameNumbers.named>;

/** What enrichment needs of a dvPort, in one shape, its names pooled and numbered; vm '' when none. */
interface PortHit {
  portgroup: string;
  portgroupNo: number;
  vm: string;
  vmNo: number;
  kind: DvPortKind | undefined;
  ips: readonly string[];
}

/**
 * A switch's dvPorts by key, looked up twice for every flow. vCenter numbers a switch's ports from 0, so the keys
 * index an array directly; a Map of the bench's 10,000 ports was the hottest spot of the daemon's enrichment (its
 * hash table and chains miss the CPU caches the decoder and ClickHouse's threads share). Sparse or odd keys, or names
 * without a number, keep the Map only.
 */
class PortTable {
  /**
   * The ports as numbers, two int32 a key: the portgroup's name number, then the VM's name number with the port's
   * kind code above bit 20 (0: no port). 80 KB for 10,000 ports, where PortHit objects and an array pointing at them
   * take ten times that and were the daemon's enrichment misses. Null when some name has no number (a full
   * numbering) or the keys are not dense.
   */
  readonly codes: Int32Array | null = null;
  constructor(private readonly map: Map<number, PortHit>) {
    let max = -1;
    let integers = true;
    for (const k of map.keys()) {
      if (!Number.isInteger(k) || k < 0) integers = false;
      else if (k > max) max = k;
    }
    if (integers && max >= 0 && max < 1 << 20 && max < 8 * map.size + 1024) {
      let numbered = true;
      for (const v of map.values()) {
        if ((v.portgroupNo === 0 && v.portgroup !== '') || (v.vmNo === 0 && v.vm !== '') || v.vmNo >= KIND_SHIFT_VALUE) numbered = false;
      }
      if (numbered) {
        const codes = new Int32Array(2 * (max + 1));
        for (const [k, v] of map) {
          codes[2 * k] = v.portgroupNo;
          codes[2 * k + 1] = v.vmNo | (kindCode(v.kind) << KIND_SHIFT);
        }
        this.codes = codes;
      }
    }
  }
  get size(): number {
    return this.map.size;
  }
  has(key: number): boolean {
    return this.map.has(key);
  }
  /** The port object: for tables without `codes`, and the rare direct-return leg. */
  get(key: number): PortHit | undefined {
    return this.map.get(key);
  }
}

/** Port kinds as codes (PortTable.codes); 0 is "no port". */
const KIND_SHIFT = 20;
const KIND_SHIFT_VALUE = 1 << KIND_SHIFT;
const KIND_NONE = 1;
const KIND_UPLINK = 2;
const KIND_VM = 3;
const KIND_OTHER = 4;

function kindCode(kind: DvPortKind | undefined): number {
  return kind === undefined ? KIND_NONE : kind === 'uplink' ? KIND_UPLINK : kind === 'vm' ? KIND_VM : KIND_OTHER;
}

interface SwitchIndex {
  name: string;
  ports: PortTable;
  /** Addresses of VM ports (for the duplicate rule). */
  vmAddrs: Set<string>;
  vmCidrs: CidrIndex;
}

/** Prefix lookups for IPv4 (one map per prefix length, longest first) and IPv6 (a short list). */
class CidrIndex {
  private readonly v4: Array<{ bits: number; mask: number; nets: Map<number, Name> }> = [];
  private readonly v6: Array<{ lo: bigint; hi: bigint; bits: number; value: Name }> = [];
  get size(): number {
    return this.v4.reduce((n, l) => n + l.nets.size, 0) + this.v6.length;
  }
  add(cidr: string, value: Name): boolean {
    const m = /^(.+)\/(\d+)$/.exec(cidr.trim());
    const a = m ? parseAddress(m[1]!) : null;
    if (!m || !a) return false;
    const bits = Number(m[2]);
    if (a.family === 4) {
      if (bits > 32) return false;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      let level = this.v4.find((l) => l.bits === bits);
      if (!level) {
        level = { bits, mask, nets: new Map() };
        this.v4.push(level);
        this.v4.sort((x, y) => y.bits - x.bits);
      }
      const net = (Number(a.value & 0xffffffffn) & mask) >>> 0;
      if (!level.nets.has(net)) level.nets.set(net, value);
      return true;
    }
    if (bits > 128) return false;
    const host = (1n << BigInt(128 - bits)) - 1n;
    const lo = a.value & ~host & ((1n << 128n) - 1n);
    this.v6.push({ lo, hi: lo | host, bits, value });
    this.v6.sort((x, y) => y.bits - x.bits);
    return true;
  }
  lookup(addr: string): Name | undefined {
    if (!addr) return undefined;
    if (this.v4.length && addr.indexOf(':') < 0) {
      const n = ipv4Number(addr);
      if (n < 0) return undefined;
      for (const l of this.v4) {
        const v = l.nets.get((n & l.mask) >>> 0);
        if (v !== undefined) return v;
      }
      return undefined;
    }
    if (this.v6.length && addr.indexOf(':') >= 0) {
      const a = parseAddress(addr);
      if (!a) return undefined;
      for (const r of this.v6) if (a.value >= r.lo && a.value <= r.hi) return r.value;
    }
    return undefined;
  }
}

/** Dotted quad to an unsigned 32-bit number without allocating; -1 when it is not one. */
function ipv4Number(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return n * 256 + part;
}

interface VipHit {
  vip: Vip;
  /** The VIP's name, pooled, and its number. */
  name: string;
  no: number;
  address: string;
  /** Every real server of the VIP, flattened once (the direct-return leg looks for the one that answered). */
  servers: Array<{ text: string; no: number; address: string }>;
}
interface ServerHit {
  vip: Vip;
  /** The VIP's and the server's names, pooled, and their numbers. */
  vipName: string;
  vipNo: number;
  serverName: string;
  serverNo: number;
  /** The VIP's address in record form, computed once. */
  vipAddr: string;
}

/** address → port (0 = any port) → hit. */
type AddrPortMap<T> = Map<string, Map<number, T>>;

function putAddrPort<T>(m: AddrPortMap<T>, addr: string, port: number, v: T): void {
  let ports = m.get(addr);
  if (!ports) m.set(addr, (ports = new Map()));
  if (!ports.has(port)) ports.set(port, v);
}

function getAddrPort<T>(m: AddrPortMap<T>, addr: string, port: number): T | undefined {
  const ports = m.get(addr);
  if (!ports) return undefined;
  return ports.get(port) ?? ports.get(0);
}

export interface EnricherStats {
  switches: number;
  ports: number;
  vlans: number;
  cidrs: number;
  vips: number;
  servers: number;
}

export class Enricher {
  /** Exporter address → the switch it speaks for, for any observation domain and per domain (no key strings built per record). */
  private readonly byExporter = new Map<string, { any?: SwitchIndex; domains: Map<number, SwitchIndex> }>();
  private readonly vlans = new Map<number, Name>();
  private readonly cidrs = new CidrIndex();
  private readonly exporterNames = new Map<string, string>();
  private readonly vipByAddr: AddrPortMap<VipHit> = new Map();
  private readonly serverByAddr: AddrPortMap<ServerHit> = new Map();
  /** Backends of DR/TUN VIPs by their address, to name the server of a direct-return leg from its port's ips. */
  private readonly unmapped = new Map<string, UnmappedPort>();
  readonly stats: EnricherStats;
  /** Most ports listed as unmapped; beyond it new ones are counted together. */
  static readonly MAX_UNMAPPED = 10_000;
  unmappedOverflow = 0;

  constructor(pg: PortgroupInventory, vips: VipInventory) {
    let ports = 0;
    const pgSwitch = new Map<string, string>();
    for (const p of pg.portgroups) if (p.switch) pgSwitch.set(p.name, p.switch);
    for (const sw of pg.switches) {
      const portMap = new Map<number, PortHit>();
      const vmAddrs = new Set<string>();
      for (const p of sw.ports) {
        if (!portMap.has(p.key)) {
          const portgroup = nameNumbers.named(p.portgroup), vm = nameNumbers.named(p.vm ?? '');
          portMap.set(p.key, { portgroup: portgroup.text, portgroupNo: portgroup.no, vm: vm.text, vmNo: vm.no, kind: p.kind, ips: p.ips ?? [] });
        }
        if (p.kind !== 'uplink') for (const a of p.ips ?? []) {
          const c = canonicalAddress(a);
          if (c) vmAddrs.add(c);
        }
        if (p.kind !== 'uplink' && p.kind !== 'vmknic') pgSwitch.set(p.portgroup, pgSwitch.get(p.portgroup) ?? sw.name);
      }
      const idx: SwitchIndex = { name: sw.name, ports: new PortTable(portMap), vmAddrs, vmCidrs: new CidrIndex() };
      ports += idx.ports.size;
      for (const e of sw.exporters) {
        const [addr, domain] = e.split('/');
        const c = canonicalAddress(addr!);
        if (!c) continue;
        let entry = this.byExporter.get(c);
        if (!entry) this.byExporter.set(c, (entry = { domains: new Map() }));
        if (domain === undefined) entry.any = idx;
        else entry.domains.set(Number(domain), idx);
      }
    }
    for (const v of pg.vlans) if (!this.vlans.has(v.vlan)) this.vlans.set(v.vlan, nameNumbers.named(v.portgroup));
    for (const p of pg.portgroups) if (p.vlan !== undefined && !this.vlans.has(p.vlan)) this.vlans.set(p.vlan, nameNumbers.named(p.name));
    const switchIdx = new Map([...this.byExporter.values()].flatMap((e) => [...(e.any ? [e.any] : []), ...e.domains.values()]).map((s) => [s.name, s]));
    for (const c of pg.cidrs) {
      const portgroup = nameNumbers.named(c.portgroup);
      this.cidrs.add(c.cidr, portgroup);
      const sw = switchIdx.get(pgSwitch.get(c.portgroup) ?? '');
      if (sw) sw.vmCidrs.add(c.cidr, portgroup);
    }
    for (const e of pg.exporterNames ?? []) {
      const c = canonicalAddress(e.address);
      if (c) this.exporterNames.set(c, nameNumbers.named(e.name).text);
    }
    let servers = 0;
    for (const vip of vips.vips) {
      // A wildcard bind (HAProxy `bind *:80`) names no address to match; its real servers still are.
      const vipAddr = isWildcard(vip.address) ? null : canonicalAddress(vip.address);
      const vipName = nameNumbers.named(vip.name);
      const named = vip.pools.flatMap((p) => p.servers.map((x) => ({ ...nameNumbers.named(x.name), address: x.address })));
      if (vipAddr) putAddrPort(this.vipByAddr, vipAddr, vip.port ?? 0, { vip, name: vipName.text, no: vipName.no, address: vipAddr, servers: named });
      for (const pool of vip.pools) {
        for (const s of pool.servers) {
          const c = canonicalAddress(s.address);
          if (!c) continue;
          const server = nameNumbers.named(s.name);
          putAddrPort(this.serverByAddr, c, s.port ?? vip.port ?? 0, {
            vip, vipName: vipName.text, vipNo: vipName.no, serverName: server.text, serverNo: server.no, vipAddr: vipAddr ?? '',
          });
          servers++;
        }
      }
    }
    this.stats = { switches: pg.switches.length, ports, vlans: this.vlans.size, cidrs: this.cidrs.size, vips: vips.vips.length, servers };
  }

  /** Fill the enrichment fields of records in place. */
  enrich(records: EnrichedFlow[]): void {
    const hasPorts = this.byExporter.size > 0;
    const hasVlans = this.vlans.size > 0;
    const hasCidrs = this.cidrs.size > 0;
    const hasVips = this.vipByAddr.size > 0 || this.serverByAddr.size > 0;
    const hasNames = this.exporterNames.size > 0;
    const n = records.length;
    const b = this.batch;
    if (hasPorts) this.lookUpPorts(records, n);
    const sws = b.switches;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      if (hasNames) {
        const name = this.exporterNames.get(r.exporter);
        if (name !== undefined) r.exporterName = name;
      }
      let sw: SwitchIndex | undefined;
      let ik = 0;
      let ok = 0;
      if (hasPorts) {
        sw = sws[i];
        sws[i] = undefined;
        if (sw !== undefined) {
          ik = b.inKind[i]!;
          ok = b.outKind[i]!;
        }
      }
      const vds = sw !== undefined || r.vmwIngressAttr !== 0 || r.vmwEgressAttr !== 0;
      if (ik !== 0) {
        r.inPortgroup = b.inPg[i]!;
        r.inPortgroupNo = b.inPgNo[i]!;
        r.inVm = b.inVm[i]!;
        r.inVmNo = b.inVmNo[i]!;
      } else {
        const pg = (hasVlans && r.srcVlan !== 0 ? this.vlans.get(r.srcVlan) : undefined) ?? (hasCidrs ? this.cidrs.lookup(r.srcAddr) : undefined);
        if (pg !== undefined) {
          r.inPortgroup = pg.text;
          r.inPortgroupNo = pg.no;
        } else if (vds && r.inIf !== 0) {
          r.inPortgroup = UNMAPPED;
          r.inPortgroupNo = UNMAPPED_NO;
          this.noteUnmapped(r, sw, r.inIf, 'in');
        }
      }
      if (ok !== 0) {
        r.outPortgroup = b.outPg[i]!;
        r.outPortgroupNo = b.outPgNo[i]!;
        r.outVm = b.outVm[i]!;
        r.outVmNo = b.outVmNo[i]!;
      } else {
        const vlan = r.dstVlan || r.srcVlan;
        const pg = (hasVlans && vlan !== 0 ? this.vlans.get(vlan) : undefined) ?? (hasCidrs ? this.cidrs.lookup(r.dstAddr) : undefined);
        if (pg !== undefined) {
          r.outPortgroup = pg.text;
          r.outPortgroupNo = pg.no;
        } else if (vds && r.outIf !== 0) {
          r.outPortgroup = UNMAPPED;
          r.outPortgroupNo = UNMAPPED_NO;
          this.noteUnmapped(r, sw, r.outIf, 'out');
        }
      }
      // (Kinds: an uplink in, or no kind known and VMware's ingress attribute says uplink; a VM port out, ...)
      if (sw && (ik === KIND_UPLINK || ((ik === 0 || ik === KIND_NONE) && r.vmwIngressAttr === 1))
        && (ok === KIND_VM || (ok === KIND_NONE && r.vmwEgressAttr !== 1) || (ok === 0 && r.vmwEgressAttr === 2))
        && (sw.vmAddrs.has(r.srcAddr) || sw.vmCidrs.lookup(r.srcAddr) !== undefined)) {
        r.duplicate = 1;
      }
      if (hasVips) this.enrichVip(r, ik !== 0 ? sw : undefined);
    }
  }

  /** enrich()'s dvPort lookups of a batch, made first (see lookUpPorts); kind 0: no port. */
  private readonly batch = {
    switches: [] as Array<SwitchIndex | undefined>,
    inKind: new Int32Array(64), inPgNo: new Int32Array(64), inVmNo: new Int32Array(64), inPg: [] as string[], inVm: [] as string[],
    outKind: new Int32Array(64), outPgNo: new Int32Array(64), outVmNo: new Int32Array(64), outPg: [] as string[], outVm: [] as string[],
  };

  /**
   * The switch and the in/out dvPorts of every record of a batch, in a loop that does nothing else: each lookup
   * misses the CPU caches (the port's numbers, then its VM's name), and misses of loop iterations that do not
   * depend on each other overlap instead of waiting in turn, as they did inside the long per-record loop.
   */
  private lookUpPorts(records: readonly EnrichedFlow[], n: number): void {
    const b = this.batch;
    if (b.inKind.length < n) {
      const size = Math.max(n, 2 * b.inKind.length);
      for (const k of ['inKind', 'inPgNo', 'inVmNo', 'outKind', 'outPgNo', 'outVmNo'] as const) b[k] = new Int32Array(size);
    }
    const names = nameNumbers.names;
    let exporter = '';
    let domain = -1;
    let sw: SwitchIndex | undefined;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      if (r.exporter !== exporter || r.domain !== domain) {
        exporter = r.exporter;
        domain = r.domain;
        sw = this.switchOf(exporter, domain);
      }
      b.switches[i] = sw;
      if (sw === undefined) continue;
      const inIf = r.inIf;
      const outIf = r.outIf;
      const codes = sw.ports.codes;
      // The in and out sides are written out twice on purpose: with a helper per side (taking the side's arrays) the
      // daemon's main thread took 0.17 µs a flow more (mean of eight alternating bench/ingest pairs, higher in six).
      if (codes !== null) {
        const ci = inIf !== 0 && 2 * inIf < codes.length ? codes[2 * inIf + 1]! : 0;
        const co = outIf !== 0 && 2 * outIf < codes.length ? codes[2 * outIf + 1]! : 0;
        b.inKind[i] = ci >>> KIND_SHIFT;
        b.outKind[i] = co >>> KIND_SHIFT;
        if (ci !== 0) {
          const pg = codes[2 * inIf]!;
          const vm = ci & (KIND_SHIFT_VALUE - 1);
          b.inPgNo[i] = pg;
          b.inVmNo[i] = vm;
          b.inPg[i] = names[pg]!;
          b.inVm[i] = names[vm]!;
        }
        if (co !== 0) {
          const pg = codes[2 * outIf]!;
          const vm = co & (KIND_SHIFT_VALUE - 1);
          b.outPgNo[i] = pg;
          b.outVmNo[i] = vm;
          b.outPg[i] = names[pg]!;
          b.outVm[i] = names[vm]!;
        }
      } else {
        const hi = inIf !== 0 ? sw.ports.get(inIf) : undefined;
        const ho = outIf !== 0 ? sw.ports.get(outIf) : undefined;
        b.inKind[i] = hi === undefined ? 0 : kindCode(hi.kind);
        b.outKind[i] = ho === undefined ? 0 : kindCode(ho.kind);
        if (hi !== undefined) {
          b.inPgNo[i] = hi.portgroupNo;
          b.inVmNo[i] = hi.vmNo;
          b.inPg[i] = hi.portgroup;
          b.inVm[i] = hi.vm;
        }
        if (ho !== undefined) {
          b.outPgNo[i] = ho.portgroupNo;
          b.outVmNo[i] = ho.vmNo;
          b.outPg[i] = ho.portgroup;
          b.outVm[i] = ho.vm;
        }
      }
    }
  }

  /** `inSwitch`: the switch whose dvPort the record came in on, when that port is mapped (for direct returns). */
  private enrichVip(r: EnrichedFlow, inSwitch: SwitchIndex | undefined): void {
    const d = this.vipByAddr.size ? getAddrPort(this.vipByAddr, r.dstAddr, r.dstPort) : undefined;
    if (d && protoMatches(d.vip, r.proto)) {
      r.vip = d.name;
      r.vipNo = d.no;
      r.vipAddr = d.address;
      r.vipPort = r.dstPort;
      r.vipLeg = 'client-vip';
      r.vipLegNo = legNo['client-vip'];
      return;
    }
    const s = this.vipByAddr.size ? getAddrPort(this.vipByAddr, r.srcAddr, r.srcPort) : undefined;
    if (s && protoMatches(s.vip, r.proto)) {
      r.vip = s.name;
      r.vipNo = s.no;
      r.vipAddr = s.address;
      r.vipPort = r.srcPort;
      const direct = s.vip.lbKind === 'dr' || s.vip.lbKind === 'tun';
      const leg: VipLeg = direct ? 'server-client' : 'vip-client';
      r.vipLeg = leg;
      r.vipLegNo = legNo[leg];
      const inPort = direct ? inSwitch?.ports.get(r.inIf) : undefined;
      if (inPort) {
        // Which real server answered: the one whose address or VM the exporting port belongs to.
        const server = s.servers.find((x) => (inPort.vm !== '' && x.text === inPort.vm) || inPort.ips.includes(x.address));
        if (server) {
          r.backend = server.text;
          r.backendNo = server.no;
        }
      }
      return;
    }
    if (!this.serverByAddr.size) return;
    // LVS tunnel mode: the LB sends IP-in-IP (4) or IPv6-in-IPv4 (41) to the server, no ports.
    const tunnel = r.proto === 4 || r.proto === 41;
    const ds = tunnel ? this.serverByAddr.get(r.dstAddr)?.values().next().value : getAddrPort(this.serverByAddr, r.dstAddr, r.dstPort);
    if (ds) {
      serverLeg(r, ds, 'lb-server');
      return;
    }
    const ss = getAddrPort(this.serverByAddr, r.srcAddr, r.srcPort);
    if (ss) serverLeg(r, ss, 'server-lb');
  }

  private noteUnmapped(r: EnrichedFlow, sw: SwitchIndex | undefined, port: number, side: 'in' | 'out'): void {
    const key = `${r.exporter}|${r.domain}|${port}|${side}`;
    const u = this.unmapped.get(key);
    if (u) {
      u.flows++;
      if (r.timeReceived > u.lastSeen) u.lastSeen = r.timeReceived;
    } else if (this.unmapped.size < Enricher.MAX_UNMAPPED) {
      this.unmapped.set(key, { exporter: r.exporter, domain: r.domain, switch: sw?.name ?? '', port, side, flows: 1, lastSeen: r.timeReceived });
    } else this.unmappedOverflow++;
  }

  /** The switch an exporter speaks for: its entry for this observation domain, else the one for any domain. */
  private switchOf(exporter: string, domain: number): SwitchIndex | undefined {
    const e = this.byExporter.get(exporter);
    return e && (e.domains.get(domain) ?? e.any);
  }

  /** dvPorts seen without a mapping, most flows first. */
  unmappedPorts(): UnmappedPort[] {
    return [...this.unmapped.values()].sort((a, b) => b.flows - a.flows || a.exporter.localeCompare(b.exporter) || a.port - b.port);
  }

  /** Carry the unmapped list over to the enricher of a reloaded inventory (ports now mapped drop out). */
  inheritUnmapped(prev: Enricher): void {
    for (const [k, u] of prev.unmapped) {
      const sw = this.switchOf(u.exporter, u.domain);
      if (sw?.ports.has(u.port)) continue;
      this.unmapped.set(k, { ...u, switch: sw?.name ?? u.switch });
    }
  }
}

/** A flow to or from a real server: its VIP, the VIP's own address and port, the leg and the server. */
function serverLeg(r: EnrichedFlow, hit: ServerHit, leg: VipLeg): void {
  r.vip = hit.vipName;
  r.vipNo = hit.vipNo;
  r.vipAddr = hit.vipAddr;
  r.vipPort = hit.vip.port ?? 0;
  r.vipLeg = leg;
  r.vipLegNo = legNo[leg];
  r.backend = hit.serverName;
  r.backendNo = hit.serverNo;
}

function isWildcard(a: string): boolean {
  return a === '' || a === '*' || a === '0.0.0.0' || a === '::';
}

function protoMatches(v: Vip, proto: number): boolean {
  return v.proto === 'any' || (v.proto === 'tcp' && proto === 6) || (v.proto === 'udp' && proto === 17);
}
