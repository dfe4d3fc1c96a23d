// Builds frames and capture files byte by byte for tests: Ethernet/VLAN, IPv4/IPv6, TCP/UDP/ICMP, GRE, ERSPAN,
// VXLAN, Geneve, MPLS; classic pcap (µs/ns, both byte orders) and pcapng writers. No checksums: nothing here
// verifies them.

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function be16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}
export function ipv6Bytes(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}

export interface EthOpts {
  dst?: number[];
  src?: number[];
  /** Tags outermost first; tpid defaults to 0x8100. */
  vlans?: { vid: number; tpid?: number }[];
  type: number;
  payload: Uint8Array;
}
export function ether(o: EthOpts): Uint8Array {
  const tags = (o.vlans ?? []).flatMap((v) => [...be16(v.tpid ?? 0x8100), ...be16(v.vid)]);
  return concat(Uint8Array.from([...(o.dst ?? [2, 0, 0, 0, 0, 2]), ...(o.src ?? [2, 0, 0, 0, 0, 1]), ...tags, ...be16(o.type)]),
    o.payload);
}

export interface Ipv4Opts {
  src: string;
  dst: string;
  proto: number;
  payload: Uint8Array;
  ttl?: number;
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  /** Override the total length field. */
  totalLength?: number;
  ihl?: number;
}
export function ipv4(o: Ipv4Opts): Uint8Array {
  const ihl = o.ihl ?? 5;
  const hdrLen = Math.max(20, ihl * 4);
  const total = o.totalLength ?? hdrLen + o.payload.length;
  const fo = ((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3)) & 0xffff;
  const h = [0x40 | (ihl & 0xf), o.tos ?? 0, ...be16(total), ...be16(o.id ?? 1), ...be16(fo), o.ttl ?? 64, o.proto, 0, 0,
    ...ipv4Bytes(o.src), ...ipv4Bytes(o.dst)];
  while (h.length < hdrLen) h.push(0);
  return concat(Uint8Array.from(h), o.payload);
}

export interface Ipv6Opts {
  src: string;
  dst: string;
  next: number;
  payload: Uint8Array;
  hopLimit?: number;
  tclass?: number;
  payloadLength?: number;
}
export function ipv6(o: Ipv6Opts): Uint8Array {
  const tc = o.tclass ?? 0;
  const h = [0x60 | (tc >> 4), (tc & 0xf) << 4, 0, 0, ...be16(o.payloadLength ?? o.payload.length), o.next, o.hopLimit ?? 64,
    ...ipv6Bytes(o.src), ...ipv6Bytes(o.dst)];
  return concat(Uint8Array.from(h), o.payload);
}

/** An IPv6 extension header (hop-by-hop 0, routing 43, destination options 60) of 8 bytes. */
export function ipv6Ext(next: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.from([next, 0, 0, 0, 0, 0, 0, 0]), payload);
}
export function ipv6Frag(next: number, offset: number, more: boolean, id: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.from([next, 0, ...be16((offset & 0xfff8) | (more ? 1 : 0)), ...be32(id)]), payload);
}

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;

export function tcp(sport: number, dport: number, flags: number, payload: Uint8Array = new Uint8Array(0), dataOffset = 5): Uint8Array {
  const h = [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, dataOffset << 4, flags, ...be16(65535), 0, 0, 0, 0];
  while (h.length < dataOffset * 4) h.push(1);
  return concat(Uint8Array.from(h), payload);
}
export function udp(sport: number, dport: number, payload: Uint8Array = new Uint8Array(0), length?: number): Uint8Array {
  return concat(Uint8Array.from([...be16(sport), ...be16(dport), ...be16(length ?? 8 + payload.length), 0, 0]), payload);
}
export function icmp(type: number, code: number, payload: Uint8Array = new Uint8Array(8)): Uint8Array {
  return concat(Uint8Array.from([type, code, 0, 0, 0, 1, 0, 1]), payload);
}

