// bench/makeCapture: writes a large classic pcap (µs, Ethernet) that looks like a port mirror of a busy segment:
// many concurrent TCP/UDP/ICMP flows, some 802.1Q-tagged, some carried in plain GRE (the encapsulations nfpcapd
// 1.7.1 also decodes, so both tools can be compared on the same totals). Deterministic for a given seed.
//
// Usage: node --import tsx bench/makeCapture.ts OUT.pcap [--bytes 1100000000] [--flows 50000] [--seed 1]
// As a module: makeCapture(path, { bytes, concurrentFlows, seed }) → { packets, bytes, flows }.
import { openSync, writeSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface MakeCaptureOptions {
  /** Stop once the file holds at least this many bytes. */
  bytes: number;
  /** Flows open at any time; each ends after a random number of packets and is replaced by a new one. */
  concurrentFlows?: number;
  seed?: number;
  /** Capture start, ms since the epoch. */
  startMs?: number;
  /** Packets per second of capture time (sets the time span). */
  packetsPerSecond?: number;
}

export interface MadeCapture {
  packets: number;
  fileBytes: number;
  /** Flows started (a flow here is one direction of one conversation). */
  flows: number;
  /** Frames per encapsulation. */
  plain: number;
  vlan: number;
  gre: number;
}

interface FlowSlot {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** 0 plain, 1 VLAN, 2 GRE */
  encap: number;
  vlan: number;
  greSrc: number;
  greDst: number;
  left: number;
  sent: number;
  /** Typical payload of this flow. */
  size: number;
}

export function makeCapture(path: string, o: MakeCaptureOptions): MadeCapture {
  let seed = (o.seed ?? 1) >>> 0 || 1;
  const rnd = () => {
    // xorshift32
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 4294967296;
  };
  const ri = (n: number) => Math.floor(rnd() * n);
  const nFlows = o.concurrentFlows ?? 50_000;
  const pps = o.packetsPerSecond ?? 20_000;
  const stats: MadeCapture = { packets: 0, fileBytes: 0, flows: 0, plain: 0, vlan: 0, gre: 0 };
  const newFlow = (): FlowSlot => {
    stats.flows++;
    const r = rnd();
    const proto = r < 0.7 ? 6 : r < 0.95 ? 17 : 1;
    const e = rnd();
    const big = rnd() < 0.5;
    return {
      proto,
      src: (10 << 24) | ri(1 << 24),
      dst: (172 << 24) | (16 << 16) | ri(1 << 16),
      sport: 1024 + ri(64000),
      dport: proto === 1 ? 0x0800 : [80, 443, 53, 22, 8080, 3306, 5432, 123][ri(8)],
      encap: e < 0.7 ? 0 : e < 0.9 ? 1 : 2,
      vlan: 10 + ri(40),
      greSrc: (192 << 24) | (0 << 16) | (2 << 8) | (1 + ri(8)),
      greDst: (198 << 24) | (51 << 16) | (100 << 8) | (1 + ri(8)),
      left: 1 + Math.floor(-Math.log(1 - rnd()) * 60), // exponential, mean ~60 packets
      sent: 0,
      size: big ? 1400 + ri(61) : 40 + ri(500),
    };
  };
  const slots: FlowSlot[] = Array.from({ length: nFlows }, newFlow);

  const fd = openSync(path, 'w');
  const CHUNK = 8 << 20;
  const buf = Buffer.alloc(CHUNK);
  let pos = 0;
  const flush = () => {
    writeSync(fd, buf, 0, pos);
    stats.fileBytes += pos;
    pos = 0;
  };
  // Global header: µs pcap, version 2.4, snaplen 65535, Ethernet.
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(0, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(65535, 16);
  buf.writeUInt32LE(1, 20);
  pos = 24;
  let tUs = (o.startMs ?? 1_700_000_000_000) * 1000;
  const stepUs = 1e6 / pps;

  const writeIPv4 = (p: number, src: number, dst: number, proto: number, total: number, ttl: number) => {
    buf[p] = 0x45;
    buf[p + 1] = 0;
    buf.writeUInt16BE(total, p + 2);
    buf.writeUInt16BE(stats.packets & 0xffff, p + 4);
    buf.writeUInt16BE(0x4000, p + 6);
    buf[p + 8] = ttl;
    buf[p + 9] = proto;
    buf.writeUInt16BE(0, p + 10);
    buf.writeUInt32BE(src >>> 0, p + 12);
    buf.writeUInt32BE(dst >>> 0, p + 16);
  };
  const writeMac = (p: number, a: number) => {
    buf.writeUInt16BE(0x0050, p);
    buf.writeUInt32BE(a >>> 0, p + 2);
  };

  while (stats.fileBytes + pos < o.bytes) {
    const i = ri(nFlows);
    const f = slots[i];
    // Mostly the flow's own direction; a third of TCP packets are the reverse ACKs.
    const reverse = f.proto === 6 && rnd() < 0.33;
    const payload = f.proto === 1 ? 56 : reverse ? 0 : Math.max(0, f.size - 40 + ri(41) - 20);
    const l4 = f.proto === 6 ? 20 : 8;
    const ipLen = 20 + l4 + payload;
    const inner = 14 + ipLen;
    const outer = f.encap === 0 ? inner : f.encap === 1 ? inner + 4 : 14 + 20 + 4 + ipLen;
    if (pos + 16 + outer > CHUNK) flush();
    tUs += stepUs;
    const ts = Math.floor(tUs);
    buf.writeUInt32LE(Math.floor(ts / 1e6), pos);
    buf.writeUInt32LE(ts % 1e6, pos + 4);
    buf.writeUInt32LE(outer, pos + 8);
    buf.writeUInt32LE(outer, pos + 12);
    let p = pos + 16;
    const src = reverse ? f.dst : f.src;
    const dst = reverse ? f.src : f.dst;
    const sport = reverse ? f.dport : f.sport;
    const dport = reverse ? f.sport : f.dport;
    writeMac(p, dst);
    writeMac(p + 6, src);
    p += 12;
    if (f.encap === 1) {
      buf.writeUInt16BE(0x8100, p);
      buf.writeUInt16BE(f.vlan, p + 2);
      p += 4;
      stats.vlan++;
    } else if (f.encap === 2) {
      buf.writeUInt16BE(0x0800, p);
      p += 2;
      writeIPv4(p, f.greSrc, f.greDst, 47, 20 + 4 + ipLen, 255);
      p += 20;
      buf.writeUInt16BE(0, p); // GRE: no flags, version 0
      buf.writeUInt16BE(0x0800, p + 2);
      p += 4;
      stats.gre++;
    } else stats.plain++;
    if (f.encap !== 2) {
      buf.writeUInt16BE(0x0800, p);
      p += 2;
    }
    writeIPv4(p, src, dst, f.proto, ipLen, 64 - (i & 7));
    p += 20;
    if (f.proto === 6) {
      buf.writeUInt16BE(sport, p);
      buf.writeUInt16BE(dport, p + 2);
      buf.writeUInt32BE(f.sent, p + 4);
      buf.writeUInt32BE(0, p + 8);
      buf[p + 12] = 0x50;
      const last = f.left === 1;
      buf[p + 13] = f.sent === 0 ? 0x02 : last && !reverse ? 0x11 : reverse ? 0x10 : 0x18;
      buf.writeUInt16BE(65535, p + 14);
      buf.writeUInt32BE(0, p + 16);
    } else if (f.proto === 17) {
      buf.writeUInt16BE(sport, p);
      buf.writeUInt16BE(dport, p + 2);
      buf.writeUInt16BE(8 + payload, p + 4);
      buf.writeUInt16BE(0, p + 6);
    } else {
      buf[p] = 8;
      buf[p + 1] = 0;
      buf.writeUInt16BE(0, p + 2);
      buf.writeUInt32BE(f.sport, p + 4);
    }
    p += l4;
    buf.fill(0, p, p + payload);
    pos = p + payload;
    stats.packets++;
    f.sent++;
    if (--f.left <= 0) slots[i] = newFlow();
  }
  flush();
  closeSync(fd);
  return stats;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { bytes: { type: 'string', default: '1100000000' }, flows: { type: 'string', default: '50000' }, seed: { type: 'string', default: '1' } },
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: makeCapture.ts OUT.pcap [--bytes N] [--flows N] [--seed N]\n');
    process.exit(2);
  }
  const t0 = performance.now();
  const r = makeCapture(positionals[0], { bytes: Number(values.bytes), concurrentFlows: Number(values.flows), seed: Number(values.seed) });
  process.stdout.write(`${JSON.stringify(r)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