export interface GreOpts {
  proto: number;
  payload: Uint8Array;
  key?: number;
  seq?: number;
  checksum?: boolean;
}
export function gre(o: GreOpts): Uint8Array {
  const flags = (o.checksum ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0);
  const h = [...be16(flags), ...be16(o.proto)];
  if (o.checksum) h.push(0, 0, 0, 0);
  if (o.key !== undefined) h.push(...be32(o.key));
  if (o.seq !== undefined) h.push(...be32(o.seq));
  return concat(Uint8Array.from(h), o.payload);
}

/** ERSPAN type II header (8 bytes) + mirrored frame; goes in GRE 0x88BE with a sequence number. */
export function erspan2(o: { session: number; index: number; vlan?: number; truncated?: boolean; payload: Uint8Array }): Uint8Array {
  const w0 = (1 << 12) | ((o.vlan ?? 0) & 0xfff);
  const w1 = (o.truncated ? 0x0400 : 0) | (o.session & 0x3ff);
  return concat(Uint8Array.from([...be16(w0), ...be16(w1), ...be32(o.index & 0xfffff)]), o.payload);
}
/** ERSPAN type III header (12 bytes, + 8-byte platform sub-header when `platform`) + frame; GRE 0x22EB. */
export function erspan3(o: { session: number; vlan?: number; timestamp?: number; hwId?: number; direction?: number; frameType?: number;
  platform?: boolean; payload: Uint8Array }): Uint8Array {
  const w0 = (2 << 12) | ((o.vlan ?? 0) & 0xfff);
  const w1 = o.session & 0x3ff;
  const w5 = (((o.frameType ?? 0) & 0x1f) << 10) | (((o.hwId ?? 0) & 0x3f) << 4) | (((o.direction ?? 0) & 1) << 3) | (o.platform ? 1 : 0);
  const h = [...be16(w0), ...be16(w1), ...be32(o.timestamp ?? 0), 0, 0, ...be16(w5)];
  if (o.platform) h.push(0x0c, 0, 0, 0, 0, 0, 0, 0);
  return concat(Uint8Array.from(h), o.payload);
}
export function vxlan(vni: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.from([0x08, 0, 0, 0, ...be32(vni << 8)]), payload);
}
export function geneve(vni: number, proto: number, payload: Uint8Array, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(Uint8Array.from([options.length / 4, 0, ...be16(proto), ...be32(vni << 8)]), options, payload);
}
export function mpls(labels: number[], payload: Uint8Array): Uint8Array {
  const h = labels.flatMap((l, i) => be32(((l & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64));
  return concat(Uint8Array.from(h), payload);
}

export interface FrameRecord {
  /** Milliseconds since the epoch, or exact seconds + nanoseconds. */
  ts?: number;
  sec?: number;
  nsec?: number;
  data: Uint8Array;
  origLen?: number;
}

function secNsec(r: FrameRecord): [number, number] {
  if (r.sec !== undefined) return [r.sec, r.nsec ?? 0];
  const ms = r.ts ?? 0;
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}

/** Classic pcap. */
export function pcapFile(frames: FrameRecord[], o: { linkType?: number; nano?: boolean; bigEndian?: boolean; snaplen?: number } = {}): Buffer {
  const le = !o.bigEndian;
  const head = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  const w16 = (b: Buffer, v: number, off: number) => (le ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  w32(head, o.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(head, 2, 4);
  w16(head, 4, 6);
  w32(head, o.snaplen ?? 262144, 16);
  w32(head, o.linkType ?? 1, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const [sec, nsec] = secNsec(f);
    const rec = Buffer.alloc(16);
    w32(rec, sec, 0);
    w32(rec, o.nano ? nsec : Math.floor(nsec / 1000), 4);
    w32(rec, f.data.length, 8);
    w32(rec, f.origLen ?? f.data.length, 12);
    parts.push(rec, Buffer.from(f.data));
  }
  return Buffer.concat(parts);
}

export interface NgInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol byte (default 6 = µs). */
  tsresol?: number;
  tsoffset?: bigint;
  name?: string;
}
export type NgBlock =
  | { kind: 'section'; bigEndian?: boolean }
  | { kind: 'interface'; iface: NgInterface }
  | { kind: 'epb'; ifId: number; units: bigint; data: Uint8Array; origLen?: number }
  | { kind: 'spb'; data: Uint8Array; origLen?: number }
  | { kind: 'pb'; ifId: number; units: bigint; data: Uint8Array }
  | { kind: 'raw'; type: number; body: Uint8Array };

/** pcapng, block by block; each section's byte order is its own. */
export function pcapngFile(blocks: NgBlock[]): Buffer {
  let le = true;
  const parts: Buffer[] = [];
  const block = (type: number, body: Buffer) => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = Buffer.alloc(len);
    if (le) {
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(len, 4);
      b.writeUInt32LE(len, len - 4);
    } else {
      b.writeUInt32BE(type, 0);
      b.writeUInt32BE(len, 4);
      b.writeUInt32BE(len, len - 4);
    }
    body.copy(b, 8);
    parts.push(b);
  };
  const w = (size: number, fill: (b: Buffer) => void) => {
    const b = Buffer.alloc(size);
    fill(b);
    return b;
  };
  const u16 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const option = (code: number, value: Buffer) => {
    const pad = (4 - (value.length % 4)) % 4;
    return Buffer.concat([w(4, (b) => { u16(b, code, 0); u16(b, value.length, 2); }), value, Buffer.alloc(pad)]);
  };
  for (const bl of blocks) {
    switch (bl.kind) {
      case 'section':
        le = !bl.bigEndian;
        block(0x0a0d0d0a, w(16, (b) => { u32(b, 0x1a2b3c4d, 0); u16(b, 1, 4); u16(b, 0, 6); b.fill(0xff, 8, 16); }));
        break;
      case 'interface': {
        const i = bl.iface;
        const opts: Buffer[] = [];
        if (i.name) opts.push(option(2, Buffer.from(i.name)));
        if (i.tsresol !== undefined) opts.push(option(9, Buffer.from([i.tsresol])));
        if (i.tsoffset !== undefined) opts.push(option(14, w(8, (b) => (le ? b.writeBigInt64LE(i.tsoffset!, 0) : b.writeBigInt64BE(i.tsoffset!, 0)))));
        if (opts.length) opts.push(Buffer.alloc(4));
        block(1, Buffer.concat([w(8, (b) => { u16(b, i.linkType, 0); u32(b, i.snaplen ?? 0, 4); }), ...opts]));
        break;
      }
      case 'epb':
        block(6, Buffer.concat([w(20, (b) => {
          u32(b, bl.ifId, 0); u32(b, Number(bl.units >> 32n), 4); u32(b, Number(bl.units & 0xffffffffn), 8);
          u32(b, bl.data.length, 12); u32(b, bl.origLen ?? bl.data.length, 16);
        }), Buffer.from(bl.data)]));
        break;
      case 'pb':
        block(2, Buffer.concat([w(20, (b) => {
          u16(b, bl.ifId, 0); u16(b, 0, 2); u32(b, Number(bl.units >> 32n), 4); u32(b, Number(bl.units & 0xffffffffn), 8);
          u32(b, bl.data.length, 12); u32(b, bl.data.length, 16);
        }), Buffer.from(bl.data)]));
        break;
      case 'spb':
        block(3, Buffer.concat([w(4, (b) => u32(b, bl.origLen ?? bl.data.length, 0)), Buffer.from(bl.data)]));
        break;
      case 'raw':
        block(bl.type, Buffer.from(bl.body));
        break;
    }
  }
  return Buffer.concat(parts);
}

export { prng } from '../helpers/prng.ts';

/** A TCP/IPv4 frame over Ethernet, the common case in tests. */
export function tcp4Frame(src: string, dst: string, sport: number, dport: number, flags: number, o: { vlans?: { vid: number; tpid?: number }[];
  payload?: Uint8Array; ttl?: number } = {}): Uint8Array {
  return ether({ type: 0x0800, vlans: o.vlans, payload: ipv4({ src, dst, proto: 6, ttl: o.ttl, payload: tcp(sport, dport, flags, o.payload) }) });
}
export function udp4Frame(src: string, dst: string, sport: number, dport: number, payload: Uint8Array = new Uint8Array(0),
  o: { vlans?: { vid: number; tpid?: number }[] } = {}): Uint8Array {
  return ether({ type: 0x0800, vlans: o.vlans, payload: ipv4({ src, dst, proto: 17, payload: udp(sport, dport, payload) }) });
}
